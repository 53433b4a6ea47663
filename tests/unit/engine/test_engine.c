/*
 * Unit tests for the simulator's engine pieces: the event queue (sim/engine/queue.c), the
 * seeded PRNG streams (sim/engine/rng.c) and the latency histogram (sim/report/hist.c).
 *
 * The queue must pop in (due, seq) order so that equal deadlines fire in the order they
 * were scheduled and a seed replays bit for bit (GUIDE §2). Expected orders are computed
 * here independently (insertion-ordered reference lists); generator outputs are compared
 * with values computed by a separate Python implementation of splitmix64/xoshiro256**.
 *
 * Allocations go through cmocka's test_malloc(), so the queue's buffers and owned message
 * buffers are leak-checked.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <bridgesim/common.h>

#include "engine/linkcap.h"
#include "engine/queue.h"
#include "engine/rng.h"
#include "report/hist.h"

/* ---- allocator ------------------------------------------------------------------------ */

static int fail_after = -1;

static bool should_fail(void)
{
    if (fail_after < 0)
        return false;
    if (fail_after-- == 0) {
        fail_after = -1;
        return true;
    }
    return false;
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

static int reset(void **state)
{
    (void)state;
    fail_after = -1;
    return 0;
}

/* ---- queue ---------------------------------------------------------------------------- */

static struct bs_event ev_at(bs_time_us due, uint64_t id)
{
    struct bs_event ev;

    memset(&ev, 0, sizeof(ev));
    ev.due = due;
    ev.kind = BS_EV_TIMER;
    ev.cookie = id;
    return ev;
}

static void queue_empty(void **state)
{
    struct bs_queue q;
    struct bs_event ev = ev_at(5, 5);

    (void)state;
    assert_int_equal(bs_queue_init(&q, 0), 0);
    assert_null(bs_queue_peek(&q));
    assert_false(bs_queue_pop(&q, &ev));
    assert_int_equal(ev.cookie, 5); /* untouched */
    bs_queue_deinit(&q);
}

/* Equal due times pop in push order, whatever was pushed between them. */
static void queue_equal_due_fifo(void **state)
{
    enum { N = 500 };
    struct bs_queue q;
    struct bs_event ev;

    (void)state;
    assert_int_equal(bs_queue_init(&q, 1), 0);
    /* Interleave three deadlines: 100, 50, 100, 50, 75 ... ids increasing. */
    for (uint64_t i = 0; i < N; i++) {
        static const bs_time_us dues[] = { 100, 50, 100, 75, 50 };
        ev = ev_at(dues[i % 5], i);
        assert_int_equal(bs_queue_push(&q, &ev), 0);
        assert_int_equal(ev.seq, i); /* seq is the insertion count */
    }
    bs_time_us last_due = INT64_MIN;
    uint64_t last_id = 0;
    size_t popped = 0;
    while (bs_queue_pop(&q, &ev)) {
        assert_true(ev.due >= last_due);
        if (ev.due == last_due)
            assert_true(ev.cookie > last_id); /* FIFO among equals */
        last_due = ev.due;
        last_id = ev.cookie;
        popped++;
    }
    assert_int_equal(popped, N);
    bs_queue_deinit(&q);
}

/* The same deadline for everything: the queue is a plain FIFO. */
static void queue_all_equal_is_fifo(void **state)
{
    enum { N = 3000 };
    struct bs_queue q;
    struct bs_event ev;

    (void)state;
    assert_int_equal(bs_queue_init(&q, 4), 0);
    for (uint64_t i = 0; i < N; i++) {
        ev = ev_at(7, i);
        assert_int_equal(bs_queue_push(&q, &ev), 0);
    }
    for (uint64_t i = 0; i < N; i++) {
        assert_non_null(bs_queue_peek(&q));
        assert_int_equal(bs_queue_peek(&q)->cookie, i);
        assert_true(bs_queue_pop(&q, &ev));
        assert_int_equal(ev.cookie, i);
        assert_int_equal(ev.due, 7);
    }
    assert_false(bs_queue_pop(&q, &ev));
    bs_queue_deinit(&q);
}

struct ref {
    bs_time_us due;
    uint64_t id;
};

static int ref_cmp(const void *a, const void *b)
{
    const struct ref *x = a, *y = b;

    if (x->due != y->due)
        return x->due < y->due ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

/* Random pushes pop exactly in the order of a stable sort by due time. */
static void queue_random_sorted(void **state)
{
    enum { N = 100000 };
    struct bs_queue q;
    struct bs_event ev;
    struct ref *ref = malloc(N * sizeof(*ref));
    struct bs_rng r;

    (void)state;
    assert_non_null(ref);
    bs_rng_seed(&r, 1, "queue");
    assert_int_equal(bs_queue_init(&q, 2), 0);
    for (uint64_t i = 0; i < N; i++) {
        /* Few distinct deadlines (many ties) plus negative ones. */
        bs_time_us due = (bs_time_us)bs_rng_below(&r, 2000) - 500;
        ev = ev_at(due, i);
        ref[i].due = due;
        ref[i].id = i;
        assert_int_equal(bs_queue_push(&q, &ev), 0);
    }
    qsort(ref, N, sizeof(*ref), ref_cmp); /* ids are unique: this is the stable order */
    for (size_t i = 0; i < N; i++) {
        assert_true(bs_queue_pop(&q, &ev));
        if (ev.due != ref[i].due || ev.cookie != ref[i].id)
            fail_msg("pop %zu: (%lld, id %llu), want (%lld, id %llu)", i, (long long)ev.due,
                     (unsigned long long)ev.cookie, (long long)ref[i].due,
                     (unsigned long long)ref[i].id);
    }
    assert_false(bs_queue_pop(&q, &ev));
    free(ref);
    bs_queue_deinit(&q);
}

/* Delays for the interleaved tests: short, with many ties. */
static bs_time_us delay_short(struct bs_rng *r)
{
    return (bs_time_us)bs_rng_below(r, 50);
}

/* Delays for every level of the queue: the current fine slot, the fine wheel (ms), the
 * coarse wheel (seconds to hours), the overflow beyond it (days), exact slot edges, and
 * a few events in the past (earlier than the last pop). */
static bs_time_us delay_wheels(struct bs_rng *r)
{
    switch (bs_rng_below(r, 8)) {
    case 0:
        return (bs_time_us)bs_rng_below(r, 40);
    case 1:
        return (bs_time_us)bs_rng_below(r, 20000);
    case 2:
        return (bs_time_us)bs_rng_below(r, 3 * BS_US_PER_SEC);
    case 3:
        return (bs_time_us)bs_rng_below(r, 2 * 3600 * BS_US_PER_SEC);
    case 4:
        return (bs_time_us)bs_rng_below(r, 4 * 86400 * BS_US_PER_SEC);
    case 5:
        return (bs_time_us)(UINT64_C(1) << (5 + bs_rng_below(r, 32)));
    case 6:
        return -(bs_time_us)bs_rng_below(r, 100);
    default:
        return 0;
    }
}

/*
 * Interleaved push and pop as the engine does it (new events due after "now", mostly),
 * against a reference that scans for the minimum (due, id).
 */
static void interleave(uint64_t seed, bs_time_us (*delay)(struct bs_rng *), int ops)
{
    enum { MAXLIVE = 4096 };
    struct bs_queue q;
    struct bs_event ev;
    struct ref live[MAXLIVE];
    size_t nlive = 0;
    uint64_t next_id = 0;
    bs_time_us now = 0;
    struct bs_rng r;

    bs_rng_seed(&r, seed, "interleaved");
    assert_int_equal(bs_queue_init(&q, 1), 0);
    for (int op = 0; op < ops; op++) {
        if (nlive < MAXLIVE && (nlive == 0 || bs_rng_below(&r, 100) < 55)) {
            bs_time_us due = now + delay(&r);
            ev = ev_at(due, next_id);
            assert_int_equal(bs_queue_push(&q, &ev), 0);
            live[nlive].due = due;
            live[nlive].id = next_id++;
            nlive++;
        } else {
            size_t best = 0;
            for (size_t i = 1; i < nlive; i++)
                if (ref_cmp(&live[i], &live[best]) < 0)
                    best = i;
            assert_true(bs_queue_pop(&q, &ev));
            assert_int_equal(ev.due, live[best].due);
            assert_int_equal(ev.cookie, live[best].id);
            now = ev.due;
            live[best] = live[--nlive];
        }
        assert_int_equal(q.n, nlive);
    }
    bs_queue_deinit(&q);
}

static void queue_interleaved(void **state)
{
    (void)state;
    interleave(2, delay_short, 20000);
}

/* The same across the wheels, the cascade from coarse to fine buckets and the overflow. */
static void queue_interleaved_wheels(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 4; seed++)
        interleave(seed, delay_wheels, 60000);
}

/* Events keep every field through the heap; deinit frees message buffers still queued. */
static void queue_fields_and_owned_buffers(void **state)
{
    struct bs_queue q;
    struct bs_event ev;

    (void)state;
    assert_int_equal(bs_queue_init(&q, 2), 0);
    for (uint32_t i = 0; i < 10; i++) {
        memset(&ev, 0, sizeof(ev));
        ev.due = 1000 - i;
        ev.kind = BS_EV_MESSAGE;
        ev.node = i;
        ev.from = i + 100;
        ev.aux = i + 200;
        ev.len = 16;
        ev.trace = 0x1234567890ULL + i;
        ev.cookie = ~(uint64_t)i;
        ev.buf = bs_malloc(16);
        assert_non_null(ev.buf);
        memset(ev.buf, (int)i, 16);
        assert_int_equal(bs_queue_push(&q, &ev), 0);
    }
    /* The last pushed is due first. */
    assert_true(bs_queue_pop(&q, &ev));
    assert_int_equal(ev.due, 991);
    assert_int_equal(ev.kind, BS_EV_MESSAGE);
    assert_int_equal(ev.node, 9);
    assert_int_equal(ev.from, 109);
    assert_int_equal(ev.aux, 209);
    assert_int_equal(ev.len, 16);
    assert_int_equal(ev.trace, 0x1234567890ULL + 9);
    assert_int_equal(ev.cookie, ~(uint64_t)9);
    assert_int_equal(ev.buf[15], 9);
    bs_free(ev.buf); /* popped: the caller owns it now */
    /* Nine buffers are still queued: deinit must free them (cmocka checks). */
    bs_queue_deinit(&q);
}

static void queue_enomem_keeps_contents(void **state)
{
    struct bs_queue q;
    struct bs_event ev;

    (void)state;
    fail_after = 0;
    assert_int_equal(bs_queue_init(&q, 2), BS_ENOMEM);
    assert_int_equal(bs_queue_init(&q, 2), 0);
    ev = ev_at(3, 0);
    assert_int_equal(bs_queue_push(&q, &ev), 0);
    ev = ev_at(1, 1);
    assert_int_equal(bs_queue_push(&q, &ev), 0);
    fail_after = 0; /* the third push needs to grow */
    ev = ev_at(0, 2);
    assert_int_equal(bs_queue_push(&q, &ev), BS_ENOMEM);
    assert_int_equal(q.n, 2);
    assert_true(bs_queue_pop(&q, &ev));
    assert_int_equal(ev.cookie, 1);
    assert_true(bs_queue_pop(&q, &ev));
    assert_int_equal(ev.cookie, 0);
    assert_false(bs_queue_pop(&q, &ev));
    bs_queue_deinit(&q);
}

/* ---- rng ------------------------------------------------------------------------------ */

/* xoshiro256** from the state {1, 2, 3, 4}: the reference implementation's outputs. */
static void rng_xoshiro_reference(void **state)
{
    struct bs_rng r = { { 1, 2, 3, 4 } };
    const uint64_t want[] = { 11520u,
                              0u,
                              1509978240u,
                              UINT64_C(1215971899390074240),
                              UINT64_C(1216172134540287360),
                              UINT64_C(607988272756665600) };

    (void)state;
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
        assert_int_equal(bs_rng_next(&r), want[i]);
}

/*
 * Seeding: FNV-1a of the name → splitmix64 → seed XOR → four splitmix64 words. Values
 * from an independent Python implementation; they pin the streams, so a change to the
 * derivation (which would change every replayed run) fails here.
 */
static void rng_seed_golden(void **state)
{
    static const struct {
        uint64_t seed;
        const char *name;
        uint64_t want[4];
    } cases[] = {
        { 42,
          "link:mir.switch-bridge",
          { 0x905571fe66c9eb24ULL, 0xa77a4f8c6dfcdd56ULL, 0xa54cf7e841d1a138ULL,
            0x329488e8342b201eULL } },
        { 0,
          "",
          { 0x9cc5e2b30f63150fULL, 0x4bcf292d5345cc28ULL, 0x938e6d2e08481093ULL,
            0x18a03536ae5690ecULL } },
        { 42,
          "workload",
          { 0x91327896e25fd735ULL, 0x61c7bb25e53401baULL, 0x33553c340280b1d8ULL,
            0xf928d7116c621b51ULL } },
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct bs_rng r;
        bs_rng_seed(&r, cases[i].seed, cases[i].name);
        for (size_t k = 0; k < 4; k++)
            assert_int_equal(bs_rng_next(&r), cases[i].want[k]);
    }
}

static void rng_same_seed_same_stream(void **state)
{
    struct bs_rng a, b;

    (void)state;
    bs_rng_seed(&a, 7, "node:MELLI");
    bs_rng_seed(&b, 7, "node:MELLI");
    for (int i = 0; i < 10000; i++)
        assert_int_equal(bs_rng_next(&a), bs_rng_next(&b));
}

/* Different names or seeds give different streams (no shared prefix either). */
static void rng_different_streams(void **state)
{
    static const char *const names[] = { "a", "b", "ab", "ba", "link:0", "link:1", "" };
    uint64_t first[sizeof(names) / sizeof(names[0])][2][8];

    (void)state;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        for (int s = 0; s < 2; s++) {
            struct bs_rng r;
            bs_rng_seed(&r, (uint64_t)s + 41, names[i]);
            for (int k = 0; k < 8; k++)
                first[i][s][k] = bs_rng_next(&r);
        }
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        for (size_t j = 0; j < sizeof(names) / sizeof(names[0]); j++)
            for (int s = 0; s < 2; s++)
                for (int t = 0; t < 2; t++) {
                    if (i == j && s == t)
                        continue;
                    unsigned same = 0;
                    for (int k = 0; k < 8; k++)
                        same += first[i][s][k] == first[j][t][k];
                    if (same)
                        fail_msg("streams (%s, %d) and (%s, %d) share %u of 8 draws", names[i],
                                 s + 41, names[j], t + 41, same);
                }
}

static void rng_below_bounds(void **state)
{
    struct bs_rng r;
    const uint64_t ns[] = {
        1, 2, 3, 7, 10, 1000, UINT64_C(1) << 32, (UINT64_C(1) << 63) + 1, UINT64_MAX - 1, UINT64_MAX
    };
    bool high_seen = false;

    (void)state;
    bs_rng_seed(&r, 3, "below");
    assert_int_equal(bs_rng_below(&r, 0), 0);
    for (size_t i = 0; i < sizeof(ns) / sizeof(ns[0]); i++)
        for (int k = 0; k < 20000; k++) {
            uint64_t v = bs_rng_below(&r, ns[i]);
            if (v >= ns[i])
                fail_msg("bs_rng_below(%llu) gave %llu", (unsigned long long)ns[i],
                         (unsigned long long)v);
            if (ns[i] == (UINT64_C(1) << 63) + 1 && v >= UINT64_C(1) << 62)
                high_seen = true;
        }
    /* For n = 1 the only value is 0. */
    for (int k = 0; k < 100; k++)
        assert_int_equal(bs_rng_below(&r, 1), 0);
    assert_true(high_seen); /* large ranges are covered, not just the low half */
}

/* Rough uniformity: a chi-square test over 10 and over 7 buckets. */
static void rng_below_uniform(void **state)
{
    struct bs_rng r;

    (void)state;
    bs_rng_seed(&r, 4, "uniform");
    for (uint64_t n = 7; n <= 10; n += 3) {
        enum { DRAWS = 100000 };
        uint64_t count[10] = { 0 };
        double chi = 0, expect = (double)DRAWS / (double)n;

        for (int k = 0; k < DRAWS; k++)
            count[bs_rng_below(&r, n)]++;
        for (uint64_t b = 0; b < n; b++)
            chi += ((double)count[b] - expect) * ((double)count[b] - expect) / expect;
        /* 99.99th percentile of chi-square: 6 dof ≈ 27.9, 9 dof ≈ 33.7. */
        if (chi > (n == 7 ? 27.9 : 33.7))
            fail_msg("n=%llu: chi-square %.1f", (unsigned long long)n, chi);
    }
    /* Every bucket of a small range is hit, and the mean of unit() is near 0.5. */
    double sum = 0;
    for (int k = 0; k < 100000; k++) {
        double u = bs_rng_unit(&r);
        assert_true(u >= 0.0 && u < 1.0);
        sum += u;
    }
    assert_true(fabs(sum / 100000 - 0.5) < 0.005);
}

/* ---- histogram ------------------------------------------------------------------------ */

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return x < y ? -1 : x > y;
}

/* The nearest-rank quantile of a sorted array: the ceil(q·n)-th smallest value. */
static int64_t exact_quantile(const int64_t *sorted, size_t n, double q)
{
    size_t rank = (size_t)ceil(q * (double)n);

    if (rank == 0)
        rank = 1;
    if (rank > n)
        rank = n;
    return sorted[rank - 1];
}

static const double qs[] = { 0.001, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 0.9999 };

/* Compare every quantile of @h with the sorted data: never below, at most 1 % above. */
static void check_quantiles(const struct bs_hist *h, int64_t *v, size_t n)
{
    qsort(v, n, sizeof(*v), cmp_i64);
    assert_int_equal(h->count, n);
    assert_int_equal(h->min, v[0]);
    assert_int_equal(h->max, v[n - 1]);
    assert_int_equal(bs_hist_quantile(h, 0), v[0]);
    assert_int_equal(bs_hist_quantile(h, 1), v[n - 1]);
    for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
        int64_t want = exact_quantile(v, n, qs[i]);
        int64_t got = bs_hist_quantile(h, qs[i]);
        if (got < want || (double)(got - want) > 0.01 * (double)want)
            fail_msg("q=%g: histogram %lld, exact %lld", qs[i], (long long)got, (long long)want);
    }
}

static void hist_random_quantiles(void **state)
{
    enum { N = 200000 };
    struct bs_hist *h = malloc(sizeof(*h));
    int64_t *v = malloc(N * sizeof(*v));
    struct bs_rng r;

    (void)state;
    assert_non_null(h);
    assert_non_null(v);
    bs_rng_seed(&r, 5, "hist");
    /* Latency-like data: log-uniform from 1 µs to about 20 s. */
    bs_hist_init(h);
    for (size_t i = 0; i < N; i++) {
        v[i] = (int64_t)exp(bs_rng_unit(&r) * 16.8);
        bs_hist_add(h, v[i]);
    }
    check_quantiles(h, v, N);
    /* Uniform over a narrow high range: every quantile within a few buckets. */
    bs_hist_init(h);
    for (size_t i = 0; i < N; i++) {
        v[i] = 5000000 + (int64_t)bs_rng_below(&r, 1000000);
        bs_hist_add(h, v[i]);
    }
    check_quantiles(h, v, N);
    free(v);
    free(h);
}

static void hist_small_values_exact(void **state)
{
    struct bs_hist *h = malloc(sizeof(*h));

    (void)state;
    assert_non_null(h);
    bs_hist_init(h);
    assert_int_equal(bs_hist_quantile(h, 0.5), 0); /* empty */
    for (int64_t v = 1; v <= 100; v++)
        bs_hist_add(h, v);
    /* Below 256 every value has its own bucket: quantiles are exact. */
    assert_int_equal(bs_hist_quantile(h, 0.5), 50);
    assert_int_equal(bs_hist_quantile(h, 0.99), 99);
    assert_int_equal(bs_hist_quantile(h, 0.991), 100);
    assert_int_equal(bs_hist_quantile(h, 0.01), 1);
    assert_int_equal(bs_hist_quantile(h, 0.0), 1);
    assert_int_equal(bs_hist_quantile(h, 1.0), 100);
    assert_int_equal(h->min, 1);
    assert_int_equal(h->max, 100);
    assert_true(fabs(h->sum - 5050.0) < 1e-9);
    /* Negative values are clamped to 0. */
    bs_hist_add(h, -5);
    assert_int_equal(h->min, 0);
    assert_int_equal(bs_hist_quantile(h, 0.001), 0);
    free(h);
}

static void hist_single_value(void **state)
{
    struct bs_hist *h = malloc(sizeof(*h));

    (void)state;
    assert_non_null(h);
    bs_hist_init(h);
    bs_hist_add(h, 123456789);
    /* The bucket's upper edge is capped at the maximum seen: exactly the value. */
    for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++)
        assert_int_equal(bs_hist_quantile(h, qs[i]), 123456789);
    free(h);
}

static void hist_merge(void **state)
{
    enum { N = 50000 };
    struct bs_hist *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b)), *all = malloc(sizeof(*all));
    struct bs_hist *empty = malloc(sizeof(*empty));
    int64_t *v = malloc(2 * N * sizeof(*v));
    struct bs_rng r;

    (void)state;
    assert_true(a && b && all && empty && v);
    bs_rng_seed(&r, 6, "merge");
    bs_hist_init(a);
    bs_hist_init(b);
    bs_hist_init(all);
    bs_hist_init(empty);
    for (size_t i = 0; i < 2 * N; i++) {
        /* Two different populations: fast local hops and slow cross-border ones. */
        v[i] = i < N ? 200 + (int64_t)bs_rng_below(&r, 5000)
                     : 80000 + (int64_t)bs_rng_below(&r, 900000);
        bs_hist_add(i < N ? a : b, v[i]);
        bs_hist_add(all, v[i]);
    }
    bs_hist_merge(a, empty); /* no-op */
    assert_int_equal(a->count, N);
    bs_hist_merge(empty, b); /* into an empty histogram: takes min as well */
    assert_int_equal(empty->min, b->min);
    assert_int_equal(empty->max, b->max);
    bs_hist_merge(a, b);
    assert_int_equal(a->count, all->count);
    assert_int_equal(a->min, all->min);
    assert_int_equal(a->max, all->max);
    assert_true(fabs(a->sum - all->sum) <= 1e-6 * all->sum);
    assert_memory_equal(a->b, all->b, sizeof(a->b));
    for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++)
        assert_int_equal(bs_hist_quantile(a, qs[i]), bs_hist_quantile(all, qs[i]));
    check_quantiles(a, v, 2 * N);
    free(v);
    free(empty);
    free(all);
    free(b);
    free(a);
}

/* ---- link impairments (issue #5): Gilbert–Elliott, correlation, empirical, capacity ---- */

/*
 * A Gilbert–Elliott chain over a seeded stream against its theory: long-run loss rate
 * (p·loss_bad + r·loss_good) / (p + r), and with loss_good 0, loss_bad 1 a mean burst of
 * 1 / r consecutive losses. Tolerances are several standard errors of 10^6 messages.
 */
static void ge_matches_theory(void **state)
{
    const struct {
        struct bs_sc_ge ge;
        double burst; /* expected mean burst length; 0: not checked */
    } cases[] = {
        { { true, 0.02, 0.25, 0, 1 }, 4.0 },
        { { true, 0.005, 0.5, 0, 1 }, 2.0 },
        { { true, 0.05, 0.1, 0.01, 0.6 }, 0 },
    };
    enum { N = 1000000 };

    (void)state;
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        const struct bs_sc_ge *ge = &cases[c].ge;
        double want = (ge->p * ge->loss_bad + ge->r * ge->loss_good) / (ge->p + ge->r);
        struct bs_rng r;
        uint64_t lost = 0, bursts = 0, run = 0;
        bool bad = false;

        bs_rng_seed(&r, 7, "test:ge");
        for (int i = 0; i < N; i++) {
            double u1 = bs_rng_unit(&r), u2 = bs_rng_unit(&r);

            if (bs_ge_step(ge, &bad, u1, u2)) {
                lost++;
                run++;
            } else if (run) {
                bursts++;
                run = 0;
            }
        }
        if (fabs((double)lost / N - want) > 0.04 * want)
            fail_msg("case %zu: loss rate %g, theory %g", c, (double)lost / N, want);
        if (cases[c].burst > 0 &&
            fabs((double)lost / (double)bursts - cases[c].burst) > 0.03 * cases[c].burst)
            fail_msg("case %zu: mean burst %g, theory %g", c, (double)lost / (double)bursts,
                     cases[c].burst);
    }
}

/* The chain itself: bad stays bad while u_move ≥ r, loses every message with loss_bad 1. */
static void ge_step_transitions(void **state)
{
    struct bs_sc_ge ge = { true, 0.1, 0.3, 0, 1 };
    bool bad = false;

    (void)state;
    assert_false(bs_ge_step(&ge, &bad, 0.0, 0.5)); /* good, stays (0.5 ≥ p) */
    assert_false(bad);
    assert_false(bs_ge_step(&ge, &bad, 0.0, 0.05)); /* good: not lost, then moves */
    assert_true(bad);
    assert_true(bs_ge_step(&ge, &bad, 0.99, 0.5)); /* bad: lost, stays (0.5 ≥ r) */
    assert_true(bad);
    assert_true(bs_ge_step(&ge, &bad, 0.99, 0.2)); /* bad: lost, then recovers */
    assert_false(bad);
}

/* Correlation ρ: the lag-1 autocorrelation of the sequence is ρ, the mean is kept, clamps
 * hold; ρ = 0 gives the fresh sample itself. */
static void correlation_ar1(void **state)
{
    const struct bs_dist d = { .kind = BS_DIST_NORMAL,
                               .a = 40e3,
                               .b = 8e3,
                               .has_min = true,
                               .min = 20e3,
                               .has_max = true,
                               .max = 80e3 };
    const double rhos[] = { 0.0, 0.5, 0.8 };
    enum { N = 400000 };

    (void)state;
    assert_true(bs_dist_correlate(0.7, false, 123, 456) == 456);
    assert_true(bs_dist_correlate(0, true, 123, 456) == 456);
    assert_true(fabs(bs_dist_correlate(0.75, true, 100, 200) - 125) < 1e-12);
    for (size_t c = 0; c < sizeof(rhos) / sizeof(rhos[0]); c++) {
        struct bs_rng r;
        double prev = 0, x, sum = 0, sum2 = 0, lag = 0, first = 0;

        bs_rng_seed(&r, 11, "test:corr");
        for (int i = 0; i < N; i++) {
            x = bs_dist_correlate(rhos[c], i > 0, prev, bs_dist_sample(&d, bs_rng_next_cb, &r));
            assert_true(x >= d.min && x <= d.max);
            if (i == 0)
                first = x;
            else
                lag += x * prev;
            sum += x;
            sum2 += x * x;
            prev = x;
        }
        {
            double mean = sum / N, var = sum2 / N - mean * mean;
            double ac = (lag / (N - 1) - mean * mean) / var;

            (void)first;
            if (fabs(mean - 40e3) > 100)
                fail_msg("rho %g: mean %g", rhos[c], mean);
            if (fabs(ac - rhos[c]) > 0.01)
                fail_msg("rho %g: lag-1 autocorrelation %g", rhos[c], ac);
        }
    }
}

/* A stream that returns a fixed 64-bit value: u = value / 2^64. */
static uint64_t fixed_next(void *p)
{
    return *(const uint64_t *)p;
}

/* Empirical: inverse CDF with interpolation between order statistics, then clamps. */
static void empirical_inverse_cdf(void **state)
{
    const double s[] = { 10, 20, 30, 40 };
    struct bs_dist d = { .kind = BS_DIST_EMPIRICAL, .samples = s, .nsamples = 4 };
    uint64_t v;
    struct bs_rng r;
    int below15 = 0;
    double sum = 0;
    enum { N = 300000 };

    (void)state;
    v = 0;
    assert_true(bs_dist_sample(&d, fixed_next, &v) == 10);
    v = UINT64_C(1) << 63; /* u = 0.5: position 1.5 → halfway from 20 to 30 */
    assert_true(fabs(bs_dist_sample(&d, fixed_next, &v) - 25) < 1e-9);
    v = UINT64_MAX; /* u just below 1: just below the largest sample */
    assert_true(bs_dist_sample(&d, fixed_next, &v) <= 40 &&
                bs_dist_sample(&d, fixed_next, &v) > 39.99);
    assert_true(fabs(bs_dist_mean(&d) - 25) < 1e-12);
    d.has_min = true;
    d.min = 27;
    v = UINT64_C(1) << 63;
    assert_true(bs_dist_sample(&d, fixed_next, &v) == 27);
    d.has_min = false;
    bs_rng_seed(&r, 3, "test:empirical");
    for (int i = 0; i < N; i++) {
        double x = bs_dist_sample(&d, bs_rng_next_cb, &r);
        assert_true(x >= 10 && x <= 40);
        below15 += x < 15;
        sum += x;
    }
    /* P(X < 15) = P(3u < 0.5) = 1/6. */
    assert_true(fabs((double)below15 / N - 1.0 / 6) < 0.005);
    assert_true(fabs(sum / N - 25) < 0.1);
    d.nsamples = 1;
    assert_true(bs_dist_sample(&d, bs_rng_next_cb, &r) == 10);
}

/* One message through @lc: expect @want_rc and, when 0, arrival at @want_at. */
struct send_case {
    bs_time_us now;
    size_t bytes;
    bs_time_us latency;
    int want_rc;
    bs_time_us want_at;
};

static struct bs_linkcap *run_sends(const struct bs_sc_link_capacity *c, const struct send_case *cs,
                                    size_t n, struct bs_linkcap_stats *ret)
{
    struct bs_linkcap *lc;

    assert_int_equal(bs_linkcap_new(c, &lc), 0);
    for (size_t i = 0; i < n; i++) {
        bs_time_us at = -1;
        int rc = bs_linkcap_send(lc, cs[i].now, cs[i].bytes, cs[i].latency, &at);

        if (rc != cs[i].want_rc || (rc == 0 && at != cs[i].want_at))
            fail_msg("send %zu at %lld: rc %d arrival %lld, want rc %d arrival %lld", i,
                     (long long)cs[i].now, rc, (long long)at, cs[i].want_rc,
                     (long long)cs[i].want_at);
    }
    bs_linkcap_get_stats(lc, ret);
    return lc;
}

/* max_in_flight with drop: a message that finds every slot taken is refused; slots free
 * when messages arrive. */
static void linkcap_drop(void **state)
{
    const struct bs_sc_link_capacity c = { .max_in_flight = 2, .queue_limit = -1 };
    const struct send_case cs[] = {
        { 0, 100, 1000, 0, 1000 },       { 10, 100, 1000, 0, 1010 },
        { 20, 100, 1000, BS_ELIMIT, 0 }, { 999, 100, 1000, BS_ELIMIT, 0 },
        { 1000, 100, 5, 0, 1005 }, /* the first has arrived: its slot is free */
    };
    struct bs_linkcap_stats st;

    (void)state;
    bs_linkcap_free(run_sends(&c, cs, sizeof(cs) / sizeof(cs[0]), &st));
    assert_int_equal(st.sent, 3);
    assert_int_equal(st.dropped, 2);
    assert_int_equal(st.queued, 0);
}

/* Backpressure: messages wait FIFO for the earliest free slot, up to queue_limit. */
static void linkcap_backpressure(void **state)
{
    const struct bs_sc_link_capacity c = { .max_in_flight = 1,
                                           .backpressure = true,
                                           .queue_limit = 2 };
    const struct send_case cs[] = {
        { 0, 10, 100, 0, 100 },      { 1, 10, 100, 0, 200 }, /* waits until 100 */
        { 2, 10, 50, 0, 250 },                               /* waits until 200 */
        { 3, 10, 50, BS_ELIMIT, 0 },                         /* two wait already */
        { 150, 10, 50, 0, 300 }, /* one of them has started: room again */
    };
    struct bs_linkcap_stats st;

    (void)state;
    bs_linkcap_free(run_sends(&c, cs, sizeof(cs) / sizeof(cs[0]), &st));
    assert_int_equal(st.sent, 4);
    assert_int_equal(st.dropped, 1);
    assert_int_equal(st.queued, 3);
    assert_int_equal(st.max_waiting, 2);
    assert_int_equal(st.wait_max, 200 - 2); /* the third message's wait */
}

/* Bandwidth: serialization size / bandwidth, FIFO behind the message before. */
static void linkcap_bandwidth(void **state)
{
    struct bs_sc_link_capacity c = { .bytes_per_s = 1000, .queue_limit = -1 };
    const struct send_case cs[] = {
        { 0, 100, 5000, 0, 105000 },     /* 100 B at 1000 B/s: 100 ms, then 5 ms latency */
        { 10000, 100, 5000, 0, 205000 }, /* the line is busy until 100 ms */
        { 300000, 1, 0, 0, 301000 },     /* 1 byte: a whole 1000 µs (ceiling) */
    };
    struct bs_linkcap_stats st;
    struct bs_linkcap *lc;

    (void)state;
    bs_linkcap_free(run_sends(&c, cs, sizeof(cs) / sizeof(cs[0]), &st));
    assert_int_equal(st.sent, 3);
    assert_int_equal(st.line_wait_total, 90000);
    c.bytes_per_s = 0;
    assert_int_equal(bs_linkcap_new(&c, &lc), BS_EINVAL);
}

int main(void)
{
    const struct CMUnitTest queue[] = {
        cmocka_unit_test_setup(queue_empty, reset),
        cmocka_unit_test_setup(queue_equal_due_fifo, reset),
        cmocka_unit_test_setup(queue_all_equal_is_fifo, reset),
        cmocka_unit_test_setup(queue_random_sorted, reset),
        cmocka_unit_test_setup(queue_interleaved, reset),
        cmocka_unit_test_setup(queue_interleaved_wheels, reset),
        cmocka_unit_test_setup(queue_fields_and_owned_buffers, reset),
        cmocka_unit_test_setup(queue_enomem_keeps_contents, reset),
    };
    const struct CMUnitTest rng[] = {
        cmocka_unit_test(rng_xoshiro_reference),     cmocka_unit_test(rng_seed_golden),
        cmocka_unit_test(rng_same_seed_same_stream), cmocka_unit_test(rng_different_streams),
        cmocka_unit_test(rng_below_bounds),          cmocka_unit_test(rng_below_uniform),
    };
    const struct CMUnitTest hist[] = {
        cmocka_unit_test(hist_random_quantiles),
        cmocka_unit_test(hist_small_values_exact),
        cmocka_unit_test(hist_single_value),
        cmocka_unit_test(hist_merge),
    };
    const struct CMUnitTest links[] = {
        cmocka_unit_test(ge_matches_theory), cmocka_unit_test(ge_step_transitions),
        cmocka_unit_test(correlation_ar1),   cmocka_unit_test(empirical_inverse_cdf),
        cmocka_unit_test(linkcap_drop),      cmocka_unit_test(linkcap_backpressure),
        cmocka_unit_test(linkcap_bandwidth),
    };
    int failed = 0;

    bs_set_allocator(&test_allocator);
    failed += cmocka_run_group_tests_name("queue", queue, NULL, NULL);
    failed += cmocka_run_group_tests_name("rng", rng, NULL, NULL);
    failed += cmocka_run_group_tests_name("hist", hist, NULL, NULL);
    failed += cmocka_run_group_tests_name("links", links, NULL, NULL);
    bs_set_allocator(NULL);
    return failed ? 1 : 0;
}
