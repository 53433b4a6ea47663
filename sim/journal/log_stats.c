/*
 * bridgesim log stats: counts per MTI, response code, node and link; latency percentiles
 * per hop (message sent → received, per directed link) and end to end (terminal request →
 * response); timeouts, stand-ins, reversals, duplicates, signature failures. One streaming
 * pass in time order; messages in flight wait in a bounded table.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "journal/jread.h"
#include "journal/logcmd.h"
#include "report/hist.h"

#define PEND_BITS  18 /* in-flight table: 2^18 slots */
#define PEND_SLOTS (1u << PEND_BITS)
#define PEND_AGE   (600 * BS_US_PER_SEC) /* a message unanswered this long is forgotten */
#define MAX_LINKS  256

struct pend {
    uint64_t trace;
    int32_t from, to; /* to = -2: an end-to-end request at terminal @from */
    char mti[4], stan[6];
    bs_time_us t;
    bool used;
};

struct link {
    int32_t from, to;
    uint64_t sent, received, lost;
    struct bs_hist lat;
};

struct stats {
    size_t nfiles;
    const struct bs_jline **hdr;
    uint64_t *per_node; /* nfiles × BS_J_KIND_COUNT */
    uint64_t mti[10000];
    uint64_t rc_all[100], rc_all_other;
    uint64_t rc_term[100], rc_term_other;
    uint64_t kinds[BS_J_KIND_COUNT];
    uint64_t reversals_sent, rc94, records, unpaired;
    struct pend *pend;
    size_t npend;
    struct link *links;
    size_t nlinks;
    struct bs_hist e2e;
    bs_time_us t_first, t_last;
};

static int node_index(const struct stats *s, const char *name)
{
    if (!name[0])
        return -1;
    for (size_t i = 0; i < s->nfiles; i++)
        if (strcmp(s->hdr[i]->node, name) == 0)
            return (int)i;
    return -1;
}

static struct link *link_of(struct stats *s, int from, int to)
{
    for (size_t i = 0; i < s->nlinks; i++)
        if (s->links[i].from == from && s->links[i].to == to)
            return &s->links[i];
    if (s->nlinks == MAX_LINKS)
        return NULL;
    s->links[s->nlinks] = (struct link){ .from = from, .to = to };
    bs_hist_init(&s->links[s->nlinks].lat);
    return &s->links[s->nlinks++];
}

static uint64_t pkey(uint64_t trace, int from, int to, const char *mti, const char *stan)
{
    uint64_t h = 1469598103934665603ULL;
    const uint8_t *p;
    uint8_t buf[8 + 4 + 4 + 4 + 6];

    memcpy(buf, &trace, 8);
    memcpy(buf + 8, &from, 4);
    memcpy(buf + 12, &to, 4);
    memcpy(buf + 16, mti, 4);
    memcpy(buf + 20, stan, 6);
    p = buf;
    for (size_t i = 0; i < sizeof(buf); i++) {
        h ^= p[i];
        h *= 1099511628211ULL;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return h;
}

/* Find (remove = true: and take out) or insert a pending message. */
static struct pend *pend_find(struct stats *s, uint64_t trace, int from, int to, const char *mti,
                              const char *stan, bool insert)
{
    uint64_t h = pkey(trace, from, to, mti, stan);
    size_t i = (size_t)(h & (PEND_SLOTS - 1));

    for (size_t probes = 0; probes < PEND_SLOTS; probes++, i = (i + 1) & (PEND_SLOTS - 1)) {
        struct pend *p = &s->pend[i];
        if (!p->used) {
            if (!insert)
                return NULL;
            memset(p, 0, sizeof(*p));
            p->used = true;
            p->trace = trace;
            p->from = from;
            p->to = to;
            memcpy(p->mti, mti, 4);
            memcpy(p->stan, stan, 6);
            s->npend++;
            return p;
        }
        if (p->trace == trace && p->from == from && p->to == to && !memcmp(p->mti, mti, 4) &&
            !memcmp(p->stan, stan, 6))
            return p;
    }
    return NULL;
}

/* Remove slot @p keeping linear probing intact (backward shift). */
static void pend_del(struct stats *s, struct pend *p)
{
    size_t i = (size_t)(p - s->pend), j = i;

    s->pend[i].used = false;
    s->npend--;
    for (;;) {
        size_t k;
        j = (j + 1) & (PEND_SLOTS - 1);
        if (!s->pend[j].used)
            return;
        k = (size_t)(pkey(s->pend[j].trace, s->pend[j].from, s->pend[j].to, s->pend[j].mti,
                          s->pend[j].stan) &
                     (PEND_SLOTS - 1));
        /* Move j back to i when its home slot k is not cyclically in (i, j]. */
        if ((j > i && (k <= i || k > j)) || (j < i && (k <= i && k > j))) {
            s->pend[i] = s->pend[j];
            s->pend[j].used = false;
            i = j;
        }
    }
}

/* Forget messages that will never be answered, so the table never fills. */
static void pend_sweep(struct stats *s, bs_time_us now)
{
    for (size_t i = 0; i < PEND_SLOTS; i++) {
        while (s->pend[i].used && now - s->pend[i].t > PEND_AGE) {
            s->unpaired++;
            pend_del(s, &s->pend[i]);
        }
    }
}

static void count_rc(uint64_t *tab, uint64_t *other, const char *rc)
{
    if (rc[0] >= '0' && rc[0] <= '9' && rc[1] >= '0' && rc[1] <= '9' && !rc[2])
        tab[(rc[0] - '0') * 10 + rc[1] - '0']++;
    else
        (*other)++;
}

/* The MTI slot of an end-to-end entry: four bytes, all zero. */
static const char e2e_mti[4] = { 0 };

static bool is_terminal(const struct stats *s, int i)
{
    return i >= 0 && strcmp(s->hdr[i]->role, "terminal") == 0;
}

static void record(struct stats *s, const struct bs_jline *r, size_t file)
{
    char stan[6] = { 0 }, mti[4] = { 0 };

    if (r->kind == BS_J_CHECKPOINT)
        return;
    s->records++;
    if (!s->t_first)
        s->t_first = r->t;
    s->t_last = r->t;
    s->kinds[r->kind]++;
    s->per_node[file * BS_J_KIND_COUNT + r->kind]++;
    memcpy(mti, r->mti, strlen(r->mti) == 4 ? 4 : 0);
    memcpy(stan, r->stan, strlen(r->stan) == 6 ? 6 : 0);
    if (r->kind == BS_J_MSG_OUT) {
        int to = node_index(s, r->peer);
        struct link *l = link_of(s, (int)file, to);
        struct pend *p;

        if (l)
            l->sent++;
        if (strlen(r->mti) == 4 && strspn(r->mti, "0123456789") == 4)
            s->mti[atoi(r->mti)]++;
        if (r->rc[0])
            count_rc(s->rc_all, &s->rc_all_other, r->rc);
        if (!strcmp(r->rc, "94"))
            s->rc94++;
        if (r->mti[1] == '4' && (r->mti[2] == '0' || r->mti[2] == '2'))
            s->reversals_sent++;
        if (s->npend > PEND_SLOTS / 2)
            pend_sweep(s, r->t);
        p = s->npend < PEND_SLOTS - 1 ? pend_find(s, r->trace, (int)file, to, mti, stan, true)
                                      : NULL;
        if (p)
            p->t = r->t;
        if (is_terminal(s, (int)file) && r->mti[2] == '0' && s->npend < PEND_SLOTS - 1) {
            p = pend_find(s, r->trace, (int)file, -2, e2e_mti, stan, true);
            if (p)
                p->t = r->t;
        }
    } else if (r->kind == BS_J_MSG_IN || r->kind == BS_J_SIG_FAILURE) {
        int from = node_index(s, r->peer);
        struct pend *p = pend_find(s, r->trace, from, (int)file, mti, stan, false);
        struct link *l = link_of(s, from, (int)file);

        if (l)
            l->received++;
        if (p) {
            if (l)
                bs_hist_add(&l->lat, r->t - p->t);
            pend_del(s, p);
        }
        if (is_terminal(s, (int)file) && r->kind == BS_J_MSG_IN && r->mti[2] == '1') {
            char req_stan[6];
            memcpy(req_stan, stan, 6);
            p = pend_find(s, r->trace, (int)file, -2, e2e_mti, req_stan, false);
            if (p) {
                bs_hist_add(&s->e2e, r->t - p->t);
                pend_del(s, p);
            }
            if (r->rc[0])
                count_rc(s->rc_term, &s->rc_term_other, r->rc);
        }
    } else if (r->kind == BS_J_DROP) {
        int from = node_index(s, r->from[0] ? r->from : r->node);
        struct link *l = link_of(s, from, node_index(s, r->peer));
        struct pend *p = pend_find(s, r->trace, from, node_index(s, r->peer), mti, stan, false);
        if (l)
            l->lost++;
        if (p)
            pend_del(s, p);
    }
}

static double ms(int64_t us)
{
    return (double)us / 1000.0;
}

static const char *name_of(const struct stats *s, int i)
{
    return i >= 0 ? s->hdr[i]->node : "?";
}

static void print_text(struct stats *s, FILE *out)
{
    /* Kinds that have a line of their own above are not repeated below. */
    static const enum bs_jkind more[] = { BS_J_LATE,  BS_J_ADVICE,       BS_J_UNMATCHED,
                                          BS_J_DROP,  BS_J_FORMAT_ERROR, BS_J_INTERNAL,
                                          BS_J_FAULT, BS_J_STATE,        BS_J_SETTLEMENT };

    fprintf(out, "records %llu in %zu journals over %.3f s of %s time\n\n",
            (unsigned long long)s->records, s->nfiles, ms(s->t_last - s->t_first) / 1000.0,
            s->nfiles && !strcmp(s->hdr[0]->mode, "realtime") ? "wall-clock" : "virtual");
    fprintf(out, "events\n");
    fprintf(out, "  %-24s %10llu\n", "timeouts", (unsigned long long)s->kinds[BS_J_TIMEOUT]);
    fprintf(out, "  %-24s %10llu\n", "stand-ins", (unsigned long long)s->kinds[BS_J_STAND_IN]);
    fprintf(out, "  %-24s %10llu\n", "reversals sent (04x0)",
            (unsigned long long)s->reversals_sent);
    fprintf(out, "  %-24s %10llu\n", "reversal records",
            (unsigned long long)s->kinds[BS_J_REVERSAL]);
    fprintf(out, "  %-24s %10llu\n", "duplicates (+ RC 94)",
            (unsigned long long)(s->kinds[BS_J_DUPLICATE] + s->rc94));
    fprintf(out, "  %-24s %10llu\n", "signature failures",
            (unsigned long long)s->kinds[BS_J_SIG_FAILURE]);
    for (size_t i = 0; i < sizeof(more) / sizeof(more[0]); i++)
        if (s->kinds[more[i]])
            fprintf(out, "  %-24s %10llu\n",
                    more[i] == BS_J_DROP ? "messages lost (drop)" : bs_jkind_name(more[i]),
                    (unsigned long long)s->kinds[more[i]]);
    fprintf(out, "\nmessages by MTI (sent, every hop)\n");
    for (int m = 0; m < 10000; m++)
        if (s->mti[m])
            fprintf(out, "  %04d %12llu\n", m, (unsigned long long)s->mti[m]);
    fprintf(out, "\nresponse codes       at terminals   all hops\n");
    for (int r = 0; r < 100; r++)
        if (s->rc_all[r] || s->rc_term[r])
            fprintf(out, "  %02d %24llu %10llu\n", r, (unsigned long long)s->rc_term[r],
                    (unsigned long long)s->rc_all[r]);
    if (s->rc_all_other || s->rc_term_other)
        fprintf(out, "  other %21llu %10llu\n", (unsigned long long)s->rc_term_other,
                (unsigned long long)s->rc_all_other);
    fprintf(out, "\nend to end (terminal request -> response)\n");
    fprintf(out, "  %llu answered  p50 %.3f ms  p90 %.3f ms  p99 %.3f ms  max %.3f ms\n",
            (unsigned long long)s->e2e.count, ms(bs_hist_quantile(&s->e2e, 0.5)),
            ms(bs_hist_quantile(&s->e2e, 0.9)), ms(bs_hist_quantile(&s->e2e, 0.99)),
            ms(s->e2e.max));
    fprintf(out, "\nper hop (message sent -> received)                          sent     lost"
                 "    p50 ms    p90 ms    p99 ms    max ms\n");
    for (size_t i = 0; i < s->nlinks; i++) {
        struct link *l = &s->links[i];
        char name[160];
        snprintf(name, sizeof(name), "%s -> %s", name_of(s, l->from), name_of(s, l->to));
        fprintf(out, "  %-54.54s %9llu %8llu %9.3f %9.3f %9.3f %9.3f\n", name,
                (unsigned long long)l->sent, (unsigned long long)l->lost,
                ms(bs_hist_quantile(&l->lat, 0.5)), ms(bs_hist_quantile(&l->lat, 0.9)),
                ms(bs_hist_quantile(&l->lat, 0.99)), ms(l->lat.max));
    }
    fprintf(out, "\nper node          records   msg_in  msg_out  timeout reversal    other\n");
    for (size_t i = 0; i < s->nfiles; i++) {
        uint64_t *k = &s->per_node[i * BS_J_KIND_COUNT], tot = 0, other;
        for (int j = 0; j < BS_J_KIND_COUNT; j++)
            tot += k[j];
        other = tot - k[BS_J_MSG_IN] - k[BS_J_MSG_OUT] - k[BS_J_TIMEOUT] - k[BS_J_REVERSAL];
        fprintf(out, "  %-27s %9llu %8llu %8llu %8llu %8llu %8llu\n", s->hdr[i]->node,
                (unsigned long long)tot, (unsigned long long)k[BS_J_MSG_IN],
                (unsigned long long)k[BS_J_MSG_OUT], (unsigned long long)k[BS_J_TIMEOUT],
                (unsigned long long)k[BS_J_REVERSAL], (unsigned long long)other);
    }
}

static json_t *hist_json(const struct bs_hist *h)
{
    return json_pack("{s:I, s:f, s:f, s:f, s:f}", "count", (json_int_t)h->count, "p50_ms",
                     ms(bs_hist_quantile(h, 0.5)), "p90_ms", ms(bs_hist_quantile(h, 0.9)), "p99_ms",
                     ms(bs_hist_quantile(h, 0.99)), "max_ms", ms(h->max));
}

static void print_json(struct stats *s, FILE *out)
{
    json_t *top = json_object(), *o;
    char k[8];

    json_object_set_new(top, "records", json_integer((json_int_t)s->records));
    json_object_set_new(top, "journals", json_integer((json_int_t)s->nfiles));
    o = json_object();
    json_object_set_new(o, "timeouts", json_integer((json_int_t)s->kinds[BS_J_TIMEOUT]));
    json_object_set_new(o, "stand_ins", json_integer((json_int_t)s->kinds[BS_J_STAND_IN]));
    json_object_set_new(o, "reversals_sent", json_integer((json_int_t)s->reversals_sent));
    json_object_set_new(o, "duplicates",
                        json_integer((json_int_t)(s->kinds[BS_J_DUPLICATE] + s->rc94)));
    json_object_set_new(o, "signature_failures",
                        json_integer((json_int_t)s->kinds[BS_J_SIG_FAILURE]));
    for (int j = 0; j < BS_J_KIND_COUNT; j++)
        if (s->kinds[j] && j != BS_J_MSG_IN && j != BS_J_MSG_OUT)
            json_object_set_new(o, bs_jkind_name((enum bs_jkind)j),
                                json_integer((json_int_t)s->kinds[j]));
    json_object_set_new(top, "events", o);
    o = json_object();
    for (int m = 0; m < 10000; m++)
        if (s->mti[m]) {
            snprintf(k, sizeof(k), "%04d", m);
            json_object_set_new(o, k, json_integer((json_int_t)s->mti[m]));
        }
    json_object_set_new(top, "mti", o);
    o = json_object();
    for (int r = 0; r < 100; r++)
        if (s->rc_term[r]) {
            snprintf(k, sizeof(k), "%02d", r);
            json_object_set_new(o, k, json_integer((json_int_t)s->rc_term[r]));
        }
    json_object_set_new(top, "rc_at_terminals", o);
    o = json_object();
    for (int r = 0; r < 100; r++)
        if (s->rc_all[r]) {
            snprintf(k, sizeof(k), "%02d", r);
            json_object_set_new(o, k, json_integer((json_int_t)s->rc_all[r]));
        }
    json_object_set_new(top, "rc_all_hops", o);
    json_object_set_new(top, "end_to_end", hist_json(&s->e2e));
    o = json_array();
    for (size_t i = 0; i < s->nlinks; i++) {
        struct link *l = &s->links[i];
        json_t *x = json_pack("{s:s, s:s, s:I, s:I, s:I}", "from", name_of(s, l->from), "to",
                              name_of(s, l->to), "sent", (json_int_t)l->sent, "received",
                              (json_int_t)l->received, "lost", (json_int_t)l->lost);
        if (x) {
            json_object_set_new(x, "latency", hist_json(&l->lat));
            json_array_append_new(o, x);
        }
    }
    json_object_set_new(top, "hops", o);
    o = json_object();
    for (size_t i = 0; i < s->nfiles; i++) {
        json_t *x = json_object();
        for (int j = 0; j < BS_J_KIND_COUNT; j++)
            if (s->per_node[i * BS_J_KIND_COUNT + (size_t)j])
                json_object_set_new(
                    x, bs_jkind_name((enum bs_jkind)j),
                    json_integer((json_int_t)s->per_node[i * BS_J_KIND_COUNT + (size_t)j]));
        json_object_set_new(o, s->hdr[i]->node, x);
    }
    json_object_set_new(top, "nodes", o);
    json_dumpf(top, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
    fputc('\n', out);
    json_decref(top);
}

int bs_log_stats(const char *rundir, const struct bs_log_out *o, FILE *out, FILE *errf)
{
    struct bs_jrun run;
    struct bs_jmerge *m = NULL;
    struct bs_jmerge_item it;
    struct stats *s;
    char err[600];
    int rc, code = 2;

    if (bs_jrun_open(rundir, &run, err, sizeof(err)) != 0) {
        fprintf(errf, "bridgesim log stats: %s\n", err);
        return 2;
    }
    s = bs_calloc(1, sizeof(*s));
    if (s) {
        s->pend = bs_calloc(PEND_SLOTS, sizeof(*s->pend));
        s->links = bs_calloc(MAX_LINKS, sizeof(*s->links));
        s->hdr = bs_calloc(run.n, sizeof(*s->hdr));
        s->per_node = bs_calloc(run.n * BS_J_KIND_COUNT, sizeof(*s->per_node));
    }
    if (!s || !s->pend || !s->links || !s->hdr || !s->per_node) {
        fprintf(errf, "bridgesim log stats: out of memory\n");
        goto out;
    }
    bs_hist_init(&s->e2e);
    rc = bs_jmerge_open(&run, errf, &m, err, sizeof(err));
    if (rc) {
        fprintf(errf, "bridgesim log stats: %s\n", err);
        goto out;
    }
    s->nfiles = run.n;
    for (size_t i = 0; i < run.n; i++)
        s->hdr[i] = bs_jmerge_header(m, i);
    while ((rc = bs_jmerge_next(m, &it, err, sizeof(err))) == 1)
        record(s, it.rec, it.file);
    if (rc < 0) {
        fprintf(errf, "bridgesim log stats: %s\n", err);
        goto out;
    }
    if (o->json)
        print_json(s, out);
    else
        print_text(s, out);
    code = 0;
out:
    bs_jmerge_free(m);
    if (s) {
        bs_free(s->pend);
        bs_free(s->links);
        bs_free(s->hdr);
        bs_free(s->per_node);
        bs_free(s);
    }
    bs_jrun_close(&run);
    return code;
}
