/*
 * errors.c - the error catalogue (errors.def) and the one place where an
 * error becomes bytes in the protocol's exact shape:
 *
 *   rest-xml (S3):   <Error><Code/><Message/>...<RequestId/><HostId/></Error>
 *   query (CFN, IAM, STS, SNS, SQS): <ErrorResponse xmlns><Error><Type>Sender|
 *                    Receiver</Type><Code/><Message/></Error><RequestId/>
 *   json (Events, SQS json): {"__type":code,"message":...} + x-amzn-ErrorType
 *   rest-json (Lambda, API Gateway): {"message":...} (+ "Type" for Lambda)
 *                    + x-amzn-ErrorType
 *
 * Internal failures never carry SQLite or system text to the client.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core.h"

static const struct emu_error_info catalogue[] = {
#define AWS_ERROR(id, status, code, message) {status, code, message},
#include "errors.def"
#undef AWS_ERROR
};

const struct emu_error_info *emu_error_info(enum emu_error e)
{
    if ((int)e < 0 || e >= AWS_ERROR_COUNT) {
        return &catalogue[AWS_INTERNAL_FAILURE];
    }
    return &catalogue[e];
}

void emu_fail(struct emu_response *resp, enum emu_error e, const char *fmt, ...)
{
    const struct emu_error_info *info = emu_error_info(e);
    struct emu_buf msg = {0};
    if (fmt != NULL) {
        va_list ap;
        va_start(ap, fmt);
        emu_buf_vprintf(&msg, fmt, ap);
        va_end(ap);
    } else if (strstr(info->message, "%s") == NULL) {
        emu_buf_puts(&msg, info->message);
    }
    resp->failed = 1;
    resp->error = e;
    resp->status = info->status;
    snprintf(resp->error_code, sizeof(resp->error_code), "%s", info->code);
    free(resp->error_message);
    resp->error_message = emu_buf_take(&msg);
}

void emu_fail_raw(struct emu_response *resp, int status, const char *code, const char *message)
{
    resp->failed = 1;
    resp->error = AWS_ERROR_COUNT;
    resp->status = status;
    snprintf(resp->error_code, sizeof(resp->error_code), "%s", code);
    free(resp->error_message);
    resp->error_message = strdup(message ? message : "");
}

void emu_fail_extra(struct emu_response *resp, const char *name, const char *value)
{
    emu_kv_add(&resp->error_extra, name, value);
}

static void render_rest_xml(const struct emu_request *req, struct emu_response *resp)
{
    struct emu_buf *b = &resp->body;
    emu_buf_puts(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>");
    emu_buf_xml_elem(b, "Code", resp->error_code);
    emu_buf_xml_elem(b, "Message", resp->error_message);
    for (size_t i = 0; i < resp->error_extra.n; i++) {
        emu_buf_xml_elem(b, resp->error_extra.items[i].key, resp->error_extra.items[i].value);
    }
    emu_buf_xml_elem(b, "RequestId", req->request_id);
    emu_buf_xml_elem(b, "HostId", req->request_id);
    emu_buf_puts(b, "</Error>");
    emu_kv_set(&resp->headers, "Content-Type", "application/xml");
}

static void render_query(const struct emu_request *req, struct emu_response *resp)
{
    struct emu_buf *b = &resp->body;
    const char *xmlns = req->svc && req->svc->xmlns ? req->svc->xmlns : NULL;
    if (xmlns) {
        emu_buf_puts(b, "<ErrorResponse xmlns=\"");
        emu_buf_xml_escape(b, xmlns);
        emu_buf_puts(b, "\">");
    } else {
        emu_buf_puts(b, "<ErrorResponse>");
    }
    emu_buf_puts(b, "<Error>");
    emu_buf_xml_elem(b, "Type", resp->status >= 500 ? "Receiver" : "Sender");
    emu_buf_xml_elem(b, "Code", resp->error_code);
    emu_buf_xml_elem(b, "Message", resp->error_message);
    for (size_t i = 0; i < resp->error_extra.n; i++) {
        emu_buf_xml_elem(b, resp->error_extra.items[i].key, resp->error_extra.items[i].value);
    }
    emu_buf_puts(b, "</Error>");
    emu_buf_xml_elem(b, "RequestId", req->request_id);
    emu_buf_puts(b, "</ErrorResponse>");
    emu_kv_set(&resp->headers, "Content-Type", "text/xml");
}

static void render_json(const struct emu_request *req, struct emu_response *resp, int rest)
{
    cJSON *o = cJSON_CreateObject();
    if (!rest) {
        cJSON_AddStringToObject(o, "__type", resp->error_code);
    } else if (req->svc && strcmp(req->svc->name, "lambda") == 0) {
        cJSON_AddStringToObject(o, "Type", resp->status >= 500 ? "Service" : "User");
    }
    cJSON_AddStringToObject(o, "message", resp->error_message ? resp->error_message : "");
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (s) {
        emu_buf_puts(&resp->body, s);
        free(s);
    }
    emu_kv_set(&resp->headers, "x-amzn-ErrorType", resp->error_code);
    emu_kv_set(&resp->headers, "Content-Type",
               rest ? "application/json" : "application/x-amz-json-1.1");
}

void emu_render_error(const struct emu_request *req, struct emu_response *resp)
{
    if (!resp->failed) {
        return;
    }
    if (resp->body_fd >= 0) {
        /* an error after a file body was chosen: drop the file */
        close(resp->body_fd);
        resp->body_fd = -1;
    }
    emu_buf_release(&resp->body);
    if (resp->status == 304) {
        return; /* Not Modified has no body */
    }
    enum emu_protocol proto = req->svc ? req->svc->protocol : EMU_PROTO_REST_XML;
    /* A JSON-protocol request to a query service (SQS json) answers in JSON. */
    if (proto == EMU_PROTO_QUERY && emu_header(req, "x-amz-target") != NULL) {
        proto = EMU_PROTO_JSON;
    }
    switch (proto) {
    case EMU_PROTO_REST_XML:
        render_rest_xml(req, resp);
        break;
    case EMU_PROTO_QUERY:
        render_query(req, resp);
        break;
    case EMU_PROTO_JSON:
        render_json(req, resp, 0);
        break;
    case EMU_PROTO_REST_JSON:
        render_json(req, resp, 1);
        break;
    }
}
