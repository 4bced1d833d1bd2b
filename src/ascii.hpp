// Internal: locale-free ASCII helpers (std::isalpha & co. depend on the locale
// and are undefined for negative char values).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace sansmtp::ascii {

constexpr bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }
constexpr bool is_alpha(char c) noexcept { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
constexpr bool is_let_dig(char c) noexcept { return is_alpha(c) || is_digit(c); }
constexpr bool is_ldh(char c) noexcept { return is_let_dig(c) || c == '-'; }
constexpr bool is_printable(char c) noexcept { return c >= 0x20 && c < 0x7f; }
constexpr bool is_non_ascii(char c) noexcept { return static_cast<unsigned char>(c) >= 0x80; }
constexpr char to_lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; }

constexpr unsigned hex_value(char c) noexcept {
  if (is_digit(c)) return static_cast<unsigned>(c - '0');
  return static_cast<unsigned>(to_lower(c) - 'a' + 10);
}

constexpr bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (to_lower(a[i]) != to_lower(b[i])) return false;
  return true;
}
constexpr bool istarts_with(std::string_view s, std::string_view prefix) noexcept {
  return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}
constexpr bool iends_with(std::string_view s, std::string_view suffix) noexcept {
  return s.size() >= suffix.size() && iequals(s.substr(s.size() - suffix.size()), suffix);
}

inline std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = to_lower(c);
  return out;
}

template <class Pred>
constexpr bool all_of(std::string_view s, Pred pred) noexcept {
  for (char c : s)
    if (!pred(c)) return false;
  return !s.empty();
}

}  // namespace sansmtp::ascii
