/*
 * Unit tests for PIN blocks (ISO 9564-1), the simulated HSM, replay protection and key
 * validity (src/crypto/pin.c, replay.c, keystore.c).
 *
 * Known answers: format 0 clear blocks from the psec test suite (knovichikhin/psec); format 0
 * enciphered blocks and IBM 3624 natural PINs computed independently with the openssl
 * command line and Python's cryptography package; format 4 blocks are the vectors published
 * with psec / paysec (key 00112233445566778899AABBCCDDEEFF), whose random fill bytes were
 * recovered by deciphering them independently. Library allocations go through cmocka's
 * leak-checking allocator.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include <bridgesim/crypto.h>

static void *t_malloc(size_t n)
{
    return test_malloc(n);
}

static void *t_calloc(size_t nmemb, size_t n)
{
    return test_calloc(nmemb, n);
}

static void *t_realloc(void *p, size_t n)
{
    return test_realloc(p, n);
}

static void t_free(void *p)
{
    test_free(p);
}

static const struct bs_allocator test_allocator = { t_malloc, t_calloc, t_realloc, t_free };

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    fail_msg("bad hex digit '%c'", c);
    return -1;
}

static size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = strlen(hex);

    assert_int_equal(n % 2, 0);
    assert_true(n / 2 <= cap);
    for (size_t i = 0; i < n / 2; i++)
        out[i] = (uint8_t)(hexval(hex[2 * i]) << 4 | hexval(hex[2 * i + 1]));
    return n / 2;
}

static const uint8_t seed42[8] = { 0, 0, 0, 0, 0, 0, 0, 42 };

#define TDES_KEY "0123456789ABCDEFFEDCBA9876543210"
#define AES_KEY  "00112233445566778899AABBCCDDEEFF"

static struct bs_pin_key *key_hex(enum bs_pin_key_type type, const char *hex)
{
    uint8_t raw[24];
    size_t n = unhex(hex, raw, sizeof(raw));
    struct bs_pin_key *k = NULL;

    assert_int_equal(bs_pin_key_from_raw(type, raw, n, &k), 0);
    return k;
}

/* ---- format 0 ---------------------------------------------------------------------------- */

static void test_format0_clear(void **state)
{
    static const struct {
        const char *pin, *pan, *block;
    } t[] = {
        { "1234", "5555555551234567", "041261AAAAEDCBA9" },
        { "123456789", "5555555551234567", "091261032D8DCBA9" },
        { "1234567890", "5555555551234567", "0A1261032D82CBA9" },
        { "123456789012", "5555555551234567", "0C1261032D8226A9" },
    };
    uint8_t got[8], want[8];

    (void)state;
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        unhex(t[i].block, want, sizeof(want));
        assert_int_equal(bs_pin_format0_clear(t[i].pin, t[i].pan, got), 0);
        assert_memory_equal(got, want, 8);
    }
    /* ISO 9564-1 §6.1: 4 to 12 digits; the account field needs 12 digits and a check digit. */
    assert_int_equal(bs_pin_format0_clear("123", "5555555551234567", got), BS_EINVAL);
    assert_int_equal(bs_pin_format0_clear("1234567890123", "5555555551234567", got), BS_EINVAL);
    assert_int_equal(bs_pin_format0_clear("12a4", "5555555551234567", got), BS_EINVAL);
    assert_int_equal(bs_pin_format0_clear("1234", "555555555555", got), BS_EINVAL);
    assert_int_equal(bs_pin_format0_clear("1234", "55555555512345A7", got), BS_EINVAL);
}

static void test_format0_enciphered(void **state)
{
    struct bs_pin_key *k = key_hex(BS_PIN_TDES, TDES_KEY);
    struct bs_pin_key *k3 = key_hex(BS_PIN_TDES, TDES_KEY "0123456789ABCDEF");
    uint8_t got[16], want[8];
    char pin[BS_PIN_DIGITS_MAX + 1];

    (void)state;
    assert_int_equal(bs_pin_key_type(k), BS_PIN_TDES);
    assert_int_equal(bs_pin_block_len(BS_PIN_TDES), 8);
    /* openssl enc -des-ede3 -K <K1 K2 K1> -nopad of 041261AAAAEDCBA9 */
    unhex("230B4C43B8BA2C5C", want, sizeof(want));
    assert_int_equal(bs_pin_block_encrypt(k, "1234", "5555555551234567", NULL, got, sizeof(got)),
                     8);
    assert_memory_equal(got, want, 8);
    /* A 24-byte K1 K2 K1 key is the same key. */
    memset(got, 0, sizeof(got));
    assert_int_equal(bs_pin_block_encrypt(k3, "1234", "5555555551234567", NULL, got, 8), 8);
    assert_memory_equal(got, want, 8);
    assert_int_equal(bs_pin_block_decrypt(k, want, 8, "5555555551234567", pin), 0);
    assert_string_equal(pin, "1234");

    unhex("16F9ECDD636CA0DB", want, sizeof(want));
    assert_int_equal(bs_pin_block_encrypt(k, "98765", "4111111111111111", NULL, got, 8), 8);
    assert_memory_equal(got, want, 8);

    /* The same block with another PAN does not decode: the fill nibbles come out wrong. */
    assert_int_equal(bs_pin_block_decrypt(k, want, 8, "5555555551234567", pin), BS_EFORMAT);
    assert_string_equal(pin, "");
    /* A format 4 length under a TDES key, a short buffer. */
    assert_int_equal(bs_pin_block_decrypt(k, got, 16, "4111111111111111", pin), BS_EFORMAT);
    assert_int_equal(bs_pin_block_encrypt(k, "98765", "4111111111111111", NULL, got, 7), BS_ENOSPC);
    bs_pin_key_free(k);
    bs_pin_key_free(k3);
}

/* ---- format 4 ---------------------------------------------------------------------------- */

static const struct {
    const char *pin, *pan, *fill, *block;
} f4[] = {
    { "1234", "1234567890123456789", "FFFFFFFFFFFFFFFF", "28B41FDDD29B743E93124BD8E32D921E" },
    { "1234", "1234567890123456", "418E0604F158BF06", "52DB178C6EDCE52E3A70F7FBC8E9C758" },
    { "123456", "123456789012345678", "BDDF39216BC00C08", "847A0209C659E4C4A79CA6A2A2217D31" },
    { "12345678", "1234567890123456789", "1FF6D9ACA7BCE2C3", "018BFEC8B5EF60181A327AD8325A2BA4" },
};

static void test_format4_known_answers(void **state)
{
    struct bs_pin_key *k = key_hex(BS_PIN_AES, AES_KEY);
    uint8_t fill[8], want[16], got[16];
    char pin[BS_PIN_DIGITS_MAX + 1];

    (void)state;
    assert_int_equal(bs_pin_block_len(BS_PIN_AES), 16);
    for (size_t i = 0; i < sizeof(f4) / sizeof(f4[0]); i++) {
        unhex(f4[i].fill, fill, sizeof(fill));
        unhex(f4[i].block, want, sizeof(want));
        assert_int_equal(bs_pin_block_encrypt(k, f4[i].pin, f4[i].pan, fill, got, sizeof(got)), 16);
        assert_memory_equal(got, want, 16);
        assert_int_equal(bs_pin_block_decrypt(k, want, 16, f4[i].pan, pin), 0);
        assert_string_equal(pin, f4[i].pin);
    }
    /* The PAN is bound to the block: another PAN does not decipher to a valid block. */
    unhex(f4[1].block, want, sizeof(want));
    assert_int_equal(bs_pin_block_decrypt(k, want, 16, "1234567890123457", pin), BS_EFORMAT);
    want[15] ^= 1;
    assert_int_equal(bs_pin_block_decrypt(k, want, 16, f4[1].pan, pin), BS_EFORMAT);
    assert_int_equal(bs_pin_block_decrypt(k, want, 8, f4[1].pan, pin), BS_EFORMAT);
    /* Format 4 needs its fill bytes. */
    assert_int_equal(bs_pin_block_encrypt(k, "1234", "1234567890123456", NULL, got, 16), BS_EINVAL);
    bs_pin_key_free(k);
}

/* ---- translation table ------------------------------------------------------------------- */

static void test_translate_table(void **state)
{
    static const struct {
        enum bs_pin_key_type from, to;
        const char *kin, *kout;
        const char *pin, *pan, *in, *out; /* in/out NULL: checked by round trip only */
    } t[] = {
        /* format 0 → format 4: the leg from a TDES zone to an AES zone. */
        { BS_PIN_TDES, BS_PIN_AES, TDES_KEY, AES_KEY, "1234", "5555555551234567",
          "230B4C43B8BA2C5C", "E025A786F1458836B2B2095339DF5B1A" },
        /* format 4 → format 0 (ISO 9564-1:2017 allows 4 → 0; PCI PIN 3-3 lists it). */
        { BS_PIN_AES, BS_PIN_TDES, AES_KEY, TDES_KEY, "98765", "4111111111111111", NULL,
          "16F9ECDD636CA0DB" },
        /* Same format, another key. */
        { BS_PIN_TDES, BS_PIN_TDES, TDES_KEY, AES_KEY, "12345678", "2200000000000004", NULL, NULL },
        { BS_PIN_AES, BS_PIN_AES, AES_KEY, "000102030405060708090A0B0C0D0E0F", "123456789012",
          "6037990000000011", NULL, NULL },
    };
    static const uint8_t fill[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
    uint8_t in[16], out[16], want[16];
    char pin[BS_PIN_DIGITS_MAX + 1];

    (void)state;
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        struct bs_pin_key *a = key_hex(t[i].from, t[i].kin);
        struct bs_pin_key *b = key_hex(t[i].to, t[i].kout);
        size_t ilen = bs_pin_block_len(t[i].from), olen = bs_pin_block_len(t[i].to);

        if (t[i].in)
            unhex(t[i].in, in, sizeof(in));
        else
            assert_int_equal(bs_pin_block_encrypt(a, t[i].pin, t[i].pan, fill, in, sizeof(in)),
                             (int)ilen);
        assert_int_equal(bs_pin_block_translate(a, in, ilen, t[i].pan, b, fill, out, sizeof(out)),
                         (int)olen);
        if (t[i].out) {
            unhex(t[i].out, want, sizeof(want));
            assert_memory_equal(out, want, olen);
        }
        assert_int_equal(bs_pin_block_decrypt(b, out, olen, t[i].pan, pin), 0);
        assert_string_equal(pin, t[i].pin);
        /* A damaged block is refused, never translated into something. */
        in[0] ^= 0x80;
        assert_int_equal(bs_pin_block_translate(a, in, ilen, t[i].pan, b, fill, out, sizeof(out)),
                         BS_EFORMAT);
        bs_pin_key_free(a);
        bs_pin_key_free(b);
    }
}

/* ---- IBM 3624 natural PIN ---------------------------------------------------------------- */

static void test_natural_pin(void **state)
{
    struct bs_pin_key *pdk = key_hex(BS_PIN_TDES, TDES_KEY);
    struct bs_pin_key *aes = key_hex(BS_PIN_AES, AES_KEY);
    char pin[BS_PIN_DIGITS_MAX + 1];

    (void)state;
    /* E(PDK, 0000555555123456) = F82DDA5CD49E2072, decimalised: 5823... */
    assert_int_equal(bs_pin_natural(pdk, "5555555551234567", 4, pin), 0);
    assert_string_equal(pin, "5823");
    assert_int_equal(bs_pin_natural(pdk, "4111111111111111", 6, pin), 0);
    assert_string_equal(pin, "577539");
    assert_int_equal(bs_pin_natural(pdk, "4111111111111111", 3, pin), BS_EINVAL);
    assert_int_equal(bs_pin_natural(aes, "4111111111111111", 4, pin), BS_EINVAL);
    bs_pin_key_free(pdk);
    bs_pin_key_free(aes);
}

/* ---- the HSM ----------------------------------------------------------------------------- */

static struct bs_hsm *make_hsm(double wrong, unsigned channels)
{
    struct bs_hsm_cfg cfg = {
        .digits = 4,
        .wrong_share = wrong,
        .channels = channels,
        .nzones = 2,
        .zone_type = { BS_PIN_AES, BS_PIN_TDES },
        .zone_name = { "mir", "shetab" },
    };
    struct bs_hsm *h = NULL;

    assert_int_equal(bs_hsm_new(seed42, sizeof(seed42), &cfg, &h), 0);
    return h;
}

static void test_hsm_flow(void **state)
{
    struct bs_hsm *h = make_hsm(0.1, 3);
    struct bs_hsm *h2 = make_hsm(0.1, 3);
    uint8_t blk[16], blk2[16], out[16];
    unsigned wrong = 0, n = 2000;
    bool ok;

    (void)state;
    assert_int_equal(bs_hsm_zone_type(h, 0), BS_PIN_AES);
    assert_int_equal(bs_hsm_zone_type(h, 1), BS_PIN_TDES);
    for (unsigned i = 0; i < n; i++) {
        char pan[20];
        int len;

        snprintf(pan, sizeof(pan), "220000%09u", i);
        pan[15] = (char)bs_luhn_check_digit(pan, 15);
        pan[16] = '\0';
        /* A Shetab PIN pad (TDES zone): format 0; the bridge translates to Mir (AES). */
        len = bs_hsm_pin_entry(h, 1, BS_CH_ATM, pan, 1000 + i, blk, sizeof(blk));
        assert_int_equal(len, 8);
        /* Same seed, same entry: the same bytes (virtual runs replay bit for bit). */
        assert_int_equal(bs_hsm_pin_entry(h2, 1, BS_CH_ATM, pan, 1000 + i, blk2, sizeof(blk2)), 8);
        assert_memory_equal(blk, blk2, 8);
        assert_int_equal(bs_hsm_pin_translate(h, 1, 0, pan, blk, 8, out, sizeof(out)), 16);
        assert_int_equal(bs_hsm_pin_verify(h, 0, pan, out, 16, &ok), 0);
        /* The block verifies in its own zone too, with the same answer. */
        {
            bool ok1;
            assert_int_equal(bs_hsm_pin_verify(h, 1, pan, blk, 8, &ok1), 0);
            assert_int_equal(ok1, ok);
        }
        wrong += !ok;
        /* A block under one zone's key does not verify under the other's. */
        assert_int_not_equal(bs_hsm_pin_verify(h, 0, pan, blk, 8, &ok), 0);
    }
    /* 10 % wrong entries, chosen by HMAC of the entry id: 200 ± a few binomial sigmas. */
    assert_in_range(wrong, 150, 250);
    bs_hsm_free(h);
    bs_hsm_free(h2);
}

static void test_hsm_policy(void **state)
{
    struct bs_hsm *all_wrong = make_hsm(1.0, 1u << BS_CH_ATM);
    struct bs_hsm *none_wrong = make_hsm(0.0, 1u << BS_CH_ATM);
    uint8_t blk[16];
    bool ok = true;

    (void)state;
    /* No PIN on a channel outside the configuration. */
    assert_int_equal(
        bs_hsm_pin_entry(all_wrong, 0, BS_CH_POS, "2200000000000004", 1, blk, sizeof(blk)), 0);
    for (uint64_t e = 0; e < 50; e++) {
        assert_int_equal(
            bs_hsm_pin_entry(all_wrong, 0, BS_CH_ATM, "2200000000000004", e, blk, sizeof(blk)), 16);
        assert_int_equal(bs_hsm_pin_verify(all_wrong, 0, "2200000000000004", blk, 16, &ok), 0);
        assert_false(ok);
        assert_int_equal(
            bs_hsm_pin_entry(none_wrong, 1, BS_CH_ATM, "2200000000000004", e, blk, sizeof(blk)), 8);
        assert_int_equal(bs_hsm_pin_verify(none_wrong, 1, "2200000000000004", blk, 8, &ok), 0);
        assert_true(ok);
    }
    assert_int_equal(bs_hsm_pin_entry(none_wrong, 2, BS_CH_ATM, "2200000000000004", 1, blk, 16),
                     BS_EINVAL);
    assert_int_equal(bs_hsm_pin_entry(none_wrong, 1, BS_CH_ATM, "2200000000000004", 1, blk, 4),
                     BS_ENOSPC);
    bs_hsm_free(all_wrong);
    bs_hsm_free(none_wrong);
}

/* ---- replay protection ------------------------------------------------------------------- */

#define SEC BS_US_PER_SEC
/* 2026-03-02T09:00:00Z */
#define T0 ((bs_time_us)1772442000 * SEC)

static void test_de7(void **state)
{
    bs_time_us t;

    (void)state;
    assert_int_equal(bs_de7_to_time("0302090000", 10, T0, &t), 0);
    assert_true(t == T0);
    assert_int_equal(bs_de7_to_time("0302085959", 10, T0 + 5 * SEC, &t), 0);
    assert_true(t == T0 - SEC);
    /* Around new year the nearest year wins: 31 Dec seen on 1 Jan is yesterday. */
    assert_int_equal(bs_de7_to_time("1231235959", 10, (bs_time_us)1767225600 * SEC, &t), 0);
    assert_true(t == (bs_time_us)1767225599 * SEC); /* 2025-12-31T23:59:59Z */
    /* 29 February only exists in a leap year within a year of the clock. */
    assert_int_equal(bs_de7_to_time("0229120000", 10, T0, &t), BS_EFORMAT);
    assert_int_equal(bs_de7_to_time("0229120000", 10, (bs_time_us)1835481600 * SEC, &t), 0);
    assert_true(t == (bs_time_us)1835438400 * SEC); /* 2028-02-29T12:00:00Z */
    assert_int_equal(bs_de7_to_time("0230120000", 10, T0, &t), BS_EFORMAT);
    assert_int_equal(bs_de7_to_time("1302090000", 10, T0, &t), BS_EFORMAT);
    assert_int_equal(bs_de7_to_time("0302246000", 10, T0, &t), BS_EFORMAT);
    assert_int_equal(bs_de7_to_time("030209000", 9, T0, &t), BS_EFORMAT);
    assert_int_equal(bs_de7_to_time("03020900x0", 10, T0, &t), BS_EFORMAT);
}

static void test_replay_window(void **state)
{
    struct bs_replay *r = NULL;
    uint8_t a[100], b[100];
    const bs_time_us w = 300 * SEC;

    (void)state;
    memset(a, 1, sizeof(a));
    memset(b, 2, sizeof(b));
    assert_int_equal(bs_replay_new(w, 1000, &r), 0);
    /* Fresh, then a byte-identical copy within the window: a replay. */
    assert_int_equal(bs_replay_check(r, T0, T0, a, sizeof(a), true), 0);
    assert_int_equal(bs_replay_check(r, T0 + 1, T0, a, sizeof(a), true), BS_EEXIST);
    assert_int_equal(bs_replay_check(r, T0 + w, T0, a, sizeof(a), true), BS_EEXIST);
    /* After the window the timestamp itself refuses it. */
    assert_int_equal(bs_replay_check(r, T0 + w + 1, T0, a, sizeof(a), true), BS_ERANGE);
    assert_int_equal(bs_replay_check(r, T0 - w - 1, T0, a, sizeof(a), true), BS_ERANGE);
    /* A repeat (not remembered) passes on its timestamp alone, however often. */
    assert_int_equal(bs_replay_check(r, T0, T0, b, sizeof(b), false), 0);
    assert_int_equal(bs_replay_check(r, T0, T0, b, sizeof(b), false), 0);
    assert_int_equal(bs_replay_count(r), 1);
    /* A message stamped a full window in the future is still remembered until it is stale. */
    assert_int_equal(bs_replay_check(r, T0, T0 + w, b, sizeof(b), true), 0);
    assert_int_equal(bs_replay_check(r, T0 + 2 * w, T0 + w, b, sizeof(b), true), BS_EEXIST);
    bs_replay_free(r);
}

static void test_replay_bounded(void **state)
{
    struct bs_replay *r = NULL;
    uint8_t m[8];
    const bs_time_us w = 10 * SEC;
    size_t peak = 0;

    (void)state;
    assert_int_equal(bs_replay_new(w, 5000, &r), 0);
    /* 100 messages a second for 10 minutes: memory follows the window, not the run. */
    for (uint32_t i = 0; i < 60000; i++) {
        bs_time_us now = T0 + (bs_time_us)i * (SEC / 100);
        memcpy(m, &i, sizeof(i));
        memset(m + 4, 0, 4);
        assert_int_equal(bs_replay_check(r, now, now, m, sizeof(m), true), 0);
        if (bs_replay_count(r) > peak)
            peak = bs_replay_count(r);
    }
    /* 2w + 2 s of retention plus one slice: at most ~ (22 s + 22/7 s) · 100. */
    assert_true(peak <= 2600);
    assert_true(peak >= 2200);
    bs_replay_free(r);

    /* A full cache fails closed. */
    assert_int_equal(bs_replay_new(w, 3, &r), 0);
    for (uint32_t i = 0; i < 3; i++) {
        memcpy(m, &i, sizeof(i));
        assert_int_equal(bs_replay_check(r, T0, T0, m, sizeof(m), true), 0);
    }
    m[0] = 0x77;
    assert_int_equal(bs_replay_check(r, T0, T0, m, sizeof(m), true), BS_ELIMIT);
    bs_replay_free(r);
    assert_int_equal(bs_replay_new(0, 3, &r), BS_EINVAL);
}

/* ---- key validity (rotation) ------------------------------------------------------------- */

static void test_key_validity(void **state)
{
    struct bs_keystore *ks = NULL;
    struct bs_key *k0 = NULL, *k1 = NULL;
    bs_time_us nb, na;

    (void)state;
    assert_int_equal(bs_keystore_new(&ks), 0);
    assert_int_equal(bs_key_derive(BS_SIG_ED25519, seed42, 8, "bridge", 0, 0, &k0), 0);
    assert_int_equal(bs_key_derive(BS_SIG_ED25519, seed42, 8, "bridge", 1, 0, &k1), 0);
    assert_int_equal(bs_keystore_add(ks, k0), 0);
    assert_int_equal(bs_keystore_add(ks, k1), 0);
    assert_int_equal(bs_key_valid_at(k0, INT64_MIN), 0);
    assert_int_equal(bs_key_valid_at(k0, INT64_MAX), 0);
    /* Rotation at T0 + 120 s with a 30 s overlap. */
    assert_int_equal(bs_keystore_set_validity(ks, "bridge#0", INT64_MIN, T0 + 150 * SEC), 0);
    assert_int_equal(bs_keystore_set_validity(ks, "bridge#1", T0 + 120 * SEC, INT64_MAX), 0);
    assert_int_equal(bs_key_valid_at(k0, T0 + 150 * SEC), 0);
    assert_int_equal(bs_key_valid_at(k0, T0 + 150 * SEC + 1), BS_EKEY);
    assert_int_equal(bs_key_valid_at(k1, T0 + 120 * SEC - 1), BS_EKEY);
    assert_int_equal(bs_key_valid_at(k1, T0 + 120 * SEC), 0);
    bs_key_validity(k0, &nb, &na);
    assert_true(nb == INT64_MIN && na == T0 + 150 * SEC);
    assert_int_equal(bs_keystore_set_validity(ks, "bridge#2", 0, 1), BS_ENOTFOUND);
    assert_int_equal(bs_keystore_set_validity(ks, "bridge#1", 2, 1), BS_EINVAL);
    bs_keystore_free(ks);
}

int main(void)
{
    const struct CMUnitTest pin[] = {
        cmocka_unit_test(test_format0_clear),
        cmocka_unit_test(test_format0_enciphered),
        cmocka_unit_test(test_format4_known_answers),
        cmocka_unit_test(test_translate_table),
        cmocka_unit_test(test_natural_pin),
        cmocka_unit_test(test_hsm_flow),
        cmocka_unit_test(test_hsm_policy),
    };
    const struct CMUnitTest replay[] = {
        cmocka_unit_test(test_de7),
        cmocka_unit_test(test_replay_window),
        cmocka_unit_test(test_replay_bounded),
        cmocka_unit_test(test_key_validity),
    };
    int failed = 0;

    bs_set_allocator(&test_allocator);
    failed += cmocka_run_group_tests_name("pin", pin, NULL, NULL);
    failed += cmocka_run_group_tests_name("replay", replay, NULL, NULL);
    bs_set_allocator(NULL);
    return failed == 0 ? 0 : 1;
}
