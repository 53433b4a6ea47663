/* Filters, times and terminal handling shared by the log commands (logcmd.h). */
#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <jansson.h>

#include "journal/logcmd.h"

/* Whether @s matches one item of the comma list @list (fnmatch patterns when @glob). */
static bool in_list(const char *list, const char *s, bool glob)
{
    const char *p = list;

    while (*p) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        char item[128];

        if (n > 0 && n < sizeof(item)) {
            memcpy(item, p, n);
            item[n] = '\0';
            if (glob ? fnmatch(item, s, 0) == 0 : strcmp(item, s) == 0)
                return true;
        }
        if (!e)
            break;
        p = e + 1;
    }
    return false;
}

int bs_log_duration(const char *s, bs_time_us *ret)
{
    static const struct {
        const char *unit;
        int64_t us;
    } units[] = { { "us", 1 },         { "ms", 1000 },    { "s", 1000000 },
                  { "min", 60000000 }, { "m", 60000000 }, { "h", 3600000000LL } };
    char *end;
    double v;

    errno = 0;
    v = strtod(s, &end);
    if (errno || end == s || v < 0 || v > 1e12 || s[0] == '-' || s[0] == '+')
        return -1;
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (strcmp(end, units[i].unit) == 0) {
            *ret = (bs_time_us)(v * (double)units[i].us + 0.5);
            return 0;
        }
    }
    return -1;
}

/* Parse a --since/--until value (struct bs_log_filter). */
static int parse_when(const char *s, bs_time_us start, bs_time_us *ret)
{
    bs_time_us d;
    int h, mi, sec, us = 0, scale = 100000;
    const char *p;

    if (s[0] == '+')
        return bs_log_duration(s + 1, &d) == 0 ? (*ret = start + d, 0) : -1;
    if (bs_parse_iso_time(s, ret) == 0)
        return 0;
    /* hh:mm:ss[.f] on the run's first day (UTC). */
    if (strlen(s) < 8 || s[2] != ':' || s[5] != ':')
        return -1;
    for (int i = 0; i < 8; i++)
        if (i != 2 && i != 5 && (s[i] < '0' || s[i] > '9'))
            return -1;
    h = (s[0] - '0') * 10 + s[1] - '0';
    mi = (s[3] - '0') * 10 + s[4] - '0';
    sec = (s[6] - '0') * 10 + s[7] - '0';
    p = s + 8;
    if (*p == '.') {
        p++;
        if (!*p)
            return -1;
        for (int i = 0; *p; i++, p++) {
            if (i >= 6 || *p < '0' || *p > '9')
                return -1;
            us += (*p - '0') * scale;
            scale /= 10;
        }
    } else if (*p) {
        return -1;
    }
    if (h > 23 || mi > 59 || sec > 59)
        return -1;
    {
        int64_t day = start >= 0
                          ? start / (86400 * BS_US_PER_SEC)
                          : -((-start + 86400 * BS_US_PER_SEC - 1) / (86400 * BS_US_PER_SEC));
        *ret =
            day * 86400 * BS_US_PER_SEC + ((int64_t)h * 3600 + mi * 60 + sec) * BS_US_PER_SEC + us;
    }
    return 0;
}

static bool digits(const char *s, size_t n)
{
    if (strlen(s) != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

static bool mti_item_ok(const char *s, size_t n)
{
    bool star = false;

    for (size_t i = 0; i < n; i++) {
        if (s[i] == '*')
            star = true;
        else if (!(s[i] >= '0' && s[i] <= '9') && s[i] != '?')
            return false;
    }
    return star ? n <= 4 : n == 4;
}

static bool rc_item_ok(const char *s, size_t n)
{
    return n == 2 && isalnum((unsigned char)s[0]) && isalnum((unsigned char)s[1]) &&
           !islower((unsigned char)s[0]) && !islower((unsigned char)s[1]);
}

static bool stan_item_ok(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return n == 6;
}

static bool rrn_item_ok(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]))
            return false;
    return n == 12;
}

/*
 * Check every item of the comma list @list with @ok; on the first bad (or empty) item,
 * write "--@opt: 'ITEM' is not ...@what" to @err. Return: 0 or BS_EINVAL.
 */
static int check_list(const char *opt, const char *list, bool (*ok)(const char *, size_t),
                      const char *what, char *err, size_t errlen)
{
    const char *p = list;

    for (;;) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);

        if (!ok(p, n)) {
            snprintf(err, errlen, "--%s: '%.*s' is not %s", opt, (int)(n > 40 ? 40 : n), p, what);
            return BS_EINVAL;
        }
        if (!e)
            return 0;
        p = e + 1;
    }
}

int bs_log_match_init(struct bs_log_match *m, const struct bs_log_filter *f, bs_time_us start,
                      char *err, size_t errlen)
{
    memset(m, 0, sizeof(*m));
    m->f = f;
    if (f->kinds) {
        const char *p = f->kinds;
        while (*p) {
            const char *e = strchr(p, ',');
            size_t n = e ? (size_t)(e - p) : strlen(p);
            enum bs_jkind k;
            if (bs_jkind_parse(p, n, &k) != 0) {
                size_t w = (size_t)snprintf(err, errlen, "--kind: unknown kind '%.*s'; use one of:",
                                            (int)(n > 40 ? 40 : n), p);

                for (unsigned j = 0; j < BS_J_KIND_COUNT && w < errlen; j++)
                    w += (size_t)snprintf(err + w, errlen - w, "%s %s", j ? "," : "",
                                          bs_jkind_name((enum bs_jkind)j));
                return BS_EINVAL;
            }
            m->kinds |= UINT64_C(1) << k;
            if (!e)
                break;
            p = e + 1;
        }
    }
    if (f->mti && check_list("mti", f->mti, mti_item_ok,
                             "an MTI: four digits, ? for any one digit, * for any rest "
                             "(0200, 02?0, 04*)",
                             err, errlen))
        return BS_EINVAL;
    if (f->rc && check_list("rc", f->rc, rc_item_ok,
                            "a response code: two digits or capital letters, such as 00, 05, "
                            "12, 13, 14, 15, 30, 51, 54, 55, 63, 68, 91, 92, 94, 96",
                            err, errlen))
        return BS_EINVAL;
    if (f->stan && check_list("stan", f->stan, stan_item_ok,
                              "a STAN: six digits, 000001 to 999999 (DE 11)", err, errlen))
        return BS_EINVAL;
    if (f->rrn && check_list("rrn", f->rrn, rrn_item_ok, "an RRN: twelve letters or digits (DE 37)",
                             err, errlen))
        return BS_EINVAL;
    if (f->trace) {
        char *end;
        errno = 0;
        m->trace = strtoull(f->trace, &end, 10);
        if (errno || *end || !*f->trace || f->trace[0] == '-') {
            snprintf(err, errlen, "--trace: expected a trace id (a whole number), not '%s'",
                     f->trace);
            return BS_EINVAL;
        }
        m->has_trace = true;
    }
    if (f->pan_last4 && !digits(f->pan_last4, 4)) {
        snprintf(err, errlen, "--pan-last4: expected four digits");
        return BS_EINVAL;
    }
    if (f->since) {
        if (parse_when(f->since, start, &m->since) != 0) {
            snprintf(err, errlen,
                     "--since: '%s' is not a time (2026-03-02T09:00:05Z, 09:00:05, +5s)", f->since);
            return BS_EINVAL;
        }
        m->has_since = true;
    }
    if (f->until) {
        if (parse_when(f->until, start, &m->until) != 0) {
            snprintf(err, errlen,
                     "--until: '%s' is not a time (2026-03-02T09:00:05Z, 09:00:05, +5s)", f->until);
            return BS_EINVAL;
        }
        m->has_until = true;
    }
    return 0;
}

bool bs_log_match(const struct bs_log_match *m, const struct bs_jline *r)
{
    const struct bs_log_filter *f = m->f;

    if (m->kinds) {
        if (!(m->kinds & (UINT64_C(1) << r->kind)))
            return false;
    } else if (r->kind == BS_J_HEADER || r->kind == BS_J_CHECKPOINT) {
        return false;
    }
    if (m->has_since && r->t < m->since)
        return false;
    if (m->has_until && r->t > m->until)
        return false;
    if (m->has_trace && r->trace != m->trace)
        return false;
    if (f->node && !in_list(f->node, r->node, true) &&
        !(r->from[0] && in_list(f->node, r->from, true)))
        return false;
    if (f->mti && !in_list(f->mti, r->mti, true))
        return false;
    if (f->rc && !in_list(f->rc, r->rc, false))
        return false;
    if (f->stan && !in_list(f->stan, r->stan, false))
        return false;
    if (f->rrn && !in_list(f->rrn, r->rrn, false))
        return false;
    if (f->pan_last4) {
        size_t n = strlen(r->pan);
        if (n < 4 || strcmp(r->pan + n - 4, f->pan_last4) != 0)
            return false;
    }
    return true;
}

int bs_log_width(const struct bs_log_out *o, FILE *out)
{
    struct winsize ws;
    int fd = fileno(out);

    if (o && o->width > 0)
        return o->width;
    if (fd >= 0 && isatty(fd) && ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 20)
        return ws.ws_col;
    return 100;
}

bool bs_log_color(const struct bs_log_out *o, FILE *out)
{
    int fd = fileno(out);
    const char *nc = getenv("NO_COLOR");

    if (o && o->color >= 0)
        return o->color > 0;
    return fd >= 0 && isatty(fd) && !(nc && *nc);
}

void bs_log_clock(bs_time_us t, char buf[16])
{
    int h, mi, s, us;

    bs_civil_from_us(t, 0, NULL, NULL, NULL, &h, &mi, &s, &us);
    snprintf(buf, 16, "%02d:%02d:%02d.%06d", h, mi, s, us);
}

const char *bs_log_currency(const char *numeric)
{
    static const char *const map[][2] = { { "643", "RUB" }, { "364", "IRR" }, { "840", "USD" },
                                          { "978", "EUR" }, { "156", "CNY" }, { "784", "AED" },
                                          { "949", "TRY" } };

    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (strcmp(map[i][0], numeric) == 0)
            return map[i][1];
    return numeric;
}

void bs_log_currencies_load(const char *dir, struct bs_log_currencies *ret)
{
    char path[1100];
    json_t *m, *e;
    size_t i;

    memset(ret, 0, sizeof(*ret));
    snprintf(path, sizeof(path), "%s/manifest.json", dir);
    m = json_load_file(path, 0, NULL);
    json_array_foreach(json_object_get(m, "currencies"), i, e)
    {
        const char *num = json_string_value(json_object_get(e, "numeric"));
        const char *code = json_string_value(json_object_get(e, "code"));
        json_t *x = json_object_get(e, "exponent");

        if (ret->n >= sizeof(ret->c) / sizeof(ret->c[0]) || !num || !code || strlen(num) != 3 ||
            strlen(code) != 3 || !json_is_integer(x) || json_integer_value(x) < 0 ||
            json_integer_value(x) > 18)
            continue;
        memcpy(ret->c[ret->n].numeric, num, 4);
        memcpy(ret->c[ret->n].code, code, 4);
        ret->c[ret->n].exponent = (int)json_integer_value(x);
        ret->n++;
    }
    json_decref(m);
}

/* @v in decimal with a ',' every three digits. */
static void grouped(uint64_t v, char *buf, size_t cap)
{
    char d[24];
    size_t n = (size_t)snprintf(d, sizeof(d), "%llu", (unsigned long long)v), k = 0;

    for (size_t i = 0; i < n && k + 2 < cap; i++) {
        if (i && (n - i) % 3 == 0)
            buf[k++] = ',';
        buf[k++] = d[i];
    }
    buf[k] = '\0';
}

void bs_log_money(const struct bs_log_currencies *cur, const char *numeric, int64_t minor,
                  char *buf, size_t cap)
{
    uint64_t mag = minor < 0 ? (uint64_t)0 - (uint64_t)minor : (uint64_t)minor, scale = 1;
    char major[40];

    for (size_t i = 0; cur && i < cur->n; i++) {
        if (strcmp(cur->c[i].numeric, numeric) != 0 && strcmp(cur->c[i].code, numeric) != 0)
            continue;
        for (int e = 0; e < cur->c[i].exponent; e++)
            scale *= 10;
        grouped(mag / scale, major, sizeof(major));
        if (cur->c[i].exponent)
            snprintf(buf, cap, "%s %s%s.%0*llu", cur->c[i].code, minor < 0 ? "-" : "", major,
                     cur->c[i].exponent, (unsigned long long)(mag % scale));
        else
            snprintf(buf, cap, "%s %s%s", cur->c[i].code, minor < 0 ? "-" : "", major);
        return;
    }
    snprintf(buf, cap, "%lld minor units of %s", (long long)minor, bs_log_currency(numeric));
}
