#!/bin/bash
# test_deploy_stages.sh - what stages share (issue 9): an endpoint added on develop and deployed to
# dev lives in the REST API's shared working copy; production's next deploy (from the older
# project) must not include it in its stage, while dev keeps serving it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/test_deploy_common.inc"

gr_start
txn_setup
cd "$P" || exit 1

check "deploy dev" sh_ok deploy -s dev -r us-east-1
check "deploy production" sh_ok deploy -s production -r us-east-1
API=$(aws2 apigateway get-rest-apis --query 'items[0].id' --output text)

# develop: books-get also answers GET /books/latest
cp "$P/src/books/get/s-function.json" "$GR_TMP/get.json"
python3 - "$P/src/books/get/s-function.json" <<'EOF'
import json, sys
f = json.load(open(sys.argv[1]))
e = dict(f["endpoints"][0])
e["path"] = "books/latest"
f["endpoints"].append(e)
json.dump(f, open(sys.argv[1], "w"), indent=2)
EOF
check "deploy dev with the new endpoint" sh_ok deploy -s dev -r us-east-1
expect_eq "dev serves /books/latest" dev \
    "$(curl -s "$GR_URL/restapis/$API/dev/_user_request_/books/latest" | python3 -c 'import json,sys; print(json.load(sys.stdin).get("stage"))' 2>/dev/null)"

# master (the older project, without the endpoint) deploys production with a change
cp "$GR_TMP/get.json" "$P/src/books/get/s-function.json"
set_version 2
check "deploy production from the older project" sh_ok deploy -s production -r us-east-1
expect_eq "production serves app_version 2" 2 "$(books "$API" production app_version)"
code=$(curl -s -o /dev/null -w '%{http_code}' "$GR_URL/restapis/$API/production/_user_request_/books/latest")
check "dev's new endpoint did not leak into production (HTTP $code)" test "$code" != 200
expect_eq "dev still serves /books/latest" dev \
    "$(curl -s "$GR_URL/restapis/$API/dev/_user_request_/books/latest" | python3 -c 'import json,sys; print(json.load(sys.stdin).get("stage"))' 2>/dev/null)"

txn_teardown
finish
