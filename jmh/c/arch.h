/*
 * What the C references need to know of the instruction set, in one place: the spin-wait hint.
 *
 * SPIN_HINT() is the hint each turn of a busy-wait loop gives the core, the C twin of Java's
 * Thread.onSpinWait(), so that C and Java spin alike:
 *   x86-64   pause: HotSpot compiles Thread.onSpinWait() to the same instruction.
 *   aarch64  isb: what HotSpot emits for Thread.onSpinWait() on Neoverse N1, N2, V1 and V2 (AWS
 *            Graviton 2 to 4) and Ampere cores by default (-XX:OnSpinWaitInst=isb, once; twice on
 *            Ampere; "none", no instruction, on other cores). An isb holds the core until its
 *            pipeline has drained, a short delay as pause's is; yield, the other candidate, is a
 *            hint for cores that run several threads, and these cores complete it as a nop.
 * Any other architecture stops the build here rather than spinning without a hint.
 */
#ifndef PANMAP_BENCH_ARCH_H
#define PANMAP_BENCH_ARCH_H

#if defined(__x86_64__)
#define SPIN_HINT() __builtin_ia32_pause()
#elif defined(__aarch64__)
#define SPIN_HINT() __asm__ volatile("isb")
#else
#error "jmh/c/arch.h: no spin-wait hint for this architecture (x86-64 and aarch64 only): add one here"
#endif

#endif
