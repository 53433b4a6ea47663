/*
 * bridgesim crypto — private definitions shared by the files of src/crypto/.
 *
 * The layout of struct bs_key lives here, not in the public header, so callers cannot
 * depend on which OpenSSL contexts a key caches.
 */
#ifndef BRIDGESIM_CRYPTO_INT_H
#define BRIDGESIM_CRYPTO_INT_H

#include <openssl/evp.h>

#include <bridgesim/crypto.h>

/* Public key sizes: Ed25519 raw (RFC 8032 §5.1.5), P-256 uncompressed point (SEC 1 §2.3.3). */
#define BS__ED25519_LEN  32
#define BS__P256_PUB_LEN 65

/*
 * One key and the OpenSSL contexts it reuses for every message. Which members are set
 * depends on @alg:
 *   Ed25519:    @pkey, @sign_tmpl and @verify_tmpl (initialised once), @work (scratch).
 *   ECDSA P-256: @pkey, @sha256 and @md (message digest), @sign_ctx and @verify_ctx
 *               (EVP_PKEY_sign/verify over the digest, initialised once).
 *   HMAC, CMAC: @mac, keyed once and re-initialised with a NULL key per message.
 * Everything else is NULL. See DESIGN.md for why each algorithm is driven this way.
 */
struct bs_key {
    enum bs_sig_alg alg;
    char id[BS_KEY_ID_MAX + 1];
    size_t mac_len; /* full MAC length (HMAC 32, CMAC 16); 0 for signatures */
    size_t sig_len; /* emitted MAC length after truncation; 0 for signatures */
    uint8_t pub[BS__P256_PUB_LEN];
    size_t pub_len;                   /* 0 for symmetric keys */
    bs_time_us not_before, not_after; /* validity on the verifier's clock (rotation) */

    EVP_PKEY *pkey;
    EVP_MD_CTX *sign_tmpl;
    EVP_MD_CTX *verify_tmpl;
    EVP_MD_CTX *work;
    EVP_MD *sha256;
    EVP_MD_CTX *md;
    EVP_PKEY_CTX *sign_ctx;
    EVP_PKEY_CTX *verify_ctx;
    EVP_MAC_CTX *mac;
};

/*
 * bs__crypto_fail() - empty OpenSSL's error queue and return BS_ECRYPTO. Every path that
 * translates an OpenSSL failure goes through here, so the per-thread queue never grows.
 */
int bs__crypto_fail(void);

/*
 * bs__key_id_valid() - whether @id is 1..BS_KEY_ID_MAX bytes of 0x21–0x7e (printable ASCII,
 * no space), the rule shared by key creation and the DE 127 envelope.
 */
bool bs__key_id_valid(const char *id, size_t len);

/* The HKDF salt of every derived key; changing it changes every derived key. */
#define BS__HKDF_SALT "bridgesim-key-v1"

/*
 * bs__hkdf_sha256() - HKDF-SHA256 (RFC 5869) extract-and-expand of @ikm with salt
 * BS__HKDF_SALT and @info into @out_len bytes at @out. Return: 0 or BS_ECRYPTO.
 */
int bs__hkdf_sha256(const uint8_t *ikm, size_t ikm_len, const char *info, uint8_t *out,
                    size_t out_len);

#endif /* BRIDGESIM_CRYPTO_INT_H */
