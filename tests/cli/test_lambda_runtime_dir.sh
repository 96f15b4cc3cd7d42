#!/usr/bin/env bash
# Where greenroom finds its runtime clients (node/runtime.js, python/runtime.py): GREENROOM_RUNTIME_DIR
# when set (an installed greenroom without its checkout uses <prefix>/share/greenroom/runtime, which
# `ninja install` fills), else the source tree it was built from. A copy of the runtimes named by the
# variable runs functions; a directory without them makes the invoke fail as a broken runtime does
# (Unhandled, Runtime.ExitError), which shows the variable is what is used.
. "$(dirname "$0")/lib.sh"

SRC=$(cd "$(dirname "$0")/../.." && pwd)
FIX=${FIXTURES_DIR:-$SRC/fixtures}
python3 - "$FIX/lambda/node" "$GR_TMP/fn.json" <<'PY'
import base64, io, json, os, sys, zipfile
root, out = sys.argv[1], sys.argv[2]
buf = io.BytesIO()
with zipfile.ZipFile(buf, "w") as z:
    for d, _, files in os.walk(root):
        for f in files:
            p = os.path.join(d, f)
            z.write(p, os.path.relpath(p, root))
json.dump({"FunctionName": "rt", "Runtime": "nodejs20.x", "Handler": "index.handler",
           "Role": "arn:aws:iam::000000000000:role/r",
           "Code": {"ZipFile": base64.b64encode(buf.getvalue()).decode()}}, open(out, "w"))
PY
sig() { curl -s --aws-sigv4 "aws:amz:us-east-1:$1" --user test:test "${@:2}"; }
setup_fn() {
    sig iam -o /dev/null -d 'Action=CreateRole&Version=2010-05-08&RoleName=r&AssumeRolePolicyDocument=%7B%7D' "$GR_URL/"
    sig lambda -o /dev/null -H 'Content-Type: application/json' --data @"$GR_TMP/fn.json" \
        "$GR_URL/2015-03-31/functions"
}
invoke() {
    sig lambda -D "$GR_TMP/h.txt" -o "$GR_TMP/out.json" -H 'Content-Type: application/json' \
        --data '{"k":"v"}' "$GR_URL/2015-03-31/functions/rt/invocations"
    tr -d '\r' <"$GR_TMP/h.txt" | sed -n 's/^[Xx]-[Aa]mz-[Ff]unction-[Ee]rror: //p'
}

cp -a "$SRC/emulator/runtime" "$GR_TMP/runtimes"
GREENROOM_RUNTIME_DIR="$GR_TMP/runtimes" gr_start --ephemeral
setup_fn
expect_eq "runtimes from GREENROOM_RUNTIME_DIR: the function runs" "" "$(invoke)"
check "runtimes from GREENROOM_RUNTIME_DIR: its answer" grep -q '"ok":true' "$GR_TMP/out.json"
gr_stop

mkdir -p "$GR_TMP/empty"
GREENROOM_RUNTIME_DIR="$GR_TMP/empty" gr_start --ephemeral
setup_fn
expect_eq "no runtimes in GREENROOM_RUNTIME_DIR: Unhandled" "Unhandled" "$(invoke)"
check "no runtimes in GREENROOM_RUNTIME_DIR: the runtime exited" grep -q "Runtime.ExitError" "$GR_TMP/out.json"
gr_stop

finish
