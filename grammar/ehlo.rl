// Ragel machine for the keyword at the start of an EHLO keyword line
// (RFC 5321 §4.1.1.1):
//
//   ehlo-line    = ehlo-keyword *( SP ehlo-param )
//   ehlo-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-")
//
// One pass checks the keyword's grammar, finds where it ends (at SP or the
// end of the line) and, case-insensitively, which known extension it names,
// instead of a string compare per known keyword. Keep the known keywords in
// step with known_keywords in src/syntax/capabilities.cpp (the unit tests check
// every one both ways).
#include "ehlo_keyword.hpp"

namespace sansmtp::detail {
namespace {

%%{
  machine sansmtp_ehlo_keyword;
  alphtype unsigned char;

  # The action on a known keyword's last octet names it and notes where
  # it ended; a longer keyword ("SIZEX") goes on through the generic branch
  # and the end no longer matches.
  action known_end { known_end = p + 1; }
  known = ( 'SIZE'i                @{ ext = extension::size; }
          | '8BITMIME'i            @{ ext = extension::eightbitmime; }
          | 'PIPELINING'i          @{ ext = extension::pipelining; }
          | 'STARTTLS'i            @{ ext = extension::starttls; }
          | 'AUTH'i                @{ ext = extension::auth; }
          | 'SMTPUTF8'i            @{ ext = extension::smtputf8; }
          | 'CHUNKING'i            @{ ext = extension::chunking; }
          | 'BINARYMIME'i          @{ ext = extension::binarymime; }
          | 'DSN'i                 @{ ext = extension::dsn; }
          | 'ENHANCEDSTATUSCODES'i @{ ext = extension::enhancedstatuscodes; }
          | 'REQUIRETLS'i          @{ ext = extension::requiretls; }
          | 'LIMITS'i              @{ ext = extension::limits; }
          | 'DELIVERBY'i           @{ ext = extension::deliverby; }
          | 'MT-PRIORITY'i         @{ ext = extension::mt_priority; }
          | 'FUTURERELEASE'i       @{ ext = extension::futurerelease; }
          | 'VRFY'i                @{ ext = extension::vrfy; }
          | 'ETRN'i                @{ ext = extension::etrn; }
          | 'HELP'i                @{ ext = extension::help; }
          | 'XCLIENT'i             @{ ext = extension::xclient; }
          ) @known_end;

  ehlo_keyword = alnum ( alnum | '-' )*;

  main := ( known | ehlo_keyword ) ( ' ' @{ space = p; fbreak; } )?;
}%%

%% write data noerror;

}  // namespace

keyword_scan scan_ehlo_keyword(std::string_view line) noexcept {
  const unsigned char* const start = reinterpret_cast<const unsigned char*>(line.data());
  const unsigned char* p = start;
  const unsigned char* const pe = p + line.size();
  const unsigned char* space = nullptr;
  const unsigned char* known_end = nullptr;
  std::optional<extension> ext;
  int cs = 0;
  %% write init;
  %% write exec;
  keyword_scan out;
  const unsigned char* end = nullptr;
  if (space) {
    end = space;
  } else if (p == pe && cs >= sansmtp_ehlo_keyword_first_final) {
    end = pe;
  } else {
    return out;  // not an ehlo-keyword (or nothing but one followed by SP)
  }
  out.valid = true;
  out.length = static_cast<std::size_t>(end - start);
  if (known_end == end) out.known = ext;
  return out;
}

std::optional<extension> keyword_extension(std::string_view keyword) noexcept {
  const auto scan = scan_ehlo_keyword(keyword);
  if (!scan.valid || scan.length != keyword.size()) return std::nullopt;
  return scan.known;
}

}  // namespace sansmtp::detail
