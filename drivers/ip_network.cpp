#include <sansmtp/asio/ip_network.hpp>

#include <array>
#include <charconv>
#include <cstdint>

namespace sansmtp::drivers {
namespace {

// The address as 16 octets, IPv4 as its mapped IPv6 form (RFC 4291
// §2.5.5.2), and the prefix over those 128 bits.
std::array<std::uint8_t, 16> octets(const asio::ip::address& a) noexcept {
  if (a.is_v6()) return a.to_v6().to_bytes();
  std::array<std::uint8_t, 16> out{};
  out[10] = out[11] = 0xff;
  const auto v4 = a.to_v4().to_bytes();
  for (std::size_t i = 0; i < 4; ++i) out[12 + i] = v4[i];
  return out;
}

unsigned width(const asio::ip::address& a) noexcept { return a.is_v4() ? 32 : 128; }

bool prefix_matches(const std::array<std::uint8_t, 16>& net, const std::array<std::uint8_t, 16>& a,
                    unsigned bits) noexcept {
  for (std::size_t i = 0; i < 16 && bits > 0; ++i) {
    const unsigned take = bits >= 8 ? 8 : bits;
    const auto mask = static_cast<std::uint8_t>(0xff << (8 - take));
    if ((net[i] & mask) != (a[i] & mask)) return false;
    bits -= take;
  }
  return true;
}

}  // namespace

bool ip_network::contains(const asio::ip::address& a) const noexcept {
  // Both as 128 bits: an IPv4 network is its mapped range, and an IPv4
  // address matches an IPv6 network only through its mapped form.
  const unsigned bits = address.is_v4() ? 96 + prefix_length : prefix_length;
  return prefix_matches(octets(address), octets(a), bits);
}

std::string ip_network::to_string() const { return address.to_string() + "/" + std::to_string(prefix_length); }

std::optional<ip_network> parse_ip_network(std::string_view cidr) {
  const auto slash = cidr.find('/');
  std::error_code ec;
  const auto address = asio::ip::make_address(std::string(cidr.substr(0, slash)), ec);
  if (ec) return std::nullopt;
  ip_network n{address, width(address)};
  if (slash != std::string_view::npos) {
    const auto digits = cidr.substr(slash + 1);
    // Decimal, no sign, no leading zero (as inet_net_pton would not check).
    if (digits.empty() || digits.size() > 3 || (digits.size() > 1 && digits[0] == '0')) return std::nullopt;
    unsigned bits = 0;
    const auto [end, err] = std::from_chars(digits.data(), digits.data() + digits.size(), bits);
    if (err != std::errc() || end != digits.data() + digits.size() || bits > width(address)) return std::nullopt;
    n.prefix_length = bits;
  }
  // Host bits set: refused rather than guessed.
  const auto all = octets(address);
  std::array<std::uint8_t, 16> masked{};
  const unsigned bits = address.is_v4() ? 96 + n.prefix_length : n.prefix_length;
  for (std::size_t i = 0; i < 16; ++i) {
    const unsigned before = static_cast<unsigned>(i) * 8;
    const unsigned take = bits <= before ? 0 : bits - before >= 8 ? 8 : bits - before;
    masked[i] = static_cast<std::uint8_t>(all[i] & (take ? 0xff << (8 - take) : 0));
  }
  if (masked != all) return std::nullopt;
  return n;
}

std::optional<std::vector<ip_network>> parse_ip_networks(std::string_view list) {
  std::vector<ip_network> out;
  for (;;) {
    const auto comma = list.find(',');
    const auto n = parse_ip_network(list.substr(0, comma));
    if (!n) return std::nullopt;
    out.push_back(*n);
    if (comma == std::string_view::npos) return out;
    list.remove_prefix(comma + 1);
  }
}

bool contains_address(const std::vector<ip_network>& list, const asio::ip::address& a) noexcept {
  for (const auto& n : list)
    if (n.contains(a)) return true;
  return false;
}

}  // namespace sansmtp::drivers
