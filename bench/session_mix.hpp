// One transaction as a server sees it from a mailing-list sender: the
// command lines bench_command and callgrind_probe both parse.
#pragma once

#include <string>
#include <vector>

namespace sansmtp::bench {

inline const std::vector<std::string>& session_mix() {
  static const std::vector<std::string> lines = {
      "EHLO mail-out-7.lists.example.org\r\n",
      "MAIL FROM:<bounces+alice=example.com@lists.example.org> SIZE=48213 BODY=8BITMIME\r\n",
      "RCPT TO:<alice@example.com>\r\n",
      "RCPT TO:<bob.smith@example.com> NOTIFY=FAILURE,DELAY ORCPT=rfc822;bob.smith@example.com\r\n",
      "RCPT TO:<carol@example.com>\r\n",
      "DATA\r\n",
      "RSET\r\n",
      "NOOP\r\n",
      "QUIT\r\n",
  };
  return lines;
}

}  // namespace sansmtp::bench
