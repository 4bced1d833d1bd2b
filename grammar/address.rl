// Ragel machine for EHLO arguments and bare IP addresses (RFC 5321 §4.1.2,
// §4.1.3). Only validation and offsets live here; src/syntax/parse_ehlo_argument.cpp
// classifies and converts what this accepted.
#include "address_scan.hpp"

namespace sansmtp::detail {
namespace {

%%{
  machine sansmtp_address;
  alphtype unsigned char;

  action label_begin { label_start = p; }
  action label_end {
    if (res.limit == errc::ok) {
      if (static_cast<std::size_t>(p - label_start) > max_label_octets) {
        res.limit = errc::label_too_long;
        res.limit_offset = static_cast<std::size_t>(label_start - begin) + max_label_octets;
      } else if (static_cast<std::size_t>(p - begin) > max_domain_octets) {
        res.limit = errc::domain_too_long;
        res.limit_offset = max_domain_octets;
      }
    }
  }

  # EHLO arguments are ASCII only (RFC 6531 §3.7.1); the UTF-8 forms in
  # smtp_common are not used here.
  action non_ascii {}

  include smtp_common "smtp_common.rl";

  ehlo_argument := domain | address_literal;
  ipv4_text     := ipv4_address_literal;
  ipv6_text     := ipv6_addr;
}%%

%% write data noerror;

}  // namespace

address_scan scan_address(std::string_view text, address_form form) noexcept {
  address_scan res;
  const unsigned char* const begin = reinterpret_cast<const unsigned char*>(text.data());
  const unsigned char* p = begin;
  const unsigned char* const pe = begin + text.size();
  const unsigned char* const eof = pe;
  const unsigned char* label_start = begin;
  int cs = 0;
  switch (form) {
    case address_form::ehlo_argument: cs = sansmtp_address_en_ehlo_argument; break;
    case address_form::ipv4: cs = sansmtp_address_en_ipv4_text; break;
    case address_form::ipv6: cs = sansmtp_address_en_ipv6_text; break;
  }
  %% write exec;
  res.fail_offset = static_cast<std::size_t>(p - begin);
  res.accepted = p == pe && cs >= sansmtp_address_first_final;
  return res;
}

}  // namespace sansmtp::detail
