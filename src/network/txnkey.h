/*
 * The matching key of a transaction leg: (DE 32 acquiring institution, DE 11 STAN,
 * DE 7 transmission date-time) plus the MTI class, GUIDE §3 "Duplicates" and issue #4.
 * Private to libbridgesim.
 */
#ifndef BS_NETWORK_TXNKEY_H
#define BS_NETWORK_TXNKEY_H

#include <bridgesim/iso8583.h>

#include "common/map.h"
#include "common/pool.h"

struct bs__tkey {
    char cls;     /* MTI class digit: '1', '2', '4' ... */
    char acq[12]; /* DE 32 without leading zeros */
    char stan[7]; /* DE 11 */
    char dt[11];  /* DE 7 */
};

/** The key of @m (responses give the key of their request: same class). */
void bs__tkey_from_msg(const struct bs_iso_msg *m, struct bs__tkey *k);

/**
 * The key of the original transaction a reversal names in DE 90 (original MTI n4,
 * STAN n6, DE 7 n10, acquirer id n11, forwarding id n11; ISO 8583:1987 DE 90).
 * Return: 0; BS_EFORMAT when DE 90 is absent or not 42 digits.
 */
int bs__tkey_from_de90(const struct bs_iso_msg *m, struct bs__tkey *k);

/** Build the 42 digits of DE 90 for original request @orig into @out (43 bytes). */
void bs__de90_from_msg(const struct bs_iso_msg *orig, char out[43]);

uint64_t bs__tkey_hash(const struct bs__tkey *k);

/**
 * The record of @pool indexed in @map under key @k, where every record holds its key at
 * byte offset @key_off; NULL when there is none. *@ret_idx receives its index. Hash
 * collisions are resolved by comparing the full key, so a response can never match the
 * wrong request.
 */
void *bs__tkey_find(const struct bs__map *map, const struct bs__pool *pool, size_t key_off,
                    const struct bs__tkey *k, uint32_t *ret_idx);

/**
 * What a request asks for (DE 2, 3, 4, 6, 49, 51), hashed: a repeat under a key has the
 * same content, a different request under the same key (RC 94) does not.
 */
uint64_t bs__content_hash(const struct bs_iso_msg *m);
bool bs__tkey_eq(const struct bs__tkey *a, const struct bs__tkey *b);

#endif
