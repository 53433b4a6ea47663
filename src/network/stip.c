/* Stand-in decisions; see stip.h. */
#include <stdio.h>
#include <string.h>

#include <bridgesim/journal.h>

#include "common/map.h"
#include "network/stip.h"

struct card_day {
    struct bs__pool_hdr hdr;
    char pan[20];
    int64_t day;
    int64_t total;
};

struct card_match {
    const struct bs__stip *st;
    const char *pan;
    int64_t day;
};

static bool card_eq(const void *ctx, uint32_t idx)
{
    const struct card_match *cm = ctx;
    const struct card_day *c = bs__pool_at(&cm->st->cards, idx);

    return c->day == cm->day && strcmp(c->pan, cm->pan) == 0;
}

int bs__stip_init(struct bs__stip *st, const struct bs_stip_policy *policy)
{
    memset(st, 0, sizeof(*st));
    if (policy)
        st->policy = *policy;
    bs__pool_init(&st->cards, sizeof(struct card_day), 8000000);
    return bs__map_init(&st->by_card, 64, 8000000);
}

void bs__stip_deinit(struct bs__stip *st)
{
    for (uint32_t i = 0; i < st->cards.top; i++)
        bs_wipe(((struct card_day *)bs__pool_at(&st->cards, i))->pan, 20);
    bs__pool_deinit(&st->cards);
    bs__map_deinit(&st->by_card);
}

/* Whether DE 14 @expiry ("YYMM") lies before the month of @now (UTC). */
static bool expired(const char *expiry, bs_time_us now)
{
    int y, mo, yymm = 0;

    for (int i = 0; i < 4; i++) {
        if (expiry[i] < '0' || expiry[i] > '9')
            return false; /* absent or not a date: nothing to check */
        yymm = yymm * 10 + (expiry[i] - '0');
    }
    bs_civil_from_us(now, 0, &y, &mo, NULL, NULL, NULL, NULL, NULL);
    return yymm < (y % 100) * 100 + mo;
}

bool bs__stip_approve(struct bs__stip *st, const char *pan, const char *expiry, unsigned channel,
                      int64_t amount, bs_time_us now, char auth[7])
{
    const struct bs_stip_policy *p = &st->policy;
    int64_t day = now / (86400 * BS_US_PER_SEC);
    struct card_match cm = { st, pan, day };
    uint64_t h;
    uint32_t idx;
    struct card_day *c = NULL;

    if (!p->enabled || channel >= BS_CH_COUNT || amount <= 0 || amount > p->max_amount[channel] ||
        strlen(pan) >= sizeof(c->pan) || expired(expiry, now))
        return false;
    h = bs__hash(pan, strlen(pan), (uint64_t)day);
    if (bs__map_get(&st->by_card, h, card_eq, &cm, &idx) == 0)
        c = bs__pool_at(&st->cards, idx);
    if (p->daily_per_card && (c ? c->total : 0) + amount > p->daily_per_card)
        return false;
    if (!c) {
        if (bs__pool_alloc(&st->cards, &idx) != 0)
            return false;
        if (bs__map_put(&st->by_card, h, idx) != 0) {
            bs__pool_release(&st->cards, idx);
            return false;
        }
        c = bs__pool_at(&st->cards, idx);
        snprintf(c->pan, sizeof(c->pan), "%s", pan);
        c->day = day;
    }
    c->total += amount;
    st->auth_seq = st->auth_seq >= 99999 ? 1 : st->auth_seq + 1;
    snprintf(auth, 7, "S%05u", st->auth_seq);
    return true;
}
