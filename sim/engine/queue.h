/*
 * The event queue, ordered by (due, seq). seq is the insertion count, so events with equal
 * due times fire in the order they were scheduled and a seed replays bit for bit (GUIDE §2).
 *
 * Two levels, one order. A run keeps many events far ahead of its clock (retention and
 * late-grace timers minutes to hours out, for every transaction) and few near it, and a
 * heap of all of them is large and cold in cache. So events due in a later time slot
 * (2^17 µs ≈ 131 ms) than the earliest the queue has handed out wait unsorted in a
 * calendar of per-slot buckets (a ring of 65536 slots, ≈ 2.4 h); a slot's events move into
 * a small 4-ary min-heap when the heap's minimum reaches that slot. Pops come from the heap
 * only after every bucket of an earlier or equal slot has been moved into it, so the order
 * is exactly (due, seq) whatever the mix. Events beyond the ring, and every event while the
 * heap is empty, go straight to the heap. If moving a bucket cannot allocate, the queue
 * pops from that bucket by a scan instead: slower, never out of order.
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

struct bs__qfar;

/**
 * struct bs_queue - caller storage; fields are the queue's own except @n.
 * @n:  events queued (heap and calendar).
 * @h:  the heap of near events, @hn of them, room for @cap; when @hn is 0 and @n is not,
 *      every event is in the calendar.
 */
struct bs_queue {
    struct bs_event *h;
    size_t n, cap;
    uint64_t seq;
    size_t hn;
    struct bs__qfar *far; /* the calendar; NULL until first needed */
};

/** bs_queue_init() - an empty queue with heap room for @initial events (1024 when 0).
 * Return: 0; BS_ENOMEM. */
int bs_queue_init(struct bs_queue *q, size_t initial);
/** bs_queue_deinit() - free the queue and every queued message buffer. */
void bs_queue_deinit(struct bs_queue *q);
/** Schedule @ev (its seq is assigned here). Return: 0; BS_ENOMEM (nothing queued). */
int bs_queue_push(struct bs_queue *q, struct bs_event *ev);
/** Take the earliest event into *@ret. Return: false when empty. */
bool bs_queue_pop(struct bs_queue *q, struct bs_event *ret);
/** The earliest event, left queued (valid until the next push or pop); NULL when empty. */
const struct bs_event *bs_queue_peek(struct bs_queue *q);

#endif
