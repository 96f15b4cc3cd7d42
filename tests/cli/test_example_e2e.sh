#!/bin/bash
# test_example_e2e.sh - the cd-example story end to end against a real greenroom (issue 11):
# the project's own handler tests, dev and production deployed from the same project, version
# isolation between stages (dev moves to app_version 2, production stays on 1), the alias flip,
# the stage variables, a book published through books-post reaching notifications-books over the
# SNS event, the stage metadata in S3, a second run changing nothing (no new versions, no new
# deployments), and two concurrent deploys of dev and production (shared $LATEST and REST API
# working copy) that do not leak into each other.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/test_deploy_common.inc"

gr_start
txn_setup
cd "$P" || exit 1

check "the project's handler tests pass (node --test)" node --test test/

check "deploy dev" sh_ok deploy -s dev -r us-east-1
check "deploy production" sh_ok deploy -s production -r us-east-1
API=$(aws2 apigateway get-rest-apis --query 'items[0].id' --output text)
expect_eq "one REST API shared by the stages" 1 "$(aws2 apigateway get-rest-apis --query 'length(items)' --output text)"
expect_eq "stage variable functionAlias=dev" dev \
    "$(aws2 apigateway get-stage --rest-api-id "$API" --stage-name dev --query 'variables.functionAlias' --output text)"
expect_eq "stage variable functionAlias=production" production \
    "$(aws2 apigateway get-stage --rest-api-id "$API" --stage-name production --query 'variables.functionAlias' --output text)"

alias_v() { aws2 lambda get-alias --function-name "cd-example-$1" --name "$2" --query FunctionVersion --output text; }
DEV1=$(alias_v books-get dev)

# develop moves on: dev only
set_version 2
check "deploy dev (app_version 2)" sh_ok deploy -s dev -r us-east-1
DEV2=$(alias_v books-get dev)
check "alias flip: dev moved to a new version" test "$DEV2" -gt "$DEV1"
expect_eq "dev serves app_version 2" 2 "$(books "$API" dev app_version)"
expect_eq "production still serves app_version 1" 1 "$(books "$API" production app_version)"
expect_eq "production serves stage production" production "$(books "$API" production stage)"
check "the production alias kept its version" test "$(alias_v books-get production)" -lt "$DEV2"

# a book through books-post -> SNS topic (stack output) -> notifications-books (sns event)
OUT=$(curl -s -X POST -H 'Content-Type: application/json' -d '{"name":"The Dispossessed"}' \
    "$GR_URL/restapis/$API/dev/_user_request_/books")
expect_contains "books-post answered with the published book" '"name":"The Dispossessed"' "$OUT"
LOG="$GR_STATE/lambda/logs/000000000000-us-east-1-cd-example-notifications-books.log"
i=0
until grep -q 'BOOK-NOTIFICATION dev {"type":"added","name":"The Dispossessed"}' "$LOG" 2>/dev/null || [ $i -ge 50 ]; do
    sleep 0.1
    i=$((i + 1))
done
check "notifications-books (dev) received the book over SNS" \
    grep -q 'BOOK-NOTIFICATION dev {"type":"added","name":"The Dispossessed"}' "$LOG"

# the stage metadata in S3
META=s3://cd-example-meta-sync/serverless/cd-example/variables
expect_eq "dev meta holds the stack outputs" yes "$(aws2 s3 cp "$META/s-variables-dev-useast1.json" - |
    python3 -c 'import json,sys; d=json.load(sys.stdin); print("yes" if "-dev-r-BookSnsTopic-" in d["bookSnsTopicArn"] and d["resourcesStackName"]=="cd-example-dev-r" else "no")')"
expect_eq "production meta is its own" yes "$(aws2 s3 cp "$META/s-variables-production-useast1.json" - |
    python3 -c 'import json,sys; d=json.load(sys.stdin); print("yes" if "-production-r-BookSnsTopic-" in d["bookSnsTopicArn"] else "no")')"

# a second run changes nothing
versions() { aws2 lambda list-versions-by-function --function-name cd-example-books-get --query 'length(Versions)' --output text; }
deployments() { aws2 apigateway get-deployments --rest-api-id "$API" --query 'length(items)' --output text; }
V0=$(versions)
D0=$(deployments)
check "deploy dev again" sh_ok deploy -s dev -r us-east-1
expect_eq "second run: no new version" "$V0" "$(versions)"
expect_eq "second run: no new deployment" "$D0" "$(deployments)"

# concurrent deploys of dev and production: both succeed, neither leaks into the other
set_version 3
( SH_OUT="$GR_TMP/dev.out" sh_run deploy -s dev -r us-east-1; echo "$SH_RC" >"$GR_TMP/dev.rc" ) &
BG=$!
SH_OUT="$GR_TMP/prod.out" sh_run deploy -s production -r us-east-1
PROD_RC=$SH_RC
wait "$BG"
expect_eq "concurrent: dev deploy succeeded" 0 "$(cat "$GR_TMP/dev.rc")"
expect_eq "concurrent: production deploy succeeded" 0 "$PROD_RC"
[ "$PROD_RC" = 0 ] || tail -20 "$GR_TMP/prod.out"
[ "$(cat "$GR_TMP/dev.rc")" = 0 ] || tail -20 "$GR_TMP/dev.out"
for stage in dev production; do
    expect_eq "concurrent: $stage serves stage $stage" "$stage" "$(books "$API" "$stage" stage)"
    expect_eq "concurrent: $stage serves app_version 3" 3 "$(books "$API" "$stage" app_version)"
    check "concurrent: $stage consistent afterwards" sh_grep "^0 change" diff -s "$stage" -r us-east-1
done

txn_teardown
finish
