// Internal: UTF-8 validation that says where it breaks (RFC 3629 §4; the
// well-formed sequences of Unicode Table 3-7: no overlongs, no surrogates,
// nothing above U+10FFFF).
#pragma once

#include <cstddef>
#include <string_view>

namespace sansmtp::detail {

// The offset of the first octet that cannot continue a well-formed UTF-8
// text, or npos. `truncated_ok`: a sequence cut short by the end of the text
// is fine (more text may follow); otherwise it breaks at text.size().
inline std::size_t first_invalid_utf8(std::string_view text, bool truncated_ok = false) noexcept {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t n = text.size();
  std::size_t i = 0;
  while (i < n) {
    const unsigned c = s[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t len;
    unsigned lo = 0x80, hi = 0xbf;  // range of the second octet
    if (c >= 0xc2 && c <= 0xdf) {
      len = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
      len = 3;
      if (c == 0xe0) lo = 0xa0;  // overlong
      if (c == 0xed) hi = 0x9f;  // surrogates
    } else if (c >= 0xf0 && c <= 0xf4) {
      len = 4;
      if (c == 0xf0) lo = 0x90;  // overlong
      if (c == 0xf4) hi = 0x8f;  // above U+10FFFF
    } else {
      return i;
    }
    for (std::size_t k = 1; k < len; ++k) {
      if (i + k >= n) return truncated_ok ? std::string_view::npos : n;
      const unsigned b = s[i + k];
      if (k == 1 ? (b < lo || b > hi) : (b & 0xc0) != 0x80) return i + k;
    }
    i += len;
  }
  return std::string_view::npos;
}

inline bool valid_utf8(std::string_view text) noexcept {
  return first_invalid_utf8(text) == std::string_view::npos;
}

}  // namespace sansmtp::detail
