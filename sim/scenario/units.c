/*
 * Exact unit parsing for scenario files: integers, decimals, durations, UTC timestamps,
 * ISO 4217 currencies, and the edit distance behind "did you mean" suggestions.
 *
 * Durations and rates are parsed with integer arithmetic, never through a double, so that
 * "1.5s" is exactly 1500000 µs and "4510.25" exactly 451025 / 10^2 (GUIDE §3: money and
 * rates are never floating point).
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sc_internal.h"

int bs__parse_uint(const char *s, uint64_t max, uint64_t *ret)
{
    uint64_t v = 0;

    if (!s || !isdigit((unsigned char)*s))
        return BS_EFORMAT;
    for (; *s; s++) {
        unsigned d;

        if (!isdigit((unsigned char)*s))
            return BS_EFORMAT;
        d = (unsigned)(*s - '0');
        if (v > (UINT64_MAX - d) / 10)
            return BS_ERANGE;
        v = v * 10 + d;
    }
    if (v > max)
        return BS_ERANGE;
    *ret = v;
    return 0;
}

/* Whether @s matches [-+]?(digits(.digits?)?|.digits)([eE][-+]?digits)? exactly. */
static bool number_syntax(const char *s)
{
    size_t ndig = 0;

    if (*s == '-' || *s == '+')
        s++;
    while (isdigit((unsigned char)*s)) {
        s++;
        ndig++;
    }
    if (*s == '.') {
        s++;
        while (isdigit((unsigned char)*s)) {
            s++;
            ndig++;
        }
    }
    if (ndig == 0)
        return false;
    if (*s == 'e' || *s == 'E') {
        s++;
        if (*s == '-' || *s == '+')
            s++;
        if (!isdigit((unsigned char)*s))
            return false;
        while (isdigit((unsigned char)*s))
            s++;
    }
    return *s == '\0';
}

int bs__parse_number(const char *s, double *ret)
{
    char *end;
    double v;

    if (!s || !number_syntax(s))
        return BS_EFORMAT;
    errno = 0;
    v = strtod(s, &end);
    if (*end != '\0')
        return BS_EFORMAT;
    if (!isfinite(v))
        return BS_ERANGE;
    *ret = v;
    return 0;
}

/*
 * Parse "digits[.digits]" at *@sp into an exact mantissa and a count of fractional digits,
 * dropping trailing fractional zeros so that long spellings of round values still fit.
 * Return: 0; BS_EFORMAT; BS_EOVERFLOW when the mantissa exceeds int64.
 */
static int parse_mantissa(const char **sp, int64_t *ret_m, unsigned *ret_scale)
{
    const char *s = *sp, *frac = NULL, *fend;
    int64_t m = 0;
    unsigned scale = 0;

    if (!isdigit((unsigned char)*s))
        return BS_EFORMAT;
    for (; isdigit((unsigned char)*s); s++) {
        int d = *s - '0';

        if (m > (INT64_MAX - d) / 10)
            return BS_EOVERFLOW;
        m = m * 10 + d;
    }
    if (*s == '.') {
        s++;
        if (!isdigit((unsigned char)*s))
            return BS_EFORMAT;
        frac = s;
        while (isdigit((unsigned char)*s))
            s++;
        fend = s;
        while (fend > frac && fend[-1] == '0')
            fend--;
        for (; frac < fend; frac++) {
            int d = *frac - '0';

            if (m > (INT64_MAX - d) / 10 || scale >= 18)
                return BS_EOVERFLOW;
            m = m * 10 + d;
            scale++;
        }
    }
    *sp = s;
    *ret_m = m;
    *ret_scale = scale;
    return 0;
}

int bs__parse_duration(const char *s, bool bare_ms, int64_t *ret_q, unsigned *ret_scale)
{
    static const struct {
        const char *name;
        int64_t us;
    } units[] = {
        { "us", 1 },
        { "ms", BS_US_PER_MS },
        { "s", BS_US_PER_SEC },
        { "min", 60 * BS_US_PER_SEC },
        { "h", 3600 * BS_US_PER_SEC },
    };
    int64_t m, factor = 0;
    unsigned scale;
    int rc;

    if (!s)
        return BS_EFORMAT;
    if (*s == '-') {
        /* Distinguish "-5ms" (a negative time) from junk for a better message. */
        const char *t = s + 1;

        if (parse_mantissa(&t, &m, &scale) == 0)
            return BS_ERANGE;
        return BS_EFORMAT;
    }
    if (*s == '+')
        s++;
    rc = parse_mantissa(&s, &m, &scale);
    if (rc)
        return rc;
    if (*s == '\0') {
        if (!bare_ms)
            return BS_EINVAL;
        factor = BS_US_PER_MS;
    } else {
        for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
            if (strcmp(s, units[i].name) == 0)
                factor = units[i].us;
        if (!factor)
            return BS_EFORMAT;
    }
    if (m > INT64_MAX / factor)
        return BS_EOVERFLOW;
    m *= factor;
    /* Cancel common factors of ten so that whole values come out with scale 0. */
    while (scale > 0 && m % 10 == 0) {
        m /= 10;
        scale--;
    }
    *ret_q = m;
    *ret_scale = scale;
    return 0;
}

int bs__parse_decimal(const char *s, unsigned max_frac, int64_t *ret_num, uint8_t *ret_scale)
{
    int64_t m = 0;
    unsigned scale = 0;

    if (!s || !isdigit((unsigned char)*s))
        return BS_EFORMAT;
    for (; isdigit((unsigned char)*s); s++) {
        int d = *s - '0';

        if (m > (INT64_MAX - d) / 10)
            return BS_EOVERFLOW;
        m = m * 10 + d;
    }
    if (*s == '.') {
        s++;
        if (!isdigit((unsigned char)*s))
            return BS_EFORMAT;
        for (; isdigit((unsigned char)*s); s++) {
            int d = *s - '0';

            if (++scale > max_frac)
                return BS_ERANGE;
            if (m > (INT64_MAX - d) / 10)
                return BS_EOVERFLOW;
            m = m * 10 + d;
        }
    }
    if (*s != '\0')
        return BS_EFORMAT;
    *ret_num = m;
    *ret_scale = (uint8_t)scale;
    return 0;
}

/* Read exactly @n digits at *@sp. */
static bool digits(const char **sp, int n, int *ret)
{
    int v = 0;

    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*sp)[i]))
            return false;
        v = v * 10 + ((*sp)[i] - '0');
    }
    *sp += n;
    *ret = v;
    return true;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    int64_t era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

int bs__parse_utc(const char *s, bs_time_us *ret)
{
    static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    int y, mo, d, h, mi, sec, frac = 0, dim;
    bool leap;

    if (!s || !digits(&s, 4, &y) || *s++ != '-' || !digits(&s, 2, &mo) || *s++ != '-' ||
        !digits(&s, 2, &d) || *s++ != 'T' || !digits(&s, 2, &h) || *s++ != ':' ||
        !digits(&s, 2, &mi) || *s++ != ':' || !digits(&s, 2, &sec))
        return BS_EFORMAT;
    if (*s == '.') {
        int n = 0;

        s++;
        while (isdigit((unsigned char)*s) && n < 6) {
            frac = frac * 10 + (*s++ - '0');
            n++;
        }
        if (n == 0 || isdigit((unsigned char)*s))
            return BS_EFORMAT;
        for (; n < 6; n++)
            frac *= 10;
    }
    if (strcmp(s, "Z") != 0 && strcmp(s, "+00:00") != 0)
        return BS_EFORMAT;
    if (y < 1970 || mo < 1 || mo > 12 || h > 23 || mi > 59 || sec > 59)
        return BS_EFORMAT;
    leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    dim = mdays[mo - 1] + (mo == 2 && leap);
    if (d < 1 || d > dim)
        return BS_EFORMAT;
    *ret = ((days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec) * BS_US_PER_SEC) + frac;
    return 0;
}

void bs__format_duration(bs_time_us us, char *buf, size_t cap)
{
    if (us != 0 && us % (60 * BS_US_PER_SEC) == 0 && us % (3600 * BS_US_PER_SEC) != 0)
        snprintf(buf, cap, "%lldmin", (long long)(us / (60 * BS_US_PER_SEC)));
    else if (us % BS_US_PER_SEC == 0)
        snprintf(buf, cap, "%llds", (long long)(us / BS_US_PER_SEC));
    else if (us % BS_US_PER_MS == 0)
        snprintf(buf, cap, "%lldms", (long long)(us / BS_US_PER_MS));
    else
        snprintf(buf, cap, "%lldus", (long long)us);
}

size_t bs__edit_distance(const char *a, const char *b)
{
    /* Scenario keys and node names are short; longer words are never near anything. */
    enum { N = 64 };
    size_t la = strlen(a), lb = strlen(b);
    size_t d[N + 1][N + 1];

    if (la > N || lb > N)
        return SIZE_MAX;
    for (size_t i = 0; i <= la; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= la; i++) {
        for (size_t j = 1; j <= lb; j++) {
            size_t cost = tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]);
            size_t v = d[i - 1][j] + 1;

            if (d[i][j - 1] + 1 < v)
                v = d[i][j - 1] + 1;
            if (d[i - 1][j - 1] + cost < v)
                v = d[i - 1][j - 1] + cost;
            if (i > 1 && j > 1 &&
                tolower((unsigned char)a[i - 1]) == tolower((unsigned char)b[j - 2]) &&
                tolower((unsigned char)a[i - 2]) == tolower((unsigned char)b[j - 1]) &&
                d[i - 2][j - 2] + 1 < v)
                v = d[i - 2][j - 2] + 1;
            d[i][j] = v;
        }
    }
    return d[la][lb];
}

const char *bs__suggest(const char *word, const char *const *cands, size_t n)
{
    size_t len = strlen(word), limit = len <= 4 ? 1 : len <= 8 ? 2 : 3;
    size_t best = SIZE_MAX, best_prefix = 0;
    const char *pick = NULL;

    for (size_t i = 0; i < n; i++) {
        size_t dist = bs__edit_distance(word, cands[i]), prefix = 0;

        /* Ties go to the candidate sharing the longest prefix: "RUR" is RUB, not EUR. */
        while (word[prefix] &&
               tolower((unsigned char)word[prefix]) == tolower((unsigned char)cands[i][prefix]))
            prefix++;
        if (dist < best || (dist == best && prefix > best_prefix)) {
            best = dist;
            best_prefix = prefix;
            pick = cands[i];
        }
    }
    return best <= limit ? pick : NULL;
}

/* ISO 4217 (list one, as published by SIX): the currencies a bridge scenario may name. */
static const struct sc_iso_currency currencies[] = {
    { "AED", 784, 2 }, { "AMD", 51, 2 },  { "BYN", 933, 2 }, { "CHF", 756, 2 }, { "CNY", 156, 2 },
    { "EUR", 978, 2 }, { "GBP", 826, 2 }, { "INR", 356, 2 }, { "IRR", 364, 2 }, { "JPY", 392, 0 },
    { "KGS", 417, 2 }, { "KWD", 414, 3 }, { "KZT", 398, 2 }, { "RUB", 643, 2 }, { "TJS", 972, 2 },
    { "TRY", 949, 2 }, { "USD", 840, 2 }, { "UZS", 860, 2 },
};

static const char *const currency_codes[] = {
    "AED", "AMD", "BYN", "CHF", "CNY", "EUR", "GBP", "INR", "IRR",
    "JPY", "KGS", "KWD", "KZT", "RUB", "TJS", "TRY", "USD", "UZS",
};

const struct sc_iso_currency *bs__currency_find(const char *code)
{
    for (size_t i = 0; i < sizeof(currencies) / sizeof(currencies[0]); i++)
        if (strcmp(currencies[i].code, code) == 0)
            return &currencies[i];
    return NULL;
}

const char *const *bs__currency_codes(size_t *ret_n)
{
    *ret_n = sizeof(currency_codes) / sizeof(currency_codes[0]);
    return currency_codes;
}
