/*
 * Replay protection for verified messages: a timestamp window and a time-bucketed set of
 * message digests (see bs_replay_check() and docs/security.md).
 *
 * Memory is bounded twice. In time: the digests live in NBUCKETS buckets, each holding the
 * messages first seen during one slice of time; a bucket is emptied when its slot comes
 * round again, NBUCKETS - 1 slices later, which is at least 2·window + 2 s — the longest any
 * timestamp the window accepts can stay acceptable (a message stamped up to `window` in the
 * verifier's future stays fresh until `window` after that, and DE 7 has a resolution of one
 * second). In count: never more than max_entries digests; a full cache fails closed.
 */
#include <limits.h>
#include <string.h>

#include <openssl/evp.h>

#include "crypto_int.h"

#define NBUCKETS   8
#define MARGIN_US  (2 * BS_US_PER_SEC) /* DE 7 has whole seconds */
#define FIRST_CAP  64                  /* entries; a power of two */
#define DIGEST_LEN 32

/* One time slice's digests: open addressing over 128-bit keys, (0, 0) marks a free slot. */
struct bucket {
    int64_t slice;
    uint64_t *tab; /* 2 words per entry */
    size_t cap, n;
};

struct bs_replay {
    bs_time_us window, slice_us;
    size_t max, total;
    struct bucket b[NBUCKETS];
    EVP_MD *sha256;
    EVP_MD_CTX *md;
};

int bs_replay_new(bs_time_us window, size_t max_entries, struct bs_replay **ret)
{
    struct bs_replay *r;

    if (ret == NULL || window <= 0 || max_entries == 0 || window > INT64_MAX / 4)
        return BS_EINVAL;
    r = bs_calloc(1, sizeof(*r));
    if (r == NULL)
        return BS_ENOMEM;
    r->window = window;
    r->slice_us = (2 * window + MARGIN_US + NBUCKETS - 2) / (NBUCKETS - 1);
    r->max = max_entries;
    for (int i = 0; i < NBUCKETS; i++)
        r->b[i].slice = INT64_MIN;
    r->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    r->md = EVP_MD_CTX_new();
    if (r->sha256 == NULL || r->md == NULL) {
        bs_replay_free(r);
        return bs__crypto_fail();
    }
    *ret = r;
    return 0;
}

void bs_replay_free(struct bs_replay *r)
{
    if (r == NULL)
        return;
    for (int i = 0; i < NBUCKETS; i++)
        bs_free(r->b[i].tab);
    EVP_MD_CTX_free(r->md);
    EVP_MD_free(r->sha256);
    bs_free(r);
}

size_t bs_replay_count(const struct bs_replay *r)
{
    return r ? r->total : 0;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;

    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static bool bucket_has(const struct bucket *b, uint64_t hi, uint64_t lo)
{
    size_t mask, i;

    if (b->n == 0)
        return false;
    mask = b->cap - 1;
    for (i = (size_t)lo & mask;; i = (i + 1) & mask) {
        const uint64_t *e = &b->tab[2 * i];

        if (e[0] == 0 && e[1] == 0)
            return false;
        if (e[0] == hi && e[1] == lo)
            return true;
    }
}

static void bucket_put(struct bucket *b, uint64_t hi, uint64_t lo)
{
    size_t mask = b->cap - 1, i;

    for (i = (size_t)lo & mask;; i = (i + 1) & mask) {
        uint64_t *e = &b->tab[2 * i];

        if (e[0] == 0 && e[1] == 0) {
            e[0] = hi;
            e[1] = lo;
            b->n++;
            return;
        }
    }
}

/* Make room for one more entry: the table stays at most three quarters full. */
static int bucket_reserve(struct bucket *b)
{
    struct bucket nb;
    size_t cap;

    if (b->tab != NULL && (b->n + 1) * 4 <= b->cap * 3)
        return 0;
    cap = b->tab == NULL ? FIRST_CAP : b->cap * 2;
    if (cap > SIZE_MAX / (2 * sizeof(uint64_t)))
        return BS_ENOMEM;
    nb.slice = b->slice;
    nb.cap = cap;
    nb.n = 0;
    nb.tab = bs_calloc(cap * 2, sizeof(uint64_t));
    if (nb.tab == NULL)
        return BS_ENOMEM;
    for (size_t i = 0; b->tab != NULL && i < b->cap; i++) {
        const uint64_t *e = &b->tab[2 * i];

        if (e[0] != 0 || e[1] != 0)
            bucket_put(&nb, e[0], e[1]);
    }
    bs_free(b->tab);
    *b = nb;
    return 0;
}

static uint64_t load64(const uint8_t *p)
{
    uint64_t v = 0;

    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

int bs_replay_check(struct bs_replay *r, bs_time_us now, bs_time_us sent, const uint8_t *msg,
                    size_t n, bool remember)
{
    static const uint8_t empty[1];
    uint8_t dg[DIGEST_LEN];
    unsigned int dl = 0;
    uint64_t hi, lo;
    int64_t k;
    struct bucket *b;
    int rc;

    if (r == NULL || (msg == NULL && n > 0))
        return BS_EINVAL;
    /* Compared as differences: both are µs since the epoch, far from overflow. */
    if (sent < now - r->window || sent > now + r->window)
        return BS_ERANGE;
    if (!remember)
        return 0;
    if (EVP_DigestInit_ex2(r->md, r->sha256, NULL) != 1 ||
        EVP_DigestUpdate(r->md, msg ? msg : empty, n) != 1 ||
        EVP_DigestFinal_ex(r->md, dg, &dl) != 1 || dl != DIGEST_LEN)
        return bs__crypto_fail();
    /* 128 bits of SHA-256: a false "seen" needs a collision among at most 2^20 digests. */
    hi = load64(dg);
    lo = load64(dg + 8);
    if (hi == 0 && lo == 0)
        lo = 1;

    k = floor_div(now, r->slice_us);
    for (int i = 0; i < NBUCKETS; i++) {
        const struct bucket *c = &r->b[i];

        if (c->slice > k - NBUCKETS && c->slice < k + NBUCKETS && bucket_has(c, hi, lo))
            return BS_EEXIST;
    }
    b = &r->b[(size_t)(((k % NBUCKETS) + NBUCKETS) % NBUCKETS)];
    if (b->slice != k) {
        /* The slot's previous slice is NBUCKETS slices away: everything in it is too old
         * (or, after the clock went back that far, too far ahead) to matter. */
        r->total -= b->n;
        b->n = 0;
        if (b->tab != NULL)
            memset(b->tab, 0, b->cap * 2 * sizeof(uint64_t));
        b->slice = k;
    }
    if (r->total >= r->max)
        return BS_ELIMIT;
    rc = bucket_reserve(b);
    if (rc != 0)
        return rc;
    bucket_put(b, hi, lo);
    r->total++;
    return 0;
}

/* ---- DE 7 ------------------------------------------------------------------------------ */

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    int64_t era;
    unsigned yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = (unsigned)(y - era * 400);
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

/* The year of @t (µs since the epoch), the inverse direction (civil_from_days). */
static int64_t year_of(bs_time_us t)
{
    int64_t z = floor_div(t, 86400 * BS_US_PER_SEC) + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    unsigned m = mp < 10 ? mp + 3 : mp - 9;

    return (int64_t)yoe + era * 400 + (m <= 2);
}

static bool leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int bs_de7_to_time(const char *de7, size_t n, bs_time_us now, bs_time_us *ret)
{
    static const unsigned mdays[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    unsigned v[5], mo, d, h, mi, s;
    bs_time_us best = 0;
    bool found = false;
    int64_t y0;

    if (de7 == NULL || ret == NULL || n != 10)
        return BS_EFORMAT;
    for (size_t i = 0; i < 10; i++)
        if (de7[i] < '0' || de7[i] > '9')
            return BS_EFORMAT;
    for (int i = 0; i < 5; i++)
        v[i] = (unsigned)(de7[2 * i] - '0') * 10 + (unsigned)(de7[2 * i + 1] - '0');
    mo = v[0];
    d = v[1];
    h = v[2];
    mi = v[3];
    s = v[4];
    if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || s > 59)
        return BS_EFORMAT;
    y0 = year_of(now);
    for (int64_t y = y0 - 1; y <= y0 + 1; y++) {
        bs_time_us t;

        if (mo == 2 && d == 29 && !leap(y))
            continue;
        t = (days_from_civil(y, mo, d) * 86400 + (int64_t)h * 3600 + (int64_t)mi * 60 + s) *
            BS_US_PER_SEC;
        if (!found || (t > now ? t - now : now - t) < (best > now ? best - now : now - best)) {
            best = t;
            found = true;
        }
    }
    if (!found)
        return BS_EFORMAT;
    *ret = best;
    return 0;
}
