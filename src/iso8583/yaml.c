/*
 * Dialect files: YAML (libfyaml) to struct bs_iso_dialect. The schema is documented in
 * configs/dialects/README.md; every rejection says "file:line:column: what is wrong; how
 * to fix", and an unknown key comes with the nearest valid one.
 *
 * Safety: the document is built without resolving aliases, and aliases, anchors'
 * targets and tags are rejected where a value is expected, so a file cannot expand
 * (no "billion laughs"), and the input size is bounded.
 */
#include <libfyaml.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "iso_internal.h"

/* Largest dialect file accepted: the full ISO 8583:1987 table is about 20 KB. */
#define DIALECT_TEXT_MAX (1024 * 1024)

struct ctx {
    const char *file;
    char *errbuf;
    size_t errlen;
    bool failed;
    bool nomem;
    size_t nerrors;
};

/* ---- positions and errors ------------------------------------------------------------- */

/*
 * 1-based line and column of @n. libfyaml 0.7.12 exposes marks only for tokens, so a
 * collection is located by its first scalar, which is where a reader looks anyway.
 */
static void node_pos(struct fy_node *n, int *line, int *col)
{
    *line = 1;
    *col = 1;
    for (int depth = 0; n && depth < 64; depth++) {
        if (fy_node_is_mapping(n)) {
            void *it = NULL;
            struct fy_node_pair *p = fy_node_mapping_iterate(n, &it);

            n = p ? fy_node_pair_key(p) : NULL;
        } else if (fy_node_is_sequence(n)) {
            void *it = NULL;

            n = fy_node_sequence_iterate(n, &it);
        } else {
            struct fy_token *t = fy_node_get_scalar_token(n);
            const struct fy_mark *m = t ? fy_token_start_mark(t) : NULL;

            if (m) {
                *line = m->line + 1;
                *col = m->column + 1;
            }
            return;
        }
    }
}

/*
 * Record one error: every error found is reported, one "file:line:col: ..." per line, up
 * to ERRORS_SHOWN lines and a "... and N more" line (the buffer's size permitting).
 */
#define ERRORS_SHOWN 20

static void fail_at(struct ctx *c, int line, int col, const char *fmt, va_list ap)
{
    size_t used;
    int k;

    c->failed = true;
    c->nerrors++;
    if (!c->errbuf || !c->errlen)
        return;
    used = strlen(c->errbuf);
    if (c->nerrors > ERRORS_SHOWN) {
        /* Replace the tail line with the count of what is left out. */
        char *tail = c->nerrors > ERRORS_SHOWN + 1 ? strrchr(c->errbuf, '\n') : NULL;

        if (tail)
            used = (size_t)(tail - c->errbuf);
        if (used + 1 < c->errlen)
            snprintf(c->errbuf + used, c->errlen - used, "\n... and %zu more error%s",
                     c->nerrors - ERRORS_SHOWN, c->nerrors - ERRORS_SHOWN == 1 ? "" : "s");
        return;
    }
    if (used && used + 1 < c->errlen)
        c->errbuf[used++] = '\n';
    if (used + 1 >= c->errlen)
        return;
    k = snprintf(c->errbuf + used, c->errlen - used, "%s:%d:%d: ", c->file, line, col);
    if (k >= 0 && (size_t)k < c->errlen - used)
        vsnprintf(c->errbuf + used + (size_t)k, c->errlen - used - (size_t)k, fmt, ap);
}

__attribute__((format(printf, 3, 4))) static void fail(struct ctx *c, struct fy_node *n,
                                                       const char *fmt, ...)
{
    va_list ap;
    int line, col;

    node_pos(n, &line, &col);
    va_start(ap, fmt);
    fail_at(c, line, col, fmt, ap);
    va_end(ap);
}

__attribute__((format(printf, 4, 5))) static void fail_lc(struct ctx *c, int line, int col,
                                                          const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    fail_at(c, line, col, fmt, ap);
    va_end(ap);
}

/*
 * libfyaml's diagnostics. In its default mode each error is printed together with a
 * rendering of the offending source line, and that rendering crashes on some input in
 * 0.7.12 (a NULL string in fy_diag_error_atom_display(), found by our dialect fuzzer on
 * tab-indented lines; upstream rewrote that code). Collecting errors instead skips the
 * rendering and hands us line, column and message directly. 0.7.12 exports the switch
 * but does not declare it in libfyaml.h.
 */
void fy_diag_set_collect_errors(struct fy_diag *diag, bool collect_errors);

/* Anything libfyaml still wants to print is dropped: the library never prints. */
static void diag_sink(struct fy_diag *diag, void *user, const char *buf, size_t len)
{
    (void)diag;
    (void)user;
    (void)buf;
    (void)len;
}

/*
 * Screen the text before libfyaml sees it. Dialect files are plain UTF-8 YAML with no
 * directives; anything else is refused here, which also keeps the input away from
 * libfyaml 0.7.12 bugs in exactly those corners: a directive followed by invalid UTF-8
 * loops forever (pantoniou/libfyaml#101, found again by our fuzzer) or reads out of
 * bounds (#175), and an invalid octet in a scalar loops (#370).
 * Return: NULL when the text is acceptable, else the reason (position in @line, @col).
 */
static const char *screen_text(const char *text, size_t len, int *line, int *col)
{
    const uint8_t *p = (const uint8_t *)text;
    bool bol = true;

    *line = 1;
    *col = 1;
    for (size_t i = 0; i < len;) {
        uint8_t c = p[i];
        uint32_t cp;
        size_t k;

        if (bol && c == '%')
            return "YAML directives ('%...') are not used in dialect files; remove the line";
        bol = false;
        if (c == '\n') {
            (*line)++;
            *col = 1;
            bol = true;
            i++;
            continue;
        }
        if (c < 0x80) {
            if ((c < 0x20 && c != '\t' && c != '\r') || c == 0x7F)
                return "control character in the text; dialect files are plain text";
            i++;
            (*col)++;
            continue;
        }
        /* UTF-8, strictly: no overlong forms, no surrogates, nothing above U+10FFFF. */
        if (c >= 0xC2 && c <= 0xDF) {
            k = 1;
            cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            k = 2;
            cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            k = 3;
            cp = c & 0x07;
        } else {
            return "invalid UTF-8; save the file as UTF-8";
        }
        if (len - i - 1 < k)
            return "invalid UTF-8; save the file as UTF-8";
        for (size_t j = 1; j <= k; j++) {
            if ((p[i + j] & 0xC0) != 0x80)
                return "invalid UTF-8; save the file as UTF-8";
            cp = cp << 6 | (p[i + j] & 0x3F);
        }
        if ((k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) || cp > 0x10FFFF ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return "invalid UTF-8; save the file as UTF-8";
        i += k + 1;
        (*col)++;
    }
    return NULL;
}

/* ---- scalar helpers --------------------------------------------------------------------- */

static const char *kind_name(struct fy_node *n)
{
    if (!n || fy_node_is_null(n))
        return "empty";
    if (fy_node_is_mapping(n))
        return "a mapping";
    if (fy_node_is_sequence(n))
        return "a list";
    if (fy_node_is_alias(n))
        return "an alias";
    return "a value";
}

/* The text of scalar @n, or NULL after reporting what is wrong. */
static const char *scalar(struct ctx *c, struct fy_node *n, const char *what, size_t *len)
{
    const char *s;

    if (!n || !fy_node_is_scalar(n) || fy_node_is_alias(n)) {
        fail(c, n, "%s must be a single value, not %s; write it as 'key: value'", what,
             kind_name(n));
        return NULL;
    }
    if (fy_node_get_tag(n, NULL)) {
        fail(c, n, "%s carries a YAML tag; remove the '!' tag", what);
        return NULL;
    }
    s = fy_node_get_scalar(n, len);
    if (!s) {
        fail(c, n, "%s is empty; give it a value", what);
        return NULL;
    }
    return s;
}

static bool eq(const char *s, size_t n, const char *lit)
{
    return strlen(lit) == n && memcmp(s, lit, n) == 0;
}

/* Edit distance for "did you mean" hints; short strings only. */
static unsigned distance(const char *a, size_t na, const char *b)
{
    unsigned row[40], nb = (unsigned)strlen(b);

    if (na >= 39 || nb >= 39)
        return 99;
    for (unsigned j = 0; j <= nb; j++)
        row[j] = j;
    for (unsigned i = 1; i <= na; i++) {
        unsigned diag = row[0];

        row[0] = i;
        for (unsigned j = 1; j <= nb; j++) {
            unsigned up = row[j], best = diag + (a[i - 1] != b[j - 1]);

            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            diag = up;
            row[j] = best;
        }
    }
    return row[nb];
}

/*
 * The nearest of @names to @s, or NULL when nothing is close: a different letter case
 * first ("ll" for "LL"), else an edit distance that grows with the length, so that a
 * short word is not "corrected" into an unrelated one.
 */
static const char *nearest(const char *s, size_t n, const char *const *names)
{
    const char *best = NULL;
    unsigned bd = 99, limit = n <= 4 ? 1 : n <= 8 ? 2 : 3;

    for (size_t i = 0; names[i]; i++)
        if (strlen(names[i]) == n && strncasecmp(s, names[i], n) == 0)
            return names[i];
    for (size_t i = 0; names[i]; i++) {
        unsigned dd = distance(s, n, names[i]);

        if (dd < bd) {
            bd = dd;
            best = names[i];
        }
    }
    return bd <= limit ? best : NULL;
}

static void list_names(const char *const *names, char *buf, size_t cap)
{
    size_t k = 0;

    buf[0] = '\0';
    for (size_t i = 0; names[i] && k < cap; i++) {
        int w = snprintf(buf + k, cap - k, "%s%s", i ? ", " : "", names[i]);

        if (w < 0)
            break;
        k += (size_t)w;
    }
}

/* Parse an enumerated value; on failure, name the choices and the nearest one. */
static int parse_enum(struct ctx *c, struct fy_node *n, const char *what, const char *const *names,
                      int *ret)
{
    const char *s, *near;
    size_t len;
    char all[200];

    s = scalar(c, n, what, &len);
    if (!s)
        return BS_EFORMAT;
    for (int i = 0; names[i]; i++) {
        if (eq(s, len, names[i])) {
            *ret = i;
            return 0;
        }
    }
    list_names(names, all, sizeof(all));
    near = nearest(s, len, names);
    if (near)
        fail(c, n, "%s '%.*s' is not valid; did you mean '%s'? (one of: %s)", what,
             (int)(len > 40 ? 40 : len), s, near, all);
    else
        fail(c, n, "%s '%.*s' is not valid; use one of: %s", what, (int)(len > 40 ? 40 : len), s,
             all);
    return BS_EFORMAT;
}

static int parse_uint(struct ctx *c, struct fy_node *n, const char *what, uint32_t lo, uint32_t hi,
                      uint32_t *ret)
{
    const char *s;
    size_t len;
    uint64_t v = 0;

    s = scalar(c, n, what, &len);
    if (!s)
        return BS_EFORMAT;
    if (len == 0 || len > 10) {
        fail(c, n, "%s must be a whole number from %u to %u; write digits only", what, lo, hi);
        return BS_EFORMAT;
    }
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') {
            fail(c, n, "%s '%.*s' is not a whole number; write digits only (%u to %u)", what,
                 (int)(len > 40 ? 40 : len), s, lo, hi);
            return BS_EFORMAT;
        }
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    if (v < lo || v > hi) {
        fail(c, n, "%s %llu is out of range; use %u to %u", what, (unsigned long long)v, lo, hi);
        return BS_EFORMAT;
    }
    *ret = (uint32_t)v;
    return 0;
}

static int parse_bool(struct ctx *c, struct fy_node *n, const char *what, bool *ret)
{
    static const char *const names[] = { "false", "true", NULL };
    int v;

    if (parse_enum(c, n, what, names, &v) < 0)
        return BS_EFORMAT;
    *ret = v == 1;
    return 0;
}

/*
 * Check every key of mapping @m against @keys (NULL-terminated) and store the value
 * nodes in @vals (same order). Unknown keys are rejected with the nearest valid one.
 */
static int take_keys(struct ctx *c, struct fy_node *m, const char *where, const char *const *keys,
                     struct fy_node **vals)
{
    struct fy_node_pair *p;
    void *it = NULL;

    for (size_t i = 0; keys[i]; i++)
        vals[i] = NULL;
    while ((p = fy_node_mapping_iterate(m, &it))) {
        struct fy_node *k = fy_node_pair_key(p);
        const char *s, *near;
        size_t len, i;
        char all[300];

        s = scalar(c, k, "a key", &len);
        if (!s)
            return BS_EFORMAT;
        for (i = 0; keys[i]; i++)
            if (eq(s, len, keys[i]))
                break;
        if (!keys[i]) {
            list_names(keys, all, sizeof(all));
            near = nearest(s, len, keys);
            if (near)
                fail(c, k, "unknown key '%.*s' in %s; did you mean '%s'?",
                     (int)(len > 40 ? 40 : len), s, where, near);
            else
                fail(c, k, "unknown key '%.*s' in %s; valid keys are: %s",
                     (int)(len > 40 ? 40 : len), s, where, all);
            return BS_EFORMAT;
        }
        vals[i] = fy_node_pair_value(p);
        if (!vals[i]) {
            fail(c, k, "key '%s' in %s has no value; give it one or remove it", keys[i], where);
            return BS_EFORMAT;
        }
    }
    return 0;
}

static bool need_mapping(struct ctx *c, struct fy_node *n, struct fy_node *key, const char *what,
                         const char *example)
{
    if (n && fy_node_is_mapping(n))
        return true;
    fail(c, n && !fy_node_is_null(n) ? n : key, "%s must be a mapping, not %s; write it like %s",
         what, kind_name(n), example);
    return false;
}

/* ---- vocabulary ------------------------------------------------------------------------- */

static const char *const enc_names[] = { "ascii", "bcd", "binary", "ebcdic", NULL };
static const char *const mti_names[] = { "ascii", "bcd", "ebcdic", NULL };
static const enum bs_iso_enc mti_values[] = { BS_ISO_ENC_ASCII, BS_ISO_ENC_BCD, BS_ISO_ENC_EBCDIC };
static const char *const bitmap_names[] = { "binary", "hex-ascii", "hex-ebcdic", NULL };
static const char *const format_names[] = { "n", "a", "an", "ans", "b", "z", NULL };
static const char *const length_names[] = { "fixed", "L",     "LL",     "LLL",
                                            "LLLL",  "LLLLL", "LLLLLL", NULL };
static const char *const unit_names[] = { "digits", "bytes", NULL };
static const char *const side_names[] = { "left", "right", NULL };
static const char *const nibble_names[] = { "0", "F", NULL };
static const char *const sens_names[] = { "clear", "masked", "secret", NULL };
static const char *const composite_names[] = { "none", "tlv", "bitmap", "fixed", NULL };
static const char *const frame_len_names[] = { "bin2", "bcd2", "ascii4", NULL };
static const char *const zero_names[] = { "keepalive", "error", NULL };

enum {
    K_NAME,
    K_FORMAT,
    K_LENGTH,
    K_SIZE,
    K_MAX,
    K_PREFIX,
    K_DATA,
    K_UNIT,
    K_PAD,
    K_PAD_NIBBLE,
    K_JUSTIFY,
    K_PAD_CHAR,
    K_COMPOSITE,
    K_SENSITIVITY,
    K_MIN,
    K_COUNT
};
static const char *const field_keys[] = {
    "name", "format",     "length",  "size",     "max",       "prefix",      "data", "unit",
    "pad",  "pad_nibble", "justify", "pad_char", "composite", "sensitivity", "min",  NULL,
};
/* Keys a 'defaults' entry may set: the encoding choices, not the shape of a field. */
static const char *const default_keys[] = {
    "prefix", "data", "unit", "pad", "pad_nibble", "justify", "pad_char", "sensitivity", NULL,
};

/* Encoding choices per format, from 'defaults' or built in. */
struct fdefault {
    struct bs_iso_field_spec s;
};

static void builtin_defaults(struct fdefault def[6])
{
    for (int f = 0; f < 6; f++) {
        memset(&def[f], 0, sizeof(def[f]));
        def[f].s.format = (enum bs_iso_format)f;
        def[f].s.prefix_enc = BS_ISO_ENC_ASCII;
        def[f].s.data_enc = f == BS_ISO_FMT_B ? BS_ISO_ENC_BINARY : BS_ISO_ENC_ASCII;
        def[f].s.pad_left = true;
        def[f].s.pad_nibble = 0;
        def[f].s.pad_char = ' ';
    }
}

/* Apply the encoding keys (shared by fields and defaults) from @v onto @s. */
static int apply_encoding(struct ctx *c, struct fy_node *const *v, struct bs_iso_field_spec *s,
                          const char *where)
{
    char what[80];
    int x;

    if (v[K_PREFIX]) {
        snprintf(what, sizeof(what), "%s: prefix", where);
        if (parse_enum(c, v[K_PREFIX], what, enc_names, &x) < 0)
            return BS_EFORMAT;
        s->prefix_enc = (enum bs_iso_enc)x;
    }
    if (v[K_DATA]) {
        snprintf(what, sizeof(what), "%s: data", where);
        if (parse_enum(c, v[K_DATA], what, enc_names, &x) < 0)
            return BS_EFORMAT;
        s->data_enc = (enum bs_iso_enc)x;
    }
    if (v[K_UNIT]) {
        snprintf(what, sizeof(what), "%s: unit", where);
        if (parse_enum(c, v[K_UNIT], what, unit_names, &x) < 0)
            return BS_EFORMAT;
        s->bcd_len_in_bytes = x == 1;
    }
    if (v[K_PAD]) {
        snprintf(what, sizeof(what), "%s: pad", where);
        if (parse_enum(c, v[K_PAD], what, side_names, &x) < 0)
            return BS_EFORMAT;
        s->pad_left = x == 0;
    }
    if (v[K_PAD_NIBBLE]) {
        snprintf(what, sizeof(what), "%s: pad_nibble", where);
        if (parse_enum(c, v[K_PAD_NIBBLE], what, nibble_names, &x) < 0)
            return BS_EFORMAT;
        s->pad_nibble = x ? 0xF : 0x0;
    }
    if (v[K_JUSTIFY]) {
        snprintf(what, sizeof(what), "%s: justify", where);
        if (parse_enum(c, v[K_JUSTIFY], what, side_names, &x) < 0)
            return BS_EFORMAT;
        s->justify_right = x == 1;
    }
    if (v[K_PAD_CHAR]) {
        const char *t;
        size_t len;

        snprintf(what, sizeof(what), "%s: pad_char", where);
        t = scalar(c, v[K_PAD_CHAR], what, &len);
        if (!t)
            return BS_EFORMAT;
        if (len != 1) {
            fail(c, v[K_PAD_CHAR], "%s must be exactly one character; quote it, e.g. \" \"", what);
            return BS_EFORMAT;
        }
        s->pad_char = t[0];
    }
    if (v[K_SENSITIVITY]) {
        snprintf(what, sizeof(what), "%s: sensitivity", where);
        if (parse_enum(c, v[K_SENSITIVITY], what, sens_names, &x) < 0)
            return BS_EFORMAT;
        s->sensitivity = (enum bs_iso_sensitivity)x;
    }
    return 0;
}

static int parse_defaults(struct ctx *c, struct fy_node *key, struct fy_node *m,
                          struct fdefault def[6])
{
    struct fy_node_pair *p;
    void *it = NULL;

    if (!need_mapping(c, m, key, "'defaults'", "'defaults: {n: {data: bcd}}'"))
        return BS_EFORMAT;
    while ((p = fy_node_mapping_iterate(m, &it))) {
        struct fy_node *k = fy_node_pair_key(p), *val = fy_node_pair_value(p);
        struct fy_node *dv[9], *v[K_COUNT];
        char where[40];
        int f;

        if (parse_enum(c, k, "a 'defaults' key (a format)", format_names, &f) < 0)
            return BS_EFORMAT;
        snprintf(where, sizeof(where), "defaults for %s", format_names[f]);
        if (!need_mapping(c, val, k, where, "'n: {data: bcd, prefix: bcd}'"))
            return BS_EFORMAT;
        if (take_keys(c, val, where, default_keys, dv) < 0)
            return BS_EFORMAT;
        for (int i = 0; i < K_COUNT; i++)
            v[i] = NULL;
        v[K_PREFIX] = dv[0];
        v[K_DATA] = dv[1];
        v[K_UNIT] = dv[2];
        v[K_PAD] = dv[3];
        v[K_PAD_NIBBLE] = dv[4];
        v[K_JUSTIFY] = dv[5];
        v[K_PAD_CHAR] = dv[6];
        v[K_SENSITIVITY] = dv[7];
        if (apply_encoding(c, v, &def[f].s, where) < 0)
            return BS_EFORMAT;
    }
    return 0;
}

/* Field number from a key: digits only, within @lo..@hi. */
static int parse_de(struct ctx *c, struct fy_node *k, unsigned lo, unsigned hi, const char *what,
                    unsigned *ret)
{
    uint32_t v;
    char w[80];

    snprintf(w, sizeof(w), "%s number", what);
    if (parse_uint(c, k, w, lo, hi, &v) < 0)
        return BS_EFORMAT;
    *ret = v;
    return 0;
}

/*
 * One field (or subfield) spec. Checks here mirror bs_iso_dialect_set_field() so that
 * each mistake gets its own message instead of a generic "invalid".
 */
static int parse_field(struct ctx *c, struct fy_node *key, struct fy_node *val, const char *where,
                       const struct fdefault def[6], bool top, struct bs_iso_field_spec *s,
                       struct fy_node **ret_composite)
{
    static const uint32_t digits_max[7] = { 0, 9, 99, 999, 9999, 99999, 999999 };
    struct fy_node *v[K_COUNT];
    char what[80];
    int x, fmt;
    uint32_t u;

    *ret_composite = NULL;
    if (!need_mapping(c, val, key, where, "'{format: n, length: fixed, size: 6}'"))
        return BS_EFORMAT;
    if (take_keys(c, val, where, field_keys, v) < 0)
        return BS_EFORMAT;
    if (!v[K_FORMAT]) {
        fail(c, key, "%s has no 'format'; add 'format: n' (or a, an, ans, b, z)", where);
        return BS_EFORMAT;
    }
    snprintf(what, sizeof(what), "%s: format", where);
    if (parse_enum(c, v[K_FORMAT], what, format_names, &fmt) < 0)
        return BS_EFORMAT;
    *s = def[fmt].s;
    s->defined = true;
    s->format = (enum bs_iso_format)fmt;
    if (apply_encoding(c, v, s, where) < 0)
        return BS_EFORMAT;

    if (v[K_NAME]) {
        const char *t;
        size_t len;

        snprintf(what, sizeof(what), "%s: name", where);
        t = scalar(c, v[K_NAME], what, &len);
        if (!t)
            return BS_EFORMAT;
        if (len >= sizeof(s->name)) {
            fail(c, v[K_NAME], "%s is longer than %zu characters; shorten it", what,
                 sizeof(s->name) - 1);
            return BS_EFORMAT;
        }
        memcpy(s->name, t, len);
        s->name[len] = '\0';
    }

    if (!v[K_LENGTH]) {
        fail(c, key, "%s has no 'length'; add 'length: fixed' with 'size', or LL/LLL with 'max'",
             where);
        return BS_EFORMAT;
    }
    snprintf(what, sizeof(what), "%s: length", where);
    if (parse_enum(c, v[K_LENGTH], what, length_names, &x) < 0)
        return BS_EFORMAT;
    s->len_digits = (uint8_t)(x == 0 ? 0 : x);
    if (s->len_digits == 0) {
        if (v[K_MAX] || v[K_MIN]) {
            fail(c, v[K_MAX] ? v[K_MAX] : v[K_MIN],
                 "%s: '%s' is for variable fields; a fixed field takes 'size'", where,
                 v[K_MAX] ? "max" : "min");
            return BS_EFORMAT;
        }
        if (!v[K_SIZE]) {
            fail(c, key, "%s is fixed but has no 'size'; add 'size: N'", where);
            return BS_EFORMAT;
        }
        snprintf(what, sizeof(what), "%s: size", where);
        if (parse_uint(c, v[K_SIZE], what, 1, BS_ISO_MSG_DATA_MAX, &u) < 0)
            return BS_EFORMAT;
        if (v[K_UNIT]) {
            fail(c, v[K_UNIT], "%s: 'unit' applies to variable BCD fields only; remove it", where);
            return BS_EFORMAT;
        }
    } else {
        if (v[K_SIZE]) {
            fail(c, v[K_SIZE], "%s: 'size' is for fixed fields; a variable field takes 'max'",
                 where);
            return BS_EFORMAT;
        }
        if (!v[K_MAX]) {
            fail(c, key, "%s is variable but has no 'max'; add 'max: N'", where);
            return BS_EFORMAT;
        }
        snprintf(what, sizeof(what), "%s: max", where);
        if (parse_uint(c, v[K_MAX], what, 1, 999999, &u) < 0)
            return BS_EFORMAT;
        if ((s->bcd_len_in_bytes && s->data_enc == BS_ISO_ENC_BCD ? (u + 1) / 2 : u) >
            digits_max[s->len_digits]) {
            fail(c, v[K_MAX],
                 "%s: max %u does not fit %u length digits; raise 'length' or "
                 "lower 'max'",
                 where, u, s->len_digits);
            return BS_EFORMAT;
        }
        if (s->prefix_enc == BS_ISO_ENC_BINARY && s->len_digits < 7 &&
            u >= (UINT32_C(1) << (8 * ((s->len_digits + 1) / 2)))) {
            fail(c, v[K_MAX],
                 "%s: max %u does not fit a %u-byte binary prefix; raise 'length' or lower 'max'",
                 where, u, (s->len_digits + 1) / 2);
            return BS_EFORMAT;
        }
        if (v[K_MIN]) {
            uint32_t lo;

            snprintf(what, sizeof(what), "%s: min", where);
            if (parse_uint(c, v[K_MIN], what, 0, u, &lo) < 0)
                return BS_EFORMAT;
            s->min_size = lo;
        }
    }
    s->size = u;

    switch (s->format) {
    case BS_ISO_FMT_B:
        if (s->data_enc != BS_ISO_ENC_BINARY) {
            fail(c, v[K_DATA] ? v[K_DATA] : v[K_FORMAT],
                 "%s: format b carries raw bytes; set 'data: binary'", where);
            return BS_EFORMAT;
        }
        break;
    case BS_ISO_FMT_N:
    case BS_ISO_FMT_Z:
        if (s->data_enc == BS_ISO_ENC_BINARY) {
            fail(c, v[K_DATA] ? v[K_DATA] : v[K_FORMAT],
                 "%s: numeric data cannot be 'binary'; use ascii, bcd or ebcdic", where);
            return BS_EFORMAT;
        }
        break;
    default:
        if (s->data_enc != BS_ISO_ENC_ASCII && s->data_enc != BS_ISO_ENC_EBCDIC) {
            fail(c, v[K_DATA] ? v[K_DATA] : v[K_FORMAT],
                 "%s: format %s holds characters; use 'data: ascii' or 'data: ebcdic'", where,
                 format_names[fmt]);
            return BS_EFORMAT;
        }
        break;
    }
    if (v[K_UNIT] && s->data_enc != BS_ISO_ENC_BCD) {
        fail(c, v[K_UNIT], "%s: 'unit' applies to BCD data only; remove it or set 'data: bcd'",
             where);
        return BS_EFORMAT;
    }

    if (v[K_COMPOSITE]) {
        struct fy_node *cn = v[K_COMPOSITE];

        if (!top) {
            fail(c, cn, "%s: subfields cannot be composite themselves; remove 'composite'", where);
            return BS_EFORMAT;
        }
        snprintf(what, sizeof(what), "%s: composite", where);
        if (fy_node_is_scalar(cn) && !fy_node_is_alias(cn)) {
            if (parse_enum(c, cn, what, composite_names, &x) < 0)
                return BS_EFORMAT;
            if (x == BS_ISO_COMPOSITE_BITMAP || x == BS_ISO_COMPOSITE_FIXED) {
                fail(c, cn,
                     "%s: %s needs its subfields; write 'composite: {kind: %s, fields: "
                     "{...}}'",
                     what, composite_names[x], composite_names[x]);
                return BS_EFORMAT;
            }
            s->composite = (enum bs_iso_composite)x;
        } else if (fy_node_is_mapping(cn)) {
            *ret_composite = cn;
        } else {
            fail(c, cn, "%s must be 'tlv' or a mapping with 'kind' and 'fields'", what);
            return BS_EFORMAT;
        }
        if (s->composite == BS_ISO_COMPOSITE_TLV && s->format != BS_ISO_FMT_B) {
            fail(c, cn, "%s: BER-TLV needs a binary field; set 'format: b'", where);
            return BS_EFORMAT;
        }
    }
    return 0;
}

/* A composite given as a mapping: {kind: bitmap|fixed|tlv, bitmap: ENC, fields: {...}}. */
static int parse_composite(struct ctx *c, struct bs_iso_dialect *d, unsigned de, struct fy_node *cn,
                           struct bs_iso_field_spec *s)
{
    static const char *const keys[] = { "kind", "bitmap", "fields", NULL };
    struct fy_node *v[3];
    struct fy_node_pair *p;
    struct fdefault def[6];
    char where[64];
    void *it = NULL;
    uint64_t seen2[3] = { 0, 0, 0 };
    int kind, x;

    snprintf(where, sizeof(where), "field %u composite", de);
    if (take_keys(c, cn, where, keys, v) < 0)
        return BS_EFORMAT;
    if (v[0]) {
        if (parse_enum(c, v[0], "composite kind", composite_names, &kind) < 0)
            return BS_EFORMAT;
    } else {
        kind = v[1] ? BS_ISO_COMPOSITE_BITMAP : BS_ISO_COMPOSITE_FIXED;
    }
    if (kind == BS_ISO_COMPOSITE_NONE || kind == BS_ISO_COMPOSITE_TLV) {
        if (v[1] || v[2]) {
            fail(c, v[1] ? v[1] : v[2], "%s: kind %s takes no 'bitmap' or 'fields'; remove them",
                 where, composite_names[kind]);
            return BS_EFORMAT;
        }
        if (kind == BS_ISO_COMPOSITE_TLV && s->format != BS_ISO_FMT_B) {
            fail(c, cn, "%s: BER-TLV needs a binary field; set 'format: b'", where);
            return BS_EFORMAT;
        }
        s->composite = (enum bs_iso_composite)kind;
        return bs_iso_dialect_set_field(d, de, s) < 0 ? BS_EINVAL : 0;
    }
    if (kind == BS_ISO_COMPOSITE_FIXED && v[1]) {
        fail(c, v[1], "%s: a fixed composite has no bitmap; remove 'bitmap' or use kind bitmap",
             where);
        return BS_EFORMAT;
    }
    if (!v[2] || !fy_node_is_mapping(v[2]) || fy_node_mapping_item_count(v[2]) == 0) {
        fail(c, v[2] ? v[2] : cn, "%s: needs 'fields', a mapping of subfield number to spec",
             where);
        return BS_EFORMAT;
    }
    s->composite = (enum bs_iso_composite)kind;
    if (bs_iso_dialect_set_field(d, de, s) < 0) {
        fail(c, cn, "%s: inconsistent field spec; check format, data and length", where);
        return BS_EFORMAT;
    }
    if (v[1]) {
        if (parse_enum(c, v[1], "composite bitmap", bitmap_names, &x) < 0)
            return BS_EFORMAT;
        if (bs_iso_dialect_set_sub_bitmap(d, de, (enum bs_iso_bitmap_enc)x) < 0) {
            c->nomem = true;
            fail(c, v[1], "out of memory");
            return BS_ENOMEM;
        }
    }
    builtin_defaults(def);
    while ((p = fy_node_mapping_iterate(v[2], &it))) {
        struct fy_node *k = fy_node_pair_key(p), *val = fy_node_pair_value(p), *sub_comp;
        struct bs_iso_field_spec ss;
        unsigned sub, hi = kind == BS_ISO_COMPOSITE_BITMAP ? 64 : BS_ISO_MAX_DE;
        char w2[64];
        int r;

        if (parse_de(c, k, 1, hi, "subfield", &sub) < 0)
            return BS_EFORMAT;
        if ((seen2[(sub - 1) / 64] >> ((sub - 1) % 64)) & 1) {
            fail(c, k, "subfield %u of field %u is defined twice; keep one", sub, de);
            return BS_EFORMAT;
        }
        seen2[(sub - 1) / 64] |= UINT64_C(1) << ((sub - 1) % 64);
        snprintf(w2, sizeof(w2), "subfield %u.%u", de, sub);
        if (parse_field(c, k, val, w2, def, false, &ss, &sub_comp) < 0)
            return BS_EFORMAT;
        r = bs_iso_dialect_set_subfield(d, de, sub, &ss);
        if (r == BS_ENOMEM) {
            c->nomem = true;
            fail(c, k, "out of memory");
            return r;
        }
        if (r < 0) {
            fail(c, k, "%s: inconsistent spec; check format, data and length", w2);
            return BS_EFORMAT;
        }
    }
    return 0;
}

static int parse_frame(struct ctx *c, struct fy_node *key, struct fy_node *m,
                       struct bs_iso_dialect *d)
{
    static const char *const keys[] = { "length", "tpdu_bytes", "max_bytes", "zero_length", NULL };
    struct bs_iso_frame_cfg cfg;
    struct fy_node *v[4];
    uint32_t u;
    int x;

    if (!need_mapping(c, m, key, "'frame'", "'frame: {length: bin2, max_bytes: 8192}'"))
        return BS_EFORMAT;
    if (take_keys(c, m, "'frame'", keys, v) < 0)
        return BS_EFORMAT;
    bs_iso_frame_cfg_default(&cfg);
    if (v[0]) {
        if (parse_enum(c, v[0], "frame length", frame_len_names, &x) < 0)
            return BS_EFORMAT;
        cfg.length = (enum bs_iso_frame_len)x;
        if (cfg.length != BS_ISO_FRAME_BIN2 && !v[2])
            cfg.max_len = 8192;
    }
    if (v[1]) {
        if (parse_uint(c, v[1], "frame tpdu_bytes", 0, BS_ISO_TPDU_MAX, &u) < 0)
            return BS_EFORMAT;
        cfg.tpdu_len = (uint8_t)u;
    }
    if (v[2]) {
        uint32_t hi = cfg.length == BS_ISO_FRAME_BIN2 ? 65535 : 9999;

        if (parse_uint(c, v[2], "frame max_bytes", 1, hi, &u) < 0)
            return BS_EFORMAT;
        cfg.max_len = u;
    }
    if (v[3]) {
        if (parse_enum(c, v[3], "frame zero_length", zero_names, &x) < 0)
            return BS_EFORMAT;
        cfg.zero_is_keepalive = x == 0;
    }
    if (bs_iso_dialect_set_frame(d, &cfg) < 0) {
        fail(c, m, "'frame': max_bytes does not fit the length header; lower it");
        return BS_EFORMAT;
    }
    return 0;
}

static int parse_bitmap(struct ctx *c, struct fy_node *n, struct bs_iso_dialect *d)
{
    static const char *const keys[] = { "encoding", "tertiary", NULL };
    struct fy_node *v[2];
    bool ter = false;
    int x;

    if (fy_node_is_mapping(n)) {
        if (take_keys(c, n, "'bitmap'", keys, v) < 0)
            return BS_EFORMAT;
        if (!v[0]) {
            fail(c, n,
                 "'bitmap' has no 'encoding'; add 'encoding: binary' (or hex-ascii, "
                 "hex-ebcdic)");
            return BS_EFORMAT;
        }
        if (v[1] && parse_bool(c, v[1], "bitmap tertiary", &ter) < 0)
            return BS_EFORMAT;
        n = v[0];
    }
    if (parse_enum(c, n, "bitmap", bitmap_names, &x) < 0)
        return BS_EFORMAT;
    bs_iso_dialect_set_bitmap(d, (enum bs_iso_bitmap_enc)x);
    bs_iso_dialect_set_tertiary(d, ter);
    return 0;
}

static int parse_mti(struct ctx *c, struct fy_node *n, struct bs_iso_dialect *d)
{
    static const char *const keys[] = { "encoding", NULL };
    struct fy_node *v[1];
    int x;

    if (fy_node_is_mapping(n)) {
        if (take_keys(c, n, "'mti'", keys, v) < 0)
            return BS_EFORMAT;
        if (!v[0]) {
            fail(c, n, "'mti' has no 'encoding'; add 'encoding: ascii' (or bcd, ebcdic)");
            return BS_EFORMAT;
        }
        n = v[0];
    }
    if (parse_enum(c, n, "mti", mti_names, &x) < 0)
        return BS_EFORMAT;
    bs_iso_dialect_set_mti(d, mti_values[x]);
    return 0;
}

enum { T_DIALECT, T_DESCRIPTION, T_HEADER, T_MTI, T_BITMAP, T_FRAME, T_DEFAULTS, T_FIELDS, T_N };
static const char *const top_keys[] = {
    "dialect", "description", "header_bytes", "mti", "bitmap", "frame", "defaults", "fields", NULL,
};

static int build(struct ctx *c, struct fy_node *root, struct bs_iso_dialect **ret)
{
    struct bs_iso_dialect *d = NULL;
    struct fy_node *v[T_N];
    struct fdefault def[6];
    struct fy_node_pair *p;
    uint64_t seen[3] = { 0, 0, 0 };
    const char *name;
    size_t len;
    uint32_t u;
    void *it = NULL;
    char nm[BS_ISO_NAME_MAX];
    int r = BS_EFORMAT;

    if (!root || !fy_node_is_mapping(root)) {
        fail(c, root, "a dialect file is a mapping; start with 'dialect: NAME' and 'fields:'");
        return BS_EFORMAT;
    }
    if (take_keys(c, root, "the dialect", top_keys, v) < 0)
        return BS_EFORMAT;
    if (!v[T_DIALECT]) {
        fail(c, root, "no 'dialect' key; add 'dialect: NAME' naming this dialect");
        return BS_EFORMAT;
    }
    name = scalar(c, v[T_DIALECT], "'dialect'", &len);
    if (!name)
        return BS_EFORMAT;
    if (len == 0 || len >= sizeof(nm)) {
        fail(c, v[T_DIALECT], "'dialect' must be 1 to %zu characters; shorten it", sizeof(nm) - 1);
        return BS_EFORMAT;
    }
    memcpy(nm, name, len);
    nm[len] = '\0';
    if (bs_iso_dialect_new(nm, &d) < 0) {
        c->nomem = true;
        return BS_ENOMEM;
    }
    /* Each section and each field is checked even after an error, so one pass names every
     * problem; a broken 'defaults' would mislead every field, so fields wait for it. */
    if (v[T_DESCRIPTION])
        (void)scalar(c, v[T_DESCRIPTION], "'description'", &len);
    if (v[T_HEADER] && parse_uint(c, v[T_HEADER], "'header_bytes'", 0, BS_ISO_HEADER_MAX, &u) == 0)
        bs_iso_dialect_set_header(d, u);
    if (v[T_MTI])
        (void)parse_mti(c, v[T_MTI], d);
    if (v[T_BITMAP])
        (void)parse_bitmap(c, v[T_BITMAP], d);
    if (v[T_FRAME])
        (void)parse_frame(c, v[T_FRAME], v[T_FRAME], d);
    builtin_defaults(def);
    if (v[T_DEFAULTS] && parse_defaults(c, v[T_DEFAULTS], v[T_DEFAULTS], def) < 0)
        goto fail_free;
    if (c->nomem)
        goto fail_free;
    if (!v[T_FIELDS]) {
        fail(c, root, "no 'fields' key; add 'fields:' with one entry per data element");
        goto fail_free;
    }
    if (!need_mapping(c, v[T_FIELDS], v[T_FIELDS], "'fields'",
                      "'fields: {2: {format: n, length: LL, max: 19}}'"))
        goto fail_free;
    while ((p = fy_node_mapping_iterate(v[T_FIELDS], &it))) {
        struct fy_node *k = fy_node_pair_key(p), *val = fy_node_pair_value(p), *comp;
        struct bs_iso_field_spec s;
        unsigned de;
        char where[32];

        if (c->nomem)
            goto fail_free;
        if (parse_de(c, k, 2, BS_ISO_MAX_DE, "field", &de) < 0)
            continue;
        if (de == 65 && bs_iso_dialect_tertiary(d)) {
            fail(c, k,
                 "field 65 announces the tertiary bitmap here; remove it or set "
                 "'tertiary: false'");
            continue;
        }
        if ((seen[(de - 1) / 64] >> ((de - 1) % 64)) & 1) {
            fail(c, k, "field %u is defined twice; keep one", de);
            continue;
        }
        seen[(de - 1) / 64] |= UINT64_C(1) << ((de - 1) % 64);
        snprintf(where, sizeof(where), "field %u", de);
        if (parse_field(c, k, val, where, def, true, &s, &comp) < 0)
            continue;
        if (comp) {
            r = parse_composite(c, d, de, comp, &s);
            if (r == BS_EINVAL)
                fail(c, k, "%s: inconsistent field spec; check format, data and length", where);
            r = BS_EFORMAT;
        } else if (bs_iso_dialect_set_field(d, de, &s) < 0) {
            fail(c, k, "%s: inconsistent field spec; check format, data and length", where);
        }
    }
    if (!(seen[0] | seen[1] | seen[2]) && !c->failed) {
        fail(c, v[T_FIELDS], "'fields' is empty; define at least one data element");
        goto fail_free;
    }
    if (c->failed || c->nomem)
        goto fail_free;
    *ret = d;
    return 0;

fail_free:
    bs_iso_dialect_free(d);
    return c->nomem ? BS_ENOMEM : r;
}

int bs_iso_dialect_parse(const char *text, size_t len, const char *filename,
                         struct bs_iso_dialect **ret, char *errbuf, size_t errlen)
{
    struct ctx c = { filename ? filename : "<dialect>", errbuf, errlen, false, false, 0 };
    struct fy_diag_error *de;
    struct fy_diag_cfg dcfg;
    struct fy_parse_cfg pcfg;
    struct fy_diag *diag;
    struct fy_document *fyd;
    int r;

    if (errbuf && errlen)
        errbuf[0] = '\0';
    if (!text || !ret)
        return BS_EINVAL;
    if (len > DIALECT_TEXT_MAX) {
        fail_lc(&c, 1, 1, "file is %zu bytes, more than the %d allowed; split or trim it", len,
                DIALECT_TEXT_MAX);
        return BS_ELIMIT;
    }
    if (len == 0) {
        fail_lc(&c, 1, 1, "file is empty; start with 'dialect: NAME' and 'fields:'");
        return BS_EFORMAT;
    }
    {
        int line, col;
        const char *why = screen_text(text, len, &line, &col);

        if (why) {
            fail_lc(&c, line, col, "%s", why);
            return BS_EFORMAT;
        }
    }
    fy_diag_cfg_default(&dcfg);
    dcfg.fp = NULL;
    dcfg.output_fn = diag_sink;
    dcfg.level = FYET_ERROR;
    dcfg.colorize = false;
    diag = fy_diag_create(&dcfg);
    if (!diag)
        return BS_ENOMEM;
    fy_diag_set_collect_errors(diag, true);
    memset(&pcfg, 0, sizeof(pcfg));
    pcfg.flags = FYPCF_QUIET | FYPCF_JSON_NONE;
    pcfg.diag = diag;
    fyd = fy_document_build_from_string(&pcfg, text, len);
    /* Any error counts, even when libfyaml still returns a (partial) document. */
    for (void *it = NULL; (de = fy_diag_errors_iterate(diag, &it)) != NULL;) {
        if (de->type >= FYET_ERROR) {
            fail_lc(&c, de->line > 0 ? de->line : 1, de->column > 0 ? de->column : 1,
                    "YAML syntax error: %s; fix the YAML at this position",
                    de->msg ? de->msg : "malformed");
            break;
        }
    }
    if (!fyd || c.failed) {
        if (!c.failed)
            fail_lc(&c, 1, 1, "not a YAML document; check the file is YAML text");
        r = BS_EFORMAT;
        goto out_doc;
    }
    r = build(&c, fy_document_root(fyd), ret);
out_doc:
    fy_document_destroy(fyd);
    fy_diag_destroy(diag);
    return r;
}
