/*
 * bridgesim — the clearing bridge between two card schemes.
 *
 * The bridge is a member of both schemes: an issuer proxy for the other scheme's BINs and
 * an acquirer proxy for the other scheme's acquirers. A request from one scheme's switch
 * is decoded in that scheme's dialect into a canonical transaction (struct bs_canon),
 * routed by BIN, given the bridge's own STAN, RRN and DE 32 on the outgoing leg, converted
 * into the card's currency (DE 6 cardholder billing amount, DE 10 conversion rate, DE 51
 * billing currency) and encoded in the other scheme's dialect, signed by the bridge. The
 * response travels back the same way, matched on (DE 32, DE 11, DE 7, MTI class) of the
 * outgoing leg so it can never reach the wrong request.
 */
#ifndef BRIDGESIM_BRIDGE_H
#define BRIDGESIM_BRIDGE_H

#include <bridgesim/money.h>
#include <bridgesim/network.h>

#ifdef __cplusplus
extern "C" {
#endif

/** One scheme as the bridge sees it. */
struct bs_bridge_side {
    const char *name; /* "mir" */
    uint32_t sw;      /* node id of that scheme's switch */
    const struct bs_iso_dialect *dialect;
    const char *inst_id; /* the bridge's institution id there (DE 32/33) */
    uint16_t currency;   /* ISO 4217 numeric */
    uint8_t exponent;    /* minor-unit digits in this scenario */
};

/** What a clearing record reports (issue #4 §12). */
enum bs_clearing_kind {
    BS_CLR_FINANCIAL = 0, /* an approved 0200 answered to the acquiring side: committed
                             (a refund, DE 3 20xxxx, moves money the other way) */
    BS_CLR_REVERSAL,      /* an acknowledged reversal of a committed transaction */
};

/**
 * struct bs_clearing_record - one committed change the bridge reports for clearing.
 * @kind:      financial or reversal.
 * @t:         commit time, µs since the Unix epoch (virtual or wall clock).
 * @acq_side:  the side (0/1) whose acquirer accepted the card; @iss_side the card's side.
 * @req:       the acquiring side's request as the bridge received it (DE 32 acquirer id,
 *             DE 2 PAN for the issuer's BIN, DE 3, DE 4, DE 49, DE 37, DE 7...). Track data
 *             is already wiped. Borrowed for the call.
 * @amount:    transaction amount, minor units of the acquirer's currency (@acq_currency).
 * @billing:   cardholder billing amount, minor units of the issuer's currency.
 * @rate:      DE 10 of the applied rate.
 * @stand_in:  the bridge approved it in stand-in (an advice goes to the issuer later).
 */
struct bs_clearing_record {
    enum bs_clearing_kind kind;
    bs_time_us t;
    int acq_side, iss_side;
    const struct bs_canon *req;
    int64_t amount, billing;
    uint16_t acq_currency, iss_currency;
    char rate[9];
    bool stand_in;
};

/** Most rate changes a bridge takes (bs_bridge_cfg.fx_changes). */
#define BS_BRIDGE_MAX_RATES 64

/**
 * struct bs_fx_change - from @at (µs since the Unix epoch) the bridge's mid rate is @mid
 * (issue #6 item 6: an FX rate change during the day).
 */
struct bs_fx_change {
    bs_time_us at;
    struct bs_rate mid;
};

struct bs_bridge_cfg {
    const char *name;
    struct bs_bridge_side side[2];
    const struct bs_bin_table *routes; /* BIN → side index (0 or 1) */
    struct bs_rate mid;                /* quote per base, e.g. IRR per RUB */
    /* Later mid rates in time order (@at strictly increasing), copied; may be NULL. The
     * rate in force is that of the last change with at <= now, else @mid. */
    const struct bs_fx_change *fx_changes;
    size_t nfx_changes;
    uint16_t base_currency; /* ISO 4217 numeric of the rate's base (RUB) */
    uint32_t markup_bps;    /* charged to the cardholder, on the rate */
    struct bs_timer_set timers[2];
    struct bs_stip_policy stip[2]; /* stand-in for each side's cards, in that side's currency */
    size_t saf_window;             /* advices in flight per SAF queue (≥ 1) */
    bs_time_us retention;          /* how long a leg is kept for reversals/late replies */
    /* Called for every committed financial transaction and every acknowledged reversal
     * of one, in commit order; may be NULL. */
    void (*clearing)(void *ctx, const struct bs_clearing_record *rec);
    void *clearing_ctx;
    unsigned reversal_max_repeats; /* the bridge reverses towards a scheme it gave up */
    bs_time_us reversal_backoff;   /* on (0420, then 0421 with doubling backoff) */
    bs_time_us reversal_backoff_max;
    struct bs_netmgmt_policy nm; /* towards both switches (the bridge originates by default) */
};

/**
 * bs_bridge_new() - a bridge node. With network management (@cfg->nm; ISO 8583:1987
 * class 8), a side whose switch is down (missed echo tests, or signed off) gets no new
 * 0100/0200: the bridge stands in at once where that side's policy allows, else answers
 * RC 91, forwarding nothing; its SAF queue towards that side is held and drains in order
 * when the switch is back up. While the bridge itself is signed off it answers new
 * 0100/0200 RC 91.
 * Return: 0; BS_EINVAL (a side without dialect or institution id, equal currencies, a
 * base currency neither side uses); BS_ENOMEM.
 */
int bs_bridge_new(const struct bs_bridge_cfg *cfg, struct bs_key *key, struct bs_keystore *keys,
                  struct bs_node **ret);

/**
 * bs_bridge_convert() - the billing amount for @amount minor units of currency @from
 * charged to a card in currency @to, at the bridge's applied rate (mid with markup
 * against the cardholder), and that rate as DE 10 digits. The mid rate is the one in force
 * now (bs_bridge_cfg.fx_changes; the first one when the node is not attached to an
 * environment yet).
 * Return: 0; BS_EINVAL for a currency pair the bridge does not convert; BS_EOVERFLOW.
 */
int bs_bridge_convert(const struct bs_node *bridge, int64_t amount, uint16_t from, uint16_t to,
                      int64_t *ret_billing, char ret_de10[9]);

/**
 * bs_bridge_convert_credit() - as bs_bridge_convert() for a credit to the cardholder (a
 * refund): the markup still works against the cardholder, so the applied rate is the
 * other side of the mid (fewer card-currency units for each unit refunded).
 */
int bs_bridge_convert_credit(const struct bs_node *bridge, int64_t amount, uint16_t from,
                             uint16_t to, int64_t *ret_billing, char ret_de10[9]);

/**
 * struct bs_bridge_totals - what the bridge holds for one side's cards.
 * @committed, @reversed: sums of the billing amounts (minor units of that side's currency)
 *     of committed transactions and of acknowledged reversals of them.
 * @open_reversals, @open_advices: reversals and stand-in advices towards that side not yet
 *     acknowledged.
 */
struct bs_bridge_totals {
    int64_t committed, reversed;
    size_t open_reversals, open_advices;
};

/** bs_bridge_totals() - the totals for cards of side @side (0 or 1). */
void bs_bridge_totals(const struct bs_node *bridge, int side, struct bs_bridge_totals *ret);

#ifdef __cplusplus
}
#endif
#endif /* BRIDGESIM_BRIDGE_H */
