/*
 * bridgesim — ISO 8583 codec: dialects as data, messages, strict pack/unpack.
 *
 * Layout follows ISO 8583:1987: MTI (4 digits), primary bitmap (64 bits; bit 1 announces
 * a secondary bitmap for DE 65–128; bit 65 may announce a tertiary bitmap for DE 129–192),
 * then the data elements in ascending number order (ISO 8583:1987 §4.1, §4.3).
 *
 * A dialect says how every part is encoded on the wire. It is built either from a YAML
 * file (bs_iso_dialect_parse()) or field by field (bs_iso_dialect_set_field()).
 *
 * A message (struct bs_iso_msg) is a fixed-size value with no heap memory: field values
 * live in its own storage, so unpacking allocates nothing. Values are held in their
 * logical form, independent of the wire encoding:
 *   - n, a, an, ans, z fields: the characters as ASCII (EBCDIC and BCD are converted);
 *     for BCD-encoded track data (z) the digits and separators 'D'/'=' as ASCII;
 *   - b fields: the raw bytes.
 * Fixed-length fields are held at their full width, padding included, so that a decoded
 * message re-encodes to the same bytes.
 */
#ifndef BRIDGESIM_ISO8583_H
#define BRIDGESIM_ISO8583_H

#include <bridgesim/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Highest data element number (tertiary bitmap). */
#define BS_ISO_MAX_DE 192
/** Bytes of value storage in one message: bounds what a peer can make us hold. */
#define BS_ISO_MSG_DATA_MAX 8192
/** Maximum header bytes before the MTI. */
#define BS_ISO_HEADER_MAX 32
/** Maximum length of a dialect name. */
#define BS_ISO_NAME_MAX 64

/** Character/byte encoding of a part of the message. */
enum bs_iso_enc {
    BS_ISO_ENC_ASCII = 0,
    BS_ISO_ENC_BCD,    /* packed decimal, two digits per byte */
    BS_ISO_ENC_BINARY, /* raw bytes; for a length prefix, an unsigned big-endian integer */
    BS_ISO_ENC_EBCDIC, /* EBCDIC code page 500 */
};

/** Encoding of a bitmap. */
enum bs_iso_bitmap_enc {
    BS_ISO_BITMAP_BINARY = 0, /* 8 bytes per bitmap */
    BS_ISO_BITMAP_HEX_ASCII,  /* 16 hex characters per bitmap, ASCII */
    BS_ISO_BITMAP_HEX_EBCDIC, /* 16 hex characters per bitmap, EBCDIC */
};

/** Data element format (ISO 8583:1987 §4.2 attribute notation). */
enum bs_iso_format {
    BS_ISO_FMT_N = 0, /* numeric digits */
    BS_ISO_FMT_A,     /* alphabetic */
    BS_ISO_FMT_AN,    /* alphanumeric */
    BS_ISO_FMT_ANS,   /* alphanumeric and special */
    BS_ISO_FMT_B,     /* binary */
    BS_ISO_FMT_Z,     /* track 2/3 code set (ISO 7811/7813) */
};

/** How a composite data element is split into subfields. */
enum bs_iso_composite {
    BS_ISO_COMPOSITE_NONE = 0,
    BS_ISO_COMPOSITE_TLV,    /* BER-TLV subelements (EMV DE 55) */
    BS_ISO_COMPOSITE_BITMAP, /* subfields behind a nested bitmap (Postilion-style DE 127) */
    BS_ISO_COMPOSITE_FIXED,  /* fixed-position subfields */
};

/** Log/JSON sensitivity of a data element (PCI DSS requirement 3.3 and 3.2). */
enum bs_iso_sensitivity {
    BS_ISO_CLEAR = 0,
    BS_ISO_MASKED, /* PAN: first 6 and last 4 shown, PCI DSS 3.3 */
    BS_ISO_SECRET, /* track data, PIN block, CVV: never shown, PCI DSS 3.2 */
};

/**
 * struct bs_iso_field_spec - how one data element is encoded.
 * @defined:     false for an element the dialect does not define (a set bit is an error).
 * @format:      content class; n fields accept only digits.
 * @len_digits:  0 for a fixed-length field; else the number of length digits (1 = L,
 *               2 = LL, 3 = LLL, 4 = LLLL, 6 = LLLLLL).
 * @size:        for a fixed field, its length; for a variable field, its maximum. Counted
 *               in characters (n: digits, others: characters or bytes).
 * @prefix_enc:  encoding of the length prefix (ASCII digits, BCD, binary big-endian,
 *               EBCDIC digits). A binary prefix takes ceil(len_digits / 2) bytes.
 * @data_enc:    encoding of the data.
 * @bcd_len_in_bytes: for a BCD-data variable field, whether the prefix counts bytes
 *               rather than digits (digits is the ISO 8583:1987 reading).
 * @pad_left:    for odd-digit BCD, whether the pad nibble is on the left (right-justified
 *               value) or on the right.
 * @pad_nibble:  the pad nibble value, 0x0 or 0xF.
 * @justify_right: for fixed a/an/ans fields shorter than @size when set by the caller,
 *               whether the value is right-justified (padded on the left).
 * @pad_char:    pad character for fixed a/an/ans (default ' '); n fields pad with '0'
 *               on the left.
 * @composite:   how the value splits into subfields (for decode/encode to JSON only: the
 *               packed value is always kept whole in the message).
 * @sensitivity: what logs and JSON may show.
 * @name:        a short human name ("PAN"), for JSON and error text; may be empty.
 */
struct bs_iso_field_spec {
    bool defined;
    enum bs_iso_format format;
    uint8_t len_digits;
    uint32_t size;
    enum bs_iso_enc prefix_enc;
    enum bs_iso_enc data_enc;
    bool bcd_len_in_bytes;
    bool pad_left;
    uint8_t pad_nibble;
    bool justify_right;
    char pad_char;
    enum bs_iso_composite composite;
    enum bs_iso_sensitivity sensitivity;
    char name[32];
    uint32_t min_size; /* variable fields: shortest value accepted, 0 for any (DE 2: 8) */
};

/** Opaque dialect. Immutable once built; safe to share between threads for pack/unpack. */
struct bs_iso_dialect;

/**
 * struct bs_iso_error - where and why decoding or encoding failed.
 * @de:     the data element (0 for MTI/header, 1 for the bitmaps), or -1 when unknown.
 * @sub:    a subfield/tag number when the error is inside a composite, else -1.
 * @offset: byte offset from the start of the input where the faulty item begins.
 * @reason: NUL-terminated English text ("length prefix 1A is not numeric").
 */
struct bs_iso_error {
    int de;
    int sub;
    size_t offset;
    char reason[128];
};

/**
 * struct bs_iso_msg - one message, held in its logical form (see the file comment).
 * Treat the members as read-only; use the functions below.
 * @mti:      four ASCII digits and a NUL.
 * @header:   the dialect header bytes, @header_len of them.
 * @present:  presence bits: bit (de - 1) of word (de - 1) / 64.
 * @off, @len: value of DE n is data[off[n]] .. data[off[n] + len[n]).
 * @wire_off: after bs_iso_unpack(), the byte offset in the input where DE n (its length
 *            prefix, if any) begins; for signatures that cover "all bytes before DE n".
 * @used:     bytes of @data in use.
 */
struct bs_iso_msg {
    char mti[5];
    uint8_t header_len;
    uint8_t header[BS_ISO_HEADER_MAX];
    uint64_t present[3];
    uint16_t off[BS_ISO_MAX_DE + 1];
    uint16_t len[BS_ISO_MAX_DE + 1];
    uint16_t wire_off[BS_ISO_MAX_DE + 1];
    uint16_t used;
    uint8_t data[BS_ISO_MSG_DATA_MAX];
};

/* ---- dialects ---------------------------------------------------------------------- */

/**
 * bs_iso_dialect_new() - an empty dialect: ASCII MTI, binary bitmap, no fields defined.
 * @name: a short name, copied (at most BS_ISO_NAME_MAX - 1 bytes).
 * @ret:  receives the new dialect; free it with bs_iso_dialect_free().
 *
 * Return: 0, BS_ENOMEM, or BS_EINVAL for a NULL argument.
 */
int bs_iso_dialect_new(const char *name, struct bs_iso_dialect **ret);

/** bs_iso_dialect_free() - free a dialect; NULL is accepted. */
void bs_iso_dialect_free(struct bs_iso_dialect *d);

/**
 * bs_iso_dialect_set_mti() - set the MTI encoding (ASCII, BCD or EBCDIC).
 * Return: 0, or BS_EINVAL for BINARY.
 */
int bs_iso_dialect_set_mti(struct bs_iso_dialect *d, enum bs_iso_enc enc);

/** bs_iso_dialect_set_bitmap() - set the bitmap encoding. Return: 0 or BS_EINVAL. */
int bs_iso_dialect_set_bitmap(struct bs_iso_dialect *d, enum bs_iso_bitmap_enc enc);

/**
 * bs_iso_dialect_set_header() - a fixed-length header of @len bytes before the MTI.
 * Return: 0, or BS_ELIMIT when @len > BS_ISO_HEADER_MAX.
 */
int bs_iso_dialect_set_header(struct bs_iso_dialect *d, size_t len);

/**
 * bs_iso_dialect_set_tertiary() - whether bit 65 announces a tertiary bitmap (DE 129–192)
 * instead of being a data element of its own. Default false.
 */
void bs_iso_dialect_set_tertiary(struct bs_iso_dialect *d, bool on);

/**
 * bs_iso_dialect_set_field() - define (or redefine) DE @de.
 * @de:   2..192 (1 and, with a tertiary bitmap, 65 are bitmap indicators).
 * @spec: copied. Checked for consistency: size > 0, a variable size that its length
 *        digits can express, pad nibble 0 or F, BCD data only for n/z fields.
 *
 * Return: 0; BS_EINVAL naming nothing else (the caller knows the DE) for a bad spec.
 */
int bs_iso_dialect_set_field(struct bs_iso_dialect *d, unsigned de,
                             const struct bs_iso_field_spec *spec);

/**
 * bs_iso_dialect_field() - the spec of DE @de, or NULL when @de is out of 1..192.
 * The returned pointer lives as long as the dialect.
 */
const struct bs_iso_field_spec *bs_iso_dialect_field(const struct bs_iso_dialect *d, unsigned de);

/** bs_iso_dialect_name() - the dialect's name; never NULL. */
const char *bs_iso_dialect_name(const struct bs_iso_dialect *d);

/**
 * bs_iso_dialect_parse() - build a dialect from YAML text (schema:
 * configs/dialects/README.md).
 * @text, @len: the YAML document; need not be NUL-terminated.
 * @filename:   used in error text only.
 * @ret:        receives the dialect.
 * @errbuf, @errlen: on failure receives every error found, one "file:line:column: what is
 *              wrong; how to fix" per line (at most 20, then "... and N more errors"):
 *              each section and each field is checked even after an earlier one failed.
 *
 * The text must be UTF-8 without YAML directives or aliases (see the README).
 *
 * Return: 0; BS_EFORMAT for a syntax or schema error; BS_ELIMIT for a text over 1 MiB;
 * BS_ENOMEM.
 */
int bs_iso_dialect_parse(const char *text, size_t len, const char *filename,
                         struct bs_iso_dialect **ret, char *errbuf, size_t errlen);

/* ---- messages ---------------------------------------------------------------------- */

/**
 * bs_iso_msg_init() - reset @m to an empty message with MTI @mti.
 * @mti: four ASCII digits; anything else leaves MTI "0000" and returns BS_EINVAL.
 */
int bs_iso_msg_init(struct bs_iso_msg *m, const char *mti);

/**
 * bs_iso_msg_set_mti() - replace the MTI (four ASCII digits). Return: 0 or BS_EINVAL.
 */
int bs_iso_msg_set_mti(struct bs_iso_msg *m, const char *mti);

/**
 * bs_iso_msg_set() - set DE @de to @n bytes at @v (logical form), copying them.
 * Setting a DE again replaces it: a value no longer than the old one reuses its slot; a
 * longer one is appended and the old bytes stay unused in the storage until
 * bs_iso_msg_compact() or re-init. @v may point into @m.
 *
 * Return: 0; BS_EINVAL for @de outside 2..192; BS_ELIMIT when the storage
 * (BS_ISO_MSG_DATA_MAX) or a 16-bit length would overflow.
 */
int bs_iso_msg_set(struct bs_iso_msg *m, unsigned de, const void *v, size_t n);

/** bs_iso_msg_set_str() - bs_iso_msg_set() with a NUL-terminated string. */
int bs_iso_msg_set_str(struct bs_iso_msg *m, unsigned de, const char *s);

/**
 * bs_iso_msg_set_num() - set a numeric DE to @v written as exactly @width digits with
 * leading zeros. Return: 0; BS_ERANGE when @v does not fit @width digits or is negative.
 */
int bs_iso_msg_set_num(struct bs_iso_msg *m, unsigned de, int64_t v, unsigned width);

/** bs_iso_msg_unset() - remove DE @de if present. */
void bs_iso_msg_unset(struct bs_iso_msg *m, unsigned de);

/** bs_iso_msg_has() - whether DE @de is present (inline: every hop asks it many times). */
static inline bool bs_iso_msg_has(const struct bs_iso_msg *m, unsigned de)
{
    if (!m || de < 1 || de > BS_ISO_MAX_DE)
        return false;
    return (m->present[(de - 1) >> 6] >> ((de - 1) & 63)) & 1u;
}

/**
 * bs_iso_msg_get() - the value of DE @de, or NULL when absent. The pointer points into
 * @m and is valid until @m changes. *@ret_len receives the length, 0 when absent (may be
 * NULL).
 */
static inline const uint8_t *bs_iso_msg_get(const struct bs_iso_msg *m, unsigned de,
                                            size_t *ret_len)
{
    if (!bs_iso_msg_has(m, de)) {
        if (ret_len)
            *ret_len = 0;
        return NULL;
    }
    if (ret_len)
        *ret_len = m->len[de];
    return m->data + m->off[de];
}

/**
 * bs_iso_msg_get_str() - copy DE @de into @buf as a NUL-terminated string.
 * Return: the length; BS_ENOTFOUND when absent; BS_ENOSPC when it does not fit.
 */
int bs_iso_msg_get_str(const struct bs_iso_msg *m, unsigned de, char *buf, size_t cap);

/**
 * bs_iso_msg_get_num() - parse numeric DE @de (ASCII digits) into *@ret.
 * Return: 0; BS_ENOTFOUND; BS_EFORMAT for non-digits or more than 18 digits.
 */
int bs_iso_msg_get_num(const struct bs_iso_msg *m, unsigned de, int64_t *ret);

/* ---- pack / unpack ------------------------------------------------------------------ */

/**
 * bs_iso_pack() - encode @m in dialect @d.
 * @out, @cap: output buffer.
 * @ret_len:   receives the bytes written.
 * @err:       may be NULL; on failure names the DE and the reason.
 *
 * A secondary bitmap is emitted only when a DE 65–128 is present (ISO 8583:1987 §4.3),
 * a tertiary only when a DE 129–192 is present. Values are checked against the field
 * spec: length (fixed fields shorter than their size are padded as the spec says; longer
 * is an error), n fields digits only.
 *
 * Return: 0; BS_EFORMAT for a value that breaks its spec or a DE the dialect does not
 * define; BS_ENOSPC when @cap is too small. Never allocates.
 */
int bs_iso_pack(const struct bs_iso_dialect *d, const struct bs_iso_msg *m, uint8_t *out,
                size_t cap, size_t *ret_len, struct bs_iso_error *err);

/**
 * bs_iso_pack_field() - encode one DE (length prefix and data) on its own, as it would
 * appear inside a packed message. Used to append a signature envelope (DE 127) after the
 * bytes it covers. Same checks and errors as bs_iso_pack().
 */
int bs_iso_pack_field(const struct bs_iso_dialect *d, unsigned de, const uint8_t *v, size_t n,
                      uint8_t *out, size_t cap, size_t *ret_len, struct bs_iso_error *err);

/**
 * bs_iso_unpack() - strictly decode @n bytes at @in into @m.
 *
 * Rejected, with @err naming the DE (or 0 for MTI, 1 for bitmaps), the byte offset and
 * the reason: a short input; an MTI that is not four digits; a bitmap that is short or
 * not hex; a bit set for a DE the dialect does not define; a length prefix that is not
 * numeric, is larger than the field maximum or than the bytes left; non-digits in an n
 * field; a bad BCD nibble or pad nibble; bytes left after the last DE.
 * A secondary bitmap with no DE above 64 is accepted.
 *
 * Never reads past @in + @n; never allocates. @m is left in an unspecified state on
 * failure. Bytes after the last DE are reported against that DE (the bitmap when no DE
 * is present), at the offset where the extra bytes begin.
 *
 * Return: 0; BS_EFORMAT; BS_ELIMIT when the values exceed BS_ISO_MSG_DATA_MAX or @n
 * exceeds 65535 (wire_off is 16 bits).
 */
int bs_iso_unpack(const struct bs_iso_dialect *d, const uint8_t *in, size_t n, struct bs_iso_msg *m,
                  struct bs_iso_error *err);

/**
 * bs_iso_error_format() - "field N, offset K: reason" (or "MTI, offset K: …",
 * "bitmap, offset K: …") into @buf. Return: the length that snprintf reports.
 */
int bs_iso_error_format(const struct bs_iso_error *err, char *buf, size_t cap);

/* ---- additions: dialect inspection --------------------------------------------------- */

/** bs_iso_dialect_mti_enc() - the MTI encoding (ASCII, BCD or EBCDIC). */
enum bs_iso_enc bs_iso_dialect_mti_enc(const struct bs_iso_dialect *d);

/** bs_iso_dialect_bitmap_enc() - the bitmap encoding. */
enum bs_iso_bitmap_enc bs_iso_dialect_bitmap_enc(const struct bs_iso_dialect *d);

/** bs_iso_dialect_header_len() - bytes of fixed header before the MTI (0 when none). */
size_t bs_iso_dialect_header_len(const struct bs_iso_dialect *d);

/** bs_iso_dialect_tertiary() - whether bit 65 announces a tertiary bitmap. */
bool bs_iso_dialect_tertiary(const struct bs_iso_dialect *d);

/* ---- additions: messages -------------------------------------------------------------- */

/**
 * bs_iso_msg_set_header() - set the header bytes sent before the MTI.
 * @h, @n: copied; @n at most BS_ISO_HEADER_MAX. With @n == 0 bs_iso_pack() writes zero
 *         bytes for a dialect that has a header.
 *
 * Return: 0; BS_ELIMIT when @n > BS_ISO_HEADER_MAX; BS_EINVAL for NULL with @n > 0.
 */
int bs_iso_msg_set_header(struct bs_iso_msg *m, const void *h, size_t n);

/**
 * bs_iso_msg_next() - iterate over the present DEs in ascending order.
 * @after: 0 to start, else the previous DE returned.
 *
 * Return: the next present DE (2..192) greater than @after, or 0 when there is none.
 */
unsigned bs_iso_msg_next(const struct bs_iso_msg *m, unsigned after);

/**
 * bs_iso_msg_compact() - reclaim the storage of replaced or removed values, keeping every
 * present value. Offsets of values change; pointers from bs_iso_msg_get() become invalid.
 */
void bs_iso_msg_compact(struct bs_iso_msg *m);

/**
 * bs_iso_msg_copy() - copy @src into @dst, touching only the used part of the storage
 * (much cheaper than assigning the 8 KB struct). @dst and @src may not overlap.
 * wire_off is copied for the present DEs.
 */
void bs_iso_msg_copy(struct bs_iso_msg *dst, const struct bs_iso_msg *src);

/**
 * bs_iso_field_text() - the printable form of DE @de of @m for logs and JSON, honouring
 * the field's sensitivity (PCI DSS 3.3, 3.2): clear values as text (b fields as upper-case
 * hex); masked values as the first 6 and last 4 characters with '*' between (all '*'
 * when 10 characters or fewer); secret values as "[redacted]".
 * @reveal_masked: show BS_ISO_MASKED fields in clear (never BS_ISO_SECRET ones).
 * @buf, @cap:     receives a NUL-terminated string.
 *
 * Return: the string length; BS_ENOTFOUND when @de is absent; BS_ENOSPC when @cap is too
 * small (at least 2 * BS_ISO_MSG_DATA_MAX + 1 always suffices).
 */
int bs_iso_field_text(const struct bs_iso_dialect *d, const struct bs_iso_msg *m, unsigned de,
                      bool reveal_masked, char *buf, size_t cap);

/**
 * bs_iso_mask_text() - mask @n bytes at @v according to @sens (the rules of
 * bs_iso_field_text()) into @buf as a NUL-terminated string; @v is taken as text.
 * Return: the string length, or BS_ENOSPC.
 */
int bs_iso_mask_text(enum bs_iso_sensitivity sens, const uint8_t *v, size_t n, char *buf,
                     size_t cap);

/* ---- additions: composite data elements ---------------------------------------------- */

/**
 * bs_iso_dialect_set_subfield() - define subfield @sub of composite DE @de.
 * DE @de must already be defined with composite BS_ISO_COMPOSITE_BITMAP (subfields 1..64
 * behind one nested 64-bit bitmap, with no auto-extension: bit 1 is a subfield like any
 * other) or BS_ISO_COMPOSITE_FIXED (subfields 1..192 laid end to end, all present, in
 * number order). Subfields are read from the DE's logical value, so their encodings are
 * those found inside that value (for a b DE: the bytes as sent). Subfields cannot nest.
 * @spec: copied and checked like bs_iso_dialect_set_field(); its composite must be NONE.
 *
 * Return: 0; BS_EINVAL for a bad @de, @sub or @spec, or when @de is not a bitmap/fixed
 * composite; BS_ENOMEM.
 */
int bs_iso_dialect_set_subfield(struct bs_iso_dialect *d, unsigned de, unsigned sub,
                                const struct bs_iso_field_spec *spec);

/**
 * bs_iso_dialect_set_sub_bitmap() - the encoding of the nested bitmap of composite DE @de
 * (default binary). Return: 0; BS_EINVAL when @de is not a bitmap composite; BS_ENOMEM.
 */
int bs_iso_dialect_set_sub_bitmap(struct bs_iso_dialect *d, unsigned de,
                                  enum bs_iso_bitmap_enc enc);

/**
 * bs_iso_dialect_sub() - the subfield layout of composite DE @de (use
 * bs_iso_dialect_field() on it for subfield specs), or NULL when @de has none (not a
 * bitmap/fixed composite, or no subfield defined yet). Lives as long as @d.
 */
const struct bs_iso_dialect *bs_iso_dialect_sub(const struct bs_iso_dialect *d, unsigned de);

/**
 * bs_iso_sub_unpack() - decode the subfields of composite DE @de from its value.
 * @v, @n:  the DE's logical value (bs_iso_msg_get()).
 * @base:   added to error offsets (pass the offset of the value in the packed message to
 *          get message offsets; exact for binary and ASCII data).
 * @sub:    receives the subfields as data elements numbered by subfield; its MTI is
 *          "0000". Same strictness as bs_iso_unpack(): every byte of @v must be used.
 * @err:    may be NULL; err->de is @de and err->sub the failing subfield.
 *
 * Return: 0; BS_EINVAL when @de has no subfield layout; BS_EFORMAT; BS_ELIMIT.
 */
int bs_iso_sub_unpack(const struct bs_iso_dialect *d, unsigned de, const uint8_t *v, size_t n,
                      size_t base, struct bs_iso_msg *sub, struct bs_iso_error *err);

/**
 * bs_iso_sub_pack() - encode subfields (as produced by bs_iso_sub_unpack() or set with
 * bs_iso_msg_set()) into the logical value of composite DE @de.
 * For a fixed composite every defined subfield must be present.
 *
 * Return: 0; BS_EINVAL when @de has no subfield layout; BS_EFORMAT; BS_ENOSPC.
 */
int bs_iso_sub_pack(const struct bs_iso_dialect *d, unsigned de, const struct bs_iso_msg *sub,
                    uint8_t *out, size_t cap, size_t *ret_len, struct bs_iso_error *err);

/**
 * struct bs_iso_tlv - one BER-TLV data object (ISO/IEC 8825-1, EMV Book 3 annex B) as found
 * in DE 55.
 * @tag:     the tag bytes as a big-endian number (0x9F02, 0xDF8116); 1 to 4 bytes.
 * @tag_len: bytes of the tag.
 * @len_len: bytes of the length field: 1 for the short form, 2..5 for 0x81..0x84.
 * @value:   points into the buffer passed to bs_iso_tlv_next().
 * @len:     value length in bytes.
 * @off:     offset of the tag in that buffer.
 * @constructed: bit 6 of the first tag byte (the value is itself TLV; not descended into).
 */
struct bs_iso_tlv {
    uint32_t tag;
    uint8_t tag_len;
    uint8_t len_len;
    bool constructed;
    const uint8_t *value;
    size_t len;
    size_t off;
};

/**
 * bs_iso_tlv_next() - read the data object at *@pos of @buf (@n bytes) and advance *@pos.
 * Multi-byte tags (up to 4 bytes) and long-form lengths (0x81..0x84) are accepted; the
 * indefinite form (0x80), a tag or length running past the buffer, and a zero first tag
 * byte are rejected. Unknown tags are returned like known ones.
 * @err: may be NULL; err->de = -1, err->offset = offset of the tag, reason names the tag.
 *
 * Return: 1 with *@ret filled; 0 at the end of the buffer; BS_EFORMAT.
 */
int bs_iso_tlv_next(const uint8_t *buf, size_t n, size_t *pos, struct bs_iso_tlv *ret,
                    struct bs_iso_error *err);

/**
 * bs_iso_tlv_put() - append one data object at @out + *@pos, advancing *@pos.
 * @tag:     as in struct bs_iso_tlv; must be a well-formed BER tag of 1 to 4 bytes.
 * @len_len: 0 for the shortest length form, else the length-field size to reproduce
 *           (1..5; used to re-encode a non-minimal length identically).
 *
 * Return: 0; BS_EINVAL for a malformed tag or a @len_len that cannot hold @n;
 * BS_ENOSPC.
 */
int bs_iso_tlv_put(uint32_t tag, unsigned len_len, const uint8_t *v, size_t n, uint8_t *out,
                   size_t cap, size_t *pos);

/**
 * bs_iso_tlv_tag_parse() - parse a tag written as hex ("9F02", case-insensitive) and check
 * that it is a well-formed BER tag of 1 to 4 bytes. Return: 0 or BS_EFORMAT.
 */
int bs_iso_tlv_tag_parse(const char *hex, uint32_t *ret);

/**
 * bs_iso_tlv_tag_format() - write @tag as upper-case hex ("9F02") into @buf (at least 9
 * bytes). Return: the length written.
 */
int bs_iso_tlv_tag_format(uint32_t tag, char *buf);

/* ---- additions: frames (length-header framing) ---------------------------------------- */

/**
 * enum bs_iso_frame_len - how a frame announces its length. The length counts every byte
 * after the length header (TPDU included), as in jPOS NACChannel/NCCChannel.
 */
enum bs_iso_frame_len {
    BS_ISO_FRAME_BIN2 = 0, /* 2 bytes, unsigned big-endian (jPOS PostChannel/NAC) */
    BS_ISO_FRAME_BCD2,     /* 2 bytes BCD, 0..9999 (jPOS NCCChannel) */
    BS_ISO_FRAME_ASCII4,   /* 4 ASCII digits, 0..9999 (jPOS ASCIIChannel) */
};

/**
 * struct bs_iso_frame_cfg - framing of a link.
 * @length:    the length header.
 * @tpdu_len:  bytes of TPDU after the length header (0, or 5 for the usual
 *             id/destination/source TPDU); at most 16.
 * @max_len:   largest accepted frame payload (TPDU + message), in bytes; at most what
 *             @length can express and at most 1 MiB.
 * @zero_is_keepalive: a zero-length frame is a keep-alive (true) or an error (false).
 */
struct bs_iso_frame_cfg {
    enum bs_iso_frame_len length;
    uint8_t tpdu_len;
    uint32_t max_len;
    bool zero_is_keepalive;
};

/** Hard bound on bs_iso_frame_cfg.max_len. */
#define BS_ISO_FRAME_MAX (1024u * 1024u)
/** Hard bound on bs_iso_frame_cfg.tpdu_len. */
#define BS_ISO_TPDU_MAX 16

/**
 * bs_iso_frame_cfg_default() - 2-byte binary length, no TPDU, max_len 8192, zero-length
 * frames are keep-alives.
 */
void bs_iso_frame_cfg_default(struct bs_iso_frame_cfg *cfg);

/**
 * bs_iso_frame_cfg_check() - whether @cfg is usable.
 * Return: 0; BS_EINVAL for an unknown length kind; BS_ELIMIT for a @max_len beyond what
 * the header can express or BS_ISO_FRAME_MAX, or a @tpdu_len over BS_ISO_TPDU_MAX.
 */
int bs_iso_frame_cfg_check(const struct bs_iso_frame_cfg *cfg);

/** bs_iso_dialect_frame() - the dialect's framing (defaults when the file has none). */
const struct bs_iso_frame_cfg *bs_iso_dialect_frame(const struct bs_iso_dialect *d);

/** bs_iso_dialect_set_frame() - set the framing. Return: as bs_iso_frame_cfg_check(). */
int bs_iso_dialect_set_frame(struct bs_iso_dialect *d, const struct bs_iso_frame_cfg *cfg);

/** bs_iso_frame_header_len() - bytes of the length header (2 or 4). */
size_t bs_iso_frame_header_len(const struct bs_iso_frame_cfg *cfg);

/**
 * bs_iso_frame_encode() - write length header, TPDU and message into @out.
 * @tpdu: cfg->tpdu_len bytes, or NULL for zeros.
 * @msg, @n: the packed message. With @n == 0 and @tpdu NULL the frame is a keep-alive
 *           (a bare zero length, no TPDU); with @n == 0 and a @tpdu, a TPDU-only frame.
 *
 * Return: 0 with *@ret_len set; BS_ELIMIT when the payload exceeds cfg->max_len;
 * BS_ENOSPC; BS_EINVAL for a bad @cfg.
 */
int bs_iso_frame_encode(const struct bs_iso_frame_cfg *cfg, const uint8_t *tpdu, const uint8_t *msg,
                        size_t n, uint8_t *out, size_t cap, size_t *ret_len);

/**
 * struct bs_iso_frame - one frame cut from a stream.
 * @tpdu:      cfg->tpdu_len bytes (NULL when none or for a keep-alive).
 * @msg, @len: the message bytes after the TPDU.
 * @keepalive: a zero-length frame accepted as keep-alive (@len is 0).
 * @stream_off: offset in the stream of the frame's length header.
 * The pointers are valid until the next bs_iso_frame_dec_feed() or _free().
 */
struct bs_iso_frame {
    const uint8_t *tpdu;
    const uint8_t *msg;
    size_t len;
    bool keepalive;
    uint64_t stream_off;
};

/** Opaque incremental frame decoder (one per connection). */
struct bs_iso_frame_dec;

/**
 * bs_iso_frame_dec_new() - a decoder with a buffer of one maximal frame (allocated once).
 * Return: 0; BS_ENOMEM; errors of bs_iso_frame_cfg_check().
 */
int bs_iso_frame_dec_new(const struct bs_iso_frame_cfg *cfg, struct bs_iso_frame_dec **ret);

/** bs_iso_frame_dec_free() - free a decoder; NULL is accepted. */
void bs_iso_frame_dec_free(struct bs_iso_frame_dec *fd);

/**
 * bs_iso_frame_dec_feed() - hand received bytes to the decoder, in any chunking.
 * Bytes of a frame being discarded (over the maximum) are dropped without buffering.
 *
 * Return: how many of the @n bytes were taken. Fewer than @n means the buffer is full:
 * call bs_iso_frame_dec_next() until it returns 0, then feed the rest.
 */
size_t bs_iso_frame_dec_feed(struct bs_iso_frame_dec *fd, const uint8_t *data, size_t n);

/**
 * bs_iso_frame_dec_next() - cut the next complete frame from the buffered bytes.
 * A zero-length frame is returned as a keep-alive, or is an error, per the config. A
 * frame over max_len (BS_ELIMIT) or shorter than its TPDU (BS_EFORMAT) is reported once
 * and then skipped as its bytes arrive, so the stream stays in step. A length header
 * that is not numeric (BCD or ASCII) cannot be skipped: BS_EFORMAT, and every later call
 * returns BS_ESTATE (close the connection).
 * @err: may be NULL; err->de = -1 and err->offset = stream offset of the frame header.
 *
 * Return: 1 with *@ret filled; 0 when more bytes are needed; BS_ELIMIT; BS_EFORMAT;
 * BS_ESTATE.
 */
int bs_iso_frame_dec_next(struct bs_iso_frame_dec *fd, struct bs_iso_frame *ret,
                          struct bs_iso_error *err);

/** bs_iso_frame_dec_pending() - bytes buffered but not yet returned as frames. */
size_t bs_iso_frame_dec_pending(const struct bs_iso_frame_dec *fd);

/* ---- additions: STAN generator (DE 11) ------------------------------------------------ */

/** Largest STAN: six digits (ISO 8583:1987 DE 11, n 6). STAN 000000 is never used. */
#define BS_ISO_STAN_MAX 999999u

/** Opaque STAN generator: one per originator; ~125 KB of in-flight bits. */
struct bs_iso_stan;

/**
 * bs_iso_stan_new() - a generator whose first STAN is @first (1..999999; a seeded run
 * passes a seeded value so runs replay).
 * Return: 0; BS_EINVAL for @first out of range; BS_ENOMEM.
 */
int bs_iso_stan_new(uint32_t first, struct bs_iso_stan **ret);

/** bs_iso_stan_free() - free a generator; NULL is accepted. */
void bs_iso_stan_free(struct bs_iso_stan *s);

/**
 * bs_iso_stan_next() - the next STAN not in flight, in cyclic order 000001..999999,
 * 999999 wrapping to 000001; it is marked in flight until bs_iso_stan_done().
 * Return: 0 with *@ret set; BS_ELIMIT when all 999999 STANs are in flight.
 */
int bs_iso_stan_next(struct bs_iso_stan *s, uint32_t *ret);

/**
 * bs_iso_stan_done() - mark @stan complete (response received, timed out and reversed…),
 * making it available again after the counter wraps.
 * Return: 0; BS_EINVAL out of range; BS_ENOTFOUND when @stan was not in flight.
 */
int bs_iso_stan_done(struct bs_iso_stan *s, uint32_t stan);

/** bs_iso_stan_in_flight() - whether @stan is in flight. */
bool bs_iso_stan_in_flight(const struct bs_iso_stan *s, uint32_t stan);

/** bs_iso_stan_count() - how many STANs are in flight. */
size_t bs_iso_stan_count(const struct bs_iso_stan *s);

/** bs_iso_stan_format() - @stan as six ASCII digits and a NUL into @buf (7 bytes). */
void bs_iso_stan_format(uint32_t stan, char *buf);

#ifdef __cplusplus
}
#endif
#endif /* BRIDGESIM_ISO8583_H */
