#!/bin/bash
# test_stagehand_cli.sh - stagehand's command line: --help per command and
# the exit code table, --version, usage errors (exit 2), the region loop
# when -r is absent, a hung call cut by the per-call timeout (exit 5), and
# event deploy of s3 / iot / unsupported events on fixtures/projects/events
# (bucket notification holds the alias, the IoT rule targets the alias, an
# unsupported type makes the command exit 4), and endpoint deploy with a
# TOKEN authorizer and a MOCK endpoint.
. "$(dirname "$0")/lib.sh"

export CI=true STAGEHAND_POLL_MS=50
SH="$STAGEHAND_BIN"

# help, version, usage
OUT=$("$SH" --help)
expect_contains "help lists commands" "function rollback" "$OUT"
expect_contains "help has the exit codes" "4 partial: some items failed" "$OUT"
OUT=$("$SH" endpoint deploy --help)
expect_contains "per-command help" "usage: stagehand endpoint deploy" "$OUT"
expect_eq "--version" "stagehand 0.1.0" "$("$SH" --version)"
"$SH" frobnicate >/dev/null 2>&1
expect_eq "unknown command exits 2" 2 $?
"$SH" function deploy -a >/dev/null 2>&1
expect_eq "missing -s exits 2" 2 $?
"$SH" function deploy -s dev --bogus >/dev/null 2>&1
expect_eq "unknown option exits 2" 2 $?
(cd /tmp && "$SH" function deploy -a -s dev -r us-east-1 --endpoint-url http://127.0.0.1:9 >/dev/null 2>&1)
expect_eq "not a project exits 3" 3 $?

gr_start
P="$GR_TMP/mini"
cp -r "$FIXTURES_DIR/projects/mini" "$P"
run() { (cd "$P" && "$SH" "$@" --endpoint-url "$GR_URL" >"$GR_TMP/out" 2>"$GR_TMP/err"); }

# without -r a command runs for every region of the stage
run project init -c -s dev -r us-east-1
run project init -c -s dev -r us-west-2
expect_eq "second region added to an existing stage" 0 $?
run resources deploy -s dev
expect_eq "resources deploy without -r" 0 $?
expect_eq "stack in us-east-1" mini-dev-r "$(aws2 cloudformation describe-stacks --region us-east-1 --query 'Stacks[0].StackName' --output text)"
expect_eq "stack in us-west-2" mini-dev-r "$(aws2 cloudformation describe-stacks --region us-west-2 --query 'Stacks[0].StackName' --output text)"

# a call that never answers: cut by STAGEHAND_CALL_TIMEOUT, bounded retries, exit 5
curl -s -X POST -H 'Content-Type: application/json' \
    -d '{"id":"hang","service":"lambda","operation":"GetFunction","hang":true}' "$GR_URL/_greenroom/faults" >/dev/null
(cd "$P" && STAGEHAND_CALL_TIMEOUT=1 STAGEHAND_MAX_ATTEMPTS=2 "$SH" function deploy hello -s dev -r us-east-1 \
    --endpoint-url "$GR_URL" >/dev/null 2>"$GR_TMP/err")
expect_eq "hung call exits 5" 5 $?
expect_contains "timeout named" "lambda GetFunction" "$(cat "$GR_TMP/err")"
curl -s -X DELETE "$GR_URL/_greenroom/faults" >/dev/null

# events: s3, iot, and an unsupported type
E="$GR_TMP/events"
cp -r "$FIXTURES_DIR/projects/events" "$E"
erun() { (cd "$E" && "$SH" "$@" -s dev -r us-east-1 --endpoint-url "$GR_URL" >"$GR_TMP/out" 2>"$GR_TMP/err"); }
erun project init -c
erun resources deploy
expect_eq "events: resources" 0 $?
erun function deploy -a
expect_eq "events: function" 0 $?
erun event deploy -a
expect_eq "unsupported event type makes event deploy exit 4" 4 $?
expect_contains "unsupported named" "Event type carrier-pigeon is not supported" "$(cat "$GR_TMP/err")"
BUCKET=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["uploadBucketName"])' "$E/_meta/variables/s-variables-dev-useast1.json")
NOTIF=$(aws2 s3api get-bucket-notification-configuration --bucket "$BUCKET")
expect_contains "bucket notification targets the alias" "function:evts-worker:dev" "$NOTIF"
expect_contains "filter rule kept" '"Value": "in/"' "$NOTIF"
POLICY=$(aws2 lambda get-policy --function-name evts-worker --qualifier dev --query Policy --output text)
expect_contains "s3 statement id" "sEvents-evts-worker-uploads-dev" "$POLICY"
expect_contains "iot statement id" "sEvents-evts-worker-things-dev" "$POLICY"
RULE=$(curl -s --aws-sigv4 aws:amz:us-east-1:iot -u test:test "$GR_URL/rules/evts_things_dev")
expect_contains "iot rule targets the alias" "function:evts-worker:dev" "$RULE"
# re-run: the notification entry is replaced, not duplicated
erun event deploy -a
N=$(aws2 s3api get-bucket-notification-configuration --bucket "$BUCKET" --query 'length(LambdaFunctionConfigurations)' --output text)
expect_eq "one notification entry after a re-run" 1 "$N"

# endpoints: a TOKEN authorizer from the "auth" function, a CUSTOM-authorized AWS endpoint, a MOCK endpoint
erun endpoint deploy -a
expect_eq "endpoint deploy with an authorizer" 0 $?
EAPI=$(aws2 apigateway get-rest-apis --query 'items[?name==`evts`].id' --output text)
AUTH=$(aws2 apigateway get-authorizers --rest-api-id "$EAPI" --query 'items[0].[name,type,identitySource]' --output text)
expect_eq "authorizer created" "evts-auth	TOKEN	method.request.header.Authorization" "$AUTH"
AUTHID=$(aws2 apigateway get-authorizers --rest-api-id "$EAPI" --query 'items[0].id' --output text)
RID=$(aws2 apigateway get-resources --rest-api-id "$EAPI" --query 'items[?path==`/secure/{id}`].id' --output text)
M=$(aws2 apigateway get-method --rest-api-id "$EAPI" --resource-id "$RID" --http-method GET --query '[authorizationType,authorizerId]' --output text)
expect_eq "method uses the authorizer" "CUSTOM	$AUTHID" "$M"
POLICY=$(aws2 lambda get-policy --function-name evts-auth --qualifier dev --query Policy --output text)
expect_contains "authorizer statement id" "s_apig_auth_evts-auth" "$POLICY"
POLICY=$(aws2 lambda get-policy --function-name evts-worker --qualifier dev --query Policy --output text)
expect_contains "path parameter statement id" "s_apig_secure__id__GET" "$POLICY"
expect_contains "MOCK endpoint answers" '"mock": true' "$(curl -s -m 30 "$GR_URL/restapis/$EAPI/dev/_user_request_/mock")"
# a second run keeps one authorizer
erun endpoint deploy -a
expect_eq "second endpoint deploy" 0 $?
expect_eq "still one authorizer" 1 "$(aws2 apigateway get-authorizers --rest-api-id "$EAPI" --query 'length(items)' --output text)"

finish
