// CSystem: glibc interfaces the Glibc module does not export (mallopt for allocator tuning), the
// CPU's spin-wait hint, and the atomic task ranges of work sharing.
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

// Work sharing (TensorCore's `Parallel.balanced`): each participant's share of a loop's tasks is
// one word, back << 32 | front. The owner takes tasks from the front; the others, once their own
// share is empty, from the back.

/// Takes the front task of `range`; -1 when it is empty.
static inline long aptp_range_take_front(unsigned long long *range) {
  unsigned long long word = __atomic_load_n(range, __ATOMIC_RELAXED);
  for (;;) {
    unsigned long long front = word & 0xFFFFFFFFull, back = word >> 32;
    if (front >= back) return -1;
    if (__atomic_compare_exchange_n(range, &word, word + 1, 1, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) return (long)front;
  }
}

/// Takes the back task of `range`; -1 when it is empty.
static inline long aptp_range_take_back(unsigned long long *range) {
  unsigned long long word = __atomic_load_n(range, __ATOMIC_RELAXED);
  for (;;) {
    unsigned long long front = word & 0xFFFFFFFFull, back = word >> 32;
    if (front >= back) return -1;
    if (__atomic_compare_exchange_n(range, &word, word - (1ull << 32), 1, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
      return (long)(back - 1);
  }
}
