#!/usr/bin/env bash
# AWS CLI v2 with STS temporary credentials: assume-role, then s3 ls and
# get-caller-identity with the returned keys and AWS_SESSION_TOKEN; a wrong
# token is refused with the service's code.
. "$(dirname "$0")/lib.sh"
gr_start

aws2 s3 mb s3://sts-cli-bucket >/dev/null

creds=$(aws2 sts assume-role --role-arn arn:aws:iam::000000000000:role/cli-role \
    --role-session-name cli-session --duration-seconds 7200 \
    --query 'Credentials.[AccessKeyId,SecretAccessKey,SessionToken]' --output text 2>&1)
read -r key secret token <<<"$creds"
expect_contains "assume-role issues an ASIA key" "ASIA" "${key:-$creds}"

sess() {
    AWS_ACCESS_KEY_ID=$key AWS_SECRET_ACCESS_KEY=$secret AWS_SESSION_TOKEN=$1 aws2 "${@:2}"
}

out=$(sess "$token" sts get-caller-identity --query Arn --output text 2>&1)
expect_eq "get-caller-identity names the assumed role" \
    "arn:aws:sts::000000000000:assumed-role/cli-role/cli-session" "$out"

out=$(sess "$token" s3 ls 2>&1)
expect_contains "s3 ls with the session credentials" "sts-cli-bucket" "$out"

echo hello >"$GR_TMP/obj.txt"
sess "$token" s3 cp "$GR_TMP/obj.txt" s3://sts-cli-bucket/obj.txt >/dev/null 2>&1
url=$(sess "$token" s3 presign s3://sts-cli-bucket/obj.txt 2>&1)
expect_contains "a presigned URL carries the token" "X-Amz-Security-Token=" "$url"
out=$(curl -s "$url")
expect_eq "the presigned URL works" "hello" "$out"

out=$(sess "wrong-token" sts get-caller-identity 2>&1)
expect_contains "a wrong token -> InvalidClientTokenId" "(InvalidClientTokenId)" "$out"

out=$(sess "wrong-token" s3 ls 2>&1)
expect_contains "a wrong token to S3 -> InvalidToken" "(InvalidToken)" "$out"

finish
