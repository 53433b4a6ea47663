/*
 * bridgesim log trace RUNDIR ID: every hop of one transaction across every node, in time
 * order, as a ladder diagram (terminal, acquirer, switch, bridge, switch, issuer) and a
 * table of hops with per-hop latency. ID is a trace id, an RRN or a STAN; every
 * transaction it names is shown (at most MAX_SHOWN). Two streaming passes: one finds the
 * trace ids, one collects their records; memory is bounded by MAX_EVENTS per trace.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "journal/jread.h"
#include "journal/logcmd.h"

#define MAX_TRACES 64    /* distinct transactions one ID may name (more are counted) */
#define MAX_SHOWN  8     /* ladders printed */
#define MAX_EVENTS 20000 /* records kept per transaction */
#define NCOL       6
#define CW         12 /* ladder column width */
#define TW         11 /* time column width */

struct ev {
    bs_time_us t;
    enum bs_jkind kind;
    int node, peer, from; /* file indexes, -1 unknown */
    char mti[5], proc[7], stan[7], rrn[13], rc[3], pan[20], cur[4], sig[16];
    int64_t amount;
    bool has_amount;
    char note[80];
    int match;     /* out: index of its arrival (in or sig_failure), -1 */
    int drop;      /* out: index of the drop record that lost it, -1 */
    bool consumed; /* in or drop: shown with its out */
};

struct trace {
    uint64_t id;
    struct ev *ev;
    size_t n, cap;
    bool truncated;
};

struct ctx {
    struct bs_jmerge *m;
    size_t nfiles;
    const struct bs_jline **hdr;
    FILE *out;
    int width;
    struct bs_log_currencies cur;
};

static int node_index(const struct ctx *c, const char *name)
{
    if (!name[0])
        return -1;
    for (size_t i = 0; i < c->nfiles; i++)
        if (strcmp(c->hdr[i]->node, name) == 0)
            return (int)i;
    return -1;
}

static bool id_matches(const char *id, bool numeric, uint64_t idnum, const struct bs_jline *r)
{
    if (r->kind == BS_J_HEADER || r->kind == BS_J_CHECKPOINT)
        return false;
    return (numeric && r->trace == idnum && r->trace) || (r->rrn[0] && !strcmp(r->rrn, id)) ||
           (r->stan[0] && !strcmp(r->stan, id));
}

static void add_ev(struct ctx *c, struct trace *tr, const struct bs_jline *r, size_t file)
{
    struct ev *e;

    if (tr->n == tr->cap) {
        size_t nc = tr->cap ? 2 * tr->cap : 64;
        struct ev *ne;
        if (nc > MAX_EVENTS)
            nc = MAX_EVENTS;
        if (tr->n >= nc || !(ne = bs_realloc(tr->ev, nc * sizeof(*ne)))) {
            tr->truncated = true;
            return;
        }
        tr->ev = ne;
        tr->cap = nc;
    }
    e = &tr->ev[tr->n++];
    memset(e, 0, sizeof(*e));
    e->t = r->t;
    e->kind = r->kind;
    e->node = (int)file;
    e->peer = node_index(c, r->peer);
    e->from = r->from[0] ? node_index(c, r->from) : (int)file;
    memcpy(e->mti, r->mti, sizeof(e->mti));
    memcpy(e->proc, r->proc, sizeof(e->proc));
    memcpy(e->stan, r->stan, sizeof(e->stan));
    memcpy(e->rrn, r->rrn, sizeof(e->rrn));
    memcpy(e->rc, r->rc, sizeof(e->rc));
    memcpy(e->pan, r->pan, sizeof(e->pan));
    memcpy(e->cur, r->currency, sizeof(e->cur));
    memcpy(e->sig, r->sig, sizeof(e->sig));
    e->amount = r->amount;
    e->has_amount = r->has_amount;
    snprintf(e->note, sizeof(e->note), "%s", r->note);
    e->match = e->drop = -1;
}

/* Pair every message sent with its arrival, or with the link record that lost it. */
static void pair(struct trace *tr)
{
    for (size_t i = 0; i < tr->n; i++) {
        struct ev *o = &tr->ev[i];
        if (o->kind != BS_J_MSG_OUT)
            continue;
        for (size_t j = i + 1; j < tr->n; j++) {
            struct ev *x = &tr->ev[j];
            if (x->consumed)
                continue;
            /* Lost on the link (recorded when sent) or at a crashed receiver (recorded
             * when it would have arrived): the first one after the send. A drop without
             * a message (a crashed receiver) matches any message on that link. */
            if (x->kind == BS_J_DROP && x->from == o->node && x->peer == o->peer &&
                (!x->mti[0] || (!strcmp(x->mti, o->mti) && !strcmp(x->stan, o->stan)))) {
                o->drop = (int)j;
                x->consumed = true;
                break;
            }
            if ((x->kind == BS_J_MSG_IN || x->kind == BS_J_SIG_FAILURE) && x->node == o->peer &&
                x->peer == o->node && !strcmp(x->mti, o->mti) && !strcmp(x->stan, o->stan)) {
                o->match = (int)j;
                x->consumed = true;
                break;
            }
        }
    }
}

/* Ladder column of a node: the acquiring network's nodes on the left, the card network's on
 * the right, the bridge in the middle. */
static int column(const struct ctx *c, int node, const char *acq_net)
{
    const struct bs_jline *h;

    if (node < 0)
        return -1;
    h = c->hdr[node];
    if (!strcmp(h->role, "terminal"))
        return 0;
    if (!strcmp(h->role, "acquirer"))
        return 1;
    if (!strcmp(h->role, "bridge"))
        return 3;
    if (!strcmp(h->role, "switch"))
        return strcmp(h->network, acq_net) == 0 ? 2 : 4;
    if (!strcmp(h->role, "issuer"))
        return 5;
    return -1;
}

static const char *short_name(const struct bs_jline *h)
{
    const char *s = h->node, *dot = strchr(s, '.');

    if (!strcmp(h->role, "switch"))
        return h->network[0] ? h->network : s;
    if (!strcmp(h->role, "terminal"))
        return "terminals";
    if (!dot)
        return s;
    return dot + 1;
}

/* @s cut to @w characters, a '~' marking the cut. */
static void fit(char *buf, size_t len, const char *s, int w)
{
    if ((int)strlen(s) <= w)
        snprintf(buf, len, "%s", s);
    else
        snprintf(buf, len, "%.*s~", w - 1, s);
}

static int center(int col)
{
    return col * CW + CW / 2;
}

static void put_center(char *line, int w, int col, const char *s)
{
    int n = (int)strlen(s), at;

    if (n > CW - 1)
        n = CW - 1;
    at = center(col) - n / 2;
    if (at < 0)
        at = 0;
    if (at + n > w)
        return;
    memcpy(line + at, s, (size_t)n);
}

static char marker(enum bs_jkind k)
{
    switch (k) {
    case BS_J_TIMEOUT:
        return 'T';
    case BS_J_LATE:
        return 'L';
    case BS_J_REVERSAL:
        return 'R';
    case BS_J_DUPLICATE:
        return 'D';
    case BS_J_STAND_IN:
        return 'S';
    case BS_J_ADVICE:
        return 'A';
    case BS_J_UNMATCHED:
        return 'U';
    case BS_J_DROP:
        return 'X';
    case BS_J_FAULT:
        return 'F';
    case BS_J_SIG_FAILURE:
    case BS_J_FORMAT_ERROR:
    case BS_J_INTERNAL:
        return '!';
    default:
        return '*';
    }
}

static void lifelines(char *d, int used)
{
    memset(d, ' ', NCOL * CW);
    d[NCOL * CW] = '\0';
    for (int i = 0; i < NCOL; i++)
        if (used & (1 << i))
            d[center(i)] = '|';
}

static void arrow(char *d, int a, int b, const char *label, char head)
{
    int ca = center(a), cb = center(b), lo = ca < cb ? ca : cb, hi = ca < cb ? cb : ca;
    int n = (int)strlen(label), span = hi - lo - 1;

    for (int x = lo + 1; x < hi; x++)
        d[x] = '-';
    if (a < b)
        d[cb - 1] = head;
    else
        d[cb + 1] = head == '>' ? '<' : head;
    if (n && span >= n + 4)
        memcpy(d + lo + 1 + (span - n) / 2, label, (size_t)n);
}

static void fmt_ms(char *buf, size_t len, bs_time_us us)
{
    snprintf(buf, len, "%.3f", (double)us / 1000.0);
}

/* Print @s without its trailing blanks, then a newline. */
static void put_trimmed(FILE *out, const char *s)
{
    size_t n = strlen(s);

    while (n && s[n - 1] == ' ')
        n--;
    fprintf(out, "%.*s\n", (int)n, s);
}

static const char *txn_type(const char *mti, const char *proc)
{
    if (mti[1] == '4')
        return "reversal";
    if (mti[1] == '8')
        return "network management";
    if (!proc[0])
        return "transaction";
    if (!strncmp(proc, "00", 2))
        return "purchase";
    if (!strncmp(proc, "01", 2))
        return "cash withdrawal";
    if (!strncmp(proc, "20", 2))
        return "refund";
    if (!strncmp(proc, "31", 2))
        return "balance inquiry";
    return "transaction";
}

static void render(struct ctx *c, struct trace *tr)
{
    const struct ev *first = NULL, *resp = NULL;
    char acq_net[32] = "", d[NCOL * CW + 1], label[64], ms[32], ms2[32];
    const char *colname[NCOL] = { NULL };
    static const char *const roles[NCOL] = { "terminal", "acquirer", "switch",
                                             "bridge",   "switch",   "issuer" };
    int used = 0, namew = 4;
    bs_time_us t0;
    FILE *out = c->out;

    if (tr->n == 0)
        return;
    pair(tr);
    t0 = tr->ev[0].t;
    for (size_t i = 0; i < tr->n; i++) {
        const struct ev *e = &tr->ev[i];
        if (e->node >= 0 && !strcmp(c->hdr[e->node]->role, "terminal")) {
            if (!acq_net[0])
                snprintf(acq_net, sizeof(acq_net), "%s", c->hdr[e->node]->network);
            if (!first && e->kind == BS_J_MSG_OUT)
                first = e;
            if (first && e->kind == BS_J_MSG_IN && !resp && e->mti[2] == '1')
                resp = e;
        }
    }
    if (!acq_net[0] && tr->ev[0].node >= 0)
        snprintf(acq_net, sizeof(acq_net), "%s", c->hdr[tr->ev[0].node]->network);
    for (size_t i = 0; i < tr->n; i++) {
        const struct ev *e = &tr->ev[i];
        int nodes[2] = { e->node, e->kind == BS_J_DROP ? e->peer : -1 };
        if (e->kind == BS_J_DROP)
            nodes[0] = e->from;
        for (int k = 0; k < 2; k++) {
            int col = column(c, nodes[k], acq_net);
            if (col >= 0) {
                used |= 1 << col;
                if (!colname[col])
                    colname[col] = short_name(c->hdr[nodes[k]]);
            }
            if (nodes[k] >= 0 && (int)strlen(c->hdr[nodes[k]]->node) > namew)
                namew = (int)strlen(c->hdr[nodes[k]]->node);
        }
    }
    /* The hop table is 57 columns plus two names. */
    if (namew > (c->width - 57) / 2)
        namew = (c->width - 57) / 2;
    if (namew < 8)
        namew = 8;

    /* Summary. */
    {
        const struct ev *s = first ? first : &tr->ev[0];
        fprintf(out, "trace %llu: %s %s", (unsigned long long)tr->id, s->mti[0] ? s->mti : "",
                txn_type(s->mti, s->proc));
        if (s->pan[0]) {
            char pnet[32] = "";
            /* The card's network is the issuer's. */
            for (size_t i = 0; i < tr->n; i++) {
                const struct ev *e = &tr->ev[i];
                if (e->node >= 0 && !strcmp(c->hdr[e->node]->role, "issuer")) {
                    snprintf(pnet, sizeof(pnet), " (%s card)", c->hdr[e->node]->network);
                    break;
                }
            }
            fprintf(out, ", card %s%s", s->pan, pnet);
        }
        if (s->has_amount) {
            char money[80];

            bs_log_money(&c->cur, s->cur, s->amount, money, sizeof(money));
            fprintf(out, ", %s", money);
        }
        if (s->node >= 0)
            fprintf(out, ", at %s", c->hdr[s->node]->node);
        fputc('\n', out);
        if (first && resp) {
            fmt_ms(ms, sizeof(ms), resp->t - first->t);
            fprintf(out, "  result: %s RC %s at the terminal, end to end %s ms\n", resp->mti,
                    resp->rc[0] ? resp->rc : "--", ms);
        } else if (first) {
            fprintf(out, "  result: no response reached the terminal\n");
        }
        fprintf(out, "  %zu records on %d nodes%s\n\n", tr->n, __builtin_popcount((unsigned)used),
                tr->truncated ? " (more not shown: over the per-transaction limit)" : "");
    }

    /* Ladder. */
    memset(d, ' ', sizeof(d) - 1);
    d[sizeof(d) - 1] = '\0';
    for (int i = 0; i < NCOL; i++)
        put_center(d, NCOL * CW, i, roles[i]);
    fprintf(out, "%*s ", TW, "+ms");
    put_trimmed(out, d);
    memset(d, ' ', sizeof(d) - 1);
    for (int i = 0; i < NCOL; i++)
        if (colname[i])
            put_center(d, NCOL * CW, i, colname[i]);
    fprintf(out, "%*s ", TW, "");
    put_trimmed(out, d);
    for (size_t i = 0; i < tr->n; i++) {
        const struct ev *e = &tr->ev[i];
        int a, b;

        if (e->consumed)
            continue;
        lifelines(d, used);
        label[0] = '\0';
        a = column(c, e->kind == BS_J_DROP ? e->from : e->node, acq_net);
        if (e->kind == BS_J_MSG_OUT) {
            b = column(c, e->peer, acq_net);
            if (a >= 0 && b >= 0 && a != b) {
                char head = e->match >= 0 ? '>' : 'X';
                arrow(d, a, b, e->mti, head);
            }
            if (e->match >= 0) {
                /* One decimal here; the hop table below has microseconds. */
                snprintf(ms, sizeof(ms), "%.1f", (double)(tr->ev[e->match].t - e->t) / 1000.0);
                snprintf(label, sizeof(label), "%s%s%s %sms%s", e->mti, e->rc[0] ? " " : "", e->rc,
                         ms, tr->ev[e->match].kind == BS_J_SIG_FAILURE ? " BAD SIG" : "");
            } else {
                snprintf(label, sizeof(label), "%s %s", e->mti,
                         e->drop >= 0 ? "LOST" : "NO ARRIVAL");
            }
        } else if (e->kind == BS_J_MSG_IN) {
            /* An arrival whose sending was not journaled. */
            b = a;
            a = column(c, e->peer, acq_net);
            if (a >= 0 && b >= 0 && a != b)
                arrow(d, a, b, e->mti, '>');
            snprintf(label, sizeof(label), "%s (send not journaled)", e->mti);
        } else {
            if (a >= 0)
                d[center(a)] = marker(e->kind);
            snprintf(label, sizeof(label), "%s%s%s", bs_jkind_name(e->kind), e->mti[0] ? " " : "",
                     e->mti);
        }
        fmt_ms(ms, sizeof(ms), e->t - t0);
        {
            int room = c->width - TW - 1 - NCOL * CW - 1;
            fprintf(out, "%*s %s", TW, ms, d);
            if (room > 4)
                fprintf(out, " %.*s", room, label);
            fputc('\n', out);
        }
    }

    /* Hops. */
    fprintf(out, "\n%3s %10s %-*s    %-*s %-4s %-6s %-12s %-2s %9s%s\n", "#", "+ms", namew, "from",
            namew, "to", "MTI", "STAN", "RRN", "RC", "hop ms",
            c->width - (57 + 2 * namew) - 2 > 4 ? "  note" : "");
    for (size_t i = 0, k = 0; i < tr->n; i++) {
        const struct ev *e = &tr->ev[i];
        const char *from, *to, *note = e->note;
        char notebuf[96], kindbuf[32];
        int left;

        if (e->consumed)
            continue;
        k++;
        fmt_ms(ms, sizeof(ms), e->t - t0);
        ms2[0] = '\0';
        from = e->node >= 0 ? c->hdr[e->node]->node : "?";
        to = "";
        if (e->kind == BS_J_MSG_OUT) {
            to = e->peer >= 0 ? c->hdr[e->peer]->node : "?";
            if (e->match >= 0) {
                const struct ev *in = &tr->ev[e->match];
                fmt_ms(ms2, sizeof(ms2), in->t - e->t);
                if (in->kind == BS_J_SIG_FAILURE) {
                    snprintf(notebuf, sizeof(notebuf), "signature %s at receiver", in->sig);
                    note = notebuf;
                }
            } else {
                note = e->drop >= 0 ? tr->ev[e->drop].note : "never arrived";
                snprintf(ms2, sizeof(ms2), "%s", e->drop >= 0 ? "lost" : "-");
            }
        } else if (e->kind == BS_J_MSG_IN) {
            to = from;
            from = e->peer >= 0 ? c->hdr[e->peer]->node : "?";
        } else {
            if (e->kind == BS_J_DROP) {
                from = e->from >= 0 ? c->hdr[e->from]->node : "?";
                to = e->peer >= 0 ? c->hdr[e->peer]->node : "?";
            }
            snprintf(notebuf, sizeof(notebuf), "%s%s%s", bs_jkind_name(e->kind),
                     e->note[0] ? ": " : "", e->note);
            note = notebuf;
            if (e->kind != BS_J_DROP) {
                /* An event at one node: its kind where the receiver would be. */
                snprintf(kindbuf, sizeof(kindbuf), "(%s)", bs_jkind_name(e->kind));
                to = kindbuf;
            }
        }
        left = c->width - (57 + 2 * namew) - 2;
        {
            char line[512], fn[64], tn[64];
            fit(fn, sizeof(fn), from, namew);
            fit(tn, sizeof(tn), to, namew);
            snprintf(line, sizeof(line), "%3zu %10s %-*s %s %-*s %-4s %-6s %-12s %-2s %9s", k, ms,
                     namew, fn, to[0] && to[0] != '(' ? "->" : "  ", namew, tn, e->mti, e->stan,
                     e->rrn, e->rc, ms2);
            if (left > 4 && note[0])
                fprintf(out, "%s  %.*s\n", line, left, note);
            else
                put_trimmed(out, line);
        }
    }
}

int bs_log_trace(const char *rundir, const char *id, const struct bs_log_out *o, FILE *out,
                 FILE *errf)
{
    struct bs_jrun run;
    struct ctx c;
    struct bs_jmerge_item it;
    struct trace traces[MAX_TRACES];
    size_t ntr = 0, more = 0;
    char err[600];
    bool numeric =
        id[0] && strspn(id, "0123456789") == strlen(id) && id[0] != '0' && strlen(id) <= 19;
    uint64_t idnum = numeric ? strtoull(id, NULL, 10) : 0;
    int rc, code = 2;

    memset(&c, 0, sizeof(c));
    memset(traces, 0, sizeof(traces));
    if (!id[0] || strlen(id) > 24) {
        fprintf(errf, "bridgesim log trace: ID must be a trace id, an RRN or a STAN\n");
        return 2;
    }
    if (bs_jrun_open(rundir, &run, err, sizeof(err)) != 0) {
        fprintf(errf, "bridgesim log trace: %s\n", err);
        return 2;
    }
    /* Pass 1: which transactions does ID name? */
    rc = bs_jmerge_open(&run, errf, &c.m, err, sizeof(err));
    while (rc >= 0 && (rc = bs_jmerge_next(c.m, &it, err, sizeof(err))) == 1) {
        size_t k;
        if (!it.rec->trace || !id_matches(id, numeric, idnum, it.rec))
            continue;
        for (k = 0; k < ntr && traces[k].id != it.rec->trace; k++)
            ;
        if (k == ntr) {
            if (ntr < MAX_TRACES)
                traces[ntr++].id = it.rec->trace;
            else
                more++;
        }
    }
    if (rc < 0) {
        fprintf(errf, "bridgesim log trace: %s\n", rc == BS_ENOMEM ? "out of memory" : err);
        goto out;
    }
    bs_jmerge_free(c.m);
    c.m = NULL;
    if (ntr == 0) {
        fprintf(errf, "bridgesim log trace: no transaction with trace id, RRN or STAN '%s' in %s\n",
                id, rundir);
        code = 1;
        goto out;
    }
    /* Pass 2: their records, in time order. */
    rc = bs_jmerge_open(&run, NULL, &c.m, err, sizeof(err));
    if (rc) {
        fprintf(errf, "bridgesim log trace: %s\n", err);
        goto out;
    }
    c.nfiles = run.n;
    c.out = out;
    c.width = bs_log_width(o, out);
    bs_log_currencies_load(run.dir, &c.cur);
    c.hdr = bs_calloc(run.n, sizeof(*c.hdr));
    if (!c.hdr) {
        fprintf(errf, "bridgesim log trace: out of memory\n");
        goto out;
    }
    for (size_t i = 0; i < run.n; i++)
        c.hdr[i] = bs_jmerge_header(c.m, i);
    while ((rc = bs_jmerge_next(c.m, &it, err, sizeof(err))) == 1) {
        const struct bs_jline *r = it.rec;
        size_t k;
        if (!r->trace || r->kind == BS_J_CHECKPOINT)
            continue;
        for (k = 0; k < ntr && traces[k].id != r->trace; k++)
            ;
        if (k == ntr || k >= MAX_SHOWN)
            continue;
        if (o->json) {
            fwrite(it.line, 1, it.n, out);
            fputc('\n', out);
        } else {
            add_ev(&c, &traces[k], r, it.file);
        }
    }
    if (rc < 0) {
        fprintf(errf, "bridgesim log trace: %s\n", err);
        goto out;
    }
    if (!o->json) {
        if (ntr > 1)
            fprintf(out,
                    "'%s' names %zu%s transactions (trace ids, RRNs and STANs are all "
                    "matched)%s\n\n",
                    id, ntr + more, more ? "+" : "",
                    ntr > MAX_SHOWN ? "; the first 8 are shown" : "");
        for (size_t k = 0; k < ntr && k < MAX_SHOWN; k++) {
            if (k)
                fputc('\n', out);
            render(&c, &traces[k]);
        }
        if (ntr > MAX_SHOWN) {
            fprintf(out, "\nalso:");
            for (size_t k = MAX_SHOWN; k < ntr; k++)
                fprintf(out, " %llu", (unsigned long long)traces[k].id);
            fprintf(out, "%s\n", more ? " ..." : "");
        }
    }
    code = 0;
out:
    for (size_t k = 0; k < ntr; k++)
        bs_free(traces[k].ev);
    bs_free(c.hdr);
    bs_jmerge_free(c.m);
    bs_jrun_close(&run);
    return code;
}
