/*
 * The crypto pool of the realtime engine (issue #8 item 6): worker threads that sign and
 * verify off the libuv loop, so the loop never waits for a signature and both cores work.
 *
 * A job is any struct that embeds struct bs_cjob: its work() runs on a worker thread, its
 * done() afterwards on the loop's thread, jobs in the order they finished. Each worker
 * has its own copy of every key (bs_key_clone(), made before the workers start), because a
 * key's OpenSSL contexts are not thread-safe: work() gets the copy of the loop's key with
 * bs_cpool_key(). Jobs travel through two lists under one mutex (submitted, finished);
 * a uv_async_t wakes the loop for finished ones. Nothing else is shared: a job's data
 * belong to the worker between submit and done, to the loop otherwise.
 *
 * Virtual time never creates a pool: it stays single-threaded and deterministic.
 */
#ifndef BS_SIM_CRYPTOPOOL_H
#define BS_SIM_CRYPTOPOOL_H

#include <uv.h>

#include <bridgesim/crypto.h>

/** A thread count meaning: one per core when a link signs with Ed25519 or ECDSA, none for
 * MACs only (an HMAC or CMAC costs about a microsecond, less than handing it to a thread). */
#define BS_CPOOL_AUTO 0xffffffffu

/** The most worker threads a pool takes. */
#define BS_CPOOL_MAX_THREADS 64

struct bs_cpool;
struct bs_cpool_thread;

/**
 * struct bs_cjob - the part of a job the pool uses; embed it in the job.
 * @next: the pool's list link (a job is on one list at a time).
 * @work: runs on a worker thread; may use only the job, read-only shared data, and keys
 *        from bs_cpool_key().
 * @done: runs on the loop's thread after @work. @cancelled: the pool is closing (@work
 *        may or may not have run): the job must only be released.
 */
struct bs_cjob {
    struct bs_cjob *next;
    void (*work)(struct bs_cjob *job, struct bs_cpool_thread *t);
    void (*done)(struct bs_cjob *job, bool cancelled);
};

/**
 * bs_cpool_new() - start @threads workers (1 .. BS_CPOOL_MAX_THREADS), each with a copy
 * of every key of the stores @stores[0..nstores) (NULL entries skipped) and of the keys
 * @extra[0..nextra) (NULL entries skipped), on @loop. Call on the loop's thread, while no
 * other thread uses those keys. @after, when non-NULL, runs on the loop's thread after
 * each batch of done() calls, with @ctx.
 * Return: 0; BS_EINVAL; BS_ENOMEM; BS_ECRYPTO (a key copy); BS_EIO (a thread or handle).
 */
int bs_cpool_new(uv_loop_t *loop, unsigned threads, const struct bs_keystore *const *stores,
                 size_t nstores, struct bs_key *const *extra, size_t nextra,
                 void (*after)(void *ctx), void *ctx, struct bs_cpool **ret);

/** bs_cpool_submit() - queue @job for a worker; on the loop's thread. Never fails. */
void bs_cpool_submit(struct bs_cpool *p, struct bs_cjob *job);

/** bs_cpool_pending() - jobs submitted whose done() has not run yet. */
size_t bs_cpool_pending(const struct bs_cpool *p);

/**
 * bs_cpool_key() - the worker's own copy of @k (a key of the stores or extras given to
 * bs_cpool_new()), or NULL for a key the pool does not know. On a worker thread.
 */
struct bs_key *bs_cpool_key(struct bs_cpool_thread *t, const struct bs_key *k);

/**
 * bs_cpool_free() - stop and join the workers (a job being worked on finishes first), run
 * done(cancelled) of every job still in the pool, finished or not, close the
 * async handle (the loop must run once more for uv_close), free the key copies. On the
 * loop's thread; NULL accepted. @ret_cpu_seconds, when non-NULL, receives the CPU time the
 * workers used, all together.
 */
void bs_cpool_free(struct bs_cpool *p, double *ret_cpu_seconds);

/** bs_cpool_default_threads() - the number of cores libuv sees (at least 1). */
unsigned bs_cpool_default_threads(void);

#endif /* BS_SIM_CRYPTOPOOL_H */
