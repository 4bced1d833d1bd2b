// Internal: one parameter word of a known EHLO keyword against its grammar
// (grammar/ehlo_params.rl).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace sansmtp::detail {

// The word grammars of grammar/ehlo_params.rl (its comment has the ABNF).
enum class ehlo_param_grammar : std::uint8_t {
  size,              // RFC 1870: 1*DIGIT
  sasl_mech,         // RFC 4422: 1*20(UPPER-ALPHA / DIGIT / "-" / "_")
  limit,             // RFC 9422: limit-name ["=" limit-value]
  limit_count,       // RFC 9422 §4: the value of a registered limit, 1 to 999999
  deliverby,         // RFC 2852: [1*9DIGIT] *("," extension-token)
  priority_profile,  // RFC 6710: an esmtp-keyword
  release_interval,  // RFC 4865: 1*9DIGIT
  date_time,         // RFC 4865 (erratum 2040): an RFC 3339 date-time
};
inline constexpr std::size_t ehlo_param_grammar_count = 8;
static_assert(static_cast<std::size_t>(ehlo_param_grammar::date_time) + 1 == ehlo_param_grammar_count,
              "ehlo_param_grammar_count counts the grammars");

// The LIMITS names RFC 9422 §4 registers.
enum class limit_name : std::uint8_t { other, rcptmax, mailmax, rcptdomainmax };

struct ehlo_param_scan {
  bool valid = false;
  // size, limit_count, deliverby, release_interval: the number read (0 when
  // deliverby has none); overflow when it does not fit 64 bits.
  std::uint64_t value = 0;
  bool overflow = false;
  // limit: the registered name it is, and where its value starts (after
  // "="), or npos when it has none.
  limit_name limit = limit_name::other;
  std::size_t value_at = std::string_view::npos;
};

// Nothing is valid unless the whole word matches.
ehlo_param_scan scan_ehlo_param(ehlo_param_grammar g, std::string_view word) noexcept;

// The class-table check the capability parser uses for AUTH's mechanisms;
// scan_ehlo_param(sasl_mech, ...) is its reference.
bool sasl_mech_fast_path(std::string_view word) noexcept;

}  // namespace sansmtp::detail
