/* Network management (0800/0810, ISO 8583:1987 class 8); see netmgmt.h. */
#include <stdio.h>
#include <string.h>

#include "network/netmgmt.h"

void bs__nm_init(struct bs__nm *nm, struct bs_node *node, uint32_t timer_kind,
                 void (*on_change)(void *ctx, uint32_t peer, bool up), void *ctx)
{
    memset(nm, 0, sizeof(*nm));
    nm->node = node;
    nm->timer_kind = timer_kind;
    nm->stan = 1;
    nm->on_change = on_change;
    nm->ctx = ctx;
}

static struct bs__nm_peer *find(const struct bs__nm *nm, uint32_t id)
{
    for (size_t i = 0; i < nm->npeers; i++)
        if (nm->peers[i].id == id)
            return (struct bs__nm_peer *)&nm->peers[i];
    return NULL;
}

int bs__nm_add_peer(struct bs__nm *nm, uint32_t peer, const struct bs_iso_dialect *d,
                    const struct bs_netmgmt_policy *pol, uint32_t *stan)
{
    struct bs__nm_peer *pe;

    if (!pol || !pol->enabled)
        return 0;
    if (!d || pol->echo_interval < BS_US_PER_SEC || pol->missed_echoes == 0)
        return BS_EINVAL;
    if (find(nm, peer))
        return BS_EEXIST;
    if (nm->npeers == BS__NM_MAX_PEERS)
        return BS_ELIMIT;
    pe = &nm->peers[nm->npeers++];
    memset(pe, 0, sizeof(*pe));
    pe->id = peer;
    pe->d = d;
    pe->pol = *pol;
    pe->stan = stan;
    pe->up = true;
    return 0;
}

bool bs__nm_peer_up(const struct bs__nm *nm, uint32_t peer)
{
    const struct bs__nm_peer *pe = find(nm, peer);

    return !pe || pe->up;
}

static void note(struct bs__nm *nm, uint32_t peer, const char *what)
{
    bs_node_note(nm->node, BS_J_STATE, peer, NULL, 0, what);
}

static void mark_down(struct bs__nm *nm, struct bs__nm_peer *pe, const char *why)
{
    struct bs_env *env = nm->node->env;

    if (!pe->up)
        return;
    pe->up = false;
    env->ops->stat(env, BS_STAT_PEER_DOWN, 1);
    note(nm, pe->id, why);
    if (nm->on_change)
        nm->on_change(nm->ctx, pe->id, false);
}

static void mark_up(struct bs__nm *nm, struct bs__nm_peer *pe, const char *why)
{
    struct bs_env *env = nm->node->env;

    pe->missed = 0;
    if (pe->up)
        return;
    pe->up = true;
    env->ops->stat(env, BS_STAT_PEER_UP, 1);
    note(nm, pe->id, why);
    if (nm->on_change)
        nm->on_change(nm->ctx, pe->id, true);
}

static void arm(struct bs__nm *nm, struct bs__nm_peer *pe)
{
    struct bs_env *env = nm->node->env;

    if (pe->armed)
        return;
    pe->armed = true;
    env->ops->timer(env, nm->node->id, pe->pol.echo_interval, nm->timer_kind,
                    (uint64_t)(pe - nm->peers));
}

/* Send an 0800 with DE 70 = @code to @pe and remember it in @pd for matching the 0810. */
static void send_request(struct bs__nm *nm, struct bs__nm_peer *pe, unsigned code,
                         struct bs__nm_pending *pd)
{
    uint32_t *ctr = pe->stan ? pe->stan : &nm->stan;
    struct bs_iso_msg m;
    char de70[4];
    int rc;

    pd->out = false;
    bs_format_times(bs_node_now(nm->node), 0, pd->dt, NULL, NULL);
    snprintf(pd->stan, sizeof(pd->stan), "%06u", *ctr ? *ctr : 1);
    *ctr = *ctr >= 999999 ? 1 : *ctr + 1;
    snprintf(de70, sizeof(de70), "%03u", code);
    rc = bs_iso_msg_init(&m, "0800");
    rc = rc ? rc : bs_iso_msg_set_str(&m, 7, pd->dt);
    rc = rc ? rc : bs_iso_msg_set_str(&m, 11, pd->stan);
    rc = rc ? rc : bs_iso_msg_set_str(&m, 70, de70);
    /* A message that does not pack is journaled as internal by bs_node_send(); the owed
     * sign-on/off is then tried again at the next tick, and an echo counts as missed. */
    if (rc == 0 && bs_node_send(nm->node, pe->d, pe->id, &m, 0) == 0)
        pd->out = true;
}

static void send_owed(struct bs__nm *nm, struct bs__nm_peer *pe)
{
    send_request(nm, pe, pe->owed, &pe->admin);
}

static void send_echo(struct bs__nm *nm, struct bs__nm_peer *pe)
{
    struct bs_env *env = nm->node->env;

    send_request(nm, pe, BS__NM_ECHO, &pe->echo);
    env->ops->stat(env, BS_STAT_ECHO_SENT, 1);
}

void bs__nm_admin(struct bs__nm *nm, int event)
{
    uint16_t code;

    switch (event) {
    case BS_ADMIN_START:
        for (size_t i = 0; i < nm->npeers; i++) {
            struct bs__nm_peer *pe = &nm->peers[i];
            if (!pe->pol.originate)
                continue;
            pe->owed = BS__NM_SIGN_ON;
            send_owed(nm, pe);
            arm(nm, pe);
        }
        return;
    case BS_ADMIN_SIGN_OFF:
        if (nm->signed_off)
            return;
        nm->signed_off = true;
        note(nm, UINT32_MAX, "signed off: out of service (0800 DE 70 = 002 to every peer)");
        code = BS__NM_SIGN_OFF;
        break;
    case BS_ADMIN_SIGN_ON:
        if (!nm->signed_off)
            return;
        nm->signed_off = false;
        note(nm, UINT32_MAX, "signed on: back in service (0800 DE 70 = 001 to every peer)");
        code = BS__NM_SIGN_ON;
        break;
    default:
        return;
    }
    /* Every peer hears it, whichever end originates the echo tests on the link. */
    for (size_t i = 0; i < nm->npeers; i++) {
        struct bs__nm_peer *pe = &nm->peers[i];
        pe->owed = code;
        send_owed(nm, pe);
        arm(nm, pe);
    }
}

void bs__nm_on_timer(struct bs__nm *nm, uint64_t cookie)
{
    struct bs_env *env = nm->node->env;
    struct bs__nm_peer *pe;
    char why[96];

    if (cookie >= nm->npeers)
        return;
    pe = &nm->peers[cookie];
    pe->armed = false;
    if (pe->owed) {
        bs_node_note(nm->node, BS_J_STATE, pe->id, NULL, 0,
                     pe->owed == BS__NM_SIGN_ON ? "sign-on not acknowledged: repeated"
                                                : "sign-off not acknowledged: repeated");
        send_owed(nm, pe);
    }
    if (pe->pol.originate) {
        /* The previous echo test had its whole interval to be answered. */
        if (pe->echo.out) {
            pe->echo.out = false;
            pe->missed++;
            env->ops->stat(env, BS_STAT_ECHO_MISSED, 1);
            snprintf(why, sizeof(why), "echo test unanswered (%u in a row)", pe->missed);
            note(nm, pe->id, why);
            if (pe->missed >= pe->pol.missed_echoes) {
                snprintf(why, sizeof(why), "peer down: %u echo tests unanswered", pe->missed);
                mark_down(nm, pe, why);
            }
        }
        send_echo(nm, pe);
    }
    if (pe->pol.originate || pe->owed)
        arm(nm, pe);
}

/* Whether 0810 @m answers the 0800 @pd (DE 11 and DE 7). */
static bool answers(const struct bs__nm_pending *pd, const struct bs_iso_msg *m)
{
    char stan[7], dt[11];

    return pd->out && bs_iso_msg_get_str(m, 11, stan, sizeof(stan)) == 6 &&
           bs_iso_msg_get_str(m, 7, dt, sizeof(dt)) == 10 && strcmp(stan, pd->stan) == 0 &&
           strcmp(dt, pd->dt) == 0;
}

static void on_response(struct bs__nm *nm, struct bs__nm_peer *pe, const struct bs_iso_msg *m,
                        uint64_t trace)
{
    struct bs_env *env = nm->node->env;
    char rc[3] = "", why[96];

    if (!pe)
        return;
    if (bs_iso_msg_get_str(m, 39, rc, sizeof(rc)) != 2)
        memcpy(rc, "96", 3);
    if (answers(&pe->echo, m)) {
        pe->echo.out = false;
        pe->missed = 0;
        env->ops->stat(env, BS_STAT_ECHO_ANSWERED, 1);
        if (strcmp(rc, "00") == 0) {
            pe->peer_off = false;
            mark_up(nm, pe, "peer up: echo test answered");
        } else if (strcmp(rc, "91") == 0) {
            /* Alive but out of service: it signed off and its 0800 did not reach us. */
            pe->peer_off = true;
            mark_down(nm, pe, "peer down: echo test answered 91 (signed off)");
        } else {
            /* Our echo was damaged or refused on the way: the link works, nothing else
             * is learnt from it. */
            snprintf(why, sizeof(why), "echo test answered %s: peer state unchanged", rc);
            bs_node_note(nm->node, BS_J_STATE, pe->id, m, trace, why);
        }
        return;
    }
    if (pe->owed && answers(&pe->admin, m)) {
        pe->admin.out = false;
        if (strcmp(rc, "00") == 0) {
            pe->owed = 0;
            return;
        }
        snprintf(why, sizeof(why), "%s answered %s: will repeat",
                 pe->owed == BS__NM_SIGN_ON ? "sign-on" : "sign-off", rc);
        bs_node_note(nm->node, BS_J_STATE, pe->id, m, trace, why);
    }
    /* Otherwise a duplicate or a late answer: journaled as received, nothing to do. */
}

bool bs__nm_on_message(struct bs__nm *nm, const struct bs_iso_dialect *d, uint32_t from,
                       const struct bs_iso_msg *m, uint64_t trace)
{
    struct bs__nm_peer *pe;
    struct bs_iso_msg resp;
    char de70[4] = "";
    const char *rc;
    long code = -1;

    if (m->mti[0] != '0' || m->mti[1] != '8')
        return false;
    pe = find(nm, from);
    if (bs_mti_is_response(m->mti)) {
        on_response(nm, pe, m, trace);
        return true;
    }
    if (bs_iso_msg_get_str(m, 70, de70, sizeof(de70)) == 3 && strspn(de70, "0123456789") == 3)
        code = (de70[0] - '0') * 100 + (de70[1] - '0') * 10 + (de70[2] - '0');
    if (code < 0)
        rc = "30";
    else if (code == BS__NM_ECHO)
        rc = nm->signed_off ? "91" : "00";
    else if (code == BS__NM_SIGN_ON || code == BS__NM_SIGN_OFF)
        rc = "00";
    else
        rc = "12";
    /* Answer first: a sign-on then releases the SAF queue behind the 0810. */
    if (bs_msg_make_response(m, &resp, rc) == 0 &&
        (code < 0 || bs_iso_msg_set_str(&resp, 70, de70) == 0))
        bs_node_send(nm->node, d, from, &resp, trace);
    if (!pe)
        return true;
    if (code == BS__NM_SIGN_ON) {
        pe->peer_off = false;
        mark_up(nm, pe, "peer up: signed on");
    } else if (code == BS__NM_SIGN_OFF) {
        pe->peer_off = true;
        mark_down(nm, pe, "peer down: signed off");
    }
    return true;
}
