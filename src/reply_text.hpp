// Internal: what RFC 5321 §4.2 allows in reply text, shared by the reader and
// the writer so that what one writes the other reads.
#pragma once

#include <sansmtp/errc.hpp>

#include "ascii.hpp"
#include "utf8.hpp"

#include <cstddef>
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

// Whether every octet is HT or %d32-126: the common case, checked 16 (or 8)
// octets at a time with SSE2 (the x86-64 baseline); the last load overlaps
// the one before instead of falling back to a byte loop.
inline bool plain_text(std::string_view text) noexcept {
  const char* p = text.data();
  const std::size_t n = text.size();
#if defined(__SSE2__)
  const auto bad = [](__m128i v) {
    const __m128i space = _mm_set1_epi8(0x20), del = _mm_set1_epi8(0x7f), ht = _mm_set1_epi8('\t');
    // Signed compare: octets >= 0x80 are negative, so "< 0x20" catches them too.
    const __m128i b = _mm_or_si128(_mm_cmplt_epi8(v, space), _mm_cmpeq_epi8(v, del));
    return _mm_movemask_epi8(_mm_andnot_si128(_mm_cmpeq_epi8(v, ht), b));
  };
  const auto load16 = [](const char* q) { return _mm_loadu_si128(reinterpret_cast<const __m128i*>(q)); };
  const auto load8 = [](const char* q) { return _mm_loadl_epi64(reinterpret_cast<const __m128i*>(q)); };
  if (n >= 16) {
    for (std::size_t i = 0; i + 16 < n; i += 16)
      if (bad(load16(p + i))) return false;
    return bad(load16(p + n - 16)) == 0;
  }
  if (n >= 8) return ((bad(load8(p)) | bad(load8(p + n - 8))) & 0xff) == 0;
#endif
  for (std::size_t i = 0; i < n; ++i)
    if (!ascii::is_printable(p[i]) && p[i] != '\t') return false;
  return true;
}

// The first octet of `text` that textstring (HT / SP / %d33-126) does not
// allow. `cr_code` names a CR (the reader calls it bare_cr: its line end is
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
      const auto bad_at = first_invalid_utf8(text.substr(i, j - i), unfinished && j == text.size());
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
