/* Journal files: see jfile.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "journal/jfile.h"

struct bs_jfile {
    int fd;
    struct bs_jwriter *w;
    struct bs_key *owned_key;
};

static int fd_write(void *ctx, const void *buf, size_t n)
{
    struct bs_jfile *jf = ctx;
    const char *p = buf;

    while (n) {
        ssize_t k = write(jf->fd, p, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return BS_EIO;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

static int fd_sync(void *ctx)
{
    struct bs_jfile *jf = ctx;

    return fsync(jf->fd) == 0 ? 0 : BS_EIO;
}

int bs_jfile_open(const struct bs_jfile_cfg *cfg, struct bs_jfile **ret, char *err, size_t errlen)
{
    struct bs_jfile *jf;
    struct bs_jwriter_cfg wc;
    struct bs_key *key;
    int rc;

    if (!cfg || !cfg->path || !cfg->hdr.node || !ret)
        return BS_EINVAL;
    jf = bs_calloc(1, sizeof(*jf));
    if (!jf)
        return BS_ENOMEM;
    jf->fd = -1;
    key = cfg->key;
    if (!key) {
        uint8_t seed[8];
        for (int i = 0; i < 8; i++)
            seed[i] = (uint8_t)(cfg->hdr.seed >> (56 - 8 * i));
        rc = bs_key_derive(cfg->alg == BS_SIG_NONE ? BS_SIG_HMAC_SHA256 : cfg->alg, seed,
                           sizeof(seed), cfg->hdr.node, 0, 0, &jf->owned_key);
        if (rc) {
            snprintf(err, errlen, "%s: checkpoint key for %s: %s", cfg->path, cfg->hdr.node,
                     bs_strerror(rc));
            goto fail_key;
        }
        key = jf->owned_key;
    }
    jf->fd = open(cfg->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (jf->fd < 0) {
        snprintf(err, errlen, "%s: %s", cfg->path, strerror(errno));
        rc = BS_EIO;
        goto fail_open;
    }
    memset(&wc, 0, sizeof(wc));
    wc.sink.write = fd_write;
    wc.sink.sync = fd_sync;
    wc.sink.ctx = jf;
    wc.key = key;
    wc.sync = cfg->sync;
    wc.checkpoint_every = cfg->checkpoint_every;
    rc = bs_jwriter_new(&wc, &cfg->hdr, &jf->w);
    if (rc) {
        snprintf(err, errlen, "%s: journal writer: %s", cfg->path, bs_strerror(rc));
        goto fail_writer;
    }
    *ret = jf;
    return 0;

fail_writer:
    close(jf->fd);
fail_open:
    bs_key_free(jf->owned_key);
fail_key:
    bs_free(jf);
    return rc;
}

int bs_jfile_append(struct bs_jfile *jf, const struct bs_jrec *r)
{
    if (!jf)
        return BS_EINVAL;
    return bs_jwriter_append(jf->w, r);
}

int bs_jfile_flush(struct bs_jfile *jf)
{
    if (!jf)
        return BS_EINVAL;
    return bs_jwriter_flush(jf->w);
}

int bs_jfile_close(struct bs_jfile *jf, bs_time_us t, bs_time_us wall)
{
    int rc;

    if (!jf)
        return 0;
    rc = bs_jwriter_close(jf->w, t, wall);
    if (close(jf->fd) != 0 && rc == 0)
        rc = BS_EIO;
    bs_jwriter_free(jf->w);
    bs_key_free(jf->owned_key);
    bs_free(jf);
    return rc;
}

uint64_t bs_jfile_records(const struct bs_jfile *jf)
{
    return jf ? bs_jwriter_records(jf->w) : 0;
}

int bs_jfile_sync_env(enum bs_jsync *ret)
{
    const char *s = getenv("BRIDGESIM_JOURNAL_FSYNC");

    if (!s || !*s) {
        *ret = BS_JSYNC_CHECKPOINT;
        return 0;
    }
    return bs_jsync_parse(s, ret) == 0 ? 0 : BS_EINVAL;
}

int bs_jfile_checkpoint_env(uint32_t *ret)
{
    const char *s = getenv("BRIDGESIM_JOURNAL_CHECKPOINT");
    unsigned long v;
    char *end;

    if (!s || !*s) {
        *ret = BS_JOURNAL_CHECKPOINT_DEFAULT;
        return 0;
    }
    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno || *end || s[0] == '-' || v < 1 || v > BS_JOURNAL_CHECKPOINT_MAX)
        return BS_EINVAL;
    *ret = (uint32_t)v;
    return 0;
}

int bs_jfile_sha256(const char *path, uint8_t out[32])
{
    uint8_t buf[1 << 16];
    EVP_MD_CTX *ctx;
    unsigned int len = 0;
    FILE *f;
    size_t n;
    int rc = BS_ECRYPTO;

    f = fopen(path, "rb");
    if (!f)
        return BS_EIO;
    ctx = EVP_MD_CTX_new();
    if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
        goto out;
    while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
        if (EVP_DigestUpdate(ctx, buf, n) != 1)
            goto out;
    if (ferror(f)) {
        rc = BS_EIO;
        goto out;
    }
    if (EVP_DigestFinal_ex(ctx, out, &len) == 1 && len == 32)
        rc = 0;
out:
    EVP_MD_CTX_free(ctx);
    fclose(f);
    return rc;
}

bs_time_us bs_jfile_wall_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (bs_time_us)ts.tv_sec * BS_US_PER_SEC + ts.tv_nsec / 1000;
}
