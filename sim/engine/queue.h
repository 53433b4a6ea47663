/*
 * The event queue, ordered by (due, seq). seq is the insertion count, so events with equal
 * due times fire in the order they were scheduled and a seed replays bit for bit (GUIDE §2).
 *
 * A run keeps millions of events pending (protocol timers seconds out, retention timers
 * minutes out, for every transaction) but fires them in time order, so only the next
 * few microseconds need sorting. Events wait as records in one array (a free list reuses
 * them) until they are that close; where a record waits depends on how far out it is:
 *   - a 4-ary min-heap of whole events holds the current fine slot (2^5 µs = 32 µs) and
 *     anything earlier: the only sorted part, a few hundred events at most;
 *   - a fine wheel of 2^16 buckets, one per fine slot (≈ 2 s ahead);
 *   - a coarse wheel of 2^16 buckets of 2^14 fine slots (≈ 0.5 s each, ≈ 9.5 h in all);
 *     a coarse bucket moves down into fine buckets once its whole span is inside the
 *     fine wheel's window;
 *   - an overflow heap for anything later (rare).
 * Buckets are chunks of record indexes, so that moving one prefetches its records at once.
 * Each level holds only events later than every event of the levels before it, and the
 * heap is refilled from the first non-empty fine bucket (found by bitmap) when it runs
 * dry, so pops come out exactly in (due, seq) order whatever the mix. Schedule and fire
 * are O(1) but for the small heap. If the heap cannot grow to take a fine slot, the rest
 * of the slot waits in its chunks and pops scan them (slower, never out of order); if a
 * coarse bucket cannot move down for lack of memory, pop reports an empty queue and sets
 * @oom.
 */
#ifndef BS_SIM_QUEUE_H
#define BS_SIM_QUEUE_H

#include <bridgesim/common.h>

enum bs_event_kind {
    BS_EV_MESSAGE = 1, /* bytes arrive at @node from @from; @cookie: the crypto threads' job */
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
    uint32_t link; /* the queue's own (bucket lists) */
    uint64_t trace;
    uint64_t cookie;
    uint8_t *buf; /* owned by the event while queued (BS_EV_MESSAGE) */
};

struct bs__qwheel;

/**
 * struct bs_queue - caller storage; fields are the queue's own except @n.
 * @n:  events queued.
 */
struct bs_queue {
    size_t n;
    struct bs_event *h; /* the near heap: @hn events, room for @cap */
    size_t hn, cap;
    uint64_t seq;
    struct bs_event *rec; /* event records: @rtop used, room for @rcap */
    uint32_t rtop, rcap, free;
    bool started;          /* the first push fixed the wheels' start */
    bool oom;              /* a pop failed for lack of memory */
    int64_t done0, done1;  /* last fine slot in the heap; last coarse slot cascaded */
    struct bs__qwheel *wh; /* the wheels and the overflow heap */
};

/** bs_queue_init() - an empty queue with room for @initial events (1024 when 0); room for
 * a million or more is backed by huge pages where the system allows. Return: 0; BS_ENOMEM. */
int bs_queue_init(struct bs_queue *q, size_t initial);
/** bs_queue_deinit() - free the queue and every queued message buffer. */
void bs_queue_deinit(struct bs_queue *q);
/** Schedule @ev (its seq is assigned here). Return: 0; BS_ENOMEM (nothing queued). */
int bs_queue_push(struct bs_queue *q, struct bs_event *ev);
/** Take the earliest event into *@ret. Return: false when empty, or when out of memory
 * moving a coarse bucket down (then @oom is set and the events left are lost). */
bool bs_queue_pop(struct bs_queue *q, struct bs_event *ret);
/** The earliest event, left queued (valid until the next push or pop); NULL when empty. */
const struct bs_event *bs_queue_peek(struct bs_queue *q);

#endif
