/*
 * Tests for issue #8: the node capacity queue (sim/engine/capacity.c), and bench's
 * arguments, SLO check, knee, JSON and SVG (sim/bench/), plus one small model-mode bench
 * end to end (determinism, a saturated bridge dropping messages).
 *
 * Expected start times are worked out by hand for small cases and, for random ones, by a
 * separate brute-force simulation of a FIFO multi-server queue (every worker's free time
 * in a plain array, the earliest found by a linear scan; waiting messages counted from the
 * full list of start times). Allocations of the capacity tests go through cmocka's
 * leak-checking allocator.
 *
 * usage: test_bench SCENARIO DIALECT_DIR
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bridgesim/common.h>

#include "bench/bench.h"
#include "engine/capacity.h"
#include "engine/queue.h"
#include "engine/rng.h"

static const char *scenario_path;
static const char *dialect_dir;

/* ---- allocator ------------------------------------------------------------------------ */

static int fail_after = -1; /* fail the allocation after this many more; -1: never */
static bool fail_all;       /* fail every allocation */

static bool should_fail(void)
{
    if (fail_all)
        return true;
    if (fail_after < 0)
        return false;
    return fail_after-- == 0;
}

static void *t_malloc(size_t n)
{
    return should_fail() ? NULL : test_malloc(n);
}

static void *t_calloc(size_t nmemb, size_t n)
{
    return should_fail() ? NULL : test_calloc(nmemb, n);
}

static void *t_realloc(void *p, size_t n)
{
    return should_fail() ? NULL : test_realloc(p, n);
}

static void t_free(void *p)
{
    test_free(p);
}

static const struct bs_allocator test_allocator = { t_malloc, t_calloc, t_realloc, t_free };

static int use_test_allocator(void **state)
{
    (void)state;
    bs_set_allocator(&test_allocator);
    return 0;
}

static int use_libc_allocator(void **state)
{
    (void)state;
    bs_set_allocator(NULL);
    return 0;
}

static int no_failures(void **state)
{
    (void)state;
    fail_after = -1;
    fail_all = false;
    return 0;
}

/* ---- the event queue's calendar (sim/engine/queue.c) ---------------------------------- */

struct qref {
    bs_time_us due;
    uint64_t id;
};

/* The reference: the earliest (due, id) among the live events, by a linear scan. */
static size_t qref_min(const struct qref *live, size_t n)
{
    size_t best = 0;

    for (size_t i = 1; i < n; i++)
        if (live[i].due < live[best].due ||
            (live[i].due == live[best].due && live[i].id < live[best].id))
            best = i;
    return best;
}

/* A delay like a run's: messages (ms), protocol timers (s), retention timers (minutes to
 * hours, some beyond the calendar's 2.4 h ring), and some exact ties. */
static bs_time_us run_like_delay(struct bs_rng *r)
{
    uint64_t u = bs_rng_below(r, 100);

    if (u < 10)
        return 0;
    if (u < 70)
        return (bs_time_us)bs_rng_below(r, 100000);
    if (u < 90)
        return (bs_time_us)bs_rng_below(r, 60 * BS_US_PER_SEC);
    if (u < 98)
        return (bs_time_us)bs_rng_below(r, 7200 * BS_US_PER_SEC);
    return (bs_time_us)bs_rng_below(r, 30000 * BS_US_PER_SEC);
}

/*
 * Interleaved pushes and pops as the engine makes them (new events at or after the clock),
 * with delays spanning the heap, the calendar and beyond it, and sometimes an event in
 * the past: every pop must be the reference's minimum, and peek must agree with pop.
 * With @fail_every, allocations fail now and then (a push may then fail; a pop never).
 */
static void queue_run(int fail_every)
{
    enum { OPS = 60000, MAXLIVE = 3000 };
    static struct qref live[MAXLIVE];
    struct bs_queue q;
    struct bs_event ev;
    struct bs_rng r;
    size_t nlive = 0;
    uint64_t next_id = 0, failed = 0;
    bs_time_us now = 1000000000;

    bs_rng_seed(&r, 11, fail_every ? "queue-calendar-enomem" : "queue-calendar");
    assert_int_equal(bs_queue_init(&q, 4), 0);
    for (int op = 0; op < OPS; op++) {
        /* Windows of 300 operations in which every allocation fails. */
        if (fail_every)
            fail_all = op % fail_every >= fail_every - 300;
        if (nlive < MAXLIVE && (nlive == 0 || bs_rng_below(&r, 100) < 52)) {
            bs_time_us due = now + run_like_delay(&r);
            int rc;
            if (bs_rng_below(&r, 200) == 0)
                due = now - 5 * BS_US_PER_SEC; /* late: must still pop first */
            memset(&ev, 0, sizeof(ev));
            ev.due = due;
            ev.cookie = next_id;
            rc = bs_queue_push(&q, &ev);
            if (rc == BS_ENOMEM && fail_every) {
                failed++;
                next_id++;
                continue;
            }
            assert_int_equal(rc, 0);
            live[nlive].due = due;
            live[nlive].id = next_id++;
            nlive++;
        } else {
            size_t best = qref_min(live, nlive);
            const struct bs_event *top = bs_queue_peek(&q);
            assert_non_null(top);
            if (top->due != live[best].due || top->cookie != live[best].id)
                fail_msg("op %d peek: (%lld, %llu), want (%lld, %llu)", op, (long long)top->due,
                         (unsigned long long)top->cookie, (long long)live[best].due,
                         (unsigned long long)live[best].id);
            assert_true(bs_queue_pop(&q, &ev));
            if (ev.due != live[best].due || ev.cookie != live[best].id)
                fail_msg("op %d pop: (%lld, %llu), want (%lld, %llu)", op, (long long)ev.due,
                         (unsigned long long)ev.cookie, (long long)live[best].due,
                         (unsigned long long)live[best].id);
            if (ev.due > now)
                now = ev.due;
            live[best] = live[--nlive];
        }
        assert_int_equal(q.n, nlive);
    }
    fail_all = false;
    while (nlive) {
        size_t best = qref_min(live, nlive);
        assert_true(bs_queue_pop(&q, &ev));
        assert_int_equal(ev.due, live[best].due);
        assert_int_equal(ev.cookie, live[best].id);
        live[best] = live[--nlive];
    }
    assert_false(bs_queue_pop(&q, &ev));
    assert_null(bs_queue_peek(&q));
    if (fail_every)
        assert_true(failed > 0);
    bs_queue_deinit(&q);
}

static void queue_calendar_order(void **state)
{
    (void)state;
    queue_run(0);
}

static void queue_calendar_out_of_memory(void **state)
{
    (void)state;
    queue_run(1000);
}

/* A slot's bucket that cannot move into the heap (no memory) still pops in order. */
static void queue_calendar_flush_fallback(void **state)
{
    struct bs_queue q;
    struct bs_event ev;
    struct bs_rng r;
    bs_time_us prev_due = -1;
    uint64_t prev_seq = 0;

    (void)state;
    bs_rng_seed(&r, 5, "flush-fallback");
    assert_int_equal(bs_queue_init(&q, 4), 0);
    memset(&ev, 0, sizeof(ev));
    ev.due = 0;
    assert_int_equal(bs_queue_push(&q, &ev), 0); /* into the heap; the calendar starts */
    for (int i = 0; i < 200; i++) {
        /* Slots 5 and 6, many ties: the heap of 4 cannot take a whole bucket. */
        ev.due = (5 << 17) + (bs_time_us)bs_rng_below(&r, 2 << 17) / 4096 * 4096;
        ev.cookie = (uint64_t)i;
        assert_int_equal(bs_queue_push(&q, &ev), 0);
    }
    fail_all = true;
    for (int i = 0; i < 201; i++) {
        const struct bs_event *top = bs_queue_peek(&q);
        bs_time_us top_due;
        uint64_t top_seq;
        assert_non_null(top);
        top_due = top->due; /* the pointer is only valid until the pop */
        top_seq = top->seq;
        assert_true(bs_queue_pop(&q, &ev));
        assert_int_equal(ev.due, top_due);
        assert_int_equal(ev.seq, top_seq);
        assert_true(ev.due > prev_due || (ev.due == prev_due && ev.seq > prev_seq) || i == 0);
        prev_due = ev.due;
        prev_seq = ev.seq;
    }
    assert_false(bs_queue_pop(&q, &ev));
    fail_all = false;
    bs_queue_deinit(&q);
}

/* Message buffers left in the calendar are freed by deinit (cmocka checks for leaks). */
static void queue_calendar_frees_buffers(void **state)
{
    struct bs_queue q;
    struct bs_event ev;

    (void)state;
    assert_int_equal(bs_queue_init(&q, 2), 0);
    for (int i = 0; i < 300; i++) {
        memset(&ev, 0, sizeof(ev));
        ev.due = (bs_time_us)i * 10 * BS_US_PER_SEC; /* one per slot, far apart */
        ev.kind = BS_EV_MESSAGE;
        ev.buf = bs_malloc(8);
        assert_non_null(ev.buf);
        assert_int_equal(bs_queue_push(&q, &ev), 0);
    }
    assert_true(bs_queue_pop(&q, &ev));
    assert_int_equal(ev.due, 0);
    bs_free(ev.buf);
    bs_queue_deinit(&q);
}

/* ---- capacity ------------------------------------------------------------------------- */

static bs_time_us admit(struct bs_capacity *c, bs_time_us at, bs_time_us service)
{
    bs_time_us start = -1;

    assert_int_equal(bs_capacity_admit(c, at, service, &start), 0);
    return start;
}

static void capacity_fifo_one_worker(void **state)
{
    struct bs_capacity *c;

    (void)state;
    assert_int_equal(bs_capacity_new(1, -1, &c), 0);
    /* Each waits for the one before: 0..10, 10..20, 20..30; the fourth finds it idle. */
    assert_int_equal(admit(c, 0, 10), 0);
    assert_int_equal(admit(c, 1, 10), 10);
    assert_int_equal(admit(c, 2, 10), 20);
    assert_int_equal(admit(c, 50, 10), 50);
    bs_capacity_free(c);
}

static void capacity_fifo_two_workers(void **state)
{
    struct bs_capacity *c;
    struct bs_capacity_stats st;

    (void)state;
    assert_int_equal(bs_capacity_new(2, -1, &c), 0);
    assert_int_equal(admit(c, 0, 10), 0); /* worker A until 10 */
    assert_int_equal(admit(c, 0, 30), 0); /* worker B until 30 */
    assert_int_equal(admit(c, 0, 5), 10); /* A is free first: 10..15 */
    assert_int_equal(admit(c, 1, 5), 15); /* A again: 15..20 (FIFO: after the third) */
    assert_int_equal(admit(c, 2, 1), 20); /* A: 20..21, B still busy until 30 */
    bs_capacity_get_stats(c, &st);
    assert_int_equal(st.admitted, 5);
    assert_int_equal(st.waited, 3);
    assert_int_equal(st.wait_total, 10 + 14 + 18);
    assert_int_equal(st.wait_max, 18);
    assert_int_equal(st.busy_total, 51);
    assert_int_equal(st.dropped, 0);
    bs_capacity_free(c);
}

static void capacity_drops_when_full(void **state)
{
    struct bs_capacity *c;
    struct bs_capacity_stats st;
    bs_time_us start = -1;

    (void)state;
    assert_int_equal(bs_capacity_new(1, 2, &c), 0);
    assert_int_equal(admit(c, 0, 10), 0);  /* served at once: does not wait */
    assert_int_equal(admit(c, 1, 10), 10); /* waiting: 1 */
    assert_int_equal(admit(c, 2, 10), 20); /* waiting: 2 = the limit */
    assert_int_equal(bs_capacity_waiting(c, 3), 2);
    assert_int_equal(bs_capacity_admit(c, 3, 10, &start), BS_ELIMIT);
    assert_int_equal(start, -1); /* not written on failure */
    /* At 10 the first waiting message starts: room for one more, which starts at 30. */
    assert_int_equal(bs_capacity_waiting(c, 10), 1);
    assert_int_equal(admit(c, 10, 10), 30);
    assert_int_equal(bs_capacity_admit(c, 11, 10, &start), BS_ELIMIT);
    bs_capacity_get_stats(c, &st);
    assert_int_equal(st.dropped, 2);
    assert_int_equal(st.admitted, 4);
    assert_int_equal(st.max_waiting, 2);
    bs_capacity_free(c);
}

static void capacity_zero_queue(void **state)
{
    struct bs_capacity *c;
    bs_time_us start;

    (void)state;
    /* No waiting room: an idle worker takes the message, a busy one means a drop. */
    assert_int_equal(bs_capacity_new(2, 0, &c), 0);
    assert_int_equal(admit(c, 0, 10), 0);
    assert_int_equal(admit(c, 5, 10), 5);
    assert_int_equal(bs_capacity_admit(c, 6, 10, &start), BS_ELIMIT);
    assert_int_equal(admit(c, 10, 10), 10); /* the first worker is free again at 10 */
    bs_capacity_free(c);
}

static void capacity_limits(void **state)
{
    struct bs_capacity *c = NULL;

    (void)state;
    assert_int_equal(bs_capacity_new(0, 10, &c), BS_EINVAL);
    assert_int_equal(bs_capacity_new(BS_CAPACITY_MAX_WORKERS + 1, 10, &c), BS_ELIMIT);
    assert_int_equal(bs_capacity_new(1, BS_CAPACITY_MAX_QUEUE + 1, &c), BS_ELIMIT);
    assert_null(c);
    bs_capacity_free(NULL);
}

/* The reference: a FIFO queue with @workers servers, simulated the obvious way. */
static void capacity_matches_brute_force(void **state)
{
    enum { N = 3000, W = 3, LIMIT = 4 };
    static bs_time_us starts[N];
    bs_time_us free_at[W] = { 0 };
    struct bs_capacity *c;
    struct bs_rng r;
    bs_time_us t = 0;
    size_t nstarts = 0, drops = 0;

    (void)state;
    bs_rng_seed(&r, 7, "capacity-test");
    assert_int_equal(bs_capacity_new(W, LIMIT, &c), 0);
    for (int i = 0; i < N; i++) {
        bs_time_us service = (bs_time_us)bs_rng_below(&r, 40), start, got;
        size_t best = 0, waiting = 0;
        int rc;

        t += (bs_time_us)bs_rng_below(&r, 12); /* about 3 workers' worth of load */
        for (size_t k = 1; k < W; k++)
            if (free_at[k] < free_at[best])
                best = k;
        start = free_at[best] > t ? free_at[best] : t;
        for (size_t k = 0; k < nstarts; k++)
            waiting += starts[k] > t;
        rc = bs_capacity_admit(c, t, service, &got);
        if (start > t && waiting >= LIMIT) {
            assert_int_equal(rc, BS_ELIMIT);
            drops++;
            continue;
        }
        assert_int_equal(rc, 0);
        assert_int_equal(got, start);
        free_at[best] = start + service;
        starts[nstarts++] = start;
    }
    assert_true(drops > 0); /* the load does overflow the queue sometimes */
    assert_true(nstarts > N / 2);
    bs_capacity_free(c);
}

/* ---- arguments ------------------------------------------------------------------------ */

static void parse_range(void **state)
{
    static double v[BS_BENCH_MAX_STEPS];
    char err[256];
    size_t n;

    (void)state;
    assert_int_equal(
        bs_bench_parse_range("500:20000:500", v, BS_BENCH_MAX_STEPS, &n, err, sizeof(err)), 0);
    assert_int_equal(n, 40);
    assert_true(v[0] == 500 && v[39] == 20000);
    assert_int_equal(
        bs_bench_parse_range("0.1:0.3:0.1", v, BS_BENCH_MAX_STEPS, &n, err, sizeof(err)), 0);
    assert_int_equal(n, 3); /* the end is kept despite 0.1 + 0.1 + 0.1 != 0.3 */
    assert_int_equal(bs_bench_parse_range("2000", v, BS_BENCH_MAX_STEPS, &n, err, sizeof(err)), 0);
    assert_int_equal(n, 1);
    assert_int_equal(bs_bench_parse_range("1:10", v, 8, &n, err, sizeof(err)), BS_EFORMAT);
    assert_int_equal(bs_bench_parse_range("10:1:1", v, 8, &n, err, sizeof(err)), BS_EFORMAT);
    assert_int_equal(bs_bench_parse_range("1:10:0", v, 8, &n, err, sizeof(err)), BS_EFORMAT);
    assert_int_equal(bs_bench_parse_range("a:10:1", v, 8, &n, err, sizeof(err)), BS_EFORMAT);
    assert_int_equal(bs_bench_parse_range("1:100:1", v, 8, &n, err, sizeof(err)), BS_ELIMIT);
}

static void parse_duration_and_slo(void **state)
{
    struct bs_bench_slo slo;
    bs_time_us d;
    char err[256];

    (void)state;
    assert_int_equal(bs_bench_parse_duration("30s", &d), 0);
    assert_int_equal(d, 30 * BS_US_PER_SEC);
    assert_int_equal(bs_bench_parse_duration("250ms", &d), 0);
    assert_int_equal(d, 250 * BS_US_PER_MS);
    assert_int_equal(bs_bench_parse_duration("2min", &d), 0);
    assert_int_equal(d, 120 * BS_US_PER_SEC);
    assert_int_equal(bs_bench_parse_duration("5", &d), 0);
    assert_int_equal(d, 5 * BS_US_PER_SEC);
    assert_int_equal(bs_bench_parse_duration("5 parsecs", &d), BS_EFORMAT);
    assert_int_equal(bs_bench_parse_duration("-1s", &d), BS_EFORMAT);

    assert_int_equal(bs_bench_parse_slo("p99=2000ms,success=99.5%", &slo, err, sizeof(err)), 0);
    assert_true(slo.has_p99 && slo.has_success && !slo.has_p50 && !slo.has_approval);
    assert_int_equal(slo.p99, 2000 * BS_US_PER_MS);
    assert_true(slo.success > 0.99499 && slo.success < 0.99501);
    assert_int_equal(bs_bench_parse_slo("p99.9=2s,p50=150,approval=0.9", &slo, err, sizeof(err)),
                     0);
    assert_int_equal(slo.p999, 2 * BS_US_PER_SEC);
    assert_int_equal(slo.p50, 150 * BS_US_PER_MS); /* a bare number is ms */
    assert_int_equal(bs_bench_parse_slo("p98=1s", &slo, err, sizeof(err)), BS_EFORMAT);
    assert_non_null(strstr(err, "p98"));
    assert_int_equal(bs_bench_parse_slo("success=101%", &slo, err, sizeof(err)), BS_EFORMAT);
    assert_int_equal(bs_bench_parse_slo("p99", &slo, err, sizeof(err)), BS_EFORMAT);
}

/* ---- SLO and knee --------------------------------------------------------------------- */

static struct bs_bench_step mkstep(double offered, int64_t p99_ms, double success)
{
    struct bs_bench_step s;

    memset(&s, 0, sizeof(s));
    s.offered_tps = offered;
    s.achieved_tps = offered;
    s.transactions = 1000;
    s.p50 = p99_ms * 500;
    s.p90 = p99_ms * 800;
    s.p99 = p99_ms * 1000;
    s.p999 = p99_ms * 1200;
    s.max = p99_ms * 2000;
    s.success_rate = success;
    s.approval_rate = success * 0.9;
    return s;
}

static void knee(void **state)
{
    struct bs_bench_slo slo;
    struct bs_bench_step s[5];
    char err[128];

    (void)state;
    assert_int_equal(bs_bench_parse_slo("p99=2000ms,success=99.5%", &slo, err, sizeof(err)), 0);
    s[0] = mkstep(500, 300, 0.999);
    s[1] = mkstep(1000, 400, 0.998);
    s[2] = mkstep(1500, 2000, 0.995); /* exactly on both bounds: meets them */
    s[3] = mkstep(2000, 2500, 0.999); /* p99 too high */
    s[4] = mkstep(2500, 900, 0.990);  /* success too low */
    assert_int_equal(bs_bench_knee(&slo, s, 5), 2);
    assert_true(s[0].meets_slo && s[1].meets_slo && s[2].meets_slo);
    assert_false(s[3].meets_slo || s[4].meets_slo);

    /* Not monotone: the highest step that meets the SLO is the knee, gaps and all. */
    s[4] = mkstep(2500, 900, 0.999);
    assert_int_equal(bs_bench_knee(&slo, s, 5), 4);

    /* None meets it; a step without transactions never does. */
    s[0] = mkstep(500, 5000, 0.5);
    s[1].transactions = 0;
    s[2] = mkstep(1500, 2001, 0.999);
    s[3] = mkstep(2000, 2500, 0.999);
    s[4].interrupted = true;
    assert_int_equal(bs_bench_knee(&slo, s, 5), -1);
    assert_int_equal(bs_bench_knee(&slo, s, 0), -1);

    /* Closed loop: the load is the concurrency. */
    s[0] = mkstep(900, 100, 1);
    s[0].concurrency = 64;
    s[1] = mkstep(950, 100, 1);
    s[1].concurrency = 32;
    assert_int_equal(bs_bench_knee(&slo, s, 2), 0);

    assert_true(bs_bench_is_error(NULL));
    assert_true(bs_bench_is_error("91"));
    assert_true(bs_bench_is_error("96"));
    assert_false(bs_bench_is_error("00"));
    assert_false(bs_bench_is_error("51"));
    assert_false(bs_bench_is_error("14"));
}

/* ---- JSON and SVG --------------------------------------------------------------------- */

static void fill_cfg(struct bs_bench_cfg *cfg)
{
    char err[128];

    memset(cfg, 0, sizeof(*cfg));
    cfg->scenario = "x.yaml";
    cfg->warmup = 5 * BS_US_PER_SEC;
    cfg->duration = 30 * BS_US_PER_SEC;
    assert_int_equal(bs_bench_parse_slo("p99=2000ms,success=99.5%", &cfg->slo, err, sizeof(err)),
                     0);
}

static void json_fields(void **state)
{
    static struct bs_bench_cfg cfg;
    static struct bs_bench_step steps[3];
    static const char *const step_keys[] = {
        "offered_tps", "achieved_tps", "approval_rate", "success_rate", "timeouts",
        "stand_ins",   "reversals",    "queue_drops",   "latency_ms",   "cpu_seconds",
        "peak_rss_kb", "meets_slo",    "transactions",  "errors",
    };
    static const char *const lat_keys[] = { "p50", "p90", "p99", "p99_9", "max" };
    struct bs_bench_result r;
    json_t *j, *arr, *k;

    (void)state;
    fill_cfg(&cfg);
    steps[0] = mkstep(500, 300, 0.999);
    steps[1] = mkstep(1000, 400, 0.998);
    steps[2] = mkstep(1500, 3000, 0.9);
    memset(&r, 0, sizeof(r));
    r.steps = steps;
    r.nsteps = 3;
    r.knee = bs_bench_knee(&cfg.slo, steps, 3);
    snprintf(r.scenario_name, sizeof(r.scenario_name), "test");
    j = bs_bench_json(&cfg, &r);
    assert_non_null(j);
    arr = json_object_get(j, "steps");
    assert_true(json_is_array(arr));
    assert_int_equal(json_array_size(arr), 3);
    for (size_t i = 0; i < 3; i++) {
        json_t *s = json_array_get(arr, i), *lat;
        for (size_t f = 0; f < sizeof(step_keys) / sizeof(step_keys[0]); f++) {
            if (!json_object_get(s, step_keys[f]))
                fail_msg("step %zu has no '%s'", i, step_keys[f]);
        }
        lat = json_object_get(s, "latency_ms");
        for (size_t f = 0; f < sizeof(lat_keys) / sizeof(lat_keys[0]); f++)
            assert_true(json_is_number(json_object_get(lat, lat_keys[f])));
    }
    assert_true(json_real_value(json_object_get(
                    json_object_get(json_array_get(arr, 1), "latency_ms"), "p99")) == 400.0);
    k = json_object_get(j, "knee");
    assert_true(json_is_object(k));
    assert_int_equal(json_integer_value(json_object_get(k, "step")), 1);
    assert_true(json_real_value(json_object_get(k, "offered_tps")) == 1000.0);
    assert_true(json_is_object(json_object_get(j, "slo")));
    json_decref(j);

    /* No knee: the field is there, and null. */
    steps[0] = mkstep(500, 3000, 0.999);
    steps[1] = mkstep(1000, 3000, 0.999);
    r.knee = bs_bench_knee(&cfg.slo, steps, 3);
    j = bs_bench_json(&cfg, &r);
    assert_true(json_is_null(json_object_get(j, "knee")));
    json_decref(j);
}

static void svg_well_formed(void **state)
{
    static struct bs_bench_cfg cfg;
    static struct bs_bench_step steps[4];
    struct bs_bench_result r;
    char *buf = NULL;
    size_t len = 0;
    FILE *f;

    (void)state;
    fill_cfg(&cfg);
    steps[0] = mkstep(500, 300, 0.999);
    steps[1] = mkstep(1000, 400, 0.998);
    steps[2] = mkstep(1500, 3000, 0.9);
    steps[3] = mkstep(2000, 0, 0.9); /* a zero latency must not break the log axis */
    memset(&r, 0, sizeof(r));
    r.steps = steps;
    r.nsteps = 4;
    r.knee = bs_bench_knee(&cfg.slo, steps, 4);
    snprintf(r.scenario_name, sizeof(r.scenario_name), "a<b&c");
    f = open_memstream(&buf, &len);
    assert_non_null(f);
    assert_int_equal(bs_bench_svg(&cfg, &r, f), 0);
    fclose(f);
    assert_non_null(strstr(buf, "<svg xmlns=\"http://www.w3.org/2000/svg\""));
    assert_non_null(strstr(buf, "</svg>\n"));
    assert_non_null(strstr(buf, "a&lt;b&amp;c")); /* text is escaped */
    assert_non_null(strstr(buf, "knee 1k tps"));
    assert_null(strstr(buf, "<script"));
    assert_null(strstr(buf, "nan"));
    assert_null(strstr(buf, "inf"));
    free(buf);

    /* One step, and no steps at all, still draw. */
    r.nsteps = 1;
    r.knee = bs_bench_knee(&cfg.slo, steps, 1);
    f = open_memstream(&buf, &len);
    assert_int_equal(bs_bench_svg(&cfg, &r, f), 0);
    fclose(f);
    assert_null(strstr(buf, "nan"));
    free(buf);
    r.nsteps = 0;
    r.knee = -1;
    f = open_memstream(&buf, &len);
    assert_int_equal(bs_bench_svg(&cfg, &r, f), 0);
    fclose(f);
    assert_null(strstr(buf, "nan"));
    free(buf);
}

/* ---- a real (small) model-mode bench -------------------------------------------------- */

static void small_cfg(struct bs_bench_cfg *cfg, const char *const *sets, size_t nsets)
{
    char err[128];

    memset(cfg, 0, sizeof(*cfg));
    cfg->scenario = scenario_path;
    cfg->sets = sets;
    cfg->nsets = nsets;
    cfg->dialect_dir = dialect_dir;
    cfg->out_dir = "/tmp";
    cfg->warmup = 1 * BS_US_PER_SEC;
    cfg->duration = 3 * BS_US_PER_SEC;
    cfg->drain = 40 * BS_US_PER_SEC;
    cfg->isolate = false;
    /* The scenario's lossy bridge link fails ~0.8 % of transactions (RC 91, after up to
     * 32 s) at any load: with a few hundred transactions per step that is the p99. */
    assert_int_equal(bs_bench_parse_slo("p90=2000ms,success=95%", &cfg->slo, err, sizeof(err)), 0);
}

static void model_bench_is_deterministic(void **state)
{
    static const char *const sets[] = { "signing.algorithm=none" };
    static struct bs_bench_cfg cfg;
    struct bs_bench_result a, b;
    char err[4096];

    (void)state;
    small_cfg(&cfg, sets, 1);
    cfg.rates[0] = 200;
    cfg.rates[1] = 400;
    cfg.nsteps = 2;
    assert_int_equal(bs_bench_run(&cfg, &a, err, sizeof(err)), 0);
    assert_int_equal(bs_bench_run(&cfg, &b, err, sizeof(err)), 0);
    assert_int_equal(a.nsteps, 2);
    for (size_t i = 0; i < 2; i++) {
        const struct bs_bench_step *x = &a.steps[i], *y = &b.steps[i];
        /* About rate × window transactions started in the window (Poisson: ± a few %). */
        assert_true(x->transactions > cfg.rates[i] * 3 * 0.8);
        assert_true(x->transactions < cfg.rates[i] * 3 * 1.2);
        assert_true(x->achieved_tps > cfg.rates[i] * 0.8);
        assert_true(x->p50 > 0 && x->p50 <= x->p90 && x->p90 <= x->p99 && x->p99 <= x->max);
        assert_int_equal(x->transactions, y->transactions);
        assert_int_equal(x->approved, y->approved);
        assert_int_equal(x->p99, y->p99);
        assert_int_equal(x->timeouts, y->timeouts);
        assert_memory_equal(&x->hist, &y->hist, sizeof(x->hist));
    }
    assert_string_equal(a.signing, "none");
    bs_bench_result_deinit(&a);
    bs_bench_result_deinit(&b);
}

static void saturated_bridge_drops(void **state)
{
    static const char *const sets[] = { "signing.algorithm=none", "bridge.workers=1",
                                        "bridge.queue_limit=4" };
    static struct bs_bench_cfg cfg;
    struct bs_bench_result r;
    char err[4096];

    (void)state;
    /* One worker at ~1.1 ms per message, two messages per transaction: ~450 tps at most. */
    small_cfg(&cfg, sets, 3);
    cfg.rates[0] = 100;
    cfg.rates[1] = 2000;
    cfg.nsteps = 2;
    assert_int_equal(bs_bench_run(&cfg, &r, err, sizeof(err)), 0);
    assert_int_equal(r.steps[0].queue_drops, 0);
    assert_true(r.steps[1].queue_drops > 100);
    assert_true(r.steps[1].timeouts > 100);
    assert_true(r.steps[1].reversals > 100);
    assert_true(r.steps[1].achieved_tps < 1000);
    assert_true(r.steps[1].success_rate < 0.9);
    assert_int_equal(r.knee, 0);
    bs_bench_result_deinit(&r);
}

static void closed_loop(void **state)
{
    static const char *const sets[] = { "signing.algorithm=none" };
    static struct bs_bench_cfg cfg;
    struct bs_bench_result r;
    char err[4096];

    (void)state;
    small_cfg(&cfg, sets, 1);
    cfg.closed = true;
    cfg.concurrency[0] = 10;
    cfg.concurrency[1] = 40;
    cfg.nsteps = 2;
    assert_int_equal(bs_bench_run(&cfg, &r, err, sizeof(err)), 0);
    /* Little's law: throughput ≈ terminals / latency, ~0.3 s end to end here; the typical
     * latency (p50), not the mean, which the rare 32 s timeouts inflate while they hold a
     * terminal mostly outside the short window. */
    for (size_t i = 0; i < 2; i++) {
        double expect = cfg.concurrency[i] / ((double)r.steps[i].p50 / 1e6);
        assert_int_equal(r.steps[i].concurrency, cfg.concurrency[i]);
        assert_true(r.steps[i].achieved_tps > expect * 0.8);
        assert_true(r.steps[i].achieved_tps < expect * 1.2);
    }
    assert_true(r.steps[1].achieved_tps > 3 * r.steps[0].achieved_tps);
    bs_bench_result_deinit(&r);
}

static void bad_scenario(void **state)
{
    static const char *const sets[] = { "bridge.workers=lots" };
    static struct bs_bench_cfg cfg;
    struct bs_bench_result r;
    char err[4096];

    (void)state;
    small_cfg(&cfg, sets, 1);
    cfg.rates[0] = 100;
    cfg.nsteps = 1;
    assert_int_equal(bs_bench_run(&cfg, &r, err, sizeof(err)), BS_EFORMAT);
    assert_non_null(strstr(err, "bridge.workers"));
}

int main(int argc, char **argv)
{
    const struct CMUnitTest queue[] = {
        cmocka_unit_test_setup(queue_calendar_order, no_failures),
        cmocka_unit_test_setup(queue_calendar_out_of_memory, no_failures),
        cmocka_unit_test_setup(queue_calendar_frees_buffers, no_failures),
        cmocka_unit_test_setup(queue_calendar_flush_fallback, no_failures),
    };
    const struct CMUnitTest capacity[] = {
        cmocka_unit_test_setup(capacity_fifo_one_worker, no_failures),
        cmocka_unit_test_setup(capacity_fifo_two_workers, no_failures),
        cmocka_unit_test_setup(capacity_drops_when_full, no_failures),
        cmocka_unit_test_setup(capacity_zero_queue, no_failures),
        cmocka_unit_test_setup(capacity_limits, no_failures),
        cmocka_unit_test_setup(capacity_matches_brute_force, no_failures),
    };
    const struct CMUnitTest report[] = {
        cmocka_unit_test(parse_range),
        cmocka_unit_test(parse_duration_and_slo),
        cmocka_unit_test(knee),
        cmocka_unit_test(json_fields),
        cmocka_unit_test(svg_well_formed),
    };
    const struct CMUnitTest runs[] = {
        cmocka_unit_test(model_bench_is_deterministic),
        cmocka_unit_test(saturated_bridge_drops),
        cmocka_unit_test(closed_loop),
        cmocka_unit_test(bad_scenario),
    };
    int failed = 0;

    if (argc != 3) {
        fprintf(stderr, "usage: test_bench SCENARIO DIALECT_DIR\n");
        return 2;
    }
    scenario_path = argv[1];
    dialect_dir = argv[2];
    failed += cmocka_run_group_tests_name("event queue calendar", queue, use_test_allocator,
                                          use_libc_allocator);
    failed +=
        cmocka_run_group_tests_name("capacity", capacity, use_test_allocator, use_libc_allocator);
    failed += cmocka_run_group_tests_name("bench report", report, NULL, NULL);
    failed += cmocka_run_group_tests_name("bench runs", runs, NULL, NULL);
    return failed ? 1 : 0;
}
