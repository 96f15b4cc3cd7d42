/*
 * harness.h - what integration tests use to run a real greenroom.
 *
 * gr_start() execs the greenroom binary ($GREENROOM_BIN) with --port 0 and a
 * fresh temporary state dir, reads the port from its first stdout line and
 * waits for /_greenroom/health. gr_request() sends a request signed with
 * SigV4 by libcurl (CURLOPT_AWS_SIGV4), as a real client would.
 */
#ifndef HARNESS_H
#define HARNESS_H

#include <stddef.h>
#include <sys/types.h>

#include <cjson/cJSON.h>

struct gr_server {
    pid_t pid;
    int port;
    char url[64];        /* "http://127.0.0.1:PORT" */
    char state_dir[256]; /* temp dir, removed by gr_stop */
    char log_path[300];  /* greenroom's stderr */
};

/* Starts greenroom; extra_args is NULL or a NULL-terminated argv tail
 * (e.g. {"--auth", "off", NULL}). Returns 0, -1 on failure. */
int gr_start(struct gr_server *s, const char *const *extra_args);
/* SIGTERM, wait, remove the state dir. */
void gr_stop(struct gr_server *s);
/* SIGKILL (crash) without removing the state dir; gr_restart brings it back
 * on a new port with the same state dir. */
void gr_kill9(struct gr_server *s);
int gr_restart(struct gr_server *s, const char *const *extra_args);

struct gr_resp {
    long status;
    char *body; /* NUL-terminated */
    size_t len;
    char *headers; /* raw header block, NUL-terminated */
};

/* Signed request. service: signing name ("s3", "lambda", ...), region
 * us-east-1, keys test/test unless gr_set_credentials. path may include a
 * query. headers: NULL-terminated "Name: value" strings, or NULL.
 * Returns 0 when an HTTP answer arrived (any status), -1 otherwise. */
int gr_request(struct gr_server *s, const char *service, const char *method, const char *path,
               const char *const *headers, const void *body, size_t len, struct gr_resp *out);
/* Unsigned request (data plane: stage URLs, presigned URLs, control plane). */
int gr_request_unsigned(struct gr_server *s, const char *method, const char *path,
                        const char *const *headers, const void *body, size_t len,
                        struct gr_resp *out);
/* JSON helpers: body parsed (caller deletes), NULL if not JSON. */
cJSON *gr_resp_json(const struct gr_resp *r);
/* A response header's value (case-insensitive, copied into buf), or NULL. */
const char *gr_resp_header(const struct gr_resp *r, const char *name, char *buf, size_t blen);
void gr_resp_free(struct gr_resp *r);
/* Credentials and region used by gr_request (defaults test/test/us-east-1). */
void gr_set_credentials(const char *access_key, const char *secret, const char *region);

/* Runs a shell command with GR_URL=<server url> in the environment; returns
 * its exit status and, if out != NULL, its stdout (caller frees). */
int gr_sh(struct gr_server *s, const char *cmd, char **out);

/* Reads a whole file (caller frees), NULL on error. */
char *gr_read_file(const char *path, size_t *len);

#endif
