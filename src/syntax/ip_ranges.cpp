#include "ip_ranges.hpp"

#include <algorithm>

namespace sansmtp::detail {
namespace {

constexpr auto F = severity::fail;
constexpr auto W = severity::warn;

constexpr std::array<std::uint8_t, 16> v4(std::uint8_t a, std::uint8_t b = 0, std::uint8_t c = 0,
                                          std::uint8_t d = 0) {
  return {a, b, c, d};
}
// Eight 16-bit groups, as an IPv6 address is written.
struct groups8 {
  std::uint16_t g[8];
};
constexpr std::array<std::uint8_t, 16> v6(groups8 groups) {
  std::array<std::uint8_t, 16> out{};
  for (int i = 0; i < 8; ++i) {
    out[2 * i] = static_cast<std::uint8_t>(groups.g[i] >> 8);
    out[2 * i + 1] = static_cast<std::uint8_t>(groups.g[i]);
  }
  return out;
}

// Most specific first; the first match wins.
constexpr ip_range ipv4_ranges[] = {
    {v4(0), 8, "0.0.0.0/8", ehlo_check_code::unspecified_address, F, F,
     "\"this network\", never a source address (RFC 1122 section 3.2.1.3)"},
    {v4(10), 8, "10.0.0.0/8", ehlo_check_code::private_address, F, W, "private address space (RFC 1918)"},
    {v4(100, 64), 10, "100.64.0.0/10", ehlo_check_code::shared_address, F, W,
     "shared address space behind carrier-grade NAT (RFC 6598)"},
    {v4(127), 8, "127.0.0.0/8", ehlo_check_code::loopback_address, F, F, "loopback (RFC 1122)"},
    {v4(169, 254), 16, "169.254.0.0/16", ehlo_check_code::link_local_address, F, W, "link-local (RFC 3927)"},
    {v4(172, 16), 12, "172.16.0.0/12", ehlo_check_code::private_address, F, W,
     "private address space (RFC 1918)"},
    {v4(192, 0, 0), 24, "192.0.0.0/24", ehlo_check_code::reserved_address, F, F,
     "IETF protocol assignments (RFC 6890)"},
    {v4(192, 0, 2), 24, "192.0.2.0/24", ehlo_check_code::documentation_address, F, F,
     "documentation space TEST-NET-1 (RFC 5737)"},
    {v4(192, 88, 99), 24, "192.88.99.0/24", ehlo_check_code::reserved_address, F, F,
     "the deprecated 6to4 relay anycast prefix (RFC 7526)"},
    {v4(192, 168), 16, "192.168.0.0/16", ehlo_check_code::private_address, F, W,
     "private address space (RFC 1918)"},
    {v4(198, 18), 15, "198.18.0.0/15", ehlo_check_code::reserved_address, F, W,
     "benchmarking space (RFC 2544)"},
    {v4(198, 51, 100), 24, "198.51.100.0/24", ehlo_check_code::documentation_address, F, F,
     "documentation space TEST-NET-2 (RFC 5737)"},
    {v4(203, 0, 113), 24, "203.0.113.0/24", ehlo_check_code::documentation_address, F, F,
     "documentation space TEST-NET-3 (RFC 5737)"},
    {v4(224), 4, "224.0.0.0/4", ehlo_check_code::multicast_address, F, F, "multicast (RFC 5771)"},
    {v4(255, 255, 255, 255), 32, "255.255.255.255/32", ehlo_check_code::reserved_address, F, F,
     "the limited broadcast address (RFC 919)"},
    {v4(240), 4, "240.0.0.0/4", ehlo_check_code::reserved_address, F, F, "reserved space (RFC 1112)"},
};

constexpr ip_range ipv6_ranges[] = {
    {v6({0, 0, 0, 0, 0, 0, 0, 0}), 128, "::/128", ehlo_check_code::unspecified_address, F, F,
     "the unspecified address (RFC 4291)"},
    {v6({0, 0, 0, 0, 0, 0, 0, 1}), 128, "::1/128", ehlo_check_code::loopback_address, F, F,
     "loopback (RFC 4291)"},
    {v6({0, 0, 0, 0, 0, 0xffff, 0, 0}), 96, "::ffff:0:0/96", ehlo_check_code::reserved_address, W, W,
     "IPv4-mapped (RFC 4291 section 2.5.5.2)"},
    {v6({}), 96, "::/96", ehlo_check_code::reserved_address, F, F, "deprecated IPv4-compatible (RFC 4291)"},
    {v6({0x64, 0xff9b}), 96, "64:ff9b::/96", ehlo_check_code::reserved_address, W, W, "NAT64 (RFC 6052)"},
    {v6({0x64, 0xff9b, 1}), 48, "64:ff9b:1::/48", ehlo_check_code::reserved_address, W, W,
     "local-use NAT64 (RFC 8215)"},
    {v6({0x100}), 64, "100::/64", ehlo_check_code::reserved_address, F, F, "discard-only (RFC 6666)"},
    {v6({0x2001, 0xdb8}), 32, "2001:db8::/32", ehlo_check_code::documentation_address, F, F,
     "documentation space (RFC 3849)"},
    {v6({0x2001}), 23, "2001::/23", ehlo_check_code::reserved_address, W, W,
     "IETF protocol assignments, Teredo included (RFC 2928, RFC 6890)"},
    {v6({0x2002}), 16, "2002::/16", ehlo_check_code::reserved_address, W, W, "6to4 (RFC 3056)"},
    {v6({0x3fff}), 20, "3fff::/20", ehlo_check_code::documentation_address, F, F,
     "documentation space (RFC 9637)"},
    {v6({0xfc00}), 7, "fc00::/7", ehlo_check_code::private_address, F, W,
     "unique local addresses, ULA (RFC 4193)"},
    {v6({0xfe80}), 10, "fe80::/10", ehlo_check_code::link_local_address, F, W, "link-local (RFC 4291)"},
    {v6({0xfec0}), 10, "fec0::/10", ehlo_check_code::reserved_address, F, W,
     "deprecated site-local (RFC 3879)"},
    {v6({0xff00}), 8, "ff00::/8", ehlo_check_code::multicast_address, F, F, "multicast (RFC 4291)"},
};

// Everything outside 2000::/3 that no row above names is unassigned.
constexpr ip_range ipv6_outside_global_unicast = {
    v6({0x2000}),
    3,
    "no assigned block",  // (the message reads "X is in no assigned block, outside ...")
    ehlo_check_code::reserved_address,
    F,
    F,
    "outside global unicast space 2000::/3 (IANA IPv6 address space)"};

bool in_prefix(const std::uint8_t* address, const ip_range& range) noexcept {
  const unsigned full = range.bits / 8, rest = range.bits % 8;
  if (!std::equal(address, address + full, range.prefix.begin())) return false;
  if (rest == 0) return true;
  const auto mask = static_cast<std::uint8_t>(0xff << (8 - rest));
  return (address[full] & mask) == (range.prefix[full] & mask);
}

template <std::size_t N>
const ip_range* first_match(const std::uint8_t* address, const ip_range (&table)[N]) noexcept {
  for (const auto& range : table)
    if (in_prefix(address, range)) return &range;
  return nullptr;
}

}  // namespace

const ip_range* find_ipv4_range(const std::array<std::uint8_t, 4>& address) noexcept {
  return first_match(address.data(), ipv4_ranges);
}

const ip_range* find_ipv6_range(const std::array<std::uint8_t, 16>& address) noexcept {
  if (const auto* range = first_match(address.data(), ipv6_ranges)) return range;
  if (!in_prefix(address.data(), ipv6_outside_global_unicast)) return &ipv6_outside_global_unicast;
  return nullptr;
}

bool is_ipv4_mapped(const std::array<std::uint8_t, 16>& address) noexcept {
  return in_prefix(address.data(), ipv6_ranges[2]);  // the ::ffff:0:0/96 row
}

}  // namespace sansmtp::detail
