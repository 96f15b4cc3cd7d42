#!/usr/bin/env bash
# Snapshot save/restore equality across every service: state built with the
# AWS CLI v2; after a restore every service's listings (raw answers, request
# ids aside) are byte-for-byte those taken at save time, whatever was created,
# changed or deleted in between; what existed at save time works after it.
. "$(dirname "$0")/lib.sh"
gr_start --ephemeral
export AWS_MAX_ATTEMPTS=1

services=$(curl -s "$GR_URL/_greenroom/health" | python3 -c 'import json,sys; print(" ".join(json.load(sys.stdin)["services"]))')
served() { case " $services " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }
# signed raw calls (fast): sig SERVICE curl-args...; q SERVICE FORM; j SERVICE TARGET JSON
sig() { local s=$1; shift; curl -s --aws-sigv4 "aws:amz:us-east-1:$s" --user test:test "$@"; }
q() { sig "$1" -H 'Content-Type: application/x-www-form-urlencoded' --data "$2" "$GR_URL/"; }
j() { sig "$1" -H "X-Amz-Target: $2" -H 'Content-Type: application/x-amz-json-1.1' --data "$3" "$GR_URL/"; }

trust='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}'
printf 'exports.handler = async (e) => ({ok: true});\n' >"$GR_TMP/index.js"
(cd "$GR_TMP" && python3 -c "import zipfile; z = zipfile.ZipFile('fn.zip', 'w'); z.write('index.js'); z.close()")
echo 'v1' >"$GR_TMP/v1"

# every service's view of the state, request ids removed
listings() {
    {
        q iam 'Action=ListRoles&Version=2010-05-08'
        if served s3; then sig s3 "$GR_URL/"; sig s3 "$GR_URL/snap-bkt?list-type=2"; sig s3 "$GR_URL/snap-bkt/k"; fi
        if served lambda; then
            sig lambda "$GR_URL/2015-03-31/functions"
            sig lambda "$GR_URL/2015-03-31/functions/snap-fn/aliases"
            sig lambda "$GR_URL/2015-03-31/functions/snap-fn/versions"
        fi
        served sqs && q sqs 'Action=ListQueues&Version=2012-11-05'
        served sns && q sns 'Action=ListTopics&Version=2010-03-31'
        served events && j events AWSEvents.ListRules '{}'
        served apigateway && sig apigateway "$GR_URL/restapis"
        served cloudformation && q cloudformation 'Action=DescribeStacks&Version=2010-05-15'
    } | sed -E 's#<RequestId>[^<]*</RequestId>##g'
}

# the state, built by the CLI
aws2 iam create-role --role-name snap-role --assume-role-policy-document "$trust" >/dev/null
if served s3; then
    aws2 s3api create-bucket --bucket snap-bkt >/dev/null
    aws2 s3api put-object --bucket snap-bkt --key k --body "$GR_TMP/v1" >/dev/null
fi
if served lambda; then
    aws2 lambda create-function --function-name snap-fn --runtime nodejs18.x --handler index.handler \
        --role arn:aws:iam::000000000000:role/snap-role --zip-file "fileb://$GR_TMP/fn.zip" >/dev/null
    aws2 lambda publish-version --function-name snap-fn >/dev/null
    aws2 lambda create-alias --function-name snap-fn --name dev --function-version 1 >/dev/null
fi
served sqs && aws2 sqs create-queue --queue-name snap-q >/dev/null
served sns && aws2 sns create-topic --name snap-topic >/dev/null
served events && aws2 events put-rule --name snap-rule --schedule-expression 'rate(5 minutes)' >/dev/null
served apigateway && aws2 apigateway create-rest-api --name snap-api >/dev/null
if served cloudformation; then
    echo '{"Resources":{"Q":{"Type":"AWS::SQS::Queue"}}}' >"$GR_TMP/t.json"
    aws2 cloudformation create-stack --stack-name snap-stack --template-body "file://$GR_TMP/t.json" >/dev/null
    aws2 cloudformation wait stack-create-complete --stack-name snap-stack
fi

listings >"$GR_TMP/before"
check "the listings answer without errors" bash -c "! grep -qE '<Error>|\"__type\"|\"message\"' '$GR_TMP/before'"
code=$(curl -s -o "$GR_TMP/save.out" -w '%{http_code}' -X POST --data '{"name":"all"}' "$GR_URL/_greenroom/snapshots")
expect_eq "snapshot saved" "200" "$code"

# change everything
enc_trust=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "$trust")
q iam "Action=CreateRole&Version=2010-05-08&RoleName=other-role&AssumeRolePolicyDocument=$enc_trust" >/dev/null
if served s3; then
    sig s3 -X PUT --data-binary v2 "$GR_URL/snap-bkt/k" >/dev/null
    sig s3 -X PUT --data-binary v2 "$GR_URL/snap-bkt/extra" >/dev/null
    sig s3 -X PUT "$GR_URL/other-bkt" >/dev/null
fi
if served lambda; then
    sig lambda -X DELETE "$GR_URL/2015-03-31/functions/snap-fn/aliases/dev" >/dev/null
    sig lambda -X POST -H 'Content-Type: application/json' --data '{"Name":"prod","FunctionVersion":"1"}' \
        "$GR_URL/2015-03-31/functions/snap-fn/aliases" >/dev/null
fi
served sqs && q sqs 'Action=CreateQueue&Version=2012-11-05&QueueName=other-q' >/dev/null
served sns && q sns 'Action=CreateTopic&Version=2010-03-31&Name=other-topic' >/dev/null
served events && j events AWSEvents.DeleteRule '{"Name":"snap-rule"}' >/dev/null
served apigateway && sig apigateway -H 'Content-Type: application/json' --data '{"name":"other-api"}' "$GR_URL/restapis" >/dev/null
served cloudformation && q cloudformation 'Action=DeleteStack&Version=2010-05-15&StackName=snap-stack' >/dev/null
listings >"$GR_TMP/changed"
check "the state changed" bash -c "! cmp -s '$GR_TMP/before' '$GR_TMP/changed'"

code=$(curl -s -o "$GR_TMP/restore.out" -w '%{http_code}' -X POST "$GR_URL/_greenroom/snapshots/all/restore")
expect_eq "snapshot restored" "200" "$code"
listings >"$GR_TMP/after"
check "every service's listing equals the one at save" diff "$GR_TMP/before" "$GR_TMP/after"

# what was there works, seen by the CLI
if served lambda; then
    out=$(aws2 lambda invoke --function-name snap-fn --qualifier dev --payload '{}' \
        --cli-binary-format raw-in-base64-out "$GR_TMP/inv.out" 2>&1)
    expect_contains "lambda: the restored alias invokes" '"StatusCode": 200' "$out"
fi
if served s3; then
    aws2 s3api get-object --bucket snap-bkt --key k "$GR_TMP/k.out" >/dev/null 2>&1
    expect_eq "s3: the object has its content at save time" "v1" "$(cat "$GR_TMP/k.out" 2>/dev/null)"
fi

finish
