/*
 * test_iso8583: the ISO 8583 codec, its dialect files, the conformance vectors, frames,
 * BER-TLV and the STAN generator. Each group runs with library allocations routed
 * through cmocka's allocator, so a leak fails the test that caused it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_common.h"

static void *t_malloc(size_t n)
{
    return test_malloc(n);
}

static void *t_calloc(size_t a, size_t b)
{
    return test_calloc(a, b);
}

static void *t_realloc(void *p, size_t n)
{
    return test_realloc(p, n);
}

static void t_free(void *p)
{
    test_free(p);
}

void t_use_test_allocator(void)
{
    static const struct bs_allocator a = { t_malloc, t_calloc, t_realloc, t_free };

    bs_set_allocator(&a);
}

size_t t_hex(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = 0;
    int hi = -1;

    for (const char *p = hex; *p; p++) {
        int v = 0;

        if (*p == ' ' || *p == '\n')
            continue;
        if (*p >= '0' && *p <= '9')
            v = *p - '0';
        else if (*p >= 'a' && *p <= 'f')
            v = *p - 'a' + 10;
        else if (*p >= 'A' && *p <= 'F')
            v = *p - 'A' + 10;
        else
            fail_msg("bad hex character '%c' in test data", *p);
        if (hi < 0) {
            hi = v;
        } else {
            assert_true(n < cap);
            out[n++] = (uint8_t)(hi << 4 | v);
            hi = -1;
        }
    }
    assert_int_equal(hi, -1);
    return n;
}

const char *t_tohex(const uint8_t *v, size_t n, char *buf, size_t cap)
{
    static const char h[] = "0123456789ABCDEF";

    assert_true(2 * n < cap);
    for (size_t i = 0; i < n; i++) {
        buf[2 * i] = h[v[i] >> 4];
        buf[2 * i + 1] = h[v[i] & 15];
    }
    buf[2 * n] = '\0';
    return buf;
}

struct bs_iso_dialect *t_load_dialect(const char *name)
{
    const char *dir = getenv("BS_DIALECT_DIR");
    struct bs_iso_dialect *d = NULL;
    char path[512], err[512];
    static char text[1 << 17];
    size_t n;
    FILE *f;
    int r;

    if (!dir)
        dir = "configs/dialects";
    snprintf(path, sizeof(path), "%s/%s.yaml", dir, name);
    f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s (set BS_DIALECT_DIR)", path);
    n = fread(text, 1, sizeof(text), f);
    fclose(f);
    assert_true(n < sizeof(text));
    r = bs_iso_dialect_parse(text, n, path, &d, err, sizeof(err));
    if (r < 0)
        fail_msg("%s", err);
    return d;
}

struct bs_iso_field_spec t_spec(enum bs_iso_format fmt, unsigned len_digits, uint32_t size)
{
    struct bs_iso_field_spec s;

    memset(&s, 0, sizeof(s));
    s.defined = true;
    s.format = fmt;
    s.len_digits = (uint8_t)len_digits;
    s.size = size;
    s.prefix_enc = BS_ISO_ENC_ASCII;
    s.data_enc = fmt == BS_ISO_FMT_B ? BS_ISO_ENC_BINARY : BS_ISO_ENC_ASCII;
    s.pad_left = true;
    s.pad_char = ' ';
    return s;
}

int main(void)
{
    int failed = 0;

    failed += t_run_codec();
    failed += t_run_dialects();
    failed += t_run_conformance();
    failed += t_run_frames();
    return failed ? 1 : 0;
}
