/*
 * Reversal originator, shared by every role that can give up on a request it forwarded
 * (acquirer host, scheme switch, bridge): after a timeout it sends 0420 naming the
 * original in DE 90, repeats it as 0421 with doubling backoff until a 0430 arrives, and
 * after the last repeat records an exception (GUIDE §3; interop.md §7.4). Private.
 */
#ifndef BS_NETWORK_REVQ_H
#define BS_NETWORK_REVQ_H

#include <bridgesim/network.h>

#include "common/map.h"
#include "common/pool.h"

struct bs__revq {
    struct bs_node *node;
    uint32_t timer_kind; /* the owner's timer kind for repeats */
    char inst_id[12];    /* DE 32 of the reversals this node originates */
    uint32_t *stan;      /* the owner's STAN counter (shared numbering) */
    unsigned max_repeats;
    bs_time_us backoff, backoff_max;
    struct bs__pool items;
    struct bs__map by_key;
    size_t open;
};

int bs__revq_init(struct bs__revq *q, struct bs_node *node, uint32_t timer_kind,
                  const char *inst_id, uint32_t *stan, unsigned max_repeats, bs_time_us backoff,
                  bs_time_us backoff_max);
void bs__revq_deinit(struct bs__revq *q);

/**
 * Start reversing @orig, the request as this node sent it to @to in dialect @d. @why goes
 * to the journal. Return: 0; BS_ELIMIT/BS_ENOMEM (recorded as an exception).
 */
int bs__revq_start(struct bs__revq *q, uint32_t to, const struct bs_iso_dialect *d,
                   const struct bs_canon *orig, const char *why, uint64_t trace);

/** A response arrived: true when it was the 0430 to one of our reversals (consumed). */
bool bs__revq_on_response(struct bs__revq *q, const struct bs_iso_msg *m);

/** One of our repeat timers fired. */
void bs__revq_on_timer(struct bs__revq *q, uint64_t cookie);

#endif
