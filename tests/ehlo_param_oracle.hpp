// A second reading of the EHLO parameter grammars of grammar/ehlo_params.rl,
// in plain C++ straight from the ABNF its comment quotes, for the unit tests
// and fuzz/fuzz_ehlo_capabilities to hold the machine to. Slow and simple
// on purpose; the RFC 3339 date-time is the library's other, field-by-field
// reading (src/syntax/date_time.cpp, the one MAIL's HOLDUNTIL uses).
#pragma once

#include "ascii.hpp"
#include "date_time.hpp"
#include "ehlo_param_scan.hpp"

#include <cstdint>
#include <string_view>

namespace sansmtp::test {

struct param_oracle {
  bool valid = false;
  std::uint64_t value = 0;  // when the grammar reads a number and it fits
  bool overflow = false;
  detail::limit_name limit = detail::limit_name::other;
  std::size_t value_at = std::string_view::npos;
};

namespace oracle_detail {

inline bool digit(char c) { return c >= '0' && c <= '9'; }
inline bool alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// All of s digits, at least one and at most max; the value, saturating.
inline bool digits(std::string_view s, std::size_t max, param_oracle& out) {
  if (s.empty() || s.size() > max) return false;
  for (const char c : s) {
    if (!digit(c)) return false;
    const std::uint64_t d = static_cast<std::uint64_t>(c - '0');
    if (out.value > (UINT64_MAX - d) / 10) out.overflow = true;
    out.value = out.value * 10 + d;
  }
  return true;
}

}  // namespace oracle_detail

inline param_oracle oracle_scan(detail::ehlo_param_grammar g, std::string_view w) {
  using namespace oracle_detail;
  using G = detail::ehlo_param_grammar;
  param_oracle r;
  switch (g) {
    case G::size:
      r.valid = digits(w, std::string_view::npos, r);
      break;
    case G::sasl_mech: {
      r.valid = !w.empty() && w.size() <= 20;
      for (const char c : w) r.valid = r.valid && ((c >= 'A' && c <= 'Z') || digit(c) || c == '-' || c == '_');
      break;
    }
    case G::limit: {
      const auto eq = w.find('=');
      const auto name = w.substr(0, eq);
      bool ok = !name.empty();
      for (const char c : name) ok = ok && (alpha(c) || digit(c) || c == '-' || c == '_');
      if (eq != std::string_view::npos) {
        const auto value = w.substr(eq + 1);
        ok = ok && !value.empty();
        for (const char c : value) ok = ok && c >= 0x21 && c <= 0x7e && c != ';';
        r.value_at = eq + 1;
      }
      r.valid = ok;
      if (ascii::iequals(name, "RCPTMAX")) r.limit = detail::limit_name::rcptmax;
      if (ascii::iequals(name, "MAILMAX")) r.limit = detail::limit_name::mailmax;
      if (ascii::iequals(name, "RCPTDOMAINMAX")) r.limit = detail::limit_name::rcptdomainmax;
      if (!ok) r = param_oracle{};
      break;
    }
    case G::limit_count:
      r.valid = !w.empty() && w[0] != '0' && digits(w, 6, r);
      break;
    case G::deliverby: {
      const auto comma = w.find(',');
      const auto min = w.substr(0, comma);
      r.valid = min.empty() || digits(min, 9, r);
      // *( "," extension-token ): every piece after a comma is non-empty
      // and has no SP, comma or control (the word has no SP to begin with).
      auto rest = comma == std::string_view::npos ? std::string_view() : w.substr(comma);
      while (r.valid && !rest.empty()) {
        rest.remove_prefix(1);  // the comma
        const auto next = rest.find(',');
        const auto token = rest.substr(0, next);
        r.valid = !token.empty();
        for (const char c : token) r.valid = r.valid && c > 0x20 && c < 0x7f;
        rest = next == std::string_view::npos ? std::string_view() : rest.substr(next);
      }
      break;
    }
    case G::priority_profile:
      r.valid = !w.empty() && (alpha(w[0]) || digit(w[0]));
      for (const char c : w) r.valid = r.valid && (alpha(c) || digit(c) || c == '-');
      break;
    case G::release_interval:
      r.valid = digits(w, 9, r);
      break;
    case G::date_time:
      r.valid = !detail::date_time_error(w).has_value();
      break;
  }
  if (!r.valid) return param_oracle{};
  return r;
}

}  // namespace sansmtp::test
