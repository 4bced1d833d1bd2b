// Internal: UTF-8 validation (RFC 3629: shortest form, no surrogates, <= U+10FFFF).
#pragma once

#include <cstddef>
#include <string_view>

namespace sansmtp::detail {

// Offset of the first octet that does not start a valid UTF-8 sequence, or
// std::string_view::npos when the whole text is valid.
std::size_t invalid_utf8_at(std::string_view text) noexcept;

}  // namespace sansmtp::detail
