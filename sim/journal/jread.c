/* Reading journals: see jread.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "journal/jread.h"

struct bs_jreader {
    int fd;
    char *buf;
    size_t start, end;
    bool eof, done;
    uint64_t lineno;
    char path[1024];
};

int bs_jreader_open(const char *path, struct bs_jreader **ret, char *err, size_t errlen)
{
    struct bs_jreader *r;
    struct stat st;
    int fd;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return BS_EIO;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s: not a regular file", path);
        close(fd);
        return BS_EIO;
    }
    r = bs_calloc(1, sizeof(*r));
    if (r)
        r->buf = bs_malloc(BS_JREAD_BUF);
    if (!r || !r->buf) {
        if (r)
            bs_free(r);
        close(fd);
        return BS_ENOMEM;
    }
    r->fd = fd;
    snprintf(r->path, sizeof(r->path), "%s", path);
    *ret = r;
    return 0;
}

int bs_jreader_next(struct bs_jreader *r, const char **line, size_t *n, bool *torn)
{
    *torn = false;
    for (;;) {
        char *nl = r->start < r->end ? memchr(r->buf + r->start, '\n', r->end - r->start) : NULL;
        ssize_t k;

        if (nl) {
            size_t len = (size_t)(nl - (r->buf + r->start));
            if (len > BS_JOURNAL_LINE_MAX)
                return BS_ELIMIT;
            *line = r->buf + r->start;
            *n = len;
            r->start += len + 1;
            r->lineno++;
            return 1;
        }
        if (r->end - r->start > BS_JOURNAL_LINE_MAX) {
            r->lineno++;
            return BS_ELIMIT;
        }
        if (r->eof) {
            if (r->start == r->end || r->done)
                return 0;
            /* A last line without '\n': the writer was interrupted mid-line. */
            *line = r->buf + r->start;
            *n = r->end - r->start;
            r->start = r->end;
            r->done = true;
            r->lineno++;
            *torn = true;
            return 1;
        }
        if (r->start > 0) {
            memmove(r->buf, r->buf + r->start, r->end - r->start);
            r->end -= r->start;
            r->start = 0;
        }
        k = read(r->fd, r->buf + r->end, BS_JREAD_BUF - r->end);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return BS_EIO;
        if (k == 0)
            r->eof = true;
        r->end += (size_t)k;
    }
}

uint64_t bs_jreader_lineno(const struct bs_jreader *r)
{
    return r->lineno;
}

const char *bs_jreader_path(const struct bs_jreader *r)
{
    return r->path;
}

void bs_jreader_free(struct bs_jreader *r)
{
    if (!r)
        return;
    close(r->fd);
    bs_free(r->buf);
    bs_free(r);
}

/* ---- run directories ------------------------------------------------------------------- */

const char *bs_jrun_basename(const char *path)
{
    const char *s = strrchr(path, '/');

    return s ? s + 1 : path;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool is_dir(const char *p)
{
    struct stat st;

    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static int add_path(struct bs_jrun *run, const char *dir, const char *name)
{
    size_t len = strlen(dir) + strlen(name) + 2;
    char **np;

    if (run->n >= BS_JREAD_MAX_FILES)
        return BS_ELIMIT;
    np = bs_realloc(run->paths, (run->n + 1) * sizeof(*np));
    if (!np)
        return BS_ENOMEM;
    run->paths = np;
    np[run->n] = bs_malloc(len);
    if (!np[run->n])
        return BS_ENOMEM;
    if (dir[0])
        snprintf(np[run->n], len, "%s/%s", dir, name);
    else
        snprintf(np[run->n], len, "%s", name);
    run->n++;
    return 0;
}

int bs_jrun_open(const char *rundir, struct bs_jrun *run, char *err, size_t errlen)
{
    struct stat st;
    DIR *d;
    struct dirent *e;
    int rc = 0;

    memset(run, 0, sizeof(*run));
    if (strlen(rundir) >= sizeof(run->dir) - 16) {
        snprintf(err, errlen, "%s: path too long", rundir);
        return BS_ELIMIT;
    }
    if (stat(rundir, &st) != 0) {
        snprintf(err, errlen, "%s: %s", rundir, strerror(errno));
        return BS_ENOTFOUND;
    }
    if (S_ISREG(st.st_mode)) {
        snprintf(run->dir, sizeof(run->dir), "%s", rundir);
        return add_path(run, "", rundir);
    }
    snprintf(run->dir, sizeof(run->dir), "%s/journals", rundir);
    if (!is_dir(run->dir))
        snprintf(run->dir, sizeof(run->dir), "%s", rundir);
    d = opendir(run->dir);
    if (!d) {
        snprintf(err, errlen, "%s: %s", run->dir, strerror(errno));
        return BS_ENOTFOUND;
    }
    while (rc == 0 && (e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (e->d_name[0] == '.' || n < 7 || strcmp(e->d_name + n - 6, ".jsonl") != 0)
            continue;
        rc = add_path(run, run->dir, e->d_name);
    }
    closedir(d);
    if (rc) {
        snprintf(err, errlen, "%s: %s", run->dir,
                 rc == BS_ELIMIT ? "more than 4096 journals" : bs_strerror(rc));
        bs_jrun_close(run);
        return rc;
    }
    if (run->n == 0) {
        snprintf(err, errlen, "%s: no journals (expected RUNDIR/journals/*.jsonl)", rundir);
        bs_jrun_close(run);
        return BS_ENOTFOUND;
    }
    qsort(run->paths, run->n, sizeof(*run->paths), cmp_str);
    return 0;
}

void bs_jrun_close(struct bs_jrun *run)
{
    for (size_t i = 0; i < run->n; i++)
        bs_free(run->paths[i]);
    bs_free(run->paths);
    run->paths = NULL;
    run->n = 0;
}

/* ---- merge ------------------------------------------------------------------------------- */

struct mfile {
    struct bs_jreader *r;
    struct bs_jline hdr;
    struct bs_jline cur;
    const char *line;
    size_t n;
    bool live;
};

struct bs_jmerge {
    const struct bs_jrun *run;
    struct mfile *f;
    size_t n;
    size_t *heap; /* file indexes ordered by (cur.t, index) */
    size_t hn;
    size_t last; /* the file whose record was returned last; SIZE_MAX: none */
    size_t torn;
    FILE *warn;
};

static bool before(const struct bs_jmerge *m, size_t a, size_t b)
{
    if (m->f[a].cur.t != m->f[b].cur.t)
        return m->f[a].cur.t < m->f[b].cur.t;
    return a < b;
}

static void sift_down(struct bs_jmerge *m, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, s = i, t;
        if (l < m->hn && before(m, m->heap[l], m->heap[s]))
            s = l;
        if (r < m->hn && before(m, m->heap[r], m->heap[s]))
            s = r;
        if (s == i)
            return;
        t = m->heap[i];
        m->heap[i] = m->heap[s];
        m->heap[s] = t;
        i = s;
    }
}

static void sift_up(struct bs_jmerge *m, size_t i)
{
    while (i > 0) {
        size_t p = (i - 1) / 2, t;
        if (!before(m, m->heap[i], m->heap[p]))
            return;
        t = m->heap[i];
        m->heap[i] = m->heap[p];
        m->heap[p] = t;
        i = p;
    }
}

static int errline(char *err, size_t errlen, const struct bs_jreader *r, int rc, const char *why)
{
    uint64_t line = bs_jreader_lineno(r);

    snprintf(err, errlen, "%s:%llu: %s", bs_jreader_path(r), (unsigned long long)(line ? line : 1),
             why);
    return rc;
}

/* Read file @i's next record into cur. Return: 1, 0 at its end, or an error. */
static int advance(struct bs_jmerge *m, size_t i, char *err, size_t errlen)
{
    struct mfile *f = &m->f[i];
    bool torn;
    char why[200];
    int rc;

    rc = bs_jreader_next(f->r, &f->line, &f->n, &torn);
    if (rc == BS_ELIMIT)
        return errline(err, errlen, f->r, rc, "line longer than 16384 bytes: not a journal line");
    if (rc < 0)
        return errline(err, errlen, f->r, rc, strerror(errno));
    if (rc == 0)
        return 0;
    if (torn) {
        /* Reported, never used: its bytes are not a whole record. */
        m->torn++;
        if (m->warn)
            fprintf(m->warn,
                    "warning: %s:%llu: torn last line (no newline): the writer was cut off; "
                    "ignored\n",
                    bs_jreader_path(f->r), (unsigned long long)bs_jreader_lineno(f->r));
        return 0;
    }
    rc = bs_jline_parse(f->line, f->n, &f->cur, why, sizeof(why));
    if (rc) {
        char msg[260];
        snprintf(msg, sizeof(msg), "malformed record: %s", why);
        return errline(err, errlen, f->r, rc, msg);
    }
    if (!f->cur.has_t)
        return errline(err, errlen, f->r, BS_EFORMAT, "record without \"t_us\"");
    if (f->cur.kind == BS_J_HEADER)
        return errline(err, errlen, f->r, BS_EFORMAT, "a second header inside the journal");
    return 1;
}

int bs_jmerge_open(const struct bs_jrun *run, FILE *warn, struct bs_jmerge **ret, char *err,
                   size_t errlen)
{
    struct bs_jmerge *m;
    int rc = 0;

    m = bs_calloc(1, sizeof(*m));
    if (!m)
        return BS_ENOMEM;
    m->run = run;
    m->warn = warn;
    m->last = SIZE_MAX;
    m->f = bs_calloc(run->n, sizeof(*m->f));
    m->heap = bs_calloc(run->n, sizeof(*m->heap));
    if (!m->f || !m->heap) {
        rc = BS_ENOMEM;
        goto fail;
    }
    m->n = run->n;
    for (size_t i = 0; i < run->n; i++) {
        struct mfile *f = &m->f[i];
        char why[200];
        bool torn;

        rc = bs_jreader_open(run->paths[i], &f->r, err, errlen);
        if (rc)
            goto fail;
        rc = bs_jreader_next(f->r, &f->line, &f->n, &torn);
        if (rc == 0) {
            rc = errline(err, errlen, f->r, BS_EFORMAT, "empty file: not a bridgesim journal");
            goto fail;
        }
        if (rc < 0 || torn) {
            rc = errline(err, errlen, f->r, BS_EFORMAT,
                         "not a bridgesim journal (line 1 is not a header record)");
            goto fail;
        }
        rc = bs_jline_parse(f->line, f->n, &f->hdr, why, sizeof(why));
        if (rc || f->hdr.kind != BS_J_HEADER) {
            char msg[300];
            snprintf(msg, sizeof(msg), "not a bridgesim journal (line 1 is not a header: %s)",
                     rc ? why : "another kind of record");
            rc = errline(err, errlen, f->r, BS_EFORMAT, msg);
            goto fail;
        }
        if (f->hdr.format != BS_JOURNAL_FORMAT) {
            char msg[120];
            snprintf(msg, sizeof(msg), "journal format %u; this bridgesim reads format %d",
                     f->hdr.format, BS_JOURNAL_FORMAT);
            rc = errline(err, errlen, f->r, BS_EFORMAT, msg);
            goto fail;
        }
        f->hdr.hex = NULL; /* points into the read buffer; headers have none anyway */
        rc = advance(m, i, err, errlen);
        if (rc < 0)
            goto fail;
        if (rc == 1) {
            f->live = true;
            m->heap[m->hn++] = i;
            sift_up(m, m->hn - 1);
        }
    }
    *ret = m;
    return 0;
fail:
    bs_jmerge_free(m);
    return rc;
}

int bs_jmerge_next(struct bs_jmerge *m, struct bs_jmerge_item *ret, char *err, size_t errlen)
{
    size_t i;
    int rc;

    if (m->last != SIZE_MAX) {
        /* The record returned last is consumed now: its file moves on. */
        i = m->last;
        m->last = SIZE_MAX;
        rc = advance(m, i, err, errlen);
        if (rc < 0)
            return rc;
        if (rc == 1) {
            sift_down(m, 0);
        } else {
            m->f[i].live = false;
            m->heap[0] = m->heap[--m->hn];
            if (m->hn)
                sift_down(m, 0);
        }
    }
    if (m->hn == 0)
        return 0;
    i = m->heap[0];
    m->last = i;
    ret->rec = &m->f[i].cur;
    ret->line = m->f[i].line;
    ret->n = m->f[i].n;
    ret->file = i;
    ret->lineno = bs_jreader_lineno(m->f[i].r);
    return 1;
}

const struct bs_jline *bs_jmerge_header(const struct bs_jmerge *m, size_t i)
{
    return i < m->n ? &m->f[i].hdr : NULL;
}

size_t bs_jmerge_torn(const struct bs_jmerge *m)
{
    return m->torn;
}

void bs_jmerge_free(struct bs_jmerge *m)
{
    if (!m)
        return;
    for (size_t i = 0; m->f && i < m->n; i++)
        bs_jreader_free(m->f[i].r);
    bs_free(m->f);
    bs_free(m->heap);
    bs_free(m);
}
