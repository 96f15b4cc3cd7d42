#!/usr/bin/env bash
# Fault injection seen by the AWS CLI v2: injected errors read exactly as real
# AWS errors (code, operation, message, exit status 254), in every protocol
# built in (query: IAM/STS; rest-xml: S3; rest-json: Lambda), and the CLI's
# own retry policy treats them as AWS would (non-retryable errors are not
# retried, 5xx are).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/test_fault_common.inc"
gr_start --ephemeral
export AWS_RETRY_MODE=standard AWS_MAX_ATTEMPTS=3

# --- query protocol: IAM ----------------------------------------------------
aws2 iam create-role --role-name real --assume-role-policy-document \
    '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}' >/dev/null
faults '[{"id":"nosuch","service":"iam","operation":"GetRole","resource":"real",
          "error":{"statusCode":404,"code":"NoSuchEntity","message":"The role with name real cannot be found."}}]'
out=$(aws2 iam get-role --role-name real 2>&1); rc=$?
expect_eq "iam: injected error exits 254 like a real AWS error" "254" "$rc"
expect_eq "iam: the CLI prints the injected error as AWS's" \
    "An error occurred (NoSuchEntity) when calling the GetRole operation: The role with name real cannot be found." \
    "$(echo "$out" | tr -d '\r' | sed '/^$/d')"
expect_eq "iam: a 4xx error is not retried" "1" "$(counter nosuch matched)"
# the real thing, for comparison: same shape
out=$(aws2 iam get-role --role-name ghost 2>&1)
expect_contains "iam: a real NoSuchEntity reads the same way" "An error occurred (NoSuchEntity) when calling the GetRole operation:" "$out"

# --- STS: a 5xx is retried by the CLI (transient) -----------------------------
faults '[{"id":"five","service":"sts","error":{"statusCode":500,"code":"InternalFailure"}}]'
out=$(aws2 sts get-caller-identity 2>&1); rc=$?
expect_eq "sts: 500 fails after retries" "254" "$rc"
expect_contains "sts: the CLI retried the 500 (max attempts 3)" "(reached max retries: 2)" "$out"
expect_eq "sts: three attempts arrived" "3" "$(counter five matched)"
faults '[]'
out=$(aws2 sts get-caller-identity --query Account --output text 2>&1)
expect_eq "sts: rules cleared, service normal" "000000000000" "$out"

# --- rest-xml: S3 -------------------------------------------------------------
if served s3; then
    aws2 s3api create-bucket --bucket faulty >/dev/null
    echo hello >"$GR_TMP/body"
    faults '[{"id":"nokey","service":"s3","operation":"GetObject","resource":"faulty/missing/*",
              "error":{"code":"NoSuchKey"}},
             {"id":"denied","service":"s3","operation":"PutObject","resource":"faulty/locked/*",
              "error":{"statusCode":403,"code":"AccessDenied","message":"Access Denied"}}]'
    out=$(aws2 s3api get-object --bucket faulty --key missing/x "$GR_TMP/o" 2>&1)
    expect_contains "s3: injected NoSuchKey" "An error occurred (NoSuchKey) when calling the GetObject operation: The specified key does not exist." "$out"
    out=$(aws2 s3api put-object --bucket faulty --key locked/x --body "$GR_TMP/body" 2>&1)
    expect_contains "s3: injected AccessDenied" "An error occurred (AccessDenied) when calling the PutObject operation: Access Denied" "$out"
    out=$(aws2 s3api put-object --bucket faulty --key open/x --body "$GR_TMP/body" 2>&1)
    expect_contains "s3: other keys unaffected" "ETag" "$out"
else
    echo "# s3 is not built in: S3 checks did not run"
fi

# --- rest-json: Lambda ------------------------------------------------------------
if served lambda; then
    faults '[{"id":"svc","service":"lambda","operation":"ListFunctions",
              "error":{"statusCode":400,"code":"InvalidParameterValueException","message":"injected"}}]'
    out=$(aws2 lambda list-functions 2>&1)
    expect_contains "lambda: injected error in rest-json" "An error occurred (InvalidParameterValueException) when calling the ListFunctions operation: injected" "$out"
else
    echo "# lambda is not built in: Lambda checks did not run"
fi

finish
