// Internal: 64-byte block classification shared by the DATA decoder and
// encoder. One pass with SSE2 (the x86-64 baseline) finds every CR and LF in
// a block as bit masks; a block whose line structure is plain (every
// CR followed by LF, every LF preceded by CR, no line starting with ".")
// needs no work but counting, so both codecs skip it whole.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace sansmtp::detail {

inline constexpr int block_size = 64;

struct line_masks {
  std::uint64_t cr = 0, lf = 0;  // bit i: byte i of the block
};

inline line_masks scan_block(const char* p) noexcept {
  line_masks m;
#if defined(__SSE2__)
  const __m128i cr = _mm_set1_epi8('\r'), lf = _mm_set1_epi8('\n');
  for (int i = 0; i < 4; ++i) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * i));
    const auto bits = [&](__m128i c) {
      return static_cast<std::uint64_t>(static_cast<std::uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, c))))
             << (16 * i);
    };
    m.cr |= bits(cr);
    m.lf |= bits(lf);
  }
#else
  for (int i = 0; i < block_size; ++i) {
    const std::uint64_t bit = std::uint64_t{1} << i;
    if (p[i] == '\r') m.cr |= bit;
    if (p[i] == '\n') m.lf |= bit;
  }
#endif
  return m;
}

// Where the line structure stands just before a block.
enum class block_entry { text, line_start, after_cr };

// A codec's state (any enum with line_start and cr) as a block entry.
template <class State>
constexpr block_entry entry_of(State s) noexcept {
  return s == State::line_start ? block_entry::line_start
         : s == State::cr       ? block_entry::after_cr
                                : block_entry::text;
}

// True when the block needs no transformation and holds no rule break:
// every LF follows a CR, every CR is followed by an LF (a CR in the last byte
// is left to the next block), no line starts with ".". The codec's state after
// it follows from the last byte: LF -> line start, CR -> after a CR, else text.
// Lines start about once per block, so their first bytes are looked at one by
// one rather than with a third mask.
inline bool plain_block(const char* p, const line_masks& m, block_entry entry) noexcept {
  const std::uint64_t cr_before = entry == block_entry::after_cr ? 1u : 0u;
  const std::uint64_t bare_lf = m.lf & ~((m.cr << 1) | cr_before);
  const std::uint64_t bare_cr = m.cr & ~(m.lf >> 1) & ~(std::uint64_t{1} << 63);
  const std::uint64_t unended_cr = cr_before & ~m.lf;  // the CR before the block is bare
  if ((bare_lf | bare_cr | unended_cr) != 0) return false;
  for (std::uint64_t starts = (m.lf << 1) | (entry == block_entry::line_start ? 1u : 0u); starts;
       starts &= starts - 1)
    if (p[std::countr_zero(starts)] == '.') return false;
  return true;
}

// Skips plain blocks from p while at least a whole block remains, calling
// on_block(masks, p) for each one skipped; `entry` follows along. Returns
// where the caller's byte loop must take over.
template <class OnBlock>
inline const char* skip_plain(const char* p, const char* end, block_entry& entry, OnBlock on_block) noexcept {
  while (end - p >= block_size) {
    const auto m = scan_block(p);
    if (!plain_block(p, m, entry)) break;
    on_block(m, p);
    entry = (m.lf >> 63) ? block_entry::line_start : (m.cr >> 63) ? block_entry::after_cr : block_entry::text;
    p += block_size;
  }
  return p;
}

// Back from a block entry to a codec's state enum (line_start, cr, text).
template <class State>
constexpr State state_of(block_entry e) noexcept {
  return e == block_entry::line_start ? State::line_start
         : e == block_entry::after_cr ? State::cr
                                      : State::text;
}

// Whether `n` bytes at `p` hold a CR or an LF: 16 bytes per step, the last
// step overlapping the previous one so that nothing past p + n is read.
// (One command line: the parser wants to know, not where.)
inline bool has_cr_or_lf(const char* p, std::size_t n) noexcept {
#if defined(__SSE2__)
  if (n >= 16) {
    const __m128i cr = _mm_set1_epi8('\r'), lf = _mm_set1_epi8('\n');
    const auto any = [&](const char* at) {
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(at));
      return _mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, cr), _mm_cmpeq_epi8(v, lf))) != 0;
    };
    for (std::size_t i = 0; i + 16 <= n; i += 16)
      if (any(p + i)) return true;
    return any(p + n - 16);
  }
#endif
  // Shorter lines (most commands) a word at a time: a zero octet of x ^ CR
  // or of x ^ LF is a CR or an LF; two overlapping words cover 4 to 16.
  const auto has_zero = [](std::uint64_t x) { return ((x - 0x0101010101010101u) & ~x & 0x8080808080808080u) != 0; };
  const auto word_has = [&](std::uint64_t x) {
    return has_zero(x ^ 0x0d0d0d0d0d0d0d0du) || has_zero(x ^ 0x0a0a0a0a0a0a0a0au);
  };
  if (n >= 8) {
    std::uint64_t a, b;
    std::memcpy(&a, p, 8);
    std::memcpy(&b, p + n - 8, 8);
    return word_has(a) || word_has(b);
  }
  if (n >= 4) {
    std::uint32_t a, b;
    std::memcpy(&a, p, 4);
    std::memcpy(&b, p + n - 4, 4);
    return word_has(std::uint64_t{a} << 32 | b);
  }
  for (std::size_t i = 0; i < n; ++i)
    if (p[i] == '\r' || p[i] == '\n') return true;
  return false;
}

}  // namespace sansmtp::detail
