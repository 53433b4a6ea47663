/*
 * Dialects for the fuzz targets. The shipped files come from $BS_DIALECT_DIR, else from
 * the source tree the target was built from (BS_FUZZ_DIALECT_DIR).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "iso8583/iso_internal.h"

#ifndef BS_FUZZ_DIALECT_DIR
#define BS_FUZZ_DIALECT_DIR "configs/dialects"
#endif

/* Everything the shipped dialects leave out. */
static const char wild_yaml[] =
    "dialect: fuzz-wild\n"
    "header_bytes: 2\n"
    "mti: ebcdic\n"
    "bitmap: {encoding: hex-ebcdic, tertiary: true}\n"
    "fields:\n"
    "  2: {format: n, length: LL, max: 19, prefix: binary, data: bcd, unit: bytes, pad: left,"
    " pad_nibble: F, sensitivity: masked}\n"
    "  3:\n"
    "    format: n\n"
    "    length: fixed\n"
    "    size: 6\n"
    "    data: ebcdic\n"
    "    composite: {kind: fixed, fields: {1: {format: n, length: fixed, size: 2},"
    " 2: {format: n, length: fixed, size: 2}, 3: {format: n, length: fixed, size: 2}}}\n"
    "  4: {format: n, length: fixed, size: 12, data: bcd, pad: right, pad_nibble: F}\n"
    "  5: {format: n, length: fixed, size: 3, data: bcd, pad: right, pad_nibble: F}\n"
    "  35: {format: z, length: LL, max: 37, prefix: ebcdic, data: ebcdic, sensitivity: secret}\n"
    "  36: {format: z, length: LLL, max: 104, prefix: bcd, data: bcd, unit: bytes, pad: right,"
    " pad_nibble: F}\n"
    "  41: {format: ans, length: fixed, size: 8, data: ebcdic, justify: right, pad_char: '_'}\n"
    "  43: {format: ans, length: LLLL, max: 9999, prefix: binary, data: ebcdic}\n"
    "  48: {format: ans, length: L, max: 9, prefix: bcd}\n"
    "  52: {format: b, length: fixed, size: 8, sensitivity: secret}\n"
    "  55: {format: b, length: LLL, max: 999, prefix: binary, composite: tlv}\n"
    "  64: {format: b, length: LLLLL, max: 99999, prefix: ascii}\n"
    "  70: {format: n, length: fixed, size: 3, data: ebcdic}\n"
    "  127:\n"
    "    format: b\n"
    "    length: LLLLLL\n"
    "    max: 999999\n"
    "    prefix: ascii\n"
    "    composite:\n"
    "      bitmap: binary\n"
    "      fields:\n"
    "        2: {format: ans, length: LL, max: 32}\n"
    "        3: {format: n, length: LL, max: 19, prefix: bcd, data: bcd}\n"
    "        25: {format: ans, length: LLLL, max: 9999}\n"
    "  128: {format: b, length: fixed, size: 8}\n"
    "  130: {format: an, length: fixed, size: 1}\n"
    "  192: {format: b, length: LL, max: 99, prefix: bcd}\n";

/* The layout of the public conformance vectors (pyiso8583 default_ascii and friends). */
static const char vectors_yaml[] = "dialect: fuzz-vectors\n"
                                   "mti: ascii\n"
                                   "bitmap: hex-ascii\n"
                                   "fields:\n"
                                   "  2: {format: n, length: LL, max: 19}\n"
                                   "  3: {format: n, length: fixed, size: 6}\n"
                                   "  4: {format: n, length: fixed, size: 12}\n"
                                   "  5: {format: n, length: LLL, max: 999}\n"
                                   "  7: {format: n, length: LLL, max: 999}\n"
                                   "  12: {format: n, length: fixed, size: 6}\n"
                                   "  20: {format: n, length: fixed, size: 3}\n"
                                   "  21: {format: n, length: fixed, size: 3}\n"
                                   "  39: {format: an, length: fixed, size: 2}\n"
                                   "  55: {format: b, length: LLL, max: 999, composite: tlv}\n"
                                   "  102: {format: ans, length: LL, max: 28}\n";

static const char *const files[] = { "mir", "shetab", "iso87-ascii", "iso87-binary" };
static struct bs_iso_dialect *dialects[BS_FUZZ_DIALECTS][2];

static struct bs_iso_dialect *parse_or_die(const char *text, size_t n, const char *name)
{
    struct bs_iso_dialect *d = NULL;
    char err[512];

    if (bs_iso_dialect_parse(text, n, name, &d, err, sizeof(err)) < 0) {
        fprintf(stderr, "fuzz: cannot load dialect %s: %s\n", name, err);
        abort();
    }
    return d;
}

static struct bs_iso_dialect *load(unsigned i)
{
    static char text[1 << 17];
    const char *dir = getenv("BS_DIALECT_DIR");
    char path[1024];
    size_t n;
    FILE *f;

    if (i == 4)
        return parse_or_die(wild_yaml, sizeof(wild_yaml) - 1, "fuzz-wild");
    if (i == 5)
        return parse_or_die(vectors_yaml, sizeof(vectors_yaml) - 1, "fuzz-vectors");
    snprintf(path, sizeof(path), "%s/%s.yaml", dir ? dir : BS_FUZZ_DIALECT_DIR, files[i]);
    f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "fuzz: cannot open %s (set BS_DIALECT_DIR)\n", path);
        abort();
    }
    n = fread(text, 1, sizeof(text), f);
    fclose(f);
    return parse_or_die(text, n, path);
}

const struct bs_iso_dialect *bs_fuzz_dialect(unsigned i, int slow)
{
    if (i >= BS_FUZZ_DIALECTS)
        abort();
    if (!dialects[i][0]) {
        dialects[i][0] = load(i);
        dialects[i][1] = load(i);
        bs__iso_dialect_set_fast(dialects[i][1], false);
    }
    return dialects[i][slow ? 1 : 0];
}

void bs_fuzz_init(void)
{
    for (unsigned i = 0; i < BS_FUZZ_DIALECTS; i++)
        bs_fuzz_dialect(i, 0);
}
