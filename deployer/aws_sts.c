/*
 * aws_sts.c - STS calls stagehand makes (query protocol, 2011-06-15):
 * GetCallerIdentity (the account id when no variable gives it).
 */
#include "dep.h"

#include <stdio.h>

int dep_sts_account(const char *region, char *buf, size_t n, struct dep_err *err)
{
    cJSON *out = NULL;
    int rc = dep_query("sts", region, "GetCallerIdentity", NULL,
                       "Action=GetCallerIdentity&Version=2011-06-15", &out, err);

    if (rc == 0) {
        const cJSON *a = cJSON_GetObjectItemCaseSensitive(out, "Account");
        if (cJSON_IsString(a) && a->valuestring[0]) {
            snprintf(buf, n, "%s", a->valuestring);
        } else {
            dep_err_local(err, "NoAccount", "STS GetCallerIdentity returned no Account");
            rc = -1;
        }
    }
    cJSON_Delete(out);
    return rc;
}
