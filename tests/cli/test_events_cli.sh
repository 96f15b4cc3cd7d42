#!/usr/bin/env bash
# Event wiring with real clients: AWS CLI v2 (query protocol for SNS/SQS,
# JSON 1.1 for Events) round trips for sns publish, sqs send-message and
# events put-rule, the v0.5 `event deploy` wiring (permission, subscribe /
# put-targets on an alias) delivering to a real node function, and, when the
# pip AWS CLI v1 with botocore 1.4x is on PATH, SQS over the JSON protocol.
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
out=$(aws2 sns publish --topic-arn "arn:aws:sns:$REGION:$ACCT:missing" --message x 2>&1)
expect_contains "sns publish to a missing topic -> NotFound" "NotFound" "$out"

# ------------------------------------------- a real function, v0.5 style
work="$GR_TMP/fn"
mkdir -p "$work"
cp "$FIX/events/recorder.js" "$work/index.js"
(cd "$work" && python3 -c 'import zipfile; z=zipfile.ZipFile("fn.zip","w"); z.write("index.js"); z.close()')
aws2 iam create-role --role-name lambda-role --assume-role-policy-document \
    '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}' \
    >/dev/null 2>&1
check "lambda create-function" aws2 lambda create-function --function-name cd-example-notifications-books \
    --runtime nodejs20.x --handler index.handler --role "arn:aws:iam::$ACCT:role/lambda-role" \
    --zip-file "fileb://$work/fn.zip" --environment "Variables={OUT_FILE=$work/events.jsonl}" --publish
check "lambda create-alias dev" aws2 lambda create-alias --function-name cd-example-notifications-books \
    --name dev --function-version 1
alias_arn="arn:aws:lambda:$REGION:$ACCT:function:cd-example-notifications-books:dev"

# sns event: AddPermission (sns.amazonaws.com, no SourceArn) + Subscribe on the alias
check "lambda add-permission sns" aws2 lambda add-permission --function-name "$alias_arn" \
    --statement-id sEvents-book-change-dev --action lambda:InvokeFunction \
    --principal sns.amazonaws.com --qualifier dev
check "sns subscribe the alias" aws2 sns subscribe --topic-arn "$topic" --protocol lambda \
    --notification-endpoint "$alias_arn"
check "sns publish a book" aws2 sns publish --topic-arn "$topic" --message '{"type":"added","name":"Solaris"}'

# schedule event: PutRule, AddPermission (events.amazonaws.com), PutTargets
rule_arn=$(aws2 events put-rule --name cd-example-notifications-books-tick-dev \
    --schedule-expression 'rate(5 minutes)' --state ENABLED --query RuleArn --output text 2>&1)
expect_eq "events put-rule" "arn:aws:events:$REGION:$ACCT:rule/cd-example-notifications-books-tick-dev" "$rule_arn"
check "lambda add-permission events" aws2 lambda add-permission --function-name "$alias_arn" \
    --statement-id s_events_tick_dev --action lambda:InvokeFunction \
    --principal events.amazonaws.com --qualifier dev
out=$(aws2 events put-targets --rule cd-example-notifications-books-tick-dev \
    --targets "Id=cd-example-notifications-books,Arn=$alias_arn" 2>&1)
expect_contains "events put-targets" '"FailedEntryCount": 0' "$out"
out=$(aws2 events describe-rule --name cd-example-notifications-books-tick-dev 2>&1)
expect_contains "events describe-rule" '"ScheduleExpression": "rate(5 minutes)"' "$out"
out=$(aws2 events list-rules --name-prefix cd-example 2>&1)
expect_contains "events list-rules" '"State": "ENABLED"' "$out"
out=$(aws2 events list-targets-by-rule --rule cd-example-notifications-books-tick-dev 2>&1)
expect_contains "events list-targets-by-rule" "$alias_arn" "$out"
out=$(curl -s -X POST "$GR_URL/_greenroom/events/rules/cd-example-notifications-books-tick-dev/trigger")
expect_contains "trigger endpoint invokes the target" '"StatusCode":202' "$out"

got=""
for _ in $(seq 1 150); do
    if [ -f "$work/events.jsonl" ] && grep -q Solaris "$work/events.jsonl" && grep -q 'Scheduled Event' "$work/events.jsonl"; then
        got=yes
        break
    fi
    sleep 0.2
done
expect_eq "the function received the SNS notification and the scheduled event" "yes" "$got"
line=$(grep Solaris "$work/events.jsonl" 2>/dev/null | head -n1)
expect_contains "SNS event shape" '"EventSource":"aws:sns"' "$line"
expect_contains "delivered to the alias" '"arn":"arn:aws:lambda:us-east-1:000000000000:function:cd-example-notifications-books:dev"' "$line"

out=$(curl -s "$GR_URL/_greenroom/calls?since=0")
expect_contains "deliveries are journalled" '"operation":"Invoke"' "$out"

out=$(aws2 events put-rule --name bad --schedule-expression 'rate(1 minutes)' 2>&1)
expect_contains "events put-rule rejects a bad schedule" "ValidationException" "$out"
out=$(aws2 events delete-rule --name cd-example-notifications-books-tick-dev 2>&1)
expect_contains "events delete-rule refuses while targets exist" "has targets" "$out"
check "events remove-targets" aws2 events remove-targets --rule cd-example-notifications-books-tick-dev \
    --ids cd-example-notifications-books
check "events delete-rule" aws2 events delete-rule --name cd-example-notifications-books-tick-dev

finish
