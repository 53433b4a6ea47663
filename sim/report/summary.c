/* summary.json and the stdout table; see summary.h. */
#include <math.h>
#include <string.h>

#include <bridgesim/money.h>
#include <bridgesim/settlement.h>

#include "engine/linkcap.h"
#include "report/summary.h"

static json_t *latency_obj(const struct bs_hist *h)
{
    return json_pack("{s:f,s:f,s:f,s:f,s:f}", "p50", (double)bs_hist_quantile(h, 0.50) / 1000.0,
                     "p90", (double)bs_hist_quantile(h, 0.90) / 1000.0, "p99",
                     (double)bs_hist_quantile(h, 0.99) / 1000.0, "max", (double)h->max / 1000.0,
                     "mean", h->count ? h->sum / (double)h->count / 1000.0 : 0.0);
}

static json_t *outcomes_obj(const struct bs_outcomes *o)
{
    json_t *m = json_object();
    char k[3];

    for (int rc = 0; rc < BS_RC_SLOTS; rc++) {
        if (!o->by_rc[rc])
            continue;
        k[0] = (char)('0' + rc / 10);
        k[1] = (char)('0' + rc % 10);
        k[2] = '\0';
        json_object_set_new(m, k, json_integer((json_int_t)o->by_rc[rc]));
    }
    if (o->other_rc)
        json_object_set_new(m, "other", json_integer((json_int_t)o->other_rc));
    if (o->no_response)
        json_object_set_new(m, "no_response", json_integer((json_int_t)o->no_response));
    return m;
}

/* "by_type": per transaction type started, approved, declined and unanswered (a
 * cancellation's figures are those of its purchase; counters.cancellations_* follow it). */
static json_t *by_type_obj(const struct bs_outcomes *o)
{
    json_t *m = json_object();

    for (int t = 0; t < BS_TXN_TYPE_COUNT; t++) {
        const struct bs_type_outcomes *x = &o->by_type[t];
        json_object_set_new(m, bs_txn_type_name((unsigned)t),
                            json_pack("{s:I,s:I,s:I,s:I}", "started", (json_int_t)x->started,
                                      "approved", (json_int_t)x->approved, "declined",
                                      (json_int_t)x->declined, "no_response",
                                      (json_int_t)x->no_response));
    }
    return m;
}

static double ratio(uint64_t a, uint64_t b)
{
    return b ? (double)a / (double)b : 0.0;
}

static void add_invariant(json_t *arr, const char *name, bool ok, const char *detail, int *failed)
{
    json_array_append_new(arr,
                          json_pack("{s:s,s:b,s:s}", "name", name, "ok", ok, "detail", detail));
    if (!ok)
        (*failed)++;
}

/* An invariant that holds only once every transaction has ended: after an interrupted run
 * it is listed as not checked (in-flight work is not a failure). */
static void add_end_invariant(json_t *arr, const char *name, bool ok, const char *detail,
                              bool interrupted, int *failed)
{
    char why[320];

    if (!interrupted) {
        add_invariant(arr, name, ok, detail, failed);
        return;
    }
    snprintf(why, sizeof(why), "not checked: the run was interrupted (%s)", detail);
    json_array_append_new(arr, json_pack("{s:s,s:b,s:b,s:s}", "name", name, "ok", true, "skipped",
                                         true, "detail", why));
}

int bs_metric_value(const json_t *s, const char *name, double *ret)
{
    static const struct {
        const char *metric, *key, *sub;
    } map[] = {
        /* per transaction type (summary.json by_type) */
        { "purchases", "by_type", "purchase.started" },
        { "purchases_approved", "by_type", "purchase.approved" },
        { "atm_withdrawals", "by_type", "atm_withdrawal.started" },
        { "atm_withdrawals_approved", "by_type", "atm_withdrawal.approved" },
        { "refunds", "by_type", "refund.started" },
        { "refunds_approved", "by_type", "refund.approved" },
        { "balance_inquiries", "by_type", "balance_inquiry.started" },
        { "balance_inquiries_approved", "by_type", "balance_inquiry.approved" },
        { "cancellations", "by_type", "cancellation.started" },
        { "cancellations_approved", "by_type", "cancellation.approved" },
        { "cancellations_requested", "counters", "cancellations_requested" },
        { "cancellations_applied", "counters", "cancellations_applied" },
        { "fx_rate_changes", "counters", "fx_rate_changes" },
        { "approval_rate", "approval_rate", NULL },
        { "decline_rate", "decline_rate", NULL },
        { "timeout_rate", "timeout_rate", NULL },
        { "latency_p50_ms", "latency_ms", "p50" },
        { "latency_p90_ms", "latency_ms", "p90" },
        { "latency_p99_ms", "latency_ms", "p99" },
        { "latency_max_ms", "latency_ms", "max" },
        { "transactions", "transactions", NULL },
        { "approved", "approved", NULL },
        { "declined", "declined", NULL },
        { "timeouts", "timeouts", NULL },
        { "reversals", "reversals", NULL },
        { "reversals_applied", "counters", "reversals_applied" },
        { "stand_ins", "counters", "stand_in_approved" },
        { "advices_applied", "counters", "advices_applied" },
        { "duplicates", "counters", "duplicates_answered" },
        { "duplicates_rejected", "counters", "duplicates_rejected" },
        { "late_responses", "counters", "late_responses" },
        { "signature_failures", "counters", "signature_failures" },
        { "format_errors", "counters", "format_errors" },
        { "messages_lost", "messages_lost", NULL },
        { "messages_dropped_link_full", "messages_dropped_link_full", NULL },
        { "link_queued", "link_queued", NULL },
        { "echoes_sent", "counters", "echoes_sent" },
        { "echoes_missed", "counters", "echoes_missed" },
        { "peers_down", "counters", "peers_down" },
        { "peers_up", "counters", "peers_up" },
        { "stand_in_peer_down", "counters", "stand_in_peer_down" },
        { "peer_down_declined", "counters", "peer_down_declined" },
    };

    /* rc_NN: transactions answered NN; a code no one got is simply absent from outcomes. */
    if (strncmp(name, "rc_", 3) == 0 && name[3] >= '0' && name[3] <= '9' && name[4] >= '0' &&
        name[4] <= '9' && !name[5]) {
        json_t *v = json_object_get(json_object_get(s, "outcomes"), name + 3);

        *ret = json_is_number(v) ? json_number_value(v) : 0;
        return 0;
    }
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        if (strcmp(map[i].metric, name) != 0)
            continue;
        json_t *v = json_object_get(s, map[i].key);
        if (map[i].sub) {
            /* "type.field": two levels below the key */
            const char *dot = strchr(map[i].sub, '.');
            char first[32];
            if (dot && (size_t)(dot - map[i].sub) < sizeof(first)) {
                memcpy(first, map[i].sub, (size_t)(dot - map[i].sub));
                first[dot - map[i].sub] = '\0';
                v = json_object_get(json_object_get(v, first), dot + 1);
            } else {
                v = json_object_get(v, map[i].sub);
            }
        }
        if (!json_is_number(v))
            return BS_ENOTFOUND;
        *ret = json_number_value(v);
        return 0;
    }
    return BS_ENOTFOUND;
}

static const char *op_text(enum bs_expect_op op)
{
    switch (op) {
    case BS_OP_GE:
        return ">=";
    case BS_OP_LE:
        return "<=";
    case BS_OP_GT:
        return ">";
    case BS_OP_LT:
        return "<";
    case BS_OP_EQ:
        return "==";
    }
    return "?";
}

static bool op_holds(enum bs_expect_op op, double v, double want)
{
    switch (op) {
    case BS_OP_GE:
        return v >= want;
    case BS_OP_LE:
        return v <= want;
    case BS_OP_GT:
        return v > want;
    case BS_OP_LT:
        return v < want;
    case BS_OP_EQ:
        return fabs(v - want) < 1e-9;
    }
    return false;
}

/*
 * Money and liveness (issue #4 §13): for each network's cards, the issuers' net postings
 * equal the bridge's net commitments (every approved transaction ended exactly once, no
 * double debit from duplicates, repeats, late responses or advices); and by the end of the
 * drain every reversal and stand-in advice was acknowledged.
 */
static void add_money_invariants(const struct bs_scenario *sc, const struct bs_world *w,
                                 json_t *inv, bool interrupted, int *failed)
{
    char detail[256];
    size_t rev, adv;

    for (size_t n = 0; n < sc->nnetworks; n++) {
        struct bs_money_check mc;
        bs_world_money_check(w, n, &mc);
        snprintf(detail, sizeof(detail),
                 "%s cards: issuers posted %lld %s net, the bridge committed %lld net", mc.network,
                 (long long)mc.issuers_net, mc.currency, (long long)mc.bridge_net);
        add_end_invariant(inv, "approved_exactly_once", mc.issuers_net == mc.bridge_net, detail,
                          interrupted, failed);
    }
    bs_world_open_queues(w, &rev, &adv);
    snprintf(detail, sizeof(detail), "%zu reversals and %zu advices still open at the end", rev,
             adv);
    add_end_invariant(inv, "queues_drained", rev == 0 && adv == 0, detail, interrupted, failed);
}

/* Links with `capacity` (issue #5 §2): per direction, what entered, was dropped and
 * waited; only when some link has one, so other summaries keep their shape. */
static void add_link_capacity(json_t *s, const struct bs_world *w, const struct bs_run_result *r)
{
    struct bs_linkcap_stats st;
    const char *from, *to;
    json_t *arr;
    uint64_t queued = 0;

    if (!bs_world_link_capacity(w, 0, &from, &to, &st))
        return;
    arr = json_array();
    for (size_t i = 0; bs_world_link_capacity(w, i, &from, &to, &st); i++, queued += st.queued)
        json_array_append_new(
            arr, json_pack("{s:s,s:s,s:I,s:I,s:I,s:I,s:f}", "from", from, "to", to, "sent",
                           (json_int_t)st.sent, "dropped", (json_int_t)st.dropped, "queued",
                           (json_int_t)st.queued, "max_waiting", (json_int_t)st.max_waiting,
                           "wait_max_ms", (double)st.wait_max / 1e3));
    json_object_set_new(s, "messages_dropped_link_full", json_integer((json_int_t)r->link_dropped));
    json_object_set_new(s, "link_queued", json_integer((json_int_t)queued));
    json_object_set_new(s, "link_capacity", arr);
}

json_t *bs_summary_build(const struct bs_scenario *sc, const struct bs_world *w, int *ret_failed)
{
    struct bs_run_result r;
    json_t *s, *stats, *flows, *inv, *ledgers, *exps;
    int failed = 0;
    uint64_t timeouts;
    char detail[256];

    bs_world_result(w, &r);
    timeouts = r.total->no_response + (uint64_t)r.stats[BS_STAT_ACQ_TIMEOUT] +
               (uint64_t)r.stats[BS_STAT_SWITCH_TIMEOUT] +
               (uint64_t)r.stats[BS_STAT_BRIDGE_TIMEOUT];
    s = json_object();
    if (!s)
        return NULL;
    json_object_set_new(s, "scenario", json_string(sc->name));
    {
        /* A decimal string, as in the journal headers: 64-bit seeds do not fit
         * JSON readers' int64 or double. */
        char seedbuf[24];

        snprintf(seedbuf, sizeof(seedbuf), "%llu", (unsigned long long)sc->seed);
        json_object_set_new(s, "seed", json_string(seedbuf));
    }
    json_object_set_new(s, "mode", json_string(sc->realtime ? "realtime" : "virtual"));
    json_object_set_new(s, "interrupted", json_boolean(r.interrupted));
    json_object_set_new(s, "in_flight", json_integer((json_int_t)r.in_flight_at_end));
    json_object_set_new(s, "signing", json_string(bs_sig_alg_name(sc->sig_alg)));
    json_object_set_new(s, "transactions", json_integer((json_int_t)r.total->finished));
    json_object_set_new(s, "started", json_integer((json_int_t)r.total->started));
    json_object_set_new(s, "approved", json_integer((json_int_t)r.total->approved));
    json_object_set_new(s, "declined", json_integer((json_int_t)r.total->declined));
    json_object_set_new(s, "no_response", json_integer((json_int_t)r.total->no_response));
    json_object_set_new(s, "timeouts", json_integer((json_int_t)timeouts));
    json_object_set_new(s, "reversals", json_integer(r.stats[BS_STAT_REVERSAL_SENT]));
    json_object_set_new(s, "approval_rate", json_real(ratio(r.total->approved, r.total->finished)));
    json_object_set_new(s, "decline_rate", json_real(ratio(r.total->declined, r.total->finished)));
    json_object_set_new(s, "timeout_rate", json_real(ratio(timeouts, r.total->finished)));
    json_object_set_new(s, "outcomes", outcomes_obj(r.total));
    json_object_set_new(s, "by_type", by_type_obj(r.total));
    json_object_set_new(s, "latency_ms", latency_obj(&r.total->latency));
    json_object_set_new(s, "wall_seconds", json_real(r.wall_seconds));
    json_object_set_new(s, "cpu_seconds", json_real(r.cpu_seconds));
    json_object_set_new(s, "simulated_seconds", json_real((double)(r.sim_end - r.sim_start) / 1e6));
    json_object_set_new(
        s, "transactions_per_second",
        json_real(r.wall_seconds > 0 ? (double)r.total->finished / r.wall_seconds : 0));
    json_object_set_new(s, "messages", json_integer((json_int_t)r.messages));
    json_object_set_new(s, "messages_lost", json_integer((json_int_t)r.dropped));
    json_object_set_new(s, "journal_records", json_integer((json_int_t)r.journal_records));
    add_link_capacity(s, w, &r);

    stats = json_object();
    for (int i = 0; i < BS_STAT_COUNT; i++)
        json_object_set_new(stats, bs_stat_name((enum bs_stat)i), json_integer(r.stats[i]));
    json_object_set_new(s, "counters", stats);

    flows = json_array();
    for (size_t f = 0; f < r.nflows; f++) {
        const struct bs_sc_flow *fl = &sc->workload.flows[f];
        const struct bs_outcomes *o = &r.flows[f];
        char name[96];
        snprintf(name, sizeof(name), "%s cards at %s acquirers", sc->networks[fl->cards].name,
                 sc->networks[fl->from].name);
        json_array_append_new(
            flows, json_pack("{s:s,s:s,s:s,s:I,s:I,s:I,s:I,s:o,s:o,s:o}", "flow", name, "acquirers",
                             sc->networks[fl->from].name, "cards", sc->networks[fl->cards].name,
                             "transactions", (json_int_t)o->finished, "approved",
                             (json_int_t)o->approved, "declined", (json_int_t)o->declined,
                             "no_response", (json_int_t)o->no_response, "outcomes", outcomes_obj(o),
                             "by_type", by_type_obj(o), "latency_ms", latency_obj(&o->latency)));
    }
    json_object_set_new(s, "flows", flows);

    /* Invariants (issue #4 §13): money is conserved in every issuer's ledger, and every
     * terminal request got exactly one final answer. */
    inv = json_array();
    ledgers = json_array();
    for (size_t i = 0; i < bs_world_issuers(w); i++) {
        const struct bs_ledger *l = bs_issuer_ledger(bs_world_issuer(w, i));
        struct bs_ledger_totals t;
        bs_ledger_totals(l, &t);
        json_array_append_new(
            ledgers,
            json_pack("{s:s,s:s,s:I,s:I,s:I,s:I,s:I,s:I}", "issuer", bs_world_issuer_name(w, i),
                      "currency", bs_world_issuer_currency(w, i), "opening", (json_int_t)t.opening,
                      "balances", (json_int_t)t.balances, "debited", (json_int_t)t.debited,
                      "credited", (json_int_t)t.credited, "debits", (json_int_t)t.debits, "credits",
                      (json_int_t)t.credits));
        snprintf(detail, sizeof(detail), "%s: opening %lld = balances %lld + position %lld",
                 bs_world_issuer_name(w, i), (long long)t.opening, (long long)t.balances,
                 (long long)t.position);
        add_invariant(inv, "ledger_conservation", bs_ledger_check(l) == 0, detail, &failed);
    }
    json_object_set_new(s, "ledgers", ledgers);
    snprintf(detail, sizeof(detail), "%llu started, %llu answered or timed out, %zu in flight%s",
             (unsigned long long)r.total->started, (unsigned long long)r.total->finished,
             r.in_flight_at_end, r.interrupted ? " when the run was interrupted" : "");
    /* Interrupted: whatever is still in flight is reported as such; what did end must have
     * ended once, and nothing may have vanished. */
    add_invariant(inv, "every_request_answered_once",
                  r.interrupted ? r.total->started == r.total->finished + r.in_flight_at_end
                                : r.total->started == r.total->finished && r.in_flight_at_end == 0,
                  detail, &failed);
    add_money_invariants(sc, w, inv, r.interrupted, &failed);
    if (bs_world_settlement(w)) {
        /* Settlement (issue #4 §13, docs/settlement.md): each scheme nets to zero, the
         * bridge's positions agree at the recorded rates, each commit in one window. */
        struct bs_settle_check chk;
        bs_settlement_check(bs_world_settlement(w), &chk);
        add_invariant(inv, "settlement_nets_zero", chk.nets_zero, chk.nets, &failed);
        add_invariant(inv, "settlement_positions_agree", chk.positions_agree, chk.positions,
                      &failed);
        add_invariant(inv, "settlement_one_window", chk.one_window, chk.window, &failed);
    }
    json_object_set_new(s, "invariants", inv);

    exps = json_array();
    /* An interrupted run measured only part of its workload: its expectations are not
     * checked, and it does not pass. */
    for (size_t i = 0; i < sc->nexpect && r.interrupted; i++)
        json_array_append_new(exps, json_pack("{s:s,s:s,s:f,s:b}", "metric", sc->expect[i].metric,
                                              "op", op_text(sc->expect[i].op), "expected",
                                              sc->expect[i].value, "skipped", true));
    for (size_t i = 0; i < sc->nexpect && !r.interrupted; i++) {
        const struct bs_sc_expect *e = &sc->expect[i];
        double v = NAN;
        bool ok = bs_metric_value(s, e->metric, &v) == 0 && op_holds(e->op, v, e->value);
        json_array_append_new(exps, json_pack("{s:s,s:s,s:f,s:f,s:b}", "metric", e->metric, "op",
                                              op_text(e->op), "expected", e->value, "measured",
                                              isnan(v) ? 0.0 : v, "ok", ok));
        if (!ok)
            failed++;
    }
    json_object_set_new(s, "expectations", exps);
    json_object_set_new(s, "passed", json_boolean(failed == 0 && !r.interrupted));
    *ret_failed = failed;
    return s;
}

static long long geti(const json_t *o, const char *k)
{
    return (long long)json_integer_value(json_object_get(o, k));
}

void bs_summary_print(const json_t *s, FILE *out)
{
    const json_t *lat = json_object_get(s, "latency_ms");
    const json_t *oc = json_object_get(s, "outcomes");
    const json_t *v, *flows = json_object_get(s, "flows");
    const char *mode = json_string_value(json_object_get(s, "mode"));
    const char *k;
    size_t i;

    fprintf(out, "scenario %s  seed %s  %s  signing %s\n",
            json_string_value(json_object_get(s, "scenario")),
            json_string_value(json_object_get(s, "seed")),
            mode && strcmp(mode, "realtime") == 0 ? "real time" : "virtual time",
            json_string_value(json_object_get(s, "signing")));
    fprintf(out, "  transactions %-9lld approved %-9lld declined %-9lld no response %lld\n",
            geti(s, "transactions"), geti(s, "approved"), geti(s, "declined"),
            geti(s, "no_response"));
    fprintf(out,
            "  approval rate %.2f%%   timeouts %lld   reversals sent %lld   messages lost %lld\n",
            100.0 * json_real_value(json_object_get(s, "approval_rate")), geti(s, "timeouts"),
            geti(s, "reversals"), geti(s, "messages_lost"));
    fprintf(
        out, "  latency ms    p50 %.1f   p90 %.1f   p99 %.1f   max %.1f\n",
        json_real_value(json_object_get(lat, "p50")), json_real_value(json_object_get(lat, "p90")),
        json_real_value(json_object_get(lat, "p99")), json_real_value(json_object_get(lat, "max")));
    fprintf(out, "  outcomes     ");
    json_object_foreach((json_t *)oc, k, v)
        fprintf(out, " %s:%lld", k, (long long)json_integer_value(v));
    fprintf(out, "\n");
    json_array_foreach(flows, i, v)
        fprintf(out, "  flow %-36s %7lld txns  %6.2f%% approved  p99 %.1f ms\n",
                json_string_value(json_object_get(v, "flow")), geti(v, "transactions"),
                100.0 * (double)geti(v, "approved") /
                    (double)(geti(v, "transactions") ? geti(v, "transactions") : 1),
                json_real_value(json_object_get(json_object_get(v, "latency_ms"), "p99")));
    fprintf(out, "  wall %.3f s (%.0f transactions/s), %.1f simulated s\n",
            json_real_value(json_object_get(s, "wall_seconds")),
            json_real_value(json_object_get(s, "transactions_per_second")),
            json_real_value(json_object_get(s, "simulated_seconds")));
    json_array_foreach(json_object_get(s, "invariants"), i,
                       v) if (!json_is_true(json_object_get(v, "ok")))
        fprintf(out, "  INVARIANT FAILED %s: %s\n", json_string_value(json_object_get(v, "name")),
                json_string_value(json_object_get(v, "detail")));
    json_array_foreach(json_object_get(s, "expectations"), i, v) if (json_object_get(v, "skipped"))
        fprintf(out, "  expect %-16s %s %-10g not checked (interrupted)\n",
                json_string_value(json_object_get(v, "metric")),
                json_string_value(json_object_get(v, "op")),
                json_real_value(json_object_get(v, "expected")));
    else fprintf(out, "  expect %-16s %s %-10g measured %-12g %s\n",
                 json_string_value(json_object_get(v, "metric")),
                 json_string_value(json_object_get(v, "op")),
                 json_real_value(json_object_get(v, "expected")),
                 json_real_value(json_object_get(v, "measured")),
                 json_is_true(json_object_get(v, "ok")) ? "ok" : "FAILED");
    if (json_is_true(json_object_get(s, "interrupted")))
        fprintf(out, "  INTERRUPTED: %lld transaction(s) still in flight, reported as such\n",
                geti(s, "in_flight"));
    fprintf(out, "  result: %s\n",
            json_is_true(json_object_get(s, "passed"))        ? "PASS"
            : json_is_true(json_object_get(s, "interrupted")) ? "INTERRUPTED"
                                                              : "FAIL");
}
