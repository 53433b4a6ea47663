/*
 * bridgesim — message signatures, keys and PAN masking, over OpenSSL 3 EVP only.
 *
 * Every message carries a signature envelope in DE 127 (see bs_sig_envelope_encode()).
 * The signature covers every byte of the packed message that precedes DE 127, exactly as
 * ISO 8583 MACs in DE 64/128 cover what precedes them (ISO 8583:1987 §4.3.4 for the MAC
 * data elements; ISO 9797-1 for MAC computation).
 *
 * OpenSSL's 1/0 results are translated here: callers only ever see 0 or a BS_E* code.
 * Every failure path empties OpenSSL's per-thread error queue (ERR_clear_error()), so the
 * queue never grows across a long run.
 *
 * Thread safety: the module keeps no global mutable state of its own (the allocator hook of
 * common.h aside, which must be set before any object is created). A struct bs_key is NOT
 * thread-safe: bs_sign() and bs_verify() mutate the key's cached OpenSSL contexts, so a key
 * must be used by one thread at a time (one key object per thread, or external locking).
 * A struct bs_keystore may be read by several threads at once (bs_keystore_get()) only while
 * no thread adds to it, and the keys it returns are shared, so the rule above still applies
 * to them. bs_sig_envelope_*(), bs_pan_mask(), the Luhn functions and bs_sha256() are
 * reentrant. OpenSSL 3 itself is thread-safe for this use.
 */
#ifndef BRIDGESIM_CRYPTO_H
#define BRIDGESIM_CRYPTO_H

#include <bridgesim/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Signature algorithms. The numeric values are carried on the wire in the envelope. */
enum bs_sig_alg {
    BS_SIG_NONE = 0,
    BS_SIG_ED25519 = 1,    /* RFC 8032, pure Ed25519, 64-byte signatures */
    BS_SIG_ECDSA_P256 = 2, /* FIPS 186-4 over SHA-256, DER-encoded (70–72 bytes typically) */
    BS_SIG_HMAC_SHA256 = 3, /* RFC 2104 / RFC 4231, 32 bytes, optionally truncated */
    BS_SIG_AES_CMAC = 4,    /* NIST SP 800-38B / RFC 4493, AES-128, 16 bytes, optionally truncated */
};

/** Longest signature any algorithm produces (ECDSA P-256 DER worst case is 72). */
#define BS_SIG_MAX 80
/** Longest key id, including the epoch suffix ("MIRACQ1#3"), without the NUL. */
#define BS_KEY_ID_MAX 47

/**
 * bs_sig_alg_name() - "ed25519", "ecdsa-p256", "hmac-sha256", "aes-cmac", "none".
 * Return: static string; "unknown" for values outside the enum.
 */
const char *bs_sig_alg_name(enum bs_sig_alg alg);

/**
 * bs_sig_alg_parse() - the inverse of bs_sig_alg_name().
 * Return: 0 and *@ret; BS_ENOTFOUND for an unknown name.
 */
int bs_sig_alg_parse(const char *name, enum bs_sig_alg *ret);

/**
 * struct bs_key - one signing/verification key of one institution and epoch. Holds the
 * private or secret part and a cached EVP context, so signing allocates nothing per
 * message. Not thread-safe: use one key object per thread.
 */
struct bs_key;

/**
 * bs_key_derive() - derive a key deterministically from a seed with HKDF-SHA256
 * (RFC 5869): IKM = @seed, salt = "bridgesim-key-v1", info = "<alg>|<owner>|<epoch>".
 * Used in virtual-time mode so a run is reproducible without key files.
 * @alg:   any algorithm but BS_SIG_NONE.
 * @seed, @seed_len: input keying material (the scenario seed in big-endian bytes).
 * @owner: node/institution name; the key id is "<owner>#<epoch>".
 * @epoch: key generation, for rotation.
 * @trunc: for HMAC/CMAC, the signature length in bytes (8..full); 0 means full length.
 * @ret:   receives the key; free with bs_key_free().
 *
 * Derived key material: Ed25519 takes 32 bytes as the RFC 8032 private key; HMAC-SHA256
 * takes 32 bytes as the secret; AES-CMAC takes 16 bytes as the AES-128 key; ECDSA P-256
 * takes 48 bytes c and uses d = (c mod (n - 1)) + 1, the "extra random bits" method of
 * FIPS 186-4 Appendix B.4.1, so d is always in [1, n - 1] and its bias is below 2^-64.
 *
 * Return: 0; BS_EINVAL (NONE, empty @seed, empty owner, a key id longer than BS_KEY_ID_MAX
 * or with characters outside printable ASCII, bad @trunc, NULL @ret);
 * BS_ECRYPTO when OpenSSL fails; BS_ENOMEM.
 */
int bs_key_derive(enum bs_sig_alg alg, const uint8_t *seed, size_t seed_len, const char *owner,
                  uint32_t epoch, size_t trunc, struct bs_key **ret);

/**
 * bs_key_from_raw() - make a key from raw key bytes (known-answer tests, PEM-less setups).
 * @raw: Ed25519: the 32-byte private key (RFC 8032 §5.1.5); ECDSA P-256: the 32-byte
 *       private scalar; HMAC: the secret of any length ≥ 1; AES-CMAC: 16 bytes.
 * @key_id: copied; 1 to BS_KEY_ID_MAX bytes of printable ASCII without spaces (0x21–0x7e),
 *          the same rule bs_sig_envelope_decode() applies.
 * @trunc:  as for bs_key_derive(); must be 0 for Ed25519 and ECDSA.
 *
 * Return: 0; BS_EINVAL (NONE, a wrong @raw_len, a P-256 scalar outside [1, n - 1], a bad
 * @key_id or @trunc); BS_ECRYPTO; BS_ENOMEM.
 */
int bs_key_from_raw(enum bs_sig_alg alg, const uint8_t *raw, size_t raw_len, const char *key_id,
                    size_t trunc, struct bs_key **ret);

/** bs_key_free() - wipe the secret material (OPENSSL_cleanse) and free; NULL accepted. */
void bs_key_free(struct bs_key *k);

/** bs_key_id() - the key id; never NULL while @k lives. */
const char *bs_key_id(const struct bs_key *k);

/** bs_key_alg() - the key's algorithm. */
enum bs_sig_alg bs_key_alg(const struct bs_key *k);

/**
 * bs_key_public() - write the public key (Ed25519: 32 raw bytes; P-256: 65-byte
 * uncompressed point, SEC 1 §2.3.3). Return: the length; BS_EINVAL for symmetric keys;
 * BS_ENOSPC.
 */
int bs_key_public(const struct bs_key *k, uint8_t *out, size_t cap);

/** Longest PEM text bs_key_pem_load() accepts, in bytes (BS_ELIMIT beyond). */
#define BS_KEY_PEM_IN_MAX 16384
/** Buffer size that always suffices for bs_key_pem_write_private(), NUL included. */
#define BS_KEY_PEM_MAX 512

/**
 * bs_key_pem_load() - make a key from a PEM-encoded, unencrypted PKCS#8 private key
 * ("-----BEGIN PRIVATE KEY-----", RFC 5958 OneAsymmetricKey / RFC 5208 PrivateKeyInfo;
 * RFC 8410 for Ed25519, RFC 5915 inside it for EC). Exactly one PEM block (RFC 7468);
 * text around it is ignored. The label is checked (OpenSSL 3.0's OSSL_DECODER alone would
 * also take SEC 1 "EC PRIVATE KEY" blocks); the key inside is decoded by OpenSSL's
 * decoders through EVP_PKCS82PKEY_ex(). No passphrase is ever asked for, so an encrypted
 * key is rejected rather than prompting.
 * @pem, @len: the text (need not be NUL-terminated); at most BS_KEY_PEM_IN_MAX bytes.
 * @key_id:    as for bs_key_from_raw().
 * @ret:       receives the key (Ed25519 or ECDSA P-256); free with bs_key_free().
 *
 * EC keys are checked for consistency (the public point matches the private scalar and lies
 * on the curve) before use.
 *
 * Return: 0; BS_ELIMIT (@len too large); BS_EFORMAT (not a PEM PKCS#8 private key, an
 * encrypted one, more than one PEM block, or an inconsistent key); BS_EINVAL (a key type
 * other than Ed25519 or EC P-256, a bad @key_id, NULL arguments); BS_ECRYPTO; BS_ENOMEM.
 */
int bs_key_pem_load(const char *pem, size_t len, const char *key_id, struct bs_key **ret);

/**
 * bs_key_pem_write_private() - write the private key as unencrypted PKCS#8 PEM
 * ("-----BEGIN PRIVATE KEY-----"), the format bs_key_pem_load() reads; meant for a
 * `bridgesim keygen` that stores derived keys in files.
 * @out, @cap: receives the PEM text and a terminating NUL; BS_KEY_PEM_MAX always suffices.
 *             The text is secret: the caller should OPENSSL_cleanse() it after use.
 *
 * Return: the text length in bytes without the NUL; BS_EINVAL for HMAC and CMAC keys (no
 * PKCS#8 form is defined for them here); BS_ENOSPC; BS_ECRYPTO.
 */
int bs_key_pem_write_private(const struct bs_key *k, char *out, size_t cap);

/**
 * bs_sign() - sign @n bytes at @msg.
 * @sig, @cap: output; BS_SIG_MAX bytes always suffice.
 * @ret_len:   receives the signature length.
 *
 * Ed25519 signatures are deterministic (RFC 8032). ECDSA signatures are not: OpenSSL 3.0
 * draws a fresh random nonce for each (RFC 6979 deterministic nonces arrive only in 3.2),
 * so ECDSA signature bytes differ between runs even with the same derived key. HMAC and
 * CMAC outputs are truncated to the key's @trunc bytes (leftmost bytes, RFC 2104 §5).
 *
 * Return: 0; BS_EINVAL (NULL @k or @ret_len, NULL @msg with @n > 0); BS_ENOSPC;
 * BS_ECRYPTO.
 */
int bs_sign(struct bs_key *k, const uint8_t *msg, size_t n, uint8_t *sig, size_t cap,
            size_t *ret_len);

/**
 * bs_verify() - verify @sig over @msg. MAC comparisons are constant-time
 * (CRYPTO_memcmp). ECDSA signatures must be strict DER (X9.62 Ecdsa-Sig-Value: minimal,
 * non-negative INTEGERs, no trailing bytes); anything else is a bad signature.
 *
 * Return: 0 when valid; BS_ESIG when not (wrong length included); BS_EINVAL (NULL @k,
 * NULL @msg with @n > 0, NULL @sig with @sig_len > 0); BS_ECRYPTO when OpenSSL fails for
 * another reason. (For Ed25519, OpenSSL 3.0 reports some internal failures inside
 * verification as a plain mismatch; those surface as BS_ESIG.)
 */
int bs_verify(struct bs_key *k, const uint8_t *msg, size_t n, const uint8_t *sig,
              size_t sig_len);

/* ---- signature envelope (DE 127) ----------------------------------------------------- */

/**
 * struct bs_sig_envelope - the decoded DE 127 envelope. @sig points into the decoded
 * buffer and lives as long as it.
 */
struct bs_sig_envelope {
    enum bs_sig_alg alg;
    char key_id[BS_KEY_ID_MAX + 1];
    const uint8_t *sig;
    size_t sig_len;
};

/**
 * bs_sig_envelope_encode() - the DE 127 value: version byte 0x01, algorithm byte,
 * key-id length byte, key id (ASCII), signature length byte, signature.
 * The result is 4 + strlen(@key_id) + @sig_len bytes (at most 4 + 47 + 80 = 131).
 * The rules are those of bs_sig_envelope_decode(), so whatever is encoded decodes.
 * Return: the number of bytes written; BS_EINVAL (key id too long or not printable ASCII,
 * signature longer than BS_SIG_MAX, an unknown algorithm, an empty signature or key id
 * with a real algorithm, a non-empty signature with BS_SIG_NONE); BS_ENOSPC.
 */
int bs_sig_envelope_encode(enum bs_sig_alg alg, const char *key_id, const uint8_t *sig,
                           size_t sig_len, uint8_t *out, size_t cap);

/**
 * bs_sig_envelope_decode() - parse a DE 127 value strictly (every byte accounted for).
 * Accepted: version 0x01; an algorithm of enum bs_sig_alg; a key id of 1..BS_KEY_ID_MAX
 * bytes in 0x21–0x7e (0 bytes allowed only with BS_SIG_NONE); a signature of
 * 1..BS_SIG_MAX bytes (exactly 0 with BS_SIG_NONE). Whether the signature length suits the
 * algorithm is bs_verify()'s call (BS_ESIG), so a tampered signature is a security
 * violation, not a format error.
 * Return: 0; BS_EFORMAT for a bad version, algorithm, length, key id byte or trailing
 * bytes; BS_EINVAL for NULL @ret or NULL @in with @n > 0.
 */
int bs_sig_envelope_decode(const uint8_t *in, size_t n, struct bs_sig_envelope *ret);

/* ---- key store ---------------------------------------------------------------------- */

/**
 * struct bs_keystore - the keys one process knows, by key id. In a simulation every node
 * lives in one process, so one store serves all verifiers; a key is found by the id in the
 * envelope and checked against the expected owner by the caller.
 */
struct bs_keystore;

/** bs_keystore_new() - an empty store. Return: 0 or BS_ENOMEM. */
int bs_keystore_new(struct bs_keystore **ret);

/** bs_keystore_free() - free the store and every key in it; NULL accepted. */
void bs_keystore_free(struct bs_keystore *ks);

/**
 * bs_keystore_add() - add @k, taking ownership (also on failure, when it is freed).
 * Return: 0; BS_EEXIST for a duplicate key id; BS_ENOMEM.
 */
int bs_keystore_add(struct bs_keystore *ks, struct bs_key *k);

/**
 * bs_keystore_get() - the key with id @key_id, or NULL (also for NULL arguments). Owned by
 * the store. Lookup is a binary search over ids kept sorted with strcmp().
 */
struct bs_key *bs_keystore_get(const struct bs_keystore *ks, const char *key_id);

/* ---- cardholder data ------------------------------------------------------------------ */

/**
 * bs_pan_mask() - mask a PAN to first 6 and last 4 digits (PCI DSS requirement 3.3).
 * @pan, @n: the digits (not NUL-terminated necessarily).
 * @out:     receives @n characters and a NUL: "220070******6781". PANs shorter than 11
 *           digits are masked entirely, so no more than 10 digits are ever shown.
 * @cap:     must be at least @n + 1.
 * Characters are not checked: callers pass digits (validate with bs_luhn_valid()).
 * Return: @n; BS_ENOSPC; BS_EINVAL (NULL @pan with @n > 0, NULL @out, @n > INT_MAX).
 */
int bs_pan_mask(const char *pan, size_t n, char *out, size_t cap);

/**
 * bs_luhn_check_digit() - the ISO/IEC 7812-1 Annex B (Luhn) check digit for @n digits.
 * Return: '0'..'9'; BS_EFORMAT for a non-digit.
 */
int bs_luhn_check_digit(const char *digits, size_t n);

/**
 * bs_luhn_valid() - whether @n digits end in a correct Luhn check digit (ISO/IEC 7812-1
 * Annex B). False for fewer than 2 digits or any non-digit.
 */
bool bs_luhn_valid(const char *digits, size_t n);

/**
 * bs_sha256() - SHA-256 (FIPS 180-4) of @n bytes into @out (32 bytes).
 * Return: 0; BS_EINVAL (NULL @out, NULL @data with @n > 0); BS_ECRYPTO.
 */
int bs_sha256(const void *data, size_t n, uint8_t out[32]);

#ifdef __cplusplus
}
#endif
#endif /* BRIDGESIM_CRYPTO_H */
