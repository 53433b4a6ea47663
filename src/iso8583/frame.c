/*
 * Length-header framing of ISO 8583 streams: the transport's job, kept apart from the
 * codec (pyiso8583 #12; ISO 8583 anchors §4). The decoder owns one buffer of a maximal
 * frame, allocated when it is created, and cuts frames from whatever chunks the socket
 * delivers.
 */
#include <string.h>

#include "iso_internal.h"

struct bs_iso_frame_dec {
    struct bs_iso_frame_cfg cfg;
    size_t hdr;        /* bytes of length header */
    size_t cap;        /* buffer capacity: header + max frame */
    size_t start;      /* first unconsumed byte in buf */
    size_t end;        /* one past the last buffered byte */
    size_t skip;       /* bytes of a rejected frame still to discard */
    uint64_t consumed; /* stream offset of buf[start] */
    bool failed;       /* lost step with the stream: only a reconnect helps */
    uint8_t buf[];
};

void bs_iso_frame_cfg_default(struct bs_iso_frame_cfg *cfg)
{
    cfg->length = BS_ISO_FRAME_BIN2;
    cfg->tpdu_len = 0;
    cfg->max_len = 8192;
    cfg->zero_is_keepalive = true;
}

size_t bs_iso_frame_header_len(const struct bs_iso_frame_cfg *cfg)
{
    return cfg->length == BS_ISO_FRAME_ASCII4 ? 4 : 2;
}

static uint32_t header_max(enum bs_iso_frame_len k)
{
    return k == BS_ISO_FRAME_BIN2 ? 65535 : 9999;
}

int bs_iso_frame_cfg_check(const struct bs_iso_frame_cfg *cfg)
{
    if (!cfg)
        return BS_EINVAL;
    switch (cfg->length) {
    case BS_ISO_FRAME_BIN2:
    case BS_ISO_FRAME_BCD2:
    case BS_ISO_FRAME_ASCII4:
        break;
    default:
        return BS_EINVAL;
    }
    if (cfg->max_len > header_max(cfg->length) || cfg->max_len > BS_ISO_FRAME_MAX ||
        cfg->tpdu_len > BS_ISO_TPDU_MAX)
        return BS_ELIMIT;
    return 0;
}

static void header_write(const struct bs_iso_frame_cfg *cfg, size_t len, uint8_t *p)
{
    switch (cfg->length) {
    case BS_ISO_FRAME_BCD2:
        p[0] = (uint8_t)((len / 1000 % 10) << 4 | (len / 100 % 10));
        p[1] = (uint8_t)((len / 10 % 10) << 4 | (len % 10));
        break;
    case BS_ISO_FRAME_ASCII4:
        for (unsigned i = 4; i-- > 0;) {
            p[i] = (uint8_t)('0' + len % 10);
            len /= 10;
        }
        break;
    case BS_ISO_FRAME_BIN2:
    default:
        p[0] = (uint8_t)(len >> 8);
        p[1] = (uint8_t)(len & 0xFF);
        break;
    }
}

/* The announced length, or -1 when the header is not a number. */
static long header_read(const struct bs_iso_frame_cfg *cfg, const uint8_t *p)
{
    long v = 0;

    switch (cfg->length) {
    case BS_ISO_FRAME_BCD2:
        for (unsigned i = 0; i < 2; i++) {
            unsigned hi = p[i] >> 4, lo = p[i] & 15;

            if (hi > 9 || lo > 9)
                return -1;
            v = v * 100 + hi * 10 + lo;
        }
        return v;
    case BS_ISO_FRAME_ASCII4:
        for (unsigned i = 0; i < 4; i++) {
            if ((unsigned)(p[i] - '0') > 9)
                return -1;
            v = v * 10 + (p[i] - '0');
        }
        return v;
    case BS_ISO_FRAME_BIN2:
    default:
        return (long)p[0] << 8 | p[1];
    }
}

int bs_iso_frame_encode(const struct bs_iso_frame_cfg *cfg, const uint8_t *tpdu, const uint8_t *msg,
                        size_t n, uint8_t *out, size_t cap, size_t *ret_len)
{
    size_t hdr, payload;
    int r = bs_iso_frame_cfg_check(cfg);

    if (r < 0)
        return r;
    if (!out || !ret_len || (!msg && n))
        return BS_EINVAL;
    hdr = bs_iso_frame_header_len(cfg);
    /* A keep-alive is a bare zero length: no TPDU rides on it. */
    payload = (n || tpdu) ? cfg->tpdu_len + n : 0;
    if (payload > cfg->max_len)
        return BS_ELIMIT;
    if (cap < hdr + payload)
        return BS_ENOSPC;
    header_write(cfg, payload, out);
    if (payload) {
        if (tpdu)
            memcpy(out + hdr, tpdu, cfg->tpdu_len);
        else
            memset(out + hdr, 0, cfg->tpdu_len);
        memcpy(out + hdr + cfg->tpdu_len, msg, n);
    }
    *ret_len = hdr + payload;
    return 0;
}

int bs_iso_frame_dec_new(const struct bs_iso_frame_cfg *cfg, struct bs_iso_frame_dec **ret)
{
    struct bs_iso_frame_dec *fd;
    size_t hdr, cap;
    int r = bs_iso_frame_cfg_check(cfg);

    if (r < 0)
        return r;
    if (!ret)
        return BS_EINVAL;
    hdr = bs_iso_frame_header_len(cfg);
    cap = hdr + cfg->max_len;
    fd = bs_malloc(sizeof(*fd) + cap);
    if (!fd)
        return BS_ENOMEM;
    fd->cfg = *cfg;
    fd->hdr = hdr;
    fd->cap = cap;
    fd->start = fd->end = fd->skip = 0;
    fd->consumed = 0;
    fd->failed = false;
    *ret = fd;
    return 0;
}

void bs_iso_frame_dec_free(struct bs_iso_frame_dec *fd)
{
    bs_free(fd);
}

size_t bs_iso_frame_dec_pending(const struct bs_iso_frame_dec *fd)
{
    return fd ? fd->end - fd->start : 0;
}

size_t bs_iso_frame_dec_feed(struct bs_iso_frame_dec *fd, const uint8_t *data, size_t n)
{
    size_t taken = 0, k;

    if (!fd || !data || fd->failed)
        return 0;
    /* The rest of a rejected frame is dropped as it arrives, never buffered. */
    if (fd->skip && fd->start == fd->end) {
        k = n < fd->skip ? n : fd->skip;
        fd->skip -= k;
        fd->consumed += k;
        taken = k;
        data += k;
        n -= k;
    }
    if (fd->skip)
        return taken;
    if (fd->start > 0 && fd->cap - fd->end < n) {
        memmove(fd->buf, fd->buf + fd->start, fd->end - fd->start);
        fd->end -= fd->start;
        fd->start = 0;
    }
    k = fd->cap - fd->end;
    if (k > n)
        k = n;
    memcpy(fd->buf + fd->end, data, k);
    fd->end += k;
    return taken + k;
}

static void consume(struct bs_iso_frame_dec *fd, size_t k)
{
    fd->start += k;
    fd->consumed += k;
    if (fd->start == fd->end)
        fd->start = fd->end = 0;
}

int bs_iso_frame_dec_next(struct bs_iso_frame_dec *fd, struct bs_iso_frame *ret,
                          struct bs_iso_error *err)
{
    size_t avail;
    uint64_t at;
    long len;

    if (!fd || !ret)
        return BS_EINVAL;
    if (fd->failed) {
        bs__iso_err(err, -1, -1, (size_t)fd->consumed, "stream out of step; reconnect");
        return BS_ESTATE;
    }
    if (fd->skip) {
        size_t k = fd->end - fd->start < fd->skip ? fd->end - fd->start : fd->skip;

        fd->skip -= k;
        consume(fd, k);
        if (fd->skip)
            return 0;
    }
    avail = fd->end - fd->start;
    if (avail < fd->hdr)
        return 0;
    at = fd->consumed;
    len = header_read(&fd->cfg, fd->buf + fd->start);
    if (len < 0) {
        fd->failed = true;
        bs__iso_err(err, -1, -1, (size_t)at, "frame length header is not numeric");
        return BS_EFORMAT;
    }
    if (len == 0) {
        consume(fd, fd->hdr);
        if (!fd->cfg.zero_is_keepalive) {
            bs__iso_err(err, -1, -1, (size_t)at, "zero-length frame");
            return BS_EFORMAT;
        }
        memset(ret, 0, sizeof(*ret));
        ret->keepalive = true;
        ret->stream_off = at;
        return 1;
    }
    if ((size_t)len > fd->cfg.max_len || (size_t)len < fd->cfg.tpdu_len) {
        bool big = (size_t)len > fd->cfg.max_len;

        consume(fd, fd->hdr);
        fd->skip = (size_t)len;
        /* Drop what is buffered of it now; feed() drops the rest as it arrives. */
        {
            size_t k = fd->end - fd->start < fd->skip ? fd->end - fd->start : fd->skip;

            fd->skip -= k;
            consume(fd, k);
        }
        if (big)
            bs__iso_err(err, -1, -1, (size_t)at, "frame of %ld bytes exceeds the maximum %u", len,
                        fd->cfg.max_len);
        else
            bs__iso_err(err, -1, -1, (size_t)at, "frame of %ld bytes is shorter than its TPDU",
                        len);
        return big ? BS_ELIMIT : BS_EFORMAT;
    }
    if (avail < fd->hdr + (size_t)len)
        return 0;
    ret->keepalive = false;
    ret->stream_off = at;
    ret->tpdu = fd->cfg.tpdu_len ? fd->buf + fd->start + fd->hdr : NULL;
    ret->msg = fd->buf + fd->start + fd->hdr + fd->cfg.tpdu_len;
    ret->len = (size_t)len - fd->cfg.tpdu_len;
    /* Pointers stay valid: consume() only moves indexes; feed() is what compacts. */
    fd->start += fd->hdr + (size_t)len;
    fd->consumed += fd->hdr + (size_t)len;
    return 1;
}
