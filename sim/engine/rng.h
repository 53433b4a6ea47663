/*
 * Seeded PRNG streams. Every random draw of a run comes from a stream the engine owns:
 * one per link, node, issuer population and the workload, each derived from the scenario
 * seed and the stream's name, so adding a link does not shift any other stream's draws.
 * Generator: xoshiro256** (Blackman & Vigna), seeded through splitmix64.
 */
#ifndef BS_SIM_RNG_H
#define BS_SIM_RNG_H

#include <stdint.h>

struct bs_rng {
    uint64_t s[4];
};

/** bs_rng_seed() - the stream named @name of run seed @seed. */
void bs_rng_seed(struct bs_rng *r, uint64_t seed, const char *name);

/** bs_rng_next() - the next 64 random bits. */
uint64_t bs_rng_next(struct bs_rng *r);

/** bs_rng_next_cb() - bs_rng_next() with the signature bs_dist_sample() takes. */
uint64_t bs_rng_next_cb(void *r);

/** bs_rng_unit() - a uniform double in [0, 1) with 53 random bits. */
double bs_rng_unit(struct bs_rng *r);

/** bs_rng_below() - a uniform integer in [0, @n) (Lemire's unbiased method); 0 when n is 0. */
uint64_t bs_rng_below(struct bs_rng *r, uint64_t n);

#endif
