// The EHLO-name linter: will the name a client is about to send be accepted?
//
// Born from a real incident: a client in a Kubernetes pod sent
// "EHLO [10.42.0.17]" and the server answered "550 ... Invalid HeloHost" to
// MAIL FROM, not to EHLO, so nobody suspected the name.
#pragma once

#include <sansmtp/syntax/ehlo_argument.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sansmtp {

enum class severity { info, warn, fail };  // ordered: worst is largest
enum class verdict { pass, warn, fail };

enum class lint_profile {
  internet,  // sending to public servers (default)
  internal,  // a private relay: private, link-local and ULA literals and
             // internal names are warnings; loopback still fails
};

struct ehlo_check_options {
  lint_profile profile = lint_profile::internet;
};

// What a finding is about; the "Finding codes" table of docs/cli.md says what each
// means. Stable API: enumerators are only ever appended, and
// ehlo_check_code_name() gives each one's kebab-case name ("private-address"),
// which the JSON output carries.
enum class ehlo_check_code : std::uint8_t {
  syntax,                    // not RFC 5321 Domain / address-literal
  empty,                     // empty name
  empty_label,               // ".." or a leading dot
  label_hyphen,              // a label starts or ends with "-"
  label_too_long,            // a label over 63 octets
  trailing_dot,              // a root dot at the end
  name_too_long,             // over 253 characters
  underscore,                // "_" in a label
  invalid_character,         // controls, space, non-LDH ASCII
  non_ascii,                 // a U-label or bytes that are not ASCII
  bad_a_label,               // "xn--" that does not round-trip
  r_ldh_label,               // "--" in positions 3-4, not "xn--"
  not_fqdn,                  // a single label
  container_hostname,        // a Docker container ID or Kubernetes pod name
  numeric_tld,               // an all-digit last label
  bare_ip,                   // an IP address without brackets
  localhost,                 // localhost and below
  special_use_name,          // RFC 6761 and friends, cloud- and cluster-internal names
  bracketed_name,            // "[mx.example.net]"
  untagged_ipv6_literal,     // "[2001:db8::1]"
  unregistered_literal_tag,  // "[IPv4:1.2.3.4]"
  leading_zero,              // "[010.0.0.1]"
  loopback_address,
  unspecified_address,
  documentation_address,
  multicast_address,
  private_address,
  shared_address,
  link_local_address,
  reserved_address,
  public_literal,   // info: allowed, but a name is accepted more widely
  dynamic_looking,  // embeds the IP, or ISP words
  // What receivers look up (advice/ehlo_dns.hpp: check_ehlo_name with facts).
  nxdomain,               // the name does not exist in DNS
  no_address,             // no A or AAAA record (an MX only)
  no_a_or_mx,             // neither an A/AAAA nor an MX record (Postfix reject_unknown_helo_hostname)
  dns_temporary_failure,  // SERVFAIL, REFUSED or no answer: receivers answer 4xx and retry
  literal_mismatch,       // an address literal that is not the client's address
  forward_mismatch,       // the name resolves, but not to the client's address
  ptr_missing,            // the client's address has no PTR record
  ptr_mismatch,           // the name is not one of the client address's PTR names
  fcrdns_fail,            // no PTR name of the client's address resolves back to it
};
std::string_view ehlo_check_code_name(ehlo_check_code c) noexcept;  // "private-address", ...

struct finding {
  ehlo_check_code code = ehlo_check_code::syntax;
  severity level = severity::info;
  std::string message;     // one sentence; names the RFC or software that objects
  std::string suggestion;  // a fixed name or an action; empty when none applies
};

// A check that could not be made from the facts given, and why ("no client
// address given: pass --client-ip"), so that a pass is never mistaken for a
// check that ran.
struct skipped_check {
  ehlo_check_code code = ehlo_check_code::literal_mismatch;
  std::string reason;
};

struct ehlo_report {
  std::string name;                // as given (may hold any bytes)
  bool syntax_valid = false;       // parse::ehlo_argument accepted it
  std::optional<host_kind> kind;   // set when syntax_valid
  verdict result = verdict::pass;  // the worst finding (info counts as pass)
  std::vector<finding> findings;
  std::vector<skipped_check> skipped;  // only from the check with DNS facts

  bool has(ehlo_check_code code) const noexcept;
  const finding* find(ehlo_check_code code) const noexcept;  // the first finding with that code
  // By kebab-case name ("private-address"), as before the codes were an enum.
  bool has(std::string_view code_name) const noexcept;
  const finding* find(std::string_view code_name) const noexcept;
};

ehlo_report check_ehlo_name(std::string_view name, const ehlo_check_options& options = {});

std::string_view severity_name(severity s) noexcept;  // "info", "warn", "fail"
std::string_view verdict_name(verdict v) noexcept;    // "pass", "warn", "fail"
std::string_view profile_name(lint_profile p) noexcept;


}  // namespace sansmtp
