/*
 * Dialect objects: the spec of every data element, checked once when it is defined and
 * turned into a compact descriptor (struct bs__iso_fd) for the pack/unpack loops.
 */
#include <string.h>

#include "iso_internal.h"

int bs__iso_dialect_new_role(const char *name, enum bs__iso_role role, struct bs_iso_dialect **ret)
{
    struct bs_iso_dialect *d;
    size_t n;

    if (!name || !ret)
        return BS_EINVAL;
    d = bs_calloc(1, sizeof(*d));
    if (!d)
        return BS_ENOMEM;
    n = strlen(name);
    if (n >= sizeof(d->name))
        n = sizeof(d->name) - 1;
    memcpy(d->name, name, n);
    d->name[n] = '\0';
    d->role = (uint8_t)role;
    d->mti_enc = BS_ISO_ENC_ASCII;
    d->bitmap_enc = BS_ISO_BITMAP_BINARY;
    bs_iso_frame_cfg_default(&d->frame);
    *ret = d;
    return 0;
}

int bs_iso_dialect_new(const char *name, struct bs_iso_dialect **ret)
{
    return bs__iso_dialect_new_role(name, BS__ROLE_MESSAGE, ret);
}

void bs_iso_dialect_free(struct bs_iso_dialect *d)
{
    if (!d)
        return;
    for (unsigned i = 0; i <= BS_ISO_MAX_DE; i++)
        bs_iso_dialect_free(d->sub[i]);
    bs_free(d);
}

int bs_iso_dialect_set_mti(struct bs_iso_dialect *d, enum bs_iso_enc enc)
{
    if (!d)
        return BS_EINVAL;
    switch (enc) {
    case BS_ISO_ENC_ASCII:
    case BS_ISO_ENC_BCD:
    case BS_ISO_ENC_EBCDIC:
        d->mti_enc = (uint8_t)enc;
        return 0;
    case BS_ISO_ENC_BINARY:
    default:
        return BS_EINVAL;
    }
}

int bs_iso_dialect_set_bitmap(struct bs_iso_dialect *d, enum bs_iso_bitmap_enc enc)
{
    if (!d)
        return BS_EINVAL;
    switch (enc) {
    case BS_ISO_BITMAP_BINARY:
    case BS_ISO_BITMAP_HEX_ASCII:
    case BS_ISO_BITMAP_HEX_EBCDIC:
        d->bitmap_enc = (uint8_t)enc;
        return 0;
    default:
        return BS_EINVAL;
    }
}

int bs_iso_dialect_set_header(struct bs_iso_dialect *d, size_t len)
{
    if (!d)
        return BS_EINVAL;
    if (len > BS_ISO_HEADER_MAX)
        return BS_ELIMIT;
    d->header_len = (uint8_t)len;
    return 0;
}

static void undefine(struct bs_iso_dialect *d, unsigned de)
{
    memset(&d->fd[de], 0, sizeof(d->fd[de]));
    memset(&d->spec[de], 0, sizeof(d->spec[de]));
    d->defined[(de - 1) / 64] &= ~(UINT64_C(1) << ((de - 1) % 64));
    bs_iso_dialect_free(d->sub[de]);
    d->sub[de] = NULL;
}

void bs_iso_dialect_set_tertiary(struct bs_iso_dialect *d, bool on)
{
    if (!d)
        return;
    d->tertiary = on;
    /* With a tertiary bitmap, bit 65 only announces it and carries no data. */
    if (on)
        undefine(d, 65);
}

/* 10^k - 1 for k = 0..6: the largest value k decimal length digits express. */
static const uint32_t digits_max[7] = { 0, 9, 99, 999, 9999, 99999, 999999 };

static bool format_ok(enum bs_iso_format fmt, enum bs_iso_enc data)
{
    switch (fmt) {
    case BS_ISO_FMT_N:
    case BS_ISO_FMT_Z:
        return data == BS_ISO_ENC_ASCII || data == BS_ISO_ENC_EBCDIC || data == BS_ISO_ENC_BCD;
    case BS_ISO_FMT_A:
    case BS_ISO_FMT_AN:
    case BS_ISO_FMT_ANS:
        return data == BS_ISO_ENC_ASCII || data == BS_ISO_ENC_EBCDIC;
    case BS_ISO_FMT_B:
        return data == BS_ISO_ENC_BINARY;
    default:
        return false;
    }
}

static bool enc_ok(enum bs_iso_enc e)
{
    return e == BS_ISO_ENC_ASCII || e == BS_ISO_ENC_BCD || e == BS_ISO_ENC_BINARY ||
           e == BS_ISO_ENC_EBCDIC;
}

/*
 * Check @spec and derive the descriptor. Kept separate from storing so that a rejected
 * spec leaves the dialect untouched.
 */
static int build_fd(const struct bs_iso_field_spec *spec, struct bs__iso_fd *fd)
{
    bool bcd = spec->data_enc == BS_ISO_ENC_BCD;
    bool track = spec->format == BS_ISO_FMT_Z;
    bool digits = spec->format == BS_ISO_FMT_N;

    if (!format_ok(spec->format, spec->data_enc))
        return BS_EINVAL;
    if (spec->size == 0 || spec->len_digits > 6)
        return BS_EINVAL;
    if (spec->pad_nibble != 0x0 && spec->pad_nibble != 0xF)
        return BS_EINVAL;
    if ((unsigned)spec->composite > BS_ISO_COMPOSITE_FIXED ||
        (unsigned)spec->sensitivity > BS_ISO_SECRET)
        return BS_EINVAL;
    /* BER-TLV is a structure of bytes: only a binary DE can carry it. */
    if (spec->composite == BS_ISO_COMPOSITE_TLV && spec->format != BS_ISO_FMT_B)
        return BS_EINVAL;

    memset(fd, 0, sizeof(*fd));
    fd->defined = 1;
    fd->bcd = bcd;
    fd->binary = spec->format == BS_ISO_FMT_B;
    fd->size = spec->size;
    fd->len_digits = spec->len_digits;
    fd->pad_left = spec->pad_left;
    fd->pad_nibble = spec->pad_nibble;
    fd->justify_right = spec->justify_right;
    fd->pad_char = (uint8_t)(spec->pad_char ? spec->pad_char : ' ');
    fd->check = digits                         ? BS__CHECK_DIGITS
                : track                        ? BS__CHECK_TRACK
                : spec->format == BS_ISO_FMT_B ? BS__CHECK_NONE
                                               : BS__CHECK_TEXT;
    switch (spec->data_enc) {
    case BS_ISO_ENC_BCD:
        fd->dkind = digits ? BS__DK_BCD_DIGITS : BS__DK_BCD_TRACK;
        break;
    case BS_ISO_ENC_EBCDIC:
        fd->dkind = digits ? BS__DK_EBCDIC_DIGITS : track ? BS__DK_EBCDIC_TRACK : BS__DK_EBCDIC;
        break;
    case BS_ISO_ENC_ASCII:
        fd->dkind = digits ? BS__DK_ASCII_DIGITS : track ? BS__DK_ASCII_TRACK : BS__DK_COPY;
        break;
    case BS_ISO_ENC_BINARY:
    default:
        fd->dkind = BS__DK_COPY;
        break;
    }

    if (spec->len_digits == 0) {
        /* A fixed field must fit the message storage, or no message could hold it. */
        if (spec->size > BS_ISO_MSG_DATA_MAX)
            return BS_EINVAL;
        fd->fixed_wire = bcd ? (spec->size + 1) / 2 : spec->size;
        if (spec->min_size)
            return BS_EINVAL; /* a fixed field has one size */
        fd->fast = fd->dkind == BS__DK_COPY ? (fd->binary ? BS__FAST_FIX_COPY : BS__FAST_FIX_TEXT)
                   : fd->dkind == BS__DK_ASCII_DIGITS ? BS__FAST_FIX_DIGITS
                   : fd->dkind == BS__DK_BCD_DIGITS   ? BS__FAST_FIX_BCD
                                                      : BS__FAST_NONE;
        return 0;
    }

    if (!enc_ok(spec->prefix_enc))
        return BS_EINVAL;
    fd->prefix_enc = (uint8_t)spec->prefix_enc;
    fd->prefix_bytes = (spec->prefix_enc == BS_ISO_ENC_BCD || spec->prefix_enc == BS_ISO_ENC_BINARY)
                           ? (uint8_t)((spec->len_digits + 1) / 2)
                           : spec->len_digits;
    fd->bcd_bytes = bcd && spec->bcd_len_in_bytes;
    fd->max_value = spec->size;
    fd->max_prefix = spec->size;
    if (fd->bcd_bytes) {
        /*
         * A byte count cannot say whether a 0 pad nibble is there, so the value may carry
         * it as one more digit: accept 2 * ceil(size / 2) digits both ways.
         */
        fd->max_prefix = (spec->size + 1) / 2;
        fd->max_value = 2 * fd->max_prefix;
    }
    if (fd->max_prefix > digits_max[spec->len_digits])
        return BS_EINVAL;
    if (spec->min_size > spec->size)
        return BS_EINVAL;
    fd->min_value = spec->min_size;
    if (spec->prefix_enc == BS_ISO_ENC_BINARY && fd->prefix_bytes < 4 &&
        fd->max_prefix >= (UINT32_C(1) << (8 * fd->prefix_bytes)))
        return BS_EINVAL;
    if ((fd->prefix_enc == BS_ISO_ENC_ASCII || fd->prefix_enc == BS_ISO_ENC_BCD) && !fd->bcd_bytes)
        fd->fast = fd->dkind == BS__DK_COPY ? (fd->binary ? BS__FAST_VAR_COPY : BS__FAST_VAR_TEXT)
                   : fd->dkind == BS__DK_ASCII_DIGITS ? BS__FAST_VAR_DIGITS
                   : fd->dkind == BS__DK_ASCII_TRACK  ? BS__FAST_VAR_TRACK
                   : fd->dkind == BS__DK_BCD_DIGITS   ? BS__FAST_VAR_BCD
                   : fd->dkind == BS__DK_BCD_TRACK    ? BS__FAST_VAR_BCD_TRACK
                                                      : BS__FAST_NONE;
    return 0;
}

void bs__iso_dialect_set_fast(struct bs_iso_dialect *d, bool on)
{
    if (!d)
        return;
    d->no_fast = !on;
    for (unsigned de = 1; de <= BS_ISO_MAX_DE; de++) {
        struct bs__iso_fd fd;

        if (d->fd[de].defined && build_fd(&d->spec[de], &fd) == 0)
            d->fd[de].fast = on ? fd.fast : BS__FAST_NONE;
        bs__iso_dialect_set_fast(d->sub[de], on);
    }
}

static bool de_ok(const struct bs_iso_dialect *d, unsigned de)
{
    switch (d->role) {
    case BS__ROLE_MESSAGE:
        return de >= 2 && de <= BS_ISO_MAX_DE && !(d->tertiary && de == 65);
    case BS__ROLE_SUB_BITMAP:
        return de >= 1 && de <= 64;
    case BS__ROLE_SUB_FIXED:
        return de >= 1 && de <= BS_ISO_MAX_DE;
    default:
        return false;
    }
}

int bs_iso_dialect_set_field(struct bs_iso_dialect *d, unsigned de,
                             const struct bs_iso_field_spec *spec)
{
    struct bs__iso_fd fd;
    int r;

    if (!d || !spec || !de_ok(d, de))
        return BS_EINVAL;
    if (!spec->defined) {
        undefine(d, de);
        return 0;
    }
    r = build_fd(spec, &fd);
    if (r < 0)
        return r;
    /* Subfields do not nest: the codec keeps composites one level deep. */
    if (d->role != BS__ROLE_MESSAGE && spec->composite != BS_ISO_COMPOSITE_NONE)
        return BS_EINVAL;
    /* A changed composite kind invalidates the old subfield layout. */
    if (d->sub[de] && d->spec[de].composite != spec->composite) {
        bs_iso_dialect_free(d->sub[de]);
        d->sub[de] = NULL;
    }
    if (d->no_fast)
        fd.fast = BS__FAST_NONE;
    d->fd[de] = fd;
    d->spec[de] = *spec;
    d->spec[de].pad_char = (char)fd.pad_char;
    d->spec[de].name[sizeof(d->spec[de].name) - 1] = '\0';
    d->defined[(de - 1) / 64] |= UINT64_C(1) << ((de - 1) % 64);
    return 0;
}

const struct bs_iso_field_spec *bs_iso_dialect_field(const struct bs_iso_dialect *d, unsigned de)
{
    if (!d || de < 1 || de > BS_ISO_MAX_DE)
        return NULL;
    return &d->spec[de];
}

const char *bs_iso_dialect_name(const struct bs_iso_dialect *d)
{
    return d ? d->name : "";
}

enum bs_iso_enc bs_iso_dialect_mti_enc(const struct bs_iso_dialect *d)
{
    return (enum bs_iso_enc)d->mti_enc;
}

enum bs_iso_bitmap_enc bs_iso_dialect_bitmap_enc(const struct bs_iso_dialect *d)
{
    return (enum bs_iso_bitmap_enc)d->bitmap_enc;
}

size_t bs_iso_dialect_header_len(const struct bs_iso_dialect *d)
{
    return d->header_len;
}

bool bs_iso_dialect_tertiary(const struct bs_iso_dialect *d)
{
    return d->tertiary;
}

const struct bs_iso_frame_cfg *bs_iso_dialect_frame(const struct bs_iso_dialect *d)
{
    return &d->frame;
}

int bs_iso_dialect_set_frame(struct bs_iso_dialect *d, const struct bs_iso_frame_cfg *cfg)
{
    int r;

    if (!d || !cfg)
        return BS_EINVAL;
    r = bs_iso_frame_cfg_check(cfg);
    if (r < 0)
        return r;
    d->frame = *cfg;
    return 0;
}

/* The subfield dialect of composite DE @de, created on first use. */
static int sub_get(struct bs_iso_dialect *d, unsigned de, struct bs_iso_dialect **ret)
{
    enum bs__iso_role role;
    int r;

    if (!d || d->role != BS__ROLE_MESSAGE || de < 1 || de > BS_ISO_MAX_DE || !d->fd[de].defined)
        return BS_EINVAL;
    if (d->spec[de].composite == BS_ISO_COMPOSITE_BITMAP)
        role = BS__ROLE_SUB_BITMAP;
    else if (d->spec[de].composite == BS_ISO_COMPOSITE_FIXED)
        role = BS__ROLE_SUB_FIXED;
    else
        return BS_EINVAL;
    if (!d->sub[de]) {
        r = bs__iso_dialect_new_role(d->name, role, &d->sub[de]);
        if (r < 0)
            return r;
        d->sub[de]->no_fast = d->no_fast;
    }
    *ret = d->sub[de];
    return 0;
}

int bs_iso_dialect_set_subfield(struct bs_iso_dialect *d, unsigned de, unsigned sub,
                                const struct bs_iso_field_spec *spec)
{
    struct bs_iso_dialect *s;
    int r;

    r = sub_get(d, de, &s);
    if (r < 0)
        return r;
    return bs_iso_dialect_set_field(s, sub, spec);
}

int bs_iso_dialect_set_sub_bitmap(struct bs_iso_dialect *d, unsigned de, enum bs_iso_bitmap_enc enc)
{
    struct bs_iso_dialect *s;
    int r;

    if (!d || de < 1 || de > BS_ISO_MAX_DE || d->spec[de].composite != BS_ISO_COMPOSITE_BITMAP)
        return BS_EINVAL;
    r = sub_get(d, de, &s);
    if (r < 0)
        return r;
    return bs_iso_dialect_set_bitmap(s, enc);
}

const struct bs_iso_dialect *bs_iso_dialect_sub(const struct bs_iso_dialect *d, unsigned de)
{
    if (!d || de < 1 || de > BS_ISO_MAX_DE)
        return NULL;
    return d->sub[de];
}
