/*
 * bench: the crypto-bound ceiling (issue #8 performance targets). The same bs_sign() and
 * bs_verify() calls the nodes make (OpenSSL EVP behind them), timed on a message of about
 * one packed request, in the same process and run as the steps; medians of batches, like
 * tests/bench/bench_crypto.c. Timed in CPU time of this thread, so that other load on the
 * machine does not inflate the ceiling's inputs; the steps report CPU time too.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bridgesim/crypto.h>

#include "bench/bench.h"

#define MSG_LEN     300
#define MAX_SAMPLES 101
#define MIN_SAMPLES 11
#define BATCH_NS    20000LL     /* batches of at least 20 µs */
#define BUDGET_NS   200000000LL /* about 0.2 s per operation */

static int64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return (x > y) - (x < y);
}

static int batch(bool sign, struct bs_key *k, const uint8_t *msg, const uint8_t *sig,
                 size_t sig_len, long n)
{
    uint8_t out[BS_SIG_MAX];
    size_t len;

    for (long i = 0; i < n; i++) {
        int rc = sign ? bs_sign(k, msg, MSG_LEN, out, sizeof(out), &len)
                      : bs_verify(k, msg, MSG_LEN, sig, sig_len);
        if (rc)
            return rc;
    }
    return 0;
}

/* The median ns of one operation into *@ret. Return: 0; an error of bs_sign/bs_verify. */
static int median_ns(bool sign, struct bs_key *k, const uint8_t *msg, const uint8_t *sig,
                     size_t sig_len, double *ret)
{
    int64_t samples[MAX_SAMPLES], t0, one, spent = 0;
    long n;
    int count = 0, rc;

    if ((rc = batch(sign, k, msg, sig, sig_len, 3)) != 0)
        return rc;
    t0 = now_ns();
    if ((rc = batch(sign, k, msg, sig, sig_len, 1)) != 0)
        return rc;
    one = now_ns() - t0;
    n = one >= BATCH_NS ? 1 : (long)(BATCH_NS / (one > 0 ? one : 1)) + 1;
    while (count < MAX_SAMPLES && (count < MIN_SAMPLES || spent < BUDGET_NS)) {
        int64_t t;
        t0 = now_ns();
        if ((rc = batch(sign, k, msg, sig, sig_len, n)) != 0)
            return rc;
        t = now_ns() - t0;
        spent += t;
        samples[count++] = t / n;
    }
    qsort(samples, (size_t)count, sizeof(samples[0]), cmp_i64);
    *ret = (double)(count % 2 ? samples[count / 2]
                              : (samples[count / 2 - 1] + samples[count / 2]) / 2);
    return 0;
}

int bs_bench_crypto(enum bs_sig_alg alg, struct bs_bench_crypto *ret)
{
    static const uint8_t seed[8] = { 0, 0, 0, 0, 0, 0, 0, 42 };
    uint8_t msg[MSG_LEN], sig[BS_SIG_MAX];
    struct bs_bench_crypto c;
    struct bs_key *k = NULL;
    size_t sig_len = 0;
    int rc;

    memset(&c, 0, sizeof(c));
    snprintf(c.algorithm, sizeof(c.algorithm), "%s", bs_sig_alg_name(alg));
    if (alg == BS_SIG_NONE) {
        *ret = c;
        return 0;
    }
    for (size_t i = 0; i < sizeof(msg); i++)
        msg[i] = (uint8_t)(i * 31 + 7);
    rc = bs_key_derive(alg, seed, sizeof(seed), "BENCH", 0, 0, &k);
    if (rc)
        return rc;
    rc = bs_sign(k, msg, sizeof(msg), sig, sizeof(sig), &sig_len);
    if (rc == 0)
        rc = median_ns(true, k, msg, sig, sig_len, &c.sign_ns);
    if (rc == 0)
        rc = median_ns(false, k, msg, sig, sig_len, &c.verify_ns);
    bs_key_free(k);
    if (rc)
        return rc;
    c.measured = true;
    *ret = c;
    return 0;
}

double bs_bench_crypto_ceiling(const struct bs_bench_crypto *c, const struct bs_bench_step *st)
{
    double per_txn;

    if (st->crypto.measured)
        c = &st->crypto;
    if (!c->measured || st->run_started == 0 || st->run_messages == 0)
        return 0;
    /* Every delivered message was signed once by its sender and verified once by its
     * receiver: that many of each per transaction started. */
    per_txn = (double)st->run_messages / (double)st->run_started;
    return 1e9 / (per_txn * (c->sign_ns + c->verify_ns));
}

double bs_bench_crypto_ceiling_cores(const struct bs_bench_crypto *c,
                                     const struct bs_bench_step *st)
{
    return bs_bench_crypto_ceiling(c, st) * (st->crypto_cores ? st->crypto_cores : 1);
}
