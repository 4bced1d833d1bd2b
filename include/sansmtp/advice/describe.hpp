// The client session's failure events in English. The events carry fields
// (what happened, where, the code, the octet, the wait); these free
// functions write the sentence a person reads, the one the CLI prints and
// the driver reports. The session itself builds no sentences.
#pragma once

#include <sansmtp/session/client.hpp>

#include <string>

namespace sansmtp {

// "the server sent a 250 reply that no command asked for", "no reply while
// waiting for the reply to the connection (the greeting) within 300 seconds
// (RFC 5321 section 4.5.3.2)", ... Names and octets from the event are
// escaped for display (escape_for_display).
[[nodiscard]] std::string describe(const client_event::fatal_error& e);
// "the server closed the connection while waiting for the reply to MAIL
// FROM", "... while sending the message", "... between commands".
[[nodiscard]] std::string describe(const client_event::peer_closed& e);

}  // namespace sansmtp
