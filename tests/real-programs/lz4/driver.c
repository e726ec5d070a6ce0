/* Drives the LZ4 library (fetched by lz4.sh, not kept here) inside a
 * freestanding wasm module, built once for wasm32 and once for wasm64 from
 * this same source.
 *
 * run(base, size, rounds) generates `size` bytes of text-like input at
 * address `base` (0: just above the module's own data), then `rounds`
 * times compresses it, decompresses the result and checks that the round
 * trip gives the input back. It returns a 64-bit digest of everything it
 * produced, or a negative error code. A `base` above 4 GiB, which only the
 * wasm64 build accepts, puts every buffer beyond 32-bit reach. */

#include <stddef.h>
#include <stdint.h>

#include "lz4.h"

extern unsigned char __heap_base;

#define PAGE 65536u

/* Grows the memory so that [0, end) is addressable. */
static int ensure_memory(uint64_t end) {
    uint64_t have = (uint64_t)__builtin_wasm_memory_size(0) * PAGE;
    if (end <= have) {
        return 1;
    }
    uint64_t pages = (end - have + PAGE - 1) / PAGE;
    return __builtin_wasm_memory_grow(0, (size_t)pages) != (size_t)-1;
}

static uint64_t bump_next;
static uint64_t bump_end;

/* LZ4 only allocates in its heap mode (off here); these satisfy the link. */
void *LZ4_malloc(size_t n) {
    uint64_t at = (bump_next + 15) & ~(uint64_t)15;
    if (at + n > bump_end && !ensure_memory(at + n)) {
        return NULL;
    }
    bump_next = at + n;
    if (bump_next > bump_end) {
        bump_end = bump_next;
    }
    return (void *)(uintptr_t)at;
}
void *LZ4_calloc(size_t count, size_t n) {
    unsigned char *p = LZ4_malloc(count * n);
    if (p) {
        __builtin_memset(p, 0, count * n);
    }
    return p;
}
void LZ4_free(void *p) { (void)p; }

static uint64_t rng_state;
static uint32_t next_random(void) {
    /* xorshift64*: a fixed sequence, the same on every runtime. */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * 0x2545F4914F6CDD1Dull) >> 32);
}

static const char *const words[] = {
    "module", "memory", "table", "global", "func", "export", "import",
    "i32.load", "i64.store", "local.get", "call", "block", "loop", "br_if",
    "throw", "try_table", "catch", "the", "of", "and", "a", "to", "in",
};

/* Fills dst with lines of words drawn with a skewed distribution: as
 * compressible as source text, so LZ4 finds real matches. */
static void fill_text(unsigned char *dst, size_t size) {
    size_t at = 0, column = 0;
    const size_t nwords = sizeof words / sizeof words[0];
    while (at < size) {
        uint32_t r = next_random();
        const char *w = words[(r % nwords) * (r >> 28) / 16];
        while (*w && at < size) {
            dst[at++] = (unsigned char)*w++;
        }
        column += 1;
        if (at < size) {
            dst[at++] = (column % 12 == 0) ? '\n' : ' ';
        }
        if ((r & 0xff) == 0 && at + 4 < size) {
            /* a number now and then breaks up the repeats */
            for (int i = 0; i < 4; i++) {
                dst[at++] = (unsigned char)('0' + (next_random() % 10));
            }
        }
    }
}

static int same_bytes(const unsigned char *a, const unsigned char *b, size_t n) {
    for (size_t i = 0; i < n; i++) {
        if (a[i] != b[i]) {
            return 0;
        }
    }
    return 1;
}

static uint64_t digest(uint64_t h, const unsigned char *p, size_t n) {
    /* FNV-1a, 64-bit */
    for (size_t i = 0; i < n; i++) {
        h = (h ^ p[i]) * 0x100000001b3ull;
    }
    return h;
}

int64_t run(uint64_t base, uint32_t size, uint32_t rounds) {
    if (size == 0 || size > LZ4_MAX_INPUT_SIZE) {
        return -1;
    }
    if (base == 0) {
        base = (uint64_t)(uintptr_t)&__heap_base;
    }
    if (base > (uint64_t)SIZE_MAX - 3 * (uint64_t)size - PAGE) {
        return -2; /* does not fit the address space (wasm32) */
    }
    bump_next = bump_end = base;
    unsigned char *input = LZ4_malloc(size);
    int bound = LZ4_compressBound((int)size);
    unsigned char *packed = LZ4_malloc((size_t)bound);
    unsigned char *output = LZ4_malloc(size);
    if (!input || !packed || !output) {
        return -3; /* memory.grow refused */
    }

    rng_state = 0x9E3779B97F4A7C15ull;
    fill_text(input, size);
    uint64_t h = digest(0xcbf29ce484222325ull, input, size);
    for (uint32_t round = 0; round < rounds; round++) {
        /* Vary the acceleration so that rounds do different work. */
        int packed_size = LZ4_compress_fast((const char *)input, (char *)packed,
                                            (int)size, bound, 1 + (int)(round % 4));
        if (packed_size <= 0) {
            return -4;
        }
        int got = LZ4_decompress_safe((const char *)packed, (char *)output,
                                      packed_size, (int)size);
        if (got != (int)size || !same_bytes(input, output, size)) {
            return -5;
        }
        h = digest(h, packed, (size_t)packed_size);
        h ^= (uint64_t)packed_size << 1;
    }
    return (int64_t)(h >> 1);
}
