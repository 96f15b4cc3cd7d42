#!/usr/bin/env bash
# test_cfn_deploy.sh - AWS CLI v2 against greenroom's CloudFormation:
# `cloudformation deploy` (change sets and waiters) on a new and an existing
# stack, "no changes", create-stack / describe-stacks / describe-stack-events,
# the v0.5 templates, a YAML template, and a failing template's rollback.
. "$(dirname "$0")/lib.sh"
FIX=${FIXTURES_DIR:-$(cd "$(dirname "$0")/../../fixtures" && pwd)}/cloudformation
gr_start --ephemeral

wait_status() { # stack, wanted terminal status -> prints the final status
    local s i=0
    while [ $i -lt 100 ]; do
        s=$(aws2 cloudformation describe-stacks --stack-name "$1" --query 'Stacks[0].StackStatus' --output text 2>/dev/null)
        case "$s" in *_IN_PROGRESS) sleep 0.05; i=$((i + 1)) ;; *) break ;; esac
    done
    echo "$s"
}

# --- deploy: new stack, needs CAPABILITY_IAM
out=$(aws2 cloudformation deploy --stack-name v05 --template-file "$FIX/v05-default.json" 2>&1)
expect_contains "deploy without CAPABILITY_IAM refused" "InsufficientCapabilitiesException" "$out"
check "deploy new stack" aws2 cloudformation deploy --stack-name v05 --template-file "$FIX/v05-default.json" \
    --capabilities CAPABILITY_IAM
expect_eq "v05 default stack CREATE_COMPLETE" "CREATE_COMPLETE" "$(wait_status v05)"
arn=$(aws2 cloudformation describe-stacks --stack-name v05 --query 'Stacks[0].Outputs[?OutputKey==`IamRoleArnLambda`].OutputValue' --output text)
expect_contains "IamRoleArnLambda output resolved" "arn:aws:iam::000000000000:role/v05-IamRoleLambda-" "$arn"
role=${arn##*/}
expect_eq "role visible through IAM" "$role" "$(aws2 iam get-role --role-name "$role" --query Role.RoleName --output text)"
expect_eq "inline policy put by AWS::IAM::Policy" "dev-myproject-lambda" \
    "$(aws2 iam list-role-policies --role-name "$role" --query 'PolicyNames[0]' --output text)"

# --- deploy again: no changes
out=$(aws2 cloudformation deploy --stack-name v05 --template-file "$FIX/v05-default.json" --capabilities CAPABILITY_IAM 2>&1)
expect_contains "redeploy reports no changes" "No changes to deploy" "$out"

# --- deploy an existing stack with a change (UPDATE change set)
sed 's/dev-myproject-lambda/prod-myproject-lambda/' "$FIX/v05-default.json" >"$GR_TMP/v05b.json"
check "deploy update" aws2 cloudformation deploy --stack-name v05 --template-file "$GR_TMP/v05b.json" \
    --capabilities CAPABILITY_IAM --tags k=v
expect_eq "stack UPDATE_COMPLETE" "UPDATE_COMPLETE" "$(wait_status v05)"
expect_eq "policy renamed in IAM" "prod-myproject-lambda" \
    "$(aws2 iam list-role-policies --role-name "$role" --query 'PolicyNames[0]' --output text)"
expect_eq "tag recorded" "v" "$(aws2 cloudformation describe-stacks --stack-name v05 --query 'Stacks[0].Tags[0].Value' --output text)"

# --- update-stack with nothing to do
out=$(aws2 cloudformation update-stack --stack-name v05 --template-body "file://$GR_TMP/v05b.json" --capabilities CAPABILITY_IAM --tags Key=k,Value=v 2>&1)
expect_contains "update-stack: No updates are to be performed." "No updates are to be performed." "$out"

# --- create-stack with the cd-example-like template
check "create-stack v0.5 example" aws2 cloudformation create-stack --stack-name ex --template-body "file://$FIX/v05-example.json" \
    --capabilities CAPABILITY_IAM --tags Key=STAGE,Value=dev --on-failure DELETE
expect_eq "example stack CREATE_COMPLETE" "CREATE_COMPLETE" "$(wait_status ex)"
tn=$(aws2 cloudformation describe-stacks --stack-name ex --query 'Stacks[0].Outputs[?OutputKey==`BookSnsTopicName`].OutputValue' --output text)
ta=$(aws2 cloudformation describe-stacks --stack-name ex --query 'Stacks[0].Outputs[?OutputKey==`BookSnsTopicArn`].OutputValue' --output text)
qu=$(aws2 cloudformation describe-stacks --stack-name ex --query 'Stacks[0].Outputs[?OutputKey==`BooksSqsArn`].OutputValue' --output text)
expect_contains "topic name output" "ex-BookSnsTopic-" "$tn"
expect_eq "topic arn output" "arn:aws:sns:us-east-1:000000000000:$tn" "$ta"
expect_contains "queue Ref is its URL" "/000000000000/ex-BooksSqs-" "$qu"
ev=$(aws2 cloudformation describe-stack-events --stack-name ex --query 'StackEvents[].ResourceStatus' --output text)
expect_contains "events include CREATE_COMPLETE" "CREATE_COMPLETE" "$ev"
expect_eq "4 resources" "4" "$(aws2 cloudformation list-stack-resources --stack-name ex --query 'length(StackResourceSummaries)' --output text)"

# --- YAML template with short-form tags
check "create-stack YAML" aws2 cloudformation create-stack --stack-name yml --template-body "file://$FIX/yaml-intrinsics.yaml" \
    --parameters ParameterKey=Stage,ParameterValue=prod
expect_eq "yaml stack CREATE_COMPLETE" "CREATE_COMPLETE" "$(wait_status yml)"
expect_eq "Fn::If output" "production" \
    "$(aws2 cloudformation describe-stacks --stack-name yml --query 'Stacks[0].Outputs[?OutputKey==`Mode`].OutputValue' --output text)"
expect_eq "export listed" "yml-table" "$(aws2 cloudformation list-exports --query 'Exports[0].Name' --output text)"
out=$(aws2 cloudformation get-template-summary --stack-name yml --query 'Parameters[].ParameterKey' --output text)
expect_contains "get-template-summary lists parameters" "Stage" "$out"

# --- a failing template rolls back
check "create-stack failing" aws2 cloudformation create-stack --stack-name bad --template-body "file://$FIX/failing.json"
expect_eq "failing stack ROLLBACK_COMPLETE" "ROLLBACK_COMPLETE" "$(wait_status bad)"
reason=$(aws2 cloudformation describe-stack-events --stack-name bad --query 'StackEvents[?ResourceStatus==`CREATE_FAILED`].ResourceStatusReason' --output text)
expect_contains "unsupported type reason" "Unsupported resource type AWS::Greenroom::Unsupported" "$reason"
expect_eq "rolled-back bucket gone from S3" "" "$(aws2 s3api list-buckets --query 'Buckets[?starts_with(Name, `bad-`)].Name' --output text)"

# --- delete, then describe by id
id=$(aws2 cloudformation describe-stacks --stack-name ex --query 'Stacks[0].StackId' --output text)
check "delete-stack" aws2 cloudformation delete-stack --stack-name ex
check "wait stack-delete-complete" aws2 cloudformation wait stack-delete-complete --stack-name "$id"
out=$(aws2 cloudformation describe-stacks --stack-name ex 2>&1)
expect_contains "deleted stack unknown by name" "Stack with id ex does not exist" "$out"
expect_eq "deleted stack visible by id" "DELETE_COMPLETE" \
    "$(aws2 cloudformation describe-stacks --stack-name "$id" --query 'Stacks[0].StackStatus' --output text)"
finish
