/*
 * package.c - v0.5 function packaging (spec section 2.4 step 1-2), made
 * deterministic.
 *
 * The package root is the function folder, moved up one level per
 * directory component of the handler ("lib/handler.handler" -> the parent).
 * Every regular file below it goes into the zip except _meta, admin.env and
 * .env (at any depth) and paths matching custom.excludePatterns (POSIX
 * extended regexes, matched against the path relative to the package root,
 * as v0.5 matches its JS regexes). The generated _serverless_handler.js
 * (nodejs) or _serverless_handler.py (python) sets the environment from
 * defaults(populated environment, SERVERLESS_PROJECT/STAGE/REGION/
 * DATA_MODEL_STAGE) and re-exports the real handler, exactly as v0.5 writes
 * it. The zip is built in memory with libzip: entries sorted by path, mtime
 * fixed at 1980-01-01 00:00, unix mode 0644, deflate, so unchanged code
 * gives byte-identical zips and the same CodeSha256.
 */
#include "dep.h"

#include <dirent.h>
#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/evp.h>
#include <zip.h>

#define DEP_MAX_PACKAGE (250u * 1024u * 1024u)

void dep_sha256_b64(const void *data, size_t len, char *out, size_t n)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int ml = 0;
    unsigned char b64[64];

    EVP_Digest(data, len, md, &ml, EVP_sha256(), NULL);
    EVP_EncodeBlock(b64, md, (int)ml);
    snprintf(out, n, "%s", (const char *)b64);
}

char *dep_base64(const void *data, size_t len)
{
    size_t out_len = 4 * ((len + 2) / 3) + 1;
    unsigned char *out = malloc(out_len);

    if (!out) {
        abort();
    }
    EVP_EncodeBlock(out, data, (int)len);
    return (char *)out;
}

void dep_zip_release(struct dep_zip *zip)
{
    if (zip) {
        free(zip->data);
        memset(zip, 0, sizeof(*zip));
    }
}

struct files {
    char **rel;
    int n, cap;
    size_t total;
};

static int excluded(const char *rel, const char *base, regex_t *res, int nres)
{
    if (strcmp(base, "_meta") == 0 || strcmp(base, "admin.env") == 0 || strcmp(base, ".env") == 0) {
        return 1;
    }
    if (strcmp(base, "_serverless_handler.js") == 0 ||
        strcmp(base, "_serverless_handler.py") == 0) {
        return 1; /* regenerated */
    }
    for (int i = 0; i < nres; i++) {
        if (regexec(&res[i], rel, 0, NULL, 0) == 0) {
            return 1;
        }
    }
    return 0;
}

static int collect(const char *root, const char *rel, regex_t *res, int nres, struct files *out,
                   int depth, struct dep_err *err)
{
    char abs[4096];
    DIR *d;
    struct dirent *e;
    int rc = 0;

    snprintf(abs, sizeof(abs), "%s%s%s", root, rel[0] ? "/" : "", rel);
    if (depth > 40) {
        return 0;
    }
    d = opendir(abs);
    if (!d) {
        dep_err_local(err, "PackageFailed", "%s: %s", abs, strerror(errno));
        return -1;
    }
    while ((e = readdir(d)) && rc == 0) {
        char crel[4096], cabs[8200];
        struct stat st;
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) {
            continue;
        }
        snprintf(crel, sizeof(crel), "%s%s%s", rel, rel[0] ? "/" : "", e->d_name);
        if (excluded(crel, e->d_name, res, nres)) {
            continue;
        }
        snprintf(cabs, sizeof(cabs), "%s/%s", abs, e->d_name);
        if (stat(cabs, &st) != 0) {
            continue;
        }
        if (S_ISDIR(st.st_mode)) {
            rc = collect(root, crel, res, nres, out, depth + 1, err);
        } else if (S_ISREG(st.st_mode)) {
            out->total += (size_t)st.st_size;
            if (out->total > DEP_MAX_PACKAGE) {
                dep_err_local(err, "PackageTooLarge", "%s: package larger than %u bytes", root,
                              DEP_MAX_PACKAGE);
                rc = -1;
                break;
            }
            if (out->n == out->cap) {
                out->cap = out->cap ? out->cap * 2 : 64;
                char **nr = realloc(out->rel, sizeof(*nr) * (size_t)out->cap);
                if (!nr) {
                    abort();
                }
                out->rel = nr;
            }
            out->rel[out->n++] = strdup(crel);
        }
    }
    closedir(d);
    return rc;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The environment v0.5 bakes in: _.defaults(environment, SERVERLESS_*). */
static cJSON *env_vars(const struct dep_project *p, const struct dep_function *f)
{
    cJSON *env = cJSON_CreateObject();
    const cJSON *e = f->json ? cJSON_GetObjectItemCaseSensitive(f->json, "environment") : NULL;
    const cJSON *c;

    if (cJSON_IsObject(e)) {
        cJSON_ArrayForEach(c, e)
        {
            cJSON_AddItemToObject(env, c->string, cJSON_Duplicate(c, 1));
        }
    }
    if (!cJSON_GetObjectItemCaseSensitive(env, "SERVERLESS_PROJECT")) {
        cJSON_AddStringToObject(env, "SERVERLESS_PROJECT", p->name);
    }
    if (!cJSON_GetObjectItemCaseSensitive(env, "SERVERLESS_STAGE")) {
        cJSON_AddStringToObject(env, "SERVERLESS_STAGE", p->stage ? p->stage : "");
    }
    if (!cJSON_GetObjectItemCaseSensitive(env, "SERVERLESS_REGION")) {
        cJSON_AddStringToObject(env, "SERVERLESS_REGION", p->region ? p->region : "");
    }
    if (!cJSON_GetObjectItemCaseSensitive(env, "SERVERLESS_DATA_MODEL_STAGE")) {
        cJSON_AddStringToObject(env, "SERVERLESS_DATA_MODEL_STAGE", p->stage ? p->stage : "");
    }
    return env;
}

/* cJSON_Print with 2-space indents. Caller frees. */
static char *print2(const cJSON *j)
{
    char *s = cJSON_Print(j);
    struct dep_buf b = {0};

    int line_start = 1;
    for (const char *q = s; q && *q; q++) {
        if (*q == '\t') {
            dep_buf_puts(&b, line_start ? "  " : " ");
        } else {
            line_start = *q == '\n';
            dep_buf_append(&b, q, 1);
        }
    }
    cJSON_free(s);
    return dep_buf_take(&b);
}

static int add_entry(zip_t *z, const char *name, const void *data, size_t len, struct dep_err *err)
{
    zip_source_t *src = zip_source_buffer(z, data, len, 0);
    zip_int64_t idx;

    if (!src) {
        dep_err_local(err, "PackageFailed", "zip_source_buffer: %s", zip_strerror(z));
        return -1;
    }
    idx = zip_file_add(z, name, src, ZIP_FL_ENC_UTF_8 | ZIP_FL_OVERWRITE);
    if (idx < 0) {
        zip_source_free(src);
        dep_err_local(err, "PackageFailed", "zip_file_add %s: %s", name, zip_strerror(z));
        return -1;
    }
    /* 1980-01-01 00:00:00 local time: the DOS epoch */
    struct tm tm = {0};
    tm.tm_year = 80;
    tm.tm_mday = 1;
    tm.tm_isdst = -1;
    zip_file_set_mtime(z, (zip_uint64_t)idx, mktime(&tm), 0);
    zip_file_set_external_attributes(z, (zip_uint64_t)idx, 0, ZIP_OPSYS_UNIX,
                                     (zip_uint32_t)(0100644) << 16);
    zip_set_file_compression(z, (zip_uint64_t)idx, ZIP_CM_DEFLATE, 6);
    return 0;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    struct dep_buf b = {0};
    char chunk[65536];
    size_t r;

    if (!f) {
        return NULL;
    }
    while ((r = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        dep_buf_append(&b, chunk, r);
    }
    fclose(f);
    *len = b.len;
    return dep_buf_take(&b);
}

int dep_package_function(const struct dep_project *p, const struct dep_function *f,
                         struct dep_zip *zip, struct dep_err *err)
{
    char root[4096], handler_dir[1024] = "", handler_file[512], handler_export[256];
    regex_t res[64];
    int nres = 0, rc = -1;
    struct files fl = {0};
    char **datas = NULL;
    char *loader = NULL;
    zip_source_t *zs = NULL;
    zip_t *z = NULL;
    zip_error_t ze;
    const cJSON *custom, *pats, *pat;

    memset(zip, 0, sizeof(*zip));
    /* handler "a/b/file.export": dir "a/b", file "file", export "export" */
    {
        const char *h = f->handler;
        const char *slash = strrchr(h, '/');
        const char *base = slash ? slash + 1 : h;
        const char *dot = strchr(base, '.');
        if (!dot || dot == base || !dot[1]) {
            dep_err_local(err, "InvalidProject",
                          "function %s: handler \"%s\" is not <file>.<export>", f->name, h);
            return -1;
        }
        if (slash) {
            snprintf(handler_dir, sizeof(handler_dir), "%.*s", (int)(slash - h), h);
        }
        snprintf(handler_file, sizeof(handler_file), "%.*s", (int)(dot - base), base);
        snprintf(handler_export, sizeof(handler_export), "%s", dot + 1);
    }
    snprintf(root, sizeof(root), "%s", f->dir);
    for (const char *q = handler_dir; *q;) {
        while (*q == '/') {
            q++;
        }
        if (!*q) {
            break;
        }
        while (*q && *q != '/') {
            q++;
        }
        char *s = strrchr(root, '/');
        if (s && s != root) {
            *s = 0;
        }
    }
    custom = f->json ? cJSON_GetObjectItemCaseSensitive(f->json, "custom") : NULL;
    pats = custom ? cJSON_GetObjectItemCaseSensitive(custom, "excludePatterns") : NULL;
    cJSON_ArrayForEach(pat, (cJSON_IsArray(pats) ? pats : NULL))
    {
        if (!cJSON_IsString(pat) || nres >= 64) {
            continue;
        }
        if (regcomp(&res[nres], pat->valuestring, REG_EXTENDED | REG_NOSUB) != 0) {
            dep_err_local(err, "InvalidProject",
                          "function %s: excludePatterns entry \"%s\" is not a valid regex", f->name,
                          pat->valuestring);
            goto out;
        }
        nres++;
    }
    if (collect(root, "", res, nres, &fl, 0, err) < 0) {
        goto out;
    }
    qsort(fl.rel, (size_t)fl.n, sizeof(char *), cmp_str);
    /* the loader */
    {
        cJSON *env = env_vars(p, f);
        char *envs = print2(env);
        struct dep_buf b = {0};
        cJSON_Delete(env);
        if (strncmp(f->runtime, "python", 6) == 0) {
            dep_buf_puts(&b, "import os\nimport json\n\nenvVars = json.loads(r'''");
            dep_buf_puts(&b, envs);
            dep_buf_puts(&b, "''')\nfor key in envVars:\n    os.environ[key] = envVars[key]\n\n");
            dep_buf_printf(&b, "from %s import %s as handler\n", handler_file, handler_export);
        } else {
            dep_buf_puts(&b, "\nvar envVars = ");
            dep_buf_puts(&b, envs);
            dep_buf_puts(
                &b, ";\n\nfor (var key in envVars) {\n  process.env[key] = envVars[key];\n}\n\n");
            dep_buf_printf(&b, "exports.handler = require(\"./%s\")[\"%s\"];\n", handler_file,
                           handler_export);
        }
        free(envs);
        loader = dep_buf_take(&b);
    }
    snprintf(zip->handler, sizeof(zip->handler), "%s%s_serverless_handler.handler", handler_dir,
             handler_dir[0] ? "/" : "");

    zip_error_init(&ze);
    zs = zip_source_buffer_create(NULL, 0, 0, &ze);
    if (!zs) {
        dep_err_local(err, "PackageFailed", "zip_source_buffer_create: %s",
                      zip_error_strerror(&ze));
        zip_error_fini(&ze);
        goto out;
    }
    z = zip_open_from_source(zs, ZIP_TRUNCATE, &ze);
    if (!z) {
        dep_err_local(err, "PackageFailed", "zip_open_from_source: %s", zip_error_strerror(&ze));
        zip_error_fini(&ze);
        goto out;
    }
    zip_error_fini(&ze);
    zip_source_keep(zs);
    datas = calloc((size_t)fl.n + 1, sizeof(char *));
    /* merge the loader into the sorted order */
    {
        char lname[1200];
        snprintf(lname, sizeof(lname), "%s%s_serverless_handler.%s", handler_dir,
                 handler_dir[0] ? "/" : "", strncmp(f->runtime, "python", 6) == 0 ? "py" : "js");
        int loader_added = 0;
        for (int i = 0; i <= fl.n; i++) {
            if (!loader_added && (i == fl.n || strcmp(lname, fl.rel[i]) < 0)) {
                if (add_entry(z, lname, loader, strlen(loader), err) < 0) {
                    goto out;
                }
                loader_added = 1;
                zip->n_entries++;
            }
            if (i == fl.n) {
                break;
            }
            char abs[8200];
            size_t len = 0;
            snprintf(abs, sizeof(abs), "%s/%s", root, fl.rel[i]);
            datas[i] = slurp(abs, &len);
            if (!datas[i]) {
                dep_err_local(err, "PackageFailed", "%s: %s", abs, strerror(errno));
                goto out;
            }
            if (add_entry(z, fl.rel[i], datas[i], len, err) < 0) {
                goto out;
            }
            zip->n_entries++;
        }
    }
    if (zip_close(z) < 0) {
        dep_err_local(err, "PackageFailed", "zip_close: %s", zip_strerror(z));
        zip_discard(z);
        z = NULL;
        goto out;
    }
    z = NULL;
    {
        zip_stat_t st;
        if (zip_source_stat(zs, &st) < 0 || zip_source_open(zs) < 0) {
            dep_err_local(err, "PackageFailed", "reading the zip back failed");
            goto out;
        }
        zip->len = (size_t)st.size;
        zip->data = malloc(zip->len ? zip->len : 1);
        if (!zip->data) {
            abort();
        }
        if (zip_source_read(zs, zip->data, st.size) != (zip_int64_t)st.size) {
            zip_source_close(zs);
            dep_err_local(err, "PackageFailed", "reading the zip back failed");
            goto out;
        }
        zip_source_close(zs);
    }
    dep_sha256_b64(zip->data, zip->len, zip->sha256_b64, sizeof(zip->sha256_b64));
    rc = 0;
out:
    if (z) {
        zip_discard(z);
    }
    if (zs) {
        zip_source_free(zs);
    }
    for (int i = 0; i < fl.n; i++) {
        free(fl.rel[i]);
        if (datas) {
            free(datas[i]);
        }
    }
    free(datas);
    free(fl.rel);
    free(loader);
    for (int i = 0; i < nres; i++) {
        regfree(&res[i]);
    }
    if (rc < 0) {
        dep_zip_release(zip);
    }
    return rc;
}
