/*
 * The dialects a scenario names (networks.NET.dialect): resolving relative paths the way
 * `extends` does, and checking that each one exists and parses, so `bridgesim validate`
 * catches what a run would trip over (issue #6: an undefined dialect is an error).
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <bridgesim/iso8583.h>

#include "sc_internal.h"
#include "scenario/scenario.h"

/* Largest dialect file read (the dialect parser refuses more than 1 MiB anyway). */
#define DIALECT_FILE_MAX (4u * 1024u * 1024u)

static bool is_path(const char *spec)
{
    size_t n = strlen(spec);

    return strchr(spec, '/') || (n >= 5 && strcmp(spec + n - 5, ".yaml") == 0);
}

int bs__sc_dialect_resolve(const char *spec, const char *from, const char *scenario, char *out,
                           size_t cap)
{
    const char *base = from && from[0] != '(' ? from : scenario;
    const char *slash = base ? strrchr(base, '/') : NULL;
    int k;

    if (!is_path(spec) || spec[0] == '/' || !slash)
        k = snprintf(out, cap, "%s", spec);
    else
        k = snprintf(out, cap, "%.*s/%s", (int)(slash - base), base, spec);
    return k < 0 || (size_t)k >= cap ? BS_ELIMIT : 0;
}

/* Append a formatted line to @buf (a '\n' before it unless it is the first). */
__attribute__((format(printf, 3, 4))) static void addf(char *buf, size_t cap, const char *fmt, ...)
{
    size_t used;
    va_list ap;

    if (!buf || !cap)
        return;
    used = strlen(buf);
    if (used && used + 1 < cap) {
        buf[used++] = '\n';
        buf[used] = '\0';
    }
    if (used + 1 >= cap)
        return;
    va_start(ap, fmt);
    vsnprintf(buf + used, cap - used, fmt, ap);
    va_end(ap);
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(a, b);
}

/* The NAME of every NAME.yaml in @dir, comma-separated, into @out. */
static void list_names(const char *dir, char *out, size_t cap)
{
    char names[64][64];
    size_t n = 0, k = 0;
    struct dirent *e;
    DIR *d = opendir(dir);

    out[0] = '\0';
    while (d && (e = readdir(d)) && n < 64) {
        size_t len = strlen(e->d_name);

        if (len > 5 && len - 5 < sizeof(names[0]) && strcmp(e->d_name + len - 5, ".yaml") == 0 &&
            e->d_name[0] != '.') {
            memcpy(names[n], e->d_name, len - 5);
            names[n++][len - 5] = '\0';
        }
    }
    if (d)
        closedir(d);
    qsort(names, n, sizeof(names[0]), cmp_name);
    for (size_t i = 0; i < n && k + 1 < cap; i++)
        k += (size_t)snprintf(out + k, cap - k, "%s%s", i ? ", " : "", names[i]);
}

/* Read @path whole. Return: 0; an errno value. */
static int slurp(const char *path, char **ret, size_t *ret_len)
{
    struct stat st;
    FILE *f = fopen(path, "rb");
    char *buf;
    size_t n;

    if (!f)
        return errno;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) ||
        (uintmax_t)st.st_size > DIALECT_FILE_MAX) {
        int why = S_ISDIR(st.st_mode) ? EISDIR : EFBIG;

        fclose(f);
        return why;
    }
    buf = bs_malloc((size_t)st.st_size + 1);
    if (!buf) {
        fclose(f);
        return ENOMEM;
    }
    n = fread(buf, 1, (size_t)st.st_size, f);
    fclose(f);
    buf[n] = '\0';
    *ret = buf;
    *ret_len = n;
    return 0;
}

int bs_scenario_check_dialects(const struct bs_scenario *sc, const char *dialect_dir, char *errbuf,
                               size_t errlen)
{
    char path[1100], perr[8192], names[600];
    int rc = 0;

    if (errbuf && errlen)
        errbuf[0] = '\0';
    for (size_t i = 0; i < sc->nnetworks; i++) {
        const struct bs_sc_network *net = &sc->networks[i];
        struct bs_iso_dialect *d = NULL;
        char *text = NULL;
        size_t len = 0;
        int why, r;

        if (is_path(net->dialect))
            snprintf(path, sizeof(path), "%s", net->dialect);
        else
            snprintf(path, sizeof(path), "%s/%s.yaml", dialect_dir, net->dialect);
        why = slurp(path, &text, &len);
        if (why == ENOMEM)
            return BS_ENOMEM;
        if (why && is_path(net->dialect)) {
            rc = BS_EFORMAT;
            addf(errbuf, errlen,
                 "%s: networks.%s.dialect: cannot read dialect file %s: %s; give a path "
                 "relative to this file's directory, or a dialect name",
                 net->dialect_at, net->name, path, strerror(why));
            continue;
        }
        if (why) {
            rc = BS_EFORMAT;
            list_names(dialect_dir, names, sizeof(names));
            addf(errbuf, errlen,
                 "%s: networks.%s.dialect: no dialect '%s' (no %s); use one of: %s, or a path "
                 "to a dialect file",
                 net->dialect_at, net->name, net->dialect, path, names[0] ? names : "(none)");
            continue;
        }
        perr[0] = '\0';
        r = bs_iso_dialect_parse(text, len, path, &d, perr, sizeof(perr));
        bs_free(text);
        bs_iso_dialect_free(d);
        if (r == BS_ENOMEM)
            return BS_ENOMEM;
        if (r) {
            rc = BS_EFORMAT;
            addf(errbuf, errlen, "%s: networks.%s.dialect: dialect %s has errors:\n%s",
                 net->dialect_at, net->name, path, perr);
        }
    }
    return rc;
}
