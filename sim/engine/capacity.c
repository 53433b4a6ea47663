/* FIFO multi-server queue in front of a node; see capacity.h. */
#include "engine/capacity.h"

struct bs_capacity {
    uint32_t workers;
    int64_t limit;       /* < 0: unlimited (no ring) */
    bs_time_us *free_at; /* min-heap: when each worker is next free */
    bs_time_us *ring;    /* start times of waiting messages, non-decreasing; cap = limit */
    size_t head, len;
    bs_time_us last_arrival;
    struct bs_capacity_stats st;
};

int bs_capacity_new(uint32_t workers, int64_t queue_limit, struct bs_capacity **ret)
{
    struct bs_capacity *c;

    if (workers == 0)
        return BS_EINVAL;
    if (workers > BS_CAPACITY_MAX_WORKERS || queue_limit > BS_CAPACITY_MAX_QUEUE)
        return BS_ELIMIT;
    c = bs_calloc(1, sizeof(*c));
    if (!c)
        return BS_ENOMEM;
    c->workers = workers;
    c->limit = queue_limit < 0 ? -1 : queue_limit;
    c->free_at = bs_calloc(workers, sizeof(*c->free_at));
    if (!c->free_at)
        goto free_c;
    if (c->limit > 0) {
        c->ring = bs_calloc((size_t)c->limit, sizeof(*c->ring));
        if (!c->ring)
            goto free_heap;
    }
    c->last_arrival = INT64_MIN;
    *ret = c;
    return 0;
free_heap:
    bs_free(c->free_at);
free_c:
    bs_free(c);
    return BS_ENOMEM;
}

void bs_capacity_free(struct bs_capacity *c)
{
    if (!c)
        return;
    bs_free(c->ring);
    bs_free(c->free_at);
    bs_free(c);
}

/* Replace the heap's minimum (the worker just taken) with its new free time. */
static void heap_replace_top(bs_time_us *h, size_t n, bs_time_us v)
{
    size_t i = 0;

    for (;;) {
        size_t l = 2 * i + 1, m = i;
        bs_time_us mv = v;

        if (l < n && h[l] < mv) {
            m = l;
            mv = h[l];
        }
        if (l + 1 < n && h[l + 1] < mv)
            m = l + 1;
        if (m == i)
            break;
        h[i] = h[m];
        i = m;
    }
    h[i] = v;
}

/* Forget waiting messages that have started by @now (their start ≤ now). */
static void expire(struct bs_capacity *c, bs_time_us now)
{
    size_t cap = (size_t)c->limit;

    while (c->len && c->ring[c->head] <= now) {
        c->head = c->head + 1 == cap ? 0 : c->head + 1;
        c->len--;
    }
}

bs_time_us bs_capacity_start(const struct bs_capacity *c, bs_time_us arrival)
{
    if (arrival < c->last_arrival)
        arrival = c->last_arrival;
    return c->free_at[0] > arrival ? c->free_at[0] : arrival;
}

int bs_capacity_admit(struct bs_capacity *c, bs_time_us arrival, bs_time_us service,
                      bs_time_us *ret_start)
{
    bs_time_us start;

    if (arrival < c->last_arrival)
        arrival = c->last_arrival;
    c->last_arrival = arrival;
    if (service < 0)
        service = 0;
    start = c->free_at[0] > arrival ? c->free_at[0] : arrival;
    if (start > arrival && c->limit >= 0) {
        expire(c, arrival);
        if ((int64_t)c->len >= c->limit) {
            c->st.dropped++;
            return BS_ELIMIT;
        }
        c->ring[(c->head + c->len) % (size_t)c->limit] = start;
        c->len++;
        if (c->len > c->st.max_waiting)
            c->st.max_waiting = c->len;
    }
    heap_replace_top(c->free_at, c->workers, start + service);
    c->st.admitted++;
    if (start > arrival) {
        c->st.waited++;
        c->st.wait_total += start - arrival;
        if (start - arrival > c->st.wait_max)
            c->st.wait_max = start - arrival;
    }
    c->st.busy_total += service;
    *ret_start = start;
    return 0;
}

size_t bs_capacity_waiting(struct bs_capacity *c, bs_time_us now)
{
    if (c->limit <= 0)
        return 0;
    expire(c, now);
    return c->len;
}

void bs_capacity_get_stats(const struct bs_capacity *c, struct bs_capacity_stats *ret)
{
    *ret = c->st;
}
