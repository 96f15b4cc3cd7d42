#!/bin/bash
# test_rehearse_full.sh - the whole rehearsal of fixtures/cd-example (issue 10): every call
# ordinal k of the transactional deploy times every fault kind (error, throttle, reset, timeout,
# kill, crash), run as the issue says (--endpoint-url of a greenroom on this machine: the cases run
# on clones of it, default --jobs), holds every invariant;
# the JUnit file has one test case per (k, kind) and no failure; every call of the deploy had a
# fault fired at it. Prints the sweep's wall time (informational, never asserted).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/test_deploy_common.inc"

gr_start
txn_setup
cd "$P" || exit 1

sh_run rehearse -s dev -r us-east-1 --junit="$GR_TMP/full.xml" \
    --output json
expect_eq "full sweep: exit 0 (no violation)" 0 "$SH_RC"
[ "$SH_RC" = 0 ] || python3 -c '
import json, sys
for c in json.load(open(sys.argv[1]))["result"]["cases"]:
    if c["result"] != "ok":
        print(c["k"], c["kind"], c.get("operation"), c["detail"])' "$GR_TMP/sh.out" | head -20
python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))["result"]
c = r["cases"]
n = r["calls"]
kinds = ["error", "throttle", "reset", "timeout", "kill", "crash"]
want = [(k, kind) for k in range(1, n + 1) for kind in kinds]
print("N>=50", "yes" if n >= 50 else "no")
print("every (k, kind) once, in order", "yes" if [(x["k"], x["kind"]) for x in c] == want else "no")
print("faults fired at every call", "yes" if all(x.get("fired") for x in c) else "no")
print("violations", r["violations"])
print("# N=%d, %d cases, wall %.1f s" % (n, len(c), r["wallMs"] / 1000.0), file=sys.stderr)
' "$GR_TMP/sh.out" >"$GR_TMP/full.txt"
expect_eq "full sweep: the deploy has N >= 50 calls" "N>=50 yes" "$(sed -n 1p "$GR_TMP/full.txt")"
expect_eq "full sweep: every (k, kind) ran once, in order" "every (k, kind) once, in order yes" \
    "$(sed -n 2p "$GR_TMP/full.txt")"
expect_eq "full sweep: a fault fired in every case" "faults fired at every call yes" \
    "$(sed -n 3p "$GR_TMP/full.txt")"
expect_eq "full sweep: 0 violations" "violations 0" "$(sed -n 4p "$GR_TMP/full.txt")"
expect_eq "full sweep JUnit: one test case per (k, kind), no failure" yes "$(python3 -c '
import json, sys, xml.dom.minidom as m
d = m.parse(sys.argv[1])
n = json.load(open(sys.argv[2]))["result"]["calls"]
t = len(d.getElementsByTagName("testcase"))
print("yes" if t == 6 * n and not d.getElementsByTagName("failure") else "no: %d cases" % t)' \
    "$GR_TMP/full.xml" "$GR_TMP/sh.out")"

txn_teardown
finish
