/*
 * Run summary: the numbers of a finished run as JSON (summary.json) and as a readable
 * table, with every invariant and expectation evaluated.
 */
#ifndef BS_SIM_SUMMARY_H
#define BS_SIM_SUMMARY_H

#include <stdio.h>

#include <jansson.h>

#include "engine/world.h"
#include "scenario/scenario.h"

/**
 * bs_summary_build() - summary.json of the finished run in @w.
 * *@ret_failed receives the number of failed invariants plus failed expectations.
 * Return: a new JSON object (caller json_decref()s it), NULL on allocation failure.
 */
json_t *bs_summary_build(const struct bs_scenario *sc, const struct bs_world *w, int *ret_failed);

/** bs_summary_print() - the readable table of a summary to @out. */
void bs_summary_print(const json_t *summary, FILE *out);

/**
 * bs_metric_value() - the value of expectation metric @name in @summary (rates as
 * fractions, latencies in ms). Return: 0; BS_ENOTFOUND for an unknown metric.
 */
int bs_metric_value(const json_t *summary, const char *name, double *ret);

#endif
