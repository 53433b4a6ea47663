/*
 * The settlement of a run: building the settlement object from a scenario, reconciling it
 * with what the schemes' own hosts recorded, settlement.json and the readable report.
 * The rules are in docs/settlement.md; the library side is bridgesim/settlement.h.
 */
#ifndef BS_SIM_SETTLEMENT_REPORT_H
#define BS_SIM_SETTLEMENT_REPORT_H

#include <stdio.h>

#include <jansson.h>

#include <bridgesim/settlement.h>

#include "scenario/scenario.h"

struct bs_world;

/**
 * bs_settlement_for_scenario() - a settlement object for @sc: one side per network (the
 * bridge's side order), its acquirers and issuers as participants, the cutover, the
 * settlement rate (the fx rate when the scenario gives none), the fee table, and the first
 * window opening at the scenario's start.
 * @retention: how long a committed transaction is kept for matching its reversal (µs; the
 *          bridge's leg retention; 0 keeps every one: bs_settlement_cfg.retention).
 * @ret:    receives the object (free with bs_settlement_free()).
 * @errbuf: on failure, what was wrong.
 * Return: 0; BS_EINVAL (a scenario the loader should have refused: not two networks, an
 * fx pair that is not theirs); BS_EEXIST; BS_ENOMEM.
 */
int bs_settlement_for_scenario(const struct bs_scenario *sc, bs_time_us retention,
                               struct bs_settlement **ret, char *errbuf, size_t errlen);

/**
 * bs_settlement_report_build() - settlement.json of the finished run in @w. First
 * reconciles the bridge's totals with the schemes' own: each issuer's ledger (counts and
 * amounts) and, per scheme, the approvals its terminals received (counts only, acquirer
 * hosts keep no ledger). Contains no wall-clock time: a virtual run's file is the same
 * bytes for the same seed.
 * Return: a new JSON object (caller json_decref()s it); NULL when @w has no settlement
 * or on allocation failure.
 */
json_t *bs_settlement_report_build(const struct bs_scenario *sc, struct bs_world *w);

/**
 * bs_settlement_report_failed() - the number of settlement invariants that failed in a
 * report from bs_settlement_report_build().
 */
int bs_settlement_report_failed(const json_t *report);

/** bs_settlement_report_print() - the readable report of @report to @out. */
void bs_settlement_report_print(const json_t *report, FILE *out);

#endif
