/*
 * bridgesim — the roles inside one card scheme: terminal pool, acquirer host, scheme
 * switch and issuer host; plus BIN routing and card populations, which the bridge uses
 * too. Every role is a node (bridgesim/node.h): a clock-free state machine.
 *
 * Flows (ISO 8583:1987 message classes, GUIDE §3):
 *   terminal --0200--> acquirer --0200--> switch --0200--> issuer (or bridge)
 *   terminal <-0210--- acquirer <-0210--- switch <-0210--- issuer
 * On its timer the acquirer answers the terminal with RC 91 and reverses the request:
 * 0420 with DE 90 (original data elements), repeated as 0421 with backoff until 0430.
 * Responses are matched on (DE 32, DE 11, DE 7) and the MTI class, never on STAN alone.
 */
#ifndef BRIDGESIM_NETWORK_H
#define BRIDGESIM_NETWORK_H

#include <bridgesim/common.h>
#include <bridgesim/iso8583.h>
#include <bridgesim/node.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- BIN routing ------------------------------------------------------------------------ */

/** Largest number of ranges in one BIN table. */
#define BS_BIN_TABLE_MAX 4096

/**
 * struct bs_bin_table - BIN/IIN ranges of different prefix lengths mapped to targets;
 * lookups take the longest matching prefix (a 6-digit IIN beats a 4-digit range).
 */
struct bs_bin_table {
    struct bs_bin_entry {
        uint64_t lo, hi; /* inclusive prefix values */
        uint8_t digits;  /* prefix length, 1..8 */
        uint32_t target; /* what the caller routes to (node id, network index) */
    } * e;
    size_t n;
};

/** bs_bin_table_init() - an empty table (no allocation until the first add). */
void bs_bin_table_init(struct bs_bin_table *t);

/** bs_bin_table_deinit() - free the entries. */
void bs_bin_table_deinit(struct bs_bin_table *t);

/**
 * bs_bin_table_add() - route prefixes @lo..@hi of @digits digits to @target.
 * Return: 0; BS_EINVAL (digits outside 1..8, lo > hi, a bound with more digits);
 * BS_EEXIST when the range overlaps one of the same length; BS_ELIMIT; BS_ENOMEM.
 */
int bs_bin_table_add(struct bs_bin_table *t, uint64_t lo, uint64_t hi, unsigned digits,
                     uint32_t target);

/**
 * bs_bin_lookup() - the target of the longest prefix of @pan (@n digits) in @t.
 * Return: 0 and *@ret; BS_ENOTFOUND when nothing matches; BS_EFORMAT for non-digits.
 */
int bs_bin_lookup(const struct bs_bin_table *t, const char *pan, size_t n, uint32_t *ret);

/* ---- card populations ----------------------------------------------------------------- */

/**
 * struct bs_card_population - the cards of one issuer, generated rather than stored:
 * card @i has prefix lo + (i mod span) where span = hi − lo + 1 over the ranges in
 * order, then the account number (i div span) zero-padded, then the Luhn check digit
 * (ISO/IEC 7812-1). So PAN ⇄ index needs no table.
 */
struct bs_card_population {
    struct bs_card_range {
        uint64_t lo, hi;
        uint8_t digits;
    } ranges[16];
    size_t nranges;
    uint64_t cards;     /* valid card indexes are 0 .. cards - 1 */
    uint8_t pan_length; /* 13..19 */
};

/**
 * bs_card_pan() - write the PAN of card @idx into @out (pan_length digits and NUL).
 * @idx may be ≥ cards (a card with a valid BIN but no account, for RC 14 traffic).
 * Return: 0; BS_ERANGE when @idx does not fit the account digits.
 */
int bs_card_pan(const struct bs_card_population *p, uint64_t idx, char out[20]);

/**
 * bs_card_index() - the index of the card with PAN @pan.
 * Return: 0 and *@ret; BS_ENOTFOUND when the PAN is not one of this population (wrong
 * length, BIN, Luhn digit, or index ≥ cards).
 */
int bs_card_index(const struct bs_card_population *p, const char *pan, size_t n, uint64_t *ret);

/* ---- shared transaction helpers ------------------------------------------------------ */

/**
 * bs_msg_make_response() - start the response to request @req in @resp: response MTI,
 * and the data elements a response echoes (2, 3, 4, 5, 6, 7, 10, 11, 12, 13, 15, 32,
 * 33, 37, 41, 42, 49, 50, 51, 90), then DE 39 = @rc.
 * Return: 0; BS_EINVAL when @req is not a request; BS_ELIMIT.
 */
int bs_msg_make_response(const struct bs_iso_msg *req, struct bs_iso_msg *resp, const char *rc);

/**
 * bs_txn_key() - the 64-bit hash of the matching key (DE 32, DE 11, DE 7, MTI class) of
 * @m. The class is the MTI's second digit with 4 for reversals, so a 0210 matches its
 * 0200 and a 0430 its 0420/0421.
 */
uint64_t bs_txn_key(const struct bs_iso_msg *m);

/**
 * bs_channel_of() - BS_CH_ATM for DE 3 processing codes 01xxxx (cash) and 31xxxx (balance
 * inquiry, made at ATMs in bridgesim), else BS_CH_POS.
 */
unsigned bs_channel_of(const struct bs_iso_msg *m);

/** bs_channel_of_proc() - the same for a DE 3 value as a string. */
unsigned bs_channel_of_proc(const char *proc);

/**
 * bs_txn_type_of_proc() - the enum bs_txn_type a DE 3 processing code (a string of at least
 * two digits) stands for: 20 refund, 31 balance inquiry, 01 ATM withdrawal, anything else a
 * purchase (a cancellation is a purchase on the wire).
 */
unsigned bs_txn_type_of_proc(const char *proc);

/**
 * bs_txn_type_name() - the scenario and summary.json name of transaction type @type
 * ("purchase", "atm_withdrawal", "refund", "balance_inquiry", "cancellation"); "?" out of
 * range.
 */
const char *bs_txn_type_name(unsigned type);

/**
 * bs_txn_proc_code() - the DE 3 processing code a terminal sends for transaction type
 * @type at channel @channel: "200000" refund, "310000" balance inquiry, "010000" cash (an
 * ATM withdrawal, or a purchase type at an ATM), else "000000".
 */
const char *bs_txn_proc_code(unsigned type, unsigned channel);

/* ---- DE 54 additional amounts (ISO 8583:1987) -------------------------------------------- */

/** Length of one DE 54 amount set: account type 2, amount type 2, currency 3, sign 1, 12. */
#define BS_ADDL_AMOUNT_LEN 20

/**
 * struct bs_addl_amount - one DE 54 amount set (ISO 8583:1987 DE 54, n 2 account type,
 * n 2 amount type — 01 ledger balance, 02 available balance —, n 3 ISO 4217 currency,
 * a 1 'C' credit / 'D' debit sign, n 12 amount in minor units of that currency).
 * @amount is signed: 'D' sets give a negative value.
 */
struct bs_addl_amount {
    char account_type[3];
    char amount_type[3];
    uint16_t currency;
    int64_t amount;
};

/**
 * bs_addl_amount_format() - write @a as its 20 characters and a NUL into @out.
 * Return: 0; BS_ERANGE when |amount| has more than 12 digits or the currency more than 3;
 * BS_EINVAL when a type is not two digits.
 */
int bs_addl_amount_format(const struct bs_addl_amount *a, char out[BS_ADDL_AMOUNT_LEN + 1]);

/**
 * bs_addl_amount_parse() - read amount set @i (0-based) of DE 54 value @s (@n characters).
 * Return: 0; BS_ENOTFOUND when @s holds fewer than i + 1 sets; BS_EFORMAT when the set is
 * not digits where digits belong or the sign is not C or D.
 */
int bs_addl_amount_parse(const char *s, size_t n, size_t i, struct bs_addl_amount *ret);

/**
 * struct bs_timer_set - per-channel timers (µs), index BS_CH_POS / BS_CH_ATM.
 * Nested: issuer < stand_in < bridge < acquirer < terminal.
 */
struct bs_timer_set {
    bs_time_us issuer, stand_in, bridge, acquirer, terminal;
};

/* ---- canonical transaction -------------------------------------------------------- */

/**
 * struct bs_canon - one transaction leg in dialect-neutral form. Strings are the logical
 * values of the data elements (digits for n fields), NUL-terminated, empty when absent.
 * Amounts are minor units; -1 when absent.
 */
struct bs_canon {
    char mti[5];
    char pan[20];             /* DE 2 */
    char proc[7];             /* DE 3 */
    int64_t amount;           /* DE 4, transaction currency */
    int64_t billing;          /* DE 6, cardholder billing currency */
    char dt[11];              /* DE 7 MMDDhhmmss UTC */
    char rate[9];             /* DE 10 */
    char stan[7];             /* DE 11 */
    char local_time[7];       /* DE 12 */
    char local_date[5];       /* DE 13 */
    char expiry[5];           /* DE 14 */
    char mcc[5];              /* DE 18 */
    char pos_entry[4];        /* DE 22 */
    char pos_cond[3];         /* DE 25 */
    char acq[12];             /* DE 32 */
    char fwd[12];             /* DE 33 */
    char track2[38];          /* DE 35: carried, never journaled */
    char rrn[13];             /* DE 37 */
    char auth[7];             /* DE 38 */
    char rc[3];               /* DE 39 */
    char tid[9];              /* DE 41 */
    char mid[16];             /* DE 42 */
    char acceptor[41];        /* DE 43 */
    char currency[4];         /* DE 49 */
    char billing_currency[4]; /* DE 51 */
    char orig[43];            /* DE 90 */
};

/**
 * bs_canon_from_msg() - read @m into @c.
 * Return: 0; BS_EFORMAT when a present DE is longer than its canonical slot or an
 * amount is not numeric.
 */
int bs_canon_from_msg(const struct bs_iso_msg *m, struct bs_canon *c);

/**
 * bs_canon_to_msg() - write every non-empty member of @c into a fresh @m (MTI from @c).
 * Return: 0; BS_EINVAL for a bad MTI; BS_ELIMIT.
 */
int bs_canon_to_msg(const struct bs_canon *c, struct bs_iso_msg *m);

/* ---- stand-in processing (STIP) -------------------------------------------------------- */

/**
 * struct bs_stip_policy - when a switch or the bridge may approve for an issuer that does
 * not answer (GUIDE §3 "Issuer silent or signed off"; issue #4 §7). Amounts are minor
 * units of the card's (issuer's) currency.
 * @enabled:        false: never stand in; the request is declined RC 91 and reversed.
 * @max_amount:     per channel (BS_CH_POS, BS_CH_ATM): the largest single amount approved in
 *                  stand-in; 0 disables stand-in on that channel.
 * @daily_per_card: the most one card may be approved in stand-in per UTC day; 0: no limit.
 */
struct bs_stip_policy {
    bool enabled;
    int64_t max_amount[BS_CH_COUNT];
    int64_t daily_per_card;
};

/* ---- network management (ISO 8583:1987 class 8) ---------------------------------------- */

/**
 * struct bs_netmgmt_policy - network management on one link, as one of its ends sees it
 * (GUIDE §3 "Network management"; issue #4 §9; configs/README.md `network_management`).
 * 0800 requests carry DE 7, DE 11 and DE 70 (001 sign-on, 002 sign-off, 301 echo test);
 * the receiver answers 0810 with DE 39.
 * @enabled:       false: no 0800 on this link, the peer is always taken as up (a zeroed
 *                 policy is off, so a configuration without it behaves as before).
 * @originate:     this end originates on the link: it signs on at start (BS_ADMIN_START)
 *                 and sends the echo tests; the other end only answers. Exactly one end
 *                 of a link should originate.
 * @echo_interval: µs between echo tests, and between repeats of an unacknowledged
 *                 sign-on or sign-off; at least 1 s.
 * @missed_echoes: echo tests unanswered in a row (each given a whole interval) that mark
 *                 the peer down; at least 1.
 */
struct bs_netmgmt_policy {
    bool enabled;
    bool originate;
    bs_time_us echo_interval;
    unsigned missed_echoes;
};

/* ---- terminal pool -------------------------------------------------------------------- */

/** A transaction the workload asks a terminal pool to start. */
struct bs_txn_request {
    uint32_t flow;    /* workload flow, reported back in the outcome */
    unsigned channel; /* BS_CH_POS or BS_CH_ATM: timers, MCC, DE 25, DE 52 */
    unsigned type;    /* enum bs_txn_type: DE 3 and MTI (bs_txn_proc_code()); 0 purchase */
    /* BS_TXN_CANCELLATION: µs after the approval at which the cardholder cancels (> 0). */
    bs_time_us cancel_after;
    char pan[20];
    char expiry[5];    /* YYMM */
    int64_t amount;    /* minor units of the terminal's currency */
    uint32_t terminal; /* terminal index within the pool */
    uint64_t trace;    /* trace id, unique per run */
};

#define BS_MERCHANT_GROUPS_MAX 32

/**
 * struct bs_merchant_group - @count merchants of merchant category code @mcc (ISO 18245;
 * DE 18). An acquirer's merchants are numbered group after group in the order given.
 */
struct bs_merchant_group {
    uint16_t mcc;
    uint32_t count;
};

/** bs_merchant_mcc() - the MCC of merchant @m of @groups (@n of them); 0 when none. */
uint16_t bs_merchant_mcc(const struct bs_merchant_group *groups, size_t n, uint32_t m);

/*
 * A terminal belongs to merchant (terminal index mod merchants) and sends DE 42 "M" and
 * that number; DE 18 is 6011 for a cash withdrawal, else the merchant's MCC: its group's
 * (@groups, @ngroups, copied), or @mcc for every merchant when there are no groups.
 */
struct bs_terminal_cfg {
    const char *name;
    uint32_t acquirer; /* node id of the acquirer host */
    const struct bs_iso_dialect *dialect;
    uint32_t terminals, merchants;
    uint16_t mcc;
    const struct bs_merchant_group *groups;
    size_t ngroups;       /* ≤ BS_MERCHANT_GROUPS_MAX */
    const char *location; /* DE 43, up to 40 characters */
    uint16_t currency;    /* ISO 4217 numeric */
    int utc_offset_min;   /* DE 12/13 local time */
    struct bs_timer_set timers[2];
};

/** bs_terminal_new() - a terminal pool. Return: 0; BS_EINVAL; BS_ENOMEM. */
int bs_terminal_new(const struct bs_terminal_cfg *cfg, struct bs_key *key, struct bs_keystore *keys,
                    struct bs_node **ret);

/**
 * bs_terminal_start() - start transaction @req now: build, sign and send the 0200 (0100 for
 * a balance inquiry), and start the terminal timer. A cancellation, once approved, stays
 * in flight: after @req->cancel_after the terminal sends a 0400 reversal request (DE 39
 * 17 customer cancellation, DE 90 naming the 0200) and waits for the 0410 up to its timer,
 * repeating it as 0401 (same STAN and DE 7) up to three times before it gives up.
 * Return: 0; BS_ELIMIT when 999,999 are in flight; BS_EFORMAT when the request does not
 * pack; BS_EINVAL for a type out of range or a cancellation without a delay.
 */
int bs_terminal_start(struct bs_node *term, const struct bs_txn_request *req);

/** bs_terminal_in_flight() - transactions started and not yet answered or timed out. */
size_t bs_terminal_in_flight(const struct bs_node *term);

/* ---- acquirer host --------------------------------------------------------------------- */

struct bs_acquirer_cfg {
    const char *name;
    const char *inst_id; /* DE 32, digits */
    uint32_t terminals;  /* node id of the terminal pool */
    uint32_t sw;         /* node id of the scheme switch */
    const struct bs_iso_dialect *dialect;
    struct bs_timer_set timers[2];
    unsigned reversal_max_repeats;   /* 0421 repeats before the case becomes an exception */
    bs_time_us reversal_backoff;     /* first repeat delay; doubles each time */
    bs_time_us reversal_backoff_max; /* cap on the delay */
    struct bs_netmgmt_policy nm;     /* towards the switch (which originates by default) */
    uint8_t rrn_code; /* 0..99, unique per acquirer of a run: DE 37 digits 5-6 (see make_rrn) */
};

/**
 * bs_acquirer_new() - an acquirer host. With network management (@cfg->nm), while its
 * switch is signed off or down, or while the acquirer itself is signed off (a sign_off
 * fault), it answers its terminals RC 91 at once and forwards nothing.
 * Return: 0; BS_EINVAL; BS_ENOMEM.
 */
int bs_acquirer_new(const struct bs_acquirer_cfg *cfg, struct bs_key *key, struct bs_keystore *keys,
                    struct bs_node **ret);

/** bs_acquirer_open_reversals() - reversals not yet acknowledged nor given up. */
size_t bs_acquirer_open_reversals(const struct bs_node *acq);

/* ---- scheme switch --------------------------------------------------------------------- */

struct bs_switch_cfg {
    const char *name;
    const char *inst_id; /* DE 33 forwarding institution */
    const struct bs_iso_dialect *dialect;
    const struct bs_bin_table *routes; /* BIN → node id (issuer hosts, the bridge) */
    uint32_t bridge;                   /* node id of the bridge, or UINT32_MAX */
    struct bs_timer_set timers[2];
    struct bs_stip_policy stip;      /* stand-in for this scheme's own issuers */
    size_t saf_window;               /* advices in flight per SAF queue (≥ 1) */
    unsigned reversal_max_repeats;   /* as for the acquirer: the switch reverses towards a */
    bs_time_us reversal_backoff;     /* target it gave up on, so a late approval there is */
    bs_time_us reversal_backoff_max; /* undone */
    struct bs_netmgmt_policy nm;     /* towards its acquirers and issuers ... */
    const uint32_t *members;         /* ... these node ids (read at creation only) */
    size_t nmembers;
    struct bs_netmgmt_policy nm_bridge; /* towards the bridge */
};

/**
 * bs_switch_new() - a scheme switch. It routes requests by BIN (RC 15 when no BIN
 * matches), forwards responses to whoever sent the request, stands in for its own issuers
 * within @stip (0220 advices in a store-and-forward queue per issuer, sent @saf_window at
 * a time, repeated as 0221 until 0230), and otherwise answers RC 91 when the
 * target stays silent past its timer (stand_in towards issuers; towards the bridge, the
 * midpoint of the bridge and acquirer timers), then reverses towards that target so a
 * late approval there is undone.
 *
 * Network management (@nm, @nm_bridge; ISO 8583:1987 class 8): a target that is down
 * (missed echo tests, or signed off) gets no new 0100/0200: the switch stands in at once
 * where its policy allows, else answers RC 91, and forwards nothing (so there is nothing
 * to reverse). Its SAF queue is held while it is down and drains in order when it comes
 * back up (sign-on or answered echo). Reversals keep their own bounded repeat schedule.
 * While the switch itself is signed off it answers new 0100/0200 RC 91.
 * Return: 0; BS_EINVAL; BS_ENOMEM.
 */
int bs_switch_new(const struct bs_switch_cfg *cfg, struct bs_key *key, struct bs_keystore *keys,
                  struct bs_node **ret);

/** bs_switch_open_advices() - stand-in advices stored and not yet acknowledged. */
size_t bs_switch_open_advices(const struct bs_node *sw);

/** bs_switch_open_reversals() - reversals the switch started and not yet finished. */
size_t bs_switch_open_reversals(const struct bs_node *sw);

/* ---- issuer host ----------------------------------------------------------------------- */

struct bs_issuer_cfg {
    const char *name;
    const char *inst_id;
    uint32_t sw; /* node id of the scheme switch */
    const struct bs_iso_dialect *dialect;
    uint16_t currency;                      /* ISO 4217 numeric of the cardholder accounts */
    const struct bs_card_population *cards; /* copied */
    bs_time_us retention;        /* how long postings are kept for reversals and duplicates */
    struct bs_netmgmt_policy nm; /* towards the switch (which originates by default) */
};

/**
 * bs_issuer_new() - an issuer host with @cards accounts, all at balance 0 and expiry
 * 0000 until bs_issuer_card_open(), active and without a daily limit until
 * bs_issuer_card_restrict(). It answers 00 (debited), 14 (unknown card), 41 (lost card),
 * 43 (stolen card), 62 (restricted card), 54 (expired), 55 (wrong PIN), 61 (exceeds the
 * card's daily withdrawal amount limit), 51 (insufficient funds), 13 (amount does not fit),
 * 12 (currency it cannot bill) — checked in that order (ISO 8583:1987 DE 39) —, applies
 * reversals at most once, and answers a repeated request with the stored response without
 * debiting again. While signed off (a sign_off fault; @cfg->nm) it
 * declines 0100/0200 RC 91 and answers echo tests RC 91, and still applies the reversals
 * and advices that reach it (they report what already happened).
 * Return: 0; BS_EINVAL; BS_ENOMEM.
 */
int bs_issuer_new(const struct bs_issuer_cfg *cfg, struct bs_key *key, struct bs_keystore *keys,
                  struct bs_node **ret);

/**
 * bs_issuer_card_open() - set card @idx's opening balance (minor units) and expiry (YYMM
 * as a number, e.g. 2812). Return: 0; BS_EINVAL; BS_ESTATE after the first posting.
 */
int bs_issuer_card_open(struct bs_node *iss, uint64_t idx, int64_t balance, uint16_t expiry);

/** bs_issuer_card_expiry() - the expiry (YYMM) of card @idx, or 0. */
uint16_t bs_issuer_card_expiry(const struct bs_node *iss, uint64_t idx);

/**
 * enum bs_card_status - what an issuer knows about a card besides its account: blocked
 * cards are declined before anything else is checked (ISO 8583:1987 DE 39: 41 "lost card,
 * pick up", 43 "stolen card, pick up", 62 "restricted card").
 */
enum bs_card_status {
    BS_CARD_ACTIVE = 0,
    BS_CARD_RESTRICTED, /* RC 62: blocked by the issuer */
    BS_CARD_LOST,       /* RC 41 */
    BS_CARD_STOLEN,     /* RC 43 */
};

/**
 * bs_issuer_card_restrict() - set card @idx's status and daily limit: the most (minor units
 * of the issuer's currency) the card may be debited per UTC day of the issuer's clock,
 * approvals and posted stand-in advices together, reversals giving back what they credit;
 * a request above it is declined RC 61 "exceeds withdrawal amount limit". 0: no limit.
 * Stand-in advices are posted whatever the status and the limit (they report an approval
 * that already happened). The arrays behind these are allocated on the first card that is
 * not active or has a limit, so populations without them cost nothing.
 * Return: 0; BS_EINVAL (no such card, an unknown status or a negative limit); BS_ENOMEM.
 */
int bs_issuer_card_restrict(struct bs_node *iss, uint64_t idx, enum bs_card_status status,
                            int64_t daily_limit);

/** bs_issuer_card_status() - the status of card @idx; BS_CARD_ACTIVE for no such card. */
enum bs_card_status bs_issuer_card_status(const struct bs_node *iss, uint64_t idx);

/**
 * bs_issuer_suspense() - the total (minor units) of stand-in advices the issuer had to
 * acknowledge but could not post to a card (unknown card): owed in settlement, booked to
 * suspense for manual follow-up.
 */
int64_t bs_issuer_suspense(const struct bs_node *iss);

/** bs_issuer_ledger() - the issuer's ledger (owned by the node). */
const struct bs_ledger *bs_issuer_ledger(const struct bs_node *iss);

/** bs_node_free() - free any node through its ops; NULL accepted. */
void bs_node_free(struct bs_node *node);

#ifdef __cplusplus
}
#endif
#endif /* BRIDGESIM_NETWORK_H */
