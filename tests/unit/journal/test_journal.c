/*
 * Unit tests for src/journal/: records, message bytes with sensitive data elements blanked
 * (every shipped dialect), the hash-chained writer (buffering, whole lines, fsync policy,
 * checkpoints, sink failures), the strict line parser, and the verifier against every kind
 * of tampering: one character changed anywhere, a line deleted, two lines swapped, a line
 * duplicated or appended, the file cut at any byte.
 *
 * Library allocations go through cmocka's test_malloc(), so a leak fails its test.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bridgesim/crypto.h>
#include <bridgesim/iso8583.h>
#include <bridgesim/journal.h>

static char root[1024];

static void *t_malloc(size_t n)
{
    return test_malloc(n);
}

static void *t_calloc(size_t nmemb, size_t n)
{
    return test_calloc(nmemb, n);
}

static void *t_realloc(void *p, size_t n)
{
    return test_realloc(p, n);
}

static void t_free(void *p)
{
    test_free(p);
}

static const struct bs_allocator test_allocator = { t_malloc, t_calloc, t_realloc, t_free };

static int setup_alloc(void **state)
{
    (void)state;
    bs_set_allocator(&test_allocator);
    return 0;
}

static int teardown_alloc(void **state)
{
    (void)state;
    bs_set_allocator(NULL);
    return 0;
}

/* ---- an in-memory sink ----------------------------------------------------------------- */

struct mem {
    char *buf;
    size_t len, cap;
    int writes, syncs;
    int fail_after; /* fail the write after this many (-1: never) */
    bool whole_lines;
};

static int mem_write(void *ctx, const void *buf, size_t n)
{
    struct mem *m = ctx;

    if (m->fail_after >= 0 && m->writes >= m->fail_after)
        return BS_EIO;
    /* The writer promises whole lines per call. */
    if (n == 0 || ((const char *)buf)[n - 1] != '\n')
        m->whole_lines = false;
    if (m->len + n + 1 > m->cap) {
        m->cap = (m->len + n + 1) * 2;
        m->buf = realloc(m->buf, m->cap);
        assert_non_null(m->buf);
    }
    memcpy(m->buf + m->len, buf, n);
    m->len += n;
    m->buf[m->len] = '\0';
    m->writes++;
    return 0;
}

static int mem_sync(void *ctx)
{
    ((struct mem *)ctx)->syncs++;
    return 0;
}

static void mem_init(struct mem *m)
{
    memset(m, 0, sizeof(*m));
    m->fail_after = -1;
    m->whole_lines = true;
}

static struct bs_key *derive(enum bs_sig_alg alg, uint64_t seed, const char *owner)
{
    uint8_t s[8];
    struct bs_key *k = NULL;

    for (int i = 0; i < 8; i++)
        s[i] = (uint8_t)(seed >> (56 - 8 * i));
    assert_int_equal(bs_key_derive(alg, s, 8, owner, 0, 0, &k), 0);
    return k;
}

static void header(struct bs_jheader *h, const char *node)
{
    memset(h, 0, sizeof(*h));
    h->node = node;
    h->role = "switch";
    h->network = "mir";
    h->scenario = "unit";
    memset(h->scenario_sha256, 0xab, 32);
    h->seed = 42;
    h->version = "0.1.0";
    h->t = 1772442000000000;
}

/* Write @n note records (checkpoint every @every) to @m, closed unless @open. */
static void write_journal(struct mem *m, enum bs_sig_alg alg, int n, uint32_t every,
                          enum bs_jsync sync, bool close)
{
    struct bs_key *k = derive(alg, 42, "mir.switch");
    struct bs_jwriter_cfg cfg = { { mem_write, mem_sync, m }, k, sync, every, 0 };
    struct bs_jheader h;
    struct bs_jwriter *w;

    header(&h, "mir.switch");
    assert_int_equal(bs_jwriter_new(&cfg, &h, &w), 0);
    for (int i = 0; i < n; i++) {
        char note[64];
        struct bs_jrec r = { .kind = i % 3 ? BS_J_TIMEOUT : BS_J_STATE,
                             .t = h.t + i * 1000,
                             .node = "mir.switch",
                             .peer = "bridge",
                             .trace = (uint64_t)i + 1,
                             .note = note };
        snprintf(note, sizeof(note), "record %d \"quoted\" \\ and \x01 control", i);
        assert_int_equal(bs_jwriter_append(w, &r), 0);
    }
    if (close)
        assert_int_equal(bs_jwriter_close(w, h.t + n * 1000, 0), 0);
    else
        assert_int_equal(bs_jwriter_flush(w), 0);
    assert_int_equal(bs_jwriter_records(w), (uint64_t)n);
    bs_jwriter_free(w);
    bs_key_free(k);
}

/*
 * Verify the journal in @text (@len bytes). Return: 0 when it verifies, else the line the
 * verifier names (and its reason in @why).
 */
static uint64_t verify_text(const char *text, size_t len, char *why, size_t whylen)
{
    struct bs_jverify *v;
    struct bs_jverify_error e;
    const char *p = text, *end = text + len;
    uint64_t bad = 0;
    int rc = 0;

    memset(&e, 0, sizeof(e));
    assert_int_equal(bs_jverify_new(&v), 0);
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl) {
            rc = bs_jverify_end(v, true, &e);
            break;
        }
        rc = bs_jverify_line(v, p, (size_t)(nl - p), NULL, &e);
        if (rc)
            break;
        p = nl + 1;
    }
    if (p >= end && rc == 0)
        rc = bs_jverify_end(v, false, &e);
    if (rc) {
        bad = e.line ? e.line : (uint64_t)-1;
        if (why)
            snprintf(why, whylen, "%s", e.reason);
    }
    bs_jverify_free(v);
    return bad;
}

/* Byte offset of the start of line @l (1-based) in @t. */
static size_t line_start(const char *t, uint64_t l)
{
    const char *p = t;

    for (uint64_t i = 1; i < l; i++) {
        p = strchr(p, '\n');
        assert_non_null(p);
        p++;
    }
    return (size_t)(p - t);
}

static uint64_t count_lines(const char *t)
{
    uint64_t n = 0;

    for (; *t; t++)
        n += *t == '\n';
    return n;
}

/* ---- kinds and records ----------------------------------------------------------------- */

static void kinds_round_trip(void **state)
{
    (void)state;
    for (int k = 0; k < BS_J_KIND_COUNT; k++) {
        const char *name = bs_jkind_name((enum bs_jkind)k);
        enum bs_jkind back;
        assert_string_not_equal(name, "unknown");
        assert_int_equal(bs_jkind_parse(name, strlen(name), &back), 0);
        assert_int_equal(back, k);
    }
    assert_string_equal(bs_jkind_name(BS_J_KIND_COUNT), "unknown");
    assert_int_equal(bs_jkind_parse("msg", 3, &(enum bs_jkind){ 0 }), BS_ENOTFOUND);
}

static void iso_time_round_trip(void **state)
{
    static const bs_time_us ts[] = { 0, 1772442000078649, 951782400000000 /* 2000-02-29 */,
                                     4102444799999999 /* 2099-12-31T23:59:59.999999 */ };
    char buf[28];
    bs_time_us back;

    (void)state;
    for (size_t i = 0; i < sizeof(ts) / sizeof(ts[0]); i++) {
        bs_format_iso_time(ts[i], buf);
        assert_int_equal(bs_parse_iso_time(buf, &back), 0);
        assert_int_equal(back, ts[i]);
    }
    assert_int_equal(bs_parse_iso_time("2026-03-02T09:00:05Z", &back), 0);
    assert_int_equal(back, 1772442005000000);
    assert_int_equal(bs_parse_iso_time("2026-03-02 09:00:05.5", &back), 0);
    assert_int_equal(back, 1772442005500000);
    assert_int_equal(bs_parse_iso_time("2026-02-29T00:00:00Z", &back), BS_EFORMAT);
    assert_int_equal(bs_parse_iso_time("2026-13-01T00:00:00Z", &back), BS_EFORMAT);
    assert_int_equal(bs_parse_iso_time("2026-03-02T09:00:05.1234567Z", &back), BS_EFORMAT);
    assert_int_equal(bs_parse_iso_time("2026-03-02T09:00:05Zjunk", &back), BS_EFORMAT);
    assert_int_equal(bs_parse_iso_time("", &back), BS_EFORMAT);
}

/* Every field a message record can carry survives format → parse, including DE 3. */
static void record_fields_round_trip(void **state)
{
    struct bs_iso_msg m;
    char line[BS_JOURNAL_LINE_MAX + 1], why[160];
    struct bs_jline r;
    struct bs_jrec rec;
    int n;

    (void)state;
    bs_iso_msg_init(&m, "0210");
    bs_iso_msg_set_str(&m, 2, "2200701234566781");
    bs_iso_msg_set_str(&m, 3, "010000");
    bs_iso_msg_set_num(&m, 4, 3371206, 12);
    bs_iso_msg_set_num(&m, 6, 152810059, 12);
    bs_iso_msg_set_str(&m, 11, "000042");
    bs_iso_msg_set_str(&m, 37, "606109000042");
    bs_iso_msg_set_str(&m, 39, "51");
    bs_iso_msg_set_str(&m, 49, "643");
    bs_iso_msg_set_str(&m, 51, "364");
    rec = (struct bs_jrec){ .kind = BS_J_MSG_IN,
                            .t = 1772442000078649,
                            .wall = 1772442000078650,
                            .node = "bridge",
                            .peer = "mir.switch",
                            .trace = 77,
                            .msg = &m,
                            .sig = "ok",
                            .key_id = "mir.switch#0",
                            .note = "a note" };
    n = bs_journal_format(&rec, 9, line, sizeof(line));
    assert_true(n > 0);
    assert_int_equal(line[n - 1], '\n');
    assert_null(strstr(line, "2200701234566781"));
    assert_non_null(strstr(line, "\"pan\":\"220070******6781\""));
    /* The parser wants the chain field the writer adds. */
    memcpy(line + n - 2,
           ",\"prev\":\"00000000 00000000 00000000 00000000 00000000 00000000 00000000 "
           "00000000\"}",
           82);
    n = n - 2 + 82;
    if (bs_jline_parse(line, (size_t)n, &r, why, sizeof(why)) != 0)
        fail_msg("%s: %s", why, line);
    assert_int_equal(r.seq, 9);
    assert_int_equal(r.kind, BS_J_MSG_IN);
    assert_int_equal(r.t, 1772442000078649);
    assert_true(r.has_wall);
    assert_int_equal(r.wall, 1772442000078650);
    assert_string_equal(r.node, "bridge");
    assert_string_equal(r.peer, "mir.switch");
    assert_int_equal(r.trace, 77);
    assert_string_equal(r.mti, "0210");
    assert_string_equal(r.proc, "010000");
    assert_string_equal(r.stan, "000042");
    assert_string_equal(r.rrn, "606109000042");
    assert_string_equal(r.pan, "220070******6781");
    assert_true(r.has_amount);
    assert_int_equal(r.amount, 3371206);
    assert_string_equal(r.currency, "643");
    assert_true(r.has_billing);
    assert_int_equal(r.billing_amount, 152810059);
    assert_string_equal(r.billing_currency, "364");
    assert_string_equal(r.rc, "51");
    assert_string_equal(r.sig, "ok");
    assert_string_equal(r.key_id, "mir.switch#0");
    assert_string_equal(r.note, "a note");
    assert_null(r.hex);
    assert_int_equal(bs_journal_format(&rec, 9, line, 40), BS_ENOSPC);
    assert_int_equal(bs_journal_format(NULL, 9, line, sizeof(line)), BS_EINVAL);
}

/* ---- message bytes: sensitive data elements blanked in every dialect ---------------------- */

static struct bs_iso_dialect *load_dialect(const char *name)
{
    char path[1200], err[512];
    struct bs_iso_dialect *d = NULL;
    FILE *f;
    char *text;
    long n;

    snprintf(path, sizeof(path), "%s/configs/dialects/%s.yaml", root, name);
    f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    rewind(f);
    text = malloc((size_t)n);
    assert_non_null(text);
    assert_int_equal(fread(text, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    if (bs_iso_dialect_parse(text, (size_t)n, path, &d, err, sizeof(err)) != 0)
        fail_msg("%s", err);
    free(text);
    return d;
}

static void hexof(const char *s, char *out)
{
    for (; *s; s++, out += 2)
        sprintf(out, "%02x", (unsigned char)*s);
    *out = '\0';
}

static void wire_blanked_every_dialect(void **state)
{
    static const char *const dialects[] = { "mir", "shetab", "iso87-ascii", "iso87-binary" };
    static const char pan[] = "6037991234567893", track2[] = "6037991234567893=30122010000000";
    static const uint8_t pin[8] = { 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0 };
    char pan_hex[64], track_hex[80];

    (void)state;
    hexof(pan, pan_hex);
    hexof("1234567893", track_hex); /* the middle and end of the PAN, in ASCII hex */
    for (size_t i = 0; i < sizeof(dialects) / sizeof(dialects[0]); i++) {
        struct bs_iso_dialect *d = load_dialect(dialects[i]);
        struct bs_iso_msg m, dec, back;
        uint8_t wire[1024], again[1024];
        size_t n, n2;
        char hex[BS_JOURNAL_HEX_LEN(sizeof(wire)) + 1], pinhex[17];
        int h;

        bs_iso_msg_init(&m, "0200");
        bs_iso_msg_set_str(&m, 2, pan);
        bs_iso_msg_set_str(&m, 3, "000000");
        bs_iso_msg_set_num(&m, 4, 50000, 12);
        bs_iso_msg_set_str(&m, 11, "000001");
        bs_iso_msg_set_str(&m, 14, "3012");
        bs_iso_msg_set_str(&m, 35, track2);
        bs_iso_msg_set_str(&m, 37, "606109000001");
        bs_iso_msg_set(&m, 52, pin, sizeof(pin));
        bs_iso_msg_set_str(&m, 49, "643");
        if (bs_iso_pack(d, &m, wire, sizeof(wire), &n, NULL) != 0)
            fail_msg("%s: cannot pack", dialects[i]);
        assert_int_equal(bs_iso_unpack(d, wire, n, &dec, NULL), 0);
        /* Both ways: with the caller's decoded message, and decoding here. */
        for (int way = 0; way < 2; way++) {
            h = bs_journal_wire_hex(d, wire, n, way ? NULL : &dec, hex, sizeof(hex));
            assert_int_equal(h, (int)BS_JOURNAL_HEX_LEN(n));
            /* Compact the groups of four bytes to check the digits themselves. */
            {
                size_t c = 0;
                for (int q = 0; q < h; q++)
                    if (hex[q] != ' ')
                        hex[c++] = hex[q];
                hex[c] = '\0';
            }
            /* BCD dialects show digits as hex digits; ASCII ones as 3x pairs. */
            if (strstr(hex, "603799123456") || strstr(hex, "1234567893") || strstr(hex, pan_hex) ||
                strstr(hex, track_hex))
                fail_msg("%s: PAN visible in %s", dialects[i], hex);
            for (int k = 0; k < 8; k++)
                sprintf(pinhex + 2 * k, "%02x", pin[k]);
            if (strstr(hex, pinhex))
                fail_msg("%s: PIN block visible in %s", dialects[i], hex);
            /* The blanked bytes still decode, to nothing. */
            for (n2 = 0; n2 < n; n2++) {
                unsigned v;
                sscanf(hex + 2 * n2, "%2x", &v);
                again[n2] = (uint8_t)v;
            }
            assert_int_equal(bs_iso_unpack(d, again, n, &back, NULL), 0);
            {
                size_t len;
                const uint8_t *v2 = bs_iso_msg_get(&back, 2, &len);
                assert_int_equal(len, strlen(pan));
                assert_memory_equal(v2, "0000000000000000", len);
                v2 = bs_iso_msg_get(&back, 52, &len);
                assert_memory_equal(v2, "\0\0\0\0\0\0\0\0", 8);
                v2 = bs_iso_msg_get(&back, 37, &len); /* clear fields are kept */
                assert_memory_equal(v2, "606109000001", 12);
            }
        }
        /* Bytes that do not decode are never written. */
        assert_int_equal(bs_journal_wire_hex(d, wire, n - 1, NULL, hex, sizeof(hex)), BS_EFORMAT);
        assert_int_equal(bs_journal_wire_hex(d, wire, n, NULL, hex, 2 * n), BS_ENOSPC);
        bs_iso_dialect_free(d);
    }
}

/* A record with wire bytes carries them as blanked hex; undecodable bytes give no hex. */
static void record_hex_field(void **state)
{
    struct bs_iso_dialect *d = load_dialect("shetab");
    struct bs_iso_msg m;
    uint8_t wire[512];
    size_t n;
    char line[BS_JOURNAL_LINE_MAX + 1];
    struct bs_jrec r;
    int len;

    (void)state;
    bs_iso_msg_init(&m, "0200");
    bs_iso_msg_set_str(&m, 2, "6037991234567893");
    bs_iso_msg_set_str(&m, 11, "000001");
    assert_int_equal(bs_iso_pack(d, &m, wire, sizeof(wire), &n, NULL), 0);
    r = (struct bs_jrec){ .kind = BS_J_MSG_OUT,
                          .t = 1,
                          .node = "a",
                          .msg = &m,
                          .wire = wire,
                          .wire_len = n,
                          .dialect = d };
    len = bs_journal_format(&r, 1, line, sizeof(line));
    assert_true(len > 0);
    assert_non_null(strstr(line, ",\"hex\":\""));
    r.wire_len = n - 1;
    len = bs_journal_format(&r, 1, line, sizeof(line));
    assert_true(len > 0);
    assert_null(strstr(line, "\"hex\""));
    bs_iso_dialect_free(d);
}

/* ---- writer -------------------------------------------------------------------------------- */

static void writer_chain_and_checkpoints(void **state)
{
    struct mem m;
    char why[300];
    struct bs_jline l;
    size_t off;

    (void)state;
    mem_init(&m);
    write_journal(&m, BS_SIG_ED25519, 12, 5, BS_JSYNC_CHECKPOINT, true);
    assert_true(m.whole_lines);
    /* header + 12 records + checkpoints after 5 and 10 + the final one */
    assert_int_equal(count_lines(m.buf), 1 + 12 + 3);
    assert_int_equal(m.syncs, 3);
    if (verify_text(m.buf, m.len, why, sizeof(why)) != 0)
        fail_msg("fresh journal does not verify: %s", why);
    off = line_start(m.buf, 7); /* the first checkpoint, after 5 records */
    assert_int_equal(bs_jline_parse(m.buf + off, (size_t)(strchr(m.buf + off, '\n') - m.buf - off),
                                    &l, why, sizeof(why)),
                     0);
    assert_int_equal(l.kind, BS_J_CHECKPOINT);
    assert_int_equal(l.seq, 6);
    assert_int_equal(l.records, 5);
    assert_false(l.final);
    assert_string_equal(l.alg, "ed25519");
    assert_string_equal(l.key_id, "mir.switch#0");
    assert_int_equal(l.signature_len, 64);
    /* The header. */
    assert_int_equal(
        bs_jline_parse(m.buf, (size_t)(strchr(m.buf, '\n') - m.buf), &l, why, sizeof(why)), 0);
    assert_int_equal(l.kind, BS_J_HEADER);
    assert_int_equal(l.format, BS_JOURNAL_FORMAT);
    assert_true(l.has_seed);
    assert_int_equal(l.seed, 42);
    assert_string_equal(l.mode, "virtual");
    assert_string_equal(l.key_source, "seed");
    assert_int_equal(l.checkpoint_every, 5);
    assert_string_equal(l.role, "switch");
    free(m.buf);
}

/* Every algorithm signs checkpoints that verify (ECDSA is not deterministic: still valid). */
static void writer_every_algorithm(void **state)
{
    static const enum bs_sig_alg algs[] = { BS_SIG_ED25519, BS_SIG_ECDSA_P256, BS_SIG_HMAC_SHA256,
                                            BS_SIG_AES_CMAC };
    char why[300];

    (void)state;
    for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
        struct mem m;
        mem_init(&m);
        write_journal(&m, algs[i], 7, 3, BS_JSYNC_NONE, true);
        assert_int_equal(m.syncs, 0);
        if (verify_text(m.buf, m.len, why, sizeof(why)) != 0)
            fail_msg("%s: %s", bs_sig_alg_name(algs[i]), why);
        free(m.buf);
    }
}

static void writer_sync_every(void **state)
{
    struct mem m;

    (void)state;
    mem_init(&m);
    write_journal(&m, BS_SIG_HMAC_SHA256, 10, 1000, BS_JSYNC_EVERY, true);
    /* every record, plus the final checkpoint */
    assert_int_equal(m.syncs, 11);
    assert_int_equal(m.writes, 11);
    free(m.buf);
}

/* Same input, same bytes: the journal of a seeded run replays exactly (Ed25519, HMAC). */
static void writer_deterministic(void **state)
{
    struct mem a, b;

    (void)state;
    mem_init(&a);
    mem_init(&b);
    write_journal(&a, BS_SIG_ED25519, 30, 7, BS_JSYNC_NONE, true);
    write_journal(&b, BS_SIG_ED25519, 30, 7, BS_JSYNC_NONE, true);
    assert_int_equal(a.len, b.len);
    assert_memory_equal(a.buf, b.buf, a.len);
    free(a.buf);
    free(b.buf);
}

static void writer_errors(void **state)
{
    struct mem m;
    struct bs_key *k = derive(BS_SIG_ED25519, 42, "mir.switch");
    struct bs_jwriter_cfg cfg = { { mem_write, NULL, &m }, k, BS_JSYNC_NONE, 0, 0 };
    struct bs_jheader h;
    struct bs_jwriter *w;
    struct bs_jrec r = { .kind = BS_J_STATE, .t = 1, .node = "x", .note = "n" };
    char longname[100];

    (void)state;
    mem_init(&m);
    header(&h, "mir.switch");
    /* Bad configurations. */
    cfg.sync = BS_JSYNC_CHECKPOINT; /* without a sync callback */
    assert_int_equal(bs_jwriter_new(&cfg, &h, &w), BS_EINVAL);
    cfg.sync = BS_JSYNC_NONE;
    cfg.key = NULL;
    assert_int_equal(bs_jwriter_new(&cfg, &h, &w), BS_EINVAL);
    cfg.key = k;
    cfg.checkpoint_every = BS_JOURNAL_CHECKPOINT_MAX + 1;
    assert_int_equal(bs_jwriter_new(&cfg, &h, &w), BS_EINVAL);
    cfg.checkpoint_every = 0;
    h.node = "";
    assert_int_equal(bs_jwriter_new(&cfg, &h, &w), BS_EINVAL);
    header(&h, "mir.switch");

    /* Kinds the writer owns, names no reader would take. */
    assert_int_equal(bs_jwriter_new(&cfg, &h, &w), 0);
    r.kind = BS_J_CHECKPOINT;
    assert_int_equal(bs_jwriter_append(w, &r), BS_EINVAL);
    r.kind = BS_J_HEADER;
    assert_int_equal(bs_jwriter_append(w, &r), BS_EINVAL);
    r.kind = BS_J_STATE;
    memset(longname, 'n', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    r.peer = longname;
    assert_int_equal(bs_jwriter_append(w, &r), BS_EINVAL);
    r.peer = NULL;
    assert_int_equal(bs_jwriter_append(w, &r), 0);
    assert_int_equal(bs_jwriter_close(w, 2, 0), 0);
    assert_int_equal(bs_jwriter_append(w, &r), BS_ESTATE);
    assert_int_equal(bs_jwriter_close(w, 3, 0), BS_ESTATE);
    bs_jwriter_free(w);
    free(m.buf);

    /* A sink failure breaks the writer for good, and is reported. */
    mem_init(&m);
    m.fail_after = 0;
    assert_int_equal(bs_jwriter_new(&cfg, &h, &w), 0);
    assert_int_equal(bs_jwriter_flush(w), BS_EIO);
    assert_int_equal(bs_jwriter_append(w, &r), BS_ESTATE);
    assert_int_equal(bs_jwriter_flush(w), BS_ESTATE);
    bs_jwriter_free(w);
    bs_jwriter_free(NULL);
    free(m.buf);
    bs_key_free(k);
}

/* The buffer fills and drains in whole lines however many records come. */
static void writer_buffering(void **state)
{
    struct mem m;
    char why[300];

    (void)state;
    mem_init(&m);
    write_journal(&m, BS_SIG_HMAC_SHA256, 3000, 1000, BS_JSYNC_NONE, true);
    assert_true(m.whole_lines);
    assert_true(m.writes > 2);
    assert_int_equal(verify_text(m.buf, m.len, why, sizeof(why)), 0);
    free(m.buf);
}

/* ---- parser --------------------------------------------------------------------------------- */

static const char good_prev[] =
    "\"prev\":\"00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000\"";

static int parse(const char *s, char *why, size_t whylen)
{
    struct bs_jline l;

    return bs_jline_parse(s, strlen(s), &l, why, whylen);
}

static void parser_strict(void **state)
{
    static const char *const bad[] = {
        "",
        "[]",
        "{}",
        "{\"seq\":1,\"kind\":\"msg_in\",\"node\":\"a\"}",                         /* no prev */
        "{\"seq\":1,\"kind\":\"msg_in\",\"node\":\"a\",\"prev\":\"00\"}",         /* short prev */
        "{\"seq\":1,\"seq\":2,\"kind\":\"msg_in\",\"node\":\"a\",%s}",            /* duplicate */
        "{\"seq\":-1,\"kind\":\"msg_in\",\"node\":\"a\",%s}",                     /* negative */
        "{\"seq\":01,\"kind\":\"msg_in\",\"node\":\"a\",%s}",                     /* leading 0 */
        "{\"seq\":1.5,\"kind\":\"msg_in\",\"node\":\"a\",%s}",                    /* not integer */
        "{\"seq\":99999999999999999999,\"kind\":\"msg_in\",\"node\":\"a\",%s}",   /* overflow */
        "{\"seq\":1,\"kind\":\"msg_inx\",\"node\":\"a\",%s}",                     /* kind */
        "{\"seq\":1,\"kind\":\"msg_in\",\"node\":\"a\",\"stan\":\"0000001\",%s}", /* too long */
        "{\"seq\":1,\"kind\":\"msg_in\",\"node\":\"a\",\"x\":{\"y\":1},%s}",      /* nested */
        "{\"seq\":1,\"kind\":\"msg_in\",\"node\":\"a\",\"x\":[1],%s}",            /* array */
        "{\"seq\":1,\"kind\":\"msg_in\",\"node\":\"a\\q\",%s}",                   /* escape */
        "{\"seq\":1,\"kind\":\"msg_in\",\"node\":\"a\\u01\",%s}",                 /* short \\u */
        "{\"seq\":1,\"kind\":\"msg_in\",\"node\":\"\\u0100\",%s}",                /* not a byte */
        "{\"seq\":1,\"kind\":\"msg_in\",\"node\":\"a\",%s} ",                     /* fine: ws */
        "{\"seq\":1,\"kind\":\"msg_in\",\"node\":\"a\",%s}x",                     /* trailing */
        "{\"seq\":1,\"kind\":\"msg_in\",\"node\":\"a\",%s",                       /* unclosed */
        "{\"seq\":1,\"kind\":\"msg_in\",\"node\":\"a\",\"hex\":\"0g\",%s}",       /* hex */
        "{\"seq\":1,\"kind\":\"msg_in\",\"node\":\"a\",\"hex\":\"012\",%s}",      /* odd */
        "{\"seq\":1,\"kind\":\"msg_in\",\"node\":\"a\",\"final\":1,%s}",          /* bool */
        "{\"seq\":1,\"kind\":\"msg_in\",\"node\":\"a\",\"seed\":\"4x\",%s}",      /* seed */
        "{\"seq\":1,\"kind\":\"msg_in\",\"node\":\"a\",\"t\":tru,%s}",            /* literal */
        "{\"seq\":1,\"kind\":\"msg_in\",\"node\":\"a\",\"t\":1e,%s}",             /* number */
        "{\"seq\":1,\"kind\":\"msg_in\",\"node\":\"a\"\"t\":1,%s}",               /* no comma */
        "{\"seq\":1,\"kind\":\"msg_in\",\"node\":\"a\",\"n\":\"\x01\",%s}",       /* control */
    };
    char line[512], why[200];

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        /* Entry 17 is the one good line: trailing white space is allowed. */
        bool ok = strcmp(bad[i], "{\"seq\":1,\"kind\":\"msg_in\",\"node\":\"a\",%s} ") == 0;
        int rc;
        snprintf(line, sizeof(line), bad[i], good_prev);
        rc = parse(line, why, sizeof(why));
        if (ok && rc != 0)
            fail_msg("rejected: %s: %s", line, why);
        if (!ok && rc == 0)
            fail_msg("accepted: %s", line);
        if (!ok)
            assert_true(why[0] != '\0');
    }
    /* Unknown keys of any scalar type are skipped; known ones keep their types. */
    snprintf(line, sizeof(line), "{\"seq\":1,\"kind\":\"msg_in\",\"node\":\"a\",\"future\":[],%s}",
             good_prev);
    assert_int_equal(parse(line, why, sizeof(why)), BS_EFORMAT);
    snprintf(line, sizeof(line),
             "{\"seq\":1,\"kind\":\"msg_in\",\"node\":\"a\",\"future\":-1.5e+3,\"f2\":null,"
             "\"a_very_long_key_name_that_no_field_has\":true,\"time\":\"whatever\",%s}",
             good_prev);
    assert_int_equal(parse(line, why, sizeof(why)), 0);
    /* Escapes decode to the bytes the writer escaped. */
    {
        struct bs_jline l;
        snprintf(line, sizeof(line),
                 "{\"seq\":1,\"kind\":\"state\",\"node\":\"a\",\"note\":"
                 "\"q\\\"b\\\\c\\u0001\\u00ff\\/\","
                 "%s}",
                 good_prev);
        assert_int_equal(bs_jline_parse(line, strlen(line), &l, why, sizeof(why)), 0);
        assert_string_equal(l.note, "q\"b\\c\x01\xff/");
    }
    /* Limits. */
    {
        char *big = malloc(BS_JOURNAL_LINE_MAX + 2);
        struct bs_jline l;
        assert_non_null(big);
        memset(big, ' ', BS_JOURNAL_LINE_MAX + 1);
        assert_int_equal(bs_jline_parse(big, BS_JOURNAL_LINE_MAX + 1, &l, why, sizeof(why)),
                         BS_ELIMIT);
        free(big);
        assert_int_equal(bs_jline_parse(NULL, 0, &l, why, sizeof(why)), BS_EINVAL);
    }
}

/* Random bytes and random mutations of a real line: never a crash, never a read past the
 * end (ASan), and anything accepted has its required fields. */
static void parser_garbage(void **state)
{
    struct mem m;
    struct bs_jline l;
    char why[200];
    uint64_t x = 88172645463325252ULL;
    size_t first;

    (void)state;
    mem_init(&m);
    write_journal(&m, BS_SIG_HMAC_SHA256, 3, 2, BS_JSYNC_NONE, true);
    first = (size_t)(strchr(m.buf, '\n') - m.buf);
    for (int i = 0; i < 20000; i++) {
        char *buf;
        size_t n;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        n = i % 2 ? first : x % 300;
        buf = malloc(n ? n : 1);
        assert_non_null(buf);
        if (i % 2) {
            memcpy(buf, m.buf, n);
            for (int k = 0; k < 1 + (int)(x % 4); k++)
                buf[(x >> (8 * k)) % n] = (char)(x >> (8 * k + 3));
        } else {
            for (size_t k = 0; k < n; k++)
                buf[k] = (char)(x >> (k % 56));
        }
        if (bs_jline_parse(buf, n, &l, why, sizeof(why)) == 0) {
            assert_true(l.node[0] != '\0');
            assert_true(l.has_prev);
        }
        free(buf);
    }
    free(m.buf);
}

/* ---- verifier: tampering -------------------------------------------------------------------- */

static void tamper_one_char_anywhere(void **state)
{
    struct mem m;
    char why[300];
    uint64_t lines;

    (void)state;
    mem_init(&m);
    write_journal(&m, BS_SIG_ED25519, 20, 5, BS_JSYNC_NONE, true);
    lines = count_lines(m.buf);
    for (uint64_t l = 1; l <= lines; l++) {
        size_t off = line_start(m.buf, l), end = (size_t)(strchr(m.buf + off, '\n') - m.buf);
        /* Every third character of every line (every character of the short ones). */
        for (size_t i = off; i < end; i += (end - off > 200 ? 3 : 1)) {
            char save = m.buf[i], c = save;
            uint64_t got;
            if (c >= '0' && c <= '9')
                c = (char)('0' + (c - '0' + 1) % 10);
            else if (c >= 'a' && c <= 'y')
                c = (char)(c + 1);
            else
                c = c == 'x' ? 'y' : 'x';
            m.buf[i] = c;
            got = verify_text(m.buf, m.len, why, sizeof(why));
            m.buf[i] = save;
            if (got != l)
                fail_msg("line %llu byte %zu '%c'->'%c': verifier named line %llu (%s)",
                         (unsigned long long)l, i - off, save, c, (unsigned long long)got,
                         got ? why : "no failure");
        }
    }
    assert_int_equal(verify_text(m.buf, m.len, why, sizeof(why)), 0);
    free(m.buf);
}

static void tamper_lines(void **state)
{
    struct mem m;
    char why[300], *t;
    uint64_t lines, got;

    (void)state;
    mem_init(&m);
    write_journal(&m, BS_SIG_ED25519, 20, 5, BS_JSYNC_NONE, true);
    lines = count_lines(m.buf);
    t = malloc(m.len * 2 + 1);
    assert_non_null(t);
    for (uint64_t l = 1; l <= lines; l++) {
        size_t a = line_start(m.buf, l), b = l < lines ? line_start(m.buf, l + 1) : m.len;
        size_t n;

        /* Delete line l: named at l (the line that now sits there) or, for the last line,
         * at the new last line. */
        memcpy(t, m.buf, a);
        memcpy(t + a, m.buf + b, m.len - b);
        n = m.len - (b - a);
        got = verify_text(t, n, why, sizeof(why));
        if (l == lines)
            assert_int_equal(got, lines - 1);
        else if (got != (l == 1 ? 1 : l))
            fail_msg("delete %llu: named %llu (%s)", (unsigned long long)l, (unsigned long long)got,
                     why);

        /* Duplicate line l: named at l + 1. */
        memcpy(t, m.buf, b);
        memcpy(t + b, m.buf + a, b - a);
        memcpy(t + b + (b - a), m.buf + b, m.len - b);
        got = verify_text(t, m.len + (b - a), why, sizeof(why));
        if (got != l + 1)
            fail_msg("duplicate %llu: named %llu (%s)", (unsigned long long)l,
                     (unsigned long long)got, why);

        /* Swap lines l and l + 1: named at l. */
        if (l < lines) {
            size_t c = l + 1 < lines ? line_start(m.buf, l + 2) : m.len;
            memcpy(t, m.buf, a);
            memcpy(t + a, m.buf + b, c - b);
            memcpy(t + a + (c - b), m.buf + a, b - a);
            memcpy(t + c, m.buf + c, m.len - c);
            got = verify_text(t, m.len, why, sizeof(why));
            if (got != l)
                fail_msg("swap %llu: named %llu (%s)", (unsigned long long)l,
                         (unsigned long long)got, why);
        }
    }
    /* Append a copy of a record after the closing checkpoint. */
    memcpy(t, m.buf, m.len);
    memcpy(t + m.len, m.buf + line_start(m.buf, 3), line_start(m.buf, 4) - line_start(m.buf, 3));
    got = verify_text(t, m.len + line_start(m.buf, 4) - line_start(m.buf, 3), why, sizeof(why));
    assert_int_equal(got, lines + 1);
    assert_non_null(strstr(why, "after the closing checkpoint"));
    free(t);
    free(m.buf);
}

/* Cut anywhere: a cut inside a line is a torn line, a cut between lines a missing close. */
static void tamper_truncate_anywhere(void **state)
{
    struct mem m;
    char why[300];

    (void)state;
    mem_init(&m);
    write_journal(&m, BS_SIG_HMAC_SHA256, 8, 3, BS_JSYNC_NONE, true);
    for (size_t n = 0; n < m.len; n++) {
        uint64_t got = verify_text(m.buf, n, why, sizeof(why));
        if (got == 0)
            fail_msg("cut at %zu of %zu verifies", n, m.len);
        if (n && m.buf[n - 1] != '\n' && !strstr(why, "torn"))
            fail_msg("cut at %zu inside a line: %s", n, why);
    }
    free(m.buf);
}

/* A journal the writer never closed (a crash) fails, naming its last line. */
static void unclosed_journal(void **state)
{
    struct mem m;
    char why[300];

    (void)state;
    mem_init(&m);
    write_journal(&m, BS_SIG_ED25519, 4, 100, BS_JSYNC_NONE, false);
    assert_int_equal(verify_text(m.buf, m.len, why, sizeof(why)), 5);
    assert_non_null(strstr(why, "without its closing checkpoint"));
    free(m.buf);
}

/* A journal signed with another seed's key (forged, or a header edited to match) fails. */
static void wrong_key(void **state)
{
    struct mem m;
    char why[300], *p;

    (void)state;
    mem_init(&m);
    write_journal(&m, BS_SIG_ED25519, 3, 100, BS_JSYNC_NONE, true);
    p = strstr(m.buf, "\"key_id\":\"mir.switch#0\"");
    assert_non_null(p);
    memcpy(p + 10, "mir.switc#0", 11); /* another owner: another derived key */
    assert_int_equal(verify_text(m.buf, m.len, why, sizeof(why)), 1);
    free(m.buf);
}

int main(void)
{
    const char *r = getenv("BS_SOURCE_ROOT");
    const struct CMUnitTest records[] = {
        cmocka_unit_test(kinds_round_trip),         cmocka_unit_test(iso_time_round_trip),
        cmocka_unit_test(record_fields_round_trip), cmocka_unit_test(wire_blanked_every_dialect),
        cmocka_unit_test(record_hex_field),
    };
    const struct CMUnitTest writer[] = {
        cmocka_unit_test(writer_chain_and_checkpoints),
        cmocka_unit_test(writer_every_algorithm),
        cmocka_unit_test(writer_sync_every),
        cmocka_unit_test(writer_deterministic),
        cmocka_unit_test(writer_errors),
        cmocka_unit_test(writer_buffering),
    };
    const struct CMUnitTest parser[] = {
        cmocka_unit_test(parser_strict),
        cmocka_unit_test(parser_garbage),
    };
    const struct CMUnitTest verifier[] = {
        cmocka_unit_test(tamper_one_char_anywhere),
        cmocka_unit_test(tamper_lines),
        cmocka_unit_test(tamper_truncate_anywhere),
        cmocka_unit_test(unclosed_journal),
        cmocka_unit_test(wrong_key),
    };
    int failed = 0;

    snprintf(root, sizeof(root), "%s", r ? r : ".");
    failed += cmocka_run_group_tests_name("journal_records", records, setup_alloc, teardown_alloc);
    failed += cmocka_run_group_tests_name("journal_writer", writer, setup_alloc, teardown_alloc);
    failed += cmocka_run_group_tests_name("journal_parser", parser, setup_alloc, teardown_alloc);
    failed +=
        cmocka_run_group_tests_name("journal_verifier", verifier, setup_alloc, teardown_alloc);
    return failed;
}
