#!/bin/bash
# test_deploy_fixtures.sh - `stagehand deploy` over the small fixture projects (issue 11):
# a resources template that fails (stack rolled back and deleted, the failing resource named, the
# deploy compensated), a handler that throws, a slow handler (timeout), a project deployed to two
# regions, HTTP/MOCK endpoints, a schedule event, and a resources template in YAML.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/test_deploy_common.inc"

gr_start
txn_setup
FX="${FIXTURES_DIR:-$(dirname "$0")/../../fixtures}"

use() {
    P="$GR_TMP/$(basename "$1")"
    cp -a "$FX/$1" "$P"
    cd "$P" || exit 1
}
api_id() { aws2 apigateway get-rest-apis --region "${2:-us-east-1}" --query "items[?name==\`$1\`].id" --output text; }
get() { curl -s -m 15 "$GR_URL/restapis/$1/$2/_user_request_/$3"; }

use projects-failing/cf-fails
sh_run deploy -s dev -r us-east-1
expect_eq "cf-fails: exit 7 (rolled back)" 7 "$SH_RC"
check "cf-fails: the failing resource is named" grep -q "BadQueue (AWS::SQS::Queue)" "$GR_TMP/sh.out"
expect_eq "cf-fails: no stack left" "" \
    "$(aws2 cloudformation list-stacks --query 'StackSummaries[?StackName==`cf-fails-dev-r` && StackStatus!=`DELETE_COMPLETE`].StackName' --output text)"
expect_eq "cf-fails: no function left" "" \
    "$(aws2 lambda list-functions --query 'Functions[?FunctionName==`cf-fails-hello`].FunctionName' --output text)"

use projects-failing/handler-throws
check "handler-throws: deploys" sh_ok deploy -s dev -r us-east-1
expect_contains "handler-throws: the error reaches the caller" "boom: this handler always throws" \
    "$(get "$(api_id handler-throws)" dev boom)"

use projects-failing/slow-handler
check "slow-handler: deploys" sh_ok deploy -s dev -r us-east-1
expect_contains "slow-handler: times out" "Task timed out" "$(get "$(api_id slow-handler)" dev slow)"

use projects-more/two-regions
check "two-regions: deploy us-east-1" sh_ok deploy -s dev -r us-east-1
check "two-regions: deploy us-west-2" sh_ok deploy -s dev -r us-west-2
expect_contains "two-regions: us-east-1 answers" '"region":"us-east-1"' "$(get "$(api_id two-regions us-east-1)" dev hello)"
expect_contains "two-regions: us-west-2 answers" '"region":"us-west-2"' "$(get "$(api_id two-regions us-west-2)" dev hello)"
check "two-regions: a region variables file each" test -f _meta/variables/s-variables-dev-uswest2.json

use projects-more/http-mock-endpoints
check "http-mock: deploys" sh_ok deploy -s dev -r us-east-1
expect_eq "http-mock: the MOCK endpoint answers from its template" '{"mocked": true, "stage": "dev"}' \
    "$(get "$(api_id http-mock)" dev mock)"

use projects-more/schedule-event
check "schedule-event: deploys" sh_ok deploy -s dev -r us-east-1
expect_eq "schedule-event: the rule exists" "rate(5 minutes) ENABLED" \
    "$(aws2 events describe-rule --name schedule-event-tick-every-5-min-dev --query '[ScheduleExpression,State]' --output text | tr '\t' ' ')"
expect_contains "schedule-event: the rule targets the dev alias" "function:schedule-event-tick:dev" \
    "$(aws2 events list-targets-by-rule --rule schedule-event-tick-every-5-min-dev --query 'Targets[0].Arn' --output text)"

use projects-more/yaml-resources
check "yaml-resources: deploys (s-resources-cf.yaml, no .json)" sh_ok deploy -s dev -r us-east-1
expect_eq "yaml-resources: the stack has the YAML template's resources" "AWS::IAM::Role AWS::SQS::Queue" \
    "$(aws2 cloudformation describe-stack-resources --stack-name yaml-resources-dev-r \
        --query 'StackResources[].ResourceType' --output text | tr '\t' '\n' | sort | tr '\n' ' ' | sed 's/ $//')"
check "yaml-resources: the stack outputs reached the region variables" \
    grep -q '"notesQueueUrl": *"http.*NotesQueue' _meta/variables/s-variables-dev-useast1.json

txn_teardown
finish
