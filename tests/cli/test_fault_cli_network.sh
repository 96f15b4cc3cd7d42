#!/usr/bin/env bash
# Network-level faults seen by the AWS CLI v2 and curl: a reset connection,
# a hang until the client gives up, a crash of greenroom followed by a
# restart on the same state dir with nothing acknowledged lost; rules loaded
# with --faults FILE; LocalStack's /_localstack/chaos/faults; snapshots
# saved and restored over HTTP.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/test_fault_common.inc"
export AWS_RETRY_MODE=standard AWS_MAX_ATTEMPTS=1

policy='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}'

# --faults FILE at start
cat >"$GR_TMP/plan.json" <<'JSON'
[{"id": "from-file", "service": "sts", "operation": "GetCallerIdentity", "nth": 1,
  "error": {"statusCode": 403, "code": "ExpiredToken", "message": "The security token included in the request is expired"}}]
JSON
gr_start --faults "$GR_TMP/plan.json"
out=$(aws2 sts get-caller-identity 2>&1)
expect_contains "--faults FILE: the first call fails as planned" "An error occurred (ExpiredToken) when calling the GetCallerIdentity operation" "$out"
expect_contains "--faults FILE: with the planned message" "The security token included in the request is expired" "$out"
out=$(aws2 sts get-caller-identity --query Account --output text 2>&1)
expect_eq "--faults FILE: nth=1 fired once" "000000000000" "$out"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST --data '[{"service":"sts","nht":1,"reset":true}]' "$GR_URL/_greenroom/faults")
expect_eq "a misspelt field is refused" "400" "$code"
out=$(curl -s -X POST --data '[{"service":"sts","nht":1,"reset":true}]' "$GR_URL/_greenroom/faults")
expect_contains "the refusal names the field" "nht" "$out"

# reset: the CLI sees a dropped connection
faults '[{"service":"sts","nth":1,"reset":true}]'
out=$(aws2 sts get-caller-identity 2>&1); rc=$?
expect_eq "reset: the CLI fails" "255" "$rc"
expect_contains "reset: as a closed connection" "Connection was closed before we received a valid response" "$out"

# hang: held until the client gives up; greenroom still serves others
faults '[{"service":"sts","operation":"GetCallerIdentity","hang":true}]'
out=$(aws2 --cli-read-timeout 1 sts get-caller-identity 2>&1); rc=$?
expect_eq "hang: the CLI fails" "255" "$rc"
expect_contains "hang: with a read timeout" "Read timeout on endpoint URL" "$out"
out=$(aws2 iam list-roles --query 'Roles' --output text 2>&1); rc=$?
expect_eq "hang: other calls are served meanwhile" "0" "$rc"
faults '[]'

# latency: the answer is normal
faults '[{"service":"sts","latency":{"ms":200,"jitterMs":50}}]'
out=$(aws2 sts get-caller-identity --query Account --output text 2>&1)
expect_eq "latency: a normal answer" "000000000000" "$out"
faults '[]'

# crash, then restart on the same state dir: nothing acknowledged is lost
for i in 1 2 3 4 5; do
    aws2 iam create-role --role-name "acked-$i" --assume-role-policy-document "$policy" >/dev/null ||
        { echo "create-role acked-$i failed"; GR_FAIL=$((GR_FAIL + 1)); }
done
faults '[{"id":"die","service":"iam","operation":"CreateRole","crash":true}]'
out=$(aws2 iam create-role --role-name lost --assume-role-policy-document "$policy" 2>&1); rc=$?
expect_eq "crash: the CLI sees the connection die" "255" "$rc"
i=0
while kill -0 "$GR_PID" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
check "crash: greenroom exited" bash -c "! kill -0 $GR_PID 2>/dev/null"
out="$GR_TMP/port.restart"
"$GREENROOM_BIN" --port 0 --state-dir "$GR_STATE" >"$out" 2>>"$GR_TMP/greenroom.log" &
GR_PID=$!
GR_PIDS="$GR_PIDS $GR_PID"
i=0
while [ ! -s "$out" ] && [ $i -lt 200 ]; do sleep 0.02; i=$((i + 1)); done
GR_URL="http://127.0.0.1:$(head -n1 "$out")"
i=0
until curl -fsS "$GR_URL/_greenroom/health" >/dev/null 2>&1 || [ $i -gt 250 ]; do sleep 0.02; i=$((i + 1)); done
names=$(aws2 iam list-roles --query 'Roles[].RoleName' --output text 2>&1 | tr '\t' '\n' | sort | tr '\n' ' ')
expect_eq "restart: every acknowledged role is there, the crashed one is not" "acked-1 acked-2 acked-3 acked-4 acked-5 " "$names"
expect_eq "restart: no rules survive a restart" "0" \
    "$(curl -s "$GR_URL/_greenroom/faults" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')"

# snapshots over HTTP: save, change, restore, compare the CLI's listing
before=$(aws2 iam list-roles --query 'Roles[].[RoleName,Arn,RoleId]' --output text)
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST --data '{"name":"rehearsal"}' "$GR_URL/_greenroom/snapshots")
expect_eq "snapshot saved" "200" "$code"
aws2 iam delete-role --role-name acked-1 >/dev/null
aws2 iam create-role --role-name extra --assume-role-policy-document "$policy" >/dev/null
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$GR_URL/_greenroom/snapshots/rehearsal/restore")
expect_eq "snapshot restored" "200" "$code"
after=$(aws2 iam list-roles --query 'Roles[].[RoleName,Arn,RoleId]' --output text)
expect_eq "the listing after restore equals the one at save" "$before" "$after"
out=$(curl -s "$GR_URL/_greenroom/snapshots")
expect_contains "the snapshot is listed" '"name":"rehearsal"' "$out"

# LocalStack's chaos API
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
    --data '[{"service":"iam","region":"us-east-1","operation":"ListRoles","error":{"statusCode":503,"code":"ServiceUnavailable"}}]' \
    "$GR_URL/_localstack/chaos/faults")
expect_eq "localstack: rules accepted" "200" "$code"
out=$(aws2 iam list-roles 2>&1)
expect_contains "localstack: rule applied" "(ServiceUnavailable) when calling the ListRoles operation" "$out"
out=$(curl -s "$GR_URL/_localstack/chaos/faults")
expect_contains "localstack: GET shows the rule as given" '"operation":"ListRoles"' "$out"
curl -s -o /dev/null -X DELETE --data '[{"service":"iam","region":"us-east-1","operation":"ListRoles","error":{"statusCode":503,"code":"ServiceUnavailable"}}]' \
    "$GR_URL/_localstack/chaos/faults"
check "localstack: DELETE with the rule removes it" aws2 iam list-roles

finish
