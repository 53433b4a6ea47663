/*
 * Conformance: every vector of ../shared/vectors/iso8583-public.json. The dialect is
 * built from the vector's neutral spec through bs_iso_dialect_set_field(); decoding
 * must give the expected values, re-encoding (from the decoded message and from the
 * expected values) the same bytes, and each expect_error vector must be rejected naming
 * its field and byte offset. One cmocka test per vector.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "test_common.h"

static const char *str(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);

    return json_is_string(v) ? json_string_value(v) : NULL;
}

static enum bs_iso_enc enc_of(const char *s)
{
    if (!s || !strcmp(s, "ascii"))
        return BS_ISO_ENC_ASCII;
    if (!strcmp(s, "bcd"))
        return BS_ISO_ENC_BCD;
    if (!strcmp(s, "binary"))
        return BS_ISO_ENC_BINARY;
    if (!strcmp(s, "ebcdic"))
        return BS_ISO_ENC_EBCDIC;
    fail_msg("unknown encoding '%s' in vector", s);
    return BS_ISO_ENC_ASCII;
}

static enum bs_iso_bitmap_enc bitmap_of(const char *s)
{
    if (!s || !strcmp(s, "binary"))
        return BS_ISO_BITMAP_BINARY;
    if (!strcmp(s, "hex-ascii"))
        return BS_ISO_BITMAP_HEX_ASCII;
    if (!strcmp(s, "hex-ebcdic"))
        return BS_ISO_BITMAP_HEX_EBCDIC;
    fail_msg("unknown bitmap encoding '%s' in vector", s);
    return BS_ISO_BITMAP_BINARY;
}

static struct bs_iso_field_spec spec_of(json_t *f)
{
    static const char *const formats[] = { "n", "a", "an", "ans", "b", "z" };
    static const char *const lengths[] = { "fixed", "L", "LL", "LLL", "LLLL", "LLLLL", "LLLLLL" };
    struct bs_iso_field_spec s;
    const char *fmt = str(f, "format"), *len = str(f, "length"), *pad = str(f, "pad"),
               *nib = str(f, "pad_nibble"), *unit = str(f, "unit");
    unsigned i;

    memset(&s, 0, sizeof(s));
    s.defined = true;
    for (i = 0; i < 6 && strcmp(fmt, formats[i]); i++)
        ;
    assert_true(i < 6);
    s.format = (enum bs_iso_format)i;
    for (i = 0; i < 7 && strcmp(len, lengths[i]); i++)
        ;
    assert_true(i < 7);
    s.len_digits = (uint8_t)i;
    s.size = (uint32_t)json_integer_value(json_object_get(f, i ? "max" : "size"));
    s.prefix_enc = enc_of(str(f, "prefix"));
    s.data_enc = enc_of(str(f, "data"));
    s.bcd_len_in_bytes = unit && !strcmp(unit, "bytes");
    s.pad_left = !pad || !strcmp(pad, "left");
    s.pad_nibble = nib && !strcmp(nib, "F") ? 0xF : 0x0;
    s.pad_char = ' ';
    return s;
}

static struct bs_iso_dialect *dialect_of(json_t *spec)
{
    struct bs_iso_dialect *d;
    json_t *mti = json_object_get(spec, "mti"), *bm = json_object_get(spec, "bitmap");
    json_t *fields = json_object_get(spec, "fields"), *f, *hb;
    const char *key;

    assert_int_equal(bs_iso_dialect_new("vector", &d), 0);
    hb = json_object_get(spec, "header_bytes");
    if (hb)
        assert_int_equal(bs_iso_dialect_set_header(d, (size_t)json_integer_value(hb)), 0);
    assert_int_equal(bs_iso_dialect_set_mti(d, enc_of(str(mti, "encoding"))), 0);
    assert_int_equal(bs_iso_dialect_set_bitmap(d, bitmap_of(str(bm, "encoding"))), 0);
    bs_iso_dialect_set_tertiary(d, json_is_true(json_object_get(bm, "tertiary")));
    json_object_foreach(fields, key, f)
    {
        struct bs_iso_field_spec s = spec_of(f);
        json_t *comp = json_object_get(f, "composite"), *sf;
        unsigned de = (unsigned)atoi(key);
        const char *skey;

        if (comp)
            s.composite =
                json_object_get(comp, "bitmap") ? BS_ISO_COMPOSITE_BITMAP : BS_ISO_COMPOSITE_FIXED;
        if (bs_iso_dialect_set_field(d, de, &s) < 0)
            fail_msg("vector spec for DE %u rejected", de);
        if (!comp)
            continue;
        if (json_object_get(comp, "bitmap"))
            assert_int_equal(bs_iso_dialect_set_sub_bitmap(d, de, bitmap_of(str(comp, "bitmap"))),
                             0);
        json_object_foreach(json_object_get(comp, "fields"), skey, sf)
        {
            struct bs_iso_field_spec ss = spec_of(sf);

            assert_int_equal(bs_iso_dialect_set_subfield(d, de, (unsigned)atoi(skey), &ss), 0);
        }
    }
    return d;
}

/* The expected text of a value: hex for b fields, the characters otherwise. */
static void check_value(const struct bs_iso_field_spec *s, const uint8_t *v, size_t n,
                        const char *want, const char *what)
{
    char buf[2 * BS_ISO_MSG_DATA_MAX + 1];

    if (s->format == BS_ISO_FMT_B) {
        t_tohex(v, n, buf, sizeof(buf));
    } else {
        memcpy(buf, v, n);
        buf[n] = '\0';
    }
    if (strcmp(buf, want))
        fail_msg("%s: got '%s', want '%s'", what, buf, want);
}

static int field_of(const char *s, int *sub)
{
    *sub = -1;
    if (!strcmp(s, "bitmap"))
        return 1;
    if (!strcmp(s, "mti") || !strcmp(s, "header"))
        return 0;
    if (strchr(s, '.'))
        *sub = atoi(strchr(s, '.') + 1);
    return atoi(s);
}

static void run_vector(void **state)
{
    json_t *v = *state, *expect, *ee, *fv;
    const char *id = str(v, "id"), *key;
    static uint8_t raw[8192], out[8192];
    static struct bs_iso_msg m, m2, sub;
    struct bs_iso_dialect *d;
    struct bs_iso_error err;
    size_t n, on;
    int r;

    t_use_test_allocator();
    d = dialect_of(json_object_get(v, "spec"));
    n = t_hex(str(v, "raw_hex"), raw, sizeof(raw));
    r = bs_iso_unpack(d, raw, n, &m, &err);

    ee = json_object_get(v, "expect_error");
    if (ee) {
        int sub_want, de_want = field_of(str(ee, "field"), &sub_want);
        size_t off_want = (size_t)json_integer_value(json_object_get(ee, "offset"));
        const char *why = str(ee, "reason");

        if (r >= 0)
            fail_msg("%s: accepted, want an error at field %s offset %zu", id, str(ee, "field"),
                     off_want);
        if (err.de != de_want || err.offset != off_want)
            fail_msg("%s: error at de %d offset %zu (%s); want field %s offset %zu", id, err.de,
                     err.offset, err.reason, str(ee, "field"), off_want);
        if (why && !strstr(err.reason, why))
            fail_msg("%s: reason '%s' does not say '%s'", id, err.reason, why);
        bs_iso_dialect_free(d);
        return;
    }
    if (r < 0)
        fail_msg("%s: rejected: de %d offset %zu: %s", id, err.de, err.offset, err.reason);
    expect = json_object_get(v, "expect");
    assert_string_equal(m.mti, str(expect, "mti"));
    if (str(expect, "header")) {
        char hb[2 * BS_ISO_HEADER_MAX + 1];

        assert_string_equal(t_tohex(m.header, m.header_len, hb, sizeof(hb)), str(expect, "header"));
    }
    json_object_foreach(json_object_get(expect, "fields"), key, fv)
    {
        unsigned de = (unsigned)atoi(key);
        size_t len;
        const uint8_t *val;
        char what[64];

        snprintf(what, sizeof(what), "%s DE %u", id, de);
        if (de == 1) {
            /* DE 1 is the secondary bitmap itself: the bits of DE 65-128. */
            char hb[17];
            uint8_t bits[8];

            for (unsigned i = 0; i < 8; i++) {
                bits[i] = 0;
                for (unsigned b = 0; b < 8; b++)
                    if (bs_iso_msg_has(&m, 65 + 8 * i + b))
                        bits[i] |= (uint8_t)(0x80 >> b);
            }
            assert_string_equal(t_tohex(bits, 8, hb, sizeof(hb)), json_string_value(fv));
            continue;
        }
        val = bs_iso_msg_get(&m, de, &len);
        if (!val)
            fail_msg("%s: missing", what);
        check_value(bs_iso_dialect_field(d, de), val, len, json_string_value(fv), what);
    }
    /* Subfields "127.25": decode the composite. */
    json_object_foreach(json_object_get(expect, "subfields"), key, fv)
    {
        int s;
        unsigned de = (unsigned)field_of(key, &s);
        size_t len, sl;
        const uint8_t *val = bs_iso_msg_get(&m, de, &len), *sv;

        assert_non_null(val);
        if (bs_iso_sub_unpack(d, de, val, len, m.wire_off[de], &sub, &err) < 0)
            fail_msg("%s %s: %s", id, key, err.reason);
        sv = bs_iso_msg_get(&sub, (unsigned)s, &sl);
        assert_non_null(sv);
        check_value(bs_iso_dialect_field(bs_iso_dialect_sub(d, de), (unsigned)s), sv, sl,
                    json_string_value(fv), key);
        /* And back: the composite re-encodes to the same value. */
        assert_int_equal(bs_iso_sub_pack(d, de, &sub, out, sizeof(out), &on, &err), 0);
        assert_int_equal(on, len);
        assert_memory_equal(out, val, len);
    }
    /* BER-TLV lists: decode in order and re-encode identically. */
    json_object_foreach(json_object_get(expect, "tlv"), key, fv)
    {
        unsigned de = (unsigned)atoi(key);
        size_t len, pos = 0, opos = 0, i;
        const uint8_t *val = bs_iso_msg_get(&m, de, &len);
        struct bs_iso_tlv t;
        json_t *item;

        assert_non_null(val);
        json_array_foreach(fv, i, item)
        {
            char tag[9], hv[512];

            assert_int_equal(bs_iso_tlv_next(val, len, &pos, &t, &err), 1);
            bs_iso_tlv_tag_format(t.tag, tag);
            assert_string_equal(tag, str(item, "tag"));
            assert_string_equal(t_tohex(t.value, t.len, hv, sizeof(hv)), str(item, "value"));
            assert_int_equal(
                bs_iso_tlv_put(t.tag, t.len_len, t.value, t.len, out, sizeof(out), &opos), 0);
        }
        assert_int_equal(bs_iso_tlv_next(val, len, &pos, &t, &err), 0);
        assert_int_equal(opos, len);
        assert_memory_equal(out, val, len);
    }

    /* Re-encode the decoded message: the same bytes. */
    if (bs_iso_pack(d, &m, out, sizeof(out), &on, &err) < 0)
        fail_msg("%s: re-encode: de %d: %s", id, err.de, err.reason);
    assert_int_equal(on, n);
    assert_memory_equal(out, raw, n);

    /* Encode from the expected values alone: the same bytes again (V1b's direction). */
    bs_iso_msg_init(&m2, str(expect, "mti"));
    if (str(expect, "header")) {
        uint8_t h[BS_ISO_HEADER_MAX];
        size_t hn = t_hex(str(expect, "header"), h, sizeof(h));

        bs_iso_msg_set_header(&m2, h, hn);
    }
    json_object_foreach(json_object_get(expect, "fields"), key, fv)
    {
        unsigned de = (unsigned)atoi(key);
        const char *text = json_string_value(fv);

        if (de == 1)
            continue;
        if (bs_iso_dialect_field(d, de)->format == BS_ISO_FMT_B) {
            uint8_t b[4096];
            size_t bn = t_hex(text, b, sizeof(b));

            bs_iso_msg_set(&m2, de, b, bn);
        } else {
            bs_iso_msg_set_str(&m2, de, text);
        }
    }
    if (bs_iso_pack(d, &m2, out, sizeof(out), &on, &err) < 0)
        fail_msg("%s: encode from expected values: de %d: %s", id, err.de, err.reason);
    assert_int_equal(on, n);
    assert_memory_equal(out, raw, n);
    bs_iso_dialect_free(d);
}

static void vectors_missing(void **state)
{
    const char *path = *state;

    fprintf(stderr,
            "\n"
            "**********************************************************************\n"
            "** WARNING: ISO 8583 conformance vectors not found:\n"
            "**   %s\n"
            "** The conformance tests are SKIPPED. Provide ../shared/vectors/.\n"
            "**********************************************************************\n\n",
            path);
    skip();
}

int t_run_conformance(void)
{
    const char *path = getenv("BS_VECTORS");
    json_t *root, *vectors, *v;
    json_error_t jerr;
    struct CMUnitTest *tests;
    size_t count, i;
    int failed;

    if (!path)
        path = "../shared/vectors/iso8583-public.json";
    root = json_load_file(path, 0, &jerr);
    if (!root) {
        const struct CMUnitTest missing[] = {
            cmocka_unit_test_prestate(vectors_missing, (void *)path),
        };

        return cmocka_run_group_tests_name("iso8583_conformance", missing, NULL, NULL);
    }
    vectors = json_object_get(root, "vectors");
    count = json_array_size(vectors);
    tests = calloc(count ? count : 1, sizeof(*tests));
    if (!tests) {
        json_decref(root);
        return 1;
    }
    json_array_foreach(vectors, i, v)
    {
        tests[i].name = str(v, "id");
        tests[i].test_func = run_vector;
        tests[i].initial_state = v;
    }
    failed = _cmocka_run_group_tests("iso8583_conformance", tests, count, NULL, NULL);
    free(tests);
    json_decref(root);
    return failed;
}
