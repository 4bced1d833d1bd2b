// Ragel machine for the EHLO keywords sansmtp knows (RFC 5321 §4.1.1.1
// ehlo-keyword, and the extensions' RFCs), case-insensitively: one pass over
// the keyword decides which extension it names, instead of a string
// compare per known keyword. Keep it in step with known_keywords in
// src/capabilities.cpp (the unit tests check every one both ways).
#include "ehlo_keyword.hpp"

namespace sansmtp::detail {
namespace {

%%{
  machine sansmtp_ehlo_keyword;
  alphtype unsigned char;

  main := ( 'SIZE'i                @{ ext = extension::size; }
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
          );
}%%

%% write data noerror;

}  // namespace

std::optional<extension> keyword_extension(std::string_view keyword) noexcept {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(keyword.data());
  const unsigned char* const pe = p + keyword.size();
  int cs = 0;
  std::optional<extension> ext;
  %% write init;
  %% write exec;
  // No keyword is a prefix of another, so the action on a keyword's last
  // octet names it; the final-state check refuses anything longer.
  if (cs < sansmtp_ehlo_keyword_first_final || p != pe) return std::nullopt;
  return ext;
}

}  // namespace sansmtp::detail
