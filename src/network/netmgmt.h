/*
 * Network management between a node and each of its peers: ISO 8583:1987 message class 8,
 * 0800 requests answered by 0810 (GUIDE §3 "Network management"; issue #4 §9).
 *
 *   DE 70 = 001  sign-on:   the sender is in service; the receiver marks it up.
 *   DE 70 = 002  sign-off:  the sender goes out of service; the receiver marks it down.
 *   DE 70 = 301  echo test: is the link and the peer alive? Answered RC 00, or RC 91 by a
 *                node that is signed off (alive, but not in service).
 *
 * Every 0800 carries DE 7 (transmission date and time, the sender's clock), DE 11 (a STAN
 * from the owner's counter) and DE 70; the 0810 echoes DE 7, DE 11 and DE 70 with DE 39.
 * Responses are matched to the 0800 in flight towards that peer on DE 11 and DE 7.
 *
 * Per link one end originates (struct bs_netmgmt_policy.originate): it signs on when the
 * run starts and sends an echo test every echo_interval. An echo test still unanswered
 * when the next is due counts as missed; missed_echoes in a row mark the peer down. An
 * echo answered 00 marks it up again, one answered 91 marks it down (it signed off and we
 * missed the 0800). Either end may sign off and on (a sign_off fault): it sends 002 / 001
 * to every peer and repeats it each echo_interval until the peer acknowledges it with 00.
 *
 * The owner learns of changes through a callback (hold or release its SAF queue), asks
 * bs__nm_peer_up() before forwarding a new request, and bs__nm_signed_off() before taking
 * one. Peers start up: traffic flows before the first sign-on is answered. Every state
 * change is a journal record of kind "state" ("peer down: ...", "peer up: ..."); the
 * 0800/0810 themselves are journaled as messages like any other, with no trace id.
 *
 * Timers: one per peer at most (kind @timer_kind, cookie = the peer's index), re-armed
 * every echo_interval while the node originates towards that peer or owes it a sign-on or
 * sign-off; nothing else. So the journals stay small and a seed replays bit for bit.
 * Private to libbridgesim.
 */
#ifndef BS_NETWORK_NETMGMT_H
#define BS_NETWORK_NETMGMT_H

#include <bridgesim/network.h>

/** Peers one node manages: a switch has its issuers, acquirers and the bridge. */
#define BS__NM_MAX_PEERS 80

/** DE 70 network management information codes (ISO 8583:1987). */
enum bs__nm_code {
    BS__NM_SIGN_ON = 1,
    BS__NM_SIGN_OFF = 2,
    BS__NM_ECHO = 301,
};

/** An 0800 in flight towards a peer, awaiting its 0810. */
struct bs__nm_pending {
    bool out;
    char stan[7]; /* DE 11 */
    char dt[11];  /* DE 7 */
};

struct bs__nm_peer {
    uint32_t id;
    const struct bs_iso_dialect *d;
    struct bs_netmgmt_policy pol;
    uint32_t *stan;  /* the owner's STAN counter for this link; NULL: the module's own */
    bool up;         /* in service as far as this node knows */
    bool peer_off;   /* it signed off (002, or an echo answered 91) and has not signed on */
    bool armed;      /* its timer is pending */
    unsigned missed; /* echo tests unanswered in a row */
    uint16_t owed;   /* 0, or the DE 70 code (sign-on/off) not yet acknowledged with 00 */
    struct bs__nm_pending echo, admin;
};

/**
 * struct bs__nm - one node's network management; caller storage.
 * @on_change: called when a peer is marked down (@up false) or up again (@up true); may be
 *             NULL. It may send (the owner releases its SAF queue there).
 */
struct bs__nm {
    struct bs_node *node;
    uint32_t timer_kind;
    bool signed_off; /* this node is out of service (a sign_off fault) */
    uint32_t stan;
    void (*on_change)(void *ctx, uint32_t peer, bool up);
    void *ctx;
    struct bs__nm_peer peers[BS__NM_MAX_PEERS];
    size_t npeers;
};

/** bs__nm_init() - no peers, in service. @timer_kind is the owner's timer kind for it. */
void bs__nm_init(struct bs__nm *nm, struct bs_node *node, uint32_t timer_kind,
                 void (*on_change)(void *ctx, uint32_t peer, bool up), void *ctx);

/**
 * bs__nm_add_peer() - manage the link to node @peer, spoken in dialect @d, under @pol
 * (copied). A disabled policy adds nothing: that peer is always up. @stan: the owner's
 * STAN counter for that link (so network management and the owner's own requests never
 * share a number in flight), or NULL for the module's own counter.
 * Return: 0; BS_EINVAL (no dialect, echo interval under 1 s, missed_echoes 0); BS_EEXIST
 * (already managed); BS_ELIMIT (more than BS__NM_MAX_PEERS).
 */
int bs__nm_add_peer(struct bs__nm *nm, uint32_t peer, const struct bs_iso_dialect *d,
                    const struct bs_netmgmt_policy *pol, uint32_t *stan);

/**
 * bs__nm_admin() - an operator event (enum bs_node_admin): START signs on to every peer
 * this node originates towards and starts its echo tests; SIGN_OFF sends 002 and SIGN_ON
 * 001 to every peer (both repeated until acknowledged). Signing off twice, or on while in
 * service, does nothing.
 */
void bs__nm_admin(struct bs__nm *nm, int event);

/**
 * bs__nm_on_message() - take message @m from @from (received in dialect @d) if it is
 * network management (MTI class 8): answer an 0800 with an 0810 — DE 39 00; 91 for an
 * echo test while this node is signed off; 30 without a valid DE 70; 12 for a code other
 * than 001, 002, 301 — and apply it; match an 0810 to the 0800 in flight.
 * Return: true when @m was class 8 (consumed), false otherwise.
 */
bool bs__nm_on_message(struct bs__nm *nm, const struct bs_iso_dialect *d, uint32_t from,
                       const struct bs_iso_msg *m, uint64_t trace);

/** bs__nm_on_timer() - the timer of kind @timer_kind fired with @cookie. */
void bs__nm_on_timer(struct bs__nm *nm, uint64_t cookie);

/** bs__nm_peer_up() - whether @peer is in service (true for a peer not managed). */
bool bs__nm_peer_up(const struct bs__nm *nm, uint32_t peer);

/** bs__nm_signed_off() - whether this node itself is signed off. */
static inline bool bs__nm_signed_off(const struct bs__nm *nm)
{
    return nm->signed_off;
}

#endif
