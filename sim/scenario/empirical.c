/*
 * Empirical distributions: the samples of one column of a CSV file (configs/README.md,
 * "Distributions"). The loader reads the file; this parses it, so the format lives in one
 * place and the loader only adds the scenario's file:line:column to what is wrong here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario/scenario.h"
#include "sc_internal.h"

#define CSV_FIELD_MAX 64 /* characters of one CSV field (names and numbers are short) */

/* The unit suffixes a column name may end with, and how many µs one unit is. */
static const struct {
    const char *suffix;
    double us;
} units[] = { { "_us", 1.0 }, { "_ms", 1e3 }, { "_s", 1e6 } };

static void errmsg(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void errmsg(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (!err || !errlen)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/*
 * Field @idx of the line [@s, @e), commas separating fields, spaces and tabs around a field
 * ignored, into @out. Return: the number of fields of the line when field @idx fits, or 0
 * when the field is longer than CSV_FIELD_MAX.
 */
static size_t csv_field(const char *s, const char *e, size_t idx, char out[CSV_FIELD_MAX + 1])
{
    size_t n = 0;

    out[0] = '\0';
    for (;;) {
        const char *c = memchr(s, ',', (size_t)(e - s));
        const char *fe = c ? c : e, *fs = s;

        while (fs < fe && (*fs == ' ' || *fs == '\t'))
            fs++;
        while (fe > fs && (fe[-1] == ' ' || fe[-1] == '\t'))
            fe--;
        if (n == idx) {
            if ((size_t)(fe - fs) > CSV_FIELD_MAX)
                return 0;
            memcpy(out, fs, (size_t)(fe - fs));
            out[fe - fs] = '\0';
        }
        n++;
        if (!c)
            return n;
        s = c + 1;
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

/* The next line of [*@p, @end): [*@ret_s, *@ret_e) without the line break; false at the end. */
static bool next_line(const char **p, const char *end, const char **ret_s, const char **ret_e)
{
    const char *nl;

    if (*p >= end)
        return false;
    nl = memchr(*p, '\n', (size_t)(end - *p));
    *ret_s = *p;
    *ret_e = nl ? nl : end;
    *p = nl ? nl + 1 : end;
    if (*ret_e > *ret_s && (*ret_e)[-1] == '\r')
        (*ret_e)--;
    return true;
}

int bs__empirical_parse(const char *text, size_t len, const char *column, double **ret,
                        size_t *ret_n, char *err, size_t errlen)
{
    const char *p = text, *end = text + len, *s = NULL, *e = NULL;
    char name[CSV_FIELD_MAX + 1];
    size_t line = 0, ncols = 0, col = 0, n = 0, cap = 0;
    double scale = 0, *v = NULL;
    int rc = BS_EFORMAT;

    /* The header: the first line that is neither empty nor a # comment. */
    while (next_line(&p, end, &s, &e)) {
        line++;
        if (e > s && *s != '#')
            break;
        s = e = NULL;
    }
    if (!s) {
        errmsg(err, errlen, "no header line; the first line names the column, like latency_ms");
        return BS_EFORMAT;
    }
    ncols = csv_field(s, e, 0, name);
    for (col = 0; col < ncols; col++) {
        if (csv_field(s, e, col, name) == 0) {
            errmsg(err, errlen, "line %zu: column %zu's name is longer than %d characters", line,
                   col + 1, CSV_FIELD_MAX);
            return BS_EFORMAT;
        }
        if (column ? strcmp(name, column) == 0 : ncols == 1)
            break;
    }
    if (col == ncols) {
        if (column)
            errmsg(err, errlen, "line %zu: no column named '%s' in the header", line, column);
        else
            errmsg(err, errlen, "line %zu: the file has %zu columns; say which with 'column: NAME'",
                   line, ncols);
        return BS_EFORMAT;
    }
    for (size_t u = 0; u < sizeof(units) / sizeof(units[0]); u++) {
        size_t nl = strlen(name), sl = strlen(units[u].suffix);

        if (nl > sl && strcmp(name + nl - sl, units[u].suffix) == 0) {
            scale = units[u].us;
            break;
        }
    }
    if (scale == 0) {
        errmsg(err, errlen,
               "line %zu: column '%s' has no unit; end its name with _us, _ms or _s "
               "(like latency_ms)",
               line, name);
        return BS_EFORMAT;
    }
    while (next_line(&p, end, &s, &e)) {
        char f[CSV_FIELD_MAX + 1];
        double x;
        size_t nf;
        int prc;

        line++;
        if (e == s || *s == '#')
            continue;
        nf = csv_field(s, e, col, f);
        if (nf != ncols) {
            errmsg(err, errlen, "line %zu: %zu fields where the header has %zu", line, nf, ncols);
            goto free_v;
        }
        prc = bs__parse_number(f, &x);
        if (prc == BS_ERANGE) {
            errmsg(err, errlen, "line %zu: '%s' in column %s is too large a number", line, f, name);
            goto free_v;
        }
        if (prc != 0 || x < 0) {
            errmsg(err, errlen, "line %zu: '%s' in column %s is not a number ≥ 0", line, f, name);
            goto free_v;
        }
        if (n == BS_SC_MAX_SAMPLES) {
            errmsg(err, errlen, "line %zu: more than %d samples", line, BS_SC_MAX_SAMPLES);
            rc = BS_ELIMIT;
            goto free_v;
        }
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 256;
            double *nv = bs_realloc(v, nc * sizeof(*v));

            if (!nv) {
                rc = BS_ENOMEM;
                goto free_v;
            }
            v = nv;
            cap = nc;
        }
        v[n++] = x * scale;
    }
    if (n == 0) {
        errmsg(err, errlen, "line %zu: the file ends without a sample after the header", line);
        goto free_v;
    }
    qsort(v, n, sizeof(*v), cmp_double);
    *ret = v;
    *ret_n = n;
    return 0;

free_v:
    bs_free(v);
    return rc;
}
