/*
 * Link capacity (issue #5 §2): what one direction of a link carries at once.
 *
 * A message handed to the link at time t first needs an in-flight slot (`max_in_flight`):
 * it holds the slot from when it enters the link until it arrives. When every slot is
 * taken it is dropped (`overflow: drop`), or waits at the sender, FIFO, for the earliest
 * slot to free (`overflow: backpressure`), in a queue of at most `queue_limit` messages.
 * Then it is serialized onto the line (`bytes_per_s`): it starts when the message before
 * it has been sent and occupies the line for ceil(size · 10^6 / bytes_per_s) µs; then it
 * propagates for its latency. Arrival = start of transmission + serialization + latency.
 *
 * The slots are a G/G/N FIFO queue whose service time is the message's time on the link,
 * simulated from times alone by sim/engine/capacity.c; the line is one FIFO server. So
 * nothing is scheduled and memory is bounded by max_in_flight + queue_limit. Messages must
 * be handed over in non-decreasing time (the engine's event order).
 */
#ifndef BS_SIM_LINKCAP_H
#define BS_SIM_LINKCAP_H

#include <bridgesim/common.h>

#include "scenario/scenario.h"

/** Counters of one link direction; times in µs. */
struct bs_linkcap_stats {
    uint64_t sent;              /* messages that entered the link */
    uint64_t dropped;           /* refused: every slot taken (drop), or the queue full */
    uint64_t queued;            /* waited at the sender for a slot (backpressure) */
    uint64_t max_waiting;       /* the longest the sender's queue has been */
    bs_time_us wait_max;        /* longest wait for a slot or for the line */
    bs_time_us line_wait_total; /* waits for the line (bandwidth) */
};

struct bs_linkcap;

/**
 * bs_linkcap_new() - the state of one direction with capacity @c. Return: 0; BS_EINVAL when
 * @c limits nothing (no max_in_flight, no bytes_per_s); BS_ELIMIT (bounds of capacity.h);
 * BS_ENOMEM. Free with bs_linkcap_free().
 */
int bs_linkcap_new(const struct bs_sc_link_capacity *c, struct bs_linkcap **ret);

/** bs_linkcap_free() - release @lc; NULL accepted. */
void bs_linkcap_free(struct bs_linkcap *lc);

/**
 * bs_linkcap_send() - a message of @bytes is handed to the link at @now and then takes
 * @latency µs (≥ 0) to propagate. *@ret_arrival: when it reaches the other end.
 * Return: 0; BS_ELIMIT when it is dropped (nothing else changes but the drop counter).
 */
int bs_linkcap_send(struct bs_linkcap *lc, bs_time_us now, size_t bytes, bs_time_us latency,
                    bs_time_us *ret_arrival);

/** bs_linkcap_get_stats() - copy the counters of @lc into *@ret. */
void bs_linkcap_get_stats(const struct bs_linkcap *lc, struct bs_linkcap_stats *ret);

#endif
