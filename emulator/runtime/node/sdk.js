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
 *     sslEnabled per the URL's scheme and region AWS_REGION (also as the
 *     defaults of AWS.Config, so a function replacing AWS.config keeps
 *     them). Options given to a client (new AWS.S3({ endpoint })) and the
 *     function's own AWS.config.update calls come later and win.
 * An ES module handler of nodejs18.x or newer imports the v3 clients through
 * resolution hooks (installEsm, sdk_esm.mjs), as it can on Lambda.
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

/* LAMBDA_TASK_ROOT as node names the files in it (symlinks resolved), with
 * a trailing separator; null when unset. */
function taskRoot() {
    const dir = process.env.LAMBDA_TASK_ROOT;
    if (!dir) {
        return null;
    }
    try {
        return require('fs').realpathSync(dir) + path.sep;
    } catch (e) {
        return path.resolve(dir) + path.sep;
    }
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
    /* the defaults of every Config (a function replacing AWS.config with a
     * new AWS.Config(...) keeps greenroom), and the global one made already */
    const keys = AWS.Config.prototype && AWS.Config.prototype.keys;
    if (keys && typeof keys === 'object') {
        Object.assign(keys, opts);
    }
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
    const root = taskRoot();
    const load = Module._load;
    const v2Dir = path.sep + 'aws-sdk' + path.sep;
    const hooked = function (request, parent, isMain) {
        if (typeof request !== 'string') {
            return load.apply(this, arguments);
        }
        const c = request.charCodeAt(0);
        if (c === 47 /* / */ && endpoint && request.includes(v2Dir)) {
            /* an ES module importing aws-sdk v2 (its own copy): node loads
             * the CommonJS file by its path */
            const exports = load.apply(this, arguments);
            configureV2(request, endpoint);
            return exports;
        }
        if (c !== 97 /* a */ && c !== 64 /* @ */) {
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

/* Whether the function's code (its files outside node_modules) names a v3
 * client package; past 2000 files or 16 MB read, assumes it does. */
function namesV3(root) {
    const fs = require('fs');
    let files = 0;
    let budget = 16 << 20;
    const stack = [root];
    while (stack.length > 0) {
        const dir = stack.pop();
        let entries;
        try {
            entries = fs.readdirSync(dir, { withFileTypes: true });
        } catch (e) {
            continue;
        }
        for (const e of entries) {
            if (e.isDirectory()) {
                if (e.name !== 'node_modules' && e.name[0] !== '.') {
                    stack.push(path.join(dir, e.name));
                }
                continue;
            }
            if (!/\.[mc]?js$/.test(e.name)) {
                continue;
            }
            if (++files > 2000 || budget <= 0) {
                return true;
            }
            let text;
            try {
                text = fs.readFileSync(path.join(dir, e.name), 'latin1');
            } catch (err) {
                continue;
            }
            budget -= text.length;
            if (text.includes('@aws-sdk/')) {
                return true;
            }
        }
    }
    return false;
}

/* For an ES module handler: ES modules ignore NODE_PATH, so the v3 clients
 * of a nodejs18.x-or-newer runtime are found by resolution hooks
 * (sdk_esm.mjs). Their loader thread costs a cold start tens of ms, so only
 * a function whose code names '@aws-sdk/' gets them (a package in its
 * node_modules importing the SDK is not looked at). */
function installEsm() {
    const root = taskRoot();
    const dirs = (process.env.NODE_PATH || '').split(path.delimiter)
        .filter((d) => d && !(root && (path.resolve(d) + path.sep).startsWith(root)));
    if (runtimeMajor() < 18 || typeof Module.register !== 'function' || dirs.length === 0 ||
        root === null || !namesV3(root)) {
        return;
    }
    Module.register('./sdk_esm.mjs', require('url').pathToFileURL(__filename), { data: { dirs } });
}

module.exports = { install, installEsm };
