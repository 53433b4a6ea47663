/*
 * Frames (length-header framing), BER-TLV for DE 55 and the STAN generator.
 */
#include <string.h>

#include "test_common.h"

/* ---- frames --------------------------------------------------------------------------- */

struct collected {
    int frames;
    int keepalives;
    size_t lens[8];
    uint8_t data[8][64];
};

/* Feed @n bytes and cut every complete frame; returns the first error, or 0. */
static int feed_all(struct bs_iso_frame_dec *fd, const uint8_t *p, size_t n, struct collected *c,
                    struct bs_iso_error *err)
{
    struct bs_iso_frame fr;
    int r, first = 0;

    while (n) {
        size_t k = bs_iso_frame_dec_feed(fd, p, n);

        p += k;
        n -= k;
        while ((r = bs_iso_frame_dec_next(fd, &fr, err)) != 0) {
            if (r < 0) {
                if (!first)
                    first = r;
                if (r == BS_ESTATE)
                    return first;
                continue;
            }
            if (fr.keepalive) {
                c->keepalives++;
                continue;
            }
            assert_true(c->frames < 8 && fr.len <= 64);
            c->lens[c->frames] = fr.len;
            memcpy(c->data[c->frames], fr.msg, fr.len);
            c->frames++;
        }
        if (k == 0 && n)
            return first ? first : BS_ESTATE;
    }
    return first;
}

static void test_frame_chunking(void **state)
{
    static const struct {
        enum bs_iso_frame_len kind;
        const char *hdr;
        size_t hn;
    } kinds[] = {
        { BS_ISO_FRAME_BIN2, "\x00\x0A", 2 },
        { BS_ISO_FRAME_BCD2, "\x00\x10", 2 },
        { BS_ISO_FRAME_ASCII4, "0010", 4 },
    };
    struct bs_iso_frame_cfg cfg;
    struct bs_iso_frame_dec *fd;
    struct bs_iso_error err;
    uint8_t stream[64];
    size_t n;

    (void)state;
    t_use_test_allocator();
    for (size_t k = 0; k < 3; k++) {
        struct collected c = { 0 };

        bs_iso_frame_cfg_default(&cfg);
        cfg.length = kinds[k].kind;
        cfg.max_len = 100;
        assert_int_equal(bs_iso_frame_encode(&cfg, NULL, (const uint8_t *)"0800ABCDEF", 10, stream,
                                             sizeof(stream), &n),
                         0);
        assert_int_equal(n, kinds[k].hn + 10);
        assert_memory_equal(stream, kinds[k].hdr, kinds[k].hn);

        /* Split 1, 3 and the rest: one message. */
        assert_int_equal(bs_iso_frame_dec_new(&cfg, &fd), 0);
        assert_int_equal(feed_all(fd, stream, 1, &c, &err), 0);
        assert_int_equal(c.frames, 0);
        assert_int_equal(feed_all(fd, stream + 1, 3, &c, &err), 0);
        assert_int_equal(c.frames, 0);
        assert_int_equal(feed_all(fd, stream + 4, n - 4, &c, &err), 0);
        assert_int_equal(c.frames, 1);
        assert_int_equal(c.lens[0], 10);
        assert_memory_equal(c.data[0], "0800ABCDEF", 10);
        assert_int_equal(bs_iso_frame_dec_pending(fd), 0);
        bs_iso_frame_dec_free(fd);
    }
}

static void test_frame_two_and_a_half(void **state)
{
    struct bs_iso_frame_cfg cfg;
    struct bs_iso_frame_dec *fd;
    struct bs_iso_error err;
    struct collected c = { 0 };
    uint8_t stream[64];
    size_t n = 0, k;

    (void)state;
    t_use_test_allocator();
    bs_iso_frame_cfg_default(&cfg);
    cfg.max_len = 64;
    bs_iso_frame_encode(&cfg, NULL, (const uint8_t *)"AAAA", 4, stream, sizeof(stream), &k);
    n += k;
    bs_iso_frame_encode(&cfg, NULL, (const uint8_t *)"BBBBBB", 6, stream + n, sizeof(stream) - n,
                        &k);
    n += k;
    bs_iso_frame_encode(&cfg, NULL, (const uint8_t *)"CCCCCCCC", 8, stream + n, sizeof(stream) - n,
                        &k);
    /* Two frames and half of the third in one read. */
    assert_int_equal(bs_iso_frame_dec_new(&cfg, &fd), 0);
    assert_int_equal(feed_all(fd, stream, n + k / 2, &c, &err), 0);
    assert_int_equal(c.frames, 2);
    assert_memory_equal(c.data[0], "AAAA", 4);
    assert_memory_equal(c.data[1], "BBBBBB", 6);
    assert_int_equal(bs_iso_frame_dec_pending(fd), k / 2);
    assert_int_equal(feed_all(fd, stream + n + k / 2, k - k / 2, &c, &err), 0);
    assert_int_equal(c.frames, 3);
    assert_int_equal(c.lens[2], 8);
    assert_memory_equal(c.data[2], "CCCCCCCC", 8);
    bs_iso_frame_dec_free(fd);
}

static void test_frame_keepalive_and_limits(void **state)
{
    /* keep-alive, a frame of 9 (> max 8), a good frame, with TPDU 2 bytes. */
    static const uint8_t stream[] = { 0x00, 0x00, /* ka */
                                      0x00, 0x09, 'T',  'T',  'x', 'x', 'x', 'x', 'x',
                                      'x',  'x',  0x00, 0x05, 'T', 'P', 'a', 'b', 'c' };
    struct bs_iso_frame_cfg cfg;
    struct bs_iso_frame_dec *fd;
    struct bs_iso_frame fr;
    struct bs_iso_error err;
    struct collected c = { 0 };
    int r;

    (void)state;
    t_use_test_allocator();
    bs_iso_frame_cfg_default(&cfg);
    cfg.max_len = 8;
    cfg.tpdu_len = 2;
    /* Fed one byte at a time: the over-long frame is reported once and skipped. */
    assert_int_equal(bs_iso_frame_dec_new(&cfg, &fd), 0);
    for (size_t i = 0; i < sizeof(stream); i++) {
        r = feed_all(fd, stream + i, 1, &c, &err);
        if (r) {
            assert_int_equal(r, BS_ELIMIT);
            assert_int_equal(err.offset, 2);
            assert_non_null(strstr(err.reason, "exceeds the maximum 8"));
        }
    }
    assert_int_equal(c.keepalives, 1);
    assert_int_equal(c.frames, 1);
    assert_int_equal(c.lens[0], 3);
    assert_memory_equal(c.data[0], "abc", 3);
    bs_iso_frame_dec_free(fd);

    /* All at once, zero length as an error: still in step. */
    cfg.zero_is_keepalive = false;
    memset(&c, 0, sizeof(c));
    assert_int_equal(bs_iso_frame_dec_new(&cfg, &fd), 0);
    /* The buffer holds one maximal frame (2 + 8 bytes): feed takes what fits. */
    assert_int_equal(bs_iso_frame_dec_feed(fd, stream, sizeof(stream)), 10);
    assert_int_equal(bs_iso_frame_dec_next(fd, &fr, &err), BS_EFORMAT);
    assert_int_equal(err.offset, 0);
    assert_int_equal(bs_iso_frame_dec_next(fd, &fr, &err), BS_ELIMIT);
    assert_int_equal(err.offset, 2);
    assert_int_equal(bs_iso_frame_dec_next(fd, &fr, &err), 0);
    assert_int_equal(bs_iso_frame_dec_feed(fd, stream + 10, sizeof(stream) - 10),
                     sizeof(stream) - 10);
    assert_int_equal(bs_iso_frame_dec_next(fd, &fr, &err), 1);
    assert_int_equal(fr.stream_off, 13);
    assert_memory_equal(fr.tpdu, "TP", 2);
    assert_int_equal(fr.len, 3);
    assert_int_equal(bs_iso_frame_dec_next(fd, &fr, &err), 0);
    bs_iso_frame_dec_free(fd);

    /* A non-numeric ASCII header loses the stream: error, then ESTATE. */
    cfg.length = BS_ISO_FRAME_ASCII4;
    assert_int_equal(bs_iso_frame_dec_new(&cfg, &fd), 0);
    bs_iso_frame_dec_feed(fd, (const uint8_t *)"00x5abcde", 9);
    assert_int_equal(bs_iso_frame_dec_next(fd, &fr, &err), BS_EFORMAT);
    assert_int_equal(bs_iso_frame_dec_next(fd, &fr, &err), BS_ESTATE);
    bs_iso_frame_dec_free(fd);
}

static void test_frame_config(void **state)
{
    struct bs_iso_frame_cfg cfg;
    struct bs_iso_frame_dec *fd = NULL;
    uint8_t out[16];
    size_t n;

    (void)state;
    t_use_test_allocator();
    bs_iso_frame_cfg_default(&cfg);
    cfg.length = BS_ISO_FRAME_BCD2;
    cfg.max_len = 10000;
    assert_int_equal(bs_iso_frame_dec_new(&cfg, &fd), BS_ELIMIT);
    assert_null(fd);
    cfg.max_len = 4;
    assert_int_equal(
        bs_iso_frame_encode(&cfg, NULL, (const uint8_t *)"12345", 5, out, sizeof(out), &n),
        BS_ELIMIT);
    assert_int_equal(bs_iso_frame_encode(&cfg, NULL, (const uint8_t *)"1234", 4, out, 5, &n),
                     BS_ENOSPC);
    cfg.tpdu_len = 17;
    assert_int_equal(bs_iso_frame_cfg_check(&cfg), BS_ELIMIT);
    cfg.tpdu_len = 0;
    cfg.length = (enum bs_iso_frame_len)7;
    assert_int_equal(bs_iso_frame_cfg_check(&cfg), BS_EINVAL);
    bs_iso_frame_dec_free(NULL);
}

/* ---- BER-TLV --------------------------------------------------------------------------- */

static void test_tlv_de55_long_form(void **state)
{
    static uint8_t de55[512], out[512];
    static struct bs_iso_msg m, m2;
    struct bs_iso_dialect *d;
    struct bs_iso_field_spec s = t_spec(BS_ISO_FMT_B, 3, 999);
    struct bs_iso_error err;
    struct bs_iso_tlv t;
    uint8_t packed[1024];
    size_t n = 0, pos = 0, opos = 0, pn;
    const uint8_t *v;
    size_t vlen;

    (void)state;
    t_use_test_allocator();
    /* 9F02 06 ..., DF8116 81 80 <128 bytes>, 5F2A 02 0643 */
    n = t_hex("9F0206000000012345 DF81168180", de55, sizeof(de55));
    for (unsigned i = 0; i < 128; i++)
        de55[n++] = (uint8_t)i;
    n += t_hex("5F2A020643", de55 + n, sizeof(de55) - n);

    s.composite = BS_ISO_COMPOSITE_TLV;
    assert_int_equal(bs_iso_dialect_new("tlv", &d), 0);
    assert_int_equal(bs_iso_dialect_set_field(d, 55, &s), 0);
    bs_iso_msg_init(&m, "0200");
    bs_iso_msg_set(&m, 55, de55, n);
    assert_int_equal(bs_iso_pack(d, &m, packed, sizeof(packed), &pn, &err), 0);
    assert_int_equal(bs_iso_unpack(d, packed, pn, &m2, &err), 0);
    v = bs_iso_msg_get(&m2, 55, &vlen);
    assert_int_equal(vlen, n);

    assert_int_equal(bs_iso_tlv_next(v, vlen, &pos, &t, &err), 1);
    assert_int_equal(t.tag, 0x9F02);
    assert_int_equal(t.tag_len, 2);
    assert_int_equal(t.len, 6);
    assert_int_equal(bs_iso_tlv_put(t.tag, 0, t.value, t.len, out, sizeof(out), &opos), 0);
    assert_int_equal(bs_iso_tlv_next(v, vlen, &pos, &t, &err), 1);
    assert_int_equal(t.tag, 0xDF8116);
    assert_int_equal(t.tag_len, 3);
    assert_int_equal(t.len_len, 2);
    assert_int_equal(t.len, 128);
    assert_int_equal(t.off, 9);
    assert_true(t.constructed == false);
    assert_int_equal(bs_iso_tlv_put(t.tag, 0, t.value, t.len, out, sizeof(out), &opos), 0);
    assert_int_equal(bs_iso_tlv_next(v, vlen, &pos, &t, &err), 1);
    assert_int_equal(t.tag, 0x5F2A);
    assert_int_equal(bs_iso_tlv_put(t.tag, 0, t.value, t.len, out, sizeof(out), &opos), 0);
    assert_int_equal(bs_iso_tlv_next(v, vlen, &pos, &t, &err), 0);
    /* Minimal re-encoding gives the identical bytes, and so does the whole message. */
    assert_int_equal(opos, n);
    assert_memory_equal(out, de55, n);
    bs_iso_msg_set(&m2, 55, out, opos);
    assert_int_equal(bs_iso_pack(d, &m2, out, sizeof(out), &opos, &err), 0);
    assert_int_equal(opos, pn);
    assert_memory_equal(out, packed, pn);
    bs_iso_dialect_free(d);
}

static void test_tlv_errors(void **state)
{
    struct bs_iso_error err;
    struct bs_iso_tlv t;
    uint8_t b[16], out[8];
    size_t n, pos;
    uint32_t tag;
    char hex[9];

    (void)state;
    n = t_hex("9F", b, sizeof(b));
    pos = 0;
    assert_int_equal(bs_iso_tlv_next(b, n, &pos, &t, &err), BS_EFORMAT);
    n = t_hex("9F02", b, sizeof(b));
    pos = 0;
    assert_int_equal(bs_iso_tlv_next(b, n, &pos, &t, &err), BS_EFORMAT);
    assert_non_null(strstr(err.reason, "9F02 has no length"));
    n = t_hex("9F0207000000", b, sizeof(b));
    pos = 0;
    assert_int_equal(bs_iso_tlv_next(b, n, &pos, &t, &err), BS_EFORMAT);
    assert_non_null(strstr(err.reason, "length exceeds the bytes left"));
    n = t_hex("5A8001", b, sizeof(b));
    pos = 0;
    assert_int_equal(bs_iso_tlv_next(b, n, &pos, &t, &err), BS_EFORMAT);
    n = t_hex("5A820001", b, sizeof(b));
    pos = 0;
    assert_int_equal(bs_iso_tlv_next(b, n, &pos, &t, &err), BS_EFORMAT);
    n = t_hex("DF8181818101", b, sizeof(b));
    pos = 0;
    assert_int_equal(bs_iso_tlv_next(b, n, &pos, &t, &err), BS_EFORMAT);
    assert_non_null(strstr(err.reason, "longer than 4"));
    n = t_hex("0001", b, sizeof(b));
    pos = 0;
    assert_int_equal(bs_iso_tlv_next(b, n, &pos, &t, &err), BS_EFORMAT);
    /* A non-minimal length is read and can be reproduced exactly. */
    n = t_hex("5A81020102", b, sizeof(b));
    pos = 0;
    assert_int_equal(bs_iso_tlv_next(b, n, &pos, &t, &err), 1);
    assert_int_equal(t.len_len, 2);
    pos = 0;
    assert_int_equal(bs_iso_tlv_put(t.tag, t.len_len, t.value, t.len, out, sizeof(out), &pos), 0);
    assert_int_equal(pos, n);
    assert_memory_equal(out, b, n);
    pos = 0;
    assert_int_equal(bs_iso_tlv_put(0x9F, 0, b, 1, out, sizeof(out), &pos), BS_EINVAL);
    assert_int_equal(bs_iso_tlv_put(0x9F82, 0, b, 1, out, sizeof(out), &pos), BS_EINVAL);
    assert_int_equal(bs_iso_tlv_put(0x5A, 0, b, 8, out, sizeof(out), &pos), BS_ENOSPC);
    assert_int_equal(bs_iso_tlv_tag_parse("df8116", &tag), 0);
    assert_int_equal(tag, 0xDF8116);
    assert_int_equal(bs_iso_tlv_tag_format(tag, hex), 6);
    assert_string_equal(hex, "DF8116");
    assert_int_equal(bs_iso_tlv_tag_parse("9F", &tag), BS_EFORMAT);
    assert_int_equal(bs_iso_tlv_tag_parse("005A", &tag), BS_EFORMAT);
    assert_int_equal(bs_iso_tlv_tag_parse("5G", &tag), BS_EFORMAT);
}

/* ---- STAN -------------------------------------------------------------------------------- */

static void test_stan(void **state)
{
    struct bs_iso_stan *s;
    uint32_t v;
    char buf[7];

    (void)state;
    t_use_test_allocator();
    assert_int_equal(bs_iso_stan_new(0, &s), BS_EINVAL);
    assert_int_equal(bs_iso_stan_new(1000000, &s), BS_EINVAL);
    assert_int_equal(bs_iso_stan_new(999998, &s), 0);
    assert_int_equal(bs_iso_stan_next(s, &v), 0);
    assert_int_equal(v, 999998);
    assert_int_equal(bs_iso_stan_next(s, &v), 0);
    assert_int_equal(v, 999999);
    /* Wraps to 000001, never 000000. */
    assert_int_equal(bs_iso_stan_next(s, &v), 0);
    assert_int_equal(v, 1);
    bs_iso_stan_format(v, buf);
    assert_string_equal(buf, "000001");
    assert_int_equal(bs_iso_stan_next(s, &v), 0);
    assert_int_equal(v, 2);
    assert_int_equal(bs_iso_stan_count(s), 4);
    assert_true(bs_iso_stan_in_flight(s, 999999));
    assert_int_equal(bs_iso_stan_done(s, 999999), 0);
    assert_int_equal(bs_iso_stan_done(s, 999999), BS_ENOTFOUND);
    assert_int_equal(bs_iso_stan_done(s, 0), BS_EINVAL);
    assert_false(bs_iso_stan_in_flight(s, 999999));
    bs_iso_stan_free(s);

    /* Never one still in flight: 1 and 3 outstanding across a wrap are skipped. */
    assert_int_equal(bs_iso_stan_new(1, &s), 0);
    for (uint32_t i = 1; i <= BS_ISO_STAN_MAX; i++) {
        assert_int_equal(bs_iso_stan_next(s, &v), 0);
        assert_int_equal(v, i);
    }
    assert_int_equal(bs_iso_stan_next(s, &v), BS_ELIMIT);
    for (uint32_t i = 1; i <= BS_ISO_STAN_MAX; i++)
        if (i != 1 && i != 3 && i != 64 && i != 999999)
            assert_int_equal(bs_iso_stan_done(s, i), 0);
    assert_int_equal(bs_iso_stan_count(s), 4);
    assert_int_equal(bs_iso_stan_next(s, &v), 0);
    assert_int_equal(v, 2);
    assert_int_equal(bs_iso_stan_next(s, &v), 0);
    assert_int_equal(v, 4);
    for (uint32_t want = 5; want < 64; want++) {
        assert_int_equal(bs_iso_stan_next(s, &v), 0);
        assert_int_equal(v, want);
    }
    assert_int_equal(bs_iso_stan_next(s, &v), 0);
    assert_int_equal(v, 65);
    bs_iso_stan_free(s);
    bs_iso_stan_free(NULL);
}

int t_run_frames(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_frame_chunking),
        cmocka_unit_test(test_frame_two_and_a_half),
        cmocka_unit_test(test_frame_keepalive_and_limits),
        cmocka_unit_test(test_frame_config),
        cmocka_unit_test(test_tlv_de55_long_form),
        cmocka_unit_test(test_tlv_errors),
        cmocka_unit_test(test_stan),
    };

    return cmocka_run_group_tests_name("iso8583_frames_tlv_stan", tests, NULL, NULL);
}
