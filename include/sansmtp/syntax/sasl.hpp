// SASL (RFC 4954 §4): the responses a client sends, base64-encoded, and the
// PLAIN response (RFC 4616) as a server reads it.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace sansmtp {

// RFC 4616 PLAIN: authzid NUL authcid NUL passwd, from the base64 response.
struct plain_credentials {
  std::string authorization_id;
  std::string user;
  std::string password;
};
[[nodiscard]] std::optional<plain_credentials> decode_auth_plain(std::string_view base64);

// SASL responses, base64-encoded, for send_auth()/send_auth_response():
// (a 334 to OAUTHBEARER after a failed token carries a JSON error; answer it
// with send_auth_response("AQ==") — a single ^A, RFC 7628 §3.2.3 — not "*").
// PLAIN (RFC 4616: authzid NUL user NUL password; nullopt when a field holds
// NUL or user/password are empty), LOGIN's two steps are just
// encode_base64(user) and encode_base64(password), XOAUTH2 (Google's and
// Microsoft's "user=...^Aauth=Bearer ...^A^A"; nullopt on a ^A in a field).
[[nodiscard]] std::optional<std::string> sasl_plain(std::string_view user, std::string_view password,
                                      std::string_view authorization_id = {});
[[nodiscard]] std::optional<std::string> sasl_xoauth2(std::string_view user, std::string_view token);
// OAUTHBEARER (RFC 7628 §3.1): "n,a=<user>,^Aauth=Bearer <token>^A^A" (the
// GS2 header names the user; "," and "=" in it are written =2C and =3D);
// nullopt on a ^A in a field or an empty token.
[[nodiscard]] std::optional<std::string> sasl_oauthbearer(std::string_view user, std::string_view token);

}  // namespace sansmtp
