/*
 * Pack and unpack: MTI, bitmaps and data elements (ISO 8583:1987 §4.1–4.3).
 *
 * Both directions run over a precomputed descriptor per field and touch only the bytes
 * they need: no heap, no printf on the success path, no reads past the input. Errors are
 * formatted only when they happen.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "iso_internal.h"

void bs__iso_err(struct bs_iso_error *err, int de, int sub, size_t offset, const char *fmt, ...)
{
    va_list ap;

    if (!err)
        return;
    err->de = de;
    err->sub = sub;
    err->offset = offset;
    va_start(ap, fmt);
    vsnprintf(err->reason, sizeof(err->reason), fmt, ap);
    va_end(ap);
}

int bs_iso_error_format(const struct bs_iso_error *err, char *buf, size_t cap)
{
    if (!err)
        return snprintf(buf, cap, "unknown error");
    if (err->de == 0)
        return snprintf(buf, cap, "MTI, offset %zu: %s", err->offset, err->reason);
    if (err->de == 1 && err->sub < 0)
        return snprintf(buf, cap, "bitmap, offset %zu: %s", err->offset, err->reason);
    if (err->de < 0)
        return snprintf(buf, cap, "offset %zu: %s", err->offset, err->reason);
    if (err->sub == 0)
        return snprintf(buf, cap, "field %d bitmap, offset %zu: %s", err->de, err->offset,
                        err->reason);
    if (err->sub > 0)
        return snprintf(buf, cap, "field %d.%d, offset %zu: %s", err->de, err->sub, err->offset,
                        err->reason);
    return snprintf(buf, cap, "field %d, offset %zu: %s", err->de, err->offset, err->reason);
}

/* ---- small tables ---------------------------------------------------------------------- */

/* Bit-reversed bytes: the wire numbers bits from the most significant end (bit 1 = 0x80 of
 * the first byte), struct bs_iso_msg from the least significant end of each word. */
#define R2(n) n, n + 2 * 64, n + 1 * 64, n + 3 * 64
#define R4(n) R2(n), R2(n + 2 * 16), R2(n + 1 * 16), R2(n + 3 * 16)
#define R6(n) R4(n), R4(n + 2 * 4), R4(n + 1 * 4), R4(n + 3 * 4)
static const uint8_t rev8[256] = { R6(0), R6(2), R6(1), R6(3) };
#undef R2
#undef R4
#undef R6

/* Hex digit value + 1 (0 = not a hex digit), ASCII and EBCDIC; both cases accepted. */
static const uint8_t hex_ascii[256] = {
    ['0'] = 1,  ['1'] = 2,  ['2'] = 3,  ['3'] = 4,  ['4'] = 5,  ['5'] = 6,  ['6'] = 7,  ['7'] = 8,
    ['8'] = 9,  ['9'] = 10, ['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16,
    ['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
};
static const uint8_t hex_ebcdic[256] = {
    [0xF0] = 1,  [0xF1] = 2,  [0xF2] = 3,  [0xF3] = 4,  [0xF4] = 5,  [0xF5] = 6,
    [0xF6] = 7,  [0xF7] = 8,  [0xF8] = 9,  [0xF9] = 10, [0xC1] = 11, [0xC2] = 12,
    [0xC3] = 13, [0xC4] = 14, [0xC5] = 15, [0xC6] = 16, [0x81] = 11, [0x82] = 12,
    [0x83] = 13, [0x84] = 14, [0x85] = 15, [0x86] = 16,
};
static const char hex_upper[] = "0123456789ABCDEF";

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define BS_ISO_SWAR 1
#else
#define BS_ISO_SWAR 0
#endif

/*
 * Word-at-a-time helpers: the codec spends most of its time checking and converting
 * digits, eight bytes per step here instead of one. Loads and stores go through memcpy,
 * which compilers turn into single unaligned moves.
 */
#define ONES  UINT64_C(0x0101010101010101)
#define HIGHS (ONES * 0x80)

static inline uint64_t load64(const uint8_t *p)
{
    uint64_t x;

    memcpy(&x, p, 8);
    return x;
}

/* The high bit of every byte of @x that is not an ASCII digit. No carry crosses a byte:
 * each sum is at most 0x7F + 0x50. */
static inline uint64_t nondigits8(uint64_t x)
{
    uint64_t low = x & ~HIGHS;
    uint64_t ge0 = low + ONES * (0x80 - '0');
    uint64_t gt9 = low + ONES * (0x80 - '9' - 1);

    return (~ge0 | gt9 | x) & HIGHS;
}

/* Reverse the bits inside every byte of @x: wire bitmaps number bits from the top of
 * each byte, struct bs_iso_msg from the bottom; the byte order is the same. */
static inline uint64_t rev_bytes(uint64_t x)
{
    x = ((x >> 1) & UINT64_C(0x5555555555555555)) | ((x & UINT64_C(0x5555555555555555)) << 1);
    x = ((x >> 2) & UINT64_C(0x3333333333333333)) | ((x & UINT64_C(0x3333333333333333)) << 2);
    return ((x >> 4) & UINT64_C(0x0F0F0F0F0F0F0F0F)) | ((x & UINT64_C(0x0F0F0F0F0F0F0F0F)) << 4);
}

/* ---- bitmaps --------------------------------------------------------------------------- */

size_t bs__iso_bitmap_wire(enum bs_iso_bitmap_enc enc)
{
    return enc == BS_ISO_BITMAP_BINARY ? 8 : 16;
}

int bs__iso_bitmap_read(enum bs_iso_bitmap_enc enc, const uint8_t *in, size_t n, size_t pos,
                        uint64_t *ret, size_t *ret_wire, const char **ret_reason)
{
    size_t w = bs__iso_bitmap_wire(enc);
    const uint8_t *p = in + pos;
    uint64_t bits = 0;

    if (n - pos < w) {
        *ret_reason = "truncated bitmap";
        return BS_EFORMAT;
    }
    if (enc == BS_ISO_BITMAP_BINARY) {
#if BS_ISO_SWAR
        bits = rev_bytes(load64(p));
#else
        for (unsigned i = 0; i < 8; i++)
            bits |= (uint64_t)rev8[p[i]] << (8 * i);
#endif
    } else {
        const uint8_t *t = enc == BS_ISO_BITMAP_HEX_ASCII ? hex_ascii : hex_ebcdic;
        unsigned bad = 0;

        for (unsigned i = 0; i < 8; i++) {
            unsigned hi = t[p[2 * i]], lo = t[p[2 * i + 1]];

            bad |= (hi == 0) | (lo == 0);
            bits |= (uint64_t)rev8[((hi - 1) << 4 | (lo - 1)) & 0xFF] << (8 * i);
        }
        if (bad) {
            *ret_reason = "non-hex bitmap";
            return BS_EFORMAT;
        }
    }
    *ret = bits;
    *ret_wire = w;
    return 0;
}

size_t bs__iso_bitmap_write(enum bs_iso_bitmap_enc enc, uint64_t bits, uint8_t *out)
{
    if (enc == BS_ISO_BITMAP_BINARY) {
#if BS_ISO_SWAR
        bits = rev_bytes(bits);
        memcpy(out, &bits, 8);
#else
        for (unsigned i = 0; i < 8; i++)
            out[i] = rev8[(bits >> (8 * i)) & 0xFF];
#endif
        return 8;
    }
    for (unsigned i = 0; i < 8; i++) {
        unsigned b = rev8[(bits >> (8 * i)) & 0xFF];

        out[2 * i] = (uint8_t)hex_upper[b >> 4];
        out[2 * i + 1] = (uint8_t)hex_upper[b & 15];
    }
    if (enc == BS_ISO_BITMAP_HEX_EBCDIC)
        for (unsigned i = 0; i < 16; i++)
            out[i] = bs__iso_a2e[out[i]];
    return 16;
}

/* ---- MTI ------------------------------------------------------------------------------- */

static int mti_read(const struct bs_iso_dialect *d, const uint8_t *in, size_t n, size_t *pos,
                    char mti[5], struct bs_iso_error *err)
{
    size_t w = d->mti_enc == BS_ISO_ENC_BCD ? 2 : 4;
    const uint8_t *p = in + *pos;
    unsigned bad = 0;

    if (n - *pos < w) {
        bs__iso_err(err, 0, -1, *pos, "truncated MTI: need %zu bytes, %zu left", w, n - *pos);
        return BS_EFORMAT;
    }
    switch (d->mti_enc) {
    case BS_ISO_ENC_BCD:
        for (unsigned i = 0; i < 2; i++) {
            unsigned hi = p[i] >> 4, lo = p[i] & 15;

            bad |= (hi > 9) | (lo > 9);
            mti[2 * i] = (char)('0' + hi);
            mti[2 * i + 1] = (char)('0' + lo);
        }
        break;
    case BS_ISO_ENC_EBCDIC:
        for (unsigned i = 0; i < 4; i++) {
            bad |= (unsigned)(p[i] - 0xF0) > 9;
            mti[i] = (char)('0' + (p[i] & 15));
        }
        break;
    default:
        for (unsigned i = 0; i < 4; i++) {
            bad |= (unsigned)(p[i] - '0') > 9;
            mti[i] = (char)p[i];
        }
        break;
    }
    if (bad) {
        bs__iso_err(err, 0, -1, *pos, "MTI is not four digits");
        return BS_EFORMAT;
    }
    mti[4] = '\0';
    *pos += w;
    return 0;
}

static int mti_write(const struct bs_iso_dialect *d, const char *mti, uint8_t *out, size_t cap,
                     size_t *pos, struct bs_iso_error *err)
{
    size_t w = d->mti_enc == BS_ISO_ENC_BCD ? 2 : 4;
    uint8_t *p = out + *pos;
    unsigned bad = 0;

    for (unsigned i = 0; i < 4; i++)
        bad |= (unsigned)(mti[i] - '0') > 9;
    if (bad) {
        bs__iso_err(err, 0, -1, *pos, "MTI is not four digits");
        return BS_EFORMAT;
    }
    if (cap - *pos < w) {
        bs__iso_err(err, 0, -1, *pos, "output buffer too small");
        return BS_ENOSPC;
    }
    switch (d->mti_enc) {
    case BS_ISO_ENC_BCD:
        p[0] = (uint8_t)((mti[0] - '0') << 4 | (mti[1] - '0'));
        p[1] = (uint8_t)((mti[2] - '0') << 4 | (mti[3] - '0'));
        break;
    case BS_ISO_ENC_EBCDIC:
        for (unsigned i = 0; i < 4; i++)
            p[i] = (uint8_t)(0xF0 | (mti[i] - '0'));
        break;
    default:
        memcpy(p, mti, 4);
        break;
    }
    *pos += w;
    return 0;
}

/* ---- length prefixes ------------------------------------------------------------------- */

/* Describe prefix bytes for an error: the characters when printable, else hex. */
static void prefix_text(const struct bs__iso_fd *f, const uint8_t *p, char *buf, size_t cap)
{
    size_t k = 0;
    bool printable = f->prefix_enc == BS_ISO_ENC_ASCII || f->prefix_enc == BS_ISO_ENC_EBCDIC;

    for (unsigned i = 0; i < f->prefix_bytes && printable; i++) {
        uint8_t c = f->prefix_enc == BS_ISO_ENC_EBCDIC ? bs__iso_e2a[p[i]] : p[i];

        printable = c >= 0x20 && c < 0x7F && c != '"';
    }
    for (unsigned i = 0; i < f->prefix_bytes && k + 3 < cap; i++) {
        uint8_t c = f->prefix_enc == BS_ISO_ENC_EBCDIC ? bs__iso_e2a[p[i]] : p[i];

        if (printable) {
            buf[k++] = (char)c;
        } else {
            buf[k++] = hex_upper[p[i] >> 4];
            buf[k++] = hex_upper[p[i] & 15];
        }
    }
    buf[k] = '\0';
}

static int prefix_read(const struct bs__iso_fd *f, const uint8_t *p, uint32_t *ret)
{
    uint32_t v = 0;
    unsigned bad = 0;

    switch (f->prefix_enc) {
    case BS_ISO_ENC_ASCII:
        for (unsigned i = 0; i < f->prefix_bytes; i++) {
            unsigned c = (unsigned)p[i] - '0';

            bad |= c > 9;
            v = v * 10 + c;
        }
        break;
    case BS_ISO_ENC_EBCDIC:
        for (unsigned i = 0; i < f->prefix_bytes; i++) {
            unsigned c = (unsigned)p[i] - 0xF0;

            bad |= c > 9;
            v = v * 10 + c;
        }
        break;
    case BS_ISO_ENC_BCD:
        for (unsigned i = 0; i < f->prefix_bytes; i++) {
            unsigned hi = p[i] >> 4, lo = p[i] & 15;

            bad |= (hi > 9) | (lo > 9);
            v = v * 100 + hi * 10 + lo;
        }
        break;
    default:
        for (unsigned i = 0; i < f->prefix_bytes; i++)
            v = v << 8 | p[i];
        break;
    }
    if (bad)
        return BS_EFORMAT;
    *ret = v;
    return 0;
}

static void prefix_write(const struct bs__iso_fd *f, uint32_t v, uint8_t *p)
{
    switch (f->prefix_enc) {
    case BS_ISO_ENC_ASCII:
    case BS_ISO_ENC_EBCDIC: {
        uint8_t zero = f->prefix_enc == BS_ISO_ENC_ASCII ? '0' : 0xF0;

        for (unsigned i = f->prefix_bytes; i-- > 0;) {
            p[i] = (uint8_t)(zero + v % 10);
            v /= 10;
        }
        break;
    }
    case BS_ISO_ENC_BCD:
        for (unsigned i = f->prefix_bytes; i-- > 0;) {
            p[i] = (uint8_t)((v / 10 % 10) << 4 | v % 10);
            v /= 100;
        }
        break;
    default:
        for (unsigned i = f->prefix_bytes; i-- > 0;) {
            p[i] = (uint8_t)(v & 0xFF);
            v >>= 8;
        }
        break;
    }
}

/* ---- character checks -------------------------------------------------------------------- */

static inline uint32_t load32(const uint8_t *p)
{
    uint32_t x;

    memcpy(&x, p, 4);
    return x;
}

static inline __attribute__((always_inline)) bool all_digits(const uint8_t *v, size_t n)
{
    uint64_t bad = 0;
    size_t i = 0;

    /* Overlapping loads cover the tails, so every length takes a few word steps. */
    if (n >= 8) {
        for (; i + 8 <= n; i += 8)
            bad |= nondigits8(load64(v + i));
        if (i < n)
            bad |= nondigits8(load64(v + n - 8));
        return bad == 0;
    }
    if (n >= 4)
        return nondigits8((uint64_t)load32(v) << 32 | load32(v + n - 4)) == 0;
    for (; i < n; i++)
        bad |= (unsigned)(uint8_t)(v[i] - '0') > 9;
    return bad == 0;
}

/*
 * memcpy for the short values that make up most fields: overlapping word moves instead
 * of a library call. @dst and @src do not overlap.
 */
static inline __attribute__((always_inline)) void copy_bytes(uint8_t *dst, const uint8_t *src,
                                                             size_t n)
{
    if (n >= 8 && n <= 16) {
        uint64_t a = load64(src), b = load64(src + n - 8);

        memcpy(dst, &a, 8);
        memcpy(dst + n - 8, &b, 8);
    } else if (n >= 4 && n < 8) {
        uint32_t a = load32(src), b = load32(src + n - 4);

        memcpy(dst, &a, 4);
        memcpy(dst + n - 4, &b, 4);
    } else if (n < 4) {
        for (size_t i = 0; i < n; i++)
            dst[i] = src[i];
    } else {
        memcpy(dst, src, n);
    }
}

/* The high bit of every zero byte of @x (exact: no false positives). */
static inline uint64_t zero_bytes8(uint64_t x)
{
    uint64_t t = (x & ~HIGHS) + ~HIGHS;

    return ~(t | x | ~HIGHS);
}

/* Track 2/3 content (ISO 7813): digits and the field separator, '=' or 'D'. */
static inline bool all_track(const uint8_t *v, size_t n)
{
    uint64_t bad = 0;
    size_t i = 0;

    for (; i + 8 <= n; i += 8) {
        uint64_t x = load64(v + i);

        bad |= nondigits8(x) & ~(zero_bytes8(x ^ (ONES * '=')) | zero_bytes8(x ^ (ONES * 'D')));
    }
    for (; i < n; i++)
        bad |= !((unsigned)(v[i] - '0') <= 9 || v[i] == '=' || v[i] == 'D');
    return bad == 0;
}

/* Printable text for a/an/ans (ISO 8583): every byte but controls (< 0x20) and DEL. */
static inline bool all_text(const uint8_t *v, size_t n)
{
    uint64_t bad = 0;
    size_t i = 0;

    for (; i + 8 <= n; i += 8) {
        uint64_t x = load64(v + i);

        /* A byte below 0x20 (exact as a whole-word test), or a byte equal to 0x7f. */
        bad |= ((x - ONES * 0x20) & ~x & HIGHS) | zero_bytes8(x ^ (ONES * 0x7f));
    }
    for (; i < n; i++)
        bad |= v[i] < 0x20 || v[i] == 0x7f;
    return bad == 0;
}

static size_t first_nontext(const uint8_t *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] < 0x20 || v[i] == 0x7f)
            return i;
    return n;
}

/* Index of the first non-digit in @v, or @n (error paths). */
static size_t first_nondigit(const uint8_t *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned)(v[i] - '0') > 9)
            return i;
    return n;
}

/* Track 2/3 content (ISO 7813): digits and the field separator, '=' or 'D'. */
static inline bool track_char(uint8_t c)
{
    return (unsigned)(c - '0') <= 9 || c == '=' || c == 'D';
}

static size_t first_nontrack(const uint8_t *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!track_char(v[i]))
            return i;
    return n;
}

/* Index of the first byte breaking @check, or @n. */
static inline __attribute__((always_inline)) size_t check_chars(unsigned check, const uint8_t *v,
                                                                size_t n)
{
    if (check == BS__CHECK_DIGITS)
        return all_digits(v, n) ? n : first_nondigit(v, n);
    if (check == BS__CHECK_TRACK)
        return all_track(v, n) ? n : first_nontrack(v, n);
    if (check == BS__CHECK_TEXT)
        return all_text(v, n) ? n : first_nontext(v, n);
    return n;
}

/* What a byte that breaks @check is, for error messages. */
static const char *bad_char_text(unsigned check)
{
    return check == BS__CHECK_TRACK  ? "non-track character in a z field"
           : check == BS__CHECK_TEXT ? "control character (below 0x20, or 0x7f) in a text field"
                                     : "non-digit in an n field";
}

/* ---- BCD --------------------------------------------------------------------------------- */

/*
 * Unpack @digits digits from @wire bytes of BCD at @p into @dst. With an odd digit count
 * the pad nibble sits on the left or right and must equal the dialect's (ISO 8583 leaves
 * it to the network; pyiso8583 #6, moov-io #327). Track nibble D becomes '='.
 * Return: 0, or the 1-based nibble position of a bad nibble, negated for a bad pad.
 */
static long bcd_unpack(const struct bs__iso_fd *f, const uint8_t *p, size_t wire, size_t digits,
                       uint8_t *dst)
{
    bool track = f->dkind == BS__DK_BCD_TRACK;
    size_t nib = 2 * wire, k = 0;

    if (digits & 1) {
        unsigned pad = f->pad_left ? p[0] >> 4 : p[wire - 1] & 15;

        if (pad != f->pad_nibble)
            return -(long)(f->pad_left ? 1 : nib);
    }
    for (size_t i = 0; i < nib; i++) {
        unsigned v = (i & 1) ? p[i >> 1] & 15 : p[i >> 1] >> 4;

        if ((digits & 1) && (f->pad_left ? i == 0 : i == nib - 1))
            continue;
        if (v <= 9)
            dst[k++] = (uint8_t)('0' + v);
        else if (track && v == 0xD)
            dst[k++] = '=';
        else
            return (long)i + 1;
    }
    return 0;
}

#if BS_ISO_SWAR
/* Four BCD bytes (little-endian in @b) to eight digit values 0..15, one per byte. */
static inline uint64_t bcd_spread4(uint32_t b)
{
    uint64_t x = b;

    x = (x | x << 16) & UINT64_C(0x0000FFFF0000FFFF);
    x = (x | x << 8) & UINT64_C(0x00FF00FF00FF00FF);
    return ((x >> 4) & UINT64_C(0x000F000F000F000F)) | ((x & UINT64_C(0x000F000F000F000F)) << 8);
}
#endif

/* Fast path for the common case: even digit count, numeric. Return: all nibbles valid. */
static inline bool bcd_unpack_even(const uint8_t *p, size_t wire, uint8_t *dst)
{
    unsigned bad = 0;
    size_t i = 0;

#if BS_ISO_SWAR
    if (wire >= 4) {
        uint64_t badw = 0, x;

        /* Four bytes at a time; the last step overlaps the previous one and rewrites the
         * same digits. */
        for (;;) {
            size_t at = i + 4 <= wire ? i : wire - 4;

            x = bcd_spread4(load32(p + at));
            badw |= (x + ONES * 6) & (ONES * 0xF0);
            x += ONES * '0';
            memcpy(dst + 2 * at, &x, 8);
            i += 4;
            if (at + 4 >= wire)
                break;
        }
        return badw == 0;
    }
#endif
    for (; i < wire; i++) {
        unsigned hi = p[i] >> 4, lo = p[i] & 15;

        bad |= (hi > 9) | (lo > 9);
        dst[2 * i] = (uint8_t)('0' + hi);
        dst[2 * i + 1] = (uint8_t)('0' + lo);
    }
    return bad == 0;
}

#if BS_ISO_SWAR
/* Eight validated ASCII digits to four BCD bytes: pair each digit with its right
 * neighbour, then keep the even bytes. Subtracting '0' never borrows. */
static inline uint32_t bcd_pack8(uint64_t x)
{
    x -= ONES * '0';
    x = (x << 4 | x >> 8) & UINT64_C(0x00FF00FF00FF00FF);
    x = (x | x >> 8) & UINT64_C(0x0000FFFF0000FFFF);
    return (uint32_t)((x | x >> 16) & UINT64_C(0xFFFFFFFF));
}
#endif

/* Pack @n (even) validated ASCII digits into n / 2 BCD bytes. */
static inline void bcd_pack_even(const uint8_t *v, size_t n, uint8_t *out)
{
    size_t i = 0;

#if BS_ISO_SWAR
    if (n >= 8) {
        /* The last step overlaps the previous one and rewrites the same bytes. */
        for (;;) {
            size_t at = i + 8 <= n ? i : n - 8;
            uint32_t b = bcd_pack8(load64(v + at));

            memcpy(out + at / 2, &b, 4);
            i += 8;
            if (at + 8 >= n)
                return;
        }
    }
#endif
    for (; i < n; i += 2)
        out[i >> 1] = (uint8_t)((v[i] - '0') << 4 | (v[i + 1] - '0'));
}

/*
 * Numeric BCD with no bad nibble and a correct pad: the common case, word at a time.
 * Return false for anything else; bcd_unpack() then finds and names the problem.
 */
static inline bool bcd_unpack_fast(const struct bs__iso_fd *f, const uint8_t *p, size_t wire,
                                   size_t digits, uint8_t *dst)
{
    unsigned hi, lo;

    if (f->dkind != BS__DK_BCD_DIGITS)
        return false;
    if (!(digits & 1))
        return bcd_unpack_even(p, wire, dst);
    if (f->pad_left) {
        hi = p[0] >> 4;
        lo = p[0] & 15;
        dst[0] = (uint8_t)('0' + lo);
        return hi == f->pad_nibble && lo <= 9 && bcd_unpack_even(p + 1, wire - 1, dst + 1);
    }
    hi = p[wire - 1] >> 4;
    lo = p[wire - 1] & 15;
    dst[digits - 1] = (uint8_t)('0' + hi);
    return lo == f->pad_nibble && hi <= 9 && bcd_unpack_even(p, wire - 1, dst);
}

/* BCD track data (z): digits and nibble D for the separator '='; false on anything else
 * or a wrong pad, for bcd_unpack() to word. */
static inline bool bcd_track_fast(const struct bs__iso_fd *f, const uint8_t *p, size_t wire,
                                  size_t digits, uint8_t *dst)
{
    static const uint8_t ch[16] = { '0', '1', '2', '3', '4', '5', '6', '7',
                                    '8', '9', 0,   0,   0,   '=', 0,   0 };
    size_t nib = 2 * wire, first = 0, k = 0;
    unsigned ok = 1;

    if (digits & 1) {
        if ((f->pad_left ? p[0] >> 4 : p[wire - 1] & 15) != f->pad_nibble)
            return false;
        first = f->pad_left;
        nib--;
    }
    for (size_t i = first; i < first + nib; i++) {
        uint8_t c = ch[(i & 1) ? p[i >> 1] & 15 : p[i >> 1] >> 4];

        ok &= c != 0;
        dst[k++] = c;
    }
    return ok;
}

static inline unsigned digit_nibble(uint8_t c)
{
    return (c == '=' || c == 'D') ? 0xD : (unsigned)(c - '0');
}

/*
 * Pack @zeros '0' digits followed by @n digits of @v as BCD into @out (ceil(total / 2)
 * bytes), padding an odd total with the dialect's nibble on its side.
 */
static inline void bcd_pack(const struct bs__iso_fd *f, size_t zeros, const uint8_t *v, size_t n,
                            uint8_t *out)
{
    size_t total = zeros + n, nib = total + (total & 1), k = 0;
    bool lead_pad = (total & 1) && f->pad_left;

    if (zeros == 0 && f->dkind == BS__DK_BCD_TRACK) {
        size_t i = 0;

        if (lead_pad) {
            *out++ = (uint8_t)(f->pad_nibble << 4 | digit_nibble(v[0]));
            i = 1;
        }
        for (; i + 1 < n; i += 2)
            *out++ = (uint8_t)(digit_nibble(v[i]) << 4 | digit_nibble(v[i + 1]));
        if (i < n)
            *out = (uint8_t)(digit_nibble(v[i]) << 4 | f->pad_nibble);
        return;
    }
    if (zeros == 0 && f->dkind == BS__DK_BCD_DIGITS) {
        if (!(total & 1)) {
            bcd_pack_even(v, n, out);
        } else if (lead_pad) {
            out[0] = (uint8_t)(f->pad_nibble << 4 | (v[0] - '0'));
            bcd_pack_even(v + 1, n - 1, out + 1);
        } else {
            bcd_pack_even(v, n - 1, out);
            out[n / 2] = (uint8_t)((v[n - 1] - '0') << 4 | f->pad_nibble);
        }
        return;
    }
    for (size_t i = 0; i < nib; i++) {
        unsigned x;

        if ((total & 1) && (lead_pad ? i == 0 : i == nib - 1))
            x = f->pad_nibble;
        else if (k < zeros)
            x = 0, k++;
        else
            x = digit_nibble(v[k++ - zeros]);
        if (i & 1)
            out[i >> 1] |= (uint8_t)x;
        else
            out[i >> 1] = (uint8_t)(x << 4);
    }
}

/* ---- one field ------------------------------------------------------------------------- */

/*
 * Decode one field at *@ppos into the storage at *@pused. Position and fill level are
 * passed in and out by the caller's locals, and the descriptor is copied: the byte
 * stores below could otherwise alias them, forcing a reload after every store.
 */
static __attribute__((noinline)) int unpack_one(const struct bs__iso_fd *fp, unsigned de,
                                                const uint8_t *in, size_t n, size_t *ppos,
                                                size_t base, struct bs_iso_msg *m, size_t *pused,
                                                struct bs_iso_error *err)
{
    const struct bs__iso_fd fl = *fp, *f = &fl;
    size_t pos = *ppos, start = pos, len, wire, used = *pused;
    uint8_t *dst;

    if (f->len_digits) {
        uint32_t v;

        if (n - pos < f->prefix_bytes) {
            bs__iso_err(err, (int)de, -1, base + start,
                        "truncated length prefix: need %u bytes, %zu left", f->prefix_bytes,
                        n - pos);
            return BS_EFORMAT;
        }
        if (prefix_read(f, in + pos, &v) < 0) {
            char t[16];

            prefix_text(f, in + pos, t, sizeof(t));
            bs__iso_err(err, (int)de, -1, base + start, "length prefix \"%s\" is %s", t,
                        t[0] == '-' ? "negative" : "not numeric");
            return BS_EFORMAT;
        }
        pos += f->prefix_bytes;
        if (v > f->max_prefix) {
            bs__iso_err(err, (int)de, -1, base + start, "length exceeds maximum: %u > %u", v,
                        f->max_prefix);
            return BS_EFORMAT;
        }
        if (!f->bcd) {
            len = wire = v;
        } else if (!f->bcd_bytes) {
            len = v;
            wire = (v + 1) / 2;
        } else {
            wire = v;
            len = 2 * (size_t)v;
            /* Only an F pad is recognisable under a byte count; a 0 pad stays a digit. */
            if (v > 0 && wire <= n - pos && f->pad_nibble == 0xF &&
                (f->pad_left ? in[pos] >> 4 : in[pos + wire - 1] & 15) == 0xF)
                len--;
        }
    } else {
        len = f->size;
        wire = f->fixed_wire;
    }
    if (wire > n - pos) {
        bs__iso_err(err, (int)de, -1, base + start,
                    "length exceeds the bytes left: field needs %zu, %zu left", wire, n - pos);
        return BS_EFORMAT;
    }
    if (len > BS_ISO_MSG_DATA_MAX - used) {
        bs__iso_err(err, (int)de, -1, base + start, "message values exceed %u bytes",
                    BS_ISO_MSG_DATA_MAX);
        return BS_ELIMIT;
    }
    dst = m->data + used;
    const uint8_t *src = in + pos;
    size_t bad = len;

    if (len < f->min_value) {
        bs__iso_err(err, (int)de, -1, base + start,
                    "length %zu is below the minimum %u of this field", len, f->min_value);
        return BS_EFORMAT;
    }
    switch (f->dkind) {
    case BS__DK_COPY:
        bad = check_chars(f->check, src, len);
        copy_bytes(dst, src, len);
        break;
    case BS__DK_ASCII_DIGITS:
    case BS__DK_ASCII_TRACK:
        bad = check_chars(f->check, src, len);
        copy_bytes(dst, src, len);
        break;
    case BS__DK_EBCDIC:
        for (size_t i = 0; i < len; i++)
            dst[i] = bs__iso_e2a[src[i]];
        bad = check_chars(f->check, dst, len);
        break;
    case BS__DK_EBCDIC_DIGITS:
    case BS__DK_EBCDIC_TRACK:
        for (size_t i = 0; i < len; i++)
            dst[i] = bs__iso_e2a[src[i]];
        bad = check_chars(f->check, dst, len);
        break;
    case BS__DK_BCD_DIGITS:
    case BS__DK_BCD_TRACK:
    default: {
        long r;

        r = bcd_unpack_fast(f, src, wire, len, dst) ? 0 : bcd_unpack(f, src, wire, len, dst);
        if (r > 0) {
            unsigned nibble = (r - 1) & 1 ? src[(r - 1) >> 1] & 15 : src[(r - 1) >> 1] >> 4;

            bs__iso_err(err, (int)de, -1, base + start,
                        "bad BCD nibble %X at data byte %ld of a%s field", nibble, (r - 1) / 2,
                        f->dkind == BS__DK_BCD_TRACK ? " track" : " numeric");
            return BS_EFORMAT;
        }
        if (r < 0) {
            long at = -r - 1;
            unsigned nibble = at & 1 ? src[at >> 1] & 15 : src[at >> 1] >> 4;

            bs__iso_err(err, (int)de, -1, base + start, "bad pad nibble %X, expected %X", nibble,
                        f->pad_nibble);
            return BS_EFORMAT;
        }
        break;
    }
    }
    if (bad != len) {
        bs__iso_err(err, (int)de, -1, base + start, "%s at data byte %zu", bad_char_text(f->check),
                    bad);
        return BS_EFORMAT;
    }
    m->off[de] = (uint16_t)used;
    m->len[de] = (uint16_t)len;
    m->wire_off[de] = (uint16_t)(base + start);
    *pused = used + len;
    *ppos = pos + wire;
    return 0;
}

/* A length prefix in ASCII or BCD (the fast kinds); false when not all digits. */
static inline __attribute__((always_inline)) bool prefix_fast(const struct bs__iso_fd *f,
                                                              const uint8_t *p, uint32_t *ret)
{
    uint32_t v = 0;
    unsigned bad = 0;

    if (f->prefix_enc == BS_ISO_ENC_ASCII) {
        for (unsigned i = 0; i < f->prefix_bytes; i++) {
            unsigned c = (unsigned)p[i] - '0';

            bad |= c > 9;
            v = v * 10 + c;
        }
    } else {
        for (unsigned i = 0; i < f->prefix_bytes; i++) {
            unsigned hi = p[i] >> 4, lo = p[i] & 15;

            bad |= (hi > 9) | (lo > 9);
            v = v * 100 + hi * 10 + lo;
        }
    }
    *ret = v;
    return bad == 0;
}

/*
 * The decode loop. Fields of the common kinds (enum bs__iso_fast) take a short path that
 * only decides "fine" or "not fine"; anything unusual, including every error, goes to
 * unpack_one(), which handles all kinds and words the error. The split keeps the hot
 * loop small enough to live in registers.
 */
int bs__iso_unpack_fields(const struct bs_iso_dialect *d, const uint64_t present[3],
                          const uint8_t *in, size_t n, size_t *pos, size_t base,
                          struct bs_iso_msg *m, int *last_de, struct bs_iso_error *err)
{
    size_t p = *pos, used = m->used;
    int last = *last_de, r = 0;

    for (unsigned w = 0; w < 3 && r == 0; w++) {
        uint64_t bits = present[w];

        while (bits) {
            unsigned de = w * 64 + (unsigned)__builtin_ctzll(bits) + 1;
            const struct bs__iso_fd *f = &d->fd[de];
            unsigned fast = f->fast;
            size_t len, wire, at = p;
            uint8_t *dst;

            bits &= bits - 1;
            if (fast >= BS__FAST_VAR_COPY) {
                uint32_t v;

                if (n - p < f->prefix_bytes || !prefix_fast(f, in + p, &v) || v > f->max_prefix)
                    goto slow;
                at = p + f->prefix_bytes;
                len = v;
                wire = fast >= BS__FAST_VAR_BCD ? (v + 1) / 2 : v;
            } else if (fast != BS__FAST_NONE) {
                len = f->size;
                wire = f->fixed_wire;
            } else {
                goto slow;
            }
            if (wire > n - at || len > BS_ISO_MSG_DATA_MAX - used)
                goto slow;
            if (len < f->min_value)
                goto slow;
            dst = m->data + used;
            switch (fast) {
            case BS__FAST_FIX_COPY:
            case BS__FAST_VAR_COPY:
                copy_bytes(dst, in + at, len);
                break;
            case BS__FAST_FIX_TEXT:
            case BS__FAST_VAR_TEXT:
                if (!all_text(in + at, len))
                    goto slow;
                copy_bytes(dst, in + at, len);
                break;
            case BS__FAST_FIX_DIGITS:
            case BS__FAST_VAR_DIGITS:
                if (!all_digits(in + at, len))
                    goto slow;
                copy_bytes(dst, in + at, len);
                break;
            case BS__FAST_VAR_TRACK:
                if (!all_track(in + at, len))
                    goto slow;
                copy_bytes(dst, in + at, len);
                break;
            case BS__FAST_VAR_BCD_TRACK:
                if (!bcd_track_fast(f, in + at, wire, len, dst))
                    goto slow;
                break;
            default: /* BS__FAST_FIX_BCD, BS__FAST_VAR_BCD */
                if (!bcd_unpack_fast(f, in + at, wire, len, dst))
                    goto slow;
                break;
            }
            m->off[de] = (uint16_t)used;
            m->len[de] = (uint16_t)len;
            m->wire_off[de] = (uint16_t)(base + p);
            used += len;
            p = at + wire;
            last = (int)de;
            continue;
        slow:
            if (!f->defined) {
                bs__iso_err(err, (int)de, -1, base + p,
                            "bit set for a DE the dialect does not define");
                r = BS_EFORMAT;
                break;
            }
            r = unpack_one(f, de, in, n, &p, base, m, &used, err);
            if (r < 0)
                break;
            last = (int)de;
        }
    }
    *pos = p;
    *last_de = last;
    m->used = (uint16_t)used;
    return r;
}

int bs_iso_unpack(const struct bs_iso_dialect *d, const uint8_t *in, size_t n, struct bs_iso_msg *m,
                  struct bs_iso_error *err)
{
    uint64_t present[3] = { 0, 0, 0 };
    const char *why;
    size_t pos = 0, w;
    int last = 1, r;

    if (!d || !m || (!in && n))
        return BS_EINVAL;
    /* wire_off is 16 bits; no valid message is this long (values fit in 8 KB). */
    if (n > UINT16_MAX) {
        bs__iso_err(err, -1, -1, 0, "message of %zu bytes exceeds %u", n, UINT16_MAX);
        return BS_ELIMIT;
    }
    m->used = 0;
    m->present[0] = m->present[1] = m->present[2] = 0;
    if (d->header_len) {
        if (n < d->header_len) {
            bs__iso_err(err, 0, -1, 0, "truncated header: need %u bytes, %zu present",
                        d->header_len, n);
            return BS_EFORMAT;
        }
        memcpy(m->header, in, d->header_len);
    }
    m->header_len = d->header_len;
    pos = d->header_len;
    r = mti_read(d, in, n, &pos, m->mti, err);
    if (r < 0)
        return r;

    r = bs__iso_bitmap_read(d->bitmap_enc, in, n, pos, &present[0], &w, &why);
    if (r < 0) {
        bs__iso_err(err, 1, -1, pos, "%s", why);
        return r;
    }
    pos += w;
    if (present[0] & 1) {
        m->wire_off[1] = (uint16_t)pos;
        r = bs__iso_bitmap_read(d->bitmap_enc, in, n, pos, &present[1], &w, &why);
        if (r < 0) {
            bs__iso_err(err, 1, -1, pos, "secondary bitmap: %s", why);
            return r;
        }
        pos += w;
        if (d->tertiary && (present[1] & 1)) {
            r = bs__iso_bitmap_read(d->bitmap_enc, in, n, pos, &present[2], &w, &why);
            if (r < 0) {
                bs__iso_err(err, 1, -1, pos, "tertiary bitmap: %s", why);
                return r;
            }
            pos += w;
            present[1] &= ~UINT64_C(1);
        }
        present[0] &= ~UINT64_C(1);
    }
    r = bs__iso_unpack_fields(d, present, in, n, &pos, 0, m, &last, err);
    if (r < 0)
        return r;
    if (pos != n) {
        /* Named after the last element decoded, as pyiso8583 does: it is where the
         * sender's idea of the layout and ours parted. */
        bs__iso_err(err, last, -1, pos, "extra data after last field: %zu bytes", n - pos);
        return BS_EFORMAT;
    }
    m->present[0] = present[0];
    m->present[1] = present[1];
    m->present[2] = present[2];
    return 0;
}

/* ---- pack -------------------------------------------------------------------------------- */

static __attribute__((noinline)) int pack_one(const struct bs__iso_fd *fp, unsigned de,
                                              const uint8_t *v, size_t n, uint8_t *out, size_t cap,
                                              size_t *ppos, struct bs_iso_error *err)
{
    const struct bs__iso_fd fl = *fp, *f = &fl; /* a copy: stores to @out cannot alias it */
    size_t pos = *ppos, pad = 0, wire, bad = n;
    uint8_t *p;

    bad = check_chars(f->check, v, n);
    if (bad != n) {
        bs__iso_err(err, (int)de, -1, pos, "%s at value byte %zu", bad_char_text(f->check), bad);
        return BS_EFORMAT;
    }
    if (!f->len_digits) {
        if (n > f->size) {
            bs__iso_err(err, (int)de, -1, pos, "value of %zu exceeds the fixed size %u", n,
                        f->size);
            return BS_EFORMAT;
        }
        pad = f->size - n;
        /* Numbers pad with zeros and text with the pad character; bytes and track data
         * have no neutral filler, so a short value there is a caller bug. */
        if (pad && (f->check == BS__CHECK_TRACK || f->binary)) {
            bs__iso_err(err, (int)de, -1, pos, "value of %zu is short of the fixed size %u", n,
                        f->size);
            return BS_EFORMAT;
        }
        wire = f->fixed_wire;
        if (cap - pos < wire) {
            bs__iso_err(err, (int)de, -1, pos, "output buffer too small");
            return BS_ENOSPC;
        }
    } else {
        uint32_t pv;

        if (n > f->max_value) {
            bs__iso_err(err, (int)de, -1, pos, "length exceeds maximum: %zu > %u", n, f->max_value);
            return BS_EFORMAT;
        }
        if (n < f->min_value) {
            bs__iso_err(err, (int)de, -1, pos, "length %zu is below the minimum %u of this field",
                        n, f->min_value);
            return BS_EFORMAT;
        }
        wire = f->bcd ? (n + 1) / 2 : n;
        pv = (uint32_t)(f->bcd && !f->bcd_bytes ? n : wire);
        if (cap - pos < f->prefix_bytes || cap - pos - f->prefix_bytes < wire) {
            bs__iso_err(err, (int)de, -1, pos, "output buffer too small");
            return BS_ENOSPC;
        }
        prefix_write(f, pv, out + pos);
        pos += f->prefix_bytes;
    }
    p = out + pos;
    switch (f->dkind) {
    case BS__DK_COPY:
    case BS__DK_ASCII_DIGITS:
    case BS__DK_ASCII_TRACK:
        if (!pad) {
            copy_bytes(p, v, n);
        } else if (f->check == BS__CHECK_DIGITS) {
            memset(p, '0', pad);
            memcpy(p + pad, v, n);
        } else if (f->justify_right) {
            memset(p, f->pad_char, pad);
            memcpy(p + pad, v, n);
        } else {
            memcpy(p, v, n);
            memset(p + n, f->pad_char, pad);
        }
        break;
    case BS__DK_EBCDIC:
    case BS__DK_EBCDIC_DIGITS:
    case BS__DK_EBCDIC_TRACK: {
        uint8_t pc = f->check == BS__CHECK_DIGITS ? 0xF0 : bs__iso_a2e[f->pad_char];
        size_t lead = (f->check == BS__CHECK_DIGITS || f->justify_right) ? pad : 0;

        memset(p, pc, lead);
        for (size_t i = 0; i < n; i++)
            p[lead + i] = bs__iso_a2e[v[i]];
        memset(p + lead + n, pc, pad - lead);
        break;
    }
    case BS__DK_BCD_DIGITS:
    case BS__DK_BCD_TRACK:
    default:
        bcd_pack(f, pad, v, n, p);
        break;
    }
    *ppos = pos + wire;
    return 0;
}

static unsigned first_bit(const uint64_t b[3])
{
    for (unsigned w = 0; w < 3; w++)
        if (b[w])
            return w * 64 + (unsigned)__builtin_ctzll(b[w]) + 1;
    return 0;
}

int bs__iso_pack_fields(const struct bs_iso_dialect *d, const struct bs_iso_msg *m,
                        const uint64_t present[3], uint8_t *out, size_t cap, size_t *pos,
                        struct bs_iso_error *err)
{
    uint64_t undef[3];

    for (unsigned w = 0; w < 3; w++)
        undef[w] = present[w] & ~d->defined[w];
    if (undef[0] | undef[1] | undef[2]) {
        bs__iso_err(err, (int)first_bit(undef), -1, *pos, "the dialect does not define this DE");
        return BS_EFORMAT;
    }
    size_t p = *pos;

    /* Fast kinds first, as in bs__iso_unpack_fields(); pack_one() handles the rest,
     * including padding short fixed values and every error. */
    for (unsigned w = 0; w < 3; w++) {
        uint64_t bits = present[w];

        while (bits) {
            unsigned de = w * 64 + (unsigned)__builtin_ctzll(bits) + 1;
            const struct bs__iso_fd *f = &d->fd[de];
            const uint8_t *v = m->data + m->off[de];
            size_t n = m->len[de], wire, room = cap - p;
            unsigned fast = f->fast;
            uint8_t *o = out + p;
            int r;

            bits &= bits - 1;
            if (fast >= BS__FAST_VAR_COPY) {
                uint32_t pv;

                if (n > f->max_value || n < f->min_value)
                    goto slow;
                wire = fast >= BS__FAST_VAR_BCD ? (n + 1) / 2 : n;
                if (room < f->prefix_bytes + wire)
                    goto slow;
                pv = (uint32_t)n;
                if (f->prefix_enc == BS_ISO_ENC_ASCII) {
                    for (unsigned i = f->prefix_bytes; i-- > 0;) {
                        o[i] = (uint8_t)('0' + pv % 10);
                        pv /= 10;
                    }
                } else {
                    for (unsigned i = f->prefix_bytes; i-- > 0;) {
                        o[i] = (uint8_t)((pv / 10 % 10) << 4 | pv % 10);
                        pv /= 100;
                    }
                }
                o += f->prefix_bytes;
            } else if (fast != BS__FAST_NONE) {
                wire = f->fixed_wire;
                if (n != f->size || room < wire)
                    goto slow;
            } else {
                goto slow;
            }
            switch (fast) {
            case BS__FAST_FIX_COPY:
            case BS__FAST_VAR_COPY:
                break;
            case BS__FAST_FIX_TEXT:
            case BS__FAST_VAR_TEXT:
                if (!all_text(v, n))
                    goto slow;
                break;
            case BS__FAST_VAR_TRACK:
            case BS__FAST_VAR_BCD_TRACK:
                if (!all_track(v, n))
                    goto slow;
                break;
            default:
                if (!all_digits(v, n))
                    goto slow;
                break;
            }
            if (fast == BS__FAST_FIX_BCD || fast >= BS__FAST_VAR_BCD)
                bcd_pack(f, 0, v, n, o);
            else
                copy_bytes(o, v, n);
            p = (size_t)(o - out) + wire;
            continue;
        slow:
            r = pack_one(f, de, v, n, out, cap, &p, err);
            if (r < 0)
                return r;
        }
    }
    *pos = p;
    return 0;
}

int bs_iso_pack(const struct bs_iso_dialect *d, const struct bs_iso_msg *m, uint8_t *out,
                size_t cap, size_t *ret_len, struct bs_iso_error *err)
{
    uint64_t present[3];
    size_t pos = 0, bw;
    bool sec, ter;
    int r;

    if (!d || !m || !out || !ret_len)
        return BS_EINVAL;
    present[0] = m->present[0] & ~UINT64_C(1);
    present[1] = m->present[1];
    present[2] = m->present[2];
    if (present[2] && !d->tertiary) {
        bs__iso_err(err, (int)first_bit((uint64_t[3]){ 0, 0, present[2] }), -1, 0,
                    "DEs above 128 need a tertiary bitmap, which the dialect does not have");
        return BS_EFORMAT;
    }
    if (d->header_len) {
        if (m->header_len != d->header_len && m->header_len != 0) {
            bs__iso_err(err, 0, -1, 0, "header is %u bytes, the dialect's is %u", m->header_len,
                        d->header_len);
            return BS_EFORMAT;
        }
        if (cap < d->header_len) {
            bs__iso_err(err, 0, -1, 0, "output buffer too small");
            return BS_ENOSPC;
        }
        if (m->header_len)
            memcpy(out, m->header, d->header_len);
        else
            memset(out, 0, d->header_len);
        pos = d->header_len;
    }
    r = mti_write(d, m->mti, out, cap, &pos, err);
    if (r < 0)
        return r;

    /* ISO 8583:1987 §4.3: a secondary bitmap only when a DE 65–128 is present. */
    ter = present[2] != 0;
    sec = present[1] != 0 || ter;
    bw = bs__iso_bitmap_wire(d->bitmap_enc);
    if (cap - pos < bw * (1 + sec + ter)) {
        bs__iso_err(err, 1, -1, pos, "output buffer too small");
        return BS_ENOSPC;
    }
    pos += bs__iso_bitmap_write(d->bitmap_enc, present[0] | sec, out + pos);
    if (sec)
        pos += bs__iso_bitmap_write(d->bitmap_enc, present[1] | ter, out + pos);
    if (ter)
        pos += bs__iso_bitmap_write(d->bitmap_enc, present[2], out + pos);
    r = bs__iso_pack_fields(d, m, present, out, cap, &pos, err);
    if (r < 0)
        return r;
    *ret_len = pos;
    return 0;
}

int bs_iso_pack_field(const struct bs_iso_dialect *d, unsigned de, const uint8_t *v, size_t n,
                      uint8_t *out, size_t cap, size_t *ret_len, struct bs_iso_error *err)
{
    size_t pos = 0;
    int r;

    if (!d || !out || !ret_len || (!v && n) || de < 1 || de > BS_ISO_MAX_DE)
        return BS_EINVAL;
    if (!d->fd[de].defined) {
        bs__iso_err(err, (int)de, -1, 0, "the dialect does not define this DE");
        return BS_EFORMAT;
    }
    r = pack_one(&d->fd[de], de, v ? v : (const uint8_t *)"", n, out, cap, &pos, err);
    if (r < 0)
        return r;
    *ret_len = pos;
    return 0;
}

/* ---- composite subfields ------------------------------------------------------------------ */

int bs_iso_sub_unpack(const struct bs_iso_dialect *d, unsigned de, const uint8_t *v, size_t n,
                      size_t base, struct bs_iso_msg *sub, struct bs_iso_error *err)
{
    const struct bs_iso_dialect *s = bs_iso_dialect_sub(d, de);
    uint64_t present[3] = { 0, 0, 0 };
    size_t pos = 0;
    int last = 0, r;

    if (!s || !sub || (!v && n))
        return BS_EINVAL;
    memcpy(sub->mti, "0000", 5);
    sub->header_len = 0;
    sub->used = 0;
    sub->present[0] = sub->present[1] = sub->present[2] = 0;
    if (s->role == BS__ROLE_SUB_BITMAP) {
        const char *why;
        size_t w;

        r = bs__iso_bitmap_read(s->bitmap_enc, v, n, 0, &present[0], &w, &why);
        if (r < 0) {
            bs__iso_err(err, (int)de, 0, base, "%s", why);
            return r;
        }
        pos = w;
    } else {
        memcpy(present, s->defined, sizeof(present));
    }
    r = bs__iso_unpack_fields(s, present, v, n, &pos, base, sub, &last, err);
    if (r < 0) {
        if (err) {
            err->sub = err->de;
            err->de = (int)de;
        }
        return r;
    }
    if (pos != n) {
        bs__iso_err(err, (int)de, last, base + pos, "extra data after last subfield: %zu bytes",
                    n - pos);
        return BS_EFORMAT;
    }
    memcpy(sub->present, present, sizeof(present));
    return 0;
}

int bs_iso_sub_pack(const struct bs_iso_dialect *d, unsigned de, const struct bs_iso_msg *sub,
                    uint8_t *out, size_t cap, size_t *ret_len, struct bs_iso_error *err)
{
    const struct bs_iso_dialect *s = bs_iso_dialect_sub(d, de);
    size_t pos = 0;
    int r;

    if (!s || !sub || !out || !ret_len)
        return BS_EINVAL;
    if (s->role == BS__ROLE_SUB_BITMAP) {
        if (sub->present[1] || sub->present[2]) {
            bs__iso_err(err, (int)de, (int)first_bit(sub->present), 0,
                        "a nested bitmap holds subfields 1-64 only");
            return BS_EFORMAT;
        }
        if (cap < bs__iso_bitmap_wire(s->bitmap_enc)) {
            bs__iso_err(err, (int)de, 0, 0, "output buffer too small");
            return BS_ENOSPC;
        }
        pos = bs__iso_bitmap_write(s->bitmap_enc, sub->present[0], out);
    } else {
        uint64_t missing[3];

        for (unsigned w = 0; w < 3; w++)
            missing[w] = s->defined[w] & ~sub->present[w];
        if (missing[0] | missing[1] | missing[2]) {
            bs__iso_err(err, (int)de, (int)first_bit(missing), 0,
                        "fixed composite: subfield missing");
            return BS_EFORMAT;
        }
    }
    r = bs__iso_pack_fields(s, sub, sub->present, out, cap, &pos, err);
    if (r < 0) {
        if (err) {
            err->sub = err->de;
            err->de = (int)de;
        }
        return r;
    }
    *ret_len = pos;
    return 0;
}
