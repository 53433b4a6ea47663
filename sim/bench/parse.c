/* bench: argument values (ranges, durations, SLOs), the SLO check and the knee; see bench.h. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench.h"

static void errf(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void errf(char *buf, size_t len, const char *fmt, ...)
{
    va_list ap;

    if (!buf || !len)
        return;
    va_start(ap, fmt);
    vsnprintf(buf, len, fmt, ap);
    va_end(ap);
}

/* A finite number > 0 spanning [s, end) exactly. */
static bool positive(const char *s, const char *end, double *ret)
{
    char tmp[64], *e;
    size_t n = (size_t)(end - s);
    double v;

    if (n == 0 || n >= sizeof(tmp))
        return false;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    errno = 0;
    v = strtod(tmp, &e);
    if (errno || *e || !isfinite(v) || v <= 0)
        return false;
    *ret = v;
    return true;
}

int bs_bench_parse_range(const char *s, double *out, size_t cap, size_t *ret_n, char *err,
                         size_t errlen)
{
    const char *c1 = strchr(s, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    double a, b, step;
    size_t n = 0;

    if (!c1) {
        if (!positive(s, s + strlen(s), &a)) {
            errf(err, errlen, "'%s': expected a number > 0 or START:END:STEP", s);
            return BS_EFORMAT;
        }
        if (cap < 1)
            return BS_ELIMIT;
        out[0] = a;
        *ret_n = 1;
        return 0;
    }
    if (!c2 || strchr(c2 + 1, ':') || !positive(s, c1, &a) || !positive(c1 + 1, c2, &b) ||
        !positive(c2 + 1, c2 + 1 + strlen(c2 + 1), &step)) {
        errf(err, errlen, "'%s': expected START:END:STEP, three numbers > 0 (500:20000:500)", s);
        return BS_EFORMAT;
    }
    if (b < a) {
        errf(err, errlen, "'%s': END is below START", s);
        return BS_EFORMAT;
    }
    /* Steps are START + k·STEP, computed from k (no accumulated rounding); END is included
     * when it lands on the grid within a part per million of STEP. */
    for (size_t k = 0;; k++) {
        double v = a + (double)k * step;
        if (v > b + step * 1e-6)
            break;
        if (n == cap) {
            errf(err, errlen, "'%s': more than %zu steps", s, cap);
            return BS_ELIMIT;
        }
        out[n++] = v;
    }
    *ret_n = n;
    return 0;
}

int bs_bench_parse_duration(const char *s, bs_time_us *ret)
{
    static const struct {
        const char *unit;
        double us;
    } units[] = { { "us", 1 }, { "ms", 1e3 }, { "s", 1e6 }, { "min", 60e6 }, { "h", 3600e6 } };
    char *end;
    double v;

    errno = 0;
    v = strtod(s, &end);
    if (errno || end == s || !isfinite(v) || v < 0)
        return BS_EFORMAT;
    if (*end == '\0') {
        *ret = (bs_time_us)llround(v * 1e6);
        return 0;
    }
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
        if (strcmp(end, units[i].unit) == 0) {
            if (v * units[i].us > 1e15)
                return BS_EFORMAT;
            *ret = (bs_time_us)llround(v * units[i].us);
            return 0;
        }
    return BS_EFORMAT;
}

/* A rate: "99.5%" or "0.995". */
static bool parse_rate(const char *s, double *ret)
{
    char *end;
    double v;

    errno = 0;
    v = strtod(s, &end);
    if (errno || end == s || !isfinite(v))
        return false;
    if (strcmp(end, "%") == 0)
        v /= 100;
    else if (*end)
        return false;
    if (v < 0 || v > 1)
        return false;
    *ret = v;
    return true;
}

/* A latency bound: a duration with a unit, or bare milliseconds. */
static bool parse_latency(const char *s, int64_t *ret)
{
    char *end;
    double v;

    errno = 0;
    v = strtod(s, &end);
    if (errno || end == s || !isfinite(v) || v < 0)
        return false;
    if (*end == '\0') {
        *ret = (int64_t)llround(v * 1e3);
        return true;
    }
    return bs_bench_parse_duration(s, ret) == 0;
}

int bs_bench_parse_slo(const char *s, struct bs_bench_slo *ret, char *err, size_t errlen)
{
    struct bs_bench_slo slo;
    char buf[256], *save = NULL, *item;

    memset(&slo, 0, sizeof(slo));
    if (strlen(s) >= sizeof(buf)) {
        errf(err, errlen, "--slo: longer than %zu characters", sizeof(buf) - 1);
        return BS_EFORMAT;
    }
    memcpy(buf, s, strlen(s) + 1);
    for (item = strtok_r(buf, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(item, '=');
        const char *k, *v;
        bool ok;

        if (!eq) {
            errf(err, errlen, "--slo: '%s' is not KEY=VALUE", item);
            return BS_EFORMAT;
        }
        *eq = '\0';
        k = item;
        v = eq + 1;
        if (strcmp(k, "p50") == 0)
            ok = slo.has_p50 = parse_latency(v, &slo.p50);
        else if (strcmp(k, "p90") == 0)
            ok = slo.has_p90 = parse_latency(v, &slo.p90);
        else if (strcmp(k, "p99") == 0)
            ok = slo.has_p99 = parse_latency(v, &slo.p99);
        else if (strcmp(k, "p99.9") == 0 || strcmp(k, "p999") == 0)
            ok = slo.has_p999 = parse_latency(v, &slo.p999);
        else if (strcmp(k, "max") == 0)
            ok = slo.has_max = parse_latency(v, &slo.max);
        else if (strcmp(k, "success") == 0)
            ok = slo.has_success = parse_rate(v, &slo.success);
        else if (strcmp(k, "approval") == 0)
            ok = slo.has_approval = parse_rate(v, &slo.approval);
        else {
            errf(err, errlen,
                 "--slo: unknown key '%s' (p50, p90, p99, p99.9, max, success, approval)", k);
            return BS_EFORMAT;
        }
        if (!ok) {
            errf(err, errlen,
                 "--slo: bad value '%s' for %s (latencies like 2000ms or 2s, "
                 "rates like 99.5%% or 0.995)",
                 v, k);
            return BS_EFORMAT;
        }
    }
    *ret = slo;
    return 0;
}

bool bs_bench_slo_met(const struct bs_bench_slo *slo, const struct bs_bench_step *st)
{
    if (st->transactions == 0 || st->interrupted)
        return false;
    return (!slo->has_p50 || st->p50 <= slo->p50) && (!slo->has_p90 || st->p90 <= slo->p90) &&
           (!slo->has_p99 || st->p99 <= slo->p99) && (!slo->has_p999 || st->p999 <= slo->p999) &&
           (!slo->has_max || st->max <= slo->max) &&
           (!slo->has_success || st->success_rate >= slo->success) &&
           (!slo->has_approval || st->approval_rate >= slo->approval);
}

int bs_bench_knee(const struct bs_bench_slo *slo, struct bs_bench_step *steps, size_t n)
{
    int knee = -1;

    for (size_t i = 0; i < n; i++) {
        double load = steps[i].concurrency ? steps[i].concurrency : steps[i].offered_tps;
        steps[i].meets_slo = bs_bench_slo_met(slo, &steps[i]);
        if (!steps[i].meets_slo)
            continue;
        if (knee < 0) {
            knee = (int)i;
            continue;
        }
        double best = steps[knee].concurrency ? steps[knee].concurrency : steps[knee].offered_tps;
        if (load >= best)
            knee = (int)i;
    }
    return knee;
}

bool bs_bench_is_error(const char *rc)
{
    static const char *const system[] = { "06", "30", "63", "68", "91", "92", "96" };

    if (!rc)
        return true;
    for (size_t i = 0; i < sizeof(system) / sizeof(system[0]); i++)
        if (strcmp(rc, system[i]) == 0)
            return true;
    return false;
}
