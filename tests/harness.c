/*
 * harness.c - runs a real greenroom for integration tests (see harness.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "harness.h"

static char cred_key[128] = "test";
static char cred_secret[128] = "test";
static char cred_region[64] = "us-east-1";

void gr_set_credentials(const char *access_key, const char *secret, const char *region)
{
    snprintf(cred_key, sizeof(cred_key), "%s", access_key ? access_key : "test");
    snprintf(cred_secret, sizeof(cred_secret), "%s", secret ? secret : "test");
    snprintf(cred_region, sizeof(cred_region), "%s", region ? region : "us-east-1");
}

static int spawn(struct gr_server *s, const char *const *extra_args)
{
    const char *bin = getenv("GREENROOM_BIN");
    if (bin == NULL) {
        fprintf(stderr, "harness: GREENROOM_BIN is not set\n");
        return -1;
    }
    int out[2];
    if (pipe(out) != 0) {
        return -1;
    }
    snprintf(s->log_path, sizeof(s->log_path), "%s.log", s->state_dir);
    pid_t pid = fork();
    if (pid < 0) {
        return -1;
    }
    if (pid == 0) {
        dup2(out[1], 1);
        close(out[0]);
        close(out[1]);
        int lf = open(s->log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (lf >= 0) {
            dup2(lf, 2);
            close(lf);
        }
        const char *argv[64];
        int n = 0;
        argv[n++] = bin;
        argv[n++] = "--port";
        argv[n++] = "0";
        argv[n++] = "--state-dir";
        argv[n++] = s->state_dir;
        for (int i = 0; extra_args && extra_args[i] && n < 60; i++) {
            argv[n++] = extra_args[i];
        }
        argv[n] = NULL;
        execv(bin, (char *const *)argv);
        _exit(127);
    }
    close(out[1]);
    char line[64];
    size_t len = 0;
    /* the port is the first line of stdout */
    while (len < sizeof(line) - 1) {
        ssize_t r = read(out[0], line + len, 1);
        if (r <= 0) {
            break;
        }
        if (line[len] == '\n') {
            break;
        }
        len++;
    }
    line[len] = 0;
    close(out[0]);
    s->pid = pid;
    s->port = (int)strtol(line, NULL, 10);
    if (s->port <= 0) {
        fprintf(stderr, "harness: greenroom did not print a port (log: %s)\n", s->log_path);
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        return -1;
    }
    snprintf(s->url, sizeof(s->url), "http://127.0.0.1:%d", s->port);
    /* wait until healthy */
    for (int i = 0; i < 200; i++) {
        struct gr_resp r;
        if (gr_request_unsigned(s, "GET", "/_greenroom/health", NULL, NULL, 0, &r) == 0) {
            long st = r.status;
            gr_resp_free(&r);
            if (st == 200) {
                return 0;
            }
        }
        usleep(20000);
    }
    return -1;
}

int gr_start(struct gr_server *s, const char *const *extra_args)
{
    memset(s, 0, sizeof(*s));
    const char *tmp = getenv("TMPDIR");
    snprintf(s->state_dir, sizeof(s->state_dir), "%s/gr-test-XXXXXX", tmp ? tmp : "/tmp");
    if (mkdtemp(s->state_dir) == NULL) {
        return -1;
    }
    return spawn(s, extra_args);
}

static int rm_cb(const char *p, const struct stat *sb, int f, struct FTW *ftw)
{
    (void)sb;
    (void)f;
    (void)ftw;
    return remove(p);
}

void gr_stop(struct gr_server *s)
{
    if (s->pid > 0) {
        kill(s->pid, SIGTERM);
        for (int i = 0; i < 100; i++) {
            if (waitpid(s->pid, NULL, WNOHANG) == s->pid) {
                s->pid = 0;
                break;
            }
            usleep(50000);
        }
        if (s->pid > 0) {
            kill(s->pid, SIGKILL);
            waitpid(s->pid, NULL, 0);
            s->pid = 0;
        }
    }
    if (s->state_dir[0] && getenv("GR_KEEP_STATE") == NULL) {
        nftw(s->state_dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
        unlink(s->log_path);
    }
}

void gr_kill9(struct gr_server *s)
{
    if (s->pid > 0) {
        kill(s->pid, SIGKILL);
        waitpid(s->pid, NULL, 0);
        s->pid = 0;
    }
}

int gr_restart(struct gr_server *s, const char *const *extra_args)
{
    if (s->pid > 0) {
        int st;
        if (waitpid(s->pid, &st, WNOHANG) == 0) {
            gr_kill9(s);
        }
        s->pid = 0;
    }
    return spawn(s, extra_args);
}

static size_t body_cb(char *p, size_t sz, size_t n, void *ud)
{
    struct gr_resp *r = ud;
    size_t len = sz * n;
    char *nb = realloc(r->body, r->len + len + 1);
    if (nb == NULL) {
        return 0;
    }
    r->body = nb;
    memcpy(r->body + r->len, p, len);
    r->len += len;
    r->body[r->len] = 0;
    return len;
}

static size_t header_cb(char *p, size_t sz, size_t n, void *ud)
{
    struct gr_resp *r = ud;
    size_t len = sz * n;
    size_t have = r->headers ? strlen(r->headers) : 0;
    char *nb = realloc(r->headers, have + len + 1);
    if (nb == NULL) {
        return 0;
    }
    r->headers = nb;
    memcpy(r->headers + have, p, len);
    r->headers[have + len] = 0;
    return len;
}

static int do_request(struct gr_server *s, const char *service, const char *method,
                      const char *path, const char *const *headers, const void *body, size_t len,
                      struct gr_resp *out)
{
    memset(out, 0, sizeof(*out));
    CURL *c = curl_easy_init();
    if (c == NULL) {
        return -1;
    }
    char url[4096];
    snprintf(url, sizeof(url), "%s%s", s->url, path);
    struct curl_slist *h = NULL;
    for (int i = 0; headers && headers[i]; i++) {
        h = curl_slist_append(h, headers[i]);
    }
    h = curl_slist_append(h, "Expect:");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (strcmp(method, "HEAD") == 0) {
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    }
    if (body != NULL || strcmp(method, "PUT") == 0 || strcmp(method, "POST") == 0) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body ? body : "");
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(body ? len : 0));
    }
    if (service) {
        char sig[128], up[300];
        snprintf(sig, sizeof(sig), "aws:amz:%s:%s", cred_region, service);
        snprintf(up, sizeof(up), "%s:%s", cred_key, cred_secret);
        curl_easy_setopt(c, CURLOPT_AWS_SIGV4, sig);
        curl_easy_setopt(c, CURLOPT_USERPWD, up);
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, body_cb);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, header_cb);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, out);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 120L);
    CURLcode rc = curl_easy_perform(c);
    if (rc == CURLE_OK) {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
    }
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    if (out->body == NULL) {
        out->body = calloc(1, 1);
    }
    if (out->headers == NULL) {
        out->headers = calloc(1, 1);
    }
    return rc == CURLE_OK ? 0 : -1;
}

int gr_request(struct gr_server *s, const char *service, const char *method, const char *path,
               const char *const *headers, const void *body, size_t len, struct gr_resp *out)
{
    return do_request(s, service, method, path, headers, body, len, out);
}

int gr_request_unsigned(struct gr_server *s, const char *method, const char *path,
                        const char *const *headers, const void *body, size_t len,
                        struct gr_resp *out)
{
    return do_request(s, NULL, method, path, headers, body, len, out);
}

cJSON *gr_resp_json(const struct gr_resp *r)
{
    return r->body ? cJSON_Parse(r->body) : NULL;
}

const char *gr_resp_header(const struct gr_resp *r, const char *name, char *buf, size_t blen)
{
    if (r->headers == NULL) {
        return NULL;
    }
    size_t nlen = strlen(name);
    const char *line = r->headers;
    const char *found = NULL;
    while (line && *line) {
        if (strncasecmp(line, name, nlen) == 0 && line[nlen] == ':') {
            found = line; /* keep the last one (after 100 Continue etc.) */
        }
        line = strchr(line, '\n');
        if (line) {
            line++;
        }
    }
    if (found == NULL) {
        return NULL;
    }
    const char *v = found + nlen + 1;
    while (*v == ' ') {
        v++;
    }
    size_t n = strcspn(v, "\r\n");
    if (n >= blen) {
        n = blen - 1;
    }
    memcpy(buf, v, n);
    buf[n] = 0;
    return buf;
}

void gr_resp_free(struct gr_resp *r)
{
    free(r->body);
    free(r->headers);
    memset(r, 0, sizeof(*r));
}

int gr_sh(struct gr_server *s, const char *cmd, char **out)
{
    char full[8192];
    snprintf(full, sizeof(full),
             "GR_URL='%s' AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test "
             "AWS_DEFAULT_REGION=us-east-1 AWS_PAGER= %s",
             s ? s->url : "", cmd);
    FILE *p = popen(full, "r");
    if (p == NULL) {
        return -1;
    }
    char *buf = NULL;
    size_t len = 0;
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), p)) > 0) {
        char *nb = realloc(buf, len + n + 1);
        if (nb == NULL) {
            break;
        }
        buf = nb;
        memcpy(buf + len, chunk, n);
        len += n;
        buf[len] = 0;
    }
    int st = pclose(p);
    if (out) {
        *out = buf ? buf : calloc(1, 1);
    } else {
        free(buf);
    }
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

char *gr_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return NULL;
    }
    char *buf = NULL;
    size_t n = 0;
    char chunk[65536];
    size_t r;
    while ((r = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        char *nb = realloc(buf, n + r + 1);
        if (nb == NULL) {
            free(buf);
            fclose(f);
            return NULL;
        }
        buf = nb;
        memcpy(buf + n, chunk, r);
        n += r;
    }
    fclose(f);
    if (buf == NULL) {
        buf = calloc(1, 1);
    } else {
        buf[n] = 0;
    }
    if (len) {
        *len = n;
    }
    return buf;
}
