/* Transaction matching keys; see txnkey.h. */
#include <string.h>

#include <bridgesim/network.h>

#include "common/map.h"
#include "network/txnkey.h"

static void copy_field(const struct bs_iso_msg *m, unsigned de, char *out, size_t cap,
                       bool strip_zeros)
{
    size_t n;
    const uint8_t *v = bs_iso_msg_get(m, de, &n);

    out[0] = '\0';
    if (!v)
        return;
    if (strip_zeros)
        while (n > 1 && *v == '0') {
            v++;
            n--;
        }
    if (n >= cap)
        n = cap - 1;
    memcpy(out, v, n);
    out[n] = '\0';
}

void bs__tkey_from_msg(const struct bs_iso_msg *m, struct bs__tkey *k)
{
    memset(k, 0, sizeof(*k));
    k->cls = m->mti[1];
    copy_field(m, 32, k->acq, sizeof(k->acq), true);
    /* No DE 32 reads as eleven zeros in DE 90, which normalises to "0". */
    if (!k->acq[0])
        k->acq[0] = '0';
    copy_field(m, 11, k->stan, sizeof(k->stan), false);
    copy_field(m, 7, k->dt, sizeof(k->dt), false);
}

int bs__tkey_from_de90(const struct bs_iso_msg *m, struct bs__tkey *k)
{
    size_t n;
    const uint8_t *v = bs_iso_msg_get(m, 90, &n);
    const char *p;

    if (!v || n != 42)
        return BS_EFORMAT;
    for (size_t i = 0; i < n; i++)
        if (v[i] < '0' || v[i] > '9')
            return BS_EFORMAT;
    p = (const char *)v;
    memset(k, 0, sizeof(*k));
    k->cls = p[1];
    memcpy(k->stan, p + 4, 6);
    memcpy(k->dt, p + 10, 10);
    p += 20;
    n = 11;
    while (n > 1 && *p == '0') {
        p++;
        n--;
    }
    memcpy(k->acq, p, n);
    return 0;
}

void bs__de90_from_msg(const struct bs_iso_msg *orig, char out[43])
{
    size_t n;
    const uint8_t *v;

    memset(out, '0', 42);
    out[42] = '\0';
    memcpy(out, orig->mti, 4);
    if ((v = bs_iso_msg_get(orig, 11, &n)) && n <= 6)
        memcpy(out + 4 + (6 - n), v, n);
    if ((v = bs_iso_msg_get(orig, 7, &n)) && n <= 10)
        memcpy(out + 10 + (10 - n), v, n);
    if ((v = bs_iso_msg_get(orig, 32, &n)) && n <= 11)
        memcpy(out + 20 + (11 - n), v, n);
    if ((v = bs_iso_msg_get(orig, 33, &n)) && n <= 11)
        memcpy(out + 31 + (11 - n), v, n);
}

uint64_t bs__tkey_hash(const struct bs__tkey *k)
{
    return bs__hash(k, sizeof(*k), 0);
}

bool bs__tkey_eq(const struct bs__tkey *a, const struct bs__tkey *b)
{
    return memcmp(a, b, sizeof(*a)) == 0;
}

uint64_t bs_txn_key(const struct bs_iso_msg *m)
{
    struct bs__tkey k;

    bs__tkey_from_msg(m, &k);
    return bs__tkey_hash(&k);
}

uint64_t bs__content_hash(const struct bs_iso_msg *m)
{
    static const uint8_t des[] = { 2, 3, 4, 6, 49, 51 };
    uint64_t h = 0;

    for (size_t i = 0; i < sizeof(des); i++) {
        size_t n;
        const uint8_t *v = bs_iso_msg_get(m, des[i], &n);
        h = bs__hash(v ? v : (const uint8_t *)"", v ? n : 0, h ^ des[i]);
    }
    return h;
}

struct key_match {
    const struct bs__pool *pool;
    size_t off;
    const struct bs__tkey *key;
};

static bool key_eq(const void *ctx, uint32_t idx)
{
    const struct key_match *km = ctx;
    const uint8_t *rec = bs__pool_at(km->pool, idx);

    return bs__tkey_eq((const struct bs__tkey *)(rec + km->off), km->key);
}

void *bs__tkey_find(const struct bs__map *map, const struct bs__pool *pool, size_t key_off,
                    const struct bs__tkey *k, uint32_t *ret_idx)
{
    struct key_match km = { pool, key_off, k };

    if (bs__map_get(map, bs__tkey_hash(k), key_eq, &km, ret_idx) != 0)
        return NULL;
    return bs__pool_at(pool, *ret_idx);
}
