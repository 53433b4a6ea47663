/* Arrival processes; see arrivals.h. */
#include <math.h>

#include "workload/arrivals.h"

#define US_PER_S  1e6
#define DAY_US    (86400 * BS_US_PER_SEC)
#define HALF_HOUR (1800.0 * US_PER_S)
#define PI        3.14159265358979323846

bool bs_arrival_varies(const struct bs_sc_workload *wl)
{
    return wl->arrivals != BS_ARRIVAL_POISSON && wl->arrivals != BS_ARRIVAL_CONSTANT;
}

/* @x µs into a day, for any sign of @x. */
static double day_mod(double x)
{
    double r = fmod(x, (double)DAY_US);

    return r < 0 ? r + (double)DAY_US : r;
}

/* The time of day (µs after 00:00 UTC) of @t µs after @epoch, without losing precision to
 * the size of the epoch. */
static double time_of_day(bs_time_us epoch, double t)
{
    return day_mod((double)(epoch % DAY_US) + t);
}

/* The diurnal multiplier of rate_tps at time of day @tau. */
static double diurnal(const struct bs_sc_arrivals *a, double tau)
{
    double lo = a->trough_ratio, rise, x;

    if (a->has_hourly) {
        /* Hour i's value holds at i:30; linear in between, wrapping at midnight. */
        double h = tau / (2 * HALF_HOUR) - 0.5, f = floor(h);
        int i = ((int)f % 24 + 24) % 24;
        double m0 = a->hourly[i], m1 = a->hourly[(i + 1) % 24];

        return m0 + (m1 - m0) * (h - f);
    }
    /* Half a cosine up from the trough to the peak, half a cosine down again: smooth, and
     * monotone between the two, whatever their distance. */
    rise = day_mod((double)(a->peak - a->trough));
    x = day_mod(tau - (double)a->trough);
    if (x < rise)
        return lo + (1 - lo) * (1 - cos(PI * x / rise)) / 2;
    return 1 - (1 - lo) * (1 - cos(PI * (x - rise) / ((double)DAY_US - rise))) / 2;
}

static double rate_at(const struct bs_sc_workload *wl, bs_time_us epoch, double t)
{
    const struct bs_sc_arrivals *a = &wl->process;
    double r = wl->rate_tps;

    switch (wl->arrivals) {
    case BS_ARRIVAL_RAMP:
        if (t >= (double)(a->at + a->over))
            return a->to_tps;
        if (t <= (double)a->at)
            return r;
        return r + (a->to_tps - r) * (t - (double)a->at) / (double)a->over;
    case BS_ARRIVAL_STEP:
        for (size_t i = 0; i < a->nsteps && t >= (double)a->steps[i].at; i++)
            r = a->steps[i].rate_tps;
        return r;
    case BS_ARRIVAL_SPIKE:
        return t >= (double)a->at && t < (double)(a->at + a->duration) ? a->spike_tps : r;
    case BS_ARRIVAL_DIURNAL:
        return r * diurnal(a, time_of_day(epoch, t));
    default:
        return r;
    }
}

double bs_arrival_rate(const struct bs_sc_workload *wl, bs_time_us epoch, bs_time_us t)
{
    return rate_at(wl, epoch, (double)t);
}

/*
 * The piece of time that @t is in: where it ends (*@end, INFINITY for never) and the
 * largest rate on it (*@lmax). λ is constant or monotone on each piece, so the larger of
 * its values at the two ends bounds it.
 */
static void piece(const struct bs_sc_workload *wl, bs_time_us epoch, double t, double *end,
                  double *lmax)
{
    const struct bs_sc_arrivals *a = &wl->process;
    double e = INFINITY;
    bool monotone = false;

    switch (wl->arrivals) {
    case BS_ARRIVAL_RAMP:
        if (t < (double)a->at) {
            e = (double)a->at;
        } else if (t < (double)(a->at + a->over)) {
            e = (double)(a->at + a->over);
            monotone = true;
        }
        break;
    case BS_ARRIVAL_STEP:
        for (size_t i = 0; i < a->nsteps && !isfinite(e); i++)
            if ((double)a->steps[i].at > t)
                e = (double)a->steps[i].at;
        break;
    case BS_ARRIVAL_SPIKE:
        if (t < (double)a->at)
            e = (double)a->at;
        else if (t < (double)(a->at + a->duration))
            e = (double)(a->at + a->duration);
        break;
    case BS_ARRIVAL_DIURNAL: {
        double tau = time_of_day(epoch, t);
        double to = (floor(tau / HALF_HOUR) + 1) * HALF_HOUR - tau;

        if (!a->has_hourly) {
            double dp = day_mod((double)a->peak - tau), dt = day_mod((double)a->trough - tau);

            if (dp > 0 && dp < to)
                to = dp;
            if (dt > 0 && dt < to)
                to = dt;
        }
        e = t + to;
        if (!(e > t))
            e = nextafter(t, INFINITY);
        monotone = true;
        break;
    }
    default:
        break;
    }
    *end = e;
    *lmax = rate_at(wl, epoch, t);
    if (monotone) {
        double r = rate_at(wl, epoch, e);

        if (r > *lmax)
            *lmax = r;
    }
}

bs_time_us bs_arrival_next(const struct bs_sc_workload *wl, bs_time_us epoch, bs_time_us t,
                           struct bs_rng *r)
{
    double x = (double)t, gap_s;
    bs_time_us gap;

    if (!bs_arrival_varies(wl)) {
        /* The engine's draws since the first release: golden journals depend on them. */
        if (wl->arrivals == BS_ARRIVAL_CONSTANT)
            gap_s = 1.0 / wl->rate_tps;
        else
            gap_s = -log1p(-bs_rng_unit(r)) / wl->rate_tps;
        gap = (bs_time_us)llround(gap_s * 1e6);
        return t + (gap > 0 ? gap : 1);
    }
    for (;;) {
        double end, lmax, cand;

        piece(wl, epoch, x, &end, &lmax);
        if (!(lmax > 0)) {
            /* Nothing arrives on this piece. A diurnal profile is never 0 all day (the
             * loader checks), so two silent days mean no profile at all. */
            if (!isfinite(end) || end - (double)t > 2.0 * (double)DAY_US)
                return -1;
            x = end;
            continue;
        }
        cand = x - log1p(-bs_rng_unit(r)) / lmax * US_PER_S;
        if (cand >= end) {
            /* No candidate on this piece: by memorylessness, start afresh where it ends. */
            x = end;
            continue;
        }
        x = cand;
        if (x > 9e18)
            return -1;
        if (bs_rng_unit(r) * lmax < rate_at(wl, epoch, x))
            break;
    }
    gap = (bs_time_us)llround(x) - t;
    return t + (gap > 0 ? gap : 1);
}
