#!/bin/bash
# test_s3_checksums.sh - S3 integrity and multipart behaviours through the
# AWS CLI v2 (/usr/bin/aws): put-object --checksum-algorithm (values as the
# CLI computed them, echoed by head-object --checksum-mode ENABLED), a wrong
# checksum refused, a 12 MiB s3api multipart upload with SHA256 part
# checksums (composite "-3" object checksum, get-object-attributes), a retried
# complete-multipart-upload answered like the first, the default CRC64NVME
# of an `aws s3 cp` multipart upload, and list-object-versions paged by the
# CLI in small pages.
. "$(dirname "$0")/lib.sh"
gr_start
T=$GR_TMP
B=cli-sum-bkt

check "mb" aws2 s3 mb s3://$B
head -c 100000 /dev/urandom >"$T/small.bin"

# base64 checksums of a file as AWS computes them (python3, stdlib only)
sums() {
    python3 - "$@" <<'EOF'
import base64, hashlib, sys, zlib
def crc_fn(poly, bits):
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ poly if c & 1 else c >> 1
        table.append(c)
    mask = (1 << bits) - 1
    def f(data):
        c = mask
        for b in data:
            c = table[(c ^ b) & 0xff] ^ (c >> 8)
        return c ^ mask
    return f
crc32c = crc_fn(0x82F63B78, 32)
crc64 = crc_fn(0x9A6C9329AC4BC9B5, 64)
def b64(b):
    return base64.b64encode(b).decode()
def digest(algo, d):
    if algo == "CRC32":
        return zlib.crc32(d).to_bytes(4, "big")
    if algo == "CRC32C":
        return crc32c(d).to_bytes(4, "big")
    if algo == "CRC64NVME":
        return crc64(d).to_bytes(8, "big")
    return hashlib.new(algo.lower(), d).digest()
algo, mode, path = sys.argv[1], sys.argv[2], sys.argv[3]
data = open(path, "rb").read()
if mode == "whole":
    print(b64(digest(algo, data)))
else:  # composite over parts of int(mode) bytes
    size = int(mode)
    parts = [data[i:i + size] for i in range(0, len(data), size)]
    cat = b"".join(digest(algo, p) for p in parts)
    print("%s-%d" % (b64(digest(algo, cat)), len(parts)))
EOF
}

for algo in SHA256 CRC32C; do
    want=$(sums $algo whole "$T/small.bin")
    got=$(aws2 s3api put-object --bucket $B --key "sum-$algo" --body "$T/small.bin" \
        --checksum-algorithm $algo --query "Checksum$algo" --output text)
    expect_eq "put-object --checksum-algorithm $algo returns it" "$want" "$got"
    head=$(aws2 s3api head-object --bucket $B --key "sum-$algo" --checksum-mode ENABLED \
        --query "Checksum$algo" --output text)
    expect_eq "head-object --checksum-mode ENABLED returns the $algo" "$want" "$head"
done
plain=$(aws2 s3api head-object --bucket $B --key sum-SHA256 --query ChecksumSHA256 --output text)
expect_eq "head-object without checksum mode: no SHA256" "None" "$plain"

wrong=$(sums CRC32 whole "$0")
if aws2 s3api put-object --bucket $B --key bad --body "$T/small.bin" --checksum-crc32 "$wrong" \
    >"$T/bad.out" 2>&1; then
    expect_eq "a wrong CRC32 is refused" "failure" "success"
else
    expect_contains "a wrong CRC32 is refused with BadDigest" "BadDigest" "$(cat "$T/bad.out")"
fi
st=$(aws2 s3api head-object --bucket $B --key bad 2>&1 || true)
expect_contains "nothing stored after BadDigest" "404" "$st"

# a 12 MiB multipart upload with SHA256 part checksums (5 + 5 + 2 MiB)
head -c $((12 * 1024 * 1024)) /dev/urandom >"$T/big.bin"
split -b $((5 * 1024 * 1024)) -d "$T/big.bin" "$T/part."
uid=$(aws2 s3api create-multipart-upload --bucket $B --key big --checksum-algorithm SHA256 \
    --query UploadId --output text)
parts=""
n=1
for f in "$T"/part.0*; do
    out=$(aws2 s3api upload-part --bucket $B --key big --upload-id "$uid" --part-number $n \
        --body "$f" --checksum-algorithm SHA256 --query '[ETag,ChecksumSHA256]' --output text)
    etag=$(echo "$out" | cut -f1)
    sum=$(echo "$out" | cut -f2)
    expect_eq "upload-part $n SHA256" "$(sums SHA256 whole "$f")" "$sum"
    parts="$parts{\"ETag\":$(printf '%s' "$etag" | python3 -c 'import json,sys; print(json.dumps(sys.stdin.read()))'),\"PartNumber\":$n,\"ChecksumSHA256\":\"$sum\"},"
    n=$((n + 1))
done
echo "{\"Parts\":[${parts%,}]}" >"$T/mpu.json"
want=$(sums SHA256 $((5 * 1024 * 1024)) "$T/big.bin")
first=$(aws2 s3api complete-multipart-upload --bucket $B --key big --upload-id "$uid" \
    --multipart-upload "file://$T/mpu.json" --query '[ETag,ChecksumSHA256]' --output text)
expect_eq "complete-multipart-upload: composite SHA256" "$want" "$(echo "$first" | cut -f2)"
again=$(aws2 s3api complete-multipart-upload --bucket $B --key big --upload-id "$uid" \
    --multipart-upload "file://$T/mpu.json" --query '[ETag,ChecksumSHA256]' --output text)
expect_eq "a retried complete-multipart-upload gets the same answer" "$first" "$again"
head=$(aws2 s3api head-object --bucket $B --key big --checksum-mode ENABLED \
    --query '[ChecksumSHA256,ETag]' --output text)
expect_eq "head-object: the composite SHA256" "$want" "$(echo "$head" | cut -f1)"
expect_contains "the object ETag has 3 parts" '-3"' "$head"
attrs=$(aws2 s3api get-object-attributes --bucket $B --key big \
    --object-attributes Checksum ObjectParts ObjectSize \
    --query '[Checksum.ChecksumSHA256,ObjectParts.TotalPartsCount,ObjectSize]' \
    --output text)
expect_eq "get-object-attributes: checksum without -N, 3 parts, size" \
    "$(printf '%s\t3\t%s' "${want%-3}" $((12 * 1024 * 1024)))" "$attrs"
p2sum=$(aws2 s3api get-object-attributes --bucket $B --key big --object-attributes ObjectParts \
    --max-parts 1 --part-number-marker 1 --query 'ObjectParts.Parts[0].ChecksumSHA256' \
    --output text)
expect_eq "get-object-attributes: part 2's SHA256 (paged)" "$(sums SHA256 whole "$T/part.01")" "$p2sum"
check "get-object round trip" aws2 s3api get-object --bucket $B --key big "$T/big.out"
check "byte-identical" cmp "$T/big.bin" "$T/big.out"

# aws s3 cp (multipart, no checksum asked): S3's default full-object
# CRC64NVME (this CLI's model may not name the field: read the raw header)
cat >"$T/cli.cfg" <<'EOF'
[default]
s3 =
    multipart_threshold = 5MB
    multipart_chunksize = 5MB
EOF
AWS_CONFIG_FILE="$T/cli.cfg" check "cp 12 MiB (multipart, 3 parts)" aws2 --no-progress s3 cp \
    "$T/big.bin" s3://$B/cp.bin
etag=$(aws2 s3api head-object --bucket $B --key cp.bin --query ETag --output text)
expect_contains "cp'd object is multipart" '-3"' "$etag"
want=$(sums CRC64NVME whole "$T/big.bin")
raw=$(aws2 --debug s3api head-object --bucket $B --key cp.bin --checksum-mode ENABLED 2>&1 |
    grep -io "x-amz-checksum-crc64nvme': '[^']*" | head -n1 | sed "s/.*': '//")
expect_eq "cp'd object has the default CRC64NVME of the whole object" "$want" "$raw"

# list-object-versions paged by the CLI (page size 2) = one big page
aws2 s3api put-bucket-versioning --bucket $B --versioning-configuration Status=Enabled
for i in 1 2 3; do
    for k in a b; do
        echo "$i" >"$T/v.txt"
        aws2 s3api put-object --bucket $B --key "v/$k" --body "$T/v.txt" >/dev/null
    done
done
aws2 s3api delete-object --bucket $B --key v/b >/dev/null
# the CLI merges the pages of a JSON answer; compare Key/VersionId/IsLatest
vlist() {
    python3 -c 'import json, sys
d = json.load(sys.stdin)
for v in d.get("Versions", []):
    print("V", v["Key"], v["VersionId"], v["IsLatest"])
for m in d.get("DeleteMarkers", []):
    print("D", m["Key"], m["VersionId"], m["IsLatest"])'
}
paged=$(aws2 s3api list-object-versions --bucket $B --prefix v/ --page-size 2 | vlist)
whole=$(aws2 s3api list-object-versions --bucket $B --prefix v/ --no-paginate | vlist)
expect_eq "list-object-versions in pages of 2 = one page" "$whole" "$paged"
expect_eq "6 versions and 1 delete marker" "6 1" \
    "$(echo "$paged" | grep -c '^V') $(echo "$paged" | grep -c '^D')"
finish
