/*
 * lambda_exec.c - Lambda's execution engine: warm sandboxes (one function
 * process each) that speak the Lambda Runtime API served by greenroom.
 *
 * A sandbox runs one version of one function (key: account/region/name/
 * version/revision). Its process is `node runtime/node/runtime.js`,
 * `python3 -u runtime/python/runtime.py` or the zip's `bootstrap`, started
 * with cwd = the extracted code (LAMBDA_TASK_ROOT) and
 * AWS_LAMBDA_RUNTIME_API=127.0.0.1:PORT/_greenroom/runtime/<sandbox-id>,
 * AWS_ENDPOINT_URL=greenroom and, for node, NODE_PATH ending with the
 * machine's AWS SDK directories (lx_sdk_path_init; runtime/node/sdk.js
 * points aws-sdk v2, which ignores AWS_ENDPOINT_URL, at greenroom).
 *
 * Life of an invocation (all state under one mutex, lx_mu):
 *   invoker: take an idle sandbox of the key (or start one, at most
 *     LX_MAX_PER_KEY per key; else wait for one to free up), post the
 *     invocation (has_work), wait for done / death / deadline.
 *   runtime GET .../invocation/next: waits until has_work, answers the
 *     payload with the Lambda-Runtime-* headers.
 *   runtime POST .../invocation/<id>/response|error: stores the result, wakes
 *     the invoker. POST .../init/error: the sandbox is dead, the invoker gets
 *     the error.
 *   timeout (counted from when the runtime took the work; a cold start
 *     has LX_INIT_SECONDS more, as Lambda's Init phase): the invoker kills
 *     the process group and answers "Task timed out after N.NN seconds".
 * The process's stdout/stderr go through a pipe read by one thread per
 * sandbox, appended to the function's log file and to the sandbox's tail
 * buffer (the last 4 KB of the current invocation, for LogType Tail).
 * The same thread enforces MemorySize: it polls the RSS of the process
 * (and of the processes it started) every LX_MEM_POLL_MS
 * (GREENROOM_LAMBDA_MEMORY_POLL_MS overrides) and kills the process group
 * past the limit, which the invoker answers as Lambda does (Unhandled,
 * Runtime.OutOfMemory, "Runtime exited with error: signal: killed"). A
 * peak between two samples is caught at the answer, from the kernel's
 * high-water mark, so the outcome does not depend on the machine's load;
 * the peak is REPORT's Max Memory Used.
 * A reaper thread kills sandboxes idle longer than LX_IDLE_SECONDS
 * (GREENROOM_LAMBDA_IDLE_SECONDS overrides). At most LX_MAX_PER_KEY
 * sandboxes run one version at once (GREENROOM_LAMBDA_CONCURRENCY
 * overrides); further invocations wait for one to free up, up to the
 * function's timeout, then get TooManyRequestsException.
 *
 * Ownership: a sandbox is reference-counted (the list, its reader thread,
 * an invoker using it, a runtime request waiting on it); the last unref
 * frees it.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "emu.h"
#include "lambda_internal.h"

#ifndef EMU_RUNTIME_DIR
#define EMU_RUNTIME_DIR "emulator/runtime"
#endif
#ifndef EMU_RUNTIME_INSTALL_DIR
#define EMU_RUNTIME_INSTALL_DIR "/usr/local/share/greenroom/runtime"
#endif

/* Where our runtime clients (node/runtime.js, python/runtime.py) are:
 * $GREENROOM_RUNTIME_DIR, else the source tree greenroom was built from
 * while it exists, else where `ninja install` put them. */
static const char *lx_runtime_dir(void)
{
    const char *env = getenv("GREENROOM_RUNTIME_DIR");
    if (env && *env) {
        return env;
    }
    if (access(EMU_RUNTIME_DIR "/node/runtime.js", R_OK) == 0) {
        return EMU_RUNTIME_DIR;
    }
    return EMU_RUNTIME_INSTALL_DIR;
}

#define LX_MAX_PER_KEY 10
#define LX_IDLE_SECONDS 300
#define LX_INIT_SECONDS 10 /* Lambda's limit on the Init phase */
#define LX_TAIL 4096
#define LX_MEM_POLL_MS 20       /* how often the memory watch reads RSS (default) */
#define LX_MAX_RESPONSE 6291556 /* what Lambda lets a function answer */

extern char **environ;

enum lx_state {
    LX_STARTING, /* process started, has not asked for work yet */
    LX_READY,    /* waiting in invocation/next */
    LX_BUSY,     /* running an invocation */
    LX_DEAD,     /* process gone or being killed */
};

struct lx_sandbox {
    char id[33];
    char key[400];
    char account[16];
    char region[32];
    char name[72];
    char version[16];
    pid_t pid;
    enum lx_state state;
    int refs;
    int in_use; /* reserved by an invoker */
    int listed;
    double last_used;
    pthread_cond_t cond;
    int pipe_r;
    int log_fd;
    /* the invocation in flight */
    int has_work; /* posted, not yet fetched by invocation/next */
    char req_id[40];
    const char *payload;
    size_t payload_len;
    char *client_context; /* decoded JSON or NULL */
    char invoked_arn[300];
    double deadline; /* epoch seconds: the runtime's Lambda-Runtime-Deadline-Ms */
    double timeout;  /* seconds the function may run once it took the work */
    double taken;    /* monotonic time the runtime took the work, 0 before */
    int done;
    enum lambda_fn_error error;
    char *result;
    size_t result_len;
    char *init_error;
    int exit_status; /* waitpid status once reaped, -1 before */
    long memory_kb;  /* MemorySize: the RSS the process may reach */
    long peak_kb;    /* largest RSS seen (REPORT's Max Memory Used) */
    int oom;         /* killed by the memory watch */
    char tail[LX_TAIL];
    size_t tail_len;
    struct lx_sandbox *next;
};

static pthread_mutex_t lx_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t lx_freed = PTHREAD_COND_INITIALIZER; /* a sandbox became free */
static struct lx_sandbox *lx_list;
static int lx_stopping;
static pthread_t lx_reaper;
static int lx_reaper_running;
static double lx_idle = LX_IDLE_SECONDS;
static int lx_mem_poll_ms = LX_MEM_POLL_MS; /* GREENROOM_LAMBDA_MEMORY_POLL_MS */
static int lx_max_per_key = LX_MAX_PER_KEY;

/* --------------------------------------------------------------- helpers */

static void lx_unref_locked(struct lx_sandbox *sb)
{
    if (--sb->refs > 0) {
        return;
    }
    if (sb->pipe_r >= 0) {
        close(sb->pipe_r);
    }
    if (sb->log_fd >= 0) {
        close(sb->log_fd);
    }
    pthread_cond_destroy(&sb->cond);
    free(sb->client_context);
    free(sb->result);
    free(sb->init_error);
    free(sb);
}

static void lx_unlist_locked(struct lx_sandbox *sb)
{
    if (!sb->listed) {
        return;
    }
    for (struct lx_sandbox **pp = &lx_list; *pp; pp = &(*pp)->next) {
        if (*pp == sb) {
            *pp = sb->next;
            break;
        }
    }
    sb->listed = 0;
    lx_unref_locked(sb);
}

/* Marks a sandbox dead and kills its process group (lock held). */
static void lx_kill_locked(struct lx_sandbox *sb)
{
    if (sb->pid > 0 && sb->state != LX_DEAD) {
        kill(-sb->pid, SIGKILL);
        kill(sb->pid, SIGKILL);
    }
    sb->state = LX_DEAD;
    pthread_cond_broadcast(&sb->cond);
    pthread_cond_broadcast(&lx_freed);
}

/* Appends to the tail buffer, keeping the last LX_TAIL bytes. */
static void lx_tail_append(struct lx_sandbox *sb, const char *data, size_t n)
{
    if (n >= LX_TAIL) {
        memcpy(sb->tail, data + n - LX_TAIL, LX_TAIL);
        sb->tail_len = LX_TAIL;
        return;
    }
    if (sb->tail_len + n > LX_TAIL) {
        size_t drop = sb->tail_len + n - LX_TAIL;
        memmove(sb->tail, sb->tail + drop, sb->tail_len - drop);
        sb->tail_len -= drop;
    }
    memcpy(sb->tail + sb->tail_len, data, n);
    sb->tail_len += n;
}

/* Writes a line of ours (START/END/REPORT) to the log and the tail. */
static void lx_log_locked(struct lx_sandbox *sb, const char *line)
{
    size_t n = strlen(line);
    if (sb->log_fd >= 0 && write(sb->log_fd, line, n) < 0) {
        /* the log is best effort */
    }
    lx_tail_append(sb, line, n);
}

/* Reads whatever the pipe holds now (non-blocking fd). Lock held. Returns
 * 0, or -1 at EOF. */
static int lx_drain_locked(struct lx_sandbox *sb)
{
    char buf[8192];
    for (;;) {
        ssize_t r = read(sb->pipe_r, buf, sizeof(buf));
        if (r > 0) {
            if (sb->log_fd >= 0 && write(sb->log_fd, buf, (size_t)r) < 0) {
                /* best effort */
            }
            lx_tail_append(sb, buf, (size_t)r);
            continue;
        }
        if (r == 0) {
            return -1;
        }
        if (errno == EINTR) {
            continue;
        }
        return 0;
    }
}

/* Resident set size of a process in KB, -1 when it is gone. */
static long lx_rss_kb(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/statm", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return -1;
    }
    char buf[128];
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0) {
        return -1;
    }
    buf[n] = 0;
    char *end = NULL;
    strtol(buf, &end, 10); /* size */
    long pages = strtol(end, NULL, 10);
    return pages * (sysconf(_SC_PAGESIZE) / 1024);
}

/* The largest RSS a process has had (VmHWM), in KB; -1 when it is gone. The
 * 20 ms samples below can miss a short peak (allocate, return, free); the
 * kernel's high-water mark does not. */
static long lx_hwm_kb(pid_t pid)
{
    char path[64], buf[2048];
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return -1;
    }
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0) {
        return -1;
    }
    buf[n] = 0;
    const char *h = strstr(buf, "\nVmHWM:");
    return h ? strtol(h + 8, NULL, 10) : -1;
}

/* At an answer: did the runtime go past MemorySize since the watch last
 * looked? A memory cgroup kills the moment usage crosses the limit; the
 * 20 ms samples of lx_reader can miss a short peak on a busy machine (a
 * handler that allocates and returns within one interval), the kernel's
 * high-water mark cannot. Past it, the runtime is killed as the watch
 * would have killed it, and its answer is not taken. Returns 1 then. */
static int lx_over_memory_locked(struct lx_sandbox *sb)
{
    if (sb->memory_kb <= 0 || sb->pid <= 0 || sb->oom) {
        return sb->oom;
    }
    long hwm = lx_hwm_kb(sb->pid);
    if (hwm > sb->peak_kb) {
        sb->peak_kb = hwm;
    }
    if (hwm <= sb->memory_kb) {
        return 0;
    }
    sb->oom = 1;
    emu_info("lambda: %s:%s reached %ld MB of its %ld MB: killed", sb->name, sb->version,
             hwm / 1024, sb->memory_kb / 1024);
    lx_kill_locked(sb);
    return 1;
}

/* RSS in KB of a process plus the processes its main thread started
 * (what a memory cgroup would count; depth and breadth bounded), -1 when
 * the process is gone. */
static long lx_tree_rss_kb(pid_t pid, int depth)
{
    long total = lx_rss_kb(pid);
    if (total < 0 || depth <= 0) {
        return total;
    }
    char path[96];
    snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)pid, (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return total;
    }
    char buf[512];
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0) {
        return total;
    }
    buf[n] = 0;
    char *p = buf;
    for (int i = 0; i < 32; i++) {
        char *end = NULL;
        long child = strtol(p, &end, 10);
        if (end == p || child <= 0) {
            break;
        }
        long c = lx_tree_rss_kb((pid_t)child, depth - 1);
        if (c > 0) {
            total += c;
        }
        p = end;
    }
    return total;
}

/* One per sandbox: copies the process's output to the log until EOF, then
 * reaps the process and marks the sandbox dead. It also enforces MemorySize
 * as Lambda does (a cgroup there): every lx_mem_poll_ms it reads the
 * process's RSS and, past the limit, kills the process group with SIGKILL
 * (the invoker then answers Runtime.OutOfMemory, "signal: killed").
 * Polling, not RLIMIT_AS: node's V8 reserves far more address space than
 * it uses (node does not even start under RLIMIT_AS=256 MB), and an rlimit
 * would turn the kill into a catchable MemoryError / allocation failure. */
static void *lx_reader(void *arg)
{
    struct lx_sandbox *sb = arg;
    for (;;) {
        struct pollfd p = {.fd = sb->pipe_r, .events = POLLIN};
        int r = poll(&p, 1, lx_mem_poll_ms);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        long rss = sb->pid > 0 ? lx_tree_rss_kb(sb->pid, 3) : -1;
        pthread_mutex_lock(&lx_mu);
        if (rss > sb->peak_kb) {
            sb->peak_kb = rss;
        }
        if (rss > sb->memory_kb && sb->memory_kb > 0 && !sb->oom && sb->state != LX_DEAD) {
            sb->oom = 1;
            emu_info("lambda: %s:%s used %ld MB of its %ld MB: killed", sb->name, sb->version,
                     rss / 1024, sb->memory_kb / 1024);
            lx_kill_locked(sb);
        }
        int eof = r < 0 || (r > 0 && lx_drain_locked(sb) < 0);
        pthread_mutex_unlock(&lx_mu);
        if (eof) {
            break;
        }
    }
    /* The output closed: the process is exiting (or was killed). Reap it
     * before telling the invoker, so it can say how the runtime ended. */
    int status = 0;
    if (sb->pid > 0 && waitpid(sb->pid, &status, 0) != sb->pid) {
        status = 0;
    }
    pthread_mutex_lock(&lx_mu);
    sb->exit_status = status;
    lx_kill_locked(sb);
    lx_unlist_locked(sb);
    lx_unref_locked(sb);
    pthread_mutex_unlock(&lx_mu);
    return NULL;
}

static struct lx_sandbox *lx_find_locked(const char *id)
{
    for (struct lx_sandbox *sb = lx_list; sb; sb = sb->next) {
        if (strcmp(sb->id, id) == 0) {
            return sb;
        }
    }
    return NULL;
}

void lambda_log_path(const char *account, const char *region, const char *name, char *out,
                     size_t len)
{
    snprintf(out, len, "%s/lambda/logs/%s-%s-%s.log", emu_state_dir(), account, region, name);
}

/* A growable array of "K=V" strings for the child's environment. */
struct lx_env {
    char **v;
    size_t n;
    size_t cap;
};

/* Sets K=V, replacing an earlier K. */
static void lx_env_set(struct lx_env *e, const char *k, const char *v)
{
    size_t kl = strlen(k);
    struct emu_buf b = {0};
    emu_buf_printf(&b, "%s=%s", k, v);
    for (size_t i = 0; i < e->n; i++) {
        if (strncmp(e->v[i], k, kl) == 0 && e->v[i][kl] == '=') {
            free(e->v[i]);
            e->v[i] = emu_buf_take(&b);
            return;
        }
    }
    if (e->n + 2 > e->cap) {
        e->cap = e->cap ? e->cap * 2 : 64;
        e->v = realloc(e->v, e->cap * sizeof(char *));
        if (e->v == NULL) {
            abort();
        }
    }
    e->v[e->n++] = emu_buf_take(&b);
    e->v[e->n] = NULL;
}

/* The value of K in e, or NULL (borrowed). */
static const char *lx_env_get(const struct lx_env *e, const char *k)
{
    size_t kl = strlen(k);
    for (size_t i = 0; i < e->n; i++) {
        if (strncmp(e->v[i], k, kl) == 0 && e->v[i][kl] == '=') {
            return e->v[i] + kl + 1;
        }
    }
    return NULL;
}

/* Where the machine's AWS SDK for node is (the one a Lambda node runtime
 * ships: aws-sdk v2, @aws-sdk/client-*), as a NODE_PATH list computed once:
 * $GREENROOM_NODE_SDK_PATH when set (empty: none), else the global npm
 * roots that exist among $NPM_CONFIG_PREFIX/lib/node_modules, ~/.npmrc's
 * prefix=DIR/lib/node_modules, the prefix of the node on PATH (<prefix>/bin/node: npm's default global root
 * <prefix>/lib/node_modules), /usr/local/lib/node_modules and
 * /usr/lib/node_modules. No npm is run: a cold start costs nothing more. */
static char lx_sdk_path[4096];
static pthread_once_t lx_sdk_once = PTHREAD_ONCE_INIT;

static void lx_sdk_path_add(const char *dir)
{
    char real[PATH_MAX];
    struct stat st;
    if (realpath(dir, real) == NULL || stat(real, &st) != 0 || !S_ISDIR(st.st_mode)) {
        return;
    }
    size_t rl = strlen(real);
    for (const char *p = lx_sdk_path; *p;) {
        const char *end = strchr(p, ':');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n == rl && memcmp(p, real, n) == 0) {
            return;
        }
        p += n + (end ? 1 : 0);
    }
    size_t used = strlen(lx_sdk_path);
    if (used + rl + 2 < sizeof(lx_sdk_path)) {
        snprintf(lx_sdk_path + used, sizeof(lx_sdk_path) - used, "%s%s", used ? ":" : "", real);
    }
}

static void lx_sdk_path_init(void)
{
    const char *env = getenv("GREENROOM_NODE_SDK_PATH");
    if (env != NULL) {
        snprintf(lx_sdk_path, sizeof(lx_sdk_path), "%s", env);
        return;
    }
    char dir[PATH_MAX + 32];
    const char *prefix = getenv("NPM_CONFIG_PREFIX");
    if (prefix == NULL || *prefix == 0) {
        prefix = getenv("npm_config_prefix");
    }
    if (prefix && *prefix) {
        snprintf(dir, sizeof(dir), "%s/lib/node_modules", prefix);
        lx_sdk_path_add(dir);
    }
    /* `npm config set prefix DIR` (npm's advice for global installs
     * without root) writes prefix=DIR to ~/.npmrc */
    const char *home = getenv("HOME");
    snprintf(dir, sizeof(dir), "%s/.npmrc", home ? home : "/nonexistent");
    FILE *rc = fopen(dir, "r");
    char line[PATH_MAX];
    while (rc && fgets(line, sizeof(line), rc)) {
        char *v = line + strspn(line, " \t");
        if (strncmp(v, "prefix", 6) != 0 || v[6 + strspn(v + 6, " \t")] != '=') {
            continue;
        }
        v += 6 + strspn(v + 6, " \t") + 1;
        v += strspn(v, " \t");
        v[strcspn(v, " \t\r\n")] = 0;
        if (v[0] == '~' && v[1] == '/' && home) {
            snprintf(dir, sizeof(dir), "%s/%s/lib/node_modules", home, v + 2);
        } else {
            snprintf(dir, sizeof(dir), "%s/lib/node_modules", v);
        }
        if (v[0] != 0) {
            lx_sdk_path_add(dir);
        }
    }
    if (rc) {
        fclose(rc);
    }
    const char *path = getenv("PATH");
    for (const char *p = path ? path : ""; *p;) {
        const char *end = strchr(p, ':');
        int n = (int)(end ? (size_t)(end - p) : strlen(p));
        char node[PATH_MAX];
        snprintf(dir, sizeof(dir), "%.*s/node", n, p);
        if (n > 0 && access(dir, X_OK) == 0 && realpath(dir, node) != NULL) {
            char *slash = strrchr(node, '/'); /* <prefix>/bin/node */
            if (slash) {
                *slash = 0;
                slash = strrchr(node, '/');
            }
            if (slash) {
                *slash = 0;
                snprintf(dir, sizeof(dir), "%s/lib/node_modules", node);
                lx_sdk_path_add(dir);
            }
            break;
        }
        p += n + (end ? 1 : 0);
    }
    lx_sdk_path_add("/usr/local/lib/node_modules");
    lx_sdk_path_add("/usr/lib/node_modules");
}

static void lx_env_release(struct lx_env *e)
{
    for (size_t i = 0; i < e->n; i++) {
        free(e->v[i]);
    }
    free(e->v);
}

/* Starts the process of a new sandbox (lock not held). Returns 0, -1 with
 * err set. */
static int lx_spawn(struct lx_sandbox *sb, const struct lambda_run *run, char *err, size_t errlen)
{
    char root[1000];
    if (lambda_zip_extract(run->code_hex, root, sizeof(root), err, errlen) != 0) {
        return -1;
    }
    char logdir[900];
    snprintf(logdir, sizeof(logdir), "%s/lambda/logs", emu_state_dir());
    mkdir(logdir, 0755);
    char logpath[1200];
    lambda_log_path(run->account, run->region, run->name, logpath, sizeof(logpath));
    sb->log_fd = open(logpath, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);

    const char *argv[6] = {0};
    char script[600];
    char memflag[64];
    char boot[1100];
    if (strncmp(run->runtime, "nodejs", 6) == 0) {
        snprintf(script, sizeof(script), "%s/node/runtime.js", lx_runtime_dir());
        /* the memory limit, as AWS's node runtime sets it: old space */
        snprintf(memflag, sizeof(memflag), "--max-old-space-size=%d",
                 run->memory > 64 ? run->memory * 9 / 10 : 64);
        argv[0] = "node";
        argv[1] = memflag;
        argv[2] = script;
    } else if (strncmp(run->runtime, "python", 6) == 0) {
        snprintf(script, sizeof(script), "%s/python/runtime.py", lx_runtime_dir());
        argv[0] = "python3";
        argv[1] = "-u";
        argv[2] = script;
    } else if (strncmp(run->runtime, "provided", 8) == 0) {
        snprintf(boot, sizeof(boot), "%s/bootstrap", root);
        if (access(boot, X_OK) != 0) {
            snprintf(err, errlen, "Couldn't find valid bootstrap(s): [/var/task/bootstrap]");
            return -1;
        }
        argv[0] = boot;
    } else {
        snprintf(err, errlen, "Unsupported runtime %s", run->runtime);
        return -1;
    }

    struct lx_env env = {0};
    for (char **e = environ; e && *e; e++) {
        if (strncmp(*e, "PATH=", 5) == 0 || strncmp(*e, "HOME=", 5) == 0 ||
            strncmp(*e, "LANG=", 5) == 0 || strncmp(*e, "PYENV", 5) == 0 ||
            strncmp(*e, "TMPDIR=", 7) == 0 || strncmp(*e, "LD_LIBRARY_PATH=", 16) == 0) {
            const char *eq = strchr(*e, '=');
            char k[64];
            size_t kl = (size_t)(eq - *e);
            if (kl < sizeof(k)) {
                memcpy(k, *e, kl);
                k[kl] = 0;
                lx_env_set(&env, k, eq + 1);
            }
        }
    }
    if (run->env_json != NULL) {
        cJSON *vars = cJSON_Parse(run->env_json);
        cJSON *it = NULL;
        cJSON_ArrayForEach(it, vars)
        {
            if (cJSON_IsString(it) && it->string != NULL && it->string[0] != 0 &&
                strchr(it->string, '=') == NULL) {
                lx_env_set(&env, it->string, it->valuestring);
            }
        }
        cJSON_Delete(vars);
    }
    char num[32];
    char api[200];
    /* the runtime reaches greenroom where it listens (loopback when it
     * listens on every address) */
    const char *host = emu_cfg.host;
    if (host[0] == 0 || strcmp(host, "0.0.0.0") == 0 || strchr(host, ':') != NULL) {
        host = "127.0.0.1";
    }
    snprintf(api, sizeof(api), "%s:%d/_greenroom/runtime/%s", host, emu_cfg.port, sb->id);
    lx_env_set(&env, "AWS_LAMBDA_RUNTIME_API", api);
    lx_env_set(&env, "AWS_LAMBDA_FUNCTION_NAME", run->name);
    lx_env_set(&env, "AWS_LAMBDA_FUNCTION_VERSION", run->version);
    snprintf(num, sizeof(num), "%d", run->memory);
    lx_env_set(&env, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", num);
    snprintf(num, sizeof(num), "%d", run->timeout);
    lx_env_set(&env, "AWS_LAMBDA_FUNCTION_TIMEOUT", num);
    lx_env_set(&env, "AWS_REGION", run->region);
    lx_env_set(&env, "AWS_DEFAULT_REGION", run->region);
    lx_env_set(&env, "LAMBDA_TASK_ROOT", root);
    char rdir[700];
    snprintf(rdir, sizeof(rdir), "%s", lx_runtime_dir());
    lx_env_set(&env, "LAMBDA_RUNTIME_DIR", rdir);
    lx_env_set(&env, "_HANDLER", run->handler);
    char execenv[128];
    snprintf(execenv, sizeof(execenv), "AWS_Lambda_%s", run->runtime);
    if (strncmp(run->runtime, "provided", 8) != 0) {
        lx_env_set(&env, "AWS_EXECUTION_ENV", execenv); /* as Lambda: not for OS-only runtimes */
    }
    if (strncmp(run->runtime, "nodejs", 6) == 0) {
        /* the SDK the runtime ships, after the function's own NODE_PATH
         * (node looks in the zip's node_modules before NODE_PATH, so the
         * function's own copy wins, as on Lambda) */
        pthread_once(&lx_sdk_once, lx_sdk_path_init);
        const char *own = lx_env_get(&env, "NODE_PATH");
        if (lx_sdk_path[0] != 0) {
            struct emu_buf np = {0};
            emu_buf_printf(&np, "%s%s%s", own && *own ? own : "", own && *own ? ":" : "",
                           lx_sdk_path);
            char *v = emu_buf_take(&np);
            lx_env_set(&env, "NODE_PATH", v);
            free(v);
        }
    }
    char group[200];
    snprintf(group, sizeof(group), "/aws/lambda/%s", run->name);
    lx_env_set(&env, "AWS_LAMBDA_LOG_GROUP_NAME", group);
    char stream[200];
    char today[32];
    emu_time_iso(today, emu_now());
    today[10] = 0;
    snprintf(stream, sizeof(stream), "%.4s/%.2s/%.2s/[%s]%s", today, today + 5, today + 8,
             run->version, sb->id);
    lx_env_set(&env, "AWS_LAMBDA_LOG_STREAM_NAME", stream);
    /* Credentials of the function's account: the default account's keys
     * are test/test; other accounts use their id as access key. */
    lx_env_set(&env, "AWS_ACCESS_KEY_ID",
               strcmp(run->account, EMU_DEFAULT_ACCOUNT) == 0 ? "test" : run->account);
    lx_env_set(&env, "AWS_SECRET_ACCESS_KEY", "test");
    lx_env_set(&env, "AWS_SESSION_TOKEN", "test");
    lx_env_set(&env, "AWS_ENDPOINT_URL", emu_base_url());
    lx_env_set(&env, "TZ", ":UTC");
    lx_env_set(&env, "PYTHONDONTWRITEBYTECODE", "1");

    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) {
        snprintf(err, errlen, "pipe: %s", strerror(errno));
        lx_env_release(&env);
        return -1;
    }
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 2);
    posix_spawn_file_actions_addchdir_np(&fa, root);
    posix_spawnattr_setflags(&attr,
                             POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    sigset_t none;
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&attr, &none);
    sigset_t def;
    sigemptyset(&def);
    sigaddset(&def, SIGPIPE);
    sigaddset(&def, SIGCHLD);
    sigaddset(&def, SIGTERM);
    sigaddset(&def, SIGINT);
    posix_spawnattr_setsigdefault(&attr, &def);
    pid_t pid = 0;
    int rc = posix_spawnp(&pid, argv[0], &fa, &attr, (char *const *)argv, env.v);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    lx_env_release(&env);
    close(fds[1]);
    if (rc != 0) {
        close(fds[0]);
        snprintf(err, errlen, "cannot start %s: %s", argv[0], strerror(rc));
        return -1;
    }
    fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK);
    sb->pipe_r = fds[0];
    sb->pid = pid;
    return 0;
}

/* Base64 decode (for X-Amz-Client-Context). Returns a new string or NULL. */
static char *lx_b64_decode(const char *in)
{
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t n = strlen(in);
    char *out = malloc(n / 4 * 3 + 4);
    if (out == NULL) {
        return NULL;
    }
    size_t o = 0;
    unsigned acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        if (in[i] == '=') {
            break;
        }
        const char *p = strchr(tbl, in[i]);
        if (p == NULL || in[i] == 0) {
            free(out);
            return NULL;
        }
        acc = (acc << 6) | (unsigned)(p - tbl);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (char)((acc >> bits) & 0xff);
        }
    }
    out[o] = 0;
    return out;
}

static double lx_mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Absolute CLOCK_REALTIME timespec for "now + seconds" (condvar waits). */
static void lx_abstime(struct timespec *ts, double seconds)
{
    clock_gettime(CLOCK_REALTIME, ts);
    double s = (double)ts->tv_sec + (double)ts->tv_nsec / 1e9 + seconds;
    ts->tv_sec = (time_t)s;
    ts->tv_nsec = (long)((s - (double)ts->tv_sec) * 1e9);
}

/* A signal as Lambda's Go runtime interface names it ("signal: killed"). */
static const char *lx_signal_name(int sig)
{
    switch (sig) {
    case SIGKILL:
        return "killed";
    case SIGABRT:
        return "aborted";
    case SIGSEGV:
        return "segmentation fault";
    case SIGTERM:
        return "terminated";
    case SIGBUS:
        return "bus error";
    case SIGILL:
        return "illegal instruction";
    case SIGFPE:
        return "floating point exception";
    case SIGINT:
        return "interrupt";
    default:
        return strsignal(sig);
    }
}

static void lx_set_result(struct lambda_result *out, enum lambda_fn_error e, const char *json)
{
    out->error = e;
    out->payload = strdup(json);
    out->payload_len = strlen(json);
}

/* ---------------------------------------------------------------- invoke */

int lambda_exec_invoke(const struct lambda_run *run, const char *payload, size_t len,
                       const char *client_context, struct lambda_result *out)
{
    memset(out, 0, sizeof(*out));
    char key[400];
    snprintf(key, sizeof(key), "%s/%s/%s/%s/%s", run->account, run->region, run->name, run->version,
             run->revision);
    struct lx_sandbox *sb = NULL;
    double start = lx_mono();
    double wait_limit = start + (run->timeout > 0 ? run->timeout : 3);
    int retried = 0;

again:
    sb = NULL;
    pthread_mutex_lock(&lx_mu);
    if (run->reserved >= 0) {
        /* reserved concurrency: as Lambda, refuse at once when every
         * reserved execution is busy (all versions of the function) */
        int busy = 0;
        for (struct lx_sandbox *s = lx_list; s; s = s->next) {
            busy += s->in_use && strcmp(s->account, run->account) == 0 &&
                    strcmp(s->region, run->region) == 0 && strcmp(s->name, run->name) == 0;
        }
        if (busy >= run->reserved) {
            pthread_mutex_unlock(&lx_mu);
            out->throttled = 1;
            return -1;
        }
    }
    for (;;) {
        int count = 0;
        for (struct lx_sandbox *s = lx_list; s; s = s->next) {
            if (strcmp(s->key, key) != 0 || s->state == LX_DEAD) {
                continue;
            }
            count++;
            if (!s->in_use && (sb == NULL || s->state == LX_READY)) {
                sb = s;
            }
        }
        if (sb != NULL) {
            break;
        }
        if (count < lx_max_per_key && !lx_stopping) {
            break;
        }
        struct timespec ts;
        lx_abstime(&ts, 0.05);
        pthread_cond_timedwait(&lx_freed, &lx_mu, &ts);
        if (lx_mono() > wait_limit || lx_stopping) {
            pthread_mutex_unlock(&lx_mu);
            out->throttled = 1;
            return -1;
        }
    }
    int fresh = 0;
    if (sb == NULL) {
        sb = calloc(1, sizeof(*sb));
        if (sb == NULL) {
            pthread_mutex_unlock(&lx_mu);
            out->failed = 1;
            lx_set_result(out, LAMBDA_UNHANDLED, "{\"errorMessage\":\"out of memory\"}");
            return -1;
        }
        emu_random_hex(sb->id, 32);
        sb->id[32] = 0;
        snprintf(sb->key, sizeof(sb->key), "%s", key);
        snprintf(sb->account, sizeof(sb->account), "%s", run->account);
        snprintf(sb->region, sizeof(sb->region), "%s", run->region);
        snprintf(sb->name, sizeof(sb->name), "%s", run->name);
        snprintf(sb->version, sizeof(sb->version), "%s", run->version);
        sb->state = LX_STARTING;
        sb->pipe_r = -1;
        sb->log_fd = -1;
        sb->exit_status = -1;
        sb->memory_kb = (long)(run->memory > 0 ? run->memory : 128) * 1024;
        pthread_cond_init(&sb->cond, NULL);
        sb->refs = 2; /* the list and this invoker */
        sb->listed = 1;
        sb->in_use = 1;
        sb->next = lx_list;
        lx_list = sb;
        fresh = 1;
    } else {
        sb->in_use = 1;
        sb->refs++;
    }
    pthread_mutex_unlock(&lx_mu);

    if (fresh) {
        char err[512] = "";
        int rc = lx_spawn(sb, run, err, sizeof(err));
        pthread_mutex_lock(&lx_mu);
        if (rc != 0) {
            sb->state = LX_DEAD;
            lx_unlist_locked(sb);
            lx_unref_locked(sb);
            pthread_cond_broadcast(&lx_freed);
            pthread_mutex_unlock(&lx_mu);
            cJSON *e = cJSON_CreateObject();
            cJSON_AddStringToObject(e, "errorType", "Runtime.InvalidEntrypoint");
            cJSON_AddStringToObject(e, "errorMessage", err);
            char *s = cJSON_PrintUnformatted(e);
            cJSON_Delete(e);
            lx_set_result(out, LAMBDA_UNHANDLED, s ? s : "{}");
            free(s);
            emu_warn("lambda: %s: %s", run->name, err);
            return 0;
        }
        sb->refs++; /* the reader thread */
        pthread_t th;
        if (pthread_create(&th, NULL, lx_reader, sb) != 0) {
            sb->refs--;
            lx_kill_locked(sb);
        } else {
            pthread_detach(th);
        }
        pthread_mutex_unlock(&lx_mu);
    }

    /* Post the invocation. */
    pthread_mutex_lock(&lx_mu);
    char id[37];
    emu_uuid(id);
    snprintf(sb->req_id, sizeof(sb->req_id), "%s", id);
    snprintf(sb->invoked_arn, sizeof(sb->invoked_arn), "%s", run->invoked_arn);
    sb->payload = payload;
    sb->payload_len = len;
    free(sb->client_context);
    sb->client_context = client_context && client_context[0] ? lx_b64_decode(client_context) : NULL;
    free(sb->result);
    sb->result = NULL;
    sb->result_len = 0;
    sb->done = 0;
    sb->error = LAMBDA_OK;
    sb->tail_len = 0;
    double timeout = run->timeout > 0 ? run->timeout : 3;
    sb->deadline = emu_now() + timeout;
    sb->timeout = timeout;
    sb->taken = 0;
    char line[300];
    snprintf(line, sizeof(line), "START RequestId: %s Version: %s\n", id, run->version);
    lx_log_locked(sb, line);
    sb->has_work = 1;
    pthread_cond_broadcast(&sb->cond);
    double t0 = lx_mono();
    int timed_out = 0;
    char died[300] = "";
    while (!sb->done && sb->state != LX_DEAD) {
        /* the function's Timeout runs from when its runtime takes the work;
         * a cold start (process start, imports) has LX_INIT_SECONDS more,
         * as Lambda's separate Init phase */
        double limit = sb->taken > 0 ? sb->taken + timeout : t0 + LX_INIT_SECONDS + timeout;
        double left = limit - lx_mono();
        if (left <= 0) {
            timed_out = 1;
            break;
        }
        struct timespec ts;
        lx_abstime(&ts, left);
        pthread_cond_timedwait(&sb->cond, &lx_mu, &ts);
    }
    if (!sb->done && !timed_out && sb->has_work && sb->init_error == NULL && !sb->oom && !retried) {
        /* The process died before it took the work (e.g. it exited right
         * after its previous answer): run it once more on a new sandbox. */
        sb->has_work = 0;
        sb->payload = NULL;
        sb->in_use = 0;
        lx_unlist_locked(sb);
        lx_unref_locked(sb);
        pthread_cond_broadcast(&lx_freed);
        pthread_mutex_unlock(&lx_mu);
        retried = 1;
        goto again;
    }
    double ms = (lx_mono() - t0) * 1000.0;
    sb->has_work = 0;
    sb->payload = NULL;
    sb->payload_len = 0;
    if (sb->done) {
        out->error = sb->error;
        out->payload = sb->result;
        out->payload_len = sb->result_len;
        sb->result = NULL;
        if (out->payload == NULL) {
            out->payload = strdup("null");
            out->payload_len = 4;
        }
    } else if (timed_out) {
        char iso[32];
        emu_time_iso(iso, emu_now());
        char msg[300];
        snprintf(msg, sizeof(msg), "{\"errorMessage\":\"%s %s Task timed out after %.2f seconds\"}",
                 iso, id, timeout);
        lx_set_result(out, LAMBDA_UNHANDLED, msg);
        lx_kill_locked(sb);
    } else if (sb->init_error != NULL) {
        out->error = LAMBDA_UNHANDLED;
        out->payload = sb->init_error;
        out->payload_len = strlen(sb->init_error);
        sb->init_error = NULL;
    } else {
        /* the runtime died: wait briefly for the reaper to say how */
        for (int i = 0; i < 20 && sb->exit_status == -1; i++) {
            struct timespec ts;
            lx_abstime(&ts, 0.01);
            pthread_cond_timedwait(&sb->cond, &lx_mu, &ts);
        }
        char how[96] = "Runtime exited without providing a reason";
        const char *type = "Runtime.ExitError";
        if (sb->exit_status != -1 && WIFEXITED(sb->exit_status)) {
            snprintf(how, sizeof(how), "Runtime exited with error: exit status %d",
                     WEXITSTATUS(sb->exit_status));
        } else if (sb->exit_status != -1 && WIFSIGNALED(sb->exit_status)) {
            snprintf(how, sizeof(how), "Runtime exited with error: signal: %s%s",
                     lx_signal_name(WTERMSIG(sb->exit_status)),
                     WCOREDUMP(sb->exit_status) ? " (core dumped)" : "");
        }
        if (sb->oom) {
            /* what Lambda answers when its memory cgroup killed the runtime */
            type = "Runtime.OutOfMemory";
            snprintf(how, sizeof(how), "Runtime exited with error: signal: killed");
        }
        char msg[300];
        snprintf(msg, sizeof(msg),
                 "{\"errorType\":\"%s\",\"errorMessage\":\"RequestId: %s Error: %s\"}", type, id,
                 how);
        lx_set_result(out, LAMBDA_UNHANDLED, msg);
        /* Lambda logs the same after the REPORT line */
        snprintf(died, sizeof(died), "RequestId: %s Error: %s\n%s\n", id, how, type);
    }
    if (sb->pipe_r >= 0) {
        lx_drain_locked(sb);
    }
    if (timed_out) {
        char iso[32];
        emu_time_iso(iso, emu_now());
        snprintf(line, sizeof(line), "%s %s Task timed out after %.2f seconds\n", iso, id, timeout);
        lx_log_locked(sb, line);
    }
    long peak = sb->pid > 0 ? lx_hwm_kb(sb->pid) : -1;
    if (peak < sb->peak_kb) {
        peak = sb->peak_kb;
    }
    snprintf(line, sizeof(line),
             "END RequestId: %s\nREPORT RequestId: %s\tDuration: %.2f ms\tBilled Duration: %d "
             "ms\tMemory Size: %d MB\tMax Memory Used: %d MB\t\n",
             id, id, ms, (int)ms + 1, run->memory, peak > 0 ? (int)((peak + 1023) / 1024) : 1);
    lx_log_locked(sb, line);
    if (died[0] != 0) {
        lx_log_locked(sb, died);
    }
    out->log_tail = malloc(sb->tail_len + 1);
    if (out->log_tail != NULL) {
        memcpy(out->log_tail, sb->tail, sb->tail_len);
        out->log_tail[sb->tail_len] = 0;
        out->log_tail_len = sb->tail_len;
    }
    sb->in_use = 0;
    sb->last_used = lx_mono();
    if (sb->state == LX_DEAD) {
        lx_unlist_locked(sb);
    }
    lx_unref_locked(sb);
    pthread_cond_broadcast(&lx_freed);
    pthread_mutex_unlock(&lx_mu);
    return 0;
}

void lambda_result_release(struct lambda_result *r)
{
    free(r->payload);
    free(r->log_tail);
    memset(r, 0, sizeof(*r));
}

void lambda_exec_drop(const char *account, const char *region, const char *name,
                      const char *version)
{
    pthread_mutex_lock(&lx_mu);
    for (struct lx_sandbox *sb = lx_list; sb; sb = sb->next) {
        if (sb->in_use) {
            continue;
        }
        if (name == NULL || (strcmp(sb->account, account) == 0 && strcmp(sb->region, region) == 0 &&
                             strcmp(sb->name, name) == 0 &&
                             (version == NULL || strcmp(sb->version, version) == 0))) {
            lx_kill_locked(sb);
        }
    }
    pthread_mutex_unlock(&lx_mu);
}

/* ------------------------------------------------------------ runtime API */

/* Answers the runtime's GET invocation/next: blocks until work arrives. */
static void lx_next(struct lx_sandbox *sb, struct emu_response *resp)
{
    /* lock held by the caller; returns with it held */
    if (sb->state == LX_STARTING || sb->state == LX_BUSY) {
        sb->state = LX_READY;
    }
    while (!sb->has_work && sb->state != LX_DEAD && !lx_stopping) {
        struct timespec ts;
        lx_abstime(&ts, 1.0);
        pthread_cond_timedwait(&sb->cond, &lx_mu, &ts);
    }
    if (!sb->has_work) {
        emu_fail_raw(resp, 410, "SandboxGone", "The sandbox is shutting down.");
        return;
    }
    sb->has_work = 0;
    sb->state = LX_BUSY;
    sb->taken = lx_mono();
    sb->deadline = emu_now() + sb->timeout;
    pthread_cond_broadcast(&sb->cond); /* the invoker's wait now ends at the deadline */
    emu_resp_body(resp, 200, "application/json", sb->payload_len ? sb->payload : "{}",
                  sb->payload_len ? sb->payload_len : 2);
    emu_resp_header(resp, "Lambda-Runtime-Aws-Request-Id", "%s", sb->req_id);
    emu_resp_header(resp, "Lambda-Runtime-Deadline-Ms", "%.0f", sb->deadline * 1000.0);
    emu_resp_header(resp, "Lambda-Runtime-Invoked-Function-Arn", "%s", sb->invoked_arn);
    emu_resp_header(resp, "Lambda-Runtime-Trace-Id",
                    "Root=1-00000000-000000000000000000000000;Sampled=0");
    if (sb->client_context != NULL) {
        emu_resp_header(resp, "Lambda-Runtime-Client-Context", "%s", sb->client_context);
    }
}

void lambda_runtime_api(struct emu_request *req, struct emu_response *resp)
{
    /* /_greenroom/runtime/{sid}/2018-06-01/runtime/{rest} */
    const char *p = req->path + strlen("/_greenroom/runtime/");
    const char *slash = strchr(p, '/');
    char sid[40];
    if (slash == NULL || (size_t)(slash - p) >= sizeof(sid)) {
        emu_fail_raw(resp, 404, "ResourceNotFoundException", "No such sandbox.");
        return;
    }
    memcpy(sid, p, (size_t)(slash - p));
    sid[slash - p] = 0;
    const char *rest = slash;
    if (strncmp(rest, "/2018-06-01/runtime/", 20) != 0) {
        emu_fail_raw(resp, 404, "ResourceNotFoundException", "Unknown Runtime API path.");
        return;
    }
    rest += 20;

    pthread_mutex_lock(&lx_mu);
    struct lx_sandbox *sb = lx_find_locked(sid);
    if (sb == NULL) {
        pthread_mutex_unlock(&lx_mu);
        emu_fail_raw(resp, 410, "SandboxGone", "No such sandbox.");
        return;
    }
    sb->refs++;
    if (strcmp(rest, "invocation/next") == 0 && strcmp(req->method, "GET") == 0) {
        lx_next(sb, resp);
    } else if (strcmp(rest, "init/error") == 0 && strcmp(req->method, "POST") == 0) {
        free(sb->init_error);
        sb->init_error = strdup(req->body_len ? req->body : "{\"errorType\":\"Runtime.Unknown\"}");
        lx_kill_locked(sb);
        emu_resp_body(resp, 202, "application/json", "{\"status\":\"OK\"}", 15);
    } else if (strncmp(rest, "invocation/", 11) == 0 && strcmp(req->method, "POST") == 0) {
        const char *rid = rest + 11;
        const char *s2 = strchr(rid, '/');
        int is_resp = s2 && strcmp(s2, "/response") == 0;
        int is_err = s2 && strcmp(s2, "/error") == 0;
        if ((!is_resp && !is_err) || (size_t)(s2 - rid) != strlen(sb->req_id) ||
            strncmp(rid, sb->req_id, (size_t)(s2 - rid)) != 0 || sb->done) {
            emu_fail_raw(resp, 400, "InvalidRequestID", "Invalid request ID");
        } else if (lx_over_memory_locked(sb)) {
            /* killed: the invoker answers Runtime.OutOfMemory */
            emu_fail_raw(resp, 410, "SandboxGone", "The runtime went past its MemorySize.");
        } else {
            free(sb->result);
            sb->result = malloc(req->body_len + 1);
            if (sb->result != NULL) {
                memcpy(sb->result, req->body ? req->body : "", req->body_len);
                sb->result[req->body_len] = 0;
                sb->result_len = req->body_len;
            }
            sb->error = LAMBDA_OK;
            if (is_resp && req->body_len > LX_MAX_RESPONSE) {
                free(sb->result);
                struct emu_buf b = {0};
                emu_buf_printf(&b,
                               "{\"errorMessage\":\"Response payload size (%zu bytes) exceeded "
                               "maximum allowed payload size (%d bytes).\",\"errorType\":"
                               "\"Function.ResponseSizeTooLarge\"}",
                               req->body_len, LX_MAX_RESPONSE);
                sb->result_len = b.len;
                sb->result = emu_buf_take(&b);
                sb->error = LAMBDA_UNHANDLED;
            }
            if (is_err) {
                const char *kind = emu_header(req, "x-greenroom-error-kind");
                sb->error =
                    kind && strcmp(kind, "Handled") == 0 ? LAMBDA_HANDLED : LAMBDA_UNHANDLED;
                if (req->body_len == 0) {
                    const char *t = emu_header(req, "lambda-runtime-function-error-type");
                    cJSON *e = cJSON_CreateObject();
                    cJSON_AddStringToObject(e, "errorType", t ? t : "Runtime.Unknown");
                    cJSON_AddStringToObject(e, "errorMessage", "Unknown error");
                    free(sb->result);
                    sb->result = cJSON_PrintUnformatted(e);
                    sb->result_len = sb->result ? strlen(sb->result) : 0;
                    cJSON_Delete(e);
                }
            }
            sb->done = 1;
            pthread_cond_broadcast(&sb->cond);
            emu_resp_body(resp, 202, "application/json", "{\"status\":\"OK\"}", 15);
        }
    } else {
        emu_fail_raw(resp, 404, "ResourceNotFoundException", "Unknown Runtime API path.");
    }
    lx_unref_locked(sb);
    pthread_mutex_unlock(&lx_mu);
}

/* ---------------------------------------------------------------- reaper */

static void *lx_reap(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&lx_mu);
    while (!lx_stopping) {
        struct timespec ts;
        lx_abstime(&ts, 1.0);
        pthread_cond_timedwait(&lx_freed, &lx_mu, &ts);
        double now = lx_mono();
        for (struct lx_sandbox *sb = lx_list; sb; sb = sb->next) {
            if (!sb->in_use && sb->state != LX_DEAD && sb->last_used > 0 &&
                now - sb->last_used > lx_idle) {
                lx_kill_locked(sb);
            }
        }
    }
    pthread_mutex_unlock(&lx_mu);
    return NULL;
}

int lambda_exec_start(void)
{
    const char *idle = getenv("GREENROOM_LAMBDA_IDLE_SECONDS");
    if (idle != NULL) {
        char *end = NULL;
        double v = strtod(idle, &end);
        if (end != idle && v > 0) {
            lx_idle = v;
        }
    }
    const char *poll_ms = getenv("GREENROOM_LAMBDA_MEMORY_POLL_MS");
    if (poll_ms != NULL) {
        char *end = NULL;
        long v = strtol(poll_ms, &end, 10);
        if (end != poll_ms && *end == 0 && v > 0 && v <= 600000) {
            lx_mem_poll_ms = (int)v;
        }
    }
    const char *conc = getenv("GREENROOM_LAMBDA_CONCURRENCY");
    if (conc != NULL) {
        char *end = NULL;
        long v = strtol(conc, &end, 10);
        if (end != conc && *end == 0 && v > 0 && v <= 1000) {
            lx_max_per_key = (int)v;
        }
    }
    pthread_mutex_lock(&lx_mu);
    lx_stopping = 0;
    pthread_mutex_unlock(&lx_mu);
    if (pthread_create(&lx_reaper, NULL, lx_reap, NULL) != 0) {
        return -1;
    }
    lx_reaper_running = 1;
    return 0;
}

void lambda_exec_stop(void)
{
    pthread_mutex_lock(&lx_mu);
    lx_stopping = 1;
    for (struct lx_sandbox *sb = lx_list; sb; sb = sb->next) {
        lx_kill_locked(sb);
    }
    pthread_cond_broadcast(&lx_freed);
    pthread_mutex_unlock(&lx_mu);
    if (lx_reaper_running) {
        pthread_join(lx_reaper, NULL);
        lx_reaper_running = 0;
    }
}
