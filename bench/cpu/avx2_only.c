/* LD_PRELOAD shim: the process sees an AVX2-only x86-64 CPU (no AVX-512, AMX, AVX-VNNI or bf16).
 *
 * A machine with AVX-512 then stands in for the AMD EPYC / Ryzen (before Zen 4) and Intel
 * (before Sapphire Rapids) CPUs most users have: every library that picks its kernels by
 * `cpuid` (ONNX Runtime's MLAS, oneDNN, MKL, OpenBLAS, NumPy, FAISS's loader) takes its AVX2
 * path. It uses Linux's CPUID faulting (arch_prctl ARCH_SET_CPUID, the cpuid_fault CPU flag):
 * the cpuid instruction traps, and the SIGSEGV handler answers it with the feature bits masked.
 * Only the instruction set is emulated, not the microarchitecture: clocks, caches and the
 * width of the execution units stay the host's.
 *
 * Build: gcc -O2 -shared -fPIC -o avx2_only.so avx2_only.c
 * Use:   LD_PRELOAD=$PWD/avx2_only.so python ...   (ZHSEARCH_AVX2_ONLY_QUIET=1 silences the banner)
 */
#define _GNU_SOURCE
#include <asm/prctl.h>
#include <cpuid.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#ifndef ARCH_SET_CPUID
#define ARCH_SET_CPUID 0x1012
#endif

static struct sigaction previous;

/* Leaf 7 sub-leaf 0: EBX avx512f/dq/ifma/pf/er/cd/bw/vl; ECX avx512vbmi/vbmi2/vnni/bitalg/vpopcntdq;
 * EDX avx512_4vnniw/4fmaps/vp2intersect/amx_bf16/avx512_fp16/amx_tile/amx_int8.
 * Leaf 7 sub-leaf 1: EAX avx_vnni/avx512_bf16; EDX avx_vnni_int8/avx_ne_convert. */
static void mask(unsigned leaf, unsigned sub, unsigned *a, unsigned *b, unsigned *c, unsigned *d) {
    if (leaf != 7) return;
    if (sub == 0) {
        *b &= ~((1u << 16) | (1u << 17) | (1u << 21) | (1u << 26) | (1u << 27) | (1u << 28) | (1u << 30) | (1u << 31));
        *c &= ~((1u << 1) | (1u << 6) | (1u << 11) | (1u << 12) | (1u << 14));
        *d &= ~((1u << 2) | (1u << 3) | (1u << 8) | (1u << 22) | (1u << 23) | (1u << 24) | (1u << 25));
    } else if (sub == 1) {
        *a &= ~((1u << 4) | (1u << 5));
        *d &= ~((1u << 4) | (1u << 5));
    }
}

static void on_segv(int sig, siginfo_t *info, void *raw) {
    ucontext_t *ctx = raw;
    greg_t *r = ctx->uc_mcontext.gregs;
    const unsigned char *ip = (const unsigned char *)r[REG_RIP];
    if (ip[0] != 0x0f || ip[1] != 0xa2) {  /* a real fault: hand it on */
        if (previous.sa_flags & SA_SIGINFO) { previous.sa_sigaction(sig, info, raw); return; }
        if (previous.sa_handler != SIG_DFL && previous.sa_handler != SIG_IGN) { previous.sa_handler(sig); return; }
        signal(SIGSEGV, SIG_DFL);
        return;  /* the instruction faults again, now fatally */
    }
    unsigned leaf = (unsigned)r[REG_RAX], sub = (unsigned)r[REG_RCX], a, b, c, d;
    syscall(SYS_arch_prctl, ARCH_SET_CPUID, 1);
    __cpuid_count(leaf, sub, a, b, c, d);
    syscall(SYS_arch_prctl, ARCH_SET_CPUID, 0);
    mask(leaf, sub, &a, &b, &c, &d);
    r[REG_RAX] = a; r[REG_RBX] = b; r[REG_RCX] = c; r[REG_RDX] = d;
    r[REG_RIP] += 2;
}

__attribute__((constructor)) static void start(void) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_sigaction = on_segv;
    action.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigemptyset(&action.sa_mask);
    sigaction(SIGSEGV, &action, &previous);
    /* per thread, inherited by the threads created after: set before any library starts one */
    if (syscall(SYS_arch_prctl, ARCH_SET_CPUID, 0) != 0) {
        fprintf(stderr, "avx2_only: this kernel or CPU has no CPUID faulting; the full CPU is seen\n");
        return;
    }
    if (!getenv("ZHSEARCH_AVX2_ONLY_QUIET"))
        fprintf(stderr, "avx2_only: cpuid reports no AVX-512, AMX, AVX-VNNI or bf16 in this process\n");
}
