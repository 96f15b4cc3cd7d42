#!/bin/bash
# test_s3_curl.sh - S3 through curl --aws-sigv4: conditional PUTs (the
# deployer's locks: If-None-Match: * twice -> second 412; If-Match), and
# replays of the JS SDK v3 aws-chunked stream uploads of captures 32 and 33
# (HTTP chunked + aws-chunked + CRC32 trailer) with a fresh signature, then
# against a greenroom with --auth off.
. "$(dirname "$0")/lib.sh"
gr_start
T=$GR_TMP
S3() { curl -s --aws-sigv4 "aws:amz:us-east-1:s3" --user test:test "$@"; }
code() { S3 -o "$T/body" -w '%{http_code}' "$@"; }

expect_eq "create bucket" 200 "$(code -X PUT "$GR_URL/wire-bkt")"
expect_eq "first If-None-Match: * PUT" 200 \
    "$(code -X PUT -H 'If-None-Match: *' --data-binary holder-1 "$GR_URL/wire-bkt/lock")"
expect_eq "second If-None-Match: * PUT" 412 \
    "$(code -X PUT -H 'If-None-Match: *' --data-binary holder-2 "$GR_URL/wire-bkt/lock")"
expect_contains "412 is PreconditionFailed" "<Code>PreconditionFailed</Code>" "$(cat "$T/body")"
expect_eq "lock kept the first holder" holder-1 "$(S3 "$GR_URL/wire-bkt/lock")"
etag=$(S3 -I "$GR_URL/wire-bkt/lock" | tr -d '\r' | awk -F': ' 'tolower($1)=="etag"{print $2}')
expect_eq "If-Match with a stale ETag" 412 \
    "$(code -X PUT -H 'If-Match: "00000000000000000000000000000000"' --data-binary x "$GR_URL/wire-bkt/lock")"
expect_eq "If-Match with the current ETag" 200 \
    "$(code -X PUT -H "If-Match: $etag" --data-binary holder-3 "$GR_URL/wire-bkt/lock")"
expect_eq "If-Match with the replaced ETag" 412 \
    "$(code -X PUT -H "If-Match: $etag" --data-binary holder-4 "$GR_URL/wire-bkt/lock")"

# parallel conditional writers: exactly one wins
racers=""
for i in $(seq 1 10); do
    (code -X PUT -H 'If-None-Match: *' --data-binary "w$i" "$GR_URL/wire-bkt/race" >"$T/race.$i") &
    racers="$racers $!"
done
wait $racers
wins=$(cat "$T"/race.* | grep -o 200 | wc -l)
expect_eq "10 racing conditional writers, one winner" 1 "$wins"

chunked_put() { # url body-file decoded-length crc32-b64
    S3 -o "$T/body" -w '%{http_code}' -X PUT "$1" \
        -H "content-type: application/octet-stream" -H "x-amz-sdk-checksum-algorithm: CRC32" \
        -H "content-encoding: aws-chunked" -H "transfer-encoding: chunked" \
        -H "x-amz-decoded-content-length: $3" \
        -H "x-amz-content-sha256: STREAMING-UNSIGNED-PAYLOAD-TRAILER" \
        -H "x-amz-trailer: x-amz-checksum-crc32" --data-binary @"$2"
}
# capture 32: 10 bytes, CRC32 trailer poTHxg==
printf 'a\r\n0123456789\r\n0\r\nx-amz-checksum-crc32:poTHxg==\r\n\r\n' >"$T/c32.bin"
expect_eq "capture 32 replay" 200 "$(chunked_put "$GR_URL/wire-bkt/v3-stream.txt?x-id=PutObject" "$T/c32.bin" 10)"
expect_eq "capture 32 body decoded" 0123456789 "$(S3 "$GR_URL/wire-bkt/v3-stream.txt")"
crc=$(S3 -D - -o /dev/null -H 'x-amz-checksum-mode: ENABLED' "$GR_URL/wire-bkt/v3-stream.txt" |
    tr -d '\r' | awk -F': ' 'tolower($1)=="x-amz-checksum-crc32"{print $2}')
expect_eq "capture 32 checksum returned" "poTHxg==" "$crc"

# capture 33 shape: 200000 bytes in 0x10000 x3 + 0xd40 chunks, CRC32 trailer
python3 - "$T" <<'PY'
import base64, os, sys, zlib
t = sys.argv[1]
data = os.urandom(200000)
open(t + "/c33.data", "wb").write(data)
out = b""
for i in range(0, len(data), 65536):
    c = data[i:i + 65536]
    out += b"%x\r\n" % len(c) + c + b"\r\n"
crc = base64.b64encode(zlib.crc32(data).to_bytes(4, "big"))
out += b"0\r\nx-amz-checksum-crc32:" + crc + b"\r\n\r\n"
open(t + "/c33.bin", "wb").write(out)
bad = out.replace(b"x-amz-checksum-crc32:" + crc, b"x-amz-checksum-crc32:AAAAAA==")
open(t + "/c33bad.bin", "wb").write(bad)
open(t + "/c33trunc.bin", "wb").write(out[:100000])
PY
expect_eq "capture 33 replay" 200 "$(chunked_put "$GR_URL/wire-bkt/v3-stream-big.txt?x-id=PutObject" "$T/c33.bin" 200000)"
S3 -o "$T/c33.out" "$GR_URL/wire-bkt/v3-stream-big.txt"
check "capture 33 body decoded byte for byte" cmp "$T/c33.data" "$T/c33.out"
expect_eq "wrong trailer checksum" 400 "$(chunked_put "$GR_URL/wire-bkt/bad.bin" "$T/c33bad.bin" 200000)"
expect_contains "wrong trailer is BadDigest" "<Code>BadDigest</Code>" "$(cat "$T/body")"
expect_eq "truncated aws-chunked body" 400 "$(chunked_put "$GR_URL/wire-bkt/trunc.bin" "$T/c33trunc.bin" 200000)"
expect_eq "no partial object after bad bodies" 404 "$(code "$GR_URL/wire-bkt/bad.bin")"
expect_eq "no partial object after truncation" 404 "$(code "$GR_URL/wire-bkt/trunc.bin")"

# presigned PUT and GET (query-string SigV4, UNSIGNED-PAYLOAD), computed here
presign() { # method key expires
    python3 - "$GR_URL" "$1" "$2" "$3" <<'PY'
import datetime, hashlib, hmac, sys, urllib.parse
base, method, key, expires = sys.argv[1:5]
host = base.split("//", 1)[1]
now = datetime.datetime.utcnow()
amz_date, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
scope = day + "/us-east-1/s3/aws4_request"
path = "/wire-bkt/" + urllib.parse.quote(key, safe="/~")
q = {"X-Amz-Algorithm": "AWS4-HMAC-SHA256", "X-Amz-Credential": "test/" + scope,
     "X-Amz-Date": amz_date, "X-Amz-Expires": expires, "X-Amz-SignedHeaders": "host"}
cq = "&".join(urllib.parse.quote(k, safe="~") + "=" + urllib.parse.quote(v, safe="~")
              for k, v in sorted(q.items()))
creq = "\n".join([method, path, cq, "host:" + host + "\n", "host", "UNSIGNED-PAYLOAD"])
sts = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(creq.encode()).hexdigest()])
k = ("AWS4test").encode()
for part in (day, "us-east-1", "s3", "aws4_request"):
    k = hmac.new(k, part.encode(), hashlib.sha256).digest()
sig = hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()
print(base + path + "?" + cq + "&X-Amz-Signature=" + sig)
PY
}
echo "presigned body" >"$T/pre.txt"
put_url=$(presign PUT "pre/signed file.txt" 300)
expect_eq "presigned PUT" 200 "$(curl -s -o "$T/body" -w '%{http_code}' -T "$T/pre.txt" "$put_url")"
expect_eq "presigned PUT stored the body" "presigned body" "$(S3 "$GR_URL/wire-bkt/pre/signed%20file.txt")"
get_url=$(presign GET "pre/signed file.txt" 300)
expect_eq "presigned GET" "presigned body" "$(curl -fsS "$get_url")"
expect_eq "presigned PUT URL used for another key" 403 \
    "$(curl -s -o /dev/null -w '%{http_code}' -T "$T/pre.txt" "${put_url/signed%20file/other}")"
expect_eq "unsigned PUT is refused" 403 \
    "$(curl -s -o /dev/null -w '%{http_code}' -T "$T/pre.txt" "$GR_URL/wire-bkt/unsigned.txt")"

# the same replay with --auth off and the captured (stale) signature
gr_start --auth off
raw() {
    curl -s -o "$T/body" -w '%{http_code}' -X PUT "$GR_URL/wire-bkt/v3-stream.txt?x-id=PutObject" \
        -H "content-type: application/octet-stream" -H "x-amz-sdk-checksum-algorithm: CRC32" \
        -H "content-encoding: aws-chunked" -H "transfer-encoding: chunked" \
        -H "x-amz-decoded-content-length: 10" \
        -H "x-amz-content-sha256: STREAMING-UNSIGNED-PAYLOAD-TRAILER" \
        -H "x-amz-trailer: x-amz-checksum-crc32" -H "x-amz-date: 20261127T161223Z" \
        -H "authorization: AWS4-HMAC-SHA256 Credential=test/20261127/us-east-1/s3/aws4_request, SignedHeaders=amz-sdk-invocation-id;amz-sdk-request;content-encoding;content-type;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-sdk-checksum-algorithm;x-amz-trailer;x-amz-user-agent, Signature=78b3d709c0bf553b96c9fd117be4dca8c15c7cba56b34f54755a678c54ed02e4" \
        --data-binary @"$T/c32.bin"
}
expect_eq "bucket with --auth off" 200 "$(code -X PUT "$GR_URL/wire-bkt")"
expect_eq "captured request replayed verbatim (--auth off)" 200 "$(raw)"
expect_eq "verbatim replay stored the decoded body" 0123456789 "$(S3 "$GR_URL/wire-bkt/v3-stream.txt")"
finish
