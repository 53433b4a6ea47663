/*
 * Message values: a fixed-size struct with its own storage. Initialising touches only
 * the bookkeeping (presence bits, fill level, MTI, header length), never the 8 KB of
 * storage, so a message can be reset per transaction at no cost.
 */
#include <string.h>

#include "iso_internal.h"

static bool mti_ok(const char *mti)
{
    if (!mti)
        return false;
    for (unsigned i = 0; i < 4; i++)
        if ((unsigned)(mti[i] - '0') > 9)
            return false;
    return mti[4] == '\0';
}

static inline uint64_t de_bit(unsigned de)
{
    return UINT64_C(1) << ((de - 1) & 63);
}

int bs_iso_msg_init(struct bs_iso_msg *m, const char *mti)
{
    if (!m)
        return BS_EINVAL;
    m->present[0] = m->present[1] = m->present[2] = 0;
    m->used = 0;
    m->header_len = 0;
    if (!mti_ok(mti)) {
        memcpy(m->mti, "0000", 5);
        return BS_EINVAL;
    }
    memcpy(m->mti, mti, 5);
    return 0;
}

int bs_iso_msg_set_mti(struct bs_iso_msg *m, const char *mti)
{
    if (!m || !mti_ok(mti))
        return BS_EINVAL;
    memcpy(m->mti, mti, 5);
    return 0;
}

int bs_iso_msg_set_header(struct bs_iso_msg *m, const void *h, size_t n)
{
    if (!m || (!h && n))
        return BS_EINVAL;
    if (n > BS_ISO_HEADER_MAX)
        return BS_ELIMIT;
    if (n)
        memcpy(m->header, h, n);
    m->header_len = (uint8_t)n;
    return 0;
}

int bs_iso_msg_set(struct bs_iso_msg *m, unsigned de, const void *v, size_t n)
{
    if (!m || de < 2 || de > BS_ISO_MAX_DE || (!v && n))
        return BS_EINVAL;
    if (n > UINT16_MAX)
        return BS_ELIMIT;
    /* A replacement that fits reuses the old slot, so updating a field in a loop does
     * not exhaust the storage. memmove: @v may point into the message itself. */
    if (bs_iso_msg_has(m, de) && n <= m->len[de]) {
        if (n)
            memmove(m->data + m->off[de], v, n);
        m->len[de] = (uint16_t)n;
        return 0;
    }
    if (n > (size_t)(BS_ISO_MSG_DATA_MAX - m->used))
        return BS_ELIMIT;
    /* Appended after every value in use: a @v inside the message (a present value) lies
     * below m->used, so the ranges cannot overlap. Most values are 2..16 bytes: two
     * overlapping word moves instead of a library call. */
    if (n >= 8 && n <= 16) {
        uint64_t a, b;
        memcpy(&a, v, 8);
        memcpy(&b, (const uint8_t *)v + n - 8, 8);
        memcpy(m->data + m->used, &a, 8);
        memcpy(m->data + m->used + n - 8, &b, 8);
    } else if (n >= 4 && n < 8) {
        uint32_t a, b;
        memcpy(&a, v, 4);
        memcpy(&b, (const uint8_t *)v + n - 4, 4);
        memcpy(m->data + m->used, &a, 4);
        memcpy(m->data + m->used + n - 4, &b, 4);
    } else if (n) {
        memmove(m->data + m->used, v, n);
    }
    m->off[de] = m->used;
    m->len[de] = (uint16_t)n;
    m->used = (uint16_t)(m->used + n);
    m->present[(de - 1) >> 6] |= de_bit(de);
    return 0;
}

int bs_iso_msg_set_str(struct bs_iso_msg *m, unsigned de, const char *s)
{
    if (!s)
        return BS_EINVAL;
    return bs_iso_msg_set(m, de, s, strlen(s));
}

int bs_iso_msg_set_num(struct bs_iso_msg *m, unsigned de, int64_t v, unsigned width)
{
    char buf[20];

    if (v < 0 || width == 0 || width > 19)
        return BS_ERANGE;
    for (unsigned i = width; i-- > 0;) {
        buf[i] = (char)('0' + v % 10);
        v /= 10;
    }
    if (v != 0)
        return BS_ERANGE;
    return bs_iso_msg_set(m, de, buf, width);
}

void bs_iso_msg_unset(struct bs_iso_msg *m, unsigned de)
{
    if (!m || de < 1 || de > BS_ISO_MAX_DE)
        return;
    m->present[(de - 1) >> 6] &= ~de_bit(de);
}

int bs_iso_msg_get_str(const struct bs_iso_msg *m, unsigned de, char *buf, size_t cap)
{
    size_t n;
    const uint8_t *v = bs_iso_msg_get(m, de, &n);

    if (!v)
        return BS_ENOTFOUND;
    if (!buf || n >= cap)
        return BS_ENOSPC;
    memcpy(buf, v, n);
    buf[n] = '\0';
    return (int)n;
}

int bs_iso_msg_get_num(const struct bs_iso_msg *m, unsigned de, int64_t *ret)
{
    size_t n;
    const uint8_t *v = bs_iso_msg_get(m, de, &n);
    int64_t x = 0;

    if (!v)
        return BS_ENOTFOUND;
    if (n == 0 || n > 18)
        return BS_EFORMAT;
    for (size_t i = 0; i < n; i++) {
        if ((unsigned)(v[i] - '0') > 9)
            return BS_EFORMAT;
        x = x * 10 + (v[i] - '0');
    }
    *ret = x;
    return 0;
}

unsigned bs_iso_msg_next(const struct bs_iso_msg *m, unsigned after)
{
    if (!m || after >= BS_ISO_MAX_DE)
        return 0;
    for (unsigned w = after / 64; w < 3; w++) {
        uint64_t bits = m->present[w];

        /* Drop the bits of DEs up to and including @after within this word. */
        if (w == after / 64 && after % 64)
            bits &= ~((UINT64_C(1) << (after % 64)) - 1);
        if (bits)
            return w * 64 + (unsigned)__builtin_ctzll(bits) + 1;
    }
    return 0;
}

void bs_iso_msg_compact(struct bs_iso_msg *m)
{
    uint8_t order[BS_ISO_MAX_DE];
    unsigned k = 0;
    uint16_t used = 0;

    if (!m)
        return;
    /* Values of distinct DEs never overlap, so sliding them down in storage order (an
     * insertion sort over at most 191 offsets) never overwrites one not yet moved. */
    for (unsigned de = bs_iso_msg_next(m, 0); de; de = bs_iso_msg_next(m, de)) {
        unsigned i = k++;

        if (m->len[de] == 0) {
            m->off[de] = 0;
            k--;
            continue;
        }
        while (i > 0 && m->off[order[i - 1]] > m->off[de]) {
            order[i] = order[i - 1];
            i--;
        }
        order[i] = (uint8_t)de;
    }
    for (unsigned i = 0; i < k; i++) {
        unsigned de = order[i];

        if (m->off[de] != used)
            memmove(m->data + used, m->data + m->off[de], m->len[de]);
        m->off[de] = used;
        used = (uint16_t)(used + m->len[de]);
    }
    m->used = used;
}

void bs_iso_msg_copy(struct bs_iso_msg *dst, const struct bs_iso_msg *src)
{
    if (!dst || !src || dst == src)
        return;
    memcpy(dst->mti, src->mti, sizeof(dst->mti));
    dst->header_len = src->header_len;
    memcpy(dst->header, src->header, src->header_len);
    memcpy(dst->present, src->present, sizeof(dst->present));
    for (unsigned de = bs_iso_msg_next(src, 0); de; de = bs_iso_msg_next(src, de)) {
        dst->off[de] = src->off[de];
        dst->len[de] = src->len[de];
        dst->wire_off[de] = src->wire_off[de];
    }
    dst->wire_off[1] = src->wire_off[1];
    dst->used = src->used;
    memcpy(dst->data, src->data, src->used);
}

/* ---- display ------------------------------------------------------------------------------ */

int bs_iso_mask_text(enum bs_iso_sensitivity sens, const uint8_t *v, size_t n, char *buf,
                     size_t cap)
{
    static const char redacted[] = "[redacted]";

    if (!buf)
        return BS_ENOSPC;
    if (sens == BS_ISO_SECRET) {
        if (cap < sizeof(redacted))
            return BS_ENOSPC;
        memcpy(buf, redacted, sizeof(redacted));
        return (int)sizeof(redacted) - 1;
    }
    if (n >= cap || n > INT32_MAX)
        return BS_ENOSPC;
    if (sens == BS_ISO_MASKED) {
        /* PCI DSS 3.3: at most the first six and last four digits. */
        for (size_t i = 0; i < n; i++)
            buf[i] = (n > 10 && (i < 6 || i >= n - 4)) ? (char)v[i] : '*';
    } else {
        memcpy(buf, v, n);
    }
    buf[n] = '\0';
    return (int)n;
}

int bs_iso_field_text(const struct bs_iso_dialect *d, const struct bs_iso_msg *m, unsigned de,
                      bool reveal_masked, char *buf, size_t cap)
{
    static const char hex[] = "0123456789ABCDEF";
    const struct bs_iso_field_spec *spec = bs_iso_dialect_field(d, de);
    enum bs_iso_sensitivity sens;
    size_t n;
    const uint8_t *v = bs_iso_msg_get(m, de, &n);

    if (!v || !spec)
        return BS_ENOTFOUND;
    sens = spec->sensitivity;
    if (sens == BS_ISO_MASKED && reveal_masked)
        sens = BS_ISO_CLEAR;
    if (spec->format != BS_ISO_FMT_B || sens == BS_ISO_SECRET)
        return bs_iso_mask_text(sens, v, n, buf, cap);
    /* Binary values print as hex; masking then applies to the hex digits. */
    if (!buf || 2 * n + 1 > cap)
        return BS_ENOSPC;
    for (size_t i = 0; i < n; i++) {
        buf[2 * i] = hex[v[i] >> 4];
        buf[2 * i + 1] = hex[v[i] & 15];
    }
    buf[2 * n] = '\0';
    if (sens == BS_ISO_MASKED)
        for (size_t i = 0; i < 2 * n; i++)
            if (!(2 * n > 10 && (i < 6 || i >= 2 * n - 4)))
                buf[i] = '*';
    return (int)(2 * n);
}
