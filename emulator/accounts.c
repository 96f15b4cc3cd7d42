/*
 * accounts.c - access keys -> (secret, account id).
 *
 * Built in: key "test" with secret "test" is account 000000000000, and any
 * 12-digit access key with secret "test" is that account (LocalStack's
 * convention). --credentials FILE adds keys, one per line:
 *
 *     # access-key-id  secret-access-key  account-id
 *     AKIAEXAMPLE      s3cr3t             123456789012
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
