#!/usr/bin/env bash
# boto3 against greenroom's Lambda: waiters (function_active_v2,
# function_updated_v2), paginators, invoke with LogType Tail and
# ClientContext, weighted aliases, permissions, Code.Location download.
# Skipped (exit 0, with a note) where boto3 is not installed.
. "$(dirname "$0")/lib.sh"
if ! python3 -c 'import boto3' 2>/dev/null; then
    echo "boto3 not installed: skipped"
    exit 0
fi
gr_start --ephemeral

FIX=${FIXTURES_DIR:-$(cd "$(dirname "$0")/../../fixtures" && pwd)}
out=$(GR_URL="$GR_URL" FIX="$FIX" python3 - 2>&1 <<'EOF'
import base64, io, json, os, urllib.request, zipfile
import boto3
from botocore.exceptions import ClientError

url = os.environ["GR_URL"]
kw = dict(endpoint_url=url, region_name="us-east-1", aws_access_key_id="test",
          aws_secret_access_key="test")
iam = boto3.client("iam", **kw)
lam = boto3.client("lambda", **kw)

buf = io.BytesIO()
root = os.path.join(os.environ["FIX"], "lambda", "node")
with zipfile.ZipFile(buf, "w") as z:
    for d, _, files in os.walk(root):
        for f in files:
            p = os.path.join(d, f)
            z.write(p, os.path.relpath(p, root))
code = buf.getvalue()

def ok(what, cond):
    print(("ok   - " if cond else "FAIL - ") + what)

role = iam.create_role(RoleName="b3", AssumeRolePolicyDocument=json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {
        "Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}))["Role"]
ok("iam create_role decodes the policy document",
   role["AssumeRolePolicyDocument"]["Statement"][0]["Action"] == "sts:AssumeRole")

try:
    lam.create_function(FunctionName="b3fn", Runtime="nodejs20.x", Handler="index.handler",
                        Role="arn:aws:iam::000000000000:role/nope", Code={"ZipFile": code})
    ok("missing role refused", False)
except ClientError as e:
    ok("missing role refused", e.response["Error"]["Code"] == "InvalidParameterValueException")

fn = lam.create_function(FunctionName="b3fn", Runtime="nodejs20.x", Handler="index.handler",
                         Role=role["Arn"], Code={"ZipFile": code}, Publish=True)
lam.get_waiter("function_active_v2").wait(FunctionName="b3fn")
ok("create_function + function_active_v2 waiter", fn["Version"] == "1")

lam.update_function_configuration(FunctionName="b3fn", Environment={"Variables": {"GREETING": "b3"}})
lam.get_waiter("function_updated_v2").wait(FunctionName="b3fn")
v2 = lam.publish_version(FunctionName="b3fn")["Version"]
ok("publish_version after a change", v2 == "2")
ok("publish_version again is the same version", lam.publish_version(FunctionName="b3fn")["Version"] == "2")

lam.create_alias(FunctionName="b3fn", Name="live", FunctionVersion="1",
                 RoutingConfig={"AdditionalVersionWeights": {"2": 0.5}})
seen = set()
for _ in range(40):
    r = lam.invoke(FunctionName="b3fn", Qualifier="live", Payload=b"{}")
    seen.add(r["ExecutedVersion"])
ok("weighted alias routes to both versions", seen == {"1", "2"})

cc = base64.b64encode(json.dumps({"custom": {"who": "boto3"}}).encode()).decode()
r = lam.invoke(FunctionName="b3fn", Qualifier="2", Payload=json.dumps({"k": 1}).encode(),
               LogType="Tail", ClientContext=cc)
body = json.loads(r["Payload"].read())
ok("invoke payload and environment", body["event"] == {"k": 1} and body["env"] == "b3")
ok("invoke client context", body["clientContext"]["custom"]["who"] == "boto3")
ok("invoke LogType Tail", "hello from node" in base64.b64decode(r["LogResult"]).decode())

r = lam.invoke(FunctionName="b3fn", InvocationType="Event", Payload=b"{}")
ok("Event invocation answers 202", r["StatusCode"] == 202)

lam.update_function_configuration(FunctionName="b3fn", Handler="index.handled")
lam.get_waiter("function_updated_v2").wait(FunctionName="b3fn")
r = lam.invoke(FunctionName="b3fn", Payload=b"{}")
ok("handled error", r.get("FunctionError") == "Handled" and
   json.loads(r["Payload"].read())["errorMessage"] == "handled boom")

st = lam.add_permission(FunctionName="b3fn", Qualifier="live", StatementId="s3", Action="lambda:InvokeFunction",
                        Principal="s3.amazonaws.com", SourceArn="arn:aws:s3:::bkt",
                        SourceAccount="000000000000")["Statement"]
pol = json.loads(lam.get_policy(FunctionName="b3fn", Qualifier="live")["Policy"])
ok("add_permission/get_policy", json.loads(st) == pol["Statement"][0])

loc = lam.get_function(FunctionName="b3fn")["Code"]["Location"]
ok("Code.Location downloads the zip", urllib.request.urlopen(loc).read() == code)

for i in range(5):
    lam.create_function(FunctionName="pg%d" % i, Runtime="python3.12", Handler="app.handler",
                        Role=role["Arn"], Code={"ZipFile": code})
names = [f["FunctionName"] for page in lam.get_paginator("list_functions").paginate(
    PaginationConfig={"PageSize": 2}) for f in page["Functions"]]
ok("list_functions paginates", sorted(names) == sorted(["b3fn"] + ["pg%d" % i for i in range(5)]))

try:
    lam.get_alias(FunctionName="b3fn", Name="nope")
    ok("get_alias of a missing alias", False)
except lam.exceptions.ResourceNotFoundException:
    ok("get_alias of a missing alias", True)
EOF
)
echo "$out"
fails=$(echo "$out" | grep -c '^FAIL' || true)
passes=$(echo "$out" | grep -c '^ok' || true)
expect_eq "boto3 checks all passed" "0" "$fails"
expect_eq "boto3 ran every check" "15" "$passes"
finish
