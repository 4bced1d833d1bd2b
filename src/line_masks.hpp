// Internal: 64-byte block classification shared by the DATA decoder and
// encoder. One pass with SSE2 (the x86-64 baseline) finds every CR, LF and
// "." in a block as bit masks; a block whose line structure is plain (every
// CR followed by LF, every LF preceded by CR, no line starting with ".")
// needs no work but counting, so both codecs skip it whole.
#pragma once

#include <cstdint>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace sansmtp::detail {

inline constexpr int block_size = 64;

struct line_masks {
  std::uint64_t cr = 0, lf = 0, dot = 0;  // bit i: byte i of the block
};

inline line_masks scan_block(const char* p) noexcept {
  line_masks m;
#if defined(__SSE2__)
  const __m128i cr = _mm_set1_epi8('\r'), lf = _mm_set1_epi8('\n'), dot = _mm_set1_epi8('.');
  for (int i = 0; i < 4; ++i) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * i));
    const auto bits = [&](__m128i c) {
      return static_cast<std::uint64_t>(static_cast<std::uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, c))))
             << (16 * i);
    };
    m.cr |= bits(cr);
    m.lf |= bits(lf);
    m.dot |= bits(dot);
  }
#else
  for (int i = 0; i < block_size; ++i) {
    const std::uint64_t bit = std::uint64_t{1} << i;
    if (p[i] == '\r') m.cr |= bit;
    if (p[i] == '\n') m.lf |= bit;
    if (p[i] == '.') m.dot |= bit;
  }
#endif
  return m;
}

// True when the block needs no transformation and holds no rule break, given
// that the byte before it was not a pending CR. `at_line_start`: the byte
// before it was the LF of a CRLF (or this is the first byte of the data).
// A CR in the last byte cannot be judged without the next block: not plain.
inline bool plain_block(const line_masks& m, bool at_line_start) noexcept {
  const std::uint64_t line_starts = (m.lf << 1) | (at_line_start ? 1u : 0u);
  const std::uint64_t bare_lf = m.lf & ~(m.cr << 1);
  const std::uint64_t bare_cr = m.cr & ~(m.lf >> 1);
  return (bare_lf | bare_cr | (m.dot & line_starts)) == 0;
}

}  // namespace sansmtp::detail
