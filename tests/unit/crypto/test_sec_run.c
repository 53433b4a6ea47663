/*
 * Whole runs for issue #9, in virtual time through the library (as `bridgesim run` does):
 *   - key-rotation.yaml: old-key messages are accepted inside the overlap window and only
 *     there, refused as "expired key" only after it; the run replays byte for byte; the same
 *     run with the keys that `bridgesim keygen` wrote (files of mode 0600) gives identical
 *     journals;
 *   - PIN blocks: wrong entries are declined RC 55 by the issuers, DE 52 is blanked in every
 *     journaled message, and the AES zone (format 4 after translation) declines exactly the
 *     same entries as the TDES zone.
 * argv[1]: the bridgesim program (for keygen).
 */
#include <dirent.h>
#include <ftw.h>
#include <setjmp.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include <bridgesim/crypto.h>
#include <bridgesim/iso8583.h>

#include "engine/world.h"
#include "report/summary.h"
#include "scenario/scenario.h"

extern char **environ;

static char root[1024];
static char tmpdir[256];
static const char *program;

static const char *src(const char *rel)
{
    static char path[2048];

    snprintf(path, sizeof(path), "%s/%s", root, rel);
    return path;
}

static json_t *run(const char *scenario, const char *const *sets, size_t nsets, const char *out,
                   int *failed)
{
    struct bs_scenario *sc = NULL;
    struct bs_world *w = NULL;
    struct bs_run_opts ro;
    char err[4096] = "", dialects[1100];
    json_t *s;

    if (bs_scenario_load(scenario[0] == '/' ? scenario : src(scenario), sets, nsets, &sc, err,
                         sizeof(err)) != 0)
        fail_msg("scenario: %s", err);
    snprintf(dialects, sizeof(dialects), "%s/configs/dialects", root);
    memset(&ro, 0, sizeof(ro));
    ro.out_dir = out;
    ro.dialect_dir = dialects;
    ro.journals = true;
    if (bs_world_new(sc, &ro, &w, err, sizeof(err)) != 0)
        fail_msg("world: %s", err);
    assert_int_equal(bs_world_run(w), 0);
    s = bs_summary_build(sc, w, failed);
    assert_non_null(s);
    bs_world_free(w);
    bs_scenario_free(sc);
    return s;
}

static long long counter(const json_t *s, const char *k)
{
    const json_t *v = json_object_get(json_object_get(s, "counters"), k);

    return json_is_integer(v) ? (long long)json_integer_value(v) : 0;
}

static long long outcome(const json_t *s, const char *rc)
{
    const json_t *v = json_object_get(json_object_get(s, "outcomes"), rc);

    return json_is_integer(v) ? (long long)json_integer_value(v) : 0;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;

    if (!f)
        fail_msg("cannot open %s", path);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    n = ftell(f);
    assert_true(n >= 0);
    rewind(f);
    buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static bool journals_equal(const char *a, const char *b)
{
    char da[600], pa[900], pb[900];
    DIR *d;
    struct dirent *e;
    bool same = true;
    int files = 0;

    snprintf(da, sizeof(da), "%s/journals", a);
    d = opendir(da);
    assert_non_null(d);
    while ((e = readdir(d)) != NULL) {
        size_t la, lb;
        char *ca, *cb;

        if (e->d_name[0] == '.')
            continue;
        snprintf(pa, sizeof(pa), "%s/journals/%s", a, e->d_name);
        snprintf(pb, sizeof(pb), "%s/journals/%s", b, e->d_name);
        ca = slurp(pa, &la);
        cb = slurp(pb, &lb);
        if (la != lb || memcmp(ca, cb, la) != 0)
            same = false;
        free(ca);
        free(cb);
        files++;
    }
    closedir(d);
    assert_true(files > 10);
    return same;
}

/* Call @fn on every line of @dir/journals/@name.jsonl. */
static void each_record(const char *dir, const char *name, void (*fn)(json_t *rec, void *ctx),
                        void *ctx)
{
    char path[900];
    size_t len;
    char *text, *line, *save = NULL;

    snprintf(path, sizeof(path), "%s/journals/%s.jsonl", dir, name);
    text = slurp(path, &len);
    for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        json_error_t jerr;
        json_t *rec = json_loads(line, 0, &jerr);

        if (!rec)
            fail_msg("%s: %s", path, jerr.text);
        fn(rec, ctx);
        json_decref(rec);
    }
    free(text);
}

static const char *str(const json_t *rec, const char *k)
{
    const char *s = json_string_value(json_object_get(rec, k));

    return s ? s : "";
}

/* ---- rotation ------------------------------------------------------------------------------ */

/* 2026-03-02T09:00:00Z: the scenario's time.start; the bridge rotates at +2 min, 30 s overlap. */
#define START   ((long long)1772442000 * 1000000)
#define ROTATE  (START + 120LL * 1000000)
#define OVERLAP (ROTATE + 30LL * 1000000)

struct rot_seen {
    long long old_inside, old_after, new_before, expired, expired_early;
};

static void rot_record(json_t *rec, void *ctx)
{
    struct rot_seen *s = ctx;
    const char *kind = str(rec, "kind"), *key = str(rec, "key_id");
    long long t = (long long)json_integer_value(json_object_get(rec, "t_us"));
    bool old = strcmp(key, "bridge~shetab.switch#0") == 0;

    if (strcmp(kind, "msg_in") == 0 && old && t > ROTATE)
        (*(t <= OVERLAP ? &s->old_inside : &s->old_after))++;
    if (strcmp(kind, "msg_in") == 0 && strcmp(key, "bridge~shetab.switch#1") == 0 && t < ROTATE)
        s->new_before++;
    if (strcmp(kind, "sig_failure") == 0) {
        assert_string_equal(str(rec, "sig"), "expired-key");
        assert_string_equal(str(rec, "note"), "expired key");
        assert_true(old);
        s->expired++;
        s->expired_early += t <= OVERLAP;
    }
}

static void test_key_rotation(void **state)
{
    char a[512], b[512], keys[512], c[512], set[600];
    const char *sets[1] = { set };
    struct rot_seen seen = { 0 };
    int failed = -1, status;
    json_t *s;
    pid_t pid;
    struct stat st;

    (void)state;
    snprintf(a, sizeof(a), "%s/rot-a", tmpdir);
    s = run("configs/scenarios/key-rotation.yaml", NULL, 0, a, &failed);
    assert_int_equal(failed, 0);
    assert_true(json_is_true(json_object_get(s, "passed")));
    /* In flight across the rotation and inside the window: accepted under the old keys. */
    assert_true(counter(s, "old_key_accepted") > 50);
    /* After the window: refused, and every signature failure of the run is one of those. */
    assert_true(counter(s, "expired_key_rejected") > 50);
    assert_int_equal(counter(s, "signature_failures"), counter(s, "expired_key_rejected"));
    assert_int_equal(counter(s, "replays_rejected"), 0);
    print_message("key-rotation: old_key_accepted %lld, expired_key_rejected %lld\n",
                  counter(s, "old_key_accepted"), counter(s, "expired_key_rejected"));
    json_decref(s);

    /* The Shetab switch's view of the bridge's zone key: epoch 0 after the rotation only
     * until 2:30 (inclusive), refused only after; epoch 1 never before 2:00. */
    each_record(a, "shetab.switch", rot_record, &seen);
    assert_true(seen.old_inside > 0);
    assert_int_equal(seen.old_after, 0);
    assert_int_equal(seen.new_before, 0);
    assert_true(seen.expired > 0);
    assert_int_equal(seen.expired_early, 0);

    /* Same seed, same journals. */
    snprintf(b, sizeof(b), "%s/rot-b", tmpdir);
    s = run("configs/scenarios/key-rotation.yaml", NULL, 0, b, &failed);
    json_decref(s);
    assert_true(journals_equal(a, b));

    /* bridgesim keygen: files of mode 0600; a run with them equals the derived run. */
    snprintf(keys, sizeof(keys), "%s/keys", tmpdir);
    {
        char *args[] = { (char *)program,
                         (char *)"keygen",
                         (char *)src("configs/scenarios/key-rotation.yaml"),
                         (char *)"--out",
                         keys,
                         NULL };
        assert_int_equal(posix_spawn(&pid, program, NULL, NULL, args, environ), 0);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    snprintf(c, sizeof(c), "%s/bridge.0.pem", keys);
    assert_int_equal(stat(c, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    snprintf(c, sizeof(c), "%s/bridge.1.pem", keys);
    assert_int_equal(stat(c, &st), 0);
    snprintf(set, sizeof(set), "signing.key_dir=%s", keys);
    snprintf(c, sizeof(c), "%s/rot-pem", tmpdir);
    s = run("configs/scenarios/key-rotation.yaml", sets, 1, c, &failed);
    assert_int_equal(failed, 0);
    json_decref(s);
    assert_true(journals_equal(a, c));
}

/* ---- PIN blocks ---------------------------------------------------------------------------- */

struct pin_seen {
    const struct bs_iso_dialect *d;
    const char *peer; /* only records with this peer prefix, when set */
    long long with_pin, rc55;
};

static struct bs_iso_dialect *load_dialect_file(const char *path)
{
    char err[512];
    struct bs_iso_dialect *d = NULL;
    size_t len;
    char *text = slurp(path, &len);

    if (bs_iso_dialect_parse(text, len, path, &d, err, sizeof(err)) != 0)
        fail_msg("%s: %s", path, err);
    free(text);
    return d;
}

/* Every journaled 0200 that carried a PIN block shows DE 52 as zero bytes (blanked). */
static void pin_record(json_t *rec, void *ctx)
{
    struct pin_seen *p = ctx;
    const char *hex = str(rec, "hex");
    uint8_t buf[BS_WIRE_MAX];
    struct bs_iso_msg m;
    struct bs_iso_error err;
    size_t n = 0;

    if (strcmp(str(rec, "rc"), "55") == 0 && strcmp(str(rec, "kind"), "msg_out") == 0)
        p->rc55++;
    if (!hex[0] || strcmp(str(rec, "mti"), "0200") != 0)
        return;
    if (p->peer && strncmp(str(rec, "peer"), p->peer, strlen(p->peer)) != 0)
        return;
    for (const char *h = hex; h[0] && h[1] && n < sizeof(buf);) {
        unsigned v;

        if (*h == ' ') {
            h++;
            continue;
        }
        assert_int_equal(sscanf(h, "%2x", &v), 1);
        buf[n++] = (uint8_t)v;
        h += 2;
    }
    assert_int_equal(bs_iso_unpack(p->d, buf, n, &m, &err), 0);
    if (bs_iso_msg_has(&m, 52)) {
        size_t len;
        const uint8_t *v = bs_iso_msg_get(&m, 52, &len);

        p->with_pin++;
        for (size_t i = 0; i < len; i++)
            assert_int_equal(v[i], 0);
    }
}

static void test_pin_blocks(void **state)
{
    static const char *const tdes[] = { "workload.count=1200", "pin={wrong_share: 0.05}" };
    char a[512], b[512], dpath[600], set[700];
    const char *aes[3] = { "workload.count=1200", "pin={wrong_share: 0.05, zones: {mir: aes}}",
                           set };
    struct pin_seen seen = { 0 };
    int failed = -1;
    json_t *s0, *s4;
    size_t len;
    char *text, *at;
    FILE *f;

    (void)state;
    snprintf(a, sizeof(a), "%s/pin-tdes", tmpdir);
    s0 = run("configs/scenarios/mir-shetab.yaml", tdes, 2, a, &failed);
    assert_int_equal(failed, 0);
    /* About 5 % of 1200 entries are wrong; cards that are unknown or expired decline first. */
    assert_in_range(outcome(s0, "55"), 30, 90);

    /* The terminals' requests carry DE 52, blanked in the journal; issuers answer RC 55. */
    seen.d = load_dialect_file(src("configs/dialects/mir.yaml"));
    each_record(a, "mir.MIRACQ1.terminals", pin_record, &seen);
    each_record(a, "mir.MIRBANK1", pin_record, &seen);
    each_record(a, "mir.MIRBANK2", pin_record, &seen);
    seen.peer = "mir."; /* the Mir side of the bridge */
    each_record(a, "bridge", pin_record, &seen);
    assert_true(seen.with_pin > 500);
    assert_true(seen.rc55 > 0);
    bs_iso_dialect_free((struct bs_iso_dialect *)seen.d);

    /* The Mir zone on AES: the bridge translates format 0 into format 4, which needs a
     * 16-byte DE 52 (a copy of the Mir dialect). The same entries are wrong either way. */
    text = slurp(src("configs/dialects/mir.yaml"), &len);
    at = strstr(text, "52: {name: \"PIN data\", format: b, length: fixed, size: 8");
    assert_non_null(at);
    snprintf(dpath, sizeof(dpath), "%s/mir-aes-pin.yaml", tmpdir);
    f = fopen(dpath, "wb");
    assert_non_null(f);
    at += strlen("52: {name: \"PIN data\", format: b, length: fixed, size: ");
    assert_int_equal(fwrite(text, 1, (size_t)(at - text), f), (size_t)(at - text));
    fputs("16", f);
    fputs(at + 1, f);
    fclose(f);
    free(text);
    snprintf(set, sizeof(set), "networks.mir.dialect=%s", dpath);
    snprintf(b, sizeof(b), "%s/pin-aes", tmpdir);
    s4 = run("configs/scenarios/mir-shetab.yaml", aes, 3, b, &failed);
    assert_int_equal(failed, 0);
    assert_int_equal(outcome(s4, "55"), outcome(s0, "55"));
    assert_int_equal(outcome(s4, "00"), outcome(s0, "00"));
    memset(&seen, 0, sizeof(seen));
    seen.d = load_dialect_file(dpath);
    each_record(b, "mir.MIRBANK1", pin_record, &seen);
    assert_true(seen.with_pin > 100);
    bs_iso_dialect_free((struct bs_iso_dialect *)seen.d);
    json_decref(s0);
    json_decref(s4);
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static int cleanup(void **state)
{
    (void)state;
    nftw(tmpdir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}

int main(int argc, char **argv)
{
    const char *r = getenv("BS_SOURCE_ROOT");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key_rotation),
        cmocka_unit_test(test_pin_blocks),
    };

    if (argc < 2) {
        fprintf(stderr, "usage: %s BRIDGESIM\n", argv[0]);
        return 2;
    }
    program = argv[1];
    snprintf(root, sizeof(root), "%s", r ? r : ".");
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/bridgesim-sec-XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    return cmocka_run_group_tests_name("security_runs", tests, NULL, cleanup);
}
