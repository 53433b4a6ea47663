/* settlement.json and the readable settlement report; see settlement_report.h. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <bridgesim/journal.h>
#include <bridgesim/money.h>
#include <bridgesim/network.h>

#include "engine/world.h"
#include "report/settlement_report.h"

#define SIGN_CONVENTION                                                                      \
    "amounts are minor units of the scheme's currency; + the participant receives from its " \
    "scheme, - it pays"

/* ---- building the settlement object -------------------------------------------------- */

int bs_settlement_for_scenario(const struct bs_scenario *sc, bs_time_us retention,
                               struct bs_settlement **ret, char *errbuf, size_t errlen)
{
    /* Only needed while bs_settlement_new() copies them. */
    struct parts {
        struct bs_settle_party_cfg acq[2][BS_SC_MAX_ACQUIRERS], iss[2][BS_SC_MAX_ISSUERS];
        struct bs_settle_bin bins[2][BS_SC_MAX_ISSUERS][BS_SC_MAX_BINS];
        struct bs_fx_change fxc[BS_SC_MAX_FX_CHANGES];
    } * t;
    struct bs_settlement_cfg cfg;
    bool base_found = false;
    int rc;

    if (sc->nnetworks != 2) {
        snprintf(errbuf, errlen, "settlement: a scenario needs exactly two networks");
        return BS_EINVAL;
    }
    t = bs_calloc(1, sizeof(*t));
    if (!t)
        return BS_ENOMEM;
    memset(&cfg, 0, sizeof(cfg));
    for (int s = 0; s < 2; s++) {
        const struct bs_sc_network *net = &sc->networks[s];
        struct bs_settle_side_cfg *side = &cfg.side[s];
        side->name = net->name;
        memcpy(side->currency, net->currency.code, sizeof(side->currency));
        side->numeric = net->currency.numeric;
        side->exponent = net->currency.exponent;
        side->utc_offset_min = net->utc_offset_min;
        for (size_t i = 0; i < net->nacquirers; i++)
            t->acq[s][i] = (struct bs_settle_party_cfg){ net->acquirers[i].id,
                                                         net->acquirers[i].inst_id, NULL, 0 };
        for (size_t i = 0; i < net->nissuers; i++) {
            for (size_t b = 0; b < net->issuers[i].nbins; b++)
                t->bins[s][i][b] =
                    (struct bs_settle_bin){ net->issuers[i].bins[b].lo, net->issuers[i].bins[b].hi,
                                            net->issuers[i].bins[b].digits };
            t->iss[s][i] =
                (struct bs_settle_party_cfg){ net->issuers[i].id, net->issuers[i].inst_id,
                                              t->bins[s][i], net->issuers[i].nbins };
        }
        side->acquirers = t->acq[s];
        side->nacquirers = net->nacquirers;
        side->issuers = t->iss[s];
        side->nissuers = net->nissuers;
        if (strcmp(net->currency.code, sc->bridge.fx_base) == 0) {
            cfg.base_currency = net->currency.numeric;
            base_found = true;
        }
        cfg.fees.atm_interchange[s] = sc->fee_atm_interchange[s];
        for (int c = 0; c < BS_CH_COUNT; c++)
            cfg.fees.bridge[c][s] = sc->fee_bridge[c][s];
    }
    if (!base_found) {
        snprintf(errbuf, errlen, "settlement: the fx pair's base %s is neither network's currency",
                 sc->bridge.fx_base);
        bs_free(t);
        return BS_EINVAL;
    }
    cfg.fees.pos_interchange_bps = sc->fee_pos_interchange_bps;
    cfg.mid = (struct bs_rate){ sc->bridge.rate_num, sc->bridge.rate_scale };
    cfg.rate = sc->settle_rate_num ? (struct bs_rate){ sc->settle_rate_num, sc->settle_rate_scale }
                                   : cfg.mid;
    /* Without a settlement rate of its own, each window settles at the mid rate in force at
     * its close (the same as cfg.mid when the fx rate never changes). */
    cfg.rate_follows_mid = sc->settle_rate_num == 0;
    for (size_t i = 0; i < sc->bridge.nfx_changes; i++)
        t->fxc[i] = (struct bs_fx_change){ sc->start_time + sc->bridge.fx_changes[i].at,
                                           { sc->bridge.fx_changes[i].rate_num,
                                             sc->bridge.fx_changes[i].rate_scale } };
    cfg.mid_changes = t->fxc;
    cfg.nmid_changes = sc->bridge.nfx_changes;
    cfg.cutover = sc->settle_cutover;
    cfg.start = sc->start_time;
    cfg.retention = retention;
    rc = bs_settlement_new(&cfg, ret);
    bs_free(t);
    if (rc)
        snprintf(errbuf, errlen, "settlement: %s (participants, rates or fees)", bs_strerror(rc));
    return rc;
}

/* ---- formatting -------------------------------------------------------------------- */

/* @v minor units at exponent @exp as a decimal with thousands separators: "-1,234.56". */
static const char *money(int64_t v, unsigned exp, char buf[64])
{
    char digits[24], *p = buf;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    int n = snprintf(digits, sizeof(digits), "%0*" PRIu64, (int)exp + 1, u);
    int ip = n - (int)exp; /* integer digits */

    if (v < 0)
        *p++ = '-';
    for (int i = 0; i < ip; i++) {
        if (i && (ip - i) % 3 == 0)
            *p++ = ',';
        *p++ = digits[i];
    }
    if (exp) {
        *p++ = '.';
        memcpy(p, digits + ip, exp);
        p += exp;
    }
    *p = '\0';
    return buf;
}

/* A rate num / 10^scale as decimal text ("4510.25"). */
static void rate_text(struct bs_rate r, char *out, size_t cap)
{
    int64_t p = 1;

    for (unsigned i = 0; i < r.scale; i++)
        p *= 10;
    if (r.scale)
        snprintf(out, cap, "%lld.%0*lld", (long long)(r.num / p), (int)r.scale,
                 (long long)(r.num % p));
    else
        snprintf(out, cap, "%lld", (long long)r.num);
}

static json_t *iso_time(bs_time_us t)
{
    char buf[28];

    bs_format_iso_time(t, buf);
    return json_string(buf);
}

static json_t *date_text(uint32_t yyyymmdd)
{
    char buf[16];

    snprintf(buf, sizeof(buf), "%04u-%02u-%02u", yyyymmdd / 10000, yyyymmdd / 100 % 100,
             yyyymmdd % 100);
    return json_string(buf);
}

static void offset_text(int min, char *out, size_t cap)
{
    int a = min < 0 ? -min : min;

    snprintf(out, cap, "UTC%c%02d:%02d", min < 0 ? '-' : '+', a / 60, a % 60);
}

static void tod_text(bs_time_us tod, char *out, size_t cap)
{
    long long s = (long long)(tod / BS_US_PER_SEC);

    if (s % 60)
        snprintf(out, cap, "%02lld:%02lld:%02lldZ", s / 3600, s / 60 % 60, s % 60);
    else
        snprintf(out, cap, "%02lld:%02lldZ", s / 3600, s / 60 % 60);
}

/* ---- settlement.json ------------------------------------------------------------------ */

static json_t *pos_obj(const struct bs_settle_party *p, const struct bs_settle_pos *x)
{
    json_t *o = json_object();

    json_object_set_new(o, "participant", json_string(p->name));
    json_object_set_new(o, "role", json_string(bs_settle_role_name(p->role)));
    if (p->inst_id[0])
        json_object_set_new(o, "inst_id", json_string(p->inst_id));
    json_object_set_new(o, "transactions", json_integer((json_int_t)x->count));
    json_object_set_new(o, "amount", json_integer(x->amount));
    json_object_set_new(o, "reversals", json_integer((json_int_t)x->rev_count));
    json_object_set_new(o, "reversed_amount", json_integer(x->rev_amount));
    if (x->refund_count || x->refund_rev_count) {
        /* Only when there are any, so reports of scenarios without refunds keep their form. */
        json_object_set_new(o, "refunds", json_integer((json_int_t)x->refund_count));
        json_object_set_new(o, "refunded_amount", json_integer(x->refund_amount));
        json_object_set_new(o, "refund_reversals", json_integer((json_int_t)x->refund_rev_count));
        json_object_set_new(o, "refund_reversed_amount", json_integer(x->refund_rev_amount));
    }
    json_object_set_new(o, "adjustments", json_integer((json_int_t)x->adjustments));
    json_object_set_new(o, "principal", json_integer(x->principal));
    json_object_set_new(o, "interchange", json_integer(x->interchange));
    json_object_set_new(o, "bridge_fees", json_integer(x->bridge_fees));
    json_object_set_new(o, "gross_credits", json_integer(x->credits));
    json_object_set_new(o, "gross_debits", json_integer(x->debits));
    json_object_set_new(o, "net", json_integer(x->net));
    return o;
}

static bool pos_empty(const struct bs_settle_pos *x)
{
    return !x->count && !x->rev_count && !x->refund_count && !x->refund_rev_count && !x->net &&
           !x->credits && !x->debits;
}

static json_t *window_obj(const struct bs_settlement *s, const struct bs_settle_window *w)
{
    const struct bs_settlement_cfg *cfg = bs_settlement_config(s);
    json_t *o = json_object(), *schemes = json_array(), *bd = json_object();
    json_t *pos = json_object(), *exp = json_object(), *fx = json_object(), *dirs = json_array();
    json_t *rates = json_array(), *adj = json_array(), *in, *after = json_object();
    char buf[64];

    json_object_set_new(o, "window", json_integer(w->seq));
    json_object_set_new(o, "cutover", iso_time(w->cutover));
    json_object_set_new(o, "opened", iso_time(w->opened));
    json_object_set_new(o, "closed", iso_time(w->closed));
    json_object_set_new(o, "closed_by", json_string(w->by_cutover ? "cutover" : "end of run"));
    for (int i = 0; i < 2; i++)
        json_object_set_new(bd, cfg->side[i].name, date_text(w->business_date[i]));
    json_object_set_new(o, "business_date", bd);
    json_object_set_new(o, "transactions", json_integer((json_int_t)w->financial));
    json_object_set_new(o, "reversals", json_integer((json_int_t)w->reversals));
    json_object_set_new(o, "adjustments", json_integer((json_int_t)w->adjustments));
    json_object_set_new(o, "stand_in", json_integer((json_int_t)w->stand_in));

    for (int side = 0; side < 2; side++) {
        json_t *sch = json_object(), *parts = json_array();
        const struct bs_settle_pos *b =
            &w->pos[side][bs_settlement_party_index(s, side, BS_SETTLE_BRIDGE, 0)];
        int64_t sum = 0;
        json_object_set_new(sch, "scheme", json_string(cfg->side[side].name));
        json_object_set_new(sch, "currency", json_string(cfg->side[side].currency));
        json_object_set_new(sch, "exponent", json_integer(cfg->side[side].exponent));
        for (size_t p = 0; p < bs_settlement_parties(s, side); p++) {
            const struct bs_settle_party *pp = bs_settlement_party(s, side, p);
            if (pp->unmapped && pos_empty(&w->pos[side][p]))
                continue;
            json_array_append_new(parts, pos_obj(pp, &w->pos[side][p]));
            sum += w->pos[side][p].net;
        }
        json_object_set_new(sch, "participants", parts);
        json_object_set_new(sch, "net_sum", json_integer(sum));
        /* What the bridge sends the scheme in its 0500 (DE 74–89, DE 97 analogues). */
        json_object_set_new(sch, "totals_0500",
                            json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "credits_number",
                                      (json_int_t)b->refund_count, "credits_amount",
                                      (json_int_t)b->refund_amount, "debits_number",
                                      (json_int_t)b->count, "debits_amount", (json_int_t)b->amount,
                                      "debit_reversals_number", (json_int_t)b->rev_count,
                                      "debit_reversals_amount", (json_int_t)b->rev_amount,
                                      "fees_amount", (json_int_t)(b->interchange + b->bridge_fees),
                                      "net_settlement", (json_int_t)b->net));
        if (b->refund_rev_count) {
            json_t *t5 = json_object_get(sch, "totals_0500");
            json_object_set_new(t5, "credit_reversals_number",
                                json_integer((json_int_t)b->refund_rev_count));
            json_object_set_new(t5, "credit_reversals_amount", json_integer(b->refund_rev_amount));
        }
        json_array_append_new(schemes, sch);
        json_object_set_new(pos, cfg->side[side].currency, json_integer(b->net));
        json_object_set_new(exp, cfg->side[side].currency, json_integer(w->bridge_expected[side]));
        json_object_set_new(after, cfg->side[side].currency, json_integer(w->instr.residual[side]));
    }
    json_object_set_new(o, "schemes", schemes);
    {
        json_t *br = json_object(), *pr = json_object();
        for (int side = 0; side < 2; side++)
            json_object_set_new(
                pr, cfg->side[side].currency,
                json_integer(w->pos[side][bs_settlement_party_index(s, side, BS_SETTLE_BRIDGE, 0)]
                                 .principal));
        json_object_set_new(br, "positions", pos);
        json_object_set_new(br, "principal", pr);
        json_object_set_new(br, "principal_at_recorded_rates", exp);
        json_object_set_new(o, "bridge", br);
    }

    rate_text(w->instr.rate, buf, sizeof(buf));
    json_object_set_new(fx, "settlement_rate", json_string(buf));
    for (size_t i = 0; i < w->nrates; i++) {
        struct bs_rate r;
        char txt[32] = "?";
        if (bs_rate_from_de10(w->rates[i], 8, &r) == 0)
            rate_text(r, txt, sizeof(txt));
        json_array_append_new(rates, json_pack("{s:s,s:s,s:I}", "de10", w->rates[i], "rate", txt,
                                               "transactions", (json_int_t)w->rate_count[i]));
    }
    json_object_set_new(fx, "rates_applied", rates);
    if (w->rates_other)
        json_object_set_new(fx, "rates_not_listed", json_integer((json_int_t)w->rates_other));
    for (int a = 0; a < 2; a++)
        json_array_append_new(
            dirs, json_pack("{s:s,s:s,s:I,s:I,s:I,s:I}", "from", cfg->side[a].currency, "to",
                            cfg->side[!a].currency, "transactions", (json_int_t)w->fx[a].count,
                            "amount", (json_int_t)w->fx[a].amount, "billing",
                            (json_int_t)w->fx[a].billing, "markup", (json_int_t)w->fx[a].markup));
    json_object_set_new(fx, "directions", dirs);
    json_object_set_new(o, "fx", fx);

    if (w->instr.needed)
        in = json_pack("{s:b,s:s,s:s,s:s,s:I,s:{s:s,s:I},s:s}", "needed", 1, "payer",
                       cfg->side[w->instr.payer].name, "payee", cfg->side[w->instr.payee].name,
                       "currency", cfg->side[w->instr.payee].currency, "amount",
                       (json_int_t)w->instr.amount, "counter_value", "currency",
                       cfg->side[w->instr.payer].currency, "amount",
                       (json_int_t)w->instr.counter_value, "rate", buf);
    else
        in = json_pack("{s:b,s:s}", "needed", 0, "reason",
                       "the bridge's positions do not offset: each scheme settles its own");
    json_object_set_new(o, "instruction", in);
    json_object_set_new(o, "bridge_after_settlement", after);

    for (size_t i = 0; i < w->nadj; i++) {
        const struct bs_settle_adj *a = &w->adj[i];
        json_array_append_new(
            adj, json_pack("{s:s,s:I,s:s,s:I,s:I,s:o}", "rrn", a->rrn, "original_window",
                           (json_int_t)a->orig_window, "acquirer_scheme",
                           cfg->side[a->acq_side].name, "amount", (json_int_t)a->amount, "billing",
                           (json_int_t)a->billing, "reversed_at", iso_time(a->t)));
    }
    json_object_set_new(o, "adjustment_list", adj);
    return o;
}

static json_t *totals_obj(const struct bs_settle_totals *t)
{
    json_t *o = json_pack("{s:I,s:I}", "debits", (json_int_t)t->debits, "reversals",
                          (json_int_t)t->credits);

    if (t->amounts) {
        json_object_set_new(o, "debited", json_integer(t->debited));
        json_object_set_new(o, "reversed", json_integer(t->credited));
    }
    return o;
}

static json_t *recon_obj(const char *name, const char *role, const char *source,
                         const struct bs_settle_recon *r)
{
    return json_pack("{s:s,s:s,s:s,s:o,s:o,s:{s:I,s:I},s:s}", "participant", name, "role", role,
                     "scheme_source", source, "bridge_0500", totals_obj(&r->bridge), "scheme_0510",
                     totals_obj(&r->scheme), "difference", "count", (json_int_t)r->diff_count,
                     "amount", (json_int_t)r->diff_amount, "status",
                     r->in_balance ? "in balance" : "OUT OF BALANCE");
}

/* Reconcile with the schemes' own records and describe it; *@ret_out counts participants
 * out of balance, @names lists them. */
static json_t *reconcile(const struct bs_scenario *sc, struct bs_world *w, struct bs_settlement *s,
                         int *ret_out, char *names, size_t cap)
{
    json_t *o = json_object(), *schemes = json_array();
    struct bs_run_result r;
    size_t nlen = 0;

    bs_world_result(w, &r);
    *ret_out = 0;
    names[0] = '\0';
    /* Issuers: their ledgers. The world lists issuer hosts as "<network>.<id>". */
    for (size_t i = 0; i < bs_world_issuers(w); i++) {
        const char *nm = bs_world_issuer_name(w, i);
        struct bs_ledger_totals lt;
        struct bs_settle_totals st;
        for (int n = 0; n < 2; n++)
            for (size_t k = 0; k < sc->networks[n].nissuers; k++) {
                char full[BS_SC_NAME_MAX];
                int idx = bs_settlement_party_index(s, n, BS_SETTLE_ISSUER, k);
                snprintf(full, sizeof(full), "%s.%s", sc->networks[n].name,
                         sc->networks[n].issuers[k].id);
                if (strcmp(full, nm) != 0 || idx < 0)
                    continue;
                bs_ledger_totals(bs_issuer_ledger(bs_world_issuer(w, i)), &lt);
                st = (struct bs_settle_totals){ lt.debits, lt.credits, lt.debited, lt.credited,
                                                true };
                bs_settlement_reconcile(s, n, (size_t)idx, &st);
            }
    }
    /* Acquirers: the approvals their terminals received, per scheme. */
    for (int n = 0; n < 2; n++) {
        struct bs_settle_totals st = { 0, 0, 0, 0, false };
        for (size_t f = 0; f < r.nflows; f++) {
            const struct bs_type_outcomes *bt = r.flows[f].by_type;
            if (sc->workload.flows[f].from != n)
                continue;
            /* Debits: approved purchases and withdrawals (cancelled ones too); credits:
             * approved refunds, and the cardholder cancellations of approved purchases,
             * which reverse them. Balance inquiries move no money. */
            st.debits += bt[BS_TXN_PURCHASE].approved + bt[BS_TXN_ATM_WITHDRAWAL].approved +
                         bt[BS_TXN_CANCELLATION].approved;
            st.credits += bt[BS_TXN_REFUND].approved + bt[BS_TXN_CANCELLATION].approved;
        }
        bs_settlement_reconcile(s, n, SIZE_MAX, &st);
    }
    for (int n = 0; n < 2; n++) {
        json_t *sch = json_object(), *entries = json_array();
        int out = 0;
        const struct bs_settle_recon *rc = bs_settlement_recon(s, n, SIZE_MAX);
        char label[64];
        snprintf(label, sizeof(label), "%s acquirers", sc->networks[n].name);
        json_array_append_new(entries,
                              recon_obj(label, "acquirer",
                                        "approvals received by the scheme's terminals (counts "
                                        "only: acquirer hosts keep no ledger)",
                                        rc));
        if (!rc->in_balance) {
            out++;
            nlen += (size_t)snprintf(names + nlen, nlen < cap ? cap - nlen : 0, "%s%s",
                                     nlen ? ", " : "", label);
        }
        for (size_t p = 0; p < bs_settlement_parties(s, n); p++) {
            const struct bs_settle_party *pp = bs_settlement_party(s, n, p);
            rc = bs_settlement_recon(s, n, p);
            if (pp->role != BS_SETTLE_ISSUER || !rc->done)
                continue;
            json_array_append_new(entries,
                                  recon_obj(pp->name, "issuer", "the issuer host's ledger", rc));
            if (!rc->in_balance) {
                out++;
                nlen += (size_t)snprintf(names + nlen, nlen < cap ? cap - nlen : 0, "%s%s.%s",
                                         nlen ? ", " : "", sc->networks[n].name, pp->name);
            }
        }
        json_object_set_new(sch, "scheme", json_string(sc->networks[n].name));
        json_object_set_new(sch, "currency", json_string(sc->networks[n].currency.code));
        json_object_set_new(sch, "exponent", json_integer(sc->networks[n].currency.exponent));
        json_object_set_new(sch, "status", json_string(out ? "OUT OF BALANCE" : "in balance"));
        json_object_set_new(sch, "participants", entries);
        json_array_append_new(schemes, sch);
        *ret_out += out;
    }
    json_object_set_new(o, "basis",
                        json_string("0500 from the bridge vs 0510 from the scheme, cumulative "
                                    "over the run; compared on net count (debits - reversals) "
                                    "and, where the scheme side has amounts, net amount"));
    json_object_set_new(o, "schemes", schemes);
    if (nlen >= cap && cap > 4)
        memcpy(names + cap - 4, "...", 4);
    return o;
}

/* A run counter by its summary.json name; false when this build has no such counter. */
static bool counter(const int64_t *stats, const char *name, int64_t *ret)
{
    for (int i = 0; i < BS_STAT_COUNT; i++) {
        if (strcmp(bs_stat_name((enum bs_stat)i), name) == 0) {
            *ret = stats[i];
            return true;
        }
    }
    return false;
}

static void add_exc(json_t *arr, const char *kind, int64_t count, const char *source,
                    const char *detail)
{
    json_t *o =
        json_pack("{s:s,s:I,s:s}", "kind", kind, "count", (json_int_t)count, "source", source);

    if (detail && *detail)
        json_object_set_new(o, "detail", json_string(detail));
    json_array_append_new(arr, o);
}

static json_t *exceptions(const struct bs_settlement *s, struct bs_world *w, int out_of_balance,
                          const char *oob_names)
{
    static const struct {
        const char *kind, *counter;
    } run[] = {
        { "reversals given up (maximum repeats)", "reversal_exceptions" },
        { "late responses", "late_responses" },
        { "duplicates answered with the stored response", "duplicates_answered" },
        { "duplicates rejected (RC 94)", "duplicates_rejected" },
        { "signature failures (RC 63)", "signature_failures" },
        { "format errors (RC 30)", "format_errors" },
        { "unmatched responses", "unmatched_responses" },
        { "bridge timeouts", "bridge_timeouts" },
        { "advice exceptions", "advice_exceptions" },
    };
    const struct bs_settle_stats *st = bs_settlement_stats(s);
    json_t *arr = json_array();
    struct bs_run_result r;
    uint64_t adj = 0;
    size_t open_rev, open_adv;
    int64_t v;
    char detail[160];

    bs_world_result(w, &r);
    bs_world_open_queues(w, &open_rev, &open_adv);
    add_exc(arr, "open reversals", (int64_t)open_rev,
            "reversal queues of the acquirers, switches and the bridge at the end", NULL);
    add_exc(arr, "pending advices", (int64_t)open_adv,
            "store-and-forward queues of the switches and the bridge at the end", NULL);
    for (size_t i = 0; i < sizeof(run) / sizeof(run[0]); i++)
        if (counter(r.stats, run[i].counter, &v))
            add_exc(arr, run[i].kind, v, "run counters", NULL);
    for (size_t i = 0; i < bs_settlement_windows(s); i++)
        adj += bs_settlement_window(s, i)->adjustments;
    add_exc(arr, "reversals after cutover (adjustments in a later window)", (int64_t)adj,
            "settlement", NULL);
    add_exc(arr, "stand-in transactions committed", (int64_t)st->stand_in, "settlement", NULL);
    add_exc(arr, "duplicate clearing records (not posted)", (int64_t)st->duplicates, "settlement",
            NULL);
    add_exc(arr, "repeated reversals (not posted twice)", (int64_t)st->repeat_reversals,
            "settlement", NULL);
    add_exc(arr, "reversals of unknown transactions (not posted)", (int64_t)st->orphan_reversals,
            "settlement", NULL);
    snprintf(detail, sizeof(detail), "last error %s", bs_errname(st->last_error));
    add_exc(arr, "clearing records rejected", (int64_t)st->rejected, "settlement",
            st->rejected ? detail : NULL);
    add_exc(arr, "unmapped acquirers (DE 32)", (int64_t)st->unmapped_acquirers, "settlement", NULL);
    add_exc(arr, "unmapped issuers (BIN)", (int64_t)st->unmapped_issuers, "settlement", NULL);
    snprintf(detail, sizeof(detail), "first RRN %s", st->mismatch_rrn);
    add_exc(arr, "DE 6 not DE 4 at DE 10", (int64_t)st->rate_mismatches, "settlement",
            st->rate_mismatches ? detail : NULL);
    add_exc(arr, "participants out of balance", out_of_balance, "reconciliation", oob_names);
    return arr;
}

json_t *bs_settlement_report_build(const struct bs_scenario *sc, struct bs_world *w)
{
    struct bs_settlement *s = bs_world_settlement(w);
    const struct bs_settlement_cfg *cfg;
    struct bs_settle_check chk;
    json_t *o, *wins, *inv, *fees, *recon;
    char buf[64], names[512];
    int oob = 0;

    if (!s)
        return NULL;
    cfg = bs_settlement_config(s);
    o = json_object();
    if (!o)
        return NULL;
    json_object_set_new(o, "scenario", json_string(sc->name));
    {
        /* A decimal string, as in the journal headers: 64-bit seeds do not fit
         * JSON readers' int64 or double. */
        char seedbuf[24];

        snprintf(seedbuf, sizeof(seedbuf), "%llu", (unsigned long long)sc->seed);
        json_object_set_new(o, "seed", json_string(seedbuf));
    }
    json_object_set_new(o, "mode", json_string(sc->realtime ? "realtime" : "virtual"));
    snprintf(buf, sizeof(buf), "%s/%s", sc->bridge.fx_base, sc->bridge.fx_quote);
    json_object_set_new(o, "pair", json_string(buf));
    tod_text(cfg->cutover, buf, sizeof(buf));
    json_object_set_new(o, "cutover", json_string(buf));
    {
        json_t *zones = json_object();
        for (int i = 0; i < 2; i++) {
            offset_text(cfg->side[i].utc_offset_min, buf, sizeof(buf));
            json_object_set_new(zones, cfg->side[i].name, json_string(buf));
        }
        json_object_set_new(o, "business_day_zones", zones);
    }
    rate_text(cfg->mid, buf, sizeof(buf));
    json_object_set_new(o, "mid_rate", json_string(buf));
    if (cfg->rate_follows_mid && cfg->nmid_changes) {
        json_t *ch = json_array();
        for (size_t i = 0; i < cfg->nmid_changes; i++) {
            rate_text(cfg->mid_changes[i].mid, buf, sizeof(buf));
            json_array_append_new(ch, json_pack("{s:o,s:s}", "at", iso_time(cfg->mid_changes[i].at),
                                                "mid_rate", buf));
        }
        json_object_set_new(o, "mid_rate_changes", ch);
        json_object_set_new(o, "settlement_rate",
                            json_string("the mid rate in force at each window's close"));
    } else {
        rate_text(cfg->rate, buf, sizeof(buf));
        json_object_set_new(o, "settlement_rate", json_string(buf));
    }
    json_object_set_new(o, "sign_convention", json_string(SIGN_CONVENTION));
    fees = json_object();
    {
        json_t *atm = json_object(), *bpos = json_object(), *batm = json_object();
        for (int i = 0; i < 2; i++) {
            json_object_set_new(atm, cfg->side[i].currency,
                                json_integer(cfg->fees.atm_interchange[i]));
            json_object_set_new(bpos, cfg->side[i].currency,
                                json_integer(cfg->fees.bridge[BS_CH_POS][i]));
            json_object_set_new(batm, cfg->side[i].currency,
                                json_integer(cfg->fees.bridge[BS_CH_ATM][i]));
        }
        json_object_set_new(fees, "interchange",
                            json_pack("{s:o,s:I}", "atm_fixed", atm, "pos_bps",
                                      (json_int_t)cfg->fees.pos_interchange_bps));
        json_object_set_new(fees, "bridge", json_pack("{s:o,s:o}", "atm", batm, "pos", bpos));
    }
    json_object_set_new(o, "fees", fees);

    wins = json_array();
    for (size_t i = 0; i < bs_settlement_windows(s); i++)
        json_array_append_new(wins, window_obj(s, bs_settlement_window(s, i)));
    json_object_set_new(o, "windows", wins);

    recon = bs_settlement_closed(s) ? reconcile(sc, w, s, &oob, names, sizeof(names)) : NULL;
    json_object_set_new(o, "reconciliation", recon ? recon : json_null());
    json_object_set_new(o, "exceptions", exceptions(s, w, oob, names));

    bs_settlement_check(s, &chk);
    inv = json_array();
    json_array_append_new(inv, json_pack("{s:s,s:b,s:s}", "name", "settlement_nets_zero", "ok",
                                         chk.nets_zero, "detail", chk.nets));
    json_array_append_new(inv, json_pack("{s:s,s:b,s:s}", "name", "settlement_positions_agree",
                                         "ok", chk.positions_agree, "detail", chk.positions));
    json_array_append_new(inv, json_pack("{s:s,s:b,s:s}", "name", "settlement_one_window", "ok",
                                         chk.one_window, "detail", chk.window));
    json_object_set_new(o, "invariants", inv);
    json_object_set_new(o, "records",
                        json_pack("{s:I,s:I}", "financial",
                                  (json_int_t)bs_settlement_stats(s)->financial, "reversals",
                                  (json_int_t)bs_settlement_stats(s)->reversals));
    return o;
}

int bs_settlement_report_failed(const json_t *report)
{
    const json_t *v;
    size_t i;
    int failed = 0;

    json_array_foreach(json_object_get(report, "invariants"), i, v) failed +=
        !json_is_true(json_object_get(v, "ok"));
    return failed;
}

/* ---- the readable report ----------------------------------------------------------- */

static long long geti(const json_t *o, const char *k)
{
    return (long long)json_integer_value(json_object_get(o, k));
}

static const char *gets_(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));

    return s ? s : "";
}

/* "2026-03-02T21:00:00.000000Z" → "2026-03-02 21:00:00Z" (fraction kept when non-zero). */
static const char *short_time(const char *iso, char out[32])
{
    size_t n = strlen(iso);

    snprintf(out, 32, "%s", iso);
    if (n == 27 && strcmp(iso + 19, ".000000Z") == 0)
        snprintf(out, 32, "%.10s %.8sZ", iso, iso + 11);
    else if (n > 11)
        out[10] = ' ';
    return out;
}

/* Currency exponent of the scheme named @scheme in a window's schemes. */
static unsigned exponent_of(const json_t *schemes, const char *currency)
{
    const json_t *v;
    size_t i;

    json_array_foreach(schemes, i, v) if (strcmp(gets_(v, "currency"), currency) ==
                                          0) return (unsigned)geti(v, "exponent");
    return 0;
}

static void print_window(const json_t *w, FILE *out)
{
    const json_t *schemes = json_object_get(w, "schemes"), *sch, *p, *v;
    const json_t *br = json_object_get(w, "bridge"), *in = json_object_get(w, "instruction");
    const char *k;
    char t1[32], t2[32], t3[32], m[6][64];
    size_t i, j;

    fprintf(out, "  window %lld  %s -> %s  (closed by %s; cutover %s)\n", geti(w, "window"),
            short_time(gets_(w, "opened"), t1), short_time(gets_(w, "closed"), t2),
            gets_(w, "closed_by"), short_time(gets_(w, "cutover"), t3));
    fprintf(out, "    business date");
    json_object_foreach((json_t *)json_object_get(w, "business_date"), k, v)
        fprintf(out, "  %s %s", k, json_string_value(v));
    fprintf(out,
            "\n    records        %lld transactions, %lld reversals (%lld adjustments), "
            "%lld in stand-in\n",
            geti(w, "transactions"), geti(w, "reversals"), geti(w, "adjustments"),
            geti(w, "stand_in"));
    json_array_foreach(schemes, i, sch)
    {
        unsigned e = (unsigned)geti(sch, "exponent");
        fprintf(out, "    %-8s %-3s  %-16s %6s %17s %5s %17s %13s %13s %17s\n",
                gets_(sch, "scheme"), gets_(sch, "currency"), "participant", "txns", "amount",
                "rev", "principal", "interchange", "bridge fees", "net");
        json_array_foreach(json_object_get(sch, "participants"), j, p)
            fprintf(out, "                   %-16.16s %6lld %17s %5lld %17s %13s %13s %17s\n",
                    gets_(p, "participant"), geti(p, "transactions"),
                    money(geti(p, "amount"), e, m[0]), geti(p, "reversals"),
                    money(geti(p, "principal"), e, m[1]), money(geti(p, "interchange"), e, m[2]),
                    money(geti(p, "bridge_fees"), e, m[3]), money(geti(p, "net"), e, m[4]));
        fprintf(out, "                   %-16s %6s %17s %5s %17s %13s %13s %17s\n", "sum of nets",
                "", "", "", "", "", "", money(geti(sch, "net_sum"), e, m[5]));
    }
    fprintf(out, "    bridge         positions");
    json_object_foreach((json_t *)json_object_get(br, "positions"), k, v) fprintf(
        out, "  %s %s", k, money((int64_t)json_integer_value(v), exponent_of(schemes, k), m[0]));
    fprintf(out, "\n                   principal");
    json_object_foreach((json_t *)json_object_get(br, "principal"), k, v)
    {
        const json_t *x = json_object_get(json_object_get(br, "principal_at_recorded_rates"), k);
        fprintf(out, "  %s %s (%s at DE 10)", k,
                money((int64_t)json_integer_value(v), exponent_of(schemes, k), m[0]),
                json_integer_value(v) == json_integer_value(x) ? "=" : "DIFFERS");
    }
    fprintf(out, "\n    fx             settlement rate %s;",
            gets_(json_object_get(w, "fx"), "settlement_rate"));
    json_array_foreach(json_object_get(json_object_get(w, "fx"), "rates_applied"), i, v)
        fprintf(out, " applied %s x%lld", gets_(v, "rate"), geti(v, "transactions"));
    fprintf(out, "\n");
    json_array_foreach(json_object_get(json_object_get(w, "fx"), "directions"), i, v) fprintf(
        out, "                   %s->%s %lld txns  %s %s -> %s %s  (markup %s %s)\n",
        gets_(v, "from"), gets_(v, "to"), geti(v, "transactions"), gets_(v, "from"),
        money(geti(v, "amount"), exponent_of(schemes, gets_(v, "from")), m[0]), gets_(v, "to"),
        money(geti(v, "billing"), exponent_of(schemes, gets_(v, "to")), m[1]), gets_(v, "to"),
        money(geti(v, "markup"), exponent_of(schemes, gets_(v, "to")), m[2]));
    if (json_is_true(json_object_get(in, "needed"))) {
        const json_t *cv = json_object_get(in, "counter_value");
        fprintf(out, "    instruction    %s pays %s  %s %s  = %s %s at %s\n", gets_(in, "payer"),
                gets_(in, "payee"), gets_(in, "currency"),
                money(geti(in, "amount"), exponent_of(schemes, gets_(in, "currency")), m[0]),
                gets_(cv, "currency"),
                money(geti(cv, "amount"), exponent_of(schemes, gets_(cv, "currency")), m[1]),
                gets_(in, "rate"));
    } else {
        fprintf(out, "    instruction    none: %s\n", gets_(in, "reason"));
    }
    fprintf(out, "    bridge keeps  ");
    json_object_foreach((json_t *)json_object_get(w, "bridge_after_settlement"), k, v) fprintf(
        out, "  %s %s", k, money((int64_t)json_integer_value(v), exponent_of(schemes, k), m[0]));
    fprintf(out, "  (markup and fees, after settlement)\n");
    json_array_foreach(json_object_get(w, "adjustment_list"), i, v)
        fprintf(out, "    adjustment     RRN %s from window %lld, %s-acquired, reversed %s\n",
                gets_(v, "rrn"), geti(v, "original_window"), gets_(v, "acquirer_scheme"),
                short_time(gets_(v, "reversed_at"), t1));
    if ((long long)json_array_size(json_object_get(w, "adjustment_list")) < geti(w, "adjustments"))
        fprintf(out, "    adjustment     ... %lld in all\n", geti(w, "adjustments"));
}

void bs_settlement_report_print(const json_t *r, FILE *out)
{
    const json_t *v, *sch, *p, *recon = json_object_get(r, "reconciliation");
    const json_t *fees = json_object_get(r, "fees");
    const json_t *ic = json_object_get(fees, "interchange"), *bf = json_object_get(fees, "bridge");
    const char *k;
    size_t i, j;

    fprintf(out, "settlement  %s  cutover %s  settlement rate %s (mid %s)\n", gets_(r, "pair"),
            gets_(r, "cutover"), gets_(r, "settlement_rate"), gets_(r, "mid_rate"));
    fprintf(out, "  fees (minor units)  ATM interchange");
    json_object_foreach((json_t *)json_object_get(ic, "atm_fixed"), k, v)
        fprintf(out, " %s %lld", k, (long long)json_integer_value(v));
    fprintf(out, "; POS interchange %lld bps; bridge ATM", geti(ic, "pos_bps"));
    json_object_foreach((json_t *)json_object_get(bf, "atm"), k, v)
        fprintf(out, " %s %lld", k, (long long)json_integer_value(v));
    fprintf(out, ", POS");
    json_object_foreach((json_t *)json_object_get(bf, "pos"), k, v)
        fprintf(out, " %s %lld", k, (long long)json_integer_value(v));
    fprintf(out, "\n  sign: + receives from its scheme, - pays\n");
    json_array_foreach(json_object_get(r, "windows"), i, v) print_window(v, out);
    if (json_is_object(recon)) {
        fprintf(out, "  reconciliation (0500 bridge vs 0510 scheme, run to date, on nets)\n");
        fprintf(out, "    %-8s %-18s %21s %19s %21s %19s\n", "", "", "bridge debits-rev",
                "net amount", "scheme debits-rev", "net amount");
        json_array_foreach(json_object_get(recon, "schemes"), i, sch)
        {
            unsigned e = (unsigned)geti(sch, "exponent");
            char m[2][64], c[2][48];
            fprintf(out, "    %-8s %s %s\n", gets_(sch, "scheme"), gets_(sch, "currency"),
                    gets_(sch, "status"));
            json_array_foreach(json_object_get(sch, "participants"), j, p)
            {
                const json_t *b = json_object_get(p, "bridge_0500");
                const json_t *s = json_object_get(p, "scheme_0510");
                bool amounts = json_object_get(s, "debited") != NULL;
                snprintf(c[0], sizeof(c[0]), "%lld - %lld", geti(b, "debits"),
                         geti(b, "reversals"));
                snprintf(c[1], sizeof(c[1]), "%lld - %lld", geti(s, "debits"),
                         geti(s, "reversals"));
                fprintf(out, "      %-24s %21s %19s %21s %19s   %s\n", gets_(p, "participant"),
                        c[0], money(geti(b, "debited") - geti(b, "reversed"), e, m[0]), c[1],
                        amounts ? money(geti(s, "debited") - geti(s, "reversed"), e, m[1])
                                : "(counts only)",
                        gets_(p, "status"));
            }
        }
    }
    fprintf(out, "  exceptions ");
    j = 0;
    json_array_foreach(json_object_get(r, "exceptions"), i, v)
    {
        if (!geti(v, "count"))
            continue;
        fprintf(out, "%s%s %lld", j++ ? ", " : " ", gets_(v, "kind"), geti(v, "count"));
        if (json_object_get(v, "detail"))
            fprintf(out, " (%s)", gets_(v, "detail"));
    }
    fprintf(out, "%s\n", j ? "" : " none");
    fprintf(out, "  invariants ");
    json_array_foreach(json_object_get(r, "invariants"), i, v) fprintf(
        out, " %s %s", gets_(v, "name"), json_is_true(json_object_get(v, "ok")) ? "ok" : "FAILED");
    fprintf(out, "\n");
}
