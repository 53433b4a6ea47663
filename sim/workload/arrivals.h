/*
 * Arrival processes of the workload (configs/README.md "workload.arrivals"): the offered
 * rate λ(t) of each process and the next arrival after a given time. constant and poisson
 * are stationary; ramp, step, spike and diurnal are non-homogeneous Poisson processes drawn
 * by thinning (Lewis & Shedler, 1979) over pieces of time on which λ is monotone, so every
 * draw comes from the stream the caller passes and a seed replays exactly.
 */
#ifndef BS_SIM_ARRIVALS_H
#define BS_SIM_ARRIVALS_H

#include <stdbool.h>

#include "engine/rng.h"
#include "scenario/scenario.h"

/** bs_arrival_varies() - whether @wl's rate changes with time (ramp, step, spike, diurnal). */
bool bs_arrival_varies(const struct bs_sc_workload *wl);

/**
 * bs_arrival_rate() - λ(t) in transactions per second, @t µs after the workload started.
 * @epoch: when it started, µs since the Unix epoch (UTC); only diurnal uses it, for the
 *         time of day.
 */
double bs_arrival_rate(const struct bs_sc_workload *wl, bs_time_us epoch, bs_time_us t);

/**
 * bs_arrival_next() - the time of the next arrival after one at @t (both µs after the
 * workload started), drawn from @r.
 *
 * Details: constant adds round(1e6 / rate_tps) µs; poisson one exponential gap (one draw);
 * both at least 1 µs, exactly as the engine always drew them. The time-varying processes
 * draw candidates at the largest rate of the current piece of time (a piece ends where λ
 * stops being monotone: ramp and spike ends, steps, every half hour and the peak and trough
 * of a diurnal profile) and keep each with probability λ(candidate) / that rate (two draws
 * per candidate); the result is rounded to whole µs and is at least @t + 1.
 *
 * Return: the next arrival time; -1 when the rate is 0 from @t on for ever (a step or ramp
 * to 0), so no arrival will come.
 */
bs_time_us bs_arrival_next(const struct bs_sc_workload *wl, bs_time_us epoch, bs_time_us t,
                           struct bs_rng *r);

#endif
