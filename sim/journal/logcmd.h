/*
 * bridgesim log: show, trace, stats, verify and export over the journals of a run
 * directory (docs/journal.md §7). Each function streams the journals and returns the
 * process exit code: 0 success, 1 a check failed (verify), 2 usage or input error.
 * Results go to @out, diagnostics to @errf.
 */
#ifndef BS_SIM_LOGCMD_H
#define BS_SIM_LOGCMD_H

#include <stdio.h>

#include <bridgesim/journal.h>

/**
 * struct bs_log_filter - which records to show. NULL or unset members match everything.
 * Lists are comma-separated; @node and @mti items may use shell wildcards (fnmatch(3)).
 * @kinds:  comma list of kind names ("msg_in,timeout"); headers and checkpoints are shown
 *          only when asked for by name.
 * @since, @until: "YYYY-MM-DDThh:mm:ss[.f]Z", "hh:mm:ss[.f]" on the run's first day, or
 *          "+DURATION" after the run's start ("+90s", "+2min", "+1500ms"); inclusive.
 * @trace:  a trace id (decimal) or NULL.
 * @pan_last4: four digits, matched against the masked PAN's last four.
 * @limit:  at most this many records (0: no limit).
 */
struct bs_log_filter {
    const char *node, *kinds, *mti, *rc, *stan, *rrn, *trace, *pan_last4, *since, *until;
    unsigned long long limit;
};

/** Output options shared by the commands. @color: -1 auto (a TTY without NO_COLOR), 0, 1.
 * @width: 0 means the terminal's width (TIOCGWINSZ), 100 when @out is not a terminal. */
struct bs_log_out {
    int color;
    int width;
    bool json;
};

int bs_log_show(const char *rundir, const struct bs_log_filter *f, const struct bs_log_out *o,
                FILE *out, FILE *errf);
int bs_log_trace(const char *rundir, const char *id, const struct bs_log_out *o, FILE *out,
                 FILE *errf);
int bs_log_stats(const char *rundir, const struct bs_log_out *o, FILE *out, FILE *errf);
int bs_log_verify(const char *rundir, const struct bs_log_out *o, FILE *out, FILE *errf);

/** Export formats. */
enum bs_log_format { BS_LOG_CSV, BS_LOG_SQLITE };

/**
 * bs_log_export() - write every record (headers and checkpoints aside) to @path as CSV
 * (RFC 4180, a header row) or as an SQLite database (schema: docs/journal.md §8). The file
 * is written next to @path under a temporary name and renamed when complete. @path "-"
 * is stdout: the export is built in a temporary file under $TMPDIR (or /tmp) and copied
 * to stdout when complete, so a failure writes nothing there.
 */
int bs_log_export(const char *rundir, enum bs_log_format fmt, const char *path, FILE *errf);

/* ---- shared by the commands (log_common.c) --------------------------------------------- */

/** A compiled filter. */
struct bs_log_match {
    const struct bs_log_filter *f;
    uint64_t kinds; /* bit per enum bs_jkind; 0: all but header and checkpoint */
    uint64_t trace;
    bool has_trace, has_since, has_until;
    bs_time_us since, until;
};

/**
 * bs_log_match_init() - check and compile @f; @start is the run's start (µs) for relative
 * times. @err receives "--option: what is wrong". Return: 0; BS_EINVAL.
 */
int bs_log_match_init(struct bs_log_match *m, const struct bs_log_filter *f, bs_time_us start,
                      char *err, size_t errlen);

/** bs_log_match() - whether record @r (of a file whose node is @node) passes. */
bool bs_log_match(const struct bs_log_match *m, const struct bs_jline *r);

/** bs_log_width() - the output width for @o and @out. */
int bs_log_width(const struct bs_log_out *o, FILE *out);

/** bs_log_color() - whether to write ANSI colours to @out. */
bool bs_log_color(const struct bs_log_out *o, FILE *out);

/** bs_log_clock() - "hh:mm:ss.uuuuuu" (UTC) of @t into @buf (16 bytes). */
void bs_log_clock(bs_time_us t, char buf[16]);

/** bs_log_duration() - parse "90s", "1500ms", "2min", "1h", "250us" into µs. 0 or -1. */
int bs_log_duration(const char *s, bs_time_us *ret);

/** bs_log_currency() - "RUB" for "643" and a few more; the code itself otherwise. */
const char *bs_log_currency(const char *numeric);

/** The run's currencies (journals/manifest.json "currencies"): ISO 4217 numeric code,
 * alphabetic code and the exponent the scenario used. */
struct bs_log_currencies {
    size_t n;
    struct {
        char numeric[4], code[4];
        int exponent;
    } c[8];
};

/**
 * bs_log_currencies_load() - read the currencies of the run whose journals are in @dir
 * (struct bs_jrun's dir). A run without a manifest has none: *@ret is then empty.
 */
void bs_log_currencies_load(const char *dir, struct bs_log_currencies *ret);

/**
 * bs_log_money() - @minor minor units of currency @numeric as "RUB 4,100.00" (major units,
 * thousands separated, the run's exponent), or "410000 minor units of RUB" when @cur does
 * not know the currency's exponent.
 */
void bs_log_money(const struct bs_log_currencies *cur, const char *numeric, int64_t minor,
                  char *buf, size_t cap);

#endif
