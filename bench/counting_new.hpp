// Benchmarks: a replacing global operator new that counts heap allocations,
// so a benchmark can report allocations per item. Include it in exactly one
// translation unit of a benchmark program.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <new>

namespace sansmtp::bench {
inline std::atomic<std::uint64_t> allocations{0};
}

void* operator new(std::size_t n) {
  sansmtp::bench::allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
