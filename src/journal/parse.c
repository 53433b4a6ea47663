/*
 * The journal line parser: one flat JSON object per line (docs/journal.md), parsed
 * strictly and without allocation. Input comes from files anyone can edit, so every
 * length is checked and nothing is asserted.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bridgesim/journal.h>

/* How a known key's value is stored. */
enum ftype {
    F_U64,    /* non-negative integer into uint64_t */
    F_I64,    /* integer into int64_t (amounts) */
    F_U32,    /* non-negative integer into uint32_t */
    F_STR,    /* string into a char array of size @size (NUL included) */
    F_HASH,   /* 64 hex characters into 32 bytes */
    F_SIGHEX, /* hex into signature[] */
    F_WIRE,   /* hex, pointed at */
    F_BOOL,
    F_KIND,
    F_SEED, /* decimal string or number into uint64_t */
    F_SKIP, /* any value, not stored */
};

struct field {
    const char *key;
    enum ftype type;
    size_t off;  /* offset in struct bs_jline */
    size_t size; /* F_STR: array size */
    size_t flag; /* offset of a bool set when present, or SIZE_MAX */
};

#define NOFLAG SIZE_MAX
#define STR(k, m)                                                                         \
    {                                                                                     \
        k, F_STR, offsetof(struct bs_jline, m), sizeof(((struct bs_jline *)0)->m), NOFLAG \
    }

/* Sorted by key (strcmp) for bsearch. */
static const struct field fields[] = {
    { "alg", F_STR, offsetof(struct bs_jline, alg), sizeof(((struct bs_jline *)0)->alg), NOFLAG },
    { "amount", F_I64, offsetof(struct bs_jline, amount), 0,
      offsetof(struct bs_jline, has_amount) },
    { "billing_amount", F_I64, offsetof(struct bs_jline, billing_amount), 0,
      offsetof(struct bs_jline, has_billing) },
    STR("billing_currency", billing_currency),
    STR("bridgesim", version),
    { "checkpoint_every", F_U32, offsetof(struct bs_jline, checkpoint_every), 0, NOFLAG },
    STR("currency", currency),
    { "final", F_BOOL, offsetof(struct bs_jline, final), 0, NOFLAG },
    { "format", F_U32, offsetof(struct bs_jline, format), 0, NOFLAG },
    STR("from", from),
    { "hex", F_WIRE, 0, 0, NOFLAG },
    STR("key_id", key_id),
    STR("key_source", key_source),
    { "kind", F_KIND, 0, 0, NOFLAG },
    STR("mode", mode),
    STR("mti", mti),
    STR("network", network),
    STR("node", node),
    STR("note", note),
    STR("pan", pan),
    STR("peer", peer),
    { "prev", F_HASH, offsetof(struct bs_jline, prev), 0, offsetof(struct bs_jline, has_prev) },
    STR("proc", proc),
    STR("rc", rc),
    { "records", F_U64, offsetof(struct bs_jline, records), 0, NOFLAG },
    STR("role", role),
    STR("rrn", rrn),
    STR("scenario", scenario),
    { "scenario_sha256", F_HASH, offsetof(struct bs_jline, scenario_sha256), 0,
      offsetof(struct bs_jline, has_scenario_sha256) },
    { "seed", F_SEED, offsetof(struct bs_jline, seed), 0, offsetof(struct bs_jline, has_seed) },
    { "seq", F_U64, offsetof(struct bs_jline, seq), 0, NOFLAG },
    STR("sig", sig),
    { "signature", F_SIGHEX, 0, 0, NOFLAG },
    STR("stan", stan),
    { "t_us", F_I64, offsetof(struct bs_jline, t), 0, offsetof(struct bs_jline, has_t) },
    /* "time" is t_us in ISO 8601, for people: not trusted and not stored. */
    { "time", F_SKIP, 0, 0, NOFLAG },
    { "trace", F_U64, offsetof(struct bs_jline, trace), 0, NOFLAG },
    { "wall_us", F_I64, offsetof(struct bs_jline, wall), 0, offsetof(struct bs_jline, has_wall) },
};

#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

struct parser {
    const char *s;
    size_t n, i;
    char *why;
    size_t whylen;
};

static int fail(struct parser *p, const char *fmt, ...)
{
    va_list ap;
    int k;

    if (p->why && p->whylen) {
        k = snprintf(p->why, p->whylen, "offset %zu: ", p->i);
        if (k >= 0 && (size_t)k < p->whylen) {
            va_start(ap, fmt);
            vsnprintf(p->why + k, p->whylen - (size_t)k, fmt, ap);
            va_end(ap);
        }
    }
    return BS_EFORMAT;
}

static void skip_ws(struct parser *p)
{
    while (p->i < p->n &&
           (p->s[p->i] == ' ' || p->s[p->i] == '\t' || p->s[p->i] == '\r' || p->s[p->i] == '\n'))
        p->i++;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/*
 * A JSON string at p->i (the opening quote). Decoded bytes go to @out (capacity @cap
 * including the NUL) when @out is set; \u escapes above 0xFF are accepted only when
 * decoding is not asked for (the writer escapes bytes, never other code points).
 * *@ret_len receives the decoded length; *@ret_raw/@ret_rawlen the raw span between quotes.
 */
static int string(struct parser *p, char *out, size_t cap, size_t *ret_len, const char **ret_raw,
                  size_t *ret_rawlen)
{
    size_t len = 0, start;

    if (p->i >= p->n || p->s[p->i] != '"')
        return fail(p, "expected a string");
    start = ++p->i;
    for (;;) {
        unsigned char c;
        int v = -1;

        if (p->i >= p->n)
            return fail(p, "unterminated string");
        c = (unsigned char)p->s[p->i];
        if (c == '"')
            break;
        if (c < 0x20)
            return fail(p, "control character in a string");
        if (c == '\\') {
            char e;
            if (p->i + 1 >= p->n)
                return fail(p, "unterminated escape");
            e = p->s[p->i + 1];
            switch (e) {
            case '"':
            case '\\':
            case '/':
                v = e;
                break;
            case 'b':
                v = '\b';
                break;
            case 'f':
                v = '\f';
                break;
            case 'n':
                v = '\n';
                break;
            case 'r':
                v = '\r';
                break;
            case 't':
                v = '\t';
                break;
            case 'u': {
                unsigned u = 0;
                if (p->n - p->i < 6)
                    return fail(p, "short \\u escape");
                for (int k = 2; k < 6; k++) {
                    int h = hexval(p->s[p->i + (size_t)k]);
                    if (h < 0)
                        return fail(p, "bad \\u escape");
                    u = u * 16 + (unsigned)h;
                }
                if (u > 0xFF && out)
                    return fail(p, "\\u%04X is not a byte escape", u);
                v = (int)u;
                p->i += 4;
                break;
            }
            default:
                return fail(p, "bad escape \\%c", e >= 0x20 && e < 0x7f ? e : '?');
            }
            p->i += 2;
        } else {
            v = c;
            p->i++;
        }
        if (out) {
            if (len + 1 >= cap)
                return fail(p, "string too long for its field (at most %zu bytes)", cap - 1);
            out[len] = (char)v;
        }
        len++;
    }
    if (ret_raw)
        *ret_raw = p->s + start;
    if (ret_rawlen)
        *ret_rawlen = p->i - start;
    p->i++; /* closing quote */
    if (out)
        out[len] = '\0';
    if (ret_len)
        *ret_len = len;
    return 0;
}

/* An integer (-?digits, no leading zeros) into *@ret; @neg_ok allows a minus sign. */
static int integer(struct parser *p, bool neg_ok, int64_t *ret_i, uint64_t *ret_u)
{
    bool neg = false;
    uint64_t v = 0;
    size_t start;

    if (p->i < p->n && p->s[p->i] == '-') {
        if (!neg_ok)
            return fail(p, "negative number");
        neg = true;
        p->i++;
    }
    start = p->i;
    while (p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '9') {
        unsigned d = (unsigned)(p->s[p->i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return fail(p, "number out of range");
        v = v * 10 + d;
        p->i++;
    }
    if (p->i == start)
        return fail(p, "expected a number");
    if (p->i - start > 1 && p->s[start] == '0')
        return fail(p, "leading zero in a number");
    if (p->i < p->n && (p->s[p->i] == '.' || p->s[p->i] == 'e' || p->s[p->i] == 'E'))
        return fail(p, "expected an integer");
    if (ret_u)
        *ret_u = v;
    if (ret_i) {
        if (v > (uint64_t)INT64_MAX)
            return fail(p, "number out of range");
        *ret_i = neg ? -(int64_t)v : (int64_t)v;
    }
    return 0;
}

/* Any JSON scalar (for unknown keys). Objects and arrays are not part of format v1. */
static int skip_value(struct parser *p)
{
    char c;

    if (p->i >= p->n)
        return fail(p, "expected a value");
    c = p->s[p->i];
    if (c == '"')
        return string(p, NULL, 0, NULL, NULL, NULL);
    if (c == 't' && p->n - p->i >= 4 && memcmp(p->s + p->i, "true", 4) == 0) {
        p->i += 4;
        return 0;
    }
    if (c == 'f' && p->n - p->i >= 5 && memcmp(p->s + p->i, "false", 5) == 0) {
        p->i += 5;
        return 0;
    }
    if (c == 'n' && p->n - p->i >= 4 && memcmp(p->s + p->i, "null", 4) == 0) {
        p->i += 4;
        return 0;
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
        /* RFC 8259 number grammar. */
        if (c == '-')
            p->i++;
        if (p->i >= p->n || p->s[p->i] < '0' || p->s[p->i] > '9')
            return fail(p, "bad number");
        if (p->s[p->i] == '0')
            p->i++;
        else
            while (p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '9')
                p->i++;
        if (p->i < p->n && p->s[p->i] == '.') {
            p->i++;
            if (p->i >= p->n || p->s[p->i] < '0' || p->s[p->i] > '9')
                return fail(p, "bad number");
            while (p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '9')
                p->i++;
        }
        if (p->i < p->n && (p->s[p->i] == 'e' || p->s[p->i] == 'E')) {
            p->i++;
            if (p->i < p->n && (p->s[p->i] == '+' || p->s[p->i] == '-'))
                p->i++;
            if (p->i >= p->n || p->s[p->i] < '0' || p->s[p->i] > '9')
                return fail(p, "bad number");
            while (p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '9')
                p->i++;
        }
        return 0;
    }
    if (c == '{' || c == '[')
        return fail(p, "nested objects and arrays are not part of journal format 1");
    return fail(p, "expected a value");
}

static int cmp_field(const void *key, const void *elem)
{
    return strcmp(key, ((const struct field *)elem)->key);
}

/* Whether @raw is hex in the journal's layout: groups of four bytes separated by one
 * space (BS_JOURNAL_HEX_LEN); *@ret_bytes receives the byte count. */
static bool hex_layout(const char *raw, size_t rawlen, size_t *ret_bytes)
{
    size_t n = 0;

    for (size_t k = 0; k < rawlen; k++) {
        if ((k + 1) % 9 == 0) {
            if (raw[k] != ' ' || k + 1 == rawlen)
                return false;
            continue;
        }
        if (hexval(raw[k]) < 0)
            return false;
        n++;
    }
    if (n % 2 || BS_JOURNAL_HEX_LEN(n / 2) != rawlen)
        return false;
    *ret_bytes = n / 2;
    return true;
}

static int hex_bytes(struct parser *p, const char *raw, size_t rawlen, uint8_t *out, size_t cap,
                     size_t *ret_len, const char *what)
{
    size_t n, i = 0;

    if (!hex_layout(raw, rawlen, &n))
        return fail(p, "%s: not hex in groups of 8 digits", what);
    if (n > cap)
        return fail(p, "%s: expected at most %zu bytes of hex, got %zu", what, cap, n);
    for (size_t k = 0; k < rawlen; k++) {
        if (raw[k] == ' ')
            continue;
        if (i % 2 == 0)
            out[i / 2] = (uint8_t)(hexval(raw[k]) << 4);
        else
            out[i / 2] |= (uint8_t)hexval(raw[k]);
        i++;
    }
    *ret_len = n;
    return 0;
}

static int value(struct parser *p, const struct field *f, struct bs_jline *r, size_t pair_start)
{
    char *base = (char *)r;
    const char *raw;
    size_t rawlen, len;
    int64_t i;
    uint64_t u;
    int rc;

    switch (f->type) {
    case F_U64:
        rc = integer(p, false, NULL, &u);
        if (rc == 0)
            memcpy(base + f->off, &u, sizeof(u));
        return rc;
    case F_U32:
        rc = integer(p, false, NULL, &u);
        if (rc == 0 && u > UINT32_MAX)
            return fail(p, "%s out of range", f->key);
        if (rc == 0) {
            uint32_t v = (uint32_t)u;
            memcpy(base + f->off, &v, sizeof(v));
        }
        return rc;
    case F_I64:
        rc = integer(p, true, &i, NULL);
        if (rc == 0)
            memcpy(base + f->off, &i, sizeof(i));
        return rc;
    case F_STR:
        return string(p, base + f->off, f->size, &len, NULL, NULL);
    case F_HASH: {
        uint8_t h[32];
        rc = string(p, NULL, 0, NULL, &raw, &rawlen);
        if (rc)
            return rc;
        if (rawlen != BS_JOURNAL_HEX_LEN(32))
            return fail(p, "%s: expected 32 bytes of hex", f->key);
        rc = hex_bytes(p, raw, rawlen, h, 32, &len, f->key);
        if (rc == 0)
            memcpy(base + f->off, h, 32);
        return rc;
    }
    case F_SIGHEX:
        r->signed_len = pair_start;
        rc = string(p, NULL, 0, NULL, &raw, &rawlen);
        if (rc)
            return rc;
        return hex_bytes(p, raw, rawlen, r->signature, sizeof(r->signature), &r->signature_len,
                         f->key);
    case F_WIRE:
        rc = string(p, NULL, 0, NULL, &raw, &rawlen);
        if (rc)
            return rc;
        if (!hex_layout(raw, rawlen, &len) || len > BS_JOURNAL_HEX_WIRE_MAX)
            return fail(p, "hex: not hex in groups of 8 digits, or longer than %u bytes",
                        BS_JOURNAL_HEX_WIRE_MAX);
        r->hex = raw;
        r->hex_len = rawlen;
        return 0;
    case F_BOOL:
        if (p->n - p->i >= 4 && memcmp(p->s + p->i, "true", 4) == 0) {
            p->i += 4;
            base[f->off] = 1;
            return 0;
        }
        if (p->n - p->i >= 5 && memcmp(p->s + p->i, "false", 5) == 0) {
            p->i += 5;
            base[f->off] = 0;
            return 0;
        }
        return fail(p, "%s: expected true or false", f->key);
    case F_KIND: {
        enum bs_jkind k;
        rc = string(p, NULL, 0, NULL, &raw, &rawlen);
        if (rc)
            return rc;
        if (bs_jkind_parse(raw, rawlen, &k) != 0)
            return fail(p, "unknown kind");
        r->kind = k;
        return 0;
    }
    case F_SKIP:
        return skip_value(p);
    case F_SEED:
        if (p->i < p->n && p->s[p->i] == '"') {
            struct parser q;
            rc = string(p, NULL, 0, NULL, &raw, &rawlen);
            if (rc)
                return rc;
            q = (struct parser){ raw, rawlen, 0, p->why, p->whylen };
            rc = integer(&q, false, NULL, &u);
            if (rc == 0 && q.i != rawlen)
                return fail(p, "seed: expected decimal digits");
            if (rc)
                return fail(p, "seed: expected decimal digits");
        } else {
            rc = integer(p, false, NULL, &u);
            if (rc)
                return rc;
        }
        r->seed = u;
        return 0;
    }
    return fail(p, "internal: unknown field type");
}

int bs_jline_parse(const char *line, size_t n, struct bs_jline *ret, char *why, size_t whylen)
{
    struct parser p = { line, n, 0, why, whylen };
    uint64_t seen = 0;
    bool has_seq = false, has_kind = false;
    size_t comma = 0;
    int rc;

    if (why && whylen)
        why[0] = '\0';
    if (!line || !ret)
        return BS_EINVAL;
    if (n > BS_JOURNAL_LINE_MAX) {
        if (why && whylen)
            snprintf(why, whylen, "line of %zu bytes exceeds %u", n, BS_JOURNAL_LINE_MAX);
        return BS_ELIMIT;
    }
    /* Clear the fixed part; the big arrays are cleared by their first byte only. */
    memset(ret, 0, offsetof(struct bs_jline, node));
    ret->node[0] = ret->from[0] = ret->peer[0] = ret->mti[0] = ret->proc[0] = ret->stan[0] =
        ret->rrn[0] = ret->pan[0] = '\0';
    ret->rc[0] = ret->currency[0] = ret->billing_currency[0] = ret->sig[0] = '\0';
    ret->key_id[0] = ret->note[0] = '\0';
    ret->trace = 0;
    ret->amount = ret->billing_amount = 0;
    ret->hex = NULL;
    ret->hex_len = 0;
    memset(ret->prev, 0, sizeof(ret->prev));
    memset(&ret->format, 0, sizeof(*ret) - offsetof(struct bs_jline, format));

    skip_ws(&p);
    if (p.i >= p.n || p.s[p.i] != '{')
        return fail(&p, "a record is a JSON object: expected '{'");
    p.i++;
    skip_ws(&p);
    if (p.i < p.n && p.s[p.i] == '}')
        return fail(&p, "empty object");
    for (;;) {
        char key[24];
        /* Where the pair starts, its ',' included: a checkpoint's signature covers the
         * bytes before ',"signature":'. */
        size_t klen, pair_start = comma;
        const struct field *f;

        skip_ws(&p);
        if (p.i < p.n && p.s[p.i] == '"' && p.n - p.i > 1) {
            /* Keys longer than any known key are read undecoded and skipped. */
            size_t save = p.i;
            rc = string(&p, key, sizeof(key), &klen, NULL, NULL);
            if (rc) {
                p.i = save;
                rc = string(&p, NULL, 0, NULL, NULL, NULL);
                if (rc)
                    return rc;
                key[0] = '\0';
                klen = 0;
                if (why && whylen)
                    why[0] = '\0';
            }
        } else {
            return fail(&p, "expected a key");
        }
        skip_ws(&p);
        if (p.i >= p.n || p.s[p.i] != ':')
            return fail(&p, "expected ':'");
        p.i++;
        skip_ws(&p);
        f = klen && memchr(key, 0, klen) == NULL
                ? bsearch(key, fields, NFIELDS, sizeof(fields[0]), cmp_field)
                : NULL;
        if (f) {
            size_t idx = (size_t)(f - fields);
            if (seen & (UINT64_C(1) << idx))
                return fail(&p, "duplicate key \"%s\"", f->key);
            seen |= UINT64_C(1) << idx;
            if (f->type == F_SKIP) {
                rc = skip_value(&p);
            } else {
                rc = value(&p, f, ret, pair_start);
                if (rc == 0 && f->flag != NOFLAG)
                    ((char *)ret)[f->flag] = 1;
            }
            if (rc)
                return rc;
            if (f->type == F_KIND)
                has_kind = true;
            if (strcmp(f->key, "seq") == 0)
                has_seq = true;
        } else {
            rc = skip_value(&p);
            if (rc)
                return rc;
        }
        skip_ws(&p);
        if (p.i < p.n && p.s[p.i] == ',') {
            comma = p.i++;
            continue;
        }
        if (p.i < p.n && p.s[p.i] == '}') {
            p.i++;
            break;
        }
        return fail(&p, "expected ',' or '}'");
    }
    skip_ws(&p);
    if (p.i != p.n)
        return fail(&p, "bytes after the end of the record");
    if (!has_seq)
        return fail(&p, "no \"seq\"");
    if (!has_kind)
        return fail(&p, "no \"kind\"");
    if (!ret->node[0])
        return fail(&p, "no \"node\"");
    if (!ret->has_prev)
        return fail(&p, "no \"prev\"");
    return 0;
}
