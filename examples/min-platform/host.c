/* A C program that embeds Kiln through the `no_std` static library built
 * from this directory (src/lib.rs), with the platform in platform.c.
 *
 *   host MODULE.wasm SIGNAL_FREE.kwasm SIGNALS.kwasm
 *
 * runs the same module three ways (interpreted; precompiled native code
 * without signals-based traps; precompiled native code whose traps are
 * faults handed to Kiln by platform.c's handler), checks every result
 * and trap, and prints them. Exit status 0 when all are as expected.
 *
 * Built with -DMINIMAL_PLATFORM (the library without its vm-and-signals
 * feature, platform.c with TLS and locks only, and the module's native
 * code linked in as `minp_linked_module`):
 *
 *   host MODULE.wasm
 *
 * runs it interpreted and as the linked-in signal-free code, whose linear
 * memory is on the heap. */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The library's API (src/lib.rs). */
typedef struct MinpInstance MinpInstance;
typedef int32_t (*minp_host_fn)(int32_t);
MinpInstance *minp_load(uint32_t kind, const uint8_t *bytes, size_t len, minp_host_fn host,
                        char *err, size_t err_len);
int32_t minp_call(MinpInstance *instance, const char *name, size_t name_len, int32_t arg,
                  int32_t *result, char *err, size_t err_len);
MinpInstance *minp_load_static(uint32_t kind, const void *module, minp_host_fn host, char *err,
                               size_t err_len);
void minp_free(MinpInstance *instance);

#ifdef MINIMAL_PLATFORM
/* Written by `kiln compile --emit-object --symbol minp_linked_module`. */
extern const unsigned char minp_linked_module[];
/* No fault handler here: nothing can be raised by a fault. */
static unsigned long platform_traps_from_faults;
#else
/* platform.c counts the faults Kiln claimed as traps. */
extern volatile unsigned long platform_traps_from_faults;
#endif

static int32_t host_double(int32_t x) { return 2 * x; }

static uint8_t *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16, n = 0;
    uint8_t *buf = malloc(cap);
    size_t got;
    while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) buf = realloc(buf, cap *= 2);
    }
    fclose(f);
    *len = n;
    return buf;
}

static int failures;

/* Calls `name(arg)` and checks the outcome: a value, or a trap whose
 * message contains `trap`. */
static void expect(const char *mode, MinpInstance *inst, const char *name, int32_t arg,
                   int32_t value, const char *trap) {
    char err[512];
    int32_t got = 0;
    int32_t rc = minp_call(inst, name, strlen(name), arg, &got, err, sizeof err);
    int ok;
    if (rc == 0) {
        printf("%-12s %s(%d) = %d", mode, name, arg, got);
        ok = !trap && got == value;
    } else {
        /* First line of the message: the trap, without the backtrace. */
        char *nl = strchr(err, '\n');
        if (nl) *nl = 0;
        printf("%-12s %s(%d) %s: %s", mode, name, arg, rc == 1 ? "trapped" : "failed", err);
        ok = rc == 1 && trap && strstr(err, trap);
    }
    printf("%s\n", ok ? "" : "   <-- UNEXPECTED");
    failures += !ok;
}

/* Runs the module in `kind`, from the file at `path` or (if NULL) the
 * linked-in code, and checks how its traps were raised: by faults
 * (`faults`: 1) or by explicit checks (0). */
static void run(const char *mode, uint32_t kind, const char *path, int faults) {
    char err[512];
    MinpInstance *inst;
    if (path) {
        size_t len;
        uint8_t *bytes = read_file(path, &len);
        if (!bytes) {
            printf("%-12s cannot read %s\n", mode, path);
            failures++;
            return;
        }
        inst = minp_load(kind, bytes, len, host_double, err, sizeof err);
        free(bytes);
    } else {
#ifdef MINIMAL_PLATFORM
        inst = minp_load_static(kind, minp_linked_module, host_double, err, sizeof err);
#else
        inst = minp_load_static(kind, NULL, host_double, err, sizeof err);
#endif
    }
    if (!inst) {
        printf("%-12s load failed: %s\n", mode, err);
        failures++;
        return;
    }
    unsigned long before = platform_traps_from_faults;
    expect(mode, inst, "fib", 20, 6765, NULL);
    expect(mode, inst, "call_host", 20, 42, NULL);
    expect(mode, inst, "load", 8, 0x64636261, NULL);
    expect(mode, inst, "load", 65535, 0, "out of bounds");
    expect(mode, inst, "div", 0, 0, "divide by zero");
    expect(mode, inst, "recurse", 0, 0, "stack");
    /* The store is still usable after the traps. */
    expect(mode, inst, "fib", 10, 55, NULL);
    unsigned long taken = platform_traps_from_faults - before;
    int ok = faults ? taken == 3 : taken == 0;
    printf("%-12s traps raised by a fault and platform.c's handler: %lu%s\n", mode, taken,
           ok ? "" : "   <-- UNEXPECTED");
    failures += !ok;
    minp_free(inst);
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
#ifdef MINIMAL_PLATFORM
    if (argc != 2) {
        fprintf(stderr, "usage: %s MODULE.wasm\n", argv[0]);
        return 2;
    }
    run("interpreted", 0, argv[1], 0);
    run("linked", 1, NULL, 0);
    /* Code relying on faults cannot run without a fault handler. */
    {
        char err[512];
        MinpInstance *inst =
            minp_load_static(2, minp_linked_module, host_double, err, sizeof err);
        char *nl = strchr(err, '\n');
        if (nl) *nl = 0;
        int ok = !inst && strstr(err, "custom-native-signals");
        printf("signals-based code without a fault handler: %s%s\n", inst ? "loaded" : err,
               ok ? "" : "   <-- UNEXPECTED");
        failures += !ok;
        minp_free(inst);
    }
#else
    if (argc != 4) {
        fprintf(stderr, "usage: %s MODULE.wasm SIGNAL_FREE.kwasm SIGNALS.kwasm\n", argv[0]);
        return 2;
    }
    run("interpreted", 0, argv[1], 0);
    run("signal-free", 1, argv[2], 0);
    run("signals", 2, argv[3], 1);
#endif
    /* Bad input is an error, never a crash. */
    static const uint8_t junk[] = "\0asm\x01\0\0\0\x7f";
    for (uint32_t kind = 0; kind < 3; kind++) {
        char err[512];
        MinpInstance *inst = minp_load(kind, junk, sizeof junk - 1, host_double, err, sizeof err);
        char *nl = strchr(err, '\n');
        if (nl) *nl = 0;
        printf("kind %u on a malformed module: %s%s\n", kind, inst ? "loaded" : err,
               inst ? "   <-- UNEXPECTED" : "");
        failures += inst != NULL;
        minp_free(inst);
    }
    printf(failures ? "%d unexpected results\n" : "all results as expected\n", failures);
    return failures ? 1 : 0;
}
