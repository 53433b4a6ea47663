/*
 * The scenario loader's YAML tree: built from libfyaml's event stream (which carries a
 * start mark for every node, unlike libfyaml 0.7's document API for collections), with
 * aliases expanded under a node budget, plus the deep merge behind `extends:`.
 *
 * Input is checked before libfyaml sees it: libfyaml 0.7 silently skips control characters
 * and invalid UTF-8, and a scenario file must be text.
 */
#include <stdio.h>
#include <string.h>

#include <libfyaml.h>

#include "sc_internal.h"

struct anchor {
    char *name;
    struct yn *node;
};

struct frame {
    struct yn *node;
    struct yn *key; /* mappings: the key waiting for its value */
};

struct builder {
    const char *file;
    int line0, col0;
    struct sc_budget *budget;
    struct sc_errs *e;
    struct frame stack[BS__SC_DEPTH_MAX];
    size_t depth;
    struct yn *root;
    bool have_root;
    struct anchor *anchors;
    size_t nanchors;
    int ndocs;
};

/* ---- nodes --------------------------------------------------------------------------- */

void bs__yn_free(struct yn *n)
{
    if (!n)
        return;
    for (size_t i = 0; i < n->n; i++) {
        if (n->keys)
            bs__yn_free(n->keys[i]);
        bs__yn_free(n->items[i]);
    }
    bs_free(n->keys);
    bs_free(n->items);
    bs_free(n->str);
    bs_free(n);
}

static struct yn *yn_new(enum yn_type type, const struct sc_loc *loc)
{
    struct yn *n = bs_calloc(1, sizeof(*n));

    if (!n)
        return NULL;
    n->type = type;
    if (loc)
        n->loc = *loc;
    return n;
}

static bool is_null_text(const char *s)
{
    return !*s || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 || strcmp(s, "Null") == 0 ||
           strcmp(s, "NULL") == 0;
}

static struct yn *scalar_new(const char *text, size_t len, bool plain, const struct sc_loc *loc)
{
    struct yn *n = yn_new(YN_SCALAR, loc);

    if (!n)
        return NULL;
    n->str = bs_malloc(len + 1);
    if (!n->str) {
        bs_free(n);
        return NULL;
    }
    memcpy(n->str, text, len);
    n->str[len] = '\0';
    n->len = len;
    n->plain = plain;
    n->null = plain && is_null_text(n->str);
    return n;
}

struct yn *bs__yn_new_scalar(const char *text, const struct sc_loc *loc)
{
    return scalar_new(text, strlen(text), true, loc);
}

/* Append to a sequence (@key NULL) or mapping. Takes nothing on failure. */
static int yn_append(struct yn *n, struct yn *key, struct yn *val)
{
    if (n->n == n->cap) {
        size_t cap = n->cap ? n->cap * 2 : 8;
        struct yn **items = bs_realloc(n->items, cap * sizeof(*items));

        if (!items)
            return BS_ENOMEM;
        n->items = items;
        if (n->type == YN_MAP) {
            struct yn **keys = bs_realloc(n->keys, cap * sizeof(*keys));

            if (!keys)
                return BS_ENOMEM;
            n->keys = keys;
        }
        n->cap = cap;
    }
    if (n->type == YN_MAP)
        n->keys[n->n] = key;
    n->items[n->n++] = val;
    return 0;
}

struct yn *bs__yn_get(const struct yn *map, const char *key, size_t *ret_idx)
{
    if (!map || map->type != YN_MAP)
        return NULL;
    for (size_t i = 0; i < map->n; i++) {
        if (strcmp(map->keys[i]->str, key) == 0) {
            if (ret_idx)
                *ret_idx = i;
            return map->items[i];
        }
    }
    return NULL;
}

int bs__yn_map_put(struct yn *map, const char *key, const struct sc_loc *keyloc, struct yn *val)
{
    size_t idx;
    struct yn *k;

    if (bs__yn_get(map, key, &idx)) {
        bs__yn_free(map->items[idx]);
        map->items[idx] = val;
        return 0;
    }
    k = scalar_new(key, strlen(key), true, keyloc);
    if (!k)
        goto free_val;
    if (yn_append(map, k, val))
        goto free_key;
    return 0;

free_key:
    bs__yn_free(k);
free_val:
    bs__yn_free(val);
    return BS_ENOMEM;
}

void bs__yn_map_remove(struct yn *map, size_t idx)
{
    bs__yn_free(map->keys[idx]);
    bs__yn_free(map->items[idx]);
    memmove(&map->keys[idx], &map->keys[idx + 1], (map->n - idx - 1) * sizeof(*map->keys));
    memmove(&map->items[idx], &map->items[idx + 1], (map->n - idx - 1) * sizeof(*map->items));
    map->n--;
}

/*
 * Whether @base and @over name different kinds of one thing (`process: spike` and
 * `process: ramp`, `dist: normal` and `dist: constant`): then the base's other keys belong
 * to the old kind and must not survive the merge.
 */
static bool other_kind(const struct yn *base, const struct yn *over)
{
    static const char *const keys[] = { "process", "dist" };

    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        const struct yn *a = bs__yn_get(base, keys[i], NULL), *b = bs__yn_get(over, keys[i], NULL);

        if (a && b && a->type == YN_SCALAR && b->type == YN_SCALAR && strcmp(a->str, b->str) != 0)
            return true;
    }
    return false;
}

struct yn *bs__yn_merge(struct yn *base, struct yn *over)
{
    if (!base || base->type != YN_MAP || !over || over->type != YN_MAP || other_kind(base, over)) {
        bs__yn_free(base);
        return over;
    }
    /* The last writer owns the mapping: errors about it as a whole point there. */
    base->loc = over->loc;
    for (size_t i = 0; i < over->n; i++) {
        size_t idx;
        struct yn *old = bs__yn_get(base, over->keys[i]->str, &idx);

        if (old) {
            struct yn *merged = bs__yn_merge(old, over->items[i]);

            over->items[i] = NULL;
            base->items[idx] = merged;
            if (!merged)
                goto fail;
        } else {
            if (yn_append(base, over->keys[i], over->items[i]))
                goto fail;
            over->keys[i] = NULL;
            over->items[i] = NULL;
        }
    }
    bs__yn_free(over);
    return base;

fail:
    bs__yn_free(base);
    bs__yn_free(over);
    return NULL;
}

/* Deep copy for alias expansion; @height receives the subtree's nesting height. */
static int yn_clone(const struct yn *src, struct sc_budget *b, struct yn **ret, size_t *height)
{
    struct yn *n;
    size_t h = 0;

    if (++b->nodes > BS__SC_NODES_MAX)
        return BS_ELIMIT;
    if (src->type == YN_SCALAR) {
        n = scalar_new(src->str, src->len, src->plain, &src->loc);
        if (!n)
            return BS_ENOMEM;
        *ret = n;
        *height = 0;
        return 0;
    }
    n = yn_new(src->type, &src->loc);
    if (!n)
        return BS_ENOMEM;
    for (size_t i = 0; i < src->n; i++) {
        struct yn *k = NULL, *v = NULL;
        size_t hv;
        int rc;

        if (src->type == YN_MAP) {
            rc = yn_clone(src->keys[i], b, &k, &hv);
            if (rc)
                goto fail_rc;
        }
        rc = yn_clone(src->items[i], b, &v, &hv);
        if (rc) {
            bs__yn_free(k);
            goto fail_rc;
        }
        if (hv + 1 > h)
            h = hv + 1;
        if (yn_append(n, k, v)) {
            bs__yn_free(k);
            bs__yn_free(v);
            rc = BS_ENOMEM;
            goto fail_rc;
        }
        continue;
    fail_rc:
        bs__yn_free(n);
        return rc;
    }
    *ret = n;
    *height = h;
    return 0;
}

/* ---- input checks -------------------------------------------------------------------- */

/*
 * Reject what is not YAML text (YAML 1.2 §5.1 c-printable): control characters other than
 * tab, LF and CR, invalid or overlong UTF-8, surrogates. Reports the first offender.
 */
static int check_text(struct builder *bd, const char *text, size_t len)
{
    const unsigned char *s = (const unsigned char *)text;
    int line = 1, col = 1;

    for (size_t i = 0; i < len;) {
        unsigned c = s[i], cp, need;
        struct sc_loc loc = { bd->file, line + bd->line0, col + bd->col0 };

        if (c == '\n') {
            line++;
            col = 1;
            i++;
            continue;
        }
        if (c < 0x80) {
            if ((c < 0x20 && c != '\t' && c != '\r') || c == 0x7f) {
                bs__errf(bd->e, &loc, "control character 0x%02x in input (not a YAML text file?)",
                         c);
                return BS_EFORMAT;
            }
            i++;
            col++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) {
            need = 1;
            cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            need = 2;
            cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            need = 3;
            cp = c & 0x07;
        } else {
            goto bad;
        }
        for (unsigned k = 1; k <= need; k++) {
            if (i + k >= len || (s[i + k] & 0xc0) != 0x80)
                goto bad;
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        if ((need == 2 && cp < 0x800) || (need == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff) || cp == 0xfffe || cp == 0xffff ||
            (cp >= 0x80 && cp <= 0x9f && cp != 0x85))
            goto bad;
        i += need + 1;
        col++;
        continue;
    bad:
        bs__errf(bd->e, &loc, "invalid UTF-8 byte 0x%02x in input (not a YAML text file?)", c);
        return BS_EFORMAT;
    }
    return 0;
}

/* ---- the builder --------------------------------------------------------------------- */

static struct sc_loc mark_loc(const struct builder *bd, const struct fy_mark *m)
{
    struct sc_loc loc = { bd->file, 0, 0 };

    if (m && m->line >= 0) {
        /* Only the first line of an embedded snippet is shifted by the column offset. */
        loc.line = m->line + 1 + bd->line0;
        loc.col = m->column + 1 + (m->line == 0 ? bd->col0 : 0);
    } else if (bd->depth > 0) {
        const struct frame *f = &bd->stack[bd->depth - 1];

        loc = f->key ? f->key->loc : f->node->loc;
    }
    return loc;
}

static const char *token_text(struct fy_token *t, size_t *len)
{
    const char *s = t ? fy_token_get_text(t, len) : NULL;

    if (!s) {
        *len = 0;
        return "";
    }
    return s;
}

static bool node_open(const struct builder *bd, const struct yn *n)
{
    for (size_t i = 0; i < bd->depth; i++)
        if (bd->stack[i].node == n)
            return true;
    return false;
}

static int add_anchor(struct builder *bd, struct fy_token *anchor, struct yn *n)
{
    struct anchor *v;
    size_t len;
    const char *name;

    if (!anchor)
        return 0;
    name = token_text(anchor, &len);
    v = bs_realloc(bd->anchors, (bd->nanchors + 1) * sizeof(*v));
    if (!v)
        return BS_ENOMEM;
    bd->anchors = v;
    v[bd->nanchors].name = bs_malloc(len + 1);
    if (!v[bd->nanchors].name)
        return BS_ENOMEM;
    memcpy(v[bd->nanchors].name, name, len);
    v[bd->nanchors].name[len] = '\0';
    v[bd->nanchors].node = n;
    bd->nanchors++;
    return 0;
}

/* Hand a finished node to its parent (or make it the root). Takes @n in every case. */
static int attach(struct builder *bd, struct yn *n)
{
    struct frame *f;

    if (bd->depth == 0) {
        bd->root = n;
        bd->have_root = true;
        return 0;
    }
    f = &bd->stack[bd->depth - 1];
    if (f->node->type == YN_SEQ) {
        if (yn_append(f->node, NULL, n)) {
            bs__yn_free(n);
            return BS_ENOMEM;
        }
        return 0;
    }
    if (!f->key) {
        const struct yn *dup;

        if (n->type != YN_SCALAR) {
            bs__errf(bd->e, &n->loc, "a mapping key must be a scalar");
            bs__yn_free(n);
            return BS_EFORMAT;
        }
        dup = NULL;
        for (size_t i = 0; i < f->node->n; i++)
            if (strcmp(f->node->keys[i]->str, n->str) == 0)
                dup = f->node->keys[i];
        if (dup) {
            bs__errf(bd->e, &n->loc, "duplicate key '%s' (first defined at line %d)", n->str,
                     dup->loc.line);
            bs__yn_free(n);
            return BS_EFORMAT;
        }
        f->key = n;
        return 0;
    }
    if (yn_append(f->node, f->key, n)) {
        bs__yn_free(n);
        return BS_ENOMEM;
    }
    f->key = NULL;
    return 0;
}

static int on_event(struct builder *bd, struct fy_event *ev)
{
    struct sc_loc loc = mark_loc(bd, fy_event_start_mark(ev));
    struct fy_token *tag = NULL, *anchor = NULL;
    struct yn *n;
    int rc;

    switch (ev->type) {
    case FYET_DOCUMENT_START:
        if (++bd->ndocs > 1) {
            bs__errf(bd->e, &loc, "more than one YAML document; a scenario is one document");
            return BS_EFORMAT;
        }
        return 0;
    case FYET_SCALAR:
    case FYET_MAPPING_START:
    case FYET_SEQUENCE_START:
        if (ev->type == FYET_SCALAR) {
            size_t len;
            const char *text = token_text(ev->scalar.value, &len);
            enum fy_scalar_style style = fy_token_scalar_style(ev->scalar.value);
            bool plain = style == FYSS_PLAIN;

            /* libfyaml marks a quoted scalar at its first character; point at the quote. */
            if ((style == FYSS_SINGLE_QUOTED || style == FYSS_DOUBLE_QUOTED) && loc.col > 1)
                loc.col--;

            tag = ev->scalar.tag;
            anchor = ev->scalar.anchor;
            if (memchr(text, '\0', len)) {
                bs__errf(bd->e, &loc, "NUL character in a scalar");
                return BS_EFORMAT;
            }
            n = scalar_new(text, len, plain, &loc);
        } else {
            bool map = ev->type == FYET_MAPPING_START;

            tag = map ? ev->mapping_start.tag : ev->sequence_start.tag;
            anchor = map ? ev->mapping_start.anchor : ev->sequence_start.anchor;
            n = yn_new(map ? YN_MAP : YN_SEQ, &loc);
        }
        if (!n)
            return BS_ENOMEM;
        if (tag) {
            bs__errf(bd->e, &loc, "YAML tags are not supported in scenario files");
            bs__yn_free(n);
            return BS_EFORMAT;
        }
        if (++bd->budget->nodes > BS__SC_NODES_MAX) {
            bs__errf(bd->e, &loc, "more than %u YAML nodes", BS__SC_NODES_MAX);
            bs__yn_free(n);
            return BS_EFORMAT;
        }
        rc = add_anchor(bd, anchor, n);
        if (rc) {
            bs__yn_free(n);
            return rc;
        }
        if (n->type == YN_SCALAR)
            return attach(bd, n);
        if (bd->depth >= BS__SC_DEPTH_MAX) {
            bs__errf(bd->e, &loc, "nested deeper than %u levels", BS__SC_DEPTH_MAX);
            bs__yn_free(n);
            return BS_EFORMAT;
        }
        bd->stack[bd->depth].node = n;
        bd->stack[bd->depth].key = NULL;
        bd->depth++;
        return 0;
    case FYET_MAPPING_END:
    case FYET_SEQUENCE_END:
        if (bd->depth == 0)
            return BS_EFORMAT;
        bd->depth--;
        n = bd->stack[bd->depth].node;
        /* A dangling key cannot happen with a well-formed event stream; be safe anyway. */
        bs__yn_free(bd->stack[bd->depth].key);
        bd->stack[bd->depth].node = NULL;
        bd->stack[bd->depth].key = NULL;
        return attach(bd, n);
    case FYET_ALIAS: {
        size_t len, height;
        const char *name = token_text(ev->alias.anchor, &len);
        struct yn *target = NULL;

        for (size_t i = bd->nanchors; i-- > 0;) {
            if (strlen(bd->anchors[i].name) == len && memcmp(bd->anchors[i].name, name, len) == 0) {
                target = bd->anchors[i].node;
                break;
            }
        }
        if (!target) {
            bs__errf(bd->e, &loc, "alias '*%.*s' names no anchor defined before it", (int)len,
                     name);
            return BS_EFORMAT;
        }
        if (node_open(bd, target)) {
            bs__errf(bd->e, &loc, "alias '*%.*s' refers to a node that contains it", (int)len,
                     name);
            return BS_EFORMAT;
        }
        rc = yn_clone(target, bd->budget, &n, &height);
        if (rc == BS_ELIMIT) {
            bs__errf(bd->e, &loc, "more than %u YAML nodes once aliases are expanded",
                     BS__SC_NODES_MAX);
            return BS_EFORMAT;
        }
        if (rc)
            return rc;
        if (bd->depth + height >= BS__SC_DEPTH_MAX) {
            bs__errf(bd->e, &loc, "nested deeper than %u levels once aliases are expanded",
                     BS__SC_DEPTH_MAX);
            bs__yn_free(n);
            return BS_EFORMAT;
        }
        return attach(bd, n);
    }
    default:
        return 0;
    }
}

static void diag_sink(struct fy_diag *diag, void *user, const char *buf, size_t len)
{
    /* The library never prints: diagnostics are collected and reported by the caller. */
    (void)diag;
    (void)user;
    (void)buf;
    (void)len;
}

int bs__yaml_parse(const char *text, size_t len, const char *file, int line0, int col0,
                   struct sc_budget *b, struct sc_errs *e, struct yn **ret)
{
    struct builder bd = { .file = file, .line0 = line0, .col0 = col0, .budget = b, .e = e };
    struct fy_diag_cfg dcfg;
    struct fy_parse_cfg pcfg;
    struct fy_diag *diag;
    struct fy_parser *fyp;
    struct fy_event *ev;
    bool ended = false;
    int rc;

    rc = check_text(&bd, text, len);
    if (rc)
        return rc;

    fy_diag_cfg_default(&dcfg);
    dcfg.fp = NULL;
    dcfg.output_fn = diag_sink;
    dcfg.colorize = false;
    diag = fy_diag_create(&dcfg);
    if (!diag)
        return BS_ENOMEM;
    fy_diag_set_collect_errors(diag, true);
    memset(&pcfg, 0, sizeof(pcfg));
    pcfg.flags = FYPCF_QUIET | FYPCF_DISABLE_MMAP_OPT | FYPCF_JSON_NONE;
    pcfg.diag = diag;
    fyp = fy_parser_create(&pcfg);
    if (!fyp) {
        rc = BS_ENOMEM;
        goto destroy_diag;
    }
    /* An empty input is an empty stream; libfyaml wants a non-empty buffer. */
    if (len == 0) {
        *ret = NULL;
        rc = 0;
        goto destroy_parser;
    }
    if (fy_parser_set_string(fyp, text, len)) {
        rc = BS_ENOMEM;
        goto destroy_parser;
    }
    rc = 0;
    while (!rc && (ev = fy_parser_parse(fyp)) != NULL) {
        if (ev->type == FYET_STREAM_END)
            ended = true;
        rc = on_event(&bd, ev);
        fy_parser_event_free(fyp, ev);
    }
    if (!rc && (!ended || fy_parser_get_stream_error(fyp))) {
        void *it = NULL;
        struct fy_diag_error *de;
        bool any = false;

        while ((de = fy_diag_errors_iterate(diag, &it)) != NULL) {
            struct sc_loc loc = { file, de->line + line0, de->column + (de->line == 1 ? col0 : 0) };

            if (de->type < FYET_ERROR)
                continue;
            /* libfyaml reports the end of a one-line input on the line after it. */
            if (!memchr(text, '\n', len) && de->line > 1) {
                loc.line = 1 + line0;
                loc.col = (int)len + 1 + col0;
            }
            bs__errf(e, &loc, "YAML syntax error: %s", de->msg ? de->msg : "unknown");
            any = true;
        }
        if (!any) {
            struct sc_loc loc = { file, 0, 0 };

            bs__errf(e, &loc, "YAML syntax error");
        }
        rc = BS_EFORMAT;
    }
    if (!rc) {
        *ret = bd.root;
        bd.root = NULL;
    }

destroy_parser:
    fy_parser_destroy(fyp);
destroy_diag:
    fy_diag_destroy(diag);
    for (size_t i = 0; i < bd.depth; i++) {
        bs__yn_free(bd.stack[i].node);
        bs__yn_free(bd.stack[i].key);
    }
    bs__yn_free(bd.root);
    for (size_t i = 0; i < bd.nanchors; i++)
        bs_free(bd.anchors[i].name);
    bs_free(bd.anchors);
    return rc;
}
