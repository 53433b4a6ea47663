/*
 * Stand-in decisions (STIP) against a policy: the single-amount limit per channel and the
 * running total per card per UTC day. Private to libbridgesim.
 */
#ifndef BS_NETWORK_STIP_H
#define BS_NETWORK_STIP_H

#include <bridgesim/network.h>

#include "common/map.h"
#include "common/pool.h"

struct bs__stip {
    struct bs_stip_policy policy;
    struct bs__pool cards; /* per card and day: amount approved so far */
    struct bs__map by_card;
    uint32_t auth_seq;
};

int bs__stip_init(struct bs__stip *st, const struct bs_stip_policy *policy);
void bs__stip_deinit(struct bs__stip *st);

/**
 * Whether to approve @amount (minor units of the card's currency) on @channel for card
 * @pan at @now. On approval the card's day total grows and @auth receives a stand-in
 * authorization code ("S" and 5 digits).
 *
 * Stand-in knows what the request carries and its own totals, nothing of the issuer's
 * cardholder file: a card whose expiry @expiry (DE 14, "YYMM"; "" when absent) is before
 * the month of @now (UTC) is not approved, as the issuer would decline it RC 54; blocked
 * cards (RC 41/43/62 at the issuer) and the issuer's own daily limits are unknown to it
 * (no negative file is modelled), so it approves them within its limits and the issuer
 * posts the advice (configs/README.md "stand-in").
 */
bool bs__stip_approve(struct bs__stip *st, const char *pan, const char *expiry, unsigned channel,
                      int64_t amount, bs_time_us now, char auth[7]);

#endif
