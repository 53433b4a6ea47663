/*
 * bridgesim — ISO 8583 codec internals shared by the files of src/iso8583/.
 *
 * A dialect keeps two views of every data element: the spec as the caller gave it
 * (struct bs_iso_field_spec, returned by bs_iso_dialect_field()) and a compact descriptor
 * (struct bs__iso_fd) computed once when the field is defined, so that the pack and
 * unpack loops dispatch on one byte per field instead of re-deriving wire sizes.
 */
#ifndef BRIDGESIM_ISO_INTERNAL_H
#define BRIDGESIM_ISO_INTERNAL_H

#include <bridgesim/iso8583.h>

/* How the data part of a field moves between the wire and the logical form. */
enum bs__iso_dkind {
    BS__DK_COPY = 0,     /* ASCII a/an/ans or binary b: bytes as they are */
    BS__DK_ASCII_DIGITS, /* ASCII n: copy, digits only */
    BS__DK_ASCII_TRACK,  /* ASCII z: copy, digits and separators */
    BS__DK_EBCDIC,       /* EBCDIC a/an/ans: cp500 <-> Latin-1 */
    BS__DK_EBCDIC_DIGITS,
    BS__DK_EBCDIC_TRACK,
    BS__DK_BCD_DIGITS, /* packed n */
    BS__DK_BCD_TRACK,  /* packed z: nibble D is the separator '=' */
};

/*
 * Field kinds with a short path in the pack/unpack loops (codec.c); BS__FAST_NONE goes
 * through the general code. Variable kinds come last, BCD ones after the rest: code
 * tests ">= VAR_COPY" and ">= VAR_BCD".
 */
enum bs__iso_fast {
    BS__FAST_NONE = 0,
    BS__FAST_FIX_COPY,      /* fixed; binary b */
    BS__FAST_FIX_DIGITS,    /* fixed; ASCII n */
    BS__FAST_FIX_BCD,       /* fixed; BCD n */
    BS__FAST_FIX_TEXT,      /* fixed; ASCII a/an/ans (printable) */
    BS__FAST_VAR_COPY,      /* ASCII/BCD prefix; binary b */
    BS__FAST_VAR_DIGITS,    /* ASCII/BCD prefix; ASCII n */
    BS__FAST_VAR_TRACK,     /* ASCII/BCD prefix; ASCII z */
    BS__FAST_VAR_TEXT,      /* ASCII/BCD prefix; ASCII a/an/ans (printable) */
    BS__FAST_VAR_BCD,       /* ASCII/BCD prefix counting digits; BCD n */
    BS__FAST_VAR_BCD_TRACK, /* ASCII/BCD prefix counting digits; BCD z */
};

/* Character checks for logical values. */
enum bs__iso_check {
    BS__CHECK_NONE = 0,
    BS__CHECK_DIGITS,
    BS__CHECK_TRACK,
    BS__CHECK_TEXT, /* a/an/ans: printable, no control byte (< 0x20) and no DEL (0x7f) */
};

/* Role of a dialect object: a whole message, or the inside of a composite DE. */
enum bs__iso_role {
    BS__ROLE_MESSAGE = 0,
    BS__ROLE_SUB_BITMAP, /* one nested bitmap (no auto-extension), then subfields */
    BS__ROLE_SUB_FIXED,  /* every defined subfield, in number order, no bitmap */
};

/**
 * struct bs__iso_fd - a field descriptor derived from its spec.
 * @defined:      the field exists in the dialect.
 * @dkind:        enum bs__iso_dkind.
 * @check:        enum bs__iso_check, for pack-side validation of caller values.
 * @prefix_enc:   enum bs_iso_enc of the length prefix.
 * @len_digits:   0 for fixed, else the number of length digits.
 * @prefix_bytes: wire bytes of the length prefix.
 * @bcd:          data is packed BCD.
 * @bcd_bytes:    for BCD variable data, the prefix counts bytes rather than digits.
 * @pad_left:     odd-digit BCD pad nibble side.
 * @pad_nibble:   0x0 or 0xF.
 * @justify_right: fixed a/an/ans padding side.
 * @pad_char:     fixed a/an/ans pad character.
 * @binary:       a b field (fixed b values are never padded).
 * @fast:         enum bs__iso_fast.
 * @size:         fixed size or variable maximum (characters, digits or bytes).
 * @max_value:    for a variable field, the largest logical length accepted (digits for
 *                BCD; for byte-counted BCD this is 2 * ceil(size / 2), see DESIGN.md).
 * @max_prefix:   for a variable field, the largest prefix value accepted.
 * @min_value:    for a variable field, the shortest logical length accepted (0: any).
 * @fixed_wire:   for a fixed field, its wire size in bytes.
 */
struct bs__iso_fd {
    uint8_t defined;
    uint8_t dkind;
    uint8_t check;
    uint8_t prefix_enc;
    uint8_t len_digits;
    uint8_t prefix_bytes;
    uint8_t bcd;
    uint8_t bcd_bytes;
    uint8_t pad_left;
    uint8_t pad_nibble;
    uint8_t justify_right;
    uint8_t pad_char;
    uint8_t binary;
    uint8_t fast;
    uint32_t size;
    uint32_t max_value;
    uint32_t max_prefix;
    uint32_t min_value;
    uint32_t fixed_wire;
};

struct bs_iso_dialect {
    /* Hot data first: the descriptors and the presence masks the loops read. */
    struct bs__iso_fd fd[BS_ISO_MAX_DE + 1];
    uint64_t defined[3];
    uint8_t role;
    uint8_t mti_enc;
    uint8_t bitmap_enc;
    uint8_t header_len;
    bool tertiary;
    bool no_fast; /* bs__iso_dialect_set_fast(d, false) was called */
    struct bs_iso_frame_cfg frame;
    char name[BS_ISO_NAME_MAX];
    struct bs_iso_field_spec spec[BS_ISO_MAX_DE + 1];
    /* Subfield dialects of composite (bitmap or fixed) DEs, owned; NULL otherwise. */
    struct bs_iso_dialect *sub[BS_ISO_MAX_DE + 1];
};

/* Code page 500 tables (ebcdic.c). */
extern const uint8_t bs__iso_e2a[256];
extern const uint8_t bs__iso_a2e[256];

/*
 * Turn the short paths of the pack/unpack loops off (or back on) for every field of @d
 * and its subfield layouts. For differential tests: both settings must give the same
 * results, errors included.
 */
void bs__iso_dialect_set_fast(struct bs_iso_dialect *d, bool on);

/* A new empty dialect of the given role (dialect.c). */
int bs__iso_dialect_new_role(const char *name, enum bs__iso_role role, struct bs_iso_dialect **ret);

/*
 * The codec core (codec.c), shared by whole messages and composite subfields.
 * bs__iso_unpack_fields() decodes the data elements flagged in @present, in number order,
 * starting at *@pos; bs__iso_pack_fields() is its inverse. @base is added to error offsets.
 */
int bs__iso_unpack_fields(const struct bs_iso_dialect *d, const uint64_t present[3],
                          const uint8_t *in, size_t n, size_t *pos, size_t base,
                          struct bs_iso_msg *m, int *last_de, struct bs_iso_error *err);
int bs__iso_pack_fields(const struct bs_iso_dialect *d, const struct bs_iso_msg *m,
                        const uint64_t present[3], uint8_t *out, size_t cap, size_t *pos,
                        struct bs_iso_error *err);
int bs__iso_bitmap_read(enum bs_iso_bitmap_enc enc, const uint8_t *in, size_t n, size_t pos,
                        uint64_t *ret, size_t *ret_wire, const char **ret_reason);
size_t bs__iso_bitmap_write(enum bs_iso_bitmap_enc enc, uint64_t bits, uint8_t *out);
size_t bs__iso_bitmap_wire(enum bs_iso_bitmap_enc enc);

/* Fill @err (may be NULL) with a printf-style reason. Error paths only. */
void bs__iso_err(struct bs_iso_error *err, int de, int sub, size_t offset, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

#endif /* BRIDGESIM_ISO_INTERNAL_H */
