/* tests/js/v3_lambda.js - @aws-sdk/client-lambda, client-iam and client-sts (v3)
 * against greenroom: STS GetCallerIdentity, IAM CreateRole/GetRole,
 * Lambda CreateFunction from the zip at $ZIP (fixtures/lambda/node),
 * waitUntilFunctionActiveV2, Invoke RequestResponse with LogType Tail,
 * a function error, PublishVersion, CreateAlias and an invoke through it,
 * UpdateFunctionConfiguration + waitUntilFunctionUpdatedV2, the ListFunctions
 * paginator, ResourceNotFoundException, Event and DryRun invocations,
 * UpdateFunctionCode (zip at $FN_ZIP, tests/js/fn) and the Code.Location
 * download, and an API Gateway AWS_PROXY integration to the function allowed by
 * AddPermission. Run by tests/cli/test_jssdk_v3.sh. */
'use strict';
const fs = require('fs');
const { STSClient, GetCallerIdentityCommand } = require('@aws-sdk/client-sts');
const { IAMClient, CreateRoleCommand, GetRoleCommand, paginateListRoles } = require('@aws-sdk/client-iam');
const {
    LambdaClient, CreateFunctionCommand, InvokeCommand, PublishVersionCommand, CreateAliasCommand,
    GetFunctionCommand, UpdateFunctionConfigurationCommand, paginateListFunctions,
    waitUntilFunctionActiveV2, waitUntilFunctionUpdatedV2, UpdateFunctionCodeCommand, AddPermissionCommand,
    GetPolicyCommand, ListVersionsByFunctionCommand,
} = require('@aws-sdk/client-lambda');
const {
    APIGatewayClient, CreateRestApiCommand, CreateResourceCommand, PutMethodCommand, PutIntegrationCommand,
    CreateDeploymentCommand,
} = require('@aws-sdk/client-api-gateway');
const t = require('./common');

const json = (u8) => JSON.parse(Buffer.from(u8).toString());

async function main() {
    const sts = new STSClient(t.v3opts());
    const iam = new IAMClient(t.v3opts());
    const lam = new LambdaClient(t.v3opts());
    const zip = fs.readFileSync(process.env.ZIP);
    let roleArn = 'arn:aws:iam::000000000000:role/js-v3-role';

    await t.step('STS GetCallerIdentity', async () => {
        const r = await sts.send(new GetCallerIdentityCommand({}));
        t.eq('GetCallerIdentity: default account and root ARN',
             ['000000000000', 'arn:aws:iam::000000000000:root'], [r.Account, r.Arn]);
        t.ok('GetCallerIdentity: a UserId', typeof r.UserId === 'string' && r.UserId.length > 0, r.UserId);
    });

    await t.step('IAM CreateRole', async () => {
        const doc = { Version: '2012-10-17', Statement: [{ Effect: 'Allow',
            Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }] };
        const r = await iam.send(new CreateRoleCommand({ RoleName: 'js-v3-role', Path: '/svc/',
                                                         AssumeRolePolicyDocument: JSON.stringify(doc) }));
        roleArn = r.Role.Arn;
        t.eq('CreateRole ARN has the path', 'arn:aws:iam::000000000000:role/svc/js-v3-role', roleArn);
        const g = await iam.send(new GetRoleCommand({ RoleName: 'js-v3-role' }));
        t.eq('GetRole: same role id, policy document round-trips', [r.Role.RoleId, 'sts:AssumeRole'],
             [g.Role.RoleId, JSON.parse(decodeURIComponent(g.Role.AssumeRolePolicyDocument)).Statement[0].Action]);
        for (let i = 0; i < 3; i++) {
            await iam.send(new CreateRoleCommand({ RoleName: 'js-v3-extra-' + i, AssumeRolePolicyDocument: JSON.stringify(doc) }));
        }
        const names = [];
        for await (const p of paginateListRoles({ client: iam, pageSize: 2 }, {})) {
            names.push(...p.Roles.map((x) => x.RoleName));
            if (names.length > 20) {
                break;
            }
        }
        t.eq('ListRoles paginator (Marker/IsTruncated) in pages of 2',
             ['js-v3-extra-0', 'js-v3-extra-1', 'js-v3-extra-2', 'js-v3-role'], names.sort());
        const e = await t.throws('CreateRole twice', () => iam.send(new CreateRoleCommand({
            RoleName: 'js-v3-role', AssumeRolePolicyDocument: JSON.stringify(doc) })));
        if (e) {
            t.eq('CreateRole twice: EntityAlreadyExists 409', ['EntityAlreadyExistsException', 409],
                 [e.name, e.$metadata.httpStatusCode]);
        }
    });

    await t.step('CreateFunction + waitUntilFunctionActiveV2', async () => {
        const r = await lam.send(new CreateFunctionCommand({
            FunctionName: 'js-v3-fn', Runtime: 'nodejs20.x', Handler: 'index.handler', Role: roleArn,
            Code: { ZipFile: zip }, Environment: { Variables: { GREETING: 'v3' } }, Timeout: 30 }));
        t.eq('CreateFunction: name, runtime, $LATEST', ['js-v3-fn', 'nodejs20.x', '$LATEST'],
             [r.FunctionName, r.Runtime, r.Version]);
        const w = await waitUntilFunctionActiveV2({ client: lam, maxWaitTime: 60, minDelay: 1, maxDelay: 2 },
                                                  { FunctionName: 'js-v3-fn' });
        t.eq('waitUntilFunctionActiveV2 succeeds', 'SUCCESS', w.state);
        const g = await lam.send(new GetFunctionCommand({ FunctionName: 'js-v3-fn' }));
        t.eq('GetFunction: State Active, CodeSize', ['Active', zip.length],
             [g.Configuration.State, g.Configuration.CodeSize]);
    });

    await t.step('Invoke RequestResponse with LogType Tail', async () => {
        const r = await lam.send(new InvokeCommand({ FunctionName: 'js-v3-fn', InvocationType: 'RequestResponse',
                                                    LogType: 'Tail', Payload: JSON.stringify({ a: 1 }) }));
        const p = json(r.Payload);
        t.eq('Invoke: 200, $LATEST executed, no FunctionError', [200, '$LATEST', undefined],
             [r.StatusCode, r.ExecutedVersion, r.FunctionError]);
        t.eq('Invoke payload: event echoed, env, name', [{ a: 1 }, 'v3', 'js-v3-fn'], [p.event, p.env, p.name]);
        const log = Buffer.from(r.LogResult || '', 'base64').toString();
        t.ok('LogResult (base64) holds the console output and the REPORT line',
             log.includes('hello from node') && log.includes('REPORT RequestId'), log);
    });

    await t.step('a function error', async () => {
        const r = await lam.send(new CreateFunctionCommand({
            FunctionName: 'js-v3-throws', Runtime: 'nodejs20.x', Handler: 'index.throws', Role: roleArn,
            Code: { ZipFile: zip } }));
        await waitUntilFunctionActiveV2({ client: lam, maxWaitTime: 60, minDelay: 1, maxDelay: 2 },
                                        { FunctionName: r.FunctionName });
        const i = await lam.send(new InvokeCommand({ FunctionName: 'js-v3-throws', Payload: '{}' }));
        const p = json(i.Payload);
        t.eq('Invoke of a throwing handler: 200, FunctionError Unhandled, errorType',
             [200, 'Unhandled', 'TypeError', 'thrown boom'], [i.StatusCode, i.FunctionError, p.errorType, p.errorMessage]);
    });

    await t.step('PublishVersion + CreateAlias', async () => {
        const v = await lam.send(new PublishVersionCommand({ FunctionName: 'js-v3-fn', Description: 'first' }));
        t.eq('PublishVersion: version 1, qualified ARN',
             ['1', 'arn:aws:lambda:us-east-1:000000000000:function:js-v3-fn:1'], [v.Version, v.FunctionArn]);
        const a = await lam.send(new CreateAliasCommand({ FunctionName: 'js-v3-fn', Name: 'live', FunctionVersion: '1' }));
        t.eq('CreateAlias: alias ARN and version',
             ['arn:aws:lambda:us-east-1:000000000000:function:js-v3-fn:live', '1'], [a.AliasArn, a.FunctionVersion]);
        await lam.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'js-v3-fn',
                                                               Environment: { Variables: { GREETING: 'changed' } } }));
        const w = await waitUntilFunctionUpdatedV2({ client: lam, maxWaitTime: 60, minDelay: 1, maxDelay: 2 },
                                                   { FunctionName: 'js-v3-fn' });
        t.eq('waitUntilFunctionUpdatedV2 succeeds', 'SUCCESS', w.state);
        const i = await lam.send(new InvokeCommand({ FunctionName: 'js-v3-fn', Qualifier: 'live', Payload: '{}' }));
        const p = json(i.Payload);
        t.eq('Invoke through the alias runs version 1 with its own environment', ['1', '1', 'v3'],
             [i.ExecutedVersion, p.version, p.env]);
        const l = await lam.send(new InvokeCommand({ FunctionName: 'js-v3-fn', Payload: '{}' }));
        t.eq('$LATEST sees the new environment', 'changed', json(l.Payload).env);
    });

    await t.step('ListFunctions paginator', async () => {
        const names = [];
        for await (const p of paginateListFunctions({ client: lam, pageSize: 1 }, {})) {
            names.push(...p.Functions.map((f) => f.FunctionName));
            if (names.length > 10) {
                break;
            }
        }
        t.eq('paginator over pages of 1 lists both functions', ['js-v3-fn', 'js-v3-throws'], names.sort());
    });

    await t.step('ResourceNotFoundException', async () => {
        let e = await t.throws('GetFunction of a missing function', () =>
            lam.send(new GetFunctionCommand({ FunctionName: 'js-v3-none' })));
        if (e) {
            t.eq('GetFunction missing: ResourceNotFoundException 404', ['ResourceNotFoundException', 404],
                 [e.name, e.$metadata.httpStatusCode]);
            t.ok('the message names the function', /js-v3-none/.test(e.message), e.message);
        }
        e = await t.throws('Invoke of a missing alias', () =>
            lam.send(new InvokeCommand({ FunctionName: 'js-v3-fn', Qualifier: 'nope', Payload: '{}' })));
        if (e) {
            t.eq('Invoke missing qualifier: ResourceNotFoundException 404', ['ResourceNotFoundException', 404],
                 [e.name, e.$metadata.httpStatusCode]);
        }
    });
    await t.step('Event and DryRun invocations', async () => {
        const ev = await lam.send(new InvokeCommand({ FunctionName: 'js-v3-fn', InvocationType: 'Event', Payload: '{}' }));
        t.eq('InvocationType Event: 202', 202, ev.StatusCode);
        const dr = await lam.send(new InvokeCommand({ FunctionName: 'js-v3-fn', InvocationType: 'DryRun' }));
        t.eq('InvocationType DryRun: 204', 204, dr.StatusCode);
    });

    await t.step('UpdateFunctionCode and the Code.Location download', async () => {
        const fz = fs.readFileSync(process.env.FN_ZIP);
        const u = await lam.send(new UpdateFunctionCodeCommand({ FunctionName: 'js-v3-throws', ZipFile: fz }));
        t.eq('UpdateFunctionCode: the new CodeSize', fz.length, u.CodeSize);
        await waitUntilFunctionUpdatedV2({ client: lam, maxWaitTime: 60, minDelay: 1, maxDelay: 2 },
                                         { FunctionName: 'js-v3-throws' });
        await lam.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'js-v3-throws', Handler: 'index.marker' }));
        await waitUntilFunctionUpdatedV2({ client: lam, maxWaitTime: 60, minDelay: 1, maxDelay: 2 },
                                         { FunctionName: 'js-v3-throws' });
        const i = await lam.send(new InvokeCommand({ FunctionName: 'js-v3-throws', Payload: '{}' }));
        t.eq('the new code answers', { code: 'fn-v2' }, json(i.Payload));
        const g = await lam.send(new GetFunctionCommand({ FunctionName: 'js-v3-throws' }));
        const d = await t.request('GET', g.Code.Location);
        t.ok('Code.Location serves the zip', d.status === 200 && d.body.equals(fz), d.status + ' ' + d.body.length);
        const vs = await lam.send(new ListVersionsByFunctionCommand({ FunctionName: 'js-v3-fn' }));
        t.eq('ListVersionsByFunction', ['$LATEST', '1'], vs.Versions.map((v) => v.Version));
    });

    await t.step('API Gateway AWS_PROXY integration to the function', async () => {
        const api = new APIGatewayClient(t.v3opts());
        await lam.send(new CreateFunctionCommand({ FunctionName: 'js-v3-proxy', Runtime: 'nodejs20.x',
                                                  Handler: 'index.proxy', Role: roleArn,
                                                  Code: { ZipFile: fs.readFileSync(process.env.FN_ZIP) } }));
        await waitUntilFunctionActiveV2({ client: lam, maxWaitTime: 60, minDelay: 1, maxDelay: 2 },
                                        { FunctionName: 'js-v3-proxy' });
        const fnArn = 'arn:aws:lambda:us-east-1:000000000000:function:js-v3-proxy';
        const r = await api.send(new CreateRestApiCommand({ name: 'js-v3-proxy-api' }));
        const items = await api.send(new CreateResourceCommand({ restApiId: r.id, parentId: r.rootResourceId,
                                                                 pathPart: 'items' }));
        const item = await api.send(new CreateResourceCommand({ restApiId: r.id, parentId: items.id, pathPart: '{id}' }));
        await api.send(new PutMethodCommand({ restApiId: r.id, resourceId: item.id, httpMethod: 'ANY',
                                              authorizationType: 'NONE' }));
        await api.send(new PutIntegrationCommand({ restApiId: r.id, resourceId: item.id, httpMethod: 'ANY',
            type: 'AWS_PROXY', integrationHttpMethod: 'POST',
            uri: 'arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/' + fnArn + '/invocations' }));
        await api.send(new CreateDeploymentCommand({ restApiId: r.id, stageName: 'prod', variables: { color: 'blue' } }));
        const url = t.url + '/_aws/execute-api/' + r.id + '/prod/items/42?q=1';
        const denied = await t.request('POST', url, { 'content-type': 'text/plain' }, 'hi');
        t.eq('without a resource policy the proxy call is refused (500 Internal server error)',
             [500, '{"message": "Internal server error"}'], [denied.status, denied.body.toString()]);
        const p = await lam.send(new AddPermissionCommand({ FunctionName: 'js-v3-proxy', StatementId: 'apigw',
            Action: 'lambda:InvokeFunction', Principal: 'apigateway.amazonaws.com',
            SourceArn: 'arn:aws:execute-api:us-east-1:000000000000:' + r.id + '/*/*/items/*' }));
        t.eq('AddPermission statement', 'apigw', JSON.parse(p.Statement).Sid);
        const pol = await lam.send(new GetPolicyCommand({ FunctionName: 'js-v3-proxy' }));
        t.eq('GetPolicy lists the statement', ['apigw'], JSON.parse(pol.Policy).Statement.map((x) => x.Sid));
        const ok = await t.request('POST', url, { 'content-type': 'text/plain' }, 'hi');
        let body = null;
        try {
            body = JSON.parse(ok.body.toString());
        } catch (e) {
            body = ok.body.toString();
        }
        t.eq('the proxy call reaches the function and its answer comes back',
             [201, 'lambda', { method: 'POST', path: '/items/42', resource: '/items/{id}', stage: 'prod',
                              pathParameters: { id: '42' }, qs: { q: '1' }, body: 'hi', stageVariables: { color: 'blue' } }],
             [ok.status, ok.headers['x-from'], body]);
        api.destroy();
    });

    sts.destroy();
    iam.destroy();
    lam.destroy();
}

main().then(t.done, (e) => {
    console.log('FAIL - v3 Lambda script crashed: ' + (e && e.stack));
    process.exit(1);
});
