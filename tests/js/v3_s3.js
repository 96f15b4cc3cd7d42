/* tests/js/v3_s3.js - @aws-sdk/client-s3 (v3) against greenroom: CreateBucket,
 * PutObject with the SDK's default CRC32 checksum (header for a Buffer body,
 * aws-chunked trailer for a stream body), GetObject, HeadObject, the
 * ListObjectsV2 paginator, DeleteObjects, a 20 MiB @aws-sdk/lib-storage Upload
 * (multipart), presigned GET/PUT (@aws-sdk/s3-request-presigner) fetched with
 * node's http, CopyObject, virtual-host addressing, a retried 503 (the SDK's
 * amz-sdk-request attempt=2), a new bucket's settings (encryption, public
 * access block, ownership, ACL; public ACLs refused; CORS kept) and error
 * shapes (NoSuchKey, NotFound, NoSuchBucket).
 * Run by tests/cli/test_jssdk_v3.sh with GR_URL set. */
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const http = require('http');
const os = require('os');
const path = require('path');
const { Readable } = require('stream');
const {
    S3Client, CreateBucketCommand, PutObjectCommand, GetObjectCommand, HeadObjectCommand,
    ListObjectsV2Command, paginateListObjectsV2, DeleteObjectsCommand, CopyObjectCommand,
    HeadBucketCommand, GetBucketEncryptionCommand, GetPublicAccessBlockCommand, GetBucketOwnershipControlsCommand,
    GetBucketAclCommand, PutBucketCorsCommand, GetBucketCorsCommand, DeleteObjectCommand,
    waitUntilBucketExists, waitUntilObjectExists, waitUntilObjectNotExists,
} = require('@aws-sdk/client-s3');
const { Upload } = require('@aws-sdk/lib-storage');
const { getSignedUrl } = require('@aws-sdk/s3-request-presigner');
const t = require('./common');

const md5 = (b) => crypto.createHash('md5').update(b).digest('hex');

/* CRC32 (IEEE) of a buffer, base64 of its big-endian bytes, as x-amz-checksum-crc32 */
function crc32b64(buf) {
    let c = ~0 >>> 0;
    for (const byte of buf) {
        c ^= byte;
        for (let k = 0; k < 8; k++) {
            c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
        }
    }
    const out = Buffer.alloc(4);
    out.writeUInt32BE((~c) >>> 0);
    return out.toString('base64');
}

async function main() {
    const s3 = new S3Client(t.v3opts());
    const B = 'js-v3-bkt';
    const body = Buffer.from('hello from the v3 SDK\n'.repeat(50));

    await t.step('CreateBucket', async () => {
        const r = await s3.send(new CreateBucketCommand({ Bucket: B }));
        t.eq('CreateBucket answers 200 with a Location', [200, true],
             [r.$metadata.httpStatusCode, typeof r.Location === 'string' && r.Location.includes(B)]);
        const h = await s3.send(new HeadBucketCommand({ Bucket: B }));
        t.eq('HeadBucket after CreateBucket', 200, h.$metadata.httpStatusCode);
    });

    await t.step('S3 waiters', async () => {
        const w = { client: s3, maxWaitTime: 30, minDelay: 1, maxDelay: 2 };
        t.eq('waitUntilBucketExists', 'SUCCESS', (await waitUntilBucketExists(w, { Bucket: B })).state);
        await s3.send(new PutObjectCommand({ Bucket: B, Key: 'waited.txt', Body: 'w' }));
        t.eq('waitUntilObjectExists', 'SUCCESS', (await waitUntilObjectExists(w, { Bucket: B, Key: 'waited.txt' })).state);
        await s3.send(new DeleteObjectCommand({ Bucket: B, Key: 'waited.txt' }));
        t.eq('waitUntilObjectNotExists', 'SUCCESS',
             (await waitUntilObjectNotExists(w, { Bucket: B, Key: 'waited.txt' })).state);
    });

    await t.step('PutObject (Buffer body, default CRC32 checksum header)', async () => {
        const r = await s3.send(new PutObjectCommand({ Bucket: B, Key: 'dir/hello.txt', Body: body,
                                                      ContentType: 'text/plain', Metadata: { who: 'v3' } }));
        t.eq('PutObject ETag is the MD5 of the body', '"' + md5(body) + '"', r.ETag);
        t.eq('PutObject echoes the CRC32 the SDK computed', crc32b64(body), r.ChecksumCRC32);
    });

    await t.step('GetObject', async () => {
        const r = await s3.send(new GetObjectCommand({ Bucket: B, Key: 'dir/hello.txt' }));
        const got = Buffer.from(await r.Body.transformToByteArray());
        t.ok('GetObject body equals what was put', got.equals(body), got.length + ' bytes');
        t.eq('GetObject ContentType, Metadata, ContentLength', ['text/plain', 'v3', body.length],
             [r.ContentType, r.Metadata && r.Metadata.who, r.ContentLength]);
    });

    await t.step('HeadObject (ChecksumMode ENABLED)', async () => {
        const r = await s3.send(new HeadObjectCommand({ Bucket: B, Key: 'dir/hello.txt', ChecksumMode: 'ENABLED' }));
        t.eq('HeadObject length, ETag, stored CRC32', [body.length, '"' + md5(body) + '"', crc32b64(body)],
             [r.ContentLength, r.ETag, r.ChecksumCRC32]);
    });

    await t.step('PutObject (stream body: aws-chunked with a CRC32 trailer)', async () => {
        const data = crypto.randomBytes(200000);
        const f = path.join(os.tmpdir(), 'gr-js-stream-' + process.pid);
        fs.writeFileSync(f, data);
        try {
            const r = await s3.send(new PutObjectCommand({ Bucket: B, Key: 'stream.bin',
                                                          Body: fs.createReadStream(f) }));
            t.eq('streamed PutObject ETag is the MD5 of the decoded data', '"' + md5(data) + '"', r.ETag);
            const g = await s3.send(new GetObjectCommand({ Bucket: B, Key: 'stream.bin', ChecksumMode: 'ENABLED' }));
            const got = Buffer.from(await g.Body.transformToByteArray());
            t.ok('streamed object reads back byte for byte', got.equals(data), got.length + ' bytes');
            t.eq('streamed object keeps the trailer CRC32', crc32b64(data), g.ChecksumCRC32);
        } finally {
            fs.unlinkSync(f);
        }
    });

    await t.step('ListObjectsV2 paginator', async () => {
        for (let i = 0; i < 5; i++) {
            await s3.send(new PutObjectCommand({ Bucket: B, Key: 'page/k' + i, Body: 'v' + i }));
        }
        const pages = [];
        for await (const p of paginateListObjectsV2({ client: s3, pageSize: 2 }, { Bucket: B, Prefix: 'page/' })) {
            pages.push((p.Contents || []).map((o) => o.Key));
            if (pages.length > 10) {
                break;
            }
        }
        t.eq('paginator pages of 2 over 5 keys', [['page/k0', 'page/k1'], ['page/k2', 'page/k3'], ['page/k4']], pages);
        const d = await s3.send(new ListObjectsV2Command({ Bucket: B, Delimiter: '/' }));
        t.eq('ListObjectsV2 with a delimiter: common prefixes',
             ['dir/', 'page/'], (d.CommonPrefixes || []).map((p) => p.Prefix));
    });

    await t.step('DeleteObjects', async () => {
        const r = await s3.send(new DeleteObjectsCommand({ Bucket: B, Delete: {
            Objects: [{ Key: 'page/k0' }, { Key: 'page/k1' }, { Key: 'page/absent' }] } }));
        t.eq('DeleteObjects reports every key deleted',
             ['page/absent', 'page/k0', 'page/k1'], (r.Deleted || []).map((d) => d.Key).sort());
        t.eq('DeleteObjects reports no errors', 0, (r.Errors || []).length);
        const l = await s3.send(new ListObjectsV2Command({ Bucket: B, Prefix: 'page/' }));
        t.eq('the deleted keys are gone', ['page/k2', 'page/k3', 'page/k4'], (l.Contents || []).map((o) => o.Key));
    });

    await t.step('lib-storage Upload 20 MiB (multipart)', async () => {
        const big = crypto.randomBytes(20 * 1024 * 1024);
        const up = new Upload({ client: s3, params: { Bucket: B, Key: 'big.bin', Body: big },
                                partSize: 5 * 1024 * 1024, queueSize: 2 });
        let parts = 0;
        up.on('httpUploadProgress', () => parts++);
        const r = await up.done();
        t.ok('Upload ETag is a 4-part multipart ETag', /^"[0-9a-f]{32}-4"$/.test(r.ETag), r.ETag);
        const h = await s3.send(new HeadObjectCommand({ Bucket: B, Key: 'big.bin' }));
        t.eq('multipart object length', big.length, h.ContentLength);
        const g = await s3.send(new GetObjectCommand({ Bucket: B, Key: 'big.bin' }));
        const got = Buffer.from(await g.Body.transformToByteArray());
        t.eq('multipart object MD5 equals the source', md5(big), md5(got));
        const part = await s3.send(new GetObjectCommand({ Bucket: B, Key: 'big.bin', Range: 'bytes=5242878-5242881' }));
        const pb = Buffer.from(await part.Body.transformToByteArray());
        t.ok('a range across a part boundary', pb.equals(big.subarray(5242878, 5242882)) &&
             part.$metadata.httpStatusCode === 206, pb.toString('hex'));
        t.ok('progress events seen', parts > 0, parts);
    });

    await t.step('presigned GET and PUT', async () => {
        const getUrl = await getSignedUrl(s3, new GetObjectCommand({ Bucket: B, Key: 'dir/hello.txt' }), { expiresIn: 300 });
        t.ok('presigned GET URL carries X-Amz-Signature', getUrl.includes('X-Amz-Signature='), getUrl);
        const g = await t.request('GET', getUrl);
        t.ok('presigned GET with node http returns the body', g.status === 200 && g.body.equals(body),
             g.status + ' ' + g.body.toString().slice(0, 200));
        const data = Buffer.from('put through a presigned URL');
        const putUrl = await getSignedUrl(s3, new PutObjectCommand({ Bucket: B, Key: 'presigned.txt' }), { expiresIn: 300 });
        const p = await t.request('PUT', putUrl, { 'content-length': data.length }, data);
        /* since 3.729 the SDK hoists the CRC32 of the (absent) body into the URL
         * (x-amz-checksum-crc32=AAAAAA==); S3 ignores checksums on presigned
         * URLs, so the upload succeeds there and must here */
        t.eq('presigned PUT with node http (SDK default URL)', 200, p.status);
        const s3q = new S3Client(t.v3opts({ requestChecksumCalculation: 'WHEN_REQUIRED' }));
        const u2 = await getSignedUrl(s3q, new PutObjectCommand({ Bucket: B, Key: 'presigned2.txt' }), { expiresIn: 300 });
        const p2 = await t.request('PUT', u2, { 'content-length': data.length }, data);
        t.eq('presigned PUT (requestChecksumCalculation WHEN_REQUIRED)', 200, p2.status);
        s3q.destroy();
        const r = await s3.send(new GetObjectCommand({ Bucket: B, Key: 'presigned.txt' }));
        t.eq('the presigned PUT stored the body', data.toString(), await r.Body.transformToString());
        const bad = await t.request('GET', getUrl.replace(/X-Amz-Signature=([0-9a-f])/,
                                                          (m, c) => 'X-Amz-Signature=' + (c === '0' ? '1' : '0')));
        t.ok('a tampered presigned URL is refused (403 SignatureDoesNotMatch)',
             bad.status === 403 && bad.body.toString().includes('SignatureDoesNotMatch'), bad.status);
    });

    await t.step('CopyObject', async () => {
        const r = await s3.send(new CopyObjectCommand({ Bucket: B, Key: 'copy.txt', CopySource: B + '/dir/hello.txt' }));
        t.eq('CopyObjectResult ETag equals the source ETag', '"' + md5(body) + '"', r.CopyObjectResult && r.CopyObjectResult.ETag);
        const g = await s3.send(new GetObjectCommand({ Bucket: B, Key: 'copy.txt' }));
        t.eq('the copy keeps the metadata', 'v3', g.Metadata && g.Metadata.who);
        t.ok('the copy has the same body', Buffer.from(await g.Body.transformToByteArray()).equals(body));
    });

    await t.step('virtual-host addressing (bucket.localhost)', async () => {
        const port = new URL(t.url).port;
        const agent = new http.Agent({ lookup: (host, opts, cb) => {
            if (opts && opts.all) {
                cb(null, [{ address: '127.0.0.1', family: 4 }]);
            } else {
                cb(null, '127.0.0.1', 4);
            }
        } });
        const vs3 = new S3Client(t.v3opts({ endpoint: 'http://localhost:' + port, forcePathStyle: false,
                                             requestHandler: { httpAgent: agent } }));
        const since = await t.seq();
        await vs3.send(new PutObjectCommand({ Bucket: B, Key: 'vhost.txt', Body: 'virtual' }));
        const g = await s3.send(new GetObjectCommand({ Bucket: B, Key: 'vhost.txt' }));
        t.eq('a virtual-host PutObject lands in the bucket', 'virtual', await g.Body.transformToString());
        const c = (await t.calls(since)).find((x) => x.operation === 'PutObject');
        t.eq('the journal names bucket/key for the virtual-host call', B + '/vhost.txt', c && c.resource);
        agent.destroy();
    });

    await t.step('a 503 SlowDown is retried by the SDK', async () => {
        const since = await t.seq();
        const rule = [{ id: 'js-slow', service: 's3', operation: 'PutObject', resource: B + '/retry.txt', nth: 1,
                        error: { statusCode: 503, code: 'SlowDown', message: 'Please reduce your request rate.' } }];
        const f = await t.request('POST', t.url + '/_greenroom/faults', { 'content-type': 'application/json' },
                                  JSON.stringify(rule));
        t.ok('fault rule accepted', f.status >= 200 && f.status < 300, f.status + ' ' + f.body);
        const r = await s3.send(new PutObjectCommand({ Bucket: B, Key: 'retry.txt', Body: 'retried' }));
        t.eq('the retried PutObject succeeds after 2 attempts', [200, 2],
             [r.$metadata.httpStatusCode, r.$metadata.attempts]);
        const c = (await t.calls(since)).filter((x) => x.resource === B + '/retry.txt' && x.operation === 'PutObject');
        t.eq('the journal shows the 503 then the 200', [[503, 'SlowDown'], [200, '']],
             c.map((x) => [x.status, x.error]));
        await t.request('DELETE', t.url + '/_greenroom/faults');
    });

    await t.step('bucket settings of a new bucket; ACLs disabled', async () => {
        const enc = await s3.send(new GetBucketEncryptionCommand({ Bucket: B }));
        t.eq('default encryption: SSE-S3', 'AES256',
             enc.ServerSideEncryptionConfiguration.Rules[0].ApplyServerSideEncryptionByDefault.SSEAlgorithm);
        const pab = await s3.send(new GetPublicAccessBlockCommand({ Bucket: B }));
        t.eq('public access blocked', { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true,
                                        RestrictPublicBuckets: true }, pab.PublicAccessBlockConfiguration);
        const own = await s3.send(new GetBucketOwnershipControlsCommand({ Bucket: B }));
        t.eq('Object Ownership BucketOwnerEnforced', 'BucketOwnerEnforced',
             own.OwnershipControls.Rules[0].ObjectOwnership);
        const acl = await s3.send(new GetBucketAclCommand({ Bucket: B }));
        t.eq('bucket ACL: the owner FULL_CONTROL', [['CanonicalUser', 'FULL_CONTROL', true]],
             acl.Grants.map((g) => [g.Grantee.Type, g.Permission, g.Grantee.ID === acl.Owner.ID]));
        const e = await t.throws('PutObject with ACL public-read', () =>
            s3.send(new PutObjectCommand({ Bucket: B, Key: 'public.txt', Body: 'x', ACL: 'public-read' })));
        if (e) {
            t.eq('ACL public-read: AccessControlListNotSupported 400', ['AccessControlListNotSupported', 400],
                 [e.name, e.$metadata.httpStatusCode]);
        }
        await s3.send(new PutBucketCorsCommand({ Bucket: B, CORSConfiguration: { CORSRules: [{
            AllowedOrigins: ['http://app.example'], AllowedMethods: ['GET', 'PUT'], MaxAgeSeconds: 60 }] } }));
        const cors = await s3.send(new GetBucketCorsCommand({ Bucket: B }));
        t.eq('PutBucketCors then GetBucketCors', [['http://app.example'], ['GET', 'PUT'], 60],
             [cors.CORSRules[0].AllowedOrigins, cors.CORSRules[0].AllowedMethods, cors.CORSRules[0].MaxAgeSeconds]);
    });

    await t.step('error shapes', async () => {
        let e = await t.throws('GetObject of a missing key', () =>
            s3.send(new GetObjectCommand({ Bucket: B, Key: 'nope' })));
        if (e) {
            t.eq('NoSuchKey: name, HTTP status, Key', ['NoSuchKey', 404, 'nope'],
                 [e.name, e.$metadata && e.$metadata.httpStatusCode, e.Key]);
            t.ok('NoSuchKey carries a request id', !!(e.$metadata && e.$metadata.requestId));
        }
        e = await t.throws('HeadObject of a missing key', () =>
            s3.send(new HeadObjectCommand({ Bucket: B, Key: 'nope' })));
        if (e) {
            t.eq('HeadObject of a missing key: NotFound 404', ['NotFound', 404],
                 [e.name, e.$metadata && e.$metadata.httpStatusCode]);
        }
        e = await t.throws('GetObject in a missing bucket', () =>
            s3.send(new GetObjectCommand({ Bucket: 'js-no-such-bucket', Key: 'k' })));
        if (e) {
            t.eq('NoSuchBucket: name, HTTP status, BucketName', ['NoSuchBucket', 404],
                 [e.name, e.$metadata && e.$metadata.httpStatusCode]);
        }
        e = await t.throws('GetObject with another ExpectedBucketOwner', () =>
            s3.send(new GetObjectCommand({ Bucket: B, Key: 'dir/hello.txt', ExpectedBucketOwner: '111111111111' })));
        if (e) {
            t.eq('ExpectedBucketOwner of another account: AccessDenied 403', ['AccessDenied', 403],
                 [e.name, e.$metadata && e.$metadata.httpStatusCode]);
        }
        /* us-east-1 answers 200 to re-creating an owned bucket (legacy); other regions 409 */
        const again = await s3.send(new CreateBucketCommand({ Bucket: B }));
        t.eq('CreateBucket of an owned bucket in us-east-1: 200', 200, again.$metadata.httpStatusCode);
        const w2 = new S3Client(t.v3opts({ region: 'us-west-2' }));
        e = await t.throws('CreateBucket of an owned bucket in us-west-2', () => w2.send(new CreateBucketCommand({
            Bucket: B, CreateBucketConfiguration: { LocationConstraint: 'us-west-2' } })));
        if (e) {
            t.eq('CreateBucket of an owned bucket elsewhere: BucketAlreadyOwnedByYou 409',
                 ['BucketAlreadyOwnedByYou', 409], [e.name, e.$metadata && e.$metadata.httpStatusCode]);
        }
        w2.destroy();
    });
    s3.destroy();
}

main().then(t.done, (e) => {
    console.log('FAIL - v3 S3 script crashed: ' + (e && e.stack));
    process.exit(1);
});
