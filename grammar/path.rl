// Ragel machine for MAIL/RCPT paths, bare mailboxes and VRFY/EXPN/HELP/NOOP
// strings (RFC 5321 §4.1.2, with RFC 6531 §3.3's UTF-8 extensions marked).
// Only validation and offsets live here; src/syntax/parse_path.cpp names errors,
// applies the length limits and decides SMTPUTF8.
#include "path_scan.hpp"

namespace sansmtp::detail {
namespace {

constexpr std::size_t npos = path_scan::npos;

%%{
  machine sansmtp_path;
  alphtype unsigned char;

  action label_begin { label_start = p; }
  action label_end {
    // A label holding UTF-8 is judged by libidn2 on its A-label form (the
    // 63-octet limit is a DNS limit, RFC 5890 §2.3.2.1), not by its octets.
    if (res.limit == errc::ok && !(res.last_non_ascii != npos &&
                                   res.last_non_ascii >= static_cast<std::size_t>(label_start - begin))) {
      if (static_cast<std::size_t>(p - label_start) > max_label_octets) {
        res.limit = errc::label_too_long;
        res.limit_offset = static_cast<std::size_t>(label_start - begin) + max_label_octets;
      }
    }
  }
  action non_ascii {
    const auto at = static_cast<std::size_t>(p - begin);
    if (res.first_non_ascii == npos) res.first_non_ascii = at;
    res.last_non_ascii = at;
  }
  action local_begin { res.local_begin = static_cast<std::size_t>(p - begin); }
  action local_end { res.local_end = static_cast<std::size_t>(p - begin); }
  action domain_begin { res.domain_begin = static_cast<std::size_t>(p - begin); }
  action domain_end { res.domain_end = static_cast<std::size_t>(p - begin); }
  action route_domain_begin { route_domain = p; }
  action route_domain_end {
    if (res.limit == errc::ok && static_cast<std::size_t>(p - route_domain) > max_domain_octets) {
      res.limit = errc::domain_too_long;
      res.limit_offset = static_cast<std::size_t>(route_domain - begin) + max_domain_octets;
    }
  }
  action route_end { res.route_end = static_cast<std::size_t>(p - begin) + 1; }
  action done { fbreak; }

  include smtp_common "smtp_common.rl";

  local_part = ( dot_string | quoted_string ) >local_begin %local_end;
  mailbox    = local_part '@' ( ( u_domain | address_literal ) >domain_begin %domain_end );

  # Source routes (A-d-l) must still be accepted and are ignored (§4.1.2,
  # Appendix C); their domains obey the same limits.
  at_domain  = '@' ( u_domain >route_domain_begin %route_domain_end );
  a_d_l      = at_domain ( ',' at_domain )*;
  path       = '<' ( a_d_l ':' @route_end )? mailbox '>';

  # Each path machine stops right after its closing '>' (done), so the
  # caller reads the parameters that follow from p.
  reverse_path := ( '<>' | path ) @done;
  # RCPT also takes "<Postmaster>" (§4.1.1.3); it matches no Mailbox.
  forward_path := ( '<' ( 'Postmaster'i >local_begin %local_end ) '>' | path ) @done;
  mailbox_text := mailbox;
  string_text  := string;
}%%

%% write data noerror;

}  // namespace

path_scan scan_path(std::string_view text, path_form form) noexcept {
  path_scan res;
  const unsigned char* const begin = reinterpret_cast<const unsigned char*>(text.data());
  const unsigned char* p = begin;
  const unsigned char* const pe = begin + text.size();
  const unsigned char* const eof = pe;
  const unsigned char* label_start = begin;
  const unsigned char* route_domain = begin;
  int cs = 0;
  switch (form) {
    case path_form::reverse_path: cs = sansmtp_path_en_reverse_path; break;
    case path_form::forward_path: cs = sansmtp_path_en_forward_path; break;
    case path_form::mailbox: cs = sansmtp_path_en_mailbox_text; break;
    case path_form::string: cs = sansmtp_path_en_string_text; break;
  }
  %% write exec;
  res.end = static_cast<std::size_t>(p - begin);
  res.accepted = cs >= sansmtp_path_first_final;
  return res;
}

}  // namespace sansmtp::detail
