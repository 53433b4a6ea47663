/*
 * bridgesim log verify: every journal's hash chain and checkpoint signatures, and that
 * the headers of one run agree with each other. Exit 1 names the file and line of the
 * first failure in each journal; exit 2 for input that is not a run's journals at all.
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "journal/jread.h"
#include "journal/logcmd.h"

struct fres {
    uint64_t records, checkpoints, line;
    int code; /* 0 ok, 1 failed verification, 2 not a journal */
    char reason[300];
};

/* Whether @line looks like the header of a journal: then any later failure is tampering
 * or damage (exit 1); otherwise the file is not a journal at all (exit 2). */
static bool looks_like_header(const char *line, size_t n)
{
    static const char pre[] = "{\"seq\":0,";

    return n >= sizeof(pre) - 1 && memcmp(line, pre, sizeof(pre) - 1) == 0 &&
           memmem(line, n, "\"kind\":\"header\"", 15) != NULL;
}

static void verify_file(const char *path, struct bs_jline *hdr, bool *have_hdr, struct fres *res)
{
    struct bs_jreader *r = NULL;
    struct bs_jverify *v = NULL;
    struct bs_jverify_error e;
    struct bs_jline *parsed = hdr;
    const char *line;
    size_t n;
    bool torn = false;
    char err[600];
    int rc;

    memset(res, 0, sizeof(*res));
    *have_hdr = false;
    if (bs_jreader_open(path, &r, err, sizeof(err)) != 0) {
        res->code = 2;
        snprintf(res->reason, sizeof(res->reason), "%s", strerror(errno));
        return;
    }
    if (bs_jverify_new(&v) != 0) {
        res->code = 2;
        snprintf(res->reason, sizeof(res->reason), "out of memory");
        goto out;
    }
    for (;;) {
        rc = bs_jreader_next(r, &line, &n, &torn);
        if (rc == 0 || torn)
            break;
        if (rc < 0) {
            res->line = bs_jreader_lineno(r) ? bs_jreader_lineno(r) : 1;
            res->code = bs_jreader_lineno(r) <= 1 ? 2 : 1;
            snprintf(res->reason, sizeof(res->reason), "%s",
                     rc == BS_ELIMIT ? "line longer than 16384 bytes" : "read error");
            goto out;
        }
        if (bs_jreader_lineno(r) == 1 && !looks_like_header(line, n)) {
            res->line = 1;
            res->code = 2;
            snprintf(res->reason, sizeof(res->reason),
                     "not a bridgesim journal (line 1 is not a header record)");
            goto out;
        }
        rc = bs_jverify_line(v, line, n, parsed, &e);
        if (rc) {
            res->line = e.line;
            res->code = rc == BS_ECRYPTO ? 2 : 1;
            snprintf(res->reason, sizeof(res->reason), "%s", e.reason);
            goto out;
        }
        if (parsed) {
            /* Line 1 was the header; keep it for the cross-file checks. */
            *have_hdr = true;
            hdr->hex = NULL;
            parsed = NULL;
        }
    }
    if (bs_jreader_lineno(r) == 0 || (torn && bs_jreader_lineno(r) == 1)) {
        /* Nothing but (part of) a first line: a journal cut inside its header fails
         * verification; anything else is not a journal. */
        bool hdr_like = torn && n >= 9 && memcmp(line, "{\"seq\":0,", 9) == 0;
        res->line = 1;
        res->code = hdr_like ? 1 : 2;
        snprintf(res->reason, sizeof(res->reason), "%s",
                 hdr_like ? "torn header: the journal was cut inside its first line"
                 : bs_jreader_lineno(r) == 0
                     ? "empty file: not a bridgesim journal"
                     : "not a bridgesim journal (line 1 is not a header record)");
        goto out;
    }
    rc = bs_jverify_end(v, torn, &e);
    if (rc) {
        res->line = e.line;
        res->code = 1;
        snprintf(res->reason, sizeof(res->reason), "%s", e.reason);
    }
out:
    res->records = bs_jverify_records(v);
    res->checkpoints = bs_jverify_checkpoints(v);
    bs_jverify_free(v);
    bs_jreader_free(r);
}

/* The headers of one run must agree on what was run. */
static bool same_run(const struct bs_jline *a, const struct bs_jline *b, char *why, size_t len)
{
    if (a->seed != b->seed)
        snprintf(why, len, "header seed %llu, other journals of the run say %llu",
                 (unsigned long long)b->seed, (unsigned long long)a->seed);
    else if (memcmp(a->scenario_sha256, b->scenario_sha256, 32) != 0)
        snprintf(why, len, "header scenario_sha256 differs from the other journals of the run");
    else if (strcmp(a->version, b->version) != 0 || strcmp(a->mode, b->mode) != 0)
        snprintf(why, len, "header version or mode differs from the other journals of the run");
    else
        return true;
    return false;
}

/*
 * Compare the run's journals/manifest.json (written by `bridgesim run` as the journals
 * close) with the files present: a listed file that is missing, a file that is not listed,
 * and a record count that differs each fail. @records[i] is what verify_file() counted for
 * run->paths[i], @ok[i] whether that file verified (its count is only compared then).
 * A single journal file given instead of a directory has no manifest to check.
 * Return: the number of failures, each reported like a journal's.
 */
static size_t check_manifest(const struct bs_jrun *run, const uint64_t *records, const bool *ok,
                             const struct bs_log_out *o, json_t *jfiles, FILE *out, FILE *errf)
{
    char path[1100], why[400];
    struct stat st;
    json_error_t jerr;
    json_t *m, *list, *e;
    bool *listed = NULL;
    size_t failed = 0, k;

#define FAIL_ENTRY(file, ...)                                                                \
    do {                                                                                     \
        snprintf(why, sizeof(why), __VA_ARGS__);                                             \
        fprintf(errf, "bridgesim log verify: %s/%s: %s\n", run->dir, file, why);             \
        if (o->json)                                                                         \
            json_array_append_new(                                                           \
                jfiles, json_pack("{s:s, s:b, s:s}", "file", file, "ok", 0, "reason", why)); \
        else                                                                                 \
            fprintf(out, "FAIL  %s: %s\n", file, why);                                       \
        failed++;                                                                            \
    } while (0)

    if (stat(run->dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return 0;
    snprintf(path, sizeof(path), "%s/manifest.json", run->dir);
    m = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    list = json_object_get(m, "journals");
    if (!m || !json_is_array(list)) {
        if (!m && access(path, F_OK) != 0)
            FAIL_ENTRY("manifest.json",
                       "missing: it lists the run's journals, so without it a journal deleted "
                       "whole goes unnoticed (rerun with this bridgesim to get one)");
        else
            FAIL_ENTRY("manifest.json", "not a bridgesim manifest (%s)",
                       m ? "no 'journals' list" : jerr.text);
        json_decref(m);
        return failed;
    }
    listed = bs_calloc(run->n ? run->n : 1, sizeof(*listed));
    if (!listed) {
        json_decref(m);
        FAIL_ENTRY("manifest.json", "out of memory");
        return failed;
    }
    json_array_foreach(list, k, e)
    {
        const char *file = json_string_value(json_object_get(e, "file"));
        json_t *jr = json_object_get(e, "records");
        size_t i;

        if (!file || !json_is_integer(jr)) {
            FAIL_ENTRY("manifest.json", "entry %zu has no 'file' or 'records'", k);
            continue;
        }
        for (i = 0; i < run->n; i++)
            if (strcmp(bs_jrun_basename(run->paths[i]), file) == 0)
                break;
        if (i == run->n) {
            FAIL_ENTRY(file,
                       "missing: manifest.json lists it with %lld records; the journal was "
                       "deleted or moved",
                       (long long)json_integer_value(jr));
            continue;
        }
        listed[i] = true;
        if (ok[i] && records[i] != (uint64_t)json_integer_value(jr))
            FAIL_ENTRY(file, "%llu records, manifest.json says %lld",
                       (unsigned long long)records[i], (long long)json_integer_value(jr));
    }
    for (size_t i = 0; i < run->n; i++)
        if (!listed[i])
            FAIL_ENTRY(bs_jrun_basename(run->paths[i]),
                       "not listed in manifest.json: not a journal of this run");
#undef FAIL_ENTRY
    bs_free(listed);
    json_decref(m);
    return failed;
}

int bs_log_verify(const char *rundir, const struct bs_log_out *o, FILE *out, FILE *errf)
{
    struct bs_jrun run;
    struct bs_jline *first = NULL, *hdr = NULL;
    json_t *jfiles = NULL;
    char err[600];
    uint64_t records = 0, ckpts = 0, *counts = NULL;
    bool *fine = NULL;
    size_t failed = 0, mfailed;
    int code = 0;

    if (bs_jrun_open(rundir, &run, err, sizeof(err)) != 0) {
        fprintf(errf, "bridgesim log verify: %s\n", err);
        return 2;
    }
    first = bs_calloc(1, sizeof(*first));
    hdr = bs_calloc(1, sizeof(*hdr));
    if (o->json)
        jfiles = json_array();
    counts = bs_calloc(run.n, sizeof(*counts));
    fine = bs_calloc(run.n, sizeof(*fine));
    if (!first || !hdr || !counts || !fine || (o->json && !jfiles)) {
        fprintf(errf, "bridgesim log verify: out of memory\n");
        code = 2;
        goto out;
    }
    for (size_t i = 0; i < run.n; i++) {
        struct fres res;
        bool have;
        char why[300];

        verify_file(run.paths[i], hdr, &have, &res);
        if (res.code == 0 && have) {
            if (!first->node[0])
                *first = *hdr;
            else if (!same_run(first, hdr, why, sizeof(why))) {
                res.code = 1;
                res.line = 1;
                snprintf(res.reason, sizeof(res.reason), "%s", why);
            }
        }
        records += res.records;
        ckpts += res.checkpoints;
        counts[i] = res.records;
        fine[i] = res.code == 0;
        if (res.code) {
            failed++;
            if (res.code > code)
                code = res.code;
            fprintf(errf, "bridgesim log verify: %s:%llu: %s\n", run.paths[i],
                    (unsigned long long)res.line, res.reason);
        }
        if (o->json) {
            json_t *f = json_pack("{s:s, s:b, s:I, s:I}", "file", run.paths[i], "ok", res.code == 0,
                                  "records", (json_int_t)res.records, "checkpoints",
                                  (json_int_t)res.checkpoints);
            if (f && res.code) {
                json_object_set_new(f, "line", json_integer((json_int_t)res.line));
                json_object_set_new(f, "reason", json_string(res.reason));
            }
            if (f)
                json_array_append_new(jfiles, f);
        } else if (res.code == 0) {
            fprintf(out, "ok    %-36s %10llu records %6llu checkpoints\n",
                    bs_jrun_basename(run.paths[i]), (unsigned long long)res.records,
                    (unsigned long long)res.checkpoints);
        } else {
            fprintf(out, "FAIL  %s:%llu: %s\n", bs_jrun_basename(run.paths[i]),
                    (unsigned long long)res.line, res.reason);
        }
    }
    mfailed = check_manifest(&run, counts, fine, o, jfiles, out, errf);
    if (mfailed && code == 0)
        code = 1;
    if (o->json) {
        json_t *top = json_pack("{s:b, s:I, s:I, s:I, s:o}", "ok", code == 0, "journals",
                                (json_int_t)run.n, "records", (json_int_t)records, "checkpoints",
                                (json_int_t)ckpts, "files", jfiles);
        jfiles = NULL;
        if (top) {
            json_dumpf(top, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
            fputc('\n', out);
            json_decref(top);
        }
    } else if (code == 0) {
        fprintf(out,
                "verified %zu journals, %llu records, %llu checkpoints: every chain and "
                "signature holds\n",
                run.n, (unsigned long long)records, (unsigned long long)ckpts);
    } else {
        fprintf(out, "%zu of %zu journals failed verification", failed, run.n);
        if (mfailed)
            fprintf(out, "; %zu journal%s missing, unlisted or miscounted (manifest.json)", mfailed,
                    mfailed == 1 ? "" : "s");
        fputc('\n', out);
    }
out:
    json_decref(jfiles);
    bs_free(counts);
    bs_free(fine);
    bs_free(first);
    bs_free(hdr);
    bs_jrun_close(&run);
    return code;
}
