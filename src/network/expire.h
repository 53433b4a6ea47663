/*
 * Record expiry without one timer per record. Nodes keep finished transactions for a
 * while (to answer repeats, recognise late responses, apply reversals); those records
 * expire in the order they were made, so a FIFO of (index, generation, due) and one
 * sweep timer per node replace a timer each — the event queue stays small however long
 * the run (issue #5 performance, issue #8 memory). Private to libbridgesim.
 */
#ifndef BS_NETWORK_EXPIRE_H
#define BS_NETWORK_EXPIRE_H

#include <bridgesim/node.h>

#include "common/pool.h"

struct bs__expire_rec {
    uint32_t idx, gen;
    bs_time_us due;
};

struct bs__expire {
    struct bs__expire_rec *r;
    size_t cap, head, len;
    uint32_t timer_kind; /* the owner's timer kind for sweeps */
    bool armed;          /* a sweep timer is pending */
};

void bs__expire_init(struct bs__expire *x, uint32_t timer_kind);
void bs__expire_deinit(struct bs__expire *x);

/**
 * Expire record (@idx, @gen) of @node after @delay µs. Delays must be the same for every
 * record of one FIFO (so dues never decrease). Return: 0; BS_ENOMEM (the record is then
 * kept for the node's lifetime).
 */
int bs__expire_add(struct bs__expire *x, struct bs_node *node, uint32_t idx, uint32_t gen,
                   bs_time_us delay);

/**
 * The sweep timer fired: call @release(@ctx, idx) for every record due by now that is still
 * live in @pool with its generation, then re-arm for the next one.
 */
void bs__expire_sweep(struct bs__expire *x, struct bs_node *node, const struct bs__pool *pool,
                      void (*release)(void *ctx, uint32_t idx), void *ctx);

#endif
