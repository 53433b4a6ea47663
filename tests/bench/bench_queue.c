/*
 * bench_queue — the bare event queue (sim/engine/queue.c): schedule+fire operations per
 * second in the "hold" model. The queue is filled with P pending events; then each
 * operation pops the earliest and schedules one new event a random delay after it, so
 * the queue stays at P events, as in a running simulation (issue #5: at least 5 million
 * operations per second on one core).
 *
 * Delays are drawn the way a run's are: most messages a few ms out, a share of timers
 * seconds to minutes out, a few retention timers hours out. The queue starts near its
 * steady state and is warmed up untimed. Timing: CPU time of this thread, batches of 1e6
 * operations, median of 7 batches per queue size (GUIDE §5: medians, no timed
 * assertions).
 *
 * Output: one line per size "pending P: median N ops/s (min .. max), target 5000000: ratio
 * R"; with --json one JSON object. Exit status 0; 2 for bad usage.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bridgesim/common.h>

#include "engine/queue.h"
#include "engine/rng.h"

#define BATCH   1000000
#define BATCHES 7
#define TARGET  5e6

static volatile uint64_t sink_out;

static double cpu_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

/* A delay like a run's: 90 % message latencies (1..100 ms), 9 % protocol timers
 * (1..60 s), 1 % retention timers (up to 2 h). */
static bs_time_us delay(struct bs_rng *r)
{
    uint64_t u = bs_rng_below(r, 100);

    if (u < 90)
        return 1000 + (bs_time_us)bs_rng_below(r, 99000);
    if (u < 99)
        return BS_US_PER_SEC + (bs_time_us)bs_rng_below(r, 59 * BS_US_PER_SEC);
    return (bs_time_us)bs_rng_below(r, 7200 * BS_US_PER_SEC);
}

static int run(size_t pending, double *ret_median, double *ret_min, double *ret_max)
{
    struct bs_queue q;
    struct bs_event ev;
    struct bs_rng r;
    double rates[BATCHES];
    uint64_t sink = 0;

    if (bs_queue_init(&q, pending + 16) != 0)
        return BS_ENOMEM;
    bs_rng_seed(&r, 1, "bench-queue");
    memset(&ev, 0, sizeof(ev));
    ev.kind = BS_EV_TIMER;
    /* Start near the steady state: each event is somewhere along its delay (a uniform
     * share of it), not all due at once; then hold for 2 × pending operations untimed. */
    for (size_t i = 0; i < pending; i++) {
        /* The first is due first, as a run's first arrival is. */
        ev.due = i ? (bs_time_us)((double)delay(&r) * bs_rng_unit(&r)) : 0;
        ev.cookie = i;
        if (bs_queue_push(&q, &ev) != 0)
            return BS_ENOMEM;
    }
    for (size_t i = 0; i < 2 * pending; i++) {
        bs_queue_pop(&q, &ev);
        ev.due += delay(&r);
        if (bs_queue_push(&q, &ev) != 0)
            return BS_ENOMEM;
    }
    for (int b = 0; b < BATCHES; b++) {
        double t0 = cpu_now(), t;
        for (int i = 0; i < BATCH; i++) {
            bs_queue_pop(&q, &ev);
            sink += ev.cookie;
            ev.due += delay(&r);
            if (bs_queue_push(&q, &ev) != 0)
                return BS_ENOMEM;
        }
        t = cpu_now() - t0;
        rates[b] = t > 0 ? BATCH / t : 0;
    }
    bs_queue_deinit(&q);
    qsort(rates, BATCHES, sizeof(rates[0]), cmp_double);
    *ret_median = rates[BATCHES / 2];
    *ret_min = rates[0];
    *ret_max = rates[BATCHES - 1];
    sink_out = sink; /* keeps the pops from being optimised away */
    return 0;
}

int main(int argc, char **argv)
{
    static const size_t sizes[] = { 1000, 100000, 1000000 };
    bool json = argc > 1 && strcmp(argv[1], "--json") == 0;

    if (argc > 2 || (argc == 2 && !json)) {
        fprintf(stderr, "usage: bench_queue [--json]\n");
        return 2;
    }
    if (json)
        printf("{\"target_ops_per_s\": %.0f, \"sizes\": [", TARGET);
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        double med, lo, hi;
        if (run(sizes[i], &med, &lo, &hi) != 0) {
            fprintf(stderr, "bench_queue: out of memory\n");
            return 1;
        }
        if (json)
            printf("%s{\"pending\": %zu, \"median_ops_per_s\": %.0f, \"min\": %.0f, \"max\": "
                   "%.0f, \"ratio_to_target\": %.3f}",
                   i ? ", " : "", sizes[i], med, lo, hi, med / TARGET);
        else
            printf("pending %7zu: median %9.0f schedule+fire ops/s (min %.0f, max %.0f), target "
                   "%.0f: ratio %.2f\n",
                   sizes[i], med, lo, hi, TARGET, med / TARGET);
    }
    if (json)
        printf("]}\n");
    return 0;
}
