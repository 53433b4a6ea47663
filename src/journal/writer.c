/*
 * The journal writer: header, records chained by SHA-256, signed checkpoints, a buffer in
 * front of the program's sink, and the fsync policy. Format: docs/journal.md.
 *
 * The buffer only ever holds whole lines and the sink is only ever handed whole lines, so
 * a process that dies leaves at most one torn line at the end of the file (the operating
 * system may still cut a write short), which the reader reports.
 */
#include <stdio.h>
#include <string.h>

#include <bridgesim/crypto.h>
#include <bridgesim/journal.h>

#include "journal_int.h"

#define DEFAULT_BUFFER (64u * 1024u)
#define MAX_BUFFER     (64u * 1024u * 1024u)
/* ',"prev":"' + 64 hex + '"}' */
#define PREV_TAIL 75

enum wstate { W_OPEN, W_CLOSED, W_FAILED };

struct bs_jwriter {
    struct bs_jsink sink;
    struct bs_key *key;
    enum bs_jsync sync;
    uint32_t every;
    enum wstate state;
    char node[BS_JOURNAL_NAME_MAX + 1];
    char alg[16];
    uint64_t seq; /* seq of the last line buffered */
    uint64_t records;
    uint32_t since; /* records since the last checkpoint */
    bs_time_us last_t, last_wall;
    uint8_t prev[32]; /* SHA-256 of the last line, without its '\n' */
    struct bs__jhash *hash;
    char *buf;
    size_t cap, len;
};

static const char *const sync_names[] = { "none", "checkpoint", "every" };

const char *bs_jsync_name(enum bs_jsync s)
{
    if ((unsigned)s > BS_JSYNC_EVERY)
        return "unknown";
    return sync_names[s];
}

int bs_jsync_parse(const char *name, enum bs_jsync *ret)
{
    if (!name || !ret)
        return BS_EINVAL;
    for (unsigned i = 0; i <= BS_JSYNC_EVERY; i++) {
        if (strcmp(name, sync_names[i]) == 0) {
            *ret = (enum bs_jsync)i;
            return 0;
        }
    }
    return BS_ENOTFOUND;
}

static bool name_ok(const char *s, bool required)
{
    if (!s)
        return !required;
    return (required ? *s != '\0' : true) && strlen(s) <= BS_JOURNAL_NAME_MAX;
}

/* Hand the buffered lines to the sink. On failure the writer is broken for good: the
 * file now ends somewhere the chain cannot vouch for. */
static int drain(struct bs_jwriter *w)
{
    int rc;

    if (w->len == 0)
        return 0;
    rc = w->sink.write(w->sink.ctx, w->buf, w->len);
    if (rc < 0) {
        w->state = W_FAILED;
        return rc;
    }
    w->len = 0;
    return 0;
}

static int durable(struct bs_jwriter *w)
{
    int rc = drain(w);

    if (rc == 0 && w->sink.sync) {
        rc = w->sink.sync(w->sink.ctx);
        if (rc < 0)
            w->state = W_FAILED;
    }
    return rc;
}

/* Make room for one more line of at most BS_JOURNAL_LINE_MAX bytes and its '\n'. */
static int room(struct bs_jwriter *w)
{
    if (w->cap - w->len >= BS_JOURNAL_LINE_MAX + 1)
        return 0;
    return drain(w);
}

/*
 * The line body at buf + len (@body bytes, no closing brace yet) gets its chain field and
 * brace; the line is hashed and committed with its '\n'.
 */
static int commit(struct bs_jwriter *w, size_t body)
{
    char *line = w->buf + w->len;
    struct bs__jout o = { line + body, line + BS_JOURNAL_LINE_MAX, false };
    size_t n;
    int rc;

    bs__jlit(&o, ",\"prev\":\"");
    bs__jhex(&o, w->prev, 32);
    bs__jlit(&o, "\"}");
    if (o.overflow)
        return BS_ENOSPC;
    n = (size_t)(o.p - line);
    rc = bs__jhash(w->hash, line, n, w->prev);
    if (rc)
        return rc;
    line[n] = '\n';
    w->len += n + 1;
    w->seq++;
    return 0;
}

static void put_time(struct bs__jout *o, uint64_t seq, bs_time_us t, bs_time_us wall)
{
    char ts[28];

    bs__jlit(o, "{\"seq\":");
    bs__ju64(o, seq);
    bs__jkey(o, "t_us");
    bs__ju64(o, (uint64_t)t);
    bs_format_iso_time(t, ts);
    bs__jkey(o, "time");
    bs__jstr(o, ts, 27);
    if (wall) {
        bs__jkey(o, "wall_us");
        bs__ju64(o, (uint64_t)wall);
    }
}

static void put_kv(struct bs__jout *o, const char *k, const char *v)
{
    bs__jkey(o, k);
    bs__jstr(o, v ? v : "", v ? strlen(v) : 0);
}

/* A checkpoint: the chain head ("prev") and the record count, signed by the node's key;
 * the signature covers every byte of the line before ',"signature":'. */
static int checkpoint(struct bs_jwriter *w, bool final, bs_time_us t, bs_time_us wall)
{
    uint8_t sig[BS_SIG_MAX], h[32];
    size_t siglen, n;
    char *line;
    struct bs__jout o;
    int rc;

    rc = room(w);
    if (rc)
        return rc;
    line = w->buf + w->len;
    o = (struct bs__jout){ line, line + BS_JOURNAL_LINE_MAX, false };
    put_time(&o, w->seq + 1, t, wall);
    put_kv(&o, "node", w->node);
    put_kv(&o, "kind", "checkpoint");
    bs__jkey(&o, "records");
    bs__ju64(&o, w->records);
    bs__jkey(&o, "final");
    bs__jlit(&o, final ? "true" : "false");
    put_kv(&o, "alg", w->alg);
    put_kv(&o, "key_id", bs_key_id(w->key));
    bs__jlit(&o, ",\"prev\":\"");
    bs__jhex(&o, w->prev, 32);
    bs__jlit(&o, "\"");
    if (o.overflow)
        return BS_ENOSPC;
    rc = bs_sign(w->key, (const uint8_t *)line, (size_t)(o.p - line), sig, sizeof(sig), &siglen);
    if (rc)
        return rc == BS_ENOSPC ? BS_ECRYPTO : rc;
    bs__jlit(&o, ",\"signature\":\"");
    bs__jhex(&o, sig, siglen);
    bs__jlit(&o, "\"}");
    if (o.overflow)
        return BS_ENOSPC;
    n = (size_t)(o.p - line);
    rc = bs__jhash(w->hash, line, n, h);
    if (rc)
        return rc;
    memcpy(w->prev, h, 32);
    line[n] = '\n';
    w->len += n + 1;
    w->seq++;
    w->since = 0;
    if (w->sync != BS_JSYNC_NONE)
        return durable(w);
    return 0;
}

int bs_jwriter_new(const struct bs_jwriter_cfg *cfg, const struct bs_jheader *hdr,
                   struct bs_jwriter **ret)
{
    struct bs_jwriter *w;
    struct bs__jout o;
    size_t cap;
    char *line;
    int n;

    if (!cfg || !hdr || !ret || !cfg->sink.write || !cfg->key || !name_ok(hdr->node, true) ||
        !name_ok(hdr->role, false) || !name_ok(hdr->network, false) || !hdr->version ||
        strlen(hdr->version) > 31 || (hdr->scenario && strlen(hdr->scenario) > 95) ||
        (hdr->key_source && strlen(hdr->key_source) > 15) || (unsigned)cfg->sync > BS_JSYNC_EVERY ||
        (cfg->sync != BS_JSYNC_NONE && !cfg->sink.sync) ||
        cfg->checkpoint_every > BS_JOURNAL_CHECKPOINT_MAX)
        return BS_EINVAL;
    cap = cfg->buffer ? cfg->buffer : DEFAULT_BUFFER;
    if (cap < 2 * (BS_JOURNAL_LINE_MAX + 1))
        cap = 2 * (BS_JOURNAL_LINE_MAX + 1);
    if (cap > MAX_BUFFER)
        cap = MAX_BUFFER;
    w = bs_calloc(1, sizeof(*w));
    if (!w)
        return BS_ENOMEM;
    w->buf = bs_malloc(cap);
    if (!w->buf || bs__jhash_new(&w->hash) != 0) {
        bs_free(w->buf);
        bs_free(w);
        return BS_ENOMEM;
    }
    w->cap = cap;
    w->sink = cfg->sink;
    w->key = cfg->key;
    w->sync = cfg->sync;
    w->every = cfg->checkpoint_every ? cfg->checkpoint_every : BS_JOURNAL_CHECKPOINT_DEFAULT;
    snprintf(w->node, sizeof(w->node), "%s", hdr->node);
    snprintf(w->alg, sizeof(w->alg), "%s", bs_sig_alg_name(bs_key_alg(cfg->key)));
    w->last_t = hdr->t;
    w->last_wall = hdr->wall;

    line = w->buf;
    o = (struct bs__jout){ line, line + BS_JOURNAL_LINE_MAX, false };
    put_time(&o, 0, hdr->t, hdr->wall);
    put_kv(&o, "node", hdr->node);
    put_kv(&o, "kind", "header");
    bs__jkey(&o, "format");
    bs__ju64(&o, BS_JOURNAL_FORMAT);
    put_kv(&o, "bridgesim", hdr->version);
    put_kv(&o, "role", hdr->role);
    put_kv(&o, "network", hdr->network);
    put_kv(&o, "scenario", hdr->scenario);
    bs__jkey(&o, "scenario_sha256");
    bs__jlit(&o, "\"");
    bs__jhex(&o, hdr->scenario_sha256, 32);
    bs__jlit(&o, "\"");
    {
        /* A string: seeds use all 64 bits and JSON readers that hold numbers as doubles
         * (jq, JavaScript) would round them. */
        char seed[24];
        snprintf(seed, sizeof(seed), "%llu", (unsigned long long)hdr->seed);
        put_kv(&o, "seed", seed);
    }
    put_kv(&o, "mode", hdr->realtime ? "realtime" : "virtual");
    put_kv(&o, "alg", w->alg);
    put_kv(&o, "key_id", bs_key_id(cfg->key));
    put_kv(&o, "key_source", hdr->key_source ? hdr->key_source : "seed");
    bs__jkey(&o, "checkpoint_every");
    bs__ju64(&o, w->every);
    n = o.overflow ? BS_ENOSPC : (int)(o.p - line);
    /* The header's prev is all zeros (w->prev is zeroed) and it takes seq 0. */
    w->seq = (uint64_t)-1;
    if (n < 0 || commit(w, (size_t)n) != 0) {
        bs__jhash_free(w->hash);
        bs_free(w->buf);
        bs_free(w);
        return BS_EINVAL;
    }
    *ret = w;
    return 0;
}

int bs_jwriter_append(struct bs_jwriter *w, const struct bs_jrec *r)
{
    struct bs_jrec rec;
    int n, rc;

    if (!w || !r || (unsigned)r->kind >= BS_J_KIND_COUNT || r->kind == BS_J_HEADER ||
        r->kind == BS_J_CHECKPOINT || !name_ok(r->node, false) || !name_ok(r->peer, false))
        return BS_EINVAL;
    if (w->state != W_OPEN)
        return BS_ESTATE;
    rc = room(w);
    if (rc)
        return rc;
    rec = *r;
    rec.node = w->node;
    /* A journal names one node; a record about another node (the engine's links journal
     * records the sender of a lost message) keeps it as "from". */
    n = bs__journal_body(&rec, w->seq + 1,
                         r->node && strcmp(r->node, w->node) != 0 ? r->node : NULL, w->buf + w->len,
                         BS_JOURNAL_LINE_MAX - PREV_TAIL);
    if (n < 0)
        return n;
    rc = commit(w, (size_t)n);
    if (rc)
        return rc;
    w->records++;
    w->last_t = r->t;
    w->last_wall = r->wall;
    if (++w->since >= w->every) {
        rc = checkpoint(w, false, r->t, r->wall);
        if (rc) {
            w->state = W_FAILED;
            return rc;
        }
    }
    if (w->sync == BS_JSYNC_EVERY)
        return durable(w);
    return 0;
}

int bs_jwriter_flush(struct bs_jwriter *w)
{
    if (!w)
        return BS_EINVAL;
    if (w->state == W_FAILED)
        return BS_ESTATE;
    return drain(w);
}

int bs_jwriter_close(struct bs_jwriter *w, bs_time_us t, bs_time_us wall)
{
    int rc;

    if (!w)
        return BS_EINVAL;
    if (w->state != W_OPEN)
        return BS_ESTATE;
    /* Virtual time never runs backwards in a journal, even if the caller's clock did. */
    if (t < w->last_t)
        t = w->last_t;
    /* The checkpoint makes itself durable unless the policy is none. */
    rc = checkpoint(w, true, t, wall);
    if (rc == 0 && w->sync == BS_JSYNC_NONE)
        rc = drain(w);
    w->state = rc ? W_FAILED : W_CLOSED;
    return rc;
}

void bs_jwriter_free(struct bs_jwriter *w)
{
    if (!w)
        return;
    bs__jhash_free(w->hash);
    bs_free(w->buf);
    bs_free(w);
}

uint64_t bs_jwriter_records(const struct bs_jwriter *w)
{
    return w ? w->records : 0;
}
