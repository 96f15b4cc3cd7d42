/*
 * core.h - what the core's files share with each other (not for services).
 */
#ifndef CORE_H
#define CORE_H

#include "emu.h"

/* errors.c: turn resp->failed into the protocol's error body and headers. */
void emu_render_error(const struct emu_request *req, struct emu_response *resp);

/* router.c: resolve the service (from the credential scope, or by sniffing
 * an unsigned request). Returns 0, or -1 with resp failed. */
int emu_route_service(struct emu_request *req, struct emu_response *resp,
                      const char *scope_service);
/* Resolve the operation: 1 found, 0 needs the body first (query protocol),
 * -1 unknown (resp failed, in the protocol's words). */
int emu_route_op(struct emu_request *req, struct emu_response *resp, int have_body);
int emu_route(struct emu_request *req, struct emu_response *resp);
/* Match a path template against a raw path; fills params. Returns 1 on match. */
int emu_path_match(const char *tmpl, const char *path, struct emu_kvlist *params);
/* Run the handler with the transaction the op flags ask for. */
void emu_dispatch(struct emu_request *req, struct emu_response *resp);
/* Parse req->body as the protocol requires (form / JSON). 0 or -1 (resp failed). */
int emu_parse_body(struct emu_request *req, struct emu_response *resp);
void emu_request_release(struct emu_request *req);

/* store.c */
int emu_store_open(const char *state_dir, int ephemeral);
void emu_store_close(void);
int emu_store_migrate(void);
/* Empty every service's tables and the objects dir (POST /_greenroom/reset). */
int emu_store_reset(void);

/* journal.c */
uint64_t emu_journal_next_seq(void);
void emu_journal_record(const struct emu_request *req, const struct emu_response *resp,
                        double started, const char *fault_rule);
void emu_journal_http(struct emu_request *req, struct emu_response *resp);
int emu_journal_open(void);
/* Inserts every queued entry before returning. */
void emu_journal_flush(void);
/* Empty calls.jsonl (the table was emptied: DELETE /_greenroom/calls, reset),
 * so a restart does not re-read what was cleared. */
void emu_journal_forget_file(void);
void emu_journal_close(void);

/* control.c: /_greenroom/... and /_localstack/...; returns 1 when handled. */
int emu_control(struct emu_request *req, struct emu_response *resp);

/* http.c */
int emu_http_start(void);
void emu_http_quiesce(void);
void emu_http_stop(void);

#endif
