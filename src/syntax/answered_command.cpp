// The command a reply answers: its name for people and for command lines.
#include <sansmtp/syntax/answered_command.hpp>

#include "ascii.hpp"

namespace sansmtp {

std::string_view answered_command_text(answered_command c) noexcept {
  switch (c) {
    case answered_command::unknown:
      return "an unknown command";
    case answered_command::greeting:
      return "the connection (the greeting)";
    case answered_command::ehlo:
      return "EHLO";
    case answered_command::helo:
      return "HELO";
    case answered_command::starttls:
      return "STARTTLS";
    case answered_command::auth:
      return "AUTH";
    case answered_command::mail:
      return "MAIL FROM";
    case answered_command::rcpt:
      return "RCPT TO";
    case answered_command::data:
      return "DATA";
    case answered_command::end_of_data:
      return "the end of the message data";
    case answered_command::bdat:
      return "BDAT";
    case answered_command::rset:
      return "RSET";
    case answered_command::vrfy:
      return "VRFY";
    case answered_command::expn:
      return "EXPN";
    case answered_command::noop:
      return "NOOP";
    case answered_command::quit:
      return "QUIT";
    case answered_command::help:
      return "HELP";
  }
  return "an unknown command";
}

std::optional<answered_command> answered_command_of(std::string_view name) noexcept {
  struct alias {
    std::string_view name;
    answered_command command;
  };
  static constexpr alias aliases[] = {
      {"greeting", answered_command::greeting},
      {"connect", answered_command::greeting},
      {"ehlo", answered_command::ehlo},
      {"helo", answered_command::helo},
      {"starttls", answered_command::starttls},
      {"auth", answered_command::auth},
      {"mail", answered_command::mail},
      {"mail from", answered_command::mail},
      {"rcpt", answered_command::rcpt},
      {"rcpt to", answered_command::rcpt},
      {"data", answered_command::data},
      {"data-end", answered_command::end_of_data},
      {"end-of-data", answered_command::end_of_data},
      {".", answered_command::end_of_data},
      {"bdat", answered_command::bdat},
      {"rset", answered_command::rset},
      {"vrfy", answered_command::vrfy},
      {"expn", answered_command::expn},
      {"noop", answered_command::noop},
      {"quit", answered_command::quit},
      {"help", answered_command::help},
      {"unknown", answered_command::unknown},
  };
  for (const auto& a : aliases)
    if (ascii::iequals(a.name, name)) return a.command;
  return std::nullopt;
}

}  // namespace sansmtp
