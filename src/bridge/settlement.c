/*
 * Clearing, fees, settlement windows, net settlement and reconciliation; see
 * bridgesim/settlement.h and docs/settlement.md.
 *
 * Every record is posted in two phases: its effect on the open window is computed into
 * copies of the figures it touches with overflow-checked arithmetic, and only committed
 * when all of it fits, so a failure never leaves half a transaction in the positions.
 */
#include <stdio.h>
#include <string.h>

#include <bridgesim/network.h>
#include <bridgesim/settlement.h>

#include "common/map.h"

__extension__ typedef __int128 i128;

/*
 * One committed transaction, kept to match its reversal and to recognise a duplicate
 * commit, for cfg.retention after its commit time (issue #8: memory follows the work in
 * flight, not the run length). Everything the windows and the invariants need of it is
 * summed into the window when it is posted.
 */
struct txn {
    uint64_t h;                             /* key_hash() of its key */
    char acq[12], stan[7], dt[11], rrn[13]; /* the acquiring side's DE 32, 11, 7, 37 */
    uint8_t acq_side, channel;
    int8_t dir; /* +1 a debit to the cardholder (purchase, cash); −1 a refund */
    bool reversed;
    uint16_t acq_party, iss_party;
    uint32_t window; /* index into s->w */
    bs_time_us t;
    int64_t amount, billing;
    int64_t conv, markup; /* DE 4 at DE 10, and billing − DE 4 at the mid rate */
};

/* The commit times a window took (financial and reversal records), for the invariant that
 * each lies in the window's span: checking the earliest and the latest checks them all. */
struct span {
    bs_time_us lo, hi;
    bool any;
};

struct bs_settlement {
    struct bs_settlement_cfg cfg;
    /* Storage for what cfg points to. */
    char side_name[2][33];
    struct bs_settle_party_cfg pcfg[2][2][BS_SETTLE_MAX_ROLE]; /* side, role, k */
    struct bs_settle_bin bins[2][BS_SETTLE_MAX_ROLE][BS_SETTLE_MAX_BINS];

    struct bs_fx_change mid_changes[BS_SETTLE_MAX_RATE_CHANGES];
    struct bs_settle_party parties[2][BS_SETTLE_MAX_PARTIES];
    size_t nparties[2];
    size_t first[2][2]; /* side, role (acquirer/issuer): index of the first participant */
    size_t unmapped[2][2];
    size_t bridge[2];
    struct bs_bin_table bin_table[2]; /* BIN → issuer participant index */
    int base_side;

    struct bs_settle_window *w;
    struct span *span; /* one per window */
    size_t nw, capw;
    bool closed;

    /* Transactions within the retention, in commit order: a ring of capt (a power of two)
     * slots; the transaction numbered n (counting every one ever posted, mod 2^32) is in
     * slot n & (capt − 1) while head <= n < head + nt. by_key maps key hashes to numbers. */
    struct txn *t;
    uint32_t head;
    size_t nt, capt, maxt;
    struct bs__map by_key;
    uint64_t posted, reversed; /* financial and reversal records accepted, whole run */
    /* The first reversal posted in a window before its original's (never, by construction;
     * checked so the invariant stays true to its word). */
    bool misordered;
    char misordered_rrn[13];

    struct bs_settle_stats stats;
    bool overflow;
    struct bs_settle_recon recon[2][BS_SETTLE_MAX_PARTIES];
    struct bs_settle_recon recon_acq[2];
};

const char *bs_settle_role_name(enum bs_settle_role r)
{
    switch (r) {
    case BS_SETTLE_ACQUIRER:
        return "acquirer";
    case BS_SETTLE_ISSUER:
        return "issuer";
    case BS_SETTLE_BRIDGE:
        return "bridge";
    }
    return "?";
}

/* ---- time --------------------------------------------------------------------------- */

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;

    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

bs_time_us bs_settle_next_cutover(bs_time_us t, bs_time_us tod)
{
    return (floor_div(t - tod, BS_SETTLE_DAY) + 1) * BS_SETTLE_DAY + tod;
}

uint32_t bs_settle_business_date(bs_time_us cutover, int utc_offset_min)
{
    int y, m, d;

    /* The window is the 24 hours before its cutover; its middle falls on the local day
     * that holds most of it, whatever the cutover's local time (docs/settlement.md). */
    bs_civil_from_us(cutover - BS_SETTLE_DAY / 2, utc_offset_min, &y, &m, &d, NULL, NULL, NULL,
                     NULL);
    return (uint32_t)(y * 10000 + m * 100 + d);
}

/* ---- configuration ------------------------------------------------------------------ */

static bool copy_str(char *dst, size_t cap, const char *src)
{
    size_t n;

    if (!src)
        return false;
    n = strlen(src);
    if (n >= cap)
        return false;
    memcpy(dst, src, n + 1);
    return true;
}

static bool digits_only(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return false;
    return true;
}

static void add_party(struct bs_settlement *s, int side, enum bs_settle_role role, bool unmapped,
                      const char *name, const char *inst)
{
    struct bs_settle_party *p = &s->parties[side][s->nparties[side]++];

    p->side = side;
    p->role = role;
    p->unmapped = unmapped;
    snprintf(p->name, sizeof(p->name), "%s", name);
    snprintf(p->inst_id, sizeof(p->inst_id), "%s", inst ? inst : "");
}

/* Copy and index one side's participants. */
static int setup_side(struct bs_settlement *s, int side)
{
    const struct bs_settle_side_cfg *sc = &s->cfg.side[side];
    const struct bs_settle_party_cfg *src[2] = { sc->acquirers, sc->issuers };
    size_t n[2] = { sc->nacquirers, sc->nissuers };
    int rc;

    if (!copy_str(s->side_name[side], sizeof(s->side_name[side]), sc->name) || sc->exponent > 18 ||
        sc->numeric == 0)
        return BS_EINVAL;
    s->cfg.side[side].name = s->side_name[side];
    for (int role = 0; role < 2; role++) {
        if (n[role] > BS_SETTLE_MAX_ROLE || (n[role] && !src[role]))
            return BS_EINVAL;
        s->first[side][role] = s->nparties[side];
        for (size_t k = 0; k < n[role]; k++) {
            const struct bs_settle_party_cfg *pc = &src[role][k];
            struct bs_settle_party_cfg *dst = &s->pcfg[side][role][k];
            char name[33], inst[12] = "";

            if (!copy_str(name, sizeof(name), pc->name) || !name[0])
                return BS_EINVAL;
            if (pc->inst_id && (!copy_str(inst, sizeof(inst), pc->inst_id) || !digits_only(inst)))
                return BS_EINVAL;
            if (role == BS_SETTLE_ACQUIRER && !inst[0])
                return BS_EINVAL;
            if (role == BS_SETTLE_ISSUER &&
                (pc->nbins == 0 || pc->nbins > BS_SETTLE_MAX_BINS || !pc->bins))
                return BS_EINVAL;
            add_party(s, side, (enum bs_settle_role)role, false, name, inst);
            *dst = *pc;
            dst->name = s->parties[side][s->nparties[side] - 1].name;
            dst->inst_id = s->parties[side][s->nparties[side] - 1].inst_id;
            dst->bins = NULL;
            if (role == BS_SETTLE_ISSUER) {
                memcpy(s->bins[side][k], pc->bins, pc->nbins * sizeof(*pc->bins));
                dst->bins = s->bins[side][k];
                for (size_t b = 0; b < pc->nbins; b++) {
                    rc = bs_bin_table_add(&s->bin_table[side], pc->bins[b].lo, pc->bins[b].hi,
                                          pc->bins[b].digits, (uint32_t)(s->nparties[side] - 1));
                    if (rc)
                        return rc;
                }
            } else {
                for (size_t j = 0; j < k; j++)
                    if (strcmp(s->pcfg[side][role][j].inst_id, dst->inst_id) == 0)
                        return BS_EEXIST;
            }
        }
        s->unmapped[side][role] = s->nparties[side];
        add_party(s, side, (enum bs_settle_role)role, true, "(unmapped)", NULL);
    }
    s->cfg.side[side].acquirers = s->pcfg[side][BS_SETTLE_ACQUIRER];
    s->cfg.side[side].issuers = s->pcfg[side][BS_SETTLE_ISSUER];
    s->bridge[side] = s->nparties[side];
    add_party(s, side, BS_SETTLE_BRIDGE, false, "bridge", NULL);
    return 0;
}

static bool valid_rate(struct bs_rate r)
{
    return r.num > 0 && r.scale <= 18;
}

int bs_settlement_new(const struct bs_settlement_cfg *cfg, struct bs_settlement **ret)
{
    struct bs_settlement *s;
    int rc;

    if (!cfg || !ret)
        return BS_EINVAL;
    if (cfg->side[0].numeric == cfg->side[1].numeric || !valid_rate(cfg->rate) ||
        !valid_rate(cfg->mid) || cfg->cutover < 0 || cfg->cutover >= BS_SETTLE_DAY ||
        cfg->fees.pos_interchange_bps > 10000 || cfg->max_txns > BS_SETTLE_MAX_TXNS ||
        cfg->retention < 0)
        return BS_EINVAL;
    if (cfg->base_currency != cfg->side[0].numeric && cfg->base_currency != cfg->side[1].numeric)
        return BS_EINVAL;
    for (int i = 0; i < 2; i++) {
        if (cfg->fees.atm_interchange[i] < 0)
            return BS_EINVAL;
        for (int c = 0; c < BS_CH_COUNT; c++)
            if (cfg->fees.bridge[c][i] < 0)
                return BS_EINVAL;
    }
    if (cfg->nmid_changes > BS_SETTLE_MAX_RATE_CHANGES || (cfg->nmid_changes && !cfg->mid_changes))
        return BS_EINVAL;
    for (size_t i = 0; i < cfg->nmid_changes; i++)
        if (!valid_rate(cfg->mid_changes[i].mid) ||
            (i && cfg->mid_changes[i].at <= cfg->mid_changes[i - 1].at))
            return BS_EINVAL;
    s = bs_calloc(1, sizeof(*s));
    if (!s)
        return BS_ENOMEM;
    s->cfg = *cfg;
    if (cfg->nmid_changes)
        memcpy(s->mid_changes, cfg->mid_changes, cfg->nmid_changes * sizeof(*cfg->mid_changes));
    s->cfg.mid_changes = s->mid_changes;
    s->maxt = cfg->max_txns ? cfg->max_txns : BS_SETTLE_MAX_TXNS;
    s->base_side = cfg->base_currency == cfg->side[0].numeric ? 0 : 1;
    bs_bin_table_init(&s->bin_table[0]);
    bs_bin_table_init(&s->bin_table[1]);
    for (int i = 0; i < 2; i++) {
        rc = setup_side(s, i);
        if (rc)
            goto fail_bins;
    }
    rc = bs__map_init(&s->by_key, 1024, s->maxt);
    if (rc)
        goto fail_bins;
    *ret = s;
    return 0;
fail_bins:
    bs_bin_table_deinit(&s->bin_table[0]);
    bs_bin_table_deinit(&s->bin_table[1]);
    bs_free(s);
    return rc;
}

void bs_settlement_free(struct bs_settlement *s)
{
    if (!s)
        return;
    bs__map_deinit(&s->by_key);
    bs_bin_table_deinit(&s->bin_table[0]);
    bs_bin_table_deinit(&s->bin_table[1]);
    bs_free(s->t);
    bs_free(s->w);
    bs_free(s->span);
    bs_free(s);
}

/* ---- windows ------------------------------------------------------------------------ */

static int open_window(struct bs_settlement *s, bs_time_us opened, bs_time_us cutover)
{
    struct bs_settle_window *w;

    if (s->nw >= BS_SETTLE_MAX_WINDOWS)
        return BS_ELIMIT;
    if (s->nw == s->capw) {
        size_t cap = s->capw ? s->capw * 2 : 2;
        if (cap > BS_SETTLE_MAX_WINDOWS)
            cap = BS_SETTLE_MAX_WINDOWS;
        struct span *sp;
        w = bs_realloc(s->w, cap * sizeof(*w));
        if (!w)
            return BS_ENOMEM;
        s->w = w;
        sp = bs_realloc(s->span, cap * sizeof(*sp));
        if (!sp)
            return BS_ENOMEM;
        s->span = sp;
        s->capw = cap;
    }
    memset(&s->span[s->nw], 0, sizeof(*s->span));
    w = &s->w[s->nw];
    memset(w, 0, sizeof(*w));
    w->seq = (uint32_t)s->nw + 1;
    w->opened = opened;
    w->cutover = cutover;
    for (int i = 0; i < 2; i++)
        w->business_date[i] = bs_settle_business_date(cutover, s->cfg.side[i].utc_offset_min);
    s->nw++;
    return 0;
}

/* The bridge's mid rate in force at @t. */
static struct bs_rate mid_at(const struct bs_settlement *s, bs_time_us t)
{
    struct bs_rate r = s->cfg.mid;

    for (size_t i = 0; i < s->cfg.nmid_changes && s->cfg.mid_changes[i].at <= t; i++)
        r = s->cfg.mid_changes[i].mid;
    return r;
}

/*
 * The cross-border instruction: the bridge's nets in the two schemes offset when one is
 * short and the other long; only the short position crosses the border, converted once
 * at the settlement rate into the long side's currency (docs/settlement.md).
 */
static int instruct(const struct bs_settlement *s, struct bs_settle_window *w, bs_time_us at)
{
    struct bs_settle_instruction in;
    int64_t p[2] = { w->pos[0][s->bridge[0]].net, w->pos[1][s->bridge[1]].net };
    int rc;

    memset(&in, 0, sizeof(in));
    /* One rate per window: the configured settlement rate, or the mid in force at the
     * close when the settlement follows the bridge's schedule (docs/settlement.md). */
    in.rate = s->cfg.rate_follows_mid ? mid_at(s, at) : s->cfg.rate;
    in.residual[0] = p[0];
    in.residual[1] = p[1];
    in.payer = 1;
    in.payee = 0;
    for (int short_side = 0; short_side < 2; short_side++) {
        int long_side = !short_side;
        if (!(p[short_side] < 0 && p[long_side] > 0))
            continue;
        in.needed = true;
        in.payee = short_side;
        in.payer = long_side;
        in.amount = -p[short_side];
        rc = bs_fx_convert(in.amount, s->cfg.side[short_side].exponent,
                           s->cfg.side[long_side].exponent, in.rate, short_side == s->base_side,
                           &in.counter_value);
        if (rc)
            return rc;
        in.residual[short_side] = 0;
        if (__builtin_sub_overflow(p[long_side], in.counter_value, &in.residual[long_side]))
            return BS_EOVERFLOW;
    }
    w->instr = in;
    return 0;
}

static int close_window(struct bs_settlement *s, struct bs_settle_window *w, bs_time_us at,
                        bool by_cutover)
{
    int rc = instruct(s, w, at);

    if (rc == BS_EOVERFLOW)
        s->overflow = true;
    else if (rc)
        return rc;
    w->closed = at;
    w->by_cutover = by_cutover;
    w->is_closed = true;
    return 0;
}

/*
 * Make sure a window is open. The first one opens at cfg.start when @t is within a day
 * after it; otherwise (a realtime run whose clock is far from the configured start) at
 * the nominal start of the window holding @t, so no run of empty windows is invented.
 */
static int first_window(struct bs_settlement *s, bs_time_us t)
{
    bs_time_us start = s->cfg.start;

    if (s->nw)
        return 0;
    if (t >= start && t - start < BS_SETTLE_DAY)
        return open_window(s, start, bs_settle_next_cutover(start, s->cfg.cutover));
    start = bs_settle_next_cutover(t, s->cfg.cutover);
    return open_window(s, start - BS_SETTLE_DAY, start);
}

/* Close every window whose cutover is at or before @t (strictly before when !@incl). */
static int advance(struct bs_settlement *s, bs_time_us t, bool incl)
{
    int rc = first_window(s, t);

    while (rc == 0) {
        struct bs_settle_window *w = &s->w[s->nw - 1];
        bs_time_us cut = w->cutover;
        if (incl ? t < cut : t <= cut)
            break;
        rc = close_window(s, w, cut, true);
        if (rc == 0)
            rc = open_window(s, cut, cut + BS_SETTLE_DAY);
    }
    return rc;
}

int bs_settlement_close(struct bs_settlement *s, bs_time_us end)
{
    struct bs_settle_window *w;
    int rc;

    if (!s || s->closed)
        return BS_ESTATE;
    if (s->nw && end < s->w[s->nw - 1].opened)
        return BS_ESTATE;
    rc = advance(s, end, false);
    if (rc)
        return rc;
    w = &s->w[s->nw - 1];
    if (end < w->opened)
        return BS_ESTATE;
    rc = end == w->cutover ? close_window(s, w, end, true) : close_window(s, w, end, false);
    if (rc)
        return rc;
    s->closed = true;
    return 0;
}

bool bs_settlement_closed(const struct bs_settlement *s)
{
    return s && s->closed;
}

/* ---- posting ------------------------------------------------------------------------ */

struct key_ctx {
    const struct bs_settlement *s;
    const struct bs_canon *c;
    int side;
};

static uint64_t key_hash(int side, const struct bs_canon *c)
{
    char buf[64];
    int n = snprintf(buf, sizeof(buf), "%d|%s|%s|%s|%s", side, c->acq, c->stan, c->dt, c->rrn);

    return bs__hash(buf, n > 0 ? (size_t)n : 0, 0x5e771e);
}

/* The kept transaction numbered @n, or NULL when it is not (or no longer) kept. */
static struct txn *txn_at(const struct bs_settlement *s, uint32_t n)
{
    if ((uint32_t)(n - s->head) >= s->nt)
        return NULL;
    return &s->t[n & (s->capt - 1)];
}

static bool key_eq(const void *ctx, uint32_t n)
{
    const struct key_ctx *k = ctx;
    const struct txn *t = txn_at(k->s, n);

    if (!t)
        return false;

    return t->acq_side == k->side && strcmp(t->acq, k->c->acq) == 0 &&
           strcmp(t->stan, k->c->stan) == 0 && strcmp(t->dt, k->c->dt) == 0 &&
           strcmp(t->rrn, k->c->rrn) == 0;
}

static struct txn *find_txn(const struct bs_settlement *s, int side, const struct bs_canon *c,
                            uint64_t h, uint32_t *ret)
{
    struct key_ctx k = { s, c, side };

    if (bs__map_get(&s->by_key, h, key_eq, &k, ret) != 0)
        return NULL;
    return txn_at(s, *ret);
}

/* round_half_up(@a × @bps / 10000) for @a ≥ 0, without overflow. */
static int64_t bps_of(int64_t a, uint32_t bps)
{
    return a / 10000 * (int64_t)bps + ((a % 10000) * (int64_t)bps + 5000) / 10000;
}

static bool add_ok(int64_t *acc, int64_t v)
{
    return !__builtin_add_overflow(*acc, v, acc);
}

/* Post one line of value @v (sign convention) of @kind (0 principal, 1 interchange, 2 fee)
 * to @p, and its counter-entry to the bridge's @b. */
static bool line(struct bs_settle_pos *p, struct bs_settle_pos *b, int kind, int64_t v)
{
    struct bs_settle_pos *who[2] = { p, b };
    int64_t val[2] = { v, -v };

    for (int i = 0; i < 2; i++) {
        struct bs_settle_pos *x = who[i];
        int64_t *k = kind == 0 ? &x->principal : kind == 1 ? &x->interchange : &x->bridge_fees;
        if (!add_ok(k, val[i]) || !add_ok(&x->net, val[i]))
            return false;
        if (val[i] > 0 ? !add_ok(&x->credits, val[i]) : !add_ok(&x->debits, -val[i]))
            return false;
    }
    return true;
}

/* What posting touches, copied so it can be committed all at once. */
struct effect {
    struct bs_settle_pos acq, iss, bra, bri;
    int64_t expected[2];
    struct bs_settle_fx fx;
};

/*
 * Compute the effect of transaction @t (negated when @sign < 0) on window @w: principal,
 * interchange and bridge-fee lines in both schemes (docs/settlement.md §Lines), counts,
 * the recomputed principal for the positions-agree invariant and the FX volume.
 */
static int effect_of(const struct bs_settlement *s, const struct bs_settle_window *w,
                     const struct txn *t, int sign, bool adjustment, struct effect *e)
{
    const struct bs_settle_fees *f = &s->cfg.fees;
    int A = t->acq_side, I = !A;
    int64_t a = t->amount, b = t->billing, ic_a, ic_b;
    bool ok = true;

    e->acq = w->pos[A][t->acq_party];
    e->bra = w->pos[A][s->bridge[A]];
    e->iss = w->pos[I][t->iss_party];
    e->bri = w->pos[I][s->bridge[I]];
    e->expected[0] = w->bridge_expected[0];
    e->expected[1] = w->bridge_expected[1];
    e->fx = w->fx[A];
    int d = t->dir; /* a refund moves principal and interchange the other way */

    if (t->channel == BS_CH_ATM) {
        /* The issuer pays the acquirer; the bridge passes it on in each scheme. */
        ic_a = f->atm_interchange[A];
        ic_b = -f->atm_interchange[I];
    } else {
        /* The acquirer pays the issuer a share of the amount, in each scheme's currency. */
        ic_a = -bps_of(a, f->pos_interchange_bps);
        ic_b = bps_of(b, f->pos_interchange_bps);
    }
    ok = ok && line(&e->acq, &e->bra, 0, sign * d * a);
    ok = ok && line(&e->iss, &e->bri, 0, -sign * d * b);
    ok = ok && line(&e->acq, &e->bra, 1, sign * d * ic_a);
    ok = ok && line(&e->iss, &e->bri, 1, sign * d * ic_b);
    ok = ok && line(&e->acq, &e->bra, 2, -sign * f->bridge[t->channel][A]);
    ok = ok && line(&e->iss, &e->bri, 2, -sign * f->bridge[t->channel][I]);
    if (d < 0) {
        struct bs_settle_pos *all[4] = { &e->acq, &e->bra, &e->iss, &e->bri };
        int64_t v[4] = { a, a, b, b };
        for (int i = 0; i < 4 && ok; i++) {
            if (sign > 0) {
                all[i]->refund_count++;
                ok = add_ok(&all[i]->refund_amount, v[i]);
            } else {
                all[i]->refund_rev_count++;
                all[i]->adjustments += adjustment;
                ok = add_ok(&all[i]->refund_rev_amount, v[i]);
            }
        }
    } else if (sign > 0) {
        e->acq.count++;
        e->iss.count++;
        e->bra.count++;
        e->bri.count++;
        ok = ok && add_ok(&e->acq.amount, a) && add_ok(&e->bra.amount, a) &&
             add_ok(&e->iss.amount, b) && add_ok(&e->bri.amount, b);
    } else {
        struct bs_settle_pos *all[4] = { &e->acq, &e->bra, &e->iss, &e->bri };
        for (int i = 0; i < 4; i++) {
            all[i]->rev_count++;
            all[i]->adjustments += adjustment;
        }
        ok = ok && add_ok(&e->acq.rev_amount, a) && add_ok(&e->bra.rev_amount, a) &&
             add_ok(&e->iss.rev_amount, b) && add_ok(&e->bri.rev_amount, b);
    }
    ok =
        ok && add_ok(&e->expected[I], sign * d * t->conv) && add_ok(&e->expected[A], -sign * d * a);
    /* FX volume is signed by direction; markup is the bridge's gain either way (a refund's
     * billing is below the mid conversion, so d × markup > 0). */
    e->fx.count += sign;
    ok = ok && add_ok(&e->fx.amount, sign * d * a) && add_ok(&e->fx.billing, sign * d * b) &&
         add_ok(&e->fx.markup, sign * d * t->markup);
    return ok ? 0 : BS_EOVERFLOW;
}

static void commit(const struct bs_settlement *s, struct bs_settle_window *w, const struct txn *t,
                   const struct effect *e)
{
    int A = t->acq_side, I = !A;

    w->pos[A][t->acq_party] = e->acq;
    w->pos[A][s->bridge[A]] = e->bra;
    w->pos[I][t->iss_party] = e->iss;
    w->pos[I][s->bridge[I]] = e->bri;
    w->bridge_expected[0] = e->expected[0];
    w->bridge_expected[1] = e->expected[1];
    w->fx[A] = e->fx;
}

static void note_rate(struct bs_settle_window *w, const char rate[9])
{
    for (size_t i = 0; i < w->nrates; i++) {
        if (strcmp(w->rates[i], rate) == 0) {
            w->rate_count[i]++;
            return;
        }
    }
    if (w->nrates == BS_SETTLE_MAX_RATES) {
        w->rates_other++;
        return;
    }
    memcpy(w->rates[w->nrates], rate, 9);
    w->rate_count[w->nrates++] = 1;
}

/* The DE 10 check: conv is DE 4 converted at DE 10; markup is against the mid rate. */
static int convert(const struct bs_settlement *s, const struct txn *t, const char *de10,
                   int64_t *ret_conv, int64_t *ret_markup)
{
    int A = t->acq_side, I = !A;
    struct bs_rate r;
    int64_t mid;
    int rc;

    if (bs_rate_from_de10(de10, strnlen(de10, 9), &r) != 0)
        return BS_EINVAL;
    rc = bs_fx_convert(t->amount, s->cfg.side[A].exponent, s->cfg.side[I].exponent, r,
                       A == s->base_side, ret_conv);
    if (rc == 0)
        rc = bs_fx_convert(t->amount, s->cfg.side[A].exponent, s->cfg.side[I].exponent,
                           mid_at(s, t->t), A == s->base_side, &mid);
    if (rc)
        return rc == BS_EOVERFLOW ? rc : BS_EINVAL;
    if (__builtin_sub_overflow(t->billing, mid, ret_markup))
        return BS_EOVERFLOW;
    return 0;
}

/* Describe @rec as a txn (participants mapped). */
static int txn_of(struct bs_settlement *s, const struct bs_clearing_record *rec, struct txn *t)
{
    const struct bs_canon *c = rec->req;
    int A = rec->acq_side, I = rec->iss_side;
    struct bs_rate r;
    uint32_t target;

    if (!c || (A != 0 && A != 1) || I != !A || rec->amount < 0 || rec->billing < 0 ||
        rec->acq_currency != s->cfg.side[A].numeric || rec->iss_currency != s->cfg.side[I].numeric)
        return BS_EINVAL;
    memset(t, 0, sizeof(*t));
    if (!copy_str(t->acq, sizeof(t->acq), c->acq) || !copy_str(t->stan, sizeof(t->stan), c->stan) ||
        !copy_str(t->dt, sizeof(t->dt), c->dt) || !copy_str(t->rrn, sizeof(t->rrn), c->rrn))
        return BS_EINVAL;
    /* DE 10 must be eight digits, checked before anything moves. */
    if (bs_rate_from_de10(rec->rate, strnlen(rec->rate, sizeof(rec->rate)), &r) != 0)
        return BS_EINVAL;
    t->acq_side = (uint8_t)A;
    t->channel = (uint8_t)bs_channel_of_proc(c->proc);
    t->dir = bs_txn_type_of_proc(c->proc) == BS_TXN_REFUND ? -1 : 1;
    t->amount = rec->amount;
    t->billing = rec->billing;
    t->t = rec->t;
    t->acq_party = (uint16_t)s->unmapped[A][BS_SETTLE_ACQUIRER];
    for (size_t k = 0; k < s->cfg.side[A].nacquirers; k++)
        if (strcmp(s->pcfg[A][BS_SETTLE_ACQUIRER][k].inst_id, c->acq) == 0)
            t->acq_party = (uint16_t)(s->first[A][BS_SETTLE_ACQUIRER] + k);
    if (bs_bin_lookup(&s->bin_table[I], c->pan, strlen(c->pan), &target) == 0)
        t->iss_party = (uint16_t)target;
    else
        t->iss_party = (uint16_t)s->unmapped[I][BS_SETTLE_ISSUER];
    return 0;
}

/* Room for one more kept transaction: the ring doubles, each one moving to the slot its
 * number selects in the larger ring (numbers, and so the index, stay valid). */
static int grow_txns(struct bs_settlement *s)
{
    struct txn *t;
    size_t cap;

    if (s->nt >= s->maxt)
        return BS_ELIMIT;
    if (s->nt < s->capt)
        return 0;
    cap = s->capt ? s->capt * 2 : 1024;
    t = bs_malloc(cap * sizeof(*t));
    if (!t)
        return BS_ENOMEM;
    for (size_t i = 0; i < s->nt; i++) {
        uint32_t n = s->head + (uint32_t)i;
        t[n & (cap - 1)] = s->t[n & (s->capt - 1)];
    }
    bs_free(s->t);
    s->t = t;
    s->capt = cap;
    return 0;
}

/* Forget the transactions committed more than cfg.retention before @now: the bridge has
 * forgotten their legs by then, so no reversal or repeat of them can be reported. */
static void expire_txns(struct bs_settlement *s, bs_time_us now)
{
    if (s->cfg.retention <= 0)
        return;
    while (s->nt) {
        const struct txn *t = &s->t[s->head & (s->capt - 1)];
        if (now - t->t <= s->cfg.retention)
            break;
        bs__map_del(&s->by_key, t->h, s->head);
        s->head++;
        s->nt--;
    }
}

/* Note that window @wi took a record at @t (checked against its span by the invariant). */
static void note_time(struct bs_settlement *s, size_t wi, bs_time_us t)
{
    struct span *sp = &s->span[wi];

    if (!sp->any || t < sp->lo)
        sp->lo = t;
    if (!sp->any || t > sp->hi)
        sp->hi = t;
    sp->any = true;
}

static int post_financial(struct bs_settlement *s, const struct bs_clearing_record *rec,
                          struct txn *nt)
{
    struct bs_settle_window *w = &s->w[s->nw - 1];
    uint64_t h = key_hash(nt->acq_side, rec->req);
    struct effect e;
    int64_t conv, markup;
    uint32_t idx;
    int rc;

    if (find_txn(s, nt->acq_side, rec->req, h, &idx))
        return BS_EEXIST;
    rc = convert(s, nt, rec->rate, &conv, &markup);
    if (rc)
        return rc;
    nt->conv = conv;
    nt->markup = markup;
    rc = effect_of(s, w, nt, 1, false, &e);
    if (rc)
        return rc;
    expire_txns(s, rec->t);
    rc = grow_txns(s);
    if (rc)
        return rc;
    rc = bs__map_put(&s->by_key, h, s->head + (uint32_t)s->nt);
    if (rc)
        return rc;
    nt->window = (uint32_t)(s->nw - 1);
    nt->h = h;
    s->t[(s->head + (uint32_t)s->nt) & (s->capt - 1)] = *nt;
    s->nt++;
    commit(s, w, nt, &e);
    w->financial++;
    s->posted++;
    note_time(s, s->nw - 1, rec->t);
    note_rate(w, rec->rate);
    if (conv != nt->billing && s->stats.rate_mismatches++ == 0)
        memcpy(s->stats.mismatch_rrn, nt->rrn, sizeof(nt->rrn));
    if (rec->stand_in) {
        w->stand_in++;
        s->stats.stand_in++;
    }
    if (nt->acq_party == s->unmapped[nt->acq_side][BS_SETTLE_ACQUIRER])
        s->stats.unmapped_acquirers++;
    if (nt->iss_party == s->unmapped[!nt->acq_side][BS_SETTLE_ISSUER])
        s->stats.unmapped_issuers++;
    s->stats.financial++;
    return 0;
}

static int post_reversal(struct bs_settlement *s, const struct bs_clearing_record *rec,
                         const struct txn *nt)
{
    struct bs_settle_window *w = &s->w[s->nw - 1];
    uint64_t h = key_hash(nt->acq_side, rec->req);
    struct effect e;
    struct txn *o;
    uint32_t idx;
    bool adjustment;
    int rc;

    o = find_txn(s, nt->acq_side, rec->req, h, &idx);
    if (!o)
        return BS_ENOTFOUND;
    if (o->reversed)
        return BS_EEXIST;
    /* The original's own figures are undone, whatever the reversal record says. */
    adjustment = o->window != s->nw - 1;
    rc = effect_of(s, w, o, -1, adjustment, &e);
    if (rc)
        return rc;
    commit(s, w, o, &e);
    o->reversed = true;
    if (o->window > s->nw - 1 && !s->misordered) {
        s->misordered = true;
        memcpy(s->misordered_rrn, o->rrn, sizeof(o->rrn));
    }
    note_time(s, s->nw - 1, rec->t);
    s->reversed++;
    w->reversals++;
    if (adjustment) {
        w->adjustments++;
        if (w->nadj < BS_SETTLE_MAX_ADJ_LISTED) {
            struct bs_settle_adj *a = &w->adj[w->nadj++];
            memcpy(a->rrn, o->rrn, sizeof(a->rrn));
            a->orig_window = s->w[o->window].seq;
            a->acq_side = o->acq_side;
            a->amount = o->amount;
            a->billing = o->billing;
            a->t = rec->t;
        }
    }
    s->stats.reversals++;
    return 0;
}

int bs_settlement_record(struct bs_settlement *s, const struct bs_clearing_record *rec)
{
    struct txn nt;
    int rc;

    if (!s || !rec)
        return BS_EINVAL;
    if (s->closed)
        return BS_ESTATE;
    rc = txn_of(s, rec, &nt);
    if (rc)
        return rc;
    if (rec->kind != BS_CLR_FINANCIAL && rec->kind != BS_CLR_REVERSAL)
        return BS_EINVAL;
    rc = advance(s, rec->t, true);
    if (rc)
        return rc;
    if (rec->t < s->w[s->nw - 1].opened)
        return BS_ESTATE;
    if (rec->kind == BS_CLR_FINANCIAL)
        return post_financial(s, rec, &nt);
    return post_reversal(s, rec, &nt);
}

void bs_settlement_clearing(void *ctx, const struct bs_clearing_record *rec)
{
    struct bs_settlement *s = ctx;
    int rc = bs_settlement_record(s, rec);

    if (rc == 0)
        return;
    s->stats.last_error = rc;
    if (rc == BS_EEXIST && rec->kind == BS_CLR_FINANCIAL)
        s->stats.duplicates++;
    else if (rc == BS_EEXIST)
        s->stats.repeat_reversals++;
    else if (rc == BS_ENOTFOUND)
        s->stats.orphan_reversals++;
    else if (rc == BS_EOVERFLOW)
        s->overflow = true;
    else
        s->stats.rejected++;
}

/* ---- reading ------------------------------------------------------------------------ */

const struct bs_settlement_cfg *bs_settlement_config(const struct bs_settlement *s)
{
    return &s->cfg;
}

size_t bs_settlement_parties(const struct bs_settlement *s, int side)
{
    return side == 0 || side == 1 ? s->nparties[side] : 0;
}

const struct bs_settle_party *bs_settlement_party(const struct bs_settlement *s, int side,
                                                  size_t idx)
{
    if ((side != 0 && side != 1) || idx >= s->nparties[side])
        return NULL;
    return &s->parties[side][idx];
}

int bs_settlement_party_index(const struct bs_settlement *s, int side, enum bs_settle_role role,
                              size_t k)
{
    const struct bs_settle_side_cfg *sc;

    if (side != 0 && side != 1)
        return BS_ENOTFOUND;
    sc = &s->cfg.side[side];
    switch (role) {
    case BS_SETTLE_BRIDGE:
        return (int)s->bridge[side];
    case BS_SETTLE_ACQUIRER:
    case BS_SETTLE_ISSUER:
        if (k == SIZE_MAX)
            return (int)s->unmapped[side][role];
        if (k >= (role == BS_SETTLE_ACQUIRER ? sc->nacquirers : sc->nissuers))
            return BS_ENOTFOUND;
        return (int)(s->first[side][role] + k);
    }
    return BS_ENOTFOUND;
}

size_t bs_settlement_windows(const struct bs_settlement *s)
{
    return s->nw;
}

const struct bs_settle_window *bs_settlement_window(const struct bs_settlement *s, size_t i)
{
    return i < s->nw ? &s->w[i] : NULL;
}

const struct bs_settle_stats *bs_settlement_stats(const struct bs_settlement *s)
{
    return &s->stats;
}

/* Debits to cardholders: transactions and reversed refunds; credits: reversals and
 * refunds (an issuer's ledger posts them so). */
static void totals_add(struct bs_settle_totals *t, const struct bs_settle_pos *p)
{
    t->debits += p->count + p->refund_rev_count;
    t->credits += p->rev_count + p->refund_count;
    t->debited += p->amount + p->refund_rev_amount;
    t->credited += p->rev_amount + p->refund_amount;
}

int bs_settlement_bridge_totals(const struct bs_settlement *s, int side, size_t idx,
                                struct bs_settle_totals *ret)
{
    struct bs_settle_totals t;

    if ((side != 0 && side != 1) || idx >= s->nparties[side])
        return BS_EINVAL;
    memset(&t, 0, sizeof(t));
    t.amounts = true;
    for (size_t i = 0; i < s->nw; i++)
        totals_add(&t, &s->w[i].pos[side][idx]);
    *ret = t;
    return 0;
}

int bs_settlement_reconcile(struct bs_settlement *s, int side, size_t idx,
                            const struct bs_settle_totals *scheme)
{
    struct bs_settle_recon r;
    int64_t bn, sn;

    if ((side != 0 && side != 1) || !scheme || (idx != SIZE_MAX && idx >= s->nparties[side]))
        return BS_EINVAL;
    if (!s->closed)
        return BS_ESTATE;
    memset(&r, 0, sizeof(r));
    r.bridge.amounts = true;
    if (idx == SIZE_MAX) {
        for (size_t p = 0; p < s->nparties[side]; p++)
            if (s->parties[side][p].role == BS_SETTLE_ACQUIRER)
                for (size_t i = 0; i < s->nw; i++)
                    totals_add(&r.bridge, &s->w[i].pos[side][p]);
    } else {
        bs_settlement_bridge_totals(s, side, idx, &r.bridge);
    }
    r.scheme = *scheme;
    r.done = true;
    r.diff_count = ((int64_t)scheme->debits - (int64_t)scheme->credits) -
                   ((int64_t)r.bridge.debits - (int64_t)r.bridge.credits);
    bn = r.bridge.debited - r.bridge.credited;
    sn = scheme->debited - scheme->credited;
    r.diff_amount = scheme->amounts ? sn - bn : 0;
    r.in_balance = r.diff_count == 0 && r.diff_amount == 0;
    if (idx == SIZE_MAX)
        s->recon_acq[side] = r;
    else
        s->recon[side][idx] = r;
    return 0;
}

const struct bs_settle_recon *bs_settlement_recon(const struct bs_settlement *s, int side,
                                                  size_t idx)
{
    if (side != 0 && side != 1)
        return NULL;
    if (idx == SIZE_MAX)
        return &s->recon_acq[side];
    return idx < s->nparties[side] ? &s->recon[side][idx] : NULL;
}

/* ---- invariants --------------------------------------------------------------------- */

static bool window_holds(const struct bs_settle_window *w, bs_time_us t)
{
    if (t < w->opened)
        return false;
    if (!w->is_closed || w->by_cutover)
        return t < (w->is_closed ? w->closed : w->cutover);
    return t <= w->closed;
}

int bs_settlement_check(const struct bs_settlement *s, struct bs_settle_check *ret)
{
    struct bs_settle_check c;
    uint64_t fin = 0, rev = 0;

    memset(&c, 0, sizeof(c));
    c.nets_zero = c.positions_agree = c.one_window = true;
    for (size_t i = 0; i < s->nw; i++) {
        const struct bs_settle_window *w = &s->w[i];
        fin += w->financial;
        rev += w->reversals;
        for (int side = 0; side < 2; side++) {
            const struct bs_settle_pos *b = &w->pos[side][s->bridge[side]];
            i128 net = 0, pr = 0, ic = 0, fee = 0;
            for (size_t p = 0; p < s->nparties[side]; p++) {
                net += w->pos[side][p].net;
                pr += w->pos[side][p].principal;
                ic += w->pos[side][p].interchange;
                fee += w->pos[side][p].bridge_fees;
            }
            if ((net || pr || ic || fee) && c.nets_zero) {
                c.nets_zero = false;
                snprintf(c.nets, sizeof(c.nets),
                         "window %u, %s: the participants' nets sum to %lld, not 0", w->seq,
                         s->cfg.side[side].name, (long long)net);
            }
            if (b->principal != w->bridge_expected[side] && c.positions_agree) {
                c.positions_agree = false;
                snprintf(c.positions, sizeof(c.positions),
                         "window %u, %s: bridge principal %lld, but %lld at the recorded DE 10 "
                         "rates (first DE 6 mismatch: RRN %s)",
                         w->seq, s->cfg.side[side].name, (long long)b->principal,
                         (long long)w->bridge_expected[side],
                         s->stats.mismatch_rrn[0] ? s->stats.mismatch_rrn : "none");
            }
        }
    }
    if (s->overflow && c.nets_zero) {
        c.nets_zero = false;
        snprintf(c.nets, sizeof(c.nets), "a settlement sum overflowed int64");
    }
    for (size_t i = 0; i < s->nw && c.one_window; i++) {
        const struct span *sp = &s->span[i];
        if (sp->any && (!window_holds(&s->w[i], sp->lo) || !window_holds(&s->w[i], sp->hi))) {
            c.one_window = false;
            snprintf(c.window, sizeof(c.window),
                     "window %u took a record at %lld µs, outside its span", s->w[i].seq,
                     (long long)(window_holds(&s->w[i], sp->lo) ? sp->hi : sp->lo));
        }
    }
    if (c.one_window && s->misordered) {
        c.one_window = false;
        snprintf(c.window, sizeof(c.window),
                 "transaction RRN %s was reversed in a window before its own", s->misordered_rrn);
    }
    if (c.one_window && (fin != s->posted || rev != s->reversed || s->stats.rejected)) {
        c.one_window = false;
        snprintf(c.window, sizeof(c.window),
                 "%llu transactions committed, %llu posted in windows, %llu records rejected "
                 "(last error %s)",
                 (unsigned long long)s->posted, (unsigned long long)fin,
                 (unsigned long long)s->stats.rejected, bs_errname(s->stats.last_error));
    }
    if (c.nets_zero)
        snprintf(c.nets, sizeof(c.nets),
                 "%zu window(s): every participant's net in both schemes sums to 0, per line kind",
                 s->nw);
    if (c.positions_agree)
        snprintf(c.positions, sizeof(c.positions),
                 "%zu window(s): the bridge's principal positions equal DE 4 at DE 10 per "
                 "transaction, summed (%llu DE 6 mismatches)",
                 s->nw, (unsigned long long)s->stats.rate_mismatches);
    if (c.one_window)
        snprintf(c.window, sizeof(c.window),
                 "%llu committed transactions and %llu reversals, each in exactly one of %zu "
                 "window(s) that holds its time",
                 (unsigned long long)fin, (unsigned long long)rev, s->nw);
    *ret = c;
    return c.nets_zero && c.positions_agree && c.one_window ? 0 : BS_ESTATE;
}
