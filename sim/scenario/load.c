/*
 * bs_scenario_load(): read a scenario file (and the files it extends), apply --set
 * overrides, and convert the YAML tree into struct bs_scenario with strict validation.
 *
 * The schema lives in configs/README.md; this file is its executable form. Validation
 * reports every problem it finds (up to BS__SC_ERRORS_SHOWN lines) rather than the first,
 * each as "file:line:column: what is wrong; how to fix it".
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bridgesim/network.h>

#include "scenario/scenario.h"
#include "sc_internal.h"
#include "workload/arrivals.h"

/* Bounds on what a scenario may ask for (GUIDE §5: everything has a limit). */
#define MAX_CARDS     10000000u /* per issuer */
#define MAX_TERMINALS 1000000u  /* per acquirer */
#define MAX_TPS       1e6
#define MIN_TPS       0.001 /* one arrival per 1000 s: mean gaps stay far inside int64 µs */
#define MAX_MONEY     9007199254740992.0 /* 2^53: every integer below is exact in a double */
#define DE4_MAX       999999999999.0     /* DE 4 is n 12 */

/* Defaults for omitted optional keys; configs/README.md documents each. */
#define DEFAULT_SEED       UINT64_C(1)
#define DEFAULT_START      "2026-01-01T00:00:00Z"
#define DEFAULT_DRAIN      (5 * 60 * BS_US_PER_SEC)
#define DEFAULT_PROCESSING (1 * BS_US_PER_MS)
#define DEFAULT_LATENCY    (1 * BS_US_PER_MS)
#define DEFAULT_PAN_LENGTH 16
#define DEFAULT_MCC        5999
#define DEFAULT_CUTOVER    (21 * 3600 * BS_US_PER_SEC) /* 21:00Z = 00:00 Moscow */
#define START_MIN          INT64_C(946684800000000)    /* 2000-01-01T00:00:00Z */
#define START_MAX          INT64_C(3818591999000000)   /* 2090-12-31T23:59:59Z */
#define DEFAULT_LINK_QUEUE 1000 /* a backpressure queue's limit when none is given */

struct ld {
    struct sc_errs *e;
    struct bs_scenario *sc;
    char path[256]; /* dotted path of the node being converted, as --set spells it */
    size_t plen;
};

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- paths and messages ---------------------------------------------------------------- */

static size_t enter(struct ld *l, const char *seg)
{
    size_t old = l->plen;
    int n = snprintf(l->path + l->plen, sizeof(l->path) - l->plen, "%s%s", l->plen ? "." : "", seg);

    if (n > 0)
        l->plen += (size_t)n;
    if (l->plen >= sizeof(l->path))
        l->plen = sizeof(l->path) - 1;
    return old;
}

static size_t enter_idx(struct ld *l, size_t i)
{
    char buf[24];

    snprintf(buf, sizeof(buf), "%zu", i);
    return enter(l, buf);
}

static void leave(struct ld *l, size_t old)
{
    l->plen = old;
    l->path[old] = '\0';
}

/* A short description of what a node is, for "expected X, got Y". */
static const char *describe(const struct yn *n, char *buf, size_t cap)
{
    if (!n || (n->type == YN_SCALAR && n->null))
        return "nothing";
    if (n->type == YN_MAP)
        return "a mapping";
    if (n->type == YN_SEQ)
        return "a list";
    snprintf(buf, cap, "%s'%.40s%s'", n->plain ? "" : "the quoted string ", n->str,
             n->len > 40 ? "..." : "");
    return buf;
}

static void type_error(struct ld *l, const struct yn *n, const char *expected)
{
    char buf[96];

    bs__errf(l->e, &n->loc, "%s%sexpected %s, got %s", l->path, l->plen ? ": " : "", expected,
             describe(n, buf, sizeof(buf)));
}

static bool is_scalar(const struct yn *n)
{
    return n->type == YN_SCALAR && !n->null;
}

/*
 * Report keys of @map that are not in @allowed, each with the nearest valid key when one
 * is close, or the list of valid keys.
 */
static void check_keys(struct ld *l, const struct yn *map, const char *const *allowed, size_t n)
{
    for (size_t i = 0; i < map->n; i++) {
        const struct yn *k = map->keys[i];
        const char *near;
        bool ok = false;
        char list[256];
        size_t len = 0;

        for (size_t j = 0; j < n && !ok; j++)
            ok = strcmp(k->str, allowed[j]) == 0;
        if (ok)
            continue;
        near = bs__suggest(k->str, allowed, n);
        if (near) {
            bs__errf(l->e, &k->loc, "unknown key '%s' %s%s; did you mean '%s'?", k->str,
                     l->plen ? "in " : "at the top level", l->path, near);
            continue;
        }
        list[0] = '\0';
        for (size_t j = 0; j < n && len < sizeof(list); j++) {
            int w = snprintf(list + len, sizeof(list) - len, "%s%s", j ? ", " : "", allowed[j]);

            if (w > 0)
                len += (size_t)w;
        }
        bs__errf(l->e, &k->loc, "unknown key '%s' %s%s; valid keys: %s", k->str,
                 l->plen ? "in " : "at the top level", l->path, list);
    }
}

/* The value of @key in @map; reports a missing required key at the mapping. */
static const struct yn *field(struct ld *l, const struct yn *map, const char *key, bool required)
{
    const struct yn *v = bs__yn_get(map, key, NULL);

    if (!v && required)
        bs__errf(l->e, &map->loc, "%s%smissing required key '%s'", l->path, l->plen ? ": " : "",
                 key);
    return v;
}

static bool want_map(struct ld *l, const struct yn *n)
{
    if (n->type == YN_MAP)
        return true;
    type_error(l, n, "a mapping");
    return false;
}

static bool want_seq(struct ld *l, const struct yn *n, size_t min, size_t max)
{
    if (n->type != YN_SEQ) {
        type_error(l, n, "a list");
        return false;
    }
    if (n->n < min) {
        bs__errf(l->e, &n->loc, "%s: needs at least %zu item%s", l->path, min, min == 1 ? "" : "s");
        return false;
    }
    if (n->n > max) {
        bs__errf(l->e, &n->loc, "%s: at most %zu items are allowed, found %zu", l->path, max, n->n);
        return false;
    }
    return true;
}

/* ---- typed values: as_*() convert the node at l->path; opt_*() look a key up first ------ */

static bool as_uint(struct ld *l, const struct yn *n, uint64_t min, uint64_t max, uint64_t *out)
{
    uint64_t v;
    int rc;

    if (!is_scalar(n) || !n->plain) {
        type_error(l, n, "an integer");
        return false;
    }
    rc = bs__parse_uint(n->str, UINT64_MAX, &v);
    if (rc == BS_EFORMAT) {
        type_error(l, n, "an integer");
        return false;
    }
    if (rc || v < min || v > max) {
        bs__errf(l->e, &n->loc, "%s: %s is out of range [%llu, %llu]", l->path, n->str,
                 (unsigned long long)min, (unsigned long long)max);
        return false;
    }
    *out = v;
    return true;
}

static bool as_num(struct ld *l, const struct yn *n, double min, double max, bool min_open,
                   double *out)
{
    double v;
    int rc;

    if (!is_scalar(n) || !n->plain) {
        type_error(l, n, "a number");
        return false;
    }
    rc = bs__parse_number(n->str, &v);
    if (rc == BS_EFORMAT) {
        type_error(l, n, "a number");
        return false;
    }
    if (rc || v < min || v > max || (min_open && v <= min)) {
        bs__errf(l->e, &n->loc, "%s: %s is out of range %c%g, %g]", l->path, n->str,
                 min_open ? '(' : '[', min, max);
        return false;
    }
    *out = v;
    return true;
}

/* A duration as an exact rational q / 10^scale µs; @bare_ms lets a plain number mean ms. */
static bool as_dur_q(struct ld *l, const struct yn *n, bool bare_ms, int64_t *q, unsigned *scale)
{
    int rc;

    if (!is_scalar(n)) {
        type_error(l, n,
                   bare_ms ? "a duration like '35ms' or a number of ms"
                           : "a duration like '35ms', '1.5s' or '5min'");
        return false;
    }
    rc = bs__parse_duration(n->str, bare_ms, q, scale);
    switch (rc) {
    case 0:
        return true;
    case BS_EINVAL:
        bs__errf(l->e, &n->loc, "%s: '%s' needs a unit: us, ms, s, min or h (e.g. '%sms')", l->path,
                 n->str, n->str);
        return false;
    case BS_ERANGE:
        bs__errf(l->e, &n->loc, "%s: negative time '%s'", l->path, n->str);
        return false;
    case BS_EOVERFLOW:
        bs__errf(l->e, &n->loc, "%s: duration '%s' is too large", l->path, n->str);
        return false;
    default:
        type_error(l, n,
                   bare_ms ? "a duration like '35ms' or a number of ms"
                           : "a duration like '35ms', '1.5s' or '5min'");
        return false;
    }
}

static double pow10i(unsigned e)
{
    double p = 1;

    while (e--)
        p *= 10;
    return p;
}

/* A duration in whole microseconds. */
static bool as_dur(struct ld *l, const struct yn *n, bool positive, bs_time_us *out)
{
    int64_t q;
    unsigned scale;

    if (!as_dur_q(l, n, false, &q, &scale))
        return false;
    if (scale) {
        bs__errf(l->e, &n->loc, "%s: '%s' is not a whole number of microseconds", l->path, n->str);
        return false;
    }
    if (positive && q == 0) {
        bs__errf(l->e, &n->loc, "%s: must be longer than 0", l->path);
        return false;
    }
    *out = q;
    return true;
}

static bool as_str(struct ld *l, const struct yn *n, char *out, size_t cap)
{
    if (!is_scalar(n)) {
        type_error(l, n, "a string");
        return false;
    }
    if (n->len >= cap) {
        bs__errf(l->e, &n->loc, "%s: longer than %zu characters", l->path, cap - 1);
        return false;
    }
    memcpy(out, n->str, n->len + 1);
    return true;
}

/* One of @names; unknown values get a suggestion. */
static bool as_enum(struct ld *l, const struct yn *n, const char *const *names, size_t count,
                    int *out)
{
    const char *near;

    if (!is_scalar(n)) {
        type_error(l, n, "a name");
        return false;
    }
    for (size_t i = 0; i < count; i++) {
        if (strcmp(n->str, names[i]) == 0) {
            *out = (int)i;
            return true;
        }
    }
    near = bs__suggest(n->str, names, count);
    if (near) {
        bs__errf(l->e, &n->loc, "%s: unknown value '%s'; did you mean '%s'?", l->path, n->str,
                 near);
    } else {
        char list[256];
        size_t len = 0;

        list[0] = '\0';
        for (size_t i = 0; i < count && len < sizeof(list); i++) {
            int w = snprintf(list + len, sizeof(list) - len, "%s%s", i ? ", " : "", names[i]);

            if (w > 0)
                len += (size_t)w;
        }
        bs__errf(l->e, &n->loc, "%s: unknown value '%s'; one of: %s", l->path, n->str, list);
    }
    return false;
}

/* Institution ids (DE 32/33/100, n..11): 1 to 11 digits. */
static bool as_inst_id(struct ld *l, const struct yn *n, char out[12])
{
    size_t i;

    if (!is_scalar(n)) {
        type_error(l, n, "an institution id of 1 to 11 digits");
        return false;
    }
    for (i = 0; n->str[i]; i++)
        if (n->str[i] < '0' || n->str[i] > '9')
            break;
    if (n->str[i] || n->len < 1 || n->len > 11) {
        bs__errf(l->e, &n->loc, "%s: institution id '%s' must be 1 to 11 digits", l->path, n->str);
        return false;
    }
    memcpy(out, n->str, n->len + 1);
    return true;
}

/* Node ids and network names: a letter, then letters, digits, '_' or '-'. */
static bool as_ident(struct ld *l, const struct yn *n, char *out, size_t cap, const char *what)
{
    bool ok;

    if (!is_scalar(n)) {
        type_error(l, n, what);
        return false;
    }
    ok = n->len > 0 && n->len < cap &&
         ((n->str[0] >= 'A' && n->str[0] <= 'Z') || (n->str[0] >= 'a' && n->str[0] <= 'z'));
    for (size_t i = 0; ok && i < n->len; i++) {
        char c = n->str[i];

        ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
             c == '_' || c == '-';
    }
    if (!ok) {
        bs__errf(l->e, &n->loc,
                 "%s: '%s' is not a valid %s: a letter, then letters, digits, '_' or '-', at "
                 "most %zu characters",
                 l->path, n->str, what, cap - 1);
        return false;
    }
    memcpy(out, n->str, n->len + 1);
    return true;
}

static int opt_uint(struct ld *l, const struct yn *map, const char *key, bool required,
                    uint64_t min, uint64_t max, uint64_t *out)
{
    const struct yn *n = field(l, map, key, required);
    size_t old;
    bool ok;

    if (!n)
        return 0;
    old = enter(l, key);
    ok = as_uint(l, n, min, max, out);
    leave(l, old);
    return ok ? 1 : -1;
}

static int opt_num(struct ld *l, const struct yn *map, const char *key, bool required, double min,
                   double max, bool min_open, double *out)
{
    const struct yn *n = field(l, map, key, required);
    size_t old;
    bool ok;

    if (!n)
        return 0;
    old = enter(l, key);
    ok = as_num(l, n, min, max, min_open, out);
    leave(l, old);
    return ok ? 1 : -1;
}

static int opt_dur(struct ld *l, const struct yn *map, const char *key, bool required,
                   bool positive, bs_time_us *out)
{
    const struct yn *n = field(l, map, key, required);
    size_t old;
    bool ok;

    if (!n)
        return 0;
    old = enter(l, key);
    ok = as_dur(l, n, positive, out);
    leave(l, old);
    return ok ? 1 : -1;
}

static int opt_str(struct ld *l, const struct yn *map, const char *key, bool required, char *out,
                   size_t cap)
{
    const struct yn *n = field(l, map, key, required);
    size_t old;
    bool ok;

    if (!n)
        return 0;
    old = enter(l, key);
    ok = as_str(l, n, out, cap);
    leave(l, old);
    return ok ? 1 : -1;
}

static int opt_enum(struct ld *l, const struct yn *map, const char *key, bool required,
                    const char *const *names, size_t count, int *out)
{
    const struct yn *n = field(l, map, key, required);
    size_t old;
    bool ok;

    if (!n)
        return 0;
    old = enter(l, key);
    ok = as_enum(l, n, names, count, out);
    leave(l, old);
    return ok ? 1 : -1;
}

static int opt_inst_id(struct ld *l, const struct yn *map, const char *key, bool required,
                       char out[12])
{
    const struct yn *n = field(l, map, key, required);
    size_t old;
    bool ok;

    if (!n)
        return 0;
    old = enter(l, key);
    ok = as_inst_id(l, n, out);
    leave(l, old);
    return ok ? 1 : -1;
}

/* ---- distributions ----------------------------------------------------------------------- */

/* What a distribution's values measure. */
enum dunit {
    DU_TIME,  /* durations; plain numbers are milliseconds; stored as µs */
    DU_MONEY, /* plain integers in minor units */
};

/* How one distribution parameter is read. */
enum pkind {
    PK_VALUE,  /* a time or money value, by the distribution's unit */
    PK_SPREAD, /* normal sigma: a time value for time, any number ≥ 0 for money */
    PK_REAL,   /* a dimensionless number ≥ 0 (lognormal sigma, pareto shape) */
};

static bool as_param(struct ld *l, const struct yn *n, enum dunit u, enum pkind k, double *out)
{
    if (k == PK_REAL || (k == PK_SPREAD && u == DU_MONEY))
        return as_num(l, n, 0, HUGE_VAL, false, out);
    if (u == DU_TIME) {
        int64_t q;
        unsigned scale;

        if (!as_dur_q(l, n, true, &q, &scale))
            return false;
        *out = (double)q / pow10i(scale);
        return true;
    }
    {
        uint64_t v;

        if (!is_scalar(n) || !n->plain || bs__parse_uint(n->str, UINT64_MAX, &v) == BS_EFORMAT) {
            if (is_scalar(n) && n->plain && n->str[0] == '-')
                bs__errf(l->e, &n->loc, "%s: an amount of money must not be negative (got %s)",
                         l->path, n->str);
            else
                type_error(l, n, "an integer amount in minor units");
            return false;
        }
        if (bs__parse_uint(n->str, UINT64_MAX, &v) || (double)v > MAX_MONEY) {
            bs__errf(l->e, &n->loc, "%s: %s is too large (at most 2^53)", l->path, n->str);
            return false;
        }
        *out = (double)v;
        return true;
    }
}

static int opt_param(struct ld *l, const struct yn *map, const char *key, bool required,
                     enum dunit u, enum pkind k, double *out)
{
    const struct yn *n = field(l, map, key, required);
    size_t old;
    bool ok;

    if (!n)
        return 0;
    old = enter(l, key);
    ok = as_param(l, n, u, k, out);
    leave(l, old);
    return ok ? 1 : -1;
}

static const char *const dist_names[] = {
    [BS_DIST_CONSTANT] = "constant",       [BS_DIST_UNIFORM] = "uniform",
    [BS_DIST_NORMAL] = "normal",           [BS_DIST_LOGNORMAL] = "lognormal",
    [BS_DIST_EXPONENTIAL] = "exponential", [BS_DIST_PARETO] = "pareto",
    [BS_DIST_EMPIRICAL] = "empirical",
};

static int read_file(const char *path, char **ret, size_t *ret_len, int *why);
static const char *why_text(int why);

/*
 * `{dist: empirical, file: F, column: C}`: the samples of column C (or the only column) of
 * CSV file F, relative to the directory of the scenario file that names it (for a --set
 * override, of the top-level file). The samples belong to the scenario.
 */
static bool load_empirical(struct ld *l, const struct yn *n, struct bs_dist *d)
{
    const struct yn *file = field(l, n, "file", true), *colv = bs__yn_get(n, "column", NULL);
    char path[1024], column[65], why[160];
    const char *base, *slash;
    char *text = NULL;
    size_t len, old;
    double *v;
    int rc, err = 0;
    bool ok = false;

    if (!file)
        return false;
    old = enter(l, "file");
    if (!is_scalar(file) || file->null || file->len == 0) {
        type_error(l, file, "a CSV file name like latency.csv");
        goto leave;
    }
    if (colv && opt_str(l, n, "column", false, column, sizeof(column)) <= 0)
        goto leave;
    if (l->sc->nempirical == BS_SC_MAX_EMPIRICAL) {
        bs__errf(l->e, &file->loc, "%s: at most %d empirical distributions per scenario", l->path,
                 BS_SC_MAX_EMPIRICAL);
        goto leave;
    }
    /* Relative to the file the key is written in; --set values are labelled "(--set ...)". */
    base = file->loc.file && file->loc.file[0] != '(' ? file->loc.file : l->sc->path;
    slash = strrchr(base, '/');
    if (file->str[0] == '/' || !slash)
        rc = snprintf(path, sizeof(path), "%s", file->str);
    else
        rc = snprintf(path, sizeof(path), "%.*s/%s", (int)(slash - base), base, file->str);
    if (rc < 0 || (size_t)rc >= sizeof(path)) {
        bs__errf(l->e, &file->loc, "%s: path longer than %zu characters", l->path,
                 sizeof(path) - 1);
        goto leave;
    }
    rc = read_file(path, &text, &len, &err);
    if (rc == BS_ENOMEM) {
        l->e->nomem = true;
        goto leave;
    }
    if (rc) {
        bs__errf(l->e, &file->loc, "%s: cannot read '%s': %s", l->path, path, why_text(err));
        goto leave;
    }
    rc = bs__empirical_parse(text, len, colv ? column : NULL, &v, &d->nsamples, why, sizeof(why));
    bs_free(text);
    if (rc == BS_ENOMEM) {
        l->e->nomem = true;
        goto leave;
    }
    if (rc) {
        bs__errf(l->e, &file->loc, "%s: %s %s; fix the CSV file", l->path, path, why);
        goto leave;
    }
    l->sc->empirical[l->sc->nempirical++] = v;
    d->samples = v;
    ok = true;
leave:
    leave(l, old);
    return ok;
}

/* z of the standard normal's 99th percentile: sigma = ln(p99 / median) / Z99. */
#define Z99 2.3263478740

/*
 * A distribution at the current path: a mapping {dist: KIND, ...} or a bare scalar, which
 * means {dist: constant, value: SCALAR}. @currency (amounts only) receives the optional
 * `currency:` key's node.
 */
static bool as_dist(struct ld *l, const struct yn *n, enum dunit u, struct bs_dist *out,
                    const struct yn **currency)
{
    static const char *const keys[][7] = {
        [BS_DIST_CONSTANT] = { "dist", "min", "max", "currency", "value" },
        [BS_DIST_UNIFORM] = { "dist", "min", "max", "currency", "low", "high" },
        [BS_DIST_NORMAL] = { "dist", "min", "max", "currency", "mean", "sigma" },
        [BS_DIST_LOGNORMAL] = { "dist", "min", "max", "currency", "median", "sigma", "p99" },
        [BS_DIST_EXPONENTIAL] = { "dist", "min", "max", "currency", "mean" },
        [BS_DIST_PARETO] = { "dist", "min", "max", "currency", "scale", "shape" },
        [BS_DIST_EMPIRICAL] = { "dist", "min", "max", "currency", "file", "column" },
    };
    static const size_t nkeys[] = { 5, 6, 6, 7, 5, 6, 6 };
    struct bs_dist d = { 0 };
    const struct yn *kind_node;
    int kind, bad = 0, has_sigma = 0, has_p99 = 0;
    double p99 = 0;

    if (n->type == YN_SCALAR && !n->null) {
        d.kind = BS_DIST_CONSTANT;
        if (!as_param(l, n, u, PK_VALUE, &d.a))
            return false;
        *out = d;
        return true;
    }
    if (n->type != YN_MAP) {
        type_error(l, n, "a distribution like {dist: normal, mean: ..., sigma: ...}");
        return false;
    }
    kind_node = field(l, n, "dist", true);
    if (!kind_node)
        return false;
    {
        size_t old = enter(l, "dist");
        bool ok = as_enum(l, kind_node, dist_names, ARRAY_SIZE(dist_names), &kind);

        leave(l, old);
        if (!ok)
            return false;
    }
    d.kind = (enum bs_dist_kind)kind;
    /* `currency` is only a key of amounts; offer it to the key check only there. */
    if (currency) {
        check_keys(l, n, keys[kind], nkeys[kind]);
    } else {
        const char *k[6];
        size_t m = 0;

        for (size_t i = 0; i < nkeys[kind]; i++)
            if (strcmp(keys[kind][i], "currency") != 0)
                k[m++] = keys[kind][i];
        check_keys(l, n, k, m);
    }

    switch (d.kind) {
    case BS_DIST_CONSTANT:
        bad |= opt_param(l, n, "value", true, u, PK_VALUE, &d.a) <= 0;
        break;
    case BS_DIST_UNIFORM:
        bad |= opt_param(l, n, "low", true, u, PK_VALUE, &d.a) <= 0;
        bad |= opt_param(l, n, "high", true, u, PK_VALUE, &d.b) <= 0;
        if (!bad && d.a > d.b) {
            bs__errf(l->e, &n->loc, "%s: low must not exceed high", l->path);
            bad = 1;
        }
        break;
    case BS_DIST_NORMAL:
        bad |= opt_param(l, n, "mean", true, u, PK_VALUE, &d.a) <= 0;
        bad |= opt_param(l, n, "sigma", true, u, PK_SPREAD, &d.b) <= 0;
        break;
    case BS_DIST_LOGNORMAL:
        bad |= opt_param(l, n, "median", true, u, PK_VALUE, &d.a) <= 0;
        has_sigma = opt_param(l, n, "sigma", false, u, PK_REAL, &d.b);
        has_p99 = opt_param(l, n, "p99", false, u, PK_VALUE, &p99);
        bad |= has_sigma < 0 || has_p99 < 0;
        if (!bad && d.a <= 0) {
            bs__errf(l->e, &n->loc, "%s: median must be greater than 0", l->path);
            bad = 1;
        }
        if (has_sigma > 0 && has_p99 > 0) {
            bs__errf(l->e, &n->loc, "%s: give sigma or p99, not both", l->path);
            bad = 1;
        } else if (has_sigma == 0 && has_p99 == 0) {
            bs__errf(l->e, &n->loc, "%s: lognormal needs sigma (of ln X) or p99", l->path);
            bad = 1;
        } else if (!bad && has_p99 > 0) {
            if (p99 < d.a) {
                bs__errf(l->e, &n->loc, "%s: p99 must not be below the median", l->path);
                bad = 1;
            } else {
                d.b = log(p99 / d.a) / Z99;
            }
        }
        break;
    case BS_DIST_EXPONENTIAL:
        bad |= opt_param(l, n, "mean", true, u, PK_VALUE, &d.a) <= 0;
        if (!bad && d.a <= 0) {
            bs__errf(l->e, &n->loc, "%s: mean must be greater than 0", l->path);
            bad = 1;
        }
        break;
    case BS_DIST_PARETO:
        bad |= opt_param(l, n, "scale", true, u, PK_VALUE, &d.a) <= 0;
        bad |= opt_param(l, n, "shape", true, u, PK_REAL, &d.b) <= 0;
        if (!bad && (d.a <= 0 || d.b <= 0)) {
            bs__errf(l->e, &n->loc, "%s: scale and shape must be greater than 0", l->path);
            bad = 1;
        }
        break;
    case BS_DIST_EMPIRICAL:
        if (u != DU_TIME) {
            bs__errf(l->e, &kind_node->loc,
                     "%s: empirical distributions are for times (latency, processing); use "
                     "lognormal or uniform for amounts",
                     l->path);
            bad = 1;
        } else {
            bad |= !load_empirical(l, n, &d);
        }
        break;
    }
    {
        int hmin = opt_param(l, n, "min", false, u, PK_VALUE, &d.min);
        int hmax = opt_param(l, n, "max", false, u, PK_VALUE, &d.max);

        bad |= hmin < 0 || hmax < 0;
        d.has_min = hmin > 0;
        d.has_max = hmax > 0;
        if (d.has_min && d.has_max && d.min > d.max) {
            bs__errf(l->e, &n->loc, "%s: min must not exceed max", l->path);
            bad = 1;
        }
    }
    if (currency)
        *currency = bs__yn_get(n, "currency", NULL);
    if (bad)
        return false;
    *out = d;
    return true;
}

static int opt_dist(struct ld *l, const struct yn *map, const char *key, bool required,
                    enum dunit u, struct bs_dist *out, const struct yn **currency)
{
    const struct yn *n = field(l, map, key, required);
    size_t old;
    bool ok;

    if (!n)
        return 0;
    old = enter(l, key);
    ok = as_dist(l, n, u, out, currency);
    leave(l, old);
    return ok ? 1 : -1;
}

static struct bs_dist constant_dist(double v)
{
    struct bs_dist d = { .kind = BS_DIST_CONSTANT, .a = v };

    return d;
}

static bool is_mti_key(const struct yn *k)
{
    return k->len == 4 && strspn(k->str, "0123456789") == 4;
}

/*
 * A node's `processing` (when present): a time distribution for every message, or per MTI
 * {default: DIST, "0100": DIST, ...}: a message whose MTI is listed takes its own
 * distribution, any other one `default` (absent: the built-in default already in *@def).
 * MTI keys may also sit beside an inline distribution ({dist: ..., "0420": 1ms}), which is
 * then the default; with `default` as well, `default` wins and the inline keys are
 * ignored. That is what a file extending another gives, since mappings merge key by key.
 */
static void opt_processing(struct ld *l, const struct yn *map, struct bs_dist *def,
                           struct bs_sc_proc_mti *pm)
{
    const struct yn *v = field(l, map, "processing", false);
    bool has_dist, has_default, per_mti = false;
    size_t old;

    if (!v)
        return;
    old = enter(l, "processing");
    has_dist = v->type == YN_MAP && bs__yn_get(v, "dist", NULL);
    has_default = v->type == YN_MAP && bs__yn_get(v, "default", NULL);
    for (size_t i = 0; v->type == YN_MAP && i < v->n; i++)
        per_mti |= is_mti_key(v->keys[i]);
    if (!has_dist || has_default) {
        if (v->type != YN_MAP)
            as_dist(l, v, DU_TIME, def, NULL);
        else if (has_default)
            opt_dist(l, v, "default", false, DU_TIME, def, NULL);
    } else if (per_mti) {
        /* The inline distribution without the MTI keys is the default. */
        struct yn sub = *v;

        sub.keys = bs_calloc(v->n, sizeof(*sub.keys));
        sub.items = bs_calloc(v->n, sizeof(*sub.items));
        sub.n = 0;
        if (!sub.keys || !sub.items) {
            l->e->nomem = true;
        } else {
            for (size_t i = 0; i < v->n; i++) {
                if (is_mti_key(v->keys[i]))
                    continue;
                sub.keys[sub.n] = v->keys[i];
                sub.items[sub.n++] = v->items[i];
            }
            as_dist(l, &sub, DU_TIME, def, NULL);
        }
        bs_free(sub.keys);
        bs_free(sub.items);
    } else {
        as_dist(l, v, DU_TIME, def, NULL);
        leave(l, old);
        return;
    }
    for (size_t i = 0; v->type == YN_MAP && i < v->n; i++) {
        const struct yn *k = v->keys[i];
        size_t o2;

        if (strcmp(k->str, "default") == 0 || (has_dist && !is_mti_key(k)))
            continue;
        if (!is_mti_key(k)) {
            bs__errf(l->e, &k->loc,
                     "unknown key '%s' in %s; expected 'dist' (one distribution), or "
                     "'default' and MTIs of four digits like \"0100\"",
                     k->str, l->path);
            continue;
        }
        if (pm->n == BS_SC_MAX_PROC_MTIS) {
            bs__errf(l->e, &k->loc, "%s: at most %d MTIs besides default", l->path,
                     BS_SC_MAX_PROC_MTIS);
            break;
        }
        o2 = enter(l, k->str);
        if (as_dist(l, v->items[i], DU_TIME, &pm->d[pm->n], NULL))
            memcpy(pm->mti[pm->n++], k->str, 5);
        leave(l, o2);
    }
    leave(l, old);
}

/* ---- sections --------------------------------------------------------------------------- */

/*
 * A node's capacity (sim/engine/capacity.h), next to its `processing`: `workers: N`
 * serve at once (0 or absent: unlimited, no queue), `queue_limit: N` may wait for a worker
 * before arrivals are dropped (absent: unlimited). A queue limit needs workers.
 */
static void conv_capacity(struct ld *l, const struct yn *map, uint32_t *workers,
                          int64_t *queue_limit)
{
    uint64_t v;

    *workers = 0;
    *queue_limit = -1;
    /* Bounds as BS_CAPACITY_MAX_WORKERS / _QUEUE in sim/engine/capacity.h. */
    if (opt_uint(l, map, "workers", false, 0, 100000, &v) > 0)
        *workers = (uint32_t)v;
    if (opt_uint(l, map, "queue_limit", false, 0, 10000000, &v) > 0) {
        *queue_limit = (int64_t)v;
        if (*workers == 0) {
            const struct yn *at = bs__yn_get(map, "queue_limit", NULL);
            bs__errf(l->e, &at->loc, "%s.queue_limit: a queue needs workers; add 'workers: N'",
                     l->path);
        }
    }
}

/*
 * A stand-in policy: `off`, or a mapping {mode: off|limits, pos: N, atm: N,
 * daily_per_card: N, saf_window: N}; amounts in minor units of the card's currency.
 */
static void conv_stip(struct ld *l, const struct yn *n, struct bs_sc_stip *st)
{
    static const char *const keys[] = { "mode", "pos", "atm", "daily_per_card", "saf_window" };
    static const char *const modes[] = { "off", "limits" };
    uint64_t v;
    int mode = 0;

    st->saf_window = 16;
    if (is_scalar(n)) {
        if (as_enum(l, n, modes, ARRAY_SIZE(modes), &mode) && mode == 1)
            bs__errf(l->e, &n->loc, "%s: 'limits' needs amounts: {mode: limits, pos: N, atm: N}",
                     l->path);
        return;
    }
    if (!want_map(l, n))
        return;
    check_keys(l, n, keys, ARRAY_SIZE(keys));
    if (opt_enum(l, n, "mode", true, modes, ARRAY_SIZE(modes), &mode) <= 0 || mode == 0)
        return;
    st->enabled = true;
    if (opt_uint(l, n, "pos", false, 0, (uint64_t)DE4_MAX, &v) > 0)
        st->max_amount[BS_CH_POS] = (int64_t)v;
    if (opt_uint(l, n, "atm", false, 0, (uint64_t)DE4_MAX, &v) > 0)
        st->max_amount[BS_CH_ATM] = (int64_t)v;
    if (opt_uint(l, n, "daily_per_card", false, 0, (uint64_t)MAX_MONEY, &v) > 0)
        st->daily_per_card = (int64_t)v;
    if (opt_uint(l, n, "saf_window", false, 1, 4096, &v) > 0)
        st->saf_window = (uint32_t)v;
    if (!st->max_amount[BS_CH_POS] && !st->max_amount[BS_CH_ATM])
        bs__errf(l->e, &n->loc,
                 "%s: mode limits with neither 'pos' nor 'atm' approves nothing; "
                 "give a limit or use mode off",
                 l->path);
}

/*
 * Network management (0800/0810 sign-on, sign-off, echo test; ISO 8583:1987 class 8, issue
 * #4 §9): on by default, echo tests every 60 s, 3 missed mark the peer down, the side
 * nearer the centre originates (@centre: "switch" under a network, "bridge" under the
 * bridge).
 */
static void netmgmt_defaults(struct bs_sc_netmgmt *nm)
{
    nm->enabled = true;
    nm->peer_originates = false;
    nm->echo_interval = 60 * BS_US_PER_SEC;
    nm->missed_echoes = 3;
}

/* `network_management`: off, on, or {echo_interval, missed_echoes, originator}. */
static void conv_netmgmt(struct ld *l, const struct yn *n, struct bs_sc_netmgmt *nm,
                         const char *centre)
{
    static const char *const keys[] = { "echo_interval", "missed_echoes", "originator" };
    static const char *const onoff[] = { "off", "on" };
    const char *const origin[] = { centre, "peer" };
    uint64_t v;
    int k;

    if (is_scalar(n)) {
        if (as_enum(l, n, onoff, ARRAY_SIZE(onoff), &k))
            nm->enabled = k == 1;
        return;
    }
    if (!want_map(l, n))
        return;
    check_keys(l, n, keys, ARRAY_SIZE(keys));
    if (opt_dur(l, n, "echo_interval", false, true, &nm->echo_interval) > 0 &&
        (nm->echo_interval < BS_US_PER_SEC || nm->echo_interval > 3600 * BS_US_PER_SEC)) {
        const struct yn *at = bs__yn_get(n, "echo_interval", NULL);
        bs__errf(l->e, &at->loc, "%s.echo_interval: from 1s to 1h", l->path);
    }
    if (opt_uint(l, n, "missed_echoes", false, 1, 100, &v) > 0)
        nm->missed_echoes = (uint32_t)v;
    if (opt_enum(l, n, "originator", false, origin, ARRAY_SIZE(origin), &k) > 0)
        nm->peer_originates = k == 1;
}

/* A UTC offset "+03:00" / "-05:30" into minutes. */
static bool as_utc_offset(struct ld *l, const struct yn *n, int16_t *out)
{
    const char *s = n->str;
    int h, m;

    if (!is_scalar(n) || n->len != 6 || (s[0] != '+' && s[0] != '-') || s[3] != ':' || s[1] < '0' ||
        s[1] > '9' || s[2] < '0' || s[2] > '9' || s[4] < '0' || s[4] > '5' || s[5] < '0' ||
        s[5] > '9') {
        type_error(l, n, "a UTC offset like \"+03:30\"");
        return false;
    }
    h = (s[1] - '0') * 10 + (s[2] - '0');
    m = (s[4] - '0') * 10 + (s[5] - '0');
    if (h > 14) {
        bs__errf(l->e, &n->loc, "%s: UTC offsets run from -14:00 to +14:00, got %s", l->path, s);
        return false;
    }
    *out = (int16_t)((s[0] == '-' ? -1 : 1) * (h * 60 + m));
    return true;
}

static void conv_time(struct ld *l, const struct yn *n)
{
    static const char *const keys[] = { "mode", "start", "drain" };
    static const char *const modes[] = { "virtual", "realtime" };
    const struct yn *v;
    int mode = 0;

    if (!want_map(l, n))
        return;
    check_keys(l, n, keys, ARRAY_SIZE(keys));
    if (opt_enum(l, n, "mode", false, modes, ARRAY_SIZE(modes), &mode) > 0)
        l->sc->realtime = mode == 1;
    v = field(l, n, "start", false);
    if (v) {
        size_t old = enter(l, "start");

        if (!is_scalar(v) || bs__parse_utc(v->str, &l->sc->start_time))
            type_error(l, v, "an ISO 8601 UTC time like \"2026-03-02T09:00:00Z\"");
        else if (l->sc->start_time < START_MIN || l->sc->start_time > START_MAX)
            bs__errf(l->e, &v->loc,
                     "%s: %s is outside 2000-01-01T00:00:00Z .. 2090-12-31T23:59:59Z (card "
                     "expiry dates run 5 years on and DE 14 has a two-digit year); pick a "
                     "start in that range",
                     l->path, v->str);
        leave(l, old);
    }
    opt_dur(l, n, "drain", false, false, &l->sc->drain);
}

/* Defined with the sections that need them first (networks, faults). */
static bool as_network(struct ld *l, const struct yn *n, int *out);
static bool as_node(struct ld *l, const struct yn *n, char (*nodes)[BS_SC_NAME_MAX], size_t nn,
                    char out[BS_SC_NAME_MAX]);

/* One of the algorithm names of bs_sig_alg_name(); unknown names get the nearest one. */
static bool as_sig_alg(struct ld *l, const struct yn *v, enum bs_sig_alg *out)
{
    const char *names[BS_SIG_AES_CMAC + 1];
    int unused;

    if (is_scalar(v) && bs_sig_alg_parse(v->str, out) == 0)
        return true;
    /* Not a name crypto knows: let as_enum() explain, with the nearest name. */
    for (int i = BS_SIG_NONE; i <= BS_SIG_AES_CMAC; i++)
        names[i] = bs_sig_alg_name((enum bs_sig_alg)i);
    as_enum(l, v, names, ARRAY_SIZE(names), &unused);
    return false;
}

/*
 * `mac_length` of a mapping that also chose @alg (or inherits it): 8 up to the MAC's full
 * length (HMAC-SHA256 32, AES-CMAC 16); only for those two (RFC 2104 §5 truncation, at
 * least half the output and never under 64 bits; ISO 9797-1 allows 4 bytes for retail MACs
 * but the simulator keeps 8 as its floor).
 */
static void opt_mac_len(struct ld *l, const struct yn *map, enum bs_sig_alg alg, uint8_t *out)
{
    const struct yn *v = field(l, map, "mac_length", false);
    uint64_t len;
    size_t old;

    if (!v)
        return;
    old = enter(l, "mac_length");
    if (alg != BS_SIG_HMAC_SHA256 && alg != BS_SIG_AES_CMAC)
        bs__errf(l->e, &v->loc, "%s: only hmac-sha256 and aes-cmac are truncated, not %s", l->path,
                 bs_sig_alg_name(alg));
    else if (as_uint(l, v, 8, alg == BS_SIG_HMAC_SHA256 ? 32 : 16, &len))
        *out = (uint8_t)len;
    leave(l, old);
}

static void conv_signing(struct ld *l, const struct yn *n)
{
    static const char *const keys[] = { "algorithm", "mac_length",    "networks", "links",
                                        "rotations", "replay_window", "key_dir" };
    struct bs_sc_signing *sg = &l->sc->signing;
    const struct yn *v;
    size_t old;

    if (!want_map(l, n))
        return;
    check_keys(l, n, keys, ARRAY_SIZE(keys));
    v = field(l, n, "algorithm", false);
    if (v) {
        old = enter(l, "algorithm");
        as_sig_alg(l, v, &l->sc->sig_alg);
        leave(l, old);
    }
    opt_mac_len(l, n, l->sc->sig_alg, &sg->mac_len);
    opt_dur(l, n, "replay_window", false, false, &sg->replay_window);
    opt_str(l, n, "key_dir", false, sg->key_dir, sizeof(sg->key_dir));
    /* networks, links and rotations name networks and nodes: conv_signing_nodes(). */
}

static void conv_sig_network(struct ld *l, const struct yn *v, int net)
{
    static const char *const keys[] = { "algorithm", "mac_length" };
    struct bs_sc_signing *sg = &l->sc->signing;
    const struct yn *a;
    size_t old;

    if (is_scalar(v)) {
        sg->net_set[net] = as_sig_alg(l, v, &sg->net_alg[net]);
        return;
    }
    if (v->type != YN_MAP) {
        type_error(l, v, "an algorithm name or a mapping with algorithm and mac_length");
        return;
    }
    check_keys(l, v, keys, ARRAY_SIZE(keys));
    a = field(l, v, "algorithm", true);
    if (!a)
        return;
    old = enter(l, "algorithm");
    sg->net_set[net] = as_sig_alg(l, a, &sg->net_alg[net]);
    leave(l, old);
    if (sg->net_set[net])
        opt_mac_len(l, v, sg->net_alg[net], &sg->net_mac_len[net]);
}

static void conv_sig_link(struct ld *l, const struct yn *n, struct bs_sc_sig_link *lk,
                          char (*nodes)[BS_SC_NAME_MAX], size_t nn)
{
    static const char *const keys[] = { "between", "algorithm", "mac_length" };
    const struct yn *v;
    size_t old;

    lk->line = n->loc.line;
    lk->column = n->loc.col;
    if (!want_map(l, n))
        return;
    check_keys(l, n, keys, ARRAY_SIZE(keys));
    v = field(l, n, "between", true);
    if (v) {
        old = enter(l, "between");
        if (v->type != YN_SEQ || v->n != 2) {
            type_error(l, v, "a list of two node names like [bridge, shetab.switch]");
        } else {
            for (size_t e = 0; e < 2; e++) {
                size_t o2 = enter_idx(l, e);
                as_node(l, v->items[e], nodes, nn, e ? lk->b : lk->a);
                leave(l, o2);
            }
            if (lk->a[0] && strcmp(lk->a, lk->b) == 0)
                bs__errf(l->e, &v->loc, "%s: a link joins two different nodes", l->path);
        }
        leave(l, old);
    }
    v = field(l, n, "algorithm", true);
    if (!v)
        return;
    old = enter(l, "algorithm");
    if (as_sig_alg(l, v, &lk->alg)) {
        leave(l, old);
        opt_mac_len(l, n, lk->alg, &lk->mac_len);
        return;
    }
    leave(l, old);
}

static void conv_rotation(struct ld *l, const struct yn *n, struct bs_sc_rotation *r,
                          char (*nodes)[BS_SC_NAME_MAX], size_t nn)
{
    static const char *const keys[] = { "node", "at", "overlap" };
    const struct yn *v;

    r->line = n->loc.line;
    r->column = n->loc.col;
    r->overlap = 30 * BS_US_PER_SEC;
    if (!want_map(l, n))
        return;
    check_keys(l, n, keys, ARRAY_SIZE(keys));
    v = field(l, n, "node", true);
    if (v) {
        size_t old = enter(l, "node");
        as_node(l, v, nodes, nn, r->node);
        leave(l, old);
    }
    opt_dur(l, n, "at", true, false, &r->at);
    opt_dur(l, n, "overlap", false, false, &r->overlap);
}

/* The parts of `signing` that name networks and nodes, once both are known. */
static void conv_signing_nodes(struct ld *l, const struct yn *root)
{
    struct bs_sc_signing *sg = &l->sc->signing;
    const struct yn *n = bs__yn_get(root, "signing", NULL), *v;
    char(*nodes)[BS_SC_NAME_MAX];
    size_t nn, old, old2;

    if (!n || n->type != YN_MAP)
        return;
    old = enter(l, "signing");
    v = field(l, n, "networks", false);
    if (v && want_map(l, v)) {
        old2 = enter(l, "networks");
        for (size_t i = 0; i < v->n; i++) {
            size_t o3 = enter(l, v->keys[i]->str);
            int net;

            if (as_network(l, v->keys[i], &net))
                conv_sig_network(l, v->items[i], net);
            leave(l, o3);
        }
        leave(l, old2);
    }
    nodes = bs_calloc(BS_SC_MAX_NODES, sizeof(*nodes));
    if (!nodes) {
        l->e->nomem = true;
        leave(l, old);
        return;
    }
    nn = bs_scenario_node_names(l->sc, nodes, BS_SC_MAX_NODES);
    v = field(l, n, "links", false);
    old2 = enter(l, "links");
    if (v && want_seq(l, v, 0, BS_SC_MAX_SIG_LINKS)) {
        for (size_t i = 0; i < v->n; i++) {
            size_t o3 = enter_idx(l, i);
            struct bs_sc_sig_link *lk = &sg->links[sg->nlinks++];

            conv_sig_link(l, v->items[i], lk, nodes, nn);
            for (size_t j = 0; j + 1 < sg->nlinks && lk->a[0]; j++) {
                const struct bs_sc_sig_link *o = &sg->links[j];
                if ((strcmp(o->a, lk->a) == 0 && strcmp(o->b, lk->b) == 0) ||
                    (strcmp(o->a, lk->b) == 0 && strcmp(o->b, lk->a) == 0))
                    bs__errf(l->e, &v->items[i]->loc,
                             "%s: the link %s–%s already has an algorithm (line %d)", l->path,
                             lk->a, lk->b, o->line);
            }
            leave(l, o3);
        }
    }
    leave(l, old2);
    v = field(l, n, "rotations", false);
    old2 = enter(l, "rotations");
    if (v && want_seq(l, v, 0, BS_SC_MAX_ROTATIONS)) {
        for (size_t i = 0; i < v->n; i++) {
            size_t o3 = enter_idx(l, i);
            struct bs_sc_rotation *r = &sg->rotations[sg->nrotations++];

            conv_rotation(l, v->items[i], r, nodes, nn);
            for (size_t j = 0; j + 1 < sg->nrotations && r->node[0]; j++)
                if (strcmp(sg->rotations[j].node, r->node) == 0 && sg->rotations[j].at == r->at)
                    bs__errf(l->e, &v->items[i]->loc,
                             "%s: %s already rotates at that time (line %d)", l->path, r->node,
                             sg->rotations[j].line);
            leave(l, o3);
        }
    }
    leave(l, old2);
    bs_free(nodes);
    leave(l, old);
}

/* `pin`: PIN blocks in DE 52 (ISO 9564-1), configs/README.md. */
static void conv_pin(struct ld *l, const struct yn *n)
{
    static const char *const keys[] = { "enabled", "digits", "wrong_share", "channels", "zones" };
    static const char *const bools[] = { "false", "true" };
    static const char *const chans[] = { [BS_CH_POS] = "pos", [BS_CH_ATM] = "atm" };
    static const char *const kinds[] = { "tdes", "aes" };
    struct bs_sc_pin *p = &l->sc->pin;
    const struct yn *v;
    uint64_t digits = 4;
    int on = 1;

    p->enabled = true;
    p->digits = 4;
    p->channels = (1u << BS_CH_POS) | (1u << BS_CH_ATM);
    if (!want_map(l, n))
        return;
    check_keys(l, n, keys, ARRAY_SIZE(keys));
    if (opt_enum(l, n, "enabled", false, bools, ARRAY_SIZE(bools), &on) > 0)
        p->enabled = on == 1;
    if (opt_uint(l, n, "digits", false, BS_PIN_DIGITS_MIN, BS_PIN_DIGITS_MAX, &digits) > 0)
        p->digits = (uint8_t)digits;
    opt_num(l, n, "wrong_share", false, 0, 1, false, &p->wrong_share);
    v = field(l, n, "channels", false);
    if (v) {
        size_t old = enter(l, "channels");

        if (want_seq(l, v, 1, BS_CH_COUNT)) {
            p->channels = 0;
            for (size_t i = 0; i < v->n; i++) {
                size_t o2 = enter_idx(l, i);
                int c;

                if (as_enum(l, v->items[i], chans, ARRAY_SIZE(chans), &c))
                    p->channels |= 1u << c;
                leave(l, o2);
            }
        }
        leave(l, old);
    }
    v = field(l, n, "zones", false);
    if (v) {
        size_t old = enter(l, "zones");

        if (want_map(l, v)) {
            for (size_t i = 0; i < v->n; i++) {
                size_t o2 = enter(l, v->keys[i]->str);
                int net, kind;

                if (as_network(l, v->keys[i], &net) &&
                    as_enum(l, v->items[i], kinds, ARRAY_SIZE(kinds), &kind))
                    p->aes[net] = kind == 1;
                leave(l, o2);
            }
        }
        leave(l, old);
    }
}

void bs_scenario_link_signing(const struct bs_scenario *sc, const char *a, const char *b,
                              enum bs_sig_alg *ret_alg, size_t *ret_mac_len)
{
    const struct bs_sc_signing *sg = &sc->signing;
    const char *end = strcmp(a, "bridge") == 0 ? b : a;
    size_t dot = strcspn(end, ".");

    for (size_t i = 0; i < sg->nlinks; i++) {
        const struct bs_sc_sig_link *lk = &sg->links[i];
        if ((strcmp(lk->a, a) == 0 && strcmp(lk->b, b) == 0) ||
            (strcmp(lk->a, b) == 0 && strcmp(lk->b, a) == 0)) {
            *ret_alg = lk->alg;
            *ret_mac_len = lk->mac_len;
            return;
        }
    }
    for (size_t n = 0; n < sc->nnetworks; n++) {
        if (sg->net_set[n] && strlen(sc->networks[n].name) == dot &&
            strncmp(sc->networks[n].name, end, dot) == 0) {
            *ret_alg = sg->net_alg[n];
            *ret_mac_len = sg->net_mac_len[n];
            return;
        }
    }
    *ret_alg = sc->sig_alg;
    *ret_mac_len = sg->mac_len;
}

int bs_scenario_key_owner(const struct bs_scenario *sc, const char *node, const char *peer,
                          enum bs_sig_alg alg, char *out, size_t cap)
{
    int n;

    if (!peer) {
        if (alg == sc->sig_alg)
            n = snprintf(out, cap, "%s", node);
        else
            n = snprintf(out, cap, "%s@%s", node, bs_sig_alg_name(alg));
    } else {
        const char *x = strcmp(node, peer) < 0 ? node : peer, *y = x == node ? peer : node;
        char zone[2 * BS_SC_NAME_MAX + 2];
        uint8_t h[32];

        snprintf(zone, sizeof(zone), "%s~%s", x, y);
        /* Room for "#<epoch>" of up to 4 digits inside a key id. */
        if (strlen(zone) + 5 <= BS_KEY_ID_MAX) {
            n = snprintf(out, cap, "%s", zone);
        } else {
            if (bs_sha256(zone, strlen(zone), h) != 0)
                return BS_EINVAL;
            n = snprintf(out, cap, "zone-%02x%02x%02x%02x%02x%02x%02x%02x", h[0], h[1], h[2], h[3],
                         h[4], h[5], h[6], h[7]);
        }
    }
    return n < 0 || (size_t)n >= cap ? BS_ENOSPC : 0;
}

/* The @node's rotations sorted by time into @at/@ov (at most BS_SC_MAX_ROTATIONS). */
static uint32_t rotations_of(const struct bs_scenario *sc, const char *node,
                             bs_time_us at[BS_SC_MAX_ROTATIONS], bs_time_us ov[BS_SC_MAX_ROTATIONS])
{
    uint32_t n = 0;

    for (size_t i = 0; i < sc->signing.nrotations; i++) {
        const struct bs_sc_rotation *r = &sc->signing.rotations[i];
        uint32_t j;

        if (strcmp(r->node, node) != 0)
            continue;
        for (j = n; j > 0 && at[j - 1] > r->at; j--) {
            at[j] = at[j - 1];
            ov[j] = ov[j - 1];
        }
        at[j] = r->at;
        ov[j] = r->overlap;
        n++;
    }
    return n;
}

uint32_t bs_scenario_rotations(const struct bs_scenario *sc, const char *node)
{
    bs_time_us at[BS_SC_MAX_ROTATIONS], ov[BS_SC_MAX_ROTATIONS];

    return rotations_of(sc, node, at, ov);
}

uint32_t bs_scenario_epoch_at(const struct bs_scenario *sc, const char *node, bs_time_us t)
{
    bs_time_us at[BS_SC_MAX_ROTATIONS], ov[BS_SC_MAX_ROTATIONS];
    uint32_t n = rotations_of(sc, node, at, ov), e = 0;

    while (e < n && at[e] <= t)
        e++;
    return e;
}

int bs_scenario_rotation(const struct bs_scenario *sc, const char *node, uint32_t i,
                         bs_time_us *ret_at, bs_time_us *ret_overlap)
{
    bs_time_us at[BS_SC_MAX_ROTATIONS], ov[BS_SC_MAX_ROTATIONS];
    uint32_t n = rotations_of(sc, node, at, ov);

    if (i >= n)
        return BS_ENOTFOUND;
    *ret_at = at[i];
    *ret_overlap = ov[i];
    return 0;
}

static void conv_currency(struct ld *l, const struct yn *n, struct bs_sc_currency *cur)
{
    static const char *const keys[] = { "code", "exponent" };
    const struct sc_iso_currency *iso;
    const struct yn *code = n;
    size_t ncodes, old = l->plen;
    const char *const *codes = bs__currency_codes(&ncodes);
    uint64_t exp = 0;
    int has_exp = 0;

    if (n->type == YN_MAP) {
        check_keys(l, n, keys, ARRAY_SIZE(keys));
        code = field(l, n, "code", true);
        has_exp = opt_uint(l, n, "exponent", false, 0, 4, &exp);
        if (!code)
            return;
        old = enter(l, "code");
    }
    iso = is_scalar(code) ? bs__currency_find(code->str) : NULL;
    if (!is_scalar(code)) {
        type_error(l, code, "an ISO 4217 currency code like RUB");
    } else if (!iso) {
        const char *near = bs__suggest(code->str, codes, ncodes);

        if (near)
            bs__errf(l->e, &code->loc, "%s: unknown currency '%s'; did you mean '%s'?", l->path,
                     code->str, near);
        else
            bs__errf(l->e, &code->loc, "%s: unknown ISO 4217 currency '%s'", l->path, code->str);
    }
    leave(l, old);
    if (!iso)
        return;
    memcpy(cur->code, iso->code, 4);
    cur->numeric = iso->numeric;
    cur->exponent = iso->exponent;
    if (has_exp > 0) {
        /* ISO's exponent, or 0: whole units, as Iran uses rials in practice (GUIDE §3). */
        if (exp != iso->exponent && exp != 0) {
            const struct yn *en = bs__yn_get(n, "exponent", NULL);

            bs__errf(l->e, &en->loc,
                     "%s.exponent: %s uses exponent %u (ISO 4217) or 0 (whole units), not %llu",
                     l->path, iso->code, iso->exponent, (unsigned long long)exp);
        } else {
            cur->exponent = (uint8_t)exp;
        }
    }
}

/* Parse one BIN or BIN range: "603799" or "2200-2204" (same digit count, lo ≤ hi). */
static bool as_bin(struct ld *l, const struct yn *n, struct bs_sc_bin_range *out)
{
    const char *s, *dash;
    size_t dlo, dhi;
    uint64_t lo, hi;
    char buf[20];

    if (!is_scalar(n)) {
        type_error(l, n, "a BIN like \"603799\" or a range like \"2200-2204\"");
        return false;
    }
    s = n->str;
    dash = strchr(s, '-');
    dlo = dash ? (size_t)(dash - s) : n->len;
    dhi = dash ? strlen(dash + 1) : dlo;
    if (dlo == 0 || dhi == 0 || dlo >= sizeof(buf) || dhi >= sizeof(buf) ||
        strspn(s, "0123456789") != dlo || (dash && strspn(dash + 1, "0123456789") != dhi)) {
        type_error(l, n, "a BIN like \"603799\" or a range like \"2200-2204\"");
        return false;
    }
    if (dlo > 8 || dhi > 8) {
        bs__errf(l->e, &n->loc, "%s: BIN '%s' is longer than 8 digits", l->path, s);
        return false;
    }
    if (dlo != dhi) {
        bs__errf(l->e, &n->loc,
                 "%s: both ends of BIN range '%s' need the same number of digits (%zu and %zu)",
                 l->path, s, dlo, dhi);
        return false;
    }
    memcpy(buf, s, dlo);
    buf[dlo] = '\0';
    bs__parse_uint(buf, UINT64_MAX, &lo);
    hi = lo;
    if (dash)
        bs__parse_uint(dash + 1, UINT64_MAX, &hi);
    if (lo > hi) {
        bs__errf(l->e, &n->loc, "%s: BIN range '%s' runs backwards (low end above high end)",
                 l->path, s);
        return false;
    }
    out->lo = lo;
    out->hi = hi;
    out->digits = (uint8_t)dlo;
    return true;
}

/*
 * Opening balances must keep an issuer's ledger inside 64-bit arithmetic: a card holds at
 * most min(2^53, 2^62 / cards) minor units (configs/README.md). A distribution without an
 * upper end (normal, lognormal, exponential, pareto) is clamped there unless it sets
 * `max`; a larger `max`, constant, uniform `high` or centre is an error, not an
 * "arithmetic overflow" at run time.
 */
static void check_balance(struct ld *l, const struct yn *n, struct bs_sc_issuer *is)
{
    struct bs_dist *d = &is->balance;
    double cards = is->cards ? (double)is->cards : 1.0;
    double bound = floor(4611686018427387904.0 / cards), top; /* 2^62 / cards */
    size_t old = enter(l, "balance");

    if (bound > MAX_MONEY)
        bound = MAX_MONEY;
    top = d->has_max                    ? d->max
          : d->kind == BS_DIST_UNIFORM  ? d->b
          : d->kind == BS_DIST_CONSTANT ? d->a
                                        : d->a; /* the median, mean or scale */
    if (top > bound || d->a > bound)
        bs__errf(l->e, &n->loc,
                 "%s: a card's opening balance can reach %.0f minor units, more than the %.0f "
                 "allowed with %u cards (min(2^53, 2^62 / cards), so the issuer's total fits "
                 "64-bit arithmetic); lower it%s",
                 l->path, top > d->a ? top : d->a, bound, is->cards,
                 d->kind == BS_DIST_CONSTANT || d->kind == BS_DIST_UNIFORM ? "" : " or set max");
    else if (!d->has_max && d->kind != BS_DIST_CONSTANT && d->kind != BS_DIST_UNIFORM) {
        d->has_max = true;
        d->max = bound;
    }
    leave(l, old);
}

static void conv_issuer(struct ld *l, const struct yn *n, struct bs_sc_issuer *is)
{
    static const char *const keys[] = {
        "id",          "inst_id",       "bins",       "cards",        "pan_length",
        "balance",     "expired_share", "processing", "workers",      "queue_limit",
        "daily_limit", "blocked_share", "lost_share", "stolen_share",
    };
    const struct yn *v;
    uint64_t u;
    int ok;

    if (!want_map(l, n))
        return;
    check_keys(l, n, keys, ARRAY_SIZE(keys));
    v = field(l, n, "id", true);
    if (v) {
        size_t old = enter(l, "id");

        as_ident(l, v, is->id, sizeof(is->id), "issuer id");
        leave(l, old);
    }
    opt_inst_id(l, n, "inst_id", true, is->inst_id);
    is->pan_length = DEFAULT_PAN_LENGTH;
    if (opt_uint(l, n, "pan_length", false, 16, 19, &u) > 0)
        is->pan_length = (uint8_t)u;
    v = field(l, n, "bins", true);
    if (v) {
        size_t old = enter(l, "bins");

        if (want_seq(l, v, 1, BS_SC_MAX_BINS)) {
            for (size_t i = 0; i < v->n; i++) {
                size_t o2 = enter_idx(l, i);

                if (as_bin(l, v->items[i], &is->bins[is->nbins]))
                    is->nbins++;
                leave(l, o2);
            }
        }
        leave(l, old);
    }
    /*
     * No capacity check against the BIN space is needed: a BIN has at most 8 digits and a
     * PAN at least 16, leaving at least 7 account digits (10^7 = MAX_CARDS) per prefix.
     */
    if (opt_uint(l, n, "cards", true, 1, MAX_CARDS, &u) > 0)
        is->cards = (uint32_t)u;
    if (opt_dist(l, n, "balance", true, DU_MONEY, &is->balance, NULL) > 0)
        check_balance(l, bs__yn_get(n, "balance", NULL), is);
    opt_num(l, n, "expired_share", false, 0, 1, false, &is->expired_share);
    ok = opt_num(l, n, "blocked_share", false, 0, 1, false, &is->blocked_share) >= 0;
    ok &= opt_num(l, n, "lost_share", false, 0, 1, false, &is->lost_share) >= 0;
    ok &= opt_num(l, n, "stolen_share", false, 0, 1, false, &is->stolen_share) >= 0;
    if (ok && is->blocked_share + is->lost_share + is->stolen_share > 1 + 1e-9)
        bs__errf(l->e, &n->loc,
                 "%s: blocked_share, lost_share and stolen_share sum to %.9g; a card has one "
                 "status, so they sum to at most 1",
                 l->path, is->blocked_share + is->lost_share + is->stolen_share);
    is->has_daily_limit =
        opt_dist(l, n, "daily_limit", false, DU_MONEY, &is->daily_limit, NULL) > 0;
    is->processing = constant_dist(DEFAULT_PROCESSING);
    opt_processing(l, n, &is->processing, &is->processing_mti);
    conv_capacity(l, n, &is->workers, &is->queue_limit);
}

static bool printable_ascii(const char *s)
{
    for (; *s; s++)
        if (*s < 0x20 || *s > 0x7e)
            return false;
    return true;
}

/*
 * `merchants: [{mcc: 5411, count: 50}, ...]` of acquirer @n: groups of merchants by merchant
 * category code. The acquirer's `mcc` then has nothing left to say and is refused.
 * Return: 1 when valid (aq->merchants is their sum), -1 otherwise.
 */
static int conv_merchant_groups(struct ld *l, const struct yn *n, const struct yn *v,
                                struct bs_sc_acquirer *aq)
{
    static const char *const keys[] = { "mcc", "count" };
    size_t old = enter(l, "merchants");
    uint64_t total = 0, u;
    bool seq = want_seq(l, v, 1, BS_MERCHANT_GROUPS_MAX), ok = seq;

    for (size_t i = 0; seq && i < v->n; i++) {
        const struct yn *g = v->items[i];
        size_t o2 = enter_idx(l, i);

        if (want_map(l, g)) {
            check_keys(l, g, keys, ARRAY_SIZE(keys));
            if (opt_uint(l, g, "mcc", true, 0, 9999, &u) > 0)
                aq->groups[aq->ngroups].mcc = (uint16_t)u;
            else
                ok = false;
            if (opt_uint(l, g, "count", true, 1, MAX_TERMINALS, &u) > 0)
                aq->groups[aq->ngroups].count = (uint32_t)u;
            else
                ok = false;
            total += aq->groups[aq->ngroups++].count;
        } else {
            ok = false;
        }
        leave(l, o2);
    }
    leave(l, old);
    if (bs__yn_get(n, "mcc", NULL))
        bs__errf(l->e, &bs__yn_get(n, "mcc", NULL)->loc,
                 "%s.mcc: with merchant groups each group has its mcc; remove this one", l->path);
    aq->merchants = (uint32_t)(total < MAX_TERMINALS ? total : MAX_TERMINALS + 1);
    return ok ? 1 : -1;
}

static void conv_acquirer(struct ld *l, const struct yn *n, struct bs_sc_acquirer *aq)
{
    static const char *const keys[] = { "id",       "inst_id",    "terminals", "merchants",  "mcc",
                                        "location", "processing", "workers",   "queue_limit" };
    const struct yn *v;
    uint64_t u;
    int has_merchants;

    if (!want_map(l, n))
        return;
    check_keys(l, n, keys, ARRAY_SIZE(keys));
    v = field(l, n, "id", true);
    if (v) {
        size_t old = enter(l, "id");

        as_ident(l, v, aq->id, sizeof(aq->id), "acquirer id");
        leave(l, old);
    }
    opt_inst_id(l, n, "inst_id", true, aq->inst_id);
    if (opt_uint(l, n, "terminals", true, 1, MAX_TERMINALS, &u) > 0)
        aq->terminals = (uint32_t)u;
    v = bs__yn_get(n, "merchants", NULL);
    if (v && v->type == YN_SEQ)
        has_merchants = conv_merchant_groups(l, n, v, aq);
    else
        has_merchants = opt_uint(l, n, "merchants", false, 1, MAX_TERMINALS, &u);
    if (!aq->ngroups)
        aq->merchants = has_merchants > 0 ? (uint32_t)u : aq->terminals;
    if (has_merchants > 0 && aq->terminals && aq->merchants > aq->terminals)
        bs__errf(l->e, &v->loc, "%s.merchants: %u merchants cannot share %u terminals", l->path,
                 aq->merchants, aq->terminals);
    aq->mcc = DEFAULT_MCC;
    if (opt_uint(l, n, "mcc", false, 0, 9999, &u) > 0)
        aq->mcc = (uint16_t)u;
    memcpy(aq->location, aq->id, strlen(aq->id) + 1); /* ids are shorter than DE 43 */
    if (opt_str(l, n, "location", false, aq->location, sizeof(aq->location)) > 0 &&
        !printable_ascii(aq->location)) {
        v = bs__yn_get(n, "location", NULL);
        bs__errf(l->e, &v->loc, "%s.location: only printable ASCII fits DE 43", l->path);
    }
    aq->processing = constant_dist(DEFAULT_PROCESSING);
    opt_processing(l, n, &aq->processing, &aq->processing_mti);
    conv_capacity(l, n, &aq->workers, &aq->queue_limit);
}

/*
 * Ids share one namespace per network: they become node names "<net>.<id>". @issuers and
 * @acquirers may be NULL when absent; then net->nissuers / net->nacquirers are 0.
 */
static void check_unique_ids(struct ld *l, const struct yn *issuers, const struct yn *acquirers,
                             struct bs_sc_network *net)
{
    for (size_t i = 0; i < net->nissuers + net->nacquirers; i++) {
        const char *id =
            i < net->nissuers ? net->issuers[i].id : net->acquirers[i - net->nissuers].id;
        const struct yn *src =
            i < net->nissuers ? issuers->items[i] : acquirers->items[i - net->nissuers];
        const struct yn *at = bs__yn_get(src, "id", NULL);

        if (!id[0] || !at)
            continue;
        if (strcmp(id, "switch") == 0) {
            bs__errf(l->e, &at->loc, "networks.%s: id 'switch' is reserved for the network switch",
                     net->name);
            continue;
        }
        for (size_t j = 0; j < i; j++) {
            const char *other =
                j < net->nissuers ? net->issuers[j].id : net->acquirers[j - net->nissuers].id;
            const struct yn *osrc =
                j < net->nissuers ? issuers->items[j] : acquirers->items[j - net->nissuers];

            if (strcmp(id, other) == 0) {
                bs__errf(l->e, &at->loc, "networks.%s: duplicate id '%s' (first used at line %d)",
                         net->name, id, osrc->loc.line);
                break;
            }
        }
    }
}

static void conv_network(struct ld *l, const struct yn *n, struct bs_sc_network *net)
{
    static const char *const keys[] = { "dialect",           "currency",  "switch",
                                        "issuers",           "acquirers", "utc_offset",
                                        "network_management" };
    static const char *const sw_keys[] = { "inst_id", "processing", "stand_in", "workers",
                                           "queue_limit" };
    const struct yn *v, *issuers = NULL, *acquirers = NULL;

    if (!want_map(l, n))
        return;
    check_keys(l, n, keys, ARRAY_SIZE(keys));
    memcpy(net->dialect, net->name, strlen(net->name) + 1); /* names are shorter */
    snprintf(net->dialect_at, sizeof(net->dialect_at), "%s:%d:%d", n->loc.file, n->loc.line,
             n->loc.col);
    if (opt_str(l, n, "dialect", false, net->dialect, sizeof(net->dialect)) > 0) {
        /* A path is taken from the directory of the file that names it, like extends. */
        const struct yn *d = bs__yn_get(n, "dialect", NULL);
        char spec[sizeof(net->dialect)];

        memcpy(spec, net->dialect, sizeof(spec));
        snprintf(net->dialect_at, sizeof(net->dialect_at), "%s:%d:%d", d->loc.file, d->loc.line,
                 d->loc.col);
        if (bs__sc_dialect_resolve(spec, d->loc.file, l->sc->path, net->dialect,
                                   sizeof(net->dialect)) != 0)
            bs__errf(l->e, &d->loc, "%s.dialect: the path is longer than %zu characters", l->path,
                     sizeof(net->dialect) - 1);
    }
    v = field(l, n, "currency", true);
    if (v) {
        size_t old = enter(l, "currency");

        if (v->type == YN_MAP || is_scalar(v))
            conv_currency(l, v, &net->currency);
        else
            type_error(l, v, "a currency like RUB or {code: IRR, exponent: 0}");
        leave(l, old);
    }
    net->switch_processing = constant_dist(DEFAULT_PROCESSING);
    net->switch_queue_limit = -1;
    v = field(l, n, "switch", true);
    if (v) {
        size_t old = enter(l, "switch");

        if (want_map(l, v)) {
            check_keys(l, v, sw_keys, ARRAY_SIZE(sw_keys));
            opt_inst_id(l, v, "inst_id", true, net->switch_inst_id);
            opt_processing(l, v, &net->switch_processing, &net->switch_processing_mti);
            conv_capacity(l, v, &net->switch_workers, &net->switch_queue_limit);
            net->switch_stip.saf_window = 16;
            if ((v = field(l, v, "stand_in", false)) != NULL) {
                size_t o2 = enter(l, "stand_in");
                conv_stip(l, v, &net->switch_stip);
                leave(l, o2);
            }
        }
        leave(l, old);
    }
    netmgmt_defaults(&net->netmgmt);
    if ((v = field(l, n, "network_management", false)) != NULL) {
        size_t old = enter(l, "network_management");
        conv_netmgmt(l, v, &net->netmgmt, "switch");
        leave(l, old);
    }
    /* Terminals write DE 12/13 in local time: Moscow for RUB, Tehran for IRR by default. */
    net->utc_offset_min = strcmp(net->currency.code, "RUB") == 0   ? 180
                          : strcmp(net->currency.code, "IRR") == 0 ? 210
                                                                   : 0;
    if ((v = field(l, n, "utc_offset", false)) != NULL) {
        size_t old = enter(l, "utc_offset");
        as_utc_offset(l, v, &net->utc_offset_min);
        leave(l, old);
    }
    v = field(l, n, "issuers", true);
    if (v) {
        size_t old = enter(l, "issuers");

        if (want_seq(l, v, 1, BS_SC_MAX_ISSUERS)) {
            issuers = v;
            for (size_t i = 0; i < v->n; i++) {
                size_t o2 = enter_idx(l, i);

                conv_issuer(l, v->items[i], &net->issuers[net->nissuers++]);
                leave(l, o2);
            }
        }
        leave(l, old);
    }
    v = field(l, n, "acquirers", true);
    if (v) {
        size_t old = enter(l, "acquirers");

        if (want_seq(l, v, 1, BS_SC_MAX_ACQUIRERS)) {
            acquirers = v;
            for (size_t i = 0; i < v->n; i++) {
                size_t o2 = enter_idx(l, i);

                conv_acquirer(l, v->items[i], &net->acquirers[net->nacquirers++]);
                leave(l, o2);
            }
        }
        leave(l, old);
    }
    check_unique_ids(l, issuers, acquirers, net);
}

static int network_index(const struct bs_scenario *sc, const char *name)
{
    for (size_t i = 0; i < sc->nnetworks; i++)
        if (strcmp(sc->networks[i].name, name) == 0)
            return (int)i;
    return -1;
}

/* A network name at the current path; unknown names get a suggestion. */
static bool as_network(struct ld *l, const struct yn *n, int *out)
{
    const char *names[BS_SC_MAX_NETWORKS];
    const char *near;

    if (!is_scalar(n)) {
        type_error(l, n, "a network name");
        return false;
    }
    *out = network_index(l->sc, n->str);
    if (*out >= 0)
        return true;
    for (size_t i = 0; i < l->sc->nnetworks; i++)
        names[i] = l->sc->networks[i].name;
    near = bs__suggest(n->str, names, l->sc->nnetworks);
    if (near)
        bs__errf(l->e, &n->loc, "%s: '%s' is not a network of this scenario; did you mean '%s'?",
                 l->path, n->str, near);
    else
        bs__errf(l->e, &n->loc, "%s: '%s' is not a network of this scenario", l->path, n->str);
    return false;
}

static void conv_networks(struct ld *l, const struct yn *n)
{
    if (!want_map(l, n))
        return;
    if (n->n != BS_SC_MAX_NETWORKS)
        bs__errf(l->e, &n->loc, "networks: a scenario joins exactly %d networks, found %zu",
                 BS_SC_MAX_NETWORKS, n->n);
    for (size_t i = 0; i < n->n && i < BS_SC_MAX_NETWORKS; i++) {
        struct bs_sc_network *net = &l->sc->networks[l->sc->nnetworks];
        size_t old = enter(l, n->keys[i]->str);

        if (!as_ident(l, n->keys[i], net->name, sizeof(net->name), "network name")) {
            leave(l, old);
            continue;
        }
        if (strcmp(net->name, "bridge") == 0) {
            bs__errf(l->e, &n->keys[i]->loc, "networks: 'bridge' is reserved for the bridge node");
            net->name[0] = '\0';
            leave(l, old);
            continue;
        }
        l->sc->nnetworks++;
        conv_network(l, n->items[i], net);
        leave(l, old);
    }
}

/* Institution ids are unique within a network: they route DE 32/33 (GUIDE §3). */
static void check_inst_ids(struct ld *l, const struct yn *root)
{
    for (size_t ni = 0; ni < l->sc->nnetworks; ni++) {
        const struct bs_sc_network *net = &l->sc->networks[ni];
        const char *ids[2 + BS_SC_MAX_ISSUERS + BS_SC_MAX_ACQUIRERS];
        const char *who[2 + BS_SC_MAX_ISSUERS + BS_SC_MAX_ACQUIRERS];
        size_t n = 0;

        ids[n] = net->switch_inst_id;
        who[n++] = "switch";
        for (size_t i = 0; i < net->nissuers; i++) {
            ids[n] = net->issuers[i].inst_id;
            who[n++] = net->issuers[i].id;
        }
        for (size_t i = 0; i < net->nacquirers; i++) {
            ids[n] = net->acquirers[i].inst_id;
            who[n++] = net->acquirers[i].id;
        }
        ids[n] = l->sc->bridge.inst_id[ni];
        who[n++] = "bridge";
        for (size_t i = 1; i < n; i++) {
            for (size_t j = 0; j < i; j++) {
                if (ids[i][0] && strcmp(ids[i], ids[j]) == 0) {
                    const struct yn *nets = bs__yn_get(root, "networks", NULL);
                    const struct yn *at = nets ? bs__yn_get(nets, net->name, NULL) : NULL;

                    bs__errf(l->e, at ? &at->loc : NULL,
                             "networks.%s: '%s' and '%s' share institution id %s", net->name,
                             who[j], who[i], ids[i]);
                    break;
                }
            }
        }
    }
}

/* BIN ranges must not overlap anywhere: the bridge routes by BIN across both networks. */
static void check_bins(struct ld *l, const struct yn *root)
{
    struct {
        uint64_t lo, hi;
        int net;
        size_t is;
    } r[BS_SC_MAX_NETWORKS * BS_SC_MAX_ISSUERS * BS_SC_MAX_BINS];
    size_t n = 0;
    const struct yn *nets = bs__yn_get(root, "networks", NULL);

    for (size_t ni = 0; ni < l->sc->nnetworks; ni++) {
        const struct bs_sc_network *net = &l->sc->networks[ni];

        for (size_t i = 0; i < net->nissuers; i++) {
            for (size_t b = 0; b < net->issuers[i].nbins; b++) {
                const struct bs_sc_bin_range *br = &net->issuers[i].bins[b];
                uint64_t scale = 1;

                /* Compare as 8-digit prefixes so "2200-2204" and "22010000" meet. */
                for (int k = br->digits; k < 8; k++)
                    scale *= 10;
                r[n].lo = br->lo * scale;
                r[n].hi = (br->hi + 1) * scale - 1;
                r[n].net = (int)ni;
                r[n].is = i;
                for (size_t j = 0; j < n; j++) {
                    if (r[j].lo <= r[n].hi && r[n].lo <= r[j].hi) {
                        const struct yn *nn = nets ? bs__yn_get(nets, net->name, NULL) : NULL;
                        const struct yn *iss = nn ? bs__yn_get(nn, "issuers", NULL) : NULL;
                        const struct yn *at = iss && iss->type == YN_SEQ && i < iss->n
                                                  ? bs__yn_get(iss->items[i], "bins", NULL)
                                                  : NULL;
                        const struct bs_sc_network *onet = &l->sc->networks[r[j].net];

                        bs__errf(l->e, at ? &at->loc : NULL,
                                 "networks.%s.issuers.%zu.bins: BIN range of %s overlaps one "
                                 "of %s.%s; card routing by BIN would be ambiguous",
                                 net->name, i, net->issuers[i].id, onet->name,
                                 onet->issuers[r[j].is].id);
                        break;
                    }
                }
                n++;
            }
        }
    }
}

/* ---- settlement and fees (docs/settlement.md) -------------------------------------------- */

static const char *const fee_channels[] = { [BS_CH_POS] = "pos", [BS_CH_ATM] = "atm" };

/* "21:00Z" or "21:00:00Z": a UTC time of day, in µs after midnight. Digits only, no
 * spaces or signs; the Z makes it explicit that this is UTC, not a local time. */
static bool as_cutover(struct ld *l, const struct yn *n, bs_time_us *out)
{
    static const char shape6[] = "dd:ddZ", shape9[] = "dd:dd:ddZ";
    const char *shape = NULL;
    unsigned h, m, sec = 0;

    if (is_scalar(n))
        shape = n->len == 6 ? shape6 : n->len == 9 ? shape9 : NULL;
    for (size_t i = 0; shape && shape[i]; i++) {
        char c = n->str[i];
        if (shape[i] == 'd' ? (c < '0' || c > '9') : c != shape[i])
            shape = NULL;
    }
    if (!shape) {
        type_error(l, n, "a UTC time of day like \"21:00Z\" or \"21:00:00Z\"");
        return false;
    }
    h = (unsigned)(n->str[0] - '0') * 10 + (unsigned)(n->str[1] - '0');
    m = (unsigned)(n->str[3] - '0') * 10 + (unsigned)(n->str[4] - '0');
    if (shape == shape9)
        sec = (unsigned)(n->str[6] - '0') * 10 + (unsigned)(n->str[7] - '0');
    if (h > 23 || m > 59 || sec > 59) {
        bs__errf(l->e, &n->loc, "%s: '%s' is not a time of day (00:00Z to 23:59:59Z)", l->path,
                 n->str);
        return false;
    }
    *out = ((bs_time_us)h * 3600 + m * 60 + sec) * BS_US_PER_SEC;
    return true;
}

static void conv_settlement(struct ld *l, const struct yn *n)
{
    static const char *const keys[] = { "cutover", "rate" };
    const struct yn *v;

    if (!want_map(l, n))
        return;
    check_keys(l, n, keys, ARRAY_SIZE(keys));
    v = field(l, n, "cutover", false);
    if (v) {
        size_t old = enter(l, "cutover");

        as_cutover(l, v, &l->sc->settle_cutover);
        leave(l, old);
    }
    v = field(l, n, "rate", false);
    if (v) {
        size_t old = enter(l, "rate");
        int rc = is_scalar(v) ? bs__parse_decimal(v->str, 8, &l->sc->settle_rate_num,
                                                  &l->sc->settle_rate_scale)
                              : BS_EFORMAT;

        if (rc == BS_ERANGE)
            bs__errf(l->e, &v->loc, "%s: at most 8 fractional digits, got '%s'", l->path, v->str);
        else if (rc == BS_EOVERFLOW)
            bs__errf(l->e, &v->loc, "%s: '%s' is too large", l->path, v->str);
        else if (rc)
            type_error(l, v,
                       "a decimal rate like \"4510.25\" (the fx pair's quote units per base unit)");
        else if (l->sc->settle_rate_num == 0)
            bs__errf(l->e, &v->loc, "%s: the rate must be greater than 0", l->path);
        leave(l, old);
    }
}

/* {RUB: 10000, IRR: 500000}: money per network, keyed by the networks' currency codes. */
static void conv_per_currency(struct ld *l, const struct yn *n, int64_t out[BS_SC_MAX_NETWORKS])
{
    const char *codes[BS_SC_MAX_NETWORKS];

    if (!want_map(l, n))
        return;
    for (size_t i = 0; i < l->sc->nnetworks; i++)
        codes[i] = l->sc->networks[i].currency.code;
    for (size_t i = 0; i < n->n; i++) {
        const struct yn *k = n->keys[i];
        size_t ni = l->sc->nnetworks, old;
        uint64_t v;

        for (size_t j = 0; j < l->sc->nnetworks; j++)
            if (strcmp(k->str, codes[j]) == 0)
                ni = j;
        if (ni == l->sc->nnetworks) {
            const char *near = bs__suggest(k->str, codes, l->sc->nnetworks);

            if (near)
                bs__errf(l->e, &k->loc, "%s: unknown currency '%s'; did you mean '%s'?", l->path,
                         k->str, near);
            else if (l->sc->nnetworks == 2)
                bs__errf(l->e, &k->loc, "%s: '%s' is not a network's currency; use %s or %s",
                         l->path, k->str, codes[0], codes[1]);
            else
                bs__errf(l->e, &k->loc, "%s: '%s' is not a network's currency", l->path, k->str);
            continue;
        }
        old = enter(l, k->str);
        if (as_uint(l, n->items[i], 0, (uint64_t)MAX_MONEY, &v))
            out[ni] = (int64_t)v;
        leave(l, old);
    }
}

static void conv_fees(struct ld *l, const struct yn *n)
{
    static const char *const keys[] = { "interchange", "bridge" };
    static const char *const ic_keys[] = { "atm_fixed", "pos_bps" };
    const struct yn *v, *w;
    uint64_t bps;
    size_t old, o2;

    if (!want_map(l, n))
        return;
    check_keys(l, n, keys, ARRAY_SIZE(keys));
    v = field(l, n, "interchange", false);
    if (v) {
        old = enter(l, "interchange");
        if (want_map(l, v)) {
            check_keys(l, v, ic_keys, ARRAY_SIZE(ic_keys));
            w = field(l, v, "atm_fixed", false);
            if (w) {
                o2 = enter(l, "atm_fixed");
                conv_per_currency(l, w, l->sc->fee_atm_interchange);
                leave(l, o2);
            }
            if (opt_uint(l, v, "pos_bps", false, 0, 10000, &bps) > 0)
                l->sc->fee_pos_interchange_bps = (uint32_t)bps;
        }
        leave(l, old);
    }
    v = field(l, n, "bridge", false);
    if (v) {
        old = enter(l, "bridge");
        if (want_map(l, v)) {
            check_keys(l, v, fee_channels, ARRAY_SIZE(fee_channels));
            for (size_t c = 0; c < BS_CH_COUNT; c++) {
                w = field(l, v, fee_channels[c], false);
                if (w) {
                    o2 = enter(l, fee_channels[c]);
                    conv_per_currency(l, w, l->sc->fee_bridge[c]);
                    leave(l, o2);
                }
            }
        }
        leave(l, old);
    }
}

/* A rate "4510.25": quote units per base unit, > 0, at most 8 fractional digits. */
static void conv_fx_rate(struct ld *l, const struct yn *rate, int64_t *num, uint8_t *scale)
{
    int rc = is_scalar(rate) ? bs__parse_decimal(rate->str, 8, num, scale) : BS_EFORMAT;

    if (rc == BS_ERANGE)
        bs__errf(l->e, &rate->loc, "%s: at most 8 fractional digits, got '%s'", l->path, rate->str);
    else if (rc == BS_EOVERFLOW)
        bs__errf(l->e, &rate->loc, "%s: '%s' is too large", l->path, rate->str);
    else if (rc)
        type_error(l, rate, "a decimal rate like \"4510.25\" (quote units per base unit)");
    else if (*num == 0)
        bs__errf(l->e, &rate->loc, "%s: the rate must be greater than 0", l->path);
}

/*
 * `fx.rates`: the mid rate changes during the run, [{at: 3h, rate: "4600.00"}, ...]; `at`
 * is a time after time.start (like a fault's), strictly increasing from one entry to the
 * next, each rate as `fx.rate`.
 */
static void conv_fx_changes(struct ld *l, const struct yn *fx, struct bs_sc_bridge *br)
{
    static const char *const keys[] = { "at", "rate" };
    const struct yn *v = field(l, fx, "rates", false);
    size_t old;

    if (!v)
        return;
    old = enter(l, "rates");
    if (want_seq(l, v, 0, BS_SC_MAX_FX_CHANGES)) {
        for (size_t i = 0; i < v->n; i++) {
            size_t o2 = enter_idx(l, i);
            const struct yn *e = v->items[i], *rate;
            struct bs_sc_fx_change *c = &br->fx_changes[br->nfx_changes];

            if (want_map(l, e)) {
                check_keys(l, e, keys, ARRAY_SIZE(keys));
                if (opt_dur(l, e, "at", true, true, &c->at) > 0 && br->nfx_changes &&
                    c->at <= br->fx_changes[br->nfx_changes - 1].at)
                    bs__errf(l->e, &bs__yn_get(e, "at", NULL)->loc,
                             "%s.at: rate changes must be in time order, each later than the one "
                             "before",
                             l->path);
                rate = field(l, e, "rate", true);
                if (rate) {
                    size_t o3 = enter(l, "rate");

                    conv_fx_rate(l, rate, &c->rate_num, &c->rate_scale);
                    leave(l, o3);
                }
                br->nfx_changes++;
            }
            leave(l, o2);
        }
    }
    leave(l, old);
}

static void conv_bridge(struct ld *l, const struct yn *n)
{
    static const char *const keys[] = {
        "inst_id",    "fx",      "processing",  "stand_in",
        "settlement", "workers", "queue_limit", "network_management"
    };
    static const char *const fx_keys[] = { "pair", "rate", "markup_bps", "rates" };
    struct bs_sc_bridge *br = &l->sc->bridge;
    const struct yn *v;

    if (!want_map(l, n))
        return;
    check_keys(l, n, keys, ARRAY_SIZE(keys));
    v = field(l, n, "inst_id", true);
    if (v) {
        size_t old = enter(l, "inst_id");

        if (want_map(l, v)) {
            for (size_t i = 0; i < v->n; i++) {
                int ni;

                /* The key is checked at bridge.inst_id, its value one level down. */
                if (as_network(l, v->keys[i], &ni)) {
                    size_t o2 = enter(l, v->keys[i]->str);

                    as_inst_id(l, v->items[i], br->inst_id[ni]);
                    leave(l, o2);
                }
            }
            for (size_t i = 0; i < l->sc->nnetworks; i++)
                if (!bs__yn_get(v, l->sc->networks[i].name, NULL))
                    bs__errf(l->e, &v->loc,
                             "bridge.inst_id: missing the bridge's institution id in network '%s'",
                             l->sc->networks[i].name);
        }
        leave(l, old);
    }
    v = field(l, n, "fx", true);
    if (v) {
        size_t old = enter(l, "fx");
        uint64_t bps;

        if (want_map(l, v)) {
            const struct yn *pair = field(l, v, "pair", true);
            const struct yn *rate = field(l, v, "rate", true);

            check_keys(l, v, fx_keys, ARRAY_SIZE(fx_keys));
            if (pair) {
                size_t o2 = enter(l, "pair");

                if (!is_scalar(pair) || pair->len != 7 || pair->str[3] != '/') {
                    type_error(l, pair, "a currency pair like \"RUB/IRR\"");
                } else {
                    memcpy(br->fx_base, pair->str, 3);
                    memcpy(br->fx_quote, pair->str + 4, 3);
                    br->fx_base[3] = br->fx_quote[3] = '\0';
                    if (l->sc->nnetworks == 2 &&
                        !((strcmp(br->fx_base, l->sc->networks[0].currency.code) == 0 &&
                           strcmp(br->fx_quote, l->sc->networks[1].currency.code) == 0) ||
                          (strcmp(br->fx_base, l->sc->networks[1].currency.code) == 0 &&
                           strcmp(br->fx_quote, l->sc->networks[0].currency.code) == 0)) &&
                        l->sc->networks[0].currency.code[0] && l->sc->networks[1].currency.code[0])
                        bs__errf(l->e, &pair->loc,
                                 "%s: the pair must join the networks' currencies %s and %s, "
                                 "got %s",
                                 l->path, l->sc->networks[0].currency.code,
                                 l->sc->networks[1].currency.code, pair->str);
                }
                leave(l, o2);
            }
            if (rate) {
                size_t o2 = enter(l, "rate");

                conv_fx_rate(l, rate, &br->rate_num, &br->rate_scale);
                leave(l, o2);
            }
            if (opt_uint(l, v, "markup_bps", false, 0, 10000, &bps) > 0)
                br->markup_bps = (uint32_t)bps;
            conv_fx_changes(l, v, br);
        }
        leave(l, old);
    }
    br->processing = constant_dist(DEFAULT_PROCESSING);
    opt_processing(l, n, &br->processing, &br->processing_mti);
    conv_capacity(l, n, &br->workers, &br->queue_limit);
    for (size_t i = 0; i < BS_SC_MAX_NETWORKS; i++)
        br->stip[i].saf_window = 16;
    v = field(l, n, "stand_in", false);
    if (v) {
        size_t old = enter(l, "stand_in");

        /* Keyed by the card's network: {mir: {mode: limits, pos: ...}, shetab: off}. */
        if (want_map(l, v)) {
            for (size_t i = 0; i < v->n; i++) {
                int ni;

                if (as_network(l, v->keys[i], &ni)) {
                    size_t o2 = enter(l, v->keys[i]->str);

                    conv_stip(l, v->items[i], &br->stip[ni]);
                    leave(l, o2);
                }
            }
        }
        leave(l, old);
    }
    v = field(l, n, "settlement", false);
    if (v) {
        size_t old = enter(l, "settlement");

        conv_settlement(l, v);
        leave(l, old);
    }
    netmgmt_defaults(&br->netmgmt);
    if ((v = field(l, n, "network_management", false)) != NULL) {
        size_t old = enter(l, "network_management");
        conv_netmgmt(l, v, &br->netmgmt, "bridge");
        leave(l, old);
    }
}

static const char *const timer_names[] = { "issuer", "stand_in", "bridge", "acquirer", "terminal" };
static const char *const channel_names[] = { [BS_CH_POS] = "pos", [BS_CH_ATM] = "atm" };

static bs_time_us *timer_slot(struct bs_sc_timers *t, size_t i)
{
    bs_time_us *slots[] = { &t->issuer, &t->stand_in, &t->bridge, &t->acquirer, &t->terminal };

    return slots[i];
}

static void conv_timers(struct ld *l, const struct yn *n)
{
    if (n && !want_map(l, n))
        return;
    if (n)
        check_keys(l, n, channel_names, ARRAY_SIZE(channel_names));
    for (size_t c = 0; c < BS_CH_COUNT; c++) {
        const struct yn *ch = n ? bs__yn_get(n, channel_names[c], NULL) : NULL;
        struct bs_sc_timers *t = &l->sc->timers[c];
        bool ok = true;
        size_t old;

        if (!ch)
            continue;
        old = enter(l, channel_names[c]);
        if (!want_map(l, ch)) {
            leave(l, old);
            continue;
        }
        check_keys(l, ch, timer_names, ARRAY_SIZE(timer_names));
        for (size_t i = 0; i < ARRAY_SIZE(timer_names); i++)
            ok &= opt_dur(l, ch, timer_names[i], false, true, timer_slot(t, i)) >= 0;
        /* GUIDE §3: each budget must expire before the one of the hop that waits on it. */
        for (size_t i = 0; ok && i + 1 < ARRAY_SIZE(timer_names); i++) {
            bs_time_us a = *timer_slot(t, i), b = *timer_slot(t, i + 1);
            const struct yn *at = bs__yn_get(ch, timer_names[i + 1], NULL);
            char sa[32], sb[32];

            if (a < b)
                continue;
            if (!at)
                at = bs__yn_get(ch, timer_names[i], NULL);
            bs__format_duration(a, sa, sizeof(sa));
            bs__format_duration(b, sb, sizeof(sb));
            bs__errf(l->e, at ? &at->loc : &ch->loc,
                     "%s: %s (%s) must be shorter than %s (%s); timers nest issuer < stand_in "
                     "< bridge < acquirer < terminal",
                     l->path, timer_names[i], sa, timer_names[i + 1], sb);
        }
        leave(l, old);
    }
}

/* Every node of a scenario, in the order bs_scenario_node_names() documents. */
size_t bs_scenario_node_names(const struct bs_scenario *sc, char (*names)[BS_SC_NAME_MAX],
                              size_t cap)
{
    size_t n = 0;

#define EMIT(...)                                            \
    do {                                                     \
        if (n < cap)                                         \
            snprintf(names[n], BS_SC_NAME_MAX, __VA_ARGS__); \
        n++;                                                 \
    } while (0)
    for (size_t i = 0; i < sc->nnetworks; i++) {
        const struct bs_sc_network *net = &sc->networks[i];

        EMIT("%s.switch", net->name);
        for (size_t j = 0; j < net->nissuers; j++)
            if (net->issuers[j].id[0])
                EMIT("%s.%s", net->name, net->issuers[j].id);
        for (size_t j = 0; j < net->nacquirers; j++) {
            if (!net->acquirers[j].id[0])
                continue;
            EMIT("%s.%s", net->name, net->acquirers[j].id);
            EMIT("%s.%s.terminals", net->name, net->acquirers[j].id);
        }
    }
    EMIT("bridge");
#undef EMIT
    return n;
}

/*
 * A loss model at the current path: a probability, `{model: bernoulli, p: P}`, or
 * `{model: gilbert-elliott, p: P, r: R, loss_good: G, loss_bad: B}` (bursts; struct
 * bs_sc_ge). Bernoulli goes to *@p (when @p is not NULL; a loss fault's probability is its
 * selector `p`), Gilbert–Elliott to *@ge.
 */
static void conv_loss(struct ld *l, const struct yn *v, double *p, struct bs_sc_ge *ge)
{
    static const char *const bern_keys[] = { "model", "p" };
    static const char *const ge_keys[] = { "model", "p", "r", "loss_good", "loss_bad" };
    static const char *const models[] = { "bernoulli", "gilbert-elliott" };
    int model = 0;

    if (v->type != YN_MAP) {
        if (p)
            as_num(l, v, 0, 1, false, p);
        else
            type_error(l, v, "a loss model like {model: gilbert-elliott, p: 0.01, r: 0.3}");
        return;
    }
    if (opt_enum(l, v, "model", true, models, ARRAY_SIZE(models), &model) <= 0)
        return;
    if (model == 0) {
        check_keys(l, v, bern_keys, ARRAY_SIZE(bern_keys));
        if (p)
            opt_num(l, v, "p", true, 0, 1, false, p);
        else
            bs__errf(l->e, &v->loc,
                     "%s: a loss fault's Bernoulli probability is the fault's 'p'; 'loss' "
                     "here takes {model: gilbert-elliott, ...}",
                     l->path);
        return;
    }
    check_keys(l, v, ge_keys, ARRAY_SIZE(ge_keys));
    ge->loss_good = 0;
    ge->loss_bad = 1;
    opt_num(l, v, "p", true, 0, 1, false, &ge->p);
    opt_num(l, v, "r", true, 0, 1, true, &ge->r);
    opt_num(l, v, "loss_good", false, 0, 1, false, &ge->loss_good);
    opt_num(l, v, "loss_bad", false, 0, 1, false, &ge->loss_bad);
    ge->enabled = true;
}

/*
 * A link's `capacity` (per direction): {max_in_flight: N, overflow: drop|backpressure,
 * queue_limit: N, bytes_per_s: N}; see struct bs_sc_link_capacity.
 */
static void conv_link_capacity(struct ld *l, const struct yn *v, struct bs_sc_link_capacity *c)
{
    static const char *const keys[] = { "max_in_flight", "overflow", "queue_limit", "bytes_per_s" };
    static const char *const overflows[] = { "drop", "backpressure" };
    uint64_t u;
    int ov = 0, has_ov, has_q;

    c->queue_limit = -1;
    if (!want_map(l, v))
        return;
    check_keys(l, v, keys, ARRAY_SIZE(keys));
    /* Bounds as BS_CAPACITY_MAX_WORKERS / _QUEUE in sim/engine/capacity.h: the slots are
     * its workers, the sender's queue its queue. */
    if (opt_uint(l, v, "max_in_flight", false, 1, 100000, &u) > 0)
        c->max_in_flight = (uint32_t)u;
    has_ov = opt_enum(l, v, "overflow", false, overflows, ARRAY_SIZE(overflows), &ov);
    c->backpressure = ov == 1;
    has_q = opt_uint(l, v, "queue_limit", false, 0, 10000000, &u);
    if (has_q > 0)
        c->queue_limit = (int64_t)u;
    else if (c->backpressure)
        c->queue_limit = DEFAULT_LINK_QUEUE;
    if (opt_uint(l, v, "bytes_per_s", false, 1, UINT64_C(1000000000000), &u) > 0)
        c->bytes_per_s = u;
    if (has_ov > 0 && !c->max_in_flight)
        bs__errf(l->e, &v->loc, "%s: 'overflow' needs 'max_in_flight': what overflows", l->path);
    if (has_q > 0 && !c->backpressure)
        bs__errf(l->e, &bs__yn_get(v, "queue_limit", NULL)->loc,
                 "%s.queue_limit: only a backpressure queue has a limit; add 'overflow: "
                 "backpressure'",
                 l->path);
    if (v->n == 0)
        bs__errf(l->e, &v->loc, "%s: give max_in_flight and/or bytes_per_s", l->path);
}

/*
 * A link's `latency`: one time distribution for both directions, or
 * {a_to_b: DIST, b_to_a: DIST} (a and b as in `between`), each direction its own.
 */
static void conv_link_latency(struct ld *l, const struct yn *v, struct bs_sc_link *lk)
{
    static const char *const keys[] = { "a_to_b", "b_to_a" };

    if (v->type != YN_MAP || (!bs__yn_get(v, "a_to_b", NULL) && !bs__yn_get(v, "b_to_a", NULL))) {
        as_dist(l, v, DU_TIME, &lk->latency, NULL);
        return;
    }
    check_keys(l, v, keys, ARRAY_SIZE(keys));
    lk->split = true;
    opt_dist(l, v, "a_to_b", true, DU_TIME, &lk->latency, NULL);
    opt_dist(l, v, "b_to_a", true, DU_TIME, &lk->latency_ba, NULL);
}

static void check_link(struct ld *l, const struct yn *v, const char *a, const char *b);

static void conv_link(struct ld *l, const struct yn *n, struct bs_sc_link *lk,
                      char (*nodes)[BS_SC_NAME_MAX], size_t nnodes)
{
    static const char *const keys[] = { "between", "latency", "correlation", "loss", "capacity" };
    const char *cands[BS_SC_MAX_NODES];
    const struct yn *v;

    for (size_t i = 0; i < nnodes; i++)
        cands[i] = nodes[i];
    lk->line = n->loc.line;
    lk->column = n->loc.col;
    if (!want_map(l, n))
        return;
    check_keys(l, n, keys, ARRAY_SIZE(keys));
    v = field(l, n, "between", true);
    if (v) {
        size_t old = enter(l, "between");

        if (v->type != YN_SEQ || v->n != 2) {
            type_error(l, v, "a list of two node names like [mir.switch, bridge]");
        } else {
            for (size_t e = 0; e < 2; e++) {
                const struct yn *ep = v->items[e];
                char *dst = e ? lk->b : lk->a;
                const char *near;
                bool known = false;

                if (!is_scalar(ep)) {
                    size_t o2 = enter_idx(l, e);

                    type_error(l, ep, "a node name");
                    leave(l, o2);
                    continue;
                }
                for (size_t i = 0; i < nnodes && !known; i++)
                    known = strcmp(ep->str, nodes[i]) == 0;
                if (known) {
                    snprintf(dst, BS_SC_NAME_MAX, "%s", ep->str);
                    continue;
                }
                near = bs__suggest(ep->str, cands, nnodes);
                if (near)
                    bs__errf(l->e, &ep->loc, "link endpoint '%s' is not a node; did you mean '%s'?",
                             ep->str, near);
                else
                    bs__errf(l->e, &ep->loc,
                             "link endpoint '%s' is not a node; nodes are <net>.switch, "
                             "<net>.<issuer id>, <net>.<acquirer id>, "
                             "<net>.<acquirer id>.terminals and bridge",
                             ep->str);
            }
            /* Routing is fixed: a latency or loss on a pair no message crosses would never
             * take effect, so such an entry is an error like a fault on it. */
            if (lk->a[0] && lk->b[0])
                check_link(l, v, lk->a, lk->b);
        }
        leave(l, old);
    }
    lk->latency = l->sc->default_latency;
    lk->cap.queue_limit = -1;
    if ((v = field(l, n, "latency", false)) != NULL) {
        size_t old = enter(l, "latency");
        conv_link_latency(l, v, lk);
        leave(l, old);
    }
    if ((v = field(l, n, "correlation", false)) != NULL) {
        size_t old = enter(l, "correlation");
        if (as_num(l, v, 0, 1, false, &lk->correlation) && lk->correlation >= 1) {
            bs__errf(l->e, &v->loc,
                     "%s: must be below 1 (1 would repeat the first latency for ever)", l->path);
            lk->correlation = 0;
        }
        leave(l, old);
    }
    if ((v = field(l, n, "loss", false)) != NULL) {
        size_t old = enter(l, "loss");
        conv_loss(l, v, &lk->loss, &lk->ge);
        leave(l, old);
    }
    if ((v = field(l, n, "capacity", false)) != NULL) {
        size_t old = enter(l, "capacity");
        conv_link_capacity(l, v, &lk->cap);
        leave(l, old);
    }
}

static void conv_links(struct ld *l, const struct yn *n)
{
    static const char *const keys[] = { "defaults", "list" };
    static const char *const def_keys[] = { "latency" };
    char(*nodes)[BS_SC_NAME_MAX];
    size_t nnodes;
    const struct yn *v;

    l->sc->default_latency = constant_dist(DEFAULT_LATENCY);
    if (!n)
        return;
    if (!want_map(l, n))
        return;
    check_keys(l, n, keys, ARRAY_SIZE(keys));
    v = field(l, n, "defaults", false);
    if (v) {
        size_t old = enter(l, "defaults");

        if (want_map(l, v)) {
            check_keys(l, v, def_keys, ARRAY_SIZE(def_keys));
            opt_dist(l, v, "latency", false, DU_TIME, &l->sc->default_latency, NULL);
        }
        leave(l, old);
    }
    v = field(l, n, "list", false);
    if (!v)
        return;
    nodes = bs_calloc(BS_SC_MAX_NODES, sizeof(*nodes));
    if (!nodes) {
        l->e->nomem = true;
        return;
    }
    nnodes = bs_scenario_node_names(l->sc, nodes, BS_SC_MAX_NODES);
    {
        size_t old = enter(l, "list");

        if (want_seq(l, v, 0, BS_SC_MAX_LINKS)) {
            for (size_t i = 0; i < v->n; i++) {
                size_t o2 = enter_idx(l, i);
                struct bs_sc_link *lk = &l->sc->links[l->sc->nlinks];

                conv_link(l, v->items[i], lk, nodes, nnodes);
                if (lk->a[0] && lk->b[0]) {
                    for (size_t j = 0; j < l->sc->nlinks; j++) {
                        const struct bs_sc_link *o = &l->sc->links[j];

                        if ((strcmp(o->a, lk->a) == 0 && strcmp(o->b, lk->b) == 0) ||
                            (strcmp(o->a, lk->b) == 0 && strcmp(o->b, lk->a) == 0)) {
                            bs__errf(l->e, &v->items[i]->loc,
                                     "%s: duplicate link between '%s' and '%s' (first at line "
                                     "%d)",
                                     l->path, lk->a, lk->b, o->line);
                            break;
                        }
                    }
                }
                l->sc->nlinks++;
                leave(l, o2);
            }
        }
        leave(l, old);
    }
    bs_free(nodes);
}

static void conv_flow(struct ld *l, const struct yn *n, struct bs_sc_flow *f, int *has_share)
{
    static const char *const keys[] = { "from", "cards",  "share",
                                        "mix",  "amount", "unknown_card_share" };
    const char *mix_keys[BS_TXN_TYPE_COUNT];
    const struct yn *v, *cur = NULL;
    bool have_from = false, have_cards = false;

    for (unsigned i = 0; i < BS_TXN_TYPE_COUNT; i++)
        mix_keys[i] = bs_txn_type_name(i);
    f->from = f->cards = -1;
    *has_share = 0;
    if (!want_map(l, n))
        return;
    check_keys(l, n, keys, ARRAY_SIZE(keys));
    v = field(l, n, "from", true);
    if (v) {
        size_t old = enter(l, "from");

        have_from = as_network(l, v, &f->from);
        leave(l, old);
    }
    v = field(l, n, "cards", true);
    if (v) {
        size_t old = enter(l, "cards");

        have_cards = as_network(l, v, &f->cards);
        leave(l, old);
    }
    if (have_from && have_cards && f->from == f->cards)
        bs__errf(l->e, &v->loc, "%s: a flow must be cross-network: from and cards are both '%s'",
                 l->path, l->sc->networks[f->from].name);
    *has_share = opt_num(l, n, "share", false, 0, 1, true, &f->share);
    f->mix[BS_TXN_PURCHASE] = 1;
    v = field(l, n, "mix", false);
    if (v) {
        size_t old = enter(l, "mix");

        if (want_map(l, v)) {
            bool ok = true;
            double sum = 0;

            check_keys(l, v, mix_keys, ARRAY_SIZE(mix_keys));
            f->mix[BS_TXN_PURCHASE] = 0;
            for (size_t i = 0; i < BS_TXN_TYPE_COUNT; i++) {
                ok &= opt_num(l, v, mix_keys[i], false, 0, 1, false, &f->mix[i]) >= 0;
                sum += f->mix[i];
            }
            if (ok && fabs(sum - 1) > 1e-6)
                bs__errf(l->e, &v->loc, "%s: shares sum to %.9g, not 1", l->path, sum);
        }
        leave(l, old);
    }
    if (opt_dist(l, n, "amount", true, DU_MONEY, &f->amount, &cur) > 0) {
        const struct yn *an = bs__yn_get(n, "amount", NULL);

        if ((f->amount.has_max && f->amount.max > DE4_MAX) ||
            (f->amount.kind == BS_DIST_CONSTANT && f->amount.a > DE4_MAX))
            bs__errf(l->e, &an->loc, "%s.amount: amounts above %.0f do not fit DE 4 (n 12)",
                     l->path, DE4_MAX);
    }
    if (cur) {
        size_t old = enter(l, "amount.currency");

        if (!is_scalar(cur))
            type_error(l, cur, "a currency code");
        else if (have_from && strcmp(cur->str, l->sc->networks[f->from].currency.code) != 0 &&
                 l->sc->networks[f->from].currency.code[0])
            bs__errf(l->e, &cur->loc,
                     "%s: amounts are in the acquirer's currency %s (network '%s'), not %s",
                     l->path, l->sc->networks[f->from].currency.code, l->sc->networks[f->from].name,
                     cur->str);
        leave(l, old);
    }
    opt_num(l, n, "unknown_card_share", false, 0, 1, false, &f->unknown_card_share);
}

static const char *const arrival_names[] = {
    [BS_ARRIVAL_POISSON] = "poisson", [BS_ARRIVAL_CONSTANT] = "constant",
    [BS_ARRIVAL_RAMP] = "ramp",       [BS_ARRIVAL_STEP] = "step",
    [BS_ARRIVAL_SPIKE] = "spike",     [BS_ARRIVAL_DIURNAL] = "diurnal",
};

/* A time of day "18:00Z" at @key of @map, µs after 00:00 UTC (diurnal peak and trough). */
static int opt_time_of_day(struct ld *l, const struct yn *map, const char *key, bs_time_us *out)
{
    const struct yn *v = field(l, map, key, true);
    size_t old;
    bool ok;

    if (!v)
        return 0;
    old = enter(l, key);
    ok = as_cutover(l, v, out);
    leave(l, old);
    return ok ? 1 : -1;
}

static void conv_steps(struct ld *l, const struct yn *v, struct bs_sc_arrivals *a)
{
    static const char *const keys[] = { "at", "rate_tps" };

    if (!want_seq(l, v, 1, BS_SC_MAX_STEPS))
        return;
    for (size_t i = 0; i < v->n; i++) {
        const struct yn *st = v->items[i];
        struct bs_sc_rate_step *s = &a->steps[a->nsteps];
        size_t old = enter_idx(l, i);
        int has_at;

        if (want_map(l, st)) {
            check_keys(l, st, keys, ARRAY_SIZE(keys));
            has_at = opt_dur(l, st, "at", true, false, &s->at);
            opt_num(l, st, "rate_tps", true, 0, MAX_TPS, false, &s->rate_tps);
            if (has_at > 0 && a->nsteps && s->at <= a->steps[a->nsteps - 1].at)
                bs__errf(l->e, &bs__yn_get(st, "at", NULL)->loc,
                         "%s.at: steps must be in time order, each later than the one before",
                         l->path);
            a->nsteps++;
        }
        leave(l, old);
    }
}

static void conv_diurnal(struct ld *l, const struct yn *n, struct bs_sc_arrivals *a)
{
    const struct yn *h = bs__yn_get(n, "hourly", NULL);

    if (h) {
        size_t old = enter(l, "hourly");
        double sum = 0;
        bool ok = true;

        if (h->type == YN_SEQ && h->n != 24) {
            bs__errf(l->e, &h->loc, "%s: needs 24 multipliers, one per hour from 00 UTC, found %zu",
                     l->path, h->n);
        } else if (want_seq(l, h, 24, 24)) {
            for (size_t i = 0; i < 24; i++) {
                size_t o2 = enter_idx(l, i);

                ok &= as_num(l, h->items[i], 0, 1e6, false, &a->hourly[i]);
                sum += a->hourly[i];
                leave(l, o2);
            }
            if (ok && !(sum > 0))
                bs__errf(l->e, &h->loc, "%s: every multiplier is 0; nothing would arrive", l->path);
            a->has_hourly = true;
        }
        leave(l, old);
        if (bs__yn_get(n, "peak", NULL) || bs__yn_get(n, "trough", NULL) ||
            bs__yn_get(n, "trough_ratio", NULL))
            bs__errf(l->e, &n->loc,
                     "%s: give hourly multipliers or peak, trough and trough_ratio, not both",
                     l->path);
        return;
    }
    a->trough_ratio = 0.1;
    if (opt_time_of_day(l, n, "peak", &a->peak) > 0 &&
        opt_time_of_day(l, n, "trough", &a->trough) > 0 && a->peak == a->trough)
        bs__errf(l->e, &bs__yn_get(n, "trough", NULL)->loc,
                 "%s.trough: the trough must be at another time of day than the peak", l->path);
    opt_num(l, n, "trough_ratio", false, 0, 1, false, &a->trough_ratio);
}

/*
 * workload.arrivals: a process name (poisson, constant) or a mapping {process: KIND, ...}
 * with the parameters of the time-varying ones (configs/README.md "workload.arrivals").
 */
static void conv_arrivals(struct ld *l, const struct yn *n, struct bs_sc_workload *w)
{
    static const char *const keys[][5] = {
        [BS_ARRIVAL_POISSON] = { "process" },
        [BS_ARRIVAL_CONSTANT] = { "process" },
        [BS_ARRIVAL_RAMP] = { "process", "to_tps", "over", "at" },
        [BS_ARRIVAL_STEP] = { "process", "steps" },
        [BS_ARRIVAL_SPIKE] = { "process", "spike_tps", "at", "for" },
        [BS_ARRIVAL_DIURNAL] = { "process", "hourly", "peak", "trough", "trough_ratio" },
    };
    static const size_t nkeys[] = { 1, 1, 4, 2, 4, 5 };
    struct bs_sc_arrivals *a = &w->process;
    const struct yn *v;
    int kind;

    if (n->type != YN_MAP) {
        if (!as_enum(l, n, arrival_names, ARRAY_SIZE(arrival_names), &kind))
            return;
        w->arrivals = (enum bs_arrival)kind;
        if (bs_arrival_varies(w))
            bs__errf(l->e, &n->loc, "%s: %s needs its parameters: write {process: %s, ...}",
                     l->path, n->str, n->str);
        return;
    }
    if (opt_enum(l, n, "process", true, arrival_names, ARRAY_SIZE(arrival_names), &kind) <= 0)
        return;
    w->arrivals = (enum bs_arrival)kind;
    check_keys(l, n, keys[kind], nkeys[kind]);
    switch (w->arrivals) {
    case BS_ARRIVAL_RAMP:
        opt_num(l, n, "to_tps", true, 0, MAX_TPS, false, &a->to_tps);
        opt_dur(l, n, "over", true, true, &a->over);
        opt_dur(l, n, "at", false, false, &a->at);
        break;
    case BS_ARRIVAL_STEP:
        if ((v = field(l, n, "steps", true)) != NULL) {
            size_t old = enter(l, "steps");

            conv_steps(l, v, a);
            leave(l, old);
        }
        break;
    case BS_ARRIVAL_SPIKE:
        opt_num(l, n, "spike_tps", true, 0, MAX_TPS, false, &a->spike_tps);
        opt_dur(l, n, "at", true, false, &a->at);
        opt_dur(l, n, "for", true, true, &a->duration);
        break;
    case BS_ARRIVAL_DIURNAL:
        conv_diurnal(l, n, a);
        break;
    default:
        break;
    }
}

static void conv_workload(struct ld *l, const struct yn *n)
{
    static const char *const keys[] = { "rate_tps", "count", "duration", "arrivals", "flows" };
    struct bs_sc_workload *w = &l->sc->workload;
    const struct yn *v;
    int has_count, has_dur;

    if (!want_map(l, n))
        return;
    check_keys(l, n, keys, ARRAY_SIZE(keys));
    opt_num(l, n, "rate_tps", true, MIN_TPS, MAX_TPS, false, &w->rate_tps);
    has_count = opt_uint(l, n, "count", false, 0, UINT64_MAX, &w->count);
    has_dur = opt_dur(l, n, "duration", false, false, &w->duration);
    if (has_count >= 0 && has_dur >= 0 && w->count == 0 && w->duration == 0) {
        const struct yn *at = bs__yn_get(n, "count", NULL);

        if (!at)
            at = bs__yn_get(n, "duration", NULL);
        bs__errf(l->e, at ? &at->loc : &n->loc,
                 "workload: set count (transactions to offer) or duration; both are 0 or omitted");
    }
    if ((v = field(l, n, "arrivals", false)) != NULL) {
        size_t old = enter(l, "arrivals");

        conv_arrivals(l, v, w);
        leave(l, old);
    }
    v = field(l, n, "flows", true);
    if (v) {
        size_t old = enter(l, "flows");

        if (want_seq(l, v, 1, BS_SC_MAX_FLOWS)) {
            int given = 0, absent = 0, bad = 0;
            double sum = 0;

            for (size_t i = 0; i < v->n; i++) {
                size_t o2 = enter_idx(l, i);
                int has;

                conv_flow(l, v->items[i], &w->flows[w->nflows], &has);
                sum += w->flows[w->nflows].share;
                given += has > 0;
                absent += has == 0;
                bad += has < 0;
                w->nflows++;
                leave(l, o2);
            }
            /* Shares are all given or all omitted (then split evenly). */
            if (!bad && given && absent)
                bs__errf(l->e, &v->loc, "%s: give share on every flow or on none", l->path);
            else if (!bad && given && fabs(sum - 1) > 1e-6)
                bs__errf(l->e, &v->loc, "%s: shares sum to %.9g, not 1", l->path, sum);
            else if (!bad && !given)
                for (size_t i = 0; i < w->nflows; i++)
                    w->flows[i].share = 1.0 / (double)w->nflows;
        }
        leave(l, old);
    }
}

enum mkind {
    MK_RATE,    /* a fraction in [0, 1]; "93%" allowed */
    MK_LATENCY, /* milliseconds; units allowed */
    MK_COUNT,   /* a whole number */
};

static const struct {
    const char *name;
    enum mkind kind;
} metrics[] = {
    /* per transaction type: started, and approved (summary.json by_type) */
    { "purchases", MK_COUNT },
    { "purchases_approved", MK_COUNT },
    { "atm_withdrawals", MK_COUNT },
    { "atm_withdrawals_approved", MK_COUNT },
    { "refunds", MK_COUNT },
    { "refunds_approved", MK_COUNT },
    { "balance_inquiries", MK_COUNT },
    { "balance_inquiries_approved", MK_COUNT },
    { "cancellations", MK_COUNT },
    { "cancellations_approved", MK_COUNT },
    { "cancellations_requested", MK_COUNT },
    { "cancellations_applied", MK_COUNT },
    { "fx_rate_changes", MK_COUNT },
    { "approval_rate", MK_RATE },
    { "decline_rate", MK_RATE },
    { "timeout_rate", MK_RATE },
    { "latency_p50_ms", MK_LATENCY },
    { "latency_p90_ms", MK_LATENCY },
    { "latency_p99_ms", MK_LATENCY },
    { "latency_max_ms", MK_LATENCY },
    { "transactions", MK_COUNT },
    { "approved", MK_COUNT },
    { "declined", MK_COUNT },
    { "timeouts", MK_COUNT },
    { "reversals", MK_COUNT },
    { "reversals_applied", MK_COUNT },
    { "stand_ins", MK_COUNT },
    { "advices_applied", MK_COUNT },
    { "duplicates", MK_COUNT },
    { "duplicates_rejected", MK_COUNT },
    { "late_responses", MK_COUNT },
    { "signature_failures", MK_COUNT },
    { "format_errors", MK_COUNT },
    { "messages_lost", MK_COUNT },
    /* links with `capacity` (issue #5 §2) */
    { "messages_dropped_link_full", MK_COUNT },
    { "link_queued", MK_COUNT },
    /* network management (issue #4 §9): the counters of the same names */
    { "echoes_sent", MK_COUNT },
    { "echoes_missed", MK_COUNT },
    { "peers_down", MK_COUNT },
    { "peers_up", MK_COUNT },
    { "stand_in_peer_down", MK_COUNT },
    { "peer_down_declined", MK_COUNT },
    /* must stay last: stands for every rc_NN (is_rc_metric()) */
    { "rc_NN", MK_COUNT },
};
#define RC_METRIC (ARRAY_SIZE(metrics) - 1)

/* "rc_" and two digits: a count of one response code. */
static bool is_rc_metric(const char *s)
{
    return strncmp(s, "rc_", 3) == 0 && s[3] >= '0' && s[3] <= '9' && s[4] >= '0' && s[4] <= '9' &&
           !s[5];
}

static void conv_expect_one(struct ld *l, const struct yn *key, const struct yn *val)
{
    static const char *const ops[] = {
        [BS_OP_GE] = ">=", [BS_OP_LE] = "<=", [BS_OP_EQ] = "==", [BS_OP_GT] = ">", [BS_OP_LT] = "<"
    };
    static const enum bs_expect_op order[] = { BS_OP_GE, BS_OP_LE, BS_OP_EQ, BS_OP_GT, BS_OP_LT };
    const char *names[ARRAY_SIZE(metrics)];
    struct bs_sc_expect *x;
    const char *s, *near;
    char num[64];
    size_t m, len;
    int op = -1;
    double value;
    bool ok;

    for (m = 0; m < RC_METRIC; m++)
        if (strcmp(key->str, metrics[m].name) == 0)
            break;
    /* rc_NN: the transactions answered with response code NN (summary.json `outcomes`). */
    if (m == RC_METRIC && !is_rc_metric(key->str)) {
        if (strncmp(key->str, "rc_", 3) == 0) {
            bs__errf(l->e, &key->loc,
                     "expect: unknown metric '%s'; a response code count is rc_ and two digits, "
                     "like rc_61",
                     key->str);
            return;
        }
        m = ARRAY_SIZE(metrics);
    }
    if (m == ARRAY_SIZE(metrics)) {
        for (size_t i = 0; i < ARRAY_SIZE(metrics); i++)
            names[i] = metrics[i].name;
        near = bs__suggest(key->str, names, ARRAY_SIZE(metrics));
        if (near)
            bs__errf(l->e, &key->loc, "expect: unknown metric '%s'; did you mean '%s'?", key->str,
                     near);
        else
            bs__errf(l->e, &key->loc, "expect: unknown metric '%s'", key->str);
        return;
    }
    if (!is_scalar(val))
        goto syntax;
    s = val->str;
    while (*s == ' ')
        s++;
    for (size_t i = 0; i < ARRAY_SIZE(order) && op < 0; i++)
        if (strncmp(s, ops[order[i]], strlen(ops[order[i]])) == 0)
            op = (int)order[i];
    if (op < 0)
        goto syntax;
    s += strlen(ops[op]);
    while (*s == ' ')
        s++;
    len = strlen(s);
    while (len && s[len - 1] == ' ')
        len--;
    if (len == 0 || len >= sizeof(num))
        goto syntax;
    memcpy(num, s, len);
    num[len] = '\0';
    switch (metrics[m].kind) {
    case MK_RATE: {
        bool pct = num[len - 1] == '%';

        if (pct)
            num[--len] = '\0';
        if (bs__parse_number(num, &value))
            goto syntax;
        if (pct)
            value /= 100;
        ok = value >= 0 && value <= 1;
        if (!ok) {
            bs__errf(l->e, &val->loc, "expect.%s: a rate is between 0 and 1 (or 0%% and 100%%)",
                     key->str);
            return;
        }
        break;
    }
    case MK_LATENCY: {
        int64_t q;
        unsigned scale;

        if (bs__parse_duration(num, true, &q, &scale))
            goto syntax;
        value = (double)q / pow10i(scale) / 1000.0;
        break;
    }
    case MK_COUNT: {
        uint64_t u;

        if (bs__parse_uint(num, UINT64_MAX, &u))
            goto syntax;
        value = (double)u;
        break;
    }
    }
    if (l->sc->nexpect >= BS_SC_MAX_EXPECT) {
        bs__errf(l->e, &key->loc, "expect: at most %d expectations", BS_SC_MAX_EXPECT);
        return;
    }
    x = &l->sc->expect[l->sc->nexpect++];
    snprintf(x->metric, sizeof(x->metric), "%s", key->str);
    x->op = (enum bs_expect_op)op;
    x->value = value;
    x->line = key->loc.line;
    x->column = key->loc.col;
    return;

syntax:
    bs__errf(l->e, is_scalar(val) ? &val->loc : &key->loc,
             "expect.%s: expected \"OP VALUE\" with OP one of >= <= > < ==, like \"%s\"", key->str,
             metrics[m].kind == MK_RATE      ? ">= 0.95"
             : metrics[m].kind == MK_LATENCY ? "<= 2s"
                                             : ">= 1000");
}

static void conv_expect(struct ld *l, const struct yn *n)
{
    if (!want_map(l, n))
        return;
    for (size_t i = 0; i < n->n; i++) {
        /* Invariants are always checked; `invariants: all` (GUIDE §6) says so explicitly. */
        if (strcmp(n->keys[i]->str, "invariants") == 0) {
            if (!is_scalar(n->items[i]) || strcmp(n->items[i]->str, "all") != 0)
                bs__errf(l->e, &n->items[i]->loc,
                         "expect.invariants: the only value is 'all' (invariants are always "
                         "checked)");
            continue;
        }
        conv_expect_one(l, n->keys[i], n->items[i]);
    }
}

/* The file name without directory and .yaml/.yml extension: the default scenario name. */
/* ---- faults (issue #5) ------------------------------------------------------------------ */

static const char *const fault_kinds[BS_FAULT_KIND_COUNT] = {
    [BS_FAULT_LOSS] = "loss",           [BS_FAULT_DUPLICATE] = "duplicate",
    [BS_FAULT_REORDER] = "reorder",     [BS_FAULT_DELAY] = "delay",
    [BS_FAULT_CORRUPT] = "corrupt",     [BS_FAULT_CRASH] = "crash",
    [BS_FAULT_PAUSE] = "pause",         [BS_FAULT_SLOW] = "slow",
    [BS_FAULT_HANG] = "hang",           [BS_FAULT_FORCE_RC] = "force_rc",
    [BS_FAULT_WRONG_KEY] = "wrong_key", [BS_FAULT_CLOCK_SKEW] = "clock_skew",
    [BS_FAULT_PARTITION] = "partition", [BS_FAULT_SIGN_OFF] = "sign_off",
};

static const char *const corrupt_modes[] = {
    [BS_CORRUPT_BITFLIP] = "bitflip", [BS_CORRUPT_TRUNCATE] = "truncate",
    [BS_CORRUPT_BITMAP] = "bitmap",   [BS_CORRUPT_LENGTH] = "length",
    [BS_CORRUPT_FIELD] = "field",     [BS_CORRUPT_SIGNATURE] = "signature",
};

/* A node name that must exist; suggests the nearest one when it does not. */
static bool as_node(struct ld *l, const struct yn *n, char (*nodes)[BS_SC_NAME_MAX], size_t nn,
                    char out[BS_SC_NAME_MAX])
{
    const char *cands[BS_SC_MAX_NODES];
    const char *near;

    if (!is_scalar(n)) {
        type_error(l, n, "a node name");
        return false;
    }
    for (size_t i = 0; i < nn; i++) {
        cands[i] = nodes[i];
        if (strcmp(nodes[i], n->str) == 0) {
            snprintf(out, BS_SC_NAME_MAX, "%s", n->str);
            return true;
        }
    }
    near = bs__suggest(n->str, cands, nn);
    if (near)
        bs__errf(l->e, &n->loc, "%s: '%s' is not a node; did you mean '%s'?", l->path, n->str,
                 near);
    else
        bs__errf(l->e, &n->loc,
                 "%s: '%s' is not a node; nodes are <net>.switch, <net>.<issuer id>, "
                 "<net>.<acquirer id>, <net>.<acquirer id>.terminals and bridge",
                 l->path, n->str);
    return false;
}

static bool is_node_fault(enum bs_fault_kind k)
{
    return (k >= BS_FAULT_CRASH && k <= BS_FAULT_CLOCK_SKEW) || k == BS_FAULT_SIGN_OFF;
}

/*
 * The links messages cross: each network's switch to the bridge, to its issuers and to its
 * acquirers, and each acquirer to its terminals (routing is fixed; links.list only sets
 * their latency and loss). The @i-th pair into @a/@b. Return: whether there is an @i-th.
 */
static bool link_at(const struct bs_scenario *sc, size_t i, char *a, char *b)
{
    for (size_t n = 0; n < sc->nnetworks; n++) {
        const struct bs_sc_network *net = &sc->networks[n];
        size_t here = 1 + net->nissuers + 2 * net->nacquirers;

        if (i >= here) {
            i -= here;
            continue;
        }
        snprintf(a, BS_SC_NAME_MAX, "%s.switch", net->name);
        if (i == 0)
            snprintf(b, BS_SC_NAME_MAX, "bridge");
        else if (i <= net->nissuers)
            snprintf(b, BS_SC_NAME_MAX, "%s.%s", net->name, net->issuers[i - 1].id);
        else if ((i - 1 - net->nissuers) % 2 == 0)
            snprintf(b, BS_SC_NAME_MAX, "%s.%s", net->name,
                     net->acquirers[(i - 1 - net->nissuers) / 2].id);
        else {
            snprintf(a, BS_SC_NAME_MAX, "%s.%s", net->name,
                     net->acquirers[(i - 1 - net->nissuers) / 2].id);
            snprintf(b, BS_SC_NAME_MAX, "%s.%s.terminals", net->name,
                     net->acquirers[(i - 1 - net->nissuers) / 2].id);
        }
        return true;
    }
    return false;
}

/* A fault's `link` or a links.list pair must be a link messages cross, else it silently
 * never takes effect. */
static void check_link(struct ld *l, const struct yn *v, const char *a, const char *b)
{
    char la[BS_SC_NAME_MAX], lb[BS_SC_NAME_MAX], list[2048];
    size_t k = 0;

    if (strcmp(a, b) == 0) {
        bs__errf(l->e, &v->loc, "%s: a link joins two different nodes, not '%s' to itself", l->path,
                 a);
        return;
    }
    for (size_t i = 0; link_at(l->sc, i, la, lb); i++)
        if ((!strcmp(la, a) && !strcmp(lb, b)) || (!strcmp(la, b) && !strcmp(lb, a)))
            return;
    list[0] = '\0';
    for (size_t i = 0; link_at(l->sc, i, la, lb) && k + 1 < sizeof(list); i++)
        k += (size_t)snprintf(list + k, sizeof(list) - k, "%s[%s, %s]", i ? ", " : "", la, lb);
    bs__errf(l->e, &v->loc,
             "%s: [%s, %s] is not a link of this scenario, so no message crosses it; use one "
             "of: %s",
             l->path, a, b, list);
}

static void conv_fault(struct ld *l, const struct yn *n, struct bs_sc_fault *f,
                       char (*nodes)[BS_SC_NAME_MAX], size_t nn)
{
    static const char *const keys[] = { "kind", "link",    "direction", "node",    "mti",  "bin",
                                        "p",    "first_n", "every_n",   "after_n", "at",   "for",
                                        "mode", "delay",   "rc",        "skew",    "sets", "loss" };
    static const char *const dirs[] = { "both", "forward" };
    struct bs_sc_selector *sel = &f->sel;
    const struct yn *v;
    int kind = -1, k;
    bool has_for;

    f->line = n->loc.line;
    f->column = n->loc.col;
    if (!want_map(l, n))
        return;
    check_keys(l, n, keys, ARRAY_SIZE(keys));
    if (opt_enum(l, n, "kind", true, fault_kinds, BS_FAULT_KIND_COUNT, &kind) <= 0)
        return;
    f->kind = (enum bs_fault_kind)kind;
    sel->p = 1.0;
    if ((v = field(l, n, "link", false)) != NULL) {
        size_t old = enter(l, "link");
        if (v->type != YN_SEQ || v->n != 2)
            type_error(l, v, "a list of two node names like [bridge, shetab.switch]");
        else if (as_node(l, v->items[0], nodes, nn, sel->a) &&
                 as_node(l, v->items[1], nodes, nn, sel->b))
            check_link(l, v, sel->a, sel->b);
        leave(l, old);
    }
    if (opt_enum(l, n, "direction", false, dirs, ARRAY_SIZE(dirs), &k) > 0)
        sel->directed = k == 1;
    if ((v = field(l, n, "node", false)) != NULL) {
        size_t old = enter(l, "node");
        as_node(l, v, nodes, nn, sel->node);
        leave(l, old);
    }
    if ((v = field(l, n, "mti", false)) != NULL) {
        size_t old = enter(l, "mti");
        const struct yn *one = v;
        size_t cnt = 1;

        if (v->type == YN_SEQ) {
            cnt = v->n;
            if (cnt > BS_SC_MAX_MTIS) {
                bs__errf(l->e, &v->loc, "%s: at most %d MTIs", l->path, BS_SC_MAX_MTIS);
                cnt = 0;
            }
        }
        for (size_t i = 0; i < cnt; i++) {
            one = v->type == YN_SEQ ? v->items[i] : v;
            if (!is_scalar(one) || one->len != 4 || strspn(one->str, "0123456789") != 4) {
                type_error(l, one, "an MTI of four digits like \"0210\" (quote it)");
                continue;
            }
            memcpy(sel->mti[sel->nmti++], one->str, 5);
        }
        leave(l, old);
    }
    if ((v = field(l, n, "bin", false)) != NULL) {
        size_t old = enter(l, "bin");
        sel->has_bin = as_bin(l, v, &sel->bin);
        leave(l, old);
    }
    if ((v = field(l, n, "p", false)) != NULL) {
        size_t old = enter(l, "p");
        /* A range [lo, hi]: `bridgesim check` draws the probability per seed. */
        if (v->type == YN_SEQ && v->n == 2) {
            if (as_num(l, v->items[0], 0, 1, false, &sel->p_lo) &&
                as_num(l, v->items[1], 0, 1, false, &sel->p_hi)) {
                if (sel->p_lo > sel->p_hi)
                    bs__errf(l->e, &v->loc, "%s: the range [%g, %g] runs backwards", l->path,
                             sel->p_lo, sel->p_hi);
                sel->p_range = true;
            }
        } else {
            as_num(l, v, 0, 1, false, &sel->p);
        }
        leave(l, old);
    }
    opt_uint(l, n, "first_n", false, 1, UINT64_MAX, &sel->first_n);
    opt_uint(l, n, "every_n", false, 1, UINT64_MAX, &sel->every_n);
    opt_uint(l, n, "after_n", false, 1, UINT64_MAX, &sel->after_n);
    opt_dur(l, n, "at", false, false, &sel->at);
    has_for = opt_dur(l, n, "for", false, true, &sel->duration) != 0;

    if ((v = field(l, n, "loss", false)) != NULL) {
        size_t old = enter(l, "loss");
        if (f->kind != BS_FAULT_LOSS)
            bs__errf(l->e, &v->loc, "%s: only a loss fault has a loss model", l->path);
        else
            conv_loss(l, v, NULL, &f->ge);
        leave(l, old);
    }
    switch (f->kind) {
    case BS_FAULT_CORRUPT:
        k = BS_CORRUPT_BITFLIP;
        opt_enum(l, n, "mode", false, corrupt_modes, ARRAY_SIZE(corrupt_modes), &k);
        f->corrupt = (enum bs_corrupt_mode)k;
        break;
    case BS_FAULT_DELAY:
    case BS_FAULT_REORDER:
    case BS_FAULT_SLOW:
        opt_dist(l, n, "delay", true, DU_TIME, &f->delay, NULL);
        break;
    case BS_FAULT_FORCE_RC:
        if ((v = field(l, n, "rc", true)) != NULL) {
            size_t old = enter(l, "rc");
            if (!is_scalar(v) || v->len != 2 || strspn(v->str, "0123456789") != 2)
                type_error(l, v, "a response code of two digits like \"05\" (quote it)");
            else
                memcpy(f->rc, v->str, 3);
            leave(l, old);
        }
        break;
    case BS_FAULT_CLOCK_SKEW:
        if ((v = field(l, n, "skew", true)) != NULL) {
            size_t old = enter(l, "skew");
            bool neg = is_scalar(v) && v->str[0] == '-';
            struct yn tmp = *v;

            if (neg) {
                tmp.str++;
                tmp.len--;
            }
            if (as_dur(l, &tmp, false, &f->skew) && neg)
                f->skew = -f->skew;
            leave(l, old);
        }
        break;
    case BS_FAULT_PARTITION:
        if ((v = field(l, n, "sets", false)) != NULL) {
            size_t old = enter(l, "sets");
            if (want_seq(l, v, 1, BS_SC_MAX_SETS)) {
                for (size_t i = 0; i < v->n; i++) {
                    size_t o2 = enter_idx(l, i);
                    const struct yn *set = v->items[i];
                    if (want_seq(l, set, 1, BS_SC_MAX_SET_NODES)) {
                        for (size_t j = 0; j < set->n; j++)
                            if (as_node(l, set->items[j], nodes, nn,
                                        f->sets[f->nsets][f->set_len[f->nsets]]))
                                f->set_len[f->nsets]++;
                        f->nsets++;
                    }
                    leave(l, o2);
                }
            }
            leave(l, old);
        } else if (sel->node[0]) {
            /* Isolate one node: a single set, cut off from everyone else. */
            snprintf(f->sets[0][0], BS_SC_NAME_MAX, "%s", sel->node);
            f->set_len[0] = 1;
            f->nsets = 1;
            sel->node[0] = '\0';
        } else {
            bs__errf(l->e, &n->loc, "%s: a partition needs 'sets' ([[a], [b, c]]) or 'node'",
                     l->path);
        }
        break;
    default:
        break;
    }
    if (is_node_fault(f->kind) && !sel->node[0])
        bs__errf(l->e, &n->loc, "%s: a %s fault needs 'node': the node it happens to", l->path,
                 fault_kinds[f->kind]);
    /* A 'for' that is there but invalid has its own error already. */
    if (f->kind == BS_FAULT_CRASH && !has_for)
        bs__errf(l->e, &n->loc, "%s: a crash needs 'for': how long until the node restarts",
                 l->path);
    if (f->kind == BS_FAULT_SIGN_OFF && !has_for)
        bs__errf(l->e, &n->loc,
                 "%s: a sign_off needs 'for': how long until the node signs on again", l->path);
    if (f->kind == BS_FAULT_SIGN_OFF && strlen(sel->node) > 10 &&
        strcmp(sel->node + strlen(sel->node) - 10, ".terminals") == 0)
        bs__errf(l->e, &n->loc,
                 "%s: terminals have no network management; sign off a switch, an issuer, an "
                 "acquirer or the bridge",
                 l->path);
}

static void conv_faults(struct ld *l, const struct yn *n)
{
    char(*nodes)[BS_SC_NAME_MAX];
    size_t nn;

    if (!want_seq(l, n, 0, BS_SC_MAX_FAULTS))
        return;
    nodes = bs_calloc(BS_SC_MAX_NODES, sizeof(*nodes));
    if (!nodes) {
        l->e->nomem = true;
        return;
    }
    nn = bs_scenario_node_names(l->sc, nodes, BS_SC_MAX_NODES);
    for (size_t i = 0; i < n->n; i++) {
        size_t old = enter_idx(l, i);
        conv_fault(l, n->items[i], &l->sc->faults[l->sc->nfaults++], nodes, nn);
        leave(l, old);
    }
    bs_free(nodes);
}

/* With heal_at, every fault is over by then, so liveness can be checked after it
 * (issue #5 §5). */
static void check_heal(struct ld *l, const struct yn *root)
{
    const struct yn *faults = bs__yn_get(root, "faults", NULL);

    if (!l->sc->heal_at || !faults || faults->type != YN_SEQ)
        return;
    for (size_t i = 0; i < l->sc->nfaults && i < faults->n; i++) {
        const struct bs_sc_selector *sel = &l->sc->faults[i].sel;
        if (!sel->duration || sel->at + sel->duration > l->sc->heal_at)
            bs__errf(l->e, &faults->items[i]->loc,
                     "faults.%zu: must be over by heal_at; give it 'at' and 'for' ending by "
                     "then",
                     i);
    }
}

/*
 * time.drain must cover the longest terminal timer: a transaction that starts at the last
 * arrival needs that long to end, so a shorter drain fails every_request_answered_once on
 * every run that has one still in flight.
 */
static void check_drain(struct ld *l, const struct yn *root)
{
    const struct yn *t = bs__yn_get(root, "time", NULL);
    const struct yn *at = t && t->type == YN_MAP ? bs__yn_get(t, "drain", NULL) : NULL;
    size_t ch = l->sc->timers[BS_CH_ATM].terminal > l->sc->timers[BS_CH_POS].terminal ? BS_CH_ATM
                                                                                      : BS_CH_POS;
    bs_time_us need = l->sc->timers[ch].terminal;
    char sd[32], sn[32];

    if (l->sc->drain >= need)
        return;
    bs__format_duration(l->sc->drain, sd, sizeof(sd));
    bs__format_duration(need, sn, sizeof(sn));
    bs__errf(l->e,
             at  ? &at->loc
             : t ? &t->loc
                 : &root->loc,
             "time.drain: %s is shorter than the longest terminal timer (timers.%s.terminal, "
             "%s): a transaction started at the last arrival cannot end and the run fails "
             "every_request_answered_once; use drain: %s or more (the default 5min also lets "
             "reversals finish)",
             sd, channel_names[ch], sn, sn);
}

static void default_name(const char *path, char *out, size_t cap)
{
    const char *base = strrchr(path, '/');
    size_t len;

    base = base ? base + 1 : path;
    len = strlen(base);
    if (len > 5 && strcmp(base + len - 5, ".yaml") == 0)
        len -= 5;
    else if (len > 4 && strcmp(base + len - 4, ".yml") == 0)
        len -= 4;
    if (len >= cap)
        len = cap - 1;
    memcpy(out, base, len);
    out[len] = '\0';
}

static void conv_root(struct ld *l, const struct yn *root, const char *file)
{
    static const char *const keys[] = { "extends",  "name",   "seed",    "time",  "signing",
                                        "networks", "bridge", "timers",  "links", "workload",
                                        "expect",   "faults", "heal_at", "fees",  "pin" };
    static const struct bs_sc_timers def_timers[BS_CH_COUNT] = {
        /* Visa-like budgets (GUIDE §3): the issuer answers within 10 s POS, 25 s ATM. */
        [BS_CH_POS] = { 8 * BS_US_PER_SEC, 10 * BS_US_PER_SEC, 15 * BS_US_PER_SEC,
                        20 * BS_US_PER_SEC, 30 * BS_US_PER_SEC },
        [BS_CH_ATM] = { 20 * BS_US_PER_SEC, 25 * BS_US_PER_SEC, 30 * BS_US_PER_SEC,
                        35 * BS_US_PER_SEC, 45 * BS_US_PER_SEC },
    };
    struct bs_scenario *sc = l->sc;
    const struct yn *v;

    default_name(file, sc->name, sizeof(sc->name));
    sc->seed = DEFAULT_SEED;
    bs__parse_utc(DEFAULT_START, &sc->start_time);
    sc->drain = DEFAULT_DRAIN;
    sc->settle_cutover = DEFAULT_CUTOVER;
    sc->sig_alg = BS_SIG_ED25519;
    memcpy(sc->timers, def_timers, sizeof(def_timers));
    sc->default_latency = constant_dist(DEFAULT_LATENCY);

    if (!root || (root->type == YN_SCALAR && root->null)) {
        struct sc_loc loc = { bs__errs_file(l->e, file), 1, 1 };

        bs__errf(l->e, &loc,
                 "empty scenario: expected a mapping with networks, bridge and "
                 "workload (see configs/README.md)");
        return;
    }
    if (root->type != YN_MAP) {
        type_error(l, root, "a mapping of scenario keys (see configs/README.md)");
        return;
    }
    check_keys(l, root, keys, ARRAY_SIZE(keys));
    v = bs__yn_get(root, "extends", NULL);
    if (v)
        bs__errf(l->e, &v->loc, "extends: only a file can extend another, at its top level");
    opt_str(l, root, "name", false, sc->name, sizeof(sc->name));
    opt_uint(l, root, "seed", false, 0, UINT64_MAX, &sc->seed);

#define SECTION(key, required, fn)         \
    do {                                   \
        v = field(l, root, key, required); \
        if (v) {                           \
            size_t old = enter(l, key);    \
            fn(l, v);                      \
            leave(l, old);                 \
        }                                  \
    } while (0)
    SECTION("time", false, conv_time);
    SECTION("signing", false, conv_signing);
    SECTION("networks", true, conv_networks);
    SECTION("pin", false, conv_pin);
    SECTION("bridge", true, conv_bridge);
    SECTION("fees", false, conv_fees);
    SECTION("timers", false, conv_timers);
    SECTION("links", false, conv_links);
    SECTION("workload", true, conv_workload);
    SECTION("expect", false, conv_expect);
    SECTION("faults", false, conv_faults);
    conv_signing_nodes(l, root);
#undef SECTION
    opt_dur(l, root, "heal_at", false, true, &sc->heal_at);
    check_drain(l, root);
    check_heal(l, root);
    check_inst_ids(l, root);
    check_bins(l, root);
}

/* ---- files, extends and --set ------------------------------------------------------------ */

struct loadctx {
    struct sc_errs e;
    struct sc_budget budget;
    bool io_error; /* the top-level file could not be read */
    /* The extends chain being loaded: each file as named and as realpath(3) resolves it,
     * so a cycle is named whatever spelling reaches a file again. */
    char chain_name[BS__SC_EXTENDS_MAX][PATH_MAX];
    char chain_real[BS__SC_EXTENDS_MAX][PATH_MAX];
};

/*
 * Read @path whole. Return: 0 and a heap buffer; BS_EIO with the reason in *@why (an errno
 * value, or EFBIG when larger than BS__SC_FILE_MAX); BS_ENOMEM.
 */
static int read_file(const char *path, char **ret, size_t *ret_len, int *why)
{
    struct stat st;
    char *buf = NULL;
    size_t len = 0, cap;
    int fd, rc = BS_EIO;

    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        *why = errno;
        return BS_EIO;
    }
    if (fstat(fd, &st) < 0) {
        *why = errno;
        goto close_fd;
    }
    if (S_ISDIR(st.st_mode)) {
        *why = EISDIR;
        goto close_fd;
    }
    /* Size the buffer from the file when it says; pipes and devices grow it as they go. */
    cap = S_ISREG(st.st_mode) && st.st_size >= 0 && (uintmax_t)st.st_size < BS__SC_FILE_MAX
              ? (size_t)st.st_size + 1
              : 65536;
    for (;;) {
        ssize_t n;

        if (!buf || len == cap) {
            char *nb;

            if (buf)
                cap = cap * 2 > BS__SC_FILE_MAX + 1 ? BS__SC_FILE_MAX + 1 : cap * 2;
            nb = bs_realloc(buf, cap);
            if (!nb) {
                rc = BS_ENOMEM;
                goto free_buf;
            }
            buf = nb;
        }
        n = read(fd, buf + len, cap - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            *why = errno;
            goto free_buf;
        }
        if (n == 0)
            break;
        len += (size_t)n;
        if (len > BS__SC_FILE_MAX) {
            *why = EFBIG;
            goto free_buf;
        }
    }
    close(fd);
    *ret = buf;
    *ret_len = len;
    return 0;

free_buf:
    bs_free(buf);
close_fd:
    close(fd);
    return rc;
}

static const char *why_text(int why)
{
    static char buf[64];

    if (why == EFBIG) {
        snprintf(buf, sizeof(buf), "larger than %u bytes", BS__SC_FILE_MAX);
        return buf;
    }
    return strerror(why);
}

/*
 * Whether extending @next from the file at @depth closes a cycle; if so the error, at
 * @at, names it: "a.yaml -> b.yaml -> a.yaml".
 */
static bool extends_cycle(struct loadctx *c, const char *next, unsigned depth,
                          const struct sc_loc *at)
{
    char real[PATH_MAX], msg[1024];
    size_t k = 0;
    unsigned from;

    if (!realpath(next, real))
        return false; /* a missing file is reported when it is read */
    for (from = 0; from <= depth && from < BS__SC_EXTENDS_MAX; from++)
        if (strcmp(c->chain_real[from], real) == 0)
            break;
    if (from > depth || from >= BS__SC_EXTENDS_MAX)
        return false;
    for (unsigned i = from; i <= depth && k < sizeof(msg); i++)
        k += (size_t)snprintf(msg + k, sizeof(msg) - k, "%s -> ", c->chain_name[i]);
    if (k < sizeof(msg))
        snprintf(msg + k, sizeof(msg) - k, "%s", next);
    bs__errf(&c->e, at, "extends: a cycle: %s; remove one of these extends", msg);
    return true;
}

/*
 * Load @path into a tree, resolving `extends:` (relative to @path's directory). @from is
 * where the file was named (the extends key), NULL for the top-level file.
 * Return: 0 and *@ret (NULL for an empty file); BS_EFORMAT/BS_EIO with errors recorded;
 * BS_ENOMEM.
 */
static int load_tree(struct loadctx *c, const char *path, const struct sc_loc *from, unsigned depth,
                     struct yn **ret)
{
    const char *label = bs__errs_file(&c->e, path);
    struct yn *root = NULL, *base = NULL, *ext;
    char *text = NULL, *bpath = NULL;
    size_t len, idx;
    int why = 0, rc;

    if (!label)
        return BS_ENOMEM;
    rc = read_file(path, &text, &len, &why);
    if (rc == BS_EIO) {
        if (from)
            bs__errf(&c->e, from, "extends: cannot read '%s': %s", path, why_text(why));
        else
            bs__errf(&c->e, NULL, "%s: cannot read: %s", path, why_text(why));
        if (!from)
            c->io_error = true;
        return BS_EIO;
    }
    if (rc)
        return rc;
    rc = bs__yaml_parse(text, len, label, 0, 0, &c->budget, &c->e, &root);
    bs_free(text);
    if (rc)
        return rc;
    if (depth < BS__SC_EXTENDS_MAX) {
        snprintf(c->chain_name[depth], sizeof(c->chain_name[depth]), "%s", path);
        if (!realpath(path, c->chain_real[depth]))
            snprintf(c->chain_real[depth], sizeof(c->chain_real[depth]), "%s", path);
    }
    ext = bs__yn_get(root, "extends", &idx);
    if (ext) {
        const char *slash = strrchr(path, '/');
        struct sc_loc at = ext->loc;

        if (!is_scalar(ext)) {
            bs__errf(&c->e, &ext->loc, "extends: expected a file name, got %s",
                     ext->type == YN_SCALAR ? "nothing" : "a collection");
            rc = BS_EFORMAT;
            goto free_root;
        }
        if (depth + 1 >= BS__SC_EXTENDS_MAX) {
            bs__errf(&c->e, &ext->loc,
                     "extends: chain longer than %u files (does it extend itself?)",
                     BS__SC_EXTENDS_MAX);
            rc = BS_EFORMAT;
            goto free_root;
        }
        if (ext->str[0] == '/' || !slash) {
            bpath = bs_strdup(ext->str);
        } else {
            size_t dlen = (size_t)(slash - path) + 1;

            bpath = bs_malloc(dlen + ext->len + 1);
            if (bpath) {
                memcpy(bpath, path, dlen);
                memcpy(bpath + dlen, ext->str, ext->len + 1);
            }
        }
        if (!bpath) {
            rc = BS_ENOMEM;
            goto free_root;
        }
        if (extends_cycle(c, bpath, depth, &at)) {
            bs_free(bpath);
            rc = BS_EFORMAT;
            goto free_root;
        }
        rc = load_tree(c, bpath, &at, depth + 1, &base);
        bs_free(bpath);
        if (rc == BS_EIO)
            rc = BS_EFORMAT;
        if (rc)
            goto free_root;
        bs__yn_map_remove(root, idx);
        root = bs__yn_merge(base, root);
        if (!root)
            return BS_ENOMEM;
    }
    *ret = root;
    return 0;

free_root:
    bs__yn_free(root);
    return rc;
}

/* Apply one --set "path.to.key=value" to the tree; errors name the missing segment. */
static int apply_set(struct loadctx *c, struct yn **root, const char *set)
{
    char label[300];
    const char *file, *eq = strchr(set, '=');
    struct yn *val = NULL, *cur;
    struct sc_loc loc;
    char seg[128], done[256];
    const char *p;
    int rc;

    snprintf(label, sizeof(label), "(--set %.256s)", set);
    file = bs__errs_file(&c->e, label);
    if (!file)
        return BS_ENOMEM;
    loc = (struct sc_loc){ file, 1, 1 };
    if (!eq || eq == set) {
        bs__errf(&c->e, &loc, "expected 'path.to.key=value', like 'workload.rate_tps=100'");
        return BS_EFORMAT;
    }
    rc = bs__yaml_parse(eq + 1, strlen(eq + 1), file, 0, (int)(eq + 1 - set), &c->budget, &c->e,
                        &val);
    if (rc)
        return rc;
    if (!val) {
        struct sc_loc vloc = { file, 1, (int)(eq - set) + 2 };

        val = bs__yn_new_scalar("", &vloc);
        if (!val)
            return BS_ENOMEM;
    }
    cur = *root;
    if (!cur || cur->type != YN_MAP) {
        bs__errf(&c->e, &loc, "the scenario is not a mapping, nothing to override");
        goto fail;
    }
    done[0] = '\0';
    for (p = set; p < eq;) {
        const char *end = memchr(p, '.', (size_t)(eq - p));
        size_t slen;
        bool last;
        struct sc_loc sloc = { file, 1, (int)(p - set) + 1 };

        if (!end)
            end = eq;
        slen = (size_t)(end - p);
        last = end == eq;
        if (slen == 0 || slen >= sizeof(seg)) {
            bs__errf(&c->e, &sloc, "empty or overlong path segment");
            goto fail;
        }
        memcpy(seg, p, slen);
        seg[slen] = '\0';
        if (cur->type == YN_MAP) {
            size_t idx;
            struct yn *child = bs__yn_get(cur, seg, &idx);

            if (!child && last) {
                /* A key the file omits may be added; validation judges it like any other. */
                if (bs__yn_map_put(cur, seg, &sloc, val))
                    return BS_ENOMEM;
                return 0;
            }
            if (!child) {
                const char *cands[64];
                size_t nc = 0;
                const char *near;

                for (size_t i = 0; i < cur->n && nc < 64; i++)
                    cands[nc++] = cur->keys[i]->str;
                near = bs__suggest(seg, cands, nc);
                bs__errf(&c->e, &sloc, "no key '%s' %s%s%s%s%s%s", seg,
                         done[0] ? "under '" : "at the top level", done, done[0] ? "'" : "",
                         near ? "; did you mean '" : "", near ? near : "", near ? "'?" : "");
                goto fail;
            }
            if (last) {
                bs__yn_free(cur->items[idx]);
                cur->items[idx] = val;
                return 0;
            }
            cur = child;
        } else if (cur->type == YN_SEQ) {
            uint64_t idx;

            if (bs__parse_uint(seg, UINT64_MAX, &idx)) {
                bs__errf(&c->e, &sloc, "'%s' is a list; '%s' is not an index 0..%zu", done, seg,
                         cur->n ? cur->n - 1 : 0);
                goto fail;
            }
            if (idx >= cur->n) {
                bs__errf(&c->e, &sloc, "no item %s in '%s': it has %zu item%s", seg, done, cur->n,
                         cur->n == 1 ? "" : "s");
                goto fail;
            }
            if (last) {
                bs__yn_free(cur->items[idx]);
                cur->items[idx] = val;
                return 0;
            }
            cur = cur->items[idx];
        } else {
            bs__errf(&c->e, &sloc, "'%s' is a value, not a mapping or list; no '%s' under it", done,
                     seg);
            goto fail;
        }
        snprintf(done + strlen(done), sizeof(done) - strlen(done), "%s%s", done[0] ? "." : "", seg);
        p = end + 1;
    }
    /* Only a path ending in '.' gets here: its last segment is empty. */
    loc.col = (int)(eq - set) + 1;
    bs__errf(&c->e, &loc, "empty path segment before '='");
fail:
    bs__yn_free(val);
    return BS_EFORMAT;
}

int bs_scenario_load(const char *path, const char *const *sets, size_t nsets,
                     struct bs_scenario **ret, char *errbuf, size_t errlen)
{
    struct loadctx c;
    struct ld l;
    struct yn *root = NULL;
    struct bs_scenario *sc;
    int rc;

    if (errbuf && errlen)
        errbuf[0] = '\0';
    if (!path || !ret || (nsets && !sets))
        return BS_EINVAL;
    memset(&c, 0, sizeof(c));
    bs__errs_init(&c.e);
    sc = bs_calloc(1, sizeof(*sc));
    if (!sc) {
        rc = BS_ENOMEM;
        goto deinit;
    }
    if (strlen(path) >= sizeof(sc->path)) {
        bs__errf(&c.e, NULL, "%.64s...: path longer than %zu characters", path,
                 sizeof(sc->path) - 1);
        rc = BS_EINVAL;
        goto render;
    }
    memcpy(sc->path, path, strlen(path) + 1);

    rc = load_tree(&c, path, NULL, 0, &root);
    if (rc == BS_ENOMEM)
        goto render;
    if (rc) {
        rc = c.io_error ? BS_EIO : BS_EFORMAT;
        goto render;
    }
    /* An override that cannot be applied is reported and skipped; the rest still count. */
    for (size_t i = 0; i < nsets; i++) {
        if (!sets[i])
            continue;
        if (apply_set(&c, &root, sets[i]) == BS_ENOMEM) {
            rc = BS_ENOMEM;
            goto render;
        }
    }
    memset(&l, 0, sizeof(l));
    l.e = &c.e;
    l.sc = sc;
    conv_root(&l, root, path);
    rc = c.e.nomem ? BS_ENOMEM : c.e.total ? BS_EFORMAT : 0;

render:
    if (rc == 0) {
        *ret = sc;
        sc = NULL;
    } else if (rc == BS_ENOMEM) {
        if (errbuf && errlen)
            snprintf(errbuf, errlen, "%s: out of memory", path);
    } else {
        bs__errs_render(&c.e, errbuf, errlen);
    }
    bs__yn_free(root);
    bs_scenario_free(sc);
deinit:
    bs__errs_deinit(&c.e);
    return rc;
}

void bs_scenario_free(struct bs_scenario *sc)
{
    if (!sc)
        return;
    for (size_t i = 0; i < sc->nempirical; i++)
        bs_free(sc->empirical[i]);
    bs_free(sc);
}
