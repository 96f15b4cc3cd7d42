/*
 * runtime.js - greenroom's Lambda runtime client for nodejs* functions.
 *
 * Speaks the Lambda Runtime API (AWS_LAMBDA_RUNTIME_API, served by
 * greenroom under /_greenroom/runtime/<sandbox>/): GET invocation/next, run
 * the handler named by _HANDLER ("dir/file.export", relative to
 * LAMBDA_TASK_ROOT), POST invocation/<id>/response or /error.
 *
 * Handler styles supported:
 *   - callback handlers (event, context, callback) - callback(err, result);
 *   - v0.5-era context.succeed(result) / context.fail(err) / context.done();
 *   - async handlers and handlers returning a promise;
 *   - ES module handlers (file.mjs exporting the handler);
 *   - handlers that never answer: when the event loop empties, the answer
 *     is null (callbackWaitsForEmptyEventLoop semantics).
 * The AWS SDK the runtime ships (aws-sdk v2 or the v3 clients, from the
 * machine) and its endpoint: sdk.js.
 * Errors passed to callback/context.fail are "Handled" (greenroom answers
 * X-Amz-Function-Error: Handled); thrown errors and rejections are
 * "Unhandled". The error kind travels in the X-Greenroom-Error-Kind header.
 */
'use strict';

const http = require('http');
const path = require('path');

const api = process.env.AWS_LAMBDA_RUNTIME_API || '';
const slash = api.indexOf('/');
const hostport = slash >= 0 ? api.slice(0, slash) : api;
const prefix = (slash >= 0 ? api.slice(slash) : '') + '/2018-06-01/runtime';
const colon = hostport.lastIndexOf(':');
const host = hostport.slice(0, colon);
const port = Number(hostport.slice(colon + 1));
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

/* One request on the kept-alive connection (greenroom keeps idle
 * connections 900 s, Lambda's longest timeout). Any error ends the
 * runtime: greenroom is going away. */
function request(method, p, body, headers) {
    return requestOnce(method, p, body, headers);
}

function requestOnce(method, p, body, headers) {
    return new Promise((resolve, reject) => {
        const data = body === undefined ? undefined : Buffer.from(body);
        const h = Object.assign({}, headers || {});
        if (data) {
            h['Content-Type'] = 'application/json';
            h['Content-Length'] = data.length;
        }
        const req = http.request({ host, port, method, path: prefix + p, agent, headers: h }, (res) => {
            const chunks = [];
            res.on('data', (c) => chunks.push(c));
            res.on('end', () => resolve({ status: res.statusCode, headers: res.headers,
                                          body: Buffer.concat(chunks).toString('utf8') }));
            res.on('error', reject);
        });
        req.on('error', reject);
        if (data) {
            req.write(data);
        }
        req.end();
    });
}

function errorJson(err) {
    if (err instanceof Error) {
        return {
            errorType: err.name || 'Error',
            errorMessage: err.message,
            trace: String(err.stack || '').split('\n'),
        };
    }
    if (typeof err === 'object' && err !== null) {
        try {
            return { errorType: 'object', errorMessage: JSON.stringify(err), trace: [] };
        } catch (e) {
            return { errorType: 'object', errorMessage: String(err), trace: [] };
        }
    }
    return { errorType: typeof err, errorMessage: String(err), trace: [] };
}

function stringify(result) {
    if (result === undefined) {
        return 'null';
    }
    try {
        const s = JSON.stringify(result);
        return s === undefined ? 'null' : s;
    } catch (e) {
        return null;
    }
}

/* Loads the handler function; throws an Error with errorType set. */
async function loadHandler() {
    const spec = process.env._HANDLER || '';
    const root = process.env.LAMBDA_TASK_ROOT || process.cwd();
    const lastSlash = spec.lastIndexOf('/');
    const dot = spec.indexOf('.', lastSlash + 1);
    if (dot < 0) {
        const e = new Error(`Bad handler ${spec}`);
        e.name = 'Runtime.MalformedHandlerName';
        throw e;
    }
    const modPath = path.resolve(root, spec.slice(0, dot));
    const names = spec.slice(dot + 1).split('.');
    let mod;
    try {
        const fs = require('fs');
        if (fs.existsSync(modPath + '.mjs') && !fs.existsSync(modPath + '.js')) {
            /* an ES module handler (index.mjs: export const handler) */
            require('./sdk.js').installEsm();
            mod = await import(require('url').pathToFileURL(modPath + '.mjs').href);
        } else {
            mod = require(modPath);
        }
    } catch (err) {
        if (err && err.code === 'MODULE_NOT_FOUND' &&
            String(err.message).split('\n')[0].includes(modPath)) {
            const e = new Error(`Cannot find module '${spec.slice(0, dot)}'`);
            e.name = 'Runtime.ImportModuleError';
            throw e;
        }
        if (err && (err.code === 'MODULE_NOT_FOUND' || err.code === 'ERR_MODULE_NOT_FOUND')) {
            /* a module the handler requires, as Lambda reports it */
            const e = new Error(`Error: ${err.message}`);
            e.name = 'Runtime.ImportModuleError';
            throw e;
        }
        throw err;
    }
    let fn = mod;
    for (const n of names) {
        fn = fn == null ? undefined : fn[n];
    }
    if (typeof fn !== 'function') {
        const e = new Error(`${spec.slice(dot + 1)} is undefined or not exported`);
        e.name = 'Runtime.HandlerNotFound';
        throw e;
    }
    return fn;
}

let current = null; /* { id, done } of the invocation in flight */

/* Console lines as AWS's node runtime prints them. */
function patchConsole() {
    const util = require('util');
    for (const [name, level] of [['log', 'INFO'], ['info', 'INFO'], ['warn', 'WARN'],
                                 ['error', 'ERROR'], ['debug', 'DEBUG'], ['trace', 'TRACE']]) {
        const stream = name === 'log' || name === 'info' || name === 'debug' ? process.stdout
                                                                               : process.stderr;
        console[name] = (...args) => {
            const id = current ? current.id : 'undefined';
            const line = util.format(...args).replace(/\n/g, '\r');
            stream.write(`${new Date().toISOString()}\t${id}\t${level}\t${line}\n`);
        };
    }
}

async function postError(id, err, kind) {
    const body = JSON.stringify(errorJson(err));
    const p = id ? `/invocation/${id}/error` : '/init/error';
    await request('POST', p, body, {
        'Lambda-Runtime-Function-Error-Type': errorJson(err).errorType,
        'X-Greenroom-Error-Kind': kind,
    });
}

function runOne(handler, inv) {
    return new Promise((resolve) => {
        let finished = false;
        const finish = (kind, value) => {
            if (finished) {
                return;
            }
            finished = true;
            process.removeListener('beforeExit', onEmpty);
            resolve({ kind, value });
        };
        const onEmpty = () => finish('ok', undefined);
        const headers = inv.headers;
        const deadline = Number(headers['lambda-runtime-deadline-ms'] || Date.now() + 3000);
        let clientContext;
        if (headers['lambda-runtime-client-context']) {
            try {
                clientContext = JSON.parse(headers['lambda-runtime-client-context']);
            } catch (e) {
                clientContext = undefined;
            }
        }
        const callback = (err, result) => {
            if (err !== undefined && err !== null) {
                finish('handled', err);
            } else {
                finish('ok', result);
            }
        };
        const context = {
            callbackWaitsForEmptyEventLoop: true,
            functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
            functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
            invokedFunctionArn: headers['lambda-runtime-invoked-function-arn'],
            memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
            awsRequestId: inv.id,
            logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
            logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
            clientContext,
            identity: undefined,
            getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
            succeed: (result) => finish('ok', result),
            fail: (err) => finish('handled', err === undefined || err === null ? 'handled' : err),
            done: (err, result) => callback(err, result),
        };
        process.on('beforeExit', onEmpty);
        let ret;
        try {
            ret = handler(inv.event, context, callback);
        } catch (err) {
            finish('unhandled', err);
            return;
        }
        if (ret && typeof ret.then === 'function') {
            ret.then((v) => finish('ok', v), (err) => finish('unhandled', err));
        }
    });
}

async function main() {
    patchConsole();
    /* the AWS SDK as the runtime ships it, pointed at greenroom (sdk.js) */
    require('./sdk.js').install();
    let handler;
    try {
        handler = await loadHandler();
    } catch (err) {
        console.error(err && err.stack ? err.stack : String(err));
        await postError(null, err, 'Unhandled');
        process.exit(1);
        return;
    }
    process.on('uncaughtException', async (err) => {
        console.error(err && err.stack ? err.stack : String(err));
        if (current && !current.done) {
            current.done = true;
            try {
                await postError(current.id, err, 'Unhandled');
            } catch (e) {
                /* greenroom is gone */
            }
        }
        process.exit(129);
    });
    process.on('unhandledRejection', (reason) => {
        process.emit('uncaughtException', reason instanceof Error ? reason : new Error(String(reason)));
    });
    for (;;) {
        const res = await request('GET', '/invocation/next');
        if (res.status !== 200) {
            process.exit(0);
        }
        const id = res.headers['lambda-runtime-aws-request-id'];
        let event;
        try {
            event = JSON.parse(res.body);
        } catch (e) {
            event = res.body;
        }
        current = { id, done: false };
        const out = await runOne(handler, { id, event, headers: res.headers });
        if (current.done) {
            continue;
        }
        current.done = true;
        if (out.kind === 'ok') {
            const s = stringify(out.value);
            if (s === null) {
                await postError(id, new TypeError('Unable to stringify response body'), 'Unhandled');
            } else {
                await request('POST', `/invocation/${id}/response`, s);
            }
        } else {
            if (out.value instanceof Error) {
                console.error(out.value.stack || String(out.value));
            }
            await postError(id, out.value, out.kind === 'handled' ? 'Handled' : 'Unhandled');
        }
    }
}

main().catch((err) => {
    process.stderr.write(`greenroom runtime: ${err && err.stack ? err.stack : err}\n`);
    process.exit(1);
});
