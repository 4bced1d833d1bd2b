// The command a reply answers: the key of the client's reply queue, and what
// a diagnosis is about.
#pragma once

#include <cstdint>
#include <optional>
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

}  // namespace sansmtp
