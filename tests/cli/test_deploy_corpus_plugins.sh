#!/bin/bash
# test_deploy_corpus_plugins.sh - more features of public Serverless v0.5 projects that broke
# stagehand (see test_deploy_corpus_features.sh), fixtures under fixtures/projects/:
#   cors-plugin        "serverless-cors-plugin" + custom.cors: Allow-Origin on responses, OPTIONS preflights
#   long-schedule      a schedule rule name over 64 characters: still one rule per stage
#   (snippets)         s-resources-cf.json in a function/component folder: ignored as v0.5.6 does, with a warning
#   (warnings)         deploy of a new stage reports the variables still undefined after the stack step
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/test_deploy_common.inc"
. "$(dirname "$0")/test_deploy_corpus.inc"

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

# --- deploy reports what is still undefined once the stack's outputs are in
python3 - jobs/cleanup/s-function.json <<'PY'
import json, sys
f = json.load(open(sys.argv[1]))
f["environment"] = {"TARGET": "${cleanupTarget}", "ROLE": "${iamRoleArnLambda}"}
json.dump(f, open(sys.argv[1], "w"))
PY
check "warnings: deploy of a new stage names the undefined variable" \
    sh_grep "warning: .*cleanupTarget" deploy -s warn -r us-east-1
check "warnings: ... and not the stack output it had before the stack step" \
    bash -c "! grep -q 'iamRoleArnLambda.*not defined\|not defined.*iamRoleArnLambda' '$GR_TMP/sh.out'"

txn_teardown
finish
