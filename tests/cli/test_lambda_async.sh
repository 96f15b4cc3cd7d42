#!/usr/bin/env bash
# AWS CLI v2 against greenroom: asynchronous invocation settings
# (put/get/update/list/delete-function-event-invoke-config), an Event invoke
# of a failing function retried and recorded on the OnFailure SQS queue in
# AWS's invocation record shape, and list-functions paging through opaque
# markers (--page-size 1 follows NextMarker).
. "$(dirname "$0")/lib.sh"
# retries after 60 ms and 120 ms instead of 1 and 2 minutes
export GREENROOM_LAMBDA_RETRY_SCALE=0.001
gr_start --ephemeral

FIX=${FIXTURES_DIR:-$(cd "$(dirname "$0")/../../fixtures" && pwd)}
ZIP="$GR_TMP/fn.zip"
gr_zipdir "$FIX/lambda/node" "$ZIP"

ROLE=arn:aws:iam::000000000000:role/lambda-role
aws2 iam create-role --role-name lambda-role --assume-role-policy-document '{}' >/dev/null 2>&1
for f in async-a async-b async-c; do
    aws2 lambda create-function --function-name "$f" --runtime nodejs20.x \
        --handler index.handled --role "$ROLE" --zip-file "fileb://$ZIP" >/dev/null 2>&1
done

out=$(aws2 lambda list-functions --page-size 1 --query 'Functions[].FunctionName' --output json 2>&1 |
    python3 -c 'import json, sys; print(" ".join(json.load(sys.stdin)))' 2>&1)
expect_eq "list-functions pages through opaque markers" "async-a async-b async-c" "$out"

qurl=$(aws2 sqs create-queue --queue-name async-dlq --query QueueUrl --output text 2>&1)
out=$(aws2 lambda put-function-event-invoke-config --function-name async-a \
    --maximum-retry-attempts 2 \
    --destination-config '{"OnFailure":{"Destination":"arn:aws:sqs:us-east-1:000000000000:async-dlq"}}' \
    --query '[FunctionArn,MaximumRetryAttempts,DestinationConfig.OnFailure.Destination]' \
    --output text 2>&1)
expect_eq "put-function-event-invoke-config" \
    "arn:aws:lambda:us-east-1:000000000000:function:async-a:\$LATEST	2	arn:aws:sqs:us-east-1:000000000000:async-dlq" "$out"

out=$(aws2 lambda update-function-event-invoke-config --function-name async-a \
    --maximum-event-age-in-seconds 3600 \
    --query '[MaximumRetryAttempts,MaximumEventAgeInSeconds]' --output text 2>&1)
expect_eq "update-function-event-invoke-config merges" "2	3600" "$out"

out=$(aws2 lambda get-function-event-invoke-config --function-name async-a \
    --query 'LastModified' --output text 2>&1)
expect_contains "get-function-event-invoke-config (LastModified parses as a date)" "20" "$out"

out=$(aws2 lambda list-function-event-invoke-configs --function-name async-a \
    --query 'length(FunctionEventInvokeConfigs)' --output text 2>&1)
expect_eq "list-function-event-invoke-configs" "1" "$out"

out=$(aws2 lambda put-function-event-invoke-config --function-name async-a \
    --maximum-retry-attempts 5 2>&1)
expect_contains "MaximumRetryAttempts above 2 is refused" "2" "$out"

out=$(aws2 lambda invoke --function-name async-a --invocation-type Event \
    --cli-binary-format raw-in-base64-out --payload '{"order":42}' "$GR_TMP/out.json" \
    --query StatusCode --output text 2>&1)
expect_eq "invoke --invocation-type Event" "202" "$out"

rec=""
for _ in $(seq 1 20); do
    rec=$(aws2 sqs receive-message --queue-url "$qurl" --wait-time-seconds 1 \
        --query 'Messages[0].Body' --output text 2>&1)
    [ -n "$rec" ] && [ "$rec" != "None" ] && break
done
out=$(printf '%s' "$rec" | python3 -c '
import json, sys
r = json.load(sys.stdin)
c = r["requestContext"]
print(c["condition"], c["approximateInvokeCount"], r["requestPayload"]["order"],
      r["responseContext"]["functionError"], r["responsePayload"]["errorMessage"])' 2>&1)
expect_eq "OnFailure record after two retries" "RetriesExhausted 3 42 Handled handled boom" "$out"

out=$(curl -fsS "$GR_URL/_greenroom/calls?since=0" | python3 -c '
import json, sys
calls = json.load(sys.stdin)["calls"]
print(sum(1 for c in calls if c["operation"] == "Invoke" and c["resource"] == "async-a:$LATEST"))' 2>&1)
expect_eq "both retries are in the journal" "2" "$out"

check "delete-function-event-invoke-config" \
    aws2 lambda delete-function-event-invoke-config --function-name async-a
out=$(aws2 lambda get-function-event-invoke-config --function-name async-a 2>&1)
expect_contains "gone after delete" "ResourceNotFoundException" "$out"

finish
