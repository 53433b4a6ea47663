/*
 * Cardholder data helpers: PAN masking for logs (PCI DSS v4.0 requirement 3.4.1: at most the
 * BIN and the last four digits may be displayed) and the Luhn check digit (ISO/IEC 7812-1
 * Annex B).
 */
#include <limits.h>
#include <string.h>

#include "crypto_int.h"

/* Shown digits: the first 6 (the IIN/BIN) and the last 4. */
#define PAN_HEAD      6
#define PAN_TAIL      4
#define PAN_MIN_SHOWN (PAN_HEAD + PAN_TAIL + 1)

int bs_pan_mask(const char *pan, size_t n, char *out, size_t cap)
{
    if ((pan == NULL && n > 0) || out == NULL || n > INT_MAX)
        return BS_EINVAL;
    if (cap < n + 1)
        return BS_ENOSPC;
    /*
     * Below 11 digits, first 6 + last 4 would reveal the whole PAN (or overlap), so nothing
     * is shown at all.
     */
    for (size_t i = 0; i < n; i++) {
        bool shown = n >= PAN_MIN_SHOWN && (i < PAN_HEAD || i >= n - PAN_TAIL);

        out[i] = shown ? pan[i] : '*';
    }
    out[n] = '\0';
    return (int)n;
}

/*
 * The Luhn sum of @n digits, doubling every second digit counted from the right starting
 * with the rightmost when @doubling_first, or -1 for a non-digit.
 */
static int luhn_sum(const char *digits, size_t n, bool doubling_first)
{
    bool dbl = doubling_first;
    int sum = 0;

    for (size_t i = n; i-- > 0;) {
        int d = digits[i] - '0';

        if (digits[i] < '0' || digits[i] > '9')
            return -1;
        if (dbl) {
            d *= 2;
            if (d > 9)
                d -= 9;
        }
        sum = (sum + d) % 10;
        dbl = !dbl;
    }
    return sum;
}

int bs_luhn_check_digit(const char *digits, size_t n)
{
    int sum;

    if (digits == NULL && n > 0)
        return BS_EFORMAT;
    /* The check digit will be appended, so the rightmost payload digit is doubled. */
    sum = luhn_sum(digits, n, true);
    if (sum < 0)
        return BS_EFORMAT;
    return '0' + (10 - sum) % 10;
}

bool bs_luhn_valid(const char *digits, size_t n)
{
    if (digits == NULL || n < 2)
        return false;
    return luhn_sum(digits, n, false) == 0;
}
