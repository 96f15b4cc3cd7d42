# tests/cli/lib.sh - shared by the real-client test scripts.
#
#   . "$(dirname "$0")/lib.sh"
#   gr_start [greenroom flags...]   # sets GR_URL, GR_PORT, GR_STATE, GR_PID; stops on exit
#   aws2 s3 ls                      # AWS CLI v2 against greenroom (test/test, us-east-1)
#   check "what" cmd...             # runs cmd, counts a pass or a failure
#   expect_eq "what" expected actual
#   gr_zipdir DIR OUT.zip           # a Lambda deployment package of DIR's files
#   finish                          # prints "N passed, M failed" and exits non-zero on failure
set -u
GREENROOM_BIN=${GREENROOM_BIN:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build/emulator/greenroom}
STAGEHAND_BIN=${STAGEHAND_BIN:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build/deployer/stagehand}
AWS_CLI=${AWS_CLI:-/usr/bin/aws}
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1 AWS_PAGER=
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
unset AWS_PROFILE AWS_ENDPOINT_URL 2>/dev/null || true
GR_PASS=0
GR_FAIL=0
GR_PIDS=""
GR_TMP=$(mktemp -d "${TMPDIR:-/tmp}/gr-cli-XXXXXX")

gr_cleanup() {
    for p in $GR_PIDS; do kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$GR_TMP"
}
trap gr_cleanup EXIT

# gr_start [flags]: a fresh greenroom on a free port with its own state dir.
gr_start() {
    GR_STATE="$GR_TMP/state.$RANDOM"
    mkdir -p "$GR_STATE"
    local out="$GR_TMP/port.$RANDOM"
    "$GREENROOM_BIN" --port 0 --state-dir "$GR_STATE" "$@" >"$out" 2>>"$GR_TMP/greenroom.log" &
    GR_PID=$!
    GR_PIDS="$GR_PIDS $GR_PID"
    local i=0
    while [ ! -s "$out" ] && [ $i -lt 200 ]; do sleep 0.02; i=$((i + 1)); done
    GR_PORT=$(head -n1 "$out")
    GR_URL="http://127.0.0.1:$GR_PORT"
    export GR_URL GR_PORT GR_STATE GR_PID
    i=0
    until curl -fsS "$GR_URL/_greenroom/health" >/dev/null 2>&1; do
        sleep 0.02; i=$((i + 1))
        [ $i -gt 250 ] && { echo "greenroom did not start"; cat "$GR_TMP/greenroom.log"; exit 1; }
    done
}

gr_stop() {
    kill "$GR_PID" 2>/dev/null
    wait "$GR_PID" 2>/dev/null
}

# gr_zipdir DIR OUT: zip every file under DIR (paths relative to it) into OUT.
gr_zipdir() {
    python3 - "$1" "$2" <<'PY'
import os, sys, zipfile
root, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(out, "w") as z:
    for d, _, files in os.walk(root):
        for f in files:
            p = os.path.join(d, f)
            z.write(p, os.path.relpath(p, root))
PY
}

aws2() {
    "$AWS_CLI" --endpoint-url "$GR_URL" --output json "$@"
}

check() {
    local what=$1
    shift
    if "$@" >"$GR_TMP/check.out" 2>&1; then
        GR_PASS=$((GR_PASS + 1)); echo "ok   - $what"
    else
        GR_FAIL=$((GR_FAIL + 1)); echo "FAIL - $what"; sed 's/^/       /' "$GR_TMP/check.out" | head -30
    fi
}

expect_eq() {
    if [ "$2" = "$3" ]; then
        GR_PASS=$((GR_PASS + 1)); echo "ok   - $1"
    else
        GR_FAIL=$((GR_FAIL + 1)); echo "FAIL - $1: expected [$2], got [$3]"
    fi
}

expect_contains() {
    case "$3" in
        *"$2"*) GR_PASS=$((GR_PASS + 1)); echo "ok   - $1" ;;
        *) GR_FAIL=$((GR_FAIL + 1)); echo "FAIL - $1: [$3] does not contain [$2]" ;;
    esac
}

finish() {
    echo "$GR_PASS passed, $GR_FAIL failed"
    [ "$GR_FAIL" -eq 0 ]
}
