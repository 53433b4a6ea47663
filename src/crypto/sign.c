/*
 * Signing and verification with the contexts a key set up once (key.c).
 *
 * Result translation: 0 for success, BS_ESIG for a signature that does not verify,
 * BS_ECRYPTO only when OpenSSL itself fails. Every failure empties the error queue.
 */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "crypto_int.h"

#define ED25519_SIG_LEN 64
#define SHA256_LEN      32

/* Stands in for a NULL message of length 0, so OpenSSL never sees a NULL data pointer. */
static const uint8_t empty[1];

/*
 * Ed25519 (RFC 8032): OpenSSL 3.0 only offers the one-shot EVP_DigestSign() and
 * EVP_DigestVerify(). Calling them again on the same context happens to work in 3.0, but
 * later releases mark the context finalised after one call, so relying on it would break
 * on upgrade. Re-running EVP_DigestSignInit_ex() per message costs about 2 µs (it allocates
 * a new EVP_PKEY_CTX); copying the pre-initialised template with EVP_MD_CTX_copy_ex()
 * costs about 0.15 µs and no EVP_PKEY allocation, against ~50 µs for the signature
 * itself. So: one template per direction, copied into @work for each message.
 */
static int ed25519_sign(struct bs_key *k, const uint8_t *msg, size_t n, uint8_t *out, size_t *len)
{
    if (EVP_MD_CTX_copy_ex(k->work, k->sign_tmpl) != 1 ||
        EVP_DigestSign(k->work, out, len, msg, n) != 1)
        return bs__crypto_fail();
    return 0;
}

static int ed25519_verify(struct bs_key *k, const uint8_t *msg, size_t n, const uint8_t *sig,
                          size_t sig_len)
{
    int r;

    if (sig_len != ED25519_SIG_LEN)
        return BS_ESIG;
    if (EVP_MD_CTX_copy_ex(k->work, k->verify_tmpl) != 1)
        return bs__crypto_fail();
    /*
     * 1 valid, 0 mismatch, negative error. OpenSSL 3.0 also returns 0 when a fetch inside
     * the verification fails; that cannot be told apart reliably and becomes BS_ESIG.
     */
    r = EVP_DigestVerify(k->work, sig, sig_len, msg, n);
    if (r == 1)
        return 0;
    if (r == 0) {
        ERR_clear_error();
        return BS_ESIG;
    }
    return bs__crypto_fail();
}

/* SHA-256 of the message with the key's reused digest context. */
static int p256_digest(struct bs_key *k, const uint8_t *msg, size_t n, uint8_t dg[SHA256_LEN])
{
    unsigned int dl = 0;

    if (EVP_DigestInit_ex2(k->md, k->sha256, NULL) != 1 || EVP_DigestUpdate(k->md, msg, n) != 1 ||
        EVP_DigestFinal_ex(k->md, dg, &dl) != 1 || dl != SHA256_LEN)
        return bs__crypto_fail();
    return 0;
}

static int p256_sign(struct bs_key *k, const uint8_t *msg, size_t n, uint8_t *out, size_t *len)
{
    uint8_t dg[SHA256_LEN];
    int rc;

    rc = p256_digest(k, msg, n, dg);
    if (rc != 0)
        return rc;
    if (EVP_PKEY_sign(k->sign_ctx, out, len, dg, sizeof(dg)) != 1)
        return bs__crypto_fail();
    return 0;
}

/*
 * Whether @p starts with a DER INTEGER (X.690 §8.3, §10.1) that is short-form, non-negative
 * and minimally encoded, with at most 33 content bytes (a 256-bit value plus a sign byte).
 * On success *@used is its total length.
 */
static bool der_uint(const uint8_t *p, size_t n, size_t *used)
{
    size_t len;

    if (n < 3 || p[0] != 0x02)
        return false;
    len = p[1];
    if (len == 0 || len > 33 || len > n - 2)
        return false;
    if (p[2] & 0x80)
        return false; /* negative */
    if (len > 1 && p[2] == 0x00 && !(p[3] & 0x80))
        return false; /* a leading zero that is not needed */
    *used = 2 + len;
    return true;
}

/*
 * Whether @sig is a strict DER Ecdsa-Sig-Value: SEQUENCE { INTEGER r, INTEGER s } with
 * nothing after it (SEC 1 §C.5, X9.62). OpenSSL rejects non-canonical encodings too, but
 * reports them as an error (-1), indistinguishable from a library failure; checking first
 * lets us report every malformed signature as BS_ESIG.
 */
static bool ecdsa_der_ok(const uint8_t *sig, size_t n)
{
    size_t r_len, s_len;

    /* 8 = two one-byte INTEGERs; 72 = two 33-byte INTEGERs, so lengths stay short-form. */
    if (n < 8 || n > 72 || sig[0] != 0x30 || sig[1] != n - 2)
        return false;
    if (!der_uint(sig + 2, n - 2, &r_len))
        return false;
    if (!der_uint(sig + 2 + r_len, n - 2 - r_len, &s_len))
        return false;
    return 2 + r_len + s_len == n;
}

static int p256_verify(struct bs_key *k, const uint8_t *msg, size_t n, const uint8_t *sig,
                       size_t sig_len)
{
    uint8_t dg[SHA256_LEN];
    int r, rc;

    if (!ecdsa_der_ok(sig, sig_len))
        return BS_ESIG;
    rc = p256_digest(k, msg, n, dg);
    if (rc != 0)
        return rc;
    /* 1 valid; 0 mismatch (r or s out of range included); negative: a library failure. */
    r = EVP_PKEY_verify(k->verify_ctx, sig, sig_len, dg, sizeof(dg));
    if (r == 1)
        return 0;
    if (r == 0) {
        ERR_clear_error();
        return BS_ESIG;
    }
    return bs__crypto_fail();
}

/*
 * HMAC / CMAC over the message into @out (full length, k->mac_len bytes). Re-initialising
 * with a NULL key keeps the key already set (EVP_MAC_init(3)) and restarts the MAC: no
 * allocation and, for HMAC, no re-hashing of the key pads.
 */
static int mac_compute(struct bs_key *k, const uint8_t *msg, size_t n, uint8_t *out)
{
    size_t len = 0;

    if (EVP_MAC_init(k->mac, NULL, 0, NULL) != 1 || EVP_MAC_update(k->mac, msg, n) != 1 ||
        EVP_MAC_final(k->mac, out, &len, EVP_MAX_MD_SIZE) != 1 || len != k->mac_len)
        return bs__crypto_fail();
    return 0;
}

int bs_sign(struct bs_key *k, const uint8_t *msg, size_t n, uint8_t *sig, size_t cap,
            size_t *ret_len)
{
    /* Room for the largest output of any algorithm, MACs before truncation included. */
    uint8_t buf[EVP_MAX_MD_SIZE > BS_SIG_MAX ? EVP_MAX_MD_SIZE : BS_SIG_MAX];
    size_t len = sizeof(buf);
    int rc;

    if (k == NULL || ret_len == NULL || (msg == NULL && n > 0))
        return BS_EINVAL;
    if (msg == NULL)
        msg = empty;

    switch (k->alg) {
    case BS_SIG_ED25519:
        rc = ed25519_sign(k, msg, n, buf, &len);
        break;
    case BS_SIG_ECDSA_P256:
        rc = p256_sign(k, msg, n, buf, &len);
        break;
    case BS_SIG_HMAC_SHA256:
    case BS_SIG_AES_CMAC:
        rc = mac_compute(k, msg, n, buf);
        len = k->sig_len; /* truncation keeps the leftmost bytes (RFC 2104 §5) */
        break;
    default:
        return BS_EINVAL;
    }
    if (rc != 0)
        goto wipe;
    if (len > BS_SIG_MAX) {
        rc = bs__crypto_fail();
        goto wipe;
    }
    if (sig == NULL || cap < len) {
        rc = BS_ENOSPC;
        goto wipe;
    }
    memcpy(sig, buf, len);
    *ret_len = len;

wipe:
    /* The MAC bytes beyond the truncation point are as secret as the truncation intends. */
    OPENSSL_cleanse(buf, sizeof(buf));
    return rc;
}

int bs_verify(struct bs_key *k, const uint8_t *msg, size_t n, const uint8_t *sig, size_t sig_len)
{
    uint8_t mac[EVP_MAX_MD_SIZE];
    int rc;

    if (k == NULL || (msg == NULL && n > 0) || (sig == NULL && sig_len > 0))
        return BS_EINVAL;
    if (msg == NULL)
        msg = empty;
    if (sig == NULL)
        sig = empty;

    switch (k->alg) {
    case BS_SIG_ED25519:
        return ed25519_verify(k, msg, n, sig, sig_len);
    case BS_SIG_ECDSA_P256:
        return p256_verify(k, msg, n, sig, sig_len);
    case BS_SIG_HMAC_SHA256:
    case BS_SIG_AES_CMAC:
        /* The length is public (it is in the envelope), so checking it first leaks nothing. */
        if (sig_len != k->sig_len)
            return BS_ESIG;
        rc = mac_compute(k, msg, n, mac);
        if (rc == 0 && CRYPTO_memcmp(mac, sig, sig_len) != 0)
            rc = BS_ESIG;
        OPENSSL_cleanse(mac, sizeof(mac));
        return rc;
    default:
        return BS_EINVAL;
    }
}
