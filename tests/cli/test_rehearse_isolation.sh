#!/bin/bash
# test_rehearse_isolation.sh - two `stagehand rehearse` runs at once against one greenroom: each
# run's names are its own (snapshot stagehand-rehearse-<host>-<pid>-<random>, fault rule ids), the
# runs take turns on the shared greenroom (its setup: snapshot, learning run, restore), so both
# end with 0 violations and the same cases and results as a lone run; the greenroom ends with no
# rehearse snapshot; the snapshot of a killed run on this machine is removed by the next run, a
# live run's or another machine's is kept. Both the clone mode (--jobs 2: cases on clones) and the
# one-at-a-time mode (--jobs 1: cases on the greenroom itself, the whole run takes its turn). A run
# interrupted in its setup deletes its snapshot and restores the greenroom; a run whose snapshot is
# deleted under it reports harness errors (snapshot restore failed), not violations.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/test_deploy_common.inc"

gr_start
txn_setup
cd "$P" || exit 1

snapshots() {
    curl -s "$GR_URL/_greenroom/snapshots" | python3 -c '
import json, sys
print(" ".join(sorted(s["name"] for s in json.load(sys.stdin)["snapshots"])))'
}

cases_of() {
    python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))["result"]
print("N=%d violations=%d errors=%d %s" % (r["calls"], r["violations"], r.get("harnessErrors", 0),
      " ".join("%d:%s:%s" % (c["k"], c["kind"], c["result"]) for c in r["cases"])))' "$1" 2>&1
}

# stale snapshots: a killed rehearse run's on this machine (its pid is gone), a live one's (this
# shell's pid), another machine's
HOST=$(hostname | tr -c 'A-Za-z0-9.\n-' '_' | cut -c1-40)
sh -c 'exit 0' &
DEAD=$!
wait "$DEAD"
for n in "stagehand-rehearse-$HOST-$DEAD-dead01" "stagehand-rehearse-$HOST-$$-live01" \
    "stagehand-rehearse-elsewhere.example-1-other1"; do
    curl -s -o /dev/null -w '%{http_code}\n' -X POST -H 'Content-Type: application/json' \
        -d "{\"name\":\"$n\"}" "$GR_URL/_greenroom/snapshots" >>"$GR_TMP/snap.codes"
done
# what must be left: the live run's and the other machine's, sorted as snapshots() sorts
KEPT=$(printf '%s\n' "stagehand-rehearse-$HOST-$$-live01" "stagehand-rehearse-elsewhere.example-1-other1" |
    LC_ALL=C sort | tr '\n' ' ' | sed 's/ $//')
expect_eq "three stale-looking snapshots made" "200 200 200" "$(tr '\n' ' ' <"$GR_TMP/snap.codes" | sed 's/ $//')"

for J in 2 1; do
    ARGS=(rehearse -s dev -r us-east-1 --kinds=error,kill --max-cases=4 --seed=9 --jobs "$J" --output json)
    # two at once
    "$SH" "${ARGS[@]}" --endpoint-url "$GR_URL" >"$GR_TMP/a$J.out" 2>"$GR_TMP/a$J.err" &
    PA=$!
    "$SH" "${ARGS[@]}" --endpoint-url "$GR_URL" >"$GR_TMP/b$J.out" 2>"$GR_TMP/b$J.err" &
    PB=$!
    wait "$PA"
    RA=$?
    wait "$PB"
    RB=$?
    # alone
    "$SH" "${ARGS[@]}" --endpoint-url "$GR_URL" >"$GR_TMP/c$J.out" 2>"$GR_TMP/c$J.err"
    RC=$?
    expect_eq "jobs $J: two runs at once and a lone run all exit 0" "0 0 0" "$RA $RB $RC"
    C=$(cases_of "$GR_TMP/c$J.out")
    expect_eq "jobs $J: the lone run: 0 violations, 0 harness errors" "violations=0 errors=0" \
        "$(echo "$C" | grep -oE "violations=[0-9]+ errors=[0-9]+")"
    expect_eq "jobs $J: the first of two at once: the same calls, cases and results as alone" "$C" \
        "$(cases_of "$GR_TMP/a$J.out")"
    expect_eq "jobs $J: the second of two at once: the same calls, cases and results as alone" "$C" \
        "$(cases_of "$GR_TMP/b$J.out")"
    if [ "$RA $RB $RC" != "0 0 0" ]; then
        tail -n 5 "$GR_TMP/a$J.err" "$GR_TMP/b$J.err" "$GR_TMP/c$J.err"
    fi
    expect_eq "jobs $J: the greenroom ends with no snapshot of these runs" \
        "$KEPT" "$(snapshots)"
done

check "the killed run's snapshot: the run that deleted it says so" \
    grep -q "deleted snapshot stagehand-rehearse-$HOST-$DEAD-dead01 of a rehearse run that is gone" \
    "$GR_TMP/a2.err" "$GR_TMP/b2.err"

# every run's snapshot name is its own: the runs at once named theirs after their pids
check "a run at once named its snapshot after its pid" grep -qE "stagehand-rehearse-$HOST-[0-9]+-[0-9a-f]+" \
    "$GR_TMP/a2.out"

# interrupted during its setup (SIGTERM after its learning run, the test hook
# STAGEHAND_TEST_REHEARSE_PAUSE_MS holding it there): its snapshot is deleted and the greenroom
# restored to it; the next run does not wait for a turn
STAGEHAND_TEST_REHEARSE_PAUSE_MS=60000 "$SH" rehearse -s dev -r us-east-1 --kinds=error --jobs 2 \
    --endpoint-url "$GR_URL" >"$GR_TMP/int.out" 2>&1 &
PI=$!
for _ in $(seq 600); do grep -q "test pause" "$GR_TMP/int.out" && break; sleep 0.1; done
check "interrupted in its setup: it paused after its learning run" grep -q "test pause" "$GR_TMP/int.out"
expect_eq "interrupted in its setup: the dev stack was deployed, its snapshot made" "1 yes" \
    "$(aws2 cloudformation describe-stacks --query 'length(Stacks[?StackName==`cd-example-dev-r`])' \
        --output text 2>/dev/null) $(snapshots | grep -q "stagehand-rehearse-$HOST-$PI-" && echo yes)"
kill -TERM "$PI"
wait "$PI"
expect_eq "interrupted in its setup: exit 143" 143 "$?"
expect_eq "interrupted in its setup: its snapshot is deleted" "$KEPT" "$(snapshots)"
expect_eq "interrupted in its setup: the greenroom is restored (no dev stack)" 0 \
    "$(aws2 cloudformation describe-stacks --query 'length(Stacks[?StackName==`cd-example-dev-r`])' --output text 2>/dev/null || echo 0)"
sh_run rehearse -s dev -r us-east-1 --kinds=error --max-cases=1 --jobs 2
expect_eq "after the interrupted run: the next one runs at once" "0 no" \
    "$SH_RC $(grep -q "waiting for its turn" "$GR_TMP/sh.out" && echo waited || echo no)"

# someone deletes a running run's snapshot (cases one at a time on this greenroom): the cases after
# that cannot restore it: harness errors "snapshot restore failed", not violations, exit 9
"$SH" rehearse -s dev -r us-east-1 --kinds=error --max-cases=6 --seed=2 --jobs 1 --endpoint-url "$GR_URL" \
    >"$GR_TMP/gone.out" 2>&1 &
PG=$!
for _ in $(seq 1200); do grep -qE "^ +[0-9]+ +[a-z]" "$GR_TMP/gone.out" && break; sleep 0.05; done
check "snapshot deleted under a run: its first case had run" grep -qE "^ +[0-9]+ +[a-z]" "$GR_TMP/gone.out"
curl -s -o /dev/null -X DELETE "$GR_URL/_greenroom/snapshots/$(snapshots | tr ' ' '\n' | grep -- "-$PG-")"
wait "$PG"
expect_eq "snapshot deleted under a run: exit 9" 9 "$?"
check "snapshot deleted under a run: the later cases say so" \
    grep -qE "^ +[0-9]+ .* ERROR: snapshot restore failed" "$GR_TMP/gone.out"
check "snapshot deleted under a run: no violation" \
    grep -qE "^6 case\(s\) over N=[0-9]+ calls, 0 violation\(s\), [1-5] harness error\(s\)" "$GR_TMP/gone.out"

txn_teardown
finish
