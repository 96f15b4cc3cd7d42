# tests/js/env.sh - sourced by tests/cli/test_jssdk_*.sh after lib.sh:
#   js_require "pkg pkg..."   # 0 when node resolves every package, else prints a skip note, returns 1
#   js_run NAME [VAR=value...]  # runs tests/js/NAME.js against $GR_URL, counts its ok/FAIL lines
#   js_run_if "pkg..." NAME [VAR=value...]  # js_run, or a skip note when a package is missing
#   js_start_if "pkg..." NAME [VAR=value...]; js_collect  # the same, in parallel, each
#                                             # against its own greenroom
# Global npm modules are found through NODE_PATH (npm root -g).
JS_DIR=${JS_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}
if [ -z "${NODE_PATH:-}" ]; then
    NODE_PATH=$(npm root -g 2>/dev/null || echo /usr/lib/node_modules)
fi
export NODE_PATH NODE_NO_WARNINGS=1

js_require() {
    if ! command -v node >/dev/null 2>&1; then
        echo "node not installed: skipped"
        return 1
    fi
    local missing=""
    for p in $1; do
        node -e "require.resolve('$p')" >/dev/null 2>&1 || missing="$missing $p"
    done
    if [ -n "$missing" ]; then
        echo "not installed (npm install -g$missing): skipped"
        return 1
    fi
}

js_run_if() {
    if js_require "$1" >"$GR_TMP/require.out"; then
        shift
        js_run "$@"
    else
        echo "skip - $2.js: $(cat "$GR_TMP/require.out")"
    fi
}

# js_start_if "pkg..." NAME [VAR=value...]: starts tests/js/NAME.js in the
# background against a greenroom of its own (gr_start --ephemeral), so the
# scripts' fault rules, journals and listings never meet; js_collect waits
# for them all and counts their lines in start order.
JS_STARTED=""
js_start_if() {
    if ! js_require "$1" >"$GR_TMP/require.out"; then
        echo "skip - $2.js: $(cat "$GR_TMP/require.out")"
        return 0
    fi
    shift
    local name=$1
    shift
    gr_start --ephemeral
    env GR_URL="$GR_URL" "$@" timeout 120 node "$JS_DIR/$name.js" >"$GR_TMP/$name.out" 2>&1 &
    echo $! >"$GR_TMP/$name.pid"
    JS_STARTED="$JS_STARTED $name"
}

js_collect() {
    local name rc
    for name in $JS_STARTED; do
        wait "$(cat "$GR_TMP/$name.pid")"
        rc=$?
        js_count "$name" "$rc"
    done
    JS_STARTED=""
}

# js_count NAME RC: prints NAME's output and adds its lines to the totals
js_count() {
    local name=$1 rc=$2
    local out="$GR_TMP/$name.out"
    cat "$out"
    local p f
    p=$(grep -c '^ok   - ' "$out")
    f=$(grep -c '^FAIL - ' "$out")
    GR_PASS=$((GR_PASS + p))
    GR_FAIL=$((GR_FAIL + f))
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        GR_FAIL=$((GR_FAIL + 1))
        echo "FAIL - $name.js exited with status $rc"
    fi
}

js_run() {
    local name=$1
    shift
    env GR_URL="$GR_URL" "$@" timeout 120 node "$JS_DIR/$name.js" >"$GR_TMP/$name.out" 2>&1
    js_count "$name" $?
}
