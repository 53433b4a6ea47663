/*
 * Keys: creation from raw bytes, from a seed (HKDF-SHA256, RFC 5869) and from PKCS#8 PEM;
 * accessors; PEM export; destruction. Every key gets its per-message OpenSSL contexts here,
 * once, so that signing and verifying (sign.c) only reuse them.
 */
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/encoder.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "crypto_int.h"

/* HKDF salt fixed by the derivation scheme (crypto_int.h): changing it changes every key. */
#define HKDF_SALT BS__HKDF_SALT

/* ECDSA derivation draws 64 bits more than the 256-bit order (FIPS 186-4 B.4.1). */
#define P256_OKM_LEN 48
#define P256_SCALAR  32
#define HMAC_KEY_LEN 32
#define CMAC_KEY_LEN 16

int bs__crypto_fail(void)
{
    ERR_clear_error();
    return BS_ECRYPTO;
}

bool bs__key_id_valid(const char *id, size_t len)
{
    if (id == NULL || len == 0 || len > BS_KEY_ID_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)id[i];

        if (c < 0x21 || c > 0x7e)
            return false;
    }
    return true;
}

const char *bs_sig_alg_name(enum bs_sig_alg alg)
{
    switch (alg) {
    case BS_SIG_NONE:
        return "none";
    case BS_SIG_ED25519:
        return "ed25519";
    case BS_SIG_ECDSA_P256:
        return "ecdsa-p256";
    case BS_SIG_HMAC_SHA256:
        return "hmac-sha256";
    case BS_SIG_AES_CMAC:
        return "aes-cmac";
    }
    return "unknown";
}

int bs_sig_alg_parse(const char *name, enum bs_sig_alg *ret)
{
    static const enum bs_sig_alg all[] = { BS_SIG_NONE, BS_SIG_ED25519, BS_SIG_ECDSA_P256,
                                           BS_SIG_HMAC_SHA256, BS_SIG_AES_CMAC };

    if (name == NULL || ret == NULL)
        return BS_ENOTFOUND;
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        if (strcmp(name, bs_sig_alg_name(all[i])) == 0) {
            *ret = all[i];
            return 0;
        }
    }
    return BS_ENOTFOUND;
}

static bool alg_is_mac(enum bs_sig_alg alg)
{
    return alg == BS_SIG_HMAC_SHA256 || alg == BS_SIG_AES_CMAC;
}

static bool alg_is_real(enum bs_sig_alg alg)
{
    return alg == BS_SIG_ED25519 || alg == BS_SIG_ECDSA_P256 || alg_is_mac(alg);
}

/*
 * Allocate an empty key after checking what does not depend on the key material: the id
 * and the truncation. MAC lengths are known per algorithm, so @trunc is checked here too.
 */
static int key_new(enum bs_sig_alg alg, const char *key_id, size_t trunc, struct bs_key **ret)
{
    size_t full = alg == BS_SIG_HMAC_SHA256 ? 32 : alg == BS_SIG_AES_CMAC ? 16 : 0;
    size_t id_len;
    struct bs_key *k;

    if (!alg_is_real(alg) || key_id == NULL)
        return BS_EINVAL;
    id_len = strnlen(key_id, BS_KEY_ID_MAX + 1);
    if (!bs__key_id_valid(key_id, id_len))
        return BS_EINVAL;
    if (alg_is_mac(alg)) {
        if (trunc != 0 && (trunc < 8 || trunc > full))
            return BS_EINVAL;
    } else if (trunc != 0) {
        return BS_EINVAL;
    }

    k = bs_calloc(1, sizeof(*k));
    if (k == NULL)
        return BS_ENOMEM;
    k->alg = alg;
    memcpy(k->id, key_id, id_len);
    k->id[id_len] = '\0';
    k->mac_len = full;
    k->sig_len = trunc != 0 ? trunc : full;
    k->not_before = INT64_MIN;
    k->not_after = INT64_MAX;
    *ret = k;
    return 0;
}

void bs_key_free(struct bs_key *k)
{
    if (k == NULL)
        return;
    /* OpenSSL wipes the key material it holds when these are freed. */
    EVP_MAC_CTX_free(k->mac);
    EVP_PKEY_CTX_free(k->verify_ctx);
    EVP_PKEY_CTX_free(k->sign_ctx);
    EVP_MD_CTX_free(k->md);
    EVP_MD_free(k->sha256);
    EVP_MD_CTX_free(k->work);
    EVP_MD_CTX_free(k->verify_tmpl);
    EVP_MD_CTX_free(k->sign_tmpl);
    EVP_PKEY_free(k->pkey);
    OPENSSL_cleanse(k, sizeof(*k));
    bs_free(k);
}

const char *bs_key_id(const struct bs_key *k)
{
    return k->id;
}

void bs_key_validity(const struct bs_key *k, bs_time_us *ret_not_before, bs_time_us *ret_not_after)
{
    if (ret_not_before)
        *ret_not_before = k->not_before;
    if (ret_not_after)
        *ret_not_after = k->not_after;
}

int bs_key_valid_at(const struct bs_key *k, bs_time_us now)
{
    return now < k->not_before || now > k->not_after ? BS_EKEY : 0;
}

enum bs_sig_alg bs_key_alg(const struct bs_key *k)
{
    return k->alg;
}

int bs_key_public(const struct bs_key *k, uint8_t *out, size_t cap)
{
    if (k == NULL || k->pub_len == 0)
        return BS_EINVAL;
    if (out == NULL || cap < k->pub_len)
        return BS_ENOSPC;
    memcpy(out, k->pub, k->pub_len);
    return (int)k->pub_len;
}

/* ---- per-algorithm context setup ------------------------------------------------------- */

/*
 * Ed25519 has no streaming interface in OpenSSL 3.0, only the one-shot EVP_DigestSign().
 * We initialise one sign and one verify context per key and copy the template into @work
 * for each message (see sign.c for why the template is not signed with directly).
 */
static int setup_ed25519(struct bs_key *k)
{
    size_t len = sizeof(k->pub);

    if (EVP_PKEY_get_raw_public_key(k->pkey, k->pub, &len) != 1 || len != BS__ED25519_LEN)
        return bs__crypto_fail();
    k->pub_len = len;

    k->sign_tmpl = EVP_MD_CTX_new();
    k->verify_tmpl = EVP_MD_CTX_new();
    k->work = EVP_MD_CTX_new();
    if (k->sign_tmpl == NULL || k->verify_tmpl == NULL || k->work == NULL)
        return BS_ENOMEM;
    if (EVP_DigestSignInit_ex(k->sign_tmpl, NULL, NULL, NULL, NULL, k->pkey, NULL) != 1 ||
        EVP_DigestVerifyInit_ex(k->verify_tmpl, NULL, NULL, NULL, NULL, k->pkey, NULL) != 1)
        return bs__crypto_fail();
    return 0;
}

/*
 * ECDSA is driven as "hash, then EVP_PKEY_sign() the digest": the digest context and the
 * two EVP_PKEY_CTXs are initialised once and reused, so a message costs no allocation on our
 * side. Setting the digest on the contexts makes OpenSSL check the digest length.
 */
static int setup_p256(struct bs_key *k)
{
    OSSL_PARAM params[2];
    size_t len = 0;

    /* Keys decoded from PEM may carry the compressed form; we always publish 65 bytes. */
    if (EVP_PKEY_set_utf8_string_param(k->pkey, OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT,
                                       OSSL_PKEY_EC_POINT_CONVERSION_FORMAT_UNCOMPRESSED) != 1 ||
        EVP_PKEY_get_octet_string_param(k->pkey, OSSL_PKEY_PARAM_PUB_KEY, k->pub, sizeof(k->pub),
                                        &len) != 1 ||
        len != BS__P256_PUB_LEN)
        return bs__crypto_fail();
    k->pub_len = len;

    k->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    if (k->sha256 == NULL)
        return bs__crypto_fail();
    k->md = EVP_MD_CTX_new();
    k->sign_ctx = EVP_PKEY_CTX_new_from_pkey(NULL, k->pkey, NULL);
    k->verify_ctx = EVP_PKEY_CTX_new_from_pkey(NULL, k->pkey, NULL);
    if (k->md == NULL || k->sign_ctx == NULL || k->verify_ctx == NULL)
        return bs__crypto_fail();
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_SIGNATURE_PARAM_DIGEST, (char *)"SHA256", 0);
    params[1] = OSSL_PARAM_construct_end();
    if (EVP_PKEY_sign_init_ex(k->sign_ctx, params) != 1 ||
        EVP_PKEY_verify_init_ex(k->verify_ctx, params) != 1)
        return bs__crypto_fail();
    return 0;
}

/*
 * HMAC-SHA256 (RFC 2104) and AES-128-CMAC (RFC 4493) through EVP_MAC. The context is keyed
 * once; sign.c re-initialises it with a NULL key per message, which keeps the key schedule.
 */
static int setup_mac(struct bs_key *k, const uint8_t *secret, size_t len)
{
    bool hmac = k->alg == BS_SIG_HMAC_SHA256;
    OSSL_PARAM params[2];
    EVP_MAC *mac;

    mac = EVP_MAC_fetch(NULL, hmac ? "HMAC" : "CMAC", NULL);
    if (mac == NULL)
        return bs__crypto_fail();
    k->mac = EVP_MAC_CTX_new(mac);
    EVP_MAC_free(mac); /* the context holds its own reference */
    if (k->mac == NULL)
        return bs__crypto_fail();
    if (hmac)
        params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0);
    else
        params[0] =
            OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_CIPHER, (char *)"AES-128-CBC", 0);
    params[1] = OSSL_PARAM_construct_end();
    if (EVP_MAC_init(k->mac, secret, len, params) != 1)
        return bs__crypto_fail();
    if (EVP_MAC_CTX_get_mac_size(k->mac) != k->mac_len)
        return bs__crypto_fail();
    return 0;
}

int bs_key_clone(const struct bs_key *k, struct bs_key **ret)
{
    struct bs_key *c;
    int rc;

    if (k == NULL || ret == NULL)
        return BS_EINVAL;
    rc = key_new(k->alg, k->id, alg_is_mac(k->alg) ? k->sig_len : 0, &c);
    if (rc != 0)
        return rc;
    c->not_before = k->not_before;
    c->not_after = k->not_after;
    if (alg_is_mac(k->alg)) {
        c->mac = EVP_MAC_CTX_dup(k->mac);
        rc = c->mac == NULL ? bs__crypto_fail() : 0;
    } else {
        c->pkey = EVP_PKEY_dup(k->pkey);
        if (c->pkey == NULL)
            rc = bs__crypto_fail();
        else
            rc = k->alg == BS_SIG_ED25519 ? setup_ed25519(c) : setup_p256(c);
    }
    if (rc != 0) {
        bs_key_free(c);
        return rc;
    }
    *ret = c;
    return 0;
}

static int make_ed25519(struct bs_key *k, const uint8_t seed[BS__ED25519_LEN])
{
    k->pkey = EVP_PKEY_new_raw_private_key_ex(NULL, "ED25519", NULL, seed, BS__ED25519_LEN);
    if (k->pkey == NULL)
        return bs__crypto_fail();
    return setup_ed25519(k);
}

/*
 * Build a P-256 key pair from the scalar @d, which the caller has checked to be in
 * [1, n - 1]. OpenSSL 3.0's EVP_PKEY_fromdata() does not derive the public point from the
 * private scalar, so we compute Q = d·G with EC_POINT_mul() (group arithmetic, not the
 * deprecated EC_KEY API) and import both.
 */
static int make_p256(struct bs_key *k, const BIGNUM *d)
{
    uint8_t pub[BS__P256_PUB_LEN];
    OSSL_PARAM_BLD *bld = NULL;
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    EC_GROUP *group;
    EC_POINT *q = NULL;
    int rc = BS_ECRYPTO;

    group = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
    if (group == NULL)
        return bs__crypto_fail();
    q = EC_POINT_new(group);
    if (q == NULL)
        goto free_group;
    if (EC_POINT_mul(group, q, d, NULL, NULL, NULL) != 1 ||
        EC_POINT_point2oct(group, q, POINT_CONVERSION_UNCOMPRESSED, pub, sizeof(pub), NULL) !=
            sizeof(pub))
        goto free_point;

    bld = OSSL_PARAM_BLD_new();
    if (bld == NULL)
        goto free_point;
    if (OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, SN_X9_62_prime256v1, 0) !=
            1 ||
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, d) != 1 ||
        OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof(pub)) != 1)
        goto free_bld;
    /* A secure BIGNUM makes the builder put the scalar in secure, wiped-on-free memory. */
    params = OSSL_PARAM_BLD_to_param(bld);
    if (params == NULL)
        goto free_bld;
    ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    if (ctx == NULL)
        goto free_params;
    if (EVP_PKEY_fromdata_init(ctx) != 1 ||
        EVP_PKEY_fromdata(ctx, &k->pkey, EVP_PKEY_KEYPAIR, params) != 1)
        goto free_ctx;
    rc = 0;

free_ctx:
    EVP_PKEY_CTX_free(ctx);
free_params:
    OSSL_PARAM_free(params);
free_bld:
    OSSL_PARAM_BLD_free(bld);
free_point:
    EC_POINT_free(q);
free_group:
    EC_GROUP_free(group);
    if (rc != 0)
        return bs__crypto_fail();
    return setup_p256(k);
}

/* The order n of P-256 (SEC 2 §2.4.2), big-endian. */
static const uint8_t p256_order[P256_SCALAR] = {
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
};

/*
 * Turn @in_len big-endian bytes into the private scalar. With @reduce (derivation, 48
 * bytes): d = (c mod (n - 1)) + 1, FIPS 186-4 B.4.1. Without (raw import, 32 bytes): the
 * value must already be in [1, n - 1], else BS_EINVAL.
 */
static int p256_scalar(const uint8_t *in, size_t in_len, bool reduce, BIGNUM **ret)
{
    BIGNUM *c, *n = NULL, *d = NULL;
    BN_CTX *bctx = NULL;
    int rc = BS_ECRYPTO;

    c = BN_secure_new();
    if (c == NULL)
        return bs__crypto_fail();
    BN_set_flags(c, BN_FLG_CONSTTIME);
    n = BN_bin2bn(p256_order, sizeof(p256_order), NULL);
    if (n == NULL || BN_bin2bn(in, (int)in_len, c) == NULL)
        goto free_bn;
    if (!reduce) {
        if (BN_is_zero(c) || BN_cmp(c, n) >= 0) {
            rc = BS_EINVAL;
            goto free_bn;
        }
        *ret = c;
        c = NULL;
        rc = 0;
        goto free_bn;
    }
    d = BN_secure_new();
    bctx = BN_CTX_secure_new();
    if (d == NULL || bctx == NULL)
        goto free_d;
    BN_set_flags(d, BN_FLG_CONSTTIME);
    if (BN_sub_word(n, 1) != 1 || BN_mod(d, c, n, bctx) != 1 || BN_add_word(d, 1) != 1)
        goto free_d;
    *ret = d;
    d = NULL;
    rc = 0;

free_d:
    BN_CTX_free(bctx);
    BN_clear_free(d);
free_bn:
    BN_free(n);
    BN_clear_free(c);
    if (rc == BS_ECRYPTO)
        ERR_clear_error();
    return rc;
}

static int make_p256_from_bytes(struct bs_key *k, const uint8_t *in, size_t in_len, bool reduce)
{
    BIGNUM *d = NULL;
    int rc;

    rc = p256_scalar(in, in_len, reduce, &d);
    if (rc != 0)
        return rc;
    rc = make_p256(k, d);
    BN_clear_free(d);
    return rc;
}

/* ---- public constructors --------------------------------------------------------------- */

int bs_key_from_raw(enum bs_sig_alg alg, const uint8_t *raw, size_t raw_len, const char *key_id,
                    size_t trunc, struct bs_key **ret)
{
    struct bs_key *k = NULL;
    int rc;

    if (raw == NULL || ret == NULL)
        return BS_EINVAL;
    switch (alg) {
    case BS_SIG_ED25519:
    case BS_SIG_ECDSA_P256:
        if (raw_len != 32)
            return BS_EINVAL;
        break;
    case BS_SIG_HMAC_SHA256:
        if (raw_len == 0)
            return BS_EINVAL;
        break;
    case BS_SIG_AES_CMAC:
        if (raw_len != CMAC_KEY_LEN)
            return BS_EINVAL;
        break;
    default:
        return BS_EINVAL;
    }
    rc = key_new(alg, key_id, trunc, &k);
    if (rc != 0)
        return rc;

    if (alg == BS_SIG_ED25519)
        rc = make_ed25519(k, raw);
    else if (alg == BS_SIG_ECDSA_P256)
        rc = make_p256_from_bytes(k, raw, raw_len, false);
    else
        rc = setup_mac(k, raw, raw_len);
    if (rc != 0) {
        bs_key_free(k);
        return rc;
    }
    *ret = k;
    return 0;
}

int bs__hkdf_sha256(const uint8_t *ikm, size_t ikm_len, const char *info, uint8_t *out,
                    size_t out_len)
{
    OSSL_PARAM params[5];
    EVP_KDF_CTX *kctx;
    EVP_KDF *kdf;
    int ok;

    kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
    if (kdf == NULL)
        return bs__crypto_fail();
    kctx = EVP_KDF_CTX_new(kdf);
    EVP_KDF_free(kdf);
    if (kctx == NULL)
        return bs__crypto_fail();
    /* OpenSSL only reads these buffers; the casts drop const for the OSSL_PARAM type. */
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
    params[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)ikm, ikm_len);
    params[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)HKDF_SALT,
                                                  sizeof(HKDF_SALT) - 1);
    params[3] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, strlen(info));
    params[4] = OSSL_PARAM_construct_end();
    ok = EVP_KDF_derive(kctx, out, out_len, params);
    EVP_KDF_CTX_free(kctx); /* wipes its copy of the key */
    if (ok != 1)
        return bs__crypto_fail();
    return 0;
}

int bs_key_derive(enum bs_sig_alg alg, const uint8_t *seed, size_t seed_len, const char *owner,
                  uint32_t epoch, size_t trunc, struct bs_key **ret)
{
    /* The owner is bounded by the id, so "<alg>|<owner>|<epoch>" always fits. */
    char id[BS_KEY_ID_MAX + 2];
    char info[sizeof("hmac-sha256||4294967295") + BS_KEY_ID_MAX];
    uint8_t okm[P256_OKM_LEN];
    size_t okm_len;
    struct bs_key *k = NULL;
    int n, rc;

    if (!alg_is_real(alg) || seed == NULL || seed_len == 0 || owner == NULL || owner[0] == '\0' ||
        ret == NULL)
        return BS_EINVAL;
    n = snprintf(id, sizeof(id), "%s#%" PRIu32, owner, epoch);
    if (n < 0 || (size_t)n > BS_KEY_ID_MAX)
        return BS_EINVAL;
    n = snprintf(info, sizeof(info), "%s|%s|%" PRIu32, bs_sig_alg_name(alg), owner, epoch);
    if (n < 0 || (size_t)n >= sizeof(info))
        return BS_EINVAL;
    rc = key_new(alg, id, trunc, &k);
    if (rc != 0)
        return rc;

    switch (alg) {
    case BS_SIG_ECDSA_P256:
        okm_len = P256_OKM_LEN;
        break;
    case BS_SIG_AES_CMAC:
        okm_len = CMAC_KEY_LEN;
        break;
    default: /* Ed25519 seed, HMAC secret */
        okm_len = 32;
        break;
    }
    rc = bs__hkdf_sha256(seed, seed_len, info, okm, okm_len);
    if (rc != 0)
        goto free_key;
    if (alg == BS_SIG_ED25519)
        rc = make_ed25519(k, okm);
    else if (alg == BS_SIG_ECDSA_P256)
        rc = make_p256_from_bytes(k, okm, okm_len, true);
    else
        rc = setup_mac(k, okm, okm_len);
    OPENSSL_cleanse(okm, sizeof(okm));
    if (rc != 0)
        goto free_key;
    *ret = k;
    return 0;

free_key:
    OPENSSL_cleanse(okm, sizeof(okm));
    bs_key_free(k);
    return rc;
}

/* ---- PEM (PKCS#8) ---------------------------------------------------------------------- */

/*
 * Read exactly one unencrypted PKCS#8 PEM block from @pem into *@ret.
 *
 * OpenSSL 3.0's OSSL_DECODER does not enforce the structure it is asked for: given
 * "PrivateKeyInfo" it still accepts SEC 1 "EC PRIVATE KEY" blocks and ignores a second key
 * after the first. So the PEM layer is parsed here with PEM_read_bio(), which checks the
 * label and never asks for a passphrase, and the DER with d2i_PKCS8_PRIV_KEY_INFO() and
 * EVP_PKCS82PKEY_ex() (which hands the key itself to OSSL_DECODER).
 * Return: 0; BS_EFORMAT; BS_ECRYPTO.
 */
static int pem_read_pkcs8(const char *pem, size_t len, EVP_PKEY **ret)
{
    char *name = NULL, *header = NULL, *name2 = NULL, *header2 = NULL;
    unsigned char *der = NULL, *der2 = NULL;
    long der_len = 0, der2_len = 0;
    const unsigned char *p;
    PKCS8_PRIV_KEY_INFO *p8;
    EVP_PKEY *pkey = NULL;
    int rc = BS_EFORMAT;
    BIO *bio;

    bio = BIO_new_mem_buf(pem, (int)len);
    if (bio == NULL)
        return bs__crypto_fail();
    if (PEM_read_bio(bio, &name, &header, &der, &der_len) != 1)
        goto free_bio;
    if (strcmp(name, PEM_STRING_PKCS8INF) != 0 || header[0] != '\0' || der_len <= 0)
        goto free_pem;
    /* Text may surround the block (RFC 7468 §2), but a second block is ambiguous. */
    if (PEM_read_bio(bio, &name2, &header2, &der2, &der2_len) == 1) {
        OPENSSL_free(name2);
        OPENSSL_free(header2);
        OPENSSL_clear_free(der2, (size_t)der2_len);
        goto free_pem;
    }

    p = der;
    p8 = d2i_PKCS8_PRIV_KEY_INFO(NULL, &p, der_len);
    if (p8 == NULL)
        goto free_pem;
    if (p == der + der_len)
        pkey = EVP_PKCS82PKEY_ex(p8, NULL, NULL);
    PKCS8_PRIV_KEY_INFO_free(p8);
    if (pkey != NULL) {
        *ret = pkey;
        rc = 0;
    }

free_pem:
    OPENSSL_free(name);
    OPENSSL_free(header);
    OPENSSL_clear_free(der, der_len > 0 ? (size_t)der_len : 0);
free_bio:
    BIO_free(bio);
    /* Parse failures leave entries in the queue even when we report BS_EFORMAT. */
    ERR_clear_error();
    return rc;
}

/* Which of our algorithms @pkey is, or BS_SIG_NONE when it is none of them. */
static enum bs_sig_alg pkey_alg(const EVP_PKEY *pkey)
{
    char group[64];

    if (EVP_PKEY_is_a(pkey, "ED25519"))
        return BS_SIG_ED25519;
    if (EVP_PKEY_is_a(pkey, "EC") &&
        EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                       NULL) == 1 &&
        (strcmp(group, SN_X9_62_prime256v1) == 0 || strcmp(group, "P-256") == 0))
        return BS_SIG_ECDSA_P256;
    return BS_SIG_NONE;
}

int bs_key_pem_load(const char *pem, size_t len, const char *key_id, struct bs_key **ret)
{
    EVP_PKEY_CTX *check;
    EVP_PKEY *pkey = NULL;
    struct bs_key *k = NULL;
    enum bs_sig_alg alg;
    int rc;

    if (pem == NULL || key_id == NULL || ret == NULL)
        return BS_EINVAL;
    if (len > BS_KEY_PEM_IN_MAX)
        return BS_ELIMIT;
    if (!bs__key_id_valid(key_id, strnlen(key_id, BS_KEY_ID_MAX + 1)))
        return BS_EINVAL;
    rc = pem_read_pkcs8(pem, len, &pkey);
    if (rc != 0)
        return rc;

    alg = pkey_alg(pkey);
    if (alg == BS_SIG_NONE) {
        rc = BS_EINVAL;
        goto free_pkey;
    }
    if (alg == BS_SIG_ECDSA_P256) {
        /* Full check: point on the curve and Q = d·G, so a doctored file cannot load. */
        check = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
        if (check == NULL) {
            rc = bs__crypto_fail();
            goto free_pkey;
        }
        rc = EVP_PKEY_check(check) == 1 ? 0 : BS_EFORMAT;
        EVP_PKEY_CTX_free(check);
        if (rc != 0) {
            ERR_clear_error();
            goto free_pkey;
        }
    }

    rc = key_new(alg, key_id, 0, &k);
    if (rc != 0)
        goto free_pkey;
    k->pkey = pkey; /* the key owns it from here */
    rc = alg == BS_SIG_ED25519 ? setup_ed25519(k) : setup_p256(k);
    if (rc != 0) {
        bs_key_free(k);
        return rc;
    }
    *ret = k;
    return 0;

free_pkey:
    EVP_PKEY_free(pkey);
    return rc;
}

int bs_key_pem_write_private(const struct bs_key *k, char *out, size_t cap)
{
    OSSL_ENCODER_CTX *ectx;
    unsigned char *buf = NULL;
    size_t len = 0;
    int rc;

    if (k == NULL)
        return BS_EINVAL;
    if (k->alg != BS_SIG_ED25519 && k->alg != BS_SIG_ECDSA_P256)
        return BS_EINVAL;
    ectx = OSSL_ENCODER_CTX_new_for_pkey(k->pkey, EVP_PKEY_KEYPAIR, "PEM", "PrivateKeyInfo", NULL);
    if (ectx == NULL)
        return bs__crypto_fail();
    if (OSSL_ENCODER_CTX_get_num_encoders(ectx) == 0 ||
        OSSL_ENCODER_to_data(ectx, &buf, &len) != 1) {
        OSSL_ENCODER_CTX_free(ectx);
        return bs__crypto_fail();
    }
    OSSL_ENCODER_CTX_free(ectx);

    if (len > INT_MAX) {
        rc = BS_ECRYPTO;
    } else if (out == NULL || cap < len + 1) {
        rc = BS_ENOSPC;
    } else {
        memcpy(out, buf, len);
        out[len] = '\0';
        rc = (int)len;
    }
    OPENSSL_clear_free(buf, len);
    return rc;
}
