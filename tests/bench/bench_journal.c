/*
 * bench_journal — journal writer throughput: records per second through bs_jwriter (format,
 * PAN mask, blanked hex of the message bytes, SHA-256 chain, an Ed25519-signed checkpoint
 * every 1000 records) into a file, on one core.
 *
 * Workloads, each a realistic signed 0200 in the Mir dialect (BCD, ~230 bytes on the wire):
 *   msg_in   the decoded message is reused for the hex (what bs_node_recv journals)
 *   msg_out  the bytes are decoded again to locate the DEs (what bs_node_send journals)
 *   mixed    half and half (a run journals every message once out, once in)
 *   note     timeout-like records without a message
 * and "mixed, fsync checkpoint": the mixed workload with an fsync after every checkpoint.
 *
 * Each workload runs REPS times over N records into a fresh file in $TMPDIR (default /tmp);
 * the median records/s is reported, per second of wall time and per second of the writing
 * thread's CPU time (GUIDE §5: medians, never timed assertions). Output: one line per workload;
 * --json for JSON. Usage: bench_journal DIALECT_DIR [--json] [--records N] [--only WORKLOAD].
 * Exit status: 0; 1 when a write fails (a bug or a full disk); 2 for bad usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bridgesim/crypto.h>
#include <bridgesim/iso8583.h>
#include <bridgesim/journal.h>

#define REPS 7

struct sink {
    int fd;
};

static int fd_write(void *ctx, const void *buf, size_t n)
{
    struct sink *s = ctx;
    const char *p = buf;

    while (n) {
        ssize_t k = write(s->fd, p, n);
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
    return fsync(((struct sink *)ctx)->fd) == 0 ? 0 : BS_EIO;
}

static double clock_s(clockid_t id)
{
    struct timespec ts;

    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

static struct bs_iso_dialect *load(const char *dir)
{
    char path[1024];
    static char text[1 << 20];
    struct bs_iso_dialect *d = NULL;
    char err[512];
    size_t n;
    FILE *f;

    snprintf(path, sizeof(path), "%s/mir.yaml", dir);
    f = fopen(path, "rb");
    if (!f)
        return NULL;
    n = fread(text, 1, sizeof(text), f);
    fclose(f);
    if (bs_iso_dialect_parse(text, n, path, &d, err, sizeof(err)) != 0) {
        fprintf(stderr, "%s\n", err);
        return NULL;
    }
    return d;
}

enum work { W_IN, W_OUT, W_MIXED, W_NOTE };

/*
 * Write @n records of workload @w to a fresh file. Return: records per second of wall time,
 * or < 0; *@cpu_rate: records per second of this thread's CPU time (user and system: the
 * copy into the page cache included), which a machine shared with other work does not
 * distort.
 */
static double run(enum work w, enum bs_jsync sync, long n, struct bs_key *key,
                  const struct bs_iso_dialect *d, const uint8_t *wire, size_t wlen,
                  const struct bs_iso_msg *m, const char *path, double *cpu_rate)
{
    struct sink s;
    struct bs_jwriter_cfg cfg;
    struct bs_jheader h;
    struct bs_jwriter *jw;
    double t0, t1, c0, c1;
    int rc = 0;

    s.fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (s.fd < 0)
        return -1;
    memset(&cfg, 0, sizeof(cfg));
    cfg.sink = (struct bs_jsink){ fd_write, fd_sync, &s };
    cfg.key = key;
    cfg.sync = sync;
    memset(&h, 0, sizeof(h));
    h.node = "mir.switch";
    h.role = "switch";
    h.network = "mir";
    h.version = "bench";
    h.seed = 42;
    h.t = 1772442000000000;
    if (bs_jwriter_new(&cfg, &h, &jw) != 0) {
        close(s.fd);
        return -1;
    }
    t0 = clock_s(CLOCK_MONOTONIC);
    c0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
    for (long i = 0; i < n && rc == 0; i++) {
        bool in = w == W_IN || (w == W_MIXED && (i & 1));
        struct bs_jrec r = {
            .kind = w == W_NOTE ? BS_J_TIMEOUT
                    : in        ? BS_J_MSG_IN
                                : BS_J_MSG_OUT,
            .t = h.t + i * 997,
            .node = "mir.switch",
            .peer = "bridge",
            .trace = (uint64_t)i + 1,
            .msg = w == W_NOTE ? NULL : m,
            .sig = w == W_NOTE ? NULL
                   : in        ? "ok"
                               : "signed",
            .key_id = w == W_NOTE ? NULL : "bridge#0",
            .note = w == W_NOTE ? "no response from target" : NULL,
            .wire = w == W_NOTE ? NULL : wire,
            .wire_len = wlen,
            .dialect = d,
            .wire_unpacked = in,
        };
        rc = bs_jwriter_append(jw, &r);
    }
    if (rc == 0)
        rc = bs_jwriter_close(jw, h.t + n * 997, 0);
    t1 = clock_s(CLOCK_MONOTONIC);
    c1 = clock_s(CLOCK_THREAD_CPUTIME_ID);
    bs_jwriter_free(jw);
    close(s.fd);
    if (rc) {
        fprintf(stderr, "bench_journal: %s\n", bs_strerror(rc));
        return -1;
    }
    *cpu_rate = (double)n / (c1 - c0);
    return (double)n / (t1 - t0);
}

int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        enum work w;
        enum bs_jsync sync;
    } works[] = {
        { "msg_in", W_IN, BS_JSYNC_NONE },
        { "msg_out", W_OUT, BS_JSYNC_NONE },
        { "mixed", W_MIXED, BS_JSYNC_NONE },
        { "note", W_NOTE, BS_JSYNC_NONE },
        { "mixed, fsync checkpoint", W_MIXED, BS_JSYNC_CHECKPOINT },
    };
    const char *dir = NULL, *tmpdir = getenv("TMPDIR"), *only = NULL;
    bool json = false;
    long n = 200000;
    struct bs_iso_dialect *d;
    struct bs_iso_msg m, dec;
    struct bs_key *key;
    uint8_t wire[4096], seed[8] = { 0, 0, 0, 0, 0, 0, 0, 42 }, envl[131] = { 1 };
    size_t wlen;
    char path[1100];
    int status = 0;

    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json"))
            json = true;
        else if (!strcmp(argv[i], "--records") && i + 1 < argc)
            n = atol(argv[++i]);
        else if (!strcmp(argv[i], "--only") && i + 1 < argc)
            only = argv[++i];
        else if (argv[i][0] != '-' && !dir)
            dir = argv[i];
        else {
            fprintf(stderr,
                    "usage: bench_journal DIALECT_DIR [--json] [--records N] [--only WORKLOAD]\n");
            return 2;
        }
    }
    if (!dir || n < 1000) {
        fprintf(stderr,
                "usage: bench_journal DIALECT_DIR [--json] [--records N] [--only WORKLOAD]\n");
        return 2;
    }
    d = load(dir);
    if (!d || bs_key_derive(BS_SIG_ED25519, seed, 8, "mir.switch", 0, 0, &key) != 0) {
        fprintf(stderr, "bench_journal: cannot load %s/mir.yaml or derive a key\n", dir);
        return 1;
    }
    /* A 0200 as the Mir switch forwards it, with a 70-byte signature envelope in DE 127. */
    bs_iso_msg_init(&m, "0200");
    bs_iso_msg_set_str(&m, 2, "6037991234567893");
    bs_iso_msg_set_str(&m, 3, "000000");
    bs_iso_msg_set_num(&m, 4, 3371206, 12);
    bs_iso_msg_set_str(&m, 7, "0302090000");
    bs_iso_msg_set_str(&m, 11, "000001");
    bs_iso_msg_set_str(&m, 12, "120000");
    bs_iso_msg_set_str(&m, 13, "0302");
    bs_iso_msg_set_str(&m, 14, "3012");
    bs_iso_msg_set_str(&m, 18, "5411");
    bs_iso_msg_set_str(&m, 22, "051");
    bs_iso_msg_set_str(&m, 25, "00");
    bs_iso_msg_set_str(&m, 32, "22100000001");
    bs_iso_msg_set_str(&m, 35, "6037991234567893=30122010000000");
    bs_iso_msg_set_str(&m, 37, "606109000001");
    bs_iso_msg_set_str(&m, 41, "T0000001");
    bs_iso_msg_set_str(&m, 42, "M00000000000001");
    bs_iso_msg_set_str(&m, 43, "MIR ACQ 1 MOSCOW RU                     ");
    bs_iso_msg_set_str(&m, 49, "643");
    bs_iso_msg_set(&m, 127, envl, 4 + 12 + 64);
    if (bs_iso_pack(d, &m, wire, sizeof(wire), &wlen, NULL) != 0 ||
        bs_iso_unpack(d, wire, wlen, &dec, NULL) != 0) {
        fprintf(stderr, "bench_journal: cannot pack the sample message\n");
        return 1;
    }
    snprintf(path, sizeof(path), "%s/bench_journal.%ld.jsonl", tmpdir ? tmpdir : "/tmp",
             (long)getpid());
    if (json)
        printf("{\"records\": %ld, \"wire_bytes\": %zu, \"records_per_second\": {", n, wlen);
    else
        printf("journal writer into %s, %ld records per run, median of %d runs, %zu-byte "
               "messages\n  %-26s %10s %10s\n",
               path, n, REPS, wlen, "records/s:", "wall", "cpu");
    for (size_t k = 0; k < sizeof(works) / sizeof(works[0]); k++) {
        double r[REPS], c[REPS];
        if (only && strcmp(only, works[k].name) != 0)
            continue;
        for (int i = 0; i < REPS; i++) {
            r[i] = run(works[k].w, works[k].sync, n, key, d, wire, wlen, &dec, path, &c[i]);
            if (r[i] < 0) {
                status = 1;
                goto out;
            }
        }
        qsort(r, REPS, sizeof(r[0]), cmp_d);
        qsort(c, REPS, sizeof(c[0]), cmp_d);
        if (json)
            printf("%s\"%s\": {\"wall\": %.0f, \"cpu\": %.0f}", k ? ", " : "", works[k].name,
                   r[REPS / 2], c[REPS / 2]);
        else
            printf("  %-26s %10.0f %10.0f\n", works[k].name, r[REPS / 2], c[REPS / 2]);
    }
    if (json)
        printf("}}\n");
out:
    unlink(path);
    bs_key_free(key);
    bs_iso_dialect_free(d);
    return status;
}
