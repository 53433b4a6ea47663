/* Event queue: a calendar of per-slot buckets in front of a 4-ary heap; see queue.h. */
#include "engine/queue.h"

#define SLOT_SHIFT 17        /* a slot is 2^17 µs ≈ 131 ms */
#define NSLOTS     (1 << 16) /* the calendar spans 2^33 µs ≈ 2.4 h */
#define CHUNK_EVS  63        /* events per chunk: a chunk is just under 4 KiB */
#define FREE_KEEP  256       /* empty chunks kept for reuse (1 MiB) */

struct chunk {
    struct chunk *next;
    uint32_t n;
    struct bs_event ev[CHUNK_EVS];
};

struct bs__qfar {
    struct chunk **slot; /* NSLOTS bucket heads; a bucket holds one slot's events */
    struct chunk *free;
    size_t nfree;
    int64_t done; /* every event of a slot <= done is in the heap (or handed out) */
    int64_t scan; /* no bucket below this slot holds events */
    size_t count; /* events in buckets */
};

static inline int64_t slot_of(bs_time_us due)
{
    return (int64_t)(due >> SLOT_SHIFT); /* arithmetic: negative times get negative slots */
}

static inline bool before(const struct bs_event *a, const struct bs_event *b)
{
    return a->due < b->due || (a->due == b->due && a->seq < b->seq);
}

int bs_queue_init(struct bs_queue *q, size_t initial)
{
    q->cap = initial ? initial : 1024;
    q->n = q->hn = 0;
    q->seq = 0;
    q->far = NULL;
    q->h = bs_malloc(q->cap * sizeof(*q->h));
    return q->h ? 0 : BS_ENOMEM;
}

static void free_chunks(struct chunk *c, bool bufs)
{
    while (c) {
        struct chunk *next = c->next;
        for (uint32_t i = 0; bufs && i < c->n; i++)
            bs_free(c->ev[i].buf);
        bs_free(c);
        c = next;
    }
}

void bs_queue_deinit(struct bs_queue *q)
{
    for (size_t i = 0; i < q->hn; i++)
        bs_free(q->h[i].buf);
    if (q->far) {
        for (size_t s = 0; s < NSLOTS; s++)
            free_chunks(q->far->slot[s], true);
        free_chunks(q->far->free, false);
        bs_free(q->far->slot);
        bs_free(q->far);
    }
    bs_free(q->h);
    q->h = NULL;
    q->far = NULL;
    q->n = q->hn = q->cap = 0;
}

/* Insert @ev (seq already set) into the heap. Return: 0; BS_ENOMEM. */
static int heap_insert(struct bs_queue *q, const struct bs_event *ev)
{
    size_t i;

    if (q->hn == q->cap) {
        struct bs_event *h = bs_realloc(q->h, q->cap * 2 * sizeof(*h));
        if (!h)
            return BS_ENOMEM;
        q->h = h;
        q->cap *= 2;
    }
    i = q->hn++;
    while (i > 0) {
        size_t parent = (i - 1) / 4;
        if (!before(ev, &q->h[parent]))
            break;
        q->h[i] = q->h[parent];
        i = parent;
    }
    q->h[i] = *ev;
    return 0;
}

static void heap_pop(struct bs_queue *q, struct bs_event *ret)
{
    struct bs_event last;
    size_t i = 0;

    *ret = q->h[0];
    last = q->h[--q->hn];
    for (;;) {
        size_t c = 4 * i + 1, best;
        if (c >= q->hn)
            break;
        best = c;
        for (size_t k = c + 1; k < c + 4 && k < q->hn; k++)
            if (before(&q->h[k], &q->h[best]))
                best = k;
        if (!before(&q->h[best], &last))
            break;
        q->h[i] = q->h[best];
        i = best;
    }
    q->h[i] = last;
}

/* Append @ev to its slot's bucket. Return: false when out of memory (nothing changed). */
static bool far_add(struct bs_queue *q, const struct bs_event *ev, int64_t s)
{
    struct bs__qfar *f = q->far;
    struct chunk **head;

    head = &f->slot[(size_t)s & (NSLOTS - 1)];
    if (!*head || (*head)->n == CHUNK_EVS) {
        struct chunk *c = f->free;
        if (c) {
            f->free = c->next;
            f->nfree--;
        } else if (!(c = bs_malloc(sizeof(*c)))) {
            return false;
        }
        c->n = 0;
        c->next = *head;
        *head = c;
    }
    (*head)->ev[(*head)->n++] = *ev;
    f->count++;
    if (s < f->scan)
        f->scan = s;
    return true;
}

/* The calendar, created when first needed; NULL when out of memory (the heap is used). */
static struct bs__qfar *far_get(struct bs_queue *q)
{
    struct bs__qfar *f = q->far;

    if (f)
        return f;
    f = bs_calloc(1, sizeof(*f));
    if (!f)
        return NULL;
    f->slot = bs_calloc(NSLOTS, sizeof(*f->slot));
    if (!f->slot) {
        bs_free(f);
        return NULL;
    }
    /* Only called with a non-empty heap: its minimum's slot is where the calendar starts. */
    f->done = slot_of(q->h[0].due);
    f->scan = f->done + 1;
    q->far = f;
    return f;
}

int bs_queue_push(struct bs_queue *q, struct bs_event *ev)
{
    int64_t s = slot_of(ev->due);
    struct bs__qfar *f;

    ev->seq = q->seq;
    /* The calendar only takes events of a slot after the last one handed out, within its
     * ring; anything else (and everything while the heap is empty) goes to the heap. */
    if (q->hn > 0 && (f = far_get(q)) != NULL && s > f->done && s - f->done < NSLOTS &&
        far_add(q, ev, s)) {
        q->seq++;
        q->n++;
        return 0;
    }
    if (heap_insert(q, ev) != 0)
        return BS_ENOMEM;
    q->seq++;
    q->n++;
    return 0;
}

/* The lowest slot with events in the calendar (there is one). */
static int64_t far_next(struct bs__qfar *f)
{
    while (!f->slot[(size_t)f->scan & (NSLOTS - 1)])
        f->scan++;
    return f->scan;
}

static void recycle(struct bs__qfar *f, struct chunk *c)
{
    if (f->nfree >= FREE_KEEP) {
        bs_free(c);
        return;
    }
    c->next = f->free;
    f->free = c;
    f->nfree++;
}

/*
 * Move slot @s's bucket into the heap. Return: false when the heap could not grow; the
 * events not moved stay in the bucket, and the caller pops from it by scanning.
 */
static bool far_flush(struct bs_queue *q, int64_t s)
{
    struct bs__qfar *f = q->far;
    struct chunk **head = &f->slot[(size_t)s & (NSLOTS - 1)];

    while (*head) {
        struct chunk *c = *head;
        while (c->n) {
            if (heap_insert(q, &c->ev[c->n - 1]) != 0)
                return false;
            c->n--;
            f->count--;
        }
        *head = c->next;
        recycle(f, c);
    }
    if (s > f->done)
        f->done = s;
    return true;
}

/* Out of memory while flushing slot @s: the earliest event of its bucket, or NULL. */
static struct bs_event *bucket_min(struct bs__qfar *f, int64_t s)
{
    struct bs_event *best = NULL;

    for (struct chunk *c = f->slot[(size_t)s & (NSLOTS - 1)]; c; c = c->next)
        for (uint32_t i = 0; i < c->n; i++)
            if (!best || before(&c->ev[i], best))
                best = &c->ev[i];
    return best;
}

/* Remove *@ev (from bucket_min()) from slot @s's bucket. */
static void bucket_remove(struct bs__qfar *f, int64_t s, struct bs_event *ev)
{
    struct chunk **head = &f->slot[(size_t)s & (NSLOTS - 1)], *c = *head;

    /* Fill the hole with the head chunk's last event, then drop the head if empty. */
    *ev = c->ev[--c->n];
    f->count--;
    if (c->n == 0) {
        *head = c->next;
        recycle(f, c);
    }
}

/*
 * Bring the queue to where its earliest event is the heap's top, or (after a failed
 * flush) return the bucket event that is earlier than everything in the heap.
 */
static struct bs_event *settle(struct bs_queue *q, int64_t *ret_slot)
{
    struct bs__qfar *f = q->far;

    while (f && f->count) {
        int64_t s = far_next(f);
        if (q->hn && slot_of(q->h[0].due) < s)
            break;
        if (!far_flush(q, s)) {
            struct bs_event *b = bucket_min(f, s);
            if (b && (!q->hn || before(b, &q->h[0]))) {
                *ret_slot = s;
                return b;
            }
            break;
        }
    }
    return NULL;
}

bool bs_queue_pop(struct bs_queue *q, struct bs_event *ret)
{
    struct bs_event *b;
    int64_t s = 0;

    if (q->n == 0)
        return false;
    b = settle(q, &s);
    if (b) {
        *ret = *b;
        bucket_remove(q->far, s, b);
    } else {
        heap_pop(q, ret);
    }
    q->n--;
    if (q->far) {
        /* The engine's clock is now at ret->due and schedules nothing earlier: the calendar
         * may take any later slot, but never one whose bucket still holds events. */
        struct bs__qfar *f = q->far;
        int64_t done = slot_of(ret->due);
        if (f->count) {
            int64_t first = far_next(f);
            if (done > first - 1)
                done = first - 1;
        }
        if (done > f->done)
            f->done = done;
        if (f->scan <= f->done)
            f->scan = f->done + 1;
    }
    return true;
}

const struct bs_event *bs_queue_peek(struct bs_queue *q)
{
    struct bs_event *b;
    int64_t s;

    if (q->n == 0)
        return NULL;
    b = settle(q, &s);
    return b ? b : &q->h[0];
}
