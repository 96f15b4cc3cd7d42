/* tests/js/v3_edge.js - the v3 SDK's own habits against greenroom: clock-skew
 * correction (a client 20 minutes behind gets RequestTimeTooSkewed /
 * InvalidSignatureException, corrects from the Date header and retries),
 * retries of throttling and of a reset connection, keys with spaces, unicode
 * and reserved characters, conditional GetObject (304), SQS message attribute
 * MD5s checked by the SDK, Lambda Event/DryRun invocations, STS AssumeRole
 * credentials used by another client, CloudFormation UpdateStack and change
 * sets with their waiters, clients configured by AWS_ENDPOINT_URL, and
 * concurrent calls. Run by tests/cli/test_jssdk_v3.sh. */
'use strict';
const {
    S3Client, CreateBucketCommand, PutObjectCommand, GetObjectCommand, ListObjectsV2Command, HeadObjectCommand,
    CopyObjectCommand,
} = require('@aws-sdk/client-s3');
const { LambdaClient, ListFunctionsCommand } = require('@aws-sdk/client-lambda');
const { STSClient, GetCallerIdentityCommand, AssumeRoleCommand } = require('@aws-sdk/client-sts');
const {
    SQSClient, CreateQueueCommand, SendMessageCommand, ReceiveMessageCommand, SendMessageBatchCommand,
    ListQueuesCommand, paginateListQueues,
} = require('@aws-sdk/client-sqs');
const {
    CloudFormationClient, CreateStackCommand, UpdateStackCommand, DescribeStacksCommand, CreateChangeSetCommand,
    ExecuteChangeSetCommand, DescribeChangeSetCommand, waitUntilStackCreateComplete, waitUntilStackUpdateComplete,
    waitUntilChangeSetCreateComplete,
} = require('@aws-sdk/client-cloudformation');
const t = require('./common');

const wait = { maxWaitTime: 60, minDelay: 1, maxDelay: 2 };

async function fault(rules) {
    const r = await t.request('POST', t.url + '/_greenroom/faults', { 'content-type': 'application/json' },
                              JSON.stringify(rules));
    return t.ok('fault rule ' + rules[0].id + ' accepted', r.status >= 200 && r.status < 300, r.status + ' ' + r.body);
}

async function main() {
    const s3 = new S3Client(t.v3opts());
    const B = 'js-v3-edge';
    await s3.send(new CreateBucketCommand({ Bucket: B }));

    await t.step('clock skew is corrected by the SDK', async () => {
        /* a client whose clock runs 20 minutes late: the first call is refused with
         * an error the SDK knows as clock skew; the SDK takes greenroom's time from
         * the answer (S3's ServerTime, else the Date header) and the next call
         * signs with the corrected clock (the retry itself needs a skew over 4
         * minutes after the correction, so it is not asserted) */
        const skew = -20 * 60 * 1000;
        const skewCodes = ['AuthFailure', 'InvalidSignatureException', 'RequestExpired', 'RequestInTheFuture',
                           'RequestTimeTooSkewed', 'SignatureDoesNotMatch'];
        /* (AWS answers the JSON and query services' late requests with
         * InvalidSignatureException / SignatureDoesNotMatch "Signature expired";
         * greenroom answers RequestTimeTooSkewed everywhere, which the SDK also
         * treats as clock skew: only that is asserted for them) */
        const cases = [
            ['S3', new S3Client(t.v3opts({ systemClockOffset: skew })),
             () => new PutObjectCommand({ Bucket: B, Key: 'skew.txt', Body: 'skewed' }), 'RequestTimeTooSkewed'],
            ['Lambda (rest-json)', new LambdaClient(t.v3opts({ systemClockOffset: skew })),
             () => new ListFunctionsCommand({}), null],
            ['STS (query)', new STSClient(t.v3opts({ systemClockOffset: skew })),
             () => new GetCallerIdentityCommand({}), null],
            ['SQS (json 1.0)', new SQSClient(t.v3opts({ systemClockOffset: skew })),
             () => new ListQueuesCommand({}), null],
        ];
        for (const [what, client, cmd, code] of cases) {
            const e = await t.throws(what + ' with a late clock', () => client.send(cmd()));
            if (e) {
                t.ok(what + ': refused with a clock-skew error' + (code ? ' (' + code + ')' : ''),
                     code ? e.name === code : skewCodes.includes(e.name), e.name + ' ' + e.message);
                t.ok(what + ': the SDK corrected its clock from the answer',
                     Math.abs(client.config.systemClockOffset) < 60 * 1000, client.config.systemClockOffset);
            }
            const r = await client.send(cmd());
            t.eq(what + ': the next call succeeds', 200, r.$metadata.httpStatusCode);
            client.destroy();
        }
    });

    await t.step('throttling and reset connections are retried', async () => {
        await fault([{ id: 'js-throttle-s3', service: 's3', operation: 'HeadObject', nth: 1, throttle: { retryAfterSeconds: 1 } }]);
        const h = await s3.send(new HeadObjectCommand({ Bucket: B, Key: 'skew.txt' }));
        t.eq('S3 HeadObject throttled once, then answered', [200, 2], [h.$metadata.httpStatusCode, h.$metadata.attempts]);
        await fault([{ id: 'js-throttle-lambda', service: 'lambda', operation: 'ListFunctions', nth: 1,
                       throttle: { retryAfterSeconds: 1 } }]);
        const lam = new LambdaClient(t.v3opts());
        const l = await lam.send(new ListFunctionsCommand({}));
        t.eq('Lambda ListFunctions throttled once, then answered', [200, 2], [l.$metadata.httpStatusCode, l.$metadata.attempts]);
        await fault([{ id: 'js-reset', service: 's3', operation: 'GetObject', nth: 1, reset: true }]);
        const g = await s3.send(new GetObjectCommand({ Bucket: B, Key: 'skew.txt' }));
        t.eq('S3 GetObject after a reset connection: retried', ['skewed', 2],
             [await g.Body.transformToString(), g.$metadata.attempts]);
        const since = await t.seq();
        await fault([{ id: 'js-500', service: 'lambda', operation: 'ListFunctions', nth: 1,
                       error: { statusCode: 500, code: 'ServiceException', message: 'injected' } }]);
        const l2 = await lam.send(new ListFunctionsCommand({}));
        t.eq('Lambda 500 ServiceException retried', 2, l2.$metadata.attempts);
        const c = await t.calls(since);
        t.eq('journal: the injected 500, then the 200', [[500, 'ServiceException', 'js-500'], [200, '', '']],
             c.filter((x) => x.operation === 'ListFunctions').map((x) => [x.status, x.error, x.fault]));
        lam.destroy();
        await t.request('DELETE', t.url + '/_greenroom/faults');
    });

    await t.step('keys with reserved and unicode characters', async () => {
        const keys = ['sp ace/a b.txt', 'uni/ünïcödé-日本.txt', 'res/a+b=c&d;e,f:g@h$i!j\'k(l)m*n~o.txt',
                      'pct/100%/x', 'dots/./y/../z', 'slash//double', 'tilde~/q?x=1#frag'];
        for (const k of keys) {
            await s3.send(new PutObjectCommand({ Bucket: B, Key: k, Body: 'key:' + k }));
        }
        const back = [];
        for (const k of keys) {
            const g = await s3.send(new GetObjectCommand({ Bucket: B, Key: k }));
            back.push(await g.Body.transformToString());
        }
        t.eq('every key reads back its own body', keys.map((k) => 'key:' + k), back);
        const l = await s3.send(new ListObjectsV2Command({ Bucket: B }));
        const listed = (l.Contents || []).map((o) => o.Key);
        t.ok('ListObjectsV2 lists every key as written', keys.every((k) => listed.includes(k)),
             JSON.stringify(listed));
        const lu = await s3.send(new ListObjectsV2Command({ Bucket: B, EncodingType: 'url', Prefix: 'uni/' }));
        t.eq('EncodingType url: the SDK decodes the key', ['uni/ünïcödé-日本.txt'],
             (lu.Contents || []).map((o) => decodeURIComponent(o.Key)));
        const cp = await s3.send(new CopyObjectCommand({ Bucket: B, Key: 'copied/ü +.txt',
                                                        CopySource: encodeURIComponent(B + '/' + keys[1]) }));
        t.ok('CopyObject from an encoded unicode CopySource', !!(cp.CopyObjectResult && cp.CopyObjectResult.ETag));
    });

    await t.step('conditional GetObject', async () => {
        const h = await s3.send(new HeadObjectCommand({ Bucket: B, Key: 'skew.txt' }));
        const e = await t.throws('GetObject If-None-Match the current ETag', () =>
            s3.send(new GetObjectCommand({ Bucket: B, Key: 'skew.txt', IfNoneMatch: h.ETag })));
        if (e) {
            t.eq('304 Not Modified', 304, e.$metadata && e.$metadata.httpStatusCode);
        }
        const e2 = await t.throws('GetObject If-Match another ETag', () =>
            s3.send(new GetObjectCommand({ Bucket: B, Key: 'skew.txt', IfMatch: '"0000"' })));
        if (e2) {
            t.eq('412 PreconditionFailed', ['PreconditionFailed', 412], [e2.name, e2.$metadata.httpStatusCode]);
        }
        const e3 = await t.throws('PutObject If-None-Match * over an existing key', () =>
            s3.send(new PutObjectCommand({ Bucket: B, Key: 'skew.txt', Body: 'x', IfNoneMatch: '*' })));
        if (e3) {
            t.eq('PutObject If-None-Match *: 412 PreconditionFailed', ['PreconditionFailed', 412],
                 [e3.name, e3.$metadata.httpStatusCode]);
        }
    });

    await t.step('SQS message attributes (MD5s checked by the SDK)', async () => {
        const sqs = new SQSClient(t.v3opts());
        const q = await sqs.send(new CreateQueueCommand({ QueueName: 'js-v3-attrs' }));
        const attrs = { s: { DataType: 'String', StringValue: 'héllo' }, n: { DataType: 'Number', StringValue: '42' },
                        b: { DataType: 'Binary', BinaryValue: Buffer.from([0, 1, 2, 255]) },
                        c: { DataType: 'String.custom', StringValue: 'x' } };
        const s = await sqs.send(new SendMessageCommand({ QueueUrl: q.QueueUrl, MessageBody: 'body ü',
                                                         MessageAttributes: attrs }));
        t.ok('SendMessage with attributes: the SDK accepted both MD5s', !!s.MD5OfMessageAttributes && !!s.MessageId);
        const b = await sqs.send(new SendMessageBatchCommand({ QueueUrl: q.QueueUrl, Entries: [
            { Id: 'one', MessageBody: 'b1', MessageAttributes: { k: { DataType: 'String', StringValue: 'v' } } },
            { Id: 'two', MessageBody: 'b2' }] }));
        t.eq('SendMessageBatch: both ids successful', ['one', 'two'], (b.Successful || []).map((x) => x.Id).sort());
        const got = [];
        for (let i = 0; i < 10 && got.length < 3; i++) {
            const r = await sqs.send(new ReceiveMessageCommand({ QueueUrl: q.QueueUrl, MaxNumberOfMessages: 10,
                                                                 WaitTimeSeconds: 1, MessageAttributeNames: ['All'],
                                                                 MessageSystemAttributeNames: ['All'] }));
            got.push(...(r.Messages || []));
        }
        const m = got.find((x) => x.Body === 'body ü');
        t.ok('ReceiveMessage: attributes round-trip (the SDK checked the MD5s)', m &&
             m.MessageAttributes.b.BinaryValue && Buffer.from(m.MessageAttributes.b.BinaryValue).equals(Buffer.from([0, 1, 2, 255])) &&
             m.MessageAttributes.n.StringValue === '42' && m.MessageAttributes.s.StringValue === 'héllo',
             JSON.stringify(m && m.MessageAttributes));
        t.eq('system attributes: receive count 1', '1', m && m.Attributes && m.Attributes.ApproximateReceiveCount);
        for (let i = 0; i < 3; i++) {
            await sqs.send(new CreateQueueCommand({ QueueName: 'js-v3-page-' + i }));
        }
        const names = [];
        for await (const p of paginateListQueues({ client: sqs, pageSize: 2 }, { QueueNamePrefix: 'js-v3-page-' })) {
            names.push(...(p.QueueUrls || []).map((u) => u.split('/').pop()));
            if (names.length > 10) {
                break;
            }
        }
        t.eq('ListQueues paginator in pages of 2', ['js-v3-page-0', 'js-v3-page-1', 'js-v3-page-2'], names.sort());
        sqs.destroy();
    });

    await t.step('STS AssumeRole credentials used by another client', async () => {
        const sts = new STSClient(t.v3opts());
        const a = await sts.send(new AssumeRoleCommand({ RoleArn: 'arn:aws:iam::000000000000:role/js-assumed',
                                                        RoleSessionName: 'jssession' }));
        /* (AWS issues an ASIA... key whose GetCallerIdentity is the assumed-role
         * ARN and refuses a wrong session token; greenroom's STS is stateless and
         * hands out the account's own key: only what holds for both is asserted) */
        t.ok('AssumeRole returns credentials with a session token and an expiry',
             a.Credentials && !!a.Credentials.AccessKeyId && !!a.Credentials.SessionToken &&
             a.Credentials.Expiration instanceof Date && a.Credentials.Expiration > new Date(),
             JSON.stringify(a.Credentials));
        t.eq('AssumedRoleUser ARN', 'arn:aws:sts::000000000000:assumed-role/js-assumed/jssession',
             a.AssumedRoleUser && a.AssumedRoleUser.Arn);
        const creds = { accessKeyId: a.Credentials.AccessKeyId, secretAccessKey: a.Credentials.SecretAccessKey,
                        sessionToken: a.Credentials.SessionToken };
        const s = new S3Client(t.v3opts({ credentials: creds }));
        const g = await s.send(new GetObjectCommand({ Bucket: B, Key: 'skew.txt' }));
        t.eq('S3 with the session credentials (x-amz-security-token)', 'skewed', await g.Body.transformToString());
        s.destroy();
        sts.destroy();
    });

    await t.step('CloudFormation UpdateStack and change sets', async () => {
        const cfn = new CloudFormationClient(t.v3opts());
        const tpl = (names) => JSON.stringify({ Resources: Object.fromEntries(names.map((n) =>
            [n, { Type: 'AWS::SQS::Queue', Properties: { QueueName: 'js-edge-' + n.toLowerCase() } }])),
        Outputs: { Count: { Value: String(names.length) } } });
        await cfn.send(new CreateStackCommand({ StackName: 'js-edge', TemplateBody: tpl(['A']) }));
        await waitUntilStackCreateComplete({ client: cfn, ...wait }, { StackName: 'js-edge' });
        await cfn.send(new UpdateStackCommand({ StackName: 'js-edge', TemplateBody: tpl(['A', 'B']) }));
        const w = await waitUntilStackUpdateComplete({ client: cfn, ...wait }, { StackName: 'js-edge' });
        t.eq('waitUntilStackUpdateComplete', 'SUCCESS', w.state);
        const e = await t.throws('UpdateStack with no changes', () =>
            cfn.send(new UpdateStackCommand({ StackName: 'js-edge', TemplateBody: tpl(['A', 'B']) })));
        if (e) {
            t.eq('"No updates are to be performed." ValidationError', ['ValidationError', 'No updates are to be performed.'],
                 [e.name, e.message]);
        }
        const cs = await cfn.send(new CreateChangeSetCommand({ StackName: 'js-edge', ChangeSetName: 'cs1',
                                                              TemplateBody: tpl(['B', 'C']) }));
        t.ok('CreateChangeSet returns ids', !!cs.Id && !!cs.StackId);
        const cw = await waitUntilChangeSetCreateComplete({ client: cfn, ...wait },
                                                          { StackName: 'js-edge', ChangeSetName: 'cs1' });
        t.eq('waitUntilChangeSetCreateComplete', 'SUCCESS', cw.state);
        const d = await cfn.send(new DescribeChangeSetCommand({ StackName: 'js-edge', ChangeSetName: 'cs1' }));
        t.eq('DescribeChangeSet: add C, remove A, modify the outputs only',
             [['Add', 'C'], ['Remove', 'A']],
             d.Changes.map((c) => [c.ResourceChange.Action, c.ResourceChange.LogicalResourceId]).sort());
        await cfn.send(new ExecuteChangeSetCommand({ StackName: 'js-edge', ChangeSetName: 'cs1' }));
        await waitUntilStackUpdateComplete({ client: cfn, ...wait }, { StackName: 'js-edge' });
        const s = await cfn.send(new DescribeStacksCommand({ StackName: 'js-edge' }));
        t.eq('after the change set: UPDATE_COMPLETE', 'UPDATE_COMPLETE', s.Stacks[0].StackStatus);
        const sqs = new SQSClient(t.v3opts());
        const l = await sqs.send(new ListQueuesCommand({ QueueNamePrefix: 'js-edge-' }));
        t.eq('the queues follow the change set', ['js-edge-b', 'js-edge-c'],
             (l.QueueUrls || []).map((u) => u.split('/').pop()).sort());
        cfn.destroy();
        sqs.destroy();
    });
    await t.step('AWS_ENDPOINT_URL from the environment; concurrent calls', async () => {
        const saved = { ...process.env };
        Object.assign(process.env, { AWS_ENDPOINT_URL: t.url, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test',
                                     AWS_REGION: 'us-east-1' });
        /* (the SDK reads its configuration lazily: the environment stays set
         * for the step) */
        const envS3 = new S3Client({ forcePathStyle: true });
        const envSqs = new SQSClient({});
        try {
            const q = await envSqs.send(new CreateQueueCommand({ QueueName: 'js-v3-env' }));
            t.ok('a client with no endpoint option reaches greenroom through AWS_ENDPOINT_URL',
                 q.QueueUrl.startsWith(t.url), q.QueueUrl);
            const bodies = Array.from({ length: 150 }, (_, i) => require('crypto').randomBytes(500 + i));
            await Promise.all(bodies.map((b, i) =>
                envS3.send(new PutObjectCommand({ Bucket: B, Key: 'conc/' + i, Body: b }))));
            const got = await Promise.all(bodies.map(async (b, i) => Buffer.from(await (await envS3.send(
                new GetObjectCommand({ Bucket: B, Key: 'conc/' + i }))).Body.transformToByteArray())));
            t.ok('150 concurrent PutObject then GetObject: every body intact',
                 got.every((g, i) => g.equals(bodies[i])));
            const errs = await Promise.allSettled(Array.from({ length: 80 }, (_, i) =>
                envS3.send(new GetObjectCommand({ Bucket: B, Key: 'conc-missing/' + i }))));
            t.ok('80 concurrent misses: each a NoSuchKey 404', errs.every((e) => e.status === 'rejected' &&
                 e.reason.name === 'NoSuchKey' && e.reason.$metadata.httpStatusCode === 404));
            const sent = await Promise.all(Array.from({ length: 60 }, (_, i) =>
                envSqs.send(new SendMessageCommand({ QueueUrl: q.QueueUrl, MessageBody: 'm' + i }))));
            const a = await envSqs.send(new ListQueuesCommand({ QueueNamePrefix: 'js-v3-env' }));
            t.eq('60 concurrent SendMessage: distinct ids', [60, 1], [new Set(sent.map((x) => x.MessageId)).size,
                                                                       (a.QueueUrls || []).length]);
        } finally {
            process.env = saved;
            envS3.destroy();
            envSqs.destroy();
        }
    });
    s3.destroy();
}

main().then(t.done, (e) => {
    console.log('FAIL - v3 edge script crashed: ' + (e && e.stack));
    process.exit(1);
});
