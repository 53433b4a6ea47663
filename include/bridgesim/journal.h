/*
 * bridgesim — transaction journals: records, the hash-chained writer, the line parser and
 * the chain verifier. The file format (version 1) is specified in docs/journal.md.
 *
 * One JSON object per line (JSON Lines), one journal per node. A record says what a node
 * saw or did: a message in or out, a timer that expired, a late response, a reversal
 * step, a signature or format failure. Every line carries "prev", the SHA-256 of the
 * previous line, so the lines form a hash chain; every N records and at close the writer
 * appends a checkpoint signed with the node's key. Cardholder data never appears in clear:
 * the PAN is shown as first 6 and last 4 digits (PCI DSS requirement 3.3); in the message
 * bytes every sensitive data element is blanked, and track data, CVV and PIN blocks are
 * never written (PCI DSS requirement 3.2).
 *
 * The library formats, hashes, signs, parses and verifies; it does no I/O. The program
 * hands the writer a sink (a write callback) and hands the parser and the verifier lines
 * it has read (GUIDE §2).
 */
#ifndef BRIDGESIM_JOURNAL_H
#define BRIDGESIM_JOURNAL_H

#include <bridgesim/common.h>
#include <bridgesim/crypto.h>
#include <bridgesim/iso8583.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The journal format version written in every header ("format": 1). */
#define BS_JOURNAL_FORMAT 1
/** Longest line the writer produces and the parser accepts, in bytes without the '\n'. */
#define BS_JOURNAL_LINE_MAX 16384
/** Longest message whose bytes are written as hex; longer messages get no "hex" field. */
#define BS_JOURNAL_HEX_WIRE_MAX 4096
/**
 * Characters of the hex text of @n bytes: two per byte and a space after every fourth
 * byte but the last ("30323030 f23c4481"), so no run of decimal digits in a journal is
 * long enough to look like a PAN (PCI DSS requirement 3.3).
 */
#define BS_JOURNAL_HEX_LEN(n) (2 * (size_t)(n) + ((n) > 0 ? ((size_t)(n)-1) / 4 : 0))
/** Records between two checkpoints unless configured otherwise. */
#define BS_JOURNAL_CHECKPOINT_DEFAULT 1000
/** Upper bound of a configured checkpoint interval (records). */
#define BS_JOURNAL_CHECKPOINT_MAX 10000000u
/** Longest node, peer or role name in a journal, without the NUL. */
#define BS_JOURNAL_NAME_MAX 63
/** Longest free-text note in a record, without the NUL (longer notes are cut). */
#define BS_JOURNAL_NOTE_MAX 255

/**
 * What a record is about. Names (bs_jkind_name()) are the "kind" values in the file.
 * New kinds are only ever appended, so the numbers stay stable.
 */
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
    BS_J_STAND_IN,     /* "stand_in": a switch or the bridge answered for the issuer (STIP) */
    BS_J_ADVICE,       /* "advice": a store-and-forward advice stored, sent or acknowledged */
    BS_J_FAULT,        /* "fault": a fault injected by the engine began or ended */
    BS_J_SETTLEMENT,   /* "settlement": a settlement window closed, an instruction issued */
    BS_J_HEADER,       /* "header": the first line of every journal (written by the writer) */
    BS_J_CHECKPOINT,   /* "checkpoint": a signed chain head (written by the writer) */
    BS_J_DUPLICATE,    /* "duplicate": a repeat answered from the stored response, or RC 94 */
    BS_J_KIND_COUNT
};

/** bs_jkind_name() - the record kind as written ("msg_in"); "unknown" when out of range. */
const char *bs_jkind_name(enum bs_jkind k);

/**
 * bs_jkind_parse() - the inverse of bs_jkind_name() for @n bytes at @name.
 * Return: 0 and *@ret; BS_ENOTFOUND for a name that is not a kind.
 */
int bs_jkind_parse(const char *name, size_t n, enum bs_jkind *ret);

/**
 * struct bs_jrec - one record before formatting. Pointers are borrowed for the call.
 * @kind:   what happened (not BS_J_HEADER or BS_J_CHECKPOINT: the writer makes those).
 * @t:      when, µs since the Unix epoch (virtual time, or the wall clock in realtime mode).
 * @wall:   realtime mode only: the wall clock when the record was written, µs since the
 *          Unix epoch; 0 omits the field (virtual runs must replay byte for byte).
 * @node:   the node that writes the record.
 * @peer:   the other end of the link (sender for msg_in, receiver for msg_out); may be NULL.
 * @trace:  the transaction's trace id (0: none).
 * @msg:    the message concerned, or NULL. Its MTI, DE 2 (masked), 3, 4, 6, 11, 37, 39, 49
 *          and 51 are written; nothing else of it (but see @wire).
 * @sig:    signature status text ("ok", "bad", "missing", ...) or NULL.
 * @key_id: the signer's key id from the envelope, or NULL.
 * @note:   free text (no cardholder data), or NULL; cut at BS_JOURNAL_NOTE_MAX bytes.
 * @wire, @wire_len: the message bytes as sent or received, or NULL. They are written as
 *          hex with every sensitive data element blanked (bs_journal_wire_hex()), and only
 *          when @dialect is set and the bytes decode in it.
 * @dialect: the dialect of @wire.
 * @wire_unpacked: @msg was decoded from exactly @wire by bs_iso_unpack(), so its wire_off[]
 *          locate every data element; otherwise the bytes are decoded again for the offsets.
 */
struct bs_jrec {
    enum bs_jkind kind;
    bs_time_us t;
    bs_time_us wall;
    const char *node;
    const char *peer;
    uint64_t trace;
    const struct bs_iso_msg *msg;
    const char *sig;
    const char *key_id;
    const char *note;
    const uint8_t *wire;
    size_t wire_len;
    const struct bs_iso_dialect *dialect;
    bool wire_unpacked;
};

/**
 * bs_journal_format() - one JSON line (ending in '\n') for @r with sequence number @seq,
 * without the hash-chain field ("prev"): what bs_jwriter_append() writes minus the chain.
 * Strings are JSON-escaped. The PAN is masked with bs_pan_mask().
 * Return: the number of bytes written (without a NUL); BS_ENOSPC when @cap is too small
 * (BS_JOURNAL_LINE_MAX + 1 always suffices); BS_EINVAL for a NULL @r, @r->node or @buf.
 */
int bs_journal_format(const struct bs_jrec *r, uint64_t seq, char *buf, size_t cap);

/**
 * bs_journal_wire_hex() - @n message bytes as lower-case hex with every sensitive data
 * element blanked: the data bytes (never the length prefix) of each DE whose dialect
 * sensitivity is BS_ISO_MASKED or BS_ISO_SECRET, and always of DE 2, 14, 35, 36, 45, 52
 * and 55 whatever the dialect says, are replaced by bytes of the same length that still
 * decode: '0' digits for n and z data in ASCII or EBCDIC, '*' for other character data,
 * 0x00 for BCD and binary data (PCI DSS requirements 3.2 and 3.3).
 * @d:        the dialect of the bytes.
 * @unpacked: @wire already decoded by bs_iso_unpack() (its wire_off[] are used), or NULL
 *            to decode here (on the stack; allocates nothing).
 * @out, @cap: receives BS_JOURNAL_HEX_LEN(@n) characters (grouped hex, see there) and a NUL.
 *
 * Return: the number of hex characters; BS_EFORMAT when the bytes do not decode (nothing
 * safe can be written then); BS_ELIMIT when @n > BS_JOURNAL_HEX_WIRE_MAX; BS_ENOSPC;
 * BS_EINVAL for NULL arguments.
 */
int bs_journal_wire_hex(const struct bs_iso_dialect *d, const uint8_t *wire, size_t n,
                        const struct bs_iso_msg *unpacked, char *out, size_t cap);

/**
 * bs_format_iso_time() - "YYYY-MM-DDThh:mm:ss.uuuuuuZ" for @t µs since the Unix epoch
 * (proleptic Gregorian, UTC). @out receives 27 characters and a NUL.
 */
void bs_format_iso_time(bs_time_us t, char out[28]);

/**
 * bs_parse_iso_time() - the inverse of bs_format_iso_time(): "YYYY-MM-DDThh:mm:ss[.f]Z"
 * with 0 to 6 fraction digits (the 'Z' may be omitted; a space may replace the 'T').
 * Return: 0 and *@ret (µs since the Unix epoch); BS_EFORMAT.
 */
int bs_parse_iso_time(const char *s, bs_time_us *ret);

/**
 * bs_civil_from_us() - split @t (µs since the Unix epoch, UTC, shifted by @offset_min
 * minutes) into calendar fields. Any pointer may be NULL.
 */
void bs_civil_from_us(bs_time_us t, int offset_min, int *year, int *month, int *day, int *hour,
                      int *minute, int *second, int *micro);

/* ---- writer ------------------------------------------------------------------------------ */

/** When the writer asks its sink to make the journal durable (fsync). */
enum bs_jsync {
    BS_JSYNC_NONE = 0,   /* never: the operating system writes back when it likes */
    BS_JSYNC_CHECKPOINT, /* after every checkpoint (and at close) */
    BS_JSYNC_EVERY,      /* after every record: slow, for crash tests */
};

/** bs_jsync_name() - "none", "checkpoint", "every"; "unknown" out of range. */
const char *bs_jsync_name(enum bs_jsync s);

/** bs_jsync_parse() - the inverse of bs_jsync_name(). Return: 0; BS_ENOTFOUND. */
int bs_jsync_parse(const char *name, enum bs_jsync *ret);

/**
 * struct bs_jsink - where a writer's bytes go; provided by the program.
 * @write: take all @n bytes; return 0 or a negative BS_E* code (BS_EIO). Called with whole
 *         lines only, so an interrupted process leaves at most one torn line behind.
 * @sync:  make every byte written so far durable (fsync); return 0 or BS_EIO. May be NULL
 *         when the sync policy is BS_JSYNC_NONE.
 * @ctx:   passed to both.
 */
struct bs_jsink {
    int (*write)(void *ctx, const void *buf, size_t n);
    int (*sync)(void *ctx);
    void *ctx;
};

/**
 * struct bs_jheader - what the header record (line 1) says about the journal.
 * @node:      the node that writes the journal (required).
 * @role:      "terminal", "acquirer", "switch", "bridge", "issuer" or "links"; may be NULL.
 * @network:   the node's network ("mir"); NULL or "" for the bridge and the links journal.
 * @scenario:  the scenario's name; may be NULL.
 * @scenario_sha256: SHA-256 of the scenario file's bytes.
 * @seed:      the run's seed (keys are derived from it, see bs_jverify_new()).
 * @realtime:  realtime mode ("mode": "realtime") rather than virtual time.
 * @version:   the bridgesim version ("0.1.0"; required).
 * @key_source: how a verifier obtains the checkpoint key: "seed" (derived from @seed, see
 *             bs_jverify_new()); NULL means "seed".
 * @t, @wall:  as in struct bs_jrec, for the moment the journal is opened.
 */
struct bs_jheader {
    const char *node;
    const char *role;
    const char *network;
    const char *scenario;
    uint8_t scenario_sha256[32];
    uint64_t seed;
    bool realtime;
    const char *version;
    const char *key_source;
    bs_time_us t, wall;
};

/**
 * struct bs_jwriter_cfg - how a writer works.
 * @sink:     where the bytes go (copied).
 * @key:      signs the checkpoints; borrowed, must outlive the writer; required. Its id and
 *            algorithm are written in the header. In a run without message signing the
 *            program passes an HMAC-SHA256 key derived from the seed (docs/journal.md).
 * @sync:     the fsync policy.
 * @checkpoint_every: records between checkpoints, 1..BS_JOURNAL_CHECKPOINT_MAX; 0 means
 *            BS_JOURNAL_CHECKPOINT_DEFAULT.
 * @buffer:   bytes buffered before the sink is called; 0 means 64 KiB. At least
 *            2 * (BS_JOURNAL_LINE_MAX + 1) is used whatever is asked, at most 64 MiB.
 */
struct bs_jwriter_cfg {
    struct bs_jsink sink;
    struct bs_key *key;
    enum bs_jsync sync;
    uint32_t checkpoint_every;
    size_t buffer;
};

/** Opaque journal writer: one per journal file. Not thread-safe. */
struct bs_jwriter;

/**
 * bs_jwriter_new() - a writer whose first line, the header described by @hdr, is buffered
 * (the sink is not called yet). Strings of @hdr are copied.
 * Return: 0; BS_EINVAL (NULL or empty required fields, no sink write callback, no key, a
 * sync policy other than none without a sync callback, a name longer than
 * BS_JOURNAL_NAME_MAX, @checkpoint_every over the maximum); BS_ENOMEM.
 */
int bs_jwriter_new(const struct bs_jwriter_cfg *cfg, const struct bs_jheader *hdr,
                   struct bs_jwriter **ret);

/**
 * bs_jwriter_append() - format @r, chain it to the previous line and buffer it; write a
 * signed checkpoint after every checkpoint_every records. The sink is called when the
 * buffer fills, and synced according to the policy.
 * The header's node is written as "node", so a journal names one node only; a different
 * @r->node (the sender of a message the engine lost, in the links journal) is written as
 * "from".
 *
 * Return: 0; BS_EINVAL (NULL @r, a header or checkpoint kind, a node or peer name longer
 * than BS_JOURNAL_NAME_MAX, which no reader would accept); BS_ESTATE after close or
 * after an earlier sink failure (the journal is broken from then on); BS_ENOSPC for a
 * record longer than BS_JOURNAL_LINE_MAX (not written); BS_ECRYPTO (checkpoint signing);
 * the sink's error.
 */
int bs_jwriter_append(struct bs_jwriter *w, const struct bs_jrec *r);

/**
 * bs_jwriter_flush() - hand every buffered line to the sink (no sync).
 * Return: 0; BS_ESTATE after a failure; the sink's error.
 */
int bs_jwriter_flush(struct bs_jwriter *w);

/**
 * bs_jwriter_close() - append the final checkpoint ("final": true) at time @t (and @wall
 * in realtime mode), flush, and sync unless the policy is none. Nothing can be appended
 * afterwards. Closing twice is BS_ESTATE.
 * Return: 0; BS_ESTATE; BS_ECRYPTO; the sink's error.
 */
int bs_jwriter_close(struct bs_jwriter *w, bs_time_us t, bs_time_us wall);

/** bs_jwriter_free() - free without writing anything (call close first); NULL accepted. */
void bs_jwriter_free(struct bs_jwriter *w);

/** bs_jwriter_records() - records appended so far (header and checkpoints not counted). */
uint64_t bs_jwriter_records(const struct bs_jwriter *w);

/* ---- parser ------------------------------------------------------------------------------ */

/**
 * struct bs_jline - one parsed line. Strings are NUL-terminated copies (unescaped); @hex
 * points into the parsed line and lives as long as it. Absent fields are empty strings,
 * zero, false or NULL; the has_* flags tell a zero from an absent number.
 * Records:     @seq, @t, @wall, @node, @kind, @from, @peer, @trace, @mti, @proc, @stan, @rrn, @pan,
 *              @amount, @currency, @billing_amount, @billing_currency, @rc, @sig,
 *              @key_id, @note, @hex, @prev.
 * Header:      @format, @version, @role, @network, @scenario, @scenario_sha256, @seed,
 *              @mode, @alg, @key_id, @key_source, @checkpoint_every.
 * Checkpoints: @records, @final, @alg, @key_id, @signature, @signed_len (the bytes of the
 *              line the signature covers: everything before ',"signature":').
 */
struct bs_jline {
    uint64_t seq;
    enum bs_jkind kind;
    bs_time_us t, wall;
    bool has_t, has_wall, has_amount, has_billing, has_prev;
    char node[BS_JOURNAL_NAME_MAX + 1];
    char from[BS_JOURNAL_NAME_MAX + 1];
    char peer[BS_JOURNAL_NAME_MAX + 1];
    uint64_t trace;
    char mti[5], proc[7], stan[7], rrn[13], pan[20], rc[3];
    int64_t amount, billing_amount;
    char currency[4], billing_currency[4];
    char sig[16];
    char key_id[BS_KEY_ID_MAX + 1];
    char note[BS_JOURNAL_NOTE_MAX + 1];
    const char *hex;
    size_t hex_len;
    uint8_t prev[32];
    /* header */
    uint32_t format;
    char version[32];
    char role[16];
    char network[32];
    char scenario[96];
    uint8_t scenario_sha256[32];
    bool has_scenario_sha256;
    uint64_t seed;
    bool has_seed;
    char mode[16];
    char alg[16];
    char key_source[16];
    uint32_t checkpoint_every;
    /* checkpoint */
    uint64_t records;
    bool final;
    uint8_t signature[BS_SIG_MAX];
    size_t signature_len;
    size_t signed_len;
};

/**
 * bs_jline_parse() - parse one line (without its '\n') strictly: one flat JSON object
 * (RFC 8259) of strings, integers, booleans and null; no nesting, no duplicate keys, no
 * bytes after the closing brace. Unknown keys are skipped (forward compatibility); known
 * keys must have the documented type and fit their field (a 13-character RRN is an error,
 * not a truncation). "seq", "kind", "node" and "prev" are required.
 * @why, @whylen: on failure receives the reason with the byte offset ("offset 17: ...").
 *
 * Never reads past @line + @n; allocates nothing.
 * Return: 0; BS_EFORMAT; BS_ELIMIT for @n > BS_JOURNAL_LINE_MAX; BS_EINVAL for NULL.
 */
int bs_jline_parse(const char *line, size_t n, struct bs_jline *ret, char *why, size_t whylen);

/* ---- verifier ---------------------------------------------------------------------------- */

/** Opaque hash-chain and checkpoint verifier for one journal file. */
struct bs_jverify;

/**
 * bs_jverify_new() - a verifier for one journal, fed line by line. Checkpoint keys are
 * derived from the header exactly as the simulator derives node keys in virtual mode:
 * bs_key_derive(alg, seed as 8 big-endian bytes, owner, epoch, 0) where owner and epoch are
 * the parts of the header's key id around its last '#'.
 * Return: 0; BS_ENOMEM.
 */
int bs_jverify_new(struct bs_jverify **ret);

/** bs_jverify_free() - free; NULL accepted. */
void bs_jverify_free(struct bs_jverify *v);

/**
 * struct bs_jverify_error - where verification failed.
 * @line:   the 1-based line number the failure is attributed to (an edited line, the line
 *          after deleted ones, the first appended line, the last line of a cut file).
 * @reason: English text.
 */
struct bs_jverify_error {
    uint64_t line;
    char reason[256];
};

/**
 * bs_jverify_line() - check the next line (without its '\n'): it parses; line 1 is a
 * header with seq 0 and an all-zero prev; every later line has seq = line - 1, carries the
 * SHA-256 of the line before in "prev", and names the header's node; checkpoints count the
 * records before them, are signed by the header's key id with a valid signature, and the
 * final one is the last line. An altered line is named by looking one line ahead, so a
 * failure may be reported for the line before the one just fed.
 * @parsed: may be NULL; else receives the parsed line on success.
 *
 * Return: 0; BS_EFORMAT (malformed line) or BS_ESIG (chain or signature broken) with @err
 * filled; BS_ESTATE after an earlier failure; BS_ECRYPTO or BS_EKEY when the header's key
 * cannot be derived (@err filled).
 */
int bs_jverify_line(struct bs_jverify *v, const char *line, size_t n, struct bs_jline *parsed,
                    struct bs_jverify_error *err);

/**
 * bs_jverify_end() - the file ended. @torn: its last line had no '\n' (that line must not
 * have been fed). Checks that the file was not cut: it must end with the final checkpoint.
 * Return: 0 when the journal verifies; BS_ESIG or BS_EFORMAT with @err; BS_ESTATE after an
 * earlier failure.
 */
int bs_jverify_end(struct bs_jverify *v, bool torn, struct bs_jverify_error *err);

/** bs_jverify_records() - records (not header or checkpoints) seen so far. */
uint64_t bs_jverify_records(const struct bs_jverify *v);

/** bs_jverify_checkpoints() - checkpoints verified so far. */
uint64_t bs_jverify_checkpoints(const struct bs_jverify *v);

#ifdef __cplusplus
}
#endif
#endif /* BRIDGESIM_JOURNAL_H */
