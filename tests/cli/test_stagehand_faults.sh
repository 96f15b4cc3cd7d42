#!/bin/bash
# test_stagehand_faults.sh - every per-item failure exits non-zero (v0.5
# exited 0 for events and endpoints) and names the step, the call and the
# AWS error; faults come from greenroom's fault rules. Also: throttling is
# retried to success, a failed endpoint leaves the stage on its previous
# deployment, a failed code upload moves no alias, a failed stack is
# reported with its reason, a conditional meta write conflict exits 6.
. "$(dirname "$0")/lib.sh"
# the system python starts in milliseconds (a pyenv shim takes a quarter second)
PY=$(command -v /usr/bin/python3 || command -v python3)

gr_start
P="$GR_TMP/mini"
cp -r "$FIXTURES_DIR/projects/mini" "$P"
export CI=true STAGEHAND_POLL_MS=50 STAGEHAND_RETRY_BASE_MS=10 STAGEHAND_RETRY_CAP_MS=50
DEV="-s dev -r us-east-1"
RC=0
run() { (cd "$P" && "$STAGEHAND_BIN" "$@" --endpoint-url "$GR_URL" >"$GR_TMP/out" 2>"$GR_TMP/err"); RC=$?; }
fault() { curl -s -X POST -H 'Content-Type: application/json' -d "$1" "$GR_URL/_greenroom/faults" >/dev/null; }
nofault() { curl -s -X DELETE "$GR_URL/_greenroom/faults" >/dev/null; }
last() { curl -s "$GR_URL/_greenroom/calls?since=0" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["last"])'; }
sget() {
    curl -s --aws-sigv4 "aws:amz:us-east-1:$1" -u test:test "$GR_URL$2" |
        "$PY" -c "import json,sys; d=json.load(sys.stdin); print($3)"
}
ops() { curl -s "$GR_URL/_greenroom/calls?since=$1" | "$PY" -c '
import json, sys
for c in json.load(sys.stdin)["calls"]: print(c["service"], c["operation"], c["fault"] or "-")'; }

# a deployed dev stage to break
for step in "project init -c" "meta sync" "resources deploy" "function deploy -a" "event deploy -a" "endpoint deploy -a"; do
    run $step $DEV
    expect_eq "setup: $step" 0 "$RC"
done
API=$(sget apigateway /restapis '[i["id"] for i in d["item"] if i["name"] == "mini"][0]')
URL="$GR_URL/restapis/$API/dev/_user_request_/hello"

# event deploy: the SNS subscription fails, the schedule succeeds -> partial (4)
fault '{"id":"sub","service":"sns","operation":"Subscribe","error":{"statusCode":400,"code":"InvalidParameter","message":"Invalid parameter: Endpoint"}}'
run event deploy -a $DEV
expect_eq "event deploy with one failed event exits 4" 4 "$RC"
ERR=$(cat "$GR_TMP/err")
expect_contains "error names the step" "event deploy" "$ERR"
expect_contains "error names the call" "sns Subscribe" "$ERR"
expect_contains "error names the AWS error" "InvalidParameter: Invalid parameter: Endpoint" "$ERR"
nofault

# endpoint deploy: PutIntegration fails -> exit 1, no CreateDeployment, old deployment still serves
BEFORE=$(sget apigateway "/restapis/$API/stages/dev" 'd["deploymentId"]')
fault '{"id":"integ","service":"apigateway","operation":"PutIntegration","error":{"statusCode":400,"code":"BadRequestException","message":"Invalid integration"}}'
S=$(last)
run endpoint deploy -a $DEV
expect_eq "endpoint deploy with a failed endpoint exits 1" 1 "$RC"
case "$(ops "$S")" in
    *CreateDeployment*) GR_FAIL=$((GR_FAIL + 1)); echo "FAIL - stage was redeployed after a failure" ;;
    *) GR_PASS=$((GR_PASS + 1)); echo "ok   - no CreateDeployment after a failed endpoint" ;;
esac
expect_contains "endpoint error names call and code" "apigateway PutIntegration" "$(cat "$GR_TMP/err")"
expect_contains "endpoint error code" "BadRequestException" "$(cat "$GR_TMP/err")"
AFTER=$(sget apigateway "/restapis/$API/stages/dev" 'd["deploymentId"]')
expect_eq "stage keeps its deployment" "$BEFORE" "$AFTER"
nofault
run endpoint deploy -a $DEV
expect_eq "endpoint deploy recovers" 0 "$RC"
expect_contains "stage URL serves" '"message":"hello"' "$(curl -s -m 30 "$URL")"

# function deploy: the code upload of one function fails -> exit 1, no alias moves
sed -i "s/message: 'hello'/message: 'hello v2'/" "$P/src/hello/handler.js"
sed -i "s/message: 'notified'/message: 'notified v2'/" "$P/src/notify/handler.js"
fault '{"id":"code","service":"lambda","operation":"UpdateFunctionCode","resource":"mini-hello","error":{"statusCode":400,"code":"InvalidParameterValueException","message":"Unzipped size must be smaller"}}'
S=$(last)
run function deploy -a $DEV
expect_eq "function deploy with a failed function exits 1" 1 "$RC"
case "$(ops "$S")" in
    *Alias*) GR_FAIL=$((GR_FAIL + 1)); echo "FAIL - an alias call happened: $(ops "$S" | grep Alias)" ;;
    *) GR_PASS=$((GR_PASS + 1)); echo "ok   - no alias moved" ;;
esac
expect_contains "function error" "lambda UpdateFunctionCode mini-hello: 400 InvalidParameterValueException" "$(cat "$GR_TMP/err")"
expect_eq "hello alias unchanged" 1 "$(sget lambda /2015-03-31/functions/mini-hello/aliases/dev 'd["FunctionVersion"]')"
expect_eq "notify alias unchanged" 1 "$(sget lambda /2015-03-31/functions/mini-notify/aliases/dev 'd["FunctionVersion"]')"
nofault

# throttling is retried (Retry-After honoured) and the deploy succeeds
fault '{"id":"thr","service":"lambda","operation":"GetAlias","times":2,"throttle":{"retryAfterSeconds":1}}'
S=$(last)
run function deploy -a $DEV
expect_eq "function deploy through throttling exits 0" 0 "$RC"
FIRED=$(ops "$S" | grep -c ' thr$')
expect_eq "the throttle fired twice" 2 "$FIRED"
expect_contains "new code live" "hello v2" "$(curl -s -m 30 "$URL")"
nofault

# a CloudFormation resource failure: exit 1 with the reason
run project init -c -s qa -r us-east-1
fault '{"id":"cfn","service":"cloudformation","cfnResourceFailure":{"logicalId":"NotifyTopic","type":"AWS::SNS::Topic","reason":"Topic limit exceeded"}}'
run resources deploy -s qa -r us-east-1
expect_eq "failed stack exits 1" 1 "$RC"
expect_contains "provisioning error as v0.5 words it" "An error occurred while provisioning your cloudformation" "$(cat "$GR_TMP/err")"
expect_contains "with the reason" "Topic limit exceeded" "$(cat "$GR_TMP/err")"
nofault

# meta: a conditional write that loses (412) is a conflict, exit 6
fault '{"id":"meta","service":"s3","operation":"PutObject","error":{"statusCode":412,"code":"PreconditionFailed","message":"At least one of the pre-conditions you specified did not hold"}}'
run meta sync $DEV --push
expect_eq "meta conflict exits 6" 6 "$RC"
expect_contains "conflict explained" "not overwritten" "$(cat "$GR_TMP/err")"
nofault

# a server that keeps failing: bounded retries, transport/5xx named, non-zero
fault '{"id":"down","service":"lambda","operation":"GetFunction","error":{"statusCode":503,"code":"ServiceException","message":"down"}}'
export STAGEHAND_MAX_ATTEMPTS=3
S=$(last)
run function deploy hello $DEV
expect_eq "persistent 503 exits 1" 1 "$RC"
expect_eq "three attempts" 3 "$(ops "$S" | grep -c ' down$')"
unset STAGEHAND_MAX_ATTEMPTS
nofault

# invalid project JSON: exit 3 with file:line:column
printf '{\n  "name": "hello",\n  "runtime": "nodejs4.3",\n}\n' >"$P/src/hello/s-function.json"
run function deploy -a $DEV
expect_eq "invalid JSON exits 3" 3 "$RC"
expect_contains "file:line:column" "src/hello/s-function.json:4:1: expected" "$(cat "$GR_TMP/err")"

finish
