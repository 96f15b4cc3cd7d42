#!/usr/bin/env bash
# test_apigateway_cli.sh - API Gateway round trip with the AWS CLI v2:
# create-rest-api, get-resources, create-resource, put-method,
# put-integration (AWS_PROXY, stage-variable URI), create-deployment with
# variables, update-stage patch; then curl on the stage URL (all three URL
# forms), the stage variable flipping the alias, a deleted stage.
# Independent CLI chains run in parallel to keep the wall time down.
. "$(dirname "$0")/lib.sh"
FIXTURES_DIR=${FIXTURES_DIR:-$(cd "$(dirname "$0")/../../fixtures" && pwd)}
gr_start --auth on

# a Lambda with two versions (VER=one, VER=two) and aliases dev -> 1, prod -> 2
lambda_setup() {
    set -e
    python3 -c 'import zipfile,sys; z=zipfile.ZipFile(sys.argv[2],"w"); z.write(sys.argv[1],"index.js"); z.close()' \
        "$FIXTURES_DIR/apigateway/handler.js" "$GR_TMP/fn.zip"
    aws2 iam create-role --role-name fnrole \
        --assume-role-policy-document '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}'
    aws2 lambda create-function --function-name clifn --runtime nodejs20.x \
        --role arn:aws:iam::000000000000:role/fnrole --handler index.handler \
        --zip-file "fileb://$GR_TMP/fn.zip" --environment 'Variables={VER=one}' --publish
    aws2 lambda update-function-configuration --function-name clifn --environment 'Variables={VER=two}'
    aws2 lambda publish-version --function-name clifn
    aws2 lambda create-alias --function-name clifn --name dev --function-version 1
    aws2 lambda create-alias --function-name clifn --name prod --function-version 2
}
(lambda_setup >"$GR_TMP/lambda.out" 2>&1; echo $? >"$GR_TMP/lambda.rc") &
LAMBDA_PID=$!

API=$(aws2 apigateway create-rest-api --name cliapi --query id --output text)
expect_eq "create-rest-api id is 10 lower-case alnum" 1 "$(echo "$API" | grep -c '^[a-z0-9]\{10\}$')"
RESOURCES=$(aws2 apigateway get-resources --rest-api-id "$API")
ROOT=$(echo "$RESOURCES" | python3 -c 'import json,sys; i=json.load(sys.stdin)["items"]; print(i[0]["id"] if i[0]["path"] == "/" else "")')
expect_eq "get-resources lists the root" 10 ${#ROOT}
RES_JSON=$(aws2 apigateway create-resource --rest-api-id "$API" --parent-id "$ROOT" --path-part '{proxy+}')
RES=$(echo "$RES_JSON" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
expect_contains "create-resource path" '"path": "/{proxy+}"' "$RES_JSON"
check "put-method" aws2 apigateway put-method --rest-api-id "$API" --resource-id "$RES" \
    --http-method ANY --authorization-type NONE
URI='arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:000000000000:function:clifn:${stageVariables.functionAlias}/invocations'
INT_JSON=$(aws2 apigateway put-integration --rest-api-id "$API" --resource-id "$RES" \
    --http-method ANY --type AWS_PROXY --integration-http-method POST --uri "$URI")
expect_contains "put-integration keeps the literal stage variable" \
    'function:clifn:${stageVariables.functionAlias}/invocations' "$INT_JSON"
DEP=$(aws2 apigateway create-deployment --rest-api-id "$API" --stage-name dev \
    --variables functionAlias=dev --query id --output text)
expect_eq "create-deployment id length" 10 ${#DEP}

wait $LAMBDA_PID
expect_eq "lambda set-up (role, function, 2 versions, 2 aliases)" 0 "$(cat "$GR_TMP/lambda.rc")"
[ "$(cat "$GR_TMP/lambda.rc")" = 0 ] || cat "$GR_TMP/lambda.out"
P=""
for A in dev prod; do
    aws2 lambda add-permission --function-name clifn --qualifier $A \
        --statement-id apigw --action lambda:InvokeFunction --principal apigateway.amazonaws.com \
        --source-arn "arn:aws:execute-api:us-east-1:000000000000:$API/*/*/*" >"$GR_TMP/perm.$A" 2>&1 &
    P="$P $!"
done
for p in $P; do
    wait "$p"
    expect_eq "add-permission" 0 $?
done

v_of() { curl -s "$@" | python3 -c 'import json,sys; print(json.load(sys.stdin).get("v"))' 2>/dev/null; }
expect_eq "curl /_aws/execute-api" one "$(v_of "$GR_URL/_aws/execute-api/$API/dev/hello/world")"
expect_eq "curl host form" one "$(v_of -H "Host: $API.execute-api.localhost:$GR_PORT" "$GR_URL/dev/hello")"
expect_eq "curl _user_request_" one "$(v_of "$GR_URL/restapis/$API/dev/_user_request_/hello")"
BODY=$(curl -s "$GR_URL/_aws/execute-api/$API/dev/a/b?q=1")
expect_contains "proxy path" '"path":"/a/b"' "$BODY"
expect_contains "proxy query" '"q":{"q":"1"}' "$BODY"

STAGE_JSON=$(aws2 apigateway update-stage --rest-api-id "$API" --stage-name dev \
    --patch-operations op=replace,path=/variables/functionAlias,value=prod)
expect_contains "update-stage patch" '"functionAlias": "prod"' "$STAGE_JSON"
expect_eq "stage variable flip serves the prod alias" two "$(v_of "$GR_URL/_aws/execute-api/$API/dev/x")"

expect_eq "unknown stage" '{"message":"Forbidden"}' "$(curl -s "$GR_URL/_aws/execute-api/$API/prod/x")"
expect_eq "no route" '{"message":"Missing Authentication Token"}' \
    "$(curl -s "$GR_URL/_aws/execute-api/$API/dev/")"
check "delete-stage" aws2 apigateway delete-stage --rest-api-id "$API" --stage-name dev
expect_eq "deleted stage" 403 "$(curl -s -o /dev/null -w '%{http_code}' "$GR_URL/_aws/execute-api/$API/dev/x")"
finish
