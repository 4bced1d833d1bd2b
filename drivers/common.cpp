// What the Asio drivers share (sansmtp/asio/common.hpp).
#include <sansmtp/asio/common.hpp>

namespace sansmtp::drivers {

std::string_view driver_step_name(driver_step s) noexcept {
  switch (s) {
    case driver_step::resolve:
      return "resolve";
    case driver_step::connect:
      return "connect";
    case driver_step::tls:
      return "tls";
    case driver_step::starttls:
      return "starttls";
    case driver_step::hello:
      return "hello";
    case driver_step::read:
      return "read";
    case driver_step::write:
      return "write";
    case driver_step::source:
      return "source";
    case driver_step::handler:
      return "handler";
  }
  return "unknown";
}

tls_info describe_tls(const SSL* ssl) {
  tls_info info;
  if (!ssl) return info;
  info.protocol = SSL_get_version(ssl);
  if (const char* cipher = SSL_get_cipher_name(ssl)) info.cipher = cipher;
  return info;
}

}  // namespace sansmtp::drivers
