// CSystem: glibc interfaces the Glibc module does not export (mallopt for allocator tuning), and
// the CPU's spin-wait hint.
#include <malloc.h>

/// Tells the CPU the caller is spinning (x86 `pause`): frees the core's execution resources for a
/// sibling hyperthread and slows the loop to a few cycles per iteration.
static inline void aptp_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield");
#endif
}
