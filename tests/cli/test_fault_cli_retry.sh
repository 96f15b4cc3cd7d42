#!/usr/bin/env bash
# Injected throttling is recognised by the AWS CLI v2's retry logic (standard
# mode): Throttling (query), SlowDown (S3), TooManyRequestsException
# (Lambda) are retried and the call succeeds once the rule stops firing;
# a rule that always throttles exhausts the CLI's attempts. Retry-After is
# sent with each throttling answer.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/test_fault_common.inc"
gr_start --ephemeral
export AWS_RETRY_MODE=standard AWS_MAX_ATTEMPTS=3

# two throttles, then the CLI's third attempt goes through
faults '[{"id":"t2","service":"sts","operation":"GetCallerIdentity","times":2,"throttle":{"retryAfterSeconds":1}}]'
out=$(aws2 sts get-caller-identity --query Account --output text --debug 2>"$GR_TMP/debug.log")
expect_eq "sts: succeeds after two throttled attempts" "000000000000" "$out"
expect_eq "sts: three attempts" "3" "$(counter t2 matched)"
expect_eq "sts: two throttled" "2" "$(counter t2 fired)"
expect_contains "the CLI logged the retries" "Retry needed" "$(cat "$GR_TMP/debug.log")"
expect_contains "Retry-After sent" "'Retry-After': '1'" "$(cat "$GR_TMP/debug.log")"

# always throttling: the CLI gives up after its attempts, naming the code
faults '[{"id":"always","service":"iam","throttle":{}}]'
out=$(aws2 iam list-roles 2>&1); rc=$?
expect_eq "iam: gives up with exit 254" "254" "$rc"
expect_contains "iam: the CLI saw Throttling and retried" "An error occurred (Throttling) when calling the ListRoles operation (reached max retries: 2): Rate exceeded" "$out"
expect_eq "iam: all three attempts arrived" "3" "$(counter always matched)"

# 30% of calls throttled with seed 7: every CLI call still succeeds
faults '[{"id":"p30","service":"sts","probability":0.3,"seed":7,"throttle":{}}]'
ok=0
for i in 1 2 3 4 5 6; do
    [ "$(aws2 sts get-caller-identity --query Account --output text 2>/dev/null)" = 000000000000 ] && ok=$((ok + 1))
done
expect_eq "sts: 30% throttling absorbed by retries" "6" "$ok"
fired=$(counter p30 fired)
check "sts: the seeded rule fired at least once ($fired)" test "$fired" -ge 1

if served s3; then
    aws2 s3api create-bucket --bucket slow >/dev/null
    faults '[{"id":"sd","service":"s3","operation":"HeadBucket","times":1,"throttle":{}}]'
    check "s3: SlowDown (503) retried, head-bucket succeeds" aws2 s3api head-bucket --bucket slow
    expect_eq "s3: two attempts" "2" "$(counter sd matched)"
else
    echo "# s3 is not built in: S3 checks did not run"
fi
if served lambda; then
    faults '[{"id":"tm","service":"lambda","operation":"ListFunctions","times":1,"throttle":{}}]'
    check "lambda: TooManyRequestsException (429) retried" aws2 lambda list-functions
    expect_eq "lambda: two attempts" "2" "$(counter tm matched)"
else
    echo "# lambda is not built in: Lambda checks did not run"
fi

finish
