// SASL responses (RFC 4954 §4) as clients send them, and RFC 4616 PLAIN as
// servers read it.
#include <sansmtp/syntax/sasl.hpp>

#include <sansmtp/core/base64.hpp>

namespace sansmtp {

std::optional<plain_credentials> decode_auth_plain(std::string_view base64) {
  // RFC 4616 §2: [authzid] UTF8NUL authcid UTF8NUL passwd; authcid and
  // passwd not empty.
  const auto raw = decode_base64(base64);
  if (!raw) return std::nullopt;
  const auto first = raw->find('\0');
  if (first == std::string::npos) return std::nullopt;
  const auto second = raw->find('\0', first + 1);
  if (second == std::string::npos || raw->find('\0', second + 1) != std::string::npos) return std::nullopt;
  plain_credentials c{raw->substr(0, first), raw->substr(first + 1, second - first - 1), raw->substr(second + 1)};
  if (c.user.empty() || c.password.empty()) return std::nullopt;
  return c;
}

std::optional<std::string> sasl_plain(std::string_view user, std::string_view password,
                                      std::string_view authorization_id) {
  const auto has_nul = [](std::string_view s) { return s.find('\0') != std::string_view::npos; };
  if (user.empty() || password.empty() || has_nul(user) || has_nul(password) || has_nul(authorization_id))
    return std::nullopt;
  std::string raw(authorization_id);
  raw += '\0';
  raw.append(user);
  raw += '\0';
  raw.append(password);
  return encode_base64(raw);
}

std::optional<std::string> sasl_xoauth2(std::string_view user, std::string_view token) {
  const auto has_ctrl_a = [](std::string_view s) { return s.find('\x01') != std::string_view::npos; };
  if (user.empty() || token.empty() || has_ctrl_a(user) || has_ctrl_a(token)) return std::nullopt;
  std::string raw = "user=";
  raw.append(user);
  raw += '\x01';  // (a "\x01a..." literal would read as the escape \x01a)
  raw += "auth=Bearer ";
  raw.append(token);
  raw += "\x01\x01";
  return encode_base64(raw);
}

std::optional<std::string> sasl_oauthbearer(std::string_view user, std::string_view token) {
  const auto has_ctrl_a = [](std::string_view s) { return s.find('\x01') != std::string_view::npos; };
  if (token.empty() || has_ctrl_a(user) || has_ctrl_a(token)) return std::nullopt;
  std::string raw = "n,";
  if (!user.empty()) {
    raw += "a=";
    for (const char c : user) {  // RFC 5801 §4 saslname: "," and "=" escaped
      if (c == ',') raw += "=2C";
      else if (c == '=') raw += "=3D";
      else raw += c;
    }
  }
  raw += ',';
  raw += '\x01';
  raw += "auth=Bearer ";
  raw.append(token);
  raw += "\x01\x01";
  return encode_base64(raw);
}

}  // namespace sansmtp
