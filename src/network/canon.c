/* The canonical transaction: dialect-neutral values of the data elements the bridge
 * translates (issue #4 "Translation"). */
#include <string.h>

#include <bridgesim/network.h>
#include <stddef.h>

struct slot {
    uint8_t de;
    uint16_t off;
    uint8_t cap;
};

#define SLOT(de, member)                                                              \
    {                                                                                 \
        de, offsetof(struct bs_canon, member), sizeof(((struct bs_canon *)0)->member) \
    }

static const struct slot slots[] = {
    SLOT(2, pan),         SLOT(3, proc),
    SLOT(7, dt),          SLOT(10, rate),
    SLOT(11, stan),       SLOT(12, local_time),
    SLOT(13, local_date), SLOT(14, expiry),
    SLOT(18, mcc),        SLOT(22, pos_entry),
    SLOT(25, pos_cond),   SLOT(32, acq),
    SLOT(33, fwd),        SLOT(35, track2),
    SLOT(37, rrn),        SLOT(38, auth),
    SLOT(39, rc),         SLOT(41, tid),
    SLOT(42, mid),        SLOT(43, acceptor),
    SLOT(49, currency),   SLOT(51, billing_currency),
    SLOT(90, orig),
};

int bs_canon_from_msg(const struct bs_iso_msg *m, struct bs_canon *c)
{
    memset(c, 0, sizeof(*c));
    memcpy(c->mti, m->mti, 5);
    for (size_t i = 0; i < sizeof(slots) / sizeof(slots[0]); i++) {
        size_t n;
        const uint8_t *v = bs_iso_msg_get(m, slots[i].de, &n);
        char *dst = (char *)c + slots[i].off;
        if (!v)
            continue;
        if (n >= slots[i].cap)
            return BS_EFORMAT;
        memcpy(dst, v, n);
        dst[n] = '\0';
    }
    c->amount = -1;
    c->billing = -1;
    if (bs_iso_msg_has(m, 4) && bs_iso_msg_get_num(m, 4, &c->amount) != 0)
        return BS_EFORMAT;
    if (bs_iso_msg_has(m, 6) && bs_iso_msg_get_num(m, 6, &c->billing) != 0)
        return BS_EFORMAT;
    return 0;
}

int bs_canon_to_msg(const struct bs_canon *c, struct bs_iso_msg *m)
{
    int rc = bs_iso_msg_init(m, c->mti);

    if (rc)
        return rc;
    for (size_t i = 0; i < sizeof(slots) / sizeof(slots[0]); i++) {
        const char *src = (const char *)c + slots[i].off;
        if (src[0] && (rc = bs_iso_msg_set_str(m, slots[i].de, src)) != 0)
            return rc;
    }
    if (c->amount >= 0 && (rc = bs_iso_msg_set_num(m, 4, c->amount, 12)) != 0)
        return rc;
    if (c->billing >= 0 && (rc = bs_iso_msg_set_num(m, 6, c->billing, 12)) != 0)
        return rc;
    return 0;
}
