// Internal: the keyword of an EHLO keyword line and which known extension
// it names (grammar/ehlo.rl).
#pragma once

#include <sansmtp/syntax/capabilities.hpp>

#include <cstddef>
#include <optional>
#include <string_view>

namespace sansmtp::detail {

struct keyword_scan {
  bool valid = false;   // the line starts with an ehlo-keyword, then SP or its end
  std::size_t length = 0;  // of the keyword, when valid
  std::optional<extension> known;
};

// The keyword at the start of `line`.
keyword_scan scan_ehlo_keyword(std::string_view line) noexcept;

// The extension `keyword` (nothing else) names.
std::optional<extension> keyword_extension(std::string_view keyword) noexcept;

}  // namespace sansmtp::detail
