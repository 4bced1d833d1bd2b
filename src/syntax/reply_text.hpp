// Internal: what RFC 5321 §4.2 allows in reply text, shared by the reader and
// the writer so that what one writes the other reads.
#pragma once

#include <sansmtp/core/errc.hpp>

#include "ascii.hpp"
#include "utf8.hpp"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string_view>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace sansmtp::detail {

struct text_fault {
  errc code = errc::ok;
  std::size_t at = 0;  // index into the text
};

#if defined(__SSE2__)
// Bit i set: octet i of the 16 at p is neither HT nor %d32-126. A signed
// compare makes octets >= 0x80 negative, so "< 0x20" catches them too.
inline unsigned not_text_mask(const char* p) noexcept {
  const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  const __m128i bad =
      _mm_or_si128(_mm_cmplt_epi8(v, _mm_set1_epi8(0x20)), _mm_cmpeq_epi8(v, _mm_set1_epi8(0x7f)));
  return static_cast<unsigned>(
      _mm_movemask_epi8(_mm_andnot_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('\t')), bad)));
}
#endif

// Bit i set: octet i of the 64 at p is not %d32-126 (HT included: the fast
// path leaves a line with HT to the careful one). Adding 1 moves DEL to
// 0x80, so one signed "< 0x21" catches controls, DEL and every octet >= 0x80.
// Fewer than 64 octets before `end` are read through a copy padded with SP.
inline std::uint64_t not_printable_mask64(const char* p, const char* end) noexcept {
  char padded[64];
  if (end - p < 64) {
    std::memset(padded, ' ', sizeof padded);
    std::memcpy(padded, p, static_cast<std::size_t>(end - p));
    p = padded;
  }
#if defined(__SSE2__)
  const __m128i one = _mm_set1_epi8(1), limit = _mm_set1_epi8(0x21);
  const auto block = [&](const char* q) {
    const __m128i v = _mm_add_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(q)), one);
    return static_cast<std::uint64_t>(static_cast<unsigned>(_mm_movemask_epi8(_mm_cmplt_epi8(v, limit))));
  };
  return block(p) | block(p + 16) << 16 | block(p + 32) << 32 | block(p + 48) << 48;
#else
  std::uint64_t mask = 0;
  for (unsigned i = 0; i < 64; ++i)
    if (!ascii::is_printable(p[i])) mask |= std::uint64_t{1} << i;
  return mask;
#endif
}

// Whether every octet is HT or %d32-126: the common case, checked 16 octets
// at a time with SSE2 (the x86-64 baseline); the last load overlaps the one
// before instead of falling back to a byte loop.
inline bool plain_text(std::string_view text) noexcept {
  const char* p = text.data();
  const std::size_t n = text.size();
#if defined(__SSE2__)
  if (n >= 16) {
    for (std::size_t i = 0; i + 16 < n; i += 16)
      if (not_text_mask(p + i)) return false;
    return not_text_mask(p + n - 16) == 0;
  }
#endif
  for (std::size_t i = 0; i < n; ++i)
    if (!ascii::is_printable(p[i]) && p[i] != '\t') return false;
  return true;
}

// The index of the LF that ends the line at p when the line is plain (every
// octet before its CRLF is HT or %d32-126), looking at no more than n
// octets: the line end and the text check in one pass. npos when the line is
// not plain, its LF is not within n octets, or n < 16; the caller then
// decides the slow way.
inline std::size_t plain_line_end(const char* p, std::size_t n) noexcept {
#if defined(__SSE2__)
  if (n < 16) return std::string_view::npos;
  for (std::size_t i = 0; i < n;) {
    // The last block overlaps the one before; octets before i are done.
    const std::size_t base = i + 16 <= n ? i : n - 16;
    const unsigned mask = not_text_mask(p + base) & (0xffffu << (i - base));
    if (mask != 0) {
      const std::size_t at = base + static_cast<std::size_t>(__builtin_ctz(mask));
      if (p[at] == '\r' && at + 1 < n && p[at + 1] == '\n') return at + 1;
      return std::string_view::npos;
    }
    i = base + 16;
  }
#else
  (void)p;
  (void)n;
#endif
  return std::string_view::npos;
}

// The first octet of `text` that textstring (HT / SP / %d33-126) does not
// allow; with `allow_utf8` also well-formed UTF-8 whose code points are not
// unsafe_to_display. `cr_code` names a CR (the reader calls it bare_cr: its line end is
// already cut off). `unfinished`: the text may go on, so a final CR or a
// UTF-8 sequence cut by its end is not yet a fault.
inline std::optional<text_fault> check_reply_text(std::string_view text, bool allow_utf8, errc cr_code,
                                                  bool unfinished) noexcept {
  if (plain_text(text)) return std::nullopt;
  if (unfinished && text.back() == '\r') text.remove_suffix(1);
  for (std::size_t i = 0; i < text.size();) {
    const char c = text[i];
    if (ascii::is_printable(c) || c == '\t') {
      ++i;
    } else if (!ascii::is_non_ascii(c)) {
      return text_fault{c == '\r' ? cr_code : errc::control_character, i};
    } else if (!allow_utf8) {
      return text_fault{errc::non_ascii, i};
    } else {
      std::size_t j = i;
      while (j < text.size() && ascii::is_non_ascii(text[j])) ++j;
      const auto run = text.substr(i, j - i);
      const auto bad_at = first_invalid_utf8(run, unfinished && j == text.size());
      // Well-formed C1 and bidi controls are controls all the same: they
      // would reach a screen or a log raw (see unsafe_to_display).
      const auto unsafe_at = first_unsafe_to_display(run);
      if (unsafe_at != std::string_view::npos && (bad_at == std::string_view::npos || unsafe_at < bad_at))
        return text_fault{errc::control_character, i + unsafe_at};
      if (bad_at != std::string_view::npos) return text_fault{errc::bad_utf8, i + bad_at};
      i = j;
    }
  }
  return std::nullopt;
}

// The i-th digit of a Reply-code: %x32-35 %x30-35 %x30-39 (RFC 5321 §4.2).
constexpr bool reply_code_digit(std::size_t i, char c) noexcept {
  constexpr char hi[] = {'5', '5', '9'};
  return c >= (i == 0 ? '2' : '0') && c <= hi[i];
}

}  // namespace sansmtp::detail
