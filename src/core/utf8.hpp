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

// The octets of the sequence that starts with `lead` (1 for a byte that
// starts none; the caller checks the sequence is there and well-formed).
constexpr std::size_t utf8_length(unsigned char lead) noexcept {
  return lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
}

// The code point of the well-formed sequence `seq` (one whole sequence).
constexpr char32_t utf8_code_point(std::string_view seq) noexcept {
  const auto lead = static_cast<unsigned char>(seq[0]);
  if (seq.size() == 1) return lead;
  char32_t cp = lead & (0x7fu >> seq.size());
  for (std::size_t k = 1; k < seq.size(); ++k) cp = (cp << 6) | (static_cast<unsigned char>(seq[k]) & 0x3fu);
  return cp;
}

// The one rule for "never echo raw" (terminal, log, CLI text output, reply
// text): code points that steer how what follows is shown instead of being
// shown themselves.
// - C0 controls and DEL: CR, LF and ESC sequences (ECMA-48).
// - C1 controls U+0080-U+009F: U+009B is CSI, so "\xc2\x9b" "31m" colours a
//   terminal that reads 8-bit controls from UTF-8 as ESC "[31m" does (ECMA-48
//   section 5.3), and U+0085 (NEL) ends a line for some log viewers.
// - Bidirectional formatting characters (Unicode UAX #9 section 2): the
//   embeddings and overrides U+202A-U+202E, the isolates U+2066-U+2069 and
//   the marks U+200E, U+200F, U+061C reorder the text around them, so it
//   reads differently to a person than to a program (CVE-2021-42574).
// - The line and paragraph separators U+2028, U+2029: line ends to editors,
//   JSON viewers and some log pipelines, so they forge log lines as LF does.
constexpr bool unsafe_to_display(char32_t cp) noexcept {
  return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x061c || cp == 0x200e || cp == 0x200f ||
         cp == 0x2028 || cp == 0x2029 || (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

// The offset of the first code point of `text` that is unsafe_to_display, or
// npos. `text` is well-formed UTF-8 up to its first_invalid_utf8(): the walk
// stops there, so a sequence that is broken or cut by the end is the UTF-8
// check's business, not this one's.
inline std::size_t first_unsafe_to_display(std::string_view text) noexcept {
  for (std::size_t i = 0; i < text.size();) {
    const auto lead = static_cast<unsigned char>(text[i]);
    const std::size_t len = utf8_length(lead);
    if (i + len > text.size() || (lead >= 0x80 && len == 1)) break;
    const auto seq = text.substr(i, len);
    if (len > 1 && !valid_utf8(seq)) break;
    if (unsafe_to_display(utf8_code_point(seq))) return i;
    i += len;
  }
  return std::string_view::npos;
}

}  // namespace sansmtp::detail
