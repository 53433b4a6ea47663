/*
 * Journal files: a struct bs_jwriter (libbridgesim formats, chains and signs) in front of
 * a file descriptor (the simulator does the I/O, GUIDE §2). One per node, plus links.jsonl.
 */
#ifndef BS_SIM_JFILE_H
#define BS_SIM_JFILE_H

#include <bridgesim/crypto.h>
#include <bridgesim/journal.h>

/**
 * struct bs_jfile_cfg - what to open.
 * @path:  the file; created or truncated.
 * @hdr:   the header (see struct bs_jheader); @hdr.node is also the key owner when a key
 *         is derived here.
 * @key:   the checkpoint key, borrowed (the node's signing key), or NULL to derive one
 *         from @hdr.seed: bs_key_derive(@alg, seed as 8 big-endian bytes, @hdr.node, 0, 0),
 *         with HMAC-SHA256 when @alg is BS_SIG_NONE (docs/journal.md §4).
 * @alg:   the algorithm of a derived key.
 * @sync, @checkpoint_every: as in struct bs_jwriter_cfg.
 */
struct bs_jfile_cfg {
    const char *path;
    struct bs_jheader hdr;
    struct bs_key *key;
    enum bs_sig_alg alg;
    enum bs_jsync sync;
    uint32_t checkpoint_every;
};

struct bs_jfile;

/**
 * bs_jfile_open() - create the file and a writer whose header is buffered.
 * @err, @errlen: on failure, "PATH: reason".
 * Return: 0; BS_EIO (the file); BS_EKEY/BS_ECRYPTO (key derivation); BS_EINVAL; BS_ENOMEM.
 */
int bs_jfile_open(const struct bs_jfile_cfg *cfg, struct bs_jfile **ret, char *err, size_t errlen);

/** bs_jfile_append() - bs_jwriter_append() on the file's writer. */
int bs_jfile_append(struct bs_jfile *jf, const struct bs_jrec *r);

/** bs_jfile_flush() - hand buffered lines to the file (no fsync). Return: 0 or BS_EIO. */
int bs_jfile_flush(struct bs_jfile *jf);

/**
 * bs_jfile_close() - the final checkpoint at @t (@wall in realtime mode, else 0), flush,
 * fsync unless the policy is none, close the file and free everything; NULL accepted.
 * Return: 0; BS_EIO; errors of bs_jwriter_close().
 */
int bs_jfile_close(struct bs_jfile *jf, bs_time_us t, bs_time_us wall);

/** bs_jfile_records() - records appended so far (header and checkpoints not counted), as
 * `log verify` counts them; 0 for NULL. */
uint64_t bs_jfile_records(const struct bs_jfile *jf);

/** bs_jfile_sync_env() - the fsync policy from $BRIDGESIM_JOURNAL_FSYNC (default
 * "checkpoint"). Return: 0; BS_EINVAL for another value. */
int bs_jfile_sync_env(enum bs_jsync *ret);

/** bs_jfile_checkpoint_env() - records between checkpoints from
 * $BRIDGESIM_JOURNAL_CHECKPOINT (default 1000). Return: 0; BS_EINVAL (not 1..10^7). */
int bs_jfile_checkpoint_env(uint32_t *ret);

/**
 * bs_jfile_sha256() - SHA-256 of a whole file (the scenario hash of the header), read in
 * chunks. Return: 0; BS_EIO; BS_ECRYPTO.
 */
int bs_jfile_sha256(const char *path, uint8_t out[32]);

/** bs_jfile_wall_now() - the wall clock, µs since the Unix epoch (CLOCK_REALTIME). */
bs_time_us bs_jfile_wall_now(void);

#endif
