#!/usr/bin/env bash
# The v0.5 `event deploy` wiring with AWS CLI v2: lambda add-permission,
# sns subscribe and events put-rule/put-targets on an alias, delivering an
# SNS notification and a scheduled event (fired by the trigger endpoint) to a
# real node function; events rule round trips.
. "$(dirname "$0")/lib.sh"
gr_start

FIX=${FIXTURES_DIR:-$(cd "$(dirname "$0")/../../fixtures" && pwd)}
ACCT=000000000000
REGION=us-east-1

topic=$(aws2 sns create-topic --name cd-example-book-change --query TopicArn --output text 2>&1)
expect_eq "sns create-topic" "arn:aws:sns:$REGION:$ACCT:cd-example-book-change" "$topic"

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

# iot event (stored only): GetTopicRule fails, so CreateTopicRule; then Replace
out=$(aws2 iot get-topic-rule --rule-name cd_example_books_dev 2>&1)
expect_contains "iot get-topic-rule on a missing rule" "UnauthorizedException" "$out"
payload="{\"sql\":\"SELECT * FROM 'books'\",\"actions\":[{\"lambda\":{\"functionArn\":\"$alias_arn\"}}]}"
check "iot create-topic-rule" aws2 iot create-topic-rule --rule-name cd_example_books_dev \
    --topic-rule-payload "$payload"
check "iot replace-topic-rule" aws2 iot replace-topic-rule --rule-name cd_example_books_dev \
    --topic-rule-payload "$payload"
out=$(aws2 iot get-topic-rule --rule-name cd_example_books_dev 2>&1)
expect_contains "iot get-topic-rule" "$alias_arn" "$out"
check "iot delete-topic-rule" aws2 iot delete-topic-rule --rule-name cd_example_books_dev

out=$(aws2 events put-rule --name bad --schedule-expression 'rate(1 minutes)' 2>&1)
expect_contains "events put-rule rejects a bad schedule" "ValidationException" "$out"
out=$(aws2 events delete-rule --name cd-example-notifications-books-tick-dev 2>&1)
expect_contains "events delete-rule refuses while targets exist" "has targets" "$out"
check "events remove-targets" aws2 events remove-targets --rule cd-example-notifications-books-tick-dev \
    --ids cd-example-notifications-books
check "events delete-rule" aws2 events delete-rule --name cd-example-notifications-books-tick-dev

finish
