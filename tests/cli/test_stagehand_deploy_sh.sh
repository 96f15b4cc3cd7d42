#!/bin/bash
# test_stagehand_deploy_sh.sh - the seed's CI script (ci/deploy.sh: the
# blog's deploy.sh with `sls` replaced by `stagehand`, six v0.5 steps) on
# fixtures/cd-example against greenroom, found through AWS_ENDPOINT_URL:
# develop deploys dev, a tag deploys production, a feature branch and a
# pull request deploy nothing; each stage URL is curled.
. "$(dirname "$0")/lib.sh"
# the system python starts in milliseconds (a pyenv shim takes a quarter second)
PY=$(command -v /usr/bin/python3 || command -v python3)

gr_start
P="$GR_TMP/cd-example"
cp -r "$FIXTURES_DIR/cd-example" "$P"
rm -rf "$P/_meta" "$P/admin.env"
for v in $(env | sed -n 's/^\(TRAVIS[A-Z_]*\|GITHUB_[A-Z_]*\|GITLAB_CI\|CI_[A-Z_]*\)=.*/\1/p'); do unset "$v"; done
export CI=true STAGEHAND="$STAGEHAND_BIN" AWS_ENDPOINT_URL="$GR_URL" REGION=us-east-1 STAGEHAND_POLL_MS=50
DEPLOY="$SOURCE_ROOT/ci/deploy.sh"
sget() {
    curl -s --aws-sigv4 "aws:amz:us-east-1:$1" -u test:test "$GR_URL$2" |
        "$PY" -c "import json,sys; d=json.load(sys.stdin); print($3)"
}
stacks() {
    curl -s --aws-sigv4 aws:amz:us-east-1:cloudformation -u test:test -d 'Action=DescribeStacks&Version=2010-05-15' "$GR_URL/" |
        grep -o '<StackName>[^<]*</StackName>' | sed 's/<[^>]*>//g' | sort | xargs
}
versions() { sget lambda "/2015-03-31/functions/$1/versions" 'len(d["Versions"])'; }
books() { curl -s -m 30 "$GR_URL/restapis/$1/$2/_user_request_/books"; }

check "feature branch: nothing deployed" bash -c "cd '$P' && TRAVIS_BRANCH=feature/x TRAVIS_PULL_REQUEST=false '$DEPLOY' | grep -q 'Not deploying'"
check "pull request: nothing deployed" bash -c "cd '$P' && TRAVIS_BRANCH=develop TRAVIS_PULL_REQUEST=12 '$DEPLOY' | grep -q 'Not deploying'"
expect_eq "no stack yet" "" "$(stacks)"

check "develop -> dev" bash -c "cd '$P' && TRAVIS_BRANCH=develop TRAVIS_PULL_REQUEST=false '$DEPLOY' >'$GR_TMP/dev.log' 2>&1 || { cat '$GR_TMP/dev.log'; exit 1; }"
API=$(sget apigateway /restapis '[i["id"] for i in d["item"] if i["name"] == "cd-example"][0]')
expect_contains "dev GET /books" '"stage":"dev"' "$(books "$API" dev)"
expect_contains "meta in S3 has the stack outputs" "iamRoleArnLambda" \
    "$(sget s3 /cd-example-meta-sync/serverless/cd-example/variables/s-variables-dev-useast1.json 'json.dumps(d)')"

check "tag -> production" bash -c "cd '$P' && TRAVIS_BRANCH=v1.0.0 TRAVIS_TAG=v1.0.0 TRAVIS_PULL_REQUEST=false '$DEPLOY' >'$GR_TMP/prod.log' 2>&1 || { cat '$GR_TMP/prod.log'; exit 1; }"
expect_contains "production GET /books" '"stage":"production"' "$(books "$API" production)"
expect_contains "dev still dev" '"stage":"dev"' "$(books "$API" dev)"
expect_eq "one stack per stage" "cd-example-dev-r cd-example-production-r" \
    "$(stacks)"

# a fresh clone (no _meta) deploying dev again: meta sync restores the variables, nothing new published
rm -rf "$P/_meta" "$P/admin.env"
V=$(versions cd-example-books-get)
check "fresh clone, develop again" bash -c "cd '$P' && TRAVIS_BRANCH=develop TRAVIS_PULL_REQUEST=false '$DEPLOY' >'$GR_TMP/dev2.log' 2>&1 || { cat '$GR_TMP/dev2.log'; exit 1; }"
expect_eq "no new version on an unchanged redeploy" "$V" \
    "$(versions cd-example-books-get)"
expect_contains "dev still serves" '"stage":"dev"' "$(books "$API" dev)"

finish
