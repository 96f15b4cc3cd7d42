/*
 * apigw.h - what API Gateway's files share: the object store of the control
 * plane (svc_apigateway.c) and the invoke path (apigw_invoke.c).
 *
 * Every API Gateway object (rest API, resource with its methods, deployment
 * snapshot, stage, authorizer, API key, usage plan and its keys) is one row
 * of apigw_objects: (account, region, kind, parent, id) -> doc, where doc is
 * the object's JSON exactly as the API returns it. A resource's doc holds its
 * methods (resourceMethods), each with its methodResponses and
 * methodIntegration (with integrationResponses), so a deployment snapshot is
 * simply the list of resource docs at that moment (kind "snapshot").
 * The store must be locked (inside a handler or emu_store_begin) for all of
 * these.
 */
#ifndef APIGW_H
#define APIGW_H

#include "emu.h"

/* Returns the object's doc (caller deletes), or NULL when absent. */
cJSON *apigw_obj_get(const char *account, const char *region, const char *kind, const char *parent,
                     const char *id);
/* Inserts or replaces an object (doc is copied). Returns 0, -1 on SQL error. */
int apigw_obj_put(const char *account, const char *region, const char *kind, const char *parent,
                  const char *id, const cJSON *doc);
/* Deletes one object. Returns 0, -1 on SQL error. */
int apigw_obj_del(const char *account, const char *region, const char *kind, const char *parent,
                  const char *id);
/* Returns every object of a kind under parent in creation order, as an
 * array of docs (caller deletes). Never NULL. */
cJSON *apigw_obj_list(const char *account, const char *region, const char *kind,
                      const char *parent);
/* Finds a rest API by id in any account and region (the invoke path knows
 * only the id). Returns 0 and fills account/region, or -1. */
int apigw_api_locate(const char *api_id, char *account, size_t alen, char *region, size_t rlen);

/* The invoke path (apigw_invoke.c). */
/* Splits an execute-api request (host form, /_aws/execute-api/, or
 * /restapis/{id}/{stage}/_user_request_/) into api id, stage and the raw
 * path after the stage (starting with '/'). Returns 1 when the request is
 * one, else 0. */
int apigw_invoke_parse(const struct emu_request *req, char *api, size_t alen, char *stage,
                       size_t slen, const char **rest);
/* The data-plane handler (EMU_OP_NO_TXN | EMU_OP_NO_AUTH). */
void apigw_invoke(struct emu_request *req, struct emu_response *resp);
/* TestInvokeMethod (EMU_OP_NO_TXN): runs a method of the working copy
 * without authorizers or API keys and answers with status, body, headers,
 * log and latency. */
void apigw_test_invoke_method(struct emu_request *req, struct emu_response *resp);

#endif
