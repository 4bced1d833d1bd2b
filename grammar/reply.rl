// Ragel machine for one reply line (RFC 5321 §4.2), the content before its
// line end:
//
//   Reply-line = *( Reply-code "-" [ textstring ] CRLF )
//                   Reply-code [ SP textstring ] CRLF
//   Reply-code = %x32-35 %x30-35 %x30-39
//   textstring = 1*(%d09 / %d32-126)   ; HT, SP, Printable US-ASCII
//
// The reference reply_reader's hand-written fast path is checked against
// (fuzz/fuzz_reply_stream.cpp). One tolerance, the reader's too: "NNN SP"
// with no text (the ABNF's textstring has at least one octet; servers send
// "250 " and no reader refuses it). Where the machine stops names the rule
// broken (scan_reply_line, tests/reference/reply_scan.hpp); the reader's own options
// (UTF-8 text, mismatched codes, line and reply limits) are not here.
//
// And the RFC 3463 enhanced status code at the start of a reply's text
// (RFC 2034 §4), the reference for parse::enhanced_status_at:
//
//   status-code = class "." subject "." detail
//   class       = "2" / "4" / "5"
//   subject     = 1*3digit          ; no leading zero (§2: "0" alone is fine)
//   detail      = 1*3digit
//
// followed by SP and the text, or by nothing.
#include "reply_scan.hpp"

namespace sansmtp::detail {
namespace {

%%{
  machine sansmtp_reply_line;
  alphtype unsigned char;

  reply_code = [2-5] [0-5] [0-9];
  text_char  = 0x09 | 0x20..0x7e;
  main := reply_code ( ( ' ' | '-' ) text_char* )?;
}%%

%% write data noerror;

}  // namespace

reply_line_scan scan_reply_line(std::string_view content) noexcept {
  const unsigned char* const begin = reinterpret_cast<const unsigned char*>(content.data());
  const unsigned char* p = begin;
  const unsigned char* const pe = begin + content.size();
  const unsigned char* const eof = pe;
  int cs = 0;
  %% write init;
  %% write exec;
  (void)eof;
  reply_line_scan res;
  res.stop = static_cast<std::size_t>(p - begin);
  res.accepted = cs >= sansmtp_reply_line_first_final && p == pe;
  return res;
}

namespace {

%%{
  machine sansmtp_enhanced_status;
  alphtype unsigned char;

  part = '0' | [1-9] [0-9]{0,2};
  main := [245] '.' part '.' part @{ length = static_cast<std::size_t>(p - begin) + 1; }
          ( ' ' any* )?;
}%%

%% write data noerror;

}  // namespace

std::optional<std::size_t> scan_enhanced_status(std::string_view text) noexcept {
  const unsigned char* const begin = reinterpret_cast<const unsigned char*>(text.data());
  const unsigned char* p = begin;
  const unsigned char* const pe = begin + text.size();
  int cs = 0;
  std::size_t length = 0;
  %% write init;
  %% write exec;
  // The detail's last digit sets the length; a digit after it or any octet
  // but SP stops the machine (p short of pe, or not in a final state).
  if (cs < sansmtp_enhanced_status_first_final || p != pe) return std::nullopt;
  return length;
}

}  // namespace sansmtp::detail
