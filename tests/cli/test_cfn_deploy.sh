#!/usr/bin/env bash
# test_cfn_deploy.sh - AWS CLI v2 against greenroom's CloudFormation:
# `cloudformation deploy` (change sets and waiters) on a new and an existing
# stack, "no changes", create-stack / describe-stacks / describe-stack-events,
# the v0.5 templates, a YAML template, and a failing template's rollback.
# (Few CLI invocations: each costs a Python start-up.)
. "$(dirname "$0")/lib.sh"
FIX=${FIXTURES_DIR:-$(cd "$(dirname "$0")/../../fixtures" && pwd)}/cloudformation
gr_start --ephemeral

# status and one output of a stack, tab-separated
status_output() {
    aws2 cloudformation describe-stacks --stack-name "$1" --output text \
        --query "Stacks[0].[StackStatus, Outputs[?OutputKey=='$2'].OutputValue | [0]]"
}

# --- deploy: new stack, needs CAPABILITY_IAM
out=$(aws2 cloudformation deploy --stack-name v05 --template-file "$FIX/v05-default.json" 2>&1)
expect_contains "deploy without CAPABILITY_IAM refused" "InsufficientCapabilitiesException" "$out"
check "deploy new stack" aws2 cloudformation deploy --stack-name v05 --template-file "$FIX/v05-default.json" \
    --capabilities CAPABILITY_IAM
so=$(status_output v05 IamRoleArnLambda)
expect_contains "v05 default stack CREATE_COMPLETE" "CREATE_COMPLETE" "$so"
expect_contains "IamRoleArnLambda output resolved" "arn:aws:iam::000000000000:role/v05-IamRoleLambda-" "$so"
role=${so##*/}
expect_eq "role and its inline policy in IAM" "dev-myproject-lambda" \
    "$(aws2 iam list-role-policies --role-name "$role" --query 'PolicyNames[0]' --output text)"

# --- deploy again: no changes
out=$(aws2 cloudformation deploy --stack-name v05 --template-file "$FIX/v05-default.json" --capabilities CAPABILITY_IAM 2>&1)
expect_contains "redeploy reports no changes" "No changes to deploy" "$out"

# --- deploy an existing stack with a change (UPDATE change set)
sed 's/dev-myproject-lambda/prod-myproject-lambda/' "$FIX/v05-default.json" >"$GR_TMP/v05b.json"
check "deploy update" aws2 cloudformation deploy --stack-name v05 --template-file "$GR_TMP/v05b.json" \
    --capabilities CAPABILITY_IAM --tags k=v
expect_eq "stack UPDATE_COMPLETE with its tag" "UPDATE_COMPLETE	v" "$(aws2 cloudformation describe-stacks --stack-name v05 \
    --query 'Stacks[0].[StackStatus, Tags[0].Value]' --output text)"
expect_eq "policy renamed in IAM" "prod-myproject-lambda" \
    "$(aws2 iam list-role-policies --role-name "$role" --query 'PolicyNames[0]' --output text)"

# --- update-stack with nothing to do
out=$(aws2 cloudformation update-stack --stack-name v05 --template-body "file://$GR_TMP/v05b.json" \
    --capabilities CAPABILITY_IAM --tags Key=k,Value=v 2>&1)
expect_contains "update-stack: No updates are to be performed." "No updates are to be performed." "$out"

# --- create-stack with the cd-example-like template
check "create-stack v0.5 example" aws2 cloudformation create-stack --stack-name ex --template-body "file://$FIX/v05-example.json" \
    --capabilities CAPABILITY_IAM --tags Key=STAGE,Value=dev --on-failure DELETE
out=$(aws2 cloudformation describe-stacks --stack-name ex --output text --query \
    "Stacks[0].[StackStatus, Outputs[?OutputKey=='BookSnsTopicName'].OutputValue|[0], Outputs[?OutputKey=='BookSnsTopicArn'].OutputValue|[0], Outputs[?OutputKey=='BooksSqsArn'].OutputValue|[0], StackId]")
read -r st tn ta qu exid <<<"$out"
expect_eq "example stack CREATE_COMPLETE" "CREATE_COMPLETE" "$st"
expect_contains "topic name output" "ex-BookSnsTopic-" "$tn"
expect_eq "topic arn output" "arn:aws:sns:us-east-1:000000000000:$tn" "$ta"
expect_contains "queue Ref is its URL" "/000000000000/ex-BooksSqs-" "$qu"
ev=$(aws2 cloudformation describe-stack-events --stack-name ex --query 'StackEvents[].ResourceStatus' --output text)
expect_contains "events include CREATE_IN_PROGRESS" "CREATE_IN_PROGRESS" "$ev"
expect_contains "events include CREATE_COMPLETE" "CREATE_COMPLETE" "$ev"

# --- YAML template with short-form tags
check "create-stack YAML" aws2 cloudformation create-stack --stack-name yml --template-body "file://$FIX/yaml-intrinsics.yaml" \
    --parameters ParameterKey=Stage,ParameterValue=prod
expect_eq "yaml stack CREATE_COMPLETE, Fn::If output" "CREATE_COMPLETE	production" "$(status_output yml Mode)"
expect_eq "export listed" "yml-table" "$(aws2 cloudformation list-exports --query 'Exports[0].Name' --output text)"

# --- a failing template rolls back
check "create-stack failing" aws2 cloudformation create-stack --stack-name bad --template-body "file://$FIX/failing.json"
reason=$(aws2 cloudformation describe-stack-events --stack-name bad --output text \
    --query 'StackEvents[?ResourceStatus==`CREATE_FAILED` || LogicalResourceId==`bad`].[ResourceStatus, ResourceStatusReason]')
expect_contains "failing stack ROLLBACK_COMPLETE" "ROLLBACK_COMPLETE" "$reason"
expect_contains "unsupported type reason" "Unsupported resource type AWS::GameLift::Alias" "$reason"
expect_eq "rolled-back bucket gone from S3" "" "$(aws2 s3api list-buckets --query 'Buckets[?starts_with(Name, `bad-`)].Name' --output text)"

# --- delete, then describe by id
check "delete-stack" aws2 cloudformation delete-stack --stack-name ex
check "wait stack-delete-complete" aws2 cloudformation wait stack-delete-complete --stack-name "$exid"
out=$(aws2 cloudformation describe-stacks --stack-name ex 2>&1)
expect_contains "deleted stack unknown by name" "Stack with id ex does not exist" "$out"
expect_eq "deleted stack visible by id" "DELETE_COMPLETE" \
    "$(aws2 cloudformation describe-stacks --stack-name "$exid" --query 'Stacks[0].StackStatus' --output text)"
finish
