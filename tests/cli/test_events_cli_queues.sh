#!/usr/bin/env bash
# SQS and SNS with real clients: AWS CLI v2 (query protocol) round trips for
# sqs send-message/receive-message and sns publish into a queue, and, when
# the pip AWS CLI v1 with botocore 1.4x is on PATH, SQS over JSON 1.0.
. "$(dirname "$0")/lib.sh"
gr_start

FIX=${FIXTURES_DIR:-$(cd "$(dirname "$0")/../../fixtures" && pwd)}
ACCT=000000000000
REGION=us-east-1

# ---------------------------------------------------------------- SQS
url=$(aws2 sqs create-queue --queue-name cli-q --query QueueUrl --output text 2>&1)
expect_eq "sqs create-queue answers our URL" "$GR_URL/$ACCT/cli-q" "$url"

out=$(aws2 sqs send-message --queue-url "$url" --message-body 'hello from cli' \
    --message-attributes '{"kind":{"DataType":"String","StringValue":"greeting"}}' 2>&1)
expect_contains "sqs send-message (MD5s checked by the CLI)" '"MD5OfMessageBody": "' "$out"

out=$(aws2 sqs receive-message --queue-url "$url" --message-attribute-names All \
    --attribute-names All 2>&1)
expect_contains "sqs receive-message gets the body" '"Body": "hello from cli"' "$out"
expect_contains "sqs receive-message gets the attribute" '"StringValue": "greeting"' "$out"
rh=$(printf '%s' "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Messages"][0]["ReceiptHandle"])')
check "sqs delete-message" aws2 sqs delete-message --queue-url "$url" --receipt-handle "$rh"

out=$(aws2 sqs send-message-batch --queue-url "$url" \
    --entries Id=a,MessageBody=one Id=b,MessageBody=two 2>&1)
expect_contains "sqs send-message-batch" '"Id": "b"' "$out"
n=$(aws2 sqs get-queue-attributes --queue-url "$url" --attribute-names ApproximateNumberOfMessages \
    --query Attributes.ApproximateNumberOfMessages --output text 2>&1)
expect_eq "sqs get-queue-attributes counts the batch" "2" "$n"
check "sqs purge-queue" aws2 sqs purge-queue --queue-url "$url"
out=$(aws2 sqs get-queue-url --queue-name missing 2>&1)
expect_contains "sqs missing queue error code" "AWS.SimpleQueueService.NonExistentQueue" "$out"

if command -v aws >/dev/null 2>&1 && aws --version 2>&1 | grep -q 'botocore/1\.\(3[4-9]\|4\)'; then
    aws1() { aws --endpoint-url "$GR_URL" --output json "$@"; }
    out=$(aws1 sqs send-message --queue-url "$url" --message-body 'json protocol' 2>&1)
    expect_contains "botocore JSON protocol: send-message" '"MessageId"' "$out"
    out=$(aws1 sqs receive-message --queue-url "$url" --wait-time-seconds 2 2>&1)
    expect_contains "botocore JSON protocol: receive-message" '"Body": "json protocol"' "$out"
    out=$(aws1 sqs get-queue-url --queue-name missing 2>&1)
    expect_contains "botocore JSON protocol: error code via x-amzn-query-error" \
        "AWS.SimpleQueueService.NonExistentQueue" "$out"
fi

# ---------------------------------------------------------------- SNS
topic=$(aws2 sns create-topic --name cli-topic --query TopicArn --output text 2>&1)
expect_eq "sns create-topic" "arn:aws:sns:$REGION:$ACCT:cli-topic" "$topic"
sub=$(aws2 sns subscribe --topic-arn "$topic" --protocol sqs \
    --notification-endpoint "arn:aws:sqs:$REGION:$ACCT:cli-q" --query SubscriptionArn --output text 2>&1)
expect_contains "sns subscribe sqs" "arn:aws:sns:$REGION:$ACCT:cli-topic:" "$sub"
out=$(aws2 sns publish --topic-arn "$topic" --subject hi --message '{"type":"added","name":"Dune"}' 2>&1)
expect_contains "sns publish" '"MessageId"' "$out"
out=$(aws2 sqs receive-message --queue-url "$url" --wait-time-seconds 10 --query 'Messages[0].Body' --output text 2>&1)
expect_contains "the queue gets the SNS envelope" '"Type":"Notification"' "$out"
expect_contains "the envelope carries the message" 'Dune' "$out"
out=$(aws2 sns list-subscriptions-by-topic --topic-arn "$topic" 2>&1)
expect_contains "sns list-subscriptions-by-topic" '"Protocol": "sqs"' "$out"
check "sns unsubscribe" aws2 sns unsubscribe --subscription-arn "$sub"
check "sns delete-topic" aws2 sns delete-topic --topic-arn "$topic"
out=$(aws2 sns publish --topic-arn "arn:aws:sns:$REGION:$ACCT:missing" --message x 2>&1)
expect_contains "sns publish to a missing topic -> NotFound" "NotFound" "$out"

finish
