/*
 * rehearse_int.h - what rehearse.c (the command: cases, invariants,
 * reports) and rehearse_run.c (what it runs on: greenroom's control plane,
 * its own greenrooms, the deploy children, the temp dir, signals and the
 * parallel workers) share. Not a contract for anyone else.
 *
 * Ownership: cJSON * and char * results are new (the caller deletes/frees);
 * struct rh is the caller's, the functions only use it.
 */
#ifndef REHEARSE_INT_H
#define REHEARSE_INT_H

#include <limits.h>
#include <sys/types.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "rehearse.h"
#include "txn.h"

/* Harness errors: a case whose outcome is rehearse's own infrastructure
 * failing, not the deploy under test (record: "result":"error",
 * "harnessError": one of these, "detail"). */
#define RH_HARNESS_WORKER "worker died"
#define RH_HARNESS_SETUP "worker setup failed"
#define RH_HARNESS_START "greenroom failed to start"
#define RH_HARNESS_CLONE "greenroom clone failed to start"
#define RH_HARNESS_RESTORE "snapshot restore failed"
#define RH_HARNESS_FAULT "fault rule install failed"
#define RH_HARNESS_RESTART "greenroom restart failed"
#define RH_HARNESS_CAPTURE "state capture failed"
#define RH_HARNESS_DIED "greenroom died"
#define RH_HARNESS_GONE "greenroom unreachable"

/* 1 when a case record (or its "result") is a harness error. */
int rh_is_harness_error(const cJSON *rec);
int rh_is_harness_error_str(const char *result);

/* Upper bound of --jobs. */
#define RH_MAX_JOBS 32

/* One rehearsal (one per process: each worker has its copy). */
struct rh {
    struct dep_ctx *c;
    char url[512];       /* greenroom base URL */
    char self[PATH_MAX]; /* the stagehand binary */
    char src[PATH_MAX];  /* the project */
    char tmp[PATH_MAX];  /* temp dir: project copy + saved _meta */
    char work[PATH_MAX + 16];
    char saved_meta[PATH_MAX + 16];
    char log[PATH_MAX + 16];
    int v05;
    int attempts;
    int kinds[RH_NKINDS];
    int only_k;
    int only_kind;
    long max_cases;
    unsigned long seed;
    const char *junit;
    char watch[8][64];
    int n_watch;
    CURL *curl;
    const char *greenroom;   /* --greenroom BIN: rehearse runs (and restarts) its own */
    char found_gr[PATH_MAX]; /* the greenroom binary found when no endpoint was given */
    pid_t gr_pid;
    int gr_port;
    char gr_state[PATH_MAX + 16];
    int jobs;        /* parallel workers, each with its own greenroom */
    int kinds_given; /* --kinds named the kinds */
    int clone;       /* greenroom is the --endpoint-url one's binary; workers run its clones */
    cJSON *gr_args;  /* extra options of our greenrooms (a clone's: the source's), or NULL */
    char src_state[PATH_MAX]; /* the cloned greenroom's state dir */
    cJSON *gr_env;            /* a clone's GREENROOM_* environment (the source's), or NULL: ours */
    /* This run's name: stagehand-rehearse-<host>-<pid>-<random>, the
     * pre-deploy snapshot's name and the prefix of its fault rule ids. */
    char name[128];
    int snap_made; /* the snapshot "name" exists on r->url's greenroom */
    int turn_fd;   /* the shared greenroom's turn (flock), valid when turn_held */
    int turn_held;
};
/* A case: call ordinal k (1-based) and fault kind. */
struct rh_case {
    int k;
    int kind;
};

/* A sweep for rh_run_parallel: the cases, and how one runs (in a worker:
 * appends its record to out) and how a finished record is printed. */
struct rh_sweep {
    const struct rh_case *todo;
    int nt;
    void (*run)(struct rh *r, const struct rh_case *c, cJSON *out, void *ud);
    void (*print)(const cJSON *rec);
    /* names the faulted call (service, operation, resource) in the record
     * of a case no worker ran to its end; may be NULL */
    void (*label)(const struct rh_case *c, cJSON *rec, void *ud);
    void *ud;
};

/* --- greenroom's control plane (plain unsigned HTTP on r->url) */

/* One request; *out (may be NULL) gets the parsed JSON answer. Returns the
 * HTTP status, -1 when no answer came. */
long rh_ctl(struct rh *r, const char *method, const char *path, const char *body, cJSON **out);
/* The journal's last call number, -1 on failure. */
long rh_last_seq(struct rh *r);
/* The calls after seq (faults_only: those a fault rule hit), NULL on failure. */
cJSON *rh_calls(struct rh *r, long seq, int faults_only);

/* --- signals and children */

/* Catch SIGINT/SIGTERM/SIGHUP: rh_stopped() then returns the signal and the
 * waits below give up (killing what they wait for). */
void rh_catch_signals(void);
int rh_stopped(void);
/* Run argv with stdout/stderr to /dev/null; its exit code, -1. */
int rh_run_quiet(char *const argv[]);
/* Start a child in r->work: command "deploy", "recover" (stagehand) or "v05"
 * (the six-command flow through sh); own process group, output to r->log,
 * dies with us; call_timeout_ms > 0 sets STAGEHAND_CALL_TIMEOUT_MS. Its pid
 * or -1. */
pid_t rh_spawn(struct rh *r, const char *command, const char *stage, long call_timeout_ms);
/* Wait for a child (killed after limit_s): its exit code, 128+signal when
 * killed, -1 when interrupted (rh_stopped) or on error. */
int rh_wait(pid_t pid, int limit_s);
/* rh_spawn + rh_wait (120 s). */
int rh_run(struct rh *r, const char *command, const char *stage);

/* --- files */

/* Remove a tree (0 also when absent) / the project copy's _meta <-> the
 * saved pre-deploy _meta. 0 or -1. */
int rh_rm_tree(const char *path);
int rh_meta_restore(struct rh *r);
int rh_meta_save(struct rh *r);
/* $TMPDIR, else /dev/shm when a writable tmpfs with room, else /tmp. */
const char *rh_tmp_base(void);
/* Make <base>/stagehand-rehearse-<pid>-XXXXXX into out, first removing the
 * temp dirs of killed rehearse runs. 0 or -1 (errno). */
int rh_make_tmp(char *out, size_t n);

/* --- rehearse's own greenrooms */

/* 1 and its path when a greenroom binary is beside stagehand, in the build
 * tree (../emulator/greenroom) or on PATH. */
int rh_find_greenroom(char *out, size_t n);
/* Start r->greenroom on r->gr_state (port 0: any) with r->gr_args and,
 * when r->gr_env is set, exactly its GREENROOM_* variables (ours unset);
 * sets r->url, r->gr_pid, r->gr_port and the transport's endpoint. 0 when
 * it answers health. */
int rh_gr_up(struct rh *r, int port);
/* Stop it (SIGTERM, then SIGKILL); reap it after a crash. */
void rh_gr_down(struct rh *r);
/* After a crash: bring it back on the same state (same port if it can). */
int rh_gr_restart(struct rh *r);
/* After a case that failed: NULL when the case's greenroom is alive, else
 * RH_HARNESS_DIED (our own died; it is restarted) or RH_HARNESS_GONE (it
 * does not answer health), with what happened in why. */
const char *rh_gr_gone(struct rh *r, char *why, size_t n);

/* --- clones of an --endpoint-url greenroom on this machine */

/* When r->url's greenroom runs here (loopback, and its health names a
 * binary we can run and a state dir we can read): r->greenroom (in
 * r->found_gr), r->gr_args, r->gr_env (its GREENROOM_* variables, when its
 * health tells them) and r->src_state are set to start equivalent
 * greenrooms. Returns 1 then, else 0. */
int rh_clone_probe(struct rh *r);
/* Make r->gr_state (under r->tmp) a greenroom state holding the source's
 * snapshot name, as its state and as snapshot name. 0 or -1. */
int rh_clone_template(struct rh *r, const char *name);

/* --- a greenroom shared with other rehearse runs */

/* Fill r->name: stagehand-rehearse-<host>-<pid>-<random> (host: this
 * machine's name, [A-Za-z0-9.-] kept, the rest '_', at most 40). */
void rh_name_init(struct rh *r);
/* Wait for (and take) the turn on r->url's greenroom: an exclusive flock
 * on its state dir when it runs here (else on /tmp/stagehand-rehearse.turn-
 * <hash of the URL>); the runs against one greenroom take turns for what
 * they do on it. Says so on stderr when it has to wait. 0, -1 when
 * interrupted (rh_stopped) or the lock cannot be had. */
int rh_turn_take(struct rh *r);
/* Give the turn up (no-op when not held). */
void rh_turn_give(struct rh *r);
/* Delete r->url's snapshots left by rehearse runs of this machine that
 * are gone (stagehand-rehearse-<our host>-<pid>-... whose pid no process
 * has): a killed run cannot delete its own. Returns how many. */
int rh_snap_sweep_stale(struct rh *r);

/* --- the parallel sweep */

/* Run sw's cases on r->jobs worker processes, each with its own greenroom
 * started on a copy of the stopped primary's state (r->gr_state, holding
 * the pre-deploy snapshot); records go to cases in case order, printed
 * (human) as soon as they are contiguous. 0, -1 when no worker started. */
int rh_run_parallel(struct rh *r, const struct rh_sweep *sw, cJSON *cases, int human);

#endif
