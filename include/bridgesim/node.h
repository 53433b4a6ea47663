/*
 * bridgesim — nodes and the environment they run in.
 *
 * A node (terminal pool, acquirer host, scheme switch, bridge, issuer host) is a
 * clock-free state machine. The engine hands it one event at a time — a message arrived
 * from a peer, or a timer fired — and the node answers through its environment: send
 * these bytes to that peer, start this timer, append this journal record, count this
 * outcome. The same node code therefore runs under the virtual-time engine and under
 * libuv in real time (GUIDE §2).
 *
 * Every hop packs, signs and sends bytes; the receiver unpacks and verifies exactly those
 * bytes (bs_node_recv()/bs_node_send()). The signature envelope travels in DE 127 and
 * covers every byte before it (GUIDE §4).
 */
#ifndef BRIDGESIM_NODE_H
#define BRIDGESIM_NODE_H

#include <bridgesim/common.h>
#include <bridgesim/crypto.h>
#include <bridgesim/iso8583.h>
#include <bridgesim/journal.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Longest packed message a node sends (bytes). */
#define BS_WIRE_MAX 4096

/** Outcome counters a node reports to the environment (summed into summary.json). */
enum bs_stat {
    BS_STAT_ACQ_TIMEOUT = 0,    /* acquirer gave up waiting for its switch */
    BS_STAT_TERM_TIMEOUT,       /* terminal gave up waiting for its acquirer */
    BS_STAT_SWITCH_TIMEOUT,     /* a switch gave up waiting for an issuer or the bridge */
    BS_STAT_BRIDGE_TIMEOUT,     /* the bridge gave up waiting for the foreign switch */
    BS_STAT_REVERSAL_SENT,      /* 0420 first attempts */
    BS_STAT_REVERSAL_REPEAT,    /* 0421 repeats */
    BS_STAT_REVERSAL_DONE,      /* 0430 received by the acquirer */
    BS_STAT_REVERSAL_EXCEPTION, /* gave up after the maximum number of repeats */
    BS_STAT_REVERSAL_APPLIED,   /* an issuer credited a reversal back */
    BS_STAT_STAND_IN_APPROVED,  /* a switch or the bridge approved in stand-in (STIP) */
    BS_STAT_STAND_IN_DECLINED,  /* stand-in was asked but its limits declined (RC 91) */
    BS_STAT_ADVICE_SENT,        /* 0220 first sends from a SAF queue */
    BS_STAT_ADVICE_REPEAT,      /* 0221 repeats */
    BS_STAT_ADVICE_DONE,        /* 0230 received */
    BS_STAT_ADVICE_EXCEPTION,   /* an advice that could not even be stored */
    BS_STAT_ADVICE_APPLIED,     /* an issuer posted a stand-in advice */
    BS_STAT_DUPLICATE,          /* a repeat or duplicate answered without applying it again */
    BS_STAT_DUPLICATE_MISMATCH, /* same key, different content: RC 94 */
    BS_STAT_LATE_RESPONSE,      /* a response after its timer (journaled, outcome unchanged) */
    BS_STAT_SIG_FAILURE,        /* bad, missing or unknown-key signature (RC 63) */
    BS_STAT_FORMAT_ERROR,       /* malformed message (RC 30) */
    BS_STAT_UNMATCHED,          /* a response that matched no request */
    BS_STAT_OLD_KEY,            /* verified under a rotated-out key inside its overlap window */
    BS_STAT_EXPIRED_KEY,        /* signed under a key past its overlap window (RC 63) */
    BS_STAT_REPLAY,             /* a stale DE 7 (RC 63) or a replayed message (dropped) */
    /* network management (0800/0810, ISO 8583:1987 class 8; issue #4 §9) */
    BS_STAT_ECHO_SENT,          /* 0800 echo tests (DE 70 = 301) sent */
    BS_STAT_ECHO_ANSWERED,      /* 0810 answers to them (RC 00, or 91 from a signed-off peer) */
    BS_STAT_ECHO_MISSED,        /* echo tests left unanswered for a whole interval */
    BS_STAT_PEER_DOWN,          /* a peer marked down (missed echoes, sign-off, RC 91 echo) */
    BS_STAT_PEER_UP,            /* a down peer marked up again (sign-on, answered echo) */
    BS_STAT_STAND_IN_PEER_DOWN, /* approved in stand-in at once: the target was down */
    BS_STAT_PEER_DOWN_DECLINED, /* declined RC 91 without forwarding: the target was down */
    /* cardholder cancellations (issue #6 item 4): counted apart from timeout reversals */
    BS_STAT_CANCEL_REQUESTED, /* 0400 (DE 39 17) sent by a terminal after an approval */
    BS_STAT_CANCEL_SENT,      /* 0420 first attempts of an acquirer's cancellation reversal */
    BS_STAT_CANCEL_REPEAT,    /* 0421 repeats of them */
    BS_STAT_CANCEL_DONE,      /* 0430 received for them by the acquirer */
    BS_STAT_CANCEL_APPLIED,   /* an issuer undid a cancelled transaction */
    BS_STAT_FX_RATE_CHANGE,   /* the bridge converted at a rate other than its previous one */
    BS_STAT_COUNT
};

/** bs_stat_name() - the summary.json key of a counter ("reversals_sent"). */
const char *bs_stat_name(enum bs_stat s);

struct bs_env;
struct bs_node;

/**
 * struct bs_env_ops - what a node may ask of the engine. Every call is cheap and never
 * fails from the node's point of view: the engine owns buffering and limits.
 * @send:    deliver @n bytes from node @from to node @to after the link's latency; the
 *           engine copies the bytes. @trace follows one cardholder transaction (the
 *           simulator's out-of-band view; never part of the message). @m is the message
 *           the bytes encode (may be NULL): fault selectors read its MTI and DE 2.
 * @timer:   fire on_timer(@node, @kind, @cookie) after @delay µs. Timers are not
 *           cancelled: a node checks on firing whether the timer still matters.
 * @journal: append @rec to node @node's journal.
 * @stat:    add @delta to counter @s.
 * @outcome: a terminal transaction finished: @rc is the DE 39 response code the
 *           terminal got ("00", "51", ...) or NULL when it timed out; @latency in µs
 *           from the terminal's request to its final answer; @flow is the workload flow;
 *           @type the enum bs_txn_type of the request (a cancellation reports the outcome
 *           of its purchase; the cancellation itself is counted in the stats).
 * @node_name: the name of node @id (journals, key-owner checks); never NULL.
 * @sign_send: optional (NULL: bs_node_send() signs in place). Take over message @m,
 *           packed by @node for @to as @len bytes at @wire that end just before DE 127,
 *           to be signed with @key off the caller's thread; the engine copies what it
 *           needs and later, on its own thread, calls bs_node_send_signed() with the
 *           signature, in the order it took the messages of each (@node, @to) pair.
 *           Return: 0 when taken; non-zero to have bs_node_send() sign in place.
 * @verify:  optional (NULL: bs_verify()). Verify as bs_verify() does; an engine that
 *           verified these exact bytes ahead of the call, off its thread, returns that
 *           result instead of computing it again.
 */
struct bs_env_ops {
    void (*send)(struct bs_env *env, uint32_t from, uint32_t to, const uint8_t *buf, size_t n,
                 uint64_t trace, const struct bs_iso_msg *m);
    void (*timer)(struct bs_env *env, uint32_t node, bs_time_us delay, uint32_t kind,
                  uint64_t cookie);
    void (*journal)(struct bs_env *env, uint32_t node, const struct bs_jrec *rec);
    void (*stat)(struct bs_env *env, enum bs_stat s, int64_t delta);
    void (*outcome)(struct bs_env *env, uint32_t flow, unsigned type, const char *rc,
                    bs_time_us latency);
    const char *(*node_name)(struct bs_env *env, uint32_t id);
    int (*sign_send)(struct bs_env *env, struct bs_node *node, const struct bs_iso_dialect *d,
                     uint32_t to, struct bs_key *key, const uint8_t *wire, size_t len,
                     const struct bs_iso_msg *m, uint64_t trace);
    int (*verify)(struct bs_env *env, struct bs_key *k, const uint8_t *msg, size_t n,
                  const uint8_t *sig, size_t sig_len);
};

/**
 * struct bs_env - the engine as a node sees it.
 * @ops: the engine's functions.
 * @now: the current time in µs since the Unix epoch (virtual or wall clock); valid during
 *       a dispatch.
 * @link_key: the key node @from signs what it sends to node @to with, now (per-link and
 *       per-network algorithms, zone keys, rotation epochs; issue #9); NULL when that link
 *       is unsigned (algorithm none). A verifier also asks it for (@from, itself) to learn
 *       which owner and algorithm to expect. May be NULL itself (an environment that does
 *       not choose keys per link): then every node signs with its own @key and a key is
 *       expected to be owned by the sender's name.
 * @no_journal: the environment keeps no journal (`bridgesim bench` turns journals off):
 *       nodes then skip building journal records; ops->journal is not called.
 */
struct bs_env {
    const struct bs_env_ops *ops;
    bs_time_us now;
    struct bs_key *(*link_key)(struct bs_env *env, uint32_t from, uint32_t to);
    bool no_journal;
};

struct bs_node;

/**
 * enum bs_node_admin - operator events the engine hands a node (bs_node_ops.on_admin);
 * network management, ISO 8583:1987 class 8 (0800/0810, DE 70), issue #4 §9.
 * @BS_ADMIN_START:    the run begins: sign on (0800 DE 70 = 001) to every peer this node
 *                     originates network management towards, and start its echo tests.
 * @BS_ADMIN_SIGN_OFF: go out of service: 0800 DE 70 = 002 to every peer (a sign_off fault
 *                     begins).
 * @BS_ADMIN_SIGN_ON:  back in service: 0800 DE 70 = 001 to every peer (the fault ends).
 */
enum bs_node_admin {
    BS_ADMIN_START = 1,
    BS_ADMIN_SIGN_OFF,
    BS_ADMIN_SIGN_ON,
};

/**
 * struct bs_node_ops - a node kind's event handlers.
 * @on_message: @n bytes arrived from node @from. The buffer is valid for the call only.
 * @on_timer:   a timer started by this node fired.
 * @free:       release the node (the base struct included).
 * @on_admin:   an operator event (enum bs_node_admin); NULL for node kinds without network
 *              management (the terminal pool): the engine then does nothing.
 */
struct bs_node_ops {
    void (*on_message)(struct bs_node *node, uint32_t from, const uint8_t *buf, size_t n,
                       uint64_t trace);
    void (*on_timer)(struct bs_node *node, uint32_t kind, uint64_t cookie);
    void (*free)(struct bs_node *node);
    void (*on_admin)(struct bs_node *node, int event);
};

/** Longest node name ("shetab.SHETABACQ1.terminals"), without NUL. */
#define BS_NODE_NAME_MAX 63

/**
 * struct bs_node - the part every node kind shares; node kinds embed it first.
 * @ops:     handlers.
 * @env:     the engine; set by bs_node_attach() before the first event.
 * @id:      the engine's index of this node.
 * @name:    the node's name, also the owner part of its key id.
 * @key:     this node's signing key (NULL when signing is off); not owned.
 * @keys:    the store that verifies what peers send; not owned. NULL: signing is off and
 *           messages carry no DE 127.
 * @forced_rc: when non-NULL, an issuer answers every request with this response code
 *           (set by the engine while a force-RC fault is active; issue #5).
 * @clock_skew: added to the environment's time for every date and time this node writes
 *           into messages (DE 7, DE 12/13), µs; set by the engine for clock-skew faults.
 * @replay:  this node's replay cache (bs_replay_new()), not owned; NULL: no replay check.
 * @hsm:     the simulated HSM for PIN blocks (DE 52), not owned; NULL: PINs are off.
 * @pin_zone: the HSM zone (network index) of this node's PIN blocks; the bridge uses the
 *           index of each side instead.
 */
struct bs_node {
    const struct bs_node_ops *ops;
    struct bs_env *env;
    uint32_t id;
    char name[BS_NODE_NAME_MAX + 1];
    struct bs_key *key;
    struct bs_keystore *keys;
    const char *forced_rc;
    bs_time_us clock_skew;
    struct bs_replay *replay;
    struct bs_hsm *hsm;
    unsigned pin_zone;
};

/** bs_node_now() - this node's idea of the current time: the engine's plus its skew. */
static inline bs_time_us bs_node_now(const struct bs_node *node)
{
    return node->env->now + node->clock_skew;
}

/**
 * bs_node_base_init() - fill the shared part of a node.
 * @name: copied; at most BS_NODE_NAME_MAX bytes.
 * Return: 0 or BS_EINVAL (name too long or empty).
 */
int bs_node_base_init(struct bs_node *node, const struct bs_node_ops *ops, const char *name,
                      struct bs_key *key, struct bs_keystore *keys);

/** Result of checking a received message's signature envelope. */
enum bs_sig_status {
    BS_SIGST_NONE = 0,    /* signing off: no envelope expected */
    BS_SIGST_OK,          /* verified against the sender's key */
    BS_SIGST_MISSING,     /* no DE 127 */
    BS_SIGST_BAD,         /* malformed envelope, or the signature does not verify */
    BS_SIGST_UNKNOWN_KEY, /* key id not in the store */
    BS_SIGST_WRONG_OWNER, /* a valid key, but not the key of the peer that sent it */
    BS_SIGST_EXPIRED,     /* a genuine signature under a key outside its validity (rotation) */
    BS_SIGST_STALE,       /* DE 7 outside the replay window of the verifier's clock */
    BS_SIGST_REPLAY,      /* the same signed bytes were already accepted within the window */
};

/**
 * bs_sig_status_name() - "ok", "missing", "bad", "unknown-key", "wrong-owner", "expired-key",
 * "stale", "replay", "none".
 */
const char *bs_sig_status_name(enum bs_sig_status st);

/**
 * bs_node_recv() - unpack and verify a received message, and journal it (kind msg_in,
 * or format_error / sig_failure).
 * @d:      the dialect of the link the bytes came on.
 * @from:   the sending node (it must own the signing key: its own key, or the zone key of
 *          the link, as the environment's link_key names it).
 * @m:      receives the message.
 * @ret_sig: receives the signature status.
 *
 * Verification (GUIDE §4, docs/security.md): the DE 127 envelope; the key by id; its
 * owner and algorithm against what the link expects; the key's validity at this node's
 * clock (rotation: a rotated-out key is accepted until the end of its overlap window, then
 * refused as "expired key"); the signature over every byte before DE 127; then, with a
 * replay cache (@node->replay), DE 7 within the window of this node's clock and, for a
 * first-time request or advice, the signed bytes not seen before (repeats, MTI xxx1, and
 * responses are exempt from the second rule: they are byte-identical by design — the answer
 * to a 0421 is the 0430 of its 0420 — and their receivers match them to the original).
 *
 * Return: 0 when the message decoded and (if signing is on) verified; BS_EFORMAT when it
 * did not decode (@m holds whatever decoded before the fault, MTI included when it got
 * that far); BS_ESIG when it decoded but the signature is missing or wrong, the key is
 * expired, or DE 7 is stale — the caller answers a request RC 63. A replay (the same signed
 * bytes accepted before inside the window) is also BS_ESIG, but @m is returned empty (no
 * MTI) so that bs_node_reject() does not answer it: the answer would carry the matching
 * key (DE 32, 11, 7) of the original, which is still in progress, and its sender would take
 * the RC 63 as the original's outcome.
 */
int bs_node_recv(struct bs_node *node, const struct bs_iso_dialect *d, uint32_t from,
                 const uint8_t *buf, size_t n, uint64_t trace, struct bs_iso_msg *m,
                 enum bs_sig_status *ret_sig);

/**
 * bs_node_send() - pack @m in dialect @d, sign it (DE 127 covering every byte before
 * it), send it to @to and journal it (kind msg_out). Any DE 127 already in @m is
 * replaced; DE 128 must be absent (it would follow the envelope).
 *
 * Return: 0; BS_EFORMAT when @m does not pack (journaled as an internal error and not
 * sent); BS_ECRYPTO when signing fails.
 */
int bs_node_send(struct bs_node *node, const struct bs_iso_dialect *d, uint32_t to,
                 struct bs_iso_msg *m, uint64_t trace);

/**
 * bs_node_send_signed() - the second half of bs_node_send() for an engine that signed
 * off its thread (bs_env_ops.sign_send): append the DE 127 envelope with @sig (@sig_len
 * bytes, made with @key) to the @len bytes at @wire (room for BS_WIRE_MAX), set DE 127 in
 * @m, send it to @to and journal it (kind msg_out).
 *
 * Return: 0; BS_EFORMAT when the envelope does not pack; BS_ECRYPTO when it does not
 * encode (both journaled as internal errors, and nothing is sent).
 */
int bs_node_send_signed(struct bs_node *node, const struct bs_iso_dialect *d, uint32_t to,
                        struct bs_iso_msg *m, uint8_t *wire, size_t len, struct bs_key *key,
                        const uint8_t *sig, size_t sig_len, uint64_t trace);

/**
 * bs_node_note() - journal a non-message event (timeout, reversal, late response, ...)
 * about message @m (may be NULL) with free text @note.
 */
void bs_node_note(struct bs_node *node, enum bs_jkind kind, uint32_t peer,
                  const struct bs_iso_msg *m, uint64_t trace, const char *note);

/**
 * bs_node_reject() - answer request @req with response code @rc (30 format error, 63
 * security violation, 12 invalid transaction, ...) and send it to @to.
 * Return: 0; BS_EINVAL when @req cannot be answered (a response, or no DE 11): the caller
 * has journaled it and drops it; other errors as bs_node_send().
 */
int bs_node_reject(struct bs_node *node, const struct bs_iso_dialect *d, uint32_t to,
                   const struct bs_iso_msg *req, const char *rc, uint64_t trace);

/* ---- helpers shared by node kinds ----------------------------------------------------- */

/**
 * bs_mti_response() - the response MTI of a request MTI: third digit + 1 (0200 → 0210,
 * 0420 → 0430, 0421 → 0430), ISO 8583:1987 §4.1.2. @out receives 5 bytes.
 * Return: 0; BS_EINVAL when @mti is not a request or advice.
 */
int bs_mti_response(const char *mti, char out[5]);

/** bs_mti_is_response() - whether the MTI's function digit is 1 or 3 (response). */
bool bs_mti_is_response(const char *mti);

/**
 * bs_format_de7() - DE 7 transmission date and time, MMDDhhmmss in UTC, for @t (µs since
 * the Unix epoch); also DE 12 (hhmmss) and DE 13 (MMDD) at @utc_offset_min local time.
 * Any output pointer may be NULL. Outputs are NUL-terminated (11, 7 and 5 bytes).
 */
void bs_format_times(bs_time_us t, int utc_offset_min, char de7[11], char de12[7], char de13[5]);

#ifdef __cplusplus
}
#endif
#endif /* BRIDGESIM_NODE_H */
