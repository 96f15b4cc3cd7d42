#!/bin/bash
# test_s3_cli.sh - S3 through the AWS CLI v2 (/usr/bin/aws): s3 mb/cp/ls/sync/rm,
# a 20 MiB multipart round trip byte for byte, s3 presign fetched by curl,
# and s3api put-object/get-object/list-objects-v2/head-object.
. "$(dirname "$0")/lib.sh"
gr_start
T=$GR_TMP
AWS="aws2 --no-progress"

check "mb" aws2 s3 mb s3://cli-bucket
head -c $((20 * 1024 * 1024)) /dev/urandom >"$T/big.bin"
check "cp 20 MiB up (multipart)" $AWS s3 cp "$T/big.bin" s3://cli-bucket/dir/big.bin
check "cp 20 MiB down" $AWS s3 cp s3://cli-bucket/dir/big.bin "$T/big.out"
check "round trip is byte-identical" cmp "$T/big.bin" "$T/big.out"
etag=$(aws2 s3api head-object --bucket cli-bucket --key dir/big.bin --query ETag --output text)
expect_contains "multipart ETag has a part count" '-3"' "$etag"

check "mb in eu-west-1" aws2 s3 mb s3://cli-eu-bucket --region eu-west-1
loc=$(aws2 s3api get-bucket-location --bucket cli-eu-bucket --query LocationConstraint --output text)
expect_eq "bucket location" eu-west-1 "$loc"
check "cp 20 MiB bucket to bucket (UploadPartCopy)" $AWS s3 cp s3://cli-bucket/dir/big.bin s3://cli-eu-bucket/copy.bin
check "mv within the bucket" $AWS s3 mv s3://cli-eu-bucket/copy.bin s3://cli-eu-bucket/moved.bin
moved=$(aws2 s3api head-object --bucket cli-eu-bucket --key moved.bin --query ETag --output text)
expect_eq "server-side copy has the same parts (ETag)" "$etag" "$moved"
check "rb --force" aws2 s3 rb s3://cli-eu-bucket --force

mkdir -p "$T/site/css" "$T/site/js"
echo "<h1>hi</h1>" >"$T/site/index.html"
echo "body{}" >"$T/site/css/a.css"
echo "x=1" >"$T/site/js/a b.js"
check "sync up" $AWS s3 sync "$T/site" s3://cli-bucket/site
listing=$(aws2 s3 ls s3://cli-bucket/site/ --recursive)
expect_contains "ls shows synced file" "site/css/a.css" "$listing"
expect_contains "ls shows key with a space" "site/js/a b.js" "$listing"
top=$(aws2 s3 ls s3://cli-bucket/)
expect_contains "ls shows common prefixes" "PRE site/" "$top"
check "sync down" $AWS s3 sync s3://cli-bucket/site "$T/site2"
check "synced tree is identical" diff -r "$T/site" "$T/site2"
echo changed >"$T/site/index.html"
out=$($AWS s3 sync "$T/site" s3://cli-bucket/site)
expect_contains "second sync uploads only the change" "index.html" "$out"
expect_eq "second sync uploads one file" 1 "$(echo "$out" | grep -c upload)"
buckets=$(aws2 s3 ls)
expect_contains "ls lists buckets" "cli-bucket" "$buckets"

url=$(aws2 s3 presign s3://cli-bucket/site/css/a.css --expires-in 300)
expect_eq "presigned GET with curl" "body{}" "$(curl -fsS "$url")"
code=$(curl -s -o /dev/null -w '%{http_code}' "${url/X-Amz-Signature=/X-Amz-Signature=0}")
expect_eq "tampered presigned URL is refused" 403 "$code"

echo "api body" >"$T/api.txt"
check "s3api put-object" aws2 s3api put-object --bucket cli-bucket --key api/obj.txt \
    --body "$T/api.txt" --content-type text/plain --metadata stage=dev,owner=ci
got=$(aws2 s3api get-object --bucket cli-bucket --key api/obj.txt "$T/api.out")
check "s3api get-object body" cmp "$T/api.txt" "$T/api.out"
expect_contains "get-object returns metadata" '"stage": "dev"' "$got"
expect_contains "get-object returns content type" '"ContentType": "text/plain"' "$got"
n=$(aws2 s3api list-objects-v2 --bucket cli-bucket --prefix api/ --no-paginate --query KeyCount --output text)
expect_eq "list-objects-v2 KeyCount" 1 "$n"
keys=$(aws2 s3api list-objects-v2 --bucket cli-bucket --prefix site/js/ --query 'Contents[].Key' --output text)
expect_eq "list-objects-v2 decodes url-encoded keys" "site/js/a b.js" "$keys"
pages=$(aws2 s3api list-objects-v2 --bucket cli-bucket --page-size 1 --query 'length(Contents)' --output text)
expect_eq "list-objects-v2 pages of one" "1 1 1 1 1" "$(echo $pages)"
err=$(aws2 s3api get-object --bucket cli-bucket --key nope "$T/x" 2>&1)
expect_contains "missing key is NoSuchKey" "NoSuchKey" "$err"
check "create-bucket again in us-east-1 (AWS legacy: 200)" aws2 s3api create-bucket --bucket cli-bucket
check "create-bucket in eu-west-1" aws2 s3api create-bucket --bucket cli-eu2 --region eu-west-1 \
    --create-bucket-configuration LocationConstraint=eu-west-1
err=$(aws2 s3api create-bucket --bucket cli-eu2 --region eu-west-1 \
    --create-bucket-configuration LocationConstraint=eu-west-1 2>&1)
expect_contains "second create-bucket outside us-east-1" "BucketAlreadyOwnedByYou" "$err"
check "delete-bucket" aws2 s3api delete-bucket --bucket cli-eu2
# Modern botocore (the pip AWS CLI v1 on PATH, when present): CRC32 checksums
# on every upload, composite checksums on multipart, validation on download,
# If-None-Match on put-object.
v1=$(command -v aws || true)
if [ -n "$v1" ] && [ "$v1" != /usr/bin/aws ] && "$v1" --version 2>&1 | grep -q '^aws-cli/1\.'; then
    A1="$v1 --endpoint-url $GR_URL"
    check "v1: cp 20 MiB up with CRC32 parts" $A1 s3 cp "$T/big.bin" s3://cli-bucket/v1/big.bin --only-show-errors
    sum=$($A1 s3api head-object --bucket cli-bucket --key v1/big.bin --checksum-mode ENABLED --query ChecksumCRC32 --output text)
    expect_contains "v1: composite checksum of 3 parts" "-3" "$sum"
    check "v1: cp down (checksums validated)" $A1 s3 cp s3://cli-bucket/v1/big.bin "$T/v1big.out" --only-show-errors
    check "v1: round trip is byte-identical" cmp "$T/big.bin" "$T/v1big.out"
    check "v1: put-object If-None-Match" $A1 s3api put-object --bucket cli-bucket --key v1/lock --body "$T/api.txt" --if-none-match '*'
    err=$($A1 s3api put-object --bucket cli-bucket --key v1/lock --body "$T/api.txt" --if-none-match '*' 2>&1)
    expect_contains "v1: second If-None-Match put is refused" "PreconditionFailed" "$err"
    check "v1: get-object validates the CRC32" $A1 s3api get-object --bucket cli-bucket --key v1/lock --checksum-mode ENABLED "$T/v1lock.out"
else
    echo "skip - AWS CLI v1 not on PATH"
fi

# x-amz-storage-class is kept and shown by head-object
check "cp --storage-class STANDARD_IA" aws2 s3 cp "$T/api.txt" s3://cli-bucket/ia.txt --storage-class STANDARD_IA --only-show-errors
sc=$(aws2 s3api head-object --bucket cli-bucket --key ia.txt --query StorageClass --output text 2>&1)
expect_contains "head-object shows the storage class" "STANDARD_IA" "$sc"
check "rm recursive" aws2 s3 rm s3://cli-bucket --recursive
check "rb" aws2 s3 rb s3://cli-bucket
finish
