#!/bin/bash
# test_deploy_txn.sh - `stagehand deploy` as a transaction against a real greenroom (issue 9):
# first deploy of fixtures/cd-example, a second run changing nothing (no new versions, no new
# deployments), status/diff, a failing commit step compensated exactly, rollback, a second stage
# that never leaks, the stage lock (held lease, --force-unlock, stale takeover, two concurrent
# deploys), and a metadata conflict reported and never overwritten.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/test_deploy_common.inc"

gr_start
txn_setup
cd "$P" || exit 1

# --- first deploy
check "deploy dev (first)" sh_ok deploy -s dev -r us-east-1
API=$(aws2 apigateway get-rest-apis --query 'items[0].id' --output text)
expect_eq "dev serves stage dev" dev "$(books "$API" dev stage)"
expect_eq "dev serves app_version 1" 1 "$(books "$API" dev app_version)"
expect_eq "meta pushed with the stack outputs" yes \
    "$(aws2 s3 cp s3://cd-example-meta-sync/serverless/cd-example/variables/s-variables-dev-useast1.json - |
        python3 -c 'import json,sys; d=json.load(sys.stdin); print("yes" if d.get("bookSnsTopicArn","").startswith("arn:") and d.get("iamRoleArnLambda") else "no")')"
expect_eq "lock released" "" "$(aws2 s3 ls s3://cd-example-meta-sync/serverless/cd-example/stagehand/dev-useast1/lock.json 2>/dev/null)"

# --- a second run changes nothing
state dev >"$GR_TMP/s1"
S0=$(last_seq)
check "deploy dev (again)" sh_ok deploy -s dev -r us-east-1
state dev >"$GR_TMP/s2"
check "second run: same state" diff "$GR_TMP/s1" "$GR_TMP/s2"
expect_eq "second run: no mutating AWS call" "" \
    "$(calls_since "$S0" | grep -E 'PublishVersion|UpdateFunctionCode|CreateDeployment|UpdateAlias|UpdateStage|UpdateStack|CreateStage' || true)"
check "status names the committed txn" sh_grep committed status -s dev -r us-east-1
check "diff: 0 changes" sh_grep "^0 change" diff -s dev -r us-east-1

# --- a new version; the commit fails at UpdateAlias (beyond the retry budget): exact compensation
set_version 2
check "diff shows the function change" sh_grep "~ function books-get" diff -s dev -r us-east-1
state dev >"$GR_TMP/before"
fault '[{"service":"lambda","operation":"UpdateAlias","resource":"cd-example-books-put*","times":2,"error":{"statusCode":500,"code":"ServiceException","message":"injected"}}]'
sh_run deploy -s dev -r us-east-1
expect_eq "UpdateAlias failure: exit 7 (rolled back)" 7 "$SH_RC"
[ "$SH_RC" = 7 ] || tail -30 "$GR_TMP/sh.out"
check "the failing call is named" grep -q "UpdateAlias" "$GR_TMP/sh.out"
clear_faults
state dev >"$GR_TMP/after"
check "state after the failed deploy equals the state before" diff "$GR_TMP/before" "$GR_TMP/after"
expect_eq "dev still serves app_version 1" 1 "$(books "$API" dev app_version)"
check "the next deploy succeeds" sh_ok deploy -s dev -r us-east-1
expect_eq "dev serves app_version 2" 2 "$(books "$API" dev app_version)"

# --- rollback to the previous release
check "rollback -s dev" sh_ok rollback -s dev -r us-east-1
expect_eq "after rollback dev serves app_version 1" 1 "$(books "$API" dev app_version)"
check "deploy again (v2)" sh_ok deploy -s dev -r us-east-1

# --- production: its own aliases and stage; dev untouched
state dev >"$GR_TMP/dev1"
set_version 3
check "deploy production" sh_ok deploy -s production -r us-east-1
state dev >"$GR_TMP/dev2"
check "dev unchanged by the production deploy" diff "$GR_TMP/dev1" "$GR_TMP/dev2"
expect_eq "production serves stage production" production "$(books "$API" production stage)"
expect_eq "production serves app_version 3" 3 "$(books "$API" production app_version)"
expect_eq "dev still serves app_version 2" 2 "$(books "$API" dev app_version)"

# --- the stage lock
LOCK=s3://cd-example-meta-sync/serverless/cd-example/stagehand/dev-useast1/lock.json
future=$(date -u -d '+10 minutes' +%Y-%m-%dT%H:%M:%SZ)
past=$(date -u -d '-10 minutes' +%Y-%m-%dT%H:%M:%SZ)
printf '{"holder":"ci-job-42@builder","txn":"other","host":"elsewhere","pid":1,"start":"%s","expiry":"%s"}' \
    "$past" "$future" >"$GR_TMP/lease"
aws2 s3 cp "$GR_TMP/lease" "$LOCK" >/dev/null
sh_run deploy -s dev -r us-east-1
expect_eq "held lease: exit 6 (conflict)" 6 "$SH_RC"
check "held lease: the holder is named" grep -q "ci-job-42@builder" "$GR_TMP/sh.out"
check "--force-unlock takes it over" sh_ok deploy -s dev -r us-east-1 --force-unlock
check "--force-unlock warns" grep -qi "force-unlock" "$GR_TMP/sh.out"
printf '{"holder":"dead-job@builder","txn":"other","host":"elsewhere","pid":1,"start":"%s","expiry":"%s"}' \
    "$past" "$past" >"$GR_TMP/lease"
aws2 s3 cp "$GR_TMP/lease" "$LOCK" >/dev/null
check "an expired lease is taken over" sh_ok deploy -s dev -r us-east-1

# two concurrent deploys of dev: whichever takes the lock first is slowed down while it holds it;
# the other fails fast naming the holder
set_version 4
fault '[{"service":"cloudformation","operation":"GetTemplate","times":1,"latency":{"ms":2000}}]'
( SH_OUT="$GR_TMP/first.out" STAGEHAND_CALL_TIMEOUT=20 sh_run deploy -s dev -r us-east-1; echo "$SH_RC" >"$GR_TMP/first.rc" ) &
BG1=$!
sleep 0.5
( SH_OUT="$GR_TMP/second.out" STAGEHAND_CALL_TIMEOUT=20 sh_run deploy -s dev -r us-east-1; echo "$SH_RC" >"$GR_TMP/second.rc" ) &
BG2=$!
wait "$BG1"
wait "$BG2"
clear_faults
expect_eq "concurrent deploys of one stage: one succeeds, the other exits 6" "0 6" \
    "$(printf '%s\n%s\n' "$(cat "$GR_TMP/first.rc")" "$(cat "$GR_TMP/second.rc")" | sort -n | tr '\n' ' ' | sed 's/ $//')"
check "concurrent deploy: the loser names the lock holder" grep -q "locked by" "$GR_TMP/first.out" "$GR_TMP/second.out"
expect_eq "dev serves app_version 4" 4 "$(books "$API" dev app_version)"
check "the stage is consistent (a new deploy changes nothing)" sh_grep "^0 change" diff -s dev -r us-east-1

# --- metadata conflict: someone writes the stage's variables while a deploy runs
set_version 5
add_output Marker v5
META=s3://cd-example-meta-sync/serverless/cd-example/variables/s-variables-dev-useast1.json
aws2 s3 cp "$META" "$GR_TMP/meta.orig" >/dev/null
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); d["addedByHand"]="yes"; print(json.dumps(d))' \
    "$GR_TMP/meta.orig" >"$GR_TMP/meta.hand"
state dev >"$GR_TMP/before"
fault '[{"service":"lambda","operation":"UpdateAlias","times":1,"latency":{"ms":3000}}]'
( SH_OUT="$GR_TMP/conflict.out" STAGEHAND_CALL_TIMEOUT=20 sh_run deploy -s dev -r us-east-1; echo "$SH_RC" >"$GR_TMP/conflict.rc" ) &
BG=$!
sleep 1.5
curl -s -o /dev/null --aws-sigv4 "aws:amz:us-east-1:s3" --user test:test -X PUT --data-binary @"$GR_TMP/meta.hand" \
    "$GR_URL/cd-example-meta-sync/serverless/cd-example/variables/s-variables-dev-useast1.json"
wait "$BG"
clear_faults
expect_eq "meta conflict: exit 6" 6 "$(cat "$GR_TMP/conflict.rc")"
[ "$(cat "$GR_TMP/conflict.rc")" = 6 ] || tail -30 "$GR_TMP/conflict.out"
check "meta conflict: reported with a diff" grep -q "+ addedByHand" "$GR_TMP/conflict.out"
expect_eq "meta conflict: the other write is kept" yes \
    "$(aws2 s3 cp "$META" - | python3 -c 'import json,sys; print(json.load(sys.stdin).get("addedByHand"))')"
expect_eq "meta conflict: dev still serves app_version 4" 4 "$(books "$API" dev app_version)"
check "after the conflict the next deploy succeeds" sh_ok deploy -s dev -r us-east-1
expect_eq "dev serves app_version 5" 5 "$(books "$API" dev app_version)"

txn_teardown
finish
