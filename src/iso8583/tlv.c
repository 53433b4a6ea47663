/*
 * BER-TLV data objects as carried in DE 55 (EMV Book 3 annex B; ISO/IEC 8825-1 §8.1):
 * tags of up to four bytes, short and long length forms. Unknown tags are walked like
 * known ones, so a message re-encodes byte for byte (moov-io/iso8583 PR #397).
 */
#include <string.h>

#include "iso_internal.h"

static const char hexd[] = "0123456789ABCDEF";

int bs_iso_tlv_next(const uint8_t *buf, size_t n, size_t *pos, struct bs_iso_tlv *ret,
                    struct bs_iso_error *err)
{
    size_t p, start, len = 0;
    uint32_t tag;
    unsigned tl = 1, ll;

    if (!pos || !ret || (!buf && n))
        return BS_EINVAL;
    p = start = *pos;
    if (p >= n)
        return 0;
    tag = buf[p++];
    if (tag == 0x00) {
        bs__iso_err(err, -1, -1, start, "TLV: tag byte 00 is not a valid tag");
        return BS_EFORMAT;
    }
    /* Low five bits all set: the tag number continues while bit 8 of a byte is set. */
    if ((tag & 0x1F) == 0x1F) {
        do {
            if (p >= n) {
                bs__iso_err(err, -1, -1, start, "TLV: tag runs past the end of the data");
                return BS_EFORMAT;
            }
            if (tl == 4) {
                bs__iso_err(err, -1, -1, start, "TLV: tag longer than 4 bytes");
                return BS_EFORMAT;
            }
            tag = tag << 8 | buf[p];
            tl++;
        } while (buf[p++] & 0x80);
    }
    if (p >= n) {
        bs__iso_err(err, -1, -1, start, "TLV: tag %0*X has no length", (int)(2 * tl), tag);
        return BS_EFORMAT;
    }
    if (buf[p] < 0x80) {
        len = buf[p++];
        ll = 1;
    } else {
        unsigned k = buf[p] & 0x7F;

        if (k == 0 || k > 4) {
            bs__iso_err(err, -1, -1, start, "TLV: tag %0*X: length form %02X not supported",
                        (int)(2 * tl), tag, buf[p]);
            return BS_EFORMAT;
        }
        p++;
        if (n - p < k) {
            bs__iso_err(err, -1, -1, start, "TLV: tag %0*X: length runs past the end of the data",
                        (int)(2 * tl), tag);
            return BS_EFORMAT;
        }
        for (unsigned i = 0; i < k; i++)
            len = len << 8 | buf[p++];
        ll = k + 1;
    }
    if (len > n - p) {
        bs__iso_err(err, -1, -1, start, "TLV: tag %0*X: length exceeds the bytes left: %zu > %zu",
                    (int)(2 * tl), tag, len, n - p);
        return BS_EFORMAT;
    }
    ret->tag = tag;
    ret->tag_len = (uint8_t)tl;
    ret->len_len = (uint8_t)ll;
    ret->constructed = (buf[start] & 0x20) != 0;
    ret->value = buf + p;
    ret->len = len;
    ret->off = start;
    *pos = p + len;
    return 1;
}

/* Bytes of a well-formed BER tag, or 0 when @tag is not one. */
static unsigned tag_bytes(uint32_t tag)
{
    unsigned k = tag > 0xFFFFFF ? 4 : tag > 0xFFFF ? 3 : tag > 0xFF ? 2 : tag ? 1 : 0;
    uint8_t b[4];

    for (unsigned i = 0; i < k; i++)
        b[i] = (uint8_t)(tag >> (8 * (k - 1 - i)));
    if (k == 0)
        return 0;
    if (k == 1)
        return (b[0] & 0x1F) == 0x1F ? 0 : 1;
    if ((b[0] & 0x1F) != 0x1F)
        return 0;
    for (unsigned i = 1; i < k; i++) {
        bool more = (b[i] & 0x80) != 0;

        if (more != (i < k - 1))
            return 0;
    }
    return k;
}

int bs_iso_tlv_put(uint32_t tag, unsigned len_len, const uint8_t *v, size_t n, uint8_t *out,
                   size_t cap, size_t *pos)
{
    unsigned tl = tag_bytes(tag), ll;
    size_t p;

    if (!tl || !pos || !out || (!v && n) || n > UINT32_MAX)
        return BS_EINVAL;
    ll = n < 0x80 ? 1 : n <= 0xFF ? 2 : n <= 0xFFFF ? 3 : n <= 0xFFFFFF ? 4 : 5;
    if (len_len) {
        if (len_len < ll || len_len > 5)
            return BS_EINVAL;
        ll = len_len;
    }
    p = *pos;
    if (p > cap || cap - p < tl + ll || cap - p - tl - ll < n)
        return BS_ENOSPC;
    for (unsigned i = 0; i < tl; i++)
        out[p++] = (uint8_t)(tag >> (8 * (tl - 1 - i)));
    if (ll == 1) {
        out[p++] = (uint8_t)n;
    } else {
        out[p++] = (uint8_t)(0x80 | (ll - 1));
        for (unsigned i = ll - 1; i-- > 0;)
            out[p++] = (uint8_t)(n >> (8 * i));
    }
    if (n)
        memcpy(out + p, v, n);
    *pos = p + n;
    return 0;
}

int bs_iso_tlv_tag_parse(const char *hex, uint32_t *ret)
{
    uint32_t tag = 0;
    size_t n;

    if (!hex || !ret)
        return BS_EFORMAT;
    n = strlen(hex);
    if (n == 0 || n > 8 || n % 2)
        return BS_EFORMAT;
    for (size_t i = 0; i < n; i++) {
        char c = hex[i];
        unsigned v;

        if (c >= '0' && c <= '9')
            v = (unsigned)(c - '0');
        else if (c >= 'A' && c <= 'F')
            v = (unsigned)(c - 'A' + 10);
        else if (c >= 'a' && c <= 'f')
            v = (unsigned)(c - 'a' + 10);
        else
            return BS_EFORMAT;
        tag = tag << 4 | v;
    }
    /* "00DF" would lose its leading byte: the text must be the tag's exact bytes. */
    if (tag_bytes(tag) != n / 2)
        return BS_EFORMAT;
    *ret = tag;
    return 0;
}

int bs_iso_tlv_tag_format(uint32_t tag, char *buf)
{
    unsigned k = tag > 0xFFFFFF ? 4 : tag > 0xFFFF ? 3 : tag > 0xFF ? 2 : 1;

    for (unsigned i = 0; i < 2 * k; i++)
        buf[i] = hexd[(tag >> (4 * (2 * k - 1 - i))) & 15];
    buf[2 * k] = '\0';
    return (int)(2 * k);
}
