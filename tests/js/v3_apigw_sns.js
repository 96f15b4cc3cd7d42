/* tests/js/v3_apigw_sns.js - @aws-sdk/client-api-gateway, client-sns and
 * client-sqs (v3) against greenroom: a REST API with a resource, a GET method,
 * a MOCK integration (request template choosing the status, integration
 * responses with a selection pattern), a deployment and a stage, the stage
 * URL called with node's http in greenroom's three URL forms, the GetResources
 * paginator, NotFoundException; an SNS topic with an SQS subscription
 * (raw and enveloped), Publish with message attributes, ReceiveMessage,
 * DeleteMessage, and SQS errors. Run by tests/cli/test_jssdk_v3.sh. */
'use strict';
const {
    APIGatewayClient, CreateRestApiCommand, GetResourcesCommand, CreateResourceCommand, PutMethodCommand,
    PutIntegrationCommand, PutMethodResponseCommand, PutIntegrationResponseCommand, CreateDeploymentCommand,
    CreateStageCommand, GetStageCommand, GetRestApiCommand, paginateGetResources,
} = require('@aws-sdk/client-api-gateway');
const {
    SNSClient, CreateTopicCommand, SubscribeCommand, PublishCommand, ListSubscriptionsByTopicCommand,
    SetSubscriptionAttributesCommand,
} = require('@aws-sdk/client-sns');
const {
    SQSClient, CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, DeleteMessageCommand,
    SetQueueAttributesCommand, GetQueueUrlCommand,
} = require('@aws-sdk/client-sqs');
const t = require('./common');

/* receives from a queue until n messages arrived or ~20 s passed */
async function receive(sqs, queueUrl, n) {
    const got = [];
    for (let i = 0; i < 10 && got.length < n; i++) {
        const r = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10,
                                                             WaitTimeSeconds: 2, MessageAttributeNames: ['All'] }));
        got.push(...(r.Messages || []));
    }
    return got;
}

async function apigw() {
    const api = new APIGatewayClient(t.v3opts());
    let apiId;
    await t.step('CreateRestApi + resources + method + MOCK integration', async () => {
        const r = await api.send(new CreateRestApiCommand({ name: 'js-v3-api', description: 'from the v3 SDK' }));
        apiId = r.id;
        t.ok('CreateRestApi returns an id and the root resource id', !!r.id && !!r.rootResourceId, JSON.stringify(r));
        const res = await api.send(new GetResourcesCommand({ restApiId: apiId }));
        const root = res.items.find((x) => x.path === '/');
        t.eq('GetResources: the root is the API\'s rootResourceId', r.rootResourceId, root && root.id);
        const hello = await api.send(new CreateResourceCommand({ restApiId: apiId, parentId: root.id, pathPart: 'hello' }));
        t.eq('CreateResource path', '/hello', hello.path);
        const m = await api.send(new PutMethodCommand({ restApiId: apiId, resourceId: hello.id, httpMethod: 'GET',
                                                       authorizationType: 'NONE' }));
        t.eq('PutMethod', ['GET', 'NONE'], [m.httpMethod, m.authorizationType]);
        const tpl = '#if($input.params(\'fail\') == \'yes\'){"statusCode": 500}#else{"statusCode": 200}#end';
        const i = await api.send(new PutIntegrationCommand({ restApiId: apiId, resourceId: hello.id, httpMethod: 'GET',
                                                            type: 'MOCK', requestTemplates: { 'application/json': tpl } }));
        t.eq('PutIntegration MOCK', 'MOCK', i.type);
        for (const code of ['200', '500']) {
            await api.send(new PutMethodResponseCommand({ restApiId: apiId, resourceId: hello.id, httpMethod: 'GET',
                                                         statusCode: code }));
        }
        await api.send(new PutIntegrationResponseCommand({
            restApiId: apiId, resourceId: hello.id, httpMethod: 'GET', statusCode: '200',
            responseTemplates: { 'application/json': '{"msg": "hi from mock", "who": "$input.params(\'who\')"}' } }));
        const ir = await api.send(new PutIntegrationResponseCommand({
            restApiId: apiId, resourceId: hello.id, httpMethod: 'GET', statusCode: '500', selectionPattern: '5\\d{2}',
            responseTemplates: { 'application/json': '{"msg": "mock failure"}' } }));
        t.eq('PutIntegrationResponse with a selection pattern', '5\\d{2}', ir.selectionPattern);
        for (let k = 0; k < 3; k++) {
            await api.send(new CreateResourceCommand({ restApiId: apiId, parentId: hello.id, pathPart: 'p' + k }));
        }
        const paths = [];
        for await (const p of paginateGetResources({ client: api, pageSize: 2 }, { restApiId: apiId })) {
            paths.push(...p.items.map((x) => x.path));
            if (paths.length > 20) {
                break;
            }
        }
        t.eq('GetResources paginator in pages of 2', ['/', '/hello', '/hello/p0', '/hello/p1', '/hello/p2'], paths.sort());
    });
    await t.step('deployment + stage + the stage URL', async () => {
        const d = await api.send(new CreateDeploymentCommand({ restApiId: apiId, description: 'js' }));
        t.ok('CreateDeployment returns an id', !!d.id);
        const s = await api.send(new CreateStageCommand({ restApiId: apiId, stageName: 'dev', deploymentId: d.id,
                                                         variables: { v: '1' } }));
        t.eq('CreateStage', ['dev', d.id], [s.stageName, s.deploymentId]);
        const g = await api.send(new GetStageCommand({ restApiId: apiId, stageName: 'dev' }));
        t.eq('GetStage variables', { v: '1' }, g.variables);
        const port = new URL(t.url).port;
        const forms = [
            [t.url + '/restapis/' + apiId + '/dev/_user_request_/hello?who=js', {}],
            [t.url + '/_aws/execute-api/' + apiId + '/dev/hello?who=js', {}],
            [t.url + '/dev/hello?who=js', { host: apiId + '.execute-api.localhost:' + port }],
        ];
        for (const [u, h] of forms) {
            const r = await t.request('GET', u, h);
            let body = null;
            try {
                body = JSON.parse(r.body.toString());
            } catch (e) {
                body = r.body.toString();
            }
            t.eq('GET ' + (h.host ? 'Host ' + h.host.replace(port, 'PORT') + ' ' : '') + u.replace(t.url, '') +
                 ': 200 and the mapped template', [200, { msg: 'hi from mock', who: 'js' }], [r.status, body]);
        }
        const f = await t.request('GET', t.url + '/_aws/execute-api/' + apiId + '/dev/hello?fail=yes');
        t.eq('MOCK statusCode 500 selects the 5xx integration response', [500, '{"msg": "mock failure"}'],
             [f.status, f.body.toString()]);
        const n = await t.request('GET', t.url + '/_aws/execute-api/' + apiId + '/dev/nowhere');
        t.eq('an unknown path on the stage: 403 MissingAuthenticationTokenException',
             [403, 'MissingAuthenticationTokenException', '{"message":"Missing Authentication Token"}'],
             [n.status, n.headers['x-amzn-errortype'], n.body.toString()]);
    });
    await t.step('API Gateway NotFoundException', async () => {
        const e = await t.throws('GetRestApi of a missing API', () =>
            api.send(new GetRestApiCommand({ restApiId: 'nope123' })));
        if (e) {
            t.eq('GetRestApi missing: NotFoundException 404', ['NotFoundException', 404],
                 [e.name, e.$metadata.httpStatusCode]);
        }
    });
    api.destroy();
}

async function snsSqs() {
    const sns = new SNSClient(t.v3opts());
    const sqs = new SQSClient(t.v3opts());
    await t.step('SNS topic -> SQS subscription, Publish, Receive', async () => {
        const topic = await sns.send(new CreateTopicCommand({ Name: 'js-v3-topic' }));
        t.eq('CreateTopic ARN', 'arn:aws:sns:us-east-1:000000000000:js-v3-topic', topic.TopicArn);
        const q = await sqs.send(new CreateQueueCommand({ QueueName: 'js-v3-queue' }));
        const raw = await sqs.send(new CreateQueueCommand({ QueueName: 'js-v3-raw' }));
        t.ok('CreateQueue returns a queue URL', /js-v3-queue$/.test(q.QueueUrl), q.QueueUrl);
        const arns = {};
        for (const [name, u] of [['env', q.QueueUrl], ['raw', raw.QueueUrl]]) {
            const a = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: u, AttributeNames: ['QueueArn'] }));
            arns[name] = a.Attributes.QueueArn;
            const policy = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'sns.amazonaws.com' },
                Action: 'sqs:SendMessage', Resource: arns[name], Condition: { ArnEquals: { 'aws:SourceArn': topic.TopicArn } } }] };
            await sqs.send(new SetQueueAttributesCommand({ QueueUrl: u, Attributes: { Policy: JSON.stringify(policy) } }));
        }
        t.eq('queue ARN', 'arn:aws:sqs:us-east-1:000000000000:js-v3-queue', arns.env);
        const sub = await sns.send(new SubscribeCommand({ TopicArn: topic.TopicArn, Protocol: 'sqs', Endpoint: arns.env,
                                                         ReturnSubscriptionArn: true }));
        t.ok('Subscribe returns a subscription ARN', sub.SubscriptionArn.startsWith(topic.TopicArn + ':'), sub.SubscriptionArn);
        const sub2 = await sns.send(new SubscribeCommand({ TopicArn: topic.TopicArn, Protocol: 'sqs', Endpoint: arns.raw,
                                                          ReturnSubscriptionArn: true }));
        await sns.send(new SetSubscriptionAttributesCommand({ SubscriptionArn: sub2.SubscriptionArn,
                                                              AttributeName: 'RawMessageDelivery', AttributeValue: 'true' }));
        const subs = await sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: topic.TopicArn }));
        t.eq('ListSubscriptionsByTopic lists both queues', [arns.env, arns.raw].sort(),
             subs.Subscriptions.map((s) => s.Endpoint).sort());
        const p = await sns.send(new PublishCommand({ TopicArn: topic.TopicArn, Subject: 'js', Message: 'hello queue',
            MessageAttributes: { kind: { DataType: 'String', StringValue: 'greeting' } } }));
        t.ok('Publish returns a MessageId', typeof p.MessageId === 'string' && p.MessageId.length > 0);
        const got = await receive(sqs, q.QueueUrl, 1);
        t.eq('the enveloped queue received one message', 1, got.length);
        if (got.length) {
            const env = JSON.parse(got[0].Body);
            t.eq('SNS envelope: Type, MessageId, TopicArn, Subject, Message, attribute',
                 ['Notification', p.MessageId, topic.TopicArn, 'js', 'hello queue', 'greeting'],
                 [env.Type, env.MessageId, env.TopicArn, env.Subject, env.Message,
                  env.MessageAttributes && env.MessageAttributes.kind && env.MessageAttributes.kind.Value]);
            await sqs.send(new DeleteMessageCommand({ QueueUrl: q.QueueUrl, ReceiptHandle: got[0].ReceiptHandle }));
            const a = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: q.QueueUrl, AttributeNames: ['All'] }));
            t.eq('DeleteMessage empties the queue', ['0', '0'],
                 [a.Attributes.ApproximateNumberOfMessages, a.Attributes.ApproximateNumberOfMessagesNotVisible]);
        }
        const rgot = await receive(sqs, raw.QueueUrl, 1);
        t.eq('raw delivery: the body is the message, attributes are SQS attributes', [1, 'hello queue', 'greeting'],
             [rgot.length, rgot[0] && rgot[0].Body, rgot[0] && rgot[0].MessageAttributes &&
              rgot[0].MessageAttributes.kind && rgot[0].MessageAttributes.kind.StringValue]);
    });
    await t.step('SNS and SQS errors', async () => {
        let e = await t.throws('Publish to a missing topic', () =>
            sns.send(new PublishCommand({ TopicArn: 'arn:aws:sns:us-east-1:000000000000:js-none', Message: 'x' })));
        if (e) {
            t.eq('Publish to a missing topic: NotFoundException 404', ['NotFoundException', 404],
                 [e.name, e.$metadata.httpStatusCode]);
        }
        e = await t.throws('GetQueueUrl of a missing queue', () =>
            sqs.send(new GetQueueUrlCommand({ QueueName: 'js-none' })));
        if (e) {
            t.eq('GetQueueUrl missing: QueueDoesNotExist 400', ['QueueDoesNotExist', 400],
                 [e.name, e.$metadata.httpStatusCode]);
        }
    });
    sns.destroy();
    sqs.destroy();
}

async function main() {
    await apigw();
    await snsSqs();
}

main().then(t.done, (e) => {
    console.log('FAIL - v3 API Gateway/SNS script crashed: ' + (e && e.stack));
    process.exit(1);
});
