/*
 * Fuzz target: bs_iso_unpack() and everything a decoded message goes through.
 * Input: one byte choosing the dialect, then the message bytes.
 *
 * Checked, beyond "no crash, no read past the input" (ASan):
 *   - the short paths and the general code agree: same result, same error (DE, offset,
 *     reason), same values;
 *   - a decoded message always packs, and packing is idempotent: unpack(pack(m)) packs
 *     to the very same bytes, with the same values;
 *   - bs_iso_pack_field() of each DE reproduces its bytes at wire_off;
 *   - composites (BER-TLV, nested bitmap, fixed) decode the same both ways and
 *     re-encode to bytes that decode to the same subfields.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"

#define CHECK(c)                                                                                \
    do {                                                                                        \
        if (!(c)) {                                                                             \
            fprintf(stderr, "fuzz_unpack: check failed: %s (%s:%d)\n", #c, __FILE__, __LINE__); \
            abort();                                                                            \
        }                                                                                       \
    } while (0)

#define WIRE_MAX 65536

static struct bs_iso_msg m1, m2, m3, s1, s2, s3;
static uint8_t out1[WIRE_MAX], out2[WIRE_MAX], tmp[WIRE_MAX];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    bs_fuzz_init();
    return 0;
}

static void same_values(const struct bs_iso_msg *a, const struct bs_iso_msg *b, bool wire)
{
    CHECK(strcmp(a->mti, b->mti) == 0);
    CHECK(a->header_len == b->header_len);
    CHECK(memcmp(a->header, b->header, a->header_len) == 0);
    CHECK(memcmp(a->present, b->present, sizeof(a->present)) == 0);
    for (unsigned de = bs_iso_msg_next(a, 0); de; de = bs_iso_msg_next(a, de)) {
        size_t na, nb;
        const uint8_t *va = bs_iso_msg_get(a, de, &na), *vb = bs_iso_msg_get(b, de, &nb);

        CHECK(na == nb && memcmp(va, vb, na) == 0);
        if (wire)
            CHECK(a->wire_off[de] == b->wire_off[de]);
    }
}

static void same_error(const struct bs_iso_error *a, const struct bs_iso_error *b)
{
    CHECK(a->de == b->de && a->sub == b->sub && a->offset == b->offset);
    CHECK(strcmp(a->reason, b->reason) == 0);
}

static void check_tlv(const uint8_t *v, size_t n)
{
    struct bs_iso_tlv t;
    size_t pos = 0, opos = 0;
    int r;

    while ((r = bs_iso_tlv_next(v, n, &pos, &t, NULL)) == 1) {
        CHECK(t.off < n && t.value >= v && t.value + t.len <= v + n);
        CHECK(bs_iso_tlv_put(t.tag, t.len_len, t.value, t.len, tmp, sizeof(tmp), &opos) == 0);
    }
    if (r == 0) {
        CHECK(opos == n);
        CHECK(memcmp(tmp, v, n) == 0);
    }
}

static void check_sub(const struct bs_iso_dialect *d, const struct bs_iso_dialect *ds, unsigned de,
                      const uint8_t *v, size_t n)
{
    struct bs_iso_error e1, e2;
    size_t k1, k2;
    int r1 = bs_iso_sub_unpack(d, de, v, n, 0, &s1, &e1);
    int r2 = bs_iso_sub_unpack(ds, de, v, n, 0, &s2, &e2);

    CHECK(r1 == r2);
    if (r1 < 0) {
        same_error(&e1, &e2);
        return;
    }
    same_values(&s1, &s2, true);
    CHECK(bs_iso_sub_pack(d, de, &s1, out2, sizeof(out2), &k1, NULL) == 0);
    CHECK(bs_iso_sub_unpack(d, de, out2, k1, 0, &s3, NULL) == 0);
    same_values(&s1, &s3, false);
    CHECK(bs_iso_sub_pack(ds, de, &s3, tmp, sizeof(tmp), &k2, NULL) == 0);
    CHECK(k1 == k2 && memcmp(out2, tmp, k1) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const struct bs_iso_dialect *d, *ds;
    struct bs_iso_error e1, e2;
    const uint8_t *in;
    size_t n, n1, n2, n3;
    char text[2 * BS_ISO_MSG_DATA_MAX + 16];
    int r1, r2;

    if (size < 1)
        return 0;
    d = bs_fuzz_dialect(data[0] % BS_FUZZ_DIALECTS, 0);
    ds = bs_fuzz_dialect(data[0] % BS_FUZZ_DIALECTS, 1);
    in = data + 1;
    n = size - 1;

    r1 = bs_iso_unpack(d, in, n, &m1, &e1);
    r2 = bs_iso_unpack(ds, in, n, &m2, &e2);
    CHECK(r1 == r2);
    if (r1 < 0) {
        CHECK(r1 == BS_EFORMAT || r1 == BS_ELIMIT);
        same_error(&e1, &e2);
        CHECK(e1.offset <= n);
        CHECK(bs_iso_error_format(&e1, text, sizeof(text)) > 0);
        return 0;
    }
    same_values(&m1, &m2, true);

    /* Pack, both ways; then idempotence. */
    r1 = bs_iso_pack(d, &m1, out1, sizeof(out1), &n1, &e1);
    r2 = bs_iso_pack(ds, &m1, out2, sizeof(out2), &n2, &e2);
    CHECK(r1 == 0 && r2 == 0);
    CHECK(n1 == n2 && memcmp(out1, out2, n1) == 0);
    CHECK(n1 <= n);
    CHECK(bs_iso_unpack(d, out1, n1, &m3, NULL) == 0);
    same_values(&m1, &m3, false);
    CHECK(bs_iso_pack(d, &m3, out2, sizeof(out2), &n3, NULL) == 0);
    CHECK(n3 == n1 && memcmp(out1, out2, n1) == 0);

    for (unsigned de = bs_iso_msg_next(&m3, 0); de; de = bs_iso_msg_next(&m3, de)) {
        const struct bs_iso_field_spec *s = bs_iso_dialect_field(d, de);
        unsigned next = bs_iso_msg_next(&m3, de);
        size_t end = next ? m3.wire_off[next] : n1, len, k;
        const uint8_t *v = bs_iso_msg_get(&m3, de, &len);

        /* Each field on its own is exactly its slice of the message. */
        CHECK(bs_iso_pack_field(d, de, v, len, tmp, sizeof(tmp), &k, NULL) == 0);
        CHECK(m3.wire_off[de] + k == end && memcmp(out1 + m3.wire_off[de], tmp, k) == 0);
        CHECK(bs_iso_field_text(d, &m3, de, false, text, sizeof(text)) >= 0);
        if (s->composite == BS_ISO_COMPOSITE_TLV)
            check_tlv(v, len);
        else if (s->composite != BS_ISO_COMPOSITE_NONE)
            check_sub(d, ds, de, v, len);
    }
    return 0;
}
