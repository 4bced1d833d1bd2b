// What receivers look up about an EHLO name, as data: the DNS answers for the
// name and for the address the client connects from. The check stays pure
// (check_ehlo_name(name, facts, options) in advice/ehlo_dns.hpp); the
// lookups are done by a driver (sansmtp::drivers::gather_ehlo_facts, c-ares)
// or by whoever already has the answers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sansmtp {

// How one DNS question ended. RCODEs are RFC 1035 section 4.1.1; NODATA
// (NOERROR, no record of the type asked) is RFC 2308 section 2.2. Stable
// API: enumerators are only appended; dns_status_name() gives each one's
// name, which the JSON output carries.
enum class dns_status : std::uint8_t {
  not_asked,  // the question was not asked (no name or no client address to ask about)
  answered,   // NOERROR with at least one record of the type asked
  nodata,     // NOERROR without one (the name exists)
  nxdomain,   // RCODE 3: the name does not exist
  servfail,   // RCODE 2
  refused,    // RCODE 5
  timeout,    // no answer within the resolver's time
  error,      // anything else: the server unreachable, a malformed answer
};
std::string_view dns_status_name(dns_status s) noexcept;  // "answered", "nodata", "nxdomain", ...
// SERVFAIL, REFUSED, a timeout or another error: receivers answer 4xx and
// retry (Postfix's defer_if_permit, Exim's defer), the answer may differ
// next time.
bool dns_temporary(dns_status s) noexcept;

struct dns_answer {
  dns_status status = dns_status::not_asked;
  // A and AAAA: addresses in text form; MX: the exchange names; PTR: names.
  // Names are lower-case, without the root dot.
  std::vector<std::string> records;

  bool has_records() const noexcept { return status == dns_status::answered && !records.empty(); }
};

// One name the client address's PTR gives, looked up forward again
// (forward-confirmed reverse DNS, "FCrDNS").
struct ptr_name_facts {
  std::string name;
  dns_answer a, aaaa;
};

struct ehlo_facts {
  // The address a receiver sees the client connect from (behind NAT, not
  // the host's own; `probe` reads it from servers that echo it). Text form
  // of an IPv4 or IPv6 address; empty when unknown, and then the checks
  // that compare with it are skipped.
  std::string client_ip;
  dns_answer a, aaaa, mx;               // for the EHLO name, when it is a domain
  dns_answer ptr;                       // for client_ip (in-addr.arpa / ip6.arpa)
  std::vector<ptr_name_facts> ptr_names;  // each PTR name, looked up forward
};

// The reverse-lookup name of an address ("5.113.0.203.in-addr.arpa",
// nibbles under "ip6.arpa"); nullopt when `ip` is not an address.
std::optional<std::string> reverse_name(std::string_view ip);

// 4 or 16 octets of an IPv4 or IPv6 address in text form (an IPv4-mapped
// IPv6 address gives its IPv4 octets, as receivers compare them); nullopt
// when `ip` is not one.
std::optional<std::vector<std::uint8_t>> ip_octets(std::string_view ip);

// Whether two address texts name the same address ("::ffff:127.0.0.1" and
// "127.0.0.1" do); false when either is not an address.
bool same_address(std::string_view a, std::string_view b);

}  // namespace sansmtp
