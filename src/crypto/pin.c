/*
 * PIN blocks (ISO 9564-1:2017) and the simulated HSM that builds, translates and verifies
 * them. Only EVP ciphers are used: DES-EDE3-ECB for TDES keys (double-length keys are
 * expanded to K1 K2 K1, which is what two-key TDES means) and AES-128-ECB; both live in
 * OpenSSL 3's default provider. Every buffer that holds a clear PIN, a clear PIN block or key
 * material is wiped with OPENSSL_cleanse() before the function returns.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "crypto_int.h"

#define TDES_BLOCK 8
#define AES_BLOCK  16

struct bs_pin_key {
    enum bs_pin_key_type type;
    EVP_CIPHER_CTX *enc, *dec;
};

enum bs_pin_key_type bs_pin_key_type(const struct bs_pin_key *k)
{
    return k->type;
}

size_t bs_pin_block_len(enum bs_pin_key_type type)
{
    return type == BS_PIN_AES ? AES_BLOCK : TDES_BLOCK;
}

void bs_pin_key_free(struct bs_pin_key *k)
{
    if (k == NULL)
        return;
    /* EVP_CIPHER_CTX_free() cleanses the key schedule it holds. */
    EVP_CIPHER_CTX_free(k->enc);
    EVP_CIPHER_CTX_free(k->dec);
    bs_free(k);
}

int bs_pin_key_from_raw(enum bs_pin_key_type type, const uint8_t *raw, size_t len,
                        struct bs_pin_key **ret)
{
    uint8_t key[24];
    EVP_CIPHER *cipher;
    struct bs_pin_key *k;
    int rc = 0;

    if (raw == NULL || ret == NULL)
        return BS_EINVAL;
    if (type == BS_PIN_TDES) {
        if (len != 16 && len != 24)
            return BS_EINVAL;
        memcpy(key, raw, len);
        if (len == 16)
            memcpy(key + 16, raw, 8); /* K1 K2 K1 */
    } else if (type == BS_PIN_AES) {
        if (len != 16)
            return BS_EINVAL;
        memcpy(key, raw, 16);
    } else {
        return BS_EINVAL;
    }
    k = bs_calloc(1, sizeof(*k));
    if (k == NULL) {
        OPENSSL_cleanse(key, sizeof(key));
        return BS_ENOMEM;
    }
    k->type = type;
    cipher = EVP_CIPHER_fetch(NULL, type == BS_PIN_TDES ? "DES-EDE3-ECB" : "AES-128-ECB", NULL);
    k->enc = EVP_CIPHER_CTX_new();
    k->dec = EVP_CIPHER_CTX_new();
    if (cipher == NULL || k->enc == NULL || k->dec == NULL ||
        EVP_EncryptInit_ex2(k->enc, cipher, key, NULL, NULL) != 1 ||
        EVP_DecryptInit_ex2(k->dec, cipher, key, NULL, NULL) != 1 ||
        EVP_CIPHER_CTX_set_padding(k->enc, 0) != 1 || EVP_CIPHER_CTX_set_padding(k->dec, 0) != 1)
        rc = bs__crypto_fail();
    EVP_CIPHER_free(cipher);
    OPENSSL_cleanse(key, sizeof(key));
    if (rc != 0) {
        bs_pin_key_free(k);
        return rc;
    }
    *ret = k;
    return 0;
}

/* Set each byte to odd parity (FIPS 46-3: the low bit of every DES key byte is parity). */
static void des_parity(uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned v = b[i] >> 1, ones = 0;

        for (unsigned x = v; x; x >>= 1)
            ones += x & 1;
        b[i] = (uint8_t)(v << 1 | ((ones & 1) ? 0 : 1));
    }
}

/* HKDF a 16-byte PIN-related key with info "<label>|<name>|<epoch>". */
static int derive_labelled(enum bs_pin_key_type type, const char *label, const uint8_t *seed,
                           size_t seed_len, const char *name, uint32_t epoch,
                           struct bs_pin_key **ret)
{
    char info[32 + BS_KEY_ID_MAX + 16];
    uint8_t okm[16];
    int n, rc;

    if (seed == NULL || seed_len == 0 || name == NULL || name[0] == '\0' || ret == NULL ||
        strlen(name) > BS_KEY_ID_MAX)
        return BS_EINVAL;
    n = snprintf(info, sizeof(info), "%s|%s|%" PRIu32, label, name, epoch);
    if (n < 0 || (size_t)n >= sizeof(info))
        return BS_EINVAL;
    rc = bs__hkdf_sha256(seed, seed_len, info, okm, sizeof(okm));
    if (rc == 0) {
        if (type == BS_PIN_TDES)
            des_parity(okm, sizeof(okm));
        rc = bs_pin_key_from_raw(type, okm, sizeof(okm), ret);
    }
    OPENSSL_cleanse(okm, sizeof(okm));
    return rc;
}

int bs_pin_key_derive(enum bs_pin_key_type type, const uint8_t *seed, size_t seed_len,
                      const char *name, uint32_t epoch, struct bs_pin_key **ret)
{
    if (type != BS_PIN_TDES && type != BS_PIN_AES)
        return BS_EINVAL;
    return derive_labelled(type, type == BS_PIN_TDES ? "pin-tdes" : "pin-aes", seed, seed_len, name,
                           epoch, ret);
}

/* One ECB block through a cached context (no padding, so the output is immediate). */
static int ecb(EVP_CIPHER_CTX *ctx, const uint8_t *in, size_t n, uint8_t *out)
{
    int len = 0;

    if (EVP_CipherUpdate(ctx, out, &len, in, (int)n) != 1 || (size_t)len != n)
        return bs__crypto_fail();
    return 0;
}

/* ---- fields ----------------------------------------------------------------------------- */

static bool digits_only(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

static bool pin_ok(const char *pin, size_t *ret_len)
{
    size_t n;

    if (pin == NULL)
        return false;
    n = strnlen(pin, BS_PIN_DIGITS_MAX + 1);
    if (n < BS_PIN_DIGITS_MIN || n > BS_PIN_DIGITS_MAX || !digits_only(pin, n))
        return false;
    *ret_len = n;
    return true;
}

static bool pan_ok(const char *pan, size_t min, size_t *ret_len)
{
    size_t n;

    if (pan == NULL)
        return false;
    n = strnlen(pan, 20);
    if (n < min || n > 19 || !digits_only(pan, n))
        return false;
    *ret_len = n;
    return true;
}

static void put_nibble(uint8_t *b, size_t i, unsigned v)
{
    if (i % 2 == 0)
        b[i / 2] = (uint8_t)((b[i / 2] & 0x0f) | (v << 4));
    else
        b[i / 2] = (uint8_t)((b[i / 2] & 0xf0) | (v & 0x0f));
}

static unsigned get_nibble(const uint8_t *b, size_t i)
{
    return i % 2 == 0 ? b[i / 2] >> 4 : b[i / 2] & 0x0f;
}

/* The format 0 account field: 0000 and the 12 rightmost digits before the check digit. */
static void pan_field0(const char *pan, size_t n, uint8_t out[8])
{
    memset(out, 0, 8);
    for (size_t i = 0; i < 12; i++)
        put_nibble(out, 4 + i, (unsigned)(pan[n - 13 + i] - '0'));
}

/* The PIN field of formats 0 and 4: control C, length N, the digits, then @fill nibbles. */
static void pin_field(unsigned control, const char *pin, size_t n, unsigned fill, uint8_t out[8])
{
    memset(out, 0, 8);
    put_nibble(out, 0, control);
    put_nibble(out, 1, (unsigned)n);
    for (size_t i = 0; i < 16 - 2; i++)
        put_nibble(out, 2 + i, i < n ? (unsigned)(pin[i] - '0') : fill);
}

/* Read a PIN field back; false unless control, length, digits and fill are all right. */
static bool read_pin_field(const uint8_t in[8], unsigned control, unsigned fill, char *pin)
{
    unsigned n = get_nibble(in, 1);
    bool ok = get_nibble(in, 0) == control && n >= BS_PIN_DIGITS_MIN && n <= BS_PIN_DIGITS_MAX;

    for (unsigned i = 0; ok && i < 14; i++) {
        unsigned v = get_nibble(in, 2 + i);

        if (i < n) {
            ok = v <= 9;
            pin[i] = (char)('0' + v);
        } else {
            ok = v == fill;
        }
    }
    pin[ok ? n : 0] = '\0';
    return ok;
}

/* The format 4 PAN field (ISO 9564-1:2017 §9.4.2.3): M = length − 12 (0 for 12 digits or
 * fewer, the PAN then left-padded with zeros to 12), the PAN, zero fill to 32 nibbles. */
static void pan_field4(const char *pan, size_t n, uint8_t out[16])
{
    size_t pad = n < 12 ? 12 - n : 0;

    memset(out, 0, 16);
    put_nibble(out, 0, n > 12 ? (unsigned)(n - 12) : 0);
    for (size_t i = 0; i < n; i++)
        put_nibble(out, 1 + pad + i, (unsigned)(pan[i] - '0'));
}

int bs_pin_format0_clear(const char *pin, const char *pan, uint8_t out[8])
{
    uint8_t pf[8], af[8];
    size_t pn, an;

    if (out == NULL || !pin_ok(pin, &pn) || !pan_ok(pan, 13, &an))
        return BS_EINVAL;
    pin_field(0x0, pin, pn, 0xf, pf);
    pan_field0(pan, an, af);
    for (int i = 0; i < 8; i++)
        out[i] = pf[i] ^ af[i];
    OPENSSL_cleanse(pf, sizeof(pf));
    return 0;
}

int bs_pin_block_encrypt(struct bs_pin_key *k, const char *pin, const char *pan,
                         const uint8_t *fill, uint8_t *out, size_t cap)
{
    uint8_t clear[16], field[16], a[16];
    size_t pn, an;
    int rc;

    if (k == NULL || !pin_ok(pin, &pn))
        return BS_EINVAL;
    if (k->type == BS_PIN_TDES) {
        if (!pan_ok(pan, 13, &an))
            return BS_EINVAL;
        if (out == NULL || cap < TDES_BLOCK)
            return BS_ENOSPC;
        rc = bs_pin_format0_clear(pin, pan, clear);
        if (rc == 0)
            rc = ecb(k->enc, clear, TDES_BLOCK, out);
        OPENSSL_cleanse(clear, sizeof(clear));
        return rc == 0 ? TDES_BLOCK : rc;
    }
    if (fill == NULL || !pan_ok(pan, 1, &an))
        return BS_EINVAL;
    if (out == NULL || cap < AES_BLOCK)
        return BS_ENOSPC;
    /* ISO 9564-1:2017 §9.4.2.4: A = E(PIN field); B = A XOR PAN field; block = E(B). */
    pin_field(0x4, pin, pn, 0xa, clear);
    memcpy(clear + 8, fill, 8);
    pan_field4(pan, an, field);
    rc = ecb(k->enc, clear, AES_BLOCK, a);
    for (int i = 0; rc == 0 && i < AES_BLOCK; i++)
        a[i] ^= field[i];
    if (rc == 0)
        rc = ecb(k->enc, a, AES_BLOCK, out);
    OPENSSL_cleanse(clear, sizeof(clear));
    OPENSSL_cleanse(a, sizeof(a));
    return rc == 0 ? AES_BLOCK : rc;
}

int bs_pin_block_decrypt(struct bs_pin_key *k, const uint8_t *block, size_t len, const char *pan,
                         char pin[BS_PIN_DIGITS_MAX + 1])
{
    uint8_t clear[16], field[16];
    size_t an;
    bool ok = false;
    int rc;

    if (k == NULL || block == NULL || pin == NULL)
        return BS_EINVAL;
    pin[0] = '\0';
    if (len != bs_pin_block_len(k->type))
        return BS_EFORMAT;
    if (k->type == BS_PIN_TDES) {
        if (!pan_ok(pan, 13, &an))
            return BS_EINVAL;
        rc = ecb(k->dec, block, TDES_BLOCK, clear);
        if (rc == 0) {
            pan_field0(pan, an, field);
            for (int i = 0; i < 8; i++)
                clear[i] ^= field[i];
            ok = read_pin_field(clear, 0x0, 0xf, pin);
        }
    } else {
        if (!pan_ok(pan, 1, &an))
            return BS_EINVAL;
        /* The reverse of §9.4.2.4: B = D(block); A = B XOR PAN field; PIN field = D(A). */
        rc = ecb(k->dec, block, AES_BLOCK, field);
        if (rc == 0) {
            uint8_t pf[16];

            pan_field4(pan, an, pf);
            for (int i = 0; i < AES_BLOCK; i++)
                field[i] ^= pf[i];
            rc = ecb(k->dec, field, AES_BLOCK, clear);
            if (rc == 0)
                ok = read_pin_field(clear, 0x4, 0xa, pin);
        }
    }
    OPENSSL_cleanse(clear, sizeof(clear));
    OPENSSL_cleanse(field, sizeof(field));
    if (rc != 0)
        return rc;
    if (!ok) {
        OPENSSL_cleanse(pin, BS_PIN_DIGITS_MAX + 1);
        return BS_EFORMAT;
    }
    return 0;
}

int bs_pin_block_translate(struct bs_pin_key *in, const uint8_t *block, size_t len, const char *pan,
                           struct bs_pin_key *out, const uint8_t *fill, uint8_t *obuf, size_t cap)
{
    char pin[BS_PIN_DIGITS_MAX + 1];
    int rc;

    if (out == NULL)
        return BS_EINVAL;
    rc = bs_pin_block_decrypt(in, block, len, pan, pin);
    if (rc == 0)
        rc = bs_pin_block_encrypt(out, pin, pan, fill, obuf, cap);
    OPENSSL_cleanse(pin, sizeof(pin));
    return rc;
}

int bs_pin_natural(struct bs_pin_key *pdk, const char *pan, unsigned digits,
                   char pin[BS_PIN_DIGITS_MAX + 1])
{
    static const char decimalise[] = "0123456789012345";
    uint8_t vd[8], ct[8];
    size_t an;
    int rc;

    if (pdk == NULL || pdk->type != BS_PIN_TDES || pin == NULL || digits < BS_PIN_DIGITS_MIN ||
        digits > BS_PIN_DIGITS_MAX || !pan_ok(pan, 13, &an))
        return BS_EINVAL;
    pan_field0(pan, an, vd);
    rc = ecb(pdk->enc, vd, sizeof(vd), ct);
    if (rc == 0) {
        for (unsigned i = 0; i < digits; i++)
            pin[i] = decimalise[get_nibble(ct, i)];
        pin[digits] = '\0';
    }
    OPENSSL_cleanse(ct, sizeof(ct));
    return rc;
}

/* ---- the simulated HSM ------------------------------------------------------------------ */

struct bs_hsm {
    unsigned digits;
    double wrong_share;
    unsigned channels;
    size_t nzones;
    struct bs_pin_key *zone[BS_HSM_ZONES_MAX];
    struct bs_pin_key *pdk; /* PIN derivation key of the cardholder PINs (IBM 3624) */
    EVP_MAC_CTX *choice;    /* HMAC-SHA256 keyed from the seed: fill bytes, wrong entries */
    uint64_t fills;
};

void bs_hsm_free(struct bs_hsm *h)
{
    if (h == NULL)
        return;
    for (size_t i = 0; i < BS_HSM_ZONES_MAX; i++)
        bs_pin_key_free(h->zone[i]);
    bs_pin_key_free(h->pdk);
    EVP_MAC_CTX_free(h->choice);
    OPENSSL_cleanse(h, sizeof(*h));
    bs_free(h);
}

static int choice_init(struct bs_hsm *h, const uint8_t *seed, size_t seed_len)
{
    OSSL_PARAM params[2];
    uint8_t secret[32];
    EVP_MAC *mac;
    int rc;

    rc = bs__hkdf_sha256(seed, seed_len, "pin-choice|hsm|0", secret, sizeof(secret));
    if (rc != 0)
        return rc;
    mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    h->choice = mac ? EVP_MAC_CTX_new(mac) : NULL;
    EVP_MAC_free(mac);
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0);
    params[1] = OSSL_PARAM_construct_end();
    if (h->choice == NULL || EVP_MAC_init(h->choice, secret, sizeof(secret), params) != 1)
        rc = bs__crypto_fail();
    OPENSSL_cleanse(secret, sizeof(secret));
    return rc;
}

/* HMAC(choice key, @label | @n as 8 big-endian bytes), first 8 bytes. */
static int choose(struct bs_hsm *h, const char *label, uint64_t n, uint8_t out[8])
{
    uint8_t msg[24], mac[EVP_MAX_MD_SIZE];
    size_t ll = strlen(label), len = 0;

    if (ll > 16)
        return BS_EINVAL;
    memcpy(msg, label, ll);
    for (int i = 0; i < 8; i++)
        msg[ll + (size_t)i] = (uint8_t)(n >> (56 - 8 * i));
    if (EVP_MAC_init(h->choice, NULL, 0, NULL) != 1 ||
        EVP_MAC_update(h->choice, msg, ll + 8) != 1 ||
        EVP_MAC_final(h->choice, mac, &len, sizeof(mac)) != 1 || len < 8)
        return bs__crypto_fail();
    memcpy(out, mac, 8);
    OPENSSL_cleanse(mac, sizeof(mac));
    return 0;
}

int bs_hsm_new(const uint8_t *seed, size_t seed_len, const struct bs_hsm_cfg *cfg,
               struct bs_hsm **ret)
{
    struct bs_hsm *h;
    int rc;

    if (seed == NULL || seed_len == 0 || cfg == NULL || ret == NULL || cfg->nzones == 0 ||
        cfg->nzones > BS_HSM_ZONES_MAX || cfg->digits < BS_PIN_DIGITS_MIN ||
        cfg->digits > BS_PIN_DIGITS_MAX || !(cfg->wrong_share >= 0 && cfg->wrong_share <= 1))
        return BS_EINVAL;
    h = bs_calloc(1, sizeof(*h));
    if (h == NULL)
        return BS_ENOMEM;
    h->digits = cfg->digits;
    h->wrong_share = cfg->wrong_share;
    h->channels = cfg->channels;
    h->nzones = cfg->nzones;
    rc = derive_labelled(BS_PIN_TDES, "pin-pdk", seed, seed_len, "cardholders", 0, &h->pdk);
    for (size_t i = 0; rc == 0 && i < cfg->nzones; i++)
        rc =
            bs_pin_key_derive(cfg->zone_type[i], seed, seed_len, cfg->zone_name[i], 0, &h->zone[i]);
    if (rc == 0)
        rc = choice_init(h, seed, seed_len);
    if (rc != 0) {
        bs_hsm_free(h);
        return rc;
    }
    *ret = h;
    return 0;
}

enum bs_pin_key_type bs_hsm_zone_type(const struct bs_hsm *h, unsigned zone)
{
    if (h == NULL || zone >= h->nzones)
        return BS_PIN_TDES;
    return h->zone[zone]->type;
}

/* Fill bytes for the next format 4 block: deterministic in the order of calls. */
static int next_fill(struct bs_hsm *h, struct bs_pin_key *out, uint8_t fill[8])
{
    if (out->type != BS_PIN_AES) {
        memset(fill, 0, 8);
        return 0;
    }
    return choose(h, "fill", h->fills++, fill);
}

int bs_hsm_pin_entry(struct bs_hsm *h, unsigned zone, unsigned channel, const char *pan,
                     uint64_t entry_id, uint8_t *out, size_t cap)
{
    char pin[BS_PIN_DIGITS_MAX + 1];
    uint8_t pick[8], fill[8];
    uint64_t u = 0;
    int rc;

    if (h == NULL || zone >= h->nzones || channel >= 8 * sizeof(unsigned))
        return BS_EINVAL;
    if (!(h->channels & (1u << channel)))
        return 0;
    rc = bs_pin_natural(h->pdk, pan, h->digits, pin);
    if (rc == 0)
        rc = choose(h, "wrong", entry_id, pick);
    if (rc == 0) {
        for (int i = 0; i < 8; i++)
            u = u << 8 | pick[i];
        /* u / 2^64 < share; 0x1p64 is exact, so a share of 1 makes every entry wrong. */
        if ((double)u < h->wrong_share * 0x1p64) {
            char *last = &pin[h->digits - 1];
            *last = (char)('0' + (*last - '0' + 1) % 10);
        }
        rc = next_fill(h, h->zone[zone], fill);
    }
    if (rc == 0)
        rc = bs_pin_block_encrypt(h->zone[zone], pin, pan, fill, out, cap);
    OPENSSL_cleanse(pin, sizeof(pin));
    OPENSSL_cleanse(fill, sizeof(fill));
    return rc;
}

int bs_hsm_pin_translate(struct bs_hsm *h, unsigned from, unsigned to, const char *pan,
                         const uint8_t *block, size_t len, uint8_t *out, size_t cap)
{
    uint8_t fill[8];
    int rc;

    if (h == NULL || from >= h->nzones || to >= h->nzones)
        return BS_EINVAL;
    rc = next_fill(h, h->zone[to], fill);
    if (rc == 0)
        rc = bs_pin_block_translate(h->zone[from], block, len, pan, h->zone[to], fill, out, cap);
    OPENSSL_cleanse(fill, sizeof(fill));
    return rc;
}

int bs_hsm_pin_verify(struct bs_hsm *h, unsigned zone, const char *pan, const uint8_t *block,
                      size_t len, bool *ret_ok)
{
    char got[BS_PIN_DIGITS_MAX + 1], want[BS_PIN_DIGITS_MAX + 1];
    int rc;

    if (h == NULL || zone >= h->nzones || ret_ok == NULL)
        return BS_EINVAL;
    rc = bs_pin_block_decrypt(h->zone[zone], block, len, pan, got);
    if (rc == 0)
        rc = bs_pin_natural(h->pdk, pan, h->digits, want);
    if (rc == 0)
        *ret_ok = strlen(got) == h->digits && CRYPTO_memcmp(got, want, h->digits) == 0;
    OPENSSL_cleanse(got, sizeof(got));
    OPENSSL_cleanse(want, sizeof(want));
    return rc;
}
