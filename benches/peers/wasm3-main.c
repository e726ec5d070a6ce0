/*
 * A command-line driver for the wasm3 interpreter, used only as a peer in
 * Kiln's benchmark race (benches/peers/install.sh builds it against the C
 * sources shipped in PyPI's pywasm3 sdist, which carries wasm3's core but
 * not its WASI layer or its CLI).
 *
 *   wasm3 PROGRAM.wasm [ARGS...]
 *
 * It provides the part of WASI preview 1 that the benchmark programs reach
 * through Rust's std (arguments, environment, stdout/stderr, clocks,
 * random bytes, exit). Those calls happen only at start-up and to print one
 * result line, so this layer does not affect the timings; what is measured
 * is wasm3's interpreter. Anything else returns ENOSYS.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "wasm3.h"

#define WASI_ESUCCESS 0
#define WASI_EBADF 8
#define WASI_EINVAL 28
#define WASI_EIO 29
#define WASI_ENOSYS 52

static int g_argc;
static char **g_argv;
static int g_exit_code;

/* Checks that [offset, offset+len) lies inside the guest memory. */
static int in_bounds(IM3Runtime runtime, uint64_t offset, uint64_t len)
{
    uint64_t size = m3_GetMemorySize(runtime);
    return offset <= size && len <= size - offset;
}

#define GUEST(off) ((uint8_t *)_mem + (uint32_t)(off))
#define CHECK(off, len)                                                   \
    do {                                                                  \
        if (!in_bounds(runtime, (off), (len)))                            \
            m3ApiTrap(m3Err_trapOutOfBoundsMemoryAccess);                 \
    } while (0)

static void put_u32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static uint32_t get_u32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* args/environ share one shape: a count, a total byte size, then the
 * pointer array and the NUL-terminated strings. */
static m3ApiRawFunction(args_sizes_get)
{
    m3ApiReturnType(uint32_t);
    m3ApiGetArg(uint32_t, argc_ptr);
    m3ApiGetArg(uint32_t, size_ptr);
    CHECK(argc_ptr, 4);
    CHECK(size_ptr, 4);
    uint32_t total = 0;
    for (int i = 0; i < g_argc; i++)
        total += (uint32_t)strlen(g_argv[i]) + 1;
    put_u32(GUEST(argc_ptr), (uint32_t)g_argc);
    put_u32(GUEST(size_ptr), total);
    m3ApiReturn(WASI_ESUCCESS);
}

static m3ApiRawFunction(args_get)
{
    m3ApiReturnType(uint32_t);
    m3ApiGetArg(uint32_t, argv_ptr);
    m3ApiGetArg(uint32_t, buf_ptr);
    for (int i = 0; i < g_argc; i++) {
        uint32_t len = (uint32_t)strlen(g_argv[i]) + 1;
        CHECK(argv_ptr + 4ull * i, 4);
        CHECK(buf_ptr, len);
        put_u32(GUEST(argv_ptr + 4u * i), buf_ptr);
        memcpy(GUEST(buf_ptr), g_argv[i], len);
        buf_ptr += len;
    }
    m3ApiReturn(WASI_ESUCCESS);
}

/* The programs get an empty environment, as under the other runtimes'
 * defaults. */
static m3ApiRawFunction(environ_sizes_get)
{
    m3ApiReturnType(uint32_t);
    m3ApiGetArg(uint32_t, count_ptr);
    m3ApiGetArg(uint32_t, size_ptr);
    CHECK(count_ptr, 4);
    CHECK(size_ptr, 4);
    put_u32(GUEST(count_ptr), 0);
    put_u32(GUEST(size_ptr), 0);
    m3ApiReturn(WASI_ESUCCESS);
}

static m3ApiRawFunction(environ_get)
{
    m3ApiReturnType(uint32_t);
    m3ApiGetArg(uint32_t, env_ptr);
    m3ApiGetArg(uint32_t, buf_ptr);
    (void)env_ptr;
    (void)buf_ptr;
    m3ApiReturn(WASI_ESUCCESS);
}

static m3ApiRawFunction(fd_write)
{
    m3ApiReturnType(uint32_t);
    m3ApiGetArg(uint32_t, fd);
    m3ApiGetArg(uint32_t, iovs);
    m3ApiGetArg(uint32_t, iovs_len);
    m3ApiGetArg(uint32_t, nwritten_ptr);
    if (fd != 1 && fd != 2)
        m3ApiReturn(WASI_EBADF);
    CHECK(iovs, 8ull * iovs_len);
    CHECK(nwritten_ptr, 4);
    uint32_t total = 0;
    for (uint32_t i = 0; i < iovs_len; i++) {
        uint32_t buf = get_u32(GUEST(iovs + 8 * i));
        uint32_t len = get_u32(GUEST(iovs + 8 * i + 4));
        CHECK(buf, len);
        size_t done = 0;
        while (done < len) {
            ssize_t n = write((int)fd, GUEST(buf) + done, len - done);
            if (n < 0) {
                if (errno == EINTR)
                    continue;
                m3ApiReturn(WASI_EIO);
            }
            done += (size_t)n;
        }
        total += len;
    }
    put_u32(GUEST(nwritten_ptr), total);
    m3ApiReturn(WASI_ESUCCESS);
}

/* stdin is empty: a read returns end of file. */
static m3ApiRawFunction(fd_read)
{
    m3ApiReturnType(uint32_t);
    m3ApiGetArg(uint32_t, fd);
    m3ApiGetArg(uint32_t, iovs);
    m3ApiGetArg(uint32_t, iovs_len);
    m3ApiGetArg(uint32_t, nread_ptr);
    (void)iovs;
    (void)iovs_len;
    if (fd != 0)
        m3ApiReturn(WASI_EBADF);
    CHECK(nread_ptr, 4);
    put_u32(GUEST(nread_ptr), 0);
    m3ApiReturn(WASI_ESUCCESS);
}

/* Only stdio exists; wasi-libc asks for fdstat of 0..2 and stops at the
 * first fd without a preopen. */
static m3ApiRawFunction(fd_fdstat_get)
{
    m3ApiReturnType(uint32_t);
    m3ApiGetArg(uint32_t, fd);
    m3ApiGetArg(uint32_t, stat_ptr);
    if (fd > 2)
        m3ApiReturn(WASI_EBADF);
    CHECK(stat_ptr, 24);
    memset(GUEST(stat_ptr), 0, 24);
    GUEST(stat_ptr)[0] = 2; /* character device */
    m3ApiReturn(WASI_ESUCCESS);
}

static m3ApiRawFunction(fd_prestat_get)
{
    m3ApiReturnType(uint32_t);
    m3ApiGetArg(uint32_t, fd);
    m3ApiGetArg(uint32_t, buf);
    (void)fd;
    (void)buf;
    m3ApiReturn(WASI_EBADF);
}

static m3ApiRawFunction(fd_close)
{
    m3ApiReturnType(uint32_t);
    m3ApiGetArg(uint32_t, fd);
    m3ApiReturn(fd <= 2 ? WASI_ESUCCESS : WASI_EBADF);
}

static m3ApiRawFunction(clock_time_get)
{
    m3ApiReturnType(uint32_t);
    m3ApiGetArg(uint32_t, clock_id);
    m3ApiGetArg(uint64_t, precision);
    m3ApiGetArg(uint32_t, time_ptr);
    (void)precision;
    clockid_t id;
    switch (clock_id) {
    case 0: id = CLOCK_REALTIME; break;
    case 1: id = CLOCK_MONOTONIC; break;
    case 2: id = CLOCK_PROCESS_CPUTIME_ID; break;
    case 3: id = CLOCK_THREAD_CPUTIME_ID; break;
    default: m3ApiReturn(WASI_EINVAL);
    }
    CHECK(time_ptr, 8);
    struct timespec ts;
    if (clock_gettime(id, &ts) != 0)
        m3ApiReturn(WASI_EIO);
    uint64_t ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
    memcpy(GUEST(time_ptr), &ns, 8);
    m3ApiReturn(WASI_ESUCCESS);
}

static m3ApiRawFunction(random_get)
{
    m3ApiReturnType(uint32_t);
    m3ApiGetArg(uint32_t, buf);
    m3ApiGetArg(uint32_t, len);
    CHECK(buf, len);
    uint32_t done = 0;
    while (done < len) {
        ssize_t n = getrandom(GUEST(buf) + done, len - done, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            m3ApiReturn(WASI_EIO);
        }
        done += (uint32_t)n;
    }
    m3ApiReturn(WASI_ESUCCESS);
}

static m3ApiRawFunction(sched_yield_)
{
    m3ApiReturnType(uint32_t);
    m3ApiReturn(WASI_ESUCCESS);
}

static m3ApiRawFunction(proc_exit)
{
    m3ApiGetArg(uint32_t, code);
    g_exit_code = (int)code;
    m3ApiTrap(m3Err_trapExit);
}

/* Every other preview-1 function Rust's std may import: present, so the
 * module links, and honest about doing nothing. */
static m3ApiRawFunction(not_supported)
{
    m3ApiReturnType(uint32_t);
    m3ApiReturn(WASI_ENOSYS);
}

static const char *const k_unsupported[][2] = {
    {"fd_seek", "i(iIi*)"},          {"fd_filestat_get", "i(i*)"},
    {"fd_fdstat_set_flags", "i(ii)"}, {"fd_prestat_dir_name", "i(i*i)"},
    {"fd_readdir", "i(i*iI*)"},      {"fd_sync", "i(i)"},
    {"fd_pread", "i(i*iI*)"},        {"fd_pwrite", "i(i*iI*)"},
    {"path_open", "i(ii*iIIi*)"},    {"path_filestat_get", "i(ii*i*)"},
    {"path_create_directory", "i(i*i)"}, {"path_unlink_file", "i(i*i)"},
    {"path_remove_directory", "i(i*i)"}, {"path_rename", "i(i*ii*i)"},
    {"path_readlink", "i(i*i*i*)"},  {"poll_oneoff", "i(**i*)"},
    {"clock_res_get", "i(i*)"},
};

static int link_wasi(IM3Module module, const char *name, const char *sig, M3RawCall f)
{
    M3Result r = m3_LinkRawFunction(module, "wasi_snapshot_preview1", name, sig, f);
    /* A module that does not import the function is fine. */
    if (r && r != m3Err_functionLookupFailed) {
        fprintf(stderr, "wasm3: linking %s: %s\n", name, r);
        return -1;
    }
    return 0;
}

static unsigned char *read_file(const char *path, uint32_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) != 0) {
        fclose(f);
        return NULL;
    }
    long size = ftell(f);
    if (size < 0 || size > 0x7fffffffL || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return NULL;
    }
    unsigned char *buf = malloc(size ? (size_t)size : 1);
    if (buf && fread(buf, 1, (size_t)size, f) != (size_t)size) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *len = (uint32_t)size;
    return buf;
}

static int fail(const char *what, M3Result r, IM3Runtime runtime)
{
    fprintf(stderr, "wasm3: %s: %s", what, r);
    if (runtime) {
        M3ErrorInfo info;
        m3_GetErrorInfo(runtime, &info);
        if (info.message && *info.message)
            fprintf(stderr, " (%s)", info.message);
    }
    fputc('\n', stderr);
    return 1;
}

int main(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help")) {
        fprintf(stderr, "usage: wasm3 PROGRAM.wasm [ARGS...]\n");
        return 2;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("wasm3 %s (Kiln benchmark driver)\n", M3_VERSION);
        return 0;
    }
    g_argc = argc - 1;
    g_argv = argv + 1;

    uint32_t len = 0;
    unsigned char *bytes = read_file(argv[1], &len);
    if (!bytes) {
        fprintf(stderr, "wasm3: cannot read %s: %s\n", argv[1], strerror(errno));
        return 1;
    }
    IM3Environment env = m3_NewEnvironment();
    /* 8 MiB of value stack, like a default native thread stack. */
    IM3Runtime runtime = env ? m3_NewRuntime(env, 8 << 20, NULL) : NULL;
    if (!runtime)
        return fail("initialising", m3Err_mallocFailed, NULL);
    IM3Module module;
    M3Result r = m3_ParseModule(env, &module, bytes, len);
    if (r)
        return fail("parsing", r, NULL);
    r = m3_LoadModule(runtime, module);
    if (r)
        return fail("loading", r, runtime);

    int bad = 0;
    bad |= link_wasi(module, "args_sizes_get", "i(**)", args_sizes_get);
    bad |= link_wasi(module, "args_get", "i(**)", args_get);
    bad |= link_wasi(module, "environ_sizes_get", "i(**)", environ_sizes_get);
    bad |= link_wasi(module, "environ_get", "i(**)", environ_get);
    bad |= link_wasi(module, "fd_write", "i(i*i*)", fd_write);
    bad |= link_wasi(module, "fd_read", "i(i*i*)", fd_read);
    bad |= link_wasi(module, "fd_fdstat_get", "i(i*)", fd_fdstat_get);
    bad |= link_wasi(module, "fd_prestat_get", "i(i*)", fd_prestat_get);
    bad |= link_wasi(module, "fd_close", "i(i)", fd_close);
    bad |= link_wasi(module, "clock_time_get", "i(iI*)", clock_time_get);
    bad |= link_wasi(module, "random_get", "i(*i)", random_get);
    bad |= link_wasi(module, "sched_yield", "i()", sched_yield_);
    bad |= link_wasi(module, "proc_exit", "v(i)", proc_exit);
    for (size_t i = 0; i < sizeof k_unsupported / sizeof k_unsupported[0]; i++)
        bad |= link_wasi(module, k_unsupported[i][0], k_unsupported[i][1], not_supported);
    if (bad)
        return 1;

    IM3Function start;
    r = m3_FindFunction(&start, runtime, "_start");
    if (r)
        return fail("finding _start", r, runtime);
    r = m3_CallV(start);
    fflush(stdout);
    if (r == m3Err_trapExit)
        return g_exit_code;
    if (r)
        return fail("running", r, runtime);
    return 0;
}
