#!/bin/bash
# test_deploy_corpus_features.sh - features of public Serverless v0.5 projects that broke
# stagehand, each reproduced by a small fixture of ours under fixtures/projects/:
#   default-resources  no s-resources-cf.json: v0.5's default template is deployed (role output)
#   custom-authorizer  CUSTOM endpoints + authorizer function in the atomic deploy, TTL "0" as a string
#   cors-plugin        "serverless-cors-plugin" + custom.cors: Allow-Origin on responses, OPTIONS preflights
#   long-schedule      a schedule rule name over 64 characters: still one rule per stage
#   (snippets)         s-resources-cf.json in a function/component folder: ignored as v0.5.6 does, with a warning
#   no-role-output     no IamRoleArnLambda output: deploy fails naming the missing role, rolled back
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/test_deploy_common.inc"

gr_start
txn_setup
FX="${FIXTURES_DIR:-$(dirname "$0")/../../fixtures}"

use() {
    P="$GR_TMP/$(basename "$1").$RANDOM"
    cp -a "$FX/$1" "$P"
    cd "$P" || exit 1
}
api_id() { aws2 apigateway get-rest-apis --region "${2:-us-east-1}" --query "items[?name==\`$1\`].id" --output text; }
get() { curl -s -m 30 "$GR_URL/restapis/$1/$2/_user_request_/$3"; }
stack_types() {
    aws2 cloudformation describe-stack-resources --stack-name "$1" --query 'StackResources[].ResourceType' \
        --output text | tr '\t' '\n' | sort | tr '\n' ' ' | sed 's/ $//'
}

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

# --- cors-plugin: both flows
hdr() { # METHOD PATH HEADER -> the header's value on the dev stage
    curl -s -i -m 30 -X "$1" "$GR_URL/restapis/$API/${4:-dev}/_user_request_/$2" | tr -d '\r' |
        sed -n "s/^$3: //Ip" | head -1
}
use projects/cors-plugin
check "cors-plugin: v0.5 flow (init, resources, function, endpoint deploy -a)" bash -c \
    "'$SH' project init -c -s dev -r us-east-1 --endpoint-url $GR_URL && '$SH' resources deploy -s dev -r us-east-1 --endpoint-url $GR_URL &&
     '$SH' function deploy -a -s dev -r us-east-1 --endpoint-url $GR_URL && '$SH' endpoint deploy -a -s dev -r us-east-1 --endpoint-url $GR_URL"
API=$(api_id cors-plugin)
expect_eq "cors-plugin: GET answers with Allow-Origin" "https://app.example" "$(hdr GET notes Access-Control-Allow-Origin)"
expect_eq "cors-plugin: preflight lists the path's methods" "GET,POST" "$(hdr OPTIONS notes Access-Control-Allow-Methods)"
expect_eq "cors-plugin: preflight Allow-Headers (comma-joined)" "Content-Type,X-Api-Key" \
    "$(hdr OPTIONS notes Access-Control-Allow-Headers)"
expect_eq "cors-plugin: the function's maxAge merged over the project's policy" "600" "$(hdr OPTIONS notes Access-Control-Max-Age)"
expect_eq "cors-plugin: a path with a parameter gets its own preflight" "GET" "$(hdr OPTIONS notes/9 Access-Control-Allow-Methods)"
expect_eq "cors-plugin: ... without the other function's maxAge" "" "$(hdr OPTIONS notes/9 Access-Control-Max-Age)"
expect_eq "cors-plugin: the preflight is a MOCK integration" "MOCK" \
    "$(aws2 apigateway get-integration --rest-api-id "$API" --http-method OPTIONS \
        --resource-id "$(aws2 apigateway get-resources --rest-api-id "$API" --query 'items[?path==`/notes`].id' --output text)" \
        --query type --output text)"
check "cors-plugin: atomic deploy of production" sh_ok deploy -s production -r us-east-1
expect_eq "cors-plugin: production preflight" "GET,POST" "$(hdr OPTIONS notes Access-Control-Allow-Methods production)"
expect_eq "cors-plugin: production GET Allow-Origin" "https://app.example" \
    "$(hdr GET notes/3 Access-Control-Allow-Origin production)"

# --- long-schedule: dev and production keep their own rules
use projects/long-schedule
check "long-schedule: deploy dev" sh_ok deploy -s dev -r us-east-1
check "long-schedule: deploy production" sh_ok deploy -s production -r us-east-1
RULES=$(aws2 events list-rules --name-prefix long-schedule-names --query 'Rules[].Name' --output text | tr '\t' '\n' | sort)
expect_eq "long-schedule: two rules" 2 "$(echo "$RULES" | grep -c .)"
for S in dev production; do
    R=$(echo "$RULES" | grep -- "-$S\$")
    expect_eq "long-schedule: the $S rule is 64 characters" 64 "${#R}"
    expect_contains "long-schedule: the $S rule targets the $S alias" "function:long-schedule-names-nightly-database-cleanup:$S" \
        "$(aws2 events list-targets-by-rule --rule "$R" --query 'Targets[0].Arn' --output text)"
done

# --- resource snippets below the root (v0.5.0's "s-resources-cf.json extensions")
use projects/long-schedule
echo '{"Resources": {"SnippetQueue": {"Type": "AWS::SQS::Queue"}}, "LambdaIamPolicyStatements": []}' \
    >jobs/s-resources-cf.json
check "snippets: project init warns that jobs/s-resources-cf.json is ignored" \
    sh_grep "warning: jobs/s-resources-cf.json is ignored" project init -c -s snip -r us-east-1
check "snippets: deploy" sh_ok deploy -s snip -r us-east-1
expect_eq "snippets: the stack has the project's template only" "AWS::IAM::Role" "$(stack_types long-schedule-names-snip-r)"

# --- no-role-output: the missing role is named, the stage rolled back
use projects/no-role-output
sh_run deploy -s dev -r us-east-1
expect_eq "no-role-output: exit 7 (rolled back)" 7 "$SH_RC"
check "no-role-output: the error names the missing role output" \
    grep -q "MissingRole: function fn: no Role: the stack has no IamRoleArnLambda output" "$GR_TMP/sh.out"
expect_eq "no-role-output: no function left" "" \
    "$(aws2 lambda list-functions --query 'Functions[?FunctionName==`no-role-output-fn`].FunctionName' --output text)"

txn_teardown
finish
