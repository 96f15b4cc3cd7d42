#!/usr/bin/env bash
# AWS CLI v2 Lambda round trip against greenroom: create-function (role
# checked), publish-version twice with unchanged code -> same version,
# create-alias, update-alias with a routing config, invoke with a qualifier,
# add-permission, get-policy, plus the errors the CLI must see.
. "$(dirname "$0")/lib.sh"
gr_start --ephemeral

FIX=${FIXTURES_DIR:-$(cd "$(dirname "$0")/../../fixtures" && pwd)}
ZIP="$GR_TMP/fn.zip"
gr_zipdir "$FIX/lambda/node" "$ZIP"

ROLE=arn:aws:iam::000000000000:role/lambda-role
out=$(aws2 lambda create-function --function-name cli-fn --runtime nodejs20.x --handler index.handler \
    --role "$ROLE" --zip-file "fileb://$ZIP" 2>&1)
expect_contains "create-function with a missing role is refused" \
    "The role defined for the function cannot be assumed by Lambda." "$out"

out=$(aws2 iam create-role --role-name lambda-role --assume-role-policy-document \
    '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}' \
    --query Role.Arn --output text 2>&1)
expect_eq "iam create-role" "$ROLE" "$out"

sha=$(python3 -c 'import base64,hashlib,sys; print(base64.b64encode(hashlib.sha256(open(sys.argv[1],"rb").read()).digest()).decode())' "$ZIP")
out=$(aws2 lambda create-function --function-name cli-fn --runtime nodejs20.x --handler index.handler \
    --role "$ROLE" --zip-file "fileb://$ZIP" --environment 'Variables={GREETING=cli}' \
    --query '[State,LastUpdateStatus,Version,CodeSha256]' --output text 2>&1)
expect_eq "create-function (CodeSha256 is the base64 SHA-256 of the zip)" \
    "Active	Successful	\$LATEST	$sha" "$out"

v1=$(aws2 lambda publish-version --function-name cli-fn --query Version --output text 2>&1)
expect_eq "publish-version" "1" "$v1"
v1b=$(aws2 lambda publish-version --function-name cli-fn --query Version --output text 2>&1)
expect_eq "publish-version again with unchanged code -> same version" "1" "$v1b"

aws2 lambda update-function-configuration --function-name cli-fn --timeout 10 >/dev/null 2>&1
v2=$(aws2 lambda publish-version --function-name cli-fn --code-sha256 "$sha" --query Version --output text 2>&1)
expect_eq "publish-version after a change -> new version" "2" "$v2"

out=$(aws2 lambda publish-version --function-name cli-fn --code-sha256 AAAA 2>&1)
expect_contains "publish-version with a wrong CodeSha256" "InvalidParameterValueException" "$out"

out=$(aws2 lambda create-alias --function-name cli-fn --name dev --function-version 1 \
    --query AliasArn --output text 2>&1)
expect_eq "create-alias" "arn:aws:lambda:us-east-1:000000000000:function:cli-fn:dev" "$out"

out=$(aws2 lambda update-alias --function-name cli-fn --name dev \
    --routing-config '{"AdditionalVersionWeights":{"2":0.5}}' \
    --query 'RoutingConfig.AdditionalVersionWeights."2"' --output text 2>&1)
expect_eq "update-alias with a routing config" "0.5" "$out"

out=$(aws2 lambda update-alias --function-name cli-fn --name dev \
    --routing-config 'AdditionalVersionWeights={1=0.5}' 2>&1)
expect_contains "update-alias weighting its own version" "already included in routing configuration" "$out"

# the weights, sampled quickly with curl --aws-sigv4 (one connection)
urls=()
for i in $(seq 1 40); do urls+=("$GR_URL/2015-03-31/functions/cli-fn/invocations?Qualifier=dev"); done
seen=$(curl -s --aws-sigv4 aws:amz:us-east-1:lambda --user test:test -X POST -d '{}' -D - \
    -o /dev/null "${urls[@]}" | tr -d '\r' | grep -i '^x-amz-executed-version:' | cut -d' ' -f2 |
    sort -u | tr '\n' ' ')
expect_eq "weighted alias invokes both versions" "1 2 " "$seen"

aws2 lambda update-alias --function-name cli-fn --name dev --function-version 2 \
    --routing-config '{"AdditionalVersionWeights":{}}' >/dev/null 2>&1
out=$(aws2 lambda invoke --function-name cli-fn --qualifier dev --cli-binary-format raw-in-base64-out \
    --payload '{"k":"v"}' "$GR_TMP/out.json" 2>&1)
expect_contains "invoke with qualifier -> executed version" '"ExecutedVersion": "2"' "$out"
expect_contains "invoke payload reaches the handler" '"event":{"k":"v"}' "$(cat "$GR_TMP/out.json")"
expect_contains "the function sees its Environment" '"env":"cli"' "$(cat "$GR_TMP/out.json")"

out=$(aws2 lambda invoke --function-name cli-fn --log-type Tail --query LogResult --output text \
    "$GR_TMP/out2.json" 2>&1 | base64 -d 2>/dev/null)
expect_contains "invoke --log-type Tail returns the log" "hello from node" "$out"

out=$(aws2 lambda add-permission --function-name cli-fn --qualifier dev --statement-id apigw-1 \
    --action lambda:InvokeFunction --principal apigateway.amazonaws.com \
    --source-arn 'arn:aws:execute-api:us-east-1:000000000000:abc123/*/GET/books' \
    --query Statement --output text 2>&1)
expect_contains "add-permission returns the statement" '"Sid":"apigw-1"' "$out"

out=$(aws2 lambda add-permission --function-name cli-fn --qualifier dev --statement-id apigw-1 \
    --action lambda:InvokeFunction --principal apigateway.amazonaws.com 2>&1)
expect_contains "add-permission with a duplicate id" "ResourceConflictException" "$out"

out=$(aws2 lambda get-policy --function-name cli-fn --qualifier dev --query Policy --output text 2>&1)
expect_contains "get-policy renders the document" '"Condition":{"ArnLike":{"AWS:SourceArn":"arn:aws:execute-api:us-east-1:000000000000:abc123/*/GET/books"}}' "$out"
expect_contains "get-policy resource is the alias ARN" '"Resource":"arn:aws:lambda:us-east-1:000000000000:function:cli-fn:dev"' "$out"

out=$(aws2 lambda get-function --function-name arn:aws:lambda:us-east-1:000000000000:function:cli-fn:dev \
    --query Configuration.FunctionArn --output text 2>&1)
expect_eq "get-function by qualified ARN" "arn:aws:lambda:us-east-1:000000000000:function:cli-fn:dev" "$out"

loc=$(aws2 lambda get-function --function-name cli-fn --query Code.Location --output text 2>&1)
curl -s -o "$GR_TMP/dl.zip" "$loc"
check "Code.Location downloads the zip" cmp "$GR_TMP/dl.zip" "$ZIP"

out=$(aws2 lambda list-versions-by-function --function-name cli-fn --query 'Versions[].Version' --output text 2>&1)
expect_eq "list-versions-by-function" "\$LATEST	1	2" "$out"

finish
