// An IP network in CIDR form ("10.0.0.0/8", "2001:db8::/32", or one
// address: "127.0.0.1" is /32, "::1" /128), for the driver's trust lists:
// server_driver_options::proxy_from (the proxies whose PROXY header is
// believed, proxy-protocol.txt section 5).
//
//   ```cpp
//   bool trusted(std::string_view peer) {
//     const auto lan = sansmtp::drivers::parse_ip_network("10.0.0.0/8");
//     std::error_code ec;
//     const auto address = asio::ip::make_address(std::string(peer), ec);
//     return lan && !ec && lan->contains(address);
//   }
//   ```
#pragma once

#include <asio/ip/address.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sansmtp::drivers {

struct ip_network {
  asio::ip::address address;  // its host bits are zero
  unsigned prefix_length = 0;  // 0-32 for IPv4, 0-128 for IPv6

  // An IPv4 network holds the IPv4-mapped form of its addresses too
  // (::ffff:10.1.2.3, what a socket listening on :: sees).
  [[nodiscard]] bool contains(const asio::ip::address& a) const noexcept;
  // "10.0.0.0/8"
  [[nodiscard]] std::string to_string() const;
};

// Numeric only (no names); a prefix over the family's width, host bits set
// ("10.0.0.1/8": written by mistake for 10.0.0.0/8 or 10.0.0.1/32?), or
// anything else is nullopt.
[[nodiscard]] std::optional<ip_network> parse_ip_network(std::string_view cidr);
// A comma-separated list ("127.0.0.0/8,::1"); nullopt when any is bad.
[[nodiscard]] std::optional<std::vector<ip_network>> parse_ip_networks(std::string_view list);
// Whether any network of `list` contains `a`.
[[nodiscard]] bool contains_address(const std::vector<ip_network>& list, const asio::ip::address& a) noexcept;

}  // namespace sansmtp::drivers
