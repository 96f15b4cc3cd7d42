/*
 * sdk.js - the AWS SDK a Lambda node runtime ships, as a function run by
 * greenroom sees it. runtime.js installs this before it loads the handler.
 *
 * greenroom puts the machine's SDK directories on NODE_PATH after the
 * function's own (lambda_exec.c); node looks in the zip's node_modules
 * before NODE_PATH, so a package the function carries wins, as on Lambda.
 * On top of that, one hook on Module._load:
 *   - gives each runtime the SDK generation Lambda's does: nodejs16.x and
 *     older ship aws-sdk v2 only, nodejs18.x and newer the v3 clients
 *     (@aws-sdk/*) only. The function's code requiring the other one from
 *     the machine gets node's MODULE_NOT_FOUND ("Cannot find module
 *     'aws-sdk'"), as on Lambda; a copy in the zip is the function's own and
 *     loads.
 *   - points aws-sdk v2 at greenroom. v2 ignores AWS_ENDPOINT_URL (v3 and
 *     boto3 read it), so when a copy of aws-sdk v2 is loaded, its global
 *     AWS.config gets endpoint AWS_ENDPOINT_URL, s3ForcePathStyle,
 *     sslEnabled per the URL's scheme and region AWS_REGION. Options given
 *     to a client (new AWS.S3({ endpoint })) and the function's own
 *     AWS.config.update calls come later and win.
 * A function that never names the SDK pays one string test per require;
 * nothing of the SDK is loaded for it.
 */
'use strict';

const Module = require('module');
const path = require('path');

const configured = new WeakSet();

/* The runtime's major node version from AWS_EXECUTION_ENV
 * (AWS_Lambda_nodejs16.x -> 16), 0 when unknown. */
function runtimeMajor() {
    const m = /nodejs(\d+)/.exec(process.env.AWS_EXECUTION_ENV || '');
    return m ? Number(m[1]) : 0;
}

/* node's own error for a module it cannot find. */
function notFound(request, parent) {
    const stack = [];
    for (let p = parent; p && p.filename; p = p.parent) {
        stack.push(p.filename);
    }
    const e = new Error(`Cannot find module '${request}'` +
                        (stack.length ? '\nRequire stack:\n- ' + stack.join('\n- ') : ''));
    e.code = 'MODULE_NOT_FOUND';
    e.requireStack = stack;
    return e;
}

/* Sets the global config of the aws-sdk v2 copy that `filename` (a file of
 * it) belongs to, once per copy. */
function configureV2(filename, endpoint) {
    const marker = path.sep + 'aws-sdk' + path.sep;
    const at = filename.lastIndexOf(marker);
    if (at < 0) {
        return;
    }
    const core = require.cache[filename.slice(0, at + marker.length) + path.join('lib', 'core.js')];
    const AWS = core && core.exports;
    if (!AWS || typeof AWS.Config !== 'function' || !AWS.config ||
        !String(AWS.VERSION || '').startsWith('2.') || configured.has(AWS)) {
        return;
    }
    configured.add(AWS);
    let ssl = false;
    try {
        ssl = new URL(endpoint).protocol === 'https:';
    } catch (e) {
        return;
    }
    const opts = { endpoint, s3ForcePathStyle: true, sslEnabled: ssl };
    if (!AWS.config.region && process.env.AWS_REGION) {
        opts.region = process.env.AWS_REGION;
    }
    AWS.config.update(opts);
}

/* Installs the hook (once). */
function install() {
    if (Module._load.greenroomSdk) {
        return;
    }
    const major = runtimeMajor();
    const shipsV2 = major > 0 && major < 18;
    const endpoint = process.env.AWS_ENDPOINT_URL || '';
    const taskRoot = process.env.LAMBDA_TASK_ROOT;
    const root = taskRoot ? path.resolve(taskRoot) + path.sep : null;
    const load = Module._load;
    const hooked = function (request, parent, isMain) {
        if (typeof request !== 'string' || (request.charCodeAt(0) !== 97 /* a */ &&
                                            request.charCodeAt(0) !== 64 /* @ */)) {
            return load.apply(this, arguments);
        }
        const v2 = request === 'aws-sdk' || request.startsWith('aws-sdk/');
        const v3 = request.startsWith('@aws-sdk/');
        if (!v2 && !v3) {
            return load.apply(this, arguments);
        }
        const filename = Module._resolveFilename(request, parent, isMain);
        const fromFunction = root !== null && parent && typeof parent.filename === 'string' &&
                             parent.filename.startsWith(root);
        if (fromFunction && major > 0 && !filename.startsWith(root) && (v2 ? !shipsV2 : shipsV2)) {
            throw notFound(request, parent);
        }
        const exports = load.apply(this, arguments);
        if (v2 && endpoint) {
            configureV2(filename, endpoint);
        }
        return exports;
    };
    hooked.greenroomSdk = true;
    Module._load = hooked;
}

module.exports = { install };
