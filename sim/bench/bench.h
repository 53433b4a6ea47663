/*
 * bridgesim bench (issue #8): offered load against a scenario, step by step, in virtual
 * time (model mode: the scenario's service times, workers and queues decide capacity) or
 * in real time on libuv (implementation mode: this machine decides). docs/bench.md is the
 * user's guide; this header is the library the CLI (sim/cli/cmd_bench.c) wires up.
 *
 * A step offers one load (a rate, or a number of closed-loop terminals) for warm-up plus
 * step duration, then lets the world drain. Only the measurement window counts:
 *   window   = [start + warm-up, start + warm-up + duration)
 *   latency, approvals, errors: transactions that *started* in the window, however late
 *            they finish (so a backlog shows up in the percentiles, not as missing data);
 *            one still unfinished when the run ends counts as an error;
 *   achieved: answers (any response code, not a terminal timeout) *received* in the
 *            window, per second of window;
 *   timeouts, stand-ins, reversals, queue drops: node counters from the end of warm-up
 *            to the end of the run (drain included, so reversals of window transactions
 *            are counted).
 */
#ifndef BS_SIM_BENCH_H
#define BS_SIM_BENCH_H

#include <stdio.h>

#include <jansson.h>

#include <bridgesim/common.h>
#include <bridgesim/crypto.h>

#include "report/hist.h"

/** The most steps one bench may run (a ramp is bounded by it). */
#define BS_BENCH_MAX_STEPS 1000

/**
 * struct bs_bench_slo - a service-level objective a step must meet; each bound is checked
 * only when its has_ flag is set. Latencies in µs, rates as fractions.
 */
struct bs_bench_slo {
    bool has_p50, has_p90, has_p99, has_p999, has_max, has_success, has_approval;
    int64_t p50, p90, p99, p999, max;
    double success, approval;
};

/**
 * struct bs_bench_crypto - the crypto-bound ceiling's inputs: the median CPU ns of one
 * bs_sign() and one bs_verify() of the scenario's algorithm over a 300-byte message,
 * measured in the bench's process before the steps and again in each step's process right
 * after its run (so that the ceiling sees the same machine load as the step).
 */
struct bs_bench_crypto {
    bool measured; /* false with signing none */
    char algorithm[24];
    double sign_ns, verify_ns;
};

/** The results of one step. Latencies in µs from the window's histogram. */
struct bs_bench_step {
    double offered_tps;   /* the configured rate; closed loop: started per window second */
    uint32_t concurrency; /* closed loop: terminals in flight; 0 for open loop */
    double achieved_tps;
    double window_seconds;
    uint64_t started;      /* transactions started in the window */
    uint64_t transactions; /* of those, finished by the end of the run */
    uint64_t unfinished;   /* started in the window, not finished when the run ended */
    uint64_t approved, declined, no_response;
    uint64_t errors; /* system failures, unfinished ones included */

    double approval_rate, success_rate; /* of @started; 0 when there are none */
    uint64_t timeouts, stand_ins, reversals, queue_drops;
    uint64_t in_flight_at_end; /* transactions of the whole run never answered */
    int64_t p50, p90, p99, p999, max;
    double mean;
    double cpu_seconds, wall_seconds, sim_seconds;
    double cpu_tps;     /* transactions the run started per CPU second of its process */
    double lag_seconds; /* realtime: how far the loop ended behind its schedule */
    long peak_rss_kb;
    bool rss_per_step; /* the step ran in its own process (else: the process's peak so far) */
    bool interrupted;
    bool meets_slo;
    uint64_t run_messages, run_started; /* whole run: messages delivered, transactions */
    struct bs_bench_crypto crypto;      /* sign/verify times right after the run */
    /* Real time: threads that signed and verified off the loop (0: the loop did), the
     * cores they could use (min(threads, cores); 1 without threads) and the CPU seconds of
     * the threads and of the rest of the process (the loop). */
    unsigned crypto_threads, crypto_cores;
    double crypto_cpu_seconds, loop_cpu_seconds;
    struct bs_hist hist;
};

/** How a bench runs. */
struct bs_bench_cfg {
    const char *scenario;    /* YAML file */
    const char *const *sets; /* --set overrides, applied before the bench's own */
    size_t nsets;
    const char *dialect_dir;
    const char *out_dir; /* run directory of each step's world (nothing is written there) */
    bool realtime;
    bs_time_us warmup, duration; /* per step */
    /* After each step; < 0: automatic, the scenario's time.drain in model mode, the longest
     * terminal timer + 5 s in real time. */
    bs_time_us drain;
    double rates[BS_BENCH_MAX_STEPS];         /* open loop: one rate per step */
    uint32_t concurrency[BS_BENCH_MAX_STEPS]; /* closed loop: terminals per step */
    size_t nsteps;
    bool closed;             /* closed loop (concurrency) rather than rates */
    bool isolate;            /* run every step in a forked child: per-step peak RSS, no leftovers */
    unsigned crypto_threads; /* realtime: signing and verification threads (0: on the loop) */
    struct bs_bench_slo slo;
    FILE *progress;    /* live and per-step lines (stderr); NULL: silent */
    bool progress_tty; /* rewrite one live line at least once a second */
    volatile int *stop;
};

/** The whole bench: its steps and the knee. */
struct bs_bench_result {
    struct bs_bench_step *steps; /* nsteps of them, heap, owned */
    size_t nsteps;
    int knee; /* index of the knee step, -1 when no step meets the SLO */
    char scenario_name[96];
    uint64_t seed;
    char signing[24];
    struct bs_bench_crypto crypto;
};

/**
 * bs_bench_parse_range() - "A" or "A:B:S" (start, end inclusive, step; numbers > 0) into
 * @out[0..*ret_n). Used for --ramp rates and --concurrency.
 * Return: 0; BS_EFORMAT for a malformed list (@err says why); BS_ELIMIT for more than
 * @cap values.
 */
int bs_bench_parse_range(const char *s, double *out, size_t cap, size_t *ret_n, char *err,
                         size_t errlen);

/**
 * bs_bench_parse_duration() - "30s", "500ms", "2min", "1.5h", "250us"; a bare number is
 * seconds. Return: 0; BS_EFORMAT.
 */
int bs_bench_parse_duration(const char *s, bs_time_us *ret);

/**
 * bs_bench_parse_slo() - "p99=2000ms,success=99.5%": comma-separated KEY=VALUE with keys
 * p50, p90, p99, p99.9, max (durations; a bare number is ms) and success, approval
 * (a percentage "99.5%" or a fraction "0.995").
 * Return: 0; BS_EFORMAT naming the bad item in @err.
 */
int bs_bench_parse_slo(const char *s, struct bs_bench_slo *ret, char *err, size_t errlen);

/** bs_bench_slo_met() - whether @st meets every bound of @slo (a step without
 * transactions never does). */
bool bs_bench_slo_met(const struct bs_bench_slo *slo, const struct bs_bench_step *st);

/**
 * bs_bench_knee() - the knee: the step with the highest offered load (rate, or
 * concurrency in closed loop) that meets @slo; ties go to the later step.
 * Return: its index, -1 when none does. Sets every step's meets_slo.
 */
int bs_bench_knee(const struct bs_bench_slo *slo, struct bs_bench_step *steps, size_t n);

/** bs_bench_is_error() - whether response code @rc (NULL: no response) is a system
 * failure rather than a business answer: 06, 30, 63, 68, 91, 92, 96, or none. */
bool bs_bench_is_error(const char *rc);

/**
 * bs_bench_run() - run every step of @cfg; stops early (keeping the finished steps) when
 * *@cfg->stop is set. @errbuf names what failed.
 * Return: 0; BS_EFORMAT / BS_EIO for a scenario that does not load (with the loader's
 * message); BS_EIO when a step's process failed; BS_ENOMEM. Free *@ret with
 * bs_bench_result_deinit().
 */
int bs_bench_run(const struct bs_bench_cfg *cfg, struct bs_bench_result *ret, char *errbuf,
                 size_t errlen);

/** bs_bench_result_deinit() - free what bs_bench_run() allocated. */
void bs_bench_result_deinit(struct bs_bench_result *r);

/**
 * bs_bench_crypto() - time @alg's sign and verify (medians of batches, about 0.4 s).
 * Return: 0 (with signing none: 0 and ->measured false); an error of bs_key_derive(),
 * bs_sign() or bs_verify().
 */
int bs_bench_crypto(enum bs_sig_alg alg, struct bs_bench_crypto *ret);

/**
 * bs_bench_crypto_ceiling() - transactions per second one core could sign and verify for
 * step @st: 1 / (m × (sign + verify)) where m is the messages delivered per transaction in
 * the step's run (each was signed once and verified once), with the step's own sign and
 * verify times when it has them, else @c's. 0 when neither was measured.
 */
double bs_bench_crypto_ceiling(const struct bs_bench_crypto *c, const struct bs_bench_step *st);

/**
 * bs_bench_crypto_ceiling_cores() - the ceiling of every core the step's crypto threads
 * could use: bs_bench_crypto_ceiling() × @st->crypto_cores.
 */
double bs_bench_crypto_ceiling_cores(const struct bs_bench_crypto *c,
                                     const struct bs_bench_step *st);

/** bs_bench_step_line() - one plain line describing step @i of @n (no newline). */
void bs_bench_step_line(const struct bs_bench_cfg *cfg, const struct bs_bench_step *st, size_t i,
                        size_t n, char *buf, size_t len);

/** bs_bench_print_table() - the final table and the knee line to @out. */
void bs_bench_print_table(const struct bs_bench_cfg *cfg, const struct bs_bench_result *r,
                          FILE *out);

/**
 * bs_bench_json() - the results as a JSON object (docs/bench.md lists the fields).
 * Return: a new reference; NULL when out of memory.
 */
json_t *bs_bench_json(const struct bs_bench_cfg *cfg, const struct bs_bench_result *r);

/**
 * bs_bench_svg() - write a self-contained SVG (no scripts) to @out: latency percentiles
 * (log scale) and achieved TPS against offered load, the SLO line and the knee.
 * Return: 0; BS_EIO when writing failed.
 */
int bs_bench_svg(const struct bs_bench_cfg *cfg, const struct bs_bench_result *r, FILE *out);

#endif
