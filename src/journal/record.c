/* Journal record formatting: one JSON line per record, cardholder data masked. */
#include <string.h>

#include <bridgesim/crypto.h>
#include <bridgesim/journal.h>

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
};

const char *bs_jkind_name(enum bs_jkind k)
{
    if ((unsigned)k >= BS_J_KIND_COUNT)
        return "unknown";
    return kind_names[k];
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

/* A bounded output cursor: writes stop at the end, and overflow is remembered. */
struct out {
    char *p, *end;
    bool overflow;
};

static void put_raw(struct out *o, const char *s, size_t n)
{
    if ((size_t)(o->end - o->p) < n) {
        o->overflow = true;
        return;
    }
    memcpy(o->p, s, n);
    o->p += n;
}

static void put_lit(struct out *o, const char *s)
{
    put_raw(o, s, strlen(s));
}

/* A JSON string: quotes, escapes for '"', '\\' and control characters (RFC 8259 §7). */
static void put_str(struct out *o, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";

    put_raw(o, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            char e[2] = { '\\', (char)c };
            put_raw(o, e, 2);
        } else if (c < 0x20 || c >= 0x7f) {
            /* Non-ASCII bytes are escaped too, so a record is always valid UTF-8. */
            char e[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
            put_raw(o, e, 6);
        } else {
            put_raw(o, (const char *)&c, 1);
        }
    }
    put_raw(o, "\"", 1);
}

static void put_u64(struct out *o, uint64_t v)
{
    char b[24];
    int i = 24;

    do {
        b[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    put_raw(o, b + i, (size_t)(24 - i));
}

static void put_key(struct out *o, const char *k)
{
    put_raw(o, ",\"", 2);
    put_lit(o, k);
    put_raw(o, "\":", 2);
}

static void put_field_str(struct out *o, const char *key, const struct bs_iso_msg *m, unsigned de)
{
    size_t n;
    const uint8_t *v = bs_iso_msg_get(m, de, &n);

    if (!v)
        return;
    put_key(o, key);
    put_str(o, (const char *)v, n);
}

/* An amount DE (n12) as a JSON number; digits only by construction of an n field. */
static void put_field_amount(struct out *o, const char *key, const struct bs_iso_msg *m,
                             unsigned de)
{
    int64_t v;

    if (bs_iso_msg_get_num(m, de, &v) != 0)
        return;
    put_key(o, key);
    put_u64(o, (uint64_t)v);
}

int bs_journal_format(const struct bs_jrec *r, uint64_t seq, char *buf, size_t cap)
{
    struct out o = { buf, buf + cap, false };
    char ts[28];

    put_lit(&o, "{\"seq\":");
    put_u64(&o, seq);
    put_key(&o, "t_us");
    put_u64(&o, (uint64_t)r->t);
    bs_format_iso_time(r->t, ts);
    put_key(&o, "time");
    put_str(&o, ts, strlen(ts));
    put_key(&o, "node");
    put_str(&o, r->node, strlen(r->node));
    put_key(&o, "kind");
    put_lit(&o, "\"");
    put_lit(&o, bs_jkind_name(r->kind));
    put_lit(&o, "\"");
    if (r->peer) {
        put_key(&o, "peer");
        put_str(&o, r->peer, strlen(r->peer));
    }
    if (r->trace) {
        put_key(&o, "trace");
        put_u64(&o, r->trace);
    }
    if (r->msg) {
        const struct bs_iso_msg *m = r->msg;
        size_t n;
        const uint8_t *pan;

        put_key(&o, "mti");
        put_str(&o, m->mti, strlen(m->mti));
        put_field_str(&o, "stan", m, 11);
        put_field_str(&o, "rrn", m, 37);
        pan = bs_iso_msg_get(m, 2, &n);
        if (pan && n <= 19) {
            char masked[20];
            if (bs_pan_mask((const char *)pan, n, masked, sizeof(masked)) >= 0) {
                put_key(&o, "pan");
                put_str(&o, masked, n);
            }
        }
        put_field_amount(&o, "amount", m, 4);
        put_field_str(&o, "currency", m, 49);
        put_field_amount(&o, "billing_amount", m, 6);
        put_field_str(&o, "billing_currency", m, 51);
        put_field_str(&o, "rc", m, 39);
    }
    if (r->sig) {
        put_key(&o, "sig");
        put_str(&o, r->sig, strlen(r->sig));
    }
    if (r->key_id) {
        put_key(&o, "key_id");
        put_str(&o, r->key_id, strlen(r->key_id));
    }
    if (r->note) {
        put_key(&o, "note");
        put_str(&o, r->note, strlen(r->note));
    }
    put_raw(&o, "}\n", 2);
    if (o.overflow)
        return BS_ENOSPC;
    return (int)(o.p - buf);
}
