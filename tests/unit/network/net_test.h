/*
 * Shared helpers of the network unit tests (one executable, several groups): the
 * leak-checking allocator, dialect loading, and a fake engine environment that captures
 * what nodes send, journal, time and count.
 */
#ifndef BS_TEST_NETWORK_H
#define BS_TEST_NETWORK_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <bridgesim/crypto.h>
#include <bridgesim/iso8583.h>
#include <bridgesim/journal.h>
#include <bridgesim/node.h>

/* ---- allocator ------------------------------------------------------------------------ */

/* Route library allocations through cmocka's leak-checking allocator. */
void t_use_test_allocator(void);

/* Make the @nth next bs_calloc() (0 = the very next) fail once; -1 disarms. */
void t_fail_calloc(int nth);

/* ---- dialects ------------------------------------------------------------------------- */

/* Load configs/dialects/NAME.yaml under $BS_SOURCE_ROOT; fails the test on error. */
struct bs_iso_dialect *t_load_dialect(const char *name);

/* ---- fake environment ----------------------------------------------------------------- */

#define T_MAX_SENT   64
#define T_MAX_LINES  256
#define T_MAX_TIMERS 64
#define T_LINE_MAX   (BS_JOURNAL_LINE_MAX + 1)
#define T_MAX_NODES  8

struct t_sent {
    uint32_t from, to;
    uint64_t trace;
    size_t n;
    uint8_t buf[BS_WIRE_MAX];
};

struct t_timer {
    uint32_t node, kind;
    bs_time_us delay;
    uint64_t cookie;
};

/*
 * struct t_env - an engine stand-in. Sends are captured (not delivered); every journal
 * record is formatted with bs_journal_format() at once and checked: it must parse as one
 * JSON object (jansson) and must not contain any of the @secrets strings.
 */
struct t_env {
    struct bs_env env; /* first */
    const char *names[T_MAX_NODES];
    struct t_sent sent[T_MAX_SENT];
    size_t nsent;
    struct t_timer timers[T_MAX_TIMERS];
    size_t ntimers;
    char *lines[T_MAX_LINES];
    enum bs_jkind kinds[T_MAX_LINES];
    size_t nlines;
    int64_t stats[BS_STAT_COUNT + 16];
    const char *secrets[8];
    /* Terminal outcomes: how many, and the last one's type and RC ("" when timed out). */
    size_t noutcomes;
    unsigned last_type;
    char last_rc[3];
};

/* Initialise @e (heap memory for journal lines is freed by t_env_deinit()). */
void t_env_init(struct t_env *e, bs_time_us now);
void t_env_deinit(struct t_env *e);
/* Forget captured sends, timers and journal lines (statistics stay). */
void t_env_clear(struct t_env *e);
/* The last captured send, or fail. */
const struct t_sent *t_last_sent(const struct t_env *e);
/* Number of journal lines of kind @k. */
size_t t_count_kind(const struct t_env *e, enum bs_jkind k);

/* A node that does nothing on events: the far end of a link in a test. */
void t_plain_node(struct bs_node *n, struct t_env *e, uint32_t id, const char *name,
                  struct bs_key *key, struct bs_keystore *keys);

/* ---- groups --------------------------------------------------------------------------- */

int t_run_routing(void);
int t_run_txn_types(void);
int t_run_journal(void);
int t_run_wire(void);
int t_run_issuer(void);

#endif
