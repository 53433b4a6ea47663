/*
 * Private interface of the scenario loader (sim/scenario/): the YAML tree it validates, the
 * error collector, and the exact unit parsers. Nothing outside sim/scenario/ includes this.
 *
 * Why an own tree instead of libfyaml's document: libfyaml 0.7 has no public start mark for
 * mapping and sequence nodes, and a scenario is assembled from several sources (the file,
 * the files it extends, --set overrides) whose nodes must keep their own file:line:column.
 * The tree is built from libfyaml's event stream, which does carry marks for every node.
 */
#ifndef BRIDGESIM_SC_INTERNAL_H
#define BRIDGESIM_SC_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <bridgesim/common.h>

/* Input bounds: everything a scenario file can make the loader allocate is bounded. */
#define BS__SC_FILE_MAX      (4u * 1024u * 1024u) /* bytes per file */
#define BS__SC_NODES_MAX     200000u              /* tree nodes per load, aliases expanded */
#define BS__SC_DEPTH_MAX     64u                  /* nesting of mappings and sequences */
#define BS__SC_EXTENDS_MAX   8u                   /* length of an `extends:` chain */
#define BS__SC_ERRORS_SHOWN  20u                  /* error lines written to errbuf */
#define BS__SC_ERRORS_STORED 256u                 /* errors kept for sorting */

/** A position in a source: @file is an interned label owned by the error collector. */
struct sc_loc {
    const char *file;
    int line, col; /* 1-based; 0 when unknown */
};

/**
 * struct sc_errs - collects "file:line:column: message" errors, sorted by source position
 * when rendered. @nomem is set when an allocation failed, so the caller returns BS_ENOMEM.
 */
struct sc_errs {
    struct sc_err *v;
    size_t n, cap;
    size_t total; /* errors reported, including those not stored */
    size_t seq;
    char **files; /* interned file labels, in order of first use */
    size_t nfiles;
    bool nomem;
};

/** bs__errs_init() / bs__errs_deinit() - lifecycle of a caller-storage collector. */
void bs__errs_init(struct sc_errs *e);
void bs__errs_deinit(struct sc_errs *e);

/**
 * bs__errs_file() - intern a file label; the pointer lives as long as @e.
 * Return: the label, or NULL (and @e->nomem) when out of memory.
 */
const char *bs__errs_file(struct sc_errs *e, const char *label);

/** bs__errf() - record one error at @loc (NULL: no position). */
void bs__errf(struct sc_errs *e, const struct sc_loc *loc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/**
 * bs__errs_render() - write the first BS__SC_ERRORS_SHOWN errors, sorted by file (in order
 * of first use), line and column, one per line without a trailing newline, and a final
 * "... and N more errors" line when some were left out. Truncates to fit @cap.
 */
void bs__errs_render(const struct sc_errs *e, char *buf, size_t cap);

/* ---- the tree ------------------------------------------------------------------------ */

enum yn_type {
    YN_SCALAR = 0,
    YN_MAP,
    YN_SEQ,
};

/**
 * struct yn - one YAML node. Scalars keep their text exactly as written; @plain tells an
 * unquoted scalar (which may be a number) from a quoted one (always a string), and @null is
 * set for a plain empty, "~" or "null" scalar. Mappings keep keys in file order in @keys
 * (scalar nodes), values in @items; sequences only use @items.
 */
struct yn {
    enum yn_type type;
    bool plain, null;
    char *str; /* scalars: NUL-terminated text */
    size_t len;
    struct sc_loc loc;
    struct yn **keys, **items;
    size_t n, cap;
};

/**
 * struct sc_budget - node and nesting bounds shared by every tree of one load.
 */
struct sc_budget {
    size_t nodes;
};

/**
 * bs__yaml_parse() - parse YAML text into a tree.
 * @text, @len: the input (need not be NUL-terminated).
 * @file:  interned label for locations.
 * @line0, @col0: added to every position (for --set values embedded in an argument).
 * @ret:   receives the root, or NULL for an empty document.
 *
 * Return: 0; BS_EFORMAT after recording errors in @e; BS_ENOMEM.
 */
int bs__yaml_parse(const char *text, size_t len, const char *file, int line0, int col0,
                   struct sc_budget *b, struct sc_errs *e, struct yn **ret);

/** bs__yn_free() - free a tree; NULL accepted. */
void bs__yn_free(struct yn *n);

/** bs__yn_get() - the value of key @key in mapping @map, or NULL; @ret_idx its index. */
struct yn *bs__yn_get(const struct yn *map, const char *key, size_t *ret_idx);

/** bs__yn_new_scalar() - a plain scalar node. Return: the node or NULL (out of memory). */
struct yn *bs__yn_new_scalar(const char *text, const struct sc_loc *loc);

/**
 * bs__yn_map_put() - set @key to @val in @map, taking ownership of @val (also on
 * failure) and replacing (freeing) any previous value. Return: 0 or BS_ENOMEM.
 */
int bs__yn_map_put(struct yn *map, const char *key, const struct sc_loc *keyloc, struct yn *val);

/** bs__yn_map_remove() - remove entry @idx of @map and free its key and value. */
void bs__yn_map_remove(struct yn *map, size_t idx);

/**
 * bs__yn_merge() - deep-merge @over into @base: mappings merge key by key, anything else
 * (sequences included) replaces, and so does a mapping whose `process` or `dist` differs
 * from the base's (another kind of arrival process or distribution, whose parameters
 * are other keys). Takes ownership of @over.
 * Return: the merged tree (which is @base, or @over when @base is not a mapping); NULL
 * on allocation failure, when both inputs have been freed.
 */
struct yn *bs__yn_merge(struct yn *base, struct yn *over);

/* ---- units ------------------------------------------------------------------------- */

/**
 * bs__parse_uint() - a decimal integer without sign, exponent or fraction.
 * Return: 0; BS_EFORMAT; BS_ERANGE when larger than @max.
 */
int bs__parse_uint(const char *s, uint64_t max, uint64_t *ret);

/**
 * bs__parse_number() - a finite decimal number: [-+]digits[.digits][e[-+]digits], no hex,
 * inf or nan. Return: 0; BS_EFORMAT; BS_ERANGE when not finite.
 */
int bs__parse_number(const char *s, double *ret);

/**
 * bs__parse_duration() - "35ms", "1.5s", "5min", "2h", "250us"; when @bare_ms a plain
 * number ("35", "1.5") means milliseconds. Exact: the result is *@ret_q / 10^*@ret_scale
 * microseconds with integer arithmetic, so "1.5s" is exactly 1500000.
 * Return: 0; BS_EFORMAT (not a duration); BS_EINVAL (a number without a unit and !@bare_ms);
 * BS_ERANGE (negative); BS_EOVERFLOW (too large).
 */
int bs__parse_duration(const char *s, bool bare_ms, int64_t *ret_q, unsigned *ret_scale);

/**
 * bs__parse_decimal() - an exact non-negative decimal "4510.25" → 451025 and scale 2, at
 * most @max_frac fractional digits. Return: 0; BS_EFORMAT; BS_ERANGE (too many fractional
 * digits); BS_EOVERFLOW (does not fit int64).
 */
int bs__parse_decimal(const char *s, unsigned max_frac, int64_t *ret_num, uint8_t *ret_scale);

/**
 * bs__parse_utc() - ISO 8601 UTC "2026-03-02T09:00:00Z", optional fraction of up to 6
 * digits, "Z" or "+00:00"; years 1970..9999. Return: 0 and µs since the epoch; BS_EFORMAT.
 */
int bs__parse_utc(const char *s, bs_time_us *ret);

/** bs__format_duration() - "15s", "250ms", "17us": the largest exact unit. */
void bs__format_duration(bs_time_us us, char *buf, size_t cap);

/** bs__edit_distance() - optimal string alignment distance, case-insensitive. */
size_t bs__edit_distance(const char *a, const char *b);

/**
 * bs__suggest() - the candidate nearest to @word by edit distance, when near enough to be a
 * plausible misspelling (distance ≤ 1 for words up to 4 characters, ≤ 2 up to 8, else ≤ 3).
 * Return: a candidate or NULL.
 */
const char *bs__suggest(const char *word, const char *const *cands, size_t n);

/**
 * bs__empirical_parse() - the samples of an empirical distribution's CSV file: the header
 * (the first line neither empty nor starting with '#') names the columns; the column used
 * is @column, or the only one when @column is NULL. Its name ends with its unit, _us, _ms
 * or _s; every later non-empty, non-comment line has as many comma-separated fields as the
 * header and a decimal number ≥ 0 in that column.
 * @ret:   receives the samples in µs, ascending (heap; the caller bs_free()s it), @ret_n ≥ 1.
 * @err:   on failure, "line N: what is wrong" (line numbers 1-based, of the CSV file).
 * Return: 0; BS_EFORMAT; BS_ELIMIT (more than BS_SC_MAX_SAMPLES samples); BS_ENOMEM.
 */
int bs__empirical_parse(const char *text, size_t len, const char *column, double **ret,
                        size_t *ret_n, char *err, size_t errlen);

/** An ISO 4217 entry. */
struct sc_iso_currency {
    const char *code;
    uint16_t numeric;
    uint8_t exponent;
};

/** bs__currency_find() - the ISO 4217 entry for @code, or NULL. */
const struct sc_iso_currency *bs__currency_find(const char *code);

/** bs__currency_codes() - every known code, for suggestions; *@ret_n receives the count. */
const char *const *bs__currency_codes(size_t *ret_n);

/**
 * bs__sc_dialect_resolve() - the dialect a scenario names, as a run opens it: @spec is a
 * name (no '/' and no ".yaml": kept as is, looked up in the dialect directory later) or a
 * path; a relative path is taken from the directory of @from (the file holding the key;
 * a --set label "(--set ...)" counts as @scenario). Return: 0, or BS_ELIMIT when the
 * result does not fit @cap.
 */
int bs__sc_dialect_resolve(const char *spec, const char *from, const char *scenario, char *out,
                           size_t cap);

#endif /* BRIDGESIM_SC_INTERNAL_H */
