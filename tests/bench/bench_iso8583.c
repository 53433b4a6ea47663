/*
 * bench_iso8583: pack and unpack of a typical 0200 (21 data elements, DE 55 and a DE 127
 * signature envelope included) in every shipped dialect. Reports the median ns per
 * operation (thread CPU time) over repeated batches, and counts heap allocations during
 * the timed loops through the library's allocator hook (the codec promises none).
 *
 * Usage: bench_iso8583 [DIALECT_DIR] [--json]; DIALECT_DIR defaults to $BS_DIALECT_DIR.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bridgesim/iso8583.h>

#ifndef BATCHES
#define BATCHES 41
#endif
#ifndef PER_BATCH
#define PER_BATCH 20000
#endif

static size_t allocations;

static void *count_malloc(size_t n)
{
    allocations++;
    return malloc(n);
}

static void *count_calloc(size_t a, size_t b)
{
    allocations++;
    return calloc(a, b);
}

static void *count_realloc(void *p, size_t n)
{
    allocations++;
    return realloc(p, n);
}

/*
 * CPU time of this thread, not wall time: on a shared machine the wall clock also counts
 * the time other processes hold the CPU, which says nothing about the codec.
 */
static double now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

static void typical_0200(struct bs_iso_msg *m)
{
    static const uint8_t icc[] = { 0x9F, 0x02, 0x06, 0x00, 0x00, 0x00, 0x01, 0x23, 0x45, 0x5F,
                                   0x2A, 0x02, 0x06, 0x43, 0x9F, 0x36, 0x02, 0x00, 0x2A, 0x82,
                                   0x02, 0x19, 0x80, 0x95, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00 };
    uint8_t sig[72];

    for (size_t i = 0; i < sizeof(sig); i++)
        sig[i] = (uint8_t)(i * 37 + 1);
    bs_iso_msg_init(m, "0200");
    bs_iso_msg_set_str(m, 2, "2200700123456781");
    bs_iso_msg_set_str(m, 3, "000000");
    bs_iso_msg_set_num(m, 4, 250000, 12);
    bs_iso_msg_set_str(m, 7, "1129120501");
    bs_iso_msg_set_num(m, 11, 4711, 6);
    bs_iso_msg_set_str(m, 12, "150501");
    bs_iso_msg_set_str(m, 13, "1129");
    bs_iso_msg_set_str(m, 14, "2812");
    bs_iso_msg_set_str(m, 18, "5411");
    bs_iso_msg_set_str(m, 22, "051");
    bs_iso_msg_set_str(m, 25, "00");
    bs_iso_msg_set_str(m, 32, "220070");
    bs_iso_msg_set_str(m, 35, "2200700123456781=28122011234");
    bs_iso_msg_set_str(m, 37, "433312000123");
    bs_iso_msg_set_str(m, 41, "TERM0001");
    bs_iso_msg_set_str(m, 42, "MERCHANT0000001");
    bs_iso_msg_set_str(m, 43, "GROCERY 17             MOSCOW         RU");
    bs_iso_msg_set_str(m, 49, "643");
    bs_iso_msg_set(m, 52, "\x12\x34\x56\x78\x9A\xBC\xDE\xF0", 8);
    bs_iso_msg_set(m, 55, icc, sizeof(icc));
    bs_iso_msg_set(m, 127, sig, sizeof(sig));
}

static int load(const char *dir, const char *name, struct bs_iso_dialect **ret)
{
    static char text[1 << 17];
    char path[1024], err[512];
    size_t n;
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s.yaml", dir, name);
    f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "bench_iso8583: cannot open %s\n", path);
        return -1;
    }
    n = fread(text, 1, sizeof(text), f);
    fclose(f);
    if (bs_iso_dialect_parse(text, n, path, ret, err, sizeof(err)) < 0) {
        fprintf(stderr, "bench_iso8583: %s\n", err);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    static const char *const names[] = { "mir", "shetab", "iso87-ascii", "iso87-binary" };
    static const struct bs_allocator counting = { count_malloc, count_calloc, count_realloc, free };
    static struct bs_iso_msg m, out_m;
    static uint8_t wire[4096];
    const char *dir = getenv("BS_DIALECT_DIR");
    bool json = false;
    int rc = 0;

    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json"))
            json = true;
        else
            dir = argv[i];
    }
    if (!dir)
        dir = "configs/dialects";
    bs_set_allocator(&counting);
    if (json)
        printf("{\"unit\":\"ns/op (thread CPU time, "
               "median)\",\"batches\":%d,\"ops_per_batch\":%d,\"dialects\":{",
               BATCHES, PER_BATCH);
    else
        printf("ISO 8583 pack/unpack of a typical 0200: median ns per operation (thread CPU\n"
               "time) over %d batches of %d; allocs = heap allocations in the timed loops\n"
               "%-14s %8s %10s %10s %8s %8s\n",
               BATCHES, PER_BATCH, "dialect", "bytes", "pack_ns", "unpack_ns", "allocs", "des");
    for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
        struct bs_iso_dialect *d;
        struct bs_iso_error err;
        double pack_t[BATCHES], unpack_t[BATCHES];
        size_t n = 0, allocs, des = 0;
        volatile size_t sink = 0;

        if (load(dir, names[k], &d) < 0)
            return 1;
        typical_0200(&m);
        for (unsigned de = bs_iso_msg_next(&m, 0); de; de = bs_iso_msg_next(&m, de))
            des++;
        if (bs_iso_pack(d, &m, wire, sizeof(wire), &n, &err) < 0 ||
            bs_iso_unpack(d, wire, n, &out_m, &err) < 0) {
            fprintf(stderr, "bench_iso8583: %s: DE %d: %s\n", names[k], err.de, err.reason);
            return 1;
        }
        allocs = allocations;
        for (int b = 0; b < BATCHES; b++) {
            double t0 = now_ns();

            for (int i = 0; i < PER_BATCH; i++) {
                size_t len;

                bs_iso_pack(d, &m, wire, sizeof(wire), &len, NULL);
                sink += len;
            }
            pack_t[b] = (now_ns() - t0) / PER_BATCH;
            t0 = now_ns();
            for (int i = 0; i < PER_BATCH; i++) {
                bs_iso_unpack(d, wire, n, &out_m, NULL);
                sink += out_m.used;
            }
            unpack_t[b] = (now_ns() - t0) / PER_BATCH;
        }
        allocs = allocations - allocs;
        qsort(pack_t, BATCHES, sizeof(double), cmp_double);
        qsort(unpack_t, BATCHES, sizeof(double), cmp_double);
        if (json)
            printf("%s\"%s\":{\"bytes\":%zu,\"des\":%zu,\"pack\":%.1f,\"unpack\":%.1f,"
                   "\"allocations\":%zu}",
                   k ? "," : "", names[k], n, des, pack_t[BATCHES / 2], unpack_t[BATCHES / 2],
                   allocs);
        else
            printf("%-14s %8zu %10.1f %10.1f %8zu %8zu\n", names[k], n, pack_t[BATCHES / 2],
                   unpack_t[BATCHES / 2], allocs, des);
        /* Keep the results observable so the loops are not optimised away. */
        if (allocs || sink == 0)
            rc = 1;
        bs_iso_dialect_free(d);
    }
    if (json)
        printf("}}\n");
    return rc;
}
