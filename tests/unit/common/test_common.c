/*
 * Unit tests for src/common/: the hash index (map.c), the record pool (pool.c), the error
 * table (errors.c) and the allocator hook (alloc.c).
 *
 * Every group runs with the library allocator routed through cmocka's test_malloc() and
 * friends, so any allocation a test leaks fails that test. A failure-injecting layer on top
 * lets a test make the next allocation fail, to check that every BS_ENOMEM path leaves the
 * structure intact.
 *
 * The map is keyed by caller-supplied 64-bit hashes, so these tests choose hashes to place
 * entries in exact home slots (hash & (cap - 1)): colliding runs, runs that wrap from the
 * last slot to slot 0, and deletions in the middle of a run. After every change an
 * independent checker verifies the linear-probing invariant: every entry is reachable from
 * its home slot without crossing an empty slot.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <bridgesim/common.h>

#include "common/map.h"
#include "common/pool.h"

/* ---- allocator: cmocka's leak checker plus failure injection ------------------------- */

static int fail_after = -1; /* allocations left before one fails; -1: never fail */
static unsigned n_malloc, n_calloc, n_realloc, n_free;

static bool should_fail(void)
{
    if (fail_after < 0)
        return false;
    if (fail_after == 0) {
        fail_after = -1;
        return true;
    }
    fail_after--;
    return false;
}

static void *t_malloc(size_t n)
{
    n_malloc++;
    return should_fail() ? NULL : test_malloc(n);
}

static void *t_calloc(size_t nmemb, size_t n)
{
    n_calloc++;
    return should_fail() ? NULL : test_calloc(nmemb, n);
}

static void *t_realloc(void *p, size_t n)
{
    n_realloc++;
    return should_fail() ? NULL : test_realloc(p, n);
}

static void t_free(void *p)
{
    n_free++;
    test_free(p);
}

static const struct bs_allocator test_allocator = { t_malloc, t_calloc, t_realloc, t_free };

static int reset_counters(void **state)
{
    (void)state;
    fail_after = -1;
    n_malloc = n_calloc = n_realloc = n_free = 0;
    return 0;
}

/* ---- map helpers ---------------------------------------------------------------------- */

/*
 * The linear-probing invariant, checked independently of map.c: each used slot's entry can
 * be reached by probing forward from its home slot over used slots only; @n matches the
 * number of used slots; and the load factor is at most 1/2.
 */
static void check_map_invariant(const struct bs__map *m)
{
    size_t used = 0, mask = m->cap - 1;

    assert_true(m->cap >= 16);
    assert_int_equal(m->cap & mask, 0); /* power of two */
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->e[i].used)
            continue;
        used++;
        for (size_t s = (size_t)m->e[i].hash & mask; s != i; s = (s + 1) & mask)
            if (!m->e[s].used)
                fail_msg("slot %zu (hash %#llx) is cut off from its home by empty slot %zu", i,
                         (unsigned long long)m->e[i].hash, s);
    }
    assert_int_equal(used, m->n);
    assert_true(m->n * 2 <= m->cap);
}

/* The slot holding (hash, val), or -1. Scans the whole table (not the probe sequence). */
static long slot_of_entry(const struct bs__map *m, uint64_t hash, uint32_t val)
{
    for (size_t i = 0; i < m->cap; i++)
        if (m->e[i].used && m->e[i].hash == hash && m->e[i].val == val)
            return (long)i;
    return -1;
}

/* Match callback: the entry's value equals *(uint32_t *)ctx. */
static bool val_eq(const void *ctx, uint32_t val)
{
    return *(const uint32_t *)ctx == val;
}

/* Look (hash, val) up through bs__map_get() with a callback that wants exactly @val. */
static bool map_has(const struct bs__map *m, uint64_t hash, uint32_t val)
{
    uint32_t got = UINT32_MAX;

    if (bs__map_get(m, hash, val_eq, &val, &got) != 0)
        return false;
    assert_int_equal(got, val);
    return true;
}

/* A hash whose home slot in a 16-slot table is @home, with distinct high bits per @tag. */
static uint64_t h16(unsigned home, unsigned tag)
{
    return ((uint64_t)(tag + 1) << 40) | (uint64_t)(tag << 4) << 8 | home;
}

/* ---- map tests ------------------------------------------------------------------------ */

static void map_init_capacity(void **state)
{
    struct bs__map m;

    (void)state;
    assert_int_equal(bs__map_init(&m, 0, 0), 0);
    assert_int_equal(m.cap, 16);
    assert_int_equal(m.n, 0);
    bs__map_deinit(&m);
    assert_null(m.e);
    assert_int_equal(bs__map_init(&m, 8, 0), 0); /* 8 * 2 = 16 slots suffice */
    assert_int_equal(m.cap, 16);
    bs__map_deinit(&m);
    assert_int_equal(bs__map_init(&m, 9, 0), 0);
    assert_int_equal(m.cap, 32);
    bs__map_deinit(&m);
    assert_int_equal(bs__map_init(&m, 1024, 0), 0);
    assert_int_equal(m.cap, 2048);
    bs__map_deinit(&m);
}

static void map_empty_lookups(void **state)
{
    struct bs__map m;
    uint32_t got = 77;

    (void)state;
    assert_int_equal(bs__map_init(&m, 0, 0), 0);
    assert_int_equal(bs__map_get(&m, 12345, NULL, NULL, &got), BS_ENOTFOUND);
    assert_int_equal(got, 77); /* untouched on failure */
    assert_int_equal(bs__map_del(&m, 12345, 0), BS_ENOTFOUND);
    assert_int_equal(m.n, 0);
    bs__map_deinit(&m);
}

static void map_many_keys(void **state)
{
    enum { N = 20000 };
    struct bs__map m;

    (void)state;
    assert_int_equal(bs__map_init(&m, 4, 0), 0);
    for (uint32_t i = 0; i < N; i++) {
        assert_int_equal(bs__map_put(&m, bs__hash(&i, sizeof(i), 7), i), 0);
        assert_int_equal(m.n, i + 1);
    }
    check_map_invariant(&m);
    for (uint32_t i = 0; i < N; i++)
        assert_true(map_has(&m, bs__hash(&i, sizeof(i), 7), i));
    /* Delete every third key; the others must survive the backward shifts. */
    for (uint32_t i = 0; i < N; i += 3)
        assert_int_equal(bs__map_del(&m, bs__hash(&i, sizeof(i), 7), i), 0);
    check_map_invariant(&m);
    for (uint32_t i = 0; i < N; i++)
        assert_int_equal(map_has(&m, bs__hash(&i, sizeof(i), 7), i), i % 3 != 0);
    assert_int_equal(m.n, N - (N + 2) / 3);
    /* A deleted key cannot be deleted twice. */
    {
        uint32_t z = 0;
        assert_int_equal(bs__map_del(&m, bs__hash(&z, sizeof(z), 7), 0), BS_ENOTFOUND);
    }
    bs__map_deinit(&m);
}

static void map_same_hash_many_values(void **state)
{
    enum { N = 40 };
    struct bs__map m;
    const uint64_t H = 0xdeadbeef00000005ULL;
    uint32_t got;

    (void)state;
    assert_int_equal(bs__map_init(&m, 0, 0), 0);
    for (uint32_t v = 0; v < N; v++)
        assert_int_equal(bs__map_put(&m, H, 1000 + v), 0);
    check_map_invariant(&m);
    for (uint32_t v = 0; v < N; v++)
        assert_true(map_has(&m, H, 1000 + v));
    /* Without a callback the first entry of the run with this hash is returned. */
    assert_int_equal(bs__map_get(&m, H, NULL, NULL, &got), 0);
    assert_true(got >= 1000 && got < 1000 + N);
    /* A hash that differs only in bits above the slot mask never matches. */
    assert_int_equal(bs__map_get(&m, H ^ (1ULL << 62), NULL, NULL, &got), BS_ENOTFOUND);
    /* A value that is not stored is not found even though the hash run is long. */
    {
        uint32_t want = 5;
        assert_int_equal(bs__map_get(&m, H, val_eq, &want, &got), BS_ENOTFOUND);
    }
    /* Remove from the middle of the run, then the ends. */
    for (uint32_t v = 10; v < 30; v++) {
        assert_int_equal(bs__map_del(&m, H, 1000 + v), 0);
        check_map_invariant(&m);
    }
    assert_int_equal(bs__map_del(&m, H, 1000), 0);
    assert_int_equal(bs__map_del(&m, H, 1000 + N - 1), 0);
    check_map_invariant(&m);
    for (uint32_t v = 0; v < N; v++)
        assert_int_equal(map_has(&m, H, 1000 + v), !(v >= 10 && v < 30) && v != 0 && v != N - 1);
    assert_int_equal(m.n, N - 22);
    bs__map_deinit(&m);
}

/*
 * A run in a 16-slot table: homes 3,3,4,3,6 occupy slots 3..7. Deleting the second entry
 * (slot 4) must pull the later home-3 entry back and keep the home-4 and home-6 entries
 * reachable; deleting the first then leaves no entry stranded behind a hole.
 */
static void map_delete_middle_of_run(void **state)
{
    struct bs__map m;
    const uint64_t a = h16(3, 1), b = h16(3, 2), c = h16(4, 3), d = h16(3, 4), e = h16(6, 5);

    (void)state;
    assert_int_equal(bs__map_init(&m, 0, 0), 0);
    assert_int_equal(bs__map_put(&m, a, 1), 0);
    assert_int_equal(bs__map_put(&m, b, 2), 0);
    assert_int_equal(bs__map_put(&m, c, 3), 0);
    assert_int_equal(bs__map_put(&m, d, 4), 0);
    assert_int_equal(bs__map_put(&m, e, 5), 0);
    assert_int_equal(m.cap, 16);
    assert_int_equal(slot_of_entry(&m, a, 1), 3);
    assert_int_equal(slot_of_entry(&m, b, 2), 4);
    assert_int_equal(slot_of_entry(&m, c, 3), 5);
    assert_int_equal(slot_of_entry(&m, d, 4), 6);
    assert_int_equal(slot_of_entry(&m, e, 5), 7);

    assert_int_equal(bs__map_del(&m, b, 2), 0);
    check_map_invariant(&m);
    /* c (home 4) moves into slot 4, d (home 3) into 5, e (home 6) into 6. */
    assert_int_equal(slot_of_entry(&m, c, 3), 4);
    assert_int_equal(slot_of_entry(&m, d, 4), 5);
    assert_int_equal(slot_of_entry(&m, e, 5), 6);
    assert_false(m.e[7].used);
    assert_true(map_has(&m, a, 1));
    assert_false(map_has(&m, b, 2));
    assert_true(map_has(&m, c, 3));
    assert_true(map_has(&m, d, 4));
    assert_true(map_has(&m, e, 5));

    /* Deleting a run's head: c is at home and must stay; d (home 3) moves into slot 3. */
    assert_int_equal(bs__map_del(&m, a, 1), 0);
    check_map_invariant(&m);
    assert_int_equal(slot_of_entry(&m, d, 4), 3);
    assert_int_equal(slot_of_entry(&m, c, 3), 4);
    assert_int_equal(slot_of_entry(&m, e, 5), 6);
    assert_true(map_has(&m, c, 3));
    assert_true(map_has(&m, d, 4));
    assert_true(map_has(&m, e, 5));
    assert_int_equal(m.n, 3);
    bs__map_deinit(&m);
}

/* Entry at home must not move even when it follows the hole (its home is in (hole, j]). */
static void map_delete_keeps_entries_at_home(void **state)
{
    struct bs__map m;
    const uint64_t a = h16(2, 1), b = h16(3, 2), c = h16(4, 3), d = h16(2, 4);

    (void)state;
    assert_int_equal(bs__map_init(&m, 0, 0), 0);
    assert_int_equal(bs__map_put(&m, a, 1), 0); /* slot 2 */
    assert_int_equal(bs__map_put(&m, b, 2), 0); /* slot 3 */
    assert_int_equal(bs__map_put(&m, c, 3), 0); /* slot 4 */
    assert_int_equal(bs__map_put(&m, d, 4), 0); /* slot 5, home 2 */
    assert_int_equal(slot_of_entry(&m, d, 4), 5);
    assert_int_equal(bs__map_del(&m, a, 1), 0);
    check_map_invariant(&m);
    assert_int_equal(slot_of_entry(&m, b, 2), 3);
    assert_int_equal(slot_of_entry(&m, c, 3), 4);
    assert_int_equal(slot_of_entry(&m, d, 4), 2); /* jumped over b and c into the hole */
    assert_true(map_has(&m, b, 2) && map_has(&m, c, 3) && map_has(&m, d, 4));
    bs__map_deinit(&m);
}

/*
 * Wraparound at the table end: homes 14, 15, 15, 14, 0, 1 fill slots 14, 15, 0, 1, 2, 3.
 * Deleting at slot 14 and 15 must shift entries back across the end of the table.
 */
static void map_wraparound(void **state)
{
    struct bs__map m;
    const uint64_t a = h16(14, 1), b = h16(15, 2), c = h16(15, 3), d = h16(14, 4), e = h16(0, 5),
                   f = h16(1, 6);

    (void)state;
    assert_int_equal(bs__map_init(&m, 0, 0), 0);
    assert_int_equal(bs__map_put(&m, a, 1), 0);
    assert_int_equal(bs__map_put(&m, b, 2), 0);
    assert_int_equal(bs__map_put(&m, c, 3), 0);
    assert_int_equal(bs__map_put(&m, d, 4), 0);
    assert_int_equal(bs__map_put(&m, e, 5), 0);
    assert_int_equal(bs__map_put(&m, f, 6), 0);
    assert_int_equal(slot_of_entry(&m, a, 1), 14);
    assert_int_equal(slot_of_entry(&m, b, 2), 15);
    assert_int_equal(slot_of_entry(&m, c, 3), 0);
    assert_int_equal(slot_of_entry(&m, d, 4), 1);
    assert_int_equal(slot_of_entry(&m, e, 5), 2);
    assert_int_equal(slot_of_entry(&m, f, 6), 3);
    check_map_invariant(&m);

    /* Hole at 15: c (home 15) moves back across the end into 15, then d (home 14) into
     * 0, e (home 0) into 1, f (home 1) into 2. */
    assert_int_equal(bs__map_del(&m, b, 2), 0);
    check_map_invariant(&m);
    assert_int_equal(slot_of_entry(&m, c, 3), 15);
    assert_int_equal(slot_of_entry(&m, d, 4), 0);
    assert_int_equal(slot_of_entry(&m, e, 5), 1);
    assert_int_equal(slot_of_entry(&m, f, 6), 2);
    assert_false(m.e[3].used);

    /* Hole at 14: c stays at its home 15; d (home 14) moves from slot 0 back to 14; e
     * (home 0) then moves from 1 to 0 and f (home 1) from 2 to 1. */
    assert_int_equal(bs__map_del(&m, a, 1), 0);
    check_map_invariant(&m);
    assert_int_equal(slot_of_entry(&m, d, 4), 14);
    assert_int_equal(slot_of_entry(&m, c, 3), 15);
    assert_int_equal(slot_of_entry(&m, e, 5), 0);
    assert_int_equal(slot_of_entry(&m, f, 6), 1);
    for (unsigned i = 0; i < 6; i++) {
        const uint64_t hs[] = { a, b, c, d, e, f };
        assert_int_equal(map_has(&m, hs[i], i + 1), i >= 2);
    }
    /* Deleting the entry that wrapped keeps the rest reachable. */
    assert_int_equal(bs__map_del(&m, c, 3), 0);
    check_map_invariant(&m);
    assert_true(map_has(&m, d, 4) && map_has(&m, e, 5) && map_has(&m, f, 6));
    bs__map_deinit(&m);
}

/* Growth doubles the table exactly when the load would pass 1/2 and re-homes everything. */
static void map_growth(void **state)
{
    struct bs__map m;

    (void)state;
    assert_int_equal(bs__map_init(&m, 0, 0), 0);
    for (uint32_t i = 0; i < 8; i++)
        assert_int_equal(bs__map_put(&m, h16(15, i), i), 0); /* one long run that wraps */
    assert_int_equal(m.cap, 16);
    check_map_invariant(&m);
    assert_int_equal(bs__map_put(&m, h16(15, 8), 8), 0); /* 9 * 2 > 16 */
    assert_int_equal(m.cap, 32);
    check_map_invariant(&m);
    for (uint32_t i = 0; i <= 8; i++)
        assert_true(map_has(&m, h16(15, i), i));
    for (uint32_t i = 9; i < 1000; i++) {
        size_t cap = m.cap;
        assert_int_equal(bs__map_put(&m, h16(15, i) * 0x9e3779b97f4a7c15ULL, i), 0);
        assert_int_equal(m.cap, (i + 1) * 2 > cap ? cap * 2 : cap);
    }
    check_map_invariant(&m);
    for (uint32_t i = 0; i < 1000; i++)
        assert_true(map_has(&m, i <= 8 ? h16(15, i) : h16(15, i) * 0x9e3779b97f4a7c15ULL, i));
    bs__map_deinit(&m);
}

/* Random inserts and deletes with few distinct home slots, against a reference list. */
static void map_random_against_reference(void **state)
{
    enum { OPS = 30000, MAXLIVE = 600 };
    struct bs__map m;
    struct {
        uint64_t h;
        uint32_t v;
    } live[MAXLIVE];
    size_t nlive = 0;
    uint32_t next = 0;
    uint64_t x = 88172645463325252ULL;

    (void)state;
    assert_int_equal(bs__map_init(&m, 0, 0), 0);
    for (unsigned op = 0; op < OPS; op++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        if (nlive < MAXLIVE && (nlive == 0 || x % 5 < 3)) {
            /* Few distinct hashes, so runs collide and wrap at every capacity. */
            uint64_t h = (x >> 8) % 37 * 0x0101010101010101ULL;
            assert_int_equal(bs__map_put(&m, h, next), 0);
            live[nlive].h = h;
            live[nlive].v = next++;
            nlive++;
        } else {
            size_t k = (size_t)(x >> 20) % nlive;
            assert_int_equal(bs__map_del(&m, live[k].h, live[k].v), 0);
            live[k] = live[--nlive];
        }
        if (op % 500 == 0) {
            check_map_invariant(&m);
            for (size_t i = 0; i < nlive; i++)
                assert_true(map_has(&m, live[i].h, live[i].v));
        }
    }
    check_map_invariant(&m);
    assert_int_equal(m.n, nlive);
    for (size_t i = 0; i < nlive; i++)
        assert_true(map_has(&m, live[i].h, live[i].v));
    bs__map_deinit(&m);
}

static void map_limit(void **state)
{
    struct bs__map m;

    (void)state;
    assert_int_equal(bs__map_init(&m, 0, 5), 0);
    for (uint32_t i = 0; i < 5; i++)
        assert_int_equal(bs__map_put(&m, i * 77, i), 0);
    assert_int_equal(bs__map_put(&m, 999, 5), BS_ELIMIT);
    assert_int_equal(m.n, 5);
    assert_false(map_has(&m, 999, 5));
    /* Room again after a deletion. */
    assert_int_equal(bs__map_del(&m, 2 * 77, 2), 0);
    assert_int_equal(bs__map_put(&m, 999, 5), 0);
    assert_int_equal(bs__map_put(&m, 1000, 6), BS_ELIMIT);
    check_map_invariant(&m);
    bs__map_deinit(&m);
}

static void map_enomem(void **state)
{
    struct bs__map m;

    (void)state;
    fail_after = 0;
    assert_int_equal(bs__map_init(&m, 0, 0), BS_ENOMEM);
    assert_int_equal(bs__map_init(&m, 0, 0), 0);
    for (uint32_t i = 0; i < 8; i++)
        assert_int_equal(bs__map_put(&m, h16(i, i), i), 0);
    /* The ninth entry needs a bigger table; that allocation fails. */
    fail_after = 0;
    assert_int_equal(bs__map_put(&m, h16(8, 8), 8), BS_ENOMEM);
    assert_int_equal(m.cap, 16);
    assert_int_equal(m.n, 8);
    check_map_invariant(&m);
    for (uint32_t i = 0; i < 8; i++)
        assert_true(map_has(&m, h16(i, i), i));
    assert_false(map_has(&m, h16(8, 8), 8));
    /* And it works once memory is back. */
    assert_int_equal(bs__map_put(&m, h16(8, 8), 8), 0);
    assert_int_equal(m.cap, 32);
    check_map_invariant(&m);
    bs__map_deinit(&m);
}

/* bs__hash against values computed independently (Python: the same eight-byte
 * little-endian multiply-rotate steps and fmix64; see map.c). */
static void map_hash_known_values(void **state)
{
    (void)state;
    assert_int_equal(bs__hash("", 0, 0), 0xefd01f60ba992926ULL);
    assert_int_equal(bs__hash("abc", 3, 0), 0x381ecf826a65db7bULL);
    assert_int_equal(bs__hash("abc", 3, 1), 0xefbb8abbda852df4ULL);
    assert_int_equal(bs__hash("bridgesim", 9, 42), 0xbea96dc7218ec262ULL);
    assert_int_equal(bs__hash("0123456789abcdef", 16, 7), 0xcce74bad7eca0ee2ULL);
}

/* ---- pool tests ---------------------------------------------------------------------- */

struct rec {
    struct bs__pool_hdr hdr;
    uint64_t a;
    uint32_t b;
};

static void pool_alloc_release_generations(void **state)
{
    struct bs__pool p;
    uint32_t i0, i1, i2, again;
    struct rec *r;

    (void)state;
    assert_int_equal(bs__pool_init(&p, sizeof(struct rec), 0), 0);
    assert_int_equal(p.isz % 8, 0);
    assert_true(p.isz >= sizeof(struct rec));
    assert_int_equal(bs__pool_alloc(&p, &i0), 0);
    assert_int_equal(bs__pool_alloc(&p, &i1), 0);
    assert_int_equal(bs__pool_alloc(&p, &i2), 0);
    assert_int_equal(i0, 0);
    assert_int_equal(i1, 1);
    assert_int_equal(i2, 2);
    assert_int_equal(p.live, 3);

    r = bs__pool_at(&p, i1);
    assert_int_equal(r->hdr.gen, 0);
    assert_int_equal(r->hdr.in_use, 1);
    assert_int_equal(r->a, 0);
    r->a = 0x1111;
    r->b = 0x22;
    assert_ptr_equal(bs__pool_live(&p, i1, 0), r);
    assert_null(bs__pool_live(&p, i1, 1)); /* wrong generation */
    assert_null(bs__pool_live(&p, 3, 0));  /* never allocated */
    assert_null(bs__pool_live(&p, UINT32_MAX, 0));

    bs__pool_release(&p, i1);
    assert_int_equal(p.live, 2);
    assert_null(bs__pool_live(&p, i1, 0)); /* the old cookie is stale */
    assert_null(bs__pool_live(&p, i1, 1)); /* released: not live under any generation */

    /* The freed record is reused with the next generation and zeroed. */
    assert_int_equal(bs__pool_alloc(&p, &again), 0);
    assert_int_equal(again, i1);
    r = bs__pool_at(&p, again);
    assert_int_equal(r->hdr.gen, 1);
    assert_int_equal(r->hdr.in_use, 1);
    assert_int_equal(r->a, 0);
    assert_int_equal(r->b, 0);
    assert_null(bs__pool_live(&p, again, 0));
    assert_ptr_equal(bs__pool_live(&p, again, 1), r);

    /* Generations keep advancing across many reuses. */
    for (uint32_t k = 2; k < 50; k++) {
        bs__pool_release(&p, again);
        assert_int_equal(bs__pool_alloc(&p, &again), 0);
        assert_int_equal(again, i1);
        assert_int_equal(((struct rec *)bs__pool_at(&p, again))->hdr.gen, k);
        assert_null(bs__pool_live(&p, again, k - 1));
        assert_non_null(bs__pool_live(&p, again, k));
    }
    /* Other records were not disturbed. */
    assert_non_null(bs__pool_live(&p, i0, 0));
    assert_non_null(bs__pool_live(&p, i2, 0));
    bs__pool_deinit(&p);
}

static void pool_double_release_is_harmless(void **state)
{
    struct bs__pool p;
    uint32_t a, b, c;

    (void)state;
    bs__pool_init(&p, sizeof(struct rec), 0);
    assert_int_equal(bs__pool_alloc(&p, &a), 0);
    assert_int_equal(bs__pool_alloc(&p, &b), 0);
    bs__pool_release(&p, a);
    bs__pool_release(&p, a); /* ignored: not in use */
    assert_int_equal(p.nfree, 1);
    assert_int_equal(p.live, 1);
    assert_int_equal(((struct rec *)bs__pool_at(&p, a))->hdr.gen, 1);
    /* Only one allocation may get index a back. */
    assert_int_equal(bs__pool_alloc(&p, &c), 0);
    assert_int_equal(c, a);
    assert_int_equal(bs__pool_alloc(&p, &c), 0);
    assert_int_equal(c, 2);
    bs__pool_deinit(&p);
}

/* Indexes and record contents survive the pool's reallocation as it grows. */
static void pool_growth_keeps_indexes(void **state)
{
    enum { N = 5000 };
    struct bs__pool p;
    uint32_t idx;

    (void)state;
    bs__pool_init(&p, sizeof(struct rec), 0);
    for (uint32_t i = 0; i < N; i++) {
        assert_int_equal(bs__pool_alloc(&p, &idx), 0);
        assert_int_equal(idx, i);
        struct rec *r = bs__pool_at(&p, idx);
        r->a = (uint64_t)i * 0x100000001ULL;
        r->b = ~i;
    }
    assert_true(p.cap >= N);
    for (uint32_t i = 0; i < N; i++) {
        const struct rec *r = bs__pool_live(&p, i, 0);
        assert_non_null(r);
        assert_int_equal(r->a, (uint64_t)i * 0x100000001ULL);
        assert_int_equal(r->b, ~i);
    }
    /* Release odd records, reallocate them: they come back zeroed, evens keep data. */
    for (uint32_t i = 1; i < N; i += 2)
        bs__pool_release(&p, i);
    assert_int_equal(p.live, N / 2);
    for (uint32_t k = 0; k < N / 2; k++) {
        assert_int_equal(bs__pool_alloc(&p, &idx), 0);
        assert_int_equal(idx % 2, 1);
        assert_int_equal(((struct rec *)bs__pool_at(&p, idx))->a, 0);
    }
    assert_int_equal(p.top, N); /* no new slots were needed */
    for (uint32_t i = 0; i < N; i += 2)
        assert_int_equal(((struct rec *)bs__pool_at(&p, i))->a, (uint64_t)i * 0x100000001ULL);
    bs__pool_deinit(&p);
}

static void pool_limit(void **state)
{
    struct bs__pool p;
    uint32_t idx;

    (void)state;
    bs__pool_init(&p, sizeof(struct rec), 100);
    for (uint32_t i = 0; i < 100; i++)
        assert_int_equal(bs__pool_alloc(&p, &idx), 0);
    assert_int_equal(p.cap, 100); /* growth is clamped to the limit */
    idx = 12345;
    assert_int_equal(bs__pool_alloc(&p, &idx), BS_ELIMIT);
    assert_int_equal(idx, 12345);
    assert_int_equal(p.live, 100);
    bs__pool_release(&p, 42);
    assert_int_equal(bs__pool_alloc(&p, &idx), 0);
    assert_int_equal(idx, 42);
    assert_int_equal(bs__pool_alloc(&p, &idx), BS_ELIMIT);
    bs__pool_deinit(&p);
}

static void pool_enomem(void **state)
{
    struct bs__pool p;
    uint32_t idx;

    (void)state;
    bs__pool_init(&p, sizeof(struct rec), 0);
    fail_after = 0; /* the first growth (items array) fails */
    assert_int_equal(bs__pool_alloc(&p, &idx), BS_ENOMEM);
    assert_int_equal(p.live, 0);
    assert_int_equal(p.top, 0);
    fail_after = 1; /* items grows, the free list does not */
    assert_int_equal(bs__pool_alloc(&p, &idx), BS_ENOMEM);
    assert_int_equal(p.live, 0);
    assert_int_equal(bs__pool_alloc(&p, &idx), 0);
    assert_int_equal(idx, 0);
    for (uint32_t i = 1; i < 64; i++)
        assert_int_equal(bs__pool_alloc(&p, &idx), 0);
    ((struct rec *)bs__pool_at(&p, 63))->a = 99;
    fail_after = 0; /* growth from 64 to 128 fails: everything stays */
    assert_int_equal(bs__pool_alloc(&p, &idx), BS_ENOMEM);
    assert_int_equal(p.live, 64);
    assert_int_equal(((struct rec *)bs__pool_at(&p, 63))->a, 99);
    assert_int_equal(bs__pool_alloc(&p, &idx), 0);
    assert_int_equal(idx, 64);
    bs__pool_deinit(&p);
}

static void pool_cookie(void **state)
{
    (void)state;
    assert_int_equal(bs__cookie(5, 7), (UINT64_C(7) << 32) | 5);
    assert_int_equal((uint32_t)bs__cookie(0xfffffffeu, 1), 0xfffffffeu);
    assert_int_equal(bs__cookie(0xfffffffeu, 0xffffffffu) >> 32, 0xffffffffu);
}

/* ---- error table ---------------------------------------------------------------------- */

static void errors_every_code(void **state)
{
    /* The expected texts are written out, not derived from BS_ERRNO_MAP. */
    static const struct {
        int code;
        const char *name, *msg;
    } table[] = {
        { 0, "OK", "success" },
        { -1, "ENOMEM", "out of memory" },
        { -2, "EINVAL", "invalid argument" },
        { -3, "EFORMAT", "malformed input" },
        { -4, "ELIMIT", "configured limit exceeded" },
        { -5, "ERANGE", "value out of range" },
        { -6, "ENOSPC", "output buffer too small" },
        { -7, "ESIG", "signature verification failed" },
        { -8, "ENOTFOUND", "not found" },
        { -9, "EIO", "input/output error" },
        { -10, "EEXIST", "already exists" },
        { -11, "ECRYPTO", "cryptographic library error" },
        { -12, "EOVERFLOW", "arithmetic overflow" },
        { -13, "ESTATE", "operation not valid in the current state" },
        { -14, "EKEY", "unknown or expired key" },
    };
    const int enums[] = { BS_OK,     BS_ENOMEM,  BS_EINVAL,    BS_EFORMAT,   BS_ELIMIT,
                          BS_ERANGE, BS_ENOSPC,  BS_ESIG,      BS_ENOTFOUND, BS_EIO,
                          BS_EEXIST, BS_ECRYPTO, BS_EOVERFLOW, BS_ESTATE,    BS_EKEY };

    (void)state;
    assert_int_equal(sizeof(enums) / sizeof(enums[0]), sizeof(table) / sizeof(table[0]));
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        assert_int_equal(enums[i], table[i].code);
        assert_string_equal(bs_errname(table[i].code), table[i].name);
        assert_string_equal(bs_strerror(table[i].code), table[i].msg);
        /* Names and texts are distinct, so an error can always be told apart. */
        for (size_t j = 0; j < i; j++) {
            assert_string_not_equal(bs_errname(table[i].code), bs_errname(table[j].code));
            assert_string_not_equal(bs_strerror(table[i].code), bs_strerror(table[j].code));
        }
    }
}

static void errors_unknown_codes(void **state)
{
    const int unknown[] = { 1, 2, 100, -15, -16, -1000, INT_MIN, INT_MAX };

    (void)state;
    for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
        assert_string_equal(bs_strerror(unknown[i]), "unknown error");
        assert_string_equal(bs_errname(unknown[i]), "EUNKNOWN");
    }
}

/* ---- allocator hook ------------------------------------------------------------------ */

static void alloc_hook_routes_everything(void **state)
{
    char *s;
    int *a;
    uint8_t *b;

    (void)state;
    b = bs_malloc(16);
    assert_non_null(b);
    assert_int_equal(n_malloc, 1);
    memset(b, 0xab, 16);
    b = bs_realloc(b, 4096);
    assert_non_null(b);
    assert_int_equal(n_realloc, 1);
    assert_int_equal(b[15], 0xab); /* realloc kept the contents */
    a = bs_calloc(10, sizeof(int));
    assert_non_null(a);
    assert_int_equal(n_calloc, 1);
    for (int i = 0; i < 10; i++)
        assert_int_equal(a[i], 0);
    s = bs_strdup("Mir \"2200\"");
    assert_non_null(s);
    assert_int_equal(n_malloc, 2);
    assert_string_equal(s, "Mir \"2200\"");
    bs_free(s);
    bs_free(a);
    bs_free(b);
    assert_int_equal(n_free, 3);
    bs_free(NULL); /* accepted, and not passed on */
    assert_int_equal(n_free, 3);
}

static void alloc_failures_reported(void **state)
{
    void *p;

    (void)state;
    fail_after = 0;
    assert_null(bs_malloc(8));
    fail_after = 0;
    assert_null(bs_calloc(1, 8));
    fail_after = 0;
    assert_null(bs_strdup("x"));
    p = bs_malloc(8);
    assert_non_null(p);
    fail_after = 0;
    assert_null(bs_realloc(p, 64)); /* the old block stays valid and is still ours */
    bs_free(p);
}

/* NULL restores the C library allocator; the hook is then no longer called. */
static void alloc_restore_default(void **state)
{
    void *p;

    (void)state;
    bs_set_allocator(NULL);
    p = bs_malloc(32);
    assert_non_null(p);
    bs_free(p);
    bs_set_allocator(&test_allocator);
    assert_int_equal(n_malloc, 0);
    assert_int_equal(n_free, 0);
    p = bs_malloc(32);
    assert_int_equal(n_malloc, 1);
    bs_free(p);
}

/* Maps and pools return every byte they take: the counts of the hook balance. */
static void alloc_map_pool_balance(void **state)
{
    struct bs__map m;
    struct bs__pool p;
    uint32_t idx;

    (void)state;
    assert_int_equal(bs__map_init(&m, 0, 0), 0);
    for (uint32_t i = 0; i < 3000; i++)
        assert_int_equal(bs__map_put(&m, (uint64_t)i * 2654435761u, i), 0);
    bs__map_deinit(&m);
    bs__map_deinit(&m); /* idempotent */
    bs__pool_init(&p, 24, 0);
    for (uint32_t i = 0; i < 3000; i++)
        assert_int_equal(bs__pool_alloc(&p, &idx), 0);
    bs__pool_deinit(&p);
    bs__pool_deinit(&p);
    /* cmocka's leak check after the test covers the bytes; here the call counts. */
    assert_true(n_calloc + n_realloc > 5);
    assert_true(n_free >= 3);
}

int main(void)
{
    const struct CMUnitTest map[] = {
        cmocka_unit_test_setup(map_init_capacity, reset_counters),
        cmocka_unit_test_setup(map_empty_lookups, reset_counters),
        cmocka_unit_test_setup(map_many_keys, reset_counters),
        cmocka_unit_test_setup(map_same_hash_many_values, reset_counters),
        cmocka_unit_test_setup(map_delete_middle_of_run, reset_counters),
        cmocka_unit_test_setup(map_delete_keeps_entries_at_home, reset_counters),
        cmocka_unit_test_setup(map_wraparound, reset_counters),
        cmocka_unit_test_setup(map_growth, reset_counters),
        cmocka_unit_test_setup(map_random_against_reference, reset_counters),
        cmocka_unit_test_setup(map_limit, reset_counters),
        cmocka_unit_test_setup(map_enomem, reset_counters),
        cmocka_unit_test_setup(map_hash_known_values, reset_counters),
    };
    const struct CMUnitTest pool[] = {
        cmocka_unit_test_setup(pool_alloc_release_generations, reset_counters),
        cmocka_unit_test_setup(pool_double_release_is_harmless, reset_counters),
        cmocka_unit_test_setup(pool_growth_keeps_indexes, reset_counters),
        cmocka_unit_test_setup(pool_limit, reset_counters),
        cmocka_unit_test_setup(pool_enomem, reset_counters),
        cmocka_unit_test_setup(pool_cookie, reset_counters),
    };
    const struct CMUnitTest errors[] = {
        cmocka_unit_test(errors_every_code),
        cmocka_unit_test(errors_unknown_codes),
    };
    const struct CMUnitTest alloc[] = {
        cmocka_unit_test_setup(alloc_hook_routes_everything, reset_counters),
        cmocka_unit_test_setup(alloc_failures_reported, reset_counters),
        cmocka_unit_test_setup(alloc_restore_default, reset_counters),
        cmocka_unit_test_setup(alloc_map_pool_balance, reset_counters),
    };
    int failed = 0;

    /* Before any object exists, as bs_set_allocator() requires. */
    bs_set_allocator(&test_allocator);
    failed += cmocka_run_group_tests_name("map", map, NULL, NULL);
    failed += cmocka_run_group_tests_name("pool", pool, NULL, NULL);
    failed += cmocka_run_group_tests_name("errors", errors, NULL, NULL);
    failed += cmocka_run_group_tests_name("alloc", alloc, NULL, NULL);
    bs_set_allocator(NULL);
    return failed ? 1 : 0;
}
