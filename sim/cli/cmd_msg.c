/*
 * bridgesim msg decode|encode|translate — ISO 8583 messages to JSON and back, in any
 * dialect (configs/dialects/NAME.yaml or a file). The codec does the work; this file only
 * maps values to JSON (GUIDE §5: thin front end) and applies the dialect's sensitivity
 * rules, so a decoded message can be pasted into a ticket (PCI DSS 3.3, 3.2).
 *
 * JSON shape: {"mti": "0200", "header": "HEX", "fields": {"2": "...", "55": {"9F02": "HEX"},
 * "127": "HEX"}}. Text fields (n, a, an, ans, z) are strings read as ISO 8859-1, one
 * character per byte, so every byte survives the trip; b fields are upper-case hex.
 * Composite fields become objects when, and only when, the object re-encodes to the
 * same bytes (unique tags, minimal TLV lengths); otherwise they stay one string.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include <bridgesim/iso8583.h>

#include "cli/cli.h"

/* Bounds on what we read: a message is at most 64 KiB, so its hex or JSON is small. */
#define INPUT_MAX   (1024 * 1024)
#define DIALECT_MAX (1024 * 1024)
#define WIRE_MAX    65536
#define TEXT_MAX    (2 * BS_ISO_MSG_DATA_MAX + 1)

static const char hexdig[] = "0123456789ABCDEF";

/* ---- small helpers ------------------------------------------------------------------- */

static void usage_decode(FILE *out)
{
    fputs("usage: bridgesim msg decode --dialect NAME|FILE [--reveal-pan] [HEX|-]\n"
          "\n"
          "Decode one ISO 8583 message given as hex (argument, or stdin for - or nothing)\n"
          "and print it as JSON: {\"mti\", \"header\", \"fields\": {\"2\": ..., \"55\": {TAG: "
          "HEX}}}.\n"
          "Fields marked sensitive in the dialect are masked: the PAN as first 6 and last 4\n"
          "digits, track data, PIN blocks and CVVs as \"[redacted]\". Text values are\n"
          "ISO 8859-1 strings, binary values upper-case hex.\n"
          "\n"
          "  --dialect NAME|FILE  a dialect name from the dialect directory (mir, shetab,\n"
          "                       iso87-ascii, iso87-binary, ...) or a YAML file\n"
          "  --reveal-pan         show DE 2 in clear (other sensitive fields stay hidden)\n"
          "  -h, --help           show this help\n"
          "\n"
          "Exit status: 0 decoded, 2 usage error or malformed message (\"field N, offset K:\n"
          "reason\" on stderr).\n",
          out);
}

static void usage_encode(FILE *out)
{
    fputs("usage: bridgesim msg encode --dialect NAME|FILE [JSON|-]\n"
          "\n"
          "Encode a message given as JSON (argument, or stdin for - or nothing) in the shape\n"
          "that `bridgesim msg decode` prints, and print the packed bytes as hex. Values must\n"
          "be in clear: a masked PAN is not a PAN.\n"
          "\n"
          "  --dialect NAME|FILE  a dialect name or a YAML file\n"
          "  -h, --help           show this help\n"
          "\n"
          "Exit status: 0 encoded, 2 usage error or a value the dialect rejects.\n",
          out);
}

static void usage_translate(FILE *out)
{
    fputs("usage: bridgesim msg translate --from NAME|FILE --to NAME|FILE [HEX|-]\n"
          "\n"
          "Decode a message (hex, argument or stdin) in one dialect and encode the same\n"
          "values in another; print the result as hex. A header the target dialect does not\n"
          "share is replaced by zero bytes.\n"
          "\n"
          "  --from NAME|FILE  the dialect of the input\n"
          "  --to NAME|FILE    the dialect of the output\n"
          "  -h, --help        show this help\n"
          "\n"
          "Exit status: 0 translated, 2 usage error, malformed input or a value the target\n"
          "dialect cannot carry.\n",
          out);
}

static void usage_msg(FILE *out)
{
    fputs("usage: bridgesim msg decode|encode|translate [OPTIONS] [INPUT|-]\n"
          "\n"
          "  decode     ISO 8583 hex to JSON, sensitive fields masked\n"
          "  encode     JSON to ISO 8583 hex\n"
          "  translate  ISO 8583 hex in one dialect to hex in another\n"
          "\n"
          "`bridgesim msg COMMAND --help` describes each command.\n",
          out);
}

/* Read all of stdin (bounded). Returns a NUL-terminated malloc'd buffer or NULL. */
static char *read_stdin(size_t *ret_len)
{
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);

    if (!buf)
        return NULL;
    for (;;) {
        size_t k;

        if (cap - n < 2) {
            char *nb;

            if (cap >= INPUT_MAX) {
                fprintf(stderr, "bridgesim msg: input exceeds %d bytes\n", INPUT_MAX);
                free(buf);
                return NULL;
            }
            nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                return NULL;
            }
            buf = nb;
            cap *= 2;
        }
        k = fread(buf + n, 1, cap - n - 1, stdin);
        n += k;
        if (k == 0)
            break;
    }
    if (ferror(stdin)) {
        fprintf(stderr, "bridgesim msg: reading stdin: %s\n", strerror(errno));
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *ret_len = n;
    return buf;
}

/* The input argument, or stdin for "-" or none. Caller frees. */
static char *get_input(const char *arg, size_t *ret_len)
{
    char *s;

    if (arg && strcmp(arg, "-") != 0) {
        s = strdup(arg);
        if (s)
            *ret_len = strlen(s);
        return s;
    }
    return read_stdin(ret_len);
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

/* Hex with no whitespace, for values inside JSON. Returns the count or -1. */
static long parse_hex_strict(const char *s, size_t n, uint8_t *out, size_t cap)
{
    if (n % 2 || n / 2 > cap)
        return -1;
    for (size_t i = 0; i < n; i += 2) {
        int hi = hexval(s[i]), lo = hexval(s[i + 1]);

        if (hi < 0 || lo < 0)
            return -1;
        out[i / 2] = (uint8_t)(hi << 4 | lo);
    }
    return (long)(n / 2);
}

/* Hex text (whitespace allowed, either case) to bytes. Returns the count or -1. */
static long parse_hex(const char *s, size_t n, uint8_t *out, size_t cap, const char *what)
{
    size_t k = 0;
    int hi = -1;

    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        int v;

        if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
            continue;
        v = hexval(c);
        if (v < 0) {
            fprintf(stderr, "bridgesim msg: %s: character %zu is not hex; give hex digits\n", what,
                    i + 1);
            return -1;
        }
        if (hi < 0) {
            hi = v;
            continue;
        }
        if (k >= cap) {
            fprintf(stderr, "bridgesim msg: %s: more than %zu bytes\n", what, cap);
            return -1;
        }
        out[k++] = (uint8_t)(hi << 4 | v);
        hi = -1;
    }
    if (hi >= 0) {
        fprintf(stderr, "bridgesim msg: %s: odd number of hex digits\n", what);
        return -1;
    }
    return (long)k;
}

static void to_hex(const uint8_t *v, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hexdig[v[i] >> 4];
        out[2 * i + 1] = hexdig[v[i] & 15];
    }
    out[2 * n] = '\0';
}

static json_t *hex_json(const uint8_t *v, size_t n)
{
    char *buf = malloc(2 * n + 1);
    json_t *j;

    if (!buf)
        return NULL;
    to_hex(v, n, buf);
    j = json_string(buf);
    free(buf);
    return j;
}

/* Bytes as ISO 8859-1 text in UTF-8: every byte is one character, nothing is lost. */
static json_t *latin1_json(const uint8_t *v, size_t n)
{
    char *buf = malloc(2 * n + 1);
    size_t k = 0;
    json_t *j;

    if (!buf)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < 0x80) {
            buf[k++] = (char)v[i];
        } else {
            buf[k++] = (char)(0xC0 | v[i] >> 6);
            buf[k++] = (char)(0x80 | (v[i] & 0x3F));
        }
    }
    j = json_stringn(buf, k);
    free(buf);
    return j;
}

/* UTF-8 text back to ISO 8859-1 bytes; characters above U+00FF are refused. */
static long latin1_bytes(const char *s, size_t n, uint8_t *out, size_t cap)
{
    size_t k = 0;

    for (size_t i = 0; i < n; i++) {
        unsigned c = (unsigned char)s[i];

        if (c >= 0x80) {
            if ((c & 0xFE) != 0xC2 || i + 1 >= n || ((unsigned char)s[i + 1] & 0xC0) != 0x80)
                return -1;
            c = (c & 0x1F) << 6 | ((unsigned char)s[i + 1] & 0x3F);
            i++;
        }
        if (k >= cap)
            return -1;
        out[k++] = (uint8_t)c;
    }
    return (long)k;
}

/* ---- dialects ---------------------------------------------------------------------------- */

static struct bs_iso_dialect *load_dialect(const char *arg)
{
    struct bs_iso_dialect *d = NULL;
    char path[4096], err[1024];
    const char *p = arg;
    size_t n, alen = strlen(arg);
    char *text;
    FILE *f;
    int r;

    /* A name is looked up in the dialect directory; anything path-like is a file. */
    if (!strchr(arg, '/') && !(alen > 5 && strcmp(arg + alen - 5, ".yaml") == 0) &&
        !(alen > 4 && strcmp(arg + alen - 4, ".yml") == 0)) {
        if ((size_t)snprintf(path, sizeof(path), "%s/%s.yaml", bs_cli_dialect_dir(), arg) >=
            sizeof(path)) {
            fprintf(stderr, "bridgesim msg: dialect name too long\n");
            return NULL;
        }
        p = path;
    }
    f = fopen(p, "rb");
    if (!f) {
        if (p == path)
            fprintf(stderr,
                    "bridgesim msg: unknown dialect '%s' (no %s); use a name from %s or a "
                    "FILE path\n",
                    arg, path, bs_cli_dialect_dir());
        else
            fprintf(stderr, "bridgesim msg: %s: %s\n", p, strerror(errno));
        return NULL;
    }
    text = malloc(DIALECT_MAX + 1);
    if (!text) {
        fclose(f);
        return NULL;
    }
    n = fread(text, 1, DIALECT_MAX + 1, f);
    fclose(f);
    if (n > DIALECT_MAX) {
        fprintf(stderr, "bridgesim msg: %s: larger than %d bytes\n", p, DIALECT_MAX);
        free(text);
        return NULL;
    }
    r = bs_iso_dialect_parse(text, n, p, &d, err, sizeof(err));
    free(text);
    if (r < 0) {
        fprintf(stderr, "%s\n", err[0] ? err : bs_strerror(r));
        return NULL;
    }
    return d;
}

/* ---- decode ------------------------------------------------------------------------------- */

/* EMV tags that carry a PAN or track data inside DE 55 (EMV Book 3 annex A). */
static enum bs_iso_sensitivity tag_sensitivity(uint32_t tag)
{
    switch (tag) {
    case 0x5A: /* Application PAN */
        return BS_ISO_MASKED;
    case 0x56:   /* Track 1 data */
    case 0x57:   /* Track 2 equivalent data */
    case 0x9F1F: /* Track 1 discretionary data */
    case 0x9F20: /* Track 2 discretionary data */
    case 0x9F6B: /* Track 2 data (contactless) */
        return BS_ISO_SECRET;
    default:
        return BS_ISO_CLEAR;
    }
}

/* A masked hex rendering of @v for tags and subfields flagged sensitive. */
static json_t *masked_json(enum bs_iso_sensitivity sens, bool binary, const uint8_t *v, size_t n)
{
    char *buf = malloc(2 * n + 16);
    json_t *j = NULL;

    if (!buf)
        return NULL;
    if (binary) {
        to_hex(v, n, buf);
        if (bs_iso_mask_text(sens, (const uint8_t *)buf, 2 * n, buf, 2 * n + 16) >= 0)
            j = json_string(buf);
    } else if (bs_iso_mask_text(sens, v, n, buf, 2 * n + 16) >= 0) {
        j = latin1_json((const uint8_t *)buf, strlen(buf));
    }
    free(buf);
    return j;
}

/*
 * DE 55 as {TAG: HEX}, or NULL when the object would not re-encode to the same bytes
 * (a duplicate tag, a non-minimal length, trailing garbage): then the caller prints hex.
 */
static json_t *tlv_json(const uint8_t *v, size_t n)
{
    json_t *o = json_object();
    struct bs_iso_tlv t;
    size_t pos = 0;
    int r;

    if (!o)
        return NULL;
    while ((r = bs_iso_tlv_next(v, n, &pos, &t, NULL)) == 1) {
        enum bs_iso_sensitivity s = tag_sensitivity(t.tag);
        unsigned minimal = t.len < 0x80 ? 1 : t.len <= 0xFF ? 2 : t.len <= 0xFFFF ? 3 : 4;
        char tag[9];
        json_t *val;

        bs_iso_tlv_tag_format(t.tag, tag);
        if (t.len_len != minimal || json_object_get(o, tag))
            goto not_object;
        val = s == BS_ISO_CLEAR ? hex_json(t.value, t.len) : masked_json(s, true, t.value, t.len);
        if (!val || json_object_set_new(o, tag, val) < 0)
            goto not_object;
    }
    if (r < 0)
        goto not_object;
    return o;

not_object:
    json_decref(o);
    return NULL;
}

static json_t *value_json(const struct bs_iso_field_spec *s, const uint8_t *v, size_t n,
                          enum bs_iso_sensitivity sens)
{
    if (sens != BS_ISO_CLEAR)
        return masked_json(sens, s->format == BS_ISO_FMT_B, v, n);
    return s->format == BS_ISO_FMT_B ? hex_json(v, n) : latin1_json(v, n);
}

/* Bitmap or fixed composite as {SUB: value}, or NULL when it does not round-trip. */
static json_t *sub_json(const struct bs_iso_dialect *d, unsigned de, const uint8_t *v, size_t n)
{
    const struct bs_iso_dialect *sd = bs_iso_dialect_sub(d, de);
    struct bs_iso_msg *sub = malloc(sizeof(*sub));
    uint8_t *again = malloc(WIRE_MAX);
    json_t *o = NULL;
    size_t an;

    if (!sd || !sub || !again)
        goto out;
    if (bs_iso_sub_unpack(d, de, v, n, 0, sub, NULL) < 0 ||
        bs_iso_sub_pack(d, de, sub, again, WIRE_MAX, &an, NULL) < 0 || an != n ||
        memcmp(again, v, n) != 0)
        goto out;
    o = json_object();
    for (unsigned s = bs_iso_msg_next(sub, 0); o && s; s = bs_iso_msg_next(sub, s)) {
        const struct bs_iso_field_spec *ss = bs_iso_dialect_field(sd, s);
        size_t sl;
        const uint8_t *sv = bs_iso_msg_get(sub, s, &sl);
        char key[8];

        snprintf(key, sizeof(key), "%u", s);
        if (json_object_set_new(o, key, value_json(ss, sv, sl, ss->sensitivity)) < 0) {
            json_decref(o);
            o = NULL;
        }
    }
    /* Subfield 1 of a nested bitmap is not settable through bs_iso_msg_set(). */
    if (o && bs_iso_msg_has(sub, 1)) {
        json_decref(o);
        o = NULL;
    }
out:
    free(again);
    free(sub);
    return o;
}

static json_t *msg_json(const struct bs_iso_dialect *d, const struct bs_iso_msg *m, bool reveal_pan)
{
    json_t *root = json_object(), *fields = json_object();
    char header[2 * BS_ISO_HEADER_MAX + 1];

    if (!root || !fields)
        goto fail;
    to_hex(m->header, m->header_len, header);
    if (json_object_set_new(root, "mti", json_string(m->mti)) < 0 ||
        json_object_set_new(root, "header", json_string(header)) < 0)
        goto fail;
    for (unsigned de = bs_iso_msg_next(m, 0); de; de = bs_iso_msg_next(m, de)) {
        const struct bs_iso_field_spec *s = bs_iso_dialect_field(d, de);
        enum bs_iso_sensitivity sens = s->sensitivity;
        json_t *val = NULL;
        size_t n;
        const uint8_t *v = bs_iso_msg_get(m, de, &n);
        char key[8];

        if (de == 2 && reveal_pan)
            sens = BS_ISO_CLEAR;
        if (sens == BS_ISO_CLEAR && s->composite == BS_ISO_COMPOSITE_TLV)
            val = tlv_json(v, n);
        else if (sens == BS_ISO_CLEAR && s->composite != BS_ISO_COMPOSITE_NONE)
            val = sub_json(d, de, v, n);
        if (!val)
            val = value_json(s, v, n, sens);
        snprintf(key, sizeof(key), "%u", de);
        if (!val || json_object_set_new(fields, key, val) < 0)
            goto fail;
    }
    if (json_object_set_new(root, "fields", fields) < 0) {
        fields = NULL;
        goto fail;
    }
    return root;

fail:
    json_decref(fields);
    json_decref(root);
    return NULL;
}

/* Decode @hex in dialect @d into *@m; reports and returns an exit code. */
static int decode_hex(const struct bs_iso_dialect *d, const char *hex, size_t len,
                      struct bs_iso_msg *m)
{
    uint8_t *wire = malloc(WIRE_MAX);
    struct bs_iso_error err;
    char text[256];
    long n;
    int r;

    if (!wire)
        return BS_EXIT_USAGE;
    n = parse_hex(hex, len, wire, WIRE_MAX, "input");
    if (n < 0) {
        free(wire);
        return BS_EXIT_USAGE;
    }
    r = bs_iso_unpack(d, wire, (size_t)n, m, &err);
    free(wire);
    if (r < 0) {
        if (r == BS_EFORMAT || r == BS_ELIMIT) {
            bs_iso_error_format(&err, text, sizeof(text));
            fprintf(stderr, "%s\n", text);
        } else {
            fprintf(stderr, "bridgesim msg: %s\n", bs_strerror(r));
        }
        return BS_EXIT_USAGE;
    }
    return BS_EXIT_OK;
}

/* ---- encode ------------------------------------------------------------------------------- */

static int fail_field(unsigned de, int sub, const char *what)
{
    if (sub >= 0)
        fprintf(stderr, "field %u.%d: %s\n", de, sub, what);
    else
        fprintf(stderr, "field %u: %s\n", de, what);
    return BS_EXIT_USAGE;
}

/* A JSON string value as bytes for a field of format @fmt: hex for b, text otherwise. */
static long json_bytes(json_t *j, enum bs_iso_format fmt, uint8_t *out, size_t cap)
{
    const char *s = json_string_value(j);
    size_t n = json_string_length(j);

    if (!s)
        return -1;
    if (fmt == BS_ISO_FMT_B)
        return parse_hex_strict(s, n, out, cap);
    return latin1_bytes(s, n, out, cap);
}

static int encode_tlv(unsigned de, json_t *obj, uint8_t *out, size_t cap, size_t *ret_len)
{
    uint8_t *val = malloc(WIRE_MAX);
    const char *key;
    json_t *v;
    size_t pos = 0;
    int rc = BS_EXIT_OK;

    if (!val)
        return BS_EXIT_USAGE;
    json_object_foreach(obj, key, v)
    {
        uint32_t tag;
        long n;
        char why[96];

        if (bs_iso_tlv_tag_parse(key, &tag) < 0) {
            snprintf(why, sizeof(why), "'%.16s' is not a BER-TLV tag; write it as hex, e.g. 9F02",
                     key);
            rc = fail_field(de, -1, why);
            break;
        }
        n = json_bytes(v, BS_ISO_FMT_B, val, WIRE_MAX);
        if (n < 0) {
            snprintf(why, sizeof(why), "tag %s: value must be a hex string", key);
            rc = fail_field(de, -1, why);
            break;
        }
        if (bs_iso_tlv_put(tag, 0, val, (size_t)n, out, cap, &pos) < 0) {
            snprintf(why, sizeof(why), "tag %s: does not fit", key);
            rc = fail_field(de, -1, why);
            break;
        }
    }
    free(val);
    *ret_len = pos;
    return rc;
}

static int encode_sub(const struct bs_iso_dialect *d, unsigned de, json_t *obj, uint8_t *out,
                      size_t cap, size_t *ret_len)
{
    const struct bs_iso_dialect *sd = bs_iso_dialect_sub(d, de);
    struct bs_iso_msg *sub = malloc(sizeof(*sub));
    uint8_t *val = malloc(WIRE_MAX);
    struct bs_iso_error err;
    const char *key;
    json_t *v;
    int rc = BS_EXIT_USAGE;

    if (!sd) {
        rc = fail_field(de, -1, "has no subfields in this dialect; give a string");
        goto out;
    }
    if (!sub || !val)
        goto out;
    bs_iso_msg_init(sub, "0000");
    json_object_foreach(obj, key, v)
    {
        char *end;
        unsigned long s = strtoul(key, &end, 10);
        const struct bs_iso_field_spec *ss;
        long n;

        ss = *key && !*end && s <= BS_ISO_MAX_DE ? bs_iso_dialect_field(sd, (unsigned)s) : NULL;
        if (!ss || !ss->defined) {
            char why[96];

            snprintf(why, sizeof(why), "unknown subfield \"%.40s\"", key);
            fail_field(de, -1, why);
            goto out;
        }
        if (bs_iso_msg_has(sub, (unsigned)s)) {
            fail_field(de, (int)s, "subfield given twice (e.g. \"2\" and \"02\"); keep one");
            goto out;
        }
        n = json_bytes(v, ss->format, val, WIRE_MAX);
        if (n < 0 || bs_iso_msg_set(sub, (unsigned)s, val, (size_t)n) < 0) {
            fail_field(de, (int)s,
                       ss->format == BS_ISO_FMT_B ? "value must be a hex string"
                                                  : "value must be a string");
            goto out;
        }
    }
    if (bs_iso_sub_pack(d, de, sub, out, cap, ret_len, &err) < 0) {
        fail_field(de, err.sub, err.reason);
        goto out;
    }
    rc = BS_EXIT_OK;
out:
    free(val);
    free(sub);
    return rc;
}

/* JSON text to a message in dialect @d. */
static int json_to_msg(const struct bs_iso_dialect *d, const char *text, size_t len,
                       struct bs_iso_msg *m)
{
    json_error_t jerr;
    /* A key given twice would silently lose one value: refuse it, naming the key. */
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr), *mti, *hdr, *fields, *v;
    uint8_t *val = malloc(WIRE_MAX);
    const char *key, *seen[BS_ISO_MAX_DE + 1] = { NULL };
    int rc = BS_EXIT_USAGE;

    if (!val)
        goto out;
    if (!root) {
        fprintf(stderr, "bridgesim msg: input:%d:%d: %s; %s\n", jerr.line, jerr.column, jerr.text,
                strstr(jerr.text, "duplicate")
                    ? "give each key once"
                    : "give a JSON object like {\"mti\": \"0200\", \"fields\": {...}}");
        goto out;
    }
    if (!json_is_object(root)) {
        fprintf(stderr, "bridgesim msg: give a JSON object like {\"mti\": \"0200\", \"fields\": "
                        "{...}}\n");
        goto out;
    }
    json_object_foreach(root, key, v)
    {
        if (strcmp(key, "mti") && strcmp(key, "header") && strcmp(key, "fields")) {
            fprintf(stderr,
                    "bridgesim msg: unknown key \"%.40s\"; a message has \"mti\", \"header\" "
                    "and \"fields\" (DE numbers go inside \"fields\")\n",
                    key);
            goto out;
        }
    }
    mti = json_object_get(root, "mti");
    if (!json_is_string(mti) || bs_iso_msg_init(m, json_string_value(mti)) < 0) {
        fprintf(stderr, "bridgesim msg: \"mti\" must be four digits, e.g. \"0200\"\n");
        goto out;
    }
    hdr = json_object_get(root, "header");
    if (hdr) {
        uint8_t h[BS_ISO_HEADER_MAX];
        long n = json_is_string(hdr) ? parse_hex(json_string_value(hdr), json_string_length(hdr), h,
                                                 sizeof(h), "header")
                                     : -1;

        if (n < 0 || bs_iso_msg_set_header(m, h, (size_t)n) < 0) {
            fprintf(stderr, "bridgesim msg: \"header\" must be hex of at most %d bytes\n",
                    BS_ISO_HEADER_MAX);
            goto out;
        }
    }
    fields = json_object_get(root, "fields");
    if (!json_is_object(fields)) {
        fprintf(stderr, "bridgesim msg: \"fields\" must be an object of DE number to value\n");
        goto out;
    }
    json_object_foreach(fields, key, v)
    {
        char *end;
        unsigned long de = strtoul(key, &end, 10);
        const struct bs_iso_field_spec *s;
        size_t n = 0;
        long k;

        s = *key && !*end && de >= 2 && de <= BS_ISO_MAX_DE ? bs_iso_dialect_field(d, (unsigned)de)
                                                            : NULL;
        if (!s || !s->defined) {
            fprintf(stderr, "field %s: not defined in dialect %s\n", key, bs_iso_dialect_name(d));
            goto out;
        }
        if (seen[de]) {
            fprintf(stderr, "field %s: DE %lu is given twice (\"%s\" and \"%s\"); keep one\n", key,
                    de, seen[de], key);
            goto out;
        }
        seen[de] = key;
        if (json_is_object(v)) {
            int r = s->composite == BS_ISO_COMPOSITE_TLV
                        ? encode_tlv((unsigned)de, v, val, WIRE_MAX, &n)
                        : encode_sub(d, (unsigned)de, v, val, WIRE_MAX, &n);

            if (r != BS_EXIT_OK)
                goto out;
        } else {
            k = json_bytes(v, s->format, val, WIRE_MAX);
            if (k < 0) {
                fail_field((unsigned)de, -1,
                           s->format == BS_ISO_FMT_B
                               ? "value must be a hex string"
                               : "value must be a string of ISO 8859-1 characters");
                goto out;
            }
            n = (size_t)k;
        }
        if (bs_iso_msg_set(m, (unsigned)de, val, n) < 0) {
            fail_field((unsigned)de, -1, "message values exceed the storage limit");
            goto out;
        }
    }
    rc = BS_EXIT_OK;
out:
    free(val);
    json_decref(root);
    return rc;
}

/* Pack and print as hex; reports pack errors. */
static int print_packed(const struct bs_iso_dialect *d, const struct bs_iso_msg *m)
{
    uint8_t *wire = malloc(WIRE_MAX);
    char *hex = malloc(2 * WIRE_MAX + 1);
    struct bs_iso_error err;
    char text[256];
    size_t n;
    int r, rc = BS_EXIT_USAGE;

    if (!wire || !hex)
        goto out;
    r = bs_iso_pack(d, m, wire, WIRE_MAX, &n, &err);
    if (r < 0) {
        if (r == BS_EFORMAT || r == BS_ENOSPC) {
            bs_iso_error_format(&err, text, sizeof(text));
            fprintf(stderr, "%s\n", text);
        } else {
            fprintf(stderr, "bridgesim msg: %s\n", bs_strerror(r));
        }
        goto out;
    }
    to_hex(wire, n, hex);
    printf("%s\n", hex);
    rc = BS_EXIT_OK;
out:
    free(hex);
    free(wire);
    return rc;
}

/* ---- subcommands -------------------------------------------------------------------------- */

struct opts {
    const char *dialect, *from, *to, *input;
    bool reveal_pan, help;
};

/* Parse options common to the subcommands; @allowed lists the long options taken. */
static int parse_opts(int argc, char **argv, const char *cmd, const char *allowed, struct opts *o)
{
    bool done = false;

    memset(o, 0, sizeof(*o));
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char **slot = NULL;

        if (!done && (!strcmp(a, "-h") || !strcmp(a, "--help"))) {
            o->help = true;
            return 0;
        }
        if (!done && !strcmp(a, "--")) {
            done = true;
            continue;
        }
        if (!done && !strcmp(a, "--dialect") && strstr(allowed, "dialect"))
            slot = &o->dialect;
        else if (!done && !strcmp(a, "--from") && strstr(allowed, "from"))
            slot = &o->from;
        else if (!done && !strcmp(a, "--to") && strstr(allowed, "to"))
            slot = &o->to;
        else if (!done && !strcmp(a, "--reveal-pan") && strstr(allowed, "reveal")) {
            o->reveal_pan = true;
            continue;
        }
        if (slot) {
            if (i + 1 >= argc) {
                fprintf(stderr, "bridgesim msg %s: %s needs a value\n", cmd, a);
                return -1;
            }
            *slot = argv[++i];
            continue;
        }
        if (!done && a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "bridgesim msg %s: unknown option %s; see --help\n", cmd, a);
            return -1;
        }
        if (o->input) {
            fprintf(stderr, "bridgesim msg %s: one input only; see --help\n", cmd);
            return -1;
        }
        o->input = a;
    }
    return 0;
}

static int cmd_decode(int argc, char **argv)
{
    struct bs_iso_dialect *d = NULL;
    struct bs_iso_msg *m = malloc(sizeof(*m));
    struct opts o;
    char *in = NULL, *out;
    size_t len;
    json_t *j;
    int rc = BS_EXIT_USAGE;

    if (!m)
        return rc;
    if (parse_opts(argc, argv, "decode", "dialect reveal", &o) < 0)
        goto out;
    if (o.help) {
        usage_decode(stdout);
        rc = BS_EXIT_OK;
        goto out;
    }
    if (!o.dialect) {
        fputs("bridgesim msg decode: --dialect NAME|FILE is required\n", stderr);
        goto out;
    }
    d = load_dialect(o.dialect);
    in = d ? get_input(o.input, &len) : NULL;
    if (!in || decode_hex(d, in, len, m) != BS_EXIT_OK)
        goto out;
    j = msg_json(d, m, o.reveal_pan);
    out = j ? json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    json_decref(j);
    if (!out) {
        fputs("bridgesim msg decode: out of memory\n", stderr);
        goto out;
    }
    printf("%s\n", out);
    free(out);
    rc = BS_EXIT_OK;
out:
    free(in);
    free(m);
    bs_iso_dialect_free(d);
    return rc;
}

static int cmd_encode(int argc, char **argv)
{
    struct bs_iso_dialect *d = NULL;
    struct bs_iso_msg *m = malloc(sizeof(*m));
    struct opts o;
    char *in = NULL;
    size_t len;
    int rc = BS_EXIT_USAGE;

    if (!m)
        return rc;
    if (parse_opts(argc, argv, "encode", "dialect", &o) < 0)
        goto out;
    if (o.help) {
        usage_encode(stdout);
        rc = BS_EXIT_OK;
        goto out;
    }
    if (!o.dialect) {
        fputs("bridgesim msg encode: --dialect NAME|FILE is required\n", stderr);
        goto out;
    }
    d = load_dialect(o.dialect);
    in = d ? get_input(o.input, &len) : NULL;
    if (!in || json_to_msg(d, in, len, m) != BS_EXIT_OK)
        goto out;
    rc = print_packed(d, m);
out:
    free(in);
    free(m);
    bs_iso_dialect_free(d);
    return rc;
}

static int cmd_translate(int argc, char **argv)
{
    struct bs_iso_dialect *from = NULL, *to = NULL;
    struct bs_iso_msg *m = malloc(sizeof(*m));
    struct opts o;
    char *in = NULL;
    size_t len;
    int rc = BS_EXIT_USAGE;

    if (!m)
        return rc;
    if (parse_opts(argc, argv, "translate", "from to", &o) < 0)
        goto out;
    if (o.help) {
        usage_translate(stdout);
        rc = BS_EXIT_OK;
        goto out;
    }
    if (!o.from || !o.to) {
        fputs("bridgesim msg translate: --from and --to are required\n", stderr);
        goto out;
    }
    from = load_dialect(o.from);
    to = from ? load_dialect(o.to) : NULL;
    in = to ? get_input(o.input, &len) : NULL;
    if (!in || decode_hex(from, in, len, m) != BS_EXIT_OK)
        goto out;
    /* Headers are per network: one the target does not share becomes zeros. */
    if (m->header_len != bs_iso_dialect_header_len(to))
        bs_iso_msg_set_header(m, NULL, 0);
    rc = print_packed(to, m);
out:
    free(in);
    free(m);
    bs_iso_dialect_free(from);
    bs_iso_dialect_free(to);
    return rc;
}

int bs_cli_msg(int argc, char **argv)
{
    if (argc < 2) {
        usage_msg(stderr);
        return BS_EXIT_USAGE;
    }
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        usage_msg(stdout);
        return BS_EXIT_OK;
    }
    if (!strcmp(argv[1], "decode"))
        return cmd_decode(argc - 1, argv + 1);
    if (!strcmp(argv[1], "encode"))
        return cmd_encode(argc - 1, argv + 1);
    if (!strcmp(argv[1], "translate"))
        return cmd_translate(argc - 1, argv + 1);
    fprintf(stderr, "bridgesim msg: unknown command '%s'; use decode, encode or translate\n",
            argv[1]);
    return BS_EXIT_USAGE;
}
