/*
 * worker.c - the background worker of worker.h: a thread that calls a
 * service's step, then sleeps on the worker's condition variable until the
 * time the step asked for, a wake-up or the stop.
 *
 * Invariants: gen and stopping change only under mu, and every change is
 * broadcast, so a waiter that took the generation before looking for work
 * never sleeps through a wake-up. The thread never holds mu while the step
 * runs (the step takes the store lock and may call other services, which may
 * wake this very worker).
 */
#include <errno.h>
#include <time.h>

#include "emu.h"
#include "worker.h"

/* The thread: step, then wait until the step's next time unless that is
 * already past. Returns NULL. */
static void *emu_worker_main(void *arg)
{
    struct emu_worker *w = arg;
    while (!emu_worker_stopping(w)) {
        unsigned long gen = emu_worker_generation(w);
        double next = w->step(w->arg);
        if (next > emu_now()) {
            emu_worker_wait(w, gen, next);
        }
    }
    return NULL;
}

int emu_worker_start(struct emu_worker *w)
{
    pthread_mutex_lock(&w->mu);
    if (w->started) {
        pthread_mutex_unlock(&w->mu);
        return -1;
    }
    w->stopping = 0;
    pthread_mutex_unlock(&w->mu);
    if (pthread_create(&w->thread, NULL, emu_worker_main, w) != 0) {
        return -1;
    }
    w->started = 1;
    return 0;
}

void emu_worker_stop(struct emu_worker *w)
{
    pthread_mutex_lock(&w->mu);
    w->stopping = 1;
    pthread_cond_broadcast(&w->cond);
    pthread_mutex_unlock(&w->mu);
    if (w->started) {
        pthread_join(w->thread, NULL);
        w->started = 0;
    }
}

void emu_worker_wake(struct emu_worker *w)
{
    pthread_mutex_lock(&w->mu);
    w->gen++;
    pthread_cond_broadcast(&w->cond);
    pthread_mutex_unlock(&w->mu);
}

int emu_worker_stopping(struct emu_worker *w)
{
    pthread_mutex_lock(&w->mu);
    int s = w->stopping;
    pthread_mutex_unlock(&w->mu);
    return s || emu_stopping();
}

unsigned long emu_worker_generation(struct emu_worker *w)
{
    pthread_mutex_lock(&w->mu);
    unsigned long g = w->gen;
    pthread_mutex_unlock(&w->mu);
    return g;
}

void emu_worker_wait(struct emu_worker *w, unsigned long seen_gen, double until)
{
    struct timespec ts;
    ts.tv_sec = (time_t)until;
    ts.tv_nsec = (long)((until - (double)ts.tv_sec) * 1e9);
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_nsec = 999999999L;
    }
    pthread_mutex_lock(&w->mu);
    while (w->gen == seen_gen && !w->stopping) {
        if (pthread_cond_timedwait(&w->cond, &w->mu, &ts) == ETIMEDOUT) {
            break;
        }
    }
    pthread_mutex_unlock(&w->mu);
}
