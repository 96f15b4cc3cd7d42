/*
 * rehearse_run.c - what `stagehand rehearse` runs on (rehearse.c is the
 * command itself): greenroom's control plane, rehearse's own greenrooms
 * (started, crashed and restarted, stopped), the deploy children (their own
 * process groups, dying with rehearse), the temp dir (on tmpfs when it can),
 * SIGINT/SIGTERM/SIGHUP, a greenroom shared with other rehearse runs (this
 * run's name, the turns the runs take on it, snapshots of killed runs),
 * and the parallel sweep: worker processes, each with its own greenroom
 * started on a copy of the pre-deploy state, fed case indexes over a pipe
 * and answering one JSON record per line.
 *
 * The control plane is not AWS: it is plain unsigned HTTP (libcurl, no
 * SigV4).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <linux/magic.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rehearse_int.h"
#include "txn_int.h"

/* ------------------------------------------------------ control plane */

static size_t rh_write(char *p, size_t sz, size_t nm, void *ud)
{
    dep_buf_append((struct dep_buf *)ud, p, sz * nm);
    return sz * nm;
}

/* One control-plane request; *out (may be NULL) the parsed JSON answer.
 * Returns the HTTP status, or -1 when no answer came. */
long rh_ctl(struct rh *r, const char *method, const char *path, const char *body, cJSON **out)
{
    struct dep_buf b = {0};
    char url[1024];
    long status = -1;
    struct curl_slist *h = NULL;
    if (out) {
        *out = NULL;
    }
    snprintf(url, sizeof(url), "%s%s", r->url, path);
    curl_easy_reset(r->curl);
    curl_easy_setopt(r->curl, CURLOPT_URL, url);
    curl_easy_setopt(r->curl, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(r->curl, CURLOPT_WRITEFUNCTION, rh_write);
    curl_easy_setopt(r->curl, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(r->curl, CURLOPT_TIMEOUT, 30L);
    if (body) {
        h = curl_slist_append(h, "Content-Type: application/json");
        curl_easy_setopt(r->curl, CURLOPT_HTTPHEADER, h);
        curl_easy_setopt(r->curl, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(r->curl, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    }
    if (curl_easy_perform(r->curl) == CURLE_OK) {
        curl_easy_getinfo(r->curl, CURLINFO_RESPONSE_CODE, &status);
        if (out && b.data) {
            *out = cJSON_Parse(b.data);
        }
    }
    curl_slist_free_all(h);
    dep_buf_release(&b);
    return status;
}

long rh_last_seq(struct rh *r)
{
    cJSON *o = NULL;
    long seq = -1;
    if (rh_ctl(r, "GET", "/_greenroom/calls?since=0&limit=1", NULL, &o) == 200) {
        cJSON *l = cJSON_GetObjectItemCaseSensitive(o, "last");
        seq = cJSON_IsNumber(l) ? (long)l->valuedouble : -1;
    }
    cJSON_Delete(o);
    return seq;
}

/* Calls after seq (new array), NULL on failure. */
cJSON *rh_calls(struct rh *r, long seq, int faults_only)
{
    char path[128];
    cJSON *o = NULL;
    snprintf(path, sizeof(path), "/_greenroom/calls?since=%ld%s", seq,
             faults_only ? "&faults=1" : "");
    if (rh_ctl(r, "GET", path, NULL, &o) != 200) {
        cJSON_Delete(o);
        return NULL;
    }
    cJSON *calls = cJSON_DetachItemFromObjectCaseSensitive(o, "calls");
    cJSON_Delete(o);
    return calls;
}

/* ------------------------------------------------------------ processes */

/* Set by SIGINT/SIGTERM/SIGHUP (the signal number): rehearse stops at the
 * next chance, kills what it started and removes its temp dir. */
static volatile sig_atomic_t rh_stop;

int rh_stopped(void)
{
    return (int)rh_stop;
}

static void rh_on_signal(int sig)
{
    rh_stop = sig;
}

void rh_catch_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = rh_on_signal; /* no SA_RESTART: blocking calls return EINTR */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
}

/* In a child just forked by parent: die with it (a killed rehearse leaves
 * no greenroom or deploy running). */
static void rh_die_with(pid_t parent)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) {
        _exit(125);
    }
}

int rh_run_quiet(char *const argv[])
{
    pid_t pid = fork();
    if (pid < 0) {
        return -1;
    }
    if (pid == 0) {
        int fd = open("/dev/null", O_WRONLY);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execvp(argv[0], argv);
        _exit(127);
    }
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The project's _meta is small (variables files): it is copied in-process,
 * not with cp/rm children, once or twice per case. */
static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)ftw;
    return (flag == FTW_DP ? rmdir(path) : unlink(path)) == 0 || errno == ENOENT ? 0 : -1;
}

/* Remove a tree; 0 (also when it did not exist) or -1. */
int rh_rm_tree(const char *path)
{
    struct stat sb;
    if (lstat(path, &sb) != 0) {
        return errno == ENOENT ? 0 : -1;
    }
    return nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Write all of p (EINTR retried). 0 or -1. */
static int write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n > 0) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            return -1;
        }
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

static int copy_file(const char *src, const char *dst, mode_t mode)
{
    char buf[65536];
    int in = open(src, O_RDONLY | O_CLOEXEC), out = -1, rc = -1;
    if (in < 0 || (out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode & 07777)) < 0) {
        goto out;
    }
    for (;;) {
        ssize_t n = read(in, buf, sizeof(buf));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            goto out;
        }
        if (n == 0) {
            break;
        }
        if (write_all(out, buf, (size_t)n) != 0) {
            goto out;
        }
    }
    rc = 0;
out:
    if (in >= 0) {
        close(in);
    }
    if (out >= 0 && close(out) != 0) {
        rc = -1;
    }
    return rc;
}

/* Copy the tree src to dst (which must not exist): directories and regular
 * files, with their modes; anything else is skipped. 0 or -1. */
static int copy_tree(const char *src, const char *dst)
{
    struct stat sb;
    if (lstat(src, &sb) != 0) {
        return -1;
    }
    if (S_ISREG(sb.st_mode)) {
        return copy_file(src, dst, sb.st_mode);
    }
    if (!S_ISDIR(sb.st_mode)) {
        return 0;
    }
    if (mkdir(dst, sb.st_mode & 07777) != 0) {
        return -1;
    }
    DIR *d = opendir(src);
    struct dirent *e;
    int rc = d ? 0 : -1;
    while (d && rc == 0 && (e = readdir(d)) != NULL) {
        char s2[PATH_MAX], d2[PATH_MAX];
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) {
            continue;
        }
        if (snprintf(s2, sizeof(s2), "%s/%s", src, e->d_name) >= (int)sizeof(s2) ||
            snprintf(d2, sizeof(d2), "%s/%s", dst, e->d_name) >= (int)sizeof(d2)) {
            rc = -1;
            break;
        }
        rc = copy_tree(s2, d2);
    }
    if (d) {
        closedir(d);
    }
    return rc;
}

int rh_meta_restore(struct rh *r)
{
    char dst[PATH_MAX + 32];
    struct stat sb;
    snprintf(dst, sizeof(dst), "%s/_meta", r->work);
    if (rh_rm_tree(dst) != 0) {
        return -1;
    }
    if (stat(r->saved_meta, &sb) != 0) {
        return 0;
    }
    return copy_tree(r->saved_meta, dst);
}

int rh_meta_save(struct rh *r)
{
    char src[PATH_MAX + 32];
    struct stat sb;
    snprintf(src, sizeof(src), "%s/_meta", r->work);
    if (rh_rm_tree(r->saved_meta) != 0) {
        return -1;
    }
    if (stat(src, &sb) != 0) {
        return 0;
    }
    return copy_tree(src, r->saved_meta);
}

/* Start a child in the project copy: command "deploy" / "recover" / "v05".
 * Returns its pid (own process group), -1 on failure. */
pid_t rh_spawn(struct rh *r, const char *command, const char *stage, long call_timeout_ms)
{
    const char *region = r->c->region;
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        return -1;
    }
    if (pid != 0) {
        return pid;
    }
    rh_die_with(parent);
    setpgid(0, 0);
    if (chdir(r->work) != 0) {
        _exit(126);
    }
    int fd = open(r->log, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
        dup2(fd, 1);
        dup2(fd, 2);
    }
    char att[16];
    snprintf(att, sizeof(att), "%d", r->attempts);
    setenv("STAGEHAND_MAX_ATTEMPTS", att, 1);
    setenv("STAGEHAND_RETRY_BASE_MS", "1", 1);
    setenv("STAGEHAND_RETRY_CAP_MS", "5", 1);
    setenv("STAGEHAND_CALL_TIMEOUT", "1", 1);
    if (call_timeout_ms > 0) {
        /* the timeout kind: the hung attempt is abandoned after this */
        char ms[32];
        snprintf(ms, sizeof(ms), "%ld", call_timeout_ms);
        setenv("STAGEHAND_CALL_TIMEOUT_MS", ms, 1);
    }
    setenv("AWS_ENDPOINT_URL", r->url, 1);
    setenv("CI", "true", 1);
    if (strcmp(command, "v05") == 0) {
        char script[4096];
        snprintf(
            script, sizeof(script),
            "set -e; S='%s'; A='-s %s -r %s';"
            "[ -f _meta/variables/s-variables-%s.json ] || \"$S\" project init -c $A;"
            "\"$S\" meta sync $A; \"$S\" resources deploy $A; \"$S\" meta sync --push $A;"
            "\"$S\" function deploy -a $A; \"$S\" event deploy -a $A; \"$S\" endpoint deploy -a $A",
            r->self, stage, region, stage);
        execl("/bin/sh", "sh", "-c", script, (char *)NULL);
        _exit(127);
    }
    execl(r->self, r->self, command, "-s", stage, "-r", region, "--endpoint-url", r->url,
          (char *)NULL);
    _exit(127);
}

/* Wait for a child (hard limit limit_s, then it is killed). Returns its
 * exit code, 128+signal when killed by a signal. */
int rh_wait(pid_t pid, int limit_s)
{
    int st = 0;
    double deadline = txn_ms() + limit_s * 1000.0;
    for (;;) {
        pid_t w = waitpid(pid, &st, WNOHANG);
        if (w == pid) {
            break;
        }
        if (w < 0 && errno != EINTR) {
            return -1;
        }
        if (rh_stop) {
            kill(-pid, SIGKILL);
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
            return -1;
        }
        if (txn_ms() > deadline) {
            kill(-pid, SIGKILL);
            waitpid(pid, &st, 0);
            break;
        }
        usleep(2000);
    }
    if (WIFEXITED(st)) {
        return WEXITSTATUS(st);
    }
    return WIFSIGNALED(st) ? 128 + WTERMSIG(st) : -1;
}

/* Run a child to completion; returns its exit code. */
int rh_run(struct rh *r, const char *command, const char *stage)
{
    pid_t pid = rh_spawn(r, command, stage, 0);
    return pid < 0 ? -1 : rh_wait(pid, 120);
}

/* 1 and its path in out when an executable greenroom is found where an
 * install or a build tree puts it: beside stagehand, at ../emulator/ from
 * it (the build tree), or on PATH. */
int rh_find_greenroom(char *out, size_t n)
{
    char self[PATH_MAX], cand[PATH_MAX + 32];
    ssize_t sl = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (sl > 0) {
        self[sl] = 0;
        char *slash = strrchr(self, '/');
        if (slash) {
            *slash = 0;
            const char *rel[] = {"greenroom", "../emulator/greenroom"};
            for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
                snprintf(cand, sizeof(cand), "%s/%s", self, rel[i]);
                if (access(cand, X_OK) == 0 && realpath(cand, out) && strlen(out) < n) {
                    return 1;
                }
            }
        }
    }
    const char *path = getenv("PATH");
    char buf[4096];
    char *save = NULL;
    snprintf(buf, sizeof(buf), "%s", path ? path : "/usr/local/bin:/usr/bin:/bin");
    for (char *d = strtok_r(buf, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
        snprintf(cand, sizeof(cand), "%s/greenroom", *d ? d : ".");
        if (access(cand, X_OK) == 0 && strlen(cand) < n) {
            snprintf(out, n, "%s", cand);
            return 1;
        }
    }
    return 0;
}

extern char **environ;

/* In a child about to exec a clone: unset every GREENROOM_* variable of
 * ours and set env's (the source greenroom's), so the clone runs with the
 * source's settings, not rehearse's. */
static void rh_env_replace(const cJSON *env)
{
    char names[64][256];
    int n = 0;
    for (char **e = environ; e && *e && n < 64; e++) {
        const char *eq = strchr(*e, '=');
        if (strncmp(*e, "GREENROOM_", 10) == 0 && eq && (size_t)(eq - *e) < sizeof(names[0])) {
            memcpy(names[n], *e, (size_t)(eq - *e));
            names[n++][eq - *e] = 0;
        }
    }
    for (int i = 0; i < n; i++) {
        unsetenv(names[i]);
    }
    const cJSON *v;
    cJSON_ArrayForEach(v, env)
    {
        if (cJSON_IsString(v) && v->string && strncmp(v->string, "GREENROOM_", 10) == 0 &&
            !strchr(v->string, '=')) {
            setenv(v->string, v->valuestring, 1);
        }
    }
}

/* Start (or restart, port > 0: on that port) our own greenroom on
 * r->gr_state. Returns 0 when it answers /_greenroom/health. */
int rh_gr_up(struct rh *r, int port)
{
    int fds[2];
    char portarg[16];
    if (pipe(fds) != 0) {
        return -1;
    }
    snprintf(portarg, sizeof(portarg), "%d", port);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    if (pid == 0) {
        rh_die_with(parent);
        setpgid(0, 0);
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        int fd = open(r->log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2(fd, 2);
        }
        char *argv[32] = {(char *)r->greenroom, "--port", portarg, "--state-dir", r->gr_state};
        int argc = 5;
        const cJSON *a;
        cJSON_ArrayForEach(a, r->gr_args)
        {
            if (cJSON_IsString(a) && argc < (int)(sizeof(argv) / sizeof(argv[0])) - 1) {
                argv[argc++] = a->valuestring;
            }
        }
        argv[argc] = NULL;
        if (r->gr_env) {
            rh_env_replace(r->gr_env);
        }
        execv(r->greenroom, argv);
        _exit(127);
    }
    close(fds[1]);
    char line[64] = "";
    size_t n = 0;
    while (n + 1 < sizeof(line)) {
        ssize_t k = read(fds[0], line + n, 1);
        if (k <= 0 || line[n] == '\n') {
            break;
        }
        n++;
    }
    line[n] = 0;
    close(fds[0]);
    char *end = NULL;
    long p = strtol(line, &end, 10);
    if (!end || end == line || p <= 0 || p > 65535) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        return -1;
    }
    r->gr_pid = pid;
    r->gr_port = (int)p;
    snprintf(r->url, sizeof(r->url), "http://127.0.0.1:%d", r->gr_port);
    for (int i = 0; i < 250 && !rh_stop; i++) {
        if (rh_ctl(r, "GET", "/_greenroom/health", NULL, NULL) == 200) {
            struct dep_err err;
            dep_err_clear(&err);
            return dep_transport_init(r->url, r->c->stage, &err);
        }
        usleep(20000);
    }
    return -1;
}

/* Stop our greenroom (after a crash: just reap it). */
void rh_gr_down(struct rh *r)
{
    if (r->gr_pid <= 0) {
        return;
    }
    kill(r->gr_pid, SIGTERM);
    for (int i = 0; i < 100; i++) {
        if (waitpid(r->gr_pid, NULL, WNOHANG) == r->gr_pid) {
            r->gr_pid = 0;
            return;
        }
        usleep(20000);
    }
    kill(r->gr_pid, SIGKILL);
    waitpid(r->gr_pid, NULL, 0);
    r->gr_pid = 0;
}

/* After a crash: reap it and bring greenroom back on the same state (same
 * port when possible, else a new one). Returns 0 or -1. */
int rh_gr_restart(struct rh *r)
{
    int port = r->gr_port;
    if (r->gr_pid > 0) {
        int st;
        if (waitpid(r->gr_pid, &st, WNOHANG) == 0) {
            kill(r->gr_pid, SIGKILL);
            waitpid(r->gr_pid, &st, 0);
        }
        r->gr_pid = 0;
    }
    if (rh_gr_up(r, port) == 0) {
        return 0;
    }
    return rh_gr_up(r, 0);
}

const char *rh_gr_gone(struct rh *r, char *why, size_t n)
{
    int st = 0;
    if (r->gr_pid > 0 && waitpid(r->gr_pid, &st, WNOHANG) == r->gr_pid) {
        if (WIFSIGNALED(st)) {
            snprintf(why, n, "greenroom (pid %ld) died of signal %d during this case (log: %s)",
                     (long)r->gr_pid, WTERMSIG(st), r->log);
        } else {
            snprintf(why, n, "greenroom (pid %ld) exited %d during this case (log: %s)",
                     (long)r->gr_pid, WIFEXITED(st) ? WEXITSTATUS(st) : -1, r->log);
        }
        r->gr_pid = 0;
        if (rh_gr_restart(r) < 0) {
            size_t l = strlen(why);
            snprintf(why + l, n - l, "; it did not come back");
        }
        return RH_HARNESS_DIED;
    }
    if (rh_ctl(r, "GET", "/_greenroom/health", NULL, NULL) != 200) {
        snprintf(why, n, "greenroom at %s does not answer /_greenroom/health", r->url);
        return RH_HARNESS_GONE;
    }
    return NULL;
}

/* Where rehearse's temp dir goes: $TMPDIR when set, else /dev/shm when it
 * is a writable tmpfs with room (greenroom's files and fsyncs then cost no
 * disk I/O; a crashed greenroom still restarts on its state, which lives
 * as long as the machine), else /tmp. */
const char *rh_tmp_base(void)
{
    const char *t = getenv("TMPDIR");
    struct statfs fs;
    if (t && *t) {
        return t;
    }
    if (statfs("/dev/shm", &fs) == 0 && fs.f_type == TMPFS_MAGIC &&
        (unsigned long long)fs.f_bavail * (unsigned long long)fs.f_bsize >= (512ULL << 20) &&
        access("/dev/shm", W_OK | X_OK) == 0) {
        return "/dev/shm";
    }
    return "/tmp";
}

/* Make rehearse's temp dir, <base>/stagehand-rehearse-<pid>-XXXXXX, into
 * out; first remove the ones of rehearse runs that were killed (their pid
 * is gone: a SIGKILL leaves no chance to clean up, and /dev/shm is memory).
 * Returns 0 or -1 (errno). */
int rh_make_tmp(char *out, size_t n)
{
    const char *base = rh_tmp_base();
    const char *prefix = "stagehand-rehearse-";
    DIR *d = opendir(base);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        char *end = NULL;
        char path[PATH_MAX];
        struct stat sb;
        if (strncmp(e->d_name, prefix, strlen(prefix)) != 0) {
            continue;
        }
        long pid = strtol(e->d_name + strlen(prefix), &end, 10);
        if (!end || *end != '-' || pid <= 0 || (kill((pid_t)pid, 0) == 0 || errno != ESRCH)) {
            continue;
        }
        if (snprintf(path, sizeof(path), "%s/%s", base, e->d_name) < (int)sizeof(path) &&
            lstat(path, &sb) == 0 && S_ISDIR(sb.st_mode) && sb.st_uid == geteuid()) {
            rh_rm_tree(path);
        }
    }
    if (d) {
        closedir(d);
    }
    snprintf(out, n, "%s/%s%ld-XXXXXX", base, prefix, (long)getpid());
    return mkdtemp(out) ? 0 : -1;
}

/* ------------------------------------- a greenroom shared with other runs */

/* This machine's name as a snapshot-name part: [A-Za-z0-9.-] kept, the
 * rest '_', at most 40 characters, "host" when unknown. */
static void host_tag(char *out, size_t n)
{
    char h[256] = "";
    if (gethostname(h, sizeof(h) - 1) != 0 || !h[0]) {
        snprintf(h, sizeof(h), "host");
    }
    h[40] = 0;
    for (char *p = h; *p; p++) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '.' || *p == '-')) {
            *p = '_';
        }
    }
    if (h[0] == '.') {
        h[0] = '_';
    }
    snprintf(out, n, "%s", h);
}

void rh_name_init(struct rh *r)
{
    char host[64];
    unsigned int rnd = 0;
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd < 0 || read(fd, &rnd, sizeof(rnd)) != (ssize_t)sizeof(rnd)) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        rnd = (unsigned int)ts.tv_nsec ^ ((unsigned int)ts.tv_sec << 8) ^ (unsigned int)getpid();
    }
    if (fd >= 0) {
        close(fd);
    }
    host_tag(host, sizeof(host));
    snprintf(r->name, sizeof(r->name), "stagehand-rehearse-%s-%ld-%08x", host, (long)getpid(), rnd);
}

/* FNV-1a, for the lock file of a greenroom known only by its URL. */
static unsigned long long fnv1a(const char *s)
{
    unsigned long long h = 1469598103934665603ULL;
    for (; *s; s++) {
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    }
    return h;
}

static int url_is_local(const char *url);

int rh_turn_take(struct rh *r)
{
    cJSON *h = NULL;
    char path[PATH_MAX];
    int fd = -1;
    if (r->turn_held) {
        return 0;
    }
    /* the greenroom's state dir when it runs here: every rehearse run on
     * this machine finds it under that name, whatever URL it was given */
    if (url_is_local(r->url) && rh_ctl(r, "GET", "/_greenroom/health", NULL, &h) == 200) {
        const char *state = txn_jstr(cJSON_GetObjectItemCaseSensitive(h, "process"), "stateDir");
        if (*state) {
            fd = open(state, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        }
    }
    cJSON_Delete(h);
    if (fd < 0) {
        snprintf(path, sizeof(path), "/tmp/stagehand-rehearse.turn-%016llx", fnv1a(r->url));
        fd = open(path, O_RDONLY | O_CREAT | O_CLOEXEC, 0666);
    }
    if (fd < 0) {
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        if (errno != EWOULDBLOCK) {
            close(fd);
            return -1;
        }
        fprintf(stderr,
                "rehearse: another stagehand rehearse is using %s; waiting for its turn to end\n",
                r->url);
        while (flock(fd, LOCK_EX) != 0) {
            if (errno != EINTR || rh_stop) {
                close(fd);
                return -1;
            }
        }
    }
    r->turn_fd = fd;
    r->turn_held = 1;
    return 0;
}

void rh_turn_give(struct rh *r)
{
    if (!r->turn_held) {
        return;
    }
    flock(r->turn_fd, LOCK_UN); /* also for the copies forked workers hold */
    close(r->turn_fd);
    r->turn_held = 0;
    r->turn_fd = -1;
}

int rh_snap_sweep_stale(struct rh *r)
{
    cJSON *list = NULL;
    char host[64], prefix[128];
    int n = 0;
    host_tag(host, sizeof(host));
    snprintf(prefix, sizeof(prefix), "stagehand-rehearse-%s-", host);
    if (rh_ctl(r, "GET", "/_greenroom/snapshots", NULL, &list) != 200) {
        cJSON_Delete(list);
        return 0;
    }
    const cJSON *s;
    cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(list, "snapshots"))
    {
        const char *name = txn_jstr(s, "name");
        char *end = NULL;
        char path[256];
        if (strncmp(name, prefix, strlen(prefix)) != 0 || strcmp(name, r->name) == 0) {
            continue;
        }
        long pid = strtol(name + strlen(prefix), &end, 10);
        if (!end || *end != '-' || pid <= 0 || pid == (long)getpid() || kill((pid_t)pid, 0) == 0 ||
            errno != ESRCH) {
            continue; /* not ours, or its run may be alive */
        }
        snprintf(path, sizeof(path), "/_greenroom/snapshots/%s", name);
        if (strlen(name) < 200 && rh_ctl(r, "DELETE", path, NULL, NULL) / 100 == 2) {
            /* not restored: others may have changed the greenroom since */
            fprintf(stderr,
                    "rehearse: deleted snapshot %s of a rehearse run that is gone (pid %ld was "
                    "killed?); what that run left on %s stays\n",
                    name, pid, r->url);
            n++;
        }
    }
    cJSON_Delete(list);
    return n;
}

/* ------------------------------------------------------------ clones */

/* 1 when url's host is this machine's loopback. */
static int url_is_local(const char *url)
{
    const char *h = strstr(url, "://");
    h = h ? h + 3 : url;
    const char *local[] = {"127.", "localhost:", "localhost/", "[::1]"};
    for (size_t i = 0; i < sizeof(local) / sizeof(local[0]); i++) {
        if (strncmp(h, local[i], strlen(local[i])) == 0) {
            return 1;
        }
    }
    return strcmp(h, "localhost") == 0;
}

int rh_clone_probe(struct rh *r)
{
    cJSON *h = NULL;
    int ok = 0;
    if (!url_is_local(r->url) || rh_ctl(r, "GET", "/_greenroom/health", NULL, &h) != 200) {
        cJSON_Delete(h);
        return 0;
    }
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(h, "process");
    const char *exe = txn_jstr(p, "exe"), *state = txn_jstr(p, "stateDir");
    const cJSON *args = cJSON_GetObjectItemCaseSensitive(p, "cloneArgs");
    struct stat sb;
    if (*exe && *state && access(exe, X_OK) == 0 && strlen(exe) < sizeof(r->found_gr) &&
        strlen(state) < sizeof(r->src_state) && stat(state, &sb) == 0 && S_ISDIR(sb.st_mode) &&
        access(state, R_OK | X_OK) == 0 && (!args || cJSON_IsArray(args))) {
        snprintf(r->found_gr, sizeof(r->found_gr), "%s", exe);
        snprintf(r->src_state, sizeof(r->src_state), "%s", state);
        r->greenroom = r->found_gr;
        cJSON_Delete(r->gr_args);
        r->gr_args = args ? cJSON_Duplicate(args, 1) : NULL;
        /* its GREENROOM_* settings; an older greenroom does not tell them:
         * its clones then get ours */
        const cJSON *env = cJSON_GetObjectItemCaseSensitive(p, "env");
        cJSON_Delete(r->gr_env);
        r->gr_env = cJSON_IsObject(env) ? cJSON_Duplicate(env, 1) : NULL;
        ok = 1;
    }
    cJSON_Delete(h);
    return ok;
}

int rh_clone_template(struct rh *r, const char *name)
{
    char snap[PATH_MAX + 64], dir[PATH_MAX + 64], from[PATH_MAX + 96], to[PATH_MAX + 96];
    const char *leaf[] = {"state.db", "objects"};
    snprintf(r->gr_state, sizeof(r->gr_state), "%s/greenroom", r->tmp);
    snprintf(snap, sizeof(snap), "%s/snapshots/%s", r->src_state, name);
    /* the snapshot as the clones' state, and again as the snapshot the
     * cases restore */
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 0) {
            snprintf(dir, sizeof(dir), "%s", r->gr_state);
        } else {
            snprintf(dir, sizeof(dir), "%s/snapshots", r->gr_state);
            mkdir(dir, 0755);
            snprintf(dir, sizeof(dir), "%s/snapshots/%s", r->gr_state, name);
        }
        if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
            return -1;
        }
        for (int i = 0; i < 2; i++) {
            snprintf(from, sizeof(from), "%s/%s", snap, leaf[i]);
            snprintf(to, sizeof(to), "%s/%s", dir, leaf[i]);
            if (rh_rm_tree(to) != 0 || copy_tree(from, to) != 0) {
                return -1;
            }
        }
    }
    return 0;
}

/* ------------------------------------------------------ parallel sweep */

/* A worker's exit codes before it runs any case. */
#define RH_WORKER_NO_SETUP 3     /* no curl handle, or its copies failed */
#define RH_WORKER_NO_GREENROOM 4 /* its greenroom did not start */

struct rh_worker {
    pid_t pid;
    int to_fd;           /* case indexes, 4 bytes each; closed: no more */
    int from_fd;         /* one JSON record per line */
    int cur;             /* the case it runs, -1 when idle */
    struct dep_buf line; /* partial record */
};

/* A worker process: its own copy of the pre-deploy greenroom state and of
 * the project, its own greenroom; runs the cases whose indexes arrive on
 * in_fd and writes each record as one line to out_fd. Never returns. */
static void rh_worker_main(struct rh *r, int id, const struct rh_sweep *sw, int in_fd, int out_fd)
{
    char tpl_state[sizeof(r->gr_state)], tpl_work[sizeof(r->work)];
    memcpy(tpl_state, r->gr_state, sizeof(tpl_state));
    memcpy(tpl_work, r->work, sizeof(tpl_work));
    snprintf(r->gr_state, sizeof(r->gr_state), "%s/greenroom-%d", r->tmp, id);
    snprintf(r->work, sizeof(r->work), "%s/project-%d", r->tmp, id);
    snprintf(r->log, sizeof(r->log), "%s/children-%d.log", r->tmp, id);
    r->curl = curl_easy_init(); /* the parent's handle and its connections stay the parent's */
    r->gr_pid = 0;
    char *cp_state[] = {"cp", "-a", tpl_state, r->gr_state, NULL};
    char *cp_work[] = {"cp", "-a", tpl_work, r->work, NULL};
    if (!r->curl || rh_run_quiet(cp_state) != 0 || rh_run_quiet(cp_work) != 0) {
        _exit(RH_WORKER_NO_SETUP);
    }
    if (rh_gr_up(r, 0) < 0) {
        rh_gr_down(r);
        _exit(RH_WORKER_NO_GREENROOM);
    }
    int32_t idx;
    for (;;) {
        ssize_t n = read(in_fd, &idx, sizeof(idx));
        if (rh_stop) {
            break;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n != (ssize_t)sizeof(idx) || idx < 0 || idx >= sw->nt) {
            break;
        }
        cJSON *one = cJSON_CreateArray();
        sw->run(r, &sw->todo[idx], one, sw->ud);
        cJSON *rec = cJSON_GetArrayItem(one, 0);
        cJSON_AddNumberToObject(rec, "worker", id);
        char *line = cJSON_PrintUnformatted(rec);
        cJSON_Delete(one);
        int wr = line ? write_all(out_fd, line, strlen(line)) : -1;
        if (wr == 0) {
            wr = write_all(out_fd, "\n", 1);
        }
        free(line);
        if (wr < 0) {
            break;
        }
    }
    rh_gr_down(r);
    _exit(0);
}

/* The cases not handed out yet: those of workers that died before they
 * started them (again, taken first), then next..nt-1. */
struct rh_queue {
    int next;
    int nt;
    int *again;
    int n_again;
};

/* Hand worker w its next case (or, when none is left, end its input). */
static void rh_dispatch(struct rh_worker *w, struct rh_queue *q)
{
    w->cur = -1;
    if (w->to_fd < 0) {
        return;
    }
    int32_t idx = q->n_again > 0 ? q->again[q->n_again - 1] : q->next;
    if (idx < q->nt && write_all(w->to_fd, &idx, sizeof(idx)) == 0) {
        if (q->n_again > 0) {
            q->n_again--;
        } else {
            q->next++;
        }
        w->cur = idx;
        return;
    }
    close(w->to_fd);
    w->to_fd = -1;
}

/* The record of a case no worker ran to its end: a harness error of kind
 * what (new). */
static cJSON *rh_lost_case(const struct rh_case *c, const char *what, const char *why)
{
    cJSON *rec = cJSON_CreateObject();
    cJSON_AddNumberToObject(rec, "k", c->k);
    cJSON_AddStringToObject(rec, "kind", rh_kind_name(c->kind));
    cJSON_AddStringToObject(rec, "result", "error");
    cJSON_AddStringToObject(rec, "harnessError", what);
    cJSON_AddStringToObject(rec, "detail", why);
    cJSON_AddNumberToObject(rec, "ms", 0);
    return rec;
}

/* Why worker id ended (its wait status st): the harness error's kind,
 * and what happened in why. Returns 1 when it ended before it started
 * the case it had been given (the case can go to another worker). */
/* The last non-empty line of file path (at most n-1 bytes of it) into
 * out; "" when there is none. */
static void last_line(const char *path, char *out, size_t n)
{
    char buf[4096];
    out[0] = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return;
    }
    off_t end = lseek(fd, 0, SEEK_END);
    off_t from = end > (off_t)sizeof(buf) - 1 ? end - (off_t)sizeof(buf) + 1 : 0;
    ssize_t got = pread(fd, buf, sizeof(buf) - 1, from);
    close(fd);
    if (got <= 0) {
        return;
    }
    buf[got] = 0;
    while (got > 0 && (buf[got - 1] == '\n' || buf[got - 1] == '\r' || buf[got - 1] == ' ')) {
        buf[--got] = 0;
    }
    char *nl = strrchr(buf, '\n');
    snprintf(out, n, "%s", nl ? nl + 1 : buf);
}

static int rh_worker_death(const struct rh *r, int id, int st, const char **what, char *why,
                           size_t n)
{
    if (st == RH_WORKER_NO_GREENROOM) {
        char log[PATH_MAX + 32], said[200];
        snprintf(log, sizeof(log), "%s/children-%d.log", r->tmp, id);
        last_line(log, said, sizeof(said));
        *what = r->clone ? RH_HARNESS_CLONE : RH_HARNESS_START;
        snprintf(why, n, "rehearse worker %d: its greenroom (%s) did not start%s%s%s", id,
                 r->greenroom ? r->greenroom : "?", said[0] ? " (it said: " : "", said,
                 said[0] ? ")" : "");
        return 1;
    }
    if (st == RH_WORKER_NO_SETUP) {
        *what = RH_HARNESS_SETUP;
        snprintf(why, n,
                 "rehearse worker %d could not copy the greenroom state or the project into %s", id,
                 r->tmp);
        return 1;
    }
    *what = RH_HARNESS_WORKER;
    if (st > 128) {
        snprintf(why, n,
                 "rehearse worker %d died of signal %d during this case (log: %s/children-%d.log)",
                 id, st - 128, r->tmp, id);
    } else {
        snprintf(why, n,
                 "rehearse worker %d died (exit %d) during this case (log: %s/children-%d.log)", id,
                 st, r->tmp, id);
    }
    return 0;
}

/* Run the sweep's cases on r->jobs workers (processes, each with its own
 * greenroom started on a copy of the stopped primary's state, which holds
 * the pre-deploy snapshot); records go to cases in case order, and rows
 * are printed in that order as soon as they are contiguous. Returns 0, -1
 * when no worker could be started. */
int rh_run_parallel(struct rh *r, const struct rh_sweep *sw, cJSON *cases, int human)
{
    int nw = r->jobs < sw->nt ? r->jobs : sw->nt;
    struct rh_worker w[RH_MAX_JOBS];
    cJSON **slot = calloc((size_t)sw->nt, sizeof(*slot));
    struct rh_queue q = {0, sw->nt, calloc((size_t)sw->nt + 1, sizeof(int)), 0};
    int done = 0, printed = 0, alive = 0;
    const char *last_what = NULL; /* why the last worker that died did */
    char last_why[512] = "";
    if (!slot || !q.again) {
        free(slot);
        free(q.again);
        return -1;
    }
    rh_gr_down(r); /* its state dir is now the template of every worker's */
    fflush(stdout);
    fflush(stderr);
    for (int i = 0; i < nw; i++) {
        int to[2], from[2];
        memset(&w[i], 0, sizeof(w[i]));
        w[i].to_fd = w[i].from_fd = -1;
        w[i].cur = -1;
        if (pipe2(to, O_CLOEXEC) != 0) {
            continue;
        }
        if (pipe2(from, O_CLOEXEC) != 0) {
            close(to[0]);
            close(to[1]);
            continue;
        }
        pid_t parent = getpid();
        pid_t pid = fork();
        if (pid == 0) {
            rh_die_with(parent);
            close(to[1]);
            close(from[0]);
            for (int j = 0; j < i; j++) { /* other workers' pipes */
                if (w[j].to_fd >= 0) {
                    close(w[j].to_fd);
                }
                if (w[j].from_fd >= 0) {
                    close(w[j].from_fd);
                }
            }
            signal(SIGPIPE, SIG_IGN);
            rh_worker_main(r, i, sw, to[0], from[1]);
        }
        close(to[0]);
        close(from[1]);
        if (pid < 0) {
            close(to[1]);
            close(from[0]);
            continue;
        }
        w[i].pid = pid;
        w[i].to_fd = to[1];
        w[i].from_fd = from[0];
        alive++;
    }
    if (alive == 0) {
        free(slot);
        free(q.again);
        return -1;
    }
    signal(SIGPIPE, SIG_IGN); /* a dead worker's pipe: the write fails instead */
    for (int i = 0; i < nw; i++) {
        if (w[i].pid > 0) {
            rh_dispatch(&w[i], &q);
        }
    }
    while (alive > 0 && done < sw->nt && !rh_stop) {
        struct pollfd pf[RH_MAX_JOBS];
        int map[RH_MAX_JOBS], np = 0;
        for (int i = 0; i < nw; i++) {
            if (w[i].from_fd >= 0) {
                pf[np].fd = w[i].from_fd;
                pf[np].events = POLLIN;
                pf[np].revents = 0;
                map[np++] = i;
            }
        }
        if (poll(pf, (nfds_t)np, -1) < 0) {
            if (errno == EINTR) {
                continue;
            }
            break;
        }
        for (int p = 0; p < np; p++) {
            if (!(pf[p].revents & (POLLIN | POLLHUP | POLLERR))) {
                continue;
            }
            struct rh_worker *x = &w[map[p]];
            char buf[8192];
            ssize_t n = read(x->from_fd, buf, sizeof(buf));
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n <= 0) { /* the worker is gone: why (its exit), and its case */
                close(x->from_fd);
                x->from_fd = -1;
                if (x->to_fd >= 0) {
                    close(x->to_fd);
                    x->to_fd = -1;
                }
                int st = rh_wait(x->pid, 30);
                x->pid = 0;
                alive--;
                int unstarted =
                    rh_worker_death(r, map[p], st, &last_what, last_why, sizeof(last_why));
                if (x->cur >= 0 && unstarted && alive > 0) {
                    q.again[q.n_again++] = x->cur; /* another worker runs it */
                } else if (x->cur >= 0) {
                    slot[x->cur] = rh_lost_case(&sw->todo[x->cur], last_what, last_why);
                    if (sw->label) {
                        sw->label(&sw->todo[x->cur], slot[x->cur], sw->ud);
                    }
                    done++;
                }
                x->cur = -1;
                continue;
            }
            dep_buf_append(&x->line, buf, (size_t)n);
            char *nl;
            while (x->line.data && (nl = memchr(x->line.data, '\n', x->line.len)) != NULL) {
                *nl = 0;
                cJSON *rec = cJSON_Parse(x->line.data);
                size_t used = (size_t)(nl - x->line.data) + 1;
                memmove(x->line.data, nl + 1, x->line.len - used + 1); /* and its NUL */
                x->line.len -= used;
                if (x->cur >= 0 && !slot[x->cur]) {
                    slot[x->cur] =
                        rec ? rec
                            : rh_lost_case(&sw->todo[x->cur], RH_HARNESS_WORKER,
                                           "the worker's record of this case is unreadable");
                    done++;
                } else {
                    cJSON_Delete(rec);
                }
                rh_dispatch(x, &q);
            }
        }
        while (human && printed < sw->nt && slot[printed]) {
            sw->print(slot[printed++]);
        }
    }
    for (int i = 0; i < nw; i++) {
        if (w[i].to_fd >= 0) {
            close(w[i].to_fd);
        }
    }
    for (int i = 0; i < nw; i++) {
        if (w[i].pid > 0 && rh_stop) {
            /* interrupted: each worker stops its deploy and its greenroom */
            kill(w[i].pid, SIGTERM);
            double end = txn_ms() + 3000.0;
            while (waitpid(w[i].pid, NULL, WNOHANG) == 0 && txn_ms() < end) {
                usleep(5000);
            }
            kill(w[i].pid, SIGKILL);
            waitpid(w[i].pid, NULL, 0);
        } else if (w[i].pid > 0) {
            rh_wait(w[i].pid, 30);
        }
        if (w[i].from_fd >= 0) {
            close(w[i].from_fd);
        }
        dep_buf_release(&w[i].line);
    }
    for (int i = 0; i < sw->nt; i++) {
        if (!slot[i]) {
            char why[700];
            snprintf(why, sizeof(why), "not run: no rehearse worker was left%s%s",
                     last_what ? "; the last one that ended: " : "", last_why);
            slot[i] = rh_lost_case(&sw->todo[i], last_what ? last_what : RH_HARNESS_WORKER, why);
            if (sw->label) {
                sw->label(&sw->todo[i], slot[i], sw->ud);
            }
        }
        if (human && i >= printed) {
            sw->print(slot[i]);
        }
        cJSON_AddItemToArray(cases, slot[i]);
    }
    free(slot);
    free(q.again);
    return 0;
}
