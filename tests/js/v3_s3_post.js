/* tests/js/v3_s3_post.js - @aws-sdk/s3-presigned-post against greenroom:
 * createPresignedPost with conditions and fields, the form POSTed with
 * node's fetch and FormData (path-style and virtual-host URLs), the object
 * read back with its metadata, success_action_status 201, and refusals
 * (a condition failed, a file over content-length-range, an expired policy).
 * Run by tests/cli/test_jssdk_v3.sh. */
'use strict';
const http = require('http');
const { S3Client, CreateBucketCommand, GetObjectCommand, HeadObjectCommand } = require('@aws-sdk/client-s3');
const { createPresignedPost } = require('@aws-sdk/s3-presigned-post');
const t = require('./common');

/* POSTs the presigned fields (plus extra) and a file with node's http: the
 * multipart body is built here so virtual-host addressing can pin the
 * address; resolves {status, headers, body} */
function postForm(u, fields, file, filename, hostHeader) {
    const boundary = '----greenroomJsBoundary' + Date.now();
    const parts = [];
    for (const [k, v] of Object.entries(fields)) {
        parts.push(Buffer.from('--' + boundary + '\r\nContent-Disposition: form-data; name="' + k + '"\r\n\r\n' +
                               v + '\r\n'));
    }
    parts.push(Buffer.from('--' + boundary + '\r\nContent-Disposition: form-data; name="file"; filename="' + filename +
                           '"\r\nContent-Type: application/octet-stream\r\n\r\n'));
    parts.push(file);
    parts.push(Buffer.from('\r\n--' + boundary + '--\r\n'));
    const body = Buffer.concat(parts);
    const headers = { 'content-type': 'multipart/form-data; boundary=' + boundary, 'content-length': body.length };
    if (hostHeader) {
        headers.host = hostHeader;
    }
    return t.request('POST', u, headers, body);
}

async function main() {
    const s3 = new S3Client(t.v3opts());
    const B = 'js-v3-post';
    await s3.send(new CreateBucketCommand({ Bucket: B }));

    await t.step('createPresignedPost + fetch FormData', async () => {
        const p = await createPresignedPost(s3, {
            Bucket: B, Key: 'uploads/${filename}', Expires: 300,
            Conditions: [['content-length-range', 1, 1024 * 1024], ['starts-with', '$Content-Type', 'text/']],
            Fields: { 'Content-Type': 'text/plain', 'x-amz-meta-source': 'browser' },
        });
        t.ok('presigned POST fields carry a policy and a SigV4 signature',
             !!p.fields.Policy && /^[0-9a-f]{64}$/.test(p.fields['X-Amz-Signature']), JSON.stringify(p.fields));
        const fd = new FormData();
        for (const [k, v] of Object.entries(p.fields)) {
            fd.append(k, v);
        }
        fd.append('file', new Blob(['uploaded from a form\n']), 'note.txt');
        const r = await fetch(p.url, { method: 'POST', body: fd });
        t.eq('POST answers 204 with an ETag', [204, '"' + require('crypto').createHash('md5')
            .update('uploaded from a form\n').digest('hex') + '"'], [r.status, r.headers.get('etag')]);
        const g = await s3.send(new GetObjectCommand({ Bucket: B, Key: 'uploads/note.txt' }));
        t.eq('the object: ${filename} key, body, Content-Type, metadata',
             ['uploaded from a form\n', 'text/plain', 'browser'],
             [await g.Body.transformToString(), g.ContentType, g.Metadata && g.Metadata.source]);
    });

    await t.step('success_action_status 201 and virtual-host addressing', async () => {
        const p = await createPresignedPost(s3, { Bucket: B, Key: 'uploads/v.bin', Expires: 300,
                                                   Fields: { success_action_status: '201' } });
        const port = new URL(t.url).port;
        const r = await postForm(t.url + '/', p.fields, Buffer.from([1, 2, 3]), 'v.bin', B + '.localhost:' + port);
        const body = r.body.toString();
        t.ok('201 with a PostResponse naming the bucket and key', r.status === 201 &&
             body.includes('<Bucket>' + B + '</Bucket>') && body.includes('<Key>uploads/v.bin</Key>'), r.status + ' ' + body);
        const h = await s3.send(new HeadObjectCommand({ Bucket: B, Key: 'uploads/v.bin' }));
        t.eq('the object has the 3 bytes', 3, h.ContentLength);
    });

    await t.step('refusals', async () => {
        const p = await createPresignedPost(s3, { Bucket: B, Key: 'uploads/small', Expires: 300,
                                                   Conditions: [['content-length-range', 0, 4]] });
        let r = await postForm(p.url, p.fields, Buffer.from('more than four'), 'f');
        t.ok('a file over content-length-range: 400 EntityTooLarge', r.status === 400 &&
             r.body.toString().includes('<Code>EntityTooLarge</Code>'), r.status + ' ' + r.body);
        r = await postForm(p.url, { ...p.fields, key: 'elsewhere/small' }, Buffer.from('ok'), 'f');
        t.ok('a key the policy does not allow: 403 AccessDenied, condition failed', r.status === 403 &&
             r.body.toString().includes('Policy Condition failed'), r.status + ' ' + r.body);
        const old = new S3Client(t.v3opts({ systemClockOffset: -3600 * 1000 }));
        const e = await createPresignedPost(old, { Bucket: B, Key: 'uploads/late', Expires: 60 });
        r = await postForm(e.url, e.fields, Buffer.from('late'), 'f');
        t.ok('an expired policy: 403 Policy expired', r.status === 403 &&
             r.body.toString().includes('Policy expired'), r.status + ' ' + r.body);
        const bad = { ...p.fields, 'X-Amz-Signature': '0'.repeat(64) };
        r = await postForm(p.url, bad, Buffer.from('ok'), 'f');
        t.ok('a wrong signature: 403 SignatureDoesNotMatch', r.status === 403 &&
             r.body.toString().includes('SignatureDoesNotMatch'), r.status + ' ' + r.body);
        old.destroy();
    });
    s3.destroy();
}

main().then(t.done, (e) => {
    console.log('FAIL - v3 presigned POST script crashed: ' + (e && e.stack));
    process.exit(1);
});
