#!/bin/bash
# test_deploy_corpus_features.sh - features of public Serverless v0.5 projects that broke
# stagehand, each reproduced by a small fixture of ours under fixtures/projects/ (more in
# test_deploy_corpus_plugins.sh):
#   default-resources  no s-resources-cf.json: v0.5's default template is deployed (role output)
#   custom-authorizer  CUSTOM endpoints + authorizer function in the atomic deploy, TTL "0" as a string
#   no-role-output     no IamRoleArnLambda output: deploy fails naming the missing role, rolled back
#   component-runtime  v0.5.0 components: a function without runtime takes its s-component.json's
#   v04-functions-map  a v0.4 s-function.json ("functions" map): refused as v0.4, nothing created
#   meta-variables     custom.meta from variables: used when defined, refused (no change) when not
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/test_deploy_common.inc"
. "$(dirname "$0")/test_deploy_corpus.inc"

# --- default-resources: the v0.5 flow, then the atomic deploy of another stage
use projects/default-resources
check "default-resources: project init" sh_ok project init -c -s dev -r us-east-1
check "default-resources: resources deploy (no s-resources-cf.json)" sh_ok resources deploy -s dev -r us-east-1
check "default-resources: says it deploys the default template" grep -q "default resources" "$GR_TMP/sh.out"
expect_eq "default-resources: the stack holds v0.5's default role and policy" "AWS::IAM::Policy AWS::IAM::Role" \
    "$(stack_types default-resources-dev-r)"
check "default-resources: the role output reached the region variables" \
    grep -q '"iamRoleArnLambda": *"arn:aws:iam::000000000000:role/' _meta/variables/s-variables-dev-useast1.json
check "default-resources: function deploy" sh_ok function deploy -a -s dev -r us-east-1
check "default-resources: endpoint deploy" sh_ok endpoint deploy -a -s dev -r us-east-1
expect_eq "default-resources: dev answers" '{"pong":true,"stage":"dev"}' "$(get "$(api_id default-resources)" dev ping)"
check "default-resources: atomic deploy of production" sh_ok deploy -s production -r us-east-1
expect_eq "default-resources: production stack" "AWS::IAM::Policy AWS::IAM::Role" \
    "$(stack_types default-resources-production-r)"
expect_eq "default-resources: production answers" '{"pong":true,"stage":"production"}' \
    "$(get "$(api_id default-resources)" production ping)"
check "default-resources: production's local variables name the existing API, as the pushed ones do" \
    grep -q '"apiGatewayApi": *"default-resources"' _meta/variables/s-variables-production-useast1.json
check "default-resources: diff of production: local and remote variables equal" sh_ok diff -s production -r us-east-1
check "default-resources: diff of production shows no variables change" bash -c "! grep -q 'remote -> local' '$GR_TMP/sh.out'"

# --- custom-authorizer: the atomic deploy creates the authorizer before the CUSTOM methods
use projects/custom-authorizer
check "custom-authorizer: atomic deploy of dev" sh_ok deploy -s dev -r us-east-1
API=$(api_id custom-authorizer)
expect_eq "custom-authorizer: one authorizer, TTL 0 (from the string \"0\")" "custom-authorizer-gate 0" \
    "$(aws2 apigateway get-authorizers --rest-api-id "$API" --query 'items[].[name,authorizerResultTtlInSeconds]' --output text | tr '\t' ' ')"
expect_eq "custom-authorizer: a good token reaches the function" '{"order":"7","user":"ann","stage":"dev"}' \
    "$(curl -s -m 30 -H 'Authorization: Bearer good-ann' "$GR_URL/restapis/$API/dev/_user_request_/orders/7")"
expect_eq "custom-authorizer: a bad token is refused" 401 \
    "$(curl -s -o /dev/null -w '%{http_code}' -m 30 -H 'Authorization: Bearer bad' "$GR_URL/restapis/$API/dev/_user_request_/orders/7")"
expect_eq "custom-authorizer: the next good token is asked again (no cache)" '{"order":null,"user":"bob","stage":"dev"}' \
    "$(curl -s -m 30 -X POST -H 'Authorization: Bearer good-bob' -H 'Content-Type: application/json' -d '{}' "$GR_URL/restapis/$API/dev/_user_request_/orders")"
expect_eq "custom-authorizer: the MOCK preflight answers with CORS headers" "*" \
    "$(curl -s -i -m 30 -X OPTIONS "$GR_URL/restapis/$API/dev/_user_request_/orders" | tr -d '\r' | sed -n 's/^[Aa]ccess-[Cc]ontrol-[Aa]llow-[Oo]rigin: //p')"
check "custom-authorizer: the gate permits API Gateway on its dev alias" \
    bash -c "'$AWS_CLI' --endpoint-url '$GR_URL' lambda get-policy --function-name custom-authorizer-gate --qualifier dev --output text | grep -q s_apig_auth_custom-authorizer-gate"
check "custom-authorizer: atomic deploy of production" sh_ok deploy -s production -r us-east-1
expect_eq "custom-authorizer: production answers a good token" '{"order":"8","user":"cy","stage":"production"}' \
    "$(curl -s -m 30 -H 'Authorization: Bearer good-cy' "$GR_URL/restapis/$API/production/_user_request_/orders/8")"

# --- no-role-output: the missing role is named, the stage rolled back
use projects/no-role-output
sh_run deploy -s dev -r us-east-1
expect_eq "no-role-output: exit 7 (rolled back)" 7 "$SH_RC"
check "no-role-output: the error names the missing role output" \
    grep -q "MissingRole: function fn: no Role: the stack has no IamRoleArnLambda output" "$GR_TMP/sh.out"
expect_eq "no-role-output: no function left" "" \
    "$(aws2 lambda list-functions --query 'Functions[?FunctionName==`no-role-output-fn`].FunctionName' --output text)"

# --- component-runtime: the function's runtime comes from its component
use projects/component-runtime
check "component-runtime: atomic deploy of dev" sh_ok deploy -s dev -r us-east-1
expect_eq "component-runtime: the function runs the component's runtime" nodejs4.3 \
    "$(aws2 lambda get-function-configuration --function-name component-runtime-hello --query Runtime --output text)"
expect_eq "component-runtime: dev answers" '{"hello":"ann","stage":"dev"}' \
    "$(curl -s -m 30 -X POST -H 'Content-Type: application/json' -d '{"who":"ann"}' "$GR_URL/restapis/$(api_id component-runtime)/dev/_user_request_/hello")"
rm greet/s-component.json
sh_run deploy -s production -r us-east-1
expect_eq "component-runtime: without the component: exit 3" 3 "$SH_RC"
check "component-runtime: the error says no component gives a runtime" \
    grep -q '"runtime" is missing (nodejs, nodejs4.3, python2.7) and no s-component.json above it gives one' "$GR_TMP/sh.out"

# --- v04-functions-map: a v0.4 project is named as such, before any call
use projects/v04-functions-map
sh_run deploy -s dev -r us-east-1
expect_eq "v04-functions-map: exit 3 (invalid project)" 3 "$SH_RC"
check "v04-functions-map: the error says the s-function.json is v0.4's" \
    grep -q 'back/notify/ping/s-function.json: a Serverless v0.4 s-function.json (a "functions" map' "$GR_TMP/sh.out"
expect_eq "v04-functions-map: no stack created" "" \
    "$(aws2 cloudformation list-stacks --query 'StackSummaries[?starts_with(StackName,`v04-functions-map`)].StackName' --output text)"

# --- meta-variables: custom.meta's bucket comes from the stage's variables
use projects/meta-variables
sh_run deploy -s dev -r us-east-1
expect_eq "meta-variables: undefined bucket variable: exit 3" 3 "$SH_RC"
check "meta-variables: the error names custom.meta and the stage" \
    grep -q 'custom.meta {name "${metaBucket}", region "${metaRegion}"} holds a variable stage dev does not define' "$GR_TMP/sh.out"
expect_eq "meta-variables: no stack created" "" \
    "$(aws2 cloudformation list-stacks --query 'StackSummaries[?starts_with(StackName,`meta-variables`)].StackName' --output text)"
python3 -c 'import json, sys; p = sys.argv[1]; d = json.load(open(p)); d.update(metaBucket="meta-variables-meta", metaRegion="us-east-1"); json.dump(d, open(p, "w"))' \
    _meta/variables/s-variables-common.json
check "meta-variables: atomic deploy of dev with the variables defined" sh_ok deploy -s dev -r us-east-1
check "meta-variables: the stage's variables are in the bucket the variables name" \
    bash -c "'$AWS_CLI' --endpoint-url '$GR_URL' s3 ls s3://meta-variables-meta/serverless/meta-variables/variables/ | grep -q s-variables-dev-useast1.json"
expect_eq "meta-variables: dev answers" '{"hello":"dev"}' "$(get "$(api_id meta-variables)" dev hello)"

txn_teardown
finish
