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
// broken (scan_reply_line, src/reply_scan.hpp); the reader's own options
// (UTF-8 text, mismatched codes, line and reply limits) are not here.
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

}  // namespace sansmtp::detail
