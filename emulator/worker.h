/*
 * worker.h - a service's background worker: one thread that runs the
 * service's step function over and over, sleeping between steps until the
 * time the step asked for, a wake-up (emu_worker_wake) or the stop.
 *
 * Used by SNS (the delivery outbox), SQS (Lambda event source mappings) and
 * CloudWatch Events (the scheduler). Other threads may share the worker's
 * wake-ups: SQS long polls take emu_worker_generation() before looking for
 * messages and then emu_worker_wait() until a send wakes them.
 *
 * Ownership: the caller owns the struct (normally a static of the service,
 * set up with EMU_WORKER_INIT) and must keep it alive until emu_worker_stop
 * returned. The worker owns nothing the step hands it; `arg` is borrowed.
 * Fields are private to worker.c.
 */
#ifndef WORKER_H
#define WORKER_H

#include <pthread.h>

struct emu_worker {
    /* One step of the service's loop, on the worker thread, no lock held.
     * Returns the time (epoch seconds, emu_now()'s clock) to run again:
     * not after now (e.g. 0) to run again at once, after now to sleep until
     * then, or until a wake-up or the stop comes first. */
    double (*step)(void *arg);
    void *arg;
    pthread_mutex_t mu;  /* guards gen, stopping */
    pthread_cond_t cond; /* broadcast by wake and stop */
    unsigned long gen;   /* bumped by every wake */
    int stopping;        /* set by stop, cleared by start */
    int started;         /* the thread runs and needs a join */
    pthread_t thread;
};

/* Static initialiser: static struct emu_worker w = EMU_WORKER_INIT(step, NULL); */
#define EMU_WORKER_INIT(wstep, warg)                                                               \
    {                                                                                              \
        .step = (wstep), .arg = (warg), .mu = PTHREAD_MUTEX_INITIALIZER,                           \
        .cond = PTHREAD_COND_INITIALIZER                                                           \
    }

/* Clears the stop flag and starts the thread. Returns 0, or -1 when the
 * thread cannot be created or already runs (the caller logs it). */
int emu_worker_start(struct emu_worker *w);

/* Sets the stop flag, wakes every waiter (the thread and any
 * emu_worker_wait caller) and joins the thread when it runs. The step in
 * progress finishes first. Safe without a start and when called twice. */
void emu_worker_stop(struct emu_worker *w);

/* Wakes the thread (and every emu_worker_wait caller) now: something to do
 * was committed. Safe from any thread, with or without a running worker. */
void emu_worker_wake(struct emu_worker *w);

/* 1 once emu_worker_stop was called (until the next start) or greenroom is
 * shutting down (emu_stopping()); long loops in a step check it. */
int emu_worker_stopping(struct emu_worker *w);

/* The wake-up count: take it before looking for work, then pass it to
 * emu_worker_wait so a wake in between is not missed. */
unsigned long emu_worker_generation(struct emu_worker *w);

/* Blocks until a wake after `seen_gen` was taken, the stop, or `until`
 * (epoch seconds), whichever comes first. Returns at once when one of them
 * already happened. */
void emu_worker_wait(struct emu_worker *w, unsigned long seen_gen, double until);

#endif
