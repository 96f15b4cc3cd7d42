/* tests/js/common.js - shared by the JS SDK test scripts (tests/cli/test_jssdk_*.sh):
 * client options for greenroom at $GR_URL (test/test, us-east-1), TAP-like
 * "ok   - " / "FAIL - " lines, a step runner that turns a thrown error into a
 * failure line, and small HTTP helpers built on node's http module. */
'use strict';
const http = require('http');

const url = process.env.GR_URL;
if (!url) {
    console.error('GR_URL not set');
    process.exit(2);
}
const region = 'us-east-1';
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
let failed = 0;

/* v3 client options: endpoint, region, static credentials, path-style S3 */
function v3opts(extra) {
    return Object.assign({ endpoint: url, region, credentials, forcePathStyle: true }, extra || {});
}

/* prints an ok/FAIL line; detail is printed under a failure */
function ok(what, cond, detail) {
    if (cond) {
        console.log('ok   - ' + what);
    } else {
        failed++;
        console.log('FAIL - ' + what + (detail !== undefined ? ': ' + detail : ''));
    }
    return !!cond;
}

/* ok() comparing two values by their JSON form */
function eq(what, expected, actual) {
    const e = JSON.stringify(expected);
    const a = JSON.stringify(actual);
    return ok(what, e === a, 'expected ' + e + ', got ' + a);
}

/* runs an async step; an exception is one failure named after the step */
async function step(what, fn) {
    try {
        return await fn();
    } catch (e) {
        failed++;
        const meta = e && e.$metadata ? ' (HTTP ' + e.$metadata.httpStatusCode + ')' : '';
        const code = e && e.statusCode ? ' (HTTP ' + e.statusCode + ')' : '';
        console.log('FAIL - ' + what + ': threw ' + (e && (e.name || e.code)) + ': ' +
                    (e && e.message) + meta + code);
        return undefined;
    }
}

/* runs fn expecting it to throw; returns the error (or null after a failure line) */
async function throws(what, fn) {
    try {
        await fn();
    } catch (e) {
        return e;
    }
    ok(what + ' throws', false, 'no error');
    return null;
}

/* one HTTP request with node's http: resolves {status, headers, body(Buffer)} */
function request(method, target, headers, body) {
    return new Promise((resolve, reject) => {
        const u = new URL(target);
        const req = http.request({ method, host: u.hostname, port: u.port, path: u.pathname + u.search,
                                   headers: headers || {}, timeout: 30000 }, (res) => {
            const chunks = [];
            res.on('data', (c) => chunks.push(c));
            res.on('end', () => resolve({ status: res.statusCode, headers: res.headers,
                                          body: Buffer.concat(chunks) }));
            res.on('error', reject);
        });
        req.on('timeout', () => req.destroy(new Error('timeout')));
        req.on('error', reject);
        if (body !== undefined) {
            req.write(body);
        }
        req.end();
    });
}

/* greenroom's journal since seq: [{seq, service, operation, resource, status, ...}] */
async function calls(since) {
    const r = await request('GET', url + '/_greenroom/calls?since=' + (since || 0));
    return JSON.parse(r.body.toString()).calls;
}

/* the journal's next sequence number: calls(seq()) later lists only newer calls */
async function seq() {
    const r = await request('GET', url + '/_greenroom/calls?since=0&limit=1');
    return JSON.parse(r.body.toString()).last;
}

/* exit status: 1 when any line failed */
function done() {
    process.exit(failed ? 1 : 0);
}

module.exports = { url, region, credentials, v3opts, ok, eq, step, throws, request, calls, seq, done };
