// The DNS facts about an EHLO name, as data (sansmtp/advice/ehlo_facts.hpp):
// the status names and the address helpers the checks and the resolver
// share. Pure: nothing here asks the network.
#include <sansmtp/advice/ehlo_facts.hpp>
#include <sansmtp/syntax/ehlo_argument.hpp>

#include "ip_ranges.hpp"

#include <algorithm>

namespace sansmtp {

std::string_view dns_status_name(dns_status s) noexcept {
  switch (s) {
    case dns_status::not_asked:
      return "not-asked";
    case dns_status::answered:
      return "answered";
    case dns_status::nodata:
      return "nodata";
    case dns_status::nxdomain:
      return "nxdomain";
    case dns_status::servfail:
      return "servfail";
    case dns_status::refused:
      return "refused";
    case dns_status::timeout:
      return "timeout";
    case dns_status::error:
      return "error";
  }
  return "unknown";
}

bool dns_temporary(dns_status s) noexcept {
  switch (s) {
    case dns_status::servfail:
    case dns_status::refused:
    case dns_status::timeout:
    case dns_status::error:
      return true;
    case dns_status::not_asked:
    case dns_status::answered:
    case dns_status::nodata:
    case dns_status::nxdomain:
      return false;
  }
  return false;
}

std::optional<std::vector<std::uint8_t>> ip_octets(std::string_view ip) {
  if (const auto v4 = parse::ipv4_address(ip)) return std::vector<std::uint8_t>(v4->begin(), v4->end());
  if (const auto v6 = parse::ipv6_address(ip)) {
    if (detail::is_ipv4_mapped(*v6)) return std::vector<std::uint8_t>(v6->begin() + 12, v6->end());
    return std::vector<std::uint8_t>(v6->begin(), v6->end());
  }
  return std::nullopt;
}

std::optional<std::string> reverse_name(std::string_view ip) {
  const auto octets = ip_octets(ip);
  if (!octets) return std::nullopt;
  std::string name;
  if (octets->size() == 4) {
    for (auto it = octets->rbegin(); it != octets->rend(); ++it) {
      name += std::to_string(*it);
      name += '.';
    }
    name += "in-addr.arpa";
    return name;
  }
  static constexpr char hex[] = "0123456789abcdef";
  name.reserve(16 * 4 + 8);
  for (auto it = octets->rbegin(); it != octets->rend(); ++it) {
    name += hex[*it & 0x0f];
    name += '.';
    name += hex[*it >> 4];
    name += '.';
  }
  name += "ip6.arpa";
  return name;
}

bool same_address(std::string_view a, std::string_view b) {
  const auto x = ip_octets(a);
  const auto y = ip_octets(b);
  return x && y && *x == *y;
}

}  // namespace sansmtp
