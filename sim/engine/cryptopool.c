/*
 * The crypto pool; see cryptopool.h.
 *
 * Two singly linked lists under one mutex: submitted jobs (workers take from the head) and
 * finished ones (the loop takes the whole list). A worker signals the loop's uv_async_t only
 * when it makes the finished list non-empty: until the loop has taken the list, the worker
 * that made it non-empty has signalled or is about to, and libuv runs the callback at least
 * once after each uv_async_send(), so every finished job is seen, with one wake-up (one
 * eventfd write) per batch rather than per job.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/cryptopool.h"

struct kpair {
    const struct bs_key *orig;
    struct bs_key *copy;
};

struct bs_cpool_thread {
    struct bs_cpool *pool;
    uv_thread_t tid;
    bool started;
    double cpu_seconds; /* the thread's CPU time, taken when it ends */
    struct kpair *keys; /* sorted by orig */
    size_t nkeys;
};

struct bs_cpool {
    uv_loop_t *loop;
    uv_async_t async;
    uv_mutex_t mu;
    uv_cond_t cv;
    struct bs_cjob *q_head, *q_tail; /* submitted, not yet taken by a worker */
    struct bs_cjob *d_head, *d_tail; /* finished, not yet taken by the loop */
    bool stop;
    size_t pending; /* the loop's count: submitted whose done() has not run */
    void (*after)(void *ctx);
    void *ctx;
    unsigned n;
    struct bs_cpool_thread t[BS_CPOOL_MAX_THREADS];
};

static void append(struct bs_cjob **head, struct bs_cjob **tail, struct bs_cjob *job)
{
    job->next = NULL;
    if (*tail)
        (*tail)->next = job;
    else
        *head = job;
    *tail = job;
}

static void worker(void *arg)
{
    struct bs_cpool_thread *t = arg;
    struct bs_cpool *p = t->pool;
    struct bs_cjob *job;
    bool wake;

    uv_mutex_lock(&p->mu);
    for (;;) {
        while (!p->q_head && !p->stop)
            uv_cond_wait(&p->cv, &p->mu);
        if (p->stop)
            break;
        job = p->q_head;
        p->q_head = job->next;
        if (!p->q_head)
            p->q_tail = NULL;
        uv_mutex_unlock(&p->mu);

        job->work(job, t);

        uv_mutex_lock(&p->mu);
        wake = p->d_head == NULL;
        append(&p->d_head, &p->d_tail, job);
        if (wake) {
            uv_mutex_unlock(&p->mu);
            uv_async_send(&p->async);
            uv_mutex_lock(&p->mu);
        }
    }
    uv_mutex_unlock(&p->mu);
    {
        struct timespec ts;
        if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) == 0)
            t->cpu_seconds = (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
    }
}

static void on_async(uv_async_t *a)
{
    struct bs_cpool *p = a->data;
    struct bs_cjob *list, *job;

    uv_mutex_lock(&p->mu);
    list = p->d_head;
    p->d_head = p->d_tail = NULL;
    uv_mutex_unlock(&p->mu);
    if (!list)
        return;
    while ((job = list) != NULL) {
        list = job->next;
        p->pending--;
        job->done(job, false);
    }
    if (p->after)
        p->after(p->ctx);
}

static int cmp_kpair(const void *a, const void *b)
{
    const struct kpair *x = a, *y = b;
    uintptr_t u = (uintptr_t)x->orig, v = (uintptr_t)y->orig;

    return u < v ? -1 : u > v;
}

static int add_copy(struct bs_cpool_thread *t, const struct bs_key *k)
{
    struct kpair *kp = &t->keys[t->nkeys];
    int rc = bs_key_clone(k, &kp->copy);

    if (rc == 0) {
        kp->orig = k;
        t->nkeys++;
    }
    return rc;
}

/* Every key of @stores and @extra, copied for thread @t, sorted for bs_cpool_key(). */
static int copy_keys(struct bs_cpool_thread *t, const struct bs_keystore *const *stores,
                     size_t nstores, struct bs_key *const *extra, size_t nextra)
{
    size_t total = nextra, w = 0;
    struct bs_key *k;
    int rc = 0;

    for (size_t s = 0; s < nstores; s++)
        for (size_t i = 0; stores[s] && bs_keystore_at(stores[s], i); i++)
            total++;
    t->keys = bs_calloc(total ? total : 1, sizeof(*t->keys));
    if (!t->keys)
        return BS_ENOMEM;
    for (size_t s = 0; s < nstores && rc == 0; s++)
        for (size_t i = 0; rc == 0 && stores[s] && (k = bs_keystore_at(stores[s], i)) != NULL; i++)
            rc = add_copy(t, k);
    for (size_t i = 0; i < nextra && rc == 0; i++)
        if (extra[i])
            rc = add_copy(t, extra[i]);
    if (rc)
        return rc;
    qsort(t->keys, t->nkeys, sizeof(*t->keys), cmp_kpair);
    /* The same key given twice: keep one copy. */
    for (size_t i = 0; i < t->nkeys; i++) {
        if (w > 0 && t->keys[w - 1].orig == t->keys[i].orig) {
            bs_key_free(t->keys[i].copy);
            continue;
        }
        t->keys[w++] = t->keys[i];
    }
    t->nkeys = w;
    return 0;
}

struct bs_key *bs_cpool_key(struct bs_cpool_thread *t, const struct bs_key *k)
{
    struct kpair probe = { .orig = k };
    const struct kpair *kp = bsearch(&probe, t->keys, t->nkeys, sizeof(*t->keys), cmp_kpair);

    return kp ? kp->copy : NULL;
}

static void free_keys(struct bs_cpool_thread *t)
{
    for (size_t i = 0; i < t->nkeys; i++)
        bs_key_free(t->keys[i].copy);
    bs_free(t->keys);
    t->keys = NULL;
    t->nkeys = 0;
}

static void on_closed(uv_handle_t *h)
{
    bs_free(h->data);
}

int bs_cpool_new(uv_loop_t *loop, unsigned threads, const struct bs_keystore *const *stores,
                 size_t nstores, struct bs_key *const *extra, size_t nextra,
                 void (*after)(void *ctx), void *ctx, struct bs_cpool **ret)
{
    struct bs_cpool *p;
    int rc = 0;

    if (!loop || threads == 0 || threads > BS_CPOOL_MAX_THREADS || !ret)
        return BS_EINVAL;
    p = bs_calloc(1, sizeof(*p));
    if (!p)
        return BS_ENOMEM;
    p->loop = loop;
    p->after = after;
    p->ctx = ctx;
    if (uv_mutex_init(&p->mu) != 0) {
        bs_free(p);
        return BS_EIO;
    }
    if (uv_cond_init(&p->cv) != 0) {
        uv_mutex_destroy(&p->mu);
        bs_free(p);
        return BS_EIO;
    }
    if (uv_async_init(loop, &p->async, on_async) != 0) {
        uv_cond_destroy(&p->cv);
        uv_mutex_destroy(&p->mu);
        bs_free(p);
        return BS_EIO;
    }
    p->async.data = p;
    /* Every copy is made here, on the loop's thread, before any worker runs. */
    for (unsigned i = 0; i < threads && rc == 0; i++) {
        p->t[i].pool = p;
        p->n = i + 1;
        rc = copy_keys(&p->t[i], stores, nstores, extra, nextra);
    }
    for (unsigned i = 0; i < threads && rc == 0; i++) {
        if (uv_thread_create(&p->t[i].tid, worker, &p->t[i]) != 0)
            rc = BS_EIO;
        else
            p->t[i].started = true;
    }
    if (rc) {
        bs_cpool_free(p, NULL);
        return rc;
    }
    *ret = p;
    return 0;
}

void bs_cpool_submit(struct bs_cpool *p, struct bs_cjob *job)
{
    uv_mutex_lock(&p->mu);
    append(&p->q_head, &p->q_tail, job);
    uv_cond_signal(&p->cv);
    uv_mutex_unlock(&p->mu);
    p->pending++;
}

size_t bs_cpool_pending(const struct bs_cpool *p)
{
    return p ? p->pending : 0;
}

void bs_cpool_free(struct bs_cpool *p, double *ret_cpu_seconds)
{
    struct bs_cjob *job;

    if (ret_cpu_seconds)
        *ret_cpu_seconds = 0;
    if (!p)
        return;
    uv_mutex_lock(&p->mu);
    p->stop = true;
    uv_cond_broadcast(&p->cv);
    uv_mutex_unlock(&p->mu);
    for (unsigned i = 0; i < p->n; i++)
        if (p->t[i].started) {
            uv_thread_join(&p->t[i].tid);
            if (ret_cpu_seconds)
                *ret_cpu_seconds += p->t[i].cpu_seconds;
        }
    /* The workers are gone: the lists are the loop's alone. */
    while ((job = p->d_head) != NULL) {
        p->d_head = job->next;
        job->done(job, true);
    }
    while ((job = p->q_head) != NULL) {
        p->q_head = job->next;
        job->done(job, true);
    }
    p->pending = 0;
    for (unsigned i = 0; i < p->n; i++)
        free_keys(&p->t[i]);
    uv_cond_destroy(&p->cv);
    uv_mutex_destroy(&p->mu);
    uv_close((uv_handle_t *)&p->async, on_closed);
}

unsigned bs_cpool_default_threads(void)
{
    unsigned n = uv_available_parallelism();

    if (n < 1)
        n = 1;
    return n > BS_CPOOL_MAX_THREADS ? BS_CPOOL_MAX_THREADS : n;
}
