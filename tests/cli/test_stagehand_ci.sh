#!/bin/bash
# test_stagehand_ci.sh - `stagehand ci` picks the stage from each CI's
# variables (Travis, GitHub Actions, GitLab, else git), never deploys pull
# requests or unmapped branches (exit 0, no AWS call), maps develop -> dev
# and a tag on master/main -> production (s-project.json custom.ci adds
# staging -> stage), then runs the whole flow: the stage URL is curled.
. "$(dirname "$0")/lib.sh"
# the system python starts in milliseconds (a pyenv shim takes a quarter second)
PY=$(command -v /usr/bin/python3 || command -v python3)

gr_start
P="$GR_TMP/mini"
cp -r "$FIXTURES_DIR/projects/mini" "$P"
export CI=true STAGEHAND_POLL_MS=50 STAGEHAND_CI_FLOW=v05
# a clean CI environment whatever runs this test
for v in $(env | sed -n 's/^\(TRAVIS[A-Z_]*\|GITHUB_[A-Z_]*\|GITLAB_CI\|CI_[A-Z_]*\)=.*/\1/p'); do unset "$v"; done

last() { curl -s "$GR_URL/_greenroom/calls?since=0" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["last"])'; }
CIRUN() { (cd "$P" && env "$@" "$STAGEHAND_BIN" ci -r us-east-1 --endpoint-url "$GR_URL" --output json); }
field() { "$PY" -c "import json,sys; d=json.load(sys.stdin); print(d['exitCode'], d['result'].get('deploy'), d['result'].get('stage', '-'))"; }

# no deploy: exit 0 and not a single AWS call
S=$(last)
expect_eq "travis feature branch" "0 False -" "$(CIRUN TRAVIS=true TRAVIS_BRANCH=feature/x TRAVIS_PULL_REQUEST=false | field)"
expect_eq "travis pull request" "0 False -" "$(CIRUN TRAVIS=true TRAVIS_BRANCH=develop TRAVIS_PULL_REQUEST=42 | field)"
expect_eq "github pull request" "0 False -" "$(CIRUN GITHUB_ACTIONS=true GITHUB_EVENT_NAME=pull_request GITHUB_REF=refs/pull/7/merge | field)"
expect_eq "gitlab merge request" "0 False -" "$(CIRUN GITLAB_CI=true CI_COMMIT_BRANCH=develop CI_MERGE_REQUEST_IID=3 | field)"
expect_eq "master without a tag" "0 False -" "$(CIRUN GITHUB_ACTIONS=true GITHUB_EVENT_NAME=push GITHUB_REF=refs/heads/master | field)"
expect_eq "no AWS call when not deploying" "$S" "$(last)"
OUT=$(cd "$P" && env TRAVIS=true TRAVIS_BRANCH=feature/x TRAVIS_PULL_REQUEST=false "$STAGEHAND_BIN" ci --endpoint-url "$GR_URL")
expect_contains "a message says why" "not mapped to a stage" "$OUT"

# travis develop -> dev, the whole flow
check "travis develop deploys dev" bash -c "cd '$P' && TRAVIS=true TRAVIS_BRANCH=develop TRAVIS_PULL_REQUEST=false '$STAGEHAND_BIN' ci -r us-east-1 --endpoint-url '$GR_URL' >'$GR_TMP/ci-dev.out' 2>&1"
API=$(aws2 apigateway get-rest-apis --region us-east-1 --query 'items[?name==`mini`].id' --output text)
BODY=$(curl -s -m 30 "$GR_URL/restapis/$API/dev/_user_request_/hello")
expect_contains "dev stage URL" '"greeting":"hello from dev"' "$BODY"
expect_contains "summary has the stage URL" "$GR_URL/restapis/$API/dev/_user_request_" "$(cat "$GR_TMP/ci-dev.out")"

# github tag -> production (no git history in the copy: the release branch cannot be verified)
check "github tag deploys production" bash -c "cd '$P' && GITHUB_ACTIONS=true GITHUB_EVENT_NAME=push GITHUB_REF=refs/tags/v1.0.0 '$STAGEHAND_BIN' ci -r us-east-1 --endpoint-url '$GR_URL' >'$GR_TMP/ci-prod.out' 2>&1"
BODY=$(curl -s -m 30 "$GR_URL/restapis/$API/production/_user_request_/hello")
expect_contains "production stage URL" '"greeting":"hello from production"' "$BODY"
BODY=$(curl -s -m 30 "$GR_URL/restapis/$API/dev/_user_request_/hello")
expect_contains "dev untouched" '"greeting":"hello from dev"' "$BODY"
ALIAS=$(aws2 lambda get-alias --function-name mini-hello --name production --region us-east-1 --query FunctionVersion --output text)
check "production alias exists" test -n "$ALIAS"

# travis tag builds put the tag in TRAVIS_BRANCH too
expect_eq "travis tag build" "0 True production" "$(CIRUN TRAVIS=true TRAVIS_BRANCH=v1.0.1 TRAVIS_TAG=v1.0.1 TRAVIS_PULL_REQUEST=false | field)"

# gitlab + custom.ci mapping: staging -> stage
expect_eq "gitlab staging via custom.ci" "0 True stage" "$(CIRUN GITLAB_CI=true CI_COMMIT_BRANCH=staging | field)"

# without STAGEHAND_CI_FLOW, ci runs the transactional `stagehand deploy` (when built in)
check "ci -s qa through deploy" bash -c "cd '$P' && STAGEHAND_CI_FLOW= '$STAGEHAND_BIN' ci -s qa -r us-east-1 --endpoint-url '$GR_URL' >'$GR_TMP/ci-qa.out' 2>&1 || { cat '$GR_TMP/ci-qa.out'; exit 1; }"
BODY=$(curl -s -m 30 "$GR_URL/restapis/$API/qa/_user_request_/hello")
expect_contains "qa stage URL" '"greeting":"hello from qa"' "$BODY"

# git fallback: a tag not on master does not deploy, a tag on master does
G="$GR_TMP/gitproj"
cp -r "$FIXTURES_DIR/projects/mini" "$G"
(
    cd "$G" && git init -q -b master && git -c user.email=t@t -c user.name=t add -A &&
        git -c user.email=t@t -c user.name=t commit -qm init && git checkout -q -b feature &&
        touch x && git add x && git -c user.email=t@t -c user.name=t commit -qm feature && git tag v9-feature
) >/dev/null 2>&1
GIT_CI() { (cd "$G" && "$STAGEHAND_BIN" ci -r us-east-1 --endpoint-url "$GR_URL" --output json "$@"); }
expect_eq "git: tag off master does not deploy" "0 False -" "$(GIT_CI | field)"
(cd "$G" && git checkout -q master && git tag v9-release) >/dev/null 2>&1
S=$(last)
OUT=$(cd "$G" && "$STAGEHAND_BIN" ci -r us-east-1 --endpoint-url "$GR_URL" 2>&1)
expect_contains "git: tag on master deploys production" "tag v9-release -> stage production" "$OUT"
(cd "$G" && git checkout -q -b develop && touch y && git add y && git -c user.email=t@t -c user.name=t commit -qm dev) >/dev/null 2>&1
OUT=$(cd "$G" && "$STAGEHAND_BIN" ci -r us-east-1 --endpoint-url "$GR_URL" 2>&1 | head -3)
expect_contains "git: develop branch -> dev" "branch develop -> stage dev" "$OUT"

finish
