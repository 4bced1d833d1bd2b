// Internal: which known extension an EHLO keyword names (grammar/ehlo.rl).
#pragma once

#include <sansmtp/capabilities.hpp>

#include <optional>
#include <string_view>

namespace sansmtp::detail {

std::optional<extension> keyword_extension(std::string_view keyword) noexcept;

}  // namespace sansmtp::detail
