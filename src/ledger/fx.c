/*
 * Exchange rates as scaled integers and one-time conversion with 128-bit intermediates,
 * rounding half up at the target minor unit (GUIDE §3 "Money and FX").
 */
#include <string.h>

#include <bridgesim/money.h>

/* GCC/Clang 128-bit integers; __extension__ keeps -pedantic quiet about them. */
__extension__ typedef __int128 i128;

static int64_t pow10_i64(unsigned e)
{
    int64_t v = 1;

    while (e--)
        v *= 10;
    return v;
}

/* Divide @n by @d (> 0) rounding half away from zero. */
static i128 div_round(i128 n, i128 d)
{
    if (n >= 0)
        return (n + d / 2) / d;
    return -((-n + d / 2) / d);
}

int bs_rate_parse(const char *s, struct bs_rate *ret)
{
    int64_t num = 0;
    unsigned sig = 0, frac = 0;
    bool point = false, digit = false;

    if (!s)
        return BS_EFORMAT;
    for (const char *p = s; *p; p++) {
        if (*p == '.' && !point) {
            point = true;
            continue;
        }
        if (*p < '0' || *p > '9')
            return BS_EFORMAT;
        digit = true;
        if (point && ++frac > 12)
            return BS_EFORMAT;
        if (num > 0 || *p != '0')
            sig++; /* leading zeros are not significant digits */
        if (sig > 18)
            return BS_EFORMAT;
        num = num * 10 + (*p - '0');
    }
    if (!digit || num <= 0 || (point && frac == 0))
        return BS_EFORMAT;
    ret->num = num;
    ret->scale = (uint8_t)frac;
    return 0;
}

/*
 * The value @n / @d (both > 0) rounded half up, once, to at most 7 significant digits and
 * at most 7 decimal places: the largest scale s ≤ 7 whose rounded n·10^s/d still has at
 * most 7 digits. Each candidate is rounded from the exact fraction, never from an earlier
 * rounding, so there is no double rounding.
 */
static int round_de10(i128 n, i128 d, struct bs_rate *ret)
{
    for (int s = 7; s >= 0; s--) {
        i128 num;
        if (__builtin_mul_overflow(n, (i128)pow10_i64((unsigned)s), &num))
            continue;
        num = div_round(num, d);
        if (num <= 0 || num > 9999999)
            continue;
        /* Drop trailing zeros so the representation is canonical. */
        while (s > 0 && num % 10 == 0) {
            num /= 10;
            s--;
        }
        ret->num = (int64_t)num;
        ret->scale = (uint8_t)s;
        return 0;
    }
    return BS_ERANGE;
}

int bs_rate_markup(struct bs_rate mid, uint32_t bps, bool up, struct bs_rate *ret)
{
    if (mid.num <= 0 || mid.scale > 18 || bps > 100000)
        return BS_EINVAL;
    /* up: mid × (10000 + bps) / 10000; down: mid × 10000 / (10000 + bps). */
    if (up)
        return round_de10((i128)mid.num * (10000 + bps), (i128)pow10_i64(mid.scale) * 10000, ret);
    return round_de10((i128)mid.num * 10000, (i128)pow10_i64(mid.scale) * (10000 + bps), ret);
}

int bs_rate_de10(struct bs_rate r, char out[9])
{
    int64_t v = r.num;

    if (r.num <= 0 || r.scale > 7 || r.num > 9999999)
        return BS_ERANGE;
    out[0] = (char)('0' + r.scale);
    for (int i = 7; i >= 1; i--) {
        out[i] = (char)('0' + v % 10);
        v /= 10;
    }
    out[8] = '\0';
    return 0;
}

int bs_rate_from_de10(const char *de10, size_t n, struct bs_rate *ret)
{
    int64_t v = 0;

    if (n != 8)
        return BS_EFORMAT;
    for (size_t i = 0; i < 8; i++)
        if (de10[i] < '0' || de10[i] > '9')
            return BS_EFORMAT;
    for (size_t i = 1; i < 8; i++)
        v = v * 10 + (de10[i] - '0');
    if (v == 0)
        return BS_EFORMAT;
    ret->num = v;
    ret->scale = (uint8_t)(de10[0] - '0');
    return 0;
}

int bs_fx_convert(int64_t amount, uint8_t from_exp, uint8_t to_exp, struct bs_rate r,
                  bool base_to_quote, int64_t *ret)
{
    i128 n, d, q;

    if (r.num <= 0 || r.scale > 18 || from_exp > 18 || to_exp > 18)
        return BS_EINVAL;
    if (base_to_quote) {
        /* amount × rate × 10^to / (10^scale × 10^from) */
        if (__builtin_mul_overflow((i128)amount, (i128)r.num, &n) ||
            __builtin_mul_overflow(n, (i128)pow10_i64(to_exp), &n))
            return BS_EOVERFLOW;
        if (__builtin_mul_overflow((i128)pow10_i64(r.scale), (i128)pow10_i64(from_exp), &d))
            return BS_EOVERFLOW;
    } else {
        /* amount × 10^scale × 10^to / (num × 10^from) */
        if (__builtin_mul_overflow((i128)amount, (i128)pow10_i64(r.scale), &n) ||
            __builtin_mul_overflow(n, (i128)pow10_i64(to_exp), &n))
            return BS_EOVERFLOW;
        if (__builtin_mul_overflow((i128)r.num, (i128)pow10_i64(from_exp), &d))
            return BS_EOVERFLOW;
    }
    q = div_round(n, d);
    if (q > INT64_MAX || q < INT64_MIN)
        return BS_EOVERFLOW;
    *ret = (int64_t)q;
    return 0;
}

bool bs_amount_fits(int64_t amount, unsigned digits)
{
    if (amount < 0 || digits == 0)
        return false;
    if (digits >= 19)
        return true;
    return amount < pow10_i64(digits);
}
