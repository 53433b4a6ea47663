/* What every role shares: BIN routing, generated card populations, response echo,
 * the matching key and channel of a message. */
#include <stdio.h>
#include <string.h>

#include <bridgesim/crypto.h>
#include <bridgesim/network.h>

void bs_bin_table_init(struct bs_bin_table *t)
{
    t->e = NULL;
    t->n = 0;
}

void bs_bin_table_deinit(struct bs_bin_table *t)
{
    bs_free(t->e);
    t->e = NULL;
    t->n = 0;
}

static uint64_t pow10_u64(unsigned e)
{
    uint64_t v = 1;

    while (e--)
        v *= 10;
    return v;
}

int bs_bin_table_add(struct bs_bin_table *t, uint64_t lo, uint64_t hi, unsigned digits,
                     uint32_t target)
{
    struct bs_bin_entry *e;

    if (digits < 1 || digits > 8 || lo > hi || hi >= pow10_u64(digits))
        return BS_EINVAL;
    if (t->n >= BS_BIN_TABLE_MAX)
        return BS_ELIMIT;
    for (size_t i = 0; i < t->n; i++)
        if (t->e[i].digits == digits && lo <= t->e[i].hi && t->e[i].lo <= hi)
            return BS_EEXIST;
    e = bs_realloc(t->e, (t->n + 1) * sizeof(*e));
    if (!e)
        return BS_ENOMEM;
    t->e = e;
    t->e[t->n++] = (struct bs_bin_entry){ lo, hi, (uint8_t)digits, target };
    return 0;
}

int bs_bin_lookup(const struct bs_bin_table *t, const char *pan, size_t n, uint32_t *ret)
{
    uint64_t prefix[9] = { 0 };
    int best = -1;

    for (size_t i = 0; i < n; i++)
        if (pan[i] < '0' || pan[i] > '9')
            return BS_EFORMAT;
    for (unsigned d = 1; d <= 8 && d <= n; d++)
        prefix[d] = prefix[d - 1] * 10 + (uint64_t)(pan[d - 1] - '0');
    for (size_t i = 0; i < t->n; i++) {
        const struct bs_bin_entry *e = &t->e[i];
        if (e->digits > n || (best >= 0 && e->digits <= t->e[best].digits))
            continue;
        if (prefix[e->digits] >= e->lo && prefix[e->digits] <= e->hi)
            best = (int)i;
    }
    if (best < 0)
        return BS_ENOTFOUND;
    *ret = t->e[best].target;
    return 0;
}

/* Total number of prefixes over all ranges. */
static uint64_t span_of(const struct bs_card_population *p)
{
    uint64_t s = 0;

    for (size_t i = 0; i < p->nranges; i++)
        s += p->ranges[i].hi - p->ranges[i].lo + 1;
    return s;
}

/* The prefix number @k (0-based) over the ranges in order, and its digit count. */
static void prefix_at(const struct bs_card_population *p, uint64_t k, uint64_t *val,
                      unsigned *digits)
{
    for (size_t i = 0; i < p->nranges; i++) {
        uint64_t w = p->ranges[i].hi - p->ranges[i].lo + 1;
        if (k < w) {
            *val = p->ranges[i].lo + k;
            *digits = p->ranges[i].digits;
            return;
        }
        k -= w;
    }
    *val = 0;
    *digits = 0;
}

int bs_card_pan(const struct bs_card_population *p, uint64_t idx, char out[20])
{
    uint64_t span = span_of(p), prefix, acct;
    unsigned digits, acct_digits;
    int check;

    if (span == 0 || p->pan_length < 13 || p->pan_length > 19)
        return BS_EINVAL;
    prefix_at(p, idx % span, &prefix, &digits);
    acct = idx / span;
    acct_digits = p->pan_length - 1u - digits;
    if (acct_digits > 18 || acct >= pow10_u64(acct_digits))
        return BS_ERANGE;
    for (unsigned i = 0; i < digits; i++)
        out[digits - 1 - i] = (char)('0' + (prefix / pow10_u64(i)) % 10);
    for (unsigned i = 0; i < acct_digits; i++)
        out[digits + acct_digits - 1 - i] = (char)('0' + (acct / pow10_u64(i)) % 10);
    check = bs_luhn_check_digit(out, p->pan_length - 1u);
    if (check < 0)
        return check;
    out[p->pan_length - 1] = (char)check;
    out[p->pan_length] = '\0';
    return 0;
}

int bs_card_index(const struct bs_card_population *p, const char *pan, size_t n, uint64_t *ret)
{
    uint64_t k = 0, acct = 0;
    bool found = false;
    unsigned digits = 0;

    if (n != p->pan_length || !bs_luhn_valid(pan, n))
        return BS_ENOTFOUND;
    for (size_t i = 0; i < p->nranges && !found; i++) {
        uint64_t v = 0;
        digits = p->ranges[i].digits;
        for (unsigned d = 0; d < digits; d++)
            v = v * 10 + (uint64_t)(pan[d] - '0');
        if (v >= p->ranges[i].lo && v <= p->ranges[i].hi) {
            k += v - p->ranges[i].lo;
            found = true;
        } else {
            k += p->ranges[i].hi - p->ranges[i].lo + 1;
        }
    }
    if (!found)
        return BS_ENOTFOUND;
    for (size_t i = digits; i + 1 < n; i++)
        acct = acct * 10 + (uint64_t)(pan[i] - '0');
    uint64_t idx = acct * span_of(p) + k;
    if (idx >= p->cards)
        return BS_ENOTFOUND;
    *ret = idx;
    return 0;
}

int bs_msg_make_response(const struct bs_iso_msg *req, struct bs_iso_msg *resp, const char *rc)
{
    static const uint8_t echo[] = { 2,  3,  4,  5,  6,  7,  10, 11, 12, 13,
                                    15, 32, 33, 37, 41, 42, 49, 50, 51, 90 };
    char mti[5];
    int err;

    err = bs_mti_response(req->mti, mti);
    if (err)
        return err;
    bs_iso_msg_init(resp, mti);
    for (size_t i = 0; i < sizeof(echo); i++) {
        size_t n;
        const uint8_t *v = bs_iso_msg_get(req, echo[i], &n);
        if (v && (err = bs_iso_msg_set(resp, echo[i], v, n)) != 0)
            return err;
    }
    return bs_iso_msg_set_str(resp, 39, rc);
}

unsigned bs_channel_of(const struct bs_iso_msg *m)
{
    size_t n;
    const uint8_t *pc = bs_iso_msg_get(m, 3, &n);
    char proc[3] = "";

    if (pc && n >= 2) {
        proc[0] = (char)pc[0];
        proc[1] = (char)pc[1];
    }
    return bs_channel_of_proc(proc);
}

unsigned bs_channel_of_proc(const char *proc)
{
    unsigned t = bs_txn_type_of_proc(proc);

    return t == BS_TXN_ATM_WITHDRAWAL || t == BS_TXN_BALANCE_INQUIRY ? BS_CH_ATM : BS_CH_POS;
}

unsigned bs_txn_type_of_proc(const char *proc)
{
    if (!proc[0] || !proc[1])
        return BS_TXN_PURCHASE;
    if (proc[0] == '0' && proc[1] == '1')
        return BS_TXN_ATM_WITHDRAWAL;
    if (proc[0] == '2' && proc[1] == '0')
        return BS_TXN_REFUND;
    if (proc[0] == '3' && proc[1] == '1')
        return BS_TXN_BALANCE_INQUIRY;
    return BS_TXN_PURCHASE;
}

const char *bs_txn_type_name(unsigned type)
{
    static const char *const names[BS_TXN_TYPE_COUNT] = {
        [BS_TXN_PURCHASE] = "purchase",
        [BS_TXN_ATM_WITHDRAWAL] = "atm_withdrawal",
        [BS_TXN_REFUND] = "refund",
        [BS_TXN_BALANCE_INQUIRY] = "balance_inquiry",
        [BS_TXN_CANCELLATION] = "cancellation",
    };

    return type < BS_TXN_TYPE_COUNT ? names[type] : "?";
}

const char *bs_txn_proc_code(unsigned type, unsigned channel)
{
    if (type == BS_TXN_REFUND)
        return "200000";
    if (type == BS_TXN_BALANCE_INQUIRY)
        return "310000";
    return type == BS_TXN_ATM_WITHDRAWAL || channel == BS_CH_ATM ? "010000" : "000000";
}

static bool two_digits(const char *s)
{
    return s[0] >= '0' && s[0] <= '9' && s[1] >= '0' && s[1] <= '9' && s[2] == '\0';
}

int bs_addl_amount_format(const struct bs_addl_amount *a, char out[BS_ADDL_AMOUNT_LEN + 1])
{
    uint64_t mag = a->amount < 0 ? (uint64_t)0 - (uint64_t)a->amount : (uint64_t)a->amount;

    if (!two_digits(a->account_type) || !two_digits(a->amount_type))
        return BS_EINVAL;
    if (mag > 999999999999ull || a->currency > 999)
        return BS_ERANGE;
    snprintf(out, BS_ADDL_AMOUNT_LEN + 1, "%s%s%03u%c%012llu", a->account_type, a->amount_type,
             (unsigned)a->currency, a->amount < 0 ? 'D' : 'C', (unsigned long long)mag);
    return 0;
}

int bs_addl_amount_parse(const char *s, size_t n, size_t i, struct bs_addl_amount *ret)
{
    struct bs_addl_amount a;
    const char *p;
    int64_t v = 0;
    unsigned cur = 0;

    if (i >= n / BS_ADDL_AMOUNT_LEN)
        return BS_ENOTFOUND;
    p = s + i * BS_ADDL_AMOUNT_LEN;
    for (int k = 0; k < BS_ADDL_AMOUNT_LEN; k++)
        if (k != 7 && (p[k] < '0' || p[k] > '9'))
            return BS_EFORMAT;
    if (p[7] != 'C' && p[7] != 'D')
        return BS_EFORMAT;
    memset(&a, 0, sizeof(a));
    memcpy(a.account_type, p, 2);
    memcpy(a.amount_type, p + 2, 2);
    for (int k = 4; k < 7; k++)
        cur = cur * 10 + (unsigned)(p[k] - '0');
    for (int k = 8; k < BS_ADDL_AMOUNT_LEN; k++)
        v = v * 10 + (p[k] - '0');
    a.currency = (uint16_t)cur;
    a.amount = p[7] == 'D' ? -v : v;
    *ret = a;
    return 0;
}

void bs_node_free(struct bs_node *node)
{
    if (node)
        node->ops->free(node);
}
