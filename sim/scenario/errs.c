/*
 * The scenario loader's error collector. The loader reports every problem it finds rather
 * than the first, so a user fixes a file in one pass; errors are rendered sorted by file
 * and position because validation visits keys in schema order, not in file order.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sc_internal.h"

struct sc_err {
    struct sc_loc loc;
    size_t file_order; /* index of loc.file in errs->files; SIZE_MAX without a file */
    size_t seq;        /* report order, to keep the sort stable */
    char *msg;
};

void bs__errs_init(struct sc_errs *e)
{
    memset(e, 0, sizeof(*e));
}

void bs__errs_deinit(struct sc_errs *e)
{
    for (size_t i = 0; i < e->n; i++)
        bs_free(e->v[i].msg);
    bs_free(e->v);
    for (size_t i = 0; i < e->nfiles; i++)
        bs_free(e->files[i]);
    bs_free(e->files);
    memset(e, 0, sizeof(*e));
}

const char *bs__errs_file(struct sc_errs *e, const char *label)
{
    char **files, *copy;

    for (size_t i = 0; i < e->nfiles; i++)
        if (strcmp(e->files[i], label) == 0)
            return e->files[i];
    copy = bs_strdup(label);
    if (!copy)
        goto fail;
    files = bs_realloc(e->files, (e->nfiles + 1) * sizeof(*files));
    if (!files)
        goto free_copy;
    e->files = files;
    e->files[e->nfiles++] = copy;
    return copy;

free_copy:
    bs_free(copy);
fail:
    e->nomem = true;
    return NULL;
}

static size_t file_order(const struct sc_errs *e, const char *file)
{
    for (size_t i = 0; file && i < e->nfiles; i++)
        if (e->files[i] == file)
            return i;
    return SIZE_MAX;
}

void bs__errf(struct sc_errs *e, const struct sc_loc *loc, const char *fmt, ...)
{
    struct sc_err *err;
    va_list ap;
    int n;

    e->total++;
    if (e->n >= BS__SC_ERRORS_STORED)
        return;
    if (e->n == e->cap) {
        size_t cap = e->cap ? e->cap * 2 : 16;
        struct sc_err *v = bs_realloc(e->v, cap * sizeof(*v));

        if (!v) {
            e->nomem = true;
            return;
        }
        e->v = v;
        e->cap = cap;
    }
    err = &e->v[e->n];
    memset(err, 0, sizeof(*err));
    if (loc)
        err->loc = *loc;
    err->file_order = file_order(e, err->loc.file);
    err->seq = e->seq++;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        n = 0;
    err->msg = bs_malloc((size_t)n + 1);
    if (!err->msg) {
        e->nomem = true;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(err->msg, (size_t)n + 1, fmt, ap);
    va_end(ap);
    e->n++;
}

static int err_cmp(const void *pa, const void *pb)
{
    const struct sc_err *a = *(const struct sc_err *const *)pa;
    const struct sc_err *b = *(const struct sc_err *const *)pb;

    if (a->file_order != b->file_order)
        return a->file_order < b->file_order ? -1 : 1;
    if (a->loc.line != b->loc.line)
        return a->loc.line < b->loc.line ? -1 : 1;
    if (a->loc.col != b->loc.col)
        return a->loc.col < b->loc.col ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* Append formatted text to @buf, truncating at @cap (always NUL-terminated). */
static void put(char *buf, size_t cap, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void put(char *buf, size_t cap, size_t *len, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (*len >= cap)
        return;
    va_start(ap, fmt);
    n = vsnprintf(buf + *len, cap - *len, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    *len += (size_t)n;
    if (*len >= cap)
        *len = cap - 1;
}

void bs__errs_render(const struct sc_errs *e, char *buf, size_t cap)
{
    const struct sc_err **order;
    size_t len = 0, shown = 0;

    if (!buf || cap == 0)
        return;
    buf[0] = '\0';
    order = bs_malloc((e->n ? e->n : 1) * sizeof(*order));
    if (!order) {
        put(buf, cap, &len, "out of memory while reporting %zu errors", e->total);
        return;
    }
    for (size_t i = 0; i < e->n; i++)
        order[i] = &e->v[i];
    qsort(order, e->n, sizeof(*order), err_cmp);
    for (size_t i = 0; i < e->n && shown < BS__SC_ERRORS_SHOWN; i++, shown++) {
        const struct sc_err *err = order[i];

        if (i)
            put(buf, cap, &len, "\n");
        if (err->loc.file && err->loc.line > 0)
            put(buf, cap, &len, "%s:%d:%d: %s", err->loc.file, err->loc.line,
                err->loc.col > 0 ? err->loc.col : 1, err->msg);
        else if (err->loc.file)
            put(buf, cap, &len, "%s: %s", err->loc.file, err->msg);
        else
            put(buf, cap, &len, "%s", err->msg);
    }
    if (e->total > shown)
        put(buf, cap, &len, "%s... and %zu more error%s", shown ? "\n" : "", e->total - shown,
            e->total - shown == 1 ? "" : "s");
    bs_free(order);
}
