/* Journal record formatting: one JSON line per record, cardholder data masked or blanked. */
#include <string.h>

#include <bridgesim/crypto.h>
#include <bridgesim/journal.h>

#include "journal_int.h"

static const char *const kind_names[BS_J_KIND_COUNT] = {
    [BS_J_MSG_IN] = "msg_in",
    [BS_J_MSG_OUT] = "msg_out",
    [BS_J_TIMEOUT] = "timeout",
    [BS_J_LATE] = "late_response",
    [BS_J_REVERSAL] = "reversal",
    [BS_J_SIG_FAILURE] = "sig_failure",
    [BS_J_FORMAT_ERROR] = "format_error",
    [BS_J_UNMATCHED] = "unmatched",
    [BS_J_DROP] = "drop",
    [BS_J_STATE] = "state",
    [BS_J_INTERNAL] = "internal",
    [BS_J_STAND_IN] = "stand_in",
    [BS_J_ADVICE] = "advice",
    [BS_J_FAULT] = "fault",
    [BS_J_SETTLEMENT] = "settlement",
    [BS_J_HEADER] = "header",
    [BS_J_CHECKPOINT] = "checkpoint",
    [BS_J_DUPLICATE] = "duplicate",
};

const char *bs_jkind_name(enum bs_jkind k)
{
    if ((unsigned)k >= BS_J_KIND_COUNT)
        return "unknown";
    return kind_names[k];
}

int bs_jkind_parse(const char *name, size_t n, enum bs_jkind *ret)
{
    if (!name || !ret)
        return BS_EINVAL;
    for (unsigned k = 0; k < BS_J_KIND_COUNT; k++) {
        if (strlen(kind_names[k]) == n && memcmp(kind_names[k], name, n) == 0) {
            *ret = (enum bs_jkind)k;
            return 0;
        }
    }
    return BS_ENOTFOUND;
}

/*
 * Days since 1970-01-01 to a civil date: Howard Hinnant's algorithm, exact for the
 * proleptic Gregorian calendar, no tables and no libc time zone state.
 */
static void civil_from_days(int64_t z, int *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t yy = yoe + era * 400;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t dd = doy - (153 * mp + 2) / 5 + 1;
    int64_t mm = mp < 10 ? mp + 3 : mp - 9;

    *y = (int)(yy + (mm <= 2));
    *m = (int)mm;
    *d = (int)dd;
}

void bs_civil_from_us(bs_time_us t, int offset_min, int *year, int *month, int *day, int *hour,
                      int *minute, int *second, int *micro)
{
    int64_t us = t + (int64_t)offset_min * 60 * BS_US_PER_SEC;
    int64_t secs = us >= 0 ? us / BS_US_PER_SEC : -((-us + BS_US_PER_SEC - 1) / BS_US_PER_SEC);
    int64_t rem_us = us - secs * BS_US_PER_SEC;
    int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
    int64_t sod = secs - days * 86400;
    int y, m, d;

    civil_from_days(days, &y, &m, &d);
    if (year)
        *year = y;
    if (month)
        *month = m;
    if (day)
        *day = d;
    if (hour)
        *hour = (int)(sod / 3600);
    if (minute)
        *minute = (int)(sod / 60 % 60);
    if (second)
        *second = (int)(sod % 60);
    if (micro)
        *micro = (int)rem_us;
}

/* Write @v as exactly @w decimal digits. */
static char *put_digits(char *p, int64_t v, int w)
{
    for (int i = w - 1; i >= 0; i--) {
        p[i] = (char)('0' + v % 10);
        v /= 10;
    }
    return p + w;
}

void bs_format_iso_time(bs_time_us t, char out[28])
{
    int y, mo, d, h, mi, s, us;
    char *p = out;

    bs_civil_from_us(t, 0, &y, &mo, &d, &h, &mi, &s, &us);
    p = put_digits(p, y, 4);
    *p++ = '-';
    p = put_digits(p, mo, 2);
    *p++ = '-';
    p = put_digits(p, d, 2);
    *p++ = 'T';
    p = put_digits(p, h, 2);
    *p++ = ':';
    p = put_digits(p, mi, 2);
    *p++ = ':';
    p = put_digits(p, s, 2);
    *p++ = '.';
    p = put_digits(p, us, 6);
    *p++ = 'Z';
    *p = '\0';
}

/* Days from 1970-01-01 to a civil date: the inverse of civil_from_days() (Hinnant). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

    return era * 146097 + (int64_t)doe - 719468;
}

/* @w decimal digits at *@p into *@ret; advances *@p. */
static bool get_digits(const char **p, int w, int *ret)
{
    int v = 0;

    for (int i = 0; i < w; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9')
            return false;
        v = v * 10 + (c - '0');
    }
    *p += w;
    *ret = v;
    return true;
}

int bs_parse_iso_time(const char *s, bs_time_us *ret)
{
    static const uint8_t mdays[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    int y, mo, d, h, mi, sec, us = 0, scale = 100000;
    const char *p = s;

    if (!s || !ret)
        return BS_EINVAL;
    if (!get_digits(&p, 4, &y) || *p++ != '-' || !get_digits(&p, 2, &mo) || *p++ != '-' ||
        !get_digits(&p, 2, &d) || (*p != 'T' && *p != 't' && *p != ' '))
        return BS_EFORMAT;
    p++;
    if (!get_digits(&p, 2, &h) || *p++ != ':' || !get_digits(&p, 2, &mi) || *p++ != ':' ||
        !get_digits(&p, 2, &sec))
        return BS_EFORMAT;
    if (*p == '.') {
        p++;
        if (*p < '0' || *p > '9')
            return BS_EFORMAT;
        for (int i = 0; *p >= '0' && *p <= '9'; i++, p++) {
            if (i >= 6)
                return BS_EFORMAT;
            us += (*p - '0') * scale;
            scale /= 10;
        }
    }
    if (*p == 'Z' || *p == 'z')
        p++;
    if (*p)
        return BS_EFORMAT;
    if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || sec > 59)
        return BS_EFORMAT;
    if (mo == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
        return BS_EFORMAT;
    *ret = ((days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + sec) *
            BS_US_PER_SEC) +
           us;
    return 0;
}

/* ---- JSON output ----------------------------------------------------------------------- */

/* Bytes a JSON string cannot hold as they are: '"', '\\', control and non-ASCII bytes. */
static inline bool needs_escape(unsigned char c)
{
    return c < 0x20 || c >= 0x7f || c == '"' || c == '\\';
}

void bs__jstr(struct bs__jout *o, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t run = 0;

    if ((size_t)(o->end - o->p) < n + 2) {
        o->overflow = true;
        return;
    }
    *o->p++ = '"';
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!needs_escape(c)) {
            run++;
            continue;
        }
        bs__jput(o, s + i - run, run);
        run = 0;
        if (c == '"' || c == '\\') {
            char e[2] = { '\\', (char)c };
            bs__jput(o, e, 2);
        } else {
            /* Non-ASCII bytes are escaped too, so a record is always valid UTF-8. */
            char e[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
            bs__jput(o, e, 6);
        }
    }
    bs__jput(o, s + n - run, run);
    bs__jput(o, "\"", 1);
}

void bs__ju64(struct bs__jout *o, uint64_t v)
{
    static const char d2[201] = "00010203040506070809101112131415161718192021222324252627282930"
                                "31323334353637383940414243444546474849505152535455565758596061"
                                "62636465666768697071727374757677787980818283848586878889909192"
                                "93949596979899";
    char b[24];
    int i = 24;

    while (v >= 100) {
        unsigned r = (unsigned)(v % 100);
        v /= 100;
        b[--i] = d2[2 * r + 1];
        b[--i] = d2[2 * r];
    }
    if (v >= 10) {
        b[--i] = d2[2 * v + 1];
        b[--i] = d2[2 * v];
    } else {
        b[--i] = (char)('0' + v);
    }
    bs__jput(o, b + i, (size_t)(24 - i));
}

void bs__jkey(struct bs__jout *o, const char *k)
{
    bs__jput(o, ",\"", 2);
    bs__jlit(o, k);
    bs__jput(o, "\":", 2);
}

/*
 * Hex is written in groups of four bytes separated by a space ("30323030 f23c4481"): a
 * run of hex digits that happen to be decimal can then never be long enough to look like
 * a card number (PCI DSS 3.3: no 13–19 digit run starting with a BIN anywhere in a log).
 */
/* Two characters per byte, from one table: the hex of a message is most of a line. */
static const char pairs[513] = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
                               "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
                               "404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f"
                               "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f"
                               "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
                               "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
                               "c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf"
                               "e0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff";

/* Where the hex of byte @i starts in grouped hex: 2 per byte, a space per 4 bytes. */
#define HEX_POS(i) (2 * (i) + (i) / 4)

/*
 * @n bytes as grouped hex (BS_JOURNAL_HEX_LEN(@n) characters, no NUL): four bytes, a space,
 * four bytes... A run of hex digits that happen to be decimal can then never be long
 * enough to look like a card number (PCI DSS 3.3: no 13–19 digit run starting with a BIN
 * anywhere in a log). Whole groups per step: this is the hottest loop of the writer.
 */
static void hex_groups(char *out, const uint8_t *b, size_t n)
{
    char *p = out;
    size_t i = 0;

    for (; i + 4 <= n; i += 4, p += 9) {
        memcpy(p, pairs + 2 * b[i], 2);
        memcpy(p + 2, pairs + 2 * b[i + 1], 2);
        memcpy(p + 4, pairs + 2 * b[i + 2], 2);
        memcpy(p + 6, pairs + 2 * b[i + 3], 2);
        if (i + 4 < n)
            p[8] = ' ';
    }
    for (; i < n; i++, p += 2)
        memcpy(p, pairs + 2 * b[i], 2);
}

void bs__jhex(struct bs__jout *o, const uint8_t *b, size_t n)
{
    size_t len = BS_JOURNAL_HEX_LEN(n);

    if ((size_t)(o->end - o->p) < len) {
        o->overflow = true;
        return;
    }
    hex_groups(o->p, b, n);
    o->p += len;
}

static void put_field_str(struct bs__jout *o, const char *key, const struct bs_iso_msg *m,
                          unsigned de)
{
    size_t n;
    const uint8_t *v = bs_iso_msg_get(m, de, &n);

    if (!v)
        return;
    bs__jkey(o, key);
    bs__jstr(o, (const char *)v, n);
}

/* An amount DE (n12) as a JSON number; digits only by construction of an n field. */
static void put_field_amount(struct bs__jout *o, const char *key, const struct bs_iso_msg *m,
                             unsigned de)
{
    int64_t v;

    if (bs_iso_msg_get_num(m, de, &v) != 0)
        return;
    bs__jkey(o, key);
    bs__ju64(o, (uint64_t)v);
}

/* ---- message bytes with sensitive data elements blanked --------------------------------- */

/* Data elements blanked whatever a dialect says: PAN, expiry, track 1/2/3, PIN, ICC data
 * (which can carry the PAN and track 2 equivalents, EMV tags 5A and 57). */
static bool always_blank(unsigned de)
{
    return de == 2 || de == 14 || de == 35 || de == 36 || de == 45 || de == 52 || de == 55;
}

static size_t prefix_bytes(const struct bs_iso_field_spec *f)
{
    if (!f->len_digits)
        return 0;
    if (f->prefix_enc == BS_ISO_ENC_ASCII || f->prefix_enc == BS_ISO_ENC_EBCDIC)
        return f->len_digits;
    return (f->len_digits + 1u) / 2u;
}

/* The byte that replaces data byte @c of a blanked field (see journal.h): still decodable,
 * says nothing. */
static uint8_t blank_byte(const struct bs_iso_field_spec *f, uint8_t c)
{
    bool digits = f->format == BS_ISO_FMT_N || f->format == BS_ISO_FMT_Z;

    switch (f->data_enc) {
    case BS_ISO_ENC_ASCII:
        return digits ? '0' : '*';
    case BS_ISO_ENC_EBCDIC:
        return digits ? 0xF0 : 0x5C; /* '0' and '*' in EBCDIC */
    case BS_ISO_ENC_BCD: {
        /* Digit nibbles become 0; pad nibbles and track separators (A..F) stay, so the
         * value still decodes with its pad rules. */
        unsigned hi = c >> 4, lo = c & 15;
        return (uint8_t)(((hi > 9 ? hi : 0) << 4) | (lo > 9 ? lo : 0));
    }
    case BS_ISO_ENC_BINARY:
    default:
        return 0;
    }
}

/* A run of data bytes to blank. */
struct span {
    size_t start, end;
    const struct bs_iso_field_spec *f;
};

int bs_journal_wire_hex(const struct bs_iso_dialect *d, const uint8_t *wire, size_t n,
                        const struct bs_iso_msg *unpacked, char *out, size_t cap)
{
    struct bs_iso_msg local;
    struct span spans[16];
    uint8_t present[BS_ISO_MAX_DE];
    size_t ns = 0, k = 0, npresent = 0;
    unsigned de, next;

    if (!d || !out || (!wire && n))
        return BS_EINVAL;
    if (n > BS_JOURNAL_HEX_WIRE_MAX)
        return BS_ELIMIT;
    if (cap < BS_JOURNAL_HEX_LEN(n) + 1)
        return BS_ENOSPC;
    if (!unpacked) {
        if (bs_iso_unpack(d, wire, n, &local, NULL) != 0)
            return BS_EFORMAT;
        unpacked = &local;
    }
    /* Where the sensitive data bytes are, all checked before a single byte is written.
     * The present DEs in wire order, from the presence bits (bs_iso_msg_next() one by one
     * costs more than the hex itself). */
    for (unsigned w = 0; w < 3; w++) {
        uint64_t bits = unpacked->present[w];
        while (bits) {
            unsigned b = w * 64 + (unsigned)__builtin_ctzll(bits) + 1;
            bits &= bits - 1;
            if (b >= 2 && npresent < sizeof(present) / sizeof(present[0]))
                present[npresent++] = (uint8_t)b;
        }
    }
    for (size_t x = 0; x < npresent; x++) {
        const struct bs_iso_field_spec *f;
        size_t start, end, pre;

        de = present[x];
        next = x + 1 < npresent ? present[x + 1] : 0;
        f = bs_iso_dialect_field(d, de);
        if (!f || !(always_blank(de) || f->sensitivity != BS_ISO_CLEAR))
            continue;
        start = unpacked->wire_off[de];
        end = next ? unpacked->wire_off[next] : n;
        pre = prefix_bytes(f);
        /* Offsets come from decoding these very bytes; anything else means the caller
         * passed a message decoded from other bytes: write nothing rather than risk it. */
        if (start > end || end > n || start + pre > end || (ns && start < spans[ns - 1].end) ||
            ns == sizeof(spans) / sizeof(spans[0]))
            goto fail;
        spans[ns++] = (struct span){ start + pre, end, f };
    }
    /* Every byte, then the blanked spans over their own digits: both before returning, so
     * what leaves this function never holds a sensitive value. */
    hex_groups(out, wire, n);
    for (k = 0; k < ns; k++)
        for (size_t i = spans[k].start; i < spans[k].end; i++)
            memcpy(out + HEX_POS(i), pairs + 2 * blank_byte(spans[k].f, wire[i]), 2);
    out[BS_JOURNAL_HEX_LEN(n)] = '\0';
    if (unpacked == &local)
        bs_wipe(local.data, local.used); /* the values; the rest holds no card data */
    return (int)BS_JOURNAL_HEX_LEN(n);
fail:
    if (unpacked == &local)
        bs_wipe(local.data, local.used);
    return BS_EFORMAT;
}

/* ---- records ----------------------------------------------------------------------------- */

int bs__journal_body(const struct bs_jrec *r, uint64_t seq, const char *from, char *buf, size_t cap)
{
    struct bs__jout o = { buf, buf + cap, false };
    char ts[28];

    bs__jlit(&o, "{\"seq\":");
    bs__ju64(&o, seq);
    BS__JKEY(&o, "t_us");
    bs__ju64(&o, (uint64_t)r->t);
    bs_format_iso_time(r->t, ts);
    BS__JKEY(&o, "time");
    bs__jput(&o, "\"", 1); /* digits and separators only: nothing to escape */
    bs__jput(&o, ts, 27);
    bs__jput(&o, "\"", 1);
    if (r->wall) {
        BS__JKEY(&o, "wall_us");
        bs__ju64(&o, (uint64_t)r->wall);
    }
    BS__JKEY(&o, "node");
    bs__jstr(&o, r->node, strlen(r->node));
    BS__JKEY(&o, "kind");
    bs__jput(&o, "\"", 1);
    bs__jlit(&o, bs_jkind_name(r->kind));
    bs__jput(&o, "\"", 1);
    if (from) {
        BS__JKEY(&o, "from");
        bs__jstr(&o, from, strlen(from));
    }
    if (r->peer) {
        BS__JKEY(&o, "peer");
        bs__jstr(&o, r->peer, strlen(r->peer));
    }
    if (r->trace) {
        BS__JKEY(&o, "trace");
        bs__ju64(&o, r->trace);
    }
    if (r->msg && r->msg->mti[0]) {
        const struct bs_iso_msg *m = r->msg;
        size_t n;
        const uint8_t *pan;

        BS__JKEY(&o, "mti");
        bs__jstr(&o, m->mti, strlen(m->mti));
        put_field_str(&o, "proc", m, 3);
        put_field_str(&o, "stan", m, 11);
        put_field_str(&o, "rrn", m, 37);
        pan = bs_iso_msg_get(m, 2, &n);
        if (pan && n <= 19) {
            char masked[20];
            if (bs_pan_mask((const char *)pan, n, masked, sizeof(masked)) >= 0) {
                BS__JKEY(&o, "pan");
                bs__jstr(&o, masked, n);
            }
        }
        put_field_amount(&o, "amount", m, 4);
        put_field_str(&o, "currency", m, 49);
        put_field_amount(&o, "billing_amount", m, 6);
        put_field_str(&o, "billing_currency", m, 51);
        put_field_str(&o, "rc", m, 39);
    }
    if (r->sig) {
        BS__JKEY(&o, "sig");
        bs__jstr(&o, r->sig, strlen(r->sig));
    }
    if (r->key_id) {
        BS__JKEY(&o, "key_id");
        bs__jstr(&o, r->key_id, strlen(r->key_id));
    }
    if (r->note) {
        size_t n = strlen(r->note);
        BS__JKEY(&o, "note");
        bs__jstr(&o, r->note, n > BS_JOURNAL_NOTE_MAX ? BS_JOURNAL_NOTE_MAX : n);
    }
    if (r->wire && r->dialect && r->wire_len <= BS_JOURNAL_HEX_WIRE_MAX && !o.overflow) {
        /* Hex straight into the line: 9 bytes for the key and quotes, then the digits. */
        size_t room = (size_t)(o.end - o.p);
        if (room > BS_JOURNAL_HEX_LEN(r->wire_len) + 10) {
            char *at = o.p;
            int h;
            BS__JKEY(&o, "hex");
            bs__jput(&o, "\"", 1);
            h = bs_journal_wire_hex(r->dialect, r->wire, r->wire_len,
                                    r->wire_unpacked ? r->msg : NULL, o.p, (size_t)(o.end - o.p));
            if (h >= 0) {
                o.p += h;
                bs__jput(&o, "\"", 1);
            } else {
                /* Bytes that do not decode cannot be blanked safely: no hex at all. */
                o.p = at;
            }
        } else {
            o.overflow = true;
        }
    }
    if (o.overflow)
        return BS_ENOSPC;
    return (int)(o.p - buf);
}

int bs_journal_format(const struct bs_jrec *r, uint64_t seq, char *buf, size_t cap)
{
    int n;

    if (!r || !r->node || !buf)
        return BS_EINVAL;
    n = bs__journal_body(r, seq, NULL, buf, cap);
    if (n < 0)
        return n;
    if (cap - (size_t)n < 2)
        return BS_ENOSPC;
    buf[n] = '}';
    buf[n + 1] = '\n';
    return n + 2;
}
