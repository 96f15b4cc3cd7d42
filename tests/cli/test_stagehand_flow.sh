#!/bin/bash
# test_stagehand_flow.sh - the six v0.5 steps of stagehand on
# fixtures/projects/mini against a real greenroom: the exact AWS call
# sequence of each command read back from greenroom's journal, the stage
# URL curled, an idempotent re-run (no new versions), a code change and
# `function rollback`, --output json.
. "$(dirname "$0")/lib.sh"
# the system python starts in milliseconds (a pyenv shim takes a quarter second)
PY=$(command -v /usr/bin/python3 || command -v python3)

gr_start
P="$GR_TMP/mini"
cp -r "$FIXTURES_DIR/projects/mini" "$P"
export CI=true STAGEHAND_POLL_MS=50
SH() { (cd "$P" && "$STAGEHAND_BIN" "$@" --endpoint-url "$GR_URL"); }
DEV="-s dev -r us-east-1"

# journal helpers: last seq, and "service operation resource status" lines after a seq
last() { curl -s "$GR_URL/_greenroom/calls?since=0" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["last"])'; }
calls() {
    curl -s "$GR_URL/_greenroom/calls?since=$1" | "$PY" -c '
import json, sys
for c in json.load(sys.stdin)["calls"]:
    if c["service"] == "_greenroom" or c["operation"] in ("Invoke",): continue
    print(c["service"], c["operation"], c["resource"] or "-", c["status"], c["error"])'
}
ops() { calls "$1" | awk '{print $1" "$2}'; }
# signed GET with curl (faster than the CLI): sget SERVICE PATH PYTHON-EXPR-ON-d
sget() {
    curl -s --aws-sigv4 "aws:amz:us-east-1:$1" -u test:test "$GR_URL$2" |
        "$PY" -c "import json,sys; d=json.load(sys.stdin); print($3)"
}
alias_version() { sget lambda "/2015-03-31/functions/$1/aliases/$2" 'd["FunctionVersion"]'; }
policy() { sget lambda "/2015-03-31/functions/$1/policy?Qualifier=$2" 'd["Policy"]'; }

# 1. project init -c: no AWS call
S=$(last)
check "project init -c" SH project init -c $DEV
expect_eq "project init makes no AWS call" "" "$(ops "$S")"
check "region variables written" test -f "$P/_meta/variables/s-variables-dev-useast1.json"
check "stage variables written" grep -q '"stage": "dev"' "$P/_meta/variables/s-variables-dev.json"
check "project init twice fails (stage exists)" bash -c "! (cd '$P' && '$STAGEHAND_BIN' project init -c $DEV --endpoint-url $GR_URL)"

# 2. meta sync on first use: GetObject -> NoSuchBucket -> CreateBucket -> PutObject
S=$(last)
check "meta sync (first use)" SH meta sync $DEV
expect_eq "meta sync call sequence" "s3 GetObject 404 NoSuchBucket
s3 CreateBucket 200 
s3 PutObject 200 " "$(calls "$S" | awk '{print $1" "$2" "$4" "$5}')"
expect_eq "meta object exists" dev "$(sget s3 /mini-meta-dev/serverless/mini/variables/s-variables-dev-useast1.json 'd["region"] and "dev"')"

# 3. resources deploy
S=$(last)
check "resources deploy" SH resources deploy $DEV
SEQ=$(ops "$S" | uniq)
expect_eq "resources deploy call sequence (then the variables are pushed)" "cloudformation DescribeStackResources
cloudformation CreateStack
cloudformation DescribeStacks
s3 GetObject
s3 PutObject" "$SEQ"
check "outputs stored as region variables" grep -q '"iamRoleArnLambda": "arn:aws:iam::' "$P/_meta/variables/s-variables-dev-useast1.json"
check "lowerFirst output names" grep -q '"notifyTopicName"' "$P/_meta/variables/s-variables-dev-useast1.json"
check "resourcesStackName stored" grep -q '"resourcesStackName": "mini-dev-r"' "$P/_meta/variables/s-variables-dev-useast1.json"
# again: no changes -> UpdateStack answers "No updates", outputs are still read
S=$(last)
check "resources deploy again (no updates)" SH resources deploy $DEV
expect_eq "no-update call sequence (outputs read, meta unchanged: no put)" "cloudformation DescribeStackResources
cloudformation UpdateStack
cloudformation DescribeStacks
s3 GetObject" "$(ops "$S" | uniq)"

# 4. meta push (what deploy.sh did with aws s3 cp), conditional
S=$(last)
check "meta sync --push" SH meta sync $DEV --push
expect_eq "push reads the ETag, then one conditional PutObject" "s3 GetObject
s3 PutObject" "$(ops "$S")"
REMOTE=$(sget s3 /mini-meta-dev/serverless/mini/variables/s-variables-dev-useast1.json 'json.dumps(d)')
expect_contains "remote has the stack outputs" "iamRoleArnLambda" "$REMOTE"

# 5. function deploy -a
S=$(last)
check "function deploy -a" SH function deploy -a $DEV
expect_eq "function deploy call set" "lambda CreateAlias mini-hello
lambda CreateAlias mini-notify
lambda CreateFunction -
lambda CreateFunction -
lambda GetAlias mini-hello
lambda GetAlias mini-notify
lambda GetFunction mini-hello
lambda GetFunction mini-notify" "$(calls "$S" | awk '{sub(/:.*/, "", $3); print $1" "$2" "$3}' | sort)"
# per function: GetFunction($LATEST) before CreateFunction before GetAlias before CreateAlias
expect_eq "hello sequence" "GetFunction GetAlias CreateAlias" \
    "$(calls "$S" | awk '$3 ~ /^mini-hello(:|$)/ {print $2}' | xargs)"
expect_eq "aliases move only after every CreateFunction" "CreateFunction CreateFunction GetAlias GetAlias" \
    "$(calls "$S" | awk '$2 == "CreateFunction" || $2 == "GetAlias" {print $2}' | xargs)"
ALIAS=$(alias_version mini-hello dev)
expect_eq "alias dev -> version 1" "1" "$ALIAS"
DESC=$(sget lambda /2015-03-31/functions/mini-hello/aliases/dev 'd["Description"]')
expect_eq "alias description as v0.5" "Project: mini Stage: dev" "$DESC"
HANDLER=$(sget lambda /2015-03-31/functions/mini-hello 'd["Configuration"]["Handler"]')
expect_eq "injected handler" "_serverless_handler.handler" "$HANDLER"

# 6. event deploy -a: sns then schedule, one at a time
S=$(last)
check "event deploy -a" SH event deploy -a $DEV
expect_eq "event deploy call sequence" "lambda RemovePermission
lambda AddPermission
sns Subscribe
events PutRule
lambda RemovePermission
lambda AddPermission
events PutTargets
s3 GetObject" "$(ops "$S")"
POLICY=$(policy mini-notify dev)
expect_contains "sns statement id" "sEvents-mini-notify-mini-notify-dev" "$POLICY"
expect_contains "schedule statement id" "s_events_mini-notify-tick-dev_dev" "$POLICY"
RULE=$(curl -s --aws-sigv4 aws:amz:us-east-1:events -u test:test -H 'X-Amz-Target: AWSEvents.DescribeRule' \
    -H 'Content-Type: application/x-amz-json-1.1' -d '{"Name":"mini-notify-tick-dev"}' "$GR_URL/" |
    "$PY" -c 'import json,sys; print(json.load(sys.stdin)["State"])')
expect_eq "schedule rule disabled as configured" "DISABLED" "$RULE"

# 7. endpoint deploy -a: exact sequence for the one endpoint
S=$(last)
check "endpoint deploy -a" SH endpoint deploy -a $DEV
expect_eq "endpoint deploy call sequence" "apigateway GetRestApis
apigateway CreateRestApi
lambda GetFunction
apigateway GetResources
apigateway CreateResource
apigateway GetMethod
apigateway PutMethod
apigateway PutIntegration
apigateway PutMethodResponse
apigateway PutIntegrationResponse
apigateway PutMethodResponse
apigateway PutIntegrationResponse
lambda GetPolicy
lambda AddPermission
apigateway CreateDeployment
s3 GetObject
s3 PutObject" "$(ops "$S")"
API=$(sget apigateway /restapis '[i["id"] for i in d["item"] if i["name"] == "mini"][0]')
check "apiGatewayApi variable" grep -q '"apiGatewayApi": "mini"' "$P/_meta/variables/s-variables-dev-useast1.json"
VARS=$(sget apigateway "/restapis/$API/stages/dev" 'd["variables"]["functionAlias"]')
expect_eq "stage variable functionAlias" "dev" "$VARS"
POLICY=$(policy mini-hello dev)
expect_contains "endpoint statement id" "s_apig_hello_GET" "$POLICY"
BODY=$(curl -s -m 30 "$GR_URL/restapis/$API/dev/_user_request_/hello")
expect_contains "stage URL answers with the dev environment" '"greeting":"hello from dev"' "$BODY"
expect_contains "request template passed the method" '"method":"GET"' "$BODY"

# 8. idempotent re-run: no new version, no code upload
S=$(last)
check "function deploy again" SH function deploy -a $DEV
OPS=$(ops "$S")
case "$OPS" in
    *UpdateFunctionCode*|*CreateFunction*|*PublishVersion*|*UpdateAlias*) GR_FAIL=$((GR_FAIL + 1)); echo "FAIL - re-run changed things: $OPS" ;;
    *) GR_PASS=$((GR_PASS + 1)); echo "ok   - re-run publishes nothing" ;;
esac
N=$(sget lambda /2015-03-31/functions/mini-hello/versions 'len(d["Versions"])')
expect_eq "still \$LATEST + 1 version" "2" "$N"

# 9. change the code: version 2, then function rollback -v 1
sed -i "s/message: 'hello'/message: 'hello v2'/" "$P/src/hello/handler.js"
S=$(last)
check "function deploy after a change" SH function deploy hello $DEV
expect_eq "changed code: update then alias move" "lambda GetFunction
lambda ListVersionsByFunction
lambda UpdateFunctionConfiguration
lambda UpdateFunctionCode
lambda GetAlias
lambda UpdateAlias" "$(ops "$S")"
ALIAS=$(alias_version mini-hello dev)
expect_eq "alias dev -> version 2" "2" "$ALIAS"
BODY=$(curl -s -m 30 "$GR_URL/restapis/$API/dev/_user_request_/hello")
expect_contains "stage URL serves v2" "hello v2" "$BODY"
S=$(last)
check "function rollback -v 1" SH function rollback -v 1 hello $DEV
expect_eq "rollback call sequence" "lambda ListVersionsByFunction
lambda UpdateAlias" "$(ops "$S")"
ALIAS=$(alias_version mini-hello dev)
expect_eq "alias dev back on version 1" "1" "$ALIAS"
BODY=$(curl -s -m 30 "$GR_URL/restapis/$API/dev/_user_request_/hello")
expect_contains "stage URL serves v1 again" '"message":"hello"' "$BODY"
check "rollback to a missing version fails" bash -c "! (cd '$P' && '$STAGEHAND_BIN' function rollback -v 99 hello $DEV --endpoint-url $GR_URL)"
check "rollback needs names or -a" bash -c "! (cd '$P' && '$STAGEHAND_BIN' function rollback $DEV --endpoint-url $GR_URL)"

# -e: a literal alias in the integration URI instead of the stage variable
RID=$(sget apigateway "/restapis/$API/resources" '[i["id"] for i in d["item"] if i["path"] == "/hello"][0]')
URI() { sget apigateway "/restapis/$API/resources/$RID/methods/GET/integration" 'd["uri"]'; }
expect_contains "integration URI uses the stage variable" 'function:mini-hello:${stageVariables.functionAlias}/invocations' "$(URI)"
check "endpoint deploy -e" SH endpoint deploy -a -e $DEV
expect_contains "-e puts the literal alias" "function:mini-hello:dev/invocations" "$(URI)"
check "endpoint deploy (back to the stage variable)" SH endpoint deploy -a $DEV

# 10. --output json: one document with the stage URL
JSON=$(SH endpoint deploy -a $DEV --output json 2>/dev/null)
URL=$(printf '%s' "$JSON" | "$PY" -c 'import json,sys; d=json.load(sys.stdin); print(d["exitCode"], d["urls"][0]["url"])')
expect_eq "json summary" "0 $GR_URL/restapis/$API/dev/_user_request_" "$URL"

# 11. meta sync when remote exists: remote overwrites local
"$PY" - "$P/_meta/variables/s-variables-dev-useast1.json" <<'EOF'
import json, sys
p = sys.argv[1]; d = json.load(open(p)); d["localOnly"] = "x"; json.dump(d, open(p, "w"))
EOF
S=$(last)
check "meta sync pulls" SH meta sync $DEV
expect_eq "pull is one GetObject" "s3 GetObject" "$(ops "$S")"
check "remote overwrote local" bash -c "! grep -q localOnly '$P/_meta/variables/s-variables-dev-useast1.json'"

finish
