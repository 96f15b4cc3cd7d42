/* tests/js/fn/index.js - Lambda handlers for the JS SDK tests (v3_lambda.js):
 * an API Gateway proxy handler and a code-version marker. */
'use strict';

/* answers an AWS_PROXY integration with what it was given */
exports.proxy = async (event) => ({
    statusCode: 201,
    headers: { 'content-type': 'application/json', 'x-from': 'lambda' },
    body: JSON.stringify({
        method: event.httpMethod, path: event.path, resource: event.resource, stage: event.requestContext.stage,
        pathParameters: event.pathParameters, qs: event.queryStringParameters, body: event.body,
        stageVariables: event.stageVariables,
    }),
});

/* which code answered (UpdateFunctionCode) */
exports.marker = async () => ({ code: 'fn-v2' });
