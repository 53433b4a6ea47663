/*
 * A hash index from 64-bit hashes to 32-bit slot numbers, open addressing with linear
 * probing and backward-shift deletion (no tombstones, so long runs never degrade).
 * Several entries may share a hash: lookups confirm a candidate with a callback that
 * compares the full key, so a hash collision can never match the wrong record.
 * Private to libbridgesim.
 */
#ifndef BS_COMMON_MAP_H
#define BS_COMMON_MAP_H

#include <bridgesim/common.h>

struct bs__map_entry {
    uint64_t hash;
    uint32_t val;
    uint32_t used;
};

struct bs__map {
    struct bs__map_entry *e;
    size_t cap; /* power of two */
    size_t n;
    size_t max; /* limit on entries (BS_ELIMIT beyond) */
};

/** Match callback: whether slot @val holds the key the caller is looking for. */
typedef bool (*bs__map_eq)(const void *ctx, uint32_t val);

int bs__map_init(struct bs__map *m, size_t initial, size_t max);
void bs__map_deinit(struct bs__map *m);
/** Insert (hash, val). Return: 0; BS_ELIMIT; BS_ENOMEM. */
int bs__map_put(struct bs__map *m, uint64_t hash, uint32_t val);
/** Find the first entry with @hash for which @eq says yes. Return: 0 and *ret; BS_ENOTFOUND. */
int bs__map_get(const struct bs__map *m, uint64_t hash, bs__map_eq eq, const void *ctx,
                uint32_t *ret);
/** Remove the entry (hash, val). Return: 0; BS_ENOTFOUND. */
int bs__map_del(struct bs__map *m, uint64_t hash, uint32_t val);

/** 64-bit hash of bytes (eight bytes per multiply-rotate step, then a murmur3 finaliser
 * for avalanche). Not stable across versions: never store it. */
uint64_t bs__hash(const void *data, size_t n, uint64_t seed);

#endif
