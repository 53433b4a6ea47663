/*
 * Latency histogram, log-linear: values (µs) are bucketed by their power of two and 128
 * linear sub-buckets within it, so a quantile is within 1/128 (< 0.8 %) of the true value
 * and memory is fixed (64 × 128 counters) however long the run.
 */
#ifndef BS_SIM_HIST_H
#define BS_SIM_HIST_H

#include <stdint.h>

#define BS_HIST_SUB 128
#define BS_HIST_EXP 40

struct bs_hist {
    uint64_t count;
    int64_t min, max;
    double sum;
    uint64_t b[BS_HIST_EXP][BS_HIST_SUB];
};

void bs_hist_init(struct bs_hist *h);
/** Record @v (µs, clamped at 0). */
void bs_hist_add(struct bs_hist *h, int64_t v);
/** The @q quantile (0..1) in µs: the upper edge of the bucket that holds it; 0 if empty. */
int64_t bs_hist_quantile(const struct bs_hist *h, double q);
/** Add @src's counts into @dst. */
void bs_hist_merge(struct bs_hist *dst, const struct bs_hist *src);

#endif
