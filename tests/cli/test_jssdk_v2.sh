#!/usr/bin/env bash
# test_jssdk_v2.sh - the AWS SDK for JavaScript v2 (npm aws-sdk@2) as a real
# client of greenroom: tests/js/v2_all.js, its ok/FAIL lines counted here.
# S3 with s3ForcePathStyle (a managed multipart upload, presigned GET and PUT,
# waiters, deleteObjects), Lambda create/waitFor/invoke, CloudFormation
# createStack + waitFor('stackCreateComplete') + deleteStack, SNS publish to
# an SQS subscription, SQS attributes with the MD5s the SDK checks.
# Skipped (exit 0, with a note) when node or aws-sdk@2 is missing.
. "$(dirname "$0")/lib.sh"
JS_DIR=$(cd "$(dirname "$0")/../js" && pwd)
FIX=${FIXTURES_DIR:-$(cd "$(dirname "$0")/../../fixtures" && pwd)}
. "$JS_DIR/env.sh"
js_require "aws-sdk" || exit 0

gr_start --ephemeral
gr_zipdir "$FIX/lambda/node" "$GR_TMP/fn.zip"
js_run v2_all ZIP="$GR_TMP/fn.zip" AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE=1
finish
