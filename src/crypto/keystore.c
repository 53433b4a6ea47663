/*
 * The key store: keys kept in an array sorted by id (strcmp order), found by binary search.
 * Stores hold tens to a few hundred keys (one per institution and epoch), added at setup and
 * read on every message, so a sorted array beats a hash map on simplicity and locality.
 */
#include <stdint.h>
#include <string.h>

#include "crypto_int.h"

struct bs_keystore {
    struct bs_key **keys;
    size_t n;
    size_t cap;
};

int bs_keystore_new(struct bs_keystore **ret)
{
    struct bs_keystore *ks;

    if (ret == NULL)
        return BS_EINVAL;
    ks = bs_calloc(1, sizeof(*ks));
    if (ks == NULL)
        return BS_ENOMEM;
    *ret = ks;
    return 0;
}

void bs_keystore_free(struct bs_keystore *ks)
{
    if (ks == NULL)
        return;
    for (size_t i = 0; i < ks->n; i++)
        bs_key_free(ks->keys[i]);
    bs_free(ks->keys);
    bs_free(ks);
}

/*
 * The index of @key_id, or where it would be inserted. *@found says which.
 */
static size_t find(const struct bs_keystore *ks, const char *key_id, bool *found)
{
    size_t lo = 0, hi = ks->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(key_id, ks->keys[mid]->id);

        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    *found = false;
    return lo;
}

int bs_keystore_add(struct bs_keystore *ks, struct bs_key *k)
{
    bool found;
    size_t at;

    if (ks == NULL || k == NULL) {
        bs_key_free(k);
        return BS_EINVAL;
    }
    at = find(ks, k->id, &found);
    if (found) {
        bs_key_free(k);
        return BS_EEXIST;
    }
    if (ks->n == ks->cap) {
        size_t cap = ks->cap ? ks->cap * 2 : 16;
        struct bs_key **keys;

        if (cap > SIZE_MAX / sizeof(*keys)) {
            bs_key_free(k);
            return BS_ENOMEM;
        }
        keys = bs_realloc(ks->keys, cap * sizeof(*keys));
        if (keys == NULL) {
            bs_key_free(k);
            return BS_ENOMEM;
        }
        ks->keys = keys;
        ks->cap = cap;
    }
    memmove(&ks->keys[at + 1], &ks->keys[at], (ks->n - at) * sizeof(*ks->keys));
    ks->keys[at] = k;
    ks->n++;
    return 0;
}

struct bs_key *bs_keystore_get(const struct bs_keystore *ks, const char *key_id)
{
    bool found;
    size_t at;

    if (ks == NULL || key_id == NULL)
        return NULL;
    at = find(ks, key_id, &found);
    return found ? ks->keys[at] : NULL;
}

struct bs_key *bs_keystore_at(const struct bs_keystore *ks, size_t i)
{
    return ks != NULL && i < ks->n ? ks->keys[i] : NULL;
}

int bs_keystore_set_validity(struct bs_keystore *ks, const char *key_id, bs_time_us not_before,
                             bs_time_us not_after)
{
    struct bs_key *k;

    if (ks == NULL || key_id == NULL || not_before > not_after)
        return BS_EINVAL;
    k = bs_keystore_get(ks, key_id);
    if (k == NULL)
        return BS_ENOTFOUND;
    k->not_before = not_before;
    k->not_after = not_after;
    return 0;
}
