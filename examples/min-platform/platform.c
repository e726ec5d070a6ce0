/* include/kiln-platform.h for Linux on x86_64 and aarch64: what a `no_std`
 * Kiln built with custom-virtual-memory and custom-native-signals asks of
 * its embedder, written against the C library only. Each function's
 * contract is its documentation in the header.
 *
 * With -DMINIMAL_PLATFORM, only what Kiln needs without those features:
 * the per-thread slot and locks. */

#define _GNU_SOURCE
#ifndef MINIMAL_PLATFORM
#define KILN_CUSTOM_VIRTUAL_MEMORY
#define KILN_CUSTOM_NATIVE_SIGNALS
#endif
#include "kiln-platform.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#if !defined(__x86_64__) && !defined(__aarch64__)
#error "platform.c reads the machine context of x86_64 and aarch64 only"
#endif

/* ---- the per-thread slot and locks ---- */

static __thread uint8_t *tls_value;

uint8_t *kiln_tls_get(void) { return tls_value; }

void kiln_tls_set(uint8_t *value) { tls_value = value; }

void kiln_lock_acquire(size_t *lock) {
    size_t free_word = 0;
    while (!__atomic_compare_exchange_n(lock, &free_word, 1, 1, __ATOMIC_ACQUIRE,
                                        __ATOMIC_RELAXED)) {
        free_word = 0;
        sched_yield();
    }
}

void kiln_lock_release(size_t *lock) { __atomic_store_n(lock, 0, __ATOMIC_RELEASE); }

#ifndef MINIMAL_PLATFORM

/* ---- virtual memory ---- */

static int posix_prot(uint32_t prot) {
    int p = PROT_NONE;
    if (prot & KILN_PROT_READ) p |= PROT_READ;
    if (prot & KILN_PROT_WRITE) p |= PROT_WRITE;
    if (prot & KILN_PROT_EXEC) p |= PROT_EXEC;
    return p;
}

size_t kiln_page_size(void) { return (size_t)sysconf(_SC_PAGESIZE); }

uint8_t *kiln_mmap_new(size_t size, uint32_t prot) {
    void *p = mmap(NULL, size, posix_prot(prot), MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                   -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

int32_t kiln_mmap_remap(uint8_t *addr, size_t size, uint32_t prot) {
    void *p = mmap(addr, size, posix_prot(prot),
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
    return p == MAP_FAILED ? errno : 0;
}

int32_t kiln_mprotect(uint8_t *addr, size_t size, uint32_t prot) {
    if (mprotect(addr, size, posix_prot(prot)) != 0) return errno;
#if defined(__aarch64__)
    /* Kiln cleaned the caches on this core; other cores running threads of
     * this process must discard prefetched instructions too. Kernels
     * without the command leave it to their next context switch. */
    if (prot & KILN_PROT_EXEC) {
        static int registered = -1;
        if (registered < 0)
            registered = syscall(SYS_membarrier, 64 /* REGISTER_PRIVATE_EXPEDITED_SYNC_CORE */,
                                 0) == 0;
        if (registered) syscall(SYS_membarrier, 32 /* PRIVATE_EXPEDITED_SYNC_CORE */, 0);
    }
#endif
    return 0;
}

int32_t kiln_munmap(uint8_t *addr, size_t size) { return munmap(addr, size) == 0 ? 0 : errno; }

/* A memory image is a sealed memfd, mapped privately (copy-on-write). */
struct KilnMemoryImage {
    int fd;
    size_t len;
};

int32_t kiln_memory_image_new(const uint8_t *data, size_t len, struct KilnMemoryImage **image) {
    *image = NULL;
    int fd = memfd_create("kiln-memory-image", MFD_CLOEXEC);
    if (fd < 0) return 0; /* no memfd: Kiln copies the data instead */
    size_t done = 0;
    if (ftruncate(fd, (off_t)len) != 0) goto fail;
    while (done < len) {
        ssize_t n = pwrite(fd, data + done, len - done, (off_t)done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) goto fail;
        done += (size_t)n;
    }
    struct KilnMemoryImage *made = malloc(sizeof *made);
    if (!made) goto fail;
    made->fd = fd;
    made->len = len;
    *image = made;
    return 0;
fail:;
    int err = errno ? errno : EIO;
    close(fd);
    return err;
}

int32_t kiln_memory_image_map_at(struct KilnMemoryImage *image, uint8_t *addr, size_t len) {
    if (len != image->len) return EINVAL;
    void *p = mmap(addr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, image->fd, 0);
    return p == MAP_FAILED ? errno : 0;
}

void kiln_memory_image_free(struct KilnMemoryImage *image) {
    close(image->fd); /* existing mappings keep the file alive */
    free(image);
}

/* ---- fault handling ---- */

static KilnTrapHandler kiln_handler;

/* How many faults Kiln claimed as traps (host.c reports it). */
volatile unsigned long platform_traps_from_faults;

static void signal_default(int signal) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = SIG_DFL;
    sigemptyset(&action.sa_mask);
    sigaction(signal, &action, NULL);
}

static void on_fault(int signal, siginfo_t *info, void *context) {
    ucontext_t *uc = context;
#if defined(__x86_64__)
    uintptr_t pc = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
    uintptr_t fp = (uintptr_t)uc->uc_mcontext.gregs[REG_RBP];
#elif defined(__aarch64__)
    uintptr_t pc = (uintptr_t)uc->uc_mcontext.pc;
    uintptr_t fp = (uintptr_t)uc->uc_mcontext.regs[29];
#endif
    uintptr_t addr = (signal == SIGSEGV || signal == SIGBUS) ? (uintptr_t)info->si_addr : 0;
    KilnTrapResume resume;
    if (kiln_handler(pc, fp, addr, &resume)) {
#if defined(__x86_64__)
        uc->uc_mcontext.gregs[REG_RIP] = (greg_t)resume.pc;
        uc->uc_mcontext.gregs[REG_RSP] = (greg_t)resume.sp;
#elif defined(__aarch64__)
        uc->uc_mcontext.pc = resume.pc;
        uc->uc_mcontext.sp = resume.sp;
#endif
        platform_traps_from_faults++;
        return;
    }
    /* Not a WebAssembly trap: crash as if this handler did not exist (the
     * faulting instruction runs again under the default action). */
    signal_default(signal);
}

int32_t kiln_traps_init(KilnTrapHandler handler) {
    static const int signals[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE};
    kiln_handler = handler;
    for (size_t i = 0; i < sizeof signals / sizeof signals[0]; i++) {
        struct sigaction action;
        memset(&action, 0, sizeof action);
        action.sa_sigaction = on_fault;
        action.sa_flags = SA_SIGINFO | SA_NODEFER | SA_ONSTACK;
        sigemptyset(&action.sa_mask);
        if (sigaction(signals[i], &action, NULL) != 0) return errno;
    }
    return 0;
}

#endif /* MINIMAL_PLATFORM */
