/*
 * The simulated world: every node of a scenario, the links between them, the workload,
 * the journals, and the engine that runs them — in virtual time (deterministic, as fast
 * as the CPU allows) or in real time on libuv timers. The engine owns time, the event
 * queue, every PRNG stream and delivery; nodes only react (GUIDE §2).
 */
#ifndef BS_SIM_WORLD_H
#define BS_SIM_WORLD_H

#include <stdio.h>

#include <bridgesim/network.h>

#include "engine/queue.h"
#include "engine/rng.h"
#include "report/hist.h"
#include "scenario/scenario.h"

/** Response codes tracked individually in the outcome table ("00".."99"), plus timeouts. */
#define BS_RC_SLOTS 100

/** Per-flow and total outcome counters, filled by the terminals' outcome reports. */
struct bs_outcomes {
    uint64_t started;
    uint64_t finished;
    uint64_t approved;
    uint64_t declined;
    uint64_t no_response; /* the terminal timed out */
    uint64_t by_rc[BS_RC_SLOTS];
    uint64_t other_rc;      /* non-numeric response codes */
    struct bs_hist latency; /* µs, end to end at the terminal */
    /* Per enum bs_txn_type: started, approved (RC 00), declined, no_response. */
    struct bs_type_outcomes {
        uint64_t started, approved, declined, no_response;
    } by_type[BS_TXN_TYPE_COUNT];
};

struct bs_world;

/**
 * struct bs_run_observer - hooks for `bridgesim bench` (sim/bench); a plain run has none.
 * Called on the engine's thread, inside the run; they must not call back into the world
 * except bs_world_result().
 * @outcome:  a terminal transaction finished: @rc as for bs_env_ops.outcome (NULL: timed
 *            out), started at @started and finished at @now (µs, engine time).
 * @progress: about every @interval wall seconds (1 when 0) while the run goes on.
 * @start:    a terminal transaction starts at @at (engine time); may be NULL.
 */
struct bs_run_observer {
    void *ctx;
    void (*outcome)(void *ctx, uint32_t flow, const char *rc, bs_time_us started, bs_time_us now);
    void (*progress)(void *ctx, const struct bs_world *w, bs_time_us now);
    double interval;
    void (*start)(void *ctx, bs_time_us at);
};

/** Options of one run, from the command line. */
struct bs_run_opts {
    const char *out_dir;     /* run directory; created */
    const char *dialect_dir; /* where dialect NAMEs are found */
    bool realtime;
    bool journals;      /* write per-node journals (bench may turn them off) */
    bool progress;      /* realtime: a progress line on stderr */
    volatile int *stop; /* set non-zero (e.g. by SIGINT) to stop early */
    /* Closed loop (bench --concurrency): keep this many transactions in flight, starting
     * the next as soon as one finishes, instead of arrivals at workload.rate_tps; 0: open
     * loop. The workload still ends by count or duration. */
    uint32_t concurrency;
    const struct bs_run_observer *observer; /* may be NULL */
    /* Real time with signing on: worker threads that sign and verify off the event loop
     * (cryptopool.h); 0 signs and verifies on the loop; BS_CPOOL_AUTO one per core for
     * asymmetric algorithms, none for MACs. Virtual time ignores it. */
    unsigned crypto_threads;
};

/**
 * bs_world_new() - build every node, link, key, card population and journal of @sc.
 * @errbuf receives a message naming what failed (a dialect file, a BIN clash...).
 * Return: 0; BS_EIO (run directory, dialect file); BS_EFORMAT (dialect syntax);
 * BS_EINVAL; BS_ENOMEM.
 */
int bs_world_new(const struct bs_scenario *sc, const struct bs_run_opts *opts,
                 struct bs_world **ret, char *errbuf, size_t errlen);

/** bs_world_free() - close journals, free everything; NULL accepted. */
void bs_world_free(struct bs_world *w);

/**
 * bs_world_run() - run the workload to its end plus the drain time.
 * Return: 0; BS_ENOMEM; BS_EIO (a journal could not be written).
 */
int bs_world_run(struct bs_world *w);

/** Results of a finished run (valid until bs_world_free()). */
struct bs_run_result {
    const struct bs_outcomes *total;
    const struct bs_outcomes *flows; /* one per workload flow */
    size_t nflows;
    const int64_t *stats; /* BS_STAT_COUNT counters */
    uint64_t messages;    /* messages delivered */
    uint64_t dropped;     /* messages lost on links */
    uint64_t journal_records;
    double wall_seconds;
    double cpu_seconds;
    bs_time_us sim_start, sim_end; /* virtual (or wall) time span of the run */
    size_t in_flight_at_end;       /* terminal transactions never answered */
    size_t open_reversals_at_end;
    uint64_t queue_dropped;    /* messages refused by a full node queue (in @dropped too) */
    bool interrupted;          /* stopped early (opts.stop, SIGINT): in-flight work is normal */
    unsigned crypto_threads;   /* real time: threads that signed and verified (0: the loop) */
    double crypto_cpu_seconds; /* their CPU time, all together (part of @cpu_seconds) */
    uint64_t link_dropped;     /* messages refused by a full link (capacity; in @dropped too) */
};

void bs_world_result(const struct bs_world *w, struct bs_run_result *ret);

struct bs_linkcap_stats;

/**
 * bs_world_link_capacity() - the counters of the @i-th link direction (0-based, in link
 * order, a → b before b → a) that has a `capacity`: its sender @ret_from, receiver @ret_to
 * (names owned by the world) and counters.
 * Return: @i + 1; 0 when there are not that many (nothing written).
 */
size_t bs_world_link_capacity(const struct bs_world *w, size_t i, const char **ret_from,
                              const char **ret_to, struct bs_linkcap_stats *ret);

/**
 * Ledger totals per issuer for the conservation invariant and the summary.
 * @i: 0 .. bs_world_issuers() - 1.
 */
size_t bs_world_issuers(const struct bs_world *w);
const char *bs_world_issuer_name(const struct bs_world *w, size_t i);
const struct bs_node *bs_world_issuer(const struct bs_world *w, size_t i);
const char *bs_world_issuer_currency(const struct bs_world *w, size_t i);

/**
 * struct bs_money_check - for one network's cards: what its issuers posted net
 * (debits − credits, minor units of its currency) against what the bridge committed net
 * (committed − reversed billing amounts). Equal when every approved transaction ended
 * exactly once and nothing was debited twice (issue #4 §13).
 */
struct bs_money_check {
    const char *network, *currency;
    int64_t issuers_net, bridge_net;
};

/** bs_world_money_check() - the check for network @n (0 .. nnetworks − 1). */
void bs_world_money_check(const struct bs_world *w, size_t n, struct bs_money_check *ret);

/**
 * bs_world_open_queues() - reversals and stand-in advices not yet acknowledged at the end
 * of the run, over every acquirer, switch and the bridge.
 */
void bs_world_open_queues(const struct bs_world *w, size_t *ret_reversals, size_t *ret_advices);

/**
 * bs_world_settlement() - the settlement of the bridge's clearing records (owned by the
 * world; bridgesim/settlement.h). Closed at the end of bs_world_run(). NULL only before
 * the bridge was built.
 */
struct bs_settlement;
struct bs_settlement *bs_world_settlement(const struct bs_world *w);

#endif
