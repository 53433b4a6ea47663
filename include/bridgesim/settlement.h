/*
 * bridgesim — clearing, fees, settlement windows, net settlement and reconciliation.
 *
 * The settlement object consumes the bridge's clearing records (bridgesim/bridge.h,
 * struct bs_clearing_record) and keeps, per settlement window, every participant's gross
 * and net position in each scheme. It is clock-free and does no I/O: time comes from the
 * records' commit times and from bs_settlement_close(). The model is the one in the
 * project's interop notes §7.8–7.11 and GUIDE §3 "Clearing and settlement"; the exact
 * rules, the sign convention and every invariant are in docs/settlement.md.
 *
 * Windows. One cutover per day at a fixed UTC time of day. A committed transaction belongs
 * to the window whose cutover is the first one strictly after its commit time (a commit at
 * 20:59:59.999999Z is before a 21:00Z cutover, one at 21:00:00Z after it). A reversal is
 * posted in the window that is open when it is acknowledged; when that is not its
 * original's window it is an adjustment, linked to the original by DE 37 (RRN).
 *
 * Lines. Every transaction posts separate lines in each scheme: principal, interchange and
 * the bridge fee. The bridge is a member of both schemes (issuer proxy in the acquirer's
 * scheme, acquirer proxy in the issuer's) and is the counterparty of every line, so each
 * scheme's nets sum to zero. Sign convention: positive means the participant receives
 * from its scheme, negative that it pays.
 *
 * Money is int64 minor units; the only conversions are bs_fx_convert() (round half up,
 * once) for the settlement instruction and for the rate check; all totals are sums of
 * per-transaction rounded amounts, so they reconcile exactly.
 */
#ifndef BRIDGESIM_SETTLEMENT_H
#define BRIDGESIM_SETTLEMENT_H

#include <bridgesim/bridge.h>
#include <bridgesim/money.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Acquirers or issuers per side (the scenario's own bound). */
#define BS_SETTLE_MAX_ROLE 32
/** BIN ranges per issuer. */
#define BS_SETTLE_MAX_BINS 16
/** Participants per side: acquirers, issuers, their two unmapped catch-alls, the bridge. */
#define BS_SETTLE_MAX_PARTIES (2 * BS_SETTLE_MAX_ROLE + 3)
/** Windows one settlement object keeps (daily windows: about 2.7 years). */
#define BS_SETTLE_MAX_WINDOWS 1000
/** Default and largest bound on transactions kept (for reversal matching). */
#define BS_SETTLE_MAX_TXNS 10000000u
/** Distinct DE 10 rates listed per window (more are counted, not listed). */
#define BS_SETTLE_MAX_RATES 8
/** Most mid-rate changes a settlement follows (the bridge's schedule). */
#define BS_SETTLE_MAX_RATE_CHANGES BS_BRIDGE_MAX_RATES
/** Adjustments listed per window (all are counted). */
#define BS_SETTLE_MAX_ADJ_LISTED 32

/** One day in µs: the distance between cutovers. */
#define BS_SETTLE_DAY (INT64_C(86400) * BS_US_PER_SEC)

enum bs_settle_role {
    BS_SETTLE_ACQUIRER = 0, /* an acquiring institution, matched by DE 32 */
    BS_SETTLE_ISSUER,       /* an issuing institution, matched by the PAN's BIN */
    BS_SETTLE_BRIDGE,       /* the bridge as proxy member of the scheme */
};

/** bs_settle_role_name() - "acquirer", "issuer", "bridge". */
const char *bs_settle_role_name(enum bs_settle_role r);

/** One BIN range: prefixes @lo..@hi of @digits digits (as in bs_bin_table_add()). */
struct bs_settle_bin {
    uint64_t lo, hi;
    uint8_t digits;
};

/**
 * struct bs_settle_party_cfg - an acquirer or issuer of one scheme.
 * @name:    shown in reports (e.g. "MIRACQ1"); at most 32 characters; copied.
 * @inst_id: institution id digits (1..11). Acquirers are matched on it against DE 32.
 * @bins, @nbins: issuers only: the BIN ranges of its cards (≤ BS_SETTLE_MAX_BINS); copied.
 */
struct bs_settle_party_cfg {
    const char *name;
    const char *inst_id;
    const struct bs_settle_bin *bins;
    size_t nbins;
};

/**
 * struct bs_settle_side_cfg - one scheme.
 * @name:      "mir"; at most 32 characters; copied.
 * @currency:  ISO 4217 alphabetic code, e.g. "RUB"; @numeric its number (643).
 * @exponent:  minor-unit digits in this run (0..18).
 * @utc_offset_min: the scheme's local time (Moscow +180, Tehran +210), for business dates.
 * @acquirers, @issuers: the participants (each ≤ BS_SETTLE_MAX_ROLE); copied.
 */
struct bs_settle_side_cfg {
    const char *name;
    char currency[4];
    uint16_t numeric;
    uint8_t exponent;
    int utc_offset_min;
    const struct bs_settle_party_cfg *acquirers;
    size_t nacquirers;
    const struct bs_settle_party_cfg *issuers;
    size_t nissuers;
};

/**
 * struct bs_settle_fees - the fee table, amounts in minor units of the side's currency
 * (index = side). Every fee is a separate line in its scheme (interop notes §7.9).
 * @atm_interchange: per ATM cash withdrawal the issuer pays the acquirer: in the
 *           acquirer's scheme the bridge (issuer proxy) pays the acquirer
 *           atm_interchange[acquirer side]; in the issuer's scheme the issuer pays the
 *           bridge (acquirer proxy) atm_interchange[issuer side].
 * @pos_interchange_bps: per purchase the acquirer pays the issuer this share of the
 *           amount, in basis points (0..10000): round_half_up(amount × bps / 10000) of the
 *           acquirer's amount in its scheme (acquirer → bridge) and of the billing amount in
 *           the issuer's scheme (bridge → issuer).
 * @bridge:  the bridge's fee per transaction, by channel (BS_CH_POS, BS_CH_ATM), billed to
 *           each side: the acquirer pays bridge[ch][acquirer side] and the issuer pays
 *           bridge[ch][issuer side], each to the bridge in its own scheme.
 */
struct bs_settle_fees {
    int64_t atm_interchange[2];
    uint32_t pos_interchange_bps;
    int64_t bridge[BS_CH_COUNT][2];
};

/**
 * struct bs_settlement_cfg - what bs_settlement_new() needs.
 * @side:      the two schemes, in the bridge's side order (bs_bridge_cfg.side).
 * @base_currency: ISO 4217 numeric of the rates' base currency (RUB for IRR per RUB).
 * @rate:      the settlement rate (quote per base), used once per window for the
 *             settlement instruction.
 * @rate_follows_mid: no settlement rate of its own: each window settles at the mid rate
 *             in force when it closes (the last of @mid_changes at or before the close,
 *             else @mid), and @rate is ignored.
 * @mid:       the bridge's mid rate (markup is reported against the mid in force at each
 *             transaction's commit time).
 * @mid_changes, @nmid_changes: the bridge's rate schedule (bs_bridge_cfg.fx_changes),
 *             copied; at most BS_SETTLE_MAX_RATE_CHANGES, strictly increasing times.
 * @cutover:   the daily cutover, µs after 00:00 UTC, in [0, BS_SETTLE_DAY).
 * @start:     the start of the run: the first window opens here (see docs/settlement.md
 *             for a first record earlier than this or a day or more later).
 * @fees:      the fee table.
 * @max_txns:  transactions kept at once for reversal and duplicate matching; 0 means
 *             BS_SETTLE_MAX_TXNS.
 * @retention: how long (µs) a committed transaction is kept after its commit time for
 *             matching a reversal or a duplicate commit; 0 keeps every one for the run. Set
 *             it to the bridge's leg retention (bs_bridge_cfg.retention): the bridge reports
 *             a reversal only while it still holds the original's leg, and a leg is never
 *             held longer, so nothing that can still arrive is forgotten. What the windows,
 *             the reports and the invariants need is summed when a record is posted, so
 *             memory follows the transactions in flight, not the run length (issue #8).
 */
struct bs_settlement_cfg {
    struct bs_settle_side_cfg side[2];
    uint16_t base_currency;
    struct bs_rate rate, mid;
    bool rate_follows_mid;
    const struct bs_fx_change *mid_changes;
    size_t nmid_changes;
    bs_time_us cutover;
    bs_time_us start;
    struct bs_settle_fees fees;
    size_t max_txns;
    bs_time_us retention;
};

/**
 * struct bs_settle_party - a participant as the report shows it.
 * @side:     the scheme (0 or 1); @role, @name, @inst_id as configured ("bridge" for the
 *            proxy member, with no institution id).
 * @unmapped: the catch-all of its role: transactions whose DE 32 (acquirers) or BIN
 *            (issuers) matched no configured participant are posted here, so nothing is
 *            lost and each scheme still sums to zero; named "(unmapped)".
 */
struct bs_settle_party {
    int side;
    enum bs_settle_role role;
    bool unmapped;
    char name[33];
    char inst_id[12];
};

/**
 * struct bs_settle_pos - one participant's figures in one scheme and one window, minor
 * units of the scheme's currency. Amount fields are signed with the sign convention
 * (+ receives, − pays); counts and the DE 74–89 analogues are unsigned magnitudes.
 * @count, @amount:         financial transactions posted (DE 76 debits number; DE 88
 *                          debits amount: the principal, as a magnitude).
 * @rev_count, @rev_amount: reversals posted here (DE 77 / DE 89), adjustments included.
 * @refund_count, @refund_amount: refunds, credits to the cardholder (DE 74 / DE 86
 *                          credits); @refund_rev_count, @refund_rev_amount their reversals
 *                          (DE 75 / DE 87). A refund's lines are a purchase's with the
 *                          principal and interchange negated (docs/settlement.md).
 * @adjustments:            of those, reversals of a transaction from an earlier window.
 * @principal, @interchange, @bridge_fees: the net of each kind of line.
 * @credits, @debits:       gross: sum of the positive lines, and of the negative lines as
 *                          a magnitude.
 * @net:                    credits − debits = principal + interchange + bridge_fees; the
 *                          DE 97 analogue.
 */
struct bs_settle_pos {
    uint64_t count;
    int64_t amount;
    uint64_t rev_count;
    int64_t rev_amount;
    uint64_t refund_count, refund_rev_count;  /* refunds (DE 3 20xxxx) and their reversals, */
    int64_t refund_amount, refund_rev_amount; /* kept apart from the debits above */
    uint64_t adjustments;
    int64_t principal, interchange, bridge_fees;
    int64_t credits, debits;
    int64_t net;
};

/**
 * struct bs_settle_instruction - the window's cross-border settlement.
 * @needed:   false when the bridge's two positions do not offset (both ≥ 0 or both ≤ 0):
 *            nothing crosses the border, each side settles its own position.
 * @payer, @payee: sides; the payee is the side where the bridge is short.
 * @amount:   the short position as a magnitude, minor units of the payee's currency.
 * @counter_value: @amount converted once at the settlement rate (round half up), minor
 *            units of the payer's currency: what the bridge's long position funds.
 * @residual: the bridge's position per side after the instruction (its FX and fee P&L;
 *            the payee side is 0 when @needed).
 */
struct bs_settle_instruction {
    struct bs_rate rate; /* the settlement rate used for this window */
    bool needed;
    int payer, payee;
    int64_t amount, counter_value;
    int64_t residual[2];
};

/**
 * struct bs_settle_fx - one direction (by acquirer side) of one window's FX volume, net of
 * the reversals posted in the window (so an adjustment can make it negative).
 */
struct bs_settle_fx {
    int64_t count;
    int64_t amount;  /* acquirer-currency principal */
    int64_t billing; /* issuer-currency principal */
    int64_t markup;  /* billing − conversion at the mid rate, per transaction, summed */
};

/** struct bs_settle_adj - one listed adjustment. */
struct bs_settle_adj {
    char rrn[13];         /* DE 37 of the original */
    uint32_t orig_window; /* sequence number of the original's window */
    int acq_side;
    int64_t amount, billing;
    bs_time_us t; /* when the reversal was acknowledged */
};

/**
 * struct bs_settle_window - one settlement window.
 * @seq:      1, 2, ... in time order.
 * @cutover:  the nominal cutover that ends it (µs since the epoch, UTC).
 * @opened, @closed: its actual span: the run start or the previous cutover; the cutover,
 *            or the end of the run for the last window (@by_cutover false).
 * @is_closed: closed (its totals, instruction and checks are final).
 * @business_date: per side, YYYYMMDD: the local date of (@cutover − 12 h), the day that
 *            holds the most of the window (docs/settlement.md).
 * @financial, @reversals, @adjustments, @stand_in: records posted here.
 * @pos:      per side, per participant index (bs_settlement_party()).
 * @bridge_expected: per side, the bridge's principal position recomputed from the acquirer
 *            amounts and the DE 10 rates (the positions-agree invariant).
 * @fx:       per acquirer side: volume, billing and markup of that direction.
 * @rates, @rate_count, @nrates: the distinct DE 10 rates applied (first
 *            BS_SETTLE_MAX_RATES); @rates_other counts transactions at rates not listed.
 * @instr:    the settlement instruction (when closed).
 * @adj, @nadj: the first BS_SETTLE_MAX_ADJ_LISTED adjustments.
 */
struct bs_settle_window {
    uint32_t seq;
    bs_time_us cutover, opened, closed;
    bool is_closed, by_cutover;
    uint32_t business_date[2];
    uint64_t financial, reversals, adjustments, stand_in;
    struct bs_settle_pos pos[2][BS_SETTLE_MAX_PARTIES];
    int64_t bridge_expected[2];
    struct bs_settle_fx fx[2];
    char rates[BS_SETTLE_MAX_RATES][9];
    uint64_t rate_count[BS_SETTLE_MAX_RATES];
    size_t nrates;
    uint64_t rates_other;
    struct bs_settle_instruction instr;
    struct bs_settle_adj adj[BS_SETTLE_MAX_ADJ_LISTED];
    size_t nadj;
};

/**
 * struct bs_settle_stats - what happened to the records (the exceptions the settlement
 * itself detects).
 * @financial, @reversals: records posted.
 * @duplicates:       a financial record for a transaction already posted: ignored.
 * @repeat_reversals: a reversal of a transaction already reversed: ignored, so a
 *                    reversal is never counted twice.
 * @orphan_reversals: a reversal of a transaction never posted (or forgotten past
 *                    @max_txns): ignored.
 * @rejected:         invalid (bad side, currency, negative amount, DE 10) or earlier
 *                    than the open window, or after the final close: not posted.
 * @unmapped_acquirers, @unmapped_issuers: transactions posted to the catch-all.
 * @rate_mismatches:  transactions whose DE 6 is not DE 4 converted at their DE 10;
 *                    @mismatch_rrn: the DE 37 of the first one.
 * @stand_in:         transactions the bridge approved in stand-in.
 * @last_error:       the last error bs_settlement_clearing() swallowed (0 if none).
 */
struct bs_settle_stats {
    uint64_t financial, reversals;
    uint64_t duplicates, repeat_reversals, orphan_reversals, rejected;
    uint64_t unmapped_acquirers, unmapped_issuers;
    uint64_t rate_mismatches, stand_in;
    char mismatch_rrn[13];
    int last_error;
};

/**
 * struct bs_settle_totals - reconciliation totals (the 0500/0510 DE 74–89 analogues) of
 * one participant or group, cumulative from the start of the run.
 * @debits, @debited:   financial transactions and their amount (magnitude).
 * @credits, @credited: reversals and their amount (magnitude).
 * @amounts:            false when the scheme side can only count (acquirer hosts keep no
 *                      ledger): only counts are compared.
 */
struct bs_settle_totals {
    uint64_t debits, credits;
    int64_t debited, credited;
    bool amounts;
};

/**
 * struct bs_settle_recon - the outcome of one reconciliation.
 * @done:       bs_settlement_reconcile() was called for it.
 * @bridge:     the bridge's totals (sums over every window).
 * @scheme:     the totals the scheme side reported.
 * @in_balance: the net counts (debits − credits) agree, and when @scheme.amounts the net
 *              amounts (debited − credited) agree too. Gross counts may differ legitimately
 *              (an approval the bridge never committed is debited and reversed at the
 *              issuer but never reaches clearing).
 * @diff_count, @diff_amount: scheme net − bridge net.
 */
struct bs_settle_recon {
    bool done, in_balance;
    struct bs_settle_totals bridge, scheme;
    int64_t diff_count, diff_amount;
};

/**
 * struct bs_settle_check - the settlement invariants (issue #4 §13, docs/settlement.md).
 * @nets_zero:      in every window and scheme the participants' nets (the bridge's
 *                  included) sum to zero, and so does each kind of line; no sum overflowed.
 * @positions_agree: in every window and scheme the bridge's principal position equals
 *                  Σ conv(amount_i at DE 10_i) over the transactions whose cards are that
 *                  scheme's minus Σ amount_j over those its acquirers took, per transaction
 *                  rounded, reversals negated.
 * @one_window:     every posted transaction is in exactly one window, and that window's
 *                  span holds its commit time; no committed transaction was rejected.
 * @nets, @positions, @window: one sentence each: the first violation (window, scheme,
 *                  transaction RRN where one is to blame), or what was checked.
 */
struct bs_settle_check {
    bool nets_zero, positions_agree, one_window;
    char nets[192], positions[192], window[192];
};

struct bs_settlement;

/**
 * bs_settlement_new() - a settlement object with one open window.
 * @cfg:  copied (names, ids and BINs too).
 * @ret:  receives the object; free with bs_settlement_free().
 * Return: 0; BS_EINVAL (a NULL or over-long name or id, more than BS_SETTLE_MAX_ROLE
 * acquirers or issuers, more than BS_SETTLE_MAX_BINS BINs, equal currencies, a base
 * currency neither side uses, a rate ≤ 0, a cutover outside [0, BS_SETTLE_DAY), a negative
 * fee or bps above 10000, @max_txns above BS_SETTLE_MAX_TXNS, a negative @retention);
 * BS_EEXIST (two acquirers with the same institution id, overlapping BIN ranges);
 * BS_ENOMEM.
 */
int bs_settlement_new(const struct bs_settlement_cfg *cfg, struct bs_settlement **ret);

/** bs_settlement_free() - NULL accepted. */
void bs_settlement_free(struct bs_settlement *s);

/**
 * bs_settlement_record() - post one clearing record (@rec and what it points to are
 * borrowed for the call). First closes every window whose cutover is at or before
 * @rec->t. A financial record posts the transaction's lines in the open window; a reversal
 * posts them negated, as an adjustment when the original is in an earlier window.
 * Return: 0; BS_EEXIST (a duplicate financial record, or a second reversal of one
 * transaction: counted, not posted); BS_ENOTFOUND (a reversal whose original was never
 * posted: counted, not posted); BS_EINVAL (malformed record: a side other than 0/1, equal
 * sides, currencies that are not the sides', a negative amount, a bad DE 10);
 * BS_ESTATE (earlier than the open window, or after bs_settlement_close());
 * BS_ELIMIT (more than @max_txns transactions kept, or BS_SETTLE_MAX_WINDOWS windows);
 * BS_EOVERFLOW (a sum would overflow int64: nothing of the record is posted);
 * BS_ENOMEM. Any failure leaves the positions as they were.
 */
int bs_settlement_record(struct bs_settlement *s, const struct bs_clearing_record *rec);

/**
 * bs_settlement_clearing() - bs_settlement_record() with the signature of
 * bs_bridge_cfg.clearing (@ctx is the settlement object). Errors cannot be returned
 * through the hook: they are counted in the stats (@rejected, @duplicates, ...) and the
 * last one is kept in @last_error; the invariants report them.
 */
void bs_settlement_clearing(void *ctx, const struct bs_clearing_record *rec);

/**
 * bs_settlement_close() - the run ended at @end (µs since the epoch): close every window
 * whose cutover is at or before @end, then the open one at @end. Afterwards only the
 * read-only functions and bs_settlement_reconcile() may be called.
 * Return: 0; BS_ESTATE when already closed or @end is before the open window;
 * BS_ELIMIT (too many windows); BS_EOVERFLOW.
 */
int bs_settlement_close(struct bs_settlement *s, bs_time_us end);

/** bs_settlement_closed() - whether bs_settlement_close() succeeded. */
bool bs_settlement_closed(const struct bs_settlement *s);

/** bs_settlement_config() - the configuration as copied (names point into the object). */
const struct bs_settlement_cfg *bs_settlement_config(const struct bs_settlement *s);

/** bs_settlement_parties() - the number of participants of side @side (0 or 1). */
size_t bs_settlement_parties(const struct bs_settlement *s, int side);

/**
 * bs_settlement_party() - participant @idx of side @side, in this order: the acquirers
 * (configuration order), the unmapped-acquirer catch-all, the issuers, the unmapped-issuer
 * catch-all, the bridge. NULL out of range.
 */
const struct bs_settle_party *bs_settlement_party(const struct bs_settlement *s, int side,
                                                  size_t idx);

/**
 * bs_settlement_party_index() - the index of the @k-th configured participant of @role on
 * @side; @k == SIZE_MAX names the role's unmapped catch-all; @k is ignored for the bridge.
 * Return: the index; BS_ENOTFOUND.
 */
int bs_settlement_party_index(const struct bs_settlement *s, int side, enum bs_settle_role role,
                              size_t k);

/** bs_settlement_windows() - the number of windows (closed ones and the open one). */
size_t bs_settlement_windows(const struct bs_settlement *s);

/**
 * bs_settlement_window() - window @i (0-based, time order), or NULL. The pointer is valid
 * until the next bs_settlement_record() or bs_settlement_close().
 */
const struct bs_settle_window *bs_settlement_window(const struct bs_settlement *s, size_t i);

/** bs_settlement_stats() - the record counters. */
const struct bs_settle_stats *bs_settlement_stats(const struct bs_settlement *s);

/**
 * bs_settlement_bridge_totals() - the bridge's reconciliation totals for participant @idx
 * of @side over every window (what it sends in its 0500 for that participant).
 * Return: 0; BS_EINVAL for a bad side or index.
 */
int bs_settlement_bridge_totals(const struct bs_settlement *s, int side, size_t idx,
                                struct bs_settle_totals *ret);

/**
 * bs_settlement_reconcile() - compare the scheme's own totals for participant @idx of
 * @side (an issuer's ledger, say: the 0510 it answers) with the bridge's, and mark it in
 * or out of balance. With @idx == SIZE_MAX the comparison is for all acquirers of @side
 * together (their unmapped catch-all included): acquirer hosts report per scheme.
 * Return: 0; BS_EINVAL for a bad side or index; BS_ESTATE before bs_settlement_close().
 */
int bs_settlement_reconcile(struct bs_settlement *s, int side, size_t idx,
                            const struct bs_settle_totals *scheme);

/**
 * bs_settlement_recon() - the reconciliation of participant @idx of @side (SIZE_MAX: the
 * side's acquirers as a group); NULL for a bad side or index.
 */
const struct bs_settle_recon *bs_settlement_recon(const struct bs_settlement *s, int side,
                                                  size_t idx);

/**
 * bs_settlement_check() - evaluate the invariants over every window (closed or not).
 * Return: 0 when all hold; BS_ESTATE when one does not (@ret says which).
 */
int bs_settlement_check(const struct bs_settlement *s, struct bs_settle_check *ret);

/**
 * bs_settle_next_cutover() - the first cutover strictly after @t for a daily cutover at
 * @tod µs after midnight UTC: the window a commit at @t belongs to ends there.
 */
bs_time_us bs_settle_next_cutover(bs_time_us t, bs_time_us tod);

/**
 * bs_settle_business_date() - YYYYMMDD: the local date, at @utc_offset_min, of the
 * window ending at @cutover (the date of @cutover − 12 h).
 */
uint32_t bs_settle_business_date(bs_time_us cutover, int utc_offset_min);

#ifdef __cplusplus
}
#endif
#endif /* BRIDGESIM_SETTLEMENT_H */
