/* Helpers of the network unit tests; see net_test.h. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "net_test.h"

/* ---- allocator ------------------------------------------------------------------------ */

static int calloc_fail = -1;

static void *t_malloc(size_t n)
{
    return test_malloc(n);
}

static void *t_calloc(size_t nmemb, size_t n)
{
    if (calloc_fail >= 0 && calloc_fail-- == 0) {
        calloc_fail = -1;
        return NULL;
    }
    return test_calloc(nmemb, n);
}

static void *t_realloc(void *p, size_t n)
{
    return test_realloc(p, n);
}

static void t_free(void *p)
{
    test_free(p);
}

void t_use_test_allocator(void)
{
    static const struct bs_allocator a = { t_malloc, t_calloc, t_realloc, t_free };

    bs_set_allocator(&a);
}

void t_fail_calloc(int nth)
{
    calloc_fail = nth;
}

/* ---- dialects ------------------------------------------------------------------------- */

struct bs_iso_dialect *t_load_dialect(const char *name)
{
    const char *root = getenv("BS_SOURCE_ROOT");
    char path[PATH_MAX], err[512];
    struct bs_iso_dialect *d = NULL;
    FILE *f;
    char *text;
    long len;

    snprintf(path, sizeof(path), "%s/configs/dialects/%s.yaml", root ? root : BS_SOURCE_DIR, name);
    f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s", path);
    fseek(f, 0, SEEK_END);
    len = ftell(f);
    fseek(f, 0, SEEK_SET);
    text = malloc((size_t)len + 1);
    assert_non_null(text);
    assert_int_equal(fread(text, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    text[len] = '\0';
    if (bs_iso_dialect_parse(text, (size_t)len, path, &d, err, sizeof(err)) != 0)
        fail_msg("%s: %s", path, err);
    free(text);
    return d;
}

/* ---- fake environment ----------------------------------------------------------------- */

static struct t_env *env_of(struct bs_env *env)
{
    return (struct t_env *)env;
}

static void fe_send(struct bs_env *env, uint32_t from, uint32_t to, const uint8_t *buf, size_t n,
                    uint64_t trace, const struct bs_iso_msg *m)
{
    struct t_env *e = env_of(env);
    struct t_sent *s;

    (void)m;
    assert_true(e->nsent < T_MAX_SENT);
    assert_true(n <= BS_WIRE_MAX);
    s = &e->sent[e->nsent++];
    s->from = from;
    s->to = to;
    s->trace = trace;
    s->n = n;
    memcpy(s->buf, buf, n);
}

static void fe_timer(struct bs_env *env, uint32_t node, bs_time_us delay, uint32_t kind,
                     uint64_t cookie)
{
    struct t_env *e = env_of(env);

    assert_true(e->ntimers < T_MAX_TIMERS);
    e->timers[e->ntimers++] = (struct t_timer){ node, kind, delay, cookie };
}

/* Lower-case hex of @s's bytes, for looking for secrets inside the journal's "hex". */
static void hex_of(const char *s, char *out, size_t cap)
{
    static const char hx[] = "0123456789abcdef";
    size_t n = strlen(s), i;

    for (i = 0; i < n && 2 * i + 2 < cap; i++) {
        out[2 * i] = hx[(unsigned char)s[i] >> 4];
        out[2 * i + 1] = hx[(unsigned char)s[i] & 15];
    }
    out[2 * i] = '\0';
}

static void fe_journal(struct bs_env *env, uint32_t node, const struct bs_jrec *rec)
{
    struct t_env *e = env_of(env);
    char *line = malloc(T_LINE_MAX);
    json_error_t jerr;
    json_t *j;
    int n;

    (void)node;
    assert_non_null(line);
    n = bs_journal_format(rec, e->nlines + 1, line, T_LINE_MAX);
    if (n <= 0)
        fail_msg("bs_journal_format: %d (%s)", n, bs_strerror(n));
    line[n] = '\0';
    /* JSON Lines: exactly one newline, at the end. */
    assert_int_equal(line[n - 1], '\n');
    assert_null(memchr(line, '\n', (size_t)n - 1));
    j = json_loads(line, 0, &jerr);
    if (!j || !json_is_object(j))
        fail_msg("journal line is not a JSON object (%s): %s", jerr.text, line);
    json_decref(j);
    for (size_t i = 0; i < sizeof(e->secrets) / sizeof(e->secrets[0]) && e->secrets[i]; i++) {
        char hx[256];
        if (strstr(line, e->secrets[i]))
            fail_msg("journal line shows \"%s\": %s", e->secrets[i], line);
        hex_of(e->secrets[i], hx, sizeof(hx));
        if (strstr(line, hx))
            fail_msg("journal line shows \"%s\" as hex: %s", e->secrets[i], line);
    }
    assert_true(e->nlines < T_MAX_LINES);
    e->kinds[e->nlines] = rec->kind;
    e->lines[e->nlines++] = line;
}

static void fe_stat(struct bs_env *env, enum bs_stat s, int64_t delta)
{
    struct t_env *e = env_of(env);

    assert_true((unsigned)s < sizeof(e->stats) / sizeof(e->stats[0]));
    e->stats[s] += delta;
}

static void fe_outcome(struct bs_env *env, uint32_t flow, unsigned type, const char *rc,
                       bs_time_us latency)
{
    struct t_env *e = env_of(env);

    (void)flow;
    (void)latency;
    e->noutcomes++;
    e->last_type = type;
    snprintf(e->last_rc, sizeof(e->last_rc), "%s", rc ? rc : "");
}

static const char *fe_node_name(struct bs_env *env, uint32_t id)
{
    struct t_env *e = env_of(env);

    return id < T_MAX_NODES && e->names[id] ? e->names[id] : "unknown";
}

static const struct bs_env_ops fe_ops = { fe_send,    fe_timer,     fe_journal, fe_stat,
                                          fe_outcome, fe_node_name, NULL,       NULL };

void t_env_init(struct t_env *e, bs_time_us now)
{
    memset(e, 0, sizeof(*e));
    e->env.ops = &fe_ops;
    e->env.now = now;
}

void t_env_clear(struct t_env *e)
{
    for (size_t i = 0; i < e->nlines; i++)
        free(e->lines[i]);
    e->nlines = 0;
    e->nsent = 0;
    e->ntimers = 0;
}

void t_env_deinit(struct t_env *e)
{
    t_env_clear(e);
}

const struct t_sent *t_last_sent(const struct t_env *e)
{
    assert_true(e->nsent > 0);
    return &e->sent[e->nsent - 1];
}

size_t t_count_kind(const struct t_env *e, enum bs_jkind k)
{
    size_t c = 0;

    for (size_t i = 0; i < e->nlines; i++)
        c += e->kinds[i] == k;
    return c;
}

static void plain_on_message(struct bs_node *node, uint32_t from, const uint8_t *buf, size_t n,
                             uint64_t trace)
{
    (void)node;
    (void)from;
    (void)buf;
    (void)n;
    (void)trace;
}

static void plain_on_timer(struct bs_node *node, uint32_t kind, uint64_t cookie)
{
    (void)node;
    (void)kind;
    (void)cookie;
}

static void plain_free(struct bs_node *node)
{
    (void)node;
}

void t_plain_node(struct bs_node *n, struct t_env *e, uint32_t id, const char *name,
                  struct bs_key *key, struct bs_keystore *keys)
{
    static const struct bs_node_ops ops = { plain_on_message, plain_on_timer, plain_free, NULL };

    assert_int_equal(bs_node_base_init(n, &ops, name, key, keys), 0);
    n->env = &e->env;
    n->id = id;
    e->names[id] = n->name;
}
