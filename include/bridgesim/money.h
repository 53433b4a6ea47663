/*
 * bridgesim — money, currency conversion and the cardholder ledger.
 *
 * Amounts are int64_t in minor units of their currency (ISO 4217 exponent, which for IRR
 * the scenario may set to 0 or 2). Never floating point. Exchange rates are scaled
 * integers quoted in the large direction (IRR per 1 RUB), GUIDE §3.
 */
#ifndef BRIDGESIM_MONEY_H
#define BRIDGESIM_MONEY_H

#include <bridgesim/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * struct bs_rate - quote-currency units per one base-currency unit, num / 10^scale.
 * "4510.25" IRR per RUB is {451025, 2}. @scale ≤ 18; @num > 0.
 */
struct bs_rate {
    int64_t num;
    uint8_t scale;
};

/**
 * bs_rate_parse() - parse a decimal string such as "4510.25" exactly (no floating point).
 * At most 18 significant digits, at most 12 after the point.
 * Return: 0; BS_EFORMAT for anything else, zero or negative rates included.
 */
int bs_rate_parse(const char *s, struct bs_rate *ret);

/**
 * bs_rate_markup() - the applied rate: @mid × (10000 + @bps) / 10000 when @up, else
 * @mid × 10000 / (10000 + @bps), rounded half up to the 7 significant digits that
 * DE 10 (n8: one digit of decimal position, seven of rate; ISO 8583:1987 DE 10) carries.
 * The applied rate is then exactly representable in DE 10, so the issuer can recompute
 * the billing amount from the message alone.
 * Return: 0; BS_EOVERFLOW; BS_ERANGE when the rate needs more than 7 decimal places.
 */
int bs_rate_markup(struct bs_rate mid, uint32_t bps, bool up, struct bs_rate *ret);

/**
 * bs_rate_de10() - DE 10 digits "DRRRRRRR" for @r (@r must have ≤ 7 significant digits and
 * scale ≤ 7). @out receives 8 digits and a NUL.
 * Return: 0; BS_ERANGE.
 */
int bs_rate_de10(struct bs_rate r, char out[9]);

/**
 * bs_rate_from_de10() - the inverse of bs_rate_de10().
 * Return: 0; BS_EFORMAT for anything but 8 digits.
 */
int bs_rate_from_de10(const char *de10, size_t n, struct bs_rate *ret);

/**
 * bs_fx_convert() - convert @amount minor units of one currency into the other,
 * once, rounding half up (away from zero for negatives) at the target minor unit.
 * @amount:     source amount, minor units (exponent @from_exp).
 * @r:          quote units per base unit.
 * @base_to_quote: true: source is the base currency (RUB → IRR multiplies by the rate);
 *              false: source is the quote currency (IRR → RUB divides by it).
 * @ret:        receives the target amount, minor units (exponent @to_exp).
 * All intermediates are 128-bit, so no product of an int64 amount and a rate overflows.
 * Return: 0; BS_EOVERFLOW when the result does not fit int64; BS_EINVAL for a bad rate
 * or exponents above 18.
 */
int bs_fx_convert(int64_t amount, uint8_t from_exp, uint8_t to_exp, struct bs_rate r,
                  bool base_to_quote, int64_t *ret);

/**
 * bs_amount_fits() - whether @amount fits an n@digits amount field (DE 4, 6: n12).
 * Negative amounts never fit.
 */
bool bs_amount_fits(int64_t amount, unsigned digits);

/* ---- ledger ----------------------------------------------------------------------------- */

/**
 * struct bs_ledger - the accounts of one issuer, in one currency. Each account has a
 * balance; every posting moves money between an account and the issuer's settlement
 * position, so the sum of balances plus the settlement position never changes
 * (bs_ledger_check()).
 */
struct bs_ledger;

/**
 * bs_ledger_new() - a ledger of @naccounts accounts, all with balance 0.
 * Return: 0; BS_ELIMIT above 100 million accounts; BS_ENOMEM.
 */
int bs_ledger_new(size_t naccounts, struct bs_ledger **ret);

/** bs_ledger_free() - NULL accepted. */
void bs_ledger_free(struct bs_ledger *l);

/**
 * bs_ledger_open() - set the opening balance of account @idx (before any posting).
 * Return: 0; BS_EINVAL for a bad index or negative amount; BS_ESTATE after a posting.
 */
int bs_ledger_open(struct bs_ledger *l, size_t idx, int64_t balance);

/**
 * bs_ledger_debit() - take @amount from account @idx into the settlement position.
 * Return: 0; BS_ERANGE when the balance is insufficient (nothing posted); BS_EINVAL.
 */
int bs_ledger_debit(struct bs_ledger *l, size_t idx, int64_t amount);

/**
 * bs_ledger_force_debit() - take @amount from account @idx even when that overdraws it:
 * for stand-in advices, which report an approval already given and cannot be declined.
 * Return: 0; BS_EINVAL; BS_EOVERFLOW.
 */
int bs_ledger_force_debit(struct bs_ledger *l, size_t idx, int64_t amount);

/** bs_ledger_credit() - the reverse posting. Return: 0; BS_EINVAL; BS_EOVERFLOW. */
int bs_ledger_credit(struct bs_ledger *l, size_t idx, int64_t amount);

/** bs_ledger_balance() - the balance of @idx, or 0 for a bad index. */
int64_t bs_ledger_balance(const struct bs_ledger *l, size_t idx);

/**
 * struct bs_ledger_totals - @opening: sum of opening balances; @balances: sum of current
 * balances; @debited, @credited: sums of postings; @position: settlement position
 * (debited − credited). Conservation: balances + position == opening.
 */
struct bs_ledger_totals {
    int64_t opening, balances, debited, credited, position;
    uint64_t debits, credits;
};

/** bs_ledger_totals() - recompute the totals from every account (O(accounts)). */
void bs_ledger_totals(const struct bs_ledger *l, struct bs_ledger_totals *ret);

/**
 * bs_ledger_check() - conservation: the recomputed sum of balances plus the position
 * equals the opening total. Return: 0; BS_ESTATE when money was created or lost.
 */
int bs_ledger_check(const struct bs_ledger *l);

#ifdef __cplusplus
}
#endif
#endif /* BRIDGESIM_MONEY_H */
