// What a failure reply means for the person who has to fix it. Servers often
// refuse late: Postfix (smtpd_delay_reject) and qmail check the EHLO name
// only at MAIL or RCPT, so "550 ... Invalid HeloHost (#5.5.0)" in answer to
// MAIL FROM is about the EHLO name. The explanation names the command the
// reply answered and what the reply is really about.
#pragma once

#include <sansmtp/reply.hpp>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace sansmtp {

// The command a reply answered (the session knows; the CLI takes --after).
enum class answered_command : std::uint8_t {
  unknown,
  greeting,  // the 220 (or 421/554) the server sends on connect
  ehlo,
  helo,
  starttls,
  auth,
  mail,
  rcpt,
  data,         // DATA itself (354 expected)
  end_of_data,  // the final "." of DATA, or BDAT LAST
  bdat,
  rset,
  vrfy,
  expn,
  noop,
  quit,
  help,
};

// "MAIL FROM", "RCPT TO", "the greeting", "the end of the message data", ...
std::string_view answered_command_text(answered_command c) noexcept;
// From a name as a user types it: "mail", "MAIL FROM", "rcpt", "ehlo", "data-end", ...
std::optional<answered_command> answered_command_of(std::string_view name) noexcept;

enum class failure_kind : std::uint8_t {
  none,               // not a failure (2xx, 3xx)
  helo_rejected,      // the EHLO/HELO name
  tls_required,       // STARTTLS first
  auth_required,      // authenticate first
  auth_failed,        // credentials refused (535, 5.7.8)
  relay_denied,       // the server will not relay to that domain for this client
  mailbox_unknown,    // no such recipient (5.1.1)
  message_too_large,  // 552 5.3.4 / 5.2.3
  temporary,          // greylisting, rate limits, "try again later": retry later
  policy,             // spam, block lists, reputation, other 5.7.x
  other_permanent,    // any other 5xx
};
std::string_view failure_kind_name(failure_kind k) noexcept;  // "helo-rejected", ...

struct diagnosis {
  failure_kind kind = failure_kind::none;
  std::string explanation;  // for a human; empty for kind none
};

diagnosis diagnose(int code, std::optional<enhanced_status> enhanced, std::span<const std::string_view> lines,
                   answered_command answered);
inline diagnosis diagnose(const reply& r, answered_command answered) {
  return diagnose(r.code, r.enhanced, r.lines, answered);
}

}  // namespace sansmtp
