#!/bin/bash
# test_deploy_faults.sh - `stagehand deploy` under injected faults (issue 9): for a failure in
# each step of each phase (AWS 5xx error, throttling beyond the retry budget, connection reset,
# hang past the client timeout) the stage's full observable state afterwards equals the state
# before (aliases, stage deployment and variables, stack template/parameters/outputs, event wiring,
# meta object) and the next deploy succeeds. (Kills and recover: test_deploy_kill.sh.)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/test_deploy_common.inc"

gr_start
txn_setup
cd "$P" || exit 1

check "deploy dev v1" sh_ok deploy -s dev -r us-east-1
API=$(aws2 apigateway get-rest-apis --query 'items[0].id' --output text)

# The change every case tries to deploy: new code, a new stack output, a changed endpoint.
v2_change

META_KEY='cd-example-meta-sync/serverless/cd-example/variables/*'
# operation|resource glob|phase
OPS="cloudformation:UpdateStack:*:prepare
lambda:UpdateFunctionCode:cd-example-books-post:prepare
lambda:PublishVersion:cd-example-books-put:prepare
apigateway:PutIntegration:*:prepare
apigateway:CreateDeployment:*:prepare
lambda:UpdateAlias:cd-example-books-get*:commit
apigateway:UpdateStage:*:commit
s3:PutObject:$META_KEY:commit"

# Every case starts from the same world: a greenroom snapshot and a copy of the local _meta.
state dev >"$GR_TMP/before"
curl -s -o /dev/null -X POST -d '{"name":"faults-pre"}' "$GR_URL/_greenroom/snapshots"
cp -a "$P/_meta" "$GR_TMP/meta-pre"
restore_pre() {
    curl -s -o /dev/null -X POST "$GR_URL/_greenroom/snapshots/faults-pre/restore"
    rm -rf "$P/_meta" && cp -a "$GR_TMP/meta-pre" "$P/_meta"
}
while IFS=: read -r svc op res phase; do
    for kind in error throttle reset hang; do
        case $kind in
            error) action='"error":{"statusCode":500,"code":"InternalFailure","message":"injected"}' ;;
            throttle) action='"throttle":{"retryAfterSeconds":0}' ;;
            reset) action='"reset":true' ;;
            hang) action='"hang":true'
                  case $op in PublishVersion|UpdateStage) ;; *) continue ;; esac ;;
        esac
        # a burst as long as the retry budget (libcurl itself retries a reset connection once)
        times=2
        [ "$kind" = reset ] && times=4
        restore_pre
        fault "[{\"service\":\"$svc\",\"operation\":\"$op\",\"resource\":\"$res\",\"times\":$times,$action}]"
        sh_run deploy -s dev -r us-east-1
        rc=$SH_RC
        clear_faults
        expect_eq "$kind at $op ($phase): exit 7" 7 "$rc"
        [ "$rc" = 7 ] || tail -15 "$GR_TMP/sh.out"
        state dev >"$GR_TMP/after"
        check "$kind at $op ($phase): state equals the state before" diff "$GR_TMP/before" "$GR_TMP/after"
    done
done <<<"$OPS"
restore_pre
expect_eq "after all the failures dev still serves app_version 1" 1 "$(books "$API" dev app_version)"
check "the next deploy succeeds" sh_ok deploy -s dev -r us-east-1
expect_eq "dev serves app_version 2" 2 "$(books "$API" dev app_version)"
expect_eq "the stage variables are the stack's outputs" two \
    "$(aws2 s3 cp "s3://cd-example-meta-sync/serverless/cd-example/variables/s-variables-dev-useast1.json" - |
        python3 -c 'import json,sys; print(json.load(sys.stdin).get("release"))')"

txn_teardown
finish
