#!/bin/bash
# test_deploy_events_undo.sh - a failed `stagehand deploy` undoes the event wiring of s3 and stream
# events (issue 9 follow-up): the bucket's previous notification configuration is put back (the
# previous deploy's filter, then nothing at all when the deploy added the event), a stream mapping
# the deploy created is deleted, and an existing mapping gets its previous BatchSize/Enabled back.
# The failure is a 503 on UpdateAlias (commit phase), so every prepare step, events included, is
# compensated. `status` shows the bucket's configurations and the mappings, and a rehearse sweep of
# the project holds every invariant.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/test_deploy_common.inc"

gr_start
txn_setup
cd "$P" || exit 1
BUCKET=cd-example-uploads-undo
STREAM=arn:aws:kinesis:us-east-1:000000000000:stream/books-undo
FRESH=arn:aws:kinesis:us-east-1:000000000000:stream/books-fresh
ALIAS=arn:aws:lambda:us-east-1:000000000000:function:cd-example-notifications-books:dev
FN=src/notifications/books/s-function.json
aws2 s3api create-bucket --bucket "$BUCKET" >/dev/null

# events PREFIX BATCH ENABLED [FRESH]: the function's events (sns kept, s3 + kinesis, optionally a
# second stream)
events() {
    python3 - "$FN" "$@" <<'EOF'
import json, sys
p, prefix, batch, enabled = sys.argv[1:5]
f = json.load(open(p))
ev = [e for e in f["events"] if e["type"] == "sns"]
ev.append({"name": "uploads", "type": "s3", "config": {"bucket": "cd-example-uploads-undo",
           "bucketEvents": ["s3:ObjectCreated:*"], "filterRules": [{"name": "prefix", "value": prefix}]}})
ev.append({"name": "stream", "type": "kinesisstream", "config": {
           "streamArn": "arn:aws:kinesis:us-east-1:000000000000:stream/books-undo",
           "batchSize": int(batch), "enabled": enabled == "true", "startingPosition": "TRIM_HORIZON"}})
if len(sys.argv) > 5:
    ev.append({"name": "fresh", "type": "kinesisstream", "config": {"streamArn": sys.argv[5],
               "batchSize": 7, "startingPosition": "LATEST"}})
f["events"] = ev
json.dump(f, open(p, "w"), indent=2)
EOF
}
notif() { aws2 s3api get-bucket-notification-configuration --bucket "$BUCKET" --output json; }
prefixes() {
    notif | python3 -c '
import json, sys
t = sys.stdin.read().strip()
d = json.loads(t) if t else {}
print(" ".join(r["Value"] for c in d.get("LambdaFunctionConfigurations", [])
               for r in c.get("Filter", {}).get("Key", {}).get("FilterRules", [])) or "none")'
}
esm() { # esm STREAM: "BatchSize State" of each mapping of STREAM on the dev alias
    aws2 lambda list-event-source-mappings --event-source-arn "$1" --function-name "$ALIAS" \
        --query 'EventSourceMappings[].[BatchSize,State]' --output text | tr '\t' ' '
}
fail_commit() { # deploy with the first UpdateAlias answering 503 for both attempts (STAGEHAND_MAX_ATTEMPTS=2)
    set_version "$1"
    fault '[{"service":"lambda","operation":"UpdateAlias","times":2,"error":{"statusCode":503,"code":"ServiceUnavailable","message":"injected"}}]'
    sh_run deploy -s dev -r us-east-1
    clear_faults
}

# --- the stage deployed without them; a deploy adding s3 and stream events fails
sh_ok deploy -s dev -r us-east-1 >/dev/null
check "baseline deploy succeeds" test "$SH_RC" = 0
expect_eq "baseline: no notification on the bucket" none "$(prefixes)"
expect_eq "baseline: no mapping" "" "$(esm "$STREAM")"

events in/ 10 true
fail_commit 2
expect_eq "adding s3+stream events, commit fails: exit 7 (rolled back)" 7 "$SH_RC"
[ "$SH_RC" = 7 ] || tail -20 "$GR_TMP/sh.out"
expect_eq "rolled back: the bucket has no notification again" none "$(prefixes)"
expect_eq "rolled back: the created mapping is deleted" "" "$(esm "$STREAM")"

# --- the events deployed; a later deploy changes them and fails: the previous wiring comes back
sh_ok deploy -s dev -r us-east-1 >/dev/null
check "events deployed" test "$SH_RC" = 0
expect_eq "deployed: the bucket notifies with prefix in/" "in/" "$(prefixes)"
expect_eq "deployed: one mapping, BatchSize 10, enabled" "10 Enabled" "$(esm "$STREAM")"
notif >"$GR_TMP/notif.before"

events new/ 50 false "$FRESH"
fail_commit 3
expect_eq "changing the events, commit fails: exit 7" 7 "$SH_RC"
[ "$SH_RC" = 7 ] || tail -20 "$GR_TMP/sh.out"
check "the wiring was changed before the failure" grep -q "event uploads: wired" "$GR_TMP/sh.out"
expect_eq "rolled back: the previous notification configuration, exactly" "$(cat "$GR_TMP/notif.before")" "$(notif)"
expect_eq "rolled back: the mapping has its BatchSize 10 and is enabled again" "10 Enabled" "$(esm "$STREAM")"
expect_eq "rolled back: the mapping created for the new stream is deleted" "" "$(esm "$FRESH")"

# --- and the next plain deploy applies the change
sh_ok deploy -s dev -r us-east-1 >/dev/null
check "the next deploy succeeds" test "$SH_RC" = 0
expect_eq "redeployed: prefix new/" "new/" "$(prefixes)"
expect_eq "redeployed: BatchSize 50, disabled" "50 Disabled" "$(esm "$STREAM")"
expect_eq "redeployed: the new stream's mapping" "7 Enabled" "$(esm "$FRESH")"

# --- status shows the wiring; rehearse checks it (invariants hold with s3 and stream events)
expect_eq "status: the bucket's configuration and the mappings" "1 new/ 2" "$("$SH" status -s dev -r us-east-1 \
    --endpoint-url "$GR_URL" --output json 2>/dev/null | python3 -c '
import json, sys
s = json.load(sys.stdin)["result"]["state"]
n = s["notifications"]["cd-example-uploads-undo"]
print(len(n), "new/" if "new/" in n[0] else n, len(s["mappings"]))')"
sh_run rehearse -s dev -r us-east-1 --kinds=error,kill --max-cases=8 --seed=3
expect_eq "rehearse with s3 and stream events: exit 0" 0 "$SH_RC"
[ "$SH_RC" = 0 ] || tail -20 "$GR_TMP/sh.out"

txn_teardown
finish
