/*
 * Sampling from scenario distributions. Deterministic: the only randomness is the caller's
 * stream, consumed a fixed number of times per sample for each kind, so a seed replays bit
 * for bit (GUIDE §2) and changing one distribution's parameters never shifts later draws.
 */
#include <float.h>
#include <math.h>

#include "scenario/scenario.h"

/* A uniform deviate in [0, 1) from the top 53 bits: every value is exact in a double. */
static double unit(uint64_t (*next)(void *), void *stream)
{
    return (double)(next(stream) >> 11) * 0x1.0p-53;
}

/*
 * A standard normal variate by Box–Muller from two deviates. 1 - u1 lies in (0, 1], so the
 * logarithm is finite; the sine partner is discarded to keep the call stateless.
 */
static double std_normal(uint64_t (*next)(void *), void *stream)
{
    const double two_pi = 6.283185307179586476925286766559;
    double u1 = 1.0 - unit(next, stream);
    double u2 = unit(next, stream);

    return sqrt(-2.0 * log(u1)) * cos(two_pi * u2);
}

/* The inverse empirical CDF at @u in [0, 1): interpolated between neighbouring order
 * statistics, so the draw is continuous between the smallest and largest sample. */
static double empirical(const struct bs_dist *d, double u)
{
    double pos, f;
    size_t i;

    if (!d->samples || d->nsamples == 0)
        return 0;
    if (d->nsamples == 1)
        return d->samples[0];
    pos = u * (double)(d->nsamples - 1);
    i = (size_t)pos;
    if (i >= d->nsamples - 1)
        return d->samples[d->nsamples - 1];
    f = pos - (double)i;
    return d->samples[i] + f * (d->samples[i + 1] - d->samples[i]);
}

double bs_dist_sample(const struct bs_dist *d, uint64_t (*next)(void *), void *stream)
{
    double x;

    switch (d->kind) {
    case BS_DIST_CONSTANT:
        x = d->a;
        break;
    case BS_DIST_UNIFORM:
        x = d->a + (d->b - d->a) * unit(next, stream);
        break;
    case BS_DIST_NORMAL:
        x = d->a + d->b * std_normal(next, stream);
        break;
    case BS_DIST_LOGNORMAL:
        x = d->a * exp(d->b * std_normal(next, stream));
        break;
    case BS_DIST_EXPONENTIAL:
        x = -d->a * log(1.0 - unit(next, stream));
        break;
    case BS_DIST_PARETO:
        /* Inverse CDF: scale / U^(1/shape) with U = 1 - u in (0, 1]. */
        x = d->a * pow(1.0 - unit(next, stream), -1.0 / d->b);
        break;
    case BS_DIST_EMPIRICAL:
        x = empirical(d, unit(next, stream));
        break;
    default:
        x = 0;
        break;
    }
    if (isnan(x))
        x = 0;
    if (!isfinite(x))
        x = d->has_max ? d->max : DBL_MAX;
    if (d->has_min && x < d->min)
        x = d->min;
    if (d->has_max && x > d->max)
        x = d->max;
    if (x < 0)
        x = 0;
    return x;
}

double bs_dist_mean(const struct bs_dist *d)
{
    switch (d->kind) {
    case BS_DIST_CONSTANT:
    case BS_DIST_NORMAL:
    case BS_DIST_EXPONENTIAL:
        return d->a;
    case BS_DIST_UNIFORM:
        return (d->a + d->b) / 2;
    case BS_DIST_LOGNORMAL:
        return d->a * exp(d->b * d->b / 2);
    case BS_DIST_PARETO:
        return d->b > 1 ? d->b * d->a / (d->b - 1) : INFINITY;
    case BS_DIST_EMPIRICAL: {
        /* The mean of the interpolated CDF: trapezoids between order statistics. */
        double sum = 0;

        if (!d->samples || d->nsamples == 0)
            return 0;
        if (d->nsamples == 1)
            return d->samples[0];
        for (size_t i = 0; i + 1 < d->nsamples; i++)
            sum += (d->samples[i] + d->samples[i + 1]) / 2;
        return sum / (double)(d->nsamples - 1);
    }
    default:
        return 0;
    }
}

double bs_dist_correlate(double rho, bool has_prev, double prev, double fresh)
{
    if (!has_prev || rho <= 0)
        return fresh;
    return rho * prev + (1.0 - rho) * fresh;
}

bool bs_ge_step(const struct bs_sc_ge *ge, bool *bad, double u_loss, double u_move)
{
    bool lost = u_loss < (*bad ? ge->loss_bad : ge->loss_good);

    if (*bad ? u_move < ge->r : u_move < ge->p)
        *bad = !*bad;
    return lost;
}
