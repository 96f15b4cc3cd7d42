#!/bin/bash
# test_s3_notify.sh - S3 event notifications delivered to Lambda: a Python
# function records each event it receives; the bucket's
# LambdaFunctionConfiguration (ObjectCreated:*, prefix in/, suffix .txt) must
# invoke it for matching PutObject/CopyObject/CompleteMultipartUpload only,
# with the S3 event record shape. Writing the configuration is refused until
# the function's policy lets S3 invoke it for this bucket; a function whose
# permission is withdrawn later is refused by Lambda (403 in the journal).
. "$(dirname "$0")/lib.sh"
gr_start
T=$GR_TMP
cat >"$T/h.py" <<'PY'
import json, os
def handler(event, context):
    with open(os.environ["OUT"], "a") as f:
        f.write(json.dumps(event) + "\n")
    return {"ok": True}
PY
(cd "$T" && python3 -c "import zipfile; z = zipfile.ZipFile('fn.zip', 'w'); z.write('h.py'); z.close()")
trust='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}'
check "create-role" aws2 iam create-role --role-name lambda-role --assume-role-policy-document "$trust"
ROLE=arn:aws:iam::000000000000:role/lambda-role
for fn in s3fn denied; do
    check "create-function $fn" aws2 lambda create-function --function-name $fn --runtime python3.11 \
        --role $ROLE --handler h.handler --zip-file "fileb://$T/fn.zip" \
        --environment "Variables={OUT=$T/$fn.events}"
done
check "create bucket" aws2 s3api create-bucket --bucket notify-bkt
cfg='{"LambdaFunctionConfigurations":[
 {"Id":"txt-in","LambdaFunctionArn":"arn:aws:lambda:us-east-1:000000000000:function:s3fn",
  "Events":["s3:ObjectCreated:*"],
  "Filter":{"Key":{"FilterRules":[{"Name":"prefix","Value":"in/"},{"Name":"suffix","Value":".txt"}]}}},
 {"Id":"denied","LambdaFunctionArn":"arn:aws:lambda:us-east-1:000000000000:function:denied",
  "Events":["s3:ObjectRemoved:*"]}]}'
err=$(aws2 s3api put-bucket-notification-configuration --bucket notify-bkt \
    --notification-configuration "$cfg" 2>&1)
expect_contains "configuration refused before S3 may invoke" "Unable to validate the following destination configurations" "$err"
check "add-permission for s3" aws2 lambda add-permission --function-name s3fn --statement-id s3 \
    --action lambda:InvokeFunction --principal s3.amazonaws.com --source-arn arn:aws:s3:::notify-bkt
check "add-permission for another bucket only" aws2 lambda add-permission --function-name denied \
    --statement-id s3 --action lambda:InvokeFunction --principal s3.amazonaws.com \
    --source-arn arn:aws:s3:::other-bkt
err=$(aws2 s3api put-bucket-notification-configuration --bucket notify-bkt \
    --notification-configuration "$cfg" 2>&1)
expect_contains "permission for another bucket does not validate" "InvalidArgument" "$err"
check "remove-permission" aws2 lambda remove-permission --function-name denied --statement-id s3
check "add-permission for this bucket" aws2 lambda add-permission --function-name denied \
    --statement-id s3 --action lambda:InvokeFunction --principal s3.amazonaws.com \
    --source-arn arn:aws:s3:::notify-bkt
check "put-bucket-notification-configuration" aws2 s3api put-bucket-notification-configuration \
    --bucket notify-bkt --notification-configuration "$cfg"
check "permission withdrawn after configuring" aws2 lambda remove-permission --function-name denied \
    --statement-id s3
got=$(aws2 s3api get-bucket-notification-configuration --bucket notify-bkt)
expect_contains "configuration reads back" '"Id": "txt-in"' "$got"
echo data >"$T/a.txt"
check "put in/a.txt (matches)" aws2 s3api put-object --bucket notify-bkt --key in/a.txt --body "$T/a.txt"
check "put in/b.bin (suffix differs)" aws2 s3api put-object --bucket notify-bkt --key in/b.bin --body "$T/a.txt"
check "put out/c.txt (prefix differs)" aws2 s3api put-object --bucket notify-bkt --key out/c.txt --body "$T/a.txt"
check "copy to in/copy of a.txt (matches)" aws2 s3api copy-object --bucket notify-bkt \
    --key "in/copy of a.txt" --copy-source notify-bkt/in/a.txt
check "delete in/a.txt (denied function)" aws2 s3api delete-object --bucket notify-bkt --key in/a.txt
i=0
while [ "$(cat "$T/s3fn.events" 2>/dev/null | wc -l)" -lt 2 ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
sleep 0.5
expect_eq "two matching events delivered" 2 "$(cat "$T/s3fn.events" 2>/dev/null | wc -l)"
python3 - "$T/s3fn.events" >"$T/verdict" 2>&1 <<'PY'
import json, sys
events = [json.loads(l) for l in open(sys.argv[1])]
names = sorted(e["Records"][0]["eventName"] for e in events)
assert names == ["ObjectCreated:Copy", "ObjectCreated:Put"], names
for e in events:
    r = e["Records"][0]
    assert r["eventVersion"] == "2.1" and r["eventSource"] == "aws:s3", r
    assert r["awsRegion"] == "us-east-1", r
    assert r["s3"]["bucket"]["name"] == "notify-bkt", r
    assert r["s3"]["bucket"]["arn"] == "arn:aws:s3:::notify-bkt", r
    assert r["s3"]["configurationId"] == "txt-in", r
    assert r["s3"]["object"]["size"] == 5, r
    assert r["s3"]["object"]["eTag"] == "6137cde4893c59f76f005a8123d8e8e6", r
keys = sorted(e["Records"][0]["s3"]["object"]["key"] for e in events)
assert keys == ["in/a.txt", "in/copy+of+a.txt"], keys
print("ok")
PY
expect_eq "event records have the S3 shape" ok "$(tail -1 "$T/verdict")"
[ "$(tail -1 "$T/verdict")" = ok ] || cat "$T/verdict"
check "function without permission never ran" test ! -e "$T/denied.events"
calls=$(curl -fsS "$GR_URL/_greenroom/calls")
denied=$(echo "$calls" | python3 -c '
import json, sys
c = json.load(sys.stdin)["calls"]
print(len([x for x in c if x["service"] == "lambda" and x["operation"] == "Invoke" and x["status"] == 403]))')
expect_eq "denied invoke is in the journal as 403" 1 "$denied"
# A graceful stop waits for the warm function's long poll (minutes): end it hard.
{ kill -9 "$GR_PID" && wait "$GR_PID"; } 2>/dev/null
GR_PIDS=""
finish
