/*
 * PCI DSS test (issue #7): run every shipped scenario (configs/scenarios/\*.yaml, with a
 * small transaction count), write summary.json and both exports (CSV and SQLite) into the
 * run directory, then search every byte of every file in it for cardholder data:
 *
 *   1. full PANs: maximal digit runs of 13–19 digits that start with a configured BIN and
 *      pass the Luhn check (PCI DSS 3.3);
 *   2. the full form of every PAN the journals show masked: its first six digits, any
 *      middle digits and its last four, inside any run of digits (BCD message bytes in hex
 *      are long digit runs, so this looks inside them too);
 *   3. track data: a BIN-led digit run followed by a track separator ('=' or 'D');
 *   4. every message's bytes ("hex"), decoded in the node's dialect: the PAN, extended PAN,
 *      track 1/2/3 and PIN block data elements hold nothing but blanks (PCI DSS 3.2);
 *   5. no key that would hold track data, PIN blocks or CVVs.
 *
 * Any hit fails the test naming the scenario, the file and the byte offset.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <jansson.h>

#include <bridgesim/crypto.h>
#include <bridgesim/iso8583.h>
#include <bridgesim/journal.h>

#include "engine/world.h"
#include "journal/logcmd.h"
#include "report/summary.h"
#include "scenario/scenario.h"

#define MAX_MASKED 200000

static char root[1024];
static char tmpdir[256];

struct ctx {
    const struct bs_scenario *sc;
    const char *scenario;
    struct bs_iso_dialect *dialects[BS_SC_MAX_NETWORKS];
    char **masked; /* "first6|last4|len", sorted */
    size_t nmasked;
    uint8_t first6[1000000 / 8]; /* bit per first six digits of a masked PAN */
    size_t files, bytes, hexes;
};

/* ---- helpers ------------------------------------------------------------------------------ */

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

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Whether the digits at @p (at least @avail of them) start with a configured BIN. */
static bool starts_with_bin(const struct bs_scenario *sc, const char *p, size_t avail)
{
    for (size_t n = 0; n < sc->nnetworks; n++) {
        const struct bs_sc_network *net = &sc->networks[n];
        for (size_t i = 0; i < net->nissuers; i++) {
            for (size_t b = 0; b < net->issuers[i].nbins; b++) {
                const struct bs_sc_bin_range *r = &net->issuers[i].bins[b];
                uint64_t v = 0;
                if (r->digits > avail)
                    continue;
                for (unsigned k = 0; k < r->digits; k++)
                    v = v * 10 + (uint64_t)(p[k] - '0');
                if (v >= r->lo && v <= r->hi)
                    return true;
            }
        }
    }
    return false;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool is_masked_pan(struct ctx *c, const char *run, size_t len)
{
    char key[32], *k = key;

    snprintf(key, sizeof(key), "%.6s|%.4s|%zu", run, run + len - 4, len);
    return bsearch(&k, c->masked, c->nmasked, sizeof(*c->masked), cmp_str) != NULL;
}

/* Checks 1–3 and 5 over the raw bytes of one file. Return: the number of findings (each
 * printed). */
static int scan_bytes(struct ctx *c, const char *path, const char *b, size_t n)
{
    /* As JSON keys (the name in quotes, then a colon). */
    static const char *const keys[] = {
        "\"track\":", "\"track1\":", "\"track2\":", "\"pin\":",  "\"pin_block\":", "\"pinblock\":",
        "\"cvv\":",   "\"cvc\":",    "\"cvv2\":",   "\"de35\":", "\"de45\":",      "\"de52\":"
    };

    int found = 0;

    for (size_t i = 0; i < n;) {
        size_t j = i;
        if (!is_digit(b[i])) {
            i++;
            continue;
        }
        while (j < n && is_digit(b[j]))
            j++;
        /* 1: a maximal run of 13–19 digits, BIN-led and Luhn-valid. */
        if (j - i >= 13 && j - i <= 19 && starts_with_bin(c->sc, b + i, j - i) &&
            bs_luhn_valid(b + i, j - i))
            found++, print_error("%s: %s: offset %zu: full PAN %.6s...%.4s (%zu digits)\n",
                                 c->scenario, path, i, b + i, b + j - 4, j - i);
        /* 2: a PAN the journals show masked, in full, anywhere inside the run. */
        for (size_t s = i; s + 13 <= j; s++) {
            unsigned v = 0;
            for (int k = 0; k < 6; k++)
                v = v * 10 + (unsigned)(b[s + (size_t)k] - '0');
            if (!(c->first6[v / 8] & (1u << (v % 8))))
                continue;
            for (size_t len = 13; len <= 19 && s + len <= j; len++)
                if (is_masked_pan(c, b + s, len) && bs_luhn_valid(b + s, len))
                    found++, print_error(
                                 "%s: %s: offset %zu: the full form of masked PAN %.6s******%.4s\n",
                                 c->scenario, path, s, b + s, b + s + len - 4);
        }
        /* 3: track data: a BIN-led PAN-length run, then a separator. */
        if (j - i >= 12 && j < n && (b[j] == '=' || b[j] == 'D' || b[j] == 'd') &&
            starts_with_bin(c->sc, b + i, j - i))
            found++, print_error("%s: %s: offset %zu: track data\n", c->scenario, path, i);
        i = j;
    }
    for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
        const char *p = memmem(b, n, keys[k], strlen(keys[k]));
        if (p)
            found++, print_error("%s: %s: offset %zu: key %s\n", c->scenario, path, (size_t)(p - b),
                                 keys[k]);
    }
    return found;
}

static int network_of(const struct bs_scenario *sc, const char *node)
{
    for (size_t n = 0; n < sc->nnetworks; n++) {
        size_t len = strlen(sc->networks[n].name);
        if (!strncmp(node, sc->networks[n].name, len) && node[len] == '.')
            return (int)n;
    }
    return -1;
}

/* 4: a data element of a decoded message holds only blanks. */
static void expect_blank(struct ctx *c, const char *path, uint64_t line, const struct bs_iso_msg *m,
                         unsigned de)
{
    size_t len;
    const uint8_t *v = bs_iso_msg_get(m, de, &len);

    if (!v)
        return;
    for (size_t i = 0; i < len; i++)
        if (v[i] != 0 && v[i] != '0' && v[i] != '*' && v[i] != 'D' && v[i] != '=' && v[i] != ' ')
            fail_msg("%s: %s:%llu: DE %u of the message bytes is not blanked", c->scenario, path,
                     (unsigned long long)line, de);
}

/* Collect the masked PANs of a journal (pass 1) or check its message bytes (pass 2). */
static void journal_pass(struct ctx *c, const char *path, int pass)
{
    size_t n;
    char *t = slurp(path, &n), *p = t, *nl;
    struct bs_jline *l = malloc(sizeof(*l));
    uint64_t lineno = 0;
    char why[200];

    assert_non_null(l);
    for (; (nl = strchr(p, '\n')) != NULL; p = nl + 1) {
        lineno++;
        if (bs_jline_parse(p, (size_t)(nl - p), l, why, sizeof(why)) != 0)
            fail_msg("%s: %s:%llu: %s", c->scenario, path, (unsigned long long)lineno, why);
        if (pass == 1 && l->pan[0]) {
            size_t len = strlen(l->pan);
            char key[32];
            if (len < 13 || strspn(l->pan, "0123456789") != 6 ||
                strspn(l->pan + 6, "*") != len - 10)
                fail_msg("%s: %s:%llu: PAN not masked to 6 + 4: %s", c->scenario, path,
                         (unsigned long long)lineno, l->pan);
            snprintf(key, sizeof(key), "%.6s|%.4s|%zu", l->pan, l->pan + len - 4, len);
            {
                unsigned v = (unsigned)atoi(key); /* the six digits before '|' */
                c->first6[v / 8] |= (uint8_t)(1u << (v % 8));
            }
            if (c->nmasked < MAX_MASKED) {
                c->masked[c->nmasked] = strdup(key);
                assert_non_null(c->masked[c->nmasked]);
                c->nmasked++;
            }
        }
        if (pass == 2 && l->hex) {
            /* The dialect of the link: the node's network, or for the bridge its peer's. */
            int net = network_of(c->sc, l->node);
            uint8_t bytes[BS_JOURNAL_HEX_WIRE_MAX];
            struct bs_iso_msg m;
            size_t nb = 0;
            if (net < 0)
                net = network_of(c->sc, l->peer);
            assert_true(net >= 0);
            /* Groups of four bytes separated by spaces (BS_JOURNAL_HEX_LEN). */
            for (size_t i = 0; i + 1 < l->hex_len && nb < sizeof(bytes);) {
                unsigned v;
                if (l->hex[i] == ' ') {
                    i++;
                    continue;
                }
                sscanf(l->hex + i, "%2x", &v);
                bytes[nb++] = (uint8_t)v;
                i += 2;
            }
            if (bs_iso_unpack(c->dialects[net], bytes, nb, &m, NULL) != 0)
                fail_msg("%s: %s:%llu: journaled bytes do not decode", c->scenario, path,
                         (unsigned long long)lineno);
            expect_blank(c, path, lineno, &m, 2);
            expect_blank(c, path, lineno, &m, 34);
            expect_blank(c, path, lineno, &m, 35);
            expect_blank(c, path, lineno, &m, 36);
            expect_blank(c, path, lineno, &m, 45);
            expect_blank(c, path, lineno, &m, 52);
            c->hexes++;
        }
    }
    free(l);
    free(t);
}

static struct ctx *walk_ctx;

static int scan_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    size_t n;
    char *b;

    (void)ftw;
    if (flag != FTW_F || !S_ISREG(st->st_mode))
        return 0;
    b = slurp(path, &n);
    if (scan_bytes(walk_ctx, path, b, n) != 0)
        fail_msg("%s: cardholder data in %s", walk_ctx->scenario, path);
    walk_ctx->files++;
    walk_ctx->bytes += n;
    free(b);
    return 0;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static struct bs_iso_dialect *load_dialect(const char *spec)
{
    char path[1200], err[512];
    struct bs_iso_dialect *d = NULL;
    size_t n;
    char *text;

    if (strchr(spec, '/'))
        snprintf(path, sizeof(path), "%s", spec);
    else
        snprintf(path, sizeof(path), "%s/configs/dialects/%s.yaml", root, spec);
    text = slurp(path, &n);
    if (bs_iso_dialect_parse(text, n, path, &d, err, sizeof(err)) != 0)
        fail_msg("%s", err);
    free(text);
    return d;
}

/* ---- the test ------------------------------------------------------------------------------ */

static void run_one(const char *file)
{
    static const char *const sets[] = { "workload.count=200" };
    struct bs_scenario *sc = NULL;
    struct bs_world *w = NULL;
    struct bs_run_opts ro;
    static struct ctx c;
    char err[4096] = "", path[1200], out[800], dialects[1100];
    int failed;
    json_t *summary;
    FILE *devnull = fopen("/dev/null", "w");
    DIR *d;
    struct dirent *e;

    snprintf(path, sizeof(path), "%s/configs/scenarios/%s", root, file);
    if (bs_scenario_load(path, sets, 1, &sc, err, sizeof(err)) != 0)
        fail_msg("%s: %s", file, err);
    snprintf(out, sizeof(out), "%s/%s", tmpdir, file);
    snprintf(dialects, sizeof(dialects), "%s/configs/dialects", root);
    memset(&ro, 0, sizeof(ro));
    ro.out_dir = out;
    ro.dialect_dir = dialects;
    ro.journals = true;
    if (bs_world_new(sc, &ro, &w, err, sizeof(err)) != 0)
        fail_msg("%s: %s", file, err);
    assert_int_equal(bs_world_run(w), 0);
    summary = bs_summary_build(sc, w, &failed);
    assert_non_null(summary);
    snprintf(path, sizeof(path), "%s/summary.json", out);
    assert_int_equal(json_dump_file(summary, path, JSON_INDENT(2)), 0);
    json_decref(summary);
    bs_world_free(w);

    /* The exports are part of what must stay clean. */
    snprintf(path, sizeof(path), "%s/export.csv", out);
    assert_int_equal(bs_log_export(out, BS_LOG_CSV, path, devnull), 0);
    snprintf(path, sizeof(path), "%s/export.db", out);
    assert_int_equal(bs_log_export(out, BS_LOG_SQLITE, path, devnull), 0);
    fclose(devnull);

    memset(&c, 0, sizeof(c));
    c.sc = sc;
    c.scenario = file;
    c.masked = calloc(MAX_MASKED, sizeof(*c.masked));
    assert_non_null(c.masked);
    for (size_t n = 0; n < sc->nnetworks; n++)
        c.dialects[n] = load_dialect(sc->networks[n].dialect);
    snprintf(path, sizeof(path), "%s/journals", out);
    for (int pass = 1; pass <= 2; pass++) {
        d = opendir(path);
        assert_non_null(d);
        while ((e = readdir(d)) != NULL) {
            char jp[1500];
            size_t nl = strlen(e->d_name);
            /* Journals only: manifest.json (names and counts) is scanned with the rest. */
            if (e->d_name[0] == '.' || nl < 7 || strcmp(e->d_name + nl - 6, ".jsonl") != 0)
                continue;
            snprintf(jp, sizeof(jp), "%s/%s", path, e->d_name);
            journal_pass(&c, jp, pass);
        }
        closedir(d);
        if (pass == 1)
            qsort(c.masked, c.nmasked, sizeof(*c.masked), cmp_str);
    }
    walk_ctx = &c;
    assert_int_equal(nftw(out, scan_entry, 16, FTW_PHYS), 0);
    print_message("%-32s %3zu files %10zu bytes %7zu messages decoded, %6zu masked PANs: clean\n",
                  file, c.files, c.bytes, c.hexes, c.nmasked);
    assert_true(c.hexes > 100);
    assert_true(c.nmasked > 100);
    for (size_t i = 0; i < c.nmasked; i++)
        free(c.masked[i]);
    free(c.masked);
    for (size_t n = 0; n < BS_SC_MAX_NETWORKS; n++)
        bs_iso_dialect_free(c.dialects[n]);
    bs_scenario_free(sc);
    nftw(out, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* The detectors find what they look for: a planted PAN, a PAN inside a long digit run
 * (as in BCD message bytes), track data and a PIN key are each reported. */
static void detectors_work(void **state)
{
    static struct ctx c;
    struct bs_scenario *sc = NULL;
    char err[2048], path[1200];
    static const char *const planted[] = {
        "{\"x\":\"2200701234566781\"}",             /* 1: a full Mir PAN */
        "\"hex\":\"0211220070123456678100003012\"", /* 2: inside a digit run */
        "2200701234566781d30122010000000",          /* 3: BCD track 2 in hex (ASCII: check 4) */
        "{\"pin_block\":\"1234\"}",                 /* 5: a PIN block key */
    };

    (void)state;
    snprintf(path, sizeof(path), "%s/configs/scenarios/mir-shetab.yaml", root);
    assert_int_equal(bs_scenario_load(path, NULL, 0, &sc, err, sizeof(err)), 0);
    memset(&c, 0, sizeof(c));
    c.sc = sc;
    c.scenario = "self-test";
    c.masked = calloc(1, sizeof(*c.masked));
    assert_non_null(c.masked);
    c.masked[0] = strdup("220070|6781|16");
    c.nmasked = 1;
    c.first6[220070 / 8] |= (uint8_t)(1u << (220070 % 8));
    assert_true(bs_luhn_valid("2200701234566781", 16));
    for (size_t i = 0; i < sizeof(planted) / sizeof(planted[0]); i++)
        if (scan_bytes(&c, "planted", planted[i], strlen(planted[i])) == 0)
            fail_msg("not detected: %s", planted[i]);
    assert_int_equal(scan_bytes(&c, "clean", "{\"pan\":\"220070******6781\"}", 27), 0);
    /* Track 2 in the clear, BIN-led. */
    assert_true(scan_bytes(&c, "planted", "6037991234567893=30122010", 25) > 0);
    free(c.masked[0]);
    free(c.masked);
    bs_scenario_free(sc);
}

static void every_scenario_is_clean(void **state)
{
    char dir[1100];
    struct dirent **names;
    int n, done = 0;

    (void)state;
    snprintf(dir, sizeof(dir), "%s/configs/scenarios", root);
    n = scandir(dir, &names, NULL, alphasort);
    assert_true(n > 0);
    for (int i = 0; i < n; i++) {
        size_t len = strlen(names[i]->d_name);
        if (len > 5 && !strcmp(names[i]->d_name + len - 5, ".yaml")) {
            run_one(names[i]->d_name);
            done++;
        }
        free(names[i]);
    }
    free(names);
    assert_true(done >= 1);
}

static int cleanup(void **state)
{
    (void)state;
    nftw(tmpdir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}

int main(void)
{
    const char *r = getenv("BS_SOURCE_ROOT");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(detectors_work),
        cmocka_unit_test(every_scenario_is_clean),
    };

    snprintf(root, sizeof(root), "%s", r ? r : ".");
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/bridgesim-pci-XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    return cmocka_run_group_tests_name("pci_no_cardholder_data", tests, NULL, cleanup);
}
