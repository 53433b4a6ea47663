/*
 * Formatting helpers for the per-message paths, where snprintf() cost more than the rest
 * of a hop's work. Each writes exactly what the snprintf() call it replaces wrote.
 * Private to libbridgesim (and the engine).
 */
#ifndef BS_COMMON_FMT_H
#define BS_COMMON_FMT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/**
 * Write @v as exactly @width decimal digits with leading zeros (the low @width digits
 * when @v is longer; callers pass values that fit) and return the end. No NUL.
 */
static inline char *bs__put_dec(char *out, uint64_t v, unsigned width)
{
    for (unsigned i = width; i-- > 0;) {
        out[i] = (char)('0' + v % 10);
        v /= 10;
    }
    return out + width;
}

/** snprintf(@out, @cap, "%s", @s) for @cap >= 1: copy at most @cap - 1 bytes and a NUL. */
static inline char *bs__put_str(char *out, size_t cap, const char *s)
{
    size_t n = strnlen(s, cap - 1);

    memcpy(out, s, n);
    out[n] = '\0';
    return out + n;
}

#endif
