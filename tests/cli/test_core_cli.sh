#!/usr/bin/env bash
# Real clients against the core: AWS CLI v2 and curl --aws-sigv4 get correct
# answers and correct authentication errors.
. "$(dirname "$0")/lib.sh"
gr_start

out=$(aws2 sts get-caller-identity 2>&1)
expect_contains "cli v2 sts get-caller-identity answers the default account" '"Account": "000000000000"' "$out"

out=$(AWS_ACCESS_KEY_ID=111122223333 aws2 sts get-caller-identity --query Account --output text 2>&1)
expect_eq "a 12-digit access key is that account" "111122223333" "$out"

out=$(AWS_SECRET_ACCESS_KEY=wrong aws2 sts get-caller-identity 2>&1)
expect_contains "wrong secret -> SignatureDoesNotMatch" "SignatureDoesNotMatch" "$out"

out=$(AWS_ACCESS_KEY_ID=AKIDNOTKNOWN aws2 sts get-caller-identity 2>&1)
expect_contains "unknown key -> InvalidClientTokenId" "InvalidClientTokenId" "$out"

out=$(curl -s --aws-sigv4 aws:amz:us-east-1:sts --user test:test \
    -d 'Action=GetCallerIdentity&Version=2011-06-15' "$GR_URL/")
expect_contains "curl --aws-sigv4 GetCallerIdentity" "<Account>000000000000</Account>" "$out"

out=$(curl -s --aws-sigv4 aws:amz:us-east-1:sts --user test:nope \
    -d 'Action=GetCallerIdentity&Version=2011-06-15' "$GR_URL/")
expect_contains "curl with a wrong secret -> SignatureDoesNotMatch" "<Code>SignatureDoesNotMatch</Code>" "$out"

out=$(curl -s -d 'Action=GetCallerIdentity&Version=2011-06-15' "$GR_URL/")
expect_contains "unsigned query call -> MissingAuthenticationToken" "MissingAuthenticationToken" "$out"

code=$(curl -s -o /dev/null -w '%{http_code}' "$GR_URL/_localstack/health")
expect_eq "LocalStack health alias" "200" "$code"

# --auth off accepts any signature
gr_stop
gr_start --auth off --ephemeral
out=$(AWS_SECRET_ACCESS_KEY=anything aws2 sts get-caller-identity --query Account --output text 2>&1)
expect_eq "--auth off accepts a wrong secret" "000000000000" "$out"

finish
