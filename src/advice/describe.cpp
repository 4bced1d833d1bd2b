// The English for the client's fatal_error and peer_closed events: every
// sentence the session used to build itself, from the event's fields.
#include <sansmtp/advice/describe.hpp>

#include <sansmtp/core/display.hpp>
#include <sansmtp/core/errc.hpp>
#include <sansmtp/syntax/answered_command.hpp>

#include <fmt/format.h>

namespace sansmtp {
namespace {

// Where the session stood: the message being sent, a reply awaited, or
// neither.
std::string where(client_state state, bool unfinished, answered_command awaiting) {
  if (state == client_state::data) return "while sending the message";
  if (unfinished) return fmt::format("while waiting for the reply to {}", answered_command_text(awaiting));
  return "between commands";
}

}  // namespace

std::string describe(const client_event::fatal_error& e) {
  using cause = client_event::fatal_error::cause;
  switch (e.why) {
    case cause::broken_reply:
      return fmt::format("the server's reply broke RFC 5321 section 4.2 ({}) at octet {}, {}", errc_name(e.code),
                         e.offset, where(e.state, e.unfinished, e.awaiting));
    case cause::unasked_reply:
      return fmt::format("the server sent a {} reply that no command asked for", e.reply_code);
    case cause::early_reply:
      return fmt::format("the server sent a {} reply before {} was sent: an extra reply, which would pair every "
                         "later reply with the wrong command (RFC 5321 section 4.2)",
                         e.reply_code, answered_command_text(e.awaiting));
    case cause::cannot_answer:
      return fmt::format("the server answered {} with {}, which cannot answer it (RFC 5321 section 4.3.2)",
                         answered_command_text(e.awaiting), e.reply_code);
    case cause::bare_line_ending:
      return fmt::format("the message has a bare {} at octet {}, which data_encoder_options refuses (reject); part of "
                         "the message was already sent and SMTP cannot take it back, so the session ends: close the "
                         "connection and the server discards it",
                         e.code == errc::bare_cr ? "CR" : "LF", e.offset);
    case cause::timeout:
      return fmt::format("no reply {} within {} seconds (RFC 5321 section 4.5.3.2)",
                         where(e.state, e.unfinished, e.awaiting), e.waited.count());
    case cause::hello_not_sent:
      if (e.code == errc::bad_ehlo_name)
        return fmt::format("the EHLO name \"{}\" fails the EHLO-name check (see: sansmtp ehlo-check)",
                           escape_for_display(e.argument));
      return fmt::format("EHLO \"{}\" cannot be sent: {}", escape_for_display(e.argument),
                         make_error_code(e.code).message());
    case cause::starttls_not_offered:
      return "the server does not offer STARTTLS (RFC 3207) and TLS is required";
    case cause::starttls_refused:
      return "the server refused STARTTLS and TLS is required";
    case cause::auth_not_sent:
      return fmt::format("AUTH {} cannot be sent: {}", escape_for_display(e.argument),
                         make_error_code(e.code).message());
  }
  return fmt::format("the session failed ({})", errc_name(e.code));
}

std::string describe(const client_event::peer_closed& e) {
  return fmt::format("the server closed the connection {}", where(e.state, e.unfinished, e.awaiting));
}

}  // namespace sansmtp
