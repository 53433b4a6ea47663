/*
 * The simulated world and its engine; see world.h.
 *
 * Node ids are indexes into w->nodes, assigned in a fixed order from the scenario (per
 * network: switch, issuers, acquirers, terminal pools; then the bridge), so a scenario
 * always gets the same ids and the same PRNG streams.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>

#include <jansson.h>
#include <uv.h>

#include <bridgesim/bridge.h>
#include <bridgesim/crypto.h>
#include <bridgesim/journal.h>
#include <bridgesim/money.h>
#include <bridgesim/network.h>

#include "common/fmt.h"
#include "engine/capacity.h"
#include "engine/cryptopool.h"
#include "engine/faults.h"
#include "engine/linkcap.h"
#include "engine/world.h"
#include "report/settlement_report.h"
#include "journal/jfile.h"
#include "workload/arrivals.h"
#include "workload/merchants.h"

/* Message buffers recycled by buf_get()/buf_put(): their size, and how many are kept. */
#define BUF_SMALL 512
#define BUF_KEEP  4096

enum node_role { ROLE_SWITCH, ROLE_ISSUER, ROLE_ACQUIRER, ROLE_TERMINALS, ROLE_BRIDGE };

struct wnode {
    struct bs_node *node;
    char name[BS_NODE_NAME_MAX + 1];
    enum node_role role;
    int net, idx;                     /* network and index within its role list */
    const struct bs_dist *processing; /* NULL: no processing delay */
    struct bs_rng rng;
    struct bs_key *rogue_key; /* signs during a wrong-key fault; owned by the world */
    struct bs_replay *replay; /* the node's replay cache (signing.replay_window) */
    struct bs_jfile *journal;
    uint64_t jseq;
    struct bs_capacity *cap;           /* workers and queue (capacity.h); NULL: unlimited */
    const struct bs_sc_proc_mti *pmti; /* per-MTI processing; NULL: none */
    struct bs_rng *mti_rng;            /* one stream per pmti entry ("node:NAME|MTI") */
};

/* One direction of a link (0: a → b, 1: b → a): the state its optional features keep. */
struct wdir {
    struct bs_rng lat_rng; /* split latency draws ("lat:FROM>TO") */
    struct bs_rng ge_rng;  /* Gilbert–Elliott draws ("ge:FROM>TO") */
    double prev;           /* the last latency, for correlation */
    bool has_prev;
    bool ge_bad;            /* Gilbert–Elliott state */
    struct bs_linkcap *cap; /* in-flight slots and bandwidth; NULL: unlimited */
};

struct wlink {
    uint32_t a, b;
    const struct bs_dist *latency;
    double loss;
    struct bs_rng rng;
    const struct bs_sc_link *sc; /* its scenario entry; NULL: a default link */
    struct wdir *dir;            /* [2], only when sc asks for a per-direction feature */
    enum bs_sig_alg alg;         /* what the link signs with (bs_scenario_link_signing) */
    uint8_t mac_len;
    struct bs_key *key[2];   /* current signing key from a (0) and from b (1) ... */
    bs_time_us key_until[2]; /* ... until the next rotation of either end */
    /* Real time with a crypto pool: messages from a (0) and from b (1) waiting for their
     * signatures, oldest first; sent in this order (cryptopool.c). */
    struct wjob *signing[2], *signing_tail[2];
};

struct bs_world {
    struct bs_env env; /* first: the nodes' env pointer is the world */
    const struct bs_scenario *sc;
    struct bs_run_opts opts;
    char out_dir[512];

    struct wnode *nodes;
    size_t nnodes;
    struct wlink *links;
    size_t nlinks;
    int32_t *linkmat; /* nnodes × nnodes → link index, -1 when not adjacent */

    struct bs_iso_dialect *dialects[BS_SC_MAX_NETWORKS];
    struct bs_faults *faults;
    struct bs_keystore *keys;
    struct bs_keystore *rogue; /* wrong-key faults: the same key ids, other secrets */
    struct bs_hsm *hsm;        /* PIN blocks (pin.enabled) */
    struct bs_bin_table sw_routes[BS_SC_MAX_NETWORKS];
    struct bs_bin_table bridge_routes;
    struct bs_card_population pops[BS_SC_MAX_NETWORKS][BS_SC_MAX_ISSUERS];

    uint32_t sw_id[BS_SC_MAX_NETWORKS];
    uint32_t iss_id[BS_SC_MAX_NETWORKS][BS_SC_MAX_ISSUERS];
    uint32_t acq_id[BS_SC_MAX_NETWORKS][BS_SC_MAX_ACQUIRERS];
    uint32_t term_id[BS_SC_MAX_NETWORKS][BS_SC_MAX_ACQUIRERS];
    uint32_t bridge_id;

    struct bs_queue q;
    struct bs_rng wl_rng;
    struct bs_rng arr_rng;    /* arrival times of time-varying processes */
    bool arr_primed;          /* the first of those was drawn (the start is not an arrival) */
    struct bs_rng cancel_rng; /* "workload:cancellation": when cardholders cancel */
    uint64_t arrivals;
    uint64_t next_trace;
    bool offering;
    bool started; /* the nodes had BS_ADMIN_START (network management sign-on) */
    bs_time_us end_time;

    struct bs_outcomes total;
    struct bs_outcomes flows[BS_SC_MAX_FLOWS];
    int64_t stats[BS_STAT_COUNT];
    uint64_t messages, dropped, jrecords;
    struct bs_jfile *links_journal;
    uint64_t links_jseq;
    bool io_error;

    double wall_seconds, cpu_seconds;
    bs_time_us sim_start, sim_end;
    uint64_t queue_dropped;
    double progress_wall; /* when the observer's progress hook ran last */
    /* Real time: the clock at the dispatch at hand (µs, monotonic, on the run's wall-clock
     * base); 0 in virtual time. env.now is the later of it and the event's due time. */
    bs_time_us rt_clock;
    bool interrupted;       /* stopped early by opts.stop or SIGINT */
    bs_time_us arrival_due; /* the due time of the arrival being dispatched */
    uint64_t rt_hr0;        /* real time: uv_hrtime() at the start, and ... */
    bs_time_us rt_t0;       /* ... the wall clock then (µs since the Unix epoch) */

    /* Real time with crypto threads: signing and verification off the loop. */
    struct bs_cpool *cpool;
    struct wjob *jobs, *jobs_free;    /* every job made (freed with the world); the unused */
    struct wjob *cur_verify;          /* the verification of the message being dispatched */
    double crypto_cpu_seconds;        /* the pool's threads, all together */
    unsigned crypto_threads;          /* how many the pool had; 0: none */
    struct bs_env_ops ops_pool;       /* env_ops with sign_send and verify */
    uint64_t link_dropped;            /* refused by a full link (capacity), in @dropped too */
    struct bs_settlement *settlement; /* clearing and settlement of the bridge's records */
    uint8_t *free_bufs[BUF_KEEP];     /* recycled message buffers (buf_get()) */
    size_t nfree_bufs;
};

static struct bs_world *world_of(struct bs_env *env)
{
    return (struct bs_world *)env;
}

static void errf(char *buf, size_t len, const char *fmt, ...)
{
    va_list ap;

    if (!buf || !len)
        return;
    va_start(ap, fmt);
    vsnprintf(buf, len, fmt, ap);
    va_end(ap);
}

/* ---- the environment the nodes see ---------------------------------------------------- */

/*
 * Message buffers: every message in flight has its own copy of its bytes (the sender's
 * buffer is its stack). Buffers of up to BUF_SMALL bytes (nearly every message) are
 * recycled through a free list instead of malloc() and free() per message; larger ones
 * are allocated to size. Either kind is a bs_malloc() block, so whoever holds one may
 * also bs_free() it (the queue does, for events left at the end).
 */
static uint8_t *buf_get(struct bs_world *w, size_t n)
{
    if (n > BUF_SMALL)
        return bs_malloc(n);
    if (w->nfree_bufs)
        return w->free_bufs[--w->nfree_bufs];
    return bs_malloc(BUF_SMALL);
}

/* Give back the buffer of a message event of @n bytes. */
static void buf_put(struct bs_world *w, uint8_t *buf, size_t n)
{
    if (buf && n <= BUF_SMALL && w->nfree_bufs < BUF_KEEP)
        w->free_bufs[w->nfree_bufs++] = buf;
    else
        bs_free(buf);
}

static void push_event(struct bs_world *w, struct bs_event *ev)
{
    if (bs_queue_push(&w->q, ev) != 0) {
        buf_put(w, ev->buf, ev->len);
        w->io_error = true;
    }
}

/* Append to a journal (docs/journal.md): the writer numbers, chains and checkpoints. */
static void write_journal(struct bs_world *w, struct bs_jfile *f, uint64_t *seq,
                          const struct bs_jrec *r)
{
    struct bs_jrec rec;

    if (!f)
        return;
    rec = *r;
    /* Wall time only in realtime mode: a virtual run replays byte for byte. */
    rec.wall = w->opts.realtime ? bs_jfile_wall_now() : 0;
    if (bs_jfile_append(f, &rec) != 0)
        w->io_error = true;
    ++*seq;
    w->jrecords++;
}

static void journal_drop(struct bs_world *w, uint32_t from, uint32_t to, uint64_t trace,
                         const struct bs_iso_msg *m, const char *why)
{
    struct bs_jrec r = { .kind = BS_J_DROP,
                         .t = w->env.now,
                         .node = w->nodes[from].name,
                         .peer = w->nodes[to].name,
                         .trace = trace,
                         .msg = m,
                         .note = why };

    write_journal(w, w->links_journal, &w->links_jseq, &r);
    w->dropped++;
}

/* Which of @wn's processing distributions message @m takes: 0 the default, i + 1 its
 * per-MTI entry i (scenario `processing: {"0100": ...}`). */
static uint32_t processing_index(const struct wnode *wn, const struct bs_iso_msg *m)
{
    if (!wn->pmti || !m)
        return 0;
    for (size_t i = 0; i < wn->pmti->n; i++)
        if (memcmp(wn->pmti->mti[i], m->mti, 4) == 0)
            return (uint32_t)i + 1;
    return 0;
}

/* A processing time (µs) of @wn from distribution @idx (processing_index()): the default
 * from the node's stream, a per-MTI one from that entry's own stream. */
static double processing_sample(struct wnode *wn, uint32_t idx)
{
    if (idx == 0 || !wn->pmti || idx > wn->pmti->n)
        return bs_dist_sample(wn->processing, bs_rng_next_cb, &wn->rng);
    return bs_dist_sample(&wn->pmti->d[idx - 1], bs_rng_next_cb, &wn->mti_rng[idx - 1]);
}

/* The latency (µs) of a message leaving @from on link @l with per-direction state @wd: the
 * direction's own distribution and stream when split, else the link's; then correlated
 * with the direction's previous message (configs/README.md, links). */
static double link_latency(struct wlink *l, struct wdir *wd, uint32_t from)
{
    const struct bs_sc_link *sl = l->sc;
    double x;

    if (sl->split)
        x = bs_dist_sample(from == l->a ? &sl->latency : &sl->latency_ba, bs_rng_next_cb,
                           &wd->lat_rng);
    else
        x = bs_dist_sample(l->latency, bs_rng_next_cb, &l->rng);
    x = bs_dist_correlate(sl->correlation, wd->has_prev, wd->prev, x);
    wd->prev = x;
    wd->has_prev = true;
    return x;
}

/* One message through the direction's Gilbert–Elliott chain: two draws from its stream. */
static bool ge_lost(const struct bs_sc_ge *ge, struct wdir *wd)
{
    double u_loss = bs_rng_unit(&wd->ge_rng);
    double u_move = bs_rng_unit(&wd->ge_rng);

    return bs_ge_step(ge, &wd->ge_bad, u_loss, u_move);
}

/* A message event's aux: it reaches the queue of a node with workers (admit() then
 * schedules its hand-over), rather than the node itself. */
#define MSG_ARRIVING 1

static void verify_ahead(struct bs_world *w, struct bs_event *ev);
static void jobs_free(struct bs_world *w);

static void push_message(struct bs_world *w, uint32_t from, uint32_t to, const uint8_t *buf,
                         size_t n, uint64_t trace, bs_time_us due, const struct bs_iso_msg *m)
{
    struct bs_event ev;

    memset(&ev, 0, sizeof(ev));
    ev.due = due;
    ev.kind = BS_EV_MESSAGE;
    ev.node = to;
    ev.from = from;
    ev.trace = trace;
    ev.len = (uint32_t)n;
    /* Which processing distribution admit() samples (the MTI is known here, not there),
     * above the MSG_ARRIVING bit: the cookie belongs to the crypto threads' verification. */
    ev.aux = w->nodes[to].cap ? MSG_ARRIVING | processing_index(&w->nodes[to], m) << 1 : 0;
    ev.buf = buf_get(w, n);
    if (!ev.buf) {
        w->io_error = true;
        return;
    }
    memcpy(ev.buf, buf, n);
    if (w->cpool && w->links[w->linkmat[(size_t)from * w->nnodes + to]].alg != BS_SIG_NONE)
        verify_ahead(w, &ev);
    push_event(w, &ev);
}

/* The dialect a node speaks on its links (the bridge speaks both: the sender's side). */
static const struct bs_iso_dialect *dialect_of(const struct bs_world *w, uint32_t node,
                                               uint32_t peer)
{
    int net = w->nodes[node].net;

    if (net < 0)
        net = w->nodes[peer].net;
    return net >= 0 ? w->dialects[net] : NULL;
}

static void env_send(struct bs_env *env, uint32_t from, uint32_t to, const uint8_t *buf, size_t n,
                     uint64_t trace, const struct bs_iso_msg *m)
{
    struct bs_world *w = world_of(env);
    int32_t li = w->linkmat[(size_t)from * w->nnodes + to];
    struct bs_msg_verdict v = { .corrupt = -1, .fault = -1 };
    struct wnode *dst = &w->nodes[to];
    struct wlink *l;
    struct wdir *wd;
    double delay, link_delay, u;
    bs_time_us due;

    if (li < 0) {
        /* Nodes only talk to neighbours; anything else is a wiring bug, journaled. */
        journal_drop(w, from, to, trace, m, "no link");
        return;
    }
    l = &w->links[li];
    wd = l->dir ? &l->dir[from == l->a ? 0 : 1] : NULL;
    /* One loss draw and one latency draw per message, always, so that a change of loss
     * probability does not shift the latency stream. */
    u = bs_rng_unit(&l->rng);
    delay = wd ? link_latency(l, wd, from) : bs_dist_sample(l->latency, bs_rng_next_cb, &l->rng);
    if (u < l->loss || (wd && l->sc->ge.enabled && ge_lost(&l->sc->ge, wd))) {
        journal_drop(w, from, to, trace, m, "lost on link");
        return;
    }
    link_delay = delay;
    if (w->faults) {
        bs_faults_on_send(w->faults, env->now, from, to, m, &v);
        if (v.drop) {
            char why[64];
            snprintf(why, sizeof(why), "fault %d (%s)", v.fault, v.drop);
            journal_drop(w, from, to, trace, m, why);
            return;
        }
        link_delay += v.extra_delay;
        delay += v.extra_delay + (dst->cap ? 0 : bs_faults_slow(w->faults, env->now, to));
    }
    /* A node with workers draws its service time when the message reaches its queue. */
    if (dst->processing && !dst->cap)
        delay += processing_sample(dst, processing_index(dst, m));
    due = env->now + (bs_time_us)llround(delay);
    if (wd && wd->cap) {
        /* The link's slots and line hold the message for its time on the link; the
         * receiver's processing follows its arrival. */
        bs_time_us arrive;

        if (bs_linkcap_send(wd->cap, env->now, n, (bs_time_us)llround(link_delay), &arrive)) {
            journal_drop(w, from, to, trace, m, "link full");
            w->link_dropped++;
            return;
        }
        /* Later by what the link's slots and line held it back: a link that never
         * fills delivers exactly when it would without a capacity. */
        due += arrive - (env->now + (bs_time_us)llround(link_delay));
    }
    if (v.corrupt >= 0) {
        uint8_t copy[BS_WIRE_MAX];
        size_t cn = n < sizeof(copy) ? n : sizeof(copy);
        memcpy(copy, buf, cn);
        bs_faults_apply_corruption(w->faults, v.fault, v.corrupt, dialect_of(w, from, to), copy,
                                   &cn);
        {
            /* Journaled where the damage happens, so a trace shows why a hop rejected it. */
            char why[64];
            struct bs_jrec r = { .kind = BS_J_FAULT,
                                 .t = env->now,
                                 .node = w->nodes[from].name,
                                 .peer = dst->name,
                                 .trace = trace,
                                 .msg = m,
                                 .note = why };
            snprintf(why, sizeof(why), "fault %d (corrupt %s)", v.fault,
                     bs_corrupt_mode_name(v.corrupt));
            write_journal(w, w->links_journal, &w->links_jseq, &r);
        }
        push_message(w, from, to, copy, cn, trace, due, m);
    } else {
        push_message(w, from, to, buf, n, trace, due, m);
    }
    if (v.duplicate) {
        /* The copy travels on its own: its own latency draw from the link's stream (or its
         * direction's), and its own slot on a link with capacity. */
        double d2 =
            wd ? link_latency(l, wd, from) : bs_dist_sample(l->latency, bs_rng_next_cb, &l->rng);
        bs_time_us due2 = env->now + (bs_time_us)llround(d2 + v.extra_delay);

        if (wd && wd->cap &&
            bs_linkcap_send(wd->cap, env->now, n, (bs_time_us)llround(d2 + v.extra_delay), &due2)) {
            journal_drop(w, from, to, trace, m, "link full");
            w->link_dropped++;
            return;
        }
        push_message(w, from, to, buf, n, trace, due2, m);
    }
}

static void env_timer(struct bs_env *env, uint32_t node, bs_time_us delay, uint32_t kind,
                      uint64_t cookie)
{
    struct bs_world *w = world_of(env);
    struct bs_event ev;

    memset(&ev, 0, sizeof(ev));
    ev.due = env->now + (delay > 0 ? delay : 0);
    ev.kind = BS_EV_TIMER;
    ev.node = node;
    ev.aux = kind;
    ev.cookie = cookie;
    push_event(w, &ev);
}

static void env_journal(struct bs_env *env, uint32_t node, const struct bs_jrec *rec)
{
    struct bs_world *w = world_of(env);
    struct wnode *wn = &w->nodes[node];

    write_journal(w, wn->journal, &wn->jseq, rec);
}

static void env_stat(struct bs_env *env, enum bs_stat s, int64_t delta)
{
    if ((unsigned)s < BS_STAT_COUNT)
        world_of(env)->stats[s] += delta;
}

static void count_outcome(struct bs_outcomes *o, unsigned type, const char *rc, bs_time_us latency)
{
    struct bs_type_outcomes *t = &o->by_type[type < BS_TXN_TYPE_COUNT ? type : 0];

    o->finished++;
    bs_hist_add(&o->latency, latency);
    if (!rc) {
        o->no_response++;
        t->no_response++;
        return;
    }
    if (rc[0] == '0' && rc[1] == '0')
        t->approved++;
    else
        t->declined++;
    if (rc[0] == '0' && rc[1] == '0')
        o->approved++;
    else
        o->declined++;
    if (rc[0] >= '0' && rc[0] <= '9' && rc[1] >= '0' && rc[1] <= '9' && !rc[2])
        o->by_rc[(rc[0] - '0') * 10 + (rc[1] - '0')]++;
    else
        o->other_rc++;
}

static void schedule_arrival(struct bs_world *w, bs_time_us at);

static void env_outcome(struct bs_env *env, uint32_t flow, unsigned type, const char *rc,
                        bs_time_us latency)
{
    struct bs_world *w = world_of(env);
    const struct bs_run_observer *ob = w->opts.observer;

    count_outcome(&w->total, type, rc, latency);
    if (flow < BS_SC_MAX_FLOWS)
        count_outcome(&w->flows[flow], type, rc, latency);
    /* Real time: env->now is the clock when the answer's event ran (dispatch()), so the
     * observer's latencies include the loop's lag. */
    if (ob && ob->outcome)
        ob->outcome(ob->ctx, flow, rc, env->now - latency, env->now);
    /* Closed loop: the terminal starts its next transaction at once; one that failed
     * without leaving the terminal waits 1 ms, so time moves on. */
    if (w->opts.concurrency && w->offering)
        schedule_arrival(w, env->now + (latency > 0 ? 0 : BS_US_PER_MS));
}

static const char *env_node_name(struct bs_env *env, uint32_t id)
{
    struct bs_world *w = world_of(env);

    return id < w->nnodes ? w->nodes[id].name : "?";
}

static const struct bs_env_ops env_ops = {
    .send = env_send,
    .timer = env_timer,
    .journal = env_journal,
    .stat = env_stat,
    .outcome = env_outcome,
    .node_name = env_node_name,
};

/* ---- building ---------------------------------------------------------------------------- */

static int add_node(struct bs_world *w, const char *name, enum node_role role, int net, int idx,
                    const struct bs_dist *processing, uint32_t *ret)
{
    struct wnode *wn;
    char stream[128];

    wn = &w->nodes[w->nnodes];
    memset(wn, 0, sizeof(*wn));
    if (strlen(name) > BS_NODE_NAME_MAX)
        return BS_EINVAL;
    snprintf(wn->name, sizeof(wn->name), "%s", name);
    wn->role = role;
    wn->net = net;
    wn->idx = idx;
    wn->processing = processing;
    snprintf(stream, sizeof(stream), "node:%s", name);
    bs_rng_seed(&wn->rng, w->sc->seed, stream);
    *ret = (uint32_t)w->nnodes++;
    return 0;
}

static int32_t find_node(const struct bs_world *w, const char *name)
{
    for (size_t i = 0; i < w->nnodes; i++)
        if (strcmp(w->nodes[i].name, name) == 0)
            return (int32_t)i;
    return -1;
}

static int add_link(struct bs_world *w, uint32_t a, uint32_t b, const struct bs_dist *lat,
                    double loss)
{
    int32_t li = w->linkmat[(size_t)a * w->nnodes + b];
    struct wlink *l;
    char stream[2 * (BS_NODE_NAME_MAX + 1) + 8];

    if (li < 0) {
        li = (int32_t)w->nlinks++;
        w->linkmat[(size_t)a * w->nnodes + b] = li;
        w->linkmat[(size_t)b * w->nnodes + a] = li;
    }
    l = &w->links[li];
    l->a = a;
    l->b = b;
    l->latency = lat;
    l->loss = loss;
    /* The stream is named by the link's endpoints in sorted order, so it does not depend
     * on where the link appears in the file or on other links. */
    if (strcmp(w->nodes[a].name, w->nodes[b].name) < 0)
        snprintf(stream, sizeof(stream), "link:%s|%s", w->nodes[a].name, w->nodes[b].name);
    else
        snprintf(stream, sizeof(stream), "link:%s|%s", w->nodes[b].name, w->nodes[a].name);
    bs_rng_seed(&l->rng, w->sc->seed, stream);
    return 0;
}

/*
 * The per-direction state of a scenario link that asks for any of: latency per direction,
 * correlation, Gilbert–Elliott loss, capacity. Each feature draws from its own streams,
 * named by the direction ("lat:FROM>TO", "ge:FROM>TO"), so turning one on changes no other
 * draw, and a link without them keeps exactly the draws it always had.
 */
static int link_features(struct bs_world *w, struct wlink *l, const struct bs_sc_link *sl,
                         char *errbuf, size_t errlen)
{
    char stream[2 * (BS_NODE_NAME_MAX + 1) + 8];

    l->sc = sl;
    if (!sl->split && sl->correlation <= 0 && !sl->ge.enabled && !sl->cap.max_in_flight &&
        !sl->cap.bytes_per_s)
        return 0;
    l->dir = bs_calloc(2, sizeof(*l->dir));
    if (!l->dir)
        return BS_ENOMEM;
    for (int d = 0; d < 2; d++) {
        const char *from = w->nodes[d ? l->b : l->a].name, *to = w->nodes[d ? l->a : l->b].name;
        int rc;

        snprintf(stream, sizeof(stream), "lat:%s>%s", from, to);
        bs_rng_seed(&l->dir[d].lat_rng, w->sc->seed, stream);
        snprintf(stream, sizeof(stream), "ge:%s>%s", from, to);
        bs_rng_seed(&l->dir[d].ge_rng, w->sc->seed, stream);
        if (!sl->cap.max_in_flight && !sl->cap.bytes_per_s)
            continue;
        rc = bs_linkcap_new(&sl->cap, &l->dir[d].cap);
        if (rc) {
            errf(errbuf, errlen, "%s:%d:%d: link capacity: %s", w->sc->path, sl->line, sl->column,
                 bs_strerror(rc));
            return rc;
        }
    }
    return 0;
}

static int load_dialect(const char *spec, const char *dir, struct bs_iso_dialect **ret,
                        char *errbuf, size_t errlen)
{
    char path[1024];
    FILE *f;
    char *text = NULL;
    long size;
    int rc;

    if (strchr(spec, '/') || strstr(spec, ".yaml"))
        snprintf(path, sizeof(path), "%s", spec);
    else
        snprintf(path, sizeof(path), "%s/%s.yaml", dir, spec);
    f = fopen(path, "rb");
    if (!f) {
        errf(errbuf, errlen, "%s: cannot open dialect: %s", path, strerror(errno));
        return BS_EIO;
    }
    if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0 ||
        size > 4 * 1024 * 1024) {
        fclose(f);
        errf(errbuf, errlen, "%s: cannot read dialect (or larger than 4 MiB)", path);
        return BS_EIO;
    }
    text = bs_malloc((size_t)size + 1);
    if (!text) {
        fclose(f);
        return BS_ENOMEM;
    }
    if (fread(text, 1, (size_t)size, f) != (size_t)size) {
        fclose(f);
        bs_free(text);
        errf(errbuf, errlen, "%s: read error", path);
        return BS_EIO;
    }
    fclose(f);
    text[size] = '\0';
    rc = bs_iso_dialect_parse(text, (size_t)size, path, ret, errbuf, errlen);
    bs_free(text);
    return rc;
}

static int mkdir_p(const char *path)
{
    char tmp[512];
    size_t n = strlen(path);

    if (n >= sizeof(tmp))
        return BS_EINVAL;
    memcpy(tmp, path, n + 1);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
            return BS_EIO;
        *p = '/';
    }
    if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
        return BS_EIO;
    return 0;
}

/* Open journals/<name>.jsonl; @cfg holds everything but the path and the node's part of
 * the header. Checkpoints are signed with @key, or a key derived from the seed (jfile.h). */
static int open_journal(struct bs_world *w, struct bs_jfile_cfg *cfg, const char *name,
                        const char *role, int net, struct bs_key *key, struct bs_jfile **ret,
                        char *errbuf, size_t errlen)
{
    char path[1024];

    snprintf(path, sizeof(path), "%s/journals/%s.jsonl", w->out_dir, name);
    cfg->path = path;
    cfg->hdr.node = name;
    cfg->hdr.role = role;
    cfg->hdr.network = net >= 0 ? w->sc->networks[net].name : NULL;
    cfg->key = key;
    return bs_jfile_open(cfg, ret, errbuf, errlen);
}

static void timers_of(const struct bs_scenario *sc, struct bs_timer_set out[2])
{
    for (int c = 0; c < 2; c++) {
        out[c].issuer = sc->timers[c].issuer;
        out[c].stand_in = sc->timers[c].stand_in;
        out[c].bridge = sc->timers[c].bridge;
        out[c].acquirer = sc->timers[c].acquirer;
        out[c].terminal = sc->timers[c].terminal;
    }
}

/* Reversal policy shared by every originator (interop.md §7.4): 5 s, doubling, 6 repeats. */
#define REV_REPEATS     6
#define REV_BACKOFF     (5 * BS_US_PER_SEC)
#define REV_BACKOFF_MAX (60 * BS_US_PER_SEC)

/* ---- keys (issue #9; docs/security.md) ------------------------------------------------------
 *
 * Every link signs with one algorithm (bs_scenario_link_signing()): an asymmetric one with
 * the sending node's own key ("<node>#<epoch>", or "<node>@<alg>#<epoch>" for an algorithm
 * other than the default), a MAC with the zone key the link's two ends share
 * ("<a>~<b>#<epoch>"). A rotation of a node moves every key it signs with to the next epoch
 * at `at` (a zone key's epoch counts the rotations of both ends); each epoch verifies from
 * its rotation until the next rotation plus its overlap (bs_keystore_set_validity()).
 * Keys are derived from the seed (HKDF), or asymmetric ones loaded from signing.key_dir.
 */

static bool alg_is_mac(enum bs_sig_alg alg)
{
    return alg == BS_SIG_HMAC_SHA256 || alg == BS_SIG_AES_CMAC;
}

static void seed_bytes(const struct bs_world *w, uint8_t seed[8])
{
    for (int i = 0; i < 8; i++)
        seed[i] = (uint8_t)(w->sc->seed >> (56 - 8 * i));
}

/* Rotation times of @node (absolute µs): at[i], and the end of the previous epoch's overlap. */
static uint32_t node_rotations(const struct bs_world *w, const char *node, bs_time_us *at,
                               bs_time_us *until)
{
    uint32_t n = bs_scenario_rotations(w->sc, node);

    for (uint32_t i = 0; i < n; i++) {
        bs_time_us a, ov;
        bs_scenario_rotation(w->sc, node, i, &a, &ov);
        at[i] = w->sc->start_time + a;
        until[i] = at[i] + ov;
    }
    return n;
}

/* The validity of epoch @e of a key whose epochs change at @at[0..n) (overlaps @until). */
static void epoch_validity(uint32_t e, uint32_t n, const bs_time_us *at, const bs_time_us *until,
                           bs_time_us *nb, bs_time_us *na)
{
    *nb = e == 0 ? INT64_MIN : at[e - 1];
    *na = e >= n ? INT64_MAX : until[e];
}

/* Read signing.key_dir/<owner>.<epoch>.pem (relative to the scenario file's directory). */
static int pem_key(struct bs_world *w, enum bs_sig_alg alg, const char *owner, uint32_t epoch,
                   struct bs_key **ret, char *errbuf, size_t errlen)
{
    const char *dir = w->sc->signing.key_dir;
    char path[1200], id[BS_KEY_ID_MAX + 2];
    char *pem;
    size_t len = 0;
    FILE *f;
    int rc;

    if (dir[0] == '/') {
        snprintf(path, sizeof(path), "%s/%s.%u.pem", dir, owner, epoch);
    } else {
        const char *slash = strrchr(w->sc->path, '/');
        int plen = slash ? (int)(slash - w->sc->path) : 1;
        snprintf(path, sizeof(path), "%.*s/%s/%s.%u.pem", plen, slash ? w->sc->path : ".", dir,
                 owner, epoch);
    }
    snprintf(id, sizeof(id), "%s#%u", owner, epoch);
    pem = bs_malloc(BS_KEY_PEM_IN_MAX + 1);
    if (!pem)
        return BS_ENOMEM;
    f = fopen(path, "rb");
    if (!f) {
        errf(errbuf, errlen, "%s: cannot open key file: %s (bridgesim keygen writes one)", path,
             strerror(errno));
        bs_free(pem);
        return BS_EIO;
    }
    len = fread(pem, 1, BS_KEY_PEM_IN_MAX + 1, f);
    fclose(f);
    rc = len > BS_KEY_PEM_IN_MAX ? BS_ELIMIT : bs_key_pem_load(pem, len, id, ret);
    /* The file held a private key: wipe our copy. */
    bs_wipe(pem, BS_KEY_PEM_IN_MAX + 1);
    bs_free(pem);
    if (rc) {
        errf(errbuf, errlen, "%s: %s", path, bs_strerror(rc));
        return rc;
    }
    if (bs_key_alg(*ret) != alg) {
        errf(errbuf, errlen, "%s: holds an %s key; this scenario signs with %s", path,
             bs_sig_alg_name(bs_key_alg(*ret)), bs_sig_alg_name(alg));
        bs_key_free(*ret);
        return BS_EINVAL;
    }
    return 0;
}

/* Put key "<owner>#<epoch>" in the store unless it is there, with its validity. */
static int add_key(struct bs_world *w, enum bs_sig_alg alg, const char *owner, uint32_t epoch,
                   size_t mac_len, bs_time_us nb, bs_time_us na, char *errbuf, size_t errlen)
{
    char id[BS_KEY_ID_MAX + 2];
    uint8_t seed[8];
    struct bs_key *k;
    int rc;

    snprintf(id, sizeof(id), "%s#%u", owner, epoch);
    if (!bs_keystore_get(w->keys, id)) {
        seed_bytes(w, seed);
        if (w->sc->signing.key_dir[0] && !alg_is_mac(alg))
            rc = pem_key(w, alg, owner, epoch, &k, errbuf, errlen);
        else
            rc = bs_key_derive(alg, seed, sizeof(seed), owner, epoch, mac_len, &k);
        if (rc) {
            if (rc != BS_EIO && rc != BS_ELIMIT && rc != BS_EFORMAT && rc != BS_EINVAL)
                errf(errbuf, errlen, "key %s: %s", id, bs_strerror(rc));
            else if (rc == BS_EINVAL && !w->sc->signing.key_dir[0])
                errf(errbuf, errlen, "key %s: %s (a key id has at most %d characters)", id,
                     bs_strerror(rc), BS_KEY_ID_MAX);
            return rc;
        }
        rc = bs_keystore_add(w->keys, k);
        if (rc)
            return rc;
    }
    return bs_keystore_set_validity(w->keys, id, nb, na);
}

/* The keys link @l signs with, both directions, every epoch. */
static int link_keys(struct bs_world *w, struct wlink *l, char *errbuf, size_t errlen)
{
    const char *na = w->nodes[l->a].name, *nb = w->nodes[l->b].name;
    bs_time_us at[2 * BS_SC_MAX_ROTATIONS], until[2 * BS_SC_MAX_ROTATIONS], lo, hi;
    char owner[BS_KEY_ID_MAX + 1];
    size_t mac_len;
    uint32_t n;
    int rc;

    bs_scenario_link_signing(w->sc, na, nb, &l->alg, &mac_len);
    l->mac_len = (uint8_t)mac_len;
    if (l->alg == BS_SIG_NONE)
        return 0;
    if (alg_is_mac(l->alg)) {
        /* One zone key: its epochs follow the rotations of both ends, in time order. */
        bs_time_us at2[BS_SC_MAX_ROTATIONS], until2[BS_SC_MAX_ROTATIONS];
        uint32_t n1 = node_rotations(w, na, at, until), n2 = node_rotations(w, nb, at2, until2);

        for (uint32_t j = 0; j < n2; j++) {
            uint32_t i = n1 + j;
            for (; i > 0 && at[i - 1] > at2[j]; i--) {
                at[i] = at[i - 1];
                until[i] = until[i - 1];
            }
            at[i] = at2[j];
            until[i] = until2[j];
            n1++;
        }
        n = n1;
        rc = bs_scenario_key_owner(w->sc, na, nb, l->alg, owner, sizeof(owner));
        for (uint32_t e = 0; rc == 0 && e <= n; e++) {
            epoch_validity(e, n, at, until, &lo, &hi);
            rc = add_key(w, l->alg, owner, e, mac_len, lo, hi, errbuf, errlen);
        }
        return rc;
    }
    for (int end = 0; end < 2; end++) {
        const char *node = end ? nb : na;

        n = node_rotations(w, node, at, until);
        rc = bs_scenario_key_owner(w->sc, node, NULL, l->alg, owner, sizeof(owner));
        for (uint32_t e = 0; rc == 0 && e <= n; e++) {
            epoch_validity(e, n, at, until, &lo, &hi);
            rc = add_key(w, l->alg, owner, e, 0, lo, hi, errbuf, errlen);
        }
        if (rc)
            return rc;
    }
    return 0;
}

static struct bs_key *env_link_key(struct bs_env *env, uint32_t from, uint32_t to);
static int build_rogue_keys(struct bs_world *w, uint32_t id);

/* An upper bound of @d (µs): its max when it has one, else twenty times its mean, far in
 * the tail of every distribution a scenario can give (configs/README.md "Distributions"). */
static bs_time_us dist_bound(const struct bs_dist *d)
{
    double v = d->has_max ? d->max : 20.0 * bs_dist_mean(d);

    return v > 0 && v < 1e15 ? (bs_time_us)v : 0;
}

/*
 * How long issuers, the bridge and the settlement keep a finished transaction: the longest
 * time after it was first seen that a repeat, a duplicate, a late response, a reversal
 * (repeats included) or a stand-in advice of it can still arrive, and no longer, so memory
 * is bounded by the rate times this, not by the run length (issue #8). It adds up:
 *  - the terminal timer of the slower channel (nesting puts every other timer inside it);
 *  - the reversal schedule after it: the last of REV_REPEATS repeats goes out the sum of
 *    REV_REPEATS backoffs (doubling from REV_BACKOFF, capped at REV_BACKOFF_MAX) after the
 *    first reversal;
 *  - every link's and node's worst delay (distribution max or bound), both ways: in
 *    virtual time nothing else delays a message;
 *  - every fault window (a partition, sign-off or crash holds repeats and advices for as
 *    long as it lasts) and every fault's extra delay;
 *  - half a minute of margin.
 * The default scenario gives about five minutes (it was a fixed 15 before).
 */
static bs_time_us retention_of(const struct bs_scenario *sc)
{
    bs_time_us t = 0, b = REV_BACKOFF;

    for (int c = 0; c < BS_CH_COUNT; c++) {
        if (sc->timers[c].terminal > t)
            t = sc->timers[c].terminal;
        if (sc->timers[c].acquirer > t)
            t = sc->timers[c].acquirer;
    }
    for (int k = 0; k < REV_REPEATS; k++) {
        t += b;
        b = b * 2 < REV_BACKOFF_MAX ? b * 2 : REV_BACKOFF_MAX;
    }
    /* A path crosses at most five links each way (terminals to issuer); unlisted links
     * take the default latency. */
    t += 2 * 5 * dist_bound(&sc->default_latency);
    for (size_t i = 0; i < sc->nlinks; i++)
        t += 2 * dist_bound(&sc->links[i].latency);
    t += dist_bound(&sc->bridge.processing);
    for (size_t n = 0; n < sc->nnetworks; n++) {
        const struct bs_sc_network *net = &sc->networks[n];
        t += dist_bound(&net->switch_processing);
        for (size_t i = 0; i < net->nissuers; i++)
            t += dist_bound(&net->issuers[i].processing);
        for (size_t i = 0; i < net->nacquirers; i++)
            t += dist_bound(&net->acquirers[i].processing);
    }
    for (size_t i = 0; i < sc->nfaults; i++) {
        t += sc->faults[i].sel.duration;
        if (sc->faults[i].kind == BS_FAULT_DELAY || sc->faults[i].kind == BS_FAULT_REORDER ||
            sc->faults[i].kind == BS_FAULT_SLOW)
            t += dist_bound(&sc->faults[i].delay);
    }
    return t + 30 * BS_US_PER_SEC;
}

/* A cardholder cancels an approved purchase 1 to 10 s after the approval, uniformly: at the
 * terminal, while the acquirer still holds the transaction (configs/README.md `mix`). */
#define CANCEL_MIN (1 * BS_US_PER_SEC)
#define CANCEL_MAX (10 * BS_US_PER_SEC)

static int build_keys(struct bs_world *w, char *errbuf, size_t errlen)
{
    const struct bs_sc_signing *sg = &w->sc->signing;
    bool any = w->sc->sig_alg != BS_SIG_NONE;
    uint8_t seed[8];
    int rc;

    for (size_t n = 0; n < BS_SC_MAX_NETWORKS; n++)
        any |= sg->net_set[n] && sg->net_alg[n] != BS_SIG_NONE;
    for (size_t i = 0; i < sg->nlinks; i++) {
        int32_t a = find_node(w, sg->links[i].a), b = find_node(w, sg->links[i].b);
        if (a < 0 || b < 0 || w->linkmat[(size_t)a * w->nnodes + (size_t)b] < 0) {
            errf(errbuf, errlen, "%s:%d:%d: signing.links: %s and %s are not linked", w->sc->path,
                 sg->links[i].line, sg->links[i].column, sg->links[i].a, sg->links[i].b);
            return BS_EINVAL;
        }
        any |= sg->links[i].alg != BS_SIG_NONE;
    }
    if (!any)
        return 0;
    rc = bs_keystore_new(&w->keys);
    if (rc)
        return rc;
    /* Each node's own key of the default algorithm, epoch 0: its journal checkpoints are
     * signed with it (derived from the seed, so `bridgesim log verify` can re-derive it). */
    seed_bytes(w, seed);
    for (size_t i = 0; i < w->nnodes && w->sc->sig_alg != BS_SIG_NONE && !sg->key_dir[0]; i++) {
        struct bs_key *k;
        rc = bs_key_derive(w->sc->sig_alg, seed, sizeof(seed), w->nodes[i].name, 0, 0, &k);
        if (rc) {
            errf(errbuf, errlen, "key for %s: %s", w->nodes[i].name, bs_strerror(rc));
            return rc;
        }
        rc = bs_keystore_add(w->keys, k);
        if (rc)
            return rc;
    }
    for (size_t li = 0; li < w->nlinks; li++) {
        rc = link_keys(w, &w->links[li], errbuf, errlen);
        if (rc)
            return rc;
    }
    w->env.link_key = env_link_key;
    return 0;
}

/* The checkpoint key of node @id's journal, and the key a node is built with. With key
 * files, NULL: the journal derives its checkpoint key from the seed instead (jfile.h). */
static struct bs_key *key_of(struct bs_world *w, uint32_t id)
{
    char kid[BS_KEY_ID_MAX + 1];

    if (!w->keys || w->sc->signing.key_dir[0])
        return NULL;
    snprintf(kid, sizeof(kid), "%s#0", w->nodes[id].name);
    return bs_keystore_get(w->keys, kid);
}

/* env->link_key: the key @from signs with towards @to now (cached until its next epoch). */
static struct bs_key *env_link_key(struct bs_env *env, uint32_t from, uint32_t to)
{
    struct bs_world *w = world_of(env);
    int32_t li = w->linkmat[(size_t)from * w->nnodes + to];
    char owner[BS_KEY_ID_MAX + 1], id[BS_KEY_ID_MAX + 2];
    struct wlink *l;
    struct bs_key *k;
    int d;

    if (li < 0)
        return NULL;
    l = &w->links[li];
    if (l->alg == BS_SIG_NONE)
        return NULL;
    d = from == l->a ? 0 : 1;
    if (!l->key[d] || env->now >= l->key_until[d]) {
        const char *me = w->nodes[from].name, *peer = w->nodes[to].name;
        bs_time_us t = env->now - w->sc->start_time, next = INT64_MAX, at, ov;
        uint32_t epoch = bs_scenario_epoch_at(w->sc, me, t);

        if (alg_is_mac(l->alg)) {
            epoch += bs_scenario_epoch_at(w->sc, peer, t);
            bs_scenario_key_owner(w->sc, me, peer, l->alg, owner, sizeof(owner));
        } else {
            bs_scenario_key_owner(w->sc, me, NULL, l->alg, owner, sizeof(owner));
        }
        /* The key stays the same until the next rotation of either end. */
        for (int e = 0; e < 2; e++)
            for (uint32_t i = 0; bs_scenario_rotation(w->sc, e ? peer : me, i, &at, &ov) == 0; i++)
                if (at > t && w->sc->start_time + at < next)
                    next = w->sc->start_time + at;
        snprintf(id, sizeof(id), "%s#%u", owner, epoch);
        l->key[d] = bs_keystore_get(w->keys, id);
        l->key_until[d] = next;
    }
    k = l->key[d];
    /* A wrong-key fault: the same key id with another secret (built in build_faults()). */
    if (k && w->rogue && bs_faults_wrong_key(w->faults, env->now, from)) {
        struct bs_key *r = bs_keystore_get(w->rogue, bs_key_id(k));
        if (r)
            k = r;
    }
    return k;
}

/*
 * Blocked cards and daily limits of issuer (n, i), each from a stream of its own, so these
 * keys change no other draw (and one of them not the other's).
 */
static int restrict_cards(struct bs_world *w, int n, int i)
{
    const struct bs_sc_issuer *si = &w->sc->networks[n].issuers[i];
    struct bs_node *node = w->nodes[w->iss_id[n][i]].node;
    double blocked = si->blocked_share, lost = blocked + si->lost_share,
           stolen = lost + si->stolen_share;
    struct bs_rng st, lim;
    char stream[128];

    if (stolen <= 0 && !si->has_daily_limit)
        return 0;
    snprintf(stream, sizeof(stream), "card-status:%s.%s", w->sc->networks[n].name, si->id);
    bs_rng_seed(&st, w->sc->seed, stream);
    snprintf(stream, sizeof(stream), "card-limits:%s.%s", w->sc->networks[n].name, si->id);
    bs_rng_seed(&lim, w->sc->seed, stream);
    for (uint64_t c = 0; c < si->cards; c++) {
        enum bs_card_status s = BS_CARD_ACTIVE;
        int64_t limit = 0;
        int rc;

        if (stolen > 0) {
            double u = bs_rng_unit(&st);
            s = u < blocked  ? BS_CARD_RESTRICTED
                : u < lost   ? BS_CARD_LOST
                : u < stolen ? BS_CARD_STOLEN
                             : BS_CARD_ACTIVE;
        }
        if (si->has_daily_limit) {
            /* 0 would mean "no limit": a draw below one minor unit is one. */
            limit = llround(bs_dist_sample(&si->daily_limit, bs_rng_next_cb, &lim));
            if (limit < 1)
                limit = 1;
        }
        if (s != BS_CARD_ACTIVE || limit) {
            rc = bs_issuer_card_restrict(node, c, s, limit);
            if (rc)
                return rc;
        }
    }
    return 0;
}

/* Open every account of issuer (n, i): balances and expiry dates from its own stream. */
static int open_cards(struct bs_world *w, int n, int i)
{
    const struct bs_sc_issuer *si = &w->sc->networks[n].issuers[i];
    struct bs_node *node = w->nodes[w->iss_id[n][i]].node;
    struct bs_rng rng;
    char stream[128];
    int y, mo, rc;

    snprintf(stream, sizeof(stream), "cards:%s.%s", w->sc->networks[n].name, si->id);
    bs_rng_seed(&rng, w->sc->seed, stream);
    /* Expiry dates relative to the run's clock: the virtual epoch, or today in real time
     * (a realtime run's DE 7 is the wall clock, so its cards must be valid today). */
    {
        bs_time_us epoch = w->sc->start_time;
        if (w->sc->realtime) {
            struct timeval tv;
            gettimeofday(&tv, NULL);
            epoch = (bs_time_us)tv.tv_sec * BS_US_PER_SEC + tv.tv_usec;
        }
        bs_civil_from_us(epoch, 0, &y, &mo, NULL, NULL, NULL, NULL, NULL);
    }
    for (uint64_t c = 0; c < si->cards; c++) {
        double bal = bs_dist_sample(&si->balance, bs_rng_next_cb, &rng);
        bool expired = bs_rng_unit(&rng) < si->expired_share;
        int months =
            expired ? -(int)(1 + bs_rng_below(&rng, 24)) : (int)(1 + bs_rng_below(&rng, 60));
        int total = y * 12 + (mo - 1) + months;
        uint16_t yymm = (uint16_t)((total / 12) % 100 * 100 + total % 12 + 1);
        rc = bs_issuer_card_open(node, c, (int64_t)llround(bal), yymm);
        if (rc)
            return rc;
    }
    return restrict_cards(w, n, i);
}

static int build_nodes(struct bs_world *w, char *errbuf, size_t errlen)
{
    const struct bs_scenario *sc = w->sc;
    char name[BS_NODE_NAME_MAX + 2];
    int rc;

    for (size_t n = 0; n < sc->nnetworks; n++) {
        const struct bs_sc_network *net = &sc->networks[n];
        snprintf(name, sizeof(name), "%s.switch", net->name);
        rc = add_node(w, name, ROLE_SWITCH, (int)n, 0, &net->switch_processing, &w->sw_id[n]);
        for (size_t i = 0; rc == 0 && i < net->nissuers; i++) {
            snprintf(name, sizeof(name), "%s.%s", net->name, net->issuers[i].id);
            rc = add_node(w, name, ROLE_ISSUER, (int)n, (int)i, &net->issuers[i].processing,
                          &w->iss_id[n][i]);
        }
        for (size_t i = 0; rc == 0 && i < net->nacquirers; i++) {
            snprintf(name, sizeof(name), "%s.%s", net->name, net->acquirers[i].id);
            rc = add_node(w, name, ROLE_ACQUIRER, (int)n, (int)i, &net->acquirers[i].processing,
                          &w->acq_id[n][i]);
            snprintf(name, sizeof(name), "%s.%s.terminals", net->name, net->acquirers[i].id);
            rc = rc ? rc
                    : add_node(w, name, ROLE_TERMINALS, (int)n, (int)i, NULL, &w->term_id[n][i]);
        }
        if (rc) {
            errf(errbuf, errlen, "node name too long in network %s", net->name);
            return rc;
        }
    }
    rc = add_node(w, "bridge", ROLE_BRIDGE, -1, 0, &sc->bridge.processing, &w->bridge_id);
    if (rc)
        return rc;

    w->linkmat = bs_malloc(w->nnodes * w->nnodes * sizeof(*w->linkmat));
    w->links = bs_calloc(w->nnodes * 4 + sc->nlinks, sizeof(*w->links));
    if (!w->linkmat || !w->links)
        return BS_ENOMEM;
    for (size_t i = 0; i < w->nnodes * w->nnodes; i++)
        w->linkmat[i] = -1;
    /* Adjacent pairs get the default latency; the scenario's links override them. */
    for (size_t n = 0; n < sc->nnetworks; n++) {
        const struct bs_sc_network *net = &sc->networks[n];
        add_link(w, w->sw_id[n], w->bridge_id, &sc->default_latency, 0);
        for (size_t i = 0; i < net->nissuers; i++)
            add_link(w, w->sw_id[n], w->iss_id[n][i], &sc->default_latency, 0);
        for (size_t i = 0; i < net->nacquirers; i++) {
            add_link(w, w->sw_id[n], w->acq_id[n][i], &sc->default_latency, 0);
            add_link(w, w->acq_id[n][i], w->term_id[n][i], &sc->default_latency, 0);
        }
    }
    for (size_t i = 0; i < sc->nlinks; i++) {
        int32_t a = find_node(w, sc->links[i].a), b = find_node(w, sc->links[i].b);
        if (a < 0 || b < 0) {
            errf(errbuf, errlen, "%s:%d:%d: link endpoint '%s' is not a node", sc->path,
                 sc->links[i].line, sc->links[i].column, a < 0 ? sc->links[i].a : sc->links[i].b);
            return BS_EINVAL;
        }
        add_link(w, (uint32_t)a, (uint32_t)b, &sc->links[i].latency, sc->links[i].loss);
        rc = link_features(w, &w->links[w->linkmat[(size_t)a * w->nnodes + (size_t)b]],
                           &sc->links[i], errbuf, errlen);
        if (rc)
            return rc;
    }
    return 0;
}

static void stip_of(const struct bs_sc_stip *in, struct bs_stip_policy *out)
{
    out->enabled = in->enabled;
    out->max_amount[BS_CH_POS] = in->max_amount[BS_CH_POS];
    out->max_amount[BS_CH_ATM] = in->max_amount[BS_CH_ATM];
    out->daily_per_card = in->daily_per_card;
}

/* One end's view of a link's network management (ISO 8583:1987 class 8): @centre is the
 * end nearer the centre (a switch towards its members, the bridge towards the switches). */
static struct bs_netmgmt_policy nm_policy(const struct bs_sc_netmgmt *in, bool centre)
{
    struct bs_netmgmt_policy p = {
        .enabled = in->enabled,
        .originate = centre != in->peer_originates,
        .echo_interval = in->echo_interval,
        .missed_echoes = in->missed_echoes,
    };

    return p;
}

static int build_roles(struct bs_world *w, char *errbuf, size_t errlen)
{
    const struct bs_scenario *sc = w->sc;
    struct bs_timer_set timers[2];
    bs_time_us retention = retention_of(sc);
    unsigned rrn_code_next = 1;
    int rc = 0;

    timers_of(sc, timers);
    bs_bin_table_init(&w->bridge_routes);
    for (size_t n = 0; n < sc->nnetworks; n++) {
        const struct bs_sc_network *net = &sc->networks[n];
        bs_bin_table_init(&w->sw_routes[n]);
        for (size_t i = 0; i < net->nissuers; i++) {
            const struct bs_sc_issuer *si = &net->issuers[i];
            struct bs_card_population *p = &w->pops[n][i];
            p->cards = si->cards;
            p->pan_length = si->pan_length ? si->pan_length : 16;
            p->nranges = si->nbins;
            for (size_t b = 0; b < si->nbins; b++) {
                p->ranges[b].lo = si->bins[b].lo;
                p->ranges[b].hi = si->bins[b].hi;
                p->ranges[b].digits = si->bins[b].digits;
                rc = bs_bin_table_add(&w->sw_routes[n], si->bins[b].lo, si->bins[b].hi,
                                      si->bins[b].digits, w->iss_id[n][i]);
                if (rc == 0)
                    rc = bs_bin_table_add(&w->bridge_routes, si->bins[b].lo, si->bins[b].hi,
                                          si->bins[b].digits, (uint32_t)n);
                if (rc) {
                    errf(errbuf, errlen, "%s: BIN range of %s.%s overlaps another issuer's",
                         sc->path, net->name, si->id);
                    return rc;
                }
            }
        }
    }
    /* Each switch routes the other network's BINs to the bridge. */
    for (size_t n = 0; n < sc->nnetworks; n++)
        for (size_t m = 0; m < sc->nnetworks; m++) {
            if (m == n)
                continue;
            for (size_t i = 0; i < sc->networks[m].nissuers; i++) {
                const struct bs_sc_issuer *si = &sc->networks[m].issuers[i];
                for (size_t b = 0; b < si->nbins; b++)
                    if ((rc = bs_bin_table_add(&w->sw_routes[n], si->bins[b].lo, si->bins[b].hi,
                                               si->bins[b].digits, w->bridge_id)) != 0)
                        return rc;
            }
        }

    for (size_t n = 0; n < sc->nnetworks; n++) {
        const struct bs_sc_network *net = &sc->networks[n];
        uint32_t members[BS_SC_MAX_ACQUIRERS + BS_SC_MAX_ISSUERS];
        size_t nmembers = 0;
        struct bs_switch_cfg scfg = {
            .name = w->nodes[w->sw_id[n]].name,
            .inst_id = net->switch_inst_id,
            .dialect = w->dialects[n],
            .routes = &w->sw_routes[n],
            .bridge = w->bridge_id,
            .reversal_max_repeats = REV_REPEATS,
            .reversal_backoff = REV_BACKOFF,
            .reversal_backoff_max = REV_BACKOFF_MAX,
        };
        memcpy(scfg.timers, timers, sizeof(timers));
        stip_of(&net->switch_stip, &scfg.stip);
        scfg.saf_window = net->switch_stip.saf_window;
        for (size_t i = 0; i < net->nacquirers; i++)
            members[nmembers++] = w->acq_id[n][i];
        for (size_t i = 0; i < net->nissuers; i++)
            members[nmembers++] = w->iss_id[n][i];
        scfg.members = members;
        scfg.nmembers = nmembers;
        scfg.nm = nm_policy(&net->netmgmt, true);
        scfg.nm_bridge = nm_policy(&sc->bridge.netmgmt, false);
        rc = bs_switch_new(&scfg, key_of(w, w->sw_id[n]), w->keys, &w->nodes[w->sw_id[n]].node);
        for (size_t i = 0; rc == 0 && i < net->nissuers; i++) {
            struct bs_issuer_cfg icfg = {
                .name = w->nodes[w->iss_id[n][i]].name,
                .inst_id = net->issuers[i].inst_id,
                .sw = w->sw_id[n],
                .dialect = w->dialects[n],
                .currency = net->currency.numeric,
                .cards = &w->pops[n][i],
                .retention = retention,
                .nm = nm_policy(&net->netmgmt, false),
            };
            rc = bs_issuer_new(&icfg, key_of(w, w->iss_id[n][i]), w->keys,
                               &w->nodes[w->iss_id[n][i]].node);
            if (rc == 0) {
                w->nodes[w->iss_id[n][i]].node->env = &w->env;
                rc = open_cards(w, (int)n, (int)i);
            }
        }
        for (size_t i = 0; rc == 0 && i < net->nacquirers; i++) {
            const struct bs_sc_acquirer *sa = &net->acquirers[i];
            struct bs_acquirer_cfg acfg = {
                .name = w->nodes[w->acq_id[n][i]].name,
                .inst_id = sa->inst_id,
                .terminals = w->term_id[n][i],
                .sw = w->sw_id[n],
                .dialect = w->dialects[n],
                .reversal_max_repeats = REV_REPEATS,
                .reversal_backoff = REV_BACKOFF,
                .reversal_backoff_max = REV_BACKOFF_MAX,
                .nm = nm_policy(&net->netmgmt, false),
                /* 1, 2, ... over every acquirer of the run (at most 64): distinct RRNs. */
                .rrn_code = (uint8_t)(rrn_code_next++),
            };
            struct bs_terminal_cfg tcfg = {
                .name = w->nodes[w->term_id[n][i]].name,
                .acquirer = w->acq_id[n][i],
                .dialect = w->dialects[n],
                .terminals = sa->terminals,
                .merchants = sa->merchants,
                .mcc = sa->mcc,
                .groups = sa->groups,
                .ngroups = sa->ngroups,
                .location = sa->location,
                .currency = net->currency.numeric,
                .utc_offset_min = net->utc_offset_min,
            };
            memcpy(acfg.timers, timers, sizeof(timers));
            memcpy(tcfg.timers, timers, sizeof(timers));
            rc = bs_acquirer_new(&acfg, key_of(w, w->acq_id[n][i]), w->keys,
                                 &w->nodes[w->acq_id[n][i]].node);
            if (rc == 0)
                rc = bs_terminal_new(&tcfg, key_of(w, w->term_id[n][i]), w->keys,
                                     &w->nodes[w->term_id[n][i]].node);
        }
        if (rc) {
            errf(errbuf, errlen, "network %s: cannot build its nodes: %s", net->name,
                 bs_strerror(rc));
            return rc;
        }
    }

    {
        struct bs_bridge_cfg bcfg = {
            .name = "bridge",
            .routes = &w->bridge_routes,
            .markup_bps = sc->bridge.markup_bps,
            .retention = retention,
            .reversal_max_repeats = REV_REPEATS,
            .reversal_backoff = REV_BACKOFF,
            .reversal_backoff_max = REV_BACKOFF_MAX,
        };
        struct bs_fx_change fxc[BS_SC_MAX_FX_CHANGES];
        bcfg.mid.num = sc->bridge.rate_num;
        bcfg.mid.scale = sc->bridge.rate_scale;
        for (size_t i = 0; i < sc->bridge.nfx_changes; i++) {
            fxc[i].at = sc->start_time + sc->bridge.fx_changes[i].at;
            fxc[i].mid.num = sc->bridge.fx_changes[i].rate_num;
            fxc[i].mid.scale = sc->bridge.fx_changes[i].rate_scale;
        }
        bcfg.fx_changes = fxc;
        bcfg.nfx_changes = sc->bridge.nfx_changes;
        for (int s = 0; s < 2; s++) {
            const struct bs_sc_network *net = &sc->networks[s];
            bcfg.side[s].name = net->name;
            bcfg.side[s].sw = w->sw_id[s];
            bcfg.side[s].dialect = w->dialects[s];
            bcfg.side[s].inst_id = sc->bridge.inst_id[s];
            bcfg.side[s].currency = net->currency.numeric;
            bcfg.side[s].exponent = net->currency.exponent;
            if (strcmp(net->currency.code, sc->bridge.fx_base) == 0)
                bcfg.base_currency = net->currency.numeric;
        }
        memcpy(bcfg.timers, timers, sizeof(timers));
        for (int k = 0; k < 2; k++)
            stip_of(&sc->bridge.stip[k], &bcfg.stip[k]);
        bcfg.nm = nm_policy(&sc->bridge.netmgmt, true);
        bcfg.saf_window = sc->bridge.stip[0].saf_window > sc->bridge.stip[1].saf_window
                              ? sc->bridge.stip[0].saf_window
                              : sc->bridge.stip[1].saf_window;
        /* Clearing: every committed transaction and acknowledged reversal goes to the
         * settlement windows (docs/settlement.md). */
        rc = bs_settlement_for_scenario(sc, retention, &w->settlement, errbuf, errlen);
        if (rc)
            return rc;
        bcfg.clearing = bs_settlement_clearing;
        bcfg.clearing_ctx = w->settlement;
        rc = bs_bridge_new(&bcfg, key_of(w, w->bridge_id), w->keys, &w->nodes[w->bridge_id].node);
        if (rc) {
            errf(errbuf, errlen, "bridge: %s (check fx.pair against the networks' currencies)",
                 bs_strerror(rc));
            return rc;
        }
    }
    for (size_t i = 0; i < w->nnodes; i++) {
        w->nodes[i].node->env = &w->env;
        w->nodes[i].node->id = (uint32_t)i;
    }
    return 0;
}

static int build_faults(struct bs_world *w, char *errbuf, size_t errlen)
{
    char(*names)[64];
    uint8_t seed[8];
    int rc;

    if (w->sc->nfaults == 0)
        return 0;
    names = bs_calloc(w->nnodes, sizeof(*names));
    if (!names)
        return BS_ENOMEM;
    for (size_t i = 0; i < w->nnodes; i++)
        snprintf(names[i], sizeof(names[i]), "%s", w->nodes[i].name);
    rc = bs_faults_new(w->sc, (const char(*)[64])names, w->nnodes, &w->faults, errbuf, errlen);
    bs_free(names);
    if (rc || !w->keys)
        return rc;
    /* Rogue keys for wrong-key faults: the node's own key id, another secret, so every
     * peer sees a signature that does not verify. */
    for (int i = 0; i < 8; i++)
        seed[i] = (uint8_t)(~w->sc->seed >> (56 - 8 * i));
    for (size_t f = 0; f < w->sc->nfaults; f++) {
        const struct bs_sc_fault *sf = &w->sc->faults[f];
        int32_t id = sf->kind == BS_FAULT_WRONG_KEY ? find_node(w, sf->sel.node) : -1;
        if (id < 0 || w->nodes[id].rogue_key)
            continue;
        /* The node's own key (for node->key) and every key it signs with on a link. */
        if (w->sc->sig_alg != BS_SIG_NONE) {
            rc = bs_key_derive(w->sc->sig_alg, seed, sizeof(seed), w->nodes[id].name, 0, 0,
                               &w->nodes[id].rogue_key);
            if (rc)
                return rc;
        }
        rc = build_rogue_keys(w, (uint32_t)id);
        if (rc)
            return rc;
    }
    return 0;
}

/* Per-MTI processing of @wn (@pm may be NULL or empty): one stream per MTI entry, named
 * "node:NAME|MTI", so the node's own stream (the default's) draws as without them. */
static int processing_streams(struct bs_world *w, struct wnode *wn, const struct bs_sc_proc_mti *pm)
{
    char stream[BS_NODE_NAME_MAX + 16];

    if (!pm || pm->n == 0)
        return 0;
    wn->mti_rng = bs_calloc(pm->n, sizeof(*wn->mti_rng));
    if (!wn->mti_rng)
        return BS_ENOMEM;
    for (size_t i = 0; i < pm->n; i++) {
        snprintf(stream, sizeof(stream), "node:%s|%s", wn->name, pm->mti[i]);
        bs_rng_seed(&wn->mti_rng[i], w->sc->seed, stream);
    }
    wn->pmti = pm;
    return 0;
}

/* Workers and queues, and per-MTI processing streams, of the nodes that have them (scenario
 * keys workers, queue_limit, processing). */
static int build_capacity(struct bs_world *w, char *errbuf, size_t errlen)
{
    for (size_t i = 0; i < w->nnodes; i++) {
        struct wnode *wn = &w->nodes[i];
        const struct bs_sc_network *net = wn->net >= 0 ? &w->sc->networks[wn->net] : NULL;
        uint32_t workers = 0;
        int64_t limit = -1;
        const struct bs_sc_proc_mti *pm = NULL;
        int rc;

        if (wn->role == ROLE_SWITCH) {
            workers = net->switch_workers;
            limit = net->switch_queue_limit;
            pm = &net->switch_processing_mti;
        } else if (wn->role == ROLE_ISSUER) {
            workers = net->issuers[wn->idx].workers;
            limit = net->issuers[wn->idx].queue_limit;
            pm = &net->issuers[wn->idx].processing_mti;
        } else if (wn->role == ROLE_ACQUIRER) {
            workers = net->acquirers[wn->idx].workers;
            limit = net->acquirers[wn->idx].queue_limit;
            pm = &net->acquirers[wn->idx].processing_mti;
        } else if (wn->role == ROLE_BRIDGE) {
            workers = w->sc->bridge.workers;
            limit = w->sc->bridge.queue_limit;
            pm = &w->sc->bridge.processing_mti;
        }
        rc = processing_streams(w, wn, pm);
        if (rc)
            return rc;
        if (workers == 0)
            continue;
        rc = bs_capacity_new(workers, limit, &wn->cap);
        if (rc) {
            errf(errbuf, errlen, "%s: workers %u, queue_limit %lld: %s", wn->name, workers,
                 (long long)limit, bs_strerror(rc));
            return rc;
        }
    }
    return 0;
}

/* Rogue keys for wrong-key faults: every key the node signs with, the same ids, another
 * secret (the inverted seed), so every peer sees signatures that do not verify. */
static int build_rogue_keys(struct bs_world *w, uint32_t id)
{
    const char *me = w->nodes[id].name;
    char owner[BS_KEY_ID_MAX + 1];
    uint8_t seed[8];
    int rc = 0;

    for (int i = 0; i < 8; i++)
        seed[i] = (uint8_t)(~w->sc->seed >> (56 - 8 * i));
    if (!w->rogue && (rc = bs_keystore_new(&w->rogue)) != 0)
        return rc;
    for (size_t li = 0; li < w->nlinks && rc == 0; li++) {
        const struct wlink *l = &w->links[li];
        uint32_t peer = l->a == id ? l->b : l->a, epochs;

        if ((l->a != id && l->b != id) || l->alg == BS_SIG_NONE)
            continue;
        epochs = bs_scenario_rotations(w->sc, me);
        if (alg_is_mac(l->alg)) {
            epochs += bs_scenario_rotations(w->sc, w->nodes[peer].name);
            rc =
                bs_scenario_key_owner(w->sc, me, w->nodes[peer].name, l->alg, owner, sizeof(owner));
        } else {
            rc = bs_scenario_key_owner(w->sc, me, NULL, l->alg, owner, sizeof(owner));
        }
        for (uint32_t e = 0; e <= epochs && rc == 0; e++) {
            struct bs_key *k;
            rc = bs_key_derive(l->alg, seed, sizeof(seed), owner, e, l->mac_len, &k);
            if (rc == 0 && (rc = bs_keystore_add(w->rogue, k)) == BS_EEXIST)
                rc = 0;
        }
    }
    return rc;
}

/* Replay caches (signing.replay_window) and the HSM of PIN blocks (pin), once the nodes
 * exist. A zone with an AES PIN key needs a 16-byte DE 52 in its dialect (format 4). */
static int build_security(struct bs_world *w, char *errbuf, size_t errlen)
{
    const struct bs_scenario *sc = w->sc;
    int rc;

    for (size_t i = 0; i < w->nnodes && sc->signing.replay_window > 0 && w->keys; i++) {
        rc = bs_replay_new(sc->signing.replay_window, BS_REPLAY_MAX_DEFAULT, &w->nodes[i].replay);
        if (rc)
            return rc;
        w->nodes[i].node->replay = w->nodes[i].replay;
    }
    if (sc->pin.enabled) {
        struct bs_hsm_cfg cfg = {
            .digits = sc->pin.digits,
            .wrong_share = sc->pin.wrong_share,
            .channels = sc->pin.channels,
            .nzones = sc->nnetworks,
        };
        uint8_t seed[8];

        for (size_t n = 0; n < sc->nnetworks; n++) {
            const struct bs_iso_field_spec *f = bs_iso_dialect_field(w->dialects[n], 52);
            size_t need = sc->pin.aes[n] ? 16 : 8;

            cfg.zone_type[n] = sc->pin.aes[n] ? BS_PIN_AES : BS_PIN_TDES;
            cfg.zone_name[n] = sc->networks[n].name;
            if (!f || !f->defined || f->format != BS_ISO_FMT_B ||
                (f->len_digits == 0 ? f->size != need : f->size < need)) {
                errf(errbuf, errlen,
                     "%s: pin.zones.%s: %s PIN blocks are %zu bytes, but DE 52 of dialect %s "
                     "is not a b field that holds them (use tdes, or a dialect with "
                     "52: {format: b, length: fixed, size: %zu})",
                     sc->path, sc->networks[n].name, sc->pin.aes[n] ? "AES (format 4)" : "TDES",
                     need, sc->networks[n].dialect, need);
                return BS_EINVAL;
            }
        }
        seed_bytes(w, seed);
        rc = bs_hsm_new(seed, sizeof(seed), &cfg, &w->hsm);
        if (rc) {
            errf(errbuf, errlen, "pin: cannot set up the HSM: %s", bs_strerror(rc));
            return rc;
        }
        for (size_t i = 0; i < w->nnodes; i++) {
            struct wnode *wn = &w->nodes[i];
            if (wn->role != ROLE_TERMINALS && wn->role != ROLE_ISSUER && wn->role != ROLE_BRIDGE)
                continue;
            wn->node->hsm = w->hsm;
            wn->node->pin_zone = wn->net >= 0 ? (unsigned)wn->net : 0;
        }
    }
    return 0;
}

int bs_world_new(const struct bs_scenario *sc, const struct bs_run_opts *opts,
                 struct bs_world **ret, char *errbuf, size_t errlen)
{
    struct bs_world *w;
    size_t maxnodes = 1;
    int rc;

    if (sc->nnetworks != 2) {
        errf(errbuf, errlen, "%s: a scenario needs exactly two networks", sc->path);
        return BS_EINVAL;
    }
    w = bs_calloc(1, sizeof(*w));
    if (!w)
        return BS_ENOMEM;
    w->env.ops = &env_ops;
    w->env.now = sc->start_time;
    w->env.no_journal = !opts->journals;
    w->sc = sc;
    w->opts = *opts;
    snprintf(w->out_dir, sizeof(w->out_dir), "%s", opts->out_dir);
    for (size_t n = 0; n < sc->nnetworks; n++)
        maxnodes += 1 + sc->networks[n].nissuers + 2 * sc->networks[n].nacquirers;
    w->nodes = bs_calloc(maxnodes, sizeof(*w->nodes));
    rc = BS_ENOMEM;
    if (!w->nodes || bs_queue_init(&w->q, 4096) != 0)
        goto fail;
    for (size_t n = 0; n < sc->nnetworks; n++) {
        rc = load_dialect(sc->networks[n].dialect, opts->dialect_dir, &w->dialects[n], errbuf,
                          errlen);
        if (rc)
            goto fail;
    }
    rc = build_nodes(w, errbuf, errlen);
    if (rc == 0)
        rc = build_capacity(w, errbuf, errlen);
    if (rc)
        goto fail;
    rc = build_keys(w, errbuf, errlen);
    if (rc)
        goto fail;
    rc = build_roles(w, errbuf, errlen);
    if (rc)
        goto fail;
    rc = build_faults(w, errbuf, errlen);
    if (rc == 0)
        rc = build_security(w, errbuf, errlen);
    if (rc)
        goto fail;
    if (opts->journals) {
        char dir[600];
        snprintf(dir, sizeof(dir), "%s/journals", w->out_dir);
        if (mkdir_p(dir) != 0) {
            errf(errbuf, errlen, "%s: cannot create: %s", dir, strerror(errno));
            rc = BS_EIO;
            goto fail;
        }
        static const char *const roles[] = { [ROLE_SWITCH] = "switch",
                                             [ROLE_ISSUER] = "issuer",
                                             [ROLE_ACQUIRER] = "acquirer",
                                             [ROLE_TERMINALS] = "terminal",
                                             [ROLE_BRIDGE] = "bridge" };
        struct bs_jfile_cfg jc;
        memset(&jc, 0, sizeof(jc));
        if (bs_jfile_sync_env(&jc.sync) != 0 || bs_jfile_checkpoint_env(&jc.checkpoint_every)) {
            errf(errbuf, errlen,
                 "BRIDGESIM_JOURNAL_FSYNC must be none, checkpoint or every, and "
                 "BRIDGESIM_JOURNAL_CHECKPOINT a record count 1..10000000");
            rc = BS_EINVAL;
            goto fail;
        }
        if (bs_jfile_sha256(sc->path, jc.hdr.scenario_sha256) != 0) {
            errf(errbuf, errlen, "%s: cannot read to hash it: %s", sc->path, strerror(errno));
            rc = BS_EIO;
            goto fail;
        }
        jc.hdr.scenario = sc->name;
        jc.hdr.seed = sc->seed;
        jc.hdr.realtime = opts->realtime;
        jc.hdr.version = BS_VERSION;
        jc.hdr.t = sc->start_time;
        jc.hdr.wall = opts->realtime ? bs_jfile_wall_now() : 0;
        jc.alg = sc->sig_alg;
        for (size_t i = 0; i < w->nnodes && rc == 0; i++)
            rc = open_journal(w, &jc, w->nodes[i].name, roles[w->nodes[i].role], w->nodes[i].net,
                              key_of(w, (uint32_t)i), &w->nodes[i].journal, errbuf, errlen);
        if (rc == 0)
            rc =
                open_journal(w, &jc, "links", "links", -1, NULL, &w->links_journal, errbuf, errlen);
        if (rc)
            goto fail;
    } else if (mkdir_p(w->out_dir) != 0) {
        errf(errbuf, errlen, "%s: cannot create: %s", w->out_dir, strerror(errno));
        rc = BS_EIO;
        goto fail;
    }
    bs_rng_seed(&w->wl_rng, sc->seed, "workload");
    /* Its own stream, so what arrives (cards, amounts) does not depend on when. */
    bs_rng_seed(&w->arr_rng, sc->seed, "workload.arrivals");
    bs_rng_seed(&w->cancel_rng, sc->seed, "workload:cancellation");
    for (size_t f = 0; f < BS_SC_MAX_FLOWS; f++)
        bs_hist_init(&w->flows[f].latency);
    bs_hist_init(&w->total.latency);
    *ret = w;
    return 0;
fail:
    bs_world_free(w);
    return rc;
}

void bs_world_free(struct bs_world *w)
{
    if (!w)
        return;
    bs_settlement_free(w->settlement);
    bs_faults_free(w->faults);
    for (size_t i = 0; i < w->nnodes; i++) {
        bs_node_free(w->nodes[i].node);
        bs_key_free(w->nodes[i].rogue_key);
        bs_replay_free(w->nodes[i].replay);
        bs_capacity_free(w->nodes[i].cap);
        bs_free(w->nodes[i].mti_rng);
        bs_jfile_close(w->nodes[i].journal, w->env.now, 0);
    }
    bs_jfile_close(w->links_journal, w->env.now, 0);
    for (size_t n = 0; n < BS_SC_MAX_NETWORKS; n++) {
        bs_iso_dialect_free(w->dialects[n]);
        bs_bin_table_deinit(&w->sw_routes[n]);
    }
    bs_bin_table_deinit(&w->bridge_routes);
    bs_keystore_free(w->keys);
    bs_keystore_free(w->rogue);
    bs_hsm_free(w->hsm);
    bs_queue_deinit(&w->q);
    while (w->nfree_bufs)
        bs_free(w->free_bufs[--w->nfree_bufs]);
    jobs_free(w);
    bs_free(w->linkmat);
    for (size_t i = 0; w->links && i < w->nlinks; i++) {
        if (!w->links[i].dir)
            continue;
        bs_linkcap_free(w->links[i].dir[0].cap);
        bs_linkcap_free(w->links[i].dir[1].cap);
        bs_free(w->links[i].dir);
    }
    bs_free(w->links);
    bs_free(w->nodes);
    bs_free(w);
}

/* ---- the workload ---------------------------------------------------------------------- */

static size_t pick_weighted(struct bs_rng *r, const double *w, size_t n)
{
    double total = 0, u;

    for (size_t i = 0; i < n; i++)
        total += w[i];
    u = bs_rng_unit(r) * total;
    for (size_t i = 0; i < n; i++) {
        if (u < w[i])
            return i;
        u -= w[i];
    }
    return n - 1;
}

/*
 * The type of the next transaction from the one uniform deviate @u the workload has always
 * drawn for it: ATM withdrawals take [0, atm), then refunds, balance inquiries and
 * cancellations, and purchases the rest. With only purchases and ATM withdrawals in the mix
 * this is the old comparison u < atm exactly, so such scenarios replay as before.
 */
static unsigned pick_type(const struct bs_sc_flow *fl, double u)
{
    static const unsigned order[] = { BS_TXN_ATM_WITHDRAWAL, BS_TXN_REFUND, BS_TXN_BALANCE_INQUIRY,
                                      BS_TXN_CANCELLATION };
    double edge = 0;

    for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
        edge += fl->mix[order[i]];
        if (fl->mix[order[i]] > 0 && u < edge)
            return order[i];
    }
    return BS_TXN_PURCHASE;
}

static void schedule_arrival(struct bs_world *w, bs_time_us at)
{
    struct bs_event ev;

    memset(&ev, 0, sizeof(ev));
    ev.due = at;
    ev.kind = BS_EV_ARRIVAL;
    push_event(w, &ev);
}

/* Start one transaction now, drawn entirely from the workload stream. */
static void arrival(struct bs_world *w)
{
    const struct bs_scenario *sc = w->sc;
    const struct bs_sc_workload *wl = &sc->workload;
    struct bs_rng *r = &w->wl_rng;
    double weights[BS_SC_MAX_FLOWS > BS_SC_MAX_ISSUERS ? BS_SC_MAX_FLOWS : BS_SC_MAX_ISSUERS];
    struct bs_txn_request req;
    const struct bs_sc_flow *fl;
    const struct bs_sc_network *acq_net, *card_net;
    size_t f, a, i;
    uint64_t card;
    double amount;
    int64_t unit;

    for (f = 0; f < wl->nflows; f++)
        weights[f] = wl->flows[f].share;
    f = pick_weighted(r, weights, wl->nflows);
    fl = &wl->flows[f];
    acq_net = &sc->networks[fl->from];
    card_net = &sc->networks[fl->cards];
    for (a = 0; a < acq_net->nacquirers; a++)
        weights[a] = acq_net->acquirers[a].terminals;
    a = pick_weighted(r, weights, acq_net->nacquirers);
    for (i = 0; i < card_net->nissuers; i++)
        weights[i] = card_net->issuers[i].cards;
    i = pick_weighted(r, weights, card_net->nissuers);

    memset(&req, 0, sizeof(req));
    req.flow = (uint32_t)f;
    req.type = pick_type(fl, bs_rng_unit(r));
    req.channel = bs_channel_of_proc(bs_txn_proc_code(req.type, BS_CH_POS));
    req.terminal = bs_workload_terminal(&acq_net->acquirers[a], req.channel, r);
    req.trace = ++w->next_trace;
    card = bs_rng_below(r, card_net->issuers[i].cards);
    if (bs_rng_unit(r) < fl->unknown_card_share)
        card += card_net->issuers[i].cards; /* a valid BIN, but no such account: RC 14 */
    if (bs_card_pan(&w->pops[fl->cards][i], card, req.pan) != 0) {
        w->io_error = true;
        return;
    }
    {
        uint16_t e = bs_issuer_card_expiry(w->nodes[w->iss_id[fl->cards][i]].node, card);
        if (e == 0)
            e = 3012; /* unknown cards carry a plausible future expiry */
        *bs__put_dec(req.expiry, e, 4) = '\0';
    }
    amount = bs_dist_sample(&fl->amount, bs_rng_next_cb, r);
    req.amount = (int64_t)llround(amount);
    if (req.channel == BS_CH_ATM) {
        /* ATMs dispense notes: round to 100 major units. */
        unit = 100;
        for (unsigned e = 0; e < acq_net->currency.exponent; e++)
            unit *= 10;
        req.amount = (req.amount + unit / 2) / unit * unit;
        if (req.amount < unit)
            req.amount = unit;
    }
    if (req.amount < 1)
        req.amount = 1;
    if (req.type == BS_TXN_BALANCE_INQUIRY)
        req.amount = 0; /* DE 4 of an inquiry: nothing is taken */
    if (req.type == BS_TXN_CANCELLATION) {
        /* When the cardholder cancels: from a stream of its own, so that scenarios without
         * cancellations draw exactly as before. */
        req.cancel_after =
            CANCEL_MIN + (bs_time_us)bs_rng_below(&w->cancel_rng, CANCEL_MAX - CANCEL_MIN + 1);
    }

    w->total.started++;
    w->flows[f].started++;
    w->total.by_type[req.type].started++;
    w->flows[f].by_type[req.type].started++;
    if (w->opts.observer && w->opts.observer->start)
        w->opts.observer->start(w->opts.observer->ctx, w->env.now);
    if (bs_terminal_start(w->nodes[w->term_id[fl->from][a]].node, &req) != 0) {
        /* The terminal could not even send (limit): it is an immediate system error. */
        env_outcome(&w->env, (uint32_t)f, req.type, "96", 0);
    }
}

static void workload_step(struct bs_world *w)
{
    const struct bs_sc_workload *wl = &w->sc->workload;
    bool varies = bs_arrival_varies(wl) && !w->opts.concurrency;
    /* The arrival's due time, not now: in real time a late loop must not slow the offered
     * load down (the schedule stays open-loop; the lag shows as latency). */
    bs_time_us at = w->arrival_due, next;

    if (!w->offering)
        return;
    if (varies && !w->arr_primed) {
        /* The run starts here; the process's first arrival comes after its own gap. */
        w->arr_primed = true;
        goto schedule;
    }
    arrival(w);
    w->arrivals++;
    if ((wl->count && w->arrivals >= wl->count) ||
        (wl->duration && at - w->sim_start >= wl->duration)) {
        w->offering = false;
        w->end_time = at + w->sc->drain;
        return;
    }
    if (w->opts.concurrency) {
        /* Closed loop: start the first N together; later ones follow outcomes. */
        if (w->arrivals < w->opts.concurrency)
            schedule_arrival(w, w->env.now);
        return;
    }
schedule:
    if (!varies) {
        schedule_arrival(w, bs_arrival_next(wl, w->sim_start, at - w->sim_start, &w->wl_rng) +
                                w->sim_start);
        return;
    }
    /* A time-varying process offers nothing after the duration, and stops for good when its
     * rate stays 0. */
    next = bs_arrival_next(wl, w->sim_start, at - w->sim_start, &w->arr_rng);
    if (next < 0 || (wl->duration && next > wl->duration)) {
        w->offering = false;
        w->end_time = at + w->sc->drain;
        return;
    }
    schedule_arrival(w, w->sim_start + next);
}

/* ---- crypto off the loop (real time; cryptopool.h) -----------------------------------------
 *
 * Signing: bs_node_send() hands a message packed up to DE 127 to env_sign_send(), which
 * copies it into a job; a worker signs it with its copy of the key, and the loop finishes
 * the send (bs_node_send_signed(): envelope, wire, journal) in the order the messages were
 * taken on their link and direction, so a link never reorders what one node sent.
 *
 * Verification: a message on a signed link gets a job when it is put on the wire; the
 * worker decodes it, finds the key of its envelope and verifies, during the link's latency.
 * When the message is due and its result is in, the node's bs_node_recv() gets that result
 * from env_verify() (the same key, length and signature, or it verifies itself); a message
 * due before its result waits for it, which is then part of its latency. Per-link order of
 * arrivals needs no more than this: every message draws its own latency, so arrivals on a
 * link are not FIFO in virtual time either, and the nodes match responses by key.
 *
 * Workers read only their job, the dialects and the key stores (not changed during a run)
 * and their own key copies.
 */

static void node_faults(struct bs_world *w, uint32_t id);

/* Real time: the monotonic clock on the run's wall-clock base (µs since the Unix epoch). */
static bs_time_us rt_clock_now(const struct bs_world *w)
{
    return w->rt_t0 + (bs_time_us)((uv_hrtime() - w->rt_hr0) / 1000);
}

enum { JOB_SIGN, JOB_VERIFY };

struct wjob {
    struct bs_cjob base; /* first */
    struct bs_world *w;
    struct wjob *all;  /* w->jobs */
    struct wjob *next; /* w->jobs_free, or the link's signing list */
    int kind;
    bool done;   /* the worker's part is over (the loop's view) */
    bool orphan; /* verification: its message was dropped while the worker had it */
    bool held;   /* verification: its message is due and waits in @ev */
    bool have;   /* verification: the worker found the key and verified (@rc) */
    int rc;
    uint32_t from, to;
    uint64_t trace;
    const struct bs_iso_dialect *d;
    struct bs_key *key; /* the loop's key: sign with it; verified with it */
    size_t len;         /* bytes at @wire: to sign, or the message to verify */
    size_t signed_len;  /* verification: the bytes before DE 127 */
    uint8_t sig[BS_SIG_MAX];
    size_t sig_len;
    struct bs_event ev;
    uint8_t wire[BS_WIRE_MAX];
    struct bs_iso_msg m; /* signing: the message, for the send and the journal */
};

static struct wjob *job_get(struct bs_world *w, int kind)
{
    struct wjob *j = w->jobs_free;

    if (j) {
        w->jobs_free = j->next;
    } else {
        j = bs_malloc(sizeof(*j));
        if (!j)
            return NULL;
        j->w = w;
        j->all = w->jobs;
        w->jobs = j;
    }
    j->kind = kind;
    j->next = NULL;
    j->done = j->orphan = j->held = j->have = false;
    j->rc = 0;
    return j;
}

static void jobs_free(struct bs_world *w)
{
    while (w->jobs) {
        struct wjob *j = w->jobs;
        w->jobs = j->all;
        bs_free(j);
    }
    w->jobs_free = NULL;
}

static void job_put(struct bs_world *w, struct wjob *j)
{
    j->next = w->jobs_free;
    w->jobs_free = j;
}

/* A worker: sign with its copy of the key. */
static void sign_work(struct bs_cjob *job, struct bs_cpool_thread *t)
{
    struct wjob *j = (struct wjob *)job;
    struct bs_key *k = bs_cpool_key(t, j->key);

    j->rc = k ? bs_sign(k, j->wire, j->len, j->sig, sizeof(j->sig), &j->sig_len) : BS_ENOTFOUND;
}

/* The loop: send what is signed at the head of the link's list, in order. */
static void sign_done(struct bs_cjob *job, bool cancelled)
{
    struct wjob *j = (struct wjob *)job;
    struct bs_world *w = j->w;
    struct wlink *l = &w->links[w->linkmat[(size_t)j->from * w->nnodes + j->to]];
    int dir = j->from == l->a ? 0 : 1;

    j->done = true;
    if (cancelled) {
        /* The run is over: the message stays unsent, like any still in flight. */
        job_put(w, j);
        return;
    }
    w->env.now = w->rt_clock = rt_clock_now(w);
    while ((j = l->signing[dir]) != NULL && j->done) {
        l->signing[dir] = j->next;
        if (!j->next)
            l->signing_tail[dir] = NULL;
        if (j->rc != 0)
            /* No copy of the key in the pool (cannot happen) or a failure: sign here. */
            j->rc = bs_sign(j->key, j->wire, j->len, j->sig, sizeof(j->sig), &j->sig_len);
        if (j->rc == 0) {
            if (w->faults)
                node_faults(w, j->from);
            bs_node_send_signed(w->nodes[j->from].node, j->d, j->to, &j->m, j->wire, j->len, j->key,
                                j->sig, j->sig_len, j->trace);
        } else {
            struct bs_jrec r = { .kind = BS_J_INTERNAL,
                                 .t = w->env.now,
                                 .node = w->nodes[j->from].name,
                                 .peer = w->nodes[j->to].name,
                                 .trace = j->trace,
                                 .msg = &j->m,
                                 .note = "signing failed" };
            write_journal(w, w->nodes[j->from].journal, &w->nodes[j->from].jseq, &r);
        }
        job_put(w, j);
    }
}

static int env_sign_send(struct bs_env *env, struct bs_node *node, const struct bs_iso_dialect *d,
                         uint32_t to, struct bs_key *key, const uint8_t *wire, size_t len,
                         const struct bs_iso_msg *m, uint64_t trace)
{
    struct bs_world *w = world_of(env);
    int32_t li = w->linkmat[(size_t)node->id * w->nnodes + to];
    struct wlink *l;
    struct wjob *j;
    int dir;

    if (li < 0 || len > BS_WIRE_MAX || (j = job_get(w, JOB_SIGN)) == NULL)
        return -1;
    l = &w->links[li];
    dir = node->id == l->a ? 0 : 1;
    j->from = node->id;
    j->to = to;
    j->trace = trace;
    j->d = d;
    j->key = key;
    j->len = len;
    memcpy(j->wire, wire, len);
    /* The message up to its last data byte: its tables and the bytes in use. */
    memcpy(&j->m, m, offsetof(struct bs_iso_msg, data) + m->used);
    if (l->signing_tail[dir])
        l->signing_tail[dir]->next = j;
    else
        l->signing[dir] = j;
    l->signing_tail[dir] = j;
    j->base.work = sign_work;
    j->base.done = sign_done;
    bs_cpool_submit(w->cpool, &j->base);
    return 0;
}

/* A worker: decode, find the envelope's key, verify with its copy. */
static void verify_work(struct bs_cjob *job, struct bs_cpool_thread *t)
{
    struct wjob *j = (struct wjob *)job;
    struct bs_iso_msg m;
    struct bs_iso_error err;
    struct bs_sig_envelope envl;
    const uint8_t *v;
    size_t vlen;
    struct bs_key *k;

    if (bs_iso_unpack(j->d, j->wire, j->len, &m, &err) != 0 ||
        (v = bs_iso_msg_get(&m, 127, &vlen)) == NULL || bs_sig_envelope_decode(v, vlen, &envl) != 0)
        return;
    j->key = bs_keystore_get(j->w->keys, envl.key_id);
    if (!j->key || bs_key_alg(j->key) != envl.alg || (k = bs_cpool_key(t, j->key)) == NULL)
        return;
    j->signed_len = m.wire_off[127];
    j->sig_len = envl.sig_len;
    memcpy(j->sig, envl.sig, envl.sig_len);
    j->rc = bs_verify(k, j->wire, j->signed_len, j->sig, j->sig_len);
    j->have = true;
}

static void verify_done(struct bs_cjob *job, bool cancelled)
{
    struct wjob *j = (struct wjob *)job;
    struct bs_world *w = j->w;

    j->done = true;
    if (j->orphan || cancelled) {
        if (j->held)
            bs_free(j->ev.buf);
        job_put(w, j);
    } else if (j->held) {
        /* Due already: back in the queue at its due time, so it runs at once. */
        j->held = false;
        push_event(w, &j->ev);
    }
}

/* A message is put on a signed link: verify it ahead, during its latency. */
static void verify_ahead(struct bs_world *w, struct bs_event *ev)
{
    struct wjob *j;

    if (ev->len > BS_WIRE_MAX || (j = job_get(w, JOB_VERIFY)) == NULL)
        return;
    j->from = ev->from;
    j->to = ev->node;
    j->d = dialect_of(w, ev->node, ev->from);
    j->len = ev->len;
    memcpy(j->wire, ev->buf, ev->len);
    j->base.work = verify_work;
    j->base.done = verify_done;
    ev->cookie = (uint64_t)(uintptr_t)j;
    bs_cpool_submit(w->cpool, &j->base);
}

/* The message of @ev is dropped: its verification is no longer needed. */
static void verify_drop(struct bs_world *w, struct bs_event *ev)
{
    struct wjob *j = (struct wjob *)(uintptr_t)ev->cookie;

    if (!j)
        return;
    ev->cookie = 0;
    if (j->done)
        job_put(w, j);
    else
        j->orphan = true;
}

/* Whether message @ev may be handed to its node now: its verification is in. If not, it
 * waits in its job until it is (verify_done()). */
static bool verify_ready(struct bs_world *w, struct bs_event *ev)
{
    struct wjob *j = (struct wjob *)(uintptr_t)ev->cookie;

    if (j->done) {
        w->cur_verify = j;
        return true;
    }
    j->held = true;
    j->ev = *ev;
    return false;
}

/* After the node had message @ev: release its verification. */
static void verify_release(struct bs_world *w, struct bs_event *ev)
{
    w->cur_verify = NULL;
    verify_drop(w, ev);
}

static int env_verify(struct bs_env *env, struct bs_key *k, const uint8_t *msg, size_t n,
                      const uint8_t *sig, size_t sig_len)
{
    const struct wjob *j = world_of(env)->cur_verify;

    if (j && j->have && j->key == k && j->signed_len == n && j->sig_len == sig_len &&
        memcmp(j->sig, sig, sig_len) == 0)
        return j->rc;
    return bs_verify(k, msg, n, sig, sig_len);
}

/* ---- running ------------------------------------------------------------------------------ */

/* Set the fault-driven parts of a node's behaviour for the dispatch at hand. */
static void node_faults(struct bs_world *w, uint32_t id)
{
    struct bs_node *n = w->nodes[id].node;
    char kid[BS_KEY_ID_MAX + 1];

    n->forced_rc = bs_faults_forced_rc(w->faults, w->env.now, id);
    n->clock_skew = bs_faults_clock_skew(w->faults, w->env.now, id);
    if (w->keys) {
        if (bs_faults_wrong_key(w->faults, w->env.now, id) && w->nodes[id].rogue_key) {
            n->key = w->nodes[id].rogue_key;
        } else {
            snprintf(kid, sizeof(kid), "%s#0", w->nodes[id].name);
            n->key = bs_keystore_get(w->keys, kid);
        }
    }
}

/* A crashed or paused node takes nothing in: messages to a crashed node are lost; to a
 * paused one, and the timers of either, wait for the end of the window. Return: true when
 * the event was consumed here. */
static bool held_by_fault(struct bs_world *w, struct bs_event *ev)
{
    bs_time_us until;

    if (bs_faults_crashed(w->faults, ev->due, ev->node, &until)) {
        if (ev->kind == BS_EV_MESSAGE) {
            journal_drop(w, ev->from, ev->node, ev->trace, NULL, "receiver crashed");
            verify_drop(w, ev);
            buf_put(w, ev->buf, ev->len);
            return true;
        }
    } else if (!bs_faults_paused(w->faults, ev->due, ev->node, &until)) {
        return false;
    }
    ev->due = until;
    push_event(w, ev);
    return true;
}

/* A message reaches the queue of a node with workers: it is handed to the node when a
 * worker has served it, or dropped when the queue is full (capacity.h). */
static void admit(struct bs_world *w, struct bs_event *ev)
{
    struct wnode *dst = &w->nodes[ev->node];
    double service = 0;
    bs_time_us start;

    if (dst->processing)
        service = processing_sample(dst, ev->aux >> 1);
    if (w->faults)
        service += bs_faults_slow(w->faults, w->env.now, ev->node);
    if (bs_capacity_admit(dst->cap, w->env.now, (bs_time_us)llround(service), &start) != 0) {
        journal_drop(w, ev->from, ev->node, ev->trace, NULL, "queue full");
        w->queue_dropped++;
        verify_drop(w, ev);
        buf_put(w, ev->buf, ev->len);
        return;
    }
    ev->due = start + (bs_time_us)llround(service);
    ev->aux = 0;
    push_event(w, ev);
}

/* An admin event for one node (BS_EV_CALL, @aux an enum bs_node_admin). */
static void push_admin(struct bs_world *w, uint32_t node, bs_time_us due, int event)
{
    struct bs_event ev;

    memset(&ev, 0, sizeof(ev));
    ev.due = due;
    ev.kind = BS_EV_CALL;
    ev.node = node;
    ev.aux = (uint32_t)event;
    push_event(w, &ev);
}

/*
 * The run begins (the first arrival, so its time is right in real time too): every node
 * signs on towards the peers it originates network management towards (ISO 8583:1987
 * class 8), in node order; each sign_off fault becomes a BS_ADMIN_SIGN_OFF at the start of
 * its window and a BS_ADMIN_SIGN_ON at its end, relative to the run's start.
 */
static void world_start(struct bs_world *w)
{
    uint32_t node;
    bs_time_us from, to;

    w->started = true;
    for (size_t i = 0; i < w->nnodes; i++) {
        struct bs_node *n = w->nodes[i].node;
        if (!n->ops->on_admin)
            continue;
        if (w->faults)
            node_faults(w, (uint32_t)i);
        n->ops->on_admin(n, BS_ADMIN_START);
    }
    for (size_t i = 0; (i = bs_faults_sign_offs(w->faults, i, &node, &from, &to)) != 0;) {
        push_admin(w, node, w->sim_start + from, BS_ADMIN_SIGN_OFF);
        push_admin(w, node, w->sim_start + to, BS_ADMIN_SIGN_ON);
    }
}

/* Hand admin event @ev to its node; a sign-on waits while another sign_off window of the
 * node is still open (overlapping faults). */
static void admin(struct bs_world *w, const struct bs_event *ev)
{
    struct bs_node *n = w->nodes[ev->node].node;

    if (!n->ops->on_admin)
        return;
    if (ev->aux == BS_ADMIN_SIGN_ON && bs_faults_signed_off(w->faults, w->env.now, ev->node))
        return;
    n->ops->on_admin(n, (int)ev->aux);
}

static void dispatch(struct bs_world *w, struct bs_event *ev)
{
    struct bs_node *n;

    /* Real time: now is when the event really runs, so loop lag shows in every latency
     * and timer started from here; never before its due time (rt_tick()). */
    w->env.now = ev->due > w->rt_clock ? ev->due : w->rt_clock;
    if (w->faults &&
        (ev->kind == BS_EV_MESSAGE || ev->kind == BS_EV_TIMER || ev->kind == BS_EV_CALL)) {
        if (held_by_fault(w, ev))
            return;
        node_faults(w, ev->node);
    }
    switch (ev->kind) {
    case BS_EV_MESSAGE:
        if (ev->aux & MSG_ARRIVING) {
            admit(w, ev);
            break;
        }
        if (ev->cookie && !verify_ready(w, ev))
            break; /* waits for its verification (real time, crypto threads) */
        n = w->nodes[ev->node].node;
        w->messages++;
        n->ops->on_message(n, ev->from, ev->buf, ev->len, ev->trace);
        if (ev->cookie)
            verify_release(w, ev);
        buf_put(w, ev->buf, ev->len);
        break;
    case BS_EV_TIMER:
        n = w->nodes[ev->node].node;
        n->ops->on_timer(n, ev->aux, ev->cookie);
        break;
    case BS_EV_ARRIVAL:
        w->arrival_due = ev->due;
        if (!w->started)
            world_start(w);
        workload_step(w);
        break;
    case BS_EV_CALL:
        admin(w, ev);
        break;
    default:
        break;
    }
}

static double cpu_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double wall_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The observer's progress hook, at most every interval wall seconds. */
static void observe_progress(struct bs_world *w)
{
    const struct bs_run_observer *ob = w->opts.observer;
    double now = wall_now();

    if (now - w->progress_wall >= (ob->interval > 0 ? ob->interval : 1.0)) {
        w->progress_wall = now;
        ob->progress(ob->ctx, w, w->env.now);
    }
}

static int run_virtual(struct bs_world *w)
{
    struct bs_event ev;
    bool observe = w->opts.observer && w->opts.observer->progress;
    unsigned k = 0;

    w->progress_wall = wall_now();
    while (bs_queue_pop(&w->q, &ev)) {
        if (ev.due > w->end_time || (w->opts.stop && *w->opts.stop)) {
            w->interrupted = ev.due <= w->end_time;
            buf_put(w, ev.buf, ev.len);
            break;
        }
        dispatch(w, &ev);
        if (observe && (++k & 4095) == 0)
            observe_progress(w);
    }
    return w->q.oom ? BS_ENOMEM : 0;
}

/* Real time: the same queue, dispatched when the wall clock reaches each event. */
struct rt {
    struct bs_world *w;
    uv_loop_t loop;
    uv_timer_t timer, progress;
    uv_signal_t sigint;
    uint64_t last_finished;
};

static bs_time_us rt_now(struct rt *rt)
{
    return rt_clock_now(rt->w);
}

static void rt_stop(struct rt *rt)
{
    uv_timer_stop(&rt->timer);
    uv_timer_stop(&rt->progress);
    uv_signal_stop(&rt->sigint);
    uv_stop(&rt->loop);
}

static void rt_tick(uv_timer_t *t)
{
    struct rt *rt = t->data;
    struct bs_world *w = rt->w;
    const struct bs_event *top;
    struct bs_event ev;
    bs_time_us now = rt_now(rt);

    /* Run every event whose time has come by the high-resolution clock. libuv timers have
     * millisecond granularity and may fire early; an event never runs before its due time,
     * so no response is classed on time or late by timer jitter. The clock read for the
     * comparison is the dispatch's now (dispatch()): one read per event. */
    while ((top = bs_queue_peek(&w->q)) != NULL && top->due <= now) {
        bs_queue_pop(&w->q, &ev);
        if (ev.due > w->end_time) {
            buf_put(w, ev.buf, ev.len);
            rt_stop(rt);
            return;
        }
        w->rt_clock = now;
        dispatch(w, &ev);
        if (w->opts.stop && *w->opts.stop)
            break;
        now = rt_now(rt);
    }
    /* Done when nothing is left before the end of the drain: events after it (expiry
     * sweeps, far repeats) are not waited for. */
    if (w->opts.stop && *w->opts.stop) {
        w->interrupted = true;
        rt_stop(rt);
        return;
    }
    if (!top || top->due > w->end_time) {
        /* Signatures and verifications still out produce events now: wait for them (the
         * pool's wake-up runs this again). */
        if (bs_cpool_pending(w->cpool) == 0)
            rt_stop(rt);
        return;
    }
    /* libuv timers count whole milliseconds: an event may run up to about 1 ms after its
     * due time. (Polling the rest instead was measured: it spent a third of the loop's CPU
     * reading the clock, CPU the crypto threads need; a timerfd would give microseconds.) */
    bs_time_us wait = top->due - rt_now(rt);
    uv_timer_start(&rt->timer, rt_tick, wait > 0 ? (uint64_t)(wait + 999) / 1000 : 0, 0);
}

static void rt_progress(uv_timer_t *t)
{
    struct rt *rt = t->data;
    struct bs_world *w = rt->w;
    uint64_t done = w->total.finished;

    if (w->opts.observer && w->opts.observer->progress)
        w->opts.observer->progress(w->opts.observer->ctx, w, rt_now(rt));
    if (!w->opts.progress)
        return;
    fprintf(stderr, "\r[%6.1fs] started %llu  answered %llu  approved %llu  %llu tps   ",
            (double)(rt_now(rt) - w->rt_t0) / 1e6, (unsigned long long)w->total.started,
            (unsigned long long)done, (unsigned long long)w->total.approved,
            (unsigned long long)(done - rt->last_finished));
    rt->last_finished = done;
}

/* Signatures or verifications came back: run what they made due. */
static void rt_after_crypto(void *ctx)
{
    struct rt *rt = ctx;

    if (!uv_is_active((uv_handle_t *)&rt->sigint))
        return; /* stopped */
    rt_tick(&rt->timer);
}

static void rt_sigint(uv_signal_t *s, int signum)
{
    struct rt *rt = s->data;

    (void)signum;
    fprintf(stderr, "\ninterrupted: stopping, writing journals and summary\n");
    rt->w->interrupted = true;
    if (rt->w->opts.stop)
        *rt->w->opts.stop = 1;
    rt_stop(rt);
}

static int run_realtime(struct bs_world *w)
{
    struct rt rt;
    struct timeval tv;
    unsigned threads = w->opts.crypto_threads;
    int rc;

    memset(&rt, 0, sizeof(rt));
    rt.w = w;
    rc = uv_loop_init(&rt.loop);
    if (rc)
        return BS_EIO;

    if (threads == BS_CPOOL_AUTO) {
        threads = 0;
        for (size_t li = 0; li < w->nlinks; li++)
            if (w->links[li].alg == BS_SIG_ED25519 || w->links[li].alg == BS_SIG_ECDSA_P256)
                threads = bs_cpool_default_threads();
    }
    if (w->keys && threads > 0) {
        /* Signing and verification on worker threads; the loop never waits for them. */
        const struct bs_keystore *stores[2] = { w->keys, w->rogue };
        struct bs_key **extra = bs_calloc(w->nnodes, sizeof(*extra));

        for (size_t i = 0; extra && i < w->nnodes; i++)
            extra[i] = w->nodes[i].rogue_key;
        rc = extra ? bs_cpool_new(&rt.loop, threads, stores, 2, extra, w->nnodes, rt_after_crypto,
                                  &rt, &w->cpool)
                   : BS_ENOMEM;
        bs_free(extra);
        if (rc) {
            uv_loop_close(&rt.loop);
            return rc;
        }
        w->ops_pool = env_ops;
        w->ops_pool.sign_send = env_sign_send;
        w->ops_pool.verify = env_verify;
        w->env.ops = &w->ops_pool;
        w->crypto_threads = threads;
    }
    gettimeofday(&tv, NULL);
    w->rt_hr0 = uv_hrtime();
    w->rt_t0 = (bs_time_us)tv.tv_sec * BS_US_PER_SEC + tv.tv_usec;
    /* Re-base the already-scheduled first arrival on the wall clock. */
    if (w->q.n) {
        struct bs_event first;
        bs_queue_pop(&w->q, &first);
        first.due = w->rt_t0;
        push_event(w, &first);
    }
    w->sim_start = w->rt_t0;
    w->env.now = w->rt_t0;
    /* Fault windows count from the start of this run, as sign_off windows do. */
    bs_faults_rebase(w->faults, w->rt_t0);
    uv_timer_init(&rt.loop, &rt.timer);
    uv_timer_init(&rt.loop, &rt.progress);
    uv_signal_init(&rt.loop, &rt.sigint);
    rt.timer.data = rt.progress.data = rt.sigint.data = &rt;
    uv_timer_start(&rt.timer, rt_tick, 0, 0);
    if (w->opts.progress || (w->opts.observer && w->opts.observer->progress)) {
        double iv = w->opts.observer ? w->opts.observer->interval : 0;
        uint64_t ms = w->opts.progress || iv <= 0 ? 1000 : (uint64_t)(iv * 1000);
        uv_timer_start(&rt.progress, rt_progress, ms ? ms : 1, ms ? ms : 1);
    }
    uv_signal_start(&rt.sigint, rt_sigint, SIGINT);
    uv_run(&rt.loop, UV_RUN_DEFAULT);
    if (w->opts.progress)
        fprintf(stderr, "\n");
    /* Jobs still out are dropped: like messages in flight when a run ends. */
    bs_cpool_free(w->cpool, &w->crypto_cpu_seconds);
    w->cpool = NULL;
    w->env.ops = &env_ops;
    uv_close((uv_handle_t *)&rt.timer, NULL);
    uv_close((uv_handle_t *)&rt.progress, NULL);
    uv_close((uv_handle_t *)&rt.sigint, NULL);
    uv_run(&rt.loop, UV_RUN_DEFAULT);
    uv_loop_close(&rt.loop);
    return 0;
}

/*
 * journals/manifest.json: every journal file of the run with its record count, written as
 * the journals close, so `log verify` notices a journal deleted whole (docs/journal.md).
 * Return: 0 or BS_EIO.
 */
static int write_manifest(const struct bs_world *w)
{
    char path[700], seed[24];
    json_t *m, *curs, *files = json_array();
    int rc;

    snprintf(path, sizeof(path), "%s/journals/manifest.json", w->out_dir);
    snprintf(seed, sizeof(seed), "%llu", (unsigned long long)w->sc->seed);
    for (size_t i = 0; files && i <= w->nnodes; i++) {
        char file[BS_NODE_NAME_MAX + 8];
        const struct bs_jfile *jf = i < w->nnodes ? w->nodes[i].journal : w->links_journal;

        snprintf(file, sizeof(file), "%s.jsonl", i < w->nnodes ? w->nodes[i].name : "links");
        json_array_append_new(files, json_pack("{s:s, s:I}", "file", file, "records",
                                               (json_int_t)bs_jfile_records(jf)));
    }
    /* The currencies' exponents, so `log trace` can show major units (RUB 4,100.00). */
    curs = json_array();
    for (size_t n = 0; curs && n < w->sc->nnetworks; n++) {
        const struct bs_sc_currency *cu = &w->sc->networks[n].currency;
        char num[8];

        snprintf(num, sizeof(num), "%03u", (unsigned)cu->numeric);
        json_array_append_new(curs, json_pack("{s:s, s:s, s:i}", "numeric", num, "code", cu->code,
                                              "exponent", (int)cu->exponent));
    }
    m = json_pack("{s:i, s:s, s:s, s:o?, s:o?}", "format", 1, "scenario", w->sc->name, "seed", seed,
                  "currencies", curs, "journals", files);
    rc = m && json_dump_file(m, path, JSON_INDENT(2) | JSON_PRESERVE_ORDER) == 0 ? 0 : BS_EIO;
    json_decref(m);
    return rc;
}

int bs_world_run(struct bs_world *w)
{
    double wall0 = wall_now(), cpu0 = cpu_now();
    int rc;

    w->sim_start = w->sc->start_time;
    w->env.now = w->sc->start_time;
    w->offering = true;
    w->end_time = INT64_MAX;
    schedule_arrival(w, w->sc->start_time);
    rc = w->opts.realtime ? run_realtime(w) : run_virtual(w);
    w->sim_end = w->env.now;
    /* The last settlement window closes at the end of the run (an earlier cutover closed
     * the others); a failure leaves it open, which settlement.json shows. */
    if (w->settlement)
        (void)bs_settlement_close(w->settlement, w->sim_end);
    w->wall_seconds = wall_now() - wall0;
    w->cpu_seconds = cpu_now() - cpu0;
    /* Close every journal with its final signed checkpoint now, so write errors are
     * reported by the run; nothing is journaled after the run. */
    if (w->opts.journals && write_manifest(w) != 0)
        w->io_error = true;
    {
        bs_time_us wall = w->opts.realtime ? bs_jfile_wall_now() : 0;
        for (size_t i = 0; i < w->nnodes; i++) {
            if (bs_jfile_close(w->nodes[i].journal, w->env.now, wall) != 0)
                w->io_error = true;
            w->nodes[i].journal = NULL;
        }
        if (bs_jfile_close(w->links_journal, w->env.now, wall) != 0)
            w->io_error = true;
        w->links_journal = NULL;
    }
    if (rc == 0 && w->io_error)
        rc = BS_EIO;
    return rc;
}

void bs_world_result(const struct bs_world *w, struct bs_run_result *r)
{
    size_t in_flight = 0, open_rev = 0;

    for (size_t i = 0; i < w->nnodes; i++) {
        if (w->nodes[i].role == ROLE_TERMINALS)
            in_flight += bs_terminal_in_flight(w->nodes[i].node);
        if (w->nodes[i].role == ROLE_ACQUIRER)
            open_rev += bs_acquirer_open_reversals(w->nodes[i].node);
    }
    memset(r, 0, sizeof(*r));
    r->total = &w->total;
    r->flows = w->flows;
    r->nflows = w->sc->workload.nflows;
    r->stats = w->stats;
    r->messages = w->messages;
    r->dropped = w->dropped;
    r->journal_records = w->jrecords;
    r->wall_seconds = w->wall_seconds;
    r->cpu_seconds = w->cpu_seconds;
    r->sim_start = w->sim_start;
    r->sim_end = w->sim_end;
    r->in_flight_at_end = in_flight;
    r->open_reversals_at_end = open_rev;
    r->queue_dropped = w->queue_dropped;
    r->interrupted = w->interrupted;
    r->crypto_threads = w->crypto_threads;
    r->crypto_cpu_seconds = w->crypto_cpu_seconds;
    r->link_dropped = w->link_dropped;
}

size_t bs_world_link_capacity(const struct bs_world *w, size_t i, const char **ret_from,
                              const char **ret_to, struct bs_linkcap_stats *ret)
{
    size_t k = 0;

    for (size_t li = 0; li < w->nlinks; li++) {
        const struct wlink *l = &w->links[li];

        for (int d = 0; l->dir && d < 2; d++) {
            if (!l->dir[d].cap)
                continue;
            if (k++ != i)
                continue;
            *ret_from = w->nodes[d ? l->b : l->a].name;
            *ret_to = w->nodes[d ? l->a : l->b].name;
            bs_linkcap_get_stats(l->dir[d].cap, ret);
            return i + 1;
        }
    }
    return 0;
}

size_t bs_world_issuers(const struct bs_world *w)
{
    size_t n = 0;

    for (size_t i = 0; i < w->nnodes; i++)
        n += w->nodes[i].role == ROLE_ISSUER;
    return n;
}

static const struct wnode *issuer_at(const struct bs_world *w, size_t k)
{
    for (size_t i = 0; i < w->nnodes; i++)
        if (w->nodes[i].role == ROLE_ISSUER && k-- == 0)
            return &w->nodes[i];
    return NULL;
}

const char *bs_world_issuer_name(const struct bs_world *w, size_t i)
{
    const struct wnode *n = issuer_at(w, i);

    return n ? n->name : NULL;
}

const struct bs_node *bs_world_issuer(const struct bs_world *w, size_t i)
{
    const struct wnode *n = issuer_at(w, i);

    return n ? n->node : NULL;
}

const char *bs_world_issuer_currency(const struct bs_world *w, size_t i)
{
    const struct wnode *n = issuer_at(w, i);

    return n ? w->sc->networks[n->net].currency.code : NULL;
}

void bs_world_money_check(const struct bs_world *w, size_t n, struct bs_money_check *ret)
{
    struct bs_bridge_totals bt;

    memset(ret, 0, sizeof(*ret));
    if (n >= w->sc->nnetworks)
        return;
    ret->network = w->sc->networks[n].name;
    ret->currency = w->sc->networks[n].currency.code;
    for (size_t i = 0; i < w->nnodes; i++) {
        struct bs_ledger_totals t;
        if (w->nodes[i].role != ROLE_ISSUER || w->nodes[i].net != (int)n)
            continue;
        bs_ledger_totals(bs_issuer_ledger(w->nodes[i].node), &t);
        ret->issuers_net += t.position + bs_issuer_suspense(w->nodes[i].node);
    }
    bs_bridge_totals(w->nodes[w->bridge_id].node, (int)n, &bt);
    ret->bridge_net = bt.committed - bt.reversed;
}

void bs_world_open_queues(const struct bs_world *w, size_t *ret_reversals, size_t *ret_advices)
{
    size_t rev = 0, adv = 0;
    struct bs_bridge_totals bt;

    for (size_t i = 0; i < w->nnodes; i++) {
        if (w->nodes[i].role == ROLE_ACQUIRER)
            rev += bs_acquirer_open_reversals(w->nodes[i].node);
        else if (w->nodes[i].role == ROLE_SWITCH) {
            rev += bs_switch_open_reversals(w->nodes[i].node);
            adv += bs_switch_open_advices(w->nodes[i].node);
        }
    }
    for (int s = 0; s < 2; s++) {
        bs_bridge_totals(w->nodes[w->bridge_id].node, s, &bt);
        rev += bt.open_reversals;
        adv += bt.open_advices;
    }
    *ret_reversals = rev;
    *ret_advices = adv;
}

struct bs_settlement *bs_world_settlement(const struct bs_world *w)
{
    return w->settlement;
}
