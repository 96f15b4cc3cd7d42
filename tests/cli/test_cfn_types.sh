#!/usr/bin/env bash
# test_cfn_types.sh - AWS CLI v2 deploys a Serverless v0.5-style
# s-resources-cf.json using the wider set of CloudFormation types: IAM users
# and access keys, API keys and usage plans (provisioned into greenroom's
# services) next to Kinesis, CloudWatch, Cognito, KMS and SSM (recorded by
# CloudFormation); then an update (in place and by replacement), a template
# with an unknown type, and the delete.
# (Few CLI invocations: each costs a Python start-up.)
. "$(dirname "$0")/lib.sh"
FIX=${FIXTURES_DIR:-$(cd "$(dirname "$0")/../../fixtures" && pwd)}/cloudformation
gr_start --ephemeral

outputs() {
    aws2 cloudformation describe-stacks --stack-name "$1" --output text \
        --query 'Stacks[0].[StackStatus, join(`,`, Outputs[].join(`=`, [OutputKey, OutputValue]))]'
}
out_value() { # out_value "<outputs text>" Key
    local v=${1#*"$2="}
    echo "${v%%,*}"
}

# --- deploy: an IAM user needs CAPABILITY_IAM
out=$(aws2 cloudformation deploy --stack-name myproject-dev-r --template-file "$FIX/v05-more-types.json" 2>&1)
expect_contains "deploy without capabilities refused" "InsufficientCapabilitiesException" "$out"
check "deploy v0.5 resources with the new types" aws2 cloudformation deploy --stack-name myproject-dev-r \
    --template-file "$FIX/v05-more-types.json" --capabilities CAPABILITY_IAM \
    --parameter-overrides Stage=dev NotificationEmail=ops@example.com
o=$(outputs myproject-dev-r)
expect_contains "stack CREATE_COMPLETE" "CREATE_COMPLETE" "$o"
expect_contains "Kinesis stream Ref is its generated name" "EventStreamName=myproject-dev-r-EventStream-" "$o"
stream=$(out_value "$o" EventStreamName)
expect_eq "Kinesis stream Arn" "arn:aws:kinesis:us-east-1:000000000000:stream/$stream" "$(out_value "$o" EventStreamArn)"
expect_contains "alarm Arn" "AlarmArn=arn:aws:cloudwatch:us-east-1:000000000000:alarm:myproject-dev-r-ErrorsAlarm-" "$o"
expect_contains "KMS key Arn" "KeyArn=arn:aws:kms:us-east-1:000000000000:key/" "$o"
expect_eq "KMS alias Ref" "alias/myproject-dev" "$(out_value "$o" KeyAlias)"
expect_contains "SSM parameter generated name" "ConfigParameterName=CFN-ConfigParameter-" "$o"
expect_eq "SSM parameter Value attribute" "arn:aws:dynamodb:us-east-1:000000000000:table/myproject-books-dev" \
    "$(out_value "$o" ConfigParameterValue)"
pool=$(out_value "$o" UserPoolId)
expect_contains "user pool id" "us-east-1_" "$pool"
expect_eq "user pool ProviderURL" "https://cognito-idp.us-east-1.amazonaws.com/$pool" "$(out_value "$o" UserPoolProviderUrl)"
expect_contains "identity pool id" "IdentityPoolId=us-east-1:" "$o"
expect_contains "access key id" "DeployAccessKeyId=AKIA" "$o"
user=$(out_value "$o" DeployUserName)
expect_eq "user Arn" "arn:aws:iam::000000000000:user/$user" "$(out_value "$o" DeployUserArn)"

# --- the provisioned ones are in IAM and API Gateway
expect_eq "IAM user with its inline policy" "deploy" \
    "$(aws2 iam list-user-policies --user-name "$user" --query 'PolicyNames[0]' --output text)"
key=$(out_value "$o" PartnerApiKeyId)
plan=$(out_value "$o" PartnerPlanId)
expect_eq "API key in API Gateway" "myproject-dev-partner	True" \
    "$(aws2 apigateway get-api-key --api-key "$key" --query '[name, enabled]' --output text)"
expect_eq "usage plan holds the key" "$key" \
    "$(aws2 apigateway get-usage-plan-keys --usage-plan-id "$plan" --query 'items[0].id' --output text)"
types=$(aws2 cloudformation list-stack-resources --stack-name myproject-dev-r --output text \
    --query 'StackResourceSummaries[?ResourceStatus==`CREATE_COMPLETE`].ResourceType | length(@)')
expect_eq "every resource CREATE_COMPLETE" "18" "$types"

# --- update: a new stage renames the API key (replacement) and the usage
# plan (in place); the alarm threshold changes in place
check "deploy update" aws2 cloudformation deploy --stack-name myproject-dev-r \
    --template-file "$FIX/v05-more-types.json" --capabilities CAPABILITY_IAM \
    --parameter-overrides Stage=prod AlarmThreshold=9
o2=$(outputs myproject-dev-r)
expect_contains "stack UPDATE_COMPLETE" "UPDATE_COMPLETE" "$o2"
key2=$(out_value "$o2" PartnerApiKeyId)
expect_eq "usage plan updated in place" "$plan" "$(out_value "$o2" PartnerPlanId)"
expect_eq "usage plan renamed" "myproject-prod" \
    "$(aws2 apigateway get-usage-plan --usage-plan-id "$plan" --query name --output text)"
[ "$key2" != "$key" ] && r=replaced || r=same
expect_eq "API key replaced" "replaced" "$r"
out=$(aws2 apigateway get-api-key --api-key "$key" 2>&1)
expect_contains "old API key deleted" "NotFoundException" "$out"
expect_eq "usage plan holds the new key" "$key2" \
    "$(aws2 apigateway get-usage-plan-keys --usage-plan-id "$plan" --query 'items[0].id' --output text)"
expect_eq "stream kept (no change)" "$stream" "$(out_value "$o2" EventStreamName)"
expect_eq "KMS alias replaced" "alias/myproject-prod" "$(out_value "$o2" KeyAlias)"

# --- a type AWS does not know
sed 's/"AWS::Kinesis::Stream"/"AWS::Kinesis::Streams"/' "$FIX/v05-more-types.json" >"$GR_TMP/bad.json"
out=$(aws2 cloudformation validate-template --template-body "file://$GR_TMP/bad.json" 2>&1)
expect_contains "validate-template: unrecognized type" \
    "Template format error: Unrecognized resource types: [AWS::Kinesis::Streams]" "$out"
out=$(aws2 cloudformation create-stack --stack-name bad --template-body "file://$GR_TMP/bad.json" 2>&1)
expect_contains "create-stack: unrecognized type is a ValidationError" "(ValidationError)" "$out"

# --- delete
check "delete-stack" aws2 cloudformation delete-stack --stack-name myproject-dev-r
check "wait stack-delete-complete" aws2 cloudformation wait stack-delete-complete --stack-name myproject-dev-r
out=$(aws2 iam get-user --user-name "$user" 2>&1)
expect_contains "IAM user deleted" "NoSuchEntity" "$out"
out=$(aws2 apigateway get-usage-plan --usage-plan-id "$plan" 2>&1)
expect_contains "usage plan deleted" "NotFoundException" "$out"
finish
