#!/usr/bin/env bash
# The AWS SDK a Lambda runtime ships, inside greenroom's Lambda, reaching
# greenroom with no endpoint in the function's code (fixtures/lambda/sdk/):
#   - nodejs16.x + aws-sdk v2 (which ignores AWS_ENDPOINT_URL: greenroom's
#     node runtime points its global config at greenroom);
#   - nodejs20.x + the v3 clients, from CommonJS and from an ES module
#     (which ignores NODE_PATH); python3.12 + boto3 (both read
#     AWS_ENDPOINT_URL).
# Each puts an S3 object, publishes to an SNS topic and lists the account's
# functions; the object must be in greenroom and the message in the SQS
# queue subscribed to the topic. Also: per-client endpoints still win; each
# runtime sees only its own SDK generation (nodejs20.x has no aws-sdk v2, as
# on Lambda); a zip's own node_modules/aws-sdk wins over the machine's; a
# zip's own botocore older than 1.31 (which ignores AWS_ENDPOINT_URL) still
# reaches greenroom.
# A part whose SDK is not installed here is skipped with a note.
. "$(dirname "$0")/lib.sh"
FIX=${FIXTURES_DIR:-$(cd "$(dirname "$0")/../../fixtures" && pwd)}/lambda/sdk
ACCT=000000000000
REGION=us-east-1

# The machine's node SDK, found as greenroom finds it (lambda_exec.c).
if [ -n "${GREENROOM_NODE_SDK_PATH+x}" ]; then
    SDK_PATH=$GREENROOM_NODE_SDK_PATH
else
    SDK_PATH="${NPM_CONFIG_PREFIX:-/nonexistent}/lib/node_modules:/usr/local/lib/node_modules:/usr/lib/node_modules"
    node_bin=$(command -v node 2>/dev/null || true)
    [ -n "$node_bin" ] && SDK_PATH="$(dirname "$(dirname "$(readlink -f "$node_bin")")")/lib/node_modules:$SDK_PATH"
fi
has_node_module() {
    command -v node >/dev/null 2>&1 &&
        (cd / && NODE_PATH="$SDK_PATH" node -e "require.resolve('$1')" >/dev/null 2>&1)
}

gr_start --ephemeral
# Set-up and invokes go through curl --aws-sigv4 (instant); what the
# functions did is checked with the AWS CLI v2, once for all of them at the
# end (a CLI start takes seconds on a busy machine).
sig() { curl -sS -f --aws-sigv4 "aws:amz:$REGION:$1" --user test:test "${@:2}"; }
ROLE=arn:aws:iam::$ACCT:role/sdk
TOPIC=arn:aws:sns:$REGION:$ACCT:sdk-topic
QURL=$GR_URL/$ACCT/sdk-q
check "iam CreateRole" sig iam -d 'Action=CreateRole&Version=2010-05-08&RoleName=sdk&AssumeRolePolicyDocument=%7B%7D' "$GR_URL/"
check "s3 CreateBucket" sig s3 -X PUT "$GR_URL/sdk-bucket"
check "sns CreateTopic" sig sns -d 'Action=CreateTopic&Version=2010-03-31&Name=sdk-topic' "$GR_URL/"
check "sqs CreateQueue" sig sqs -d 'Action=CreateQueue&Version=2012-11-05&QueueName=sdk-q' "$GR_URL/"
check "sns Subscribe the queue" sig sns --data-urlencode Action=Subscribe --data-urlencode Version=2010-03-31 \
    --data-urlencode "TopicArn=$TOPIC" --data-urlencode Protocol=sqs \
    --data-urlencode "Endpoint=arn:aws:sqs:$REGION:$ACCT:sdk-q" "$GR_URL/"

# create_fn NAME RUNTIME HANDLER DIR: a function of DIR's files.
create_fn() {
    python3 - "$1" "$2" "$3" "$4" "$ROLE" "$GR_TMP/fn.json" <<'PY'
import base64, io, json, os, sys, zipfile
name, runtime, handler, root, role, out = sys.argv[1:]
buf = io.BytesIO()
with zipfile.ZipFile(buf, "w") as z:
    for d, _, files in os.walk(root):
        for f in files:
            p = os.path.join(d, f)
            z.write(p, os.path.relpath(p, root))
json.dump({"FunctionName": name, "Runtime": runtime, "Handler": handler, "Role": role, "Timeout": 30,
           "Code": {"ZipFile": base64.b64encode(buf.getvalue()).decode()}}, open(out, "w"))
PY
    sig lambda -o "$GR_TMP/create.out" -w '%{http_code}' -H 'Content-Type: application/json' \
        --data @"$GR_TMP/fn.json" "$GR_URL/2015-03-31/functions" | grep -q 201 || cat "$GR_TMP/create.out"
}
# invoke NAME PAYLOAD: the answer in $GR_TMP/out.json; prints FunctionError
# (None when there is none).
invoke() {
    sig lambda -D "$GR_TMP/h.txt" -o "$GR_TMP/out.json" -H 'Content-Type: application/json' \
        --data "$2" "$GR_URL/2015-03-31/functions/$1/invocations"
    local fe
    fe=$(tr -d '\r' <"$GR_TMP/h.txt" | sed -n 's/^[Xx]-[Aa]mz-[Ff]unction-[Ee]rror: //p')
    echo "${fe:-None}"
}
# roundtrip WHAT NAME RUNTIME HANDLER DIR: the function puts, publishes,
# lists; what it put and published is checked at the end (check_effects).
EFFECTS=()
roundtrip() {
    local what=$1 name=$2 body="hello from $1 $RANDOM"
    create_fn "$name" "$3" "$4" "$5"
    local ferr
    ferr=$(invoke "$name" "{\"bucket\":\"sdk-bucket\",\"key\":\"$name.txt\",\"body\":\"$body\",\"topicArn\":\"$TOPIC\"}")
    expect_eq "$what: the function answers without error" "None" "$ferr"
    [ "$ferr" = "None" ] || { sed 's/^/       /' "$GR_TMP/out.json"; echo; }
    expect_contains "$what: PutObject answered an ETag" '"etag":' "$(cat "$GR_TMP/out.json")"
    expect_contains "$what: ListFunctions lists the function itself" "\"$name\"" "$(cat "$GR_TMP/out.json")"
    EFFECTS+=("$what|$name.txt|$body")
}
# got_message TEXT: the queue got an SNS notification carrying TEXT (polls
# up to ~60 s; what it reads is kept in $GR_TMP/messages).
got_message() {
    local _
    for _ in $(seq 1 20); do
        grep -q "$1" "$GR_TMP/messages" 2>/dev/null && return 0
        aws2 sqs receive-message --queue-url "$QURL" --max-number-of-messages 10 \
            --wait-time-seconds 2 --query 'Messages[].Body' --output text >>"$GR_TMP/messages" 2>&1
    done
    grep -q "$1" "$GR_TMP/messages"
}
# check_effects: each roundtrip's object is in greenroom's S3 with its body,
# and its SNS message reached the subscribed queue.
check_effects() {
    [ ${#EFFECTS[@]} -gt 0 ] || return 0
    aws2 s3 cp s3://sdk-bucket "$GR_TMP/objects" --recursive >"$GR_TMP/cp.out" 2>&1 || cat "$GR_TMP/cp.out"
    local e what key body
    for e in "${EFFECTS[@]}"; do
        IFS='|' read -r what key body <<<"$e"
        expect_eq "$what: the object is in greenroom's S3" "$body" "$(cat "$GR_TMP/objects/$key" 2>&1)"
        check "$what: the SNS message reached the subscribed queue" got_message "$body"
    done
}

# ------------------------------------------------------- aws-sdk v2, nodejs16.x
if has_node_module aws-sdk; then
    roundtrip "nodejs16.x aws-sdk v2" sdkv2 nodejs16.x index.handler "$FIX/v2"
    expect_contains "nodejs16.x aws-sdk v2: S3 path-style at greenroom" "\"s3Endpoint\":\"$GR_URL/\"" \
        "$(cat "$GR_TMP/out.json")"

    create_fn sdkv2x nodejs16.x index.explicit "$FIX/v2"
    invoke sdkv2x '{}' >/dev/null
    out=$(cat "$GR_TMP/out.json")
    expect_contains "aws-sdk v2: a client's own endpoint wins" '"own":"https://s3.example.test:4443/"' "$out"
    expect_contains "aws-sdk v2: a client's own s3ForcePathStyle wins" '"ownPathStyle":false' "$out"
    expect_contains "aws-sdk v2: the other clients get greenroom" "\"other\":\"$GR_URL/\"" "$out"
    expect_contains "aws-sdk v2: a replaced AWS.config keeps greenroom" "\"replaced\":\"$GR_URL/\"" "$out"
    expect_contains "aws-sdk v2: a replaced AWS.config keeps path-style S3" '"replacedPathStyle":true' "$out"

    # the runtime of Serverless v0.5 projects
    create_fn sdkv2n43 nodejs4.3 index.explicit "$FIX/v2"
    expect_eq "nodejs4.3: aws-sdk v2 loads" "None" "$(invoke sdkv2n43 '{}')"
    expect_contains "nodejs4.3: aws-sdk v2 gets greenroom" "\"other\":\"$GR_URL/\"" "$(cat "$GR_TMP/out.json")"

    # Lambda's nodejs18.x and newer ship no aws-sdk v2
    create_fn sdkv2on20 nodejs20.x index.handler "$FIX/v2"
    expect_eq "nodejs20.x has no aws-sdk v2: Unhandled" "Unhandled" "$(invoke sdkv2on20 '{}')"
    out=$(cat "$GR_TMP/out.json")
    expect_contains "nodejs20.x has no aws-sdk v2: ImportModuleError" '"errorType":"Runtime.ImportModuleError"' "$out"
    expect_contains "nodejs20.x has no aws-sdk v2: node's message" "Cannot find module 'aws-sdk'" "$out"
else
    echo "note: aws-sdk v2 not installed for node here (ci/setup installs it): nodejs16.x part skipped"
fi

# ------------------------------------------------- v3 clients, nodejs20.x
if has_node_module @aws-sdk/client-s3 && has_node_module @aws-sdk/client-sns &&
    has_node_module @aws-sdk/client-lambda; then
    roundtrip "nodejs20.x v3 clients" sdkv3 nodejs20.x index.handler "$FIX/v3"
    # ES modules ignore NODE_PATH; Lambda's runtime still lets them import the v3 clients
    roundtrip "nodejs20.x ES module v3 clients" sdkesm nodejs20.x index.handler "$FIX/esm"

    # Lambda's nodejs16.x ships no v3 clients
    create_fn sdkv3on16 nodejs16.x index.handler "$FIX/v3"
    expect_eq "nodejs16.x has no v3 clients: Unhandled" "Unhandled" "$(invoke sdkv3on16 '{}')"
    expect_contains "nodejs16.x has no v3 clients: node's message" \
        "Cannot find module '@aws-sdk/client-s3'" "$(cat "$GR_TMP/out.json")"
else
    echo "note: @aws-sdk/client-s3/-sns/-lambda not installed for node here (ci/setup installs them): nodejs20.x part skipped"
fi

# ------------------------------------------------------- boto3, python3.12
if python3 -c 'import boto3' 2>/dev/null; then
    roundtrip "python3.12 boto3" sdkpy python3.12 app.handler "$FIX/python"
else
    echo "note: boto3 not installed for python3 here: python3.12 part skipped"
fi

# --------------------------- a zip's own botocore older than 1.31 (stubbed)
# botocore reads AWS_ENDPOINT_URL since 1.31; greenroom's python runtime
# gives an older one the endpoint itself, and leaves a newer one alone.
for v in 1.29.27 1.31.0; do
    stub=$GR_TMP/boto$v
    mkdir -p "$stub/botocore"
    cp "$FIX/oldboto/app.py" "$stub/"
    echo "__version__ = '$v'" >"$stub/botocore/__init__.py"
    cat >"$stub/botocore/session.py" <<'PY'
class Session:
    def create_client(self, service_name, region_name=None, api_version=None, use_ssl=True,
                      verify=None, endpoint_url=None, **kwargs):
        return endpoint_url
PY
    create_fn "boto${v//./}" python3.12 app.handler "$stub"
    expect_eq "botocore $v in the zip: runs" "None" "$(invoke "boto${v//./}" '{}')"
    out=$(cat "$GR_TMP/out.json")
    expect_contains "botocore $v in the zip: the function's own copy" "\"version\": \"$v\"" "$out"
    expect_contains "botocore $v in the zip: a client's own endpoint_url wins" \
        '"own": "https://own.example.test"' "$out"
    if [ "$v" = 1.29.27 ]; then
        expect_contains "botocore $v in the zip: greenroom is the default endpoint" "\"default\": \"$GR_URL\"" "$out"
    else
        expect_contains "botocore $v in the zip: reads AWS_ENDPOINT_URL itself, left alone" '"default": null' "$out"
    fi
done

# ------------------------------------- the zip's own node_modules/aws-sdk wins
# The stub is shaped as aws-sdk v2 is (lib/core.js holds AWS, with Config,
# config and a 2.x VERSION): the function gets it, and greenroom points the
# function's own copy at itself too.
if command -v node >/dev/null 2>&1; then
    stub=$GR_TMP/own/node_modules/aws-sdk
    mkdir -p "$stub/lib"
    cp "$FIX/own/index.js" "$GR_TMP/own/"
    echo '{"name":"aws-sdk","version":"2.0.0-stub","main":"index.js"}' >"$stub/package.json"
    echo "module.exports = require('./lib/core');" >"$stub/index.js"
    cat >"$stub/lib/core.js" <<'JS'
function Config() {}
module.exports = { VERSION: '2.0.0-stub-in-zip', Config: Config,
                   config: { update: function (o) { this.updated = o; } } };
JS
    for rt in nodejs16.x nodejs20.x; do
        create_fn "own${rt%%.x}" "$rt" index.handler "$GR_TMP/own"
        expect_eq "$rt: a zip with its own aws-sdk runs" "None" "$(invoke "own${rt%%.x}" '{}')"
        out=$(cat "$GR_TMP/out.json")
        expect_contains "$rt: the zip's own aws-sdk, not the machine's" '"version":"2.0.0-stub-in-zip"' "$out"
        expect_contains "$rt: the zip's own aws-sdk v2 gets greenroom's endpoint" "\"endpoint\":\"$GR_URL\"" "$out"
    done
else
    echo "note: no node here: the zip's own aws-sdk part skipped"
fi

check_effects

# ------------------------------------ where greenroom looks for the node SDK
# Without GREENROOM_NODE_SDK_PATH, a global npm root named by ~/.npmrc's
# prefix= (npm's advice for installs without root) comes first.
if command -v node >/dev/null 2>&1; then
    gr_stop
    mkdir -p "$GR_TMP/home" "$GR_TMP/npmrc-prefix/lib/node_modules/aws-sdk"
    echo "prefix = $GR_TMP/npmrc-prefix" >"$GR_TMP/home/.npmrc"
    echo "module.exports = { VERSION: 'npmrc-prefix-stub', config: {} };" \
        >"$GR_TMP/npmrc-prefix/lib/node_modules/aws-sdk/index.js"
    saved=${GREENROOM_NODE_SDK_PATH-unset}
    unset GREENROOM_NODE_SDK_PATH
    HOME="$GR_TMP/home" gr_start --ephemeral
    [ "$saved" = unset ] || export GREENROOM_NODE_SDK_PATH=$saved
    check "iam CreateRole (second greenroom)" \
        sig iam -d 'Action=CreateRole&Version=2010-05-08&RoleName=sdk&AssumeRolePolicyDocument=%7B%7D' "$GR_URL/"
    create_fn npmrc nodejs16.x index.handler "$FIX/own"
    expect_eq "~/.npmrc prefix: the function runs" "None" "$(invoke npmrc '{}')"
    expect_contains "~/.npmrc prefix: its global root is on NODE_PATH" '"version":"npmrc-prefix-stub"' \
        "$(cat "$GR_TMP/out.json")"
fi

finish
