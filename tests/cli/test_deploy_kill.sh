#!/bin/bash
# test_deploy_kill.sh - the deployer killed (kill -9) at several points of `stagehand deploy`
# (issue 9): in the prepare phase `stagehand recover` compensates (all-old), in the commit phase it
# completes the commit (all-new); the lock of the dead deploy is taken over; a plain deploy after
# a kill finishes the dead transaction first and succeeds.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/test_deploy_common.inc"

gr_start
txn_setup
cd "$P" || exit 1

check "deploy dev v1" sh_ok deploy -s dev -r us-east-1
API=$(aws2 apigateway get-rest-apis --query 'items[0].id' --output text)

# The change every case tries to deploy: new code, a new stack output, a changed endpoint.
v2_change

# --- the deployer killed while call X hangs, then recover
# kill_at SVC OP RESOURCE: start a deploy that hangs at the first matching call, kill -9 it there.
kill_at() {
    fault "[{\"service\":\"$1\",\"operation\":\"$2\",\"resource\":\"$3\",\"times\":1,\"hang\":true}]"
    STAGEHAND_CALL_TIMEOUT=60 "$SH" deploy -s dev -r us-east-1 --endpoint-url "$GR_URL" >"$GR_TMP/killed.out" 2>&1 &
    local pid=$! last=-1 now i=0
    # quiet for 0.4 s while the process lives = it is stuck in the hanging call
    while [ $i -lt 100 ]; do
        sleep 0.2
        now=$(last_seq)
        [ "$now" = "$last" ] && break
        last=$now
        i=$((i + 1))
    done
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    clear_faults
}

check "deploy dev v2" sh_ok deploy -s dev -r us-east-1
set_version 3
state dev >"$GR_TMP/before"
kill_at lambda UpdateFunctionCode cd-example-books-put
check "killed in prepare: the lock is still held" sh_grep "lock: +held by" status -s dev -r us-east-1
check "killed in prepare: status says recover" sh_grep "unfinished: run .stagehand recover" status -s dev -r us-east-1
check "recover after a kill in prepare" sh_ok recover -s dev -r us-east-1
state dev >"$GR_TMP/after"
check "killed in prepare: recover leaves all-old" diff "$GR_TMP/before" "$GR_TMP/after"
expect_eq "killed in prepare: dev serves app_version 2" 2 "$(books "$API" dev app_version)"

kill_at lambda UpdateAlias 'cd-example-books-post*'
check "recover after a kill in commit" sh_ok recover -s dev -r us-east-1
check "recover completed the commit" grep -qi "completing the commit" "$GR_TMP/sh.out"
expect_eq "killed in commit: dev serves app_version 3 (all-new)" 3 "$(books "$API" dev app_version)"
check "killed in commit: nothing left to change" sh_grep "^0 change" diff -s dev -r us-east-1

# a compensation that itself fails (the fault outlasts the deploy): exit 1, journal says so,
# `recover` finishes the compensation once the fault is gone
set_version 4
state dev >"$GR_TMP/before"
fault '[{"service":"lambda","operation":"UpdateAlias","resource":"cd-example-books-put*","error":{"statusCode":500,"code":"ServiceException","message":"down"}}]'
sh_run deploy -s dev -r us-east-1
expect_eq "undo failing too: exit 1" 1 "$SH_RC"
check "undo failing too: tells to run recover" grep -q "stagehand recover" "$GR_TMP/sh.out"
clear_faults
check "undo failing too: status shows compensation-failed" sh_grep "compensation-failed" status -s dev -r us-east-1
check "recover finishes the compensation" sh_ok recover -s dev -r us-east-1
state dev >"$GR_TMP/after"
check "after recover the stage is all-old" diff "$GR_TMP/before" "$GR_TMP/after"

kill_at cloudformation GetTemplate '*'
check "a plain deploy after a kill finishes the old txn first and succeeds" sh_ok deploy -s dev -r us-east-1
expect_eq "dev serves app_version 4" 4 "$(books "$API" dev app_version)"

txn_teardown
finish
