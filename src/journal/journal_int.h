/*
 * bridgesim journal — private helpers shared by the files of src/journal/: a bounded
 * output cursor and the record body formatter the writer chains.
 */
#ifndef BRIDGESIM_JOURNAL_INT_H
#define BRIDGESIM_JOURNAL_INT_H

#include <string.h>

#include <bridgesim/journal.h>

/* A bounded output cursor: writes stop at the end, and overflow is remembered. */
struct bs__jout {
    char *p, *end;
    bool overflow;
};

static inline void bs__jput(struct bs__jout *o, const char *s, size_t n)
{
    if ((size_t)(o->end - o->p) < n) {
        o->overflow = true;
        return;
    }
    memcpy(o->p, s, n);
    o->p += n;
}

static inline void bs__jlit(struct bs__jout *o, const char *s)
{
    bs__jput(o, s, strlen(s));
}

/* A JSON string: quotes, escapes for '"', '\\' and control and non-ASCII bytes. */
void bs__jstr(struct bs__jout *o, const char *s, size_t n);
/* An unsigned decimal number. */
void bs__ju64(struct bs__jout *o, uint64_t v);
/* ',"key":' */
void bs__jkey(struct bs__jout *o, const char *k);
/* ',"key":' for a literal key, its length known at compile time. */
#define BS__JKEY(o, k) bs__jput((o), ",\"" k "\":", sizeof(",\"" k "\":") - 1)
/* @n bytes as lower-case hex, no quotes. */
void bs__jhex(struct bs__jout *o, const uint8_t *b, size_t n);

/*
 * bs__journal_body() - the record @r with sequence number @seq as a JSON object without
 * its closing brace: '{"seq":...' up to the last field. @from: when not NULL, written as
 * "from" (who did what the record says, when the journal belongs to someone else: the
 * engine's links journal). Return: bytes written; BS_ENOSPC.
 */
int bs__journal_body(const struct bs_jrec *r, uint64_t seq, const char *from, char *buf,
                     size_t cap);

/* SHA-256 with the digest fetched once (hash.c). */
struct bs__jhash;
int bs__jhash_new(struct bs__jhash **ret);
void bs__jhash_free(struct bs__jhash *h);
int bs__jhash(struct bs__jhash *h, const void *data, size_t n, uint8_t out[32]);

#endif
