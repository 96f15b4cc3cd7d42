#!/bin/bash
# test_stagehand_cli.sh - stagehand's command line: --help per command and
# the exit code table, --version, usage errors (exit 2), the region loop
# when -r is absent, a hung call cut by the per-call timeout (exit 5), and
# event deploy of s3 / iot / unsupported events on fixtures/projects/events
# (bucket notification holds the alias, the IoT rule targets the alias, an
# unsupported type makes the command exit 4), and endpoint deploy with a
# TOKEN authorizer and a MOCK endpoint.
. "$(dirname "$0")/lib.sh"
# the system python starts in milliseconds (a pyenv shim takes a quarter second)
PY=$(command -v /usr/bin/python3 || command -v python3)

export CI=true STAGEHAND_POLL_MS=50

# signed requests with curl (the CLI takes a second or two per call)
sget() {
    curl -s --aws-sigv4 "aws:amz:${REG:-us-east-1}:$1" -u test:test "$GR_URL$2" |
        "$PY" -c "import json,sys; d=json.load(sys.stdin); print($3)"
}
stack_name() {
    curl -s --aws-sigv4 "aws:amz:$1:cloudformation" -u test:test -d 'Action=DescribeStacks&Version=2010-05-15' "$GR_URL/" |
        sed -n 's:.*<StackName>\([^<]*\)</StackName>.*:\1:p' | head -1
}
notif() {
    curl -s --aws-sigv4 aws:amz:us-east-1:s3 -u test:test \
        -H 'x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' "$GR_URL/$1?notification="
}
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
expect_eq "stack in us-east-1" mini-dev-r "$(stack_name us-east-1)"
expect_eq "stack in us-west-2" mini-dev-r "$(stack_name us-west-2)"

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
BUCKET=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["uploadBucketName"])' "$E/_meta/variables/s-variables-dev-useast1.json")
NOTIF=$(notif "$BUCKET")
expect_contains "bucket notification targets the alias" "function:evts-worker:dev" "$NOTIF"
expect_contains "filter rule kept" '<Value>in/</Value>' "$NOTIF"
POLICY=$(sget lambda '/2015-03-31/functions/evts-worker/policy?Qualifier=dev' 'd["Policy"]')
expect_contains "s3 statement id" "sEvents-evts-worker-uploads-dev" "$POLICY"
expect_contains "iot statement id" "sEvents-evts-worker-things-dev" "$POLICY"
RULE=$(curl -s --aws-sigv4 aws:amz:us-east-1:iot -u test:test "$GR_URL/rules/evts_things_dev")
expect_contains "iot rule targets the alias" "function:evts-worker:dev" "$RULE"
# re-run: the notification entry is replaced, not duplicated
erun event deploy -a
N=$(notif "$BUCKET" | grep -o '<CloudFunctionConfiguration>' | wc -l)
expect_eq "one notification entry after a re-run" 1 "$N"

# endpoints: a TOKEN authorizer from the "auth" function, a CUSTOM-authorized AWS endpoint, a MOCK endpoint
erun endpoint deploy -a
expect_eq "endpoint deploy with an authorizer" 0 $?
EAPI=$(sget apigateway /restapis '[i["id"] for i in d["item"] if i["name"] == "evts"][0]')
AUTH=$(sget apigateway "/restapis/$EAPI/authorizers" '" ".join([d["item"][0]["name"], d["item"][0]["type"], d["item"][0]["identitySource"]])')
expect_eq "authorizer created" "evts-auth TOKEN method.request.header.Authorization" "$AUTH"
AUTHID=$(sget apigateway "/restapis/$EAPI/authorizers" 'd["item"][0]["id"]')
RID=$(sget apigateway "/restapis/$EAPI/resources" '[i["id"] for i in d["item"] if i["path"] == "/secure/{id}"][0]')
M=$(sget apigateway "/restapis/$EAPI/resources/$RID/methods/GET" '" ".join([d["authorizationType"], d.get("authorizerId", "")])')
expect_eq "method uses the authorizer" "CUSTOM $AUTHID" "$M"
POLICY=$(sget lambda '/2015-03-31/functions/evts-auth/policy?Qualifier=dev' 'd["Policy"]')
expect_contains "authorizer statement id" "s_apig_auth_evts-auth" "$POLICY"
POLICY=$(sget lambda '/2015-03-31/functions/evts-worker/policy?Qualifier=dev' 'd["Policy"]')
expect_contains "path parameter statement id" "s_apig_secure__id__GET" "$POLICY"
expect_contains "MOCK endpoint answers" '"mock": true' "$(curl -s -m 30 "$GR_URL/restapis/$EAPI/dev/_user_request_/mock")"
# a second run keeps one authorizer
erun endpoint deploy -a
expect_eq "second endpoint deploy" 0 $?
expect_eq "still one authorizer" 1 "$(sget apigateway "/restapis/$EAPI/authorizers" 'len(d["item"])')"

finish
