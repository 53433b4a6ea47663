/*
 * bridgesim — common definitions: error codes, allocator hook, time and money types.
 *
 * Every fallible function in libbridgesim returns int: 0 (or a non-negative count) on
 * success and a negative BS_E* code on failure. Outputs are ret_* parameters, written only
 * on success. The library never prints and never exits.
 */
#ifndef BRIDGESIM_COMMON_H
#define BRIDGESIM_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * The one error table. X(NAME, value, message). Values are negative so that functions
 * can return a count on success.
 */
#define BS_ERRNO_MAP(X)                                        \
    X(OK, 0, "success")                                        \
    X(ENOMEM, -1, "out of memory")                             \
    X(EINVAL, -2, "invalid argument")                          \
    X(EFORMAT, -3, "malformed input")                          \
    X(ELIMIT, -4, "configured limit exceeded")                 \
    X(ERANGE, -5, "value out of range")                        \
    X(ENOSPC, -6, "output buffer too small")                   \
    X(ESIG, -7, "signature verification failed")               \
    X(ENOTFOUND, -8, "not found")                              \
    X(EIO, -9, "input/output error")                           \
    X(EEXIST, -10, "already exists")                           \
    X(ECRYPTO, -11, "cryptographic library error")             \
    X(EOVERFLOW, -12, "arithmetic overflow")                   \
    X(ESTATE, -13, "operation not valid in the current state") \
    X(EKEY, -14, "unknown or expired key")

enum bs_errno {
#define BS__ERRNO_ENUM(name, value, msg) BS_##name = (value),
    BS_ERRNO_MAP(BS__ERRNO_ENUM)
#undef BS__ERRNO_ENUM
};

/**
 * bs_strerror() - describe an error code.
 * @err: a value returned by a libbridgesim function (0 or negative BS_E*).
 *
 * Return: a static, never-NULL string; "unknown error" for values not in BS_ERRNO_MAP.
 */
const char *bs_strerror(int err);

/**
 * bs_errname() - the symbolic name of an error code without the BS_ prefix ("EFORMAT").
 * @err: 0 or a negative BS_E* value.
 *
 * Return: a static string; "EUNKNOWN" for values not in the table.
 */
const char *bs_errname(int err);

/*
 * Time. One unit everywhere: microseconds. Virtual time starts at the scenario's epoch;
 * wall-clock values are microseconds since the Unix epoch (UTC).
 */
typedef int64_t bs_time_us;

#define BS_US_PER_MS  INT64_C(1000)
#define BS_US_PER_SEC INT64_C(1000000)

/** Card-acceptance channels; timers and limits are configured per channel. */
enum bs_channel {
    BS_CH_POS = 0, /* purchases at a point of sale */
    BS_CH_ATM = 1, /* cash withdrawals at an ATM */
    BS_CH_COUNT
};

/**
 * Transaction types a terminal starts (issue #6 item 4; configs/README.md `mix`). DE 3
 * processing codes (ISO 8583:1987 positions 1–2): purchase 00, cash 01, refund 20, balance
 * inquiry 31. A cancellation is a purchase the cardholder cancels at the terminal once it
 * is approved: the terminal then sends a 0400 reversal request (DE 39 17, customer
 * cancellation) that the acquirer carries to the issuer as a reversal.
 */
enum bs_txn_type {
    BS_TXN_PURCHASE = 0,    /* 0200, DE 3 000000, at a POS */
    BS_TXN_ATM_WITHDRAWAL,  /* 0200, DE 3 010000, at an ATM */
    BS_TXN_REFUND,          /* 0200, DE 3 200000, at a POS: a credit to the cardholder */
    BS_TXN_BALANCE_INQUIRY, /* 0100, DE 3 310000, at an ATM: DE 54 answers, no money moves */
    BS_TXN_CANCELLATION,    /* a purchase, then 0400 when approved */
    BS_TXN_TYPE_COUNT
};

/**
 * struct bs_allocator - the allocator hook. All heap memory of libbridgesim goes through
 * it, so tests can route allocations through cmocka's leak-checking allocator.
 * @malloc, @calloc, @realloc, @free: same contracts as the C library functions.
 */
struct bs_allocator {
    void *(*malloc)(size_t size);
    void *(*calloc)(size_t nmemb, size_t size);
    void *(*realloc)(void *ptr, size_t size);
    void (*free)(void *ptr);
};

/**
 * bs_set_allocator() - replace the allocator for all later allocations.
 * @a: the hook; NULL restores the C library allocator. The struct is copied.
 *
 * Must be called before any object is created: memory is freed with the allocator that is
 * current at free time.
 */
void bs_set_allocator(const struct bs_allocator *a);

/** bs_malloc() - allocate @size bytes through the hook; NULL on failure. */
void *bs_malloc(size_t size);
/** bs_calloc() - allocate a zeroed array through the hook; NULL on failure or overflow. */
void *bs_calloc(size_t nmemb, size_t size);
/** bs_realloc() - resize through the hook; NULL on failure (the old block stays valid). */
void *bs_realloc(void *ptr, size_t size);
/** bs_free() - free through the hook; NULL is accepted. */
void bs_free(void *ptr);
/** bs_strdup() - copy a NUL-terminated string through the hook; NULL on failure. */
char *bs_strdup(const char *s);

/**
 * bs_wipe() - overwrite @n bytes at @p with zeros in a way the compiler cannot drop
 * (OPENSSL_cleanse). For secrets and cardholder data on the stack (PCI DSS 3.2).
 */
void bs_wipe(void *p, size_t n);

#ifdef __cplusplus
}
#endif
#endif /* BRIDGESIM_COMMON_H */
