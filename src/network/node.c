/*
 * The part of every node that touches the wire: pack + sign on the way out, unpack +
 * verify on the way in, and the journal record for both. Signatures cover every byte
 * that precedes DE 127, exactly as sent (GUIDE §4).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bridgesim/network.h>
#include <bridgesim/node.h>

static const char *const stat_names[BS_STAT_COUNT] = {
    [BS_STAT_ACQ_TIMEOUT] = "acquirer_timeouts",
    [BS_STAT_TERM_TIMEOUT] = "terminal_timeouts",
    [BS_STAT_SWITCH_TIMEOUT] = "switch_timeouts",
    [BS_STAT_BRIDGE_TIMEOUT] = "bridge_timeouts",
    [BS_STAT_REVERSAL_SENT] = "reversals_sent",
    [BS_STAT_REVERSAL_REPEAT] = "reversal_repeats",
    [BS_STAT_REVERSAL_DONE] = "reversals_acknowledged",
    [BS_STAT_REVERSAL_EXCEPTION] = "reversal_exceptions",
    [BS_STAT_REVERSAL_APPLIED] = "reversals_applied",
    [BS_STAT_STAND_IN_APPROVED] = "stand_in_approved",
    [BS_STAT_STAND_IN_DECLINED] = "stand_in_declined",
    [BS_STAT_ADVICE_SENT] = "advices_sent",
    [BS_STAT_ADVICE_REPEAT] = "advice_repeats",
    [BS_STAT_ADVICE_DONE] = "advices_acknowledged",
    [BS_STAT_ADVICE_EXCEPTION] = "advice_exceptions",
    [BS_STAT_ADVICE_APPLIED] = "advices_applied",
    [BS_STAT_DUPLICATE] = "duplicates_answered",
    [BS_STAT_DUPLICATE_MISMATCH] = "duplicates_rejected",
    [BS_STAT_LATE_RESPONSE] = "late_responses",
    [BS_STAT_SIG_FAILURE] = "signature_failures",
    [BS_STAT_FORMAT_ERROR] = "format_errors",
    [BS_STAT_UNMATCHED] = "unmatched_responses",
    [BS_STAT_OLD_KEY] = "old_key_accepted",
    [BS_STAT_EXPIRED_KEY] = "expired_key_rejected",
    [BS_STAT_REPLAY] = "replays_rejected",
    [BS_STAT_ECHO_SENT] = "echoes_sent",
    [BS_STAT_ECHO_ANSWERED] = "echoes_answered",
    [BS_STAT_ECHO_MISSED] = "echoes_missed",
    [BS_STAT_PEER_DOWN] = "peers_down",
    [BS_STAT_PEER_UP] = "peers_up",
    [BS_STAT_STAND_IN_PEER_DOWN] = "stand_in_peer_down",
    [BS_STAT_PEER_DOWN_DECLINED] = "peer_down_declined",
    [BS_STAT_CANCEL_REQUESTED] = "cancellations_requested",
    [BS_STAT_CANCEL_SENT] = "cancellation_reversals_sent",
    [BS_STAT_CANCEL_REPEAT] = "cancellation_reversal_repeats",
    [BS_STAT_CANCEL_DONE] = "cancellation_reversals_done",
    [BS_STAT_CANCEL_APPLIED] = "cancellations_applied",
    [BS_STAT_FX_RATE_CHANGE] = "fx_rate_changes",
};

const char *bs_stat_name(enum bs_stat s)
{
    if ((unsigned)s >= BS_STAT_COUNT)
        return "unknown";
    return stat_names[s];
}

const char *bs_sig_status_name(enum bs_sig_status st)
{
    switch (st) {
    case BS_SIGST_NONE:
        return "none";
    case BS_SIGST_OK:
        return "ok";
    case BS_SIGST_MISSING:
        return "missing";
    case BS_SIGST_BAD:
        return "bad";
    case BS_SIGST_UNKNOWN_KEY:
        return "unknown-key";
    case BS_SIGST_EXPIRED:
        return "expired-key";
    case BS_SIGST_STALE:
        return "stale";
    case BS_SIGST_REPLAY:
        return "replay";
    case BS_SIGST_WRONG_OWNER:
        return "wrong-owner";
    }
    return "unknown";
}

int bs_node_base_init(struct bs_node *node, const struct bs_node_ops *ops, const char *name,
                      struct bs_key *key, struct bs_keystore *keys)
{
    size_t n = name ? strlen(name) : 0;

    if (!node || !ops || n == 0 || n > BS_NODE_NAME_MAX)
        return BS_EINVAL;
    memset(node, 0, sizeof(*node));
    node->ops = ops;
    memcpy(node->name, name, n + 1);
    node->key = key;
    node->keys = keys;
    return 0;
}

/* The bytes of a message as sent or received: journaled as hex with every sensitive data
 * element blanked (bs_journal_wire_hex()). @unpacked: the record's message was decoded
 * from exactly these bytes, so its DE offsets apply. */
struct jwire {
    const struct bs_iso_dialect *d;
    const uint8_t *bytes;
    size_t n;
    bool unpacked;
};

static void journal_wire(struct bs_node *node, enum bs_jkind kind, uint32_t peer,
                         const struct bs_iso_msg *m, uint64_t trace, const char *sig,
                         const char *key_id, const char *note, const struct jwire *wire)
{
    struct bs_env *env = node->env;

    if (env->no_journal)
        return;
    struct bs_jrec r = {
        .kind = kind,
        .t = env->now,
        .node = node->name,
        .peer = peer == UINT32_MAX ? NULL : env->ops->node_name(env, peer),
        .trace = trace,
        .msg = m,
        .sig = sig,
        .key_id = key_id,
        .note = note,
        .wire = wire ? wire->bytes : NULL,
        .wire_len = wire ? wire->n : 0,
        .dialect = wire ? wire->d : NULL,
        .wire_unpacked = wire && wire->unpacked,
    };

    env->ops->journal(env, node->id, &r);
}

static void journal(struct bs_node *node, enum bs_jkind kind, uint32_t peer,
                    const struct bs_iso_msg *m, uint64_t trace, const char *sig, const char *key_id,
                    const char *note)
{
    journal_wire(node, kind, peer, m, trace, sig, key_id, note, NULL);
}

void bs_node_note(struct bs_node *node, enum bs_jkind kind, uint32_t peer,
                  const struct bs_iso_msg *m, uint64_t trace, const char *note)
{
    journal(node, kind, peer, m, trace, NULL, NULL, note);
}

/* Whether @key_id ("owner#epoch") belongs to @owner (@n bytes, no '#'). */
static bool key_owned_by(const char *key_id, const char *owner, size_t n)
{
    const char *hash = strrchr(key_id, '#');
    size_t kn = hash ? (size_t)(hash - key_id) : strlen(key_id);

    return kn == n && memcmp(key_id, owner, n) == 0;
}

/* The owner part of a key id: everything before the last '#'. */
static size_t owner_len(const char *key_id)
{
    const char *hash = strrchr(key_id, '#');

    return hash ? (size_t)(hash - key_id) : strlen(key_id);
}

/* Whether the epoch after @key_id's ("owner#epoch") is valid at @now, i.e. @key_id has
 * been rotated out and is accepted only for its overlap window. */
static bool rotated_out(const struct bs_keystore *ks, const char *key_id, bs_time_us now)
{
    char next[BS_KEY_ID_MAX + 12];
    size_t olen = owner_len(key_id);
    unsigned long epoch;
    struct bs_key *k;
    bs_time_us nb;

    if (key_id[olen] != '#')
        return false;
    epoch = strtoul(key_id + olen + 1, NULL, 10);
    snprintf(next, sizeof(next), "%.*s#%lu", (int)olen, key_id, epoch + 1);
    k = bs_keystore_get(ks, next);
    if (!k)
        return false;
    bs_key_validity(k, &nb, NULL);
    return now >= nb;
}

/* The signing key of @node towards @to: the environment's per-link choice, or the node's. */
static struct bs_key *send_key(struct bs_node *node, uint32_t to)
{
    struct bs_env *env = node->env;

    if (env->link_key)
        return env->link_key(env, node->id, to);
    return node->key;
}

/*
 * The checks after decoding (GUIDE §4, docs/security.md), in order of cost: envelope, key,
 * owner and algorithm, validity, signature, replay. *@note gets the journal's reason for a
 * failure that needs more than the status word.
 */
static enum bs_sig_status verify(struct bs_node *node, uint32_t from, const uint8_t *buf,
                                 const struct bs_iso_msg *m, struct bs_sig_envelope *envl,
                                 const char **note)
{
    struct bs_env *env = node->env;
    bs_time_us now = bs_node_now(node), sent;
    struct bs_key *k, *expected;
    const char *owner;
    size_t olen, vlen;
    const uint8_t *v;
    char de7[11];
    int rc;

    v = bs_iso_msg_get(m, 127, &vlen);
    if (!v)
        return BS_SIGST_MISSING;
    if (bs_sig_envelope_decode(v, vlen, envl) != 0)
        return BS_SIGST_BAD;
    k = bs_keystore_get(node->keys, envl->key_id);
    if (!k)
        return BS_SIGST_UNKNOWN_KEY;
    /* Only the key the link calls for: the sender's own key, or the zone key of the link,
     * of the link's algorithm (no downgrade to another key the sender also holds). */
    if (env->link_key) {
        expected = env->link_key(env, from, node->id);
        owner = bs_key_id(expected);
        olen = owner_len(owner);
        if (bs_key_alg(k) != bs_key_alg(expected))
            return BS_SIGST_WRONG_OWNER;
    } else {
        owner = env->ops->node_name(env, from);
        olen = strlen(owner);
    }
    if (!key_owned_by(envl->key_id, owner, olen))
        return BS_SIGST_WRONG_OWNER;
    if (bs_key_valid_at(k, now) != 0) {
        bs_time_us nb;

        bs_key_validity(k, &nb, NULL);
        *note = now < nb ? "key not yet valid" : "expired key";
        return BS_SIGST_EXPIRED;
    }
    if (bs_key_alg(k) != envl->alg ||
        (env->ops->verify
             ? env->ops->verify(env, k, buf, m->wire_off[127], envl->sig, envl->sig_len)
             : bs_verify(k, buf, m->wire_off[127], envl->sig, envl->sig_len)) != 0)
        return BS_SIGST_BAD;
    if (node->replay) {
        /* Only first-time requests and advices are remembered. Repeats (origin digit 1:
         * 0401, 0421, 0221) are byte-identical by design and are matched to their
         * original by the receiver; responses are byte-identical whenever they answer a
         * repeat (0421 and 0420 both get the same 0430), and a receiver acts on a response
         * only once, when it matches an outstanding request. Both need a fresh DE 7 only. */
        bool first = (m->mti[2] == '0' || m->mti[2] == '2') && m->mti[3] != '1';

        if (bs_iso_msg_get_str(m, 7, de7, sizeof(de7)) != 10 ||
            bs_de7_to_time(de7, 10, now, &sent) != 0) {
            *note = "replay check: no valid DE 7";
            return BS_SIGST_STALE;
        }
        rc = bs_replay_check(node->replay, now, sent, buf, m->wire_off[127], first);
        if (rc == BS_ERANGE) {
            *note = "DE 7 outside the replay window";
            return BS_SIGST_STALE;
        }
        if (rc == BS_EEXIST) {
            *note = "replay: the same signed bytes were accepted within the window";
            return BS_SIGST_REPLAY;
        }
        if (rc != 0) {
            /* Fail closed: a message the cache cannot remember is not accepted. */
            *note = rc == BS_ELIMIT ? "replay cache full" : "replay check failed";
            return BS_SIGST_STALE;
        }
    }
    return BS_SIGST_OK;
}

int bs_node_recv(struct bs_node *node, const struct bs_iso_dialect *d, uint32_t from,
                 const uint8_t *buf, size_t n, uint64_t trace, struct bs_iso_msg *m,
                 enum bs_sig_status *ret_sig)
{
    struct bs_env *env = node->env;
    struct bs_iso_error err;
    struct bs_sig_envelope envl;
    enum bs_sig_status st;
    const char *why = NULL;
    char note[192];

    /* On a decoding failure whatever decoded before the fault stays in @m: clear it
     * first so nothing from an earlier message can be mistaken for it. */
    bs_iso_msg_init(m, "0000");
    m->mti[0] = '\0';
    if (bs_iso_unpack(d, buf, n, m, &err) != 0) {
        bs_iso_error_format(&err, note, sizeof(note));
        env->ops->stat(env, BS_STAT_FORMAT_ERROR, 1);
        journal(node, BS_J_FORMAT_ERROR, from, NULL, trace, NULL, NULL, note);
        *ret_sig = BS_SIGST_NONE;
        return BS_EFORMAT;
    }
    /* Signing off for the run, or for this link (algorithm none). */
    if (!node->keys || (env->link_key && !env->link_key(env, from, node->id))) {
        *ret_sig = BS_SIGST_NONE;
        journal_wire(node, BS_J_MSG_IN, from, m, trace, NULL, NULL, NULL,
                     &(struct jwire){ d, buf, n, true });
        return 0;
    }

    envl.key_id[0] = '\0';
    st = verify(node, from, buf, m, &envl, &why);
    *ret_sig = st;
    if (st != BS_SIGST_OK) {
        env->ops->stat(env, BS_STAT_SIG_FAILURE, 1);
        if (st == BS_SIGST_EXPIRED)
            env->ops->stat(env, BS_STAT_EXPIRED_KEY, 1);
        else if (st == BS_SIGST_STALE || st == BS_SIGST_REPLAY)
            env->ops->stat(env, BS_STAT_REPLAY, 1);
        journal_wire(node, BS_J_SIG_FAILURE, from, m, trace, bs_sig_status_name(st),
                     envl.key_id[0] ? envl.key_id : NULL, why, &(struct jwire){ d, buf, n, true });
        /* A replay gets no answer (see bs_node_recv() in node.h): bs_node_reject() refuses
         * a message without an MTI. */
        if (st == BS_SIGST_REPLAY) {
            bs_iso_msg_init(m, "0000");
            m->mti[0] = '\0';
        }
        return BS_ESIG;
    }
    /* Under a key already rotated out: one of the overlap window's messages (an in-flight
     * reply signed before the rotation, typically). */
    if (rotated_out(node->keys, envl.key_id, bs_node_now(node)))
        env->ops->stat(env, BS_STAT_OLD_KEY, 1);
    journal_wire(node, BS_J_MSG_IN, from, m, trace, "ok", envl.key_id, NULL,
                 &(struct jwire){ d, buf, n, true });
    return 0;
}

int bs_node_send_signed(struct bs_node *node, const struct bs_iso_dialect *d, uint32_t to,
                        struct bs_iso_msg *m, uint8_t *wire, size_t len, struct bs_key *key,
                        const uint8_t *sig, size_t sig_len, uint64_t trace)
{
    uint8_t envl[BS_SIG_MAX + BS_KEY_ID_MAX + 8];
    struct bs_iso_error err;
    size_t tail;
    int envlen, rc;
    char note[192];

    envlen =
        bs_sig_envelope_encode(bs_key_alg(key), bs_key_id(key), sig, sig_len, envl, sizeof(envl));
    if (envlen < 0) {
        journal(node, BS_J_INTERNAL, to, m, trace, NULL, NULL, "signing failed");
        return BS_ECRYPTO;
    }
    rc =
        bs_iso_pack_field(d, 127, envl, (size_t)envlen, wire + len, BS_WIRE_MAX - len, &tail, &err);
    if (rc != 0) {
        bs_iso_error_format(&err, note, sizeof(note));
        journal(node, BS_J_INTERNAL, to, m, trace, NULL, NULL, note);
        return BS_EFORMAT;
    }
    len += tail;
    rc = bs_iso_msg_set(m, 127, envl, (size_t)envlen);
    if (rc != 0) {
        journal(node, BS_J_INTERNAL, to, NULL, trace, NULL, NULL, bs_strerror(rc));
        return rc;
    }
    node->env->ops->send(node->env, node->id, to, wire, len, trace, m);
    journal_wire(node, BS_J_MSG_OUT, to, m, trace, "signed", bs_key_id(key), NULL,
                 &(struct jwire){ d, wire, len, false });
    return 0;
}

int bs_node_send(struct bs_node *node, const struct bs_iso_dialect *d, uint32_t to,
                 struct bs_iso_msg *m, uint64_t trace)
{
    struct bs_env *env = node->env;
    uint8_t wire[BS_WIRE_MAX];
    uint8_t sig[BS_SIG_MAX];
    uint8_t field[8];
    struct bs_iso_error err;
    struct bs_key *key;
    size_t len, tail, siglen;
    int rc;
    char note[192];

    bs_iso_msg_unset(m, 128);
    key = send_key(node, to);
    if (!key) {
        bs_iso_msg_unset(m, 127);
        rc = bs_iso_pack(d, m, wire, sizeof(wire), &len, &err);
        if (rc != 0)
            goto fail_pack;
        env->ops->send(env, node->id, to, wire, len, trace, m);
        journal_wire(node, BS_J_MSG_OUT, to, m, trace, NULL, NULL, NULL,
                     &(struct jwire){ d, wire, len, false });
        return 0;
    }
    /*
     * Pack with a one-byte placeholder in DE 127 so bit 127 is set in the bitmap that the
     * signature covers; everything before DE 127 is then final. The envelope replaces the
     * placeholder's bytes (bs_node_send_signed()).
     */
    static const uint8_t placeholder = 0;
    rc = bs_iso_msg_set(m, 127, &placeholder, 1);
    if (rc == 0)
        rc = bs_iso_pack(d, m, wire, sizeof(wire), &len, &err);
    if (rc == 0)
        rc = bs_iso_pack_field(d, 127, &placeholder, 1, field, sizeof(field), &tail, &err);
    if (rc != 0)
        goto fail_pack;
    len -= tail;
    /* An engine may sign off its thread and finish the send later. */
    if (env->ops->sign_send && env->ops->sign_send(env, node, d, to, key, wire, len, m, trace) == 0)
        return 0;
    rc = bs_sign(key, wire, len, sig, sizeof(sig), &siglen);
    if (rc != 0) {
        journal(node, BS_J_INTERNAL, to, m, trace, NULL, NULL, "signing failed");
        return BS_ECRYPTO;
    }
    return bs_node_send_signed(node, d, to, m, wire, len, key, sig, siglen, trace);

fail_pack:
    bs_iso_error_format(&err, note, sizeof(note));
    journal(node, BS_J_INTERNAL, to, m, trace, NULL, NULL, note);
    return BS_EFORMAT;
}

int bs_mti_response(const char *mti, char out[5])
{
    if (strlen(mti) != 4 || (mti[2] != '0' && mti[2] != '2'))
        return BS_EINVAL;
    out[0] = mti[0];
    out[1] = mti[1];
    out[2] = (char)(mti[2] + 1);
    /* A repeat (origin digit 1) is answered like the original: 0421 → 0430. */
    out[3] = '0';
    out[4] = '\0';
    return 0;
}

bool bs_mti_is_response(const char *mti)
{
    return mti[2] == '1' || mti[2] == '3';
}

static void put2(char *p, int v)
{
    p[0] = (char)('0' + v / 10 % 10);
    p[1] = (char)('0' + v % 10);
}

void bs_format_times(bs_time_us t, int utc_offset_min, char de7[11], char de12[7], char de13[5])
{
    int y, mo, d, h, mi, s;

    if (de7) {
        bs_civil_from_us(t, 0, &y, &mo, &d, &h, &mi, &s, NULL);
        put2(de7, mo);
        put2(de7 + 2, d);
        put2(de7 + 4, h);
        put2(de7 + 6, mi);
        put2(de7 + 8, s);
        de7[10] = '\0';
    }
    if (de12 || de13) {
        bs_civil_from_us(t, utc_offset_min, &y, &mo, &d, &h, &mi, &s, NULL);
        if (de12) {
            put2(de12, h);
            put2(de12 + 2, mi);
            put2(de12 + 4, s);
            de12[6] = '\0';
        }
        if (de13) {
            put2(de13, mo);
            put2(de13 + 2, d);
            de13[4] = '\0';
        }
    }
}

int bs_node_reject(struct bs_node *node, const struct bs_iso_dialect *d, uint32_t to,
                   const struct bs_iso_msg *req, const char *rc, uint64_t trace)
{
    struct bs_iso_msg resp;
    int err;

    /* Only requests and advices with a STAN can be answered: anything else (a response,
     * or bytes so broken that not even DE 11 decoded) is journaled and dropped. */
    if (!req->mti[0] || bs_mti_is_response(req->mti) || !bs_iso_msg_has(req, 11))
        return BS_EINVAL;
    err = bs_msg_make_response(req, &resp, rc);
    if (err)
        return err;
    return bs_node_send(node, d, to, &resp, trace);
}
