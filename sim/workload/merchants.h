/*
 * Merchant populations of the workload (configs/README.md "acquirers", "Merchants"):
 * which terminal of an acquirer a transaction uses, so that cash withdrawals go through
 * the ATMs (MCC 6011 merchants) and purchases through the shops.
 */
#ifndef BS_SIM_MERCHANTS_H
#define BS_SIM_MERCHANTS_H

#include "engine/rng.h"
#include "scenario/scenario.h"

/**
 * bs_workload_terminal() - the terminal index of acquirer @aq for a transaction on
 * @channel (BS_CH_POS or BS_CH_ATM), with exactly one draw from @r.
 *
 * Details: terminal t belongs to merchant t mod aq->merchants. Without merchant groups,
 * any terminal, uniformly (bs_rng_below(r, terminals), the draw the engine always made).
 * With groups, when the acquirer has both MCC 6011 groups and others, a cash withdrawal
 * draws uniformly among the terminals of 6011 merchants and a purchase among the others;
 * with only one kind, among all terminals.
 */
uint32_t bs_workload_terminal(const struct bs_sc_acquirer *aq, unsigned channel, struct bs_rng *r);

#endif
