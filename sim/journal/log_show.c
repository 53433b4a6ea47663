/* bridgesim log show: the records of a run, filtered, as a table or as JSON Lines. */
#include <stdarg.h>
#include <fnmatch.h>
#include <string.h>

#include "journal/jread.h"
#include "journal/logcmd.h"

/* Short kind names for the table (the JSON keeps the full names). */
static const char *short_kind(enum bs_jkind k)
{
    static const char *const names[BS_J_KIND_COUNT] = {
        [BS_J_MSG_IN] = "msg_in",
        [BS_J_MSG_OUT] = "msg_out",
        [BS_J_TIMEOUT] = "timeout",
        [BS_J_LATE] = "late",
        [BS_J_REVERSAL] = "reversal",
        [BS_J_SIG_FAILURE] = "sig_fail",
        [BS_J_FORMAT_ERROR] = "fmt_err",
        [BS_J_UNMATCHED] = "unmatch",
        [BS_J_DROP] = "drop",
        [BS_J_STATE] = "state",
        [BS_J_INTERNAL] = "internal",
        [BS_J_STAND_IN] = "stand_in",
        [BS_J_ADVICE] = "advice",
        [BS_J_FAULT] = "fault",
        [BS_J_SETTLEMENT] = "settle",
        [BS_J_HEADER] = "header",
        [BS_J_CHECKPOINT] = "checkpt",
    };
    const char *s = (unsigned)k < BS_J_KIND_COUNT ? names[k] : NULL;

    return s ? s : bs_jkind_name(k);
}

static const char *kind_color(enum bs_jkind k)
{
    switch (k) {
    case BS_J_MSG_IN:
        return "\033[36m";
    case BS_J_MSG_OUT:
        return "\033[34m";
    case BS_J_TIMEOUT:
    case BS_J_LATE:
    case BS_J_REVERSAL:
    case BS_J_STAND_IN:
    case BS_J_ADVICE:
    case BS_J_UNMATCHED:
        return "\033[33m";
    case BS_J_SIG_FAILURE:
    case BS_J_FORMAT_ERROR:
    case BS_J_INTERNAL:
    case BS_J_DROP:
    case BS_J_FAULT:
        return "\033[31m";
    default:
        return "";
    }
}

enum col_id {
    C_TIME,
    C_NODE,
    C_KIND,
    C_PEER,
    C_TRACE,
    C_MTI,
    C_STAN,
    C_RRN,
    C_PAN,
    C_AMOUNT,
    C_RC,
    C_SIG,
    C_NOTE,
    C_COUNT
};

struct col {
    const char *title;
    int width;
    bool right;
    bool on;
};

/* Columns by priority: what a payment engineer looks at first stays on narrow screens. */
static const enum col_id priority[] = { C_TIME, C_NODE, C_KIND,   C_MTI,  C_RC,  C_TRACE, C_STAN,
                                        C_RRN,  C_PAN,  C_AMOUNT, C_PEER, C_SIG, C_NOTE };

static void layout(struct col *c, int width, int namew)
{
    static const struct col base[C_COUNT] = {
        [C_TIME] = { "TIME", 15, false, false }, [C_NODE] = { "NODE", 0, false, false },
        [C_KIND] = { "KIND", 8, false, false },  [C_PEER] = { "PEER", 0, false, false },
        [C_TRACE] = { "TRACE", 7, true, false }, [C_MTI] = { "MTI", 4, false, false },
        [C_STAN] = { "STAN", 6, false, false },  [C_RRN] = { "RRN", 12, false, false },
        [C_PAN] = { "PAN", 16, false, false },   [C_AMOUNT] = { "AMOUNT", 16, true, false },
        [C_RC] = { "RC", 2, false, false },      [C_SIG] = { "SIG", 7, false, false },
        [C_NOTE] = { "NOTE", 0, false, false },
    };
    int used = 0;

    memcpy(c, base, sizeof(base));
    c[C_NODE].width = c[C_PEER].width = namew;
    for (size_t i = 0; i < sizeof(priority) / sizeof(priority[0]); i++) {
        struct col *x = &c[priority[i]];
        int need = (used ? 1 : 0) + x->width;
        if (priority[i] == C_NOTE) {
            /* The note takes what is left, if that is worth having. */
            int left = width - used - 1;
            if (left >= 10) {
                x->width = left;
                x->on = true;
            }
            continue;
        }
        if (used + need <= width) {
            x->on = true;
            used += need;
        }
    }
}

/* A row being built; printed without trailing blanks. */
struct sb {
    char b[4096];
    size_t n;
};

static void sb_printf(struct sb *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void sb_printf(struct sb *sb, const char *fmt, ...)
{
    va_list ap;
    int k;

    if (sb->n >= sizeof(sb->b) - 1)
        return;
    va_start(ap, fmt);
    k = vsnprintf(sb->b + sb->n, sizeof(sb->b) - sb->n, fmt, ap);
    va_end(ap);
    if (k > 0)
        sb->n += (size_t)k < sizeof(sb->b) - sb->n ? (size_t)k : sizeof(sb->b) - sb->n - 1;
}

/* @s in a column of @w characters; longer text ends in '~'. */
static void cell(struct sb *sb, const char *s, int w, bool right, const char *color, bool use_color)
{
    int n = (int)strlen(s);

    if (sb->n)
        sb_printf(sb, " ");
    if (use_color && color && *color)
        sb_printf(sb, "%s", color);
    if (n > w)
        sb_printf(sb, "%.*s~", w - 1, s);
    else
        sb_printf(sb, right ? "%*s" : "%-*s", w, s);
    if (use_color && color && *color)
        sb_printf(sb, "\033[0m");
}

static void sb_put(struct sb *sb, FILE *out)
{
    /* Blanks before a colour reset are trailing blanks too. */
    for (;;) {
        while (sb->n && sb->b[sb->n - 1] == ' ')
            sb->n--;
        if (sb->n >= 4 && !memcmp(sb->b + sb->n - 4, "\033[0m", 4) && sb->n > 4 &&
            sb->b[sb->n - 5] == ' ') {
            memmove(sb->b + sb->n - 5, sb->b + sb->n - 4, 4);
            sb->n--;
            continue;
        }
        break;
    }
    fwrite(sb->b, 1, sb->n, out);
    fputc('\n', out);
}

static void row(FILE *out, const struct col *c, const struct bs_jline *r, bool color)
{
    char buf[64], clock[16];
    struct sb sb;
    const char *rc_color = !r->rc[0] ? "" : strcmp(r->rc, "00") == 0 ? "\033[32m" : "\033[31m";

    sb.n = 0;
    for (int i = 0; i < C_COUNT; i++) {
        const char *s = "", *col = NULL;
        if (!c[i].on)
            continue;
        switch ((enum col_id)i) {
        case C_TIME:
            bs_log_clock(r->t, clock);
            s = clock;
            break;
        case C_NODE:
            /* The links journal records who lost a message: show the sender. */
            s = r->from[0] ? r->from : r->node;
            break;
        case C_KIND:
            s = short_kind(r->kind);
            col = kind_color(r->kind);
            break;
        case C_PEER:
            s = r->peer;
            break;
        case C_TRACE:
            if (r->trace) {
                snprintf(buf, sizeof(buf), "%llu", (unsigned long long)r->trace);
                s = buf;
            }
            break;
        case C_MTI:
            s = r->mti;
            break;
        case C_STAN:
            s = r->stan;
            break;
        case C_RRN:
            s = r->rrn;
            break;
        case C_PAN:
            s = r->pan;
            break;
        case C_AMOUNT:
            if (r->has_amount) {
                snprintf(buf, sizeof(buf), "%lld %s", (long long)r->amount,
                         bs_log_currency(r->currency));
                s = buf;
            }
            break;
        case C_RC:
            s = r->rc;
            col = rc_color;
            break;
        case C_SIG:
            s = r->sig;
            if (r->sig[0] && strcmp(r->sig, "ok") != 0 && strcmp(r->sig, "signed") != 0)
                col = "\033[31m";
            break;
        case C_NOTE:
            s = r->note;
            if (r->kind == BS_J_CHECKPOINT)
                s = r->final ? "final checkpoint" : "checkpoint";
            break;
        default:
            break;
        }
        /* Numbers are never cut: a wider one shifts the row rather than lie. */
        cell(&sb, s, i == C_TRACE && (int)strlen(s) > c[i].width ? (int)strlen(s) : c[i].width,
             c[i].right, col, color);
    }
    sb_put(&sb, out);
}

/*
 * Every item of --node must match some node of the run (a misspelt name would otherwise
 * show nothing and look like an answer). Return: 0, or -1 with the nodes listed.
 */
static int check_nodes(const char *list, struct bs_jmerge *m, size_t n, FILE *errf)
{
    const char *p = list;

    for (;;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        char item[128];
        bool hit = false;

        if (len > 0 && len < sizeof(item)) {
            memcpy(item, p, len);
            item[len] = '\0';
            for (size_t i = 0; i < n && !hit; i++)
                hit = fnmatch(item, bs_jmerge_header(m, i)->node, 0) == 0;
        }
        if (!hit) {
            fprintf(errf, "bridgesim log show: --node: '%.*s' matches no node of this run; nodes:",
                    (int)(len > 60 ? 60 : len), p);
            for (size_t i = 0; i < n; i++)
                fprintf(errf, "%s %s", i ? "," : "", bs_jmerge_header(m, i)->node);
            fprintf(errf, " (wildcards: mir.*)\n");
            return -1;
        }
        if (!e)
            return 0;
        p = e + 1;
    }
}

int bs_log_show(const char *rundir, const struct bs_log_filter *f, const struct bs_log_out *o,
                FILE *out, FILE *errf)
{
    struct bs_jrun run;
    struct bs_jmerge *m = NULL;
    struct bs_log_match match;
    struct bs_jmerge_item it;
    struct col cols[C_COUNT];
    char err[512];
    bs_time_us start = INT64_MAX;
    unsigned long long shown = 0;
    int namew = 4, rc, code = 2;
    bool color = bs_log_color(o, out);

    if (bs_jrun_open(rundir, &run, err, sizeof(err)) != 0) {
        fprintf(errf, "bridgesim log show: %s\n", err);
        return 2;
    }
    rc = bs_jmerge_open(&run, errf, &m, err, sizeof(err));
    if (rc) {
        fprintf(errf, "bridgesim log show: %s\n", rc == BS_ENOMEM ? "out of memory" : err);
        goto out;
    }
    for (size_t i = 0; i < run.n; i++) {
        const struct bs_jline *h = bs_jmerge_header(m, i);
        int n = (int)strlen(h->node);
        if (h->t < start)
            start = h->t;
        if (n > namew)
            namew = n;
    }
    if (namew > 21)
        namew = 21;
    if (bs_log_match_init(&match, f, start, err, sizeof(err)) != 0) {
        fprintf(errf, "bridgesim log show: %s\n", err);
        goto out;
    }
    if (f->node && check_nodes(f->node, m, run.n, errf) != 0)
        goto out;
    if (!o->json) {
        layout(cols, bs_log_width(o, out), namew);
        {
            char line[1200];
            size_t k = 0;
            for (int i = 0; i < C_COUNT && k < sizeof(line) - 64; i++) {
                if (!cols[i].on)
                    continue;
                k +=
                    (size_t)snprintf(line + k, sizeof(line) - k, cols[i].right ? "%s%*s" : "%s%-*s",
                                     k ? " " : "", cols[i].width, cols[i].title);
            }
            while (k && line[k - 1] == ' ')
                k--;
            fprintf(out, "%s%.*s%s\n", color ? "\033[1m" : "", (int)k, line,
                    color ? "\033[0m" : "");
        }
    }
    while ((rc = bs_jmerge_next(m, &it, err, sizeof(err))) == 1) {
        if (!bs_log_match(&match, it.rec))
            continue;
        if (o->json) {
            fwrite(it.line, 1, it.n, out);
            fputc('\n', out);
        } else {
            row(out, cols, it.rec, color);
        }
        if (ferror(out))
            break;
        if (f->limit && ++shown >= f->limit)
            break;
        if (!f->limit)
            shown++;
    }
    if (rc < 0) {
        fprintf(errf, "bridgesim log show: %s\n", err);
        goto out;
    }
    if (fflush(out) != 0 || ferror(out)) {
        /* A closed pipe (log show | head) is the reader's choice, not an error of ours. */
        code = 0;
        goto out;
    }
    code = 0;
out:
    bs_jmerge_free(m);
    bs_jrun_close(&run);
    return code;
}
