/*
 * Fuzz target: the incremental frame decoder.
 * Input: byte 0 picks the framing (length kind, TPDU, keep-alive rule), byte 1 the
 * maximum frame size and byte 2 the chunking seed; the rest is the stream.
 *
 * Checked: the same stream cut into any chunks (all at once, byte by byte, random
 * sizes) yields the same frames and errors at the same stream offsets; every frame lies
 * inside the stream and re-encodes to its bytes; nothing is ever longer than the maximum.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"

#define CHECK(c)                                                                               \
    do {                                                                                       \
        if (!(c)) {                                                                            \
            fprintf(stderr, "fuzz_frame: check failed: %s (%s:%d)\n", #c, __FILE__, __LINE__); \
            abort();                                                                           \
        }                                                                                      \
    } while (0)

#define EVENTS_MAX 4096

struct event {
    int r;
    uint64_t off;
    size_t len;
    uint32_t hash;
    bool keepalive;
};

static struct event ev[3][EVENTS_MAX];
static uint8_t scratch[70000];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

static uint32_t fnv(const uint8_t *p, size_t n)
{
    uint32_t h = 2166136261u;

    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

/* Decode @s in chunks chosen by @mode; record what next() reports. */
static size_t run(const struct bs_iso_frame_cfg *cfg, const uint8_t *s, size_t n, int mode,
                  uint32_t seed, struct event *out)
{
    struct bs_iso_frame_dec *fd;
    struct bs_iso_frame fr;
    struct bs_iso_error err;
    size_t k = 0, pos = 0, hdr = bs_iso_frame_header_len(cfg);
    bool dead = false;

    CHECK(bs_iso_frame_dec_new(cfg, &fd) == 0);
    while (pos < n && !dead) {
        size_t want = mode == 0   ? n - pos
                      : mode == 1 ? 1
                                  : 1 + (seed = seed * 1103515245u + 12345u) % 17;
        size_t took;
        int r;

        if (want > n - pos)
            want = n - pos;
        took = bs_iso_frame_dec_feed(fd, s + pos, want);
        pos += took;
        CHECK(bs_iso_frame_dec_pending(fd) <= hdr + cfg->max_len);
        while ((r = bs_iso_frame_dec_next(fd, &fr, &err)) != 0) {
            struct event *e = &out[k];

            CHECK(k < EVENTS_MAX);
            memset(e, 0, sizeof(*e));
            e->r = r;
            if (r < 0) {
                e->off = err.offset;
                CHECK(err.offset <= n);
                k++;
                if (r == BS_ESTATE) {
                    dead = true;
                    break;
                }
                continue;
            }
            e->off = fr.stream_off;
            e->len = fr.len;
            e->keepalive = fr.keepalive;
            if (!fr.keepalive) {
                size_t enc;

                CHECK(fr.len + cfg->tpdu_len <= cfg->max_len);
                CHECK(fr.stream_off + hdr + cfg->tpdu_len + fr.len <= pos);
                e->hash = fnv(fr.msg, fr.len);
                /* The frame re-encodes to exactly its bytes in the stream. */
                CHECK(bs_iso_frame_encode(cfg, fr.tpdu, fr.msg, fr.len, scratch, sizeof(scratch),
                                          &enc) == 0);
                CHECK(enc == hdr + cfg->tpdu_len + fr.len);
                if (fr.len)
                    CHECK(memcmp(scratch, s + fr.stream_off, enc) == 0);
            }
            k++;
        }
        /* After next() has drained it, the buffer always has room for one more byte:
         * it holds one maximal frame and only an incomplete one is left in it. */
        if (!dead)
            CHECK(took > 0);
    }
    bs_iso_frame_dec_free(fd);
    return k;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct bs_iso_frame_cfg cfg;
    size_t k[3];

    if (size < 3)
        return 0;
    bs_iso_frame_cfg_default(&cfg);
    cfg.length = (enum bs_iso_frame_len)(data[0] % 3);
    cfg.tpdu_len = (data[0] >> 2) & 1 ? 5 : 0;
    cfg.zero_is_keepalive = (data[0] >> 3) & 1;
    cfg.max_len = 1u + data[1];
    if (data[0] & 0x80)
        cfg.max_len = cfg.length == BS_ISO_FRAME_BIN2 ? 65535 : 9999;
    for (int mode = 0; mode < 3; mode++)
        k[mode] = run(&cfg, data + 3, size - 3, mode, data[2], ev[mode]);
    CHECK(k[0] == k[1] && k[1] == k[2]);
    for (size_t i = 0; i < k[0]; i++) {
        CHECK(memcmp(&ev[0][i], &ev[1][i], sizeof(ev[0][i])) == 0);
        CHECK(memcmp(&ev[0][i], &ev[2][i], sizeof(ev[0][i])) == 0);
    }
    return 0;
}
