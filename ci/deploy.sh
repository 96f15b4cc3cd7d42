#!/bin/bash
# deploy.sh - the blog's Travis deploy script (serverless-cd-example v0.5/deploy.sh) with `stagehand`
# in place of `sls`, for real AWS. Same six steps in the same order, so existing pipelines keep their
# shape; differences from the original:
#   - production deploys only from tagged commits on master (the blog's intent; the original never
#     checked TRAVIS_TAG), develop deploys dev;
#   - no `aws s3 cp` after resources deploy: stagehand's meta sync pushes with If-Match after every
#     step that writes variables, so nothing is lost and a concurrent change is reported;
#   - every step exits non-zero on any per-item failure (v0.5 exited 0 on failed events/endpoints).
# Set USE_TRANSACTION=1 to run the single transactional `stagehand deploy` instead (recommended:
# it rolls the stage back on any failure and holds the per-stage lock).
#
# Environment: AWS credentials (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_<STAGE>_*),
# REGION (default us-east-1), optional AWS_ENDPOINT_URL (e.g. greenroom), STAGEHAND (binary).
set -e

STAGEHAND="${STAGEHAND:-stagehand}"
REGION="${REGION:-us-east-1}"
BRANCH="${TRAVIS_BRANCH:-${CI_COMMIT_BRANCH:-${GITHUB_REF_NAME:-$(git rev-parse --abbrev-ref HEAD 2>/dev/null)}}}"
TAG="${TRAVIS_TAG:-${CI_COMMIT_TAG:-$(git describe --exact-match --tags HEAD 2>/dev/null || true)}}"
PULL_REQUEST="${TRAVIS_PULL_REQUEST:-false}"

if [ "${TRAVIS_TEST_RESULT:-0}" = "1" ]; then
    echo "Tests failed: not deploying"
    exit 1
fi

STAGE=""
if [ "$PULL_REQUEST" = "false" ]; then
    if [ -n "$TAG" ] && { [ "$BRANCH" = "master" ] || [ "$BRANCH" = "$TAG" ]; }; then
        STAGE="production"
    elif [ "$BRANCH" = "develop" ]; then
        STAGE="dev"
    fi
fi

if [ -z "$STAGE" ]; then
    echo "Not deploying changes (branch '$BRANCH', tag '$TAG', pull request '$PULL_REQUEST')"
    exit 0
fi

echo "Deploying from branch '$BRANCH' to stage '$STAGE' in $REGION"

runStagehand() {
    echo "+ $STAGEHAND $* -s $STAGE -r $REGION"
    if ! "$STAGEHAND" "$@" -s "$STAGE" -r "$REGION"; then
        echo "stagehand $1 failed"
        exit 1
    fi
}

if [ "${USE_TRANSACTION:-0}" = "1" ]; then
    runStagehand deploy
    exit 0
fi

runStagehand project init -c
runStagehand meta sync
runStagehand resources deploy
runStagehand function deploy -a
runStagehand event deploy -a
runStagehand endpoint deploy -a
