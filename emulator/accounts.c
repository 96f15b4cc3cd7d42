/*
 * accounts.c - access keys -> (secret, account id).
 *
 * Built in: key "test" with secret "test" is account 000000000000, and any
 * 12-digit access key with secret "test" is that account (LocalStack's
 * convention). --credentials FILE adds keys, one per line:
 *
 *     # access-key-id  secret-access-key  account-id
 *     AKIAEXAMPLE      s3cr3t             123456789012
 *
 * Temporary credentials issued by STS (svc_sts.c: "ASIA" + 16 characters)
 * live in the store's sts_sessions table: the key resolves to its secret and
 * the account of the assumed role, and emu_session_check() requires the
 * request to carry the session's token, unexpired.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emu.h"

struct account_entry {
    char key[128];
    char secret[128];
    char account[16];
};

static struct account_entry *entries;
static size_t nentries;

/* Loads a credentials file. Returns 0, or -1 with err set (line named). */
int emu_accounts_load(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        snprintf(err, errlen, "cannot open %s", path);
        return -1;
    }
    char line[1024];
    int lineno = 0;
    while (fgets(line, sizeof(line), f)) {
        lineno++;
        char *p = line;
        while (isspace((unsigned char)*p)) {
            p++;
        }
        if (*p == 0 || *p == '#') {
            continue;
        }
        char key[128], secret[128], account[32];
        if (sscanf(p, "%127s %127s %31s", key, secret, account) != 3 || strlen(account) != 12 ||
            strspn(account, "0123456789") != 12) {
            snprintf(err, errlen,
                     "%s:%d: expected 'ACCESS_KEY SECRET ACCOUNT_ID' (a 12-digit account id)",
                     path, lineno);
            fclose(f);
            return -1;
        }
        struct account_entry *n = realloc(entries, (nentries + 1) * sizeof(*n));
        if (n == NULL) {
            fclose(f);
            return -1;
        }
        entries = n;
        snprintf(entries[nentries].key, sizeof(entries[nentries].key), "%s", key);
        snprintf(entries[nentries].secret, sizeof(entries[nentries].secret), "%s", secret);
        snprintf(entries[nentries].account, sizeof(entries[nentries].account), "%s", account);
        nentries++;
    }
    fclose(f);
    return 0;
}

/* Whether key is listed in a --credentials file. */
static int accounts_listed(const char *key)
{
    for (size_t i = 0; i < nentries; i++) {
        if (strcmp(entries[i].key, key) == 0) {
            return 1;
        }
    }
    return 0;
}

/* Whether key has the shape of an STS temporary key: ASIA + 16 of [A-Z0-9]. */
static int accounts_temporary(const char *key)
{
    return strlen(key) == 20 && strncmp(key, "ASIA", 4) == 0 &&
           strspn(key + 4, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") == 16 &&
           !accounts_listed(key);
}

/* Reads the session of a temporary key (secret, account, token, expiry; any
 * out pointer may be NULL). Returns 0 when found, -1 otherwise. Locks the
 * store itself (nests inside a handler's transaction). */
static int accounts_session(const char *key, char *secret, size_t slen, char *account,
                            size_t alen, char **token, double *expires)
{
    int rc = -1;
    if (emu_store_begin(0) != 0) {
        return -1;
    }
    sqlite3_stmt *st = emu_stmt(
        "SELECT secret, account, token, expires FROM sts_sessions WHERE access_key = ?1");
    if (st != NULL) {
        sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
        if (sqlite3_step(st) == SQLITE_ROW) {
            if (secret) {
                snprintf(secret, slen, "%s", (const char *)sqlite3_column_text(st, 0));
            }
            if (account) {
                snprintf(account, alen, "%s", (const char *)sqlite3_column_text(st, 1));
            }
            if (token) {
                *token = emu_col_dup(st, 2);
            }
            if (expires) {
                *expires = sqlite3_column_double(st, 3);
            }
            rc = 0;
        }
        emu_stmt_done(st);
    }
    emu_store_end(1);
    return rc;
}

int emu_session_token_check(const char *key, const char *given, int s3, int json,
                            struct emu_response *resp)
{
    if (!accounts_temporary(key)) {
        return 0;
    }
    char *token = NULL;
    double expires = 0;
    int known = accounts_session(key, NULL, 0, NULL, 0, &token, &expires) == 0;
    int rc = -1;
    if (!known || given == NULL || token == NULL || strcmp(given, token) != 0) {
        if (s3 && given == NULL) {
            emu_fail(resp, AWS_INVALID_ACCESS_KEY_ID, NULL);
            emu_fail_extra(resp, "AWSAccessKeyId", key);
        } else if (s3) {
            emu_fail(resp, STS_S3_INVALID_TOKEN, NULL);
            emu_fail_extra(resp, "Token-0", given);
        } else if (json) {
            emu_fail(resp, AWS_UNRECOGNIZED_CLIENT, NULL);
        } else {
            emu_fail(resp, AWS_INVALID_CLIENT_TOKEN_ID, NULL);
        }
        goto out;
    }
    if (emu_now() >= expires) {
        if (s3) {
            emu_fail(resp, STS_S3_EXPIRED_TOKEN, NULL);
            emu_fail_extra(resp, "Token-0", given);
        } else if (json) {
            emu_fail(resp, STS_EXPIRED_TOKEN, NULL);
        } else {
            emu_fail(resp, STS_EXPIRED_REQUEST_TOKEN, NULL);
        }
        goto out;
    }
    rc = 0;
out:
    free(token);
    return rc;
}

int emu_session_check(const struct emu_request *req, struct emu_response *resp)
{
    const char *key = req->access_key;
    if (!accounts_temporary(key)) {
        return 0;
    }
    int s3 = req->svc == NULL || strcmp(req->svc->name, "s3") == 0;
    int json = req->svc && (req->svc->protocol == EMU_PROTO_JSON ||
                            req->svc->protocol == EMU_PROTO_REST_JSON ||
                            emu_header(req, "x-amz-target") != NULL);
    const char *given = emu_header(req, "x-amz-security-token");
    if (given == NULL) {
        given = emu_query(req, "X-Amz-Security-Token");
    }
    return emu_session_token_check(key, given, s3, json, resp);
}

int emu_account_lookup(const char *access_key, char *secret, size_t slen, char *account,
                       size_t alen)
{
    for (size_t i = 0; i < nentries; i++) {
        if (strcmp(entries[i].key, access_key) == 0) {
            snprintf(secret, slen, "%s", entries[i].secret);
            snprintf(account, alen, "%s", entries[i].account);
            return 0;
        }
    }
    if (accounts_temporary(access_key)) {
        return accounts_session(access_key, secret, slen, account, alen, NULL, NULL);
    }
    if (strcmp(access_key, "test") == 0) {
        snprintf(secret, slen, "test");
        snprintf(account, alen, "%s", EMU_DEFAULT_ACCOUNT);
        return 0;
    }
    if (strlen(access_key) == 12 && strspn(access_key, "0123456789") == 12) {
        snprintf(secret, slen, "test");
        snprintf(account, alen, "%s", access_key);
        return 0;
    }
    return -1;
}
