/*
 * The libuv engine's clock (issue #5 §8): in real time a node's now is the clock when its
 * event really runs, not the time the event was due, so a loop that falls behind shows the
 * lag in every latency and in every timer started from then on; an event still never runs
 * before its due time.
 *
 * The test stalls the loop for STALL_MS inside the first arrival (the observer's start hook
 * runs in the engine's thread) and compares the transaction's end-to-end latency, as the
 * terminal measured it from its own now, with a run without the stall. Had dispatch set now
 * to the due time, both runs would report the same latency (the draws are seeded and the
 * scenario's delays constant).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "engine/world.h"
#include "scenario/scenario.h"

#define STALL_MS 60

static double mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

struct obs {
    bool stall, stalled;
    bs_time_us started, finished;
};

static void on_start(void *ctx, bs_time_us at)
{
    struct obs *o = ctx;
    double until = mono_ms() + STALL_MS;

    (void)at;
    if (!o->stall || o->stalled)
        return;
    o->stalled = true;
    while (mono_ms() < until)
        ;
}

static void on_outcome(void *ctx, uint32_t flow, const char *rc, bs_time_us started, bs_time_us now)
{
    struct obs *o = ctx;

    (void)flow;
    (void)rc;
    o->started = started;
    o->finished = now;
}

/* One payment of realtime-timers.yaml (delays constant); its latency in µs. */
static bs_time_us one_payment(bool stall)
{
    const char *sets[] = { "workload.count=1", "time.drain=1200ms",
                           "networks.shetab.issuers.0.processing.value=20ms" };
    char err[4096], out[256];
    struct bs_scenario *sc = NULL;
    struct bs_world *w = NULL;
    struct bs_run_opts ro = { 0 };
    struct bs_run_observer ob = { 0 };
    struct bs_run_result r;
    struct obs o = { .stall = stall };
    bs_time_us lat;

    if (bs_scenario_load(BS_SOURCE_DIR "/tests/scenario/data/realtime-timers.yaml", sets, 3, &sc,
                         err, sizeof(err)) != 0)
        fail_msg("scenario: %s", err);
    sc->realtime = true;
    snprintf(out, sizeof(out), "/tmp/bs-test-realtime-%ld", (long)getpid());
    ro.out_dir = out;
    ro.dialect_dir = BS_SOURCE_DIR "/configs/dialects";
    ro.realtime = true;
    ob.ctx = &o;
    ob.start = on_start;
    ob.outcome = on_outcome;
    ro.observer = &ob;
    if (bs_world_new(sc, &ro, &w, err, sizeof(err)) != 0)
        fail_msg("world: %s", err);
    assert_int_equal(bs_world_run(w), 0);
    bs_world_result(w, &r);
    assert_int_equal(r.total->finished, 1);
    assert_int_equal(r.total->approved, 1);
    assert_false(r.interrupted);
    lat = o.finished - o.started;
    /* The terminal's own measure (from its now) and the observer's agree. */
    assert_int_equal((long long)r.total->latency.max, (long long)lat);
    assert_int_equal(stall, o.stalled);
    bs_world_free(w);
    bs_scenario_free(sc);
    rmdir(out);
    return lat;
}

static void lag_shows_in_latency(void **state)
{
    bs_time_us base, lagged;

    (void)state;
    base = one_payment(false);
    lagged = one_payment(true);
    print_message("latency without stall %.3f ms, with a %d ms stall %.3f ms\n", (double)base / 1e3,
                  STALL_MS, (double)lagged / 1e3);
    /* The stall delays every later event; less the first hop's latency, which elapsed
     * during it: at least half of it must show. */
    assert_true(lagged >= base + STALL_MS / 2 * 1000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(lag_shows_in_latency),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
