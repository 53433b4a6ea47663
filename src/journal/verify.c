/*
 * The journal verifier: walks one journal line by line and checks the header, the
 * sequence numbers, the hash chain and every checkpoint signature (docs/journal.md §5).
 *
 * Naming the altered line. When line j's "prev" does not match the hash of line j-1, either
 * line j-1 changed (its bytes no longer hash to what j recorded) or line j's own "prev" was
 * edited. One line of look-ahead tells them apart: if line j+1's "prev" does not match
 * line j either, line j changed; otherwise line j-1 did. A checkpoint needs no look-ahead:
 * its signature covers its "prev", so a valid signature vouches for it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bridgesim/crypto.h>
#include <bridgesim/journal.h>

#include "journal_int.h"

struct bs_jverify {
    uint64_t lines; /* lines fed so far */
    uint64_t records, checkpoints;
    uint8_t h_last[32]; /* SHA-256 of the last line fed */
    uint64_t pending;   /* line whose "prev" did not match (0: none) */
    bool header, closed, failed;
    char node[BS_JOURNAL_NAME_MAX + 1];
    char key_id[BS_KEY_ID_MAX + 1];
    enum bs_sig_alg alg;
    struct bs_key *key;
    struct bs__jhash *hash;
    struct bs_jline scratch;
};

int bs_jverify_new(struct bs_jverify **ret)
{
    struct bs_jverify *v;

    if (!ret)
        return BS_EINVAL;
    v = bs_calloc(1, sizeof(*v));
    if (!v)
        return BS_ENOMEM;
    if (bs__jhash_new(&v->hash) != 0) {
        bs_free(v);
        return BS_ENOMEM;
    }
    *ret = v;
    return 0;
}

void bs_jverify_free(struct bs_jverify *v)
{
    if (!v)
        return;
    bs_key_free(v->key);
    bs__jhash_free(v->hash);
    bs_free(v);
}

uint64_t bs_jverify_records(const struct bs_jverify *v)
{
    return v ? v->records : 0;
}

uint64_t bs_jverify_checkpoints(const struct bs_jverify *v)
{
    return v ? v->checkpoints : 0;
}

static int failf(struct bs_jverify *v, struct bs_jverify_error *err, int rc, uint64_t line,
                 const char *fmt, ...)
{
    va_list ap;

    v->failed = true;
    if (err) {
        err->line = line;
        va_start(ap, fmt);
        vsnprintf(err->reason, sizeof(err->reason), fmt, ap);
        va_end(ap);
    }
    return rc;
}

/* The checkpoint key, derived as the simulator derives node keys (bs_jverify_new()). */
static int derive_key(struct bs_jverify *v, const struct bs_jline *h, struct bs_jverify_error *err)
{
    uint8_t seed[8];
    const char *hash = strrchr(h->key_id, '#');
    char owner[BS_KEY_ID_MAX + 1];
    unsigned long epoch = 0;
    char *end;
    int rc;

    if (strcmp(h->key_source, "seed") != 0)
        return failf(v, err, BS_EKEY, 1,
                     "header: key_source \"%s\": only keys derived from the seed can be "
                     "checked",
                     h->key_source);
    if (bs_sig_alg_parse(h->alg, &v->alg) != 0 || v->alg == BS_SIG_NONE)
        return failf(v, err, BS_EFORMAT, 1, "header: unknown checkpoint algorithm \"%s\"", h->alg);
    if (!hash || hash == h->key_id || !hash[1])
        return failf(v, err, BS_EFORMAT, 1, "header: key_id \"%s\" is not OWNER#EPOCH", h->key_id);
    epoch = strtoul(hash + 1, &end, 10);
    if (*end || epoch > UINT32_MAX || hash[1] < '0' || hash[1] > '9')
        return failf(v, err, BS_EFORMAT, 1, "header: key_id \"%s\" is not OWNER#EPOCH", h->key_id);
    memcpy(owner, h->key_id, (size_t)(hash - h->key_id));
    owner[hash - h->key_id] = '\0';
    for (int i = 0; i < 8; i++)
        seed[i] = (uint8_t)(h->seed >> (56 - 8 * i));
    rc = bs_key_derive(v->alg, seed, sizeof(seed), owner, (uint32_t)epoch, 0, &v->key);
    if (rc)
        return failf(v, err, rc == BS_ECRYPTO ? BS_ECRYPTO : BS_EKEY, 1,
                     "header: cannot derive key %s: %s", h->key_id, bs_strerror(rc));
    if (strcmp(bs_key_id(v->key), h->key_id) != 0)
        return failf(v, err, BS_EKEY, 1, "header: key_id \"%s\" is not canonical", h->key_id);
    snprintf(v->key_id, sizeof(v->key_id), "%s", h->key_id);
    return 0;
}

static int check_header(struct bs_jverify *v, const struct bs_jline *h,
                        struct bs_jverify_error *err)
{
    static const uint8_t zero[32];

    if (h->kind != BS_J_HEADER)
        return failf(v, err, BS_EFORMAT, 1, "line 1 is a \"%s\" record, not the header",
                     bs_jkind_name(h->kind));
    if (h->seq != 0)
        return failf(v, err, BS_ESIG, 1, "header: seq %llu, expected 0",
                     (unsigned long long)h->seq);
    if (h->format != BS_JOURNAL_FORMAT)
        return failf(v, err, BS_EFORMAT, 1, "header: format %u, this reader knows format %d",
                     h->format, BS_JOURNAL_FORMAT);
    if (memcmp(h->prev, zero, 32) != 0)
        return failf(v, err, BS_ESIG, 1,
                     "header: prev is not all zeros: the file does not start here "
                     "(records before it were cut off, or it was edited)");
    if (!h->has_seed || !h->key_id[0] || !h->alg[0])
        return failf(v, err, BS_EFORMAT, 1, "header: no seed, alg or key_id");
    snprintf(v->node, sizeof(v->node), "%s", h->node);
    return derive_key(v, h, err);
}

static int check_checkpoint(struct bs_jverify *v, const char *line, const struct bs_jline *c,
                            bool prev_ok, struct bs_jverify_error *err)
{
    uint64_t j = v->lines;
    int rc;

    if (strcmp(c->key_id, v->key_id) != 0 || strcmp(c->alg, bs_sig_alg_name(v->alg)) != 0)
        return failf(v, err, BS_ESIG, j, "checkpoint signed by %s (%s), header names %s (%s)",
                     c->key_id, c->alg, v->key_id, bs_sig_alg_name(v->alg));
    if (!c->signature_len || !c->signed_len)
        return failf(v, err, BS_ESIG, j, "checkpoint without a signature");
    rc = bs_verify(v->key, (const uint8_t *)line, c->signed_len, c->signature, c->signature_len);
    if (rc == BS_ECRYPTO)
        return failf(v, err, BS_ECRYPTO, j, "checkpoint: OpenSSL failure while verifying");
    if (rc)
        return failf(v, err, BS_ESIG, j, "checkpoint signature does not verify: line edited");
    if (!prev_ok)
        return failf(v, err, BS_ESIG, j - 1,
                     "record altered: its SHA-256 does not match the signed checkpoint on "
                     "line %llu",
                     (unsigned long long)j);
    if (c->records != v->records)
        return failf(v, err, BS_ESIG, j,
                     "checkpoint counts %llu records, the file has %llu before it",
                     (unsigned long long)c->records, (unsigned long long)v->records);
    v->checkpoints++;
    if (c->final)
        v->closed = true;
    return 0;
}

int bs_jverify_line(struct bs_jverify *v, const char *line, size_t n, struct bs_jline *parsed,
                    struct bs_jverify_error *err)
{
    struct bs_jline *r;
    char why[160];
    uint8_t h[32];
    uint64_t j;
    bool prev_ok;
    int rc;

    if (!v || !line)
        return BS_EINVAL;
    if (v->failed)
        return BS_ESTATE;
    r = parsed ? parsed : &v->scratch;
    j = ++v->lines;
    rc = bs_jline_parse(line, n, r, why, sizeof(why));
    if (rc)
        return failf(v, err, BS_EFORMAT, j, "malformed record: %s", why);
    if (bs__jhash(v->hash, line, n, h) != 0)
        return failf(v, err, BS_ECRYPTO, j, "SHA-256 failed");
    if (j == 1) {
        rc = check_header(v, r, err);
        if (rc)
            return rc;
        memcpy(v->h_last, h, 32);
        v->header = true;
        return 0;
    }
    prev_ok = memcmp(r->prev, v->h_last, 32) == 0;
    if (v->pending && v->pending == j - 1) {
        /* See the file comment: which of the two lines changed. */
        uint64_t bad = prev_ok ? j - 2 : j - 1;
        return failf(v, err, BS_ESIG, bad,
                     "record altered: its SHA-256 does not match \"prev\" of line %llu",
                     (unsigned long long)bad + 1);
    }
    if (v->closed)
        return failf(v, err, BS_ESIG, j,
                     "record after the closing checkpoint: appended to a closed journal");
    if (r->seq != j - 1) {
        if (r->seq > j - 1)
            return failf(v, err, BS_ESIG, j,
                         "seq %llu where %llu was expected: %llu record(s) deleted before this "
                         "line, or records reordered",
                         (unsigned long long)r->seq, (unsigned long long)(j - 1),
                         (unsigned long long)(r->seq - (j - 1)));
        return failf(v, err, BS_ESIG, j,
                     "seq %llu where %llu was expected: records reordered, duplicated or "
                     "inserted",
                     (unsigned long long)r->seq, (unsigned long long)(j - 1));
    }
    if (r->kind == BS_J_HEADER)
        return failf(v, err, BS_ESIG, j, "a second header inside the journal");
    if (strcmp(r->node, v->node) != 0) {
        /* With the chain broken too, the node named by the line before is what changed
         * (the header's, when this is line 2). */
        if (!prev_ok)
            return failf(v, err, BS_ESIG, j - 1,
                         "record altered: its SHA-256 does not match \"prev\" of line %llu",
                         (unsigned long long)j);
        return failf(v, err, BS_ESIG, j, "record of node \"%s\" in the journal of \"%s\"", r->node,
                     v->node);
    }
    if (r->kind == BS_J_CHECKPOINT) {
        rc = check_checkpoint(v, line, r, prev_ok, err);
        if (rc)
            return rc;
    } else {
        if (!prev_ok)
            v->pending = j;
        v->records++;
    }
    memcpy(v->h_last, h, 32);
    return 0;
}

int bs_jverify_end(struct bs_jverify *v, bool torn, struct bs_jverify_error *err)
{
    if (!v)
        return BS_EINVAL;
    if (v->failed)
        return BS_ESTATE;
    if (v->pending)
        return failf(v, err, BS_ESIG, v->pending,
                     "chain broken: \"prev\" does not match line %llu (one of the two was "
                     "altered) and the journal has no closing checkpoint",
                     (unsigned long long)v->pending - 1);
    if (torn)
        return failf(v, err, BS_ESIG, v->lines + 1,
                     "torn last line (no newline at the end): the writer was interrupted or "
                     "the file was cut");
    if (v->lines == 0)
        return failf(v, err, BS_EFORMAT, 1, "empty journal: no header");
    if (!v->closed)
        return failf(v, err, BS_ESIG, v->lines,
                     "the journal ends without its closing checkpoint: the file was cut, its "
                     "last record(s) deleted, or the run did not finish");
    return 0;
}
