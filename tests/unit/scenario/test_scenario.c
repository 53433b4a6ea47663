/*
 * Unit tests of the scenario loader (sim/scenario/): the default scenario's exact values,
 * defaults, every error class with its file:line:column text, suggestions, --set,
 * extends, distributions, every shipped scenario, and hostile input.
 *
 * Scenario snippets are written to a fresh temporary directory; allocations of the loader
 * go through cmocka's leak-checking allocator.
 */
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "scenario/sc_internal.h"
#include "scenario/scenario.h"

static char tmpdir[1024];
static char errbuf[16384];

/* ---- fixtures ------------------------------------------------------------------------- */

static void *t_malloc(size_t n)
{
    return test_malloc(n);
}

static void *t_calloc(size_t n, size_t size)
{
    return test_calloc(n, size);
}

static void *t_realloc(void *p, size_t n)
{
    return test_realloc(p, n);
}

static void t_free(void *p)
{
    test_free(p);
}

/* A path inside the temporary directory (static buffer: valid until the next call). */
static const char *tpath(const char *name)
{
    static char buf[2][PATH_MAX];
    static int which;

    which ^= 1;
    snprintf(buf[which], sizeof(buf[which]), "%s/%s", tmpdir, name);
    return buf[which];
}

static const char *write_file(const char *name, const char *text)
{
    const char *p = tpath(name);
    FILE *f = fopen(p, "wb");

    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
    assert_int_equal(fclose(f), 0);
    return p;
}

/* A minimal valid scenario: everything optional is left to its default. */
static const char base_yaml[] =
    "networks:\n"
    "  mir:\n"
    "    currency: RUB\n"
    "    switch: {inst_id: \"1001\"}\n"
    "    issuers:\n"
    "      - {id: MB1, inst_id: \"2001\", bins: [\"2200-2204\"], cards: 10, balance: 100000}\n"
    "    acquirers:\n"
    "      - {id: MA1, inst_id: \"3001\", terminals: 2}\n"
    "  shetab:\n"
    "    currency: {code: IRR, exponent: 0}\n"
    "    switch: {inst_id: \"1002\"}\n"
    "    issuers:\n"
    "      - {id: SB1, inst_id: \"2002\", bins: [\"603799\"], cards: 10, balance: 100000}\n"
    "    acquirers:\n"
    "      - {id: SA1, inst_id: \"3002\", terminals: 2}\n"
    "bridge:\n"
    "  inst_id: {mir: \"9001\", shetab: \"9002\"}\n"
    "  fx: {pair: RUB/IRR, rate: \"4510.25\"}\n"
    "links:\n"
    "  list:\n"
    "    - {between: [mir.switch, bridge], latency: 30ms}\n"
    "    - {between: [bridge, shetab.switch], latency: {dist: normal, mean: 40ms, sigma: 8ms}}\n"
    "workload:\n"
    "  rate_tps: 10\n"
    "  count: 100\n"
    "  flows:\n"
    "    - {from: shetab, cards: mir, amount: 100000}\n"
    "    - {from: mir, cards: shetab, amount: 1000}\n";

static int group_setup(void **state)
{
    static const struct bs_allocator a = { t_malloc, t_calloc, t_realloc, t_free };

    (void)state;
    snprintf(tmpdir, sizeof(tmpdir), "%s/bs-scenario-XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(tmpdir))
        return -1;
    bs_set_allocator(&a);
    write_file("base.yaml", base_yaml);
    return 0;
}

static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(p);
}

static int group_teardown(void **state)
{
    (void)state;
    bs_set_allocator(NULL);
    return nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- helpers ------------------------------------------------------------------------- */

static int load(const char *path, const char *const *sets, size_t nsets, struct bs_scenario **ret)
{
    errbuf[0] = '\0';
    return bs_scenario_load(path, sets, nsets, ret, errbuf, sizeof(errbuf));
}

static struct bs_scenario *load_ok(const char *path, const char *const *sets, size_t nsets)
{
    struct bs_scenario *sc = NULL;
    int rc = load(path, sets, nsets, &sc);

    if (rc != 0)
        fail_msg("loading %s failed (%d):\n%s", path, rc, errbuf);
    assert_non_null(sc);
    return sc;
}

/* Assert the last error text contains the formatted line. */
static void expect_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void expect_err(const char *fmt, ...)
{
    char want[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(want, sizeof(want), fmt, ap);
    va_end(ap);
    if (!strstr(errbuf, want)) {
        fprintf(stderr, "expected error\n  %s\ngot\n%s\n", want, errbuf);
        fail_msg("expected error not found (see above)");
    }
}

static size_t count_lines(const char *s)
{
    size_t n = *s ? 1 : 0;

    for (; *s; s++)
        n += *s == '\n';
    return n;
}

/* Load a scenario that extends base.yaml with @body; expect BS_EFORMAT. */
static const char *load_bad(const char *name, const char *body)
{
    struct bs_scenario *sc = NULL;
    const char *p = write_file(name, body);
    int rc = load(p, NULL, 0, &sc);

    if (rc != BS_EFORMAT)
        fail_msg("%s: expected BS_EFORMAT, got %d\n%s", name, rc, errbuf);
    assert_null(sc);
    return p;
}

/* ---- the default scenario ------------------------------------------------------------ */

static const char *source_root(void)
{
    const char *r = getenv("BS_SOURCE_ROOT");

    return r ? r : ".";
}

static void default_scenario_exact(void **state)
{
    char path[PATH_MAX];
    struct bs_scenario *sc;
    const struct bs_sc_network *mir, *sh;
    const struct bs_sc_issuer *is;
    const struct bs_sc_acquirer *aq;
    const struct bs_sc_flow *f;

    (void)state;
    snprintf(path, sizeof(path), "%s/configs/scenarios/mir-shetab.yaml", source_root());
    sc = load_ok(path, NULL, 0);
    assert_string_equal(sc->name, "mir-shetab");
    assert_string_equal(sc->path, path);
    assert_true(sc->seed == 42);
    assert_false(sc->realtime);
    assert_true(sc->start_time == INT64_C(1772442000000000)); /* 2026-03-02T09:00:00Z */
    assert_true(sc->drain == 300 * BS_US_PER_SEC);
    assert_int_equal(sc->sig_alg, BS_SIG_ED25519);

    assert_int_equal(sc->nnetworks, 2);
    mir = &sc->networks[0];
    sh = &sc->networks[1];
    assert_string_equal(mir->name, "mir");
    assert_string_equal(mir->dialect, "mir");
    assert_string_equal(mir->currency.code, "RUB");
    assert_int_equal(mir->currency.numeric, 643);
    assert_int_equal(mir->currency.exponent, 2);
    assert_string_equal(mir->switch_inst_id, "10000000001");
    assert_int_equal(mir->switch_processing.kind, BS_DIST_LOGNORMAL);
    assert_true(mir->switch_processing.a == 2000.0);
    assert_true(mir->switch_processing.b == 0.5);
    assert_true(mir->switch_processing.has_max && mir->switch_processing.max == 50000.0);
    assert_false(mir->switch_processing.has_min);
    assert_int_equal(mir->nissuers, 2);
    is = &mir->issuers[0];
    assert_string_equal(is->id, "MIRBANK1");
    assert_string_equal(is->inst_id, "22000000001");
    assert_int_equal(is->nbins, 1);
    assert_true(is->bins[0].lo == 2200 && is->bins[0].hi == 2201);
    assert_int_equal(is->bins[0].digits, 4);
    assert_int_equal(is->cards, 6000);
    assert_int_equal(is->pan_length, 16);
    assert_int_equal(is->balance.kind, BS_DIST_LOGNORMAL);
    assert_true(is->balance.a == 2500000.0 && is->balance.b == 1.2);
    assert_true(is->expired_share == 0.01);
    assert_true(is->processing.a == 8000.0 && is->processing.b == 0.6);
    assert_true(is->processing.has_max && is->processing.max == 2000000.0);
    assert_true(mir->issuers[1].bins[0].lo == 2202 && mir->issuers[1].bins[0].hi == 2204);
    assert_int_equal(mir->nacquirers, 1);
    aq = &mir->acquirers[0];
    assert_string_equal(aq->id, "MIRACQ1");
    assert_string_equal(aq->inst_id, "22100000001");
    assert_int_equal(aq->terminals, 200);
    assert_int_equal(aq->merchants, 80);
    assert_int_equal(aq->mcc, 5411);
    assert_string_equal(aq->location, "MIR ACQ 1 MOSCOW RU");
    assert_int_equal(aq->processing.kind, BS_DIST_CONSTANT);
    assert_true(aq->processing.a == 1000.0);

    assert_string_equal(sh->name, "shetab");
    assert_string_equal(sh->currency.code, "IRR");
    assert_int_equal(sh->currency.numeric, 364);
    assert_int_equal(sh->currency.exponent, 0);
    assert_int_equal(sh->nissuers, 6);
    assert_string_equal(sh->issuers[0].id, "MELLI");
    assert_true(sh->issuers[0].bins[0].lo == 603799 && sh->issuers[0].bins[0].hi == 603799);
    assert_int_equal(sh->issuers[0].bins[0].digits, 6);
    assert_true(sh->issuers[0].balance.a == 900000000.0);
    assert_string_equal(sh->issuers[5].id, "KESHAVARZI");
    assert_true(sh->issuers[5].processing.a == 20000.0);
    assert_string_equal(sh->acquirers[0].location, "SHETAB ACQ 1 TEHRAN IR");

    assert_string_equal(sc->bridge.inst_id[0], "22990000001");
    assert_string_equal(sc->bridge.inst_id[1], "60999900001");
    assert_string_equal(sc->bridge.fx_base, "RUB");
    assert_string_equal(sc->bridge.fx_quote, "IRR");
    assert_true(sc->bridge.rate_num == 451025);
    assert_int_equal(sc->bridge.rate_scale, 2);
    assert_int_equal(sc->bridge.markup_bps, 50);
    assert_true(sc->bridge.processing.a == 1000.0 && sc->bridge.processing.max == 20000.0);

    assert_true(sc->timers[BS_CH_POS].issuer == 8 * BS_US_PER_SEC);
    assert_true(sc->timers[BS_CH_POS].stand_in == 10 * BS_US_PER_SEC);
    assert_true(sc->timers[BS_CH_POS].bridge == 15 * BS_US_PER_SEC);
    assert_true(sc->timers[BS_CH_POS].acquirer == 20 * BS_US_PER_SEC);
    assert_true(sc->timers[BS_CH_POS].terminal == 30 * BS_US_PER_SEC);
    assert_true(sc->timers[BS_CH_ATM].issuer == 20 * BS_US_PER_SEC);
    assert_true(sc->timers[BS_CH_ATM].terminal == 45 * BS_US_PER_SEC);

    assert_int_equal(sc->default_latency.kind, BS_DIST_CONSTANT);
    assert_true(sc->default_latency.a == 1000.0);
    assert_int_equal(sc->nlinks, 6);
    assert_string_equal(sc->links[0].a, "mir.MIRACQ1.terminals");
    assert_string_equal(sc->links[0].b, "mir.MIRACQ1");
    assert_int_equal(sc->links[0].latency.kind, BS_DIST_UNIFORM);
    assert_true(sc->links[0].latency.a == 20000.0 && sc->links[0].latency.b == 60000.0);
    assert_int_equal(sc->links[0].line, 74);
    assert_int_equal(sc->links[0].column, 7);
    assert_string_equal(sc->links[5].a, "bridge");
    assert_string_equal(sc->links[5].b, "shetab.switch");
    assert_int_equal(sc->links[5].latency.kind, BS_DIST_NORMAL);
    assert_true(sc->links[5].latency.a == 40000.0 && sc->links[5].latency.b == 8000.0);
    assert_true(sc->links[5].latency.min == 20000.0 && sc->links[5].latency.max == 120000.0);
    assert_true(sc->links[5].loss == 0.004);
    assert_true(sc->links[4].loss == 0.0);

    assert_true(sc->workload.rate_tps == 40.0);
    assert_true(sc->workload.count == 4800);
    assert_true(sc->workload.duration == 0);
    assert_int_equal(sc->workload.arrivals, BS_ARRIVAL_POISSON);
    assert_int_equal(sc->workload.nflows, 2);
    f = &sc->workload.flows[0];
    assert_int_equal(f->from, 1);
    assert_int_equal(f->cards, 0);
    assert_true(f->share == 0.5);
    assert_true(f->mix[BS_TXN_PURCHASE] == 0.6 && f->mix[BS_TXN_ATM_WITHDRAWAL] == 0.4);
    assert_int_equal(f->amount.kind, BS_DIST_LOGNORMAL);
    assert_true(f->amount.a == 2000000.0 && f->amount.b == 0.9);
    assert_true(f->amount.min == 10000.0 && f->amount.max == 300000000.0);
    assert_true(f->unknown_card_share == 0.005);
    assert_int_equal(sc->workload.flows[1].from, 0);
    assert_int_equal(sc->workload.flows[1].cards, 1);

    assert_int_equal(sc->nexpect, 2);
    assert_string_equal(sc->expect[0].metric, "approval_rate");
    assert_int_equal(sc->expect[0].op, BS_OP_GE);
    assert_true(sc->expect[0].value == 0.80);
    assert_int_equal(sc->expect[0].line, 95);
    assert_string_equal(sc->expect[1].metric, "latency_p99_ms");
    assert_int_equal(sc->expect[1].op, BS_OP_LE);
    assert_true(sc->expect[1].value == 2000.0);
    assert_int_equal(bs_scenario_node_names(sc, NULL, 0), 15);
    bs_scenario_free(sc);
}

static void defaults_applied(void **state)
{
    struct bs_scenario *sc;
    char names[BS_SC_MAX_NODES][BS_SC_NAME_MAX];
    size_t n;

    (void)state;
    sc = load_ok(tpath("base.yaml"), NULL, 0);
    assert_string_equal(sc->name, "base");
    assert_true(sc->seed == 1);
    assert_true(sc->start_time == INT64_C(1767225600000000)); /* 2026-01-01T00:00:00Z */
    assert_true(sc->drain == 300 * BS_US_PER_SEC);
    assert_int_equal(sc->sig_alg, BS_SIG_ED25519);
    assert_string_equal(sc->networks[0].dialect, "mir");
    assert_int_equal(sc->networks[0].currency.exponent, 2);
    assert_int_equal(sc->networks[1].currency.exponent, 0);
    assert_int_equal(sc->networks[0].issuers[0].pan_length, 16);
    assert_int_equal(sc->networks[0].issuers[0].balance.kind, BS_DIST_CONSTANT);
    assert_true(sc->networks[0].issuers[0].balance.a == 100000.0);
    assert_true(sc->networks[0].issuers[0].expired_share == 0.0);
    assert_true(sc->networks[0].issuers[0].processing.a == 1000.0);
    assert_int_equal(sc->networks[0].acquirers[0].merchants, 2);
    assert_int_equal(sc->networks[0].acquirers[0].mcc, 5999);
    assert_string_equal(sc->networks[0].acquirers[0].location, "MA1");
    assert_int_equal(sc->bridge.markup_bps, 0);
    assert_true(sc->timers[BS_CH_POS].issuer == 8 * BS_US_PER_SEC);
    assert_true(sc->timers[BS_CH_ATM].terminal == 45 * BS_US_PER_SEC);
    assert_true(sc->links[0].latency.a == 30000.0);
    assert_true(sc->workload.flows[0].share == 0.5 && sc->workload.flows[1].share == 0.5);
    assert_true(sc->workload.flows[0].mix[BS_TXN_PURCHASE] == 1.0);
    assert_true(sc->workload.flows[0].mix[BS_TXN_ATM_WITHDRAWAL] == 0.0);
    assert_int_equal(sc->nexpect, 0);

    n = bs_scenario_node_names(sc, names, BS_SC_MAX_NODES);
    assert_int_equal(n, 9);
    assert_string_equal(names[0], "mir.switch");
    assert_string_equal(names[1], "mir.MB1");
    assert_string_equal(names[2], "mir.MA1");
    assert_string_equal(names[3], "mir.MA1.terminals");
    assert_string_equal(names[4], "shetab.switch");
    assert_string_equal(names[8], "bridge");
    assert_int_equal(bs_scenario_node_names(sc, names, 2), 9);
    bs_scenario_free(sc);
}

/* ---- error classes ------------------------------------------------------------------- */

static void unknown_key_suggested(void **state)
{
    const char *p;

    (void)state;
    p = load_bad("k1.yaml", "extends: base.yaml\n"
                            "links:\n"
                            "  list:\n"
                            "    - {between: [mir.switch, bridge], laytency: 5ms}\n"
                            "nmae: x\n"
                            "workload: {rate_tsp: 5}\n");
    expect_err("%s:4:39: unknown key 'laytency' in links.list.0; did you mean 'latency'?", p);
    expect_err("%s:5:1: unknown key 'nmae' at the top level; did you mean 'name'?", p);
    expect_err("%s:6:12: unknown key 'rate_tsp' in workload; did you mean 'rate_tps'?", p);
    /* Errors come sorted by position, one per line. */
    assert_int_equal(count_lines(errbuf), 3);
    assert_true(strstr(errbuf, ":4:39:") < strstr(errbuf, ":5:1:"));

    p = load_bad("k2.yaml", "extends: base.yaml\nzzzzzz: 1\n");
    expect_err("%s:2:1: unknown key 'zzzzzz' at the top level; valid keys: extends, name, seed", p);
}

static void wrong_types(void **state)
{
    const char *p;

    (void)state;
    p = load_bad("t1.yaml", "extends: base.yaml\n"
                            "seed: abc\n"
                            "workload: {rate_tps: fast}\n"
                            "time: {drain: 5}\n"
                            "signing: {algorithm: ed2551}\n");
    expect_err("%s:2:7: seed: expected an integer, got 'abc'", p);
    expect_err("%s:3:22: workload.rate_tps: expected a number, got 'fast'", p);
    expect_err("%s:4:15: time.drain: '5' needs a unit: us, ms, s, min or h (e.g. '5ms')", p);
    expect_err("%s:5:22: signing.algorithm: unknown value 'ed2551'; did you mean 'ed25519'?", p);

    /* A quoted number is a string. */
    p = load_bad("t2.yaml", "extends: base.yaml\nseed: \"7\"\nnetworks: {mir: [1]}\n");
    expect_err("%s:2:7: seed: expected an integer, got the quoted string '7'", p);
    expect_err("%s:3:17: networks.mir: expected a mapping, got a list", p);
}

static void out_of_range(void **state)
{
    const char *p;

    (void)state;
    p = load_bad("r1.yaml", "extends: base.yaml\n"
                            "links:\n"
                            "  list:\n"
                            "    - {between: [mir.switch, bridge], loss: 1.5}\n"
                            "    - {between: [mir.MA1, mir.switch], latency: -3ms}\n"
                            "workload:\n"
                            "  count: 0\n"
                            "  flows:\n"
                            "    - {from: shetab, cards: mir, amount: 100000, share: 0.5}\n"
                            "    - {from: mir, cards: shetab, amount: 1000, share: 0.6,\n"
                            "       mix: {purchase: 0.5, atm_withdrawal: 0.6}}\n");
    expect_err("%s:4:45: links.list.0.loss: 1.5 is out of range [0, 1]", p);
    expect_err("%s:5:49: links.list.1.latency: negative time '-3ms'", p);
    expect_err("%s:7:10: workload: set count (transactions to offer) or duration; both are 0 or "
               "omitted",
               p);
    expect_err("%s:9:5: workload.flows: shares sum to 1.1, not 1", p);
    expect_err("%s:11:13: workload.flows.1.mix: shares sum to 1.1, not 1", p);

    p = load_bad("r2.yaml",
                 "extends: base.yaml\n"
                 "networks:\n"
                 "  mir:\n"
                 "    issuers:\n"
                 "      - {id: MB1, inst_id: \"2001\", bins: [\"2200\"], cards: 0, balance: 1,\n"
                 "         expired_share: -0.1, pan_length: 15}\n");
    expect_err("%s:5:59: networks.mir.issuers.0.cards: 0 is out of range [1, 10000000]", p);
    expect_err("%s:6:25: networks.mir.issuers.0.expired_share: -0.1 is out of range [0, 1]", p);
    expect_err("%s:6:43: networks.mir.issuers.0.pan_length: 15 is out of range [16, 19]", p);
}

static void currencies(void **state)
{
    struct bs_scenario *sc;
    const char *p;
    const char *const sets[] = { "networks.shetab.currency.exponent=2" };

    (void)state;
    p = load_bad("c1.yaml", "extends: base.yaml\n"
                            "networks:\n"
                            "  mir: {currency: RUR}\n"
                            "  shetab: {currency: {code: IRR, exponent: 3}}\n");
    expect_err("%s:3:19: networks.mir.currency: unknown currency 'RUR'; did you mean 'RUB'?", p);
    expect_err("%s:4:44: networks.shetab.currency.exponent: IRR uses exponent 2 (ISO 4217) or 0 "
               "(whole units), not 3",
               p);

    /* IRR at ISO's exponent 2 is allowed too. */
    sc = load_ok(tpath("base.yaml"), sets, 1);
    assert_int_equal(sc->networks[1].currency.exponent, 2);
    assert_int_equal(sc->networks[1].currency.numeric, 364);
    bs_scenario_free(sc);

    p = load_bad("c2.yaml", "extends: base.yaml\n"
                            "networks:\n"
                            "  mir: {currency: {code: USD}}\n"
                            "  shetab: {currency: EUR}\n");
    /* Known codes, but the FX pair no longer joins the networks' currencies. */
    expect_err("bridge.fx.pair: the pair must join the networks' currencies USD and EUR, got "
               "RUB/IRR");
    (void)p;
}

static void bins_and_ids(void **state)
{
    const char *p;

    (void)state;
    p = load_bad(
        "b1.yaml",
        "extends: base.yaml\n"
        "networks:\n"
        "  mir:\n"
        "    issuers:\n"
        "      - {id: MB1, inst_id: \"2001\", cards: 1, balance: 1,\n"
        "         bins: [\"2200-22040\", \"2204-2200\", \"22A0\", \"123456789\", 603799]}\n"
        "      - {id: MB1, inst_id: \"123456789012\", cards: 1, balance: 1, bins: [55]}\n"
        "      - {id: 1X, inst_id: \"12a\", cards: 1, balance: 1, bins: [56]}\n");
    expect_err("%s:6:17: networks.mir.issuers.0.bins.0: both ends of BIN range '2200-22040' need "
               "the same number of digits (4 and 5)",
               p);
    expect_err("%s:6:31: networks.mir.issuers.0.bins.1: BIN range '2204-2200' runs backwards", p);
    expect_err("%s:6:44: networks.mir.issuers.0.bins.2: expected a BIN like \"603799\" or a range "
               "like \"2200-2204\", got the quoted string '22A0'",
               p);
    expect_err("%s:6:52: networks.mir.issuers.0.bins.3: BIN '123456789' is longer than 8 digits",
               p);
    /* 603799 is Melli's in the other network: routing by BIN would be ambiguous. */
    expect_err("networks.shetab.issuers.0.bins: BIN range of SB1 overlaps one of mir.MB1; card "
               "routing by BIN would be ambiguous");
    expect_err("%s:7:28: networks.mir.issuers.1.inst_id: institution id '123456789012' must be 1 "
               "to 11 digits",
               p);
    expect_err("%s:7:14: networks.mir: duplicate id 'MB1' (first used at line 5)", p);
    expect_err("%s:8:14: networks.mir.issuers.2.id: '1X' is not a valid issuer id", p);
    expect_err("%s:8:27: networks.mir.issuers.2.inst_id: institution id '12a' must be 1 to 11 "
               "digits",
               p);

    p = load_bad("b2.yaml", "extends: base.yaml\n"
                            "networks:\n"
                            "  mir:\n"
                            "    acquirers:\n"
                            "      - {id: MA1, inst_id: \"2001\", terminals: 0}\n");
    expect_err("%s:5:47: networks.mir.acquirers.0.terminals: 0 is out of range [1, 1000000]", p);
    expect_err("networks.mir: 'MB1' and 'MA1' share institution id 2001");
}

static void link_endpoints(void **state)
{
    const char *p;

    (void)state;
    p = load_bad("l1.yaml", "extends: base.yaml\n"
                            "links:\n"
                            "  list:\n"
                            "    - {between: [bridge, shetab.swich]}\n"
                            "    - {between: [mir.MA1.terminal, mir.MA1]}\n"
                            "    - {between: [nowhere.at.all, bridge]}\n"
                            "    - {between: [bridge, bridge]}\n"
                            "    - {between: [mir.switch, bridge]}\n"
                            "    - {between: [bridge, mir.switch]}\n");
    expect_err("%s:4:26: link endpoint 'shetab.swich' is not a node; did you mean "
               "'shetab.switch'?",
               p);
    expect_err("%s:5:18: link endpoint 'mir.MA1.terminal' is not a node; did you mean "
               "'mir.MA1.terminals'?",
               p);
    expect_err("%s:6:18: link endpoint 'nowhere.at.all' is not a node; nodes are <net>.switch", p);
    expect_err("%s:7:17: links.list.3.between: a link joins two different nodes", p);
    expect_err("%s:9:7: links.list.5: duplicate link between 'bridge' and 'mir.switch' (first at "
               "line 8)",
               p);
}

/* ---- link impairments and per-MTI processing (issue #5 §1, §2) ------------------------- */

/* Every new link key and per-MTI processing, loaded into the values the engine uses. */
static void link_impairments_load(void **state)
{
    struct bs_scenario *sc;
    const struct bs_sc_link *lk;

    (void)state;
    write_file("lat.csv", "# measured\n"
                          "latency_ms\n"
                          "30\n"
                          "\n"
                          "10.5\n"
                          "20\r\n");
    write_file("two.csv", "id,delay_us\n1,700\n2,300\n");
    sc = load_ok(write_file("li.yaml",
                            "extends: base.yaml\n"
                            "links:\n"
                            "  list:\n"
                            "    - {between: [mir.switch, bridge],\n"
                            "       latency: {a_to_b: 12ms, b_to_a: {dist: empirical, file: "
                            "lat.csv, max: 25ms}},\n"
                            "       correlation: 0.8,\n"
                            "       loss: {model: gilbert-elliott, p: 0.01, r: 0.25},\n"
                            "       capacity: {max_in_flight: 64, overflow: backpressure,\n"
                            "                  bytes_per_s: 125000}}\n"
                            "    - {between: [bridge, shetab.switch],\n"
                            "       latency: {dist: empirical, file: two.csv, column: delay_us},\n"
                            "       loss: {model: gilbert-elliott, p: 0.1, r: 0.5, loss_good: "
                            "0.01, loss_bad: 0.7},\n"
                            "       capacity: {max_in_flight: 8, queue_limit: 0, overflow: "
                            "backpressure}}\n"
                            "    - {between: [shetab.switch, shetab.SB1], capacity: "
                            "{max_in_flight: 3}}\n"
                            "bridge:\n"
                            "  processing: {default: 2ms, \"0100\": {dist: uniform, low: 5ms, "
                            "high: 7ms}, \"0420\": 9ms}\n"
                            "faults:\n"
                            "  - {kind: loss, link: [bridge, mir.switch], loss: {model: "
                            "gilbert-elliott, p: 0.02, r: 0.4, loss_bad: 0.9}}\n"),
                 NULL, 0);
    lk = &sc->links[0];
    assert_true(lk->split);
    assert_int_equal(lk->latency.kind, BS_DIST_CONSTANT);
    assert_true(lk->latency.a == 12000);
    assert_int_equal(lk->latency_ba.kind, BS_DIST_EMPIRICAL);
    assert_int_equal(lk->latency_ba.nsamples, 3);
    /* Ascending, in µs, with CR LF and blank and comment lines handled. */
    assert_true(lk->latency_ba.samples[0] == 10500 && lk->latency_ba.samples[1] == 20000 &&
                lk->latency_ba.samples[2] == 30000);
    assert_true(lk->latency_ba.has_max && lk->latency_ba.max == 25000);
    assert_true(lk->correlation == 0.8);
    assert_true(lk->ge.enabled && lk->ge.p == 0.01 && lk->ge.r == 0.25);
    assert_true(lk->ge.loss_good == 0 && lk->ge.loss_bad == 1);
    assert_true(lk->loss == 0);
    assert_int_equal(lk->cap.max_in_flight, 64);
    assert_true(lk->cap.backpressure);
    assert_int_equal(lk->cap.queue_limit, 1000); /* the documented default */
    assert_int_equal(lk->cap.bytes_per_s, 125000);
    lk = &sc->links[1];
    assert_false(lk->split);
    assert_int_equal(lk->latency.nsamples, 2);
    assert_true(lk->latency.samples[0] == 300 && lk->latency.samples[1] == 700);
    assert_true(lk->ge.loss_good == 0.01 && lk->ge.loss_bad == 0.7);
    assert_int_equal(lk->cap.queue_limit, 0);
    lk = &sc->links[2];
    assert_int_equal(lk->cap.max_in_flight, 3);
    assert_false(lk->cap.backpressure);
    assert_int_equal(lk->cap.bytes_per_s, 0);
    assert_int_equal(sc->nempirical, 2);
    assert_true(sc->bridge.processing.a == 2000);
    assert_int_equal(sc->bridge.processing_mti.n, 2);
    assert_string_equal(sc->bridge.processing_mti.mti[0], "0100");
    assert_int_equal(sc->bridge.processing_mti.d[0].kind, BS_DIST_UNIFORM);
    assert_true(sc->bridge.processing_mti.d[1].a == 9000);
    assert_int_equal(sc->networks[0].issuers[0].processing_mti.n, 0);
    assert_true(sc->faults[0].ge.enabled && sc->faults[0].ge.loss_bad == 0.9);
    bs_scenario_free(sc);

    /* Extending a file whose processing is a distribution: MTI keys merge beside it and
     * it stays the default; an explicit default wins over the merged inline keys. */
    write_file("pbase.yaml", "extends: base.yaml\n"
                             "bridge:\n"
                             "  processing: {dist: lognormal, median: 2ms, sigma: 0.5}\n"
                             "networks:\n"
                             "  mir:\n"
                             "    switch: {inst_id: \"1001\", processing: {dist: constant, value: "
                             "4ms}}\n");
    sc = load_ok(write_file("pext.yaml",
                            "extends: pbase.yaml\n"
                            "bridge:\n"
                            "  processing: {\"0420\": 300us}\n"
                            "networks:\n"
                            "  mir:\n"
                            "    switch: {processing: {default: 1ms, \"0100\": 6ms}}\n"),
                 NULL, 0);
    assert_int_equal(sc->bridge.processing.kind, BS_DIST_LOGNORMAL);
    assert_true(sc->bridge.processing.a == 2000);
    assert_int_equal(sc->bridge.processing_mti.n, 1);
    assert_true(sc->bridge.processing_mti.d[0].a == 300);
    assert_int_equal(sc->networks[0].switch_processing.kind, BS_DIST_CONSTANT);
    assert_true(sc->networks[0].switch_processing.a == 1000);
    assert_int_equal(sc->networks[0].switch_processing_mti.n, 1);
    assert_string_equal(sc->networks[0].switch_processing_mti.mti[0], "0100");
    bs_scenario_free(sc);
}

/* Every new key's bad values: file:line:column, what is wrong and how to fix it. */
static void link_impairments_errors(void **state)
{
    const char *p;

    (void)state;
    p = load_bad("lie.yaml",
                 "extends: base.yaml\n"
                 "links:\n"
                 "  list:\n"
                 "    - {between: [mir.switch, bridge], latency: {a_to_b: 5ms}}\n"
                 "    - {between: [bridge, shetab.switch], correlation: 1}\n"
                 "    - {between: [mir.switch, mir.MB1], loss: {model: gilbert-elliott, p: 0.1}}\n"
                 "    - {between: [mir.switch, mir.MA1], loss: {model: gilbert, p: 0.1}}\n"
                 "    - {between: [shetab.switch, shetab.SB1], capacity: {overflow: drop}}\n"
                 "    - {between: [shetab.switch, shetab.SA1], capacity: {max_in_flight: 0}}\n"
                 "    - {between: [mir.MA1, mir.MA1.terminals], capacity: {max_in_flight: 2, "
                 "queue_limit: 5}}\n"
                 "    - {between: [shetab.SA1, shetab.SA1.terminals], capacity: {}}\n"
                 "bridge:\n"
                 "  processing: {default: 2ms, \"01000\": 3ms, \"0200\": {dist: nope}}\n"
                 "faults:\n"
                 "  - {kind: delay, delay: 1ms, loss: {model: gilbert-elliott, p: 0.1, r: 0.1}}\n"
                 "  - {kind: loss, loss: {model: bernoulli, p: 0.1}}\n");
    expect_err("%s:4:48: links.list.0.latency: missing required key 'b_to_a'", p);
    expect_err("%s:5:55: links.list.1.correlation: must be below 1", p);
    expect_err("%s:6:46: links.list.2.loss: missing required key 'r'", p);
    expect_err("%s:7:54: links.list.3.loss.model: unknown value 'gilbert'; one of: bernoulli, "
               "gilbert-elliott",
               p);
    expect_err("%s:8:56: links.list.4.capacity: 'overflow' needs 'max_in_flight'", p);
    expect_err("%s:9:72: links.list.5.capacity.max_in_flight: 0 is out of range [1, 100000]", p);
    expect_err("%s:10:89: links.list.6.capacity.queue_limit: only a backpressure queue has a "
               "limit",
               p);
    expect_err("%s:11:63: links.list.7.capacity: give max_in_flight and/or bytes_per_s", p);
    expect_err("%s:13:30: unknown key '01000' in bridge.processing; expected 'dist'", p);
    expect_err("%s:13:59: bridge.processing.0200.dist: unknown value 'nope'", p);
    expect_err("%s:15:37: faults.0.loss: only a loss fault has a loss model", p);
    expect_err("%s:16:24: faults.1.loss: a loss fault's Bernoulli probability is the fault's 'p'",
               p);
}

/* A bad CSV file of an empirical distribution: the `file` key's position and the CSV line. */
static void empirical_csv_errors(void **state)
{
    char p[PATH_MAX];

    (void)state;
    write_file("bad1.csv", "latency_ms\n12\n13\nfast\n");
    write_file("bad2.csv", "latency\n12\n");
    write_file("bad3.csv", "a_ms,b_ms\n1,2\n3\n");
    write_file("bad4.csv", "# only a header\nlatency_ms\n\n");
    write_file("bad5.csv", "latency_ms\n-3\n");
    snprintf(
        p, sizeof(p), "%s",
        load_bad(
            "emp.yaml",
            "extends: base.yaml\n"
            "links:\n"
            "  list:\n"
            "    - {between: [mir.switch, bridge], latency: {dist: empirical, file: bad1.csv}}\n"
            "    - {between: [bridge, shetab.switch], latency: {dist: empirical, file: bad2.csv}}\n"
            "    - {between: [mir.switch, mir.MB1], latency: {dist: empirical, file: bad3.csv}}\n"
            "    - {between: [mir.switch, mir.MA1], latency: {dist: empirical, file: bad3.csv, "
            "column: b_ms}}\n"
            "    - {between: [shetab.switch, shetab.SB1], latency: {dist: empirical, file: "
            "bad4.csv}}\n"
            "    - {between: [shetab.switch, shetab.SA1], latency: {dist: empirical, file: "
            "bad5.csv}}\n"
            "    - {between: [mir.MA1, mir.MA1.terminals], latency: {dist: empirical, file: "
            "missing.csv}}\n"
            "workload:\n"
            "  rate_tps: 10\n"
            "  count: 100\n"
            "  flows:\n"
            "    - {from: shetab, cards: mir, amount: {dist: empirical, file: bad1.csv}}\n"
            "    - {from: mir, cards: shetab, amount: 1000}\n"));
    expect_err("%s:4:72: links.list.0.latency.file: %s line 4: 'fast' in column latency_ms is not "
               "a number ≥ 0; fix the CSV file",
               p, tpath("bad1.csv"));
    expect_err("%s:5:75: links.list.1.latency.file: %s line 1: column 'latency' has no unit; end "
               "its name with _us, _ms or _s",
               p, tpath("bad2.csv"));
    expect_err("%s:6:73: links.list.2.latency.file: %s line 1: the file has 2 columns; say which "
               "with 'column: NAME'",
               p, tpath("bad3.csv"));
    expect_err("%s:7:73: links.list.3.latency.file: %s line 3: 1 fields where the header has 2", p,
               tpath("bad3.csv"));
    expect_err("%s:8:79: links.list.4.latency.file: %s line 3: the file ends without a sample "
               "after the header",
               p, tpath("bad4.csv"));
    expect_err("%s:9:79: links.list.5.latency.file: %s line 2: '-3' in column latency_ms", p,
               tpath("bad5.csv"));
    expect_err("%s:10:80: links.list.6.latency.file: cannot read '%s': No such file", p,
               tpath("missing.csv"));
    expect_err("%s:15:49: workload.flows.0.amount: empirical distributions are for times", p);

    /* A 0-byte file has no line at all (it crashed the parser once). */
    write_file("empty.csv", "");
    snprintf(p, sizeof(p), "%s",
             load_bad("emp0.yaml", "extends: base.yaml\n"
                                   "links:\n"
                                   "  list:\n"
                                   "    - {between: [mir.switch, bridge], latency: {dist: "
                                   "empirical, file: empty.csv}}\n"));
    expect_err("%s:4:72: links.list.0.latency.file: %s no header line", p, tpath("empty.csv"));
}

static void timers_nest(void **state)
{
    const char *p;

    (void)state;
    p = load_bad("tm1.yaml",
                 "extends: base.yaml\n"
                 "timers:\n"
                 "  pos: {bridge: 15s, acquirer: 12s}\n"
                 "  atm: {issuer: 30s, stand_in: 0.5min, bridge: 1min, acquirer: 1.5s}\n");
    expect_err("%s:3:32: timers.pos: bridge (15s) must be shorter than acquirer (12s)", p);
    expect_err("%s:4:32: timers.atm: issuer (30s) must be shorter than stand_in (30s)", p);
    expect_err("%s:4:64: timers.atm: bridge (1min) must be shorter than acquirer (1500ms)", p);
    assert_null(strstr(errbuf, "acquirer (1500ms) must be shorter than terminal"));

    p = load_bad("tm2.yaml", "extends: base.yaml\ntimers: {pos: {issuer: 0s}, ATM: {}}\n");
    expect_err("%s:2:24: timers.pos.issuer: must be longer than 0", p);
    expect_err("%s:2:29: unknown key 'ATM' in timers; did you mean 'atm'?", p);
}

static void flows_networks(void **state)
{
    const char *p;

    (void)state;
    p = load_bad("f1.yaml", "extends: base.yaml\n"
                            "workload:\n"
                            "  flows:\n"
                            "    - {from: mri, cards: shetab, amount: 1000}\n"
                            "    - {from: mir, cards: mir, amount: 1000}\n"
                            "    - {from: shetab, cards: mir, amount: {dist: constant, value: 5, "
                            "currency: RUB}}\n");
    expect_err("%s:4:14: workload.flows.0.from: 'mri' is not a network of this scenario; did you "
               "mean 'mir'?",
               p);
    expect_err("%s:5:26: workload.flows.1: a flow must be cross-network: from and cards are both "
               "'mir'",
               p);
    expect_err("%s:6:79: workload.flows.2.amount.currency: amounts are in the acquirer's currency "
               "IRR (network "
               "'shetab'), not RUB",
               p);
}

static void distributions_checked(void **state)
{
    const char *p;

    (void)state;
    p = load_bad("d1.yaml",
                 "extends: base.yaml\n"
                 "links:\n"
                 "  list:\n"
                 "    - {between: [mir.switch, bridge], latency: {dist: gaussian, mean: 1ms}}\n"
                 "    - {between: [bridge, shetab.switch], latency: {dist: uniform, low: 9ms, "
                 "high: 2ms}}\n"
                 "    - {between: [mir.MA1, mir.switch], latency: {dist: lognormal, median: 5ms}}\n"
                 "    - {between: [mir.MB1, mir.switch], latency: {dist: normal, mean: 5ms, "
                 "sigma: 1ms, min: 9ms, max: 2ms, shape: 1}}\n");
    expect_err("%s:4:55: links.list.0.latency.dist: unknown value 'gaussian'", p);
    expect_err("%s:5:51: links.list.1.latency: low must not exceed high", p);
    expect_err("%s:6:49: links.list.2.latency: lognormal needs sigma (of ln X) or p99", p);
    expect_err("%s:7:49: links.list.3.latency: min must not exceed max", p);
    expect_err("%s:7:107: unknown key 'shape' in links.list.3.latency", p);

    p = load_bad("d2.yaml", "extends: base.yaml\n"
                            "networks:\n"
                            "  mir:\n"
                            "    issuers:\n"
                            "      - {id: MB1, inst_id: \"2001\", bins: [\"2200\"], cards: 1,\n"
                            "         balance: {dist: exponential, mean: 2.5}}\n");
    expect_err("%s:6:45: networks.mir.issuers.0.balance.mean: expected an integer amount in "
               "minor units, got '2.5'",
               p);
}

static void expectations(void **state)
{
    struct bs_scenario *sc;
    const char *p;

    (void)state;
    p = write_file("e1.yaml", "extends: base.yaml\n"
                              "expect:\n"
                              "  approval_rate: \">= 93%\"\n"
                              "  latency_p99_ms: \"<= 2s\"\n"
                              "  latency_p50_ms: \"< 35\"\n"
                              "  transactions: \"== 100\"\n"
                              "  timeout_rate: \"> 0.001\"\n"
                              "  invariants: all\n");
    sc = load_ok(p, NULL, 0);
    assert_int_equal(sc->nexpect, 5);
    assert_int_equal(sc->expect[0].op, BS_OP_GE);
    assert_true(fabs(sc->expect[0].value - 0.93) < 1e-12);
    assert_int_equal(sc->expect[1].op, BS_OP_LE);
    assert_true(sc->expect[1].value == 2000.0);
    assert_int_equal(sc->expect[2].op, BS_OP_LT);
    assert_true(sc->expect[2].value == 35.0);
    assert_int_equal(sc->expect[3].op, BS_OP_EQ);
    assert_true(sc->expect[3].value == 100.0);
    assert_int_equal(sc->expect[4].op, BS_OP_GT);
    assert_int_equal(sc->expect[4].line, 7);
    assert_int_equal(sc->expect[4].column, 3);
    bs_scenario_free(sc);

    p = load_bad("e2.yaml", "extends: base.yaml\n"
                            "expect:\n"
                            "  aproval_rate: \">= 0.9\"\n"
                            "  latency_p99: \"<= 2s\"\n"
                            "  decline_rate: \"=> 0.1\"\n"
                            "  timeout_rate: \"<= 150%\"\n");
    expect_err("%s:3:3: expect: unknown metric 'aproval_rate'; did you mean 'approval_rate'?", p);
    expect_err("%s:4:3: expect: unknown metric 'latency_p99'; did you mean 'latency_p99_ms'?", p);
    expect_err("%s:5:17: expect.decline_rate: expected \"OP VALUE\" with OP one of >= <= > < ==",
               p);
    expect_err("%s:6:17: expect.timeout_rate: a rate is between 0 and 1", p);
}

static void all_errors_reported(void **state)
{
    char body[8192];
    size_t len;

    (void)state;
    len = (size_t)snprintf(body, sizeof(body), "extends: base.yaml\nexpect:\n");
    for (int i = 0; i < 30; i++)
        len += (size_t)snprintf(body + len, sizeof(body) - len, "  bogus%02d: \">= 1\"\n", i);
    load_bad("many.yaml", body);
    assert_int_equal(count_lines(errbuf), 21);
    expect_err("... and 10 more errors");

    /* A small buffer truncates but stays terminated. */
    {
        struct bs_scenario *sc = NULL;
        char small[40];

        assert_int_equal(bs_scenario_load(tpath("many.yaml"), NULL, 0, &sc, small, sizeof(small)),
                         BS_EFORMAT);
        assert_int_equal(strlen(small), sizeof(small) - 1);
        assert_int_equal(bs_scenario_load(tpath("many.yaml"), NULL, 0, &sc, NULL, 0), BS_EFORMAT);
    }
}

/* ---- --set and extends --------------------------------------------------------------- */

static void set_overrides(void **state)
{
    const char *const sets[] = {
        "seed=7",
        "workload.rate_tps=100",
        "links.list.1.loss=0.01",
        "networks.mir.issuers.0.cards=12",
        "bridge.fx.rate=4600.125",
        "links.list.0.latency={dist: uniform, low: 1ms, high: 3ms}",
        "workload.duration=10min",
        "seed=18446744073709551615",
    };
    struct bs_scenario *sc;

    (void)state;
    sc = load_ok(tpath("base.yaml"), sets, sizeof(sets) / sizeof(sets[0]));
    assert_true(sc->seed == UINT64_MAX);
    assert_true(sc->workload.rate_tps == 100.0);
    assert_true(sc->links[1].loss == 0.01);
    assert_int_equal(sc->networks[0].issuers[0].cards, 12);
    assert_true(sc->bridge.rate_num == 4600125);
    assert_int_equal(sc->bridge.rate_scale, 3);
    assert_int_equal(sc->links[0].latency.kind, BS_DIST_UNIFORM);
    assert_true(sc->links[0].latency.b == 3000.0);
    assert_true(sc->workload.duration == 600 * BS_US_PER_SEC);
    bs_scenario_free(sc);
}

/* The loader accepts exactly the names crypto gives the algorithms. */
static void signing_algorithms(void **state)
{
    (void)state;
    for (int alg = BS_SIG_NONE; alg <= BS_SIG_AES_CMAC; alg++) {
        char set[64];
        const char *sets[1] = { set };
        struct bs_scenario *sc;

        snprintf(set, sizeof(set), "signing={algorithm: %s}",
                 bs_sig_alg_name((enum bs_sig_alg)alg));
        sc = load_ok(tpath("base.yaml"), sets, 1);
        assert_int_equal(sc->sig_alg, alg);
        bs_scenario_free(sc);
    }
}

static void set_errors(void **state)
{
    struct bs_scenario *sc = NULL;
    const char *const bad_path[] = { "networks.mri.issuers.0.cards=1" };
    const char *const bad_index[] = { "networks.mir.issuers.5.cards=1" };
    const char *const not_index[] = { "workload.flows.first.share=1" };
    const char *const below_value[] = { "workload.rate_tps.x=1" };
    const char *const no_eq[] = { "seed" };
    const char *const bad_value[] = { "seed=abc", "workload.rate_tsp=5" };
    const char *const bad_yaml[] = { "links.list.0.loss=[" };

    (void)state;
    assert_int_equal(load(tpath("base.yaml"), bad_path, 1, &sc), BS_EFORMAT);
    expect_err("(--set networks.mri.issuers.0.cards=1):1:10: no key 'mri' under 'networks'; did "
               "you mean 'mir'?");
    assert_int_equal(load(tpath("base.yaml"), bad_index, 1, &sc), BS_EFORMAT);
    expect_err("(--set networks.mir.issuers.5.cards=1):1:22: no item 5 in 'networks.mir.issuers': "
               "it has 1 item");
    assert_int_equal(load(tpath("base.yaml"), not_index, 1, &sc), BS_EFORMAT);
    expect_err("(--set workload.flows.first.share=1):1:16: 'workload.flows' is a list; 'first' is "
               "not an index 0..1");
    assert_int_equal(load(tpath("base.yaml"), below_value, 1, &sc), BS_EFORMAT);
    expect_err("(--set workload.rate_tps.x=1):1:19: 'workload.rate_tps' is a value, not a mapping "
               "or list; no 'x' under it");
    assert_int_equal(load(tpath("base.yaml"), no_eq, 1, &sc), BS_EFORMAT);
    expect_err("(--set seed):1:1: expected 'path.to.key=value'");
    /* Values are validated like the file; a new key is judged by the schema. */
    assert_int_equal(load(tpath("base.yaml"), bad_value, 2, &sc), BS_EFORMAT);
    expect_err("(--set seed=abc):1:6: seed: expected an integer, got 'abc'");
    expect_err("(--set workload.rate_tsp=5):1:10: unknown key 'rate_tsp' in workload; did you mean "
               "'rate_tps'?");
    assert_int_equal(load(tpath("base.yaml"), bad_yaml, 1, &sc), BS_EFORMAT);
    expect_err("(--set links.list.0.loss=[):1:20: YAML syntax error");
    assert_null(sc);
}

static void extends_merges(void **state)
{
    struct bs_scenario *sc;
    const char *p;

    (void)state;
    mkdir(tpath("sub"), 0700);
    p = write_file("sub/child.yaml", "extends: ../base.yaml\n"
                                     "name: child\n"
                                     "seed: 9\n"
                                     "networks:\n"
                                     "  shetab: {currency: {exponent: 2}}\n"
                                     "workload:\n"
                                     "  flows:\n"
                                     "    - {from: mir, cards: shetab, amount: 777}\n");
    sc = load_ok(p, NULL, 0);
    assert_string_equal(sc->name, "child");
    assert_true(sc->seed == 9);
    /* Mappings merge key by key: the base's code survives beside the new exponent. */
    assert_string_equal(sc->networks[1].currency.code, "IRR");
    assert_int_equal(sc->networks[1].currency.exponent, 2);
    assert_int_equal(sc->networks[1].nissuers, 1);
    /* Lists replace; the rest of workload comes from the base. */
    assert_int_equal(sc->workload.nflows, 1);
    assert_true(sc->workload.flows[0].amount.a == 777.0);
    assert_true(sc->workload.flows[0].share == 1.0);
    assert_true(sc->workload.count == 100);
    bs_scenario_free(sc);

    /* Errors in the base name the base file; a missing base names the extends line. */
    p = write_file("sub/broken-base.yaml", "networks: {mir: 1, shetab: 2}\nbogus: 1\n");
    p = load_bad("sub/c2.yaml", "seed: 1\nextends: broken-base.yaml\n");
    expect_err("%s:2:1: unknown key 'bogus' at the top level", tpath("sub/broken-base.yaml"));
    p = load_bad("sub/c3.yaml", "# header\nextends: nope.yaml\n");
    expect_err("%s:2:10: extends: cannot read '%s/sub/nope.yaml': No such file or directory", p,
               tmpdir);
    p = load_bad("loop.yaml", "extends: loop.yaml\n");
    expect_err("%s:1:10: extends: a cycle: %s -> %s; remove one of these extends", p, p, p);
    /* A longer cycle is named file by file, however the path is spelt. */
    {
        char b[PATH_MAX];

        snprintf(b, sizeof(b), "%s", write_file("sub/cyc-b.yaml", "extends: ../cyc-a.yaml\n"));
        p = load_bad("cyc-a.yaml", "extends: sub/cyc-b.yaml\n");
        expect_err("%s:1:10: extends: a cycle: %s -> %s -> %s/sub/../cyc-a.yaml; remove one of "
                   "these extends",
                   b, p, b, tmpdir);
    }
}

/* ---- QA regressions: dialects, bounds, drain, fault links ------------------------------ */

static const char *dialect_dir(void)
{
    static char d[PATH_MAX];

    snprintf(d, sizeof(d), "%s/configs/dialects", source_root());
    return d;
}

/* Dialect paths resolve from the directory of the file naming them (like extends), and an
 * undefined dialect, a missing file and every error inside a dialect file are reported. */
static void dialects_checked(void **state)
{
    char src[PATH_MAX], *text;
    struct bs_scenario *sc;
    const char *p;
    FILE *f;
    long n;

    (void)state;
    snprintf(src, sizeof(src), "%s/mir.yaml", dialect_dir());
    f = fopen(src, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    n = ftell(f);
    rewind(f);
    text = test_malloc((size_t)n + 1);
    assert_int_equal(fread(text, 1, (size_t)n, f), (size_t)n);
    text[n] = '\0';
    fclose(f);
    mkdir(tpath("dsub"), 0700);
    write_file("dsub/my.yaml", text);
    test_free(text);

    p = write_file("dsub/s1.yaml", "extends: ../base.yaml\n"
                                   "networks:\n"
                                   "  mir: {dialect: my.yaml}\n");
    sc = load_ok(p, NULL, 0);
    assert_string_equal(sc->networks[0].dialect, tpath("dsub/my.yaml"));
    assert_string_equal(sc->networks[1].dialect, "shetab");
    assert_int_equal(bs_scenario_check_dialects(sc, dialect_dir(), errbuf, sizeof(errbuf)), 0);
    bs_scenario_free(sc);

    /* A base in another directory: its dialect path is taken from the base's directory. */
    p = write_file("s2.yaml", "extends: dsub/s1.yaml\n");
    sc = load_ok(p, NULL, 0);
    assert_string_equal(sc->networks[0].dialect, tpath("dsub/my.yaml"));
    bs_scenario_free(sc);

    p = write_file("s3.yaml", "extends: base.yaml\n"
                              "networks:\n"
                              "  mir: {dialect: mri}\n"
                              "  shetab: {dialect: nope/x.yaml}\n");
    sc = load_ok(p, NULL, 0);
    assert_int_equal(bs_scenario_check_dialects(sc, dialect_dir(), errbuf, sizeof(errbuf)),
                     BS_EFORMAT);
    expect_err("%s:3:18: networks.mir.dialect: no dialect 'mri' (no %s/mri.yaml); use one of: "
               "iso87-ascii, iso87-binary, mir, shetab, or a path to a dialect file",
               p, dialect_dir());
    expect_err("%s:4:21: networks.shetab.dialect: cannot read dialect file %s: No such file", p,
               tpath("nope/x.yaml"));
    bs_scenario_free(sc);

    /* Every error of a broken dialect file, not only the first. */
    write_file("bad-dialect.yaml", "dialect: x\n"
                                   "mti: foo\n"
                                   "fields:\n"
                                   "  2: {format: q, length: LL, max: 19}\n"
                                   "  3: {format: n, length: fixed}\n");
    p = write_file("s4.yaml", "extends: base.yaml\n"
                              "networks:\n"
                              "  mir: {dialect: bad-dialect.yaml}\n");
    sc = load_ok(p, NULL, 0);
    assert_int_equal(bs_scenario_check_dialects(sc, dialect_dir(), errbuf, sizeof(errbuf)),
                     BS_EFORMAT);
    expect_err("%s:3:18: networks.mir.dialect: dialect %s has errors:", p,
               tpath("bad-dialect.yaml"));
    expect_err("%s:2:6: mti 'foo' is not valid", tpath("bad-dialect.yaml"));
    expect_err("%s:4:15: field 2: format 'q' is not valid", tpath("bad-dialect.yaml"));
    expect_err("%s:5:3: field 3 is fixed but has no 'size'", tpath("bad-dialect.yaml"));
    bs_scenario_free(sc);
}

/* Values that validated but broke every run: they are bounded now (configs/README.md). */
static void run_breaking_values(void **state)
{
    struct bs_scenario *sc;
    const char *p;

    (void)state;
    /* 6000 cards of up to 2^53 overflowed the issuer's ledger ("arithmetic overflow"). */
    p = load_bad("b1.yaml",
                 "extends: base.yaml\n"
                 "networks:\n"
                 "  mir:\n"
                 "    issuers:\n"
                 "      - {id: MB1, inst_id: \"2001\", bins: [\"2200-2204\"], cards: 6000,\n"
                 "         balance: {dist: lognormal, median: 9007199254740992, sigma: 1}}\n");
    expect_err("%s:6:19: networks.mir.issuers.0.balance: a card's opening balance can reach "
               "9007199254740992 minor units, more than the 768614336404564 allowed with 6000 "
               "cards",
               p);
    p = load_bad("b2.yaml", "extends: base.yaml\n"
                            "time: {start: \"9999-12-31T23:00:00Z\", drain: 1s}\n"
                            "workload: {rate_tps: 1e-20}\n");
    expect_err("%s:2:15: time.start: 9999-12-31T23:00:00Z is outside 2000-01-01T00:00:00Z .. "
               "2090-12-31T23:59:59Z",
               p);
    expect_err("%s:3:22: workload.rate_tps: 1e-20 is out of range [0.001, 1e+06]", p);
    expect_err("%s:2:46: time.drain: 1s is shorter than the longest terminal timer "
               "(timers.atm.terminal, 45s)",
               p);
    expect_err("use drain: 45s or more");
    /* At the bounds: fine; an unbounded balance is clamped at its bound. */
    p = write_file("b3.yaml", "extends: base.yaml\n"
                              "time: {start: \"2090-12-31T23:59:59Z\", drain: 45s}\n"
                              "workload: {rate_tps: 0.001}\n"
                              "networks:\n"
                              "  mir:\n"
                              "    issuers:\n"
                              "      - {id: MB1, inst_id: \"2001\", bins: [\"2200-2204\"], "
                              "cards: 10,\n"
                              "         balance: {dist: lognormal, median: 2500000, sigma: 1}}\n");
    sc = load_ok(p, NULL, 0);
    assert_true(sc->networks[0].issuers[0].balance.has_max);
    assert_true(sc->networks[0].issuers[0].balance.max == 9007199254740992.0);
    bs_scenario_free(sc);
}

/* A fault's link must be one messages cross; a crash with an invalid 'for' is named once. */
static void fault_links(void **state)
{
    const char *p;

    (void)state;
    p = load_bad("fl1.yaml", "extends: base.yaml\n"
                             "faults:\n"
                             "  - {kind: loss, link: [bridge, bridge]}\n"
                             "  - {kind: loss, link: [mir.MA1, shetab.switch]}\n"
                             "  - {kind: loss, link: [shetab.switch, mir.switch]}\n"
                             "  - {kind: loss, link: [mir.MA1.terminals, mir.MA1]}\n"
                             "  - {kind: crash, node: bridge, at: 1s, for: -5s}\n");
    expect_err("%s:3:24: faults.0.link: a link joins two different nodes, not 'bridge' to itself",
               p);
    expect_err("%s:4:24: faults.1.link: [mir.MA1, shetab.switch] is not a link of this "
               "scenario, so no message crosses it; use one of: [mir.switch, bridge], "
               "[mir.switch, mir.MB1], [mir.switch, mir.MA1], [mir.MA1, mir.MA1.terminals], "
               "[shetab.switch, bridge]",
               p);
    expect_err("%s:5:24: faults.2.link: [shetab.switch, mir.switch] is not a link", p);
    assert_null(strstr(errbuf, "faults.3"));
    expect_err("%s:7:46: faults.4.for: negative time '-5s'", p);
    assert_null(strstr(errbuf, "a crash needs 'for'"));

    /* links.list pairs are checked the same way: routing is fixed. */
    p = load_bad("fl2.yaml", "extends: base.yaml\n"
                             "links:\n"
                             "  list:\n"
                             "    - {between: [mir.MA1, bridge], latency: 5ms}\n"
                             "    - {between: [mir.MA1.terminals, mir.MA1], latency: 5ms}\n");
    expect_err("%s:4:17: links.list.0.between: [mir.MA1, bridge] is not a link of this scenario",
               p);
    assert_null(strstr(errbuf, "links.list.1"));
}

/* ---- distributions ------------------------------------------------------------------- */

struct rng {
    uint64_t s;
    unsigned calls;
};

/* splitmix64: a fixed, well-mixed stream for the tests. */
static uint64_t rng_next(void *p)
{
    struct rng *r = p;
    uint64_t z = (r->s += UINT64_C(0x9e3779b97f4a7c15));

    r->calls++;
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static void dist_sampling(void **state)
{
    const struct {
        struct bs_dist d;
        unsigned draws;
        double mean, tol;
    } cases[] = {
        { { .kind = BS_DIST_CONSTANT, .a = 5 }, 0, 5, 0 },
        { { .kind = BS_DIST_UNIFORM, .a = 10, .b = 20 }, 1, 15, 0.1 },
        { { .kind = BS_DIST_NORMAL, .a = 100, .b = 10 }, 2, 100, 0.3 },
        { { .kind = BS_DIST_LOGNORMAL, .a = 100, .b = 0.5 }, 2, 100 * exp(0.125), 1.5 },
        { { .kind = BS_DIST_EXPONENTIAL, .a = 50 }, 1, 50, 1.0 },
        { { .kind = BS_DIST_PARETO, .a = 10, .b = 3 }, 1, 15, 0.5 },
    };
    enum { N = 50000 };

    (void)state;
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        struct rng r1 = { 42, 0 }, r2 = { 42, 0 };
        double sum = 0;

        assert_true(fabs(bs_dist_mean(&cases[c].d) - cases[c].mean) < 1e-9);
        for (int i = 0; i < N; i++) {
            double x = bs_dist_sample(&cases[c].d, rng_next, &r1);
            double y = bs_dist_sample(&cases[c].d, rng_next, &r2);

            /* Same stream state, same value, bit for bit. */
            assert_memory_equal(&x, &y, sizeof(x));
            assert_true(x >= 0 && isfinite(x));
            if (cases[c].d.kind == BS_DIST_PARETO)
                assert_true(x >= cases[c].d.a);
            sum += x;
        }
        /* A fixed number of draws per sample. */
        assert_int_equal(r1.calls, cases[c].draws * N);
        if (fabs(sum / N - cases[c].mean) > cases[c].tol)
            fail_msg("dist %zu: sample mean %g, expected %g", c, sum / N, cases[c].mean);
    }
}

static void dist_clamping(void **state)
{
    struct bs_dist clamp = { .kind = BS_DIST_NORMAL,
                             .a = 0,
                             .b = 10,
                             .has_min = true,
                             .min = 1,
                             .has_max = true,
                             .max = 2 };
    struct bs_dist floor0 = { .kind = BS_DIST_NORMAL, .a = 0, .b = 1 };
    struct bs_dist heavy = {
        .kind = BS_DIST_PARETO, .a = 1, .b = 0.001, .has_max = true, .max = 1e6
    };
    struct rng r = { 7, 0 };
    bool saw_min = false, saw_max = false, saw_zero = false;

    (void)state;
    for (int i = 0; i < 10000; i++) {
        double x = bs_dist_sample(&clamp, rng_next, &r);
        double z = bs_dist_sample(&floor0, rng_next, &r);
        double h = bs_dist_sample(&heavy, rng_next, &r);

        assert_true(x >= 1 && x <= 2);
        saw_min |= x == 1;
        saw_max |= x == 2;
        assert_true(z >= 0);
        saw_zero |= z == 0;
        assert_true(h >= 1 && h <= 1e6);
    }
    assert_true(saw_min && saw_max && saw_zero);
    assert_true(isinf(bs_dist_mean(&heavy)));
}

static void lognormal_p99(void **state)
{
    struct bs_scenario *sc;
    const char *const sets[] = {
        "networks.mir.switch.processing={dist: lognormal, median: 2ms, p99: 15ms}",
    };

    (void)state;
    sc = load_ok(tpath("base.yaml"), sets, 1);
    assert_int_equal(sc->networks[0].switch_processing.kind, BS_DIST_LOGNORMAL);
    assert_true(sc->networks[0].switch_processing.a == 2000.0);
    assert_true(fabs(sc->networks[0].switch_processing.b - log(7.5) / 2.3263478740) < 1e-12);
    bs_scenario_free(sc);
}

/* ---- units --------------------------------------------------------------------------- */

/* workload.arrivals: every process, and the errors of each (configs/README.md). */
static void arrival_processes(void **state)
{
    struct bs_scenario *sc;
    const char *p;

    (void)state;
    p = write_file("a-ramp.yaml", "extends: base.yaml\n"
                                  "workload: {arrivals: {process: ramp, to_tps: 80, over: 5min, "
                                  "at: 30s}}\n");
    sc = load_ok(p, NULL, 0);
    assert_int_equal(sc->workload.arrivals, BS_ARRIVAL_RAMP);
    assert_true(sc->workload.rate_tps == 10 && sc->workload.process.to_tps == 80);
    assert_int_equal(sc->workload.process.over, 300 * BS_US_PER_SEC);
    assert_int_equal(sc->workload.process.at, 30 * BS_US_PER_SEC);
    bs_scenario_free(sc);

    p = write_file("a-step.yaml",
                   "extends: base.yaml\n"
                   "workload:\n"
                   "  arrivals:\n"
                   "    process: step\n"
                   "    steps: [{at: 1min, rate_tps: 40}, {at: 2min, rate_tps: 0}]\n");
    sc = load_ok(p, NULL, 0);
    assert_int_equal(sc->workload.arrivals, BS_ARRIVAL_STEP);
    assert_int_equal(sc->workload.process.nsteps, 2);
    assert_int_equal(sc->workload.process.steps[1].at, 120 * BS_US_PER_SEC);
    assert_true(sc->workload.process.steps[0].rate_tps == 40);
    bs_scenario_free(sc);

    p = write_file("a-spike.yaml",
                   "extends: base.yaml\n"
                   "workload: {arrivals: {process: spike, spike_tps: 300, at: 2min, "
                   "for: 20s}}\n");
    sc = load_ok(p, NULL, 0);
    assert_int_equal(sc->workload.arrivals, BS_ARRIVAL_SPIKE);
    assert_true(sc->workload.process.spike_tps == 300);
    assert_int_equal(sc->workload.process.duration, 20 * BS_US_PER_SEC);
    bs_scenario_free(sc);

    p = write_file("a-diurnal.yaml", "extends: base.yaml\n"
                                     "workload: {arrivals: {process: diurnal, peak: \"18:00Z\", "
                                     "trough: \"04:30Z\"}}\n");
    sc = load_ok(p, NULL, 0);
    assert_int_equal(sc->workload.arrivals, BS_ARRIVAL_DIURNAL);
    assert_false(sc->workload.process.has_hourly);
    assert_int_equal(sc->workload.process.peak, 18 * 3600 * BS_US_PER_SEC);
    assert_int_equal(sc->workload.process.trough, 16200 * BS_US_PER_SEC);
    assert_true(sc->workload.process.trough_ratio == 0.1);
    bs_scenario_free(sc);

    p = write_file(
        "a-hourly.yaml",
        "extends: base.yaml\n"
        "workload:\n"
        "  arrivals: {process: diurnal, hourly: [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,\n"
        "                                        1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 3]}\n");
    sc = load_ok(p, NULL, 0);
    assert_true(sc->workload.process.has_hourly && sc->workload.process.hourly[23] == 3);
    bs_scenario_free(sc);

    /* Extending a scenario with another process replaces the base's parameters. */
    p = write_file("a-ext.yaml", "extends: a-spike.yaml\n"
                                 "workload: {arrivals: {process: ramp, to_tps: 5, over: 1min}}\n");
    sc = load_ok(p, NULL, 0);
    assert_int_equal(sc->workload.arrivals, BS_ARRIVAL_RAMP);
    assert_true(sc->workload.process.spike_tps == 0 && sc->workload.process.at == 0);
    bs_scenario_free(sc);
    p = write_file("a-ext2.yaml", "extends: a-spike.yaml\n"
                                  "workload: {arrivals: {for: 40s}}\n");
    sc = load_ok(p, NULL, 0);
    assert_int_equal(sc->workload.process.duration, 40 * BS_US_PER_SEC);
    assert_true(sc->workload.process.spike_tps == 300);
    bs_scenario_free(sc);

    /* The old spellings stay valid. */
    p = write_file("a-const.yaml", "extends: base.yaml\nworkload: {arrivals: constant}\n");
    sc = load_ok(p, NULL, 0);
    assert_int_equal(sc->workload.arrivals, BS_ARRIVAL_CONSTANT);
    bs_scenario_free(sc);

    p = load_bad("a-bad1.yaml", "extends: base.yaml\n"
                                "workload:\n"
                                "  arrivals: {process: ramp, to_tsp: 5, over: 0s}\n");
    expect_err("%s:3:29: unknown key 'to_tsp' in workload.arrivals; did you mean 'to_tps'?", p);
    expect_err("%s:3:13: workload.arrivals: missing required key 'to_tps'", p);
    expect_err("%s:3:46: workload.arrivals.over: must be longer than 0", p);

    p = load_bad("a-bad2.yaml",
                 "extends: base.yaml\n"
                 "workload:\n"
                 "  arrivals:\n"
                 "    process: step\n"
                 "    steps: [{at: 2min, rate_tps: 40}, {at: 1min, rate_tps: -1}]\n");
    expect_err("%s:5:44: workload.arrivals.steps.1.at: steps must be in time order, each later "
               "than the one before",
               p);
    expect_err("%s:5:60: workload.arrivals.steps.1.rate_tps: -1 is out of range [0, 1e+06]", p);

    p = load_bad("a-bad3.yaml", "extends: base.yaml\n"
                                "workload: {arrivals: spike}\n");
    expect_err("%s:2:22: workload.arrivals: spike needs its parameters: write {process: spike, "
               "...}",
               p);

    p = load_bad("a-bad4.yaml", "extends: base.yaml\n"
                                "workload: {arrivals: {process: diurnl}}\n");
    expect_err("%s:2:32: workload.arrivals.process: unknown value 'diurnl'; did you mean "
               "'diurnal'?",
               p);

    p = load_bad("a-bad5.yaml",
                 "extends: base.yaml\n"
                 "workload:\n"
                 "  arrivals: {process: diurnal, peak: \"18:00\", trough: \"18:00Z\",\n"
                 "             hourly: [1, 2]}\n");
    expect_err("%s:4:22: workload.arrivals.hourly: needs 24 multipliers, one per hour from 00 "
               "UTC, found 2",
               p);
    expect_err("%s:3:13: workload.arrivals: give hourly multipliers or peak, trough and "
               "trough_ratio, not both",
               p);

    p = load_bad("a-bad6.yaml",
                 "extends: base.yaml\n"
                 "workload:\n"
                 "  arrivals: {process: diurnal, peak: \"18:00\", trough: \"18:00Z\"}\n");
    expect_err("%s:3:38: workload.arrivals.peak: expected a UTC time of day like \"21:00Z\" or "
               "\"21:00:00Z\", got the quoted string '18:00'",
               p);
    p = load_bad("a-bad7.yaml",
                 "extends: base.yaml\n"
                 "workload:\n"
                 "  arrivals: {process: diurnal, peak: \"18:00Z\", trough: \"18:00Z\"}\n");
    expect_err("%s:3:56: workload.arrivals.trough: the trough must be at another time of day "
               "than the peak",
               p);
}

/* Issuers' blocked shares and daily limits, acquirers' merchant groups, rc_NN metrics. */
static void cards_merchants_rc_metrics(void **state)
{
    struct bs_scenario *sc;
    const struct bs_sc_issuer *is;
    const struct bs_sc_acquirer *aq;
    const char *p;

    (void)state;
    p = write_file("c-ok.yaml",
                   "extends: base.yaml\n"
                   "networks:\n"
                   "  mir:\n"
                   "    issuers:\n"
                   "      - {id: MB1, inst_id: \"2001\", bins: [\"2200-2204\"], cards: 10, "
                   "balance: 100000,\n"
                   "         blocked_share: 0.02, lost_share: 0.01, stolen_share: 0.005,\n"
                   "         daily_limit: {dist: uniform, low: 1000, high: 5000}}\n"
                   "    acquirers:\n"
                   "      - {id: MA1, inst_id: \"3001\", terminals: 20,\n"
                   "         merchants: [{mcc: 5411, count: 8}, {mcc: 6011, count: 2}]}\n"
                   "expect: {rc_61: \">= 1\", rc_05: \"== 0\"}\n");
    sc = load_ok(p, NULL, 0);
    is = &sc->networks[0].issuers[0];
    assert_true(is->blocked_share == 0.02 && is->lost_share == 0.01 && is->stolen_share == 0.005);
    assert_true(is->has_daily_limit && is->daily_limit.kind == BS_DIST_UNIFORM);
    assert_false(sc->networks[1].issuers[0].has_daily_limit);
    aq = &sc->networks[0].acquirers[0];
    assert_int_equal(aq->ngroups, 2);
    assert_int_equal(aq->merchants, 10);
    assert_int_equal(aq->groups[1].mcc, 6011);
    assert_int_equal(aq->groups[1].count, 2);
    assert_int_equal(bs_merchant_mcc(aq->groups, aq->ngroups, 7), 5411);
    assert_int_equal(bs_merchant_mcc(aq->groups, aq->ngroups, 8), 6011);
    assert_int_equal(bs_merchant_mcc(aq->groups, aq->ngroups, 10), 0);
    /* The old keys keep their meaning. */
    assert_int_equal(sc->networks[1].acquirers[0].ngroups, 0);
    assert_int_equal(sc->networks[1].acquirers[0].mcc, 5999);
    assert_int_equal(sc->nexpect, 2);
    assert_string_equal(sc->expect[0].metric, "rc_61");
    bs_scenario_free(sc);

    p = load_bad(
        "c-bad1.yaml",
        "extends: base.yaml\n"
        "networks:\n"
        "  mir:\n"
        "    issuers:\n"
        "      - {id: MB1, inst_id: \"2001\", bins: [\"2200\"], cards: 10, balance: 1,\n"
        "         blocked_share: 0.7, lost_share: 0.4, daily_limt: 5}\n"
        "    acquirers:\n"
        "      - {id: MA1, inst_id: \"3001\", terminals: 4, mcc: 5411,\n"
        "         merchants: [{mcc: 5411, count: 3}, {mcc: 60111, count: 2}, {count: 1}]}\n"
        "expect: {rc_6: \">= 1\", rc_61: \"lots\"}\n");
    expect_err("%s:5:9: networks.mir.issuers.0: blocked_share, lost_share and stolen_share sum to "
               "1.1; a card has one status, so they sum to at most 1",
               p);
    expect_err("%s:6:47: unknown key 'daily_limt' in networks.mir.issuers.0; did you mean "
               "'daily_limit'?",
               p);
    expect_err("%s:8:55: networks.mir.acquirers.0.mcc: with merchant groups each group has its "
               "mcc; remove this one",
               p);
    expect_err("%s:9:51: networks.mir.acquirers.0.merchants.1.mcc: 60111 is out of range [0, 9999]",
               p);
    expect_err("%s:9:69: networks.mir.acquirers.0.merchants.2: missing required key 'mcc'", p);
    expect_err("%s:10:10: expect: unknown metric 'rc_6'; a response code count is rc_ and two "
               "digits, like rc_61",
               p);
    expect_err("%s:10:31: expect.rc_61: expected \"OP VALUE\"", p);

    /* More merchants than terminals. */
    p = load_bad("c-bad2.yaml",
                 "extends: base.yaml\n"
                 "networks:\n"
                 "  mir:\n"
                 "    acquirers:\n"
                 "      - {id: MA1, inst_id: \"3001\", terminals: 4,\n"
                 "         merchants: [{mcc: 5411, count: 3}, {mcc: 6011, count: 2}]}\n");
    expect_err("%s:6:21: networks.mir.acquirers.0.merchants: 5 merchants cannot share 4 terminals",
               p);
}

static void exact_units(void **state)
{
    int64_t q, num;
    unsigned scale;
    uint8_t rs;
    bs_time_us t;

    (void)state;
    assert_int_equal(bs__parse_duration("1.5s", false, &q, &scale), 0);
    assert_true(q == 1500000 && scale == 0);
    assert_int_equal(bs__parse_duration("35", true, &q, &scale), 0);
    assert_true(q == 35000 && scale == 0);
    assert_int_equal(bs__parse_duration("0.5us", false, &q, &scale), 0);
    assert_true(q == 5 && scale == 1);
    assert_int_equal(bs__parse_duration("5min", false, &q, &scale), 0);
    assert_true(q == 300000000);
    assert_int_equal(bs__parse_duration("2h", false, &q, &scale), 0);
    assert_true(q == INT64_C(7200000000));
    assert_int_equal(bs__parse_duration("1.000000000000000000000s", false, &q, &scale), 0);
    assert_true(q == 1000000 && scale == 0);
    assert_int_equal(bs__parse_duration("35", false, &q, &scale), BS_EINVAL);
    assert_int_equal(bs__parse_duration("-1ms", false, &q, &scale), BS_ERANGE);
    assert_int_equal(bs__parse_duration("1e3ms", false, &q, &scale), BS_EFORMAT);
    assert_int_equal(bs__parse_duration("5 ms", false, &q, &scale), BS_EFORMAT);
    assert_int_equal(bs__parse_duration("99999999999999999h", false, &q, &scale), BS_EOVERFLOW);

    assert_int_equal(bs__parse_decimal("4510.25", 8, &num, &rs), 0);
    assert_true(num == 451025 && rs == 2);
    assert_int_equal(bs__parse_decimal("0.00000001", 8, &num, &rs), 0);
    assert_true(num == 1 && rs == 8);
    assert_int_equal(bs__parse_decimal("1.000000001", 8, &num, &rs), BS_ERANGE);
    assert_int_equal(bs__parse_decimal("1e5", 8, &num, &rs), BS_EFORMAT);
    assert_int_equal(bs__parse_decimal("-1", 8, &num, &rs), BS_EFORMAT);
    assert_int_equal(bs__parse_decimal("99999999999999999999", 8, &num, &rs), BS_EOVERFLOW);

    assert_int_equal(bs__parse_utc("1970-01-01T00:00:00Z", &t), 0);
    assert_true(t == 0);
    assert_int_equal(bs__parse_utc("2024-02-29T23:59:59.5Z", &t), 0);
    assert_true(t == INT64_C(1709251199500000));
    assert_int_equal(bs__parse_utc("2026-03-02T09:00:00+00:00", &t), 0);
    assert_true(t == INT64_C(1772442000000000));
    assert_int_equal(bs__parse_utc("2025-02-29T00:00:00Z", &t), BS_EFORMAT);
    assert_int_equal(bs__parse_utc("2026-03-02T09:00:00", &t), BS_EFORMAT);
    assert_int_equal(bs__parse_utc("2026-03-02T09:00:00+03:00", &t), BS_EFORMAT);

    assert_int_equal(bs__edit_distance("laytency", "latency"), 1);
    assert_int_equal(bs__edit_distance("swich", "switch"), 1);
    assert_int_equal(bs__edit_distance("rate_tsp", "rate_tps"), 1);
}

/* ---- every shipped scenario ------------------------------------------------------------ */

static void shipped_scenarios_load(void **state)
{
    char dir[PATH_MAX];
    struct dirent *de;
    DIR *d;
    int n = 0;

    (void)state;
    snprintf(dir, sizeof(dir), "%s/configs/scenarios", source_root());
    d = opendir(dir);
    if (!d)
        fail_msg("cannot open %s: %s", dir, strerror(errno));
    while ((de = readdir(d)) != NULL) {
        size_t len = strlen(de->d_name);
        char path[PATH_MAX + 256];
        struct bs_scenario *sc;

        if (len < 6 || strcmp(de->d_name + len - 5, ".yaml") != 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        sc = load_ok(path, NULL, 0);
        bs_scenario_free(sc);
        n++;
    }
    closedir(d);
    assert_true(n >= 1);
}

/* ---- hostile input ------------------------------------------------------------------- */

static void expect_rejected(const char *name, const char *data, size_t len, int want)
{
    struct bs_scenario *sc = NULL;
    const char *p = tpath(name);
    FILE *f = fopen(p, "wb");
    int rc;

    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
    rc = load(p, NULL, 0, &sc);
    if (rc != want)
        fail_msg("%s: expected %d, got %d\n%s", name, want, rc, errbuf);
    assert_null(sc);
    assert_true(errbuf[0] != '\0');
}

static void garbage_never_crashes(void **state)
{
    static char big[1 << 16];
    struct bs_scenario *sc = NULL;
    struct rng r = { 1, 0 };
    char *deep;

    (void)state;
    expect_rejected("empty.yaml", "", 0, BS_EFORMAT);
    expect_err("%s:1:1: empty scenario", tpath("empty.yaml"));
    expect_rejected("comment.yaml", "# nothing\n", 10, BS_EFORMAT);
    expect_rejected("list.yaml", "- 1\n- 2\n", 8, BS_EFORMAT);
    expect_err("%s:1:1: expected a mapping of scenario keys", tpath("list.yaml"));
    expect_rejected("nul.yaml", "seed: 1\n\0\0", 10, BS_EFORMAT);
    expect_err("%s:2:1: control character 0x00", tpath("nul.yaml"));
    expect_rejected("utf8.yaml", "name: \xc3\x28\n", 9, BS_EFORMAT);
    expect_err("%s:1:7: invalid UTF-8 byte 0xc3", tpath("utf8.yaml"));
    expect_rejected("syntax.yaml", "a: [1, 2\nb: 3\n", 14, BS_EFORMAT);
    expect_err("YAML syntax error");
    expect_rejected("dupkey.yaml", "seed: 1\nseed: 2\n", 16, BS_EFORMAT);
    expect_err("%s:2:1: duplicate key 'seed' (first defined at line 1)", tpath("dupkey.yaml"));
    expect_rejected("docs.yaml", "seed: 1\n---\nseed: 2\n", 20, BS_EFORMAT);
    expect_rejected("tag.yaml", "seed: !!int 1\n", 14, BS_EFORMAT);
    expect_rejected("huge.yaml", "seed: 18446744073709551616\n", 27, BS_EFORMAT);
    expect_err("seed: 18446744073709551616 is out of range");
    expect_rejected("hugef.yaml", "extends: base.yaml\nworkload: {rate_tps: 1e400}\n", 47,
                    BS_EFORMAT);
    expect_rejected("alias.yaml", "a: &a [*a]\n", 11, BS_EFORMAT);

    /* A billion laughs stays within the node budget. */
    {
        char lol[4096];
        size_t len = (size_t)snprintf(lol, sizeof(lol), "l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n");

        for (int i = 1; i < 12; i++)
            len += (size_t)snprintf(lol + len, sizeof(lol) - len,
                                    "l%d: &l%d [*l%d, *l%d, *l%d, *l%d, *l%d, *l%d, *l%d, *l%d]\n",
                                    i, i, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1);
        expect_rejected("lol.yaml", lol, len, BS_EFORMAT);
        expect_err("once aliases are expanded");
    }

    /* Deep nesting, flow and block. */
    deep = test_malloc(200001);
    memset(deep, '[', 100000);
    memcpy(deep + 100000, "\n", 2);
    expect_rejected("deep.yaml", deep, 100001, BS_EFORMAT);
    expect_err("nested deeper than 64 levels");
    {
        size_t len = 0;

        for (int i = 0; i < 500 && len + 600 < 200000; i++) {
            memset(deep + len, ' ', (size_t)i);
            len += (size_t)i;
            memcpy(deep + len, "k:\n", 3);
            len += 3;
        }
        expect_rejected("deep2.yaml", deep, len, BS_EFORMAT);
    }
    test_free(deep);

    /* Binary junk. */
    for (size_t i = 0; i < sizeof(big); i++)
        big[i] = (char)rng_next(&r);
    expect_rejected("junk.bin", big, sizeof(big), BS_EFORMAT);

    /* Not a file. */
    assert_int_equal(load(tmpdir, NULL, 0, &sc), BS_EIO);
    expect_err("%s: cannot read: Is a directory", tmpdir);
    assert_int_equal(load(tpath("does-not-exist.yaml"), NULL, 0, &sc), BS_EIO);
    assert_null(sc);
    assert_int_equal(bs_scenario_load(NULL, NULL, 0, &sc, errbuf, sizeof(errbuf)), BS_EINVAL);
    bs_scenario_free(NULL);
}

/* Random byte edits of the default scenario: any verdict is fine, a crash or leak is not. */
static void mutations_never_crash(void **state)
{
    char path[PATH_MAX];
    struct rng r = { 2024, 0 };
    static char orig[65536], buf[65536];
    size_t len;
    FILE *f;
    int ok = 0;

    (void)state;
    snprintf(path, sizeof(path), "%s/configs/scenarios/mir-shetab.yaml", source_root());
    f = fopen(path, "rb");
    assert_non_null(f);
    len = fread(orig, 1, sizeof(orig), f);
    fclose(f);
    for (int iter = 0; iter < 400; iter++) {
        static const char alphabet[] = " :-[]{},\n\"'#&*!|>0123456789.aZ";
        struct bs_scenario *sc = NULL;
        int edits = 1 + (int)(rng_next(&r) % 4);
        size_t n = len;

        memcpy(buf, orig, len);
        for (int e = 0; e < edits; e++) {
            size_t at = (size_t)(rng_next(&r) % n);

            switch (rng_next(&r) % 3) {
            case 0:
                buf[at] = alphabet[rng_next(&r) % (sizeof(alphabet) - 1)];
                break;
            case 1:
                memmove(buf + at, buf + at + 1, n - at - 1);
                n--;
                break;
            default:
                if (n + 1 < sizeof(buf)) {
                    memmove(buf + at + 1, buf + at, n - at);
                    buf[at] = alphabet[rng_next(&r) % (sizeof(alphabet) - 1)];
                    n++;
                }
                break;
            }
        }
        f = fopen(tpath("mut.yaml"), "wb");
        assert_non_null(f);
        assert_int_equal(fwrite(buf, 1, n, f), n);
        fclose(f);
        if (load(tpath("mut.yaml"), NULL, 0, &sc) == 0) {
            ok++;
            bs_scenario_free(sc);
        } else {
            assert_null(sc);
            assert_true(errbuf[0] != '\0');
        }
    }
    /* Some edits land in comments or keep values valid. */
    assert_true(ok > 0);
}

int main(void)
{
    const struct CMUnitTest load_tests[] = {
        cmocka_unit_test(default_scenario_exact),
        cmocka_unit_test(defaults_applied),
        cmocka_unit_test(shipped_scenarios_load),
        cmocka_unit_test(link_impairments_load),
    };
    const struct CMUnitTest error_tests[] = {
        cmocka_unit_test(unknown_key_suggested), cmocka_unit_test(wrong_types),
        cmocka_unit_test(out_of_range),          cmocka_unit_test(currencies),
        cmocka_unit_test(bins_and_ids),          cmocka_unit_test(link_endpoints),
        cmocka_unit_test(timers_nest),           cmocka_unit_test(flows_networks),
        cmocka_unit_test(distributions_checked), cmocka_unit_test(expectations),
        cmocka_unit_test(all_errors_reported),   cmocka_unit_test(link_impairments_errors),
        cmocka_unit_test(empirical_csv_errors),
    };
    const struct CMUnitTest override_tests[] = {
        cmocka_unit_test(set_overrides),      cmocka_unit_test(set_errors),
        cmocka_unit_test(signing_algorithms), cmocka_unit_test(extends_merges),
        cmocka_unit_test(dialects_checked),   cmocka_unit_test(run_breaking_values),
        cmocka_unit_test(fault_links),
    };
    const struct CMUnitTest dist_tests[] = {
        cmocka_unit_test(dist_sampling),     cmocka_unit_test(dist_clamping),
        cmocka_unit_test(lognormal_p99),     cmocka_unit_test(exact_units),
        cmocka_unit_test(arrival_processes), cmocka_unit_test(cards_merchants_rc_metrics),
    };
    const struct CMUnitTest hostile_tests[] = {
        cmocka_unit_test(garbage_never_crashes),
        cmocka_unit_test(mutations_never_crash),
    };
    int failed = 0;

    failed += cmocka_run_group_tests_name("scenario_load", load_tests, group_setup, group_teardown);
    failed +=
        cmocka_run_group_tests_name("scenario_errors", error_tests, group_setup, group_teardown);
    failed += cmocka_run_group_tests_name("scenario_overrides", override_tests, group_setup,
                                          group_teardown);
    failed += cmocka_run_group_tests_name("scenario_dist", dist_tests, group_setup, group_teardown);
    failed +=
        cmocka_run_group_tests_name("scenario_hostile", hostile_tests, group_setup, group_teardown);
    return failed ? 1 : 0;
}
