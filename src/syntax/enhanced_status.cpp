// RFC 3463 enhanced status codes in reply text (RFC 2034 §4).
#include <sansmtp/syntax/reply.hpp>

#include "ascii.hpp"

namespace sansmtp {

std::string to_string(const enhanced_status& status) {
  std::string out = std::to_string(status.status_class);
  out += '.';
  out += std::to_string(status.subject);
  out += '.';
  out += std::to_string(status.detail);
  return out;
}

namespace parse {

namespace {

// 1-3 digits at text[i], no leading zero but a lone "0" (RFC 3463 §2).
bool status_part(std::string_view text, std::size_t& i, std::uint16_t& value) noexcept {
  const std::size_t start = i;
  unsigned v = 0;
  while (i < text.size() && ascii::is_digit(text[i]) && i - start < 3)
    v = v * 10 + static_cast<unsigned>(text[i++] - '0');
  const std::size_t digits = i - start;
  if (digits == 0 || (digits > 1 && text[start] == '0')) return false;
  value = static_cast<std::uint16_t>(v);
  return true;
}

}  // namespace

std::optional<enhanced_status_prefix> enhanced_status_at(std::string_view text, int reply_code) noexcept {
  const std::size_t n = text.size();
  if (n < 5 || text[1] != '.') return std::nullopt;
  const char c = text[0];
  if ((c != '2' && c != '4' && c != '5') || c - '0' != reply_code / 100) return std::nullopt;
  enhanced_status_prefix out;
  out.status.status_class = static_cast<std::uint8_t>(c - '0');
  // The usual one-digit subject and detail, "c.s.d" then SP or the end.
  if (ascii::is_digit(text[2]) && text[3] == '.' && ascii::is_digit(text[4]) && (n == 5 || text[5] == ' ')) {
    out.status.subject = static_cast<std::uint16_t>(text[2] - '0');
    out.status.detail = static_cast<std::uint16_t>(text[4] - '0');
    out.length = 5;
    return out;
  }
  std::size_t i = 2;
  if (!status_part(text, i, out.status.subject) || i >= text.size() || text[i] != '.') return std::nullopt;
  ++i;
  if (!status_part(text, i, out.status.detail) || (i < text.size() && text[i] != ' ')) return std::nullopt;
  out.length = i;
  return out;
}

}  // namespace parse

std::string_view strip_enhanced_status(std::string_view text, int reply_code) noexcept {
  const auto esc = parse::enhanced_status_at(text, reply_code);
  if (!esc) return text;
  return text.substr(std::min(text.size(), esc->length + 1));
}

}  // namespace sansmtp
