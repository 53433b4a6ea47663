/*
 * The event queue: a 4-ary min-heap ordered by (due, seq). seq is the insertion count,
 * so events with equal due times fire in the order they were scheduled and a seed
 * replays bit for bit (GUIDE §2).
 */
#ifndef BS_SIM_QUEUE_H
#define BS_SIM_QUEUE_H

#include <bridgesim/common.h>

enum bs_event_kind {
    BS_EV_MESSAGE = 1, /* bytes arrive at @node from @from */
    BS_EV_TIMER,       /* a node timer: @aux = timer kind, @cookie */
    BS_EV_ARRIVAL,     /* the workload's next transaction */
    BS_EV_CALL,        /* an engine callback (faults, ticks): @aux selects it */
};

struct bs_event {
    bs_time_us due;
    uint64_t seq;
    uint32_t kind;
    uint32_t node;
    uint32_t from;
    uint32_t aux;
    uint32_t len;
    uint64_t trace;
    uint64_t cookie;
    uint8_t *buf; /* owned by the event while queued (BS_EV_MESSAGE) */
};

struct bs_queue {
    struct bs_event *h;
    size_t n, cap;
    uint64_t seq;
};

int bs_queue_init(struct bs_queue *q, size_t initial);
void bs_queue_deinit(struct bs_queue *q);
/** Schedule @ev (its seq is assigned here). Return: 0; BS_ENOMEM. */
int bs_queue_push(struct bs_queue *q, struct bs_event *ev);
/** Take the earliest event into *@ret. Return: false when empty. */
bool bs_queue_pop(struct bs_queue *q, struct bs_event *ret);

static inline const struct bs_event *bs_queue_peek(const struct bs_queue *q)
{
    return q->n ? &q->h[0] : NULL;
}

#endif
