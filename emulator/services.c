/*
 * services.c - the registry: every AWS service greenroom serves.
 *
 * A service is one svc_<name>.c file exporting a `const struct emu_service`
 * (its operation table, schema and hooks; see emu.h). Services are declared
 * weak so the registry lists exactly those that are built in.
 */
#include <string.h>

#include "emu.h"

#define SERVICE(sym) extern const struct emu_service sym __attribute__((weak));
SERVICE(svc_sts)
SERVICE(svc_s3)
SERVICE(svc_lambda)
SERVICE(svc_iam)
SERVICE(svc_apigateway)
SERVICE(svc_cloudformation)
SERVICE(svc_sns)
SERVICE(svc_sqs)
SERVICE(svc_events)
SERVICE(svc_iot)
#undef SERVICE

static const struct emu_service *const all[] = {
    &svc_sts, &svc_s3,  &svc_lambda, &svc_iam,    &svc_apigateway, &svc_cloudformation,
    &svc_sns, &svc_sqs, &svc_events, &svc_iot,
};

/* Filled at start with the services actually linked in (weak symbols that
 * resolved). */
static const struct emu_service *present[sizeof(all) / sizeof(all[0]) + 1];
static size_t npresent;

/* Returns the registry with absent services dropped. Call once at start. */
size_t emu_services_init(void)
{
    npresent = 0;
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        if (all[i] != NULL) {
            present[npresent++] = all[i];
        }
    }
    present[npresent] = NULL;
    return npresent;
}

size_t emu_services_count(void)
{
    return npresent;
}

const struct emu_service *emu_service_at(size_t i)
{
    return i < npresent ? present[i] : NULL;
}

const struct emu_service *emu_service_find(const char *name)
{
    for (size_t i = 0; i < npresent; i++) {
        if (strcmp(present[i]->name, name) == 0) {
            return present[i];
        }
    }
    return NULL;
}
