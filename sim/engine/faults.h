/*
 * Fault injection (issue #5): the scenario's faults resolved to node ids, evaluated by the
 * engine per message (on send) and per node (on delivery and dispatch). Every random draw
 * comes from the fault's own stream, derived from the seed and the fault's index, so
 * adding a fault does not change any other draw.
 */
#ifndef BS_SIM_FAULTS_H
#define BS_SIM_FAULTS_H

#include <bridgesim/iso8583.h>

#include "engine/rng.h"
#include "scenario/scenario.h"

struct bs_faults;

/** What the engine does with one message. */
struct bs_msg_verdict {
    const char *drop;   /* non-NULL: lose it, and why ("loss", "partition", ...) */
    double extra_delay; /* µs added to its latency */
    bool duplicate;     /* deliver a second copy */
    int corrupt;        /* an enum bs_corrupt_mode, or -1 */
    int fault;          /* index of the fault that decided, for the journal; -1 */
};

/**
 * bs_faults_new() - resolve @sc's faults against the node names @names[0..nnodes).
 * Return: 0; BS_EINVAL with @err naming file:line:column of a fault whose node or link
 * does not exist; BS_ENOMEM.
 */
int bs_faults_new(const struct bs_scenario *sc, const char (*names)[64], size_t nnodes,
                  struct bs_faults **ret, char *err, size_t errlen);

void bs_faults_free(struct bs_faults *f);

/**
 * bs_faults_rebase() - measure every window's `at` from @origin (µs since the Unix epoch)
 * instead of the scenario's virtual start: a realtime run calls it with the wall clock at
 * its start, so `at: 10s` means ten seconds into the run. NULL @f is accepted.
 */
void bs_faults_rebase(struct bs_faults *f, bs_time_us origin);

/** Whether any fault is configured (the engine skips all checks when not). */
bool bs_faults_any(const struct bs_faults *f);

/**
 * bs_faults_on_send() - decide the fate of message @m (may be NULL) sent @from → @to at
 * @now (µs since the Unix epoch). Draws from the faults' streams.
 */
void bs_faults_on_send(struct bs_faults *f, bs_time_us now, uint32_t from, uint32_t to,
                       const struct bs_iso_msg *m, struct bs_msg_verdict *v);

/** Node state at @now. @ret_until receives the end of the window (µs). */
bool bs_faults_crashed(const struct bs_faults *f, bs_time_us now, uint32_t node,
                       bs_time_us *ret_until);
bool bs_faults_paused(const struct bs_faults *f, bs_time_us now, uint32_t node,
                      bs_time_us *ret_until);

/** Per-node behaviour at @now: forced RC (or NULL), clock skew (µs), wrong key. */
const char *bs_faults_forced_rc(const struct bs_faults *f, bs_time_us now, uint32_t node);
bs_time_us bs_faults_clock_skew(const struct bs_faults *f, bs_time_us now, uint32_t node);
bool bs_faults_wrong_key(const struct bs_faults *f, bs_time_us now, uint32_t node);

/**
 * bs_faults_signed_off() - whether a sign_off fault holds @node out of service at @now
 * (network management, ISO 8583:1987 class 8; issue #4 §9). The engine hands the node
 * BS_ADMIN_SIGN_OFF when a window begins and BS_ADMIN_SIGN_ON when it ends, unless another
 * sign_off window of the node is still active then.
 */
bool bs_faults_signed_off(const struct bs_faults *f, bs_time_us now, uint32_t node);

/**
 * bs_faults_sign_offs() - iterate the sign_off faults from fault index @i (start at 0):
 * the node, and the window relative to time.start (µs, [@ret_from, @ret_to)).
 * Return: the index to continue from, or 0 when there are no more.
 */
size_t bs_faults_sign_offs(const struct bs_faults *f, size_t i, uint32_t *ret_node,
                           bs_time_us *ret_from, bs_time_us *ret_to);

/** Extra processing time (µs) for a message handled by @node at @now (slow faults). */
double bs_faults_slow(struct bs_faults *f, bs_time_us now, uint32_t node);

/** The name of corruption mode @mode as written in scenario files ("bitflip"). */
const char *bs_corrupt_mode_name(int mode);

/** The name of fault kind @k as written in scenario files ("loss"). */
const char *bs_fault_kind_name(enum bs_fault_kind k);

/**
 * bs_faults_apply_corruption() - damage @buf (@n bytes, in the sender's dialect @d) as
 * @mode says, with draws from fault @fault's stream. *@n may shrink (truncation).
 */
void bs_faults_apply_corruption(struct bs_faults *f, int fault, int mode,
                                const struct bs_iso_dialect *d, uint8_t *buf, size_t *n);

#endif
