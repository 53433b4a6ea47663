/*
 * bridgesim scenario: the in-memory form of a scenario file (configs/README.md is the
 * schema reference). Loaded from YAML by bs_scenario_load(); every value is already in
 * canonical units: time in microseconds (bs_time_us), money in minor units of the named
 * currency, rates in transactions per second, probabilities in [0, 1].
 */
#ifndef BRIDGESIM_SCENARIO_H
#define BRIDGESIM_SCENARIO_H

#include <bridgesim/common.h>
#include <bridgesim/crypto.h>
#include <bridgesim/network.h>

#define BS_SC_ID_MAX         32 /* node/institution ids, without NUL */
#define BS_SC_NAME_MAX       96 /* scenario and node path names ("mir.MIRACQ1.terminals") */
#define BS_SC_MAX_NETWORKS   2
#define BS_SC_MAX_ISSUERS    32
#define BS_SC_MAX_ACQUIRERS  32
#define BS_SC_MAX_BINS       16
#define BS_SC_MAX_LINKS      256
#define BS_SC_MAX_FLOWS      16
#define BS_SC_MAX_EXPECT     32
#define BS_SC_MAX_FX_CHANGES 64      /* bridge.fx.rates entries (= BS_BRIDGE_MAX_RATES) */
#define BS_SC_MAX_EMPIRICAL  32      /* empirical distribution files per scenario */
#define BS_SC_MAX_SAMPLES    1000000 /* samples per empirical distribution file */
/* Every node a scenario can have: per network a switch, issuers, acquirers and their
 * terminal groups; plus the bridge. Bounds bs_scenario_node_names(). */
#define BS_SC_MAX_NODES (BS_SC_MAX_NETWORKS * (1 + BS_SC_MAX_ISSUERS + 2 * BS_SC_MAX_ACQUIRERS) + 1)

/** Probability distributions; the loader converts units so values are µs or minor units. */
enum bs_dist_kind {
    BS_DIST_CONSTANT = 0, /* a = value */
    BS_DIST_UNIFORM,      /* a = low, b = high (inclusive) */
    BS_DIST_NORMAL,       /* a = mean, b = standard deviation */
    BS_DIST_LOGNORMAL,    /* a = median, b = sigma of the underlying normal */
    BS_DIST_EXPONENTIAL,  /* a = mean */
    BS_DIST_PARETO,       /* a = scale (minimum), b = shape alpha */
    BS_DIST_EMPIRICAL,    /* samples[0..nsamples), sorted ascending (a CSV file) */
};

/**
 * struct bs_dist - a distribution with optional clamps. Samples are clamped to
 * [min, max] when has_min / has_max are set, and never below 0.
 */
struct bs_dist {
    enum bs_dist_kind kind;
    double a, b;
    bool has_min, has_max;
    double min, max;
    const double *samples; /* EMPIRICAL: ascending, owned by the scenario (bs_sc_empirical) */
    size_t nsamples;       /* EMPIRICAL: ≥ 1 */
};

/** The most per-MTI `processing` entries one node may have (besides `default`). */
#define BS_SC_MAX_PROC_MTIS 8

/**
 * struct bs_sc_proc_mti - per-MTI processing times of a node (`processing: {default: ...,
 * "0100": ...}`): a message whose MTI is @mti[i] takes a sample of @d[i], any other one a
 * sample of the node's `processing` (the default). Each entry draws from its own stream.
 */
struct bs_sc_proc_mti {
    size_t n;
    char mti[BS_SC_MAX_PROC_MTIS][5];
    struct bs_dist d[BS_SC_MAX_PROC_MTIS];
};

/** An ISO 4217 currency with the exponent this scenario uses for it. */
struct bs_sc_currency {
    char code[4];     /* "RUB" */
    uint16_t numeric; /* 643 */
    uint8_t exponent; /* minor-unit digits: RUB 2; IRR 0 (practice) or 2 (ISO 4217) */
};

/** A BIN/IIN range of card-number prefixes, e.g. 2200–2204 (4 digits) or 603799. */
struct bs_sc_bin_range {
    uint64_t lo, hi; /* inclusive, as numbers of @digits digits */
    uint8_t digits;  /* prefix length, 1..8 */
};

struct bs_sc_issuer {
    char id[BS_SC_ID_MAX + 1]; /* "MIRBANK1"; node name is "<network>.<id>" */
    char inst_id[12];          /* institution id digits for DE 32/33/100 */
    struct bs_sc_bin_range bins[BS_SC_MAX_BINS];
    size_t nbins;
    uint32_t cards;         /* card population size */
    uint8_t pan_length;     /* 16 (default) .. 19 */
    struct bs_dist balance; /* opening balance, minor units of the network currency */
    double expired_share;   /* share of cards whose expiry date has passed */
    /* Shares of blocked cards (exclusive of each other, sum ≤ 1): RC 62 restricted card,
     * RC 41 lost card, RC 43 stolen card. */
    double blocked_share, lost_share, stolen_share;
    bool has_daily_limit;
    struct bs_dist daily_limit;           /* per card, minor units per UTC day (RC 61 above it) */
    struct bs_dist processing;            /* issuer host processing time, µs */
    struct bs_sc_proc_mti processing_mti; /* per-MTI overrides of @processing */
    uint32_t workers;                     /* messages served at once; 0: unlimited (no queue) */
    int64_t queue_limit;                  /* messages waiting for a worker; < 0: unlimited */
};

/* enum bs_channel (BS_CH_POS, BS_CH_ATM, BS_CH_COUNT) is in bridgesim/common.h. */

struct bs_sc_acquirer {
    char id[BS_SC_ID_MAX + 1]; /* "MIRACQ1"; nodes "<network>.<id>" and ".terminals" */
    char inst_id[12];          /* DE 32 acquiring institution id, digits */
    uint32_t terminals;        /* terminals (TIDs) behind this acquirer */
    uint32_t merchants;        /* merchants (MIDs); terminals are spread over them */
    uint16_t mcc;              /* merchant category code (DE 18) of every merchant, for POS,
                                  when there are no merchant groups */
    /* `merchants: [{mcc: 5411, count: 50}, ...]`: merchants by MCC (sum = merchants). */
    struct bs_merchant_group groups[BS_MERCHANT_GROUPS_MAX];
    size_t ngroups;
    char location[41];                    /* DE 43 acceptor name/location, 40 characters */
    struct bs_dist processing;            /* acquirer host processing time, µs */
    struct bs_sc_proc_mti processing_mti; /* per-MTI overrides of @processing */
    uint32_t workers;                     /* messages served at once; 0: unlimited (no queue) */
    int64_t queue_limit;                  /* messages waiting for a worker; < 0: unlimited */
};

/**
 * struct bs_sc_stip - a stand-in policy (key `stand_in`): amounts in minor units of the
 * card's currency. @saf_window: advices in flight per store-and-forward queue.
 */
struct bs_sc_stip {
    bool enabled;
    int64_t max_amount[BS_CH_COUNT];
    int64_t daily_per_card;
    uint32_t saf_window;
};

/**
 * struct bs_sc_netmgmt - `network_management` of a network (its acquirer–switch and
 * switch–issuer links) or of the bridge (its links to both switches): 0800/0810 sign-on,
 * sign-off and echo test, ISO 8583:1987 class 8 (configs/README.md).
 * @enabled:         default true; `network_management: off` sends no 0800 at all.
 * @peer_originates: `originator: peer`: the acquirers and issuers (towards their switch),
 *                   or the switches (towards the bridge) sign on and send the echo tests;
 *                   default: the side nearer the centre (the switch; the bridge).
 * @echo_interval:   µs, default 60 s, 1 s … 1 h.
 * @missed_echoes:   unanswered echo tests in a row that mark the peer down; default 3.
 */
struct bs_sc_netmgmt {
    bool enabled;
    bool peer_originates;
    bs_time_us echo_interval;
    uint32_t missed_echoes;
};

struct bs_sc_network {
    char name[BS_SC_ID_MAX + 1]; /* "mir" or "shetab" */
    char dialect[256];           /* dialect name (configs/dialects/NAME.yaml) or file path;
                                    a relative path is resolved from the directory of the
                                    file that names it, so this is usable from any cwd */
    char dialect_at[320];        /* "file:line:column" of the `dialect` key (or of the
                                    network, for the default), for error messages */
    struct bs_sc_currency currency;
    int16_t utc_offset_min;           /* local time of the network's terminals (DE 12/13):
                                         key `utc_offset: "+03:00"`; default from the currency
                                         (RUB Moscow +03:00, IRR Tehran +03:30, else 0) */
    char switch_inst_id[12];          /* the switch's institution id (DE 33 forwarding) */
    struct bs_dist switch_processing; /* µs */
    struct bs_sc_proc_mti switch_processing_mti; /* per-MTI overrides */
    struct bs_sc_issuer issuers[BS_SC_MAX_ISSUERS];
    size_t nissuers;
    struct bs_sc_acquirer acquirers[BS_SC_MAX_ACQUIRERS];
    size_t nacquirers;
    struct bs_sc_stip switch_stip; /* the switch stands in for this network's issuers */
    uint32_t switch_workers;       /* switch capacity (sim/engine/capacity.h); 0: unlimited */
    int64_t switch_queue_limit;    /* < 0: unlimited */
    struct bs_sc_netmgmt netmgmt;  /* acquirer–switch and switch–issuer links */
};

struct bs_sc_bridge {
    /* The bridge's institution id as a member of each network (index = network). */
    char inst_id[BS_SC_MAX_NETWORKS][12];
    /* FX: rate = quote units per 1 base unit, as rate_num / 10^rate_scale (e.g. "4510.25"
     * → 451025 / 10^2). Quoted in the large direction (IRR per RUB), GUIDE §3. */
    char fx_base[4], fx_quote[4];
    int64_t rate_num;
    uint8_t rate_scale;
    uint32_t markup_bps; /* added to the rate, basis points */
    /* `fx.rates`: later mid rates, @at µs after time.start, strictly increasing. */
    struct bs_sc_fx_change {
        bs_time_us at;
        int64_t rate_num;
        uint8_t rate_scale;
    } fx_changes[BS_SC_MAX_FX_CHANGES];
    size_t nfx_changes;
    struct bs_dist processing;                  /* µs */
    struct bs_sc_proc_mti processing_mti;       /* per-MTI overrides of @processing */
    struct bs_sc_stip stip[BS_SC_MAX_NETWORKS]; /* stand-in for each network's cards */
    uint32_t workers;             /* messages served at once; 0: unlimited (no queue) */
    int64_t queue_limit;          /* messages waiting for a worker; < 0: unlimited */
    struct bs_sc_netmgmt netmgmt; /* bridge–switch links */
};

/** Per-channel timer budgets, nested: issuer < stand_in < bridge < acquirer < terminal. */
struct bs_sc_timers {
    bs_time_us issuer, stand_in, bridge, acquirer, terminal;
};

/**
 * struct bs_sc_ge - Gilbert–Elliott burst loss: a two-state Markov chain per link direction
 * (or per loss fault), advanced once per message. In the good state a message is lost with
 * probability @loss_good, in the bad state with @loss_bad; after each message the chain
 * moves good → bad with probability @p and bad → good with @r. Stationary loss rate
 * (p·loss_bad + r·loss_good) / (p + r); with loss_good 0 and loss_bad 1 the mean burst of
 * consecutive losses is 1 / r messages (Gilbert 1960, Elliott 1963).
 */
struct bs_sc_ge {
    bool enabled;
    double p, r;
    double loss_good, loss_bad;
};

/**
 * struct bs_sc_link_capacity - what one direction of a link carries at once (`capacity`).
 * @max_in_flight: messages between entering the link and arriving; 0: unlimited.
 * @backpressure:  when full, a message waits at the sender (FIFO) for a free slot instead
 *                 of being dropped.
 * @queue_limit:   backpressure: messages that may wait; one more is dropped. < 0: unlimited.
 * @bytes_per_s:   bandwidth: a message occupies the line for size / bandwidth and queues
 *                 FIFO behind the one before it; 0: unlimited.
 */
struct bs_sc_link_capacity {
    uint32_t max_in_flight;
    bool backpressure;
    int64_t queue_limit;
    uint64_t bytes_per_s;
};

struct bs_sc_link {
    char a[BS_SC_NAME_MAX], b[BS_SC_NAME_MAX]; /* node names, see bs_scenario_node_names */
    struct bs_dist latency;    /* one-way, µs: a → b, and b → a unless @split */
    struct bs_dist latency_ba; /* b → a when @split */
    bool split;                /* `latency: {a_to_b: ..., b_to_a: ...}`: each direction its own */
    double correlation; /* ρ in [0, 1): latency = ρ·previous + (1 − ρ)·fresh, per direction */
    double loss;        /* Bernoulli drop probability per message */
    struct bs_sc_ge ge; /* burst loss (`loss: {model: gilbert-elliott}`), instead of @loss */
    struct bs_sc_link_capacity cap;
    int line, column; /* where it was declared, for error messages */
};

/*
 * Arrival processes (configs/README.md "workload.arrivals"). constant and poisson offer
 * workload.rate_tps throughout; the others are non-homogeneous Poisson processes whose rate
 * λ(t) in TPS varies with time (sim/workload/arrivals.h draws them by thinning).
 */
enum bs_arrival {
    BS_ARRIVAL_POISSON = 0,
    BS_ARRIVAL_CONSTANT, /* evenly spaced, 1 / rate_tps apart */
    BS_ARRIVAL_RAMP,     /* rate_tps until at, linear to to_tps over `over`, then to_tps */
    BS_ARRIVAL_STEP,     /* rate_tps, then each step's rate from its `at` on */
    BS_ARRIVAL_SPIKE,    /* rate_tps, spike_tps inside [at, at + for) */
    BS_ARRIVAL_DIURNAL,  /* rate_tps times a 24-hour profile of the UTC time of day */
    BS_ARRIVAL_KIND_COUNT
};

#define BS_SC_MAX_STEPS 64

/** One change of rate of a `step` process: from @at (µs after the workload starts) on. */
struct bs_sc_rate_step {
    bs_time_us at;
    double rate_tps;
};

/**
 * struct bs_sc_arrivals - the parameters of workload.arrivals beyond its kind. Times are µs
 * relative to the start of the workload, except the diurnal ones (µs after 00:00 UTC).
 * @to_tps, @at, @over:          ramp.
 * @steps, @nsteps:              step; @at strictly increasing.
 * @spike_tps, @at, @duration:   spike.
 * @hourly, @has_hourly:         diurnal profile: multiplier of rate_tps at hh:30 UTC for
 *                               hour hh, linear in between (wrapping at midnight); or,
 *                               without it, @peak and @trough (time of day, µs after 00:00
 *                               UTC) with @trough_ratio: rate_tps at the peak, rate_tps ·
 *                               trough_ratio at the trough, half-cosine curves between.
 */
struct bs_sc_arrivals {
    double to_tps;
    bs_time_us at, over, duration;
    struct bs_sc_rate_step steps[BS_SC_MAX_STEPS];
    size_t nsteps;
    double spike_tps;
    double hourly[24];
    bool has_hourly;
    bs_time_us peak, trough;
    double trough_ratio;
};

/* enum bs_txn_type (the transaction mix) is in bridgesim/common.h. */

/** One direction of cross-network traffic: acquirers of @from, cards of @cards. */
struct bs_sc_flow {
    int from;                      /* network index of the acquirers */
    int cards;                     /* network index of the card issuers */
    double share;                  /* share of all arrivals; shares sum to 1 */
    double mix[BS_TXN_TYPE_COUNT]; /* share of each enum bs_txn_type; sum to 1 */
    struct bs_dist amount;         /* minor units of the acquirer's (from) currency */
    double unknown_card_share;     /* cards with a valid BIN but no account (RC 14) */
};

struct bs_sc_workload {
    double rate_tps; /* total offered rate; the base rate of a time-varying process */
    enum bs_arrival arrivals;
    struct bs_sc_arrivals process; /* parameters of ramp, step, spike and diurnal */
    uint64_t count;                /* stop after this many transactions; 0: use duration */
    bs_time_us duration;           /* stop offering after this much virtual time */
    struct bs_sc_flow flows[BS_SC_MAX_FLOWS];
    size_t nflows;
};

enum bs_expect_op { BS_OP_GE, BS_OP_LE, BS_OP_GT, BS_OP_LT, BS_OP_EQ };

/** One expectation: "<metric> <op> <value>", e.g. approval_rate >= 0.9. */
struct bs_sc_expect {
    char metric[48];
    enum bs_expect_op op;
    double value; /* latency metrics in ms, rates as fractions */
    int line, column;
};

/* ---- faults (issue #5) --------------------------------------------------------------- */

#define BS_SC_MAX_FAULTS    64
#define BS_SC_MAX_MTIS      8
#define BS_SC_MAX_SETS      4
#define BS_SC_MAX_SET_NODES 16

enum bs_fault_kind {
    /* message faults: applied to each matching message on a link */
    BS_FAULT_LOSS = 0,  /* drop it */
    BS_FAULT_DUPLICATE, /* deliver a copy too, after its own latency draw */
    BS_FAULT_REORDER,   /* hold it back by an extra delay so later ones overtake it */
    BS_FAULT_DELAY,     /* add latency from @delay */
    BS_FAULT_CORRUPT,   /* damage the bytes (@corrupt says how) */
    /* node faults: a node's behaviour inside the active window */
    BS_FAULT_CRASH,      /* down: receives nothing, its timers do not fire; restarts after */
    BS_FAULT_PAUSE,      /* receives nothing until the window ends, then everything at once */
    BS_FAULT_SLOW,       /* extra processing time per message from @delay */
    BS_FAULT_HANG,       /* receives and processes, but every message it sends is lost */
    BS_FAULT_FORCE_RC,   /* an issuer answers every request with @rc */
    BS_FAULT_WRONG_KEY,  /* signs with a key its peers do not know (RC 63 on every hop) */
    BS_FAULT_CLOCK_SKEW, /* its clock (DE 7, DE 12/13) is off by @skew */
    /* topology */
    BS_FAULT_PARTITION, /* no message crosses between @sets (or @node and everyone else) */
    /* network management (issue #4 §9) */
    BS_FAULT_SIGN_OFF, /* @node signs off (0800 DE 70 = 002) for the window, then on */
    BS_FAULT_KIND_COUNT
};

enum bs_corrupt_mode {
    BS_CORRUPT_BITFLIP = 0, /* one random bit anywhere */
    BS_CORRUPT_TRUNCATE,    /* cut the message at a random length */
    BS_CORRUPT_BITMAP,      /* flip a bit in the primary bitmap */
    BS_CORRUPT_LENGTH,      /* damage the length prefix of a variable-length DE */
    BS_CORRUPT_FIELD,       /* change one digit of DE 4 (the signature no longer verifies) */
    BS_CORRUPT_SIGNATURE,   /* flip a bit of the DE 127 signature */
};

/**
 * struct bs_sc_selector - which messages (or when) a fault applies to. Empty strings and
 * zeros mean "any". Counting selectors (first_n, every_n, after_n) count the messages that
 * pass the other selectors, per fault.
 */
struct bs_sc_selector {
    char a[BS_SC_NAME_MAX], b[BS_SC_NAME_MAX]; /* link endpoints (either order) */
    bool directed;                             /* only messages from @a to @b */
    char node[BS_SC_NAME_MAX]; /* sender or receiver (message faults), or the node */
    char mti[BS_SC_MAX_MTIS][5];
    size_t nmti;
    bool has_bin;
    struct bs_sc_bin_range bin; /* DE 2 prefix */
    uint64_t first_n, every_n, after_n;
    double p, p_lo, p_hi; /* probability; [p_lo, p_hi] when a range for `check` */
    bool p_range;
    bs_time_us at, duration; /* active window, relative to time.start; 0 = always */
};

struct bs_sc_fault {
    enum bs_fault_kind kind;
    struct bs_sc_selector sel;
    enum bs_corrupt_mode corrupt;
    struct bs_dist delay; /* µs: DELAY, REORDER, SLOW */
    struct bs_sc_ge ge;   /* LOSS with `loss: {model: gilbert-elliott}`: bursts */
    char rc[3];           /* FORCE_RC */
    bs_time_us skew;      /* CLOCK_SKEW, may be negative */
    char sets[BS_SC_MAX_SETS][BS_SC_MAX_SET_NODES][BS_SC_NAME_MAX]; /* PARTITION */
    size_t nsets, set_len[BS_SC_MAX_SETS];
    int line, column;
};

/* ---- signing, keys and PIN blocks (issue #9; configs/README.md "signing", "pin") ------- */

#define BS_SC_MAX_SIG_LINKS 64
#define BS_SC_MAX_ROTATIONS 16

/** An algorithm chosen for one link (`signing.links`): both directions, one zone key. */
struct bs_sc_sig_link {
    char a[BS_SC_NAME_MAX], b[BS_SC_NAME_MAX];
    enum bs_sig_alg alg;
    uint8_t mac_len; /* HMAC/CMAC truncation, bytes; 0 = full */
    int line, column;
};

/** A key rotation (`signing.rotations`): from @at the node signs with the next epoch. */
struct bs_sc_rotation {
    char node[BS_SC_NAME_MAX];
    bs_time_us at;      /* relative to time.start */
    bs_time_us overlap; /* the old epoch verifies until at + overlap */
    int line, column;
};

/**
 * struct bs_sc_signing - everything under `signing` but the default algorithm, which is
 * bs_scenario.sig_alg. Per-network choices apply to the links inside a network (the
 * bridge–switch link belongs to the switch's network); per-link choices win over both.
 */
struct bs_sc_signing {
    uint8_t mac_len; /* default HMAC/CMAC truncation, bytes; 0 = full */
    bool net_set[BS_SC_MAX_NETWORKS];
    enum bs_sig_alg net_alg[BS_SC_MAX_NETWORKS];
    uint8_t net_mac_len[BS_SC_MAX_NETWORKS];
    struct bs_sc_sig_link links[BS_SC_MAX_SIG_LINKS];
    size_t nlinks;
    struct bs_sc_rotation rotations[BS_SC_MAX_ROTATIONS];
    size_t nrotations;
    bs_time_us replay_window; /* 0: no replay protection */
    char key_dir[512];        /* PEM files of the asymmetric keys; "": derive */
};

/** `pin`: PIN blocks in DE 52 (ISO 9564-1), built, translated and verified by an HSM. */
struct bs_sc_pin {
    bool enabled;
    uint8_t digits;               /* 4..12, default 4 */
    double wrong_share;           /* share of PIN entries that are wrong (RC 55) */
    unsigned channels;            /* bit (1 << enum bs_channel); default both */
    bool aes[BS_SC_MAX_NETWORKS]; /* zone PIN key: AES-128 (format 4) or TDES (format 0) */
};

struct bs_scenario {
    char name[BS_SC_NAME_MAX];
    char path[512]; /* the file it was loaded from */
    uint64_t seed;
    bool realtime;         /* time.mode: realtime (else virtual) */
    bs_time_us start_time; /* virtual epoch, µs since the Unix epoch (UTC) */
    bs_time_us drain;      /* extra virtual time after the workload for replies,
                              reversals and queues to settle */
    enum bs_sig_alg sig_alg;
    struct bs_sc_network networks[BS_SC_MAX_NETWORKS];
    size_t nnetworks;
    struct bs_sc_bridge bridge;
    struct bs_sc_timers timers[BS_CH_COUNT];
    struct bs_dist default_latency; /* links not listed */
    struct bs_sc_link links[BS_SC_MAX_LINKS];
    size_t nlinks;
    struct bs_sc_workload workload;
    struct bs_sc_expect expect[BS_SC_MAX_EXPECT];
    size_t nexpect;
    struct bs_sc_fault faults[BS_SC_MAX_FAULTS];
    size_t nfaults;
    bs_time_us heal_at; /* relative to time.start; 0 = none. No fault window
                           starts after it; liveness must hold after it */
    /* Settlement and fees (issue #4 §11–12; configs/README.md: bridge.settlement, fees;
     * docs/settlement.md). Fee amounts are minor units of network i's currency. */
    bs_time_us settle_cutover; /* daily cutover, µs after 00:00 UTC (default 21:00Z) */
    int64_t settle_rate_num;   /* settlement rate, fx quote per base, num / 10^scale; */
    uint8_t settle_rate_scale; /*   num 0: the fx rate */
    int64_t fee_atm_interchange[BS_SC_MAX_NETWORKS]; /* per ATM withdrawal, issuer → acquirer */
    uint32_t fee_pos_interchange_bps;                /* per purchase, acquirer → issuer */
    int64_t fee_bridge[BS_CH_COUNT][BS_SC_MAX_NETWORKS]; /* bridge fee per channel, each side */
    struct bs_sc_signing signing; /* per-network/per-link algorithms, rotation, replay */
    struct bs_sc_pin pin;         /* PIN blocks (DE 52) */
    /* Samples of every empirical distribution (owned; bs_scenario_free releases them). */
    double *empirical[BS_SC_MAX_EMPIRICAL];
    size_t nempirical;
};

/**
 * bs_scenario_load() - read, parse and validate a scenario file.
 * @path:   the YAML file.
 * @sets:   "path.to.key=value" overrides applied after loading (may be NULL), @nsets.
 * @ret:    receives a heap scenario; free with bs_scenario_free().
 * @errbuf: on failure, one or more lines "file:line:column: what is wrong; how to fix".
 *
 * Return: 0; BS_EIO when the file cannot be read; BS_EFORMAT for a syntax, schema or
 * consistency error (unknown key — with the nearest valid key suggested —, wrong type,
 * out-of-range value, undefined node in a link, non-nesting timers); BS_ENOMEM.
 *
 * Details: @errbuf (may be NULL when @errlen is 0) receives at most 20 error lines, sorted by
 * file and position, then "... and N more errors"; no trailing newline. Every error found
 * is reported, not just the first. A file may start with `extends: base.yaml` (relative to
 * its directory): the base is loaded first and this file's mappings are deep-merged over it
 * (lists replace). @sets are applied to the merged YAML tree before validation, so an
 * override is checked exactly like the file; the value is parsed as YAML ("[a, b]" is a
 * list); a missing intermediate path segment is an error naming it, a missing last segment
 * of a mapping adds the key. Errors in overrides are located as "(--set ARG):1:COLUMN".
 * Input bounds: files up to 4 MiB, 200000 YAML nodes (aliases expanded), nesting depth 64,
 * extends chains of 8. BS_EINVAL for a NULL @path/@ret or a path of 512 bytes or more.
 */
int bs_scenario_load(const char *path, const char *const *sets, size_t nsets,
                     struct bs_scenario **ret, char *errbuf, size_t errlen);

/**
 * bs_scenario_check_dialects() - load and check every network's dialect as a run would:
 * a name from @dialect_dir (NAME.yaml), or a file path (already resolved by the loader).
 * An undefined name, a missing or unreadable file and every error inside a dialect file
 * are reported, each after the "file:line:column: networks.NET.dialect:" of the scenario
 * key that named it; the names available in @dialect_dir are listed for a wrong name.
 * Return: 0; BS_EFORMAT with @errbuf filled (one problem per line); BS_ENOMEM.
 */
int bs_scenario_check_dialects(const struct bs_scenario *sc, const char *dialect_dir, char *errbuf,
                               size_t errlen);

/** bs_scenario_free() - free a loaded scenario; NULL accepted. */
void bs_scenario_free(struct bs_scenario *sc);

/**
 * bs_scenario_node_names() - the name of every node of @sc, in this order: for each network
 * "<net>.switch", "<net>.<issuer id>" for each issuer, then for each acquirer
 * "<net>.<acquirer id>" and "<net>.<acquirer id>.terminals"; last "bridge". These are the
 * names links may join.
 * @names: receives the first @cap names (may be NULL when @cap is 0); BS_SC_MAX_NODES
 *         entries always suffice.
 *
 * Return: the total number of nodes, which may exceed @cap.
 */
size_t bs_scenario_node_names(const struct bs_scenario *sc, char (*names)[BS_SC_NAME_MAX],
                              size_t cap);

/**
 * bs_dist_sample() - draw from @d with uniform deviates from @next (a PRNG stream), then
 * clamp. Deterministic for a given stream state.
 *
 * Details: each deviate is the top 53 bits of one next(stream) call, u in [0, 1). Draws per
 * sample are fixed by kind: constant 0; uniform, exponential, pareto and empirical 1;
 * normal and lognormal 2 (Box–Muller, the second variate is discarded so no state is kept
 * between calls). Empirical: the inverse of the samples' empirical CDF with linear
 * interpolation between order statistics, x = s[i] + f·(s[i+1] − s[i]) where
 * i + f = u·(n − 1) (Hyndman & Fan 1996, definition 7). The result is clamped to [min, max] when
 * set, then to ≥ 0; a non-finite draw becomes max (when set) or DBL_MAX.
 */
double bs_dist_sample(const struct bs_dist *d, uint64_t (*next)(void *), void *stream);

/**
 * bs_dist_mean() - the distribution's mean before clamping (used for sanity checks):
 * lognormal median·exp(sigma²/2); pareto shape·scale/(shape−1), INFINITY when shape ≤ 1.
 */
double bs_dist_mean(const struct bs_dist *d);

/**
 * bs_dist_correlate() - consecutive-message correlation: @rho·@prev + (1 − @rho)·@fresh
 * when @has_prev, else @fresh (the first message). With @fresh a sample of a distribution
 * clamped to [min, max], the result stays in [min, max]; its mean is the distribution's
 * mean and its lag-1 autocorrelation is @rho (an AR(1) filter of independent draws).
 */
double bs_dist_correlate(double rho, bool has_prev, double prev, double fresh);

/**
 * bs_ge_step() - one message through a Gilbert–Elliott chain @ge whose current state is
 * *@bad: lost with loss_bad (bad) or loss_good (good) probability, decided by deviate @u_loss
 * in [0, 1); then the state moves (good → bad when @u_move < p, bad → good when
 * @u_move < r). Return: true when the message is lost.
 */
bool bs_ge_step(const struct bs_sc_ge *ge, bool *bad, double u_loss, double u_move);

/**
 * bs_scenario_link_signing() - the signature algorithm and MAC length on the link between
 * nodes @a and @b (names as bs_scenario_node_names() gives them, either order): a
 * `signing.links` entry for the pair, else the `signing.networks` choice of the link's
 * network (that of the end that is not the bridge), else `signing.algorithm`.
 * @ret_mac_len: 0 (full length) or the HMAC/CMAC truncation in bytes.
 */
void bs_scenario_link_signing(const struct bs_scenario *sc, const char *a, const char *b,
                              enum bs_sig_alg *ret_alg, size_t *ret_mac_len);

/**
 * bs_scenario_key_owner() - the owner part of the key id ("<owner>#<epoch>") of a key:
 * node @node's own key of @alg is "<node>" when @alg is the scenario's default algorithm,
 * else "<node>@<alg>"; with @peer non-NULL, the zone key of the link @node–@peer (HMAC,
 * CMAC) is "<x>~<y>" with x < y in strcmp order, or "zone-" and 16 hex digits of
 * SHA-256("<x>~<y>") when that would not fit a key id. bridgesim keygen names its files
 * "<owner>.<epoch>.pem".
 * Return: 0; BS_ENOSPC (@cap too small).
 */
int bs_scenario_key_owner(const struct bs_scenario *sc, const char *node, const char *peer,
                          enum bs_sig_alg alg, char *out, size_t cap);

/**
 * bs_scenario_epoch_at() - the key epoch of node @node at @t (µs relative to time.start):
 * the number of its rotations with at <= @t.
 */
uint32_t bs_scenario_epoch_at(const struct bs_scenario *sc, const char *node, bs_time_us t);

/** bs_scenario_rotations() - the number of rotations of node @node (its last epoch). */
uint32_t bs_scenario_rotations(const struct bs_scenario *sc, const char *node);

/**
 * bs_scenario_rotation() - the @i-th rotation of @node in time order (0-based): its `at` and
 * `overlap` (µs, relative to time.start). Return: 0; BS_ENOTFOUND.
 */
int bs_scenario_rotation(const struct bs_scenario *sc, const char *node, uint32_t i,
                         bs_time_us *ret_at, bs_time_us *ret_overlap);

#endif /* BRIDGESIM_SCENARIO_H */
