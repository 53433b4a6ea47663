/*
 * bridgesim log export: every record of a run (headers and checkpoints aside) as CSV or as
 * an SQLite database, in time order. Schema: docs/journal.md §8. The output is written
 * under a temporary name next to the target and renamed when complete, so a failed export
 * never leaves a half-written file under the name asked for.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "journal/jread.h"
#include "journal/logcmd.h"

static const char *const columns[] = {
    "node",
    "seq",
    "kind",
    "t_us",
    "time",
    "wall_us",
    "from_node",
    "peer",
    "trace",
    "mti",
    "proc",
    "stan",
    "rrn",
    "pan",
    "amount",
    "currency",
    "billing_amount",
    "billing_currency",
    "rc",
    "sig",
    "key_id",
    "note",
    "hex",
};
#define NCOLS (sizeof(columns) / sizeof(columns[0]))

static const char schema[] =
    "CREATE TABLE journals (\n"
    "  node TEXT PRIMARY KEY,      -- the node that wrote the journal ('links': the engine)\n"
    "  file TEXT NOT NULL,         -- journals/<node>.jsonl\n"
    "  role TEXT, network TEXT,    -- terminal|acquirer|switch|bridge|issuer|links; mir|shetab\n"
    "  format INTEGER NOT NULL,    -- journal format version (1)\n"
    "  bridgesim TEXT, scenario TEXT, scenario_sha256 TEXT,\n"
    "  seed TEXT,                  -- decimal: seeds use all 64 bits\n"
    "  mode TEXT,                  -- virtual|realtime\n"
    "  alg TEXT, key_id TEXT,      -- checkpoint signature algorithm and key\n"
    "  checkpoint_every INTEGER\n"
    ");\n"
    "CREATE TABLE messages (\n"
    "  id INTEGER PRIMARY KEY,     -- position in time order across all journals\n"
    "  node TEXT NOT NULL,         -- the node whose journal holds the record\n"
    "  seq INTEGER NOT NULL,       -- its line number - 1 in that journal\n"
    "  kind TEXT NOT NULL,         -- msg_in, msg_out, timeout, reversal, drop, ...\n"
    "  t_us INTEGER NOT NULL,      -- µs since the Unix epoch (virtual time in virtual runs)\n"
    "  time TEXT,                  -- t_us as ISO 8601 UTC\n"
    "  wall_us INTEGER,            -- realtime runs: wall clock when written\n"
    "  from_node TEXT,             -- links journal: the sender of a lost message\n"
    "  peer TEXT,                  -- the other end: sender (msg_in) or receiver (msg_out)\n"
    "  trace INTEGER,              -- one cardholder transaction across every node\n"
    "  mti TEXT, proc TEXT, stan TEXT, rrn TEXT,\n"
    "  pan TEXT,                   -- masked: first 6 and last 4 digits only\n"
    "  amount INTEGER, currency TEXT,              -- DE 4, DE 49 (minor units, ISO 4217 numeric)\n"
    "  billing_amount INTEGER, billing_currency TEXT, -- DE 6, DE 51\n"
    "  rc TEXT,                    -- DE 39 response code\n"
    "  sig TEXT, key_id TEXT,      -- signature status (ok, signed, bad, ...) and signer key id\n"
    "  note TEXT,\n"
    "  hex TEXT                    -- message bytes, every sensitive data element blanked\n"
    ");\n";

static const char indexes[] = "CREATE INDEX messages_trace ON messages(trace);\n"
                              "CREATE INDEX messages_rrn ON messages(rrn);\n"
                              "CREATE INDEX messages_node_t ON messages(node, t_us);\n";

/* RFC 4180: quote when needed, double the quotes. */
static void csv_field(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

/* The values of one record as text ("" for absent), in the order of columns[]. */
static void values(const struct bs_jline *r, char buf[NCOLS][40], const char *v[NCOLS],
                   bool present[NCOLS], char *hexbuf)
{
    char ts[28];

    for (size_t i = 0; i < NCOLS; i++) {
        v[i] = "";
        present[i] = false;
    }
#define SET(i, s)                 \
    do {                          \
        v[i] = (s);               \
        present[i] = (s)[0] != 0; \
    } while (0)
#define NUM(i, x)                                                 \
    do {                                                          \
        snprintf(buf[i], sizeof(buf[i]), "%lld", (long long)(x)); \
        v[i] = buf[i];                                            \
        present[i] = true;                                        \
    } while (0)
    SET(0, r->node);
    NUM(1, r->seq);
    SET(2, bs_jkind_name(r->kind));
    NUM(3, r->t);
    bs_format_iso_time(r->t, ts);
    snprintf(buf[4], sizeof(buf[4]), "%s", ts);
    SET(4, buf[4]);
    if (r->has_wall)
        NUM(5, r->wall);
    SET(6, r->from);
    SET(7, r->peer);
    if (r->trace) {
        snprintf(buf[8], sizeof(buf[8]), "%llu", (unsigned long long)r->trace);
        SET(8, buf[8]);
    }
    SET(9, r->mti);
    SET(10, r->proc);
    SET(11, r->stan);
    SET(12, r->rrn);
    SET(13, r->pan);
    if (r->has_amount)
        NUM(14, r->amount);
    SET(15, r->currency);
    if (r->has_billing)
        NUM(16, r->billing_amount);
    SET(17, r->billing_currency);
    SET(18, r->rc);
    SET(19, r->sig);
    SET(20, r->key_id);
    SET(21, r->note);
    if (r->hex) {
        memcpy(hexbuf, r->hex, r->hex_len);
        hexbuf[r->hex_len] = '\0';
        SET(22, hexbuf);
    }
#undef SET
#undef NUM
}

static bool integer_column(size_t i)
{
    return i == 1 || i == 3 || i == 5 || i == 8 || i == 14 || i == 16;
}

struct sq {
    sqlite3 *db;
    sqlite3_stmt *ins, *hdr;
};

static int sq_fail(struct sq *q, FILE *errf, const char *path, const char *what)
{
    fprintf(errf, "bridgesim log export: %s: %s: %s\n", path, what,
            q->db ? sqlite3_errmsg(q->db) : "cannot open");
    return 2;
}

static int sq_open(struct sq *q, const char *tmp, FILE *errf, const char *path)
{
    char sql[512];
    size_t k;

    memset(q, 0, sizeof(*q));
    if (sqlite3_open_v2(tmp, &q->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK)
        return sq_fail(q, errf, path, "open");
    /* A bulk load into a file that is renamed into place only when complete: no rollback
     * journal is needed, and a crash leaves only the temporary file. */
    if (sqlite3_exec(q->db,
                     "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA cache_size=-16384;",
                     NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_exec(q->db, schema, NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_exec(q->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
        return sq_fail(q, errf, path, "schema");
    k = (size_t)snprintf(sql, sizeof(sql), "INSERT INTO messages (");
    for (size_t i = 0; i < NCOLS; i++)
        k += (size_t)snprintf(sql + k, sizeof(sql) - k, "%s%s", i ? "," : "", columns[i]);
    k += (size_t)snprintf(sql + k, sizeof(sql) - k, ") VALUES (");
    for (size_t i = 0; i < NCOLS; i++)
        k += (size_t)snprintf(sql + k, sizeof(sql) - k, "%s?", i ? "," : "");
    snprintf(sql + k, sizeof(sql) - k, ")");
    if (sqlite3_prepare_v2(q->db, sql, -1, &q->ins, NULL) != SQLITE_OK)
        return sq_fail(q, errf, path, "prepare");
    if (sqlite3_prepare_v2(q->db, "INSERT INTO journals VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", -1,
                           &q->hdr, NULL) != SQLITE_OK)
        return sq_fail(q, errf, path, "prepare");
    return 0;
}

static void sq_close(struct sq *q)
{
    sqlite3_finalize(q->ins);
    sqlite3_finalize(q->hdr);
    sqlite3_close(q->db);
    memset(q, 0, sizeof(*q));
}

static int sq_header(struct sq *q, const struct bs_jline *h, const char *file)
{
    char hash[65], seed[24];
    const char *t[] = { h->node, file, h->role, h->network };

    for (int i = 0; i < 32; i++)
        snprintf(hash + 2 * i, 3, "%02x", h->scenario_sha256[i]);
    snprintf(seed, sizeof(seed), "%llu", (unsigned long long)h->seed);
    sqlite3_reset(q->hdr);
    for (int i = 0; i < 4; i++)
        sqlite3_bind_text(q->hdr, i + 1, t[i], -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(q->hdr, 5, h->format);
    sqlite3_bind_text(q->hdr, 6, h->version, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(q->hdr, 7, h->scenario, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(q->hdr, 8, hash, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(q->hdr, 9, seed, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(q->hdr, 10, h->mode, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(q->hdr, 11, h->alg, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(q->hdr, 12, h->key_id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(q->hdr, 13, h->checkpoint_every);
    return sqlite3_step(q->hdr) == SQLITE_DONE ? 0 : -1;
}

static int sq_row(struct sq *q, const char *v[NCOLS], const bool present[NCOLS],
                  const struct bs_jline *r)
{
    sqlite3_reset(q->ins);
    for (size_t i = 0; i < NCOLS; i++) {
        int col = (int)i + 1;
        if (!present[i])
            sqlite3_bind_null(q->ins, col);
        else if (i == 1)
            sqlite3_bind_int64(q->ins, col, (sqlite3_int64)r->seq);
        else if (i == 8)
            sqlite3_bind_int64(q->ins, col, (sqlite3_int64)r->trace);
        else if (integer_column(i))
            sqlite3_bind_int64(q->ins, col, strtoll(v[i], NULL, 10));
        else
            sqlite3_bind_text(q->ins, col, v[i], -1, SQLITE_STATIC);
    }
    return sqlite3_step(q->ins) == SQLITE_DONE ? 0 : -1;
}

/* Copy the file @path to @out. Return: 0, or -1 with errno set. */
static int copy_out(const char *path, FILE *out)
{
    char buf[65536];
    size_t n;
    FILE *in = fopen(path, "rb");
    int bad;

    if (!in)
        return -1;
    while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
        if (fwrite(buf, 1, n, out) != n)
            break;
    bad = ferror(in) || ferror(out);
    fclose(in);
    if (fflush(out) != 0)
        bad = 1;
    return bad ? -1 : 0;
}

int bs_log_export(const char *rundir, enum bs_log_format fmt, const char *path, FILE *errf)
{
    struct bs_jrun run;
    struct bs_jmerge *m = NULL;
    struct bs_jmerge_item it;
    struct sq q;
    FILE *csv = NULL;
    char err[600], tmp[1100], buf[NCOLS][40];
    char *hexbuf = NULL;
    const char *v[NCOLS];
    bool present[NCOLS], made_tmp = false, to_stdout = strcmp(path, "-") == 0;
    int rc, code = 2;

    memset(&q, 0, sizeof(q));
    if (strlen(path) > 1000) {
        fprintf(errf, "bridgesim log export: --out path too long\n");
        return 2;
    }
    if (bs_jrun_open(rundir, &run, err, sizeof(err)) != 0) {
        fprintf(errf, "bridgesim log export: %s\n", err);
        return 2;
    }
    rc = bs_jmerge_open(&run, errf, &m, err, sizeof(err));
    if (rc) {
        fprintf(errf, "bridgesim log export: %s\n", err);
        goto out;
    }
    hexbuf = bs_malloc(BS_JOURNAL_HEX_LEN(BS_JOURNAL_HEX_WIRE_MAX) + 1);
    if (!hexbuf) {
        fprintf(errf, "bridgesim log export: out of memory\n");
        goto out;
    }
    if (to_stdout) {
        /* '-': build the export in a temporary file and copy it out when complete (an
         * SQLite database needs a file), so a failure writes nothing to stdout. */
        const char *td = getenv("TMPDIR");
        int fd;

        snprintf(tmp, sizeof(tmp), "%s/bridgesim-export-XXXXXX", td && *td ? td : "/tmp");
        fd = mkstemp(tmp);
        if (fd < 0) {
            fprintf(errf, "bridgesim log export: %s: %s\n", tmp, strerror(errno));
            goto out;
        }
        close(fd);
    } else {
        snprintf(tmp, sizeof(tmp), "%s.tmp-%ld", path, (long)getpid());
        unlink(tmp);
    }
    made_tmp = true;
    if (fmt == BS_LOG_CSV) {
        csv = fopen(tmp, "w");
        if (!csv) {
            fprintf(errf, "bridgesim log export: %s: %s\n", path, strerror(errno));
            made_tmp = false;
            goto out;
        }
        for (size_t i = 0; i < NCOLS; i++)
            fprintf(csv, "%s%s", i ? "," : "", columns[i]);
        fputs("\r\n", csv);
    } else {
        if (sq_open(&q, tmp, errf, path) != 0)
            goto out;
        for (size_t i = 0; i < run.n; i++)
            if (sq_header(&q, bs_jmerge_header(m, i), bs_jrun_basename(run.paths[i])) != 0) {
                sq_fail(&q, errf, path, "insert");
                goto out;
            }
    }
    while ((rc = bs_jmerge_next(m, &it, err, sizeof(err))) == 1) {
        if (it.rec->kind == BS_J_CHECKPOINT)
            continue;
        values(it.rec, buf, v, present, hexbuf);
        if (csv) {
            for (size_t i = 0; i < NCOLS; i++) {
                if (i)
                    fputc(',', csv);
                csv_field(csv, v[i]);
            }
            fputs("\r\n", csv);
        } else if (sq_row(&q, v, present, it.rec) != 0) {
            sq_fail(&q, errf, path, "insert");
            goto out;
        }
    }
    if (rc < 0) {
        fprintf(errf, "bridgesim log export: %s\n", err);
        goto out;
    }
    if (csv) {
        int bad = ferror(csv);
        bad |= fclose(csv);
        csv = NULL;
        if (bad) {
            fprintf(errf, "bridgesim log export: %s: write error\n", path);
            goto out;
        }
    } else {
        if (sqlite3_exec(q.db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK ||
            sqlite3_exec(q.db, indexes, NULL, NULL, NULL) != SQLITE_OK) {
            sq_fail(&q, errf, path, "commit");
            goto out;
        }
        sq_close(&q);
    }
    if (to_stdout) {
        if (copy_out(tmp, stdout) != 0) {
            fprintf(errf, "bridgesim log export: writing to stdout: %s\n", strerror(errno));
            goto out;
        }
        unlink(tmp);
    } else if (rename(tmp, path) != 0) {
        fprintf(errf, "bridgesim log export: %s: %s\n", path, strerror(errno));
        goto out;
    }
    made_tmp = false;
    code = 0;
out:
    if (csv)
        fclose(csv);
    sq_close(&q);
    if (made_tmp)
        unlink(tmp);
    bs_free(hexbuf);
    bs_jmerge_free(m);
    bs_jrun_close(&run);
    return code;
}
