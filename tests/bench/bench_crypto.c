/*
 * bench_crypto — median nanoseconds per bs_sign() and per bs_verify() for each algorithm,
 * over a 300-byte message (about one packed authorization request).
 *
 * Output: one line per algorithm, "alg sign_ns verify_ns"; with --json, one JSON object
 * instead. Timing: operations run in batches long enough (>= 20 µs) that clock overhead
 * stays negligible; the per-operation time of each batch is one sample, and the median of
 * the samples is reported (GUIDE §5: medians, never timed assertions).
 *
 * Exit status: 0; 1 when an operation fails (a bug, not a slow machine); 2 for bad usage.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bridgesim/crypto.h>

#define MSG_LEN     300
#define MAX_SAMPLES 201
#define MIN_SAMPLES 11
#define BATCH_NS    20000LL     /* aim for batches of at least 20 µs */
#define BUDGET_NS   300000000LL /* at most ~0.3 s per algorithm and operation */

enum op { OP_SIGN, OP_VERIFY };

struct result {
    enum bs_sig_alg alg;
    int64_t sign_ns;
    int64_t verify_ns;
    int samples;
};

static int64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return (x > y) - (x < y);
}

/* Run @n operations; false when one fails. */
static bool run(enum op op, struct bs_key *k, const uint8_t *msg, const uint8_t *sig,
                size_t sig_len, long n)
{
    uint8_t out[BS_SIG_MAX];
    size_t len;

    for (long i = 0; i < n; i++) {
        int rc = op == OP_SIGN ? bs_sign(k, msg, MSG_LEN, out, sizeof(out), &len)
                               : bs_verify(k, msg, MSG_LEN, sig, sig_len);

        if (rc != 0) {
            fprintf(stderr, "bench_crypto: %s %s: %s\n", bs_sig_alg_name(bs_key_alg(k)),
                    op == OP_SIGN ? "sign" : "verify", bs_strerror(rc));
            return false;
        }
    }
    return true;
}

/* The median time of one operation in ns, or -1 on failure; *@ret_samples gets the count. */
static int64_t measure(enum op op, struct bs_key *k, const uint8_t *msg, const uint8_t *sig,
                       size_t sig_len, int *ret_samples)
{
    int64_t samples[MAX_SAMPLES], start, one, spent = 0;
    long batch;
    int n = 0;

    /* Warm up (first-use fetches, caches) and calibrate the batch size. */
    if (!run(op, k, msg, sig, sig_len, 3))
        return -1;
    start = now_ns();
    if (!run(op, k, msg, sig, sig_len, 1))
        return -1;
    one = now_ns() - start;
    batch = one >= BATCH_NS ? 1 : (long)(BATCH_NS / (one > 0 ? one : 1)) + 1;

    while (n < MAX_SAMPLES && (n < MIN_SAMPLES || spent < BUDGET_NS)) {
        int64_t t;

        start = now_ns();
        if (!run(op, k, msg, sig, sig_len, batch))
            return -1;
        t = now_ns() - start;
        spent += t;
        samples[n++] = t / batch;
    }
    qsort(samples, (size_t)n, sizeof(samples[0]), cmp_i64);
    *ret_samples = n;
    return n % 2 ? samples[n / 2] : (samples[n / 2 - 1] + samples[n / 2]) / 2;
}

static int bench_alg(enum bs_sig_alg alg, struct result *r)
{
    static const uint8_t seed[8] = { 0, 0, 0, 0, 0, 0, 0, 42 };
    uint8_t msg[MSG_LEN], sig[BS_SIG_MAX];
    struct bs_key *k = NULL;
    size_t sig_len = 0;
    int rc, s1 = 0, s2 = 0;

    for (size_t i = 0; i < sizeof(msg); i++)
        msg[i] = (uint8_t)(i * 31 + 7);
    rc = bs_key_derive(alg, seed, sizeof(seed), "BENCH", 1, 0, &k);
    if (rc != 0) {
        fprintf(stderr, "bench_crypto: derive %s: %s\n", bs_sig_alg_name(alg), bs_strerror(rc));
        return -1;
    }
    rc = bs_sign(k, msg, sizeof(msg), sig, sizeof(sig), &sig_len);
    if (rc == 0) {
        r->alg = alg;
        r->sign_ns = measure(OP_SIGN, k, msg, sig, sig_len, &s1);
        r->verify_ns = measure(OP_VERIFY, k, msg, sig, sig_len, &s2);
        r->samples = s1 < s2 ? s1 : s2;
        if (r->sign_ns < 0 || r->verify_ns < 0)
            rc = -1;
    }
    bs_key_free(k);
    return rc;
}

int main(int argc, char **argv)
{
    static const enum bs_sig_alg algs[] = { BS_SIG_ED25519, BS_SIG_ECDSA_P256, BS_SIG_HMAC_SHA256,
                                            BS_SIG_AES_CMAC };
    struct result res[sizeof(algs) / sizeof(algs[0])];
    bool json = false;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) {
            json = true;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("usage: %s [--json]\n"
                   "Median ns per sign and per verify, %d-byte message, per algorithm.\n",
                   argv[0], MSG_LEN);
            return 0;
        } else {
            fprintf(stderr, "usage: %s [--json]\n", argv[0]);
            return 2;
        }
    }

    for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
        if (bench_alg(algs[i], &res[i]) != 0)
            return 1;
    }

    if (json) {
        printf("{\"benchmark\":\"crypto\",\"message_bytes\":%d,\"statistic\":\"median\","
               "\"unit\":\"ns\",\"results\":[",
               MSG_LEN);
        for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++)
            printf("%s{\"alg\":\"%s\",\"sign_ns\":%lld,\"verify_ns\":%lld,\"samples\":%d}",
                   i ? "," : "", bs_sig_alg_name(res[i].alg), (long long)res[i].sign_ns,
                   (long long)res[i].verify_ns, res[i].samples);
        printf("]}\n");
    } else {
        for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++)
            printf("%s %lld %lld\n", bs_sig_alg_name(res[i].alg), (long long)res[i].sign_ns,
                   (long long)res[i].verify_ns);
    }
    return 0;
}
