/* Link capacity: in-flight slots and bandwidth of one link direction; see linkcap.h. */
#include "engine/capacity.h"
#include "engine/linkcap.h"

struct bs_linkcap {
    struct bs_capacity *slots; /* NULL: no in-flight limit */
    uint64_t bytes_per_s;      /* 0: no bandwidth limit */
    bs_time_us line_free;      /* when the line has sent everything handed to it */
    struct bs_linkcap_stats st;
};

int bs_linkcap_new(const struct bs_sc_link_capacity *c, struct bs_linkcap **ret)
{
    struct bs_linkcap *lc;
    int rc;

    if (!c->max_in_flight && !c->bytes_per_s)
        return BS_EINVAL;
    lc = bs_calloc(1, sizeof(*lc));
    if (!lc)
        return BS_ENOMEM;
    lc->bytes_per_s = c->bytes_per_s;
    lc->line_free = INT64_MIN;
    if (c->max_in_flight) {
        /* drop: no waiting room; backpressure: the sender's queue. */
        rc = bs_capacity_new(c->max_in_flight, c->backpressure ? c->queue_limit : 0, &lc->slots);
        if (rc) {
            bs_free(lc);
            return rc;
        }
    }
    *ret = lc;
    return 0;
}

void bs_linkcap_free(struct bs_linkcap *lc)
{
    if (!lc)
        return;
    bs_capacity_free(lc->slots);
    bs_free(lc);
}

int bs_linkcap_send(struct bs_linkcap *lc, bs_time_us now, size_t bytes, bs_time_us latency,
                    bs_time_us *ret_arrival)
{
    bs_time_us start = now, tx_start, tx = 0, arrival, got;

    if (latency < 0)
        latency = 0;
    if (lc->slots)
        start = bs_capacity_start(lc->slots, now);
    tx_start = start;
    if (lc->bytes_per_s) {
        /* Exact integer ceiling: a message never takes less than its bytes' worth. */
        __extension__ unsigned __int128 num = (unsigned __int128)bytes * BS_US_PER_SEC;

        tx = (bs_time_us)((num + lc->bytes_per_s - 1) / lc->bytes_per_s);
        if (lc->line_free > tx_start)
            tx_start = lc->line_free;
    }
    arrival = tx_start + tx + latency;
    if (lc->slots) {
        /* The slot is held from entering the link until arrival. */
        if (bs_capacity_admit(lc->slots, now, arrival - start, &got) != 0) {
            lc->st.dropped++;
            return BS_ELIMIT;
        }
        if (start > now) {
            lc->st.queued++;
            size_t waiting = bs_capacity_waiting(lc->slots, now);
            if (waiting > lc->st.max_waiting)
                lc->st.max_waiting = waiting;
        }
    }
    if (lc->bytes_per_s) {
        lc->line_free = tx_start + tx;
        lc->st.line_wait_total += tx_start - start;
    }
    if (tx_start - now > lc->st.wait_max)
        lc->st.wait_max = tx_start - now;
    lc->st.sent++;
    *ret_arrival = arrival;
    return 0;
}

void bs_linkcap_get_stats(const struct bs_linkcap *lc, struct bs_linkcap_stats *ret)
{
    *ret = lc->st;
}
