/*
 * sdk_esm.mjs - module resolution hooks (node's module.register) that let an
 * ES module handler of a nodejs18.x-or-newer function import the v3 clients
 * the runtime ships, as on Lambda. ES modules ignore NODE_PATH, so when the
 * function's own node_modules has no such package, a bare '@aws-sdk/...'
 * specifier is resolved again from each SDK directory greenroom put on
 * NODE_PATH. Registered by sdk.js only for ES module handlers. Nothing else
 * changes: 'aws-sdk' (v2) stays unresolvable from ES modules, as on Lambda.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';

let dirs = [];

/* data: { dirs: [SDK directories, in NODE_PATH order] } */
export async function initialize(data) {
    dirs = (data && Array.isArray(data.dirs)) ? data.dirs : [];
}

export async function resolve(specifier, context, next) {
    try {
        return await next(specifier, context);
    } catch (err) {
        if (!err || err.code !== 'ERR_MODULE_NOT_FOUND' || !specifier.startsWith('@aws-sdk/')) {
            throw err;
        }
        /* node looks for <ancestor>/node_modules/<package> from the parent's
         * directory up, so a parent inside the directory finds <dir>/<package>
         * when dir is a node_modules (a global npm root is) */
        for (const dir of dirs) {
            const parentURL = pathToFileURL(path.join(dir, 'greenroom-sdk.mjs')).href;
            try {
                return await next(specifier, { ...context, parentURL });
            } catch (e) {
                if (!e || e.code !== 'ERR_MODULE_NOT_FOUND') {
                    throw e;
                }
            }
        }
        throw err;
    }
}
