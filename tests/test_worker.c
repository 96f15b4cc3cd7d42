/*
 * test_worker.c - the background worker (emulator/worker.c) in-process,
 * with a counting step instead of a service: start runs the step and a step
 * due at once runs again at once; a wake runs a sleeping step long before
 * its time; a timed wait ends when due and not before; stop joins while the
 * thread waits and is safe without a start (and twice); a worker starts
 * again after a stop; other threads share the wake-ups through
 * emu_worker_generation/emu_worker_wait. Deadlines below only bound the
 * tests (they are far beyond what a pass needs); nothing asserts a speed.
 */
#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "emu.h"
#include "testkit.h"
#include "worker.h"

/* What the step does and saw; shared with the worker thread. */
static atomic_int calls;        /* how many times the step ran */
static _Atomic double delay;    /* each step asks to run again this much later */
static _Atomic double last_due; /* the time the last step asked for */
static _Atomic double early;    /* > 0: a step ran before the time it asked for */

static double count_step(void *arg)
{
    (void)arg;
    double now = emu_now();
    double due = last_due;
    if (due > 0 && now < due - 0.001) { /* a wake, or a timed wait ended early */
        early = now;
    }
    calls++;
    double next = delay > 0 ? now + delay : 0;
    last_due = next;
    return next;
}

static struct emu_worker worker = EMU_WORKER_INIT(count_step, NULL);

static void setup(void)
{
    calls = 0;
    delay = 3600;
    last_due = 0;
    early = 0;
}

static void teardown(void)
{
    emu_worker_stop(&worker);
}

/* Waits (at most `seconds`) until the step ran at least n times. Returns 1
 * when it did. */
static int wait_calls(int n, double seconds)
{
    double end = emu_now() + seconds;
    while (calls < n && emu_now() < end) {
        struct timespec ts = {0, 5000000};
        nanosleep(&ts, NULL);
    }
    return calls >= n;
}

START_TEST(test_start)
{
    /* the first step runs at once; a step asking for "now" runs again */
    delay = 0;
    ck_assert_int_eq(emu_worker_start(&worker), 0);
    ck_assert_int_eq(emu_worker_start(&worker), -1); /* already runs */
    ck_assert(wait_calls(50, 20));
    ck_assert_int_eq(emu_worker_stopping(&worker), 0);
}
END_TEST

START_TEST(test_wake)
{
    /* the step sleeps an hour; each wake runs it again */
    ck_assert_int_eq(emu_worker_start(&worker), 0);
    ck_assert(wait_calls(1, 20));
    for (int i = 2; i <= 4; i++) {
        unsigned long g = emu_worker_generation(&worker);
        emu_worker_wake(&worker);
        ck_assert_uint_eq(emu_worker_generation(&worker), g + 1);
        ck_assert(wait_calls(i, 20));
    }
    ck_assert(emu_now() < last_due);
}
END_TEST

START_TEST(test_timed_wait)
{
    /* no wake: the step runs again when due, never before */
    delay = 0.2;
    ck_assert_int_eq(emu_worker_start(&worker), 0);
    ck_assert(wait_calls(4, 20));
    ck_assert(early == 0);
}
END_TEST

START_TEST(test_stop)
{
    /* stop ends the hour-long wait and joins the thread */
    ck_assert_int_eq(emu_worker_start(&worker), 0);
    ck_assert(wait_calls(1, 20));
    double t0 = emu_now();
    emu_worker_stop(&worker);
    ck_assert(emu_now() - t0 < 60);
    ck_assert_int_eq(emu_worker_stopping(&worker), 1);
    int n = calls;
    emu_worker_wake(&worker); /* no thread: nothing runs, nothing breaks */
    struct timespec ts = {0, 50000000};
    nanosleep(&ts, NULL);
    ck_assert_int_eq(calls, n);
    emu_worker_stop(&worker); /* twice is fine */
}
END_TEST

START_TEST(test_stop_without_start)
{
    emu_worker_stop(&worker);
    ck_assert_int_eq(emu_worker_stopping(&worker), 1);
    emu_worker_stop(&worker);
    ck_assert_int_eq(calls, 0);
    /* a wait after the stop returns at once */
    emu_worker_wait(&worker, emu_worker_generation(&worker), emu_now() + 3600);
    /* and the worker still starts (and stops) afterwards */
    ck_assert_int_eq(emu_worker_start(&worker), 0);
    ck_assert_int_eq(emu_worker_stopping(&worker), 0);
    ck_assert(wait_calls(1, 20));
    emu_worker_stop(&worker);
    ck_assert_int_eq(emu_worker_start(&worker), 0);
    ck_assert(wait_calls(2, 20));
}
END_TEST

/* A waiter outside the worker (as SQS's long polls): returns when woken. */
static atomic_int waiter_done;

static void *waiter_main(void *arg)
{
    unsigned long gen = *(unsigned long *)arg;
    emu_worker_wait(&worker, gen, emu_now() + 3600);
    waiter_done = 1;
    return NULL;
}

START_TEST(test_wait)
{
    /* a wake taken before the wait is not missed */
    unsigned long g = emu_worker_generation(&worker);
    emu_worker_wake(&worker);
    emu_worker_wait(&worker, g, emu_now() + 3600);
    /* a due time already past returns at once */
    emu_worker_wait(&worker, emu_worker_generation(&worker), emu_now() - 1);
    /* other threads share the wake-ups (no worker thread needed) */
    waiter_done = 0;
    g = emu_worker_generation(&worker);
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, waiter_main, &g), 0);
    struct timespec ts = {0, 50000000};
    nanosleep(&ts, NULL);
    emu_worker_wake(&worker);
    pthread_join(t, NULL);
    ck_assert_int_eq(waiter_done, 1);
    /* and the stop ends them too */
    waiter_done = 0;
    g = emu_worker_generation(&worker);
    ck_assert_int_eq(pthread_create(&t, NULL, waiter_main, &g), 0);
    nanosleep(&ts, NULL);
    emu_worker_stop(&worker);
    pthread_join(t, NULL);
    ck_assert_int_eq(waiter_done, 1);
}
END_TEST

int main(void)
{
    const struct kit_case cases[] = {
        {"start", test_start, NULL},
        {"wake", test_wake, NULL},
        {"timed_wait", test_timed_wait, NULL},
        {"stop", test_stop, NULL},
        {"stop_without_start", test_stop_without_start, NULL},
        {"wait", test_wait, NULL},
    };
    return KIT_RUN("worker", cases, setup, teardown, 60);
}
