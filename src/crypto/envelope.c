/*
 * The DE 127 signature envelope (GUIDE §4): version 0x01, algorithm, key-id length, key id,
 * signature length, signature. Every length is one byte, so the whole value stays far below
 * what an LLLVAR field can carry (999 bytes).
 */
#include <string.h>

#include "crypto_int.h"

#define ENVELOPE_VERSION 0x01
/* version, algorithm, key-id length, signature length */
#define ENVELOPE_FIXED 4

static bool alg_known(unsigned v)
{
    return v <= BS_SIG_AES_CMAC;
}

/*
 * The shape rules shared by encoder and decoder: NONE carries no signature and may carry no
 * key id; the real algorithms carry both.
 */
static bool shape_ok(enum bs_sig_alg alg, size_t id_len, size_t sig_len)
{
    if (id_len > BS_KEY_ID_MAX || sig_len > BS_SIG_MAX)
        return false;
    if (alg == BS_SIG_NONE)
        return sig_len == 0;
    return id_len > 0 && sig_len > 0;
}

int bs_sig_envelope_encode(enum bs_sig_alg alg, const char *key_id, const uint8_t *sig,
                           size_t sig_len, uint8_t *out, size_t cap)
{
    size_t id_len, total;
    uint8_t *p;

    if (key_id == NULL || (sig == NULL && sig_len > 0) || !alg_known((unsigned)alg))
        return BS_EINVAL;
    id_len = strnlen(key_id, BS_KEY_ID_MAX + 1);
    if (!shape_ok(alg, id_len, sig_len))
        return BS_EINVAL;
    if (id_len > 0 && !bs__key_id_valid(key_id, id_len))
        return BS_EINVAL;
    total = ENVELOPE_FIXED + id_len + sig_len;
    if (out == NULL || cap < total)
        return BS_ENOSPC;

    p = out;
    *p++ = ENVELOPE_VERSION;
    *p++ = (uint8_t)alg;
    *p++ = (uint8_t)id_len;
    memcpy(p, key_id, id_len);
    p += id_len;
    *p++ = (uint8_t)sig_len;
    if (sig_len > 0)
        memcpy(p, sig, sig_len);
    return (int)total;
}

int bs_sig_envelope_decode(const uint8_t *in, size_t n, struct bs_sig_envelope *ret)
{
    struct bs_sig_envelope env;
    size_t id_len, sig_len, off;

    if (ret == NULL || (in == NULL && n > 0))
        return BS_EINVAL;
    if (n < ENVELOPE_FIXED || in[0] != ENVELOPE_VERSION || !alg_known(in[1]))
        return BS_EFORMAT;
    env.alg = (enum bs_sig_alg)in[1];
    id_len = in[2];
    /* Room for the id, the signature-length byte, and nothing missing. */
    if (id_len > n - ENVELOPE_FIXED)
        return BS_EFORMAT;
    off = 3 + id_len;
    sig_len = in[off++];
    if (sig_len != n - off) /* truncated or with trailing bytes */
        return BS_EFORMAT;
    if (!shape_ok(env.alg, id_len, sig_len))
        return BS_EFORMAT;
    if (id_len > 0 && !bs__key_id_valid((const char *)in + 3, id_len))
        return BS_EFORMAT;

    memcpy(env.key_id, in + 3, id_len);
    env.key_id[id_len] = '\0';
    env.sig = sig_len > 0 ? in + off : NULL;
    env.sig_len = sig_len;
    *ret = env;
    return 0;
}
