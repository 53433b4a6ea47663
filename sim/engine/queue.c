/* 4-ary heap keyed by (due, seq); see queue.h. */
#include "engine/queue.h"

static inline bool before(const struct bs_event *a, const struct bs_event *b)
{
    return a->due < b->due || (a->due == b->due && a->seq < b->seq);
}

int bs_queue_init(struct bs_queue *q, size_t initial)
{
    q->cap = initial ? initial : 1024;
    q->n = 0;
    q->seq = 0;
    q->h = bs_malloc(q->cap * sizeof(*q->h));
    return q->h ? 0 : BS_ENOMEM;
}

void bs_queue_deinit(struct bs_queue *q)
{
    for (size_t i = 0; i < q->n; i++)
        bs_free(q->h[i].buf);
    bs_free(q->h);
    q->h = NULL;
    q->n = q->cap = 0;
}

int bs_queue_push(struct bs_queue *q, struct bs_event *ev)
{
    size_t i;

    if (q->n == q->cap) {
        struct bs_event *h = bs_realloc(q->h, q->cap * 2 * sizeof(*h));
        if (!h)
            return BS_ENOMEM;
        q->h = h;
        q->cap *= 2;
    }
    ev->seq = q->seq++;
    i = q->n++;
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

bool bs_queue_pop(struct bs_queue *q, struct bs_event *ret)
{
    struct bs_event last;
    size_t i = 0;

    if (q->n == 0)
        return false;
    *ret = q->h[0];
    last = q->h[--q->n];
    for (;;) {
        size_t c = 4 * i + 1, best;
        if (c >= q->n)
            break;
        best = c;
        for (size_t k = c + 1; k < c + 4 && k < q->n; k++)
            if (before(&q->h[k], &q->h[best]))
                best = k;
        if (!before(&q->h[best], &last))
            break;
        q->h[i] = q->h[best];
        i = best;
    }
    q->h[i] = last;
    return true;
}
