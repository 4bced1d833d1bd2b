// What a failure reply means for the person who has to fix it. Servers often
// refuse late: Postfix (smtpd_delay_reject) and qmail check the EHLO name
// only at MAIL or RCPT, so "550 ... Invalid HeloHost (#5.5.0)" in answer to
// MAIL FROM is about the EHLO name. The explanation names the command the
// reply answered and what the reply is really about.
#pragma once

#include <sansmtp/session/client.hpp>
#include <sansmtp/syntax/answered_command.hpp>
#include <sansmtp/syntax/reply.hpp>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace sansmtp {

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

// The diagnosis of a reply event of the client session (kind none for a
// success). `ehlo_name`: the name the client sent (client::ehlo_name()); a
// refusal about the EHLO name then says which name it was.
diagnosis diagnose(const client_event::reply& r, std::string_view ehlo_name = {});

}  // namespace sansmtp
