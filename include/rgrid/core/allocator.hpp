#pragma once
// A training step or a forward pass allocates and frees the same large buffers every time.
// By default glibc gives buffers above its mmap threshold back to the kernel (munmap) and
// trims the top of the heap, so the next step pays a page fault for every 4 KiB it gets back,
// zero-filled by the kernel. tune_allocator() asks glibc to keep freed memory for reuse.
#include <climits>
#include <cstddef>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace rgrid {

/// Makes glibc's malloc keep freed buffers for reuse: every block comes from the heap instead
/// of a fresh mapping (M_MMAP_MAX = 0; a threshold alone stops at glibc's maximum of 32 MiB,
/// and BERT-base's (4096, 3072) GELU tensors at batch 32 or its 94 MB embedding gradient are
/// larger: mapped afresh they cost 295 k page faults per forward, ~15 % of the time — measured,
/// docs/performance.md), and up to `keep_bytes` of free memory at the top of the heap is kept
/// instead of being returned to the kernel. Peak memory does not grow (the kept memory was in
/// use a moment before); memory is held longer. Call it once at the start of a program, before
/// threads start. Returns false where it does nothing (not glibc). rgrid's programs and
/// benchmarks call it. Example: `rgrid::tune_allocator();`
inline bool tune_allocator(std::size_t keep_bytes = std::size_t(1) << 30) {
#if defined(__GLIBC__)
    const int keep = keep_bytes > static_cast<std::size_t>(INT_MAX) ? INT_MAX : static_cast<int>(keep_bytes);
    const bool mmap_ok = ::mallopt(M_MMAP_THRESHOLD, 32 << 20) == 1 && ::mallopt(M_MMAP_MAX, 0) == 1;
    const bool trim_ok = ::mallopt(M_TRIM_THRESHOLD, keep) == 1;
    return mmap_ok && trim_ok;
#else
    (void)keep_bytes;
    return false;
#endif
}

}  // namespace rgrid
