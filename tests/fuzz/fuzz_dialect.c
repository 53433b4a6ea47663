/*
 * Fuzz target: bs_iso_dialect_parse() on arbitrary YAML, then the codec on whatever
 * dialect comes out.
 *
 * Checked: a rejection leaves no dialect and says "file:line:column: ..."; an accepted
 * dialect packs a message with every field it defines set to a plausible value (or
 * rejects the message cleanly), and what it packs unpacks and packs again to the same
 * bytes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"

#define CHECK(c)                                                                                 \
    do {                                                                                         \
        if (!(c)) {                                                                              \
            fprintf(stderr, "fuzz_dialect: check failed: %s (%s:%d)\n", #c, __FILE__, __LINE__); \
            abort();                                                                             \
        }                                                                                        \
    } while (0)

static struct bs_iso_msg m1, m2;
static uint8_t w1[65536], w2[65536];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

static void exercise(const struct bs_iso_dialect *d)
{
    uint8_t v[64];
    size_t n1, n2;

    bs_iso_msg_init(&m1, "0200");
    for (unsigned de = 2; de <= BS_ISO_MAX_DE; de++) {
        const struct bs_iso_field_spec *s = bs_iso_dialect_field(d, de);
        size_t len;

        if (!s->defined)
            continue;
        len = s->len_digits ? (s->size < 5 ? s->size : 5) : s->size;
        if (len > sizeof(v))
            continue;
        memset(v,
               s->format == BS_ISO_FMT_N || s->format == BS_ISO_FMT_Z ? '7'
               : s->format == BS_ISO_FMT_B                            ? 0xA5
                                                                      : 'Q',
               len);
        if (bs_iso_msg_set(&m1, de, v, len) < 0)
            break;
    }
    if (bs_iso_pack(d, &m1, w1, sizeof(w1), &n1, NULL) < 0)
        return;
    CHECK(bs_iso_unpack(d, w1, n1, &m2, NULL) == 0);
    CHECK(bs_iso_pack(d, &m2, w2, sizeof(w2), &n2, NULL) == 0);
    CHECK(n1 == n2 && memcmp(w1, w2, n1) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct bs_iso_dialect *d = NULL;
    char err[512];
    int r;

    err[0] = 'x';
    r = bs_iso_dialect_parse((const char *)data, size, "fuzz.yaml", &d, err, sizeof(err));
    if (r < 0) {
        CHECK(d == NULL);
        CHECK(r == BS_EFORMAT || r == BS_ELIMIT || r == BS_ENOMEM);
        CHECK(strncmp(err, "fuzz.yaml:", 10) == 0);
        return 0;
    }
    CHECK(d != NULL);
    exercise(d);
    bs_iso_dialect_free(d);
    return 0;
}
