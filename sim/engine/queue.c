/* Event queue: a two-level timing wheel in front of a small 4-ary heap; see queue.h. */
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include "engine/queue.h"

#define S0     5 /* a fine slot is 2^5 µs = 32 µs */
#define N0     (1 << 16)
#define K      14 /* a coarse slot is 2^K fine slots ≈ 0.5 s */
#define N1     (1 << 16)
#define NONE   UINT32_MAX
#define FREE_S UINT64_MAX /* seq of a record on the free list */

_Static_assert(N0 == N1, "one bitmap layout serves both wheels");
_Static_assert(N0 >> K >= 2, "the fine window spans at least two coarse slots");

struct bs__qhent {
    bs_time_us due;
    uint64_t seq;
    uint32_t idx;
};

/* A piece of a bucket: record indexes, so that a flush can prefetch the records of a whole
 * chunk at once instead of chasing a list through cold memory (one cache line). */
#define CHUNK_IDX 14
struct qchunk {
    uint32_t next;
    uint32_t n;
    uint32_t idx[CHUNK_IDX];
};

/* A wheel's non-empty buckets, a bit per slot and a summary bit per 64 slots. */
struct bits {
    uint64_t w[N0 / 64];
    uint64_t sum[N0 / 4096];
};

struct bs__qwheel {
    uint32_t head0[N0], head1[N1]; /* buckets: lists of chunks, newest first */
    struct qchunk *ch;             /* chunk pool: @chtop used, room for @chcap */
    uint32_t chtop, chcap, chfree;
    struct bits b0, b1;
    size_t c0, c1;        /* events in each wheel */
    struct bs__qhent *ov; /* overflow: a heap of events beyond the coarse wheel */
    size_t ovn, ovcap;
    uint32_t pend; /* chunks of a flushed fine slot not yet in the heap (out of memory) */
};

static inline int64_t slot0(bs_time_us due)
{
    return (int64_t)(due >> S0); /* arithmetic: negative times get negative slots */
}

static inline int64_t slot1(bs_time_us due)
{
    return (int64_t)(due >> (S0 + K));
}

/* The last coarse slot that lies wholly inside the fine window (done, done + N0). */
static inline int64_t done1_of(int64_t done0)
{
    return ((done0 + N0) >> K) - 1;
}

static inline bool before(bs_time_us ad, uint64_t as, bs_time_us bd, uint64_t bs)
{
    return ad < bd || (ad == bd && as < bs);
}

static void bit_set(struct bits *b, size_t i)
{
    b->w[i >> 6] |= UINT64_C(1) << (i & 63);
    b->sum[i >> 12] |= UINT64_C(1) << ((i >> 6) & 63);
}

static void bit_clear(struct bits *b, size_t i)
{
    if (!(b->w[i >> 6] &= ~(UINT64_C(1) << (i & 63))))
        b->sum[i >> 12] &= ~(UINT64_C(1) << ((i >> 6) & 63));
}

/* The first set bit at or after @from in 0 .. N0 - 1, or -1. */
static long bit_next_linear(const struct bits *b, size_t from)
{
    size_t wi = from >> 6, nw, si;
    uint64_t x, sm;

    if (from >= N0)
        return -1;
    x = b->w[wi] & (~UINT64_C(0) << (from & 63));
    if (x)
        return (long)(wi << 6 | (size_t)__builtin_ctzll(x));
    nw = wi + 1;
    if (nw >= N0 / 64)
        return -1;
    si = nw >> 6;
    sm = b->sum[si] & (~UINT64_C(0) << (nw & 63));
    for (;;) {
        if (sm) {
            size_t w = si << 6 | (size_t)__builtin_ctzll(sm);
            return (long)(w << 6 | (size_t)__builtin_ctzll(b->w[w]));
        }
        if (++si >= N0 / 4096)
            return -1;
        sm = b->sum[si];
    }
}

/* The first non-empty absolute slot at or after @from (ring of N0 slots), which exists. */
static int64_t bit_next(const struct bits *b, int64_t from)
{
    size_t r = (size_t)from & (N0 - 1);
    long i = bit_next_linear(b, r);

    if (i < 0)
        i = bit_next_linear(b, 0);
    return from + (int64_t)(((size_t)i - r) & (N0 - 1));
}

/*
 * Ask for transparent huge pages under the records of a queue sized up front for a large
 * population (bs_queue_init() with @initial in the millions): a million pending events
 * are 64 MB of records touched in no particular order, and with 4 KiB pages nearly every
 * touch would also miss the TLB. Not on growth: a run that grows its queue keeps its
 * footprint to what it touches. Advice only; ignored where unsupported.
 */
static void huge_advice(void *p, size_t n)
{
#ifdef MADV_HUGEPAGE
    uintptr_t a = ((uintptr_t)p + (1u << 21) - 1) & ~(uintptr_t)((1u << 21) - 1);
    uintptr_t e = ((uintptr_t)p + n) & ~(uintptr_t)((1u << 21) - 1);

    if (e > a)
        (void)madvise((void *)a, e - a, MADV_HUGEPAGE);
#else
    (void)p;
    (void)n;
#endif
}

int bs_queue_init(struct bs_queue *q, size_t initial)
{
    memset(q, 0, sizeof(*q));
    q->cap = initial ? initial : 1024;
    q->h = bs_malloc(q->cap * sizeof(*q->h));
    q->rcap = (uint32_t)(initial ? initial : 1024);
    q->rec = bs_malloc((size_t)q->rcap * sizeof(*q->rec));
    q->wh = bs_calloc(1, sizeof(*q->wh));
    q->free = NONE;
    q->started = false;
    if (q->wh)
        q->wh->chfree = q->wh->pend = NONE;
    if (!q->h || !q->rec || !q->wh) {
        bs_queue_deinit(q);
        return BS_ENOMEM;
    }
    huge_advice(q->rec, (size_t)q->rcap * sizeof(*q->rec));
    for (size_t i = 0; i < N0; i++)
        q->wh->head0[i] = NONE;
    for (size_t i = 0; i < N1; i++)
        q->wh->head1[i] = NONE;
    return 0;
}

void bs_queue_deinit(struct bs_queue *q)
{
    for (uint32_t i = 0; q->rec && i < q->rtop; i++)
        if (q->rec[i].seq != FREE_S)
            bs_free(q->rec[i].buf);
    for (size_t i = 0; q->h && i < q->hn; i++)
        bs_free(q->h[i].buf);
    if (q->wh) {
        bs_free(q->wh->ov);
        bs_free(q->wh->ch);
    }
    bs_free(q->wh);
    bs_free(q->rec);
    bs_free(q->h);
    memset(q, 0, sizeof(*q));
}

/* A record for @ev. Return: its index; NONE when out of memory. */
static uint32_t rec_new(struct bs_queue *q, const struct bs_event *ev)
{
    uint32_t i = q->free;

    if (i != NONE) {
        q->free = q->rec[i].link;
    } else {
        if (q->rtop == q->rcap) {
            uint32_t cap = q->rcap * 2;
            struct bs_event *r;
            if (cap <= q->rcap || cap == NONE)
                return NONE;
            r = bs_realloc(q->rec, (size_t)cap * sizeof(*r));
            if (!r)
                return NONE;
            q->rec = r;
            q->rcap = cap;
        }
        i = q->rtop++;
    }
    q->rec[i] = *ev;
    return i;
}

static void rec_free(struct bs_queue *q, uint32_t i)
{
    q->rec[i].seq = FREE_S;
    q->rec[i].link = q->free;
    q->free = i;
}

/*
 * 4-ary min-heaps on (due, seq): HEAP(name, type) defines name_push() and name_pop() for
 * an array of @type, each element with a due and a seq.
 */
#define HEAP(name, type)                                                       \
    static int name##_push(type **hp, size_t *np, size_t *capp, const type *e) \
    {                                                                          \
        type *h = *hp;                                                         \
        size_t i;                                                              \
                                                                               \
        if (*np == *capp) {                                                    \
            size_t cap = *capp ? *capp * 2 : 64;                               \
            h = bs_realloc(h, cap * sizeof(*h));                               \
            if (!h)                                                            \
                return BS_ENOMEM;                                              \
            *hp = h;                                                           \
            *capp = cap;                                                       \
        }                                                                      \
        i = (*np)++;                                                           \
        while (i > 0) {                                                        \
            size_t parent = (i - 1) / 4;                                       \
            if (!before(e->due, e->seq, h[parent].due, h[parent].seq))         \
                break;                                                         \
            h[i] = h[parent];                                                  \
            i = parent;                                                        \
        }                                                                      \
        h[i] = *e;                                                             \
        return 0;                                                              \
    }                                                                          \
                                                                               \
    static void name##_pop(type *h, size_t *np, type *ret)                     \
    {                                                                          \
        size_t i = 0, n;                                                       \
        type last;                                                             \
                                                                               \
        *ret = h[0];                                                           \
        n = --*np;                                                             \
        last = h[n];                                                           \
        for (;;) {                                                             \
            size_t c = 4 * i + 1, best;                                        \
            if (c >= n)                                                        \
                break;                                                         \
            best = c;                                                          \
            for (size_t k = c + 1; k < c + 4 && k < n; k++)                    \
                if (before(h[k].due, h[k].seq, h[best].due, h[best].seq))      \
                    best = k;                                                  \
            if (!before(h[best].due, h[best].seq, last.due, last.seq))         \
                break;                                                         \
            h[i] = h[best];                                                    \
            i = best;                                                          \
        }                                                                      \
        h[i] = last;                                                           \
    }

/* The near heap holds whole events (what pops read is at hand); the overflow heap only
 * keys and record indexes. */
HEAP(near, struct bs_event)
HEAP(ovf, struct bs__qhent)

/* Add record @i to bucket @r of a wheel (@heads, its bitmap @b and count @count).
 * Return: 0; BS_ENOMEM. */
static int bucket_add(struct bs__qwheel *wh, uint32_t *heads, struct bits *b, size_t *count,
                      size_t r, uint32_t i)
{
    uint32_t c = heads[r];

    if (c == NONE || wh->ch[c].n == CHUNK_IDX) {
        uint32_t nc = wh->chfree;
        if (nc != NONE) {
            wh->chfree = wh->ch[nc].next;
        } else {
            if (wh->chtop == wh->chcap) {
                uint32_t cap = wh->chcap ? wh->chcap * 2 : 1024;
                struct qchunk *ch = bs_realloc(wh->ch, (size_t)cap * sizeof(*ch));
                if (!ch)
                    return BS_ENOMEM;
                wh->ch = ch;
                wh->chcap = cap;
            }
            nc = wh->chtop++;
        }
        wh->ch[nc].next = c;
        wh->ch[nc].n = 0;
        if (c == NONE)
            bit_set(b, r);
        heads[r] = c = nc;
    }
    wh->ch[c].idx[wh->ch[c].n++] = i;
    ++*count;
    return 0;
}

/* Take chunk @c out of its bucket: a copy of it (placing records may grow the pool),
 * with the records it names prefetched; the chunk goes back to the free list. */
static void chunk_take(struct bs_queue *q, uint32_t c, struct qchunk *ret)
{
    struct bs__qwheel *wh = q->wh;

    *ret = wh->ch[c];
    if (ret->next != NONE)
        __builtin_prefetch(&wh->ch[ret->next]);
    for (uint32_t j = 0; j < ret->n; j++)
        __builtin_prefetch(&q->rec[ret->idx[j]]);
    wh->ch[c].next = wh->chfree;
    wh->chfree = c;
}

/* Put record @i where it belongs now. Return: 0; BS_ENOMEM (heap growth). */
static int place(struct bs_queue *q, uint32_t i)
{
    struct bs__qwheel *wh = q->wh;
    const struct bs_event *ev = &q->rec[i];
    int64_t s = slot0(ev->due), s1;
    struct bs__qhent e;

    /* heap: fine slots <= done0; fine wheel: later slots of the coarse slots <= done1
     * (cascaded); coarse wheel: the next N1 coarse slots; overflow: the rest. Each level
     * holds only events later than every event of the levels before it. */
    if (s <= q->done0) {
        int rc = near_push(&q->h, &q->hn, &q->cap, ev);
        if (rc == 0)
            rec_free(q, i);
        return rc;
    }
    s1 = slot1(ev->due);
    if (s1 <= q->done1) /* cascaded: s < (done1 + 1) << K <= done0 + N0, in the ring */
        return bucket_add(wh, wh->head0, &wh->b0, &wh->c0, (size_t)s & (N0 - 1), i);
    if (s1 - q->done1 <= N1)
        return bucket_add(wh, wh->head1, &wh->b1, &wh->c1, (size_t)s1 & (N1 - 1), i);
    e = (struct bs__qhent){ ev->due, ev->seq, i };
    return ovf_push(&wh->ov, &wh->ovn, &wh->ovcap, &e);
}

int bs_queue_push(struct bs_queue *q, struct bs_event *ev)
{
    uint32_t i;

    ev->seq = q->seq;
    if (!q->started) {
        /* The first event fixes where the wheels start: its slot is the current one. */
        q->started = true;
        q->done0 = slot0(ev->due);
        q->done1 = done1_of(q->done0);
    }
    i = rec_new(q, ev);
    if (i == NONE)
        return BS_ENOMEM;
    if (place(q, i) != 0) {
        rec_free(q, i);
        return BS_ENOMEM;
    }
    q->seq++;
    q->n++;
    return 0;
}

/*
 * Move the fine window on to (@done0, @done0 + N0): the coarse slots that now lie wholly
 * inside it go down into fine buckets, and overflow events that now fit go up. @done0 is
 * never past an event still in the wheels.
 */
static int advance(struct bs_queue *q, int64_t done0)
{
    struct bs__qwheel *wh = q->wh;
    int64_t d1 = done1_of(done0);

    q->done0 = done0;
    while (wh->c1 && q->done1 < d1) {
        int64_t s1 = bit_next(&wh->b1, q->done1 + 1);
        size_t r;
        uint32_t c;

        if (s1 > d1)
            break;
        r = (size_t)s1 & (N1 - 1);
        c = wh->head1[r];
        wh->head1[r] = NONE;
        bit_clear(&wh->b1, r);
        q->done1 = s1;
        while (c != NONE) {
            struct qchunk k;
            chunk_take(q, c, &k);
            for (uint32_t j = 0; j < k.n; j++) {
                wh->c1--;
                if (place(q, k.idx[j]) != 0)
                    return BS_ENOMEM;
            }
            c = k.next;
        }
    }
    q->done1 = d1;
    while (wh->ovn && slot1(wh->ov[0].due) - q->done1 <= N1) {
        struct bs__qhent e;
        ovf_pop(wh->ov, &wh->ovn, &e);
        if (place(q, e.idx) != 0)
            return BS_ENOMEM;
    }
    return 0;
}

/* Move the pending chunks' events into the heap. Return: false when the heap could not
 * grow (the rest stay pending). */
static bool drain(struct bs_queue *q)
{
    struct bs__qwheel *wh = q->wh;

    while (wh->pend != NONE) {
        uint32_t c = wh->pend;

        for (uint32_t j = 0; j < wh->ch[c].n; j++)
            __builtin_prefetch(&q->rec[wh->ch[c].idx[j]]);
        if (wh->ch[c].next != NONE)
            __builtin_prefetch(&wh->ch[wh->ch[c].next]);
        while (wh->ch[c].n) {
            uint32_t i = wh->ch[c].idx[wh->ch[c].n - 1];
            if (near_push(&q->h, &q->hn, &q->cap, &q->rec[i]) != 0)
                return false;
            rec_free(q, i);
            wh->ch[c].n--;
        }
        wh->pend = wh->ch[c].next;
        wh->ch[c].next = wh->chfree;
        wh->chfree = c;
    }
    return true;
}

/* Bring the earliest event to the top of the heap. Return: false when the queue is empty
 * or out of memory (an event could not be moved into the heap). */
static bool settle(struct bs_queue *q)
{
    struct bs__qwheel *wh = q->wh;

    for (;;) {
        if (wh->pend != NONE && !drain(q))
            return true; /* out of memory: pops scan the rest (pend_min()) */
        if (q->hn)
            return true;
        if (wh->c0) {
            int64_t s = bit_next(&wh->b0, q->done0 + 1);
            size_t r = (size_t)s & (N0 - 1);

            wh->pend = wh->head0[r];
            wh->head0[r] = NONE;
            bit_clear(&wh->b0, r);
            for (uint32_t c = wh->pend; c != NONE; c = wh->ch[c].next)
                wh->c0 -= wh->ch[c].n;
            if (advance(q, s) != 0)
                return false;
        } else if (wh->c1) {
            /* Jump to the first coarse slot: its first fine slot follows the new window. */
            int64_t s1 = bit_next(&wh->b1, q->done1 + 1);
            if (advance(q, (s1 << K) - 1) != 0)
                return false;
        } else if (wh->ovn) {
            if (advance(q, slot0(wh->ov[0].due) - 1) != 0)
                return false;
        } else {
            return false;
        }
    }
}

/* Out of memory while draining: the earliest event of the pending chunks (*@rc, *@rj). */
static struct bs_event *pend_min(struct bs_queue *q, uint32_t *rc, uint32_t *rj)
{
    struct bs_event *best = NULL;

    for (uint32_t c = q->wh->pend; c != NONE; c = q->wh->ch[c].next)
        for (uint32_t j = 0; j < q->wh->ch[c].n; j++) {
            struct bs_event *e = &q->rec[q->wh->ch[c].idx[j]];
            if (!best || before(e->due, e->seq, best->due, best->seq)) {
                best = e;
                *rc = c;
                *rj = j;
            }
        }
    return best;
}

/* The pending event to hand out now instead of the heap's top, or NULL. */
static struct bs_event *pend_first(struct bs_queue *q, uint32_t *rc, uint32_t *rj)
{
    struct bs_event *b;

    if (q->wh->pend == NONE)
        return NULL;
    b = pend_min(q, rc, rj);
    if (b && q->hn && !before(b->due, b->seq, q->h[0].due, q->h[0].seq))
        return NULL;
    return b;
}

bool bs_queue_pop(struct bs_queue *q, struct bs_event *ret)
{
    struct bs_event *b;
    uint32_t c = 0, j = 0;

    if (q->n == 0)
        return false;
    if (!settle(q)) {
        q->oom = true;
        return false;
    }
    b = pend_first(q, &c, &j);
    if (b) {
        /* Fill its place with the head chunk's last index; drop the head when empty. */
        struct bs__qwheel *wh = q->wh;
        uint32_t h = wh->pend, i = (uint32_t)(b - q->rec);

        *ret = *b;
        wh->ch[c].idx[j] = wh->ch[h].idx[--wh->ch[h].n];
        if (wh->ch[h].n == 0) {
            wh->pend = wh->ch[h].next;
            wh->ch[h].next = wh->chfree;
            wh->chfree = h;
        }
        rec_free(q, i);
    } else {
        near_pop(q->h, &q->hn, ret);
    }
    q->n--;
    return true;
}

const struct bs_event *bs_queue_peek(struct bs_queue *q)
{
    const struct bs_event *b;
    uint32_t c, j;

    if (q->n == 0)
        return NULL;
    if (!settle(q)) {
        q->oom = true;
        return NULL;
    }
    b = pend_first(q, &c, &j);
    return b ? b : &q->h[0];
}
