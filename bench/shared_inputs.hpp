// The shared inputs of issue 14, on which sansmtp was measured side by side
// with Stalwart's smtp-proto: kept here, byte for byte, so that the figures
// of callgrind_probe and the Google Benchmark programs can be reproduced
// and compared with the ones quoted in the issue and in bench/README.md.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace sansmtp::bench {

// The command mix: 15 lines, each parsed on its own (already cut), counted
// per line. The issue repeats them 667 times; the per-line figure is the
// same over any whole number of rounds.
inline const std::vector<std::string>& command_mix() {
  static const std::vector<std::string> lines = {
      "EHLO client.example.com\r\n",
      "STARTTLS\r\n",
      "EHLO client.example.com\r\n",
      "AUTH PLAIN dGVzdAB0ZXN0AHRlc3Q=\r\n",
      "MAIL FROM:<alice@example.com> SIZE=12345 BODY=8BITMIME\r\n",
      "RCPT TO:<bob@example.org>\r\n",
      "RCPT TO:<carol.smith+tag@sub.example.net> NOTIFY=SUCCESS,FAILURE\r\n",
      "DATA\r\n",
      "RSET\r\n",
      "MAIL FROM:<alice@example.com> SIZE=12345 BODY=8BITMIME\r\n",
      "RCPT TO:<bob@example.org>\r\n",
      "BDAT 1000 LAST\r\n",
      "NOOP\r\n",
      "VRFY alice\r\n",
      "QUIT\r\n",
  };
  return lines;
}

// The 13-line Postfix-style EHLO reply, counted from its bytes through
// reply_reader and parse::ehlo_response.
inline constexpr std::string_view ehlo_reply =
    "250-mx.example.org\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-VRFY\r\n250-ETRN\r\n250-STARTTLS\r\n"
    "250-AUTH PLAIN LOGIN\r\n250-AUTH=PLAIN LOGIN\r\n250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250-DSN\r\n"
    "250-SMTPUTF8\r\n250 CHUNKING\r\n";

// One session of the reply stream (the issue repeats it to about 1 MiB and
// reads the whole buffer with one next() sequence).
inline const std::string& reply_session() {
  static const std::string s =
      "220 mx.example.org ESMTP Postfix (Debian/GNU)\r\n" + std::string(ehlo_reply) +
      "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n250 2.1.5 Ok\r\n"
      "550-5.1.1 The email account that you tried to reach does not exist. Please try again\r\n"
      "550-5.1.1 double-checking the recipient's email address for typos or unnecessary\r\n"
      "550 5.1.1 spaces. Learn more at https://support.example.com/mail/?p=NoSuchUser z1\r\n"
      "354 End data with <CR><LF>.<CR><LF>\r\n"
      "250 2.0.0 Ok: queued as ABC123\r\n"
      "221 2.0.0 Bye\r\n";
  return s;
}

// Whole sessions up to at least `bytes` octets.
inline std::string reply_stream(std::size_t bytes = std::size_t{1} << 20) {
  std::string out;
  out.reserve(bytes + reply_session().size());
  while (out.size() < bytes) out += reply_session();
  return out;
}

}  // namespace sansmtp::bench
