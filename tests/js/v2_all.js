/* tests/js/v2_all.js - the AWS SDK for JavaScript v2 (aws-sdk) against
 * greenroom, configured the v2 way (AWS.config.update with the endpoint,
 * s3ForcePathStyle, .promise()): S3 createBucket/putObject (Content-MD5)/
 * getObject/listObjectsV2/headObject, a multipart s3.upload, presigned GET and
 * PUT, waiters, deleteObjects, NoSuchKey; IAM createRole + Lambda
 * createFunction from $ZIP, waitFor('functionActiveV2') and invoke with LogType Tail; CloudFormation
 * createStack + waitFor('stackCreateComplete') + describeStacks outputs +
 * deleteStack + waitFor('stackDeleteComplete'); SNS publish to an SQS
 * subscription; SQS (query protocol) attributes with their MD5s. Run by
 * tests/cli/test_jssdk_v2.sh with GR_URL set. */
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const AWS = require('aws-sdk');
const t = require('./common');

AWS.config.update({ endpoint: t.url, region: t.region, accessKeyId: 'test', secretAccessKey: 'test',
                    s3ForcePathStyle: true, maxRetries: 3 });
const md5 = (b) => crypto.createHash('md5').update(b).digest('hex');
const wait = { delay: 1, maxAttempts: 60 };

async function s3Part() {
    const s3 = new AWS.S3();
    const B = 'js-v2-bkt';
    const body = Buffer.from('hello from the v2 SDK\n'.repeat(40));
    await t.step('S3 createBucket/putObject/getObject/headObject', async () => {
        const c = await s3.createBucket({ Bucket: B }).promise();
        t.eq('createBucket Location', '/' + B, c.Location);
        const p = await s3.putObject({ Bucket: B, Key: 'a/hello.txt', Body: body, ContentType: 'text/plain',
                                       Metadata: { who: 'v2' } }).promise();
        t.eq('putObject ETag is the MD5', '"' + md5(body) + '"', p.ETag);
        const g = await s3.getObject({ Bucket: B, Key: 'a/hello.txt' }).promise();
        t.ok('getObject body equals what was put', Buffer.isBuffer(g.Body) && g.Body.equals(body), g.Body && g.Body.length);
        t.eq('getObject ContentType, Metadata', ['text/plain', 'v2'], [g.ContentType, g.Metadata.who]);
        const h = await s3.headObject({ Bucket: B, Key: 'a/hello.txt' }).promise();
        t.eq('headObject ContentLength', body.length, h.ContentLength);
    });
    await t.step('S3 listObjectsV2 (s3ForcePathStyle), pages', async () => {
        for (let i = 0; i < 3; i++) {
            await s3.putObject({ Bucket: B, Key: 'list/k' + i, Body: 'x' + i }).promise();
        }
        const p1 = await s3.listObjectsV2({ Bucket: B, Prefix: 'list/', MaxKeys: 2 }).promise();
        const p2 = await s3.listObjectsV2({ Bucket: B, Prefix: 'list/', MaxKeys: 2,
                                            ContinuationToken: p1.NextContinuationToken }).promise();
        t.eq('two pages: keys, truncation', [['list/k0', 'list/k1'], true, ['list/k2'], false],
             [p1.Contents.map((o) => o.Key), p1.IsTruncated, p2.Contents.map((o) => o.Key), p2.IsTruncated]);
        const all = await s3.listObjectsV2({ Bucket: B }).promise();
        t.eq('KeyCount over the bucket', 4, all.KeyCount);
    });
    await t.step('S3 managed upload (multipart) and presigned GET', async () => {
        const big = crypto.randomBytes(12 * 1024 * 1024);
        const u = await s3.upload({ Bucket: B, Key: 'big.bin', Body: big },
                                  { partSize: 5 * 1024 * 1024, queueSize: 2 }).promise();
        t.ok('s3.upload ETag is a 3-part multipart ETag', /^"[0-9a-f]{32}-3"$/.test(u.ETag), u.ETag);
        const g = await s3.getObject({ Bucket: B, Key: 'big.bin' }).promise();
        t.eq('multipart object MD5 equals the source', md5(big), md5(g.Body));
        /* in us-east-1 the v2 SDK presigns with SigV2 unless told signatureVersion v4;
         * S3 buckets created since June 2020 accept SigV4 only */
        const s3v4 = new AWS.S3({ signatureVersion: 'v4' });
        const url = s3v4.getSignedUrl('getObject', { Bucket: B, Key: 'a/hello.txt', Expires: 300 });
        t.ok('presigned URL is SigV4', url.includes('X-Amz-Signature='), url);
        const r = await t.request('GET', url);
        t.ok('presigned GET (v2 SDK, SigV4) with node http', r.status === 200 && r.body.equals(body), r.status);
        const putUrl = s3v4.getSignedUrl('putObject', { Bucket: B, Key: 'presigned.txt', Expires: 300 });
        const p = await t.request('PUT', putUrl, { 'content-length': 9 }, 'presigned');
        const back = await s3.getObject({ Bucket: B, Key: 'presigned.txt' }).promise();
        t.eq('presigned PUT (v2 SDK, SigV4) stores the body', [200, 'presigned'], [p.status, back.Body.toString()]);
        const v2url = s3.getSignedUrl('getObject', { Bucket: B, Key: 'a/hello.txt', Expires: 300 });
        const r2 = await t.request('GET', v2url);
        t.ok('a SigV2 presigned URL (the v2 default in us-east-1) is refused', v2url.includes('AWSAccessKeyId=') &&
             (r2.status === 400 || r2.status === 403), r2.status + ' ' + v2url);
    });
    await t.step('S3 waiters, deleteObjects (Content-MD5), presigned PUT with a Content-Type', async () => {
        const w = await s3.waitFor('objectExists', { Bucket: B, Key: 'a/hello.txt', $waiter: wait }).promise();
        t.eq('waitFor objectExists', body.length, w.ContentLength);
        const url = new AWS.S3({ signatureVersion: 'v4' }).getSignedUrl('putObject', {
            Bucket: B, Key: 'typed.txt', ContentType: 'text/csv', Expires: 300 });
        const r = await t.request('PUT', url, { 'content-type': 'text/csv', 'content-length': 3 }, 'a,b');
        const h = await s3.headObject({ Bucket: B, Key: 'typed.txt' }).promise();
        /* (the v2 SDK signs ContentType as a Content-Type query parameter, not the header) */
        t.eq('presigned PUT with a Content-Type', [200, 'text/csv'], [r.status, h.ContentType]);
        const d = await s3.deleteObjects({ Bucket: B, Delete: { Objects: [{ Key: 'typed.txt' }, { Key: 'list/k0' }] } }).promise();
        t.eq('deleteObjects', ['list/k0', 'typed.txt'], d.Deleted.map((x) => x.Key).sort());
        await s3.waitFor('objectNotExists', { Bucket: B, Key: 'typed.txt', $waiter: wait }).promise();
        t.ok('waitFor objectNotExists', true);
    });
    await t.step('S3 NoSuchKey', async () => {
        const e = await t.throws('getObject of a missing key', () => s3.getObject({ Bucket: B, Key: 'none' }).promise());
        if (e) {
            t.eq('NoSuchKey code and statusCode', ['NoSuchKey', 404], [e.code, e.statusCode]);
        }
    });
}

async function lambdaPart() {
    const iam = new AWS.IAM();
    const lam = new AWS.Lambda();
    await t.step('Lambda createFunction, functionActiveV2, invoke', async () => {
        const role = await iam.createRole({ RoleName: 'js-v2-role', AssumeRolePolicyDocument: JSON.stringify({
            Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' },
                                                 Action: 'sts:AssumeRole' }] }) }).promise();
        t.eq('createRole ARN', 'arn:aws:iam::000000000000:role/js-v2-role', role.Role.Arn);
        const f = await lam.createFunction({ FunctionName: 'js-v2-fn', Runtime: 'nodejs20.x', Handler: 'index.handler',
                                             Role: role.Role.Arn, Code: { ZipFile: fs.readFileSync(process.env.ZIP) },
                                             Environment: { Variables: { GREETING: 'v2' } } }).promise();
        t.eq('createFunction', ['js-v2-fn', '$LATEST'], [f.FunctionName, f.Version]);
        const w = await lam.waitFor('functionActiveV2', { FunctionName: 'js-v2-fn', $waiter: wait }).promise();
        t.eq('waitFor functionActiveV2', 'Active', w.Configuration && w.Configuration.State);
        const i = await lam.invoke({ FunctionName: 'js-v2-fn', LogType: 'Tail', Payload: JSON.stringify({ n: 2 }) }).promise();
        const p = JSON.parse(i.Payload.toString());
        t.eq('invoke: status, executed version, echoed event, env', [200, '$LATEST', { n: 2 }, 'v2'],
             [i.StatusCode, i.ExecutedVersion, p.event, p.env]);
        t.ok('invoke LogResult holds the console output',
             Buffer.from(i.LogResult || '', 'base64').toString().includes('hello from node'));
        const e = await t.throws('invoke of a missing function', () =>
            lam.invoke({ FunctionName: 'js-v2-none', Payload: '{}' }).promise());
        if (e) {
            t.eq('ResourceNotFoundException code and statusCode', ['ResourceNotFoundException', 404], [e.code, e.statusCode]);
        }
    });
}

async function cfnPart() {
    const cfn = new AWS.CloudFormation();
    const s3 = new AWS.S3();
    const template = JSON.stringify({
        Resources: { Bucket: { Type: 'AWS::S3::Bucket' }, Topic: { Type: 'AWS::SNS::Topic' } },
        Outputs: { BucketName: { Value: { Ref: 'Bucket' } }, TopicArn: { Value: { Ref: 'Topic' } } },
    });
    await t.step('CloudFormation createStack + waitFor stackCreateComplete', async () => {
        const c = await cfn.createStack({ StackName: 'js-v2-stack', TemplateBody: template }).promise();
        t.ok('createStack StackId', /:stack\/js-v2-stack\//.test(c.StackId), c.StackId);
        const w = await cfn.waitFor('stackCreateComplete', { StackName: 'js-v2-stack', $waiter: wait }).promise();
        const s = w.Stacks[0];
        t.eq('waitFor stackCreateComplete: CREATE_COMPLETE', 'CREATE_COMPLETE', s.StackStatus);
        const out = Object.fromEntries(s.Outputs.map((o) => [o.OutputKey, o.OutputValue]));
        t.ok('outputs: a generated bucket name, a topic ARN', /^js-v2-stack-bucket-/.test(out.BucketName) &&
             /^arn:aws:sns:us-east-1:000000000000:js-v2-stack-Topic-/.test(out.TopicArn), JSON.stringify(out));
        const h = await s3.headBucket({ Bucket: out.BucketName }).promise();
        t.ok('the generated bucket exists', !!h);
        await cfn.deleteStack({ StackName: 'js-v2-stack' }).promise();
        await cfn.waitFor('stackDeleteComplete', { StackName: c.StackId, $waiter: wait }).promise();
        const e = await t.throws('describeStacks of the deleted stack', () =>
            cfn.describeStacks({ StackName: 'js-v2-stack' }).promise());
        if (e) {
            t.eq('ValidationError "does not exist"', ['ValidationError', 'Stack with id js-v2-stack does not exist'],
                 [e.code, e.message]);
        }
    });
}

async function snsPart() {
    const sns = new AWS.SNS();
    const sqs = new AWS.SQS();
    await t.step('SNS publish to an SQS subscription', async () => {
        const topic = await sns.createTopic({ Name: 'js-v2-topic' }).promise();
        const q = await sqs.createQueue({ QueueName: 'js-v2-queue' }).promise();
        const a = await sqs.getQueueAttributes({ QueueUrl: q.QueueUrl, AttributeNames: ['QueueArn'] }).promise();
        await sns.subscribe({ TopicArn: topic.TopicArn, Protocol: 'sqs', Endpoint: a.Attributes.QueueArn,
                              Attributes: { RawMessageDelivery: 'true' } }).promise();
        const p = await sns.publish({ TopicArn: topic.TopicArn, Message: 'hello from v2' }).promise();
        t.ok('publish MessageId', !!p.MessageId);
        let msgs = [];
        for (let i = 0; i < 10 && msgs.length === 0; i++) {
            const r = await sqs.receiveMessage({ QueueUrl: q.QueueUrl, WaitTimeSeconds: 2 }).promise();
            msgs = r.Messages || [];
        }
        t.eq('the queue received the raw message', ['hello from v2'], msgs.map((m) => m.Body));
        /* the v2 SDK checks the MD5s of bodies and attributes (query protocol) */
        const attrs = { s: { DataType: 'String', StringValue: 'héllo' }, n: { DataType: 'Number', StringValue: '1.5' },
                        b: { DataType: 'Binary', BinaryValue: Buffer.from([1, 2, 255]) } };
        const sent = await sqs.sendMessage({ QueueUrl: q.QueueUrl, MessageBody: 'ünïcode', MessageAttributes: attrs }).promise();
        t.ok('sendMessage with attributes: MD5s accepted by the SDK', !!sent.MD5OfMessageAttributes);
        let got = [];
        for (let i = 0; i < 10 && got.length === 0; i++) {
            const r = await sqs.receiveMessage({ QueueUrl: q.QueueUrl, WaitTimeSeconds: 2, MessageAttributeNames: ['All'] }).promise();
            got = r.Messages || [];
        }
        t.eq('receiveMessage: body and attributes round-trip', ['ünïcode', 'héllo', '1.5', '0102ff'],
             [got[0] && got[0].Body, got[0] && got[0].MessageAttributes.s.StringValue,
              got[0] && got[0].MessageAttributes.n.StringValue,
              got[0] && Buffer.from(got[0].MessageAttributes.b.BinaryValue).toString('hex')]);
        const e = await t.throws('getQueueUrl of a missing queue', () => sqs.getQueueUrl({ QueueName: 'js-v2-none' }).promise());
        if (e) {
            t.eq('missing queue: the query protocol code', 'AWS.SimpleQueueService.NonExistentQueue', e.code);
        }
    });
}

async function main() {
    await s3Part();
    await lambdaPart();
    await cfnPart();
    await snsPart();
}

main().then(t.done, (e) => {
    console.log('FAIL - v2 script crashed: ' + (e && e.stack));
    process.exit(1);
});
