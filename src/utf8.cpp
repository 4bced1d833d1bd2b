#include "utf8.hpp"

#include <cstdint>

namespace sansmtp::detail {

std::size_t invalid_utf8_at(std::string_view text) noexcept {
  const auto* const start = reinterpret_cast<const unsigned char*>(text.data());
  const auto* s = start;
  const auto* end = s + text.size();
  while (s < end) {
    const unsigned c = *s;
    if (c < 0x80) {
      ++s;
      continue;
    }
    std::size_t len;
    std::uint32_t cp, min;
    if ((c & 0xe0) == 0xc0) {
      len = 2;
      cp = c & 0x1f;
      min = 0x80;
    } else if ((c & 0xf0) == 0xe0) {
      len = 3;
      cp = c & 0x0f;
      min = 0x800;
    } else if ((c & 0xf8) == 0xf0) {
      len = 4;
      cp = c & 0x07;
      min = 0x10000;
    } else
      return static_cast<std::size_t>(s - start);
    if (static_cast<std::size_t>(end - s) < len) return static_cast<std::size_t>(s - start);
    for (std::size_t i = 1; i < len; ++i) {
      if ((s[i] & 0xc0) != 0x80) return static_cast<std::size_t>(s - start);
      cp = cp << 6 | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
      return static_cast<std::size_t>(s - start);
    s += len;
  }
  return std::string_view::npos;
}

}  // namespace sansmtp::detail
