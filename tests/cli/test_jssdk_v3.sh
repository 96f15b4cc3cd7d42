#!/usr/bin/env bash
# test_jssdk_v3.sh - the AWS SDK for JavaScript v3 (@aws-sdk/client-*) as a
# real client of greenroom: the node scripts under tests/js/ (v3_s3.js,
# v3_s3_post.js, v3_lambda.js, v3_cfn.js, v3_apigw_sns.js, v3_edge.js) run in
# parallel, each against a greenroom of its own, and print ok/FAIL lines,
# counted here.
# S3: default CRC32 checksums, aws-chunked stream bodies, paginators,
# DeleteObjects, a 20 MiB lib-storage multipart Upload, presigned GET, PUT and
# POST, CopyObject, virtual-host addressing, a retried 503, error shapes.
# STS, IAM; Lambda: waiters, LogType Tail, versions, aliases, code updates, an
# API Gateway AWS_PROXY call; CloudFormation: waiters, outputs, a rolled-back
# stack, delete, updates, change sets; API Gateway: a MOCK integration called
# at the stage URL; SNS -> SQS; and the SDK's habits: clock-skew correction,
# retried throttling and resets, odd keys, SQS attribute MD5s.
# Skipped (exit 0, with a note) when node or @aws-sdk/client-s3 is missing; a
# node script whose other packages are missing is skipped with a note.
# Packages (npm install -g): @aws-sdk/client-s3 @aws-sdk/client-lambda
# @aws-sdk/client-cloudformation @aws-sdk/client-api-gateway @aws-sdk/client-sns
# @aws-sdk/client-sqs @aws-sdk/client-sts @aws-sdk/client-iam
# @aws-sdk/lib-storage @aws-sdk/s3-request-presigner @aws-sdk/s3-presigned-post
. "$(dirname "$0")/lib.sh"
JS_DIR=$(cd "$(dirname "$0")/../js" && pwd)
FIX=${FIXTURES_DIR:-$(cd "$(dirname "$0")/../../fixtures" && pwd)}
. "$JS_DIR/env.sh"
# the whole script needs client-s3; each node script also needs its own clients
js_require "@aws-sdk/client-s3" || exit 0

gr_zipdir "$FIX/lambda/node" "$GR_TMP/fn.zip"
gr_zipdir "$JS_DIR/fn" "$GR_TMP/fn2.zip"
js_start_if "@aws-sdk/lib-storage @aws-sdk/s3-request-presigner" v3_s3
js_start_if "@aws-sdk/s3-presigned-post" v3_s3_post
js_start_if "@aws-sdk/client-lambda @aws-sdk/client-iam @aws-sdk/client-sts @aws-sdk/client-api-gateway" v3_lambda \
    ZIP="$GR_TMP/fn.zip" FN_ZIP="$GR_TMP/fn2.zip"
js_start_if "@aws-sdk/client-cloudformation @aws-sdk/client-sns" v3_cfn
js_start_if "@aws-sdk/client-api-gateway @aws-sdk/client-sns @aws-sdk/client-sqs" v3_apigw_sns
js_start_if "@aws-sdk/client-lambda @aws-sdk/client-sts @aws-sdk/client-sqs @aws-sdk/client-cloudformation" v3_edge
js_collect
finish
