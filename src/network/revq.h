/*
 * Repeat queues: requests a node must get acknowledged however long it takes, sent first
 * under one MTI and repeated under the repeat MTI with doubling backoff until answered.
 * Shared by every role (GUIDE §3; interop.md §7.4):
 *  - reversals (0420, repeats 0421, answered by 0430): originated by whoever gave up on a
 *    request it forwarded — acquirer host, scheme switch, bridge. Each carries new
 *    identifiers (DE 32 of the originator, its own STAN and DE 7) and names the original
 *    in DE 90. After the last repeat the case becomes an exception.
 *  - stand-in advices (0220, repeats 0221, answered by 0230): the store-and-forward (SAF)
 *    queue of a switch or the bridge. An advice keeps the original request's identifiers,
 *    so the issuer applies it at most once per original; advices go out in the order they
 *    were stored, at most @window unacknowledged at a time, and are never given up.
 * Private to libbridgesim.
 */
#ifndef BS_NETWORK_REVQ_H
#define BS_NETWORK_REVQ_H

#include <bridgesim/network.h>

#include "common/map.h"
#include "common/pool.h"

enum bs__repq_kind { BS__REPQ_REVERSAL = 0, BS__REPQ_ADVICE };

struct bs__revq {
    struct bs_node *node;
    enum bs__repq_kind kind;
    uint32_t timer_kind;  /* the owner's timer kind for repeats */
    char inst_id[12];     /* DE 32 of the reversals this node originates */
    uint32_t *stan;       /* the owner's STAN counter (shared numbering) */
    unsigned max_repeats; /* reversals: repeats before the exception; advices: unlimited */
    bs_time_us backoff, backoff_max;
    size_t window; /* advices: most unacknowledged at once */
    struct bs__pool items;
    struct bs__map by_key;
    uint32_t *fifo; /* advices not yet sent, in arrival order (ring) */
    uint32_t *fifo_gen;
    size_t fifo_cap, fifo_head, fifo_len;
    size_t open;        /* stored and not yet acknowledged (or given up) */
    size_t outstanding; /* sent and not yet acknowledged */
    bool held;          /* the peer is down: nothing goes out (bs__revq_hold()) */
    uint64_t next_seq;  /* storing order, for resending held repeats in order */
};

/** Initialise a reversal queue. Return: 0; BS_ENOMEM. */
int bs__revq_init(struct bs__revq *q, struct bs_node *node, uint32_t timer_kind,
                  const char *inst_id, uint32_t *stan, unsigned max_repeats, bs_time_us backoff,
                  bs_time_us backoff_max);

/** Initialise a store-and-forward queue of advices. Return: 0; BS_ENOMEM. */
int bs__saf_init(struct bs__revq *q, struct bs_node *node, uint32_t timer_kind, size_t window,
                 bs_time_us backoff, bs_time_us backoff_max);

void bs__revq_deinit(struct bs__revq *q);

/**
 * Reversal queue: start reversing @orig, the request as this node sent it to @to in
 * dialect @d. Advice queue: store the advice of stand-in approval @orig (the request as it
 * would have gone to @to, with DE 38 and DE 39 of the stand-in decision) and send it when
 * the window allows. @why goes to the journal.
 * Return: 0; BS_ELIMIT/BS_ENOMEM (recorded as an exception).
 */
int bs__revq_start(struct bs__revq *q, uint32_t to, const struct bs_iso_dialect *d,
                   const struct bs_canon *orig, const char *why, uint64_t trace);

/** A response arrived: true when it answered one of this queue's messages (consumed). */
bool bs__revq_on_response(struct bs__revq *q, const struct bs_iso_msg *m);

/** One of this queue's repeat timers fired. */
void bs__revq_on_timer(struct bs__revq *q, uint64_t cookie);

/**
 * bs__revq_hold() - stop or resume sending (network management, ISO 8583:1987 class 8;
 * issue #4 §9): while @hold, nothing of this queue goes out — stored advices wait in
 * their order, and a repeat whose timer fires is deferred (not counted, not re-armed).
 * On resume, the deferred repeats go out at once in the order their messages were stored,
 * then stored advices follow as the window allows (the SAF queue drains in order when the
 * peer signs on or answers an echo test). Acknowledgements are taken while held. Holding
 * a held queue, or resuming a running one, changes nothing.
 */
void bs__revq_hold(struct bs__revq *q, bool hold);

#endif
