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
books() { curl -s -m 30 "$GR_URL/restapis/$1/$2/_user_request_/books"; }

check "feature branch: nothing deployed" bash -c "cd '$P' && TRAVIS_BRANCH=feature/x TRAVIS_PULL_REQUEST=false '$DEPLOY' | grep -q 'Not deploying'"
check "pull request: nothing deployed" bash -c "cd '$P' && TRAVIS_BRANCH=develop TRAVIS_PULL_REQUEST=12 '$DEPLOY' | grep -q 'Not deploying'"
expect_eq "no stack yet" "" "$(aws2 cloudformation describe-stacks --query 'Stacks[].StackName' --output text 2>/dev/null)"

check "develop -> dev" bash -c "cd '$P' && TRAVIS_BRANCH=develop TRAVIS_PULL_REQUEST=false '$DEPLOY' >'$GR_TMP/dev.log' 2>&1 || { cat '$GR_TMP/dev.log'; exit 1; }"
API=$(aws2 apigateway get-rest-apis --query 'items[?name==`cd-example`].id' --output text)
expect_contains "dev GET /books" '"stage":"dev"' "$(books "$API" dev)"
expect_contains "meta in S3 has the stack outputs" "iamRoleArnLambda" \
    "$(aws2 s3 cp s3://cd-example-meta-sync/serverless/cd-example/variables/s-variables-dev-useast1.json -)"

check "tag -> production" bash -c "cd '$P' && TRAVIS_BRANCH=v1.0.0 TRAVIS_TAG=v1.0.0 TRAVIS_PULL_REQUEST=false '$DEPLOY' >'$GR_TMP/prod.log' 2>&1 || { cat '$GR_TMP/prod.log'; exit 1; }"
expect_contains "production GET /books" '"stage":"production"' "$(books "$API" production)"
expect_contains "dev still dev" '"stage":"dev"' "$(books "$API" dev)"
expect_eq "one stack per stage" "cd-example-dev-r cd-example-production-r" \
    "$(aws2 cloudformation describe-stacks --query 'Stacks[].StackName' --output text | tr '\t' '\n' | sort | xargs)"

# a fresh clone (no _meta) deploying dev again: meta sync restores the variables, nothing new published
rm -rf "$P/_meta" "$P/admin.env"
V=$(aws2 lambda list-versions-by-function --function-name cd-example-books-get --query 'length(Versions)' --output text)
check "fresh clone, develop again" bash -c "cd '$P' && TRAVIS_BRANCH=develop TRAVIS_PULL_REQUEST=false '$DEPLOY' >'$GR_TMP/dev2.log' 2>&1 || { cat '$GR_TMP/dev2.log'; exit 1; }"
expect_eq "no new version on an unchanged redeploy" "$V" \
    "$(aws2 lambda list-versions-by-function --function-name cd-example-books-get --query 'length(Versions)' --output text)"
expect_contains "dev still serves" '"stage":"dev"' "$(books "$API" dev)"

finish
