/*
 * Unit tests for src/crypto/: known-answer tests from the RFCs, derivation, envelope,
 * tamper detection, key store, PEM, PAN masking and Luhn.
 *
 * Every group runs with the library allocator routed through cmocka's test_malloc() and
 * friends, so any libbridgesim allocation a test leaks fails that test. (OpenSSL allocates
 * through its own allocator; that is not checked here.)
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include <openssl/err.h>

#include <bridgesim/crypto.h>

/* ---- helpers -------------------------------------------------------------------------- */

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

/* Decode @hex into @out (capacity @cap); returns the byte count. */
static size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = strlen(hex);

    assert_int_equal(n % 2, 0);
    assert_true(n / 2 <= cap);
    for (size_t i = 0; i < n / 2; i++)
        out[i] = (uint8_t)(hexval(hex[2 * i]) << 4 | hexval(hex[2 * i + 1]));
    return n / 2;
}

/* The scenario seed 42 as 8 big-endian bytes, the way the simulator passes it. */
static const uint8_t seed42[8] = { 0, 0, 0, 0, 0, 0, 0, 42 };

/* A 300-byte message, about the size of a packed authorization request. */
static void fill_message(uint8_t *msg, size_t n)
{
    for (size_t i = 0; i < n; i++)
        msg[i] = (uint8_t)(i * 31 + 7);
}

static const enum bs_sig_alg all_algs[] = { BS_SIG_ED25519, BS_SIG_ECDSA_P256, BS_SIG_HMAC_SHA256,
                                            BS_SIG_AES_CMAC };
#define N_ALGS (sizeof(all_algs) / sizeof(all_algs[0]))

/* ---- RFC 8032 §7.1: Ed25519 ------------------------------------------------------------ */

struct ed_vector {
    const char *secret, *public, *msg, *sig;
};

static const struct ed_vector ed_vectors[] = {
    { /* TEST 1 */
      "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
      "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
      "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9"
      "b46bd25bf5f0595bbe24655141438e7a100b" },
    { /* TEST 2 */
      "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
      "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
      "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f1"
      "1d8c387b2eaeb4302aeeb00d291612bb0c00" },
    { /* TEST 3 */
      "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
      "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
      "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984d"
      "c6594a7c15e9716ed28dc027beceea1ec40a" },
    { /* TEST SHA(abc): the message is SHA-512("abc") */
      "833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42",
      "ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf",
      "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3fe"
      "ebbd454d4423643ce80e2a9ac94fa54ca49f",
      "dc2a4459e7369633a52b1bf277839a00201009a3efbf3ecb69bea2186c26b58909351fc9ac90b3ecfdfbc7c66431"
      "e0303dca179c138ac17ad9bef1177331a704" },
};

static void run_ed_vector(const struct ed_vector *v)
{
    uint8_t sk[32], pk[32], msg[64], want[64], got[BS_SIG_MAX], pub[BS_SIG_MAX];
    size_t msg_len, len = 0;
    struct bs_key *k = NULL;

    assert_int_equal(unhex(v->secret, sk, sizeof(sk)), 32);
    assert_int_equal(unhex(v->public, pk, sizeof(pk)), 32);
    msg_len = unhex(v->msg, msg, sizeof(msg));
    assert_int_equal(unhex(v->sig, want, sizeof(want)), 64);

    assert_int_equal(bs_key_from_raw(BS_SIG_ED25519, sk, sizeof(sk), "RFC8032#1", 0, &k), 0);
    assert_int_equal(bs_key_alg(k), BS_SIG_ED25519);
    assert_string_equal(bs_key_id(k), "RFC8032#1");
    assert_int_equal(bs_key_public(k, pub, sizeof(pub)), 32);
    assert_memory_equal(pub, pk, 32);

    assert_int_equal(bs_sign(k, msg_len ? msg : NULL, msg_len, got, sizeof(got), &len), 0);
    assert_int_equal(len, 64);
    assert_memory_equal(got, want, 64);
    assert_int_equal(bs_verify(k, msg, msg_len, want, 64), 0);

    /* The cached contexts must give the same answer again. */
    memset(got, 0, sizeof(got));
    assert_int_equal(bs_sign(k, msg, msg_len, got, sizeof(got), &len), 0);
    assert_memory_equal(got, want, 64);
    assert_int_equal(bs_verify(k, msg, msg_len, want, 64), 0);
    want[63] ^= 0x40;
    assert_int_equal(bs_verify(k, msg, msg_len, want, 64), BS_ESIG);
    bs_key_free(k);
}

static void test_ed25519_rfc8032_test1(void **state)
{
    (void)state;
    run_ed_vector(&ed_vectors[0]);
}

static void test_ed25519_rfc8032_test2(void **state)
{
    (void)state;
    run_ed_vector(&ed_vectors[1]);
}

static void test_ed25519_rfc8032_test3(void **state)
{
    (void)state;
    run_ed_vector(&ed_vectors[2]);
}

static void test_ed25519_rfc8032_sha_abc(void **state)
{
    (void)state;
    run_ed_vector(&ed_vectors[3]);
}

/* ---- RFC 4231 §4: HMAC-SHA256 ---------------------------------------------------------- */

struct mac_vector {
    const char *key;  /* hex */
    const char *data; /* text, or hex when data_hex */
    bool data_hex;
    size_t trunc;
    const char *mac; /* hex */
};

/* Key 0xaa repeated 131 times, used by test cases 6 and 7. */
#define AA131                                                                                      \
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" \
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" \
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

static const struct mac_vector hmac_vectors[] = {
    /* Test Case 1 */
    { "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "Hi There", false, 0,
      "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7" },
    /* Test Case 2 */
    { "4a656665", "what do ya want for nothing?", false, 0,
      "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843" },
    /* Test Case 3 */
    { "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
      "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"
      "dddddddd",
      true, 0, "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe" },
    /* Test Case 4 */
    { "0102030405060708090a0b0c0d0e0f10111213141516171819",
      "cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd"
      "cdcdcdcd",
      true, 0, "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b" },
    /* Test Case 5: defined as truncated to 128 bits */
    { "0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c", "Test With Truncation", false, 16,
      "a3b6167473100ee06e0c796c2955552b" },
    /* Test Case 6 */
    { AA131, "Test Using Larger Than Block-Size Key - Hash Key First", false, 0,
      "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54" },
    /* Test Case 7 */
    { AA131,
      "This is a test using a larger than block-size key and a larger than block-size data. The "
      "key needs to be hashed before being used by the HMAC algorithm.",
      false, 0, "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2" },
};

/* RFC 4493 §4: AES-128 key 2b7e1516..., examples 1-4 (0, 16, 40 and 64 bytes of message). */
#define CMAC_KEY "2b7e151628aed2a6abf7158809cf4f3c"
#define CMAC_M64                                                                                   \
    "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e5130c81c46a35ce411e5fbc1191a0a" \
    "52eff69f2445df4f9b17ad2b417be66c3710"

static const struct mac_vector cmac_vectors[] = {
    { CMAC_KEY, "", true, 0, "bb1d6929e95937287fa37d129b756746" },
    { CMAC_KEY, "6bc1bee22e409f96e93d7e117393172a", true, 0, "070a16b46b4d4144f79bdd9dd04a287c" },
    { CMAC_KEY, "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e5130c81c46a35ce411",
      true, 0, "dfa66747de9ae63030ca32611497c827" },
    { CMAC_KEY, CMAC_M64, true, 0, "51f0bebf7e3b9d92fc49741779363cfe" },
};

static void run_mac_vector(enum bs_sig_alg alg, const struct mac_vector *v)
{
    uint8_t key[160], data[200], want[32], got[BS_SIG_MAX], pub[80];
    size_t key_len, data_len, want_len, len = 0;
    struct bs_key *k = NULL;

    key_len = unhex(v->key, key, sizeof(key));
    if (v->data_hex) {
        data_len = unhex(v->data, data, sizeof(data));
    } else {
        data_len = strlen(v->data);
        memcpy(data, v->data, data_len);
    }
    want_len = unhex(v->mac, want, sizeof(want));

    assert_int_equal(bs_key_from_raw(alg, key, key_len, "KAT", v->trunc, &k), 0);
    assert_int_equal(bs_key_public(k, pub, sizeof(pub)), BS_EINVAL);
    /* Twice: the second run goes through the re-initialised (NULL-key) MAC context. */
    for (int round = 0; round < 2; round++) {
        assert_int_equal(bs_sign(k, data, data_len, got, sizeof(got), &len), 0);
        assert_int_equal(len, want_len);
        assert_memory_equal(got, want, want_len);
        assert_int_equal(bs_verify(k, data, data_len, want, want_len), 0);
    }
    /* The full-length MAC is not accepted where a truncated one is expected, and vice versa. */
    assert_int_equal(bs_verify(k, data, data_len, want, want_len - 1), BS_ESIG);
    want[0] ^= 1;
    assert_int_equal(bs_verify(k, data, data_len, want, want_len), BS_ESIG);
    bs_key_free(k);
}

#define HMAC_CASE(n)                                              \
    static void test_hmac_rfc4231_case##n(void **state)           \
    {                                                             \
        (void)state;                                              \
        run_mac_vector(BS_SIG_HMAC_SHA256, &hmac_vectors[(n)-1]); \
    }
HMAC_CASE(1)
HMAC_CASE(2)
HMAC_CASE(3)
HMAC_CASE(4)
HMAC_CASE(5)
HMAC_CASE(6)
HMAC_CASE(7)

#define CMAC_CASE(n)                                           \
    static void test_cmac_rfc4493_example##n(void **state)     \
    {                                                          \
        (void)state;                                           \
        run_mac_vector(BS_SIG_AES_CMAC, &cmac_vectors[(n)-1]); \
    }
CMAC_CASE(1)
CMAC_CASE(2)
CMAC_CASE(3)
CMAC_CASE(4)

static void test_mac_truncation(void **state)
{
    uint8_t key[32], full[BS_SIG_MAX], cut[BS_SIG_MAX];
    size_t full_len = 0, cut_len = 0;
    struct bs_key *a = NULL, *b = NULL;

    (void)state;
    memset(key, 0x0b, sizeof(key)); /* RFC 4231 case 1 uses the first 20 bytes */
    assert_int_equal(bs_key_from_raw(BS_SIG_HMAC_SHA256, key, 20, "A", 0, &a), 0);
    assert_int_equal(bs_key_from_raw(BS_SIG_HMAC_SHA256, key, 20, "B", 8, &b), 0);
    assert_int_equal(bs_sign(a, (const uint8_t *)"Hi There", 8, full, sizeof(full), &full_len), 0);
    assert_int_equal(bs_sign(b, (const uint8_t *)"Hi There", 8, cut, sizeof(cut), &cut_len), 0);
    assert_int_equal(full_len, 32);
    assert_int_equal(cut_len, 8);
    assert_memory_equal(full, cut, 8); /* leftmost bytes */
    bs_key_free(a);
    bs_key_free(b);

    /* Bounds: 8..full for MACs, 0 only for signatures. */
    assert_int_equal(bs_key_from_raw(BS_SIG_HMAC_SHA256, key, sizeof(key), "A", 7, &a), BS_EINVAL);
    assert_int_equal(bs_key_from_raw(BS_SIG_HMAC_SHA256, key, sizeof(key), "A", 33, &a), BS_EINVAL);
    assert_int_equal(bs_key_from_raw(BS_SIG_AES_CMAC, key, 16, "A", 17, &a), BS_EINVAL);
    assert_int_equal(bs_key_from_raw(BS_SIG_AES_CMAC, key, 16, "A", 16, &a), 0);
    bs_key_free(a);
    assert_int_equal(bs_key_from_raw(BS_SIG_ED25519, key, 32, "A", 16, &a), BS_EINVAL);
    assert_int_equal(bs_key_from_raw(BS_SIG_AES_CMAC, key, 15, "A", 0, &a), BS_EINVAL);
    assert_int_equal(bs_key_from_raw(BS_SIG_HMAC_SHA256, key, 0, "A", 0, &a), BS_EINVAL);
    assert_int_equal(bs_key_from_raw(BS_SIG_NONE, key, 16, "A", 0, &a), BS_EINVAL);
}

/* ---- ECDSA P-256 ----------------------------------------------------------------------- */

/*
 * Parse a DER Ecdsa-Sig-Value independently of the library: SEQUENCE of two INTEGERs,
 * short-form lengths, minimal non-negative integers of at most 33 bytes, nothing after.
 * Returns false on any deviation.
 */
static bool parse_der_int(const uint8_t *p, size_t n, size_t *used, size_t *value_bytes)
{
    if (n < 3 || p[0] != 0x02 || p[1] == 0 || p[1] > 33 || (size_t)p[1] + 2 > n)
        return false;
    if (p[2] & 0x80)
        return false;
    if (p[1] > 1 && p[2] == 0 && !(p[3] & 0x80))
        return false;
    *used = 2 + (size_t)p[1];
    *value_bytes = p[2] == 0 ? (size_t)p[1] - 1 : p[1];
    return true;
}

static bool parse_ecdsa_der(const uint8_t *sig, size_t n)
{
    size_t r_used, s_used, r_bytes, s_bytes;

    if (n < 8 || sig[0] != 0x30 || sig[1] >= 0x80 || (size_t)sig[1] + 2 != n)
        return false;
    if (!parse_der_int(sig + 2, n - 2, &r_used, &r_bytes))
        return false;
    if (!parse_der_int(sig + 2 + r_used, n - 2 - r_used, &s_used, &s_bytes))
        return false;
    return 2 + r_used + s_used == n && r_bytes <= 32 && s_bytes <= 32;
}

static void test_p256_round_trip_der(void **state)
{
    uint8_t msg[300], sig[BS_SIG_MAX], pub[80];
    struct bs_key *k = NULL;
    size_t len = 0;
    int typical = 0;

    (void)state;
    fill_message(msg, sizeof(msg));
    assert_int_equal(bs_key_derive(BS_SIG_ECDSA_P256, seed42, sizeof(seed42), "MIRSW", 1, 0, &k),
                     0);
    assert_int_equal(bs_key_public(k, pub, sizeof(pub)), 65);
    assert_int_equal(pub[0], 0x04);
    assert_int_equal(bs_key_public(k, pub, 64), BS_ENOSPC);
    for (int i = 0; i < 50; i++) {
        msg[0] = (uint8_t)i;
        assert_int_equal(bs_sign(k, msg, sizeof(msg), sig, sizeof(sig), &len), 0);
        assert_in_range(len, 8, 72);
        assert_true(parse_ecdsa_der(sig, len));
        if (len >= 70)
            typical++;
        assert_int_equal(bs_verify(k, msg, sizeof(msg), sig, len), 0);
    }
    /* Both integers are below 2^248 in well under 1% of signatures each. */
    assert_true(typical >= 45);
    bs_key_free(k);
}

/* RFC 6979 §A.2.5: the P-256 key and its SHA-256 signatures of "sample" and "test". */
#define P6979_X "c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721"
#define P6979_PUB                                                                                  \
    "0460fed4ba255a9d31c961eb74c6356d68c049b8923b61fa6ce669622e60f29fb67903fe1008b8bc99a41ae9e956" \
    "28bc64f2f1b20c2d7e9f5177a3c294d4462299"
#define P6979_SAMPLE_SIG                                                                           \
    "3046022100efd48b2aacb6a8fd1140dd9cd45e81d69d2c877b56aaf991c34d0ea84eaf3716022100f7cb1c942d65" \
    "7c41d436c7a1b6e29f65f3e900dbb9aff4064dc4ab2f843acda8"
#define P6979_TEST_SIG                                                                             \
    "3045022100f1abb023518351cd71d881567b1ea663ed3efcf6c5132b354f28d3b0b7d383670220019f4113742a2b" \
    "14bd25926b49c649155f267e60d3814b4c0cc84250e46f0083"

static void test_p256_rfc6979_known_answers(void **state)
{
    uint8_t x[32], want_pub[65], pub[80], sig1[80], sig2[80];
    size_t n1, n2;
    struct bs_key *k = NULL;

    (void)state;
    unhex(P6979_X, x, sizeof(x));
    unhex(P6979_PUB, want_pub, sizeof(want_pub));
    n1 = unhex(P6979_SAMPLE_SIG, sig1, sizeof(sig1));
    n2 = unhex(P6979_TEST_SIG, sig2, sizeof(sig2));
    assert_int_equal(bs_key_from_raw(BS_SIG_ECDSA_P256, x, sizeof(x), "RFC6979", 0, &k), 0);
    assert_int_equal(bs_key_public(k, pub, sizeof(pub)), 65);
    assert_memory_equal(pub, want_pub, 65);
    assert_true(parse_ecdsa_der(sig1, n1));
    assert_true(parse_ecdsa_der(sig2, n2));
    assert_int_equal(bs_verify(k, (const uint8_t *)"sample", 6, sig1, n1), 0);
    assert_int_equal(bs_verify(k, (const uint8_t *)"test", 4, sig2, n2), 0);
    assert_int_equal(bs_verify(k, (const uint8_t *)"test", 4, sig1, n1), BS_ESIG);
    bs_key_free(k);
}

static void test_p256_scalar_range(void **state)
{
    /* n, n - 1 and the generator G = 1·G (SEC 2 §2.4.2). */
    static const char *n_hex = "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551";
    static const char *nm1_hex = "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632550";
    static const char *g_hex = "046b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296"
                               "4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5";
    uint8_t d[32], g[65], pub[65];
    struct bs_key *k = NULL;

    (void)state;
    memset(d, 0, sizeof(d));
    assert_int_equal(bs_key_from_raw(BS_SIG_ECDSA_P256, d, 32, "Z", 0, &k), BS_EINVAL);
    unhex(n_hex, d, sizeof(d));
    assert_int_equal(bs_key_from_raw(BS_SIG_ECDSA_P256, d, 32, "N", 0, &k), BS_EINVAL);
    memset(d, 0xff, sizeof(d));
    assert_int_equal(bs_key_from_raw(BS_SIG_ECDSA_P256, d, 32, "F", 0, &k), BS_EINVAL);
    assert_int_equal(bs_key_from_raw(BS_SIG_ECDSA_P256, d, 31, "F", 0, &k), BS_EINVAL);
    unhex(nm1_hex, d, sizeof(d));
    assert_int_equal(bs_key_from_raw(BS_SIG_ECDSA_P256, d, 32, "NM1", 0, &k), 0);
    bs_key_free(k);
    memset(d, 0, sizeof(d));
    d[31] = 1;
    assert_int_equal(bs_key_from_raw(BS_SIG_ECDSA_P256, d, 32, "ONE", 0, &k), 0);
    unhex(g_hex, g, sizeof(g));
    assert_int_equal(bs_key_public(k, pub, sizeof(pub)), 65);
    assert_memory_equal(pub, g, 65);
    bs_key_free(k);
}

/* Malformed DER of every kind is a bad signature (BS_ESIG), never a library error. */
static void test_p256_malformed_der(void **state)
{
    static const char *bad[] = {
        "",
        "30",
        "3006020101020101",     /* r = s = 1: valid DER, wrong signature */
        "3006020100020101",     /* r = 0 */
        "30060201ff020101",     /* negative r */
        "300702020001020101",   /* non-minimal r */
        "300702010102010100",   /* an extra byte inside the sequence */
        "300602010102010100",   /* an extra byte after the sequence */
        "30810602010102010101", /* long-form length where short form is required */
        "3106020101020101",     /* SET, not SEQUENCE */
        "3006020101030101",     /* BIT STRING for s */
        "3006020101020201",     /* s runs past the end */
        /* r = n: valid DER, out of range */
        "3026022100ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551020101",
    };
    uint8_t x[32], sig[80];
    struct bs_key *k = NULL;

    (void)state;
    unhex(P6979_X, x, sizeof(x));
    assert_int_equal(bs_key_from_raw(BS_SIG_ECDSA_P256, x, sizeof(x), "RFC6979", 0, &k), 0);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        size_t n = unhex(bad[i], sig, sizeof(sig));

        assert_int_equal(bs_verify(k, (const uint8_t *)"sample", 6, n ? sig : NULL, n), BS_ESIG);
    }
    /* Longer than any P-256 signature. */
    memset(sig, 0x30, sizeof(sig));
    assert_int_equal(bs_verify(k, (const uint8_t *)"sample", 6, sig, 73), BS_ESIG);
    bs_key_free(k);
}

/* ---- HKDF derivation ------------------------------------------------------------------- */

/* The signature (or MAC) of a fixed message: equal keys give equal results for all but ECDSA. */
static size_t fingerprint(struct bs_key *k, uint8_t *out)
{
    size_t len = 0;

    if (bs_key_alg(k) == BS_SIG_ED25519 || bs_key_alg(k) == BS_SIG_ECDSA_P256) {
        int n = bs_key_public(k, out, BS_SIG_MAX);

        assert_true(n > 0);
        return (size_t)n;
    }
    assert_int_equal(bs_sign(k, (const uint8_t *)"abc", 3, out, BS_SIG_MAX, &len), 0);
    return len;
}

static void test_derive_deterministic(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_ALGS; i++) {
        uint8_t a[BS_SIG_MAX], b[BS_SIG_MAX], c[BS_SIG_MAX];
        struct bs_key *k1 = NULL, *k2 = NULL, *k3 = NULL, *k4 = NULL, *k5 = NULL;
        size_t la, lb;

        assert_int_equal(bs_key_derive(all_algs[i], seed42, 8, "MIRACQ1", 1, 0, &k1), 0);
        assert_int_equal(bs_key_derive(all_algs[i], seed42, 8, "MIRACQ1", 1, 0, &k2), 0);
        assert_string_equal(bs_key_id(k1), "MIRACQ1#1");
        assert_int_equal(bs_key_alg(k1), all_algs[i]);
        la = fingerprint(k1, a);
        lb = fingerprint(k2, b);
        assert_int_equal(la, lb);
        assert_memory_equal(a, b, la);

        /* Another owner, epoch or seed gives another key. */
        assert_int_equal(bs_key_derive(all_algs[i], seed42, 8, "MIRACQ2", 1, 0, &k3), 0);
        assert_int_equal(bs_key_derive(all_algs[i], seed42, 8, "MIRACQ1", 2, 0, &k4), 0);
        assert_int_equal(bs_key_derive(all_algs[i], seed42, 7, "MIRACQ1", 1, 0, &k5), 0);
        assert_int_equal(fingerprint(k3, c), la);
        assert_memory_not_equal(a, c, la);
        assert_int_equal(fingerprint(k4, c), la);
        assert_memory_not_equal(a, c, la);
        assert_int_equal(fingerprint(k5, c), la);
        assert_memory_not_equal(a, c, la);
        assert_string_equal(bs_key_id(k4), "MIRACQ1#2");
        bs_key_free(k1);
        bs_key_free(k2);
        bs_key_free(k3);
        bs_key_free(k4);
        bs_key_free(k5);
    }
}

/*
 * Golden values, computed independently with the OpenSSL command line (`openssl kdf ...
 * HKDF` with salt "bridgesim-key-v1" and info "<alg>|MIRACQ1|1", then `openssl pkey`,
 * `openssl ec` and `openssl mac`). They pin the derivation scheme: if one changes, every
 * recorded journal changes with it.
 */
static void test_derive_golden(void **state)
{
    static const struct {
        enum bs_sig_alg alg;
        const char *fp;
    } golden[] = {
        { BS_SIG_ED25519, "e030b4a59609fcbe8a82eed909979f6746ad11fd39dc3b361d28a5f9f988320c" },
        { BS_SIG_ECDSA_P256, "04c8466de9506139b573e02ff96c3cd9507ec09865a8e4563a11f3b82c1bcbae795a5"
                             "8bad74f9df771575077e4"
                             "6aea72e865e9be8c82e62b94573f457f3850e4b0" },
        { BS_SIG_HMAC_SHA256, "cc1b8cfb8b306c332dae42f3e2d895cdf2ab4e517859f4e46191a2c5271de37f" },
        { BS_SIG_AES_CMAC, "a055738c072f6fd2f0426a88096efdf1" },
    };

    (void)state;
    for (size_t i = 0; i < sizeof(golden) / sizeof(golden[0]); i++) {
        uint8_t want[BS_SIG_MAX], got[BS_SIG_MAX];
        struct bs_key *k = NULL;
        size_t n = unhex(golden[i].fp, want, sizeof(want));

        assert_int_equal(bs_key_derive(golden[i].alg, seed42, 8, "MIRACQ1", 1, 0, &k), 0);
        assert_int_equal(fingerprint(k, got), n);
        assert_memory_equal(got, want, n);
        bs_key_free(k);
    }
}

static void test_derive_invalid(void **state)
{
    char long_owner[BS_KEY_ID_MAX + 1];
    struct bs_key *k = NULL;

    (void)state;
    assert_int_equal(bs_key_derive(BS_SIG_NONE, seed42, 8, "A", 1, 0, &k), BS_EINVAL);
    assert_int_equal(bs_key_derive((enum bs_sig_alg)9, seed42, 8, "A", 1, 0, &k), BS_EINVAL);
    assert_int_equal(bs_key_derive(BS_SIG_ED25519, seed42, 0, "A", 1, 0, &k), BS_EINVAL);
    assert_int_equal(bs_key_derive(BS_SIG_ED25519, NULL, 8, "A", 1, 0, &k), BS_EINVAL);
    assert_int_equal(bs_key_derive(BS_SIG_ED25519, seed42, 8, "", 1, 0, &k), BS_EINVAL);
    assert_int_equal(bs_key_derive(BS_SIG_ED25519, seed42, 8, NULL, 1, 0, &k), BS_EINVAL);
    assert_int_equal(bs_key_derive(BS_SIG_ED25519, seed42, 8, "MIR ACQ", 1, 0, &k), BS_EINVAL);
    assert_int_equal(bs_key_derive(BS_SIG_ED25519, seed42, 8, "A", 1, 16, &k), BS_EINVAL);
    assert_int_equal(bs_key_derive(BS_SIG_HMAC_SHA256, seed42, 8, "A", 1, 4, &k), BS_EINVAL);
    assert_int_equal(bs_key_derive(BS_SIG_ED25519, seed42, 8, "A", 1, 0, NULL), BS_EINVAL);
    assert_null(k);

    /* The id "<owner>#<epoch>" must fit in BS_KEY_ID_MAX: 45 + "#1" fits, 45 + "#10" not. */
    memset(long_owner, 'X', sizeof(long_owner));
    long_owner[45] = '\0';
    assert_int_equal(bs_key_derive(BS_SIG_AES_CMAC, seed42, 8, long_owner, 1, 0, &k), 0);
    assert_int_equal(strlen(bs_key_id(k)), BS_KEY_ID_MAX);
    bs_key_free(k);
    k = NULL;
    assert_int_equal(bs_key_derive(BS_SIG_AES_CMAC, seed42, 8, long_owner, 10, 0, &k), BS_EINVAL);
    long_owner[45] = 'X';
    long_owner[BS_KEY_ID_MAX] = '\0';
    assert_int_equal(bs_key_derive(BS_SIG_AES_CMAC, seed42, 8, long_owner, 1, 0, &k), BS_EINVAL);
    assert_null(k);
}

static void test_alg_names(void **state)
{
    enum bs_sig_alg alg;

    (void)state;
    for (int a = BS_SIG_NONE; a <= BS_SIG_AES_CMAC; a++) {
        assert_int_equal(bs_sig_alg_parse(bs_sig_alg_name((enum bs_sig_alg)a), &alg), 0);
        assert_int_equal(alg, a);
    }
    assert_string_equal(bs_sig_alg_name(BS_SIG_ED25519), "ed25519");
    assert_string_equal(bs_sig_alg_name(BS_SIG_ECDSA_P256), "ecdsa-p256");
    assert_string_equal(bs_sig_alg_name(BS_SIG_HMAC_SHA256), "hmac-sha256");
    assert_string_equal(bs_sig_alg_name(BS_SIG_AES_CMAC), "aes-cmac");
    assert_string_equal(bs_sig_alg_name((enum bs_sig_alg)42), "unknown");
    assert_int_equal(bs_sig_alg_parse("ED25519", &alg), BS_ENOTFOUND);
    assert_int_equal(bs_sig_alg_parse("unknown", &alg), BS_ENOTFOUND);
}

/* ---- envelope (DE 127) ----------------------------------------------------------------- */

static void test_envelope_round_trip(void **state)
{
    uint8_t msg[300], sig[BS_SIG_MAX], env[200];
    struct bs_sig_envelope e;

    (void)state;
    fill_message(msg, sizeof(msg));
    for (size_t i = 0; i < N_ALGS; i++) {
        struct bs_key *k = NULL;
        size_t len = 0;
        int n;

        assert_int_equal(bs_key_derive(all_algs[i], seed42, 8, "SHETABSW", 3, 0, &k), 0);
        assert_int_equal(bs_sign(k, msg, sizeof(msg), sig, sizeof(sig), &len), 0);
        n = bs_sig_envelope_encode(bs_key_alg(k), bs_key_id(k), sig, len, env, sizeof(env));
        assert_int_equal(n, 4 + strlen("SHETABSW#3") + len);
        assert_int_equal(env[0], 0x01);
        assert_int_equal(env[1], all_algs[i]);
        assert_int_equal(bs_sig_envelope_decode(env, (size_t)n, &e), 0);
        assert_int_equal(e.alg, all_algs[i]);
        assert_string_equal(e.key_id, "SHETABSW#3");
        assert_int_equal(e.sig_len, len);
        assert_ptr_equal(e.sig, env + n - len);
        assert_int_equal(bs_verify(k, msg, sizeof(msg), e.sig, e.sig_len), 0);
        /* One byte short of room. */
        assert_int_equal(
            bs_sig_envelope_encode(bs_key_alg(k), bs_key_id(k), sig, len, env, (size_t)n - 1),
            BS_ENOSPC);
        bs_key_free(k);
    }
}

static void test_envelope_limits(void **state)
{
    char id[BS_KEY_ID_MAX + 2];
    uint8_t sig[BS_SIG_MAX + 1], env[200];
    struct bs_sig_envelope e;
    int n;

    (void)state;
    memset(id, 'K', sizeof(id));
    id[BS_KEY_ID_MAX] = '\0';
    memset(sig, 0x5a, sizeof(sig));
    /* The largest envelope: 47-byte id, 80-byte signature. */
    n = bs_sig_envelope_encode(BS_SIG_HMAC_SHA256, id, sig, BS_SIG_MAX, env, sizeof(env));
    assert_int_equal(n, 4 + BS_KEY_ID_MAX + BS_SIG_MAX);
    assert_int_equal(bs_sig_envelope_decode(env, (size_t)n, &e), 0);
    assert_int_equal(strlen(e.key_id), BS_KEY_ID_MAX);
    assert_int_equal(e.sig_len, BS_SIG_MAX);
    /* One more of either is refused. */
    assert_int_equal(
        bs_sig_envelope_encode(BS_SIG_HMAC_SHA256, id, sig, BS_SIG_MAX + 1, env, sizeof(env)),
        BS_EINVAL);
    id[BS_KEY_ID_MAX] = 'K';
    id[BS_KEY_ID_MAX + 1] = '\0';
    assert_int_equal(bs_sig_envelope_encode(BS_SIG_HMAC_SHA256, id, sig, 8, env, sizeof(env)),
                     BS_EINVAL);
    /* Shape rules. */
    assert_int_equal(bs_sig_envelope_encode(BS_SIG_ED25519, "K#1", sig, 0, env, sizeof(env)),
                     BS_EINVAL);
    assert_int_equal(bs_sig_envelope_encode(BS_SIG_ED25519, "", sig, 64, env, sizeof(env)),
                     BS_EINVAL);
    assert_int_equal(bs_sig_envelope_encode(BS_SIG_ED25519, "K 1", sig, 64, env, sizeof(env)),
                     BS_EINVAL);
    assert_int_equal(bs_sig_envelope_encode(BS_SIG_NONE, "K#1", sig, 4, env, sizeof(env)),
                     BS_EINVAL);
    assert_int_equal(bs_sig_envelope_encode((enum bs_sig_alg)5, "K#1", sig, 4, env, sizeof(env)),
                     BS_EINVAL);
    /* "none" carries no signature and may carry no key id. */
    n = bs_sig_envelope_encode(BS_SIG_NONE, "", NULL, 0, env, sizeof(env));
    assert_int_equal(n, 4);
    assert_int_equal(bs_sig_envelope_decode(env, 4, &e), 0);
    assert_int_equal(e.alg, BS_SIG_NONE);
    assert_string_equal(e.key_id, "");
    assert_int_equal(e.sig_len, 0);
    assert_null(e.sig);
}

static void test_envelope_rejects(void **state)
{
    uint8_t sig[64], env[200], bad[201];
    struct bs_sig_envelope e;
    int n;

    (void)state;
    memset(sig, 0xa5, sizeof(sig));
    n = bs_sig_envelope_encode(BS_SIG_ED25519, "MIRSW#1", sig, sizeof(sig), env, sizeof(env));
    assert_int_equal(n, 4 + 7 + 64);

    /* Every truncation. */
    for (size_t len = 0; len < (size_t)n; len++)
        assert_int_equal(bs_sig_envelope_decode(env, len, &e), BS_EFORMAT);
    /* Extended by a byte, whatever its value. */
    memcpy(bad, env, (size_t)n);
    bad[n] = 0x00;
    assert_int_equal(bs_sig_envelope_decode(bad, (size_t)n + 1, &e), BS_EFORMAT);
    /* Versions other than 1. */
    for (int v = 0; v < 256; v++) {
        if (v == 1)
            continue;
        memcpy(bad, env, (size_t)n);
        bad[0] = (uint8_t)v;
        assert_int_equal(bs_sig_envelope_decode(bad, (size_t)n, &e), BS_EFORMAT);
    }
    /* Unknown algorithms, and "none" with a signature. */
    memcpy(bad, env, (size_t)n);
    for (int a = 5; a < 256; a++) {
        bad[1] = (uint8_t)a;
        assert_int_equal(bs_sig_envelope_decode(bad, (size_t)n, &e), BS_EFORMAT);
    }
    bad[1] = BS_SIG_NONE;
    assert_int_equal(bs_sig_envelope_decode(bad, (size_t)n, &e), BS_EFORMAT);
    /* Key-id bytes outside 0x21-0x7e, including NUL, space and DEL. */
    static const uint8_t bad_chars[] = { 0x00, 0x20, 0x7f, 0x80, 0xff, '\n' };
    for (size_t i = 0; i < sizeof(bad_chars); i++) {
        memcpy(bad, env, (size_t)n);
        bad[5] = bad_chars[i];
        assert_int_equal(bs_sig_envelope_decode(bad, (size_t)n, &e), BS_EFORMAT);
    }
    /* Lengths that disagree with the data. */
    memcpy(bad, env, (size_t)n);
    bad[2] = 8; /* key id claims one byte more */
    assert_int_equal(bs_sig_envelope_decode(bad, (size_t)n, &e), BS_EFORMAT);
    bad[2] = 0xff;
    assert_int_equal(bs_sig_envelope_decode(bad, (size_t)n, &e), BS_EFORMAT);
    memcpy(bad, env, (size_t)n);
    bad[3 + 7] = 63;
    assert_int_equal(bs_sig_envelope_decode(bad, (size_t)n, &e), BS_EFORMAT);
    bad[3 + 7] = 65;
    assert_int_equal(bs_sig_envelope_decode(bad, (size_t)n, &e), BS_EFORMAT);
    /* A real algorithm with an empty signature or key id. */
    static const uint8_t empty_sig[] = { 1, 1, 1, 'K', 0 };
    static const uint8_t empty_id[] = { 1, 1, 0, 1, 0xaa };
    assert_int_equal(bs_sig_envelope_decode(empty_sig, sizeof(empty_sig), &e), BS_EFORMAT);
    assert_int_equal(bs_sig_envelope_decode(empty_id, sizeof(empty_id), &e), BS_EFORMAT);
    /* A signature longer than BS_SIG_MAX. */
    static uint8_t long_sig[4 + 1 + 81] = { 1, 1, 1, 'K', 81 };
    assert_int_equal(bs_sig_envelope_decode(long_sig, sizeof(long_sig), &e), BS_EFORMAT);
    assert_int_equal(bs_sig_envelope_decode(NULL, 0, &e), BS_EFORMAT);
    assert_int_equal(bs_sig_envelope_decode(env, (size_t)n, NULL), BS_EINVAL);
}

/* ---- tamper detection ------------------------------------------------------------------ */

/*
 * Every single-bit change of the signed bytes and of the signature, and any change of the
 * signature length, must fail verification with BS_ESIG, for every algorithm.
 */
static void run_tamper(enum bs_sig_alg alg, size_t trunc)
{
    uint8_t msg[300], sig[BS_SIG_MAX + 1], other_sig[BS_SIG_MAX];
    struct bs_key *k = NULL, *other = NULL;
    size_t len = 0, other_len = 0;

    fill_message(msg, sizeof(msg));
    assert_int_equal(bs_key_derive(alg, seed42, 8, "BRIDGE", 1, trunc, &k), 0);
    assert_int_equal(bs_sign(k, msg, sizeof(msg), sig, BS_SIG_MAX, &len), 0);
    assert_int_equal(bs_verify(k, msg, sizeof(msg), sig, len), 0);

    for (size_t i = 0; i < sizeof(msg); i++) {
        for (int bit = 0; bit < 8; bit += 7) { /* the lowest and the highest bit */
            msg[i] ^= (uint8_t)(1u << bit);
            assert_int_equal(bs_verify(k, msg, sizeof(msg), sig, len), BS_ESIG);
            msg[i] ^= (uint8_t)(1u << bit);
        }
    }
    for (size_t i = 0; i < len; i++) {
        sig[i] ^= 0x01;
        assert_int_equal(bs_verify(k, msg, sizeof(msg), sig, len), BS_ESIG);
        sig[i] ^= 0x81;
        assert_int_equal(bs_verify(k, msg, sizeof(msg), sig, len), BS_ESIG);
        sig[i] ^= 0x80;
    }
    /* Shorter, longer, empty; a shorter message; the key's sibling. */
    assert_int_equal(bs_verify(k, msg, sizeof(msg), sig, len - 1), BS_ESIG);
    sig[len] = 0;
    assert_int_equal(bs_verify(k, msg, sizeof(msg), sig, len + 1), BS_ESIG);
    assert_int_equal(bs_verify(k, msg, sizeof(msg), NULL, 0), BS_ESIG);
    assert_int_equal(bs_verify(k, msg, sizeof(msg) - 1, sig, len), BS_ESIG);
    assert_int_equal(bs_verify(k, msg, sizeof(msg), sig, len), 0);

    assert_int_equal(bs_key_derive(alg, seed42, 8, "BRIDGE", 2, trunc, &other), 0);
    assert_int_equal(bs_verify(other, msg, sizeof(msg), sig, len), BS_ESIG);
    assert_int_equal(bs_sign(other, msg, sizeof(msg), other_sig, sizeof(other_sig), &other_len), 0);
    assert_int_equal(bs_verify(k, msg, sizeof(msg), other_sig, other_len), BS_ESIG);

    /* Output buffer too short: one byte short, or for ECDSA (whose length varies) shorter
     * than any DER signature can be. */
    assert_int_equal(
        bs_sign(k, msg, sizeof(msg), sig, alg == BS_SIG_ECDSA_P256 ? 7 : len - 1, &len), BS_ENOSPC);
    bs_key_free(other);
    bs_key_free(k);
}

static void test_tamper_ed25519(void **state)
{
    (void)state;
    run_tamper(BS_SIG_ED25519, 0);
}

static void test_tamper_ecdsa_p256(void **state)
{
    (void)state;
    run_tamper(BS_SIG_ECDSA_P256, 0);
}

static void test_tamper_hmac_sha256(void **state)
{
    (void)state;
    run_tamper(BS_SIG_HMAC_SHA256, 0);
    run_tamper(BS_SIG_HMAC_SHA256, 16);
}

static void test_tamper_aes_cmac(void **state)
{
    (void)state;
    run_tamper(BS_SIG_AES_CMAC, 0);
    run_tamper(BS_SIG_AES_CMAC, 8);
}

static void test_sign_empty_and_null(void **state)
{
    uint8_t sig[BS_SIG_MAX];
    size_t len = 0;

    (void)state;
    for (size_t i = 0; i < N_ALGS; i++) {
        struct bs_key *k = NULL;

        assert_int_equal(bs_key_derive(all_algs[i], seed42, 8, "E", 1, 0, &k), 0);
        assert_int_equal(bs_sign(k, NULL, 0, sig, sizeof(sig), &len), 0);
        assert_int_equal(bs_verify(k, NULL, 0, sig, len), 0);
        assert_int_equal(bs_verify(k, (const uint8_t *)"", 0, sig, len), 0);
        assert_int_equal(bs_sign(k, NULL, 1, sig, sizeof(sig), &len), BS_EINVAL);
        assert_int_equal(bs_sign(k, NULL, 0, sig, sizeof(sig), NULL), BS_EINVAL);
        assert_int_equal(bs_verify(k, NULL, 1, sig, len), BS_EINVAL);
        assert_int_equal(bs_verify(k, NULL, 0, NULL, 3), BS_EINVAL);
        bs_key_free(k);
    }
    assert_int_equal(bs_sign(NULL, NULL, 0, sig, sizeof(sig), &len), BS_EINVAL);
    assert_int_equal(bs_verify(NULL, NULL, 0, sig, 1), BS_EINVAL);
    bs_key_free(NULL);
}

/* ---- key store ------------------------------------------------------------------------- */

static void test_keystore(void **state)
{
    struct bs_keystore *ks = NULL;
    struct bs_key *k = NULL, *found[100];
    char owner[16], id[24];

    (void)state;
    assert_int_equal(bs_keystore_new(&ks), 0);
    assert_null(bs_keystore_get(ks, "A#1"));
    /* 100 keys in an order that is neither sorted nor reversed (37 is coprime with 100). */
    for (int i = 0; i < 100; i++) {
        snprintf(owner, sizeof(owner), "INST%02d", (i * 37) % 100);
        assert_int_equal(bs_key_derive(BS_SIG_HMAC_SHA256, seed42, 8, owner, 1, 16, &k), 0);
        found[(i * 37) % 100] = k;
        assert_int_equal(bs_keystore_add(ks, k), 0);
    }
    for (int i = 0; i < 100; i++) {
        snprintf(id, sizeof(id), "INST%02d#1", i);
        assert_ptr_equal(bs_keystore_get(ks, id), found[i]);
        assert_string_equal(bs_key_id(bs_keystore_get(ks, id)), id);
    }
    assert_null(bs_keystore_get(ks, "INST00#2"));
    assert_null(bs_keystore_get(ks, "INST0"));
    assert_null(bs_keystore_get(ks, ""));
    assert_null(bs_keystore_get(ks, NULL));
    assert_null(bs_keystore_get(NULL, "INST00#1"));

    /* A duplicate id is refused and the key freed (the leak check proves it). */
    assert_int_equal(bs_key_derive(BS_SIG_ED25519, seed42, 8, "INST42", 1, 0, &k), 0);
    assert_int_equal(bs_keystore_add(ks, k), BS_EEXIST);
    assert_ptr_equal(bs_keystore_get(ks, "INST42#1"), found[42]);
    assert_int_equal(bs_keystore_add(ks, NULL), BS_EINVAL);
    bs_keystore_free(ks);
    bs_keystore_free(NULL);
}

/* ---- PEM ------------------------------------------------------------------------------- */

static const char rfc8032_test1_pem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n"
    "-----END PRIVATE KEY-----\n";

/* Fixtures made with `openssl genpkey` / `openssl pkcs8`; throwaway keys. */
static const char x25519_pem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VuBCIEINDJo/NhEkaMu+PD3R2zqlBkeJilDWeKYEe3H88uP7N6\n"
    "-----END PRIVATE KEY-----\n";

static const char p384_pem[] = "-----BEGIN PRIVATE KEY-----\n"
                               "MIG2AgEAMBAGByqGSM49AgEGBSuBBAAiBIGeMIGbAgEBBDAorxdg6OoyVShIiDKu\n"
                               "wQ1wzRDjecf0mk0dm5akxP5XLLaqrzNz1x+IqC5KWfl35XGhZANiAASgpY4/1xr7\n"
                               "1lXueD/40MkNvrnvRnAXOIRkNNA0H4ZWpwysn2y6rXNdRBZQeT6Qk2TayzxcNhGq\n"
                               "pmn7ohwhCHnJoDhUqGHkngV1YUq5DjvoVe1EBXTolycFPetGzFwhLOI=\n"
                               "-----END PRIVATE KEY-----\n";

static const char sec1_pem[] = "-----BEGIN EC PRIVATE KEY-----\n"
                               "MHcCAQEEIOoPYHliN/L0frIjdBX62VYv2J5hUly0Jqt9GQ7A/TxMoAoGCCqGSM49\n"
                               "AwEHoUQDQgAE5uv45CXaBgXdbIPPhAVFIVXL7i5w0VowEzHKzLB07EMPbVRmKHxz\n"
                               "sNylMlSaXGNTxndUxWpKoZl7REJzWqTtEQ==\n"
                               "-----END EC PRIVATE KEY-----\n";

static const char encrypted_pem[] =
    "-----BEGIN ENCRYPTED PRIVATE KEY-----\n"
    "MIHsMFcGCSqGSIb3DQEFDTBKMCkGCSqGSIb3DQEFDDAcBAiUWV9dZR2zBgICCAAw\n"
    "DAYIKoZIhvcNAgkFADAdBglghkgBZQMEAQIEEHtN+WZX0WI1iOLmn1vnsrAEgZCC\n"
    "YM+2e+7smbE6MXz8SPV6hs4fjv1kcK4xNxRpt5A1fPk6G4mUxlgzT+1ANIJBeE6B\n"
    "boY6uwTrqntTQoxNb56bRPC4+dj1KNm/PoAE7NayLktNBo+Wm1/vDbZ/c3FHvMUg\n"
    "rDIlb/36kHNUehP7roPeEzzKk6PZBY+zHmFDFINdbjXcms5Ze2xOZxMu5YA/IBA=\n"
    "-----END ENCRYPTED PRIVATE KEY-----\n";

/* A P-256 PKCS#8 key whose embedded public point (G) does not belong to its scalar. */
static const char inconsistent_pem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgAQIDBAUGBwgJCgsM\n"
    "DQ4PEBESExQVFhcYGRobHB0eHyChRANCAARrF9Hy4SxCR/i85uVjpEDydwN9gS3r\n"
    "M6D0oTlF2JjClk/jQuL+Gn+bjufrSnwPnhYrzjNXazFezsu2QGg3v1H1\n"
    "-----END PRIVATE KEY-----\n";

static void test_pem_rfc8032(void **state)
{
    uint8_t sk[32], pub[32], want[32];
    char pem[BS_KEY_PEM_MAX];
    struct bs_key *k = NULL, *k2 = NULL;

    (void)state;
    unhex(ed_vectors[0].secret, sk, sizeof(sk));
    unhex(ed_vectors[0].public, want, sizeof(want));
    assert_int_equal(bs_key_from_raw(BS_SIG_ED25519, sk, 32, "T1", 0, &k), 0);
    assert_int_equal(bs_key_pem_write_private(k, pem, sizeof(pem)), strlen(rfc8032_test1_pem));
    assert_string_equal(pem, rfc8032_test1_pem);
    assert_int_equal(
        bs_key_pem_write_private(k, pem, strlen(rfc8032_test1_pem)), /* no room for the NUL */
        BS_ENOSPC);
    /* Explanatory text around the block is allowed (RFC 7468 §2). */
    snprintf(pem, sizeof(pem), "key T1 of RFC 8032\n%sgenerated for tests\n", rfc8032_test1_pem);
    assert_int_equal(bs_key_pem_load(pem, strlen(pem), "T1b", &k2), 0);
    assert_int_equal(bs_key_alg(k2), BS_SIG_ED25519);
    assert_string_equal(bs_key_id(k2), "T1b");
    assert_int_equal(bs_key_public(k2, pub, sizeof(pub)), 32);
    assert_memory_equal(pub, want, 32);
    bs_key_free(k);
    bs_key_free(k2);
}

static void test_pem_round_trip(void **state)
{
    static const enum bs_sig_alg algs[] = { BS_SIG_ED25519, BS_SIG_ECDSA_P256 };
    uint8_t msg[300], sig[BS_SIG_MAX], p1[80], p2[80];
    char pem[BS_KEY_PEM_MAX];

    (void)state;
    fill_message(msg, sizeof(msg));
    for (size_t i = 0; i < 2; i++) {
        struct bs_key *k = NULL, *k2 = NULL;
        size_t len = 0;
        int n, n1, n2;

        assert_int_equal(bs_key_derive(algs[i], seed42, 8, "SHETABACQ1", 1, 0, &k), 0);
        n = bs_key_pem_write_private(k, pem, sizeof(pem));
        assert_true(n > 0 && (size_t)n < sizeof(pem));
        assert_int_equal(strlen(pem), n);
        assert_true(strncmp(pem, "-----BEGIN PRIVATE KEY-----\n", 28) == 0);
        assert_int_equal(bs_key_pem_load(pem, (size_t)n, "SHETABACQ1#1", &k2), 0);
        assert_int_equal(bs_key_alg(k2), algs[i]);
        n1 = bs_key_public(k, p1, sizeof(p1));
        n2 = bs_key_public(k2, p2, sizeof(p2));
        assert_int_equal(n1, n2);
        assert_memory_equal(p1, p2, (size_t)n1);
        /* Each verifies what the other signs. */
        assert_int_equal(bs_sign(k2, msg, sizeof(msg), sig, sizeof(sig), &len), 0);
        assert_int_equal(bs_verify(k, msg, sizeof(msg), sig, len), 0);
        assert_int_equal(bs_sign(k, msg, sizeof(msg), sig, sizeof(sig), &len), 0);
        assert_int_equal(bs_verify(k2, msg, sizeof(msg), sig, len), 0);
        bs_key_free(k);
        bs_key_free(k2);
    }
}

static void test_pem_rejects(void **state)
{
    static const char garbage[] = "-----BEGIN PRIVATE KEY-----\nnot base64 at all\n"
                                  "-----END PRIVATE KEY-----\n";
    char big[BS_KEY_PEM_IN_MAX + 1];
    char pem[BS_KEY_PEM_MAX];
    struct bs_key *k = NULL;

    (void)state;
    assert_int_equal(bs_key_pem_load(garbage, strlen(garbage), "K", &k), BS_EFORMAT);
    assert_int_equal(bs_key_pem_load("", 0, "K", &k), BS_EFORMAT);
    assert_int_equal(bs_key_pem_load(sec1_pem, strlen(sec1_pem), "K", &k), BS_EFORMAT);
    assert_int_equal(bs_key_pem_load(encrypted_pem, strlen(encrypted_pem), "K", &k), BS_EFORMAT);
    assert_int_equal(bs_key_pem_load(inconsistent_pem, strlen(inconsistent_pem), "K", &k),
                     BS_EFORMAT);
    assert_int_equal(bs_key_pem_load(x25519_pem, strlen(x25519_pem), "K", &k), BS_EINVAL);
    assert_int_equal(bs_key_pem_load(p384_pem, strlen(p384_pem), "K", &k), BS_EINVAL);
    /* Two keys in one text: which one was meant? */
    snprintf(pem, sizeof(pem), "%s%s", rfc8032_test1_pem, rfc8032_test1_pem);
    assert_int_equal(bs_key_pem_load(pem, strlen(pem), "K", &k), BS_EFORMAT);
    /* Cut short in the middle of the base64. */
    assert_int_equal(bs_key_pem_load(rfc8032_test1_pem, 40, "K", &k), BS_EFORMAT);
    memset(big, ' ', sizeof(big));
    assert_int_equal(bs_key_pem_load(big, sizeof(big), "K", &k), BS_ELIMIT);
    assert_int_equal(bs_key_pem_load(rfc8032_test1_pem, strlen(rfc8032_test1_pem), "bad id", &k),
                     BS_EINVAL);
    assert_null(k);

    /* Symmetric keys have no PKCS#8 form here. */
    assert_int_equal(bs_key_derive(BS_SIG_HMAC_SHA256, seed42, 8, "K", 1, 0, &k), 0);
    assert_int_equal(bs_key_pem_write_private(k, pem, sizeof(pem)), BS_EINVAL);
    bs_key_free(k);
}

/*
 * OpenSSL's per-thread error queue must be empty after every call, failed or not, or a long
 * run would grow it without bound (and stale entries would mislead later diagnostics).
 */
static void test_error_queue_stays_empty(void **state)
{
    static const uint8_t r_is_n[] = {
        0x30, 0x26, 0x02, 0x21, 0x00, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e,
        0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51, 0x02, 0x01, 0x01,
    };
    uint8_t msg[300], sig[BS_SIG_MAX], zero[32] = { 0 };
    char pem[BS_KEY_PEM_MAX];
    struct bs_key *k = NULL;
    size_t len = 0;

    (void)state;
    ERR_clear_error();
    fill_message(msg, sizeof(msg));
    for (size_t i = 0; i < N_ALGS; i++) {
        assert_int_equal(bs_key_derive(all_algs[i], seed42, 8, "Q", 1, 0, &k), 0);
        assert_int_equal(ERR_peek_error(), 0);
        assert_int_equal(bs_sign(k, msg, sizeof(msg), sig, sizeof(sig), &len), 0);
        assert_int_equal(bs_verify(k, msg, sizeof(msg), sig, len), 0);
        assert_int_equal(ERR_peek_error(), 0);
        sig[len / 2] ^= 0x10;
        assert_int_equal(bs_verify(k, msg, sizeof(msg), sig, len), BS_ESIG);
        assert_int_equal(ERR_peek_error(), 0);
        assert_int_equal(bs_verify(k, msg, sizeof(msg), r_is_n, sizeof(r_is_n)), BS_ESIG);
        assert_int_equal(ERR_peek_error(), 0);
        if (i < 2) {
            assert_true(bs_key_pem_write_private(k, pem, sizeof(pem)) > 0);
            assert_int_equal(ERR_peek_error(), 0);
        }
        bs_key_free(k);
    }
    assert_int_equal(bs_key_from_raw(BS_SIG_ECDSA_P256, zero, 32, "Z", 0, &k), BS_EINVAL);
    assert_int_equal(bs_key_pem_load(sec1_pem, strlen(sec1_pem), "K", &k), BS_EFORMAT);
    assert_int_equal(ERR_peek_error(), 0);
    assert_int_equal(bs_key_pem_load(inconsistent_pem, strlen(inconsistent_pem), "K", &k),
                     BS_EFORMAT);
    assert_int_equal(ERR_peek_error(), 0);
    assert_int_equal(bs_key_pem_load("junk", 4, "K", &k), BS_EFORMAT);
    assert_int_equal(ERR_peek_error(), 0);
    assert_int_equal(bs_key_pem_load(rfc8032_test1_pem, strlen(rfc8032_test1_pem), "K", &k), 0);
    assert_int_equal(ERR_peek_error(), 0);
    bs_key_free(k);
}

/* ---- PAN, Luhn, SHA-256 ---------------------------------------------------------------- */

static void test_pan_mask(void **state)
{
    char out[32];

    (void)state;
    assert_int_equal(bs_pan_mask("2200701234566781", 16, out, sizeof(out)), 16);
    assert_string_equal(out, "220070******6781");
    assert_int_equal(bs_pan_mask("6037991234567890126", 19, out, sizeof(out)), 19);
    assert_string_equal(out, "603799*********0126");
    /* 11 digits: 6 + 4 shown, 1 masked. 10 and fewer: nothing shown. */
    assert_int_equal(bs_pan_mask("12345678901", 11, out, sizeof(out)), 11);
    assert_string_equal(out, "123456*8901");
    assert_int_equal(bs_pan_mask("1234567890", 10, out, sizeof(out)), 10);
    assert_string_equal(out, "**********");
    assert_int_equal(bs_pan_mask("12345", 5, out, sizeof(out)), 5);
    assert_string_equal(out, "*****");
    assert_int_equal(bs_pan_mask("", 0, out, sizeof(out)), 0);
    assert_string_equal(out, "");
    /* Only @n characters are read: the PAN need not be NUL-terminated. */
    assert_int_equal(bs_pan_mask("2200701234566781XYZ", 16, out, sizeof(out)), 16);
    assert_string_equal(out, "220070******6781");
    /* Room for @n characters and the NUL, no less. */
    assert_int_equal(bs_pan_mask("2200701234566781", 16, out, 16), BS_ENOSPC);
    assert_int_equal(bs_pan_mask("2200701234566781", 16, out, 17), 16);
    assert_int_equal(bs_pan_mask(NULL, 16, out, sizeof(out)), BS_EINVAL);
    assert_int_equal(bs_pan_mask("22", 2, NULL, 0), BS_EINVAL);
}

static void test_luhn(void **state)
{
    (void)state;
    /* The classic example of ISO/IEC 7812-1 Annex B and of most textbooks. */
    assert_int_equal(bs_luhn_check_digit("7992739871", 10), '3');
    assert_true(bs_luhn_valid("79927398713", 11));
    assert_false(bs_luhn_valid("79927398710", 11));
    assert_int_equal(bs_luhn_check_digit("220070123456678", 15), '1');
    assert_true(bs_luhn_valid("2200701234566781", 16));
    assert_int_equal(bs_luhn_check_digit("603799123456789012", 18), '6');
    assert_true(bs_luhn_valid("6037991234567890126", 19));
    assert_true(bs_luhn_valid("4111111111111111", 16));
    assert_false(bs_luhn_valid("4111111111111112", 16));
    /* Every wrong check digit is caught, and so is every single-digit change. */
    for (char c = '0'; c <= '9'; c++) {
        char pan[] = "2200701234566781";

        pan[15] = c;
        assert_true(bs_luhn_valid(pan, 16) == (c == '1'));
        pan[15] = '1';
        pan[7] = c; /* originally '2' */
        assert_true(bs_luhn_valid(pan, 16) == (c == '2'));
    }
    assert_int_equal(bs_luhn_check_digit("22007012345667a", 15), BS_EFORMAT);
    assert_false(bs_luhn_valid("220070123456678a", 16));
    assert_false(bs_luhn_valid("0", 1));
    assert_false(bs_luhn_valid(NULL, 16));
    assert_int_equal(bs_luhn_check_digit("", 0), '0');
}

static void test_sha256(void **state)
{
    uint8_t got[32], want[32];

    (void)state;
    /* FIPS 180-4 examples (NIST CSRC "SHA256.pdf"): "abc" and the empty string. */
    unhex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", want, 32);
    assert_int_equal(bs_sha256("abc", 3, got), 0);
    assert_memory_equal(got, want, 32);
    unhex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", want, 32);
    assert_int_equal(bs_sha256(NULL, 0, got), 0);
    assert_memory_equal(got, want, 32);
    assert_int_equal(bs_sha256(NULL, 1, got), BS_EINVAL);
}

/* ---- main ------------------------------------------------------------------------------ */

int main(void)
{
    const struct CMUnitTest rfc8032[] = {
        cmocka_unit_test(test_ed25519_rfc8032_test1),
        cmocka_unit_test(test_ed25519_rfc8032_test2),
        cmocka_unit_test(test_ed25519_rfc8032_test3),
        cmocka_unit_test(test_ed25519_rfc8032_sha_abc),
    };
    const struct CMUnitTest macs[] = {
        cmocka_unit_test(test_hmac_rfc4231_case1),    cmocka_unit_test(test_hmac_rfc4231_case2),
        cmocka_unit_test(test_hmac_rfc4231_case3),    cmocka_unit_test(test_hmac_rfc4231_case4),
        cmocka_unit_test(test_hmac_rfc4231_case5),    cmocka_unit_test(test_hmac_rfc4231_case6),
        cmocka_unit_test(test_hmac_rfc4231_case7),    cmocka_unit_test(test_cmac_rfc4493_example1),
        cmocka_unit_test(test_cmac_rfc4493_example2), cmocka_unit_test(test_cmac_rfc4493_example3),
        cmocka_unit_test(test_cmac_rfc4493_example4), cmocka_unit_test(test_mac_truncation),
    };
    const struct CMUnitTest ecdsa[] = {
        cmocka_unit_test(test_p256_round_trip_der),
        cmocka_unit_test(test_p256_rfc6979_known_answers),
        cmocka_unit_test(test_p256_scalar_range),
        cmocka_unit_test(test_p256_malformed_der),
    };
    const struct CMUnitTest keys[] = {
        cmocka_unit_test(test_derive_deterministic),
        cmocka_unit_test(test_derive_golden),
        cmocka_unit_test(test_derive_invalid),
        cmocka_unit_test(test_alg_names),
        cmocka_unit_test(test_keystore),
        cmocka_unit_test(test_pem_rfc8032),
        cmocka_unit_test(test_pem_round_trip),
        cmocka_unit_test(test_pem_rejects),
        cmocka_unit_test(test_error_queue_stays_empty),
    };
    const struct CMUnitTest envelope[] = {
        cmocka_unit_test(test_envelope_round_trip),
        cmocka_unit_test(test_envelope_limits),
        cmocka_unit_test(test_envelope_rejects),
    };
    const struct CMUnitTest tamper[] = {
        cmocka_unit_test(test_tamper_ed25519),      cmocka_unit_test(test_tamper_ecdsa_p256),
        cmocka_unit_test(test_tamper_hmac_sha256),  cmocka_unit_test(test_tamper_aes_cmac),
        cmocka_unit_test(test_sign_empty_and_null),
    };
    const struct CMUnitTest cardholder[] = {
        cmocka_unit_test(test_pan_mask),
        cmocka_unit_test(test_luhn),
        cmocka_unit_test(test_sha256),
    };
    int failed = 0;

    /* Before any object exists, as bs_set_allocator() requires. */
    bs_set_allocator(&test_allocator);
    failed += cmocka_run_group_tests_name("rfc8032", rfc8032, NULL, NULL);
    failed += cmocka_run_group_tests_name("macs", macs, NULL, NULL);
    failed += cmocka_run_group_tests_name("ecdsa", ecdsa, NULL, NULL);
    failed += cmocka_run_group_tests_name("keys", keys, NULL, NULL);
    failed += cmocka_run_group_tests_name("envelope", envelope, NULL, NULL);
    failed += cmocka_run_group_tests_name("tamper", tamper, NULL, NULL);
    failed += cmocka_run_group_tests_name("cardholder", cardholder, NULL, NULL);
    bs_set_allocator(NULL);
    return failed == 0 ? 0 : 1;
}
