// Internal: what the DNS-aware check and the receiver models both read off
// a report and its facts, computed once (advice/ehlo_dns.cpp).
#pragma once

#include <sansmtp/advice/ehlo_facts.hpp>
#include <sansmtp/syntax/ehlo_check.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace sansmtp::detail {

struct name_view {
  std::string name;          // lower-case, without a root dot
  bool domain = false;       // a (would-be) host name: not a literal, not a bare address
  bool literal = false;      // [a.b.c.d] or [IPv6:...]
  bool bare_ip = false;      // an address without brackets
  std::string address;       // the literal's or bare address's text
  bool client_known = false;
  bool literal_matches = false;  // the literal (or bare address) is the client's address

  bool name_asked = false;  // any of A, AAAA, MX was asked
  bool nxdomain = false;
  bool name_temporary = false;  // A, AAAA or MX failed temporarily
  bool has_a = false, has_aaaa = false, has_mx = false;
  bool forward_matches = false;  // A/AAAA include the client address

  bool ptr_asked = false, ptr_temporary = false, ptr_present = false;
  bool name_is_ptr = false;           // the name is one of the PTR names
  bool name_is_verified_ptr = false;  // ... and that PTR name resolves back
  std::vector<std::string> fcrdns_names;  // PTR names that resolve back to the client address
  bool fcrdns_temporary = false;
  bool name_embeds_client = false;
  bool name_dynamic = false;  // name_embeds_client, or it reads as dynamic (detail::looks_dynamic)
  std::string ptr_embeds_client;  // a PTR name that embeds the client address
};

name_view view_of(const ehlo_report& report, const ehlo_facts& facts);

// Whether `name` spells the IPv4 address `ip` (four numbers forward or
// backward, or its hexadecimal or zero-padded form).
bool embeds_address(std::string_view name, std::string_view ip);

}  // namespace sansmtp::detail
