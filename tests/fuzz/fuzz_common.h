/*
 * Shared set-up of the libFuzzer targets: the dialects they decode with.
 */
#ifndef BS_FUZZ_COMMON_H
#define BS_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include <bridgesim/iso8583.h>

/* The shipped dialects (mir, shetab, iso87-ascii, iso87-binary) and two built here to
 * reach the other encodings: EBCDIC, headers, tertiary bitmaps, byte-counted BCD,
 * binary prefixes, composites. */
#define BS_FUZZ_DIALECTS 6

/*
 * Dialect @i (0..BS_FUZZ_DIALECTS-1), loaded on first use. With @slow, a twin whose
 * short paths are off (the general code only), for differential checks. Aborts when a
 * dialect cannot be loaded: a fuzzer without its dialects tests nothing.
 */
const struct bs_iso_dialect *bs_fuzz_dialect(unsigned i, int slow);

/* Load (or abort) every dialect: call from LLVMFuzzerInitialize(). */
void bs_fuzz_init(void);

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
