/*
 * Tests for sim/journal/: the line reader and the time-ordered merge, filters, and the
 * bridgesim log commands (show, trace, stats, verify, export) on the journals of a real
 * small run of the default scenario, plus hostile input: missing directories, empty files,
 * binary junk, huge lines, torn last lines. Every command must answer with exit code 2 and
 * a message naming the file, never crash.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <sqlite3.h>

#include "engine/world.h"
#include "journal/jread.h"
#include "journal/logcmd.h"
#include "scenario/scenario.h"

static char root[1024];
static char tmpdir[256];
static char run_dir[512];

/* ---- helpers --------------------------------------------------------------------------- */

struct cap {
    char *out, *err;
    size_t nout, nerr;
    FILE *fo, *fe;
};

static void cap_open(struct cap *c)
{
    memset(c, 0, sizeof(*c));
    c->fo = open_memstream(&c->out, &c->nout);
    c->fe = open_memstream(&c->err, &c->nerr);
    assert_non_null(c->fo);
    assert_non_null(c->fe);
}

static void cap_close(struct cap *c)
{
    fclose(c->fo);
    fclose(c->fe);
}

static void cap_free(struct cap *c)
{
    free(c->out);
    free(c->err);
}

static size_t lines_of(const char *s)
{
    size_t n = 0;

    for (; *s; s++)
        n += *s == '\n';
    return n;
}

static void write_file(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");

    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    fclose(f);
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;

    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    rewind(f);
    buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static void copy_file(const char *from, const char *to)
{
    size_t n;
    char *b = slurp(from, &n);

    write_file(to, b, n);
    free(b);
}

/* A copy of the run directory's journals in @dst/journals. */
static void copy_run(const char *dst)
{
    struct bs_jrun run;
    char err[512], path[1200];

    snprintf(path, sizeof(path), "%s/journals", dst);
    mkdir(dst, 0755);
    mkdir(path, 0755);
    assert_int_equal(bs_jrun_open(run_dir, &run, err, sizeof(err)), 0);
    for (size_t i = 0; i < run.n; i++) {
        snprintf(path, sizeof(path), "%s/journals/%s", dst, bs_jrun_basename(run.paths[i]));
        copy_file(run.paths[i], path);
    }
    bs_jrun_close(&run);
    snprintf(path, sizeof(path), "%s/journals/manifest.json", dst);
    {
        char src[1200];

        snprintf(src, sizeof(src), "%s/journals/manifest.json", run_dir);
        copy_file(src, path);
    }
}

static const struct bs_log_out plain = { 0, 100, false };
static const struct bs_log_out as_json = { 0, 100, true };

/* One small run of the default scenario, shared by the tests. */
static int make_run(void **state)
{
    static const char *const sets[] = { "workload.count=80", "seed=11" };
    struct bs_scenario *sc = NULL;
    struct bs_world *w = NULL;
    struct bs_run_opts ro;
    char err[4096] = "", dialects[1100], path[1100];

    (void)state;
    snprintf(path, sizeof(path), "%s/configs/scenarios/mir-shetab.yaml", root);
    if (bs_scenario_load(path, sets, 2, &sc, err, sizeof(err)) != 0) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    snprintf(dialects, sizeof(dialects), "%s/configs/dialects", root);
    snprintf(run_dir, sizeof(run_dir), "%s/run", tmpdir);
    memset(&ro, 0, sizeof(ro));
    ro.out_dir = run_dir;
    ro.dialect_dir = dialects;
    ro.journals = true;
    /* Small checkpoint interval: every journal gets several. */
    setenv("BRIDGESIM_JOURNAL_CHECKPOINT", "7", 1);
    if (bs_world_new(sc, &ro, &w, err, sizeof(err)) != 0 || bs_world_run(w) != 0) {
        fprintf(stderr, "run: %s\n", err);
        return -1;
    }
    unsetenv("BRIDGESIM_JOURNAL_CHECKPOINT");
    bs_world_free(w);
    bs_scenario_free(sc);
    return 0;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int cleanup(void **state)
{
    (void)state;
    nftw(tmpdir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}

/* ---- reader ----------------------------------------------------------------------------- */

static void reader_lines(void **state)
{
    char path[600], *big;
    struct bs_jreader *r;
    const char *line;
    size_t n;
    bool torn;
    char err[600];

    (void)state;
    snprintf(path, sizeof(path), "%s/lines.jsonl", tmpdir);
    write_file(path, "a\n\nbc\ndef", 9);
    assert_int_equal(bs_jreader_open(path, &r, err, sizeof(err)), 0);
    assert_int_equal(bs_jreader_next(r, &line, &n, &torn), 1);
    assert_int_equal(n, 1);
    assert_false(torn);
    assert_int_equal(bs_jreader_next(r, &line, &n, &torn), 1);
    assert_int_equal(n, 0);
    assert_int_equal(bs_jreader_next(r, &line, &n, &torn), 1);
    assert_memory_equal(line, "bc", 2);
    assert_int_equal(bs_jreader_next(r, &line, &n, &torn), 1);
    assert_true(torn);
    assert_memory_equal(line, "def", 3);
    assert_int_equal(bs_jreader_lineno(r), 4);
    assert_int_equal(bs_jreader_next(r, &line, &n, &torn), 0);
    bs_jreader_free(r);

    /* A line of exactly the maximum passes; one byte more cannot be read. */
    big = malloc(2 * BS_JOURNAL_LINE_MAX + 4);
    assert_non_null(big);
    memset(big, 'x', 2 * BS_JOURNAL_LINE_MAX + 4);
    big[BS_JOURNAL_LINE_MAX] = '\n';
    big[2 * BS_JOURNAL_LINE_MAX + 2] = '\n';
    write_file(path, big, 2 * BS_JOURNAL_LINE_MAX + 3);
    assert_int_equal(bs_jreader_open(path, &r, err, sizeof(err)), 0);
    assert_int_equal(bs_jreader_next(r, &line, &n, &torn), 1);
    assert_int_equal(n, BS_JOURNAL_LINE_MAX);
    assert_int_equal(bs_jreader_next(r, &line, &n, &torn), BS_ELIMIT);
    bs_jreader_free(r);
    free(big);

    assert_int_equal(bs_jreader_open(tmpdir, &r, err, sizeof(err)), BS_EIO);
    assert_int_equal(bs_jreader_open("/nonexistent/x", &r, err, sizeof(err)), BS_EIO);
    assert_non_null(strstr(err, "/nonexistent/x"));
}

/* The merge returns every record of every journal once, in time order. */
static void merge_in_time_order(void **state)
{
    struct bs_jrun run;
    struct bs_jmerge *m;
    struct bs_jmerge_item it;
    char err[600];
    bs_time_us last = 0;
    uint64_t n = 0, lines = 0;
    int rc;

    (void)state;
    assert_int_equal(bs_jrun_open(run_dir, &run, err, sizeof(err)), 0);
    assert_true(run.n > 10);
    for (size_t i = 0; i < run.n; i++) {
        size_t len;
        char *t = slurp(run.paths[i], &len);
        lines += lines_of(t) - 1; /* without the header */
        free(t);
    }
    assert_int_equal(bs_jmerge_open(&run, stderr, &m, err, sizeof(err)), 0);
    while ((rc = bs_jmerge_next(m, &it, err, sizeof(err))) == 1) {
        assert_true(it.rec->t >= last);
        last = it.rec->t;
        n++;
    }
    assert_int_equal(rc, 0);
    assert_int_equal(n, lines);
    assert_int_equal(bs_jmerge_torn(m), 0);
    bs_jmerge_free(m);
    bs_jrun_close(&run);
}

/* ---- filters ---------------------------------------------------------------------------- */

static void filters(void **state)
{
    struct bs_log_filter f;
    struct bs_log_match m;
    struct bs_jline r;
    char err[300];
    bs_time_us start = 1772442000000000;

    (void)state;
    memset(&r, 0, sizeof(r));
    r.kind = BS_J_MSG_OUT;
    r.t = start + 5 * BS_US_PER_SEC;
    snprintf(r.node, sizeof(r.node), "mir.switch");
    snprintf(r.mti, sizeof(r.mti), "0210");
    snprintf(r.rc, sizeof(r.rc), "51");
    snprintf(r.pan, sizeof(r.pan), "220070******6781");
    r.trace = 42;

    memset(&f, 0, sizeof(f));
    assert_int_equal(bs_log_match_init(&m, &f, start, err, sizeof(err)), 0);
    assert_true(bs_log_match(&m, &r));
    r.kind = BS_J_CHECKPOINT; /* not shown unless asked for */
    assert_false(bs_log_match(&m, &r));
    r.kind = BS_J_MSG_OUT;

    f = (struct bs_log_filter){ .node = "shetab.*,mir.s*",
                                .kinds = "msg_in,msg_out",
                                .mti = "02?0",
                                .rc = "05,51",
                                .trace = "42",
                                .pan_last4 = "6781",
                                .since = "+5s",
                                .until = "09:00:05" };
    assert_int_equal(bs_log_match_init(&m, &f, start, err, sizeof(err)), 0);
    assert_true(bs_log_match(&m, &r));
    f.since = "+5.001s";
    assert_int_equal(bs_log_match_init(&m, &f, start, err, sizeof(err)), 0);
    assert_false(bs_log_match(&m, &r));
    f.since = "2026-03-02T09:00:04.5Z";
    f.rc = "00";
    assert_int_equal(bs_log_match_init(&m, &f, start, err, sizeof(err)), 0);
    assert_false(bs_log_match(&m, &r));
    f.rc = NULL;
    f.pan_last4 = "6780";
    assert_int_equal(bs_log_match_init(&m, &f, start, err, sizeof(err)), 0);
    assert_false(bs_log_match(&m, &r));

    /* Errors name the option. */
    memset(&f, 0, sizeof(f));
    f.kinds = "msg_in,bogus";
    assert_int_equal(bs_log_match_init(&m, &f, start, err, sizeof(err)), BS_EINVAL);
    assert_non_null(strstr(err, "--kind"));
    memset(&f, 0, sizeof(f));
    f.since = "yesterday";
    assert_int_equal(bs_log_match_init(&m, &f, start, err, sizeof(err)), BS_EINVAL);
    assert_non_null(strstr(err, "--since"));
    memset(&f, 0, sizeof(f));
    f.pan_last4 = "12345";
    assert_int_equal(bs_log_match_init(&m, &f, start, err, sizeof(err)), BS_EINVAL);
    memset(&f, 0, sizeof(f));
    f.trace = "-1";
    assert_int_equal(bs_log_match_init(&m, &f, start, err, sizeof(err)), BS_EINVAL);
}

/* ---- commands on a real run ------------------------------------------------------------ */

static void show_table_and_json(void **state)
{
    struct bs_log_filter f;
    struct cap c;
    json_error_t je;

    (void)state;
    /* A table at width 100: no line wider, a header, the rows asked for. */
    memset(&f, 0, sizeof(f));
    f.limit = 25;
    cap_open(&c);
    assert_int_equal(bs_log_show(run_dir, &f, &plain, c.fo, c.fe), 0);
    cap_close(&c);
    assert_int_equal(lines_of(c.out), 26);
    for (char *p = c.out, *nl; (nl = strchr(p, '\n')); p = nl + 1) {
        if (nl - p > 100)
            fail_msg("line of %d characters: %.*s", (int)(nl - p), (int)(nl - p), p);
        if (nl > p && nl[-1] == ' ')
            fail_msg("trailing blank: %.*s", (int)(nl - p), p);
    }
    assert_null(strchr(c.out, '\033')); /* no colour when not asked for */
    assert_true(strncmp(c.out, "TIME", 4) == 0);
    cap_free(&c);

    /* JSON Lines of one node's outgoing 0200s: every line parses and matches. */
    memset(&f, 0, sizeof(f));
    f.node = "mir.MIRACQ1.terminals";
    f.kinds = "msg_out";
    cap_open(&c);
    assert_int_equal(bs_log_show(run_dir, &f, &as_json, c.fo, c.fe), 0);
    cap_close(&c);
    assert_true(lines_of(c.out) > 10);
    for (char *p = c.out, *nl; (nl = strchr(p, '\n')); p = nl + 1) {
        json_t *o = json_loadb(p, (size_t)(nl - p), 0, &je);
        assert_non_null(o);
        assert_string_equal(json_string_value(json_object_get(o, "node")), f.node);
        assert_string_equal(json_string_value(json_object_get(o, "kind")), "msg_out");
        assert_string_equal(json_string_value(json_object_get(o, "mti")), "0200");
        json_decref(o);
    }
    cap_free(&c);

    /* Colour when asked for. */
    memset(&f, 0, sizeof(f));
    f.limit = 3;
    cap_open(&c);
    assert_int_equal(bs_log_show(run_dir, &f, &(struct bs_log_out){ 1, 160, false }, c.fo, c.fe),
                     0);
    cap_close(&c);
    assert_non_null(strchr(c.out, '\033'));
    cap_free(&c);

    /* A bad filter is a usage error. */
    memset(&f, 0, sizeof(f));
    f.kinds = "nonsense";
    cap_open(&c);
    assert_int_equal(bs_log_show(run_dir, &f, &plain, c.fo, c.fe), 2);
    cap_close(&c);
    assert_non_null(strstr(c.err, "--kind"));
    cap_free(&c);
}

/* The RRN of a Shetab-card purchase at the Mir acquirer. */
static void find_rrn(char rrn[13], char trace[24])
{
    struct bs_log_filter f;
    struct cap c;
    json_error_t je;
    json_t *o = NULL;

    memset(&f, 0, sizeof(f));
    f.node = "mir.MIRACQ1";
    f.kinds = "msg_out";
    f.mti = "0200";
    cap_open(&c);
    assert_int_equal(bs_log_show(run_dir, &f, &as_json, c.fo, c.fe), 0);
    cap_close(&c);
    for (char *p = c.out, *nl; (nl = strchr(p, '\n')); p = nl + 1) {
        o = json_loadb(p, (size_t)(nl - p), 0, &je);
        assert_non_null(o);
        if (!strcmp(json_string_value(json_object_get(o, "proc")), "000000") &&
            !strncmp(json_string_value(json_object_get(o, "pan")), "6", 1))
            break;
        json_decref(o);
        o = NULL;
    }
    assert_non_null(o);
    snprintf(rrn, 13, "%s", json_string_value(json_object_get(o, "rrn")));
    snprintf(trace, 24, "%lld", (long long)json_integer_value(json_object_get(o, "trace")));
    json_decref(o);
    cap_free(&c);
}

static void trace_ladder(void **state)
{
    char rrn[13], trace[24];
    struct cap c;

    (void)state;
    find_rrn(rrn, trace);
    cap_open(&c);
    assert_int_equal(bs_log_trace(run_dir, trace, &plain, c.fo, c.fe), 0);
    cap_close(&c);
    /* Every leg of the purchase: six columns, the request out and the response back. */
    assert_non_null(strstr(c.out, "purchase"));
    assert_non_null(strstr(c.out, "(shetab card)"));
    assert_non_null(strstr(c.out, "terminal    acquirer     switch      bridge      switch"));
    assert_non_null(strstr(c.out, "|---0200--->|"));
    assert_non_null(strstr(c.out, "|<--0210----|"));
    assert_non_null(strstr(c.out, "mir.MIRACQ1           -> mir.switch"));
    assert_non_null(strstr(c.out, "bridge                -> shetab.switch"));
    assert_non_null(strstr(c.out, "end to end"));
    assert_non_null(strstr(c.out, rrn));
    cap_free(&c);

    /* By RRN: the same transaction is among those named. */
    cap_open(&c);
    assert_int_equal(bs_log_trace(run_dir, rrn, &plain, c.fo, c.fe), 0);
    cap_close(&c);
    {
        char want[64];
        snprintf(want, sizeof(want), "trace %s:", trace);
        assert_non_null(strstr(c.out, want));
    }
    cap_free(&c);

    /* JSON: the records of the transaction, in time order. */
    cap_open(&c);
    assert_int_equal(bs_log_trace(run_dir, trace, &as_json, c.fo, c.fe), 0);
    cap_close(&c);
    assert_true(lines_of(c.out) >= 20);
    cap_free(&c);

    /* Nothing found: exit 1 and a message. */
    cap_open(&c);
    assert_int_equal(bs_log_trace(run_dir, "ZZZZ99999999", &plain, c.fo, c.fe), 1);
    cap_close(&c);
    assert_non_null(strstr(c.err, "no transaction"));
    cap_free(&c);
}

static void stats_json(void **state)
{
    struct cap c;
    json_t *o, *e2e, *mti;
    json_error_t je;

    (void)state;
    cap_open(&c);
    assert_int_equal(bs_log_stats(run_dir, &as_json, c.fo, c.fe), 0);
    cap_close(&c);
    o = json_loads(c.out, 0, &je);
    assert_non_null(o);
    e2e = json_object_get(o, "end_to_end");
    assert_int_equal(json_integer_value(json_object_get(e2e, "count")), 80);
    assert_true(json_real_value(json_object_get(e2e, "p50_ms")) > 10.0);
    mti = json_object_get(o, "mti");
    assert_true(json_integer_value(json_object_get(mti, "0200")) >= 80 * 5);
    assert_true(json_array_size(json_object_get(o, "hops")) >= 10);
    assert_non_null(json_object_get(json_object_get(o, "events"), "timeouts"));
    json_decref(o);
    cap_free(&c);

    cap_open(&c);
    assert_int_equal(bs_log_stats(run_dir, &plain, c.fo, c.fe), 0);
    cap_close(&c);
    assert_non_null(strstr(c.out, "per hop"));
    assert_non_null(strstr(c.out, "end to end"));
    cap_free(&c);
}

static int count_cb(void *arg, int n, char **v, char **cols)
{
    (void)n;
    (void)cols;
    *(long *)arg = atol(v[0] ? v[0] : "0");
    return 0;
}

static void export_sqlite_and_csv(void **state)
{
    char db[600], csv[600], *text;
    sqlite3 *h;
    long rows = -1, groups = -1, journals = -1;
    size_t len;
    struct cap c;

    (void)state;
    snprintf(db, sizeof(db), "%s/out.db", tmpdir);
    snprintf(csv, sizeof(csv), "%s/out.csv", tmpdir);
    cap_open(&c);
    assert_int_equal(bs_log_export(run_dir, BS_LOG_SQLITE, db, c.fe), 0);
    assert_int_equal(bs_log_export(run_dir, BS_LOG_CSV, csv, c.fe), 0);
    cap_close(&c);
    cap_free(&c);
    assert_int_equal(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_exec(h, "select count(*) from messages", count_cb, &rows, NULL),
                     SQLITE_OK);
    assert_int_equal(
        sqlite3_exec(h, "select count(*) from (select rc, count(*) from messages group by rc)",
                     count_cb, &groups, NULL),
        SQLITE_OK);
    assert_int_equal(sqlite3_exec(h, "select count(*) from journals", count_cb, &journals, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_exec(h,
                                  "select count(*) from messages where node is null or kind is "
                                  "null or t_us is null or pan like '%______%' and pan not like "
                                  "'%*%'",
                                  count_cb, &groups, NULL),
                     SQLITE_OK);
    assert_int_equal(groups, 0);
    sqlite3_close(h);
    assert_true(rows >= 80 * 20);
    assert_true(journals > 10);
    /* The CSV has the same rows, plus a header. */
    text = slurp(csv, &len);
    assert_int_equal((long)lines_of(text), rows + 1);
    assert_true(strncmp(text, "node,seq,kind,t_us,", 19) == 0);
    free(text);

    /* Nothing is left under a temporary name; a bad target fails cleanly. */
    cap_open(&c);
    assert_int_equal(bs_log_export(run_dir, BS_LOG_CSV, "/nonexistent/dir/x.csv", c.fe), 2);
    cap_close(&c);
    assert_non_null(strstr(c.err, "/nonexistent/dir/x.csv"));
    cap_free(&c);
}

/* Verify: a clean run passes; one edited character, a deleted last line, a torn line fail
 * with exit 1 and FILE:LINE. */
static void verify_run_and_tampering(void **state)
{
    char dir[600], path[900], *t, *p;
    size_t len;
    struct cap c;

    (void)state;
    cap_open(&c);
    assert_int_equal(bs_log_verify(run_dir, &plain, c.fo, c.fe), 0);
    cap_close(&c);
    assert_non_null(strstr(c.out, "every chain and signature holds"));
    cap_free(&c);

    snprintf(dir, sizeof(dir), "%s/tamper", tmpdir);
    copy_run(dir);
    snprintf(path, sizeof(path), "%s/journals/bridge.jsonl", dir);
    t = slurp(path, &len);
    /* Change one character of line 5's amount. */
    p = t;
    for (int i = 1; i < 5; i++)
        p = strchr(p, '\n') + 1;
    p = strstr(p, "\"amount\":");
    assert_non_null(p);
    p[9] = p[9] == '9' ? '8' : (char)(p[9] + 1);
    write_file(path, t, len);
    cap_open(&c);
    assert_int_equal(bs_log_verify(dir, &plain, c.fo, c.fe), 1);
    cap_close(&c);
    {
        /* The first record with an amount at or after line 5: name the line edited. */
        char want[64];
        int line = 1;
        for (const char *q = t; q < p; q++)
            line += *q == '\n';
        snprintf(want, sizeof(want), "bridge.jsonl:%d: record altered", line);
        if (!strstr(c.err, want))
            fail_msg("expected '%s' in: %s", want, c.err);
    }
    cap_free(&c);
    free(t);

    /* Delete the last line. */
    copy_run(dir);
    t = slurp(path, &len);
    len--;
    while (len && t[len - 1] != '\n')
        len--;
    write_file(path, t, len);
    cap_open(&c);
    assert_int_equal(bs_log_verify(dir, &plain, c.fo, c.fe), 1);
    cap_close(&c);
    assert_non_null(strstr(c.err, "bridge.jsonl:"));
    assert_non_null(strstr(c.err, "without its closing checkpoint"));
    cap_free(&c);

    /* Cut in the middle of a line: verify fails, the readers warn and go on. */
    write_file(path, t, len / 2);
    cap_open(&c);
    assert_int_equal(bs_log_verify(dir, &plain, c.fo, c.fe), 1);
    cap_close(&c);
    assert_non_null(strstr(c.err, "torn last line"));
    cap_free(&c);
    cap_open(&c);
    assert_int_equal(bs_log_stats(dir, &plain, c.fo, c.fe), 0);
    cap_close(&c);
    assert_non_null(strstr(c.err, "warning: "));
    assert_non_null(strstr(c.err, "torn last line"));
    cap_free(&c);
    free(t);
}

/* journals/manifest.json: a journal deleted whole, one that is not of this run, and a
 * missing manifest each fail verification, naming the file. */
static void verify_manifest(void **state)
{
    char dir[600], path[900], other[900];
    struct cap c;

    (void)state;
    snprintf(dir, sizeof(dir), "%s/manifest", tmpdir);
    copy_run(dir);
    snprintf(path, sizeof(path), "%s/journals/mir.MIRBANK1.jsonl", dir);
    assert_int_equal(unlink(path), 0);
    cap_open(&c);
    assert_int_equal(bs_log_verify(dir, &plain, c.fo, c.fe), 1);
    cap_close(&c);
    if (!strstr(c.err, "mir.MIRBANK1.jsonl: missing: manifest.json lists it with"))
        fail_msg("deleted journal not named: %s", c.err);
    assert_non_null(strstr(c.out, "1 journal missing, unlisted or miscounted"));
    cap_free(&c);

    /* A journal that is not in the manifest (here: the deleted one under another name). */
    copy_run(dir);
    snprintf(other, sizeof(other), "%s/journals/zz.jsonl", dir);
    rename(path, other);
    cap_open(&c);
    assert_int_equal(bs_log_verify(dir, &as_json, c.fo, c.fe), 1);
    cap_close(&c);
    assert_non_null(strstr(c.err, "zz.jsonl: not listed in manifest.json"));
    assert_non_null(strstr(c.out, "\"reason\": \"not listed in manifest.json"));
    cap_free(&c);
    unlink(other);

    /* No manifest at all: the check cannot be made, which is a failure too. */
    copy_run(dir);
    snprintf(path, sizeof(path), "%s/journals/manifest.json", dir);
    assert_int_equal(unlink(path), 0);
    cap_open(&c);
    assert_int_equal(bs_log_verify(dir, &plain, c.fo, c.fe), 1);
    cap_close(&c);
    assert_non_null(strstr(c.err, "manifest.json: missing"));
    cap_free(&c);
}

/* Hostile input: every command answers 2 with a message, never crashes. */
static void garbage_input(void **state)
{
    static const char *const cases[] = { "missing", "empty", "junk", "huge", "notheader" };
    char dir[600], path[900];
    struct bs_log_filter f;

    (void)state;
    memset(&f, 0, sizeof(f));
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        snprintf(dir, sizeof(dir), "%s/g-%s", tmpdir, cases[k]);
        if (strcmp(cases[k], "missing") != 0) {
            mkdir(dir, 0755);
            snprintf(path, sizeof(path), "%s/x.jsonl", dir);
            if (!strcmp(cases[k], "empty")) {
                write_file(path, "", 0);
            } else if (!strcmp(cases[k], "junk")) {
                uint8_t junk[4096];
                for (size_t i = 0; i < sizeof(junk); i++)
                    junk[i] = (uint8_t)(i * 2654435761u >> 13);
                write_file(path, junk, sizeof(junk));
            } else if (!strcmp(cases[k], "huge")) {
                size_t n = 3 * BS_JOURNAL_LINE_MAX;
                char *b = malloc(n);
                assert_non_null(b);
                memset(b, '{', n);
                write_file(path, b, n);
                free(b);
            } else {
                const char *s = "{\"seq\":1,\"kind\":\"state\",\"node\":\"a\"}\n";
                write_file(path, s, strlen(s));
            }
        }
        for (int cmd = 0; cmd < 6; cmd++) {
            struct cap c;
            int rc = 0;
            char out[700];
            cap_open(&c);
            snprintf(out, sizeof(out), "%s/out.db", tmpdir);
            switch (cmd) {
            case 0:
                rc = bs_log_show(dir, &f, &plain, c.fo, c.fe);
                break;
            case 1:
                rc = bs_log_trace(dir, "1", &plain, c.fo, c.fe);
                break;
            case 2:
                rc = bs_log_stats(dir, &plain, c.fo, c.fe);
                break;
            case 3:
                rc = bs_log_verify(dir, &plain, c.fo, c.fe);
                break;
            case 4:
                rc = bs_log_export(dir, BS_LOG_SQLITE, out, c.fe);
                break;
            case 5:
                rc = bs_log_export(dir, BS_LOG_CSV, out, c.fe);
                break;
            }
            cap_close(&c);
            if (rc != 2)
                fail_msg("%s, command %d: exit %d, stderr: %s", cases[k], cmd, rc, c.err);
            if (!strstr(c.err, dir))
                fail_msg("%s, command %d: message does not name the input: %s", cases[k], cmd,
                         c.err);
            cap_free(&c);
        }
    }
}

int main(void)
{
    const char *r = getenv("BS_SOURCE_ROOT");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reader_lines),
        cmocka_unit_test(merge_in_time_order),
        cmocka_unit_test(filters),
        cmocka_unit_test(show_table_and_json),
        cmocka_unit_test(trace_ladder),
        cmocka_unit_test(stats_json),
        cmocka_unit_test(export_sqlite_and_csv),
        cmocka_unit_test(verify_run_and_tampering),
        cmocka_unit_test(verify_manifest),
        cmocka_unit_test(garbage_input),
    };
    int failed;

    snprintf(root, sizeof(root), "%s", r ? r : ".");
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/bridgesim-logcmd-XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    failed = cmocka_run_group_tests_name("log_commands", tests, make_run, cleanup);
    return failed;
}
