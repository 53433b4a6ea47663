/*
 * Scenario tests: whole runs in virtual time through the library, as `bridgesim run`
 * does them. The default scenario must complete with its expected counts and invariants,
 * and a seed must replay to byte-identical journals.
 */
#include <dirent.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "engine/world.h"
#include "report/summary.h"
#include "scenario/scenario.h"

static char root[1024];
static char tmpdir[256];

static const char *src(const char *rel)
{
    static char path[2048];

    snprintf(path, sizeof(path), "%s/%s", root, rel);
    return path;
}

/* Run @scenario with @sets into @out; return its summary (caller decrefs). */
static json_t *run(const char *scenario, const char *const *sets, size_t nsets, const char *out,
                   int *failed)
{
    struct bs_scenario *sc = NULL;
    struct bs_world *w = NULL;
    struct bs_run_opts ro;
    char err[4096] = "", dialects[1100];
    json_t *s;

    assert_int_equal(bs_scenario_load(src(scenario), sets, nsets, &sc, err, sizeof(err)), 0);
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

static long long num(const json_t *o, const char *k)
{
    const json_t *v = json_object_get(o, k);

    assert_true(json_is_integer(v));
    return (long long)json_integer_value(v);
}

/* The default scenario (what `make run` shows): counts in both directions, approvals,
 * insufficient funds, unknown and expired cards, timeouts from the lossy link, and
 * every invariant. */
static void default_scenario_completes(void **state)
{
    char out[512];
    int failed = -1;
    json_t *s, *oc, *flows;

    (void)state;
    snprintf(out, sizeof(out), "%s/default", tmpdir);
    s = run("configs/scenarios/mir-shetab.yaml", NULL, 0, out, &failed);
    assert_int_equal(failed, 0);
    assert_int_equal(num(s, "transactions"), 4800);
    assert_int_equal(num(s, "started"), 4800);
    flows = json_object_get(s, "flows");
    assert_int_equal(json_array_size(flows), 2);
    for (size_t i = 0; i < 2; i++)
        assert_true(num(json_array_get(flows, i), "transactions") >= 2000);
    oc = json_object_get(s, "outcomes");
    assert_true(num(oc, "00") > 4000);
    assert_true(num(oc, "51") > 0); /* insufficient funds */
    assert_true(num(oc, "14") > 0); /* unknown card */
    assert_true(num(oc, "54") > 0); /* expired card */
    assert_true(num(oc, "91") > 0); /* timeouts from the lossy bridge–Shetab link */
    assert_true(num(s, "timeouts") > 0);
    assert_true(num(s, "messages_lost") > 0);
    assert_true(json_is_true(json_object_get(s, "passed")));
    json_decref(s);
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;

    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    n = ftell(f);
    assert_true(n >= 0);
    rewind(f);
    buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return buf;
}

/* Whether every journal in a/journals equals its twin in b/journals byte for byte. */
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

static void same_seed_same_journals(void **state)
{
    static const char *const sets7[] = { "seed=7", "workload.count=1500" };
    static const char *const sets8[] = { "seed=8", "workload.count=1500" };
    char a[512], b[512], c[512];
    int failed;
    json_t *s;

    (void)state;
    snprintf(a, sizeof(a), "%s/seed7a", tmpdir);
    snprintf(b, sizeof(b), "%s/seed7b", tmpdir);
    snprintf(c, sizeof(c), "%s/seed8", tmpdir);
    s = run("configs/scenarios/mir-shetab.yaml", sets7, 2, a, &failed);
    json_decref(s);
    s = run("configs/scenarios/mir-shetab.yaml", sets7, 2, b, &failed);
    json_decref(s);
    s = run("configs/scenarios/mir-shetab.yaml", sets8, 2, c, &failed);
    json_decref(s);
    assert_true(journals_equal(a, b));
    assert_false(journals_equal(a, c));
}

/*
 * Link impairments (issue #5 §1–2, §6): the same seed replays byte for byte, another seed
 * does not; and turning Gilbert–Elliott loss (that never loses: p = 0) and a capacity
 * (that never fills) on for one link leaves every journal byte-identical, because their
 * draws come from their own streams, not from the link's.
 */
static void link_impairments_replay(void **state)
{
    static const char *const sets7[] = { "seed=7", "workload.count=400",
                                         "signing.algorithm=hmac-sha256" };
    static const char *const sets8[] = { "seed=8", "workload.count=400",
                                         "signing.algorithm=hmac-sha256" };
    static const char *const base[] = { "seed=7", "workload.count=300" };
    static const char *const inert[] = {
        "seed=7",
        "workload.count=300",
        "links.list.4.loss={model: gilbert-elliott, p: 0, r: 1}",
        "links.list.4.capacity={max_in_flight: 100000}",
    };
    char a[512], b[512], c[512], d[512], e[512];
    int failed;
    json_t *s;

    (void)state;
    snprintf(a, sizeof(a), "%s/li7a", tmpdir);
    snprintf(b, sizeof(b), "%s/li7b", tmpdir);
    snprintf(c, sizeof(c), "%s/li8", tmpdir);
    snprintf(d, sizeof(d), "%s/base", tmpdir);
    snprintf(e, sizeof(e), "%s/inert", tmpdir);
    s = run("configs/scenarios/link-impairments.yaml", sets7, 3, a, &failed);
    assert_int_equal(failed, 0);
    assert_true(num(s, "messages_dropped_link_full") > 0);
    json_decref(s);
    s = run("configs/scenarios/link-impairments.yaml", sets7, 3, b, &failed);
    json_decref(s);
    s = run("configs/scenarios/link-impairments.yaml", sets8, 3, c, &failed);
    json_decref(s);
    assert_true(journals_equal(a, b));
    assert_false(journals_equal(a, c));
    s = run("configs/scenarios/mir-shetab.yaml", base, 2, d, &failed);
    json_decref(s);
    s = run("configs/scenarios/mir-shetab.yaml", inert, 4, e, &failed);
    assert_int_equal(num(s, "messages_dropped_link_full"), 0);
    json_decref(s);
    assert_true(journals_equal(d, e));
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* The run directories are scratch: remove them whatever the outcome. */
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
        cmocka_unit_test(default_scenario_completes),
        cmocka_unit_test(same_seed_same_journals),
        cmocka_unit_test(link_impairments_replay),
    };

    snprintf(root, sizeof(root), "%s", r ? r : ".");
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/bridgesim-scenario-XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    return cmocka_run_group_tests_name("scenario_runs", tests, NULL, cleanup);
}
