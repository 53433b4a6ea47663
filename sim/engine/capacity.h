/*
 * Node capacity (issue #8, model mode): a FIFO multi-server queue in front of a node.
 *
 * A node with `workers: W` serves at most W messages at once. A message that arrives at
 * time t starts at max(t, the earliest time a worker is free), occupies that worker for
 * its service time (the node's `processing` sample) and is handed to the node when the
 * service ends. Messages waiting for a worker form one FIFO queue; when `queue_limit`
 * messages already wait, an arrival that would have to wait is dropped instead
 * ("queue full"). An arrival that finds a free worker is never dropped, so
 * `queue_limit: 0` means "no waiting room".
 *
 * The queue is simulated from arrival and service times alone (Lindley's recursion for
 * G/G/W FIFO): start times are non-decreasing in arrival order, so the messages still
 * waiting at time t are exactly the admitted ones whose start is later than t — a ring
 * of start times, popped from the front. Memory is bounded by W + queue_limit; nothing
 * grows with run length. The engine calls bs_capacity_admit() in arrival order (its
 * event queue is ordered by time), which is what makes the FIFO exact.
 */
#ifndef BS_SIM_CAPACITY_H
#define BS_SIM_CAPACITY_H

#include <bridgesim/common.h>

/** The most workers one node may have (bounds the worker heap). */
#define BS_CAPACITY_MAX_WORKERS 100000
/** The longest waiting queue one node may have (bounds the ring of start times). */
#define BS_CAPACITY_MAX_QUEUE 10000000

/** Counters of one node's queue, for reports. Times in µs. */
struct bs_capacity_stats {
    uint64_t admitted;    /* messages handed to a worker (now or later) */
    uint64_t waited;      /* of those, messages that found every worker busy */
    uint64_t dropped;     /* arrivals refused because queue_limit messages were waiting */
    uint64_t max_waiting; /* the longest the waiting queue has been (after an admission) */
    bs_time_us wait_total, wait_max; /* time from arrival to start */
    bs_time_us busy_total;           /* sum of service times (worker occupancy) */
};

struct bs_capacity;

/**
 * bs_capacity_new() - a queue with @workers servers and room for @queue_limit waiting
 * messages; @queue_limit < 0 means unlimited. All workers are free from time 0.
 * Return: 0; BS_EINVAL when @workers is 0; BS_ELIMIT when @workers exceeds
 * BS_CAPACITY_MAX_WORKERS or @queue_limit exceeds BS_CAPACITY_MAX_QUEUE; BS_ENOMEM.
 * The caller frees *@ret with bs_capacity_free().
 */
int bs_capacity_new(uint32_t workers, int64_t queue_limit, struct bs_capacity **ret);

/** bs_capacity_free() - release @c; NULL accepted. */
void bs_capacity_free(struct bs_capacity *c);

/**
 * bs_capacity_admit() - a message arrives at @arrival needing @service µs of a worker.
 * On success *@ret_start is when a worker starts on it (≥ @arrival); the node gets the
 * message at *@ret_start + @service. Arrivals must come in non-decreasing time order
 * (the engine's event order); an earlier @arrival is treated as the latest seen.
 * Negative @service counts as 0.
 * Return: 0; BS_ELIMIT when the message would wait and @queue_limit messages already
 * wait (the message is dropped; nothing changes but the drop counter).
 */
int bs_capacity_admit(struct bs_capacity *c, bs_time_us arrival, bs_time_us service,
                      bs_time_us *ret_start);

/**
 * bs_capacity_start() - when a worker would start on a message arriving at @arrival (the
 * *@ret_start bs_capacity_admit() would give), without admitting it: for callers whose
 * service time depends on the start (a link's serialization behind earlier messages).
 */
bs_time_us bs_capacity_start(const struct bs_capacity *c, bs_time_us arrival);

/** bs_capacity_waiting() - messages admitted but not yet started at time @now (only
 * tracked with a queue limit; 0 otherwise). */
size_t bs_capacity_waiting(struct bs_capacity *c, bs_time_us now);

/** bs_capacity_get_stats() - copy the counters into *@ret. */
void bs_capacity_get_stats(const struct bs_capacity *c, struct bs_capacity_stats *ret);

#endif
