#!/usr/bin/env bash
# S3 event notifications to an SQS queue and an SNS topic (-> SQS): the
# AWS CLI v2 configures them, a PutObject delivers AWS's record shape.
. "$(dirname "$0")/lib.sh"
gr_start --ephemeral

aws2 s3 mb s3://notify-bkt >/dev/null
Q=$(aws2 sqs create-queue --queue-name s3-events --query QueueUrl --output text)
QARN=$(aws2 sqs get-queue-attributes --queue-url "$Q" --attribute-names QueueArn --query Attributes.QueueArn --output text)
Q2=$(aws2 sqs create-queue --queue-name s3-topic-events --query QueueUrl --output text)
Q2ARN=$(aws2 sqs get-queue-attributes --queue-url "$Q2" --attribute-names QueueArn --query Attributes.QueueArn --output text)
TARN=$(aws2 sns create-topic --name s3-topic --query TopicArn --output text)
aws2 sns subscribe --topic-arn "$TARN" --protocol sqs --notification-endpoint "$Q2ARN" >/dev/null

cfg=$(printf '{"QueueConfigurations":[{"QueueArn":"%s","Events":["s3:ObjectCreated:*"],"Filter":{"Key":{"FilterRules":[{"Name":"prefix","Value":"in/"}]}}}],"TopicConfigurations":[{"TopicArn":"%s","Events":["s3:ObjectRemoved:*"]}]}' "$QARN" "$TARN")
check "put-bucket-notification-configuration with a queue and a topic" \
    aws2 s3api put-bucket-notification-configuration --bucket notify-bkt --notification-configuration "$cfg"

echo hello >"$GR_TMP/f.txt"
aws2 s3 cp "$GR_TMP/f.txt" s3://notify-bkt/out/skipped.txt >/dev/null
aws2 s3 cp "$GR_TMP/f.txt" s3://notify-bkt/in/a.txt >/dev/null
body=""
for _ in $(seq 1 50); do
    body=$(aws2 sqs receive-message --queue-url "$Q" --query 'Messages[0].Body' --output text)
    [ "$body" != "None" ] && [ -n "$body" ] && break
    sleep 0.1
done
expect_contains "the queue got the ObjectCreated record" '"eventName":"ObjectCreated:Put"' "$body"
expect_contains "for the key under the prefix" '"key":"in/a.txt"' "$body"
n=$(aws2 sqs get-queue-attributes --queue-url "$Q" --attribute-names ApproximateNumberOfMessages \
    --query Attributes.ApproximateNumberOfMessages --output text)
expect_eq "the key outside the prefix sent nothing" "0" "$n"

aws2 s3 rm s3://notify-bkt/in/a.txt >/dev/null
body=""
for _ in $(seq 1 50); do
    body=$(aws2 sqs receive-message --queue-url "$Q2" --query 'Messages[0].Body' --output text)
    [ "$body" != "None" ] && [ -n "$body" ] && break
    sleep 0.1
done
expect_contains "the topic published the ObjectRemoved record (SNS envelope)" 'ObjectRemoved:Delete' "$body"
expect_contains "with S3's subject" 'Amazon S3 Notification' "$body"
finish
