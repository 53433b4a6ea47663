/* Fault injection; see faults.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bridgesim/common.h>

#include "engine/faults.h"

struct wfault {
    const struct bs_sc_fault *f;
    int32_t a, b;        /* link endpoints, -1 = any */
    int32_t node;        /* -1 = any */
    double p;            /* effective probability (a range is drawn once per seed) */
    uint64_t matched;    /* messages that passed the selectors so far */
    bs_time_us from, to; /* absolute active window; to = INT64_MAX when open-ended */
    uint8_t *side;       /* PARTITION: set index + 1 per node, 0 = in no set */
    struct bs_rng rng;
    uint8_t *ge_bad;      /* LOSS with Gilbert–Elliott: chain state per (from, to) */
    struct bs_rng ge_rng; /* its draws ("fault:N:ge"), apart from the selector's */
};

struct bs_faults {
    struct wfault *w;
    size_t n;
    size_t nnodes;
};

static const char *const kind_names[BS_FAULT_KIND_COUNT] = {
    [BS_FAULT_LOSS] = "loss",           [BS_FAULT_DUPLICATE] = "duplicate",
    [BS_FAULT_REORDER] = "reorder",     [BS_FAULT_DELAY] = "delay",
    [BS_FAULT_CORRUPT] = "corrupt",     [BS_FAULT_CRASH] = "crash",
    [BS_FAULT_PAUSE] = "pause",         [BS_FAULT_SLOW] = "slow",
    [BS_FAULT_HANG] = "hang",           [BS_FAULT_FORCE_RC] = "force_rc",
    [BS_FAULT_WRONG_KEY] = "wrong_key", [BS_FAULT_CLOCK_SKEW] = "clock_skew",
    [BS_FAULT_PARTITION] = "partition", [BS_FAULT_SIGN_OFF] = "sign_off",
};

const char *bs_corrupt_mode_name(int mode)
{
    static const char *const names[] = { "bitflip", "truncate", "bitmap",
                                         "length",  "field",    "signature" };

    return mode >= 0 && (size_t)mode < sizeof(names) / sizeof(names[0]) ? names[mode] : "unknown";
}

const char *bs_fault_kind_name(enum bs_fault_kind k)
{
    return (unsigned)k < BS_FAULT_KIND_COUNT ? kind_names[k] : "unknown";
}

static int32_t lookup(const char (*names)[64], size_t n, const char *name)
{
    if (!name[0])
        return -1;
    for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], name) == 0)
            return (int32_t)i;
    return -2;
}

int bs_faults_new(const struct bs_scenario *sc, const char (*names)[64], size_t nnodes,
                  struct bs_faults **ret, char *err, size_t errlen)
{
    struct bs_faults *f = bs_calloc(1, sizeof(*f));
    int rc = BS_ENOMEM;

    if (!f)
        return BS_ENOMEM;
    f->nnodes = nnodes;
    f->n = sc->nfaults;
    f->w = bs_calloc(sc->nfaults ? sc->nfaults : 1, sizeof(*f->w));
    if (!f->w)
        goto fail;
    for (size_t i = 0; i < sc->nfaults; i++) {
        const struct bs_sc_fault *sf = &sc->faults[i];
        struct wfault *w = &f->w[i];
        char stream[48];
        const char *bad = NULL;

        w->f = sf;
        w->a = lookup(names, nnodes, sf->sel.a);
        w->b = lookup(names, nnodes, sf->sel.b);
        w->node = lookup(names, nnodes, sf->sel.node);
        if (w->a == -2)
            bad = sf->sel.a;
        else if (w->b == -2)
            bad = sf->sel.b;
        else if (w->node == -2)
            bad = sf->sel.node;
        snprintf(stream, sizeof(stream), "fault:%zu", i);
        bs_rng_seed(&w->rng, sc->seed, stream);
        /* A probability range is resolved once per seed: `check` explores the range. */
        w->p = sf->sel.p_range ? sf->sel.p_lo + (sf->sel.p_hi - sf->sel.p_lo) * bs_rng_unit(&w->rng)
                               : sf->sel.p;
        if (sf->kind == BS_FAULT_LOSS && sf->ge.enabled) {
            /* One chain per link direction the fault matches, all fed by one stream. */
            w->ge_bad = bs_calloc(nnodes * nnodes, 1);
            if (!w->ge_bad)
                goto fail;
            snprintf(stream, sizeof(stream), "fault:%zu:ge", i);
            bs_rng_seed(&w->ge_rng, sc->seed, stream);
        }
        if (sf->kind == BS_FAULT_PARTITION && !bad) {
            w->side = bs_calloc(nnodes, 1);
            if (!w->side)
                goto fail;
            for (size_t s = 0; s < sf->nsets && !bad; s++)
                for (size_t k = 0; k < sf->set_len[s]; k++) {
                    int32_t id = lookup(names, nnodes, sf->sets[s][k]);
                    if (id < 0) {
                        bad = sf->sets[s][k];
                        break;
                    }
                    w->side[id] = (uint8_t)(s + 1);
                }
        }
        if (bad) {
            snprintf(err, errlen, "%s:%d:%d: fault names '%s', which is not a node", sc->path,
                     sf->line, sf->column, bad);
            rc = BS_EINVAL;
            goto fail;
        }
    }
    bs_faults_rebase(f, sc->start_time);
    *ret = f;
    return 0;
fail:
    bs_faults_free(f);
    return rc;
}

void bs_faults_rebase(struct bs_faults *f, bs_time_us origin)
{
    for (size_t i = 0; f && i < f->n; i++) {
        struct wfault *w = &f->w[i];
        w->from = origin + w->f->sel.at;
        w->to = w->f->sel.duration ? w->from + w->f->sel.duration : INT64_MAX;
    }
}

void bs_faults_free(struct bs_faults *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->n; i++) {
        bs_free(f->w[i].side);
        bs_free(f->w[i].ge_bad);
    }
    bs_free(f->w);
    bs_free(f);
}

bool bs_faults_any(const struct bs_faults *f)
{
    return f && f->n > 0;
}

static bool active(const struct wfault *w, bs_time_us now)
{
    return now >= w->from && now < w->to;
}

/* Whether the partition @w separates @a and @b: both in sets, different sets; or, with a
 * single set, exactly one of them in it (isolating that set from everyone else). */
static bool separates(const struct wfault *w, uint32_t a, uint32_t b)
{
    uint8_t sa = w->side[a], sb = w->side[b];

    if (w->f->nsets <= 1)
        return (sa != 0) != (sb != 0);
    return sa && sb && sa != sb;
}

static bool mti_matches(const struct bs_sc_selector *s, const struct bs_iso_msg *m)
{
    if (!s->nmti)
        return true;
    if (!m)
        return false;
    for (size_t i = 0; i < s->nmti; i++)
        if (memcmp(s->mti[i], m->mti, 4) == 0)
            return true;
    return false;
}

static bool bin_matches(const struct bs_sc_selector *s, const struct bs_iso_msg *m)
{
    size_t n;
    const uint8_t *pan;
    uint64_t v = 0;

    if (!s->has_bin)
        return true;
    if (!m || !(pan = bs_iso_msg_get(m, 2, &n)) || n < s->bin.digits)
        return false;
    for (unsigned i = 0; i < s->bin.digits; i++) {
        if (pan[i] < '0' || pan[i] > '9')
            return false;
        v = v * 10 + (uint64_t)(pan[i] - '0');
    }
    return v >= s->bin.lo && v <= s->bin.hi;
}

static bool link_matches(const struct wfault *w, uint32_t from, uint32_t to)
{
    if (w->node >= 0 && (uint32_t)w->node != from && (uint32_t)w->node != to)
        return false;
    if (w->a < 0 && w->b < 0)
        return true;
    if (w->f->sel.directed)
        return (w->a < 0 || (uint32_t)w->a == from) && (w->b < 0 || (uint32_t)w->b == to);
    return ((w->a < 0 || (uint32_t)w->a == from) && (w->b < 0 || (uint32_t)w->b == to)) ||
           ((w->a < 0 || (uint32_t)w->a == to) && (w->b < 0 || (uint32_t)w->b == from));
}

/* Counting and probability selectors: called only for messages the rest matched. The
 * probability draw is made for every such message so the stream advances identically. */
static bool fires(struct wfault *w)
{
    const struct bs_sc_selector *s = &w->f->sel;
    uint64_t k = ++w->matched;
    double u = bs_rng_unit(&w->rng);

    if (s->first_n && k > s->first_n)
        return false;
    if (s->after_n && k <= s->after_n)
        return false;
    if (s->every_n && k % s->every_n != 0)
        return false;
    return u < w->p;
}

static bool is_message_fault(enum bs_fault_kind k)
{
    return k <= BS_FAULT_CORRUPT;
}

void bs_faults_on_send(struct bs_faults *f, bs_time_us now, uint32_t from, uint32_t to,
                       const struct bs_iso_msg *m, struct bs_msg_verdict *v)
{
    memset(v, 0, sizeof(*v));
    v->corrupt = -1;
    v->fault = -1;
    for (size_t i = 0; i < f->n; i++) {
        struct wfault *w = &f->w[i];
        const struct bs_sc_fault *sf = w->f;

        if (!active(w, now))
            continue;
        if (sf->kind == BS_FAULT_PARTITION) {
            if (separates(w, from, to)) {
                v->drop = "partition";
                v->fault = (int)i;
                return;
            }
            continue;
        }
        if (sf->kind == BS_FAULT_HANG) {
            if (w->node >= 0 && (uint32_t)w->node == from) {
                v->drop = "sender hangs";
                v->fault = (int)i;
                return;
            }
            continue;
        }
        if (!is_message_fault(sf->kind) || !link_matches(w, from, to) ||
            !mti_matches(&sf->sel, m) || !bin_matches(&sf->sel, m) || !fires(w))
            continue;
        switch (sf->kind) {
        case BS_FAULT_LOSS:
            if (w->ge_bad) {
                uint8_t *st = &w->ge_bad[(size_t)from * f->nnodes + to];
                double u_loss = bs_rng_unit(&w->ge_rng), u_move = bs_rng_unit(&w->ge_rng);
                bool bad = *st != 0, lost = bs_ge_step(&sf->ge, &bad, u_loss, u_move);

                *st = bad;
                if (!lost)
                    break;
            }
            v->drop = "loss";
            v->fault = (int)i;
            return;
        case BS_FAULT_DUPLICATE:
            v->duplicate = true;
            break;
        case BS_FAULT_REORDER:
        case BS_FAULT_DELAY:
            v->extra_delay += bs_dist_sample(&sf->delay, bs_rng_next_cb, &w->rng);
            break;
        case BS_FAULT_CORRUPT:
            v->corrupt = (int)sf->corrupt;
            v->fault = (int)i;
            break;
        default:
            break;
        }
    }
}

static const struct wfault *node_fault(const struct bs_faults *f, bs_time_us now, uint32_t node,
                                       enum bs_fault_kind kind)
{
    for (size_t i = 0; f && i < f->n; i++) {
        const struct wfault *w = &f->w[i];
        if (w->f->kind == kind && w->node >= 0 && (uint32_t)w->node == node && active(w, now))
            return w;
    }
    return NULL;
}

bool bs_faults_crashed(const struct bs_faults *f, bs_time_us now, uint32_t node,
                       bs_time_us *ret_until)
{
    const struct wfault *w = node_fault(f, now, node, BS_FAULT_CRASH);

    if (w && ret_until)
        *ret_until = w->to;
    return w != NULL;
}

bool bs_faults_paused(const struct bs_faults *f, bs_time_us now, uint32_t node,
                      bs_time_us *ret_until)
{
    const struct wfault *w = node_fault(f, now, node, BS_FAULT_PAUSE);

    if (w && ret_until)
        *ret_until = w->to;
    return w != NULL;
}

const char *bs_faults_forced_rc(const struct bs_faults *f, bs_time_us now, uint32_t node)
{
    const struct wfault *w = node_fault(f, now, node, BS_FAULT_FORCE_RC);

    return w ? w->f->rc : NULL;
}

bs_time_us bs_faults_clock_skew(const struct bs_faults *f, bs_time_us now, uint32_t node)
{
    const struct wfault *w = node_fault(f, now, node, BS_FAULT_CLOCK_SKEW);

    return w ? w->f->skew : 0;
}

bool bs_faults_wrong_key(const struct bs_faults *f, bs_time_us now, uint32_t node)
{
    return node_fault(f, now, node, BS_FAULT_WRONG_KEY) != NULL;
}

bool bs_faults_signed_off(const struct bs_faults *f, bs_time_us now, uint32_t node)
{
    return node_fault(f, now, node, BS_FAULT_SIGN_OFF) != NULL;
}

size_t bs_faults_sign_offs(const struct bs_faults *f, size_t i, uint32_t *ret_node,
                           bs_time_us *ret_from, bs_time_us *ret_to)
{
    for (; f && i < f->n; i++) {
        const struct wfault *w = &f->w[i];
        if (w->f->kind != BS_FAULT_SIGN_OFF || w->node < 0)
            continue;
        *ret_node = (uint32_t)w->node;
        *ret_from = w->f->sel.at;
        *ret_to = w->f->sel.at + w->f->sel.duration;
        return i + 1;
    }
    return 0;
}

double bs_faults_slow(struct bs_faults *f, bs_time_us now, uint32_t node)
{
    double extra = 0;

    for (size_t i = 0; f && i < f->n; i++) {
        struct wfault *w = &f->w[i];
        if (w->f->kind == BS_FAULT_SLOW && w->node >= 0 && (uint32_t)w->node == node &&
            active(w, now))
            extra += bs_dist_sample(&w->f->delay, bs_rng_next_cb, &w->rng);
    }
    return extra;
}

/* Offset of the first variable-length DE's length prefix, from a trial decode. */
static bool first_prefix(const struct bs_iso_dialect *d, const uint8_t *buf, size_t n, size_t *ret)
{
    static struct bs_iso_msg m; /* single-threaded engine: no per-call 9 KiB stack frame */
    struct bs_iso_error e;

    if (!d || bs_iso_unpack(d, buf, n, &m, &e) != 0)
        return false;
    for (unsigned de = 2; de <= BS_ISO_MAX_DE; de++) {
        const struct bs_iso_field_spec *s = bs_iso_dialect_field(d, de);
        if (bs_iso_msg_has(&m, de) && s && s->len_digits) {
            *ret = m.wire_off[de];
            return true;
        }
    }
    return false;
}

static bool field_offset(const struct bs_iso_dialect *d, const uint8_t *buf, size_t n, unsigned de,
                         size_t *ret_off, size_t *ret_len)
{
    static struct bs_iso_msg m;
    struct bs_iso_error e;
    size_t next = n;

    if (!d || bs_iso_unpack(d, buf, n, &m, &e) != 0 || !bs_iso_msg_has(&m, de))
        return false;
    for (unsigned k = de + 1; k <= BS_ISO_MAX_DE; k++)
        if (bs_iso_msg_has(&m, k)) {
            next = m.wire_off[k];
            break;
        }
    *ret_off = m.wire_off[de];
    *ret_len = next - m.wire_off[de];
    return true;
}

void bs_faults_apply_corruption(struct bs_faults *f, int fault, int mode,
                                const struct bs_iso_dialect *d, uint8_t *buf, size_t *n)
{
    struct bs_rng *r = &f->w[fault].rng;
    size_t off, len;

    if (*n == 0)
        return;
    switch (mode) {
    case BS_CORRUPT_TRUNCATE:
        *n = (size_t)bs_rng_below(r, *n);
        return;
    case BS_CORRUPT_BITMAP: {
        /* The primary bitmap follows the header and the MTI (2 bytes BCD, else 4). */
        size_t mti = d && bs_iso_dialect_mti_enc(d) == BS_ISO_ENC_BCD ? 2 : 4;
        off = (d ? bs_iso_dialect_header_len(d) : 0) + mti + (size_t)bs_rng_below(r, 8);
        if (off < *n)
            buf[off] ^= (uint8_t)(1u << bs_rng_below(r, 8));
        return;
    }
    case BS_CORRUPT_LENGTH:
        if (first_prefix(d, buf, *n, &off)) {
            buf[off] ^= 0x09; /* an ASCII digit or BCD nibble turns into another value */
            return;
        }
        break;
    case BS_CORRUPT_FIELD:
        if (field_offset(d, buf, *n, 4, &off, &len) && len > 0) {
            off += (size_t)bs_rng_below(r, len);
            buf[off] ^= 0x01;
            return;
        }
        break;
    case BS_CORRUPT_SIGNATURE:
        if (field_offset(d, buf, *n, 127, &off, &len) && len > 8) {
            /* The signature is the envelope's tail: flip a bit in its last 8 bytes. */
            off = off + len - 1 - (size_t)bs_rng_below(r, 8);
            buf[off] ^= (uint8_t)(1u << bs_rng_below(r, 8));
            return;
        }
        break;
    default:
        break;
    }
    off = (size_t)bs_rng_below(r, *n);
    buf[off] ^= (uint8_t)(1u << bs_rng_below(r, 8));
}
