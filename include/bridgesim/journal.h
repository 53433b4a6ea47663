/*
 * bridgesim — transaction journal records.
 *
 * One JSON object per line (JSON Lines), one journal per node. A record says what a node
 * saw or did: a message in or out, a timer that expired, a late response, a reversal
 * step, a signature or format failure. Cardholder data never appears in clear: the PAN
 * is shown as first 6 and last 4 digits (PCI DSS requirement 3.3); track data, CVV and PIN
 * blocks are never written (PCI DSS requirement 3.2).
 *
 * The library only formats records; the program decides where the bytes go.
 */
#ifndef BRIDGESIM_JOURNAL_H
#define BRIDGESIM_JOURNAL_H

#include <bridgesim/common.h>
#include <bridgesim/iso8583.h>

#ifdef __cplusplus
extern "C" {
#endif

/** What a record is about. Names (bs_jkind_name()) are the "kind" values in the file. */
enum bs_jkind {
    BS_J_MSG_IN = 0,   /* "msg_in": a message received and accepted for processing */
    BS_J_MSG_OUT,      /* "msg_out": a message packed, signed and sent */
    BS_J_TIMEOUT,      /* "timeout": a timer expired with no response */
    BS_J_LATE,         /* "late_response": a response after its timer; outcome unchanged */
    BS_J_REVERSAL,     /* "reversal": a reversal step (start, repeat, applied, exception) */
    BS_J_SIG_FAILURE,  /* "sig_failure": bad, missing or unknown-key signature */
    BS_J_FORMAT_ERROR, /* "format_error": bytes that do not decode in the link's dialect */
    BS_J_UNMATCHED,    /* "unmatched": a response that matched no outstanding request */
    BS_J_DROP,         /* "drop": a message lost on a link (written by the engine) */
    BS_J_STATE,        /* "state": a node state change */
    BS_J_INTERNAL,     /* "internal": a message this node could not build (a bug or limit) */
    BS_J_KIND_COUNT
};

/** bs_jkind_name() - the record kind as written ("msg_in"); "unknown" when out of range. */
const char *bs_jkind_name(enum bs_jkind k);

/**
 * struct bs_jrec - one record before formatting. Pointers are borrowed for the call.
 * @kind:   what happened.
 * @t:      when, µs since the Unix epoch (virtual or wall clock).
 * @node:   the node that writes the record.
 * @peer:   the other end of the link (sender for msg_in, receiver for msg_out); may be NULL.
 * @trace:  the transaction's trace id (0: none).
 * @msg:    the message concerned, or NULL. Its MTI, DE 2 (masked), 4, 6, 11, 37, 39, 49 and
 *          51 are written; nothing else of it.
 * @sig:    signature status text ("ok", "bad", "missing", ...) or NULL.
 * @key_id: the signer's key id from the envelope, or NULL.
 * @note:   free text (no cardholder data), or NULL.
 */
struct bs_jrec {
    enum bs_jkind kind;
    bs_time_us t;
    const char *node;
    const char *peer;
    uint64_t trace;
    const struct bs_iso_msg *msg;
    const char *sig;
    const char *key_id;
    const char *note;
};

/**
 * bs_journal_format() - one JSON line (ending in '\n') for @r with sequence number @seq.
 * Strings are JSON-escaped. The PAN is masked with bs_pan_mask().
 * Return: the number of bytes written (without a NUL); BS_ENOSPC when @cap is too small
 * (1024 bytes always suffice for notes under 256 bytes).
 */
int bs_journal_format(const struct bs_jrec *r, uint64_t seq, char *buf, size_t cap);

/**
 * bs_format_iso_time() - "YYYY-MM-DDThh:mm:ss.uuuuuuZ" for @t µs since the Unix epoch
 * (proleptic Gregorian, UTC). @out receives 27 characters and a NUL.
 */
void bs_format_iso_time(bs_time_us t, char out[28]);

/**
 * bs_civil_from_us() - split @t (µs since the Unix epoch, UTC, shifted by @offset_min
 * minutes) into calendar fields. Any pointer may be NULL.
 */
void bs_civil_from_us(bs_time_us t, int offset_min, int *year, int *month, int *day, int *hour,
                      int *minute, int *second, int *micro);

#ifdef __cplusplus
}
#endif
#endif /* BRIDGESIM_JOURNAL_H */
