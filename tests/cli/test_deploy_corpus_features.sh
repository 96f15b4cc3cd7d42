#!/bin/bash
# test_deploy_corpus_features.sh - features of public Serverless v0.5 projects that broke
# stagehand, each reproduced by a small fixture of ours under fixtures/projects/:
#   default-resources  no s-resources-cf.json: v0.5's default template is deployed (role output)
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

txn_teardown
finish
