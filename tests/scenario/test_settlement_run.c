/*
 * Settlement over whole runs in virtual time, as `bridgesim run` does them: the default
 * scenario's settlement balances (every settlement invariant holds, each scheme nets to
 * zero, every participant reconciles with its scheme), and the cutover-in-flight scenario
 * has two windows, adjustments in the second one, and a settlement.json that is the same
 * bytes for the same seed. docs/settlement.md describes what is checked.
 */
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

#include <bridgesim/settlement.h>

#include "engine/world.h"
#include "report/settlement_report.h"
#include "report/summary.h"
#include "scenario/scenario.h"

static char root[1024];
static char tmpdir[256];

struct run {
    json_t *summary, *settlement;
    char *text; /* settlement.json as bridgesim run writes it */
    int failed;
};

/* Run @scenario (relative to the source root) into @out without journals. */
static void run(const char *scenario, const char *out, struct run *r)
{
    struct bs_scenario *sc = NULL;
    struct bs_world *w = NULL;
    struct bs_run_opts ro;
    char err[4096] = "", path[2048], dialects[1100];

    snprintf(path, sizeof(path), "%s/%s", root, scenario);
    if (bs_scenario_load(path, NULL, 0, &sc, err, sizeof(err)) != 0)
        fail_msg("%s: %s", scenario, err);
    snprintf(dialects, sizeof(dialects), "%s/configs/dialects", root);
    memset(&ro, 0, sizeof(ro));
    ro.out_dir = out;
    ro.dialect_dir = dialects;
    ro.journals = false;
    if (bs_world_new(sc, &ro, &w, err, sizeof(err)) != 0)
        fail_msg("world: %s", err);
    assert_int_equal(bs_world_run(w), 0);
    memset(r, 0, sizeof(*r));
    r->summary = bs_summary_build(sc, w, &r->failed);
    r->settlement = bs_settlement_report_build(sc, w);
    assert_non_null(r->summary);
    assert_non_null(r->settlement);
    r->text = json_dumps(r->settlement, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    assert_non_null(r->text);
    bs_world_free(w);
    bs_scenario_free(sc);
}

static void run_free(struct run *r)
{
    json_decref(r->summary);
    json_decref(r->settlement);
    free(r->text);
}

static long long num(const json_t *o, const char *k)
{
    const json_t *v = json_object_get(o, k);

    if (!json_is_integer(v))
        fail_msg("no integer '%s'", k);
    return (long long)json_integer_value(v);
}

static const char *str(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));

    if (!s)
        fail_msg("no string '%s'", k);
    return s;
}

/* Every settlement_* invariant of the summary holds, and the report's own agree. */
static void assert_settlement_invariants(const struct run *r)
{
    const json_t *v;
    size_t i, seen = 0;

    json_array_foreach(json_object_get(r->summary, "invariants"), i, v)
    {
        if (strncmp(str(v, "name"), "settlement_", 11) != 0)
            continue;
        seen++;
        if (!json_is_true(json_object_get(v, "ok")))
            fail_msg("%s: %s", str(v, "name"), str(v, "detail"));
    }
    assert_int_equal(seen, 3);
    assert_int_equal(bs_settlement_report_failed(r->settlement), 0);
}

/*
 * The figures balance on their own terms: in every window each scheme's participants sum
 * to zero, and per acquirer side the net commitments (transactions − reversals over all
 * windows) equal the approvals the terminals received.
 */
static void assert_balanced(const struct run *r)
{
    const json_t *w, *sch, *p;
    size_t i, j, k;
    long long net_txns = 0;

    json_array_foreach(json_object_get(r->settlement, "windows"), i, w)
    {
        net_txns += num(w, "transactions") - num(w, "reversals");
        json_array_foreach(json_object_get(w, "schemes"), j, sch)
        {
            long long sum = 0;
            json_array_foreach(json_object_get(sch, "participants"), k, p)
            {
                sum += num(p, "net");
                assert_int_equal(num(p, "net"), num(p, "gross_credits") - num(p, "gross_debits"));
                assert_int_equal(num(p, "net"), num(p, "principal") + num(p, "interchange") +
                                                    num(p, "bridge_fees"));
            }
            assert_int_equal(sum, 0);
            assert_int_equal(num(sch, "net_sum"), 0);
        }
    }
    assert_int_equal(net_txns, num(r->summary, "approved"));
    /* Every participant reconciles with its scheme's own records. */
    json_array_foreach(json_object_get(json_object_get(r->settlement, "reconciliation"), "schemes"),
                       i, sch)
    {
        json_array_foreach(json_object_get(sch, "participants"), j,
                           p) if (strcmp(str(p, "status"), "in balance") != 0)
            fail_msg("%s %s: %s", str(sch, "scheme"), str(p, "participant"), str(p, "status"));
        assert_string_equal(str(sch, "status"), "in balance");
    }
}

static void default_scenario_settles(void **state)
{
    char out[512];
    struct run r;
    const json_t *w, *in;

    (void)state;
    snprintf(out, sizeof(out), "%s/default", tmpdir);
    run("configs/scenarios/mir-shetab.yaml", out, &r);
    assert_int_equal(r.failed, 0);
    assert_settlement_invariants(&r);
    assert_balanced(&r);
    /* 09:00Z to about 09:07Z: one window, closed by the end of the run before 21:00Z. */
    assert_int_equal(json_array_size(json_object_get(r.settlement, "windows")), 1);
    w = json_array_get(json_object_get(r.settlement, "windows"), 0);
    assert_string_equal(str(w, "closed_by"), "end of run");
    assert_string_equal(str(w, "cutover"), "2026-03-02T21:00:00.000000Z");
    assert_string_equal(str(json_object_get(w, "business_date"), "mir"), "2026-03-02");
    assert_string_equal(str(json_object_get(w, "business_date"), "shetab"), "2026-03-02");
    assert_true(num(w, "transactions") > 4000);
    /* Shetab cards spend more in Russia than Mir cards in Iran: the bridge is short in RUB
     * and the Shetab side pays the Mir side, converted once at the settlement rate. */
    in = json_object_get(w, "instruction");
    assert_true(json_is_true(json_object_get(in, "needed")));
    assert_string_equal(str(in, "payer"), "shetab");
    assert_string_equal(str(in, "payee"), "mir");
    assert_string_equal(str(in, "currency"), "RUB");
    assert_true(num(in, "amount") > 0);
    run_free(&r);
}

static void cutover_in_flight(void **state)
{
    char out[512];
    struct run a, b;
    const json_t *w1, *w2, *adj;
    size_t i;

    (void)state;
    snprintf(out, sizeof(out), "%s/cutover-a", tmpdir);
    run("configs/scenarios/cutover-in-flight.yaml", out, &a);
    assert_int_equal(a.failed, 0);
    assert_settlement_invariants(&a);
    assert_balanced(&a);
    assert_int_equal(json_array_size(json_object_get(a.settlement, "windows")), 2);
    w1 = json_array_get(json_object_get(a.settlement, "windows"), 0);
    w2 = json_array_get(json_object_get(a.settlement, "windows"), 1);
    assert_string_equal(str(w1, "closed_by"), "cutover");
    assert_string_equal(str(w1, "opened"), "2026-03-02T20:58:00.000000Z");
    assert_string_equal(str(w1, "closed"), "2026-03-02T21:00:00.000000Z");
    assert_string_equal(str(w2, "opened"), "2026-03-02T21:00:00.000000Z");
    assert_string_equal(str(w2, "closed_by"), "end of run");
    assert_string_equal(str(json_object_get(w2, "business_date"), "shetab"), "2026-03-03");
    assert_true(num(w1, "transactions") > 1000);
    assert_true(num(w2, "transactions") > 1000);
    /* Transactions committed just before 21:00Z and reversed after it are adjustments in
     * the second window, each naming the first window as its original's. */
    assert_int_equal(num(w1, "adjustments"), 0);
    assert_true(num(w2, "adjustments") >= 1);
    json_array_foreach(json_object_get(w2, "adjustment_list"), i, adj)
    {
        assert_int_equal(num(adj, "original_window"), 1);
        assert_true(strcmp(str(adj, "reversed_at"), "2026-03-02T21:00:00.000000Z") >= 0);
    }
    /* Fees are configured: interchange and bridge-fee lines are not zero. */
    assert_true(
        num(json_array_get(
                json_object_get(json_array_get(json_object_get(w1, "schemes"), 0), "participants"),
                0),
            "bridge_fees") < 0);

    /* The same seed: settlement.json is the same bytes. */
    snprintf(out, sizeof(out), "%s/cutover-b", tmpdir);
    run("configs/scenarios/cutover-in-flight.yaml", out, &b);
    assert_string_equal(a.text, b.text);
    run_free(&a);
    run_free(&b);
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
        cmocka_unit_test(default_scenario_settles),
        cmocka_unit_test(cutover_in_flight),
    };

    snprintf(root, sizeof(root), "%s", r ? r : ".");
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/bridgesim-settlement-XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    return cmocka_run_group_tests_name("settlement_runs", tests, NULL, cleanup);
}
