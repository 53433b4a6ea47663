/*
 * Shared helpers of the ISO 8583 unit tests (one executable, several groups).
 */
#ifndef BS_TEST_ISO8583_COMMON_H
#define BS_TEST_ISO8583_COMMON_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <bridgesim/iso8583.h>

/* Parse hex (spaces allowed) into @out; returns the byte count, fails the test on junk. */
size_t t_hex(const char *hex, uint8_t *out, size_t cap);

/* Upper-case hex of @n bytes into a static buffer (one per call site use). */
const char *t_tohex(const uint8_t *v, size_t n, char *buf, size_t cap);

/* Load configs/dialects/NAME.yaml (directory from $BS_DIALECT_DIR); fails the test on error. */
struct bs_iso_dialect *t_load_dialect(const char *name);

/* A field spec with the usual defaults (ASCII prefix and data, left pad 0, pad char ' '). */
struct bs_iso_field_spec t_spec(enum bs_iso_format fmt, unsigned len_digits, uint32_t size);

/* Route library allocations through cmocka's leak-checking allocator. */
void t_use_test_allocator(void);

int t_run_codec(void);
int t_run_dialects(void);
int t_run_conformance(void);
int t_run_frames(void);

#endif
