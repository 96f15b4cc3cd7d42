#!/bin/bash
# test_rehearse_sweep.sh - `stagehand rehearse` against a real greenroom (issue 10): a sweep over
# fixtures/cd-example with the transactional deploy passes every invariant (and writes valid JUnit
# with the right counts); the same sweep with --flow v05 reports invariant-1 violations naming the
# faulted call and the replay command; a deliberately broken compensation (the test hook
# STAGEHAND_TEST_SKIP_UNDO skips one step's undo) is caught; --output json carries the cases;
# greenroom crashing at call k (rehearse's own greenroom, restarted); parallel workers (--jobs) run
# the same cases with the same results as one; a watched second stage; harness errors (the workers'
# greenrooms do not start, a worker killed during the sweep) are reported as such, apart from
# violations, with exit 9.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/test_deploy_common.inc"

gr_start
txn_setup
cd "$P" || exit 1

# --- the transactional deploy: every sampled case holds all invariants (--jobs 1: the cases run one
# at a time on this greenroom itself)
sh_run rehearse -s dev -r us-east-1 --kinds=error,throttle,reset,kill --max-cases=16 --seed=7 \
    --jobs 1 --junit="$GR_TMP/rehearse.xml"
expect_eq "deploy sweep: exit 0 (no violation)" 0 "$SH_RC"
[ "$SH_RC" = 0 ] || tail -30 "$GR_TMP/sh.out"
check "deploy sweep: N calls reported" grep -qE "clean deploy made N=[0-9]+ calls" "$GR_TMP/sh.out"
check "deploy sweep: one at a time on this greenroom" grep -q "cases run one at a time against $GR_URL" "$GR_TMP/sh.out"
check "deploy sweep: summary line" grep -qE "^16 case\(s\) over N=[0-9]+ calls, 0 violation" "$GR_TMP/sh.out"
expect_eq "JUnit: valid XML, 16 test cases, 0 failures" "16 0" "$(python3 -c '
import sys, xml.dom.minidom as m
d = m.parse(sys.argv[1])
s = d.getElementsByTagName("testsuite")[0]
assert s.getAttribute("tests") == str(len(d.getElementsByTagName("testcase")))
print(len(d.getElementsByTagName("testcase")), len(d.getElementsByTagName("failure")))' "$GR_TMP/rehearse.xml")"

# --- crash on a greenroom rehearse cannot restart (one at a time on this one) is refused, saying why
sh_run rehearse -s dev -r us-east-1 --kinds=error,crash --jobs 1
expect_eq "crash on the --endpoint-url greenroom itself: exit 2" 2 "$SH_RC"
check "crash on the --endpoint-url greenroom itself: says why" grep -q "crash needs a greenroom rehearse can restart" "$GR_TMP/sh.out"

# --- against a greenroom on this machine, the cases run on clones of its pre-deploy snapshot (same
# binary, same options), crash kind included; the greenroom itself only sees the learning run and
# ends as it was before the deploy
S0=$(last_seq)
sh_run rehearse -s dev -r us-east-1 --kinds=error,kill,crash --max-cases=12 --seed=6
expect_eq "clones: exit 0" 0 "$SH_RC"
[ "$SH_RC" = 0 ] || tail -20 "$GR_TMP/sh.out"
check "clones: the cases ran on clones" grep -q "each on a clone of $GR_URL" "$GR_TMP/sh.out"
check "clones: crash cases ran" grep -qE "^ *[0-9]+ .* crash " "$GR_TMP/sh.out"
N=$(grep -oE "made N=[0-9]+" "$GR_TMP/sh.out" | grep -oE "[0-9]+$")
expect_eq "clones: this greenroom saw the learning run, not the 12 cases" yes \
    "$([ $(( $(last_seq) - S0 )) -lt $(( 2 * N + 60 )) ] && echo yes || echo "no: $(( $(last_seq) - S0 )) calls")"
expect_eq "clones: this greenroom ends without the dev stack" 0 \
    "$(aws2 cloudformation describe-stacks --query 'length(Stacks[?StackName==`cd-example-dev-r`])' --output text 2>/dev/null || echo 0)"

# --- greenroom itself crashes at call k (rehearse runs its own greenroom and restarts it)
sh_run rehearse -s dev -r us-east-1 --greenroom="$GREENROOM_BIN" --kinds=crash --max-cases=4 --seed=2
expect_eq "crash sweep (own greenroom, restarted): exit 0" 0 "$SH_RC"
[ "$SH_RC" = 0 ] || tail -20 "$GR_TMP/sh.out"
check "crash sweep: 4 crash cases ran" test "$(grep -cE '^ *[0-9]+ .* crash ' "$GR_TMP/sh.out")" -eq 4

# --- parallel workers (each with its own greenroom) run the same cases as one worker, same order
for J in 1 3; do
    sh_run rehearse -s dev -r us-east-1 --greenroom="$GREENROOM_BIN" --jobs "$J" \
        --kinds=error,timeout,kill,crash --max-cases=12 --seed=4 --output json
    expect_eq "sampled sweep on $J worker(s): exit 0" 0 "$SH_RC"
    [ "$SH_RC" = 0 ] || tail -20 "$GR_TMP/sh.out"
    python3 -c '
import json, sys
c = json.load(open(sys.argv[1]))["result"]["cases"]
print(" ".join("%d:%s:%s" % (x["k"], x["kind"], x["result"]) for x in c))
print("workers", len(set(x.get("worker", 0) for x in c)))' "$GR_TMP/sh.out" >"$GR_TMP/jobs$J.txt"
done
expect_eq "parallel sweep: the same 12 cases, in the same order, with the same results" \
    "$(head -1 "$GR_TMP/jobs1.txt")" "$(head -1 "$GR_TMP/jobs3.txt")"
check "parallel sweep: 12 cases" test "$(head -1 "$GR_TMP/jobs3.txt" | wc -w)" -eq 12
expect_eq "parallel sweep: cases were spread over 3 workers" "workers 3" "$(tail -1 "$GR_TMP/jobs3.txt")"

# --- no endpoint at all: rehearse finds greenroom (beside stagehand, in the build tree, on PATH)
# and runs the cases on its own greenrooms, crash kind included
(unset AWS_ENDPOINT_URL; "$SH" rehearse -s dev -r us-east-1 --kinds=crash,error --max-cases=4 --seed=1 \
    >"$GR_TMP/auto.out" 2>&1; echo $? >"$GR_TMP/auto.rc")
expect_eq "no endpoint: exit 0" 0 "$(cat "$GR_TMP/auto.rc")"
check "no endpoint: cases ran on rehearse's own greenrooms" grep -q "each with its own greenroom" "$GR_TMP/auto.out"
check "no endpoint: the crash kind ran" grep -qE "^ *[0-9]+ .* crash " "$GR_TMP/auto.out"

# --- interrupted (a CI job cancelled: SIGTERM to rehearse only): it stops its workers, their deploys
# and greenrooms, removes its temp dir and exits 128+15
RT="$GR_TMP/rt"
mkdir -p "$RT"
TMPDIR="$RT" "$SH" rehearse -s dev -r us-east-1 --greenroom="$GREENROOM_BIN" --jobs 2 \
    >"$GR_TMP/int.out" 2>&1 &
RP=$!
for _ in $(seq 300); do grep -qE "^ +[0-9]+ +[a-z]" "$GR_TMP/int.out" && break; sleep 0.1; done
check "interrupt: the sweep was running" grep -qE "^ +[0-9]+ +[a-z]" "$GR_TMP/int.out"
kill -TERM "$RP"
wait "$RP"
expect_eq "interrupt: exit 143" 143 "$?"
sleep 0.5
expect_eq "interrupt: no greenroom or deploy of it left running" 0 "$(pgrep -f "$RT/" | wc -l)"
expect_eq "interrupt: its temp dir is removed" "" "$(ls "$RT")"
check "interrupt: says so" grep -q "interrupted by signal 15" "$GR_TMP/int.out"

# --- harness errors: the workers' greenrooms do not start (a --greenroom wrapper that runs greenroom
# once, for the learning run, then exits at once): every case is a harness error, not a violation:
# exit 9, counted apart in the summary, --output json and JUnit (an <error>, no <failure>), naming which
WRAP="$GR_TMP/greenroom-once"
printf '#!/bin/sh\nmkdir "$0.started" 2>/dev/null && exec "%s" "$@"\nexit 1\n' "$GREENROOM_BIN" >"$WRAP"
chmod +x "$WRAP"
sh_run rehearse -s dev -r us-east-1 --greenroom="$WRAP" --jobs 2 --kinds=error --max-cases=3 --seed=1 \
    --junit="$GR_TMP/harness.xml"
expect_eq "harness errors: exit 9 (not 8)" 9 "$SH_RC"
[ "$SH_RC" = 9 ] || tail -20 "$GR_TMP/sh.out"
check "harness errors: the summary counts them apart from violations" \
    grep -qE "^3 case\(s\) over N=[0-9]+ calls, 0 violation\(s\), 3 harness error\(s\)" "$GR_TMP/sh.out"
check "harness errors: the table says which" grep -qE "^ +[0-9]+ .* ERROR: greenroom failed to start" "$GR_TMP/sh.out"
check "harness errors: the first one is named" \
    grep -qE "^first harness error .*: greenroom failed to start: .*worker [0-9]+: its greenroom .* did not start" "$GR_TMP/sh.out"
expect_eq "harness errors JUnit: 3 test cases, 0 failures, 3 errors" "3 0 3 3" "$(python3 -c '
import sys, xml.dom.minidom as m
d = m.parse(sys.argv[1])
s = d.getElementsByTagName("testsuite")[0]
print(len(d.getElementsByTagName("testcase")), len(d.getElementsByTagName("failure")),
      len(d.getElementsByTagName("error")), s.getAttribute("errors"))' "$GR_TMP/harness.xml")"
rm -rf "$WRAP.started"
sh_run rehearse -s dev -r us-east-1 --greenroom="$WRAP" --jobs 2 --kinds=error --max-cases=3 --seed=1 \
    --output json
expect_eq "harness errors JSON: exit 9 named harness, 0 violations, 3 harness errors, each a greenroom that did not start" \
    "9 harness 0 3 error:greenroom failed to start" "$SH_RC $(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
r = d["result"]
print(d["exit"], r["violations"], r["harnessErrors"],
      " ".join(sorted(set("%s:%s" % (c["result"], c.get("harnessError")) for c in r["cases"]))))' "$GR_TMP/sh.out")"

# --- a worker dies during the sweep (SIGKILL to one of rehearse's worker processes): its case is a
# harness error "worker died", the other worker runs the rest, no violation, exit 9
"$SH" rehearse -s dev -r us-east-1 --greenroom="$GREENROOM_BIN" --jobs 2 --kinds=error,kill --max-cases=8 \
    --seed=5 --output json --endpoint-url "$GR_URL" >"$GR_TMP/wd.out" 2>"$GR_TMP/wd.err" &
RP=$!
W=""
for _ in $(seq 1200); do
    # a worker (a child running "stagehand rehearse") that has started its greenroom: it has its case
    W=$(ps -o pid=,args= --ppid "$RP" | awk '/ rehearse / {print $1; exit}')
    [ -n "$W" ] && ps -o args= --ppid "$W" | grep -q greenroom && break
    W=""
    sleep 0.05
done
check "worker killed: a worker was running" test -n "$W"
[ -n "$W" ] && kill -KILL "$W"
wait "$RP"
expect_eq "worker killed: exit 9, 8 cases, 0 violations, one 'worker died' (signal 9), the rest ok" \
    "9 8 0 1 yes 7" "$? $(python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))["result"]
c = r["cases"]
d = [x for x in c if x.get("harnessError") == "worker died"]
print(len(c), r["violations"], len(d), "yes" if d and "signal 9" in d[0]["detail"] else "no",
      sum(1 for x in c if x["result"] == "ok"))' "$GR_TMP/wd.out" 2>&1)"

# --- another stage is watched: production is deployed first and must never change
sh_run rehearse -s dev -r us-east-1 --watch production --kinds=error,kill --max-cases=4 --seed=11
expect_eq "watched production: exit 0" 0 "$SH_RC"
[ "$SH_RC" = 0 ] || tail -20 "$GR_TMP/sh.out"

# --- the v0.5 six-command flow: a failure mid-way leaves the stage half-deployed
sh_run rehearse -s dev -r us-east-1 --flow v05 --kinds=error --max-cases=6 --seed=3 --junit="$GR_TMP/v05.xml"
expect_eq "v05 sweep: exit 8 (violations)" 8 "$SH_RC"
check "v05 sweep: invariant 1 violated" grep -q "invariant 1 (failure leaves the stage as it was) violated" "$GR_TMP/sh.out"
check "v05 sweep: first violation names the call and the field" \
    grep -qE "^first violation: k=[0-9]+ error \((s3|lambda|apigateway|cloudformation|sns|sts) [A-Za-z]+ .*field " "$GR_TMP/sh.out"
check "v05 sweep: replay command" grep -qE "replay: stagehand rehearse .*--flow v05 --only [0-9]+ --kind error" "$GR_TMP/sh.out"
expect_eq "v05 JUnit: failures counted" yes "$(python3 -c '
import sys, xml.dom.minidom as m
d = m.parse(sys.argv[1])
print("yes" if len(d.getElementsByTagName("failure")) > 0 else "no")' "$GR_TMP/v05.xml")"

# the replay of one case runs exactly that case
K=$(grep -oE "^first violation: k=[0-9]+" "$GR_TMP/sh.out" | grep -oE "[0-9]+$")
sh_run rehearse -s dev -r us-east-1 --flow v05 --only "$K" --kind error --output json
expect_eq "replay: exit 8" 8 "$SH_RC"
expect_eq "replay: one case, the same k, violated" "1 $K yes" "$(python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))["result"]
c = r["cases"]
print(len(c), c[0]["k"], "yes" if c[0]["result"] != "ok" else "no")' "$GR_TMP/sh.out")"

# --- a broken compensation (the stack's undo skipped) is caught
STAGEHAND_TEST_SKIP_UNDO=stack sh_run rehearse -s dev -r us-east-1 --kinds=error --max-cases=6 --seed=5
expect_eq "broken compensation: exit 8" 8 "$SH_RC"
check "broken compensation: the stack is named" grep -qE "first violation: .*field stack" "$GR_TMP/sh.out"

# --- a project whose meta bucket is named after the stage (custom.meta.name "mini-meta-${stage}"),
# rehearsed before its first deploy: the pre-deploy state must resolve ${stage} like the deploy does
MINI="$GR_TMP/mini.$RANDOM"
cp -a "${FIXTURES_DIR:-$(dirname "$0")/../../fixtures}/projects/mini" "$MINI"
(cd "$MINI" && sh_run rehearse -s dev -r us-east-1 --kinds=error --max-cases=8 --seed=3 && echo "$SH_RC" >"$GR_TMP/mini.rc")
expect_eq "stage-named meta bucket, never deployed: failed deploys leave it as it was" 0 "$(cat "$GR_TMP/mini.rc")"
[ "$(cat "$GR_TMP/mini.rc")" = 0 ] || tail -5 "$GR_TMP/sh.out"

# --- harness errors in clone mode: a greenroom started with --credentials FILE whose FILE is then
# removed: its clones, started with its options, do not start; each case says so, no violation
CRED="$GR_TMP/creds"
echo "test test 000000000000" >"$CRED"
gr_start --credentials "$CRED"
rm -f "$CRED"
sh_run rehearse -s dev -r us-east-1 --kinds=error --max-cases=2 --seed=1 --jobs 2 --output json
expect_eq "clones that do not start: exit 9, 0 violations, 2 harness errors, each a clone that did not start" \
    "9 0 2 error:greenroom clone failed to start" "$SH_RC $(python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))["result"]
print(r["violations"], r["harnessErrors"],
      " ".join(sorted(set("%s:%s" % (c["result"], c.get("harnessError")) for c in r["cases"]))))' "$GR_TMP/sh.out" 2>&1)"

txn_teardown
finish
