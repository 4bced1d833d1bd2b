// Display escaping: what of a peer's text may reach a terminal raw.
#include <sansmtp/core/display.hpp>

#include "utf8.hpp"

#include <fmt/format.h>

#include <cstdint>

namespace sansmtp {

std::string escape_for_display(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    const auto lead = static_cast<unsigned char>(text[i]);
    // One well-formed sequence (ASCII included) stays as it is unless its
    // code point is unsafe_to_display; then each of its octets is escaped,
    // as is a stray octet, so the escaped text is lossless.
    const std::size_t len = detail::utf8_length(lead);
    const auto seq = text.substr(i, len);
    const bool whole = seq.size() == len && (lead < 0x80 || (len > 1 && detail::valid_utf8(seq)));
    if (lead == '\\') {
      out += "\\\\";
    } else if (whole && !detail::unsafe_to_display(detail::utf8_code_point(seq))) {
      out += seq;
    } else {
      for (const char c : whole ? seq : seq.substr(0, 1))
        out += fmt::format("\\x{:02x}", static_cast<unsigned char>(c));
    }
    i += whole ? len : 1;
  }
  return out;
}

std::string escape_json_for_display(std::string_view json) {
  std::string out;
  out.reserve(json.size());
  for (std::size_t i = 0; i < json.size();) {
    const std::size_t len = detail::utf8_length(static_cast<unsigned char>(json[i]));
    const auto seq = json.substr(i, len);
    const auto cp = detail::utf8_code_point(seq);
    if (seq.size() == len && detail::unsafe_to_display(cp))
      out += fmt::format("\\u{:04x}", static_cast<std::uint32_t>(cp));
    else
      out += seq;
    i += len;
  }
  return out;
}

}  // namespace sansmtp
