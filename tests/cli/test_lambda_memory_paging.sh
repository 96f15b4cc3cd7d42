#!/usr/bin/env bash
# AWS CLI v2 against greenroom: Lambda's limits as a real client sees them.
# MemorySize: a python function touching more than its memory answers
# FunctionError Unhandled with Runtime.OutOfMemory "signal: killed", within
# it answers; list-aliases and list-event-source-mappings page through
# opaque keyset markers (--page-size 1 follows NextMarker) and a bad
# --marker is InvalidParameterValueException; Event invokes acknowledged
# before a clean stop run after the restart (the queue is in the state dir).
. "$(dirname "$0")/lib.sh"
gr_start

FIX=${FIXTURES_DIR:-$(cd "$(dirname "$0")/../../fixtures" && pwd)}
gr_zipdir "$FIX/lambda/python" "$GR_TMP/py.zip"
gr_zipdir "$FIX/lambda/node" "$GR_TMP/node.zip"

# set-up calls through curl --aws-sigv4 (quicker than the CLI); what is
# checked goes through the CLI
lcurl() {
    curl -s -o /dev/null -w '%{http_code}' --aws-sigv4 aws:amz:us-east-1:lambda --user test:test \
        -X "$1" -H 'Content-Type: application/json' ${3:+--data "$3"} "$GR_URL$2"
}
ROLE=arn:aws:iam::000000000000:role/lambda-role
aws2 iam create-role --role-name lambda-role --assume-role-policy-document '{}' >/dev/null 2>&1
aws2 lambda create-function --function-name mem --runtime python3.12 --handler app.alloc \
    --memory-size 128 --timeout 30 --role "$ROLE" --zip-file "fileb://$GR_TMP/py.zip" >/dev/null 2>&1

# --- MemorySize
out=$(aws2 lambda invoke --function-name mem --cli-binary-format raw-in-base64-out \
    --payload '{"mb":400}' --query FunctionError --output text "$GR_TMP/oom.json" 2>&1)
expect_eq "past MemorySize: FunctionError" "Unhandled" "$out"
out=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["errorType"]); print(d["errorMessage"].split(" Error: ")[1])' "$GR_TMP/oom.json" 2>&1)
expect_eq "past MemorySize: the error AWS gives" "Runtime.OutOfMemory
Runtime exited with error: signal: killed" "$out"
out=$(aws2 lambda invoke --function-name mem --cli-binary-format raw-in-base64-out \
    --payload '{"mb":40}' --query StatusCode --output text "$GR_TMP/ok.json" 2>&1; cat "$GR_TMP/ok.json")
expect_eq "within MemorySize: answers" '200
{"allocated": 40}' "$out"

# --- paging with opaque markers
lcurl POST /2015-03-31/functions/mem/versions '{}' >/dev/null
for a in a1 a2 a3; do
    lcurl POST /2015-03-31/functions/mem/aliases "{\"Name\":\"$a\",\"FunctionVersion\":\"1\"}" >/dev/null
done
out=$(aws2 lambda list-aliases --function-name mem --page-size 1 --query 'Aliases[].Name' 2>&1 |
    python3 -c 'import json, sys; print(" ".join(json.load(sys.stdin)))' 2>&1)
expect_eq "list-aliases pages through opaque markers" "a1 a2 a3" "$out"
out=$(aws2 lambda list-aliases --function-name mem --max-items 2 --query NextToken --output text 2>&1)
marker=$(python3 -c 'import base64,json,sys; print(json.loads(base64.b64decode(sys.argv[1]))["Marker"])' "$out" 2>&1)
case "$marker" in
    *[!0-9]*) expect_eq "NextMarker is opaque (not an offset)" "opaque" "opaque" ;;
    *) expect_eq "NextMarker is opaque (not an offset)" "opaque" "$marker" ;;
esac
out=$(aws2 lambda list-aliases --function-name mem --marker 2 2>&1)
expect_contains "a bad marker is refused" "InvalidParameterValueException" "$out"
for i in 1 2 3; do
    lcurl POST /2015-03-31/event-source-mappings \
        "{\"FunctionName\":\"mem\",\"EventSourceArn\":\"arn:aws:sqs:us-east-1:000000000000:q$i\"}" >/dev/null
done
out=$(aws2 lambda list-event-source-mappings --function-name mem --page-size 1 \
    --query 'EventSourceMappings[].UUID' 2>&1 |
    python3 -c 'import json, sys; print(len(set(json.load(sys.stdin))))' 2>&1)
expect_eq "list-event-source-mappings pages through opaque markers" "3" "$out"

# --- the async queue survives a clean stop
aws2 lambda create-function --function-name later --runtime nodejs20.x --handler index.handler \
    --role "$ROLE" --zip-file "fileb://$GR_TMP/node.zip" >/dev/null 2>&1
lcurl PUT /2017-10-31/functions/later/concurrency '{"ReservedConcurrentExecutions":0}' >/dev/null
n=0
for i in 1 2 3; do
    s=$(aws2 lambda invoke --function-name later --invocation-type Event \
        --cli-binary-format raw-in-base64-out --payload "{\"mark\":\"k$i\"}" \
        --query StatusCode --output text "$GR_TMP/ev.json" 2>&1)
    [ "$s" = 202 ] && n=$((n + 1))
done
expect_eq "Event invokes acknowledged" 3 "$n"
STATE=$GR_STATE
gr_stop
# the same state dir again
"$GREENROOM_BIN" --port 0 --state-dir "$STATE" >"$GR_TMP/port2" 2>>"$GR_TMP/greenroom.log" &
GR_PID=$!
GR_PIDS="$GR_PIDS $GR_PID"
i=0
while [ ! -s "$GR_TMP/port2" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
GR_URL="http://127.0.0.1:$(head -n1 "$GR_TMP/port2")"
lcurl DELETE /2017-10-31/functions/later/concurrency >/dev/null
LOG="$STATE/lambda/logs/000000000000-us-east-1-later.log"
seen=0
for i in $(seq 1 100); do
    seen=$(grep -o '"mark":"k[0-9]"' "$LOG" 2>/dev/null | sort -u | wc -l)
    [ "$seen" -ge 3 ] && break
    sleep 0.1
done
expect_eq "acknowledged events ran after the restart" 3 "$seen"

finish
