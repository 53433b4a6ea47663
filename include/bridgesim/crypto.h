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
    BS_SIG_ED25519 = 1,     /* RFC 8032, pure Ed25519, 64-byte signatures */
    BS_SIG_ECDSA_P256 = 2,  /* FIPS 186-4 over SHA-256, DER-encoded (70–72 bytes typically) */
    BS_SIG_HMAC_SHA256 = 3, /* RFC 2104 / RFC 4231, 32 bytes, optionally truncated */
    BS_SIG_AES_CMAC = 4, /* NIST SP 800-38B / RFC 4493, AES-128, 16 bytes, optionally truncated */
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

/**
 * bs_key_clone() - an independent copy of @k: the same algorithm, id, secret, truncation
 * and validity, with its own OpenSSL objects (EVP_PKEY_dup(), EVP_MAC_CTX_dup()), so the
 * copy and the original may sign and verify in two threads at once. Cloning reads @k's
 * contexts: no other thread may use @k meanwhile.
 * @ret: receives the copy; free with bs_key_free().
 *
 * Return: 0; BS_EINVAL (NULL argument); BS_ENOMEM; BS_ECRYPTO.
 */
int bs_key_clone(const struct bs_key *k, struct bs_key **ret);

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
int bs_verify(struct bs_key *k, const uint8_t *msg, size_t n, const uint8_t *sig, size_t sig_len);

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

/**
 * bs_keystore_at() - the @i-th key in id order (0 .. count − 1), or NULL past the end or
 * for a NULL store: a way to visit every key (bs_key_clone() for worker threads).
 */
struct bs_key *bs_keystore_at(const struct bs_keystore *ks, size_t i);

/**
 * bs_keystore_set_validity() - limit when the key with id @key_id verifies messages: from
 * @not_before to @not_after, both inclusive, in µs since the Unix epoch on the verifier's
 * clock. A new key is valid at every time (INT64_MIN .. INT64_MAX). This is how key rotation
 * with an overlap window is expressed (GUIDE §4: "key ids carry an epoch so keys can rotate
 * with an overlap window"): epoch e + 1 becomes valid at the rotation time, epoch e stays
 * valid until the rotation time plus the overlap. Validity is a property of the key, so it
 * applies to every verifier that shares the store.
 * Return: 0; BS_ENOTFOUND (no such key); BS_EINVAL (NULL arguments, @not_before >
 * @not_after).
 */
int bs_keystore_set_validity(struct bs_keystore *ks, const char *key_id, bs_time_us not_before,
                             bs_time_us not_after);

/**
 * bs_key_validity() - the validity window of @k (see bs_keystore_set_validity()); either
 * output pointer may be NULL.
 */
void bs_key_validity(const struct bs_key *k, bs_time_us *ret_not_before, bs_time_us *ret_not_after);

/**
 * bs_key_valid_at() - whether @k may verify a message at @now.
 * Return: 0; BS_EKEY when @now is before its first or after its last valid instant.
 */
int bs_key_valid_at(const struct bs_key *k, bs_time_us now);

/* ---- replay protection ---------------------------------------------------------------- */

/** Default bound on the messages one replay cache remembers (BS_ELIMIT beyond). */
#define BS_REPLAY_MAX_DEFAULT (1u << 20)

/**
 * struct bs_replay - what one verifier remembers to reject replays: the digests of the
 * messages it accepted, kept in time buckets so memory is bounded by the window, not by the
 * length of the run. Not thread-safe; one per verifying node.
 */
struct bs_replay;

/**
 * bs_replay_new() - a replay cache for a window of ±@window around the verifier's clock.
 * @window:      µs, > 0: a message whose timestamp (DE 7) lies further than this from the
 *               verifier's clock is stale; a digest is remembered at least 2·@window + 2 s
 *               after it was first seen, which covers every timestamp the window accepts.
 * @max_entries: the most digests held at once (BS_REPLAY_MAX_DEFAULT is a sensible value);
 *               a full cache refuses new messages (fail closed) rather than forgetting.
 * Return: 0; BS_EINVAL; BS_ENOMEM; BS_ECRYPTO (SHA-256 unavailable).
 */
int bs_replay_new(bs_time_us window, size_t max_entries, struct bs_replay **ret);

/** bs_replay_free() - free the cache; NULL accepted. */
void bs_replay_free(struct bs_replay *r);

/**
 * bs_replay_check() - apply the replay rule to one message that has already verified.
 * @now:      the verifier's clock, µs since the Unix epoch.
 * @sent:     the message's own timestamp (DE 7, see bs_de7_to_time()).
 * @msg, @n:  the bytes the signature covers (every byte before DE 127); their SHA-256 is
 *            what is remembered, so a re-signed copy of the same content (an ECDSA
 *            signature re-randomised or mauled to (r, n − s)) is the same message.
 * @remember: false for a message that may legitimately arrive byte for byte again — an
 *            ISO 8583 repeat (MTI origin digit 1: 0421, 0221), which its receiver matches to
 *            the original — so only its timestamp is checked.
 *
 * The rule (as for Mojaloop's signed requests, interop.md §8: a replay window on timestamp
 * and message id): stale or future timestamps are refused, then a message already seen in
 * the window is refused; only a fresh message is remembered.
 *
 * Return: 0 (fresh; remembered when @remember); BS_ERANGE (@sent outside [@now − window,
 * @now + window]); BS_EEXIST (seen before within the window); BS_ELIMIT (the cache is full:
 * the message is refused); BS_EINVAL; BS_ENOMEM; BS_ECRYPTO.
 */
int bs_replay_check(struct bs_replay *r, bs_time_us now, bs_time_us sent, const uint8_t *msg,
                    size_t n, bool remember);

/** bs_replay_count() - digests currently remembered (for tests and limits). */
size_t bs_replay_count(const struct bs_replay *r);

/**
 * bs_de7_to_time() - the instant a DE 7 transmission date and time names (ISO 8583:1987,
 * DE 7 "MMDDhhmmss", UTC, no year): of the candidates in the year before, the year of and
 * the year after @now, the one nearest to @now.
 * @de7, @n: ten ASCII digits.
 * Return: 0 and *@ret (µs since the Unix epoch); BS_EFORMAT (not ten digits, or not a valid
 * date and time in any of the three years, e.g. 0230120000).
 */
int bs_de7_to_time(const char *de7, size_t n, bs_time_us now, bs_time_us *ret);

/* ---- PIN blocks and the simulated HSM (ISO 9564-1) ------------------------------------ */

/** Kinds of zone PIN key (ZPK). The kind decides the PIN block format (ISO 9564-1:2017). */
enum bs_pin_key_type {
    BS_PIN_TDES = 0, /* double-length TDES (K1 K2 K1), 8-byte ISO format 0 blocks */
    BS_PIN_AES = 1,  /* AES-128, 16-byte ISO format 4 blocks */
};

#define BS_PIN_DIGITS_MIN 4 /* ISO 9564-1 §6.1: 4 to 12 digits */
#define BS_PIN_DIGITS_MAX 12
#define BS_PIN_BLOCK_MAX  16 /* format 4; format 0 is 8 bytes */

/**
 * struct bs_pin_key - one PIN encryption key with the EVP cipher contexts it reuses. Its
 * material is wiped when it is freed. Not thread-safe.
 */
struct bs_pin_key;

/**
 * bs_pin_key_from_raw() - a PIN key from raw bytes (known-answer tests).
 * @raw, @len: TDES: 16 bytes (K1 K2, used as K1 K2 K1) or 24 (K1 K2 K3); parity bits are
 *             ignored, as DES ignores them. AES: 16 bytes.
 * Return: 0; BS_EINVAL (a wrong length or type, NULL); BS_ECRYPTO; BS_ENOMEM.
 */
int bs_pin_key_from_raw(enum bs_pin_key_type type, const uint8_t *raw, size_t len,
                        struct bs_pin_key **ret);

/**
 * bs_pin_key_derive() - a PIN key derived from a seed with HKDF-SHA256 (RFC 5869), salt
 * "bridgesim-key-v1", info "pin-tdes|<name>|<epoch>" or "pin-aes|<name>|<epoch>": 16 bytes
 * either way (TDES bytes are then set to odd parity, FIPS 46-3 §2).
 * @name: the zone ("mir"), at most BS_KEY_ID_MAX bytes.
 * Return: 0; BS_EINVAL; BS_ECRYPTO; BS_ENOMEM.
 */
int bs_pin_key_derive(enum bs_pin_key_type type, const uint8_t *seed, size_t seed_len,
                      const char *name, uint32_t epoch, struct bs_pin_key **ret);

/** bs_pin_key_free() - wipe and free; NULL accepted. */
void bs_pin_key_free(struct bs_pin_key *k);

/** bs_pin_key_type() - the key's kind. */
enum bs_pin_key_type bs_pin_key_type(const struct bs_pin_key *k);

/**
 * bs_pin_block_len() - the PIN block length under a key of this kind: 8 (format 0) or 16
 * (format 4).
 */
size_t bs_pin_block_len(enum bs_pin_key_type type);

/**
 * bs_pin_format0_clear() - the clear ISO 9564-1 format 0 PIN block (ISO 9564-1:2017 §9.3.1,
 * ANSI X9.8): the PIN field 0 | N | PIN | F-fill XOR the account field 0000 | the 12
 * rightmost PAN digits excluding the check digit. The result is as secret as the PIN; wipe it.
 * @pin: 4–12 ASCII digits, NUL-terminated. @pan: 13–19 ASCII digits, NUL-terminated.
 * Return: 0; BS_EINVAL (a PIN or PAN out of rule, NULL).
 */
int bs_pin_format0_clear(const char *pin, const char *pan, uint8_t out[8]);

/**
 * bs_pin_block_encrypt() - build and encipher a PIN block in the format of @k's kind:
 * format 0 under TDES (ECB of the clear block), or format 4 under AES (ISO 9564-1:2017
 * §9.4.2: PIN field 4 | N | PIN | A-fill | 8 random bytes, enciphered, XORed with the PAN
 * field M | PAN | 0-fill, enciphered again).
 * @pin:  4–12 digits. @pan: 13–19 digits for format 0; 1–19 for format 4.
 * @fill: format 4 only: the 8 random fill bytes (the caller's deterministic generator in a
 *        simulation); ignored (may be NULL) for format 0.
 * @out, @cap: receives bs_pin_block_len() bytes.
 * Return: the block length; BS_EINVAL; BS_ENOSPC; BS_ECRYPTO. Intermediate values are wiped.
 */
int bs_pin_block_encrypt(struct bs_pin_key *k, const char *pin, const char *pan,
                         const uint8_t *fill, uint8_t *out, size_t cap);

/**
 * bs_pin_block_decrypt() - decipher a block of @k's format and recover the PIN.
 * @pin: receives the digits and a NUL (13 bytes always suffice); secret, wipe after use.
 * Return: 0; BS_EFORMAT (wrong length, or the deciphered block is not a well-formed block
 * of that format for this PAN: control nibble, length, digits, fill); BS_EINVAL; BS_ECRYPTO.
 * Error results never carry the PIN or the block.
 */
int bs_pin_block_decrypt(struct bs_pin_key *k, const uint8_t *block, size_t len, const char *pan,
                         char pin[BS_PIN_DIGITS_MAX + 1]);

/**
 * bs_pin_block_translate() - re-encipher a PIN block from key @in to key @out (and from
 * format 0 to format 4 or back when the kinds differ), as an HSM does between two zones
 * (ISO 9564-1:2017 §7: the PIN is in clear only inside the secure device; every ISO format
 * of 0, 3 and 4 may be translated to any other, format 1 is never produced). The clear PIN
 * is wiped before return.
 * @fill: 8 random bytes when @out is AES (format 4); ignored otherwise.
 * Return: the output length; BS_EFORMAT (@block does not decipher to a valid block);
 * BS_EINVAL; BS_ENOSPC; BS_ECRYPTO.
 */
int bs_pin_block_translate(struct bs_pin_key *in, const uint8_t *block, size_t len, const char *pan,
                           struct bs_pin_key *out, const uint8_t *fill, uint8_t *obuf, size_t cap);

/**
 * bs_pin_natural() - the IBM 3624 natural PIN of @pan with PIN derivation key @pdk (TDES):
 * validation data 0000 | the 12 rightmost PAN digits excluding the check digit (16 hex
 * digits), enciphered, the first @digits nibbles decimalised with the table
 * 0123456789012345. With offset 0000 this is the customer's PIN.
 * @pin: receives @digits digits and a NUL; secret, wipe after use.
 * Return: 0; BS_EINVAL (an AES key, @digits outside 4..12, a bad PAN); BS_ECRYPTO.
 */
int bs_pin_natural(struct bs_pin_key *pdk, const char *pan, unsigned digits,
                   char pin[BS_PIN_DIGITS_MAX + 1]);

/** Zones one simulated HSM knows (one per card network). */
#define BS_HSM_ZONES_MAX 4

/**
 * struct bs_hsm_cfg - what a simulated HSM is set up with.
 * @digits:      PIN length of every cardholder (4–12).
 * @wrong_share: share of PIN entries the cardholder gets wrong, [0, 1].
 * @channels:    bit (1 << enum bs_channel) set for each channel where the PIN is entered.
 * @nzones:      zones (networks), each with a zone PIN key of kind @zone_type[i] derived
 *               from the seed and @zone_name[i].
 */
struct bs_hsm_cfg {
    unsigned digits;
    double wrong_share;
    unsigned channels;
    size_t nzones;
    enum bs_pin_key_type zone_type[BS_HSM_ZONES_MAX];
    const char *zone_name[BS_HSM_ZONES_MAX];
};

/**
 * struct bs_hsm - the simulated hardware security module every node of a run shares: zone
 * PIN keys (one per network), the PIN derivation key of the cardholder PINs, and the
 * deterministic generator of format 4 fill bytes and wrong entries. Clear PINs exist only
 * inside its functions and are wiped before they return (interop.md §8: "the host never
 * sees a clear PIN"). Not thread-safe.
 */
struct bs_hsm;

/**
 * bs_hsm_new() - an HSM whose keys and choices all derive from @seed (HKDF-SHA256), so a
 * seeded run replays bit for bit.
 * Return: 0; BS_EINVAL (@cfg out of range, no zones or too many); BS_ECRYPTO; BS_ENOMEM.
 */
int bs_hsm_new(const uint8_t *seed, size_t seed_len, const struct bs_hsm_cfg *cfg,
               struct bs_hsm **ret);

/** bs_hsm_free() - wipe every key and free; NULL accepted. */
void bs_hsm_free(struct bs_hsm *h);

/** bs_hsm_zone_type() - the kind of zone @zone's PIN key; BS_PIN_TDES for a bad zone. */
enum bs_pin_key_type bs_hsm_zone_type(const struct bs_hsm *h, unsigned zone);

/**
 * bs_hsm_pin_entry() - what a PIN pad sends for a cardholder with card @pan: the PIN
 * block of the cardholder's PIN (bs_pin_natural() with the HSM's derivation key) under zone
 * @zone's key — or, for a share @wrong_share of entries chosen by HMAC(seed, @entry_id),
 * a PIN that differs in its last digit.
 * @channel:  enum bs_channel; no PIN is entered on a channel not in the configuration.
 * @entry_id: identifies the entry (the transaction's trace id), for the wrong-entry choice.
 * @out, @cap: receives the block (8 or 16 bytes, by the zone's kind).
 * Return: the block length; 0 when no PIN is entered on @channel; BS_EINVAL; BS_ENOSPC;
 * BS_ECRYPTO.
 */
int bs_hsm_pin_entry(struct bs_hsm *h, unsigned zone, unsigned channel, const char *pan,
                     uint64_t entry_id, uint8_t *out, size_t cap);

/**
 * bs_hsm_pin_translate() - PIN translation from zone @from to zone @to
 * (bs_pin_block_translate() with the zones' keys and the HSM's fill generator).
 * Return: the output length; BS_EFORMAT; BS_EINVAL; BS_ENOSPC; BS_ECRYPTO.
 */
int bs_hsm_pin_translate(struct bs_hsm *h, unsigned from, unsigned to, const char *pan,
                         const uint8_t *block, size_t len, uint8_t *out, size_t cap);

/**
 * bs_hsm_pin_verify() - PIN verification at the issuer: decipher @block under zone @zone's
 * key and compare the PIN with the card's (IBM 3624, offset 0000) in constant time.
 * Return: 0 and *@ret_ok; BS_EFORMAT (the block does not decipher to a valid block — an
 * issuer declines it like a wrong PIN); BS_EINVAL; BS_ECRYPTO.
 */
int bs_hsm_pin_verify(struct bs_hsm *h, unsigned zone, const char *pan, const uint8_t *block,
                      size_t len, bool *ret_ok);

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
