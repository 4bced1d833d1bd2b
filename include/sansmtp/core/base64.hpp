// RFC 4648 base64 (SASL data, RFC 4954 §4).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace sansmtp {

// RFC 4648 base64 (LOGIN's user name and password, any SASL data); nullopt
// when it is not base64.
[[nodiscard]] std::optional<std::string> decode_base64(std::string_view base64);
std::string encode_base64(std::string_view bytes);

}  // namespace sansmtp
