// Internal: the command-sequence table both roles share (RFC 5321 §4.1.4,
// §3.3; RFC 3030 §2; RFC 3207 §4; RFC 4954 §4): which class of command
// (the verb table's verb_class) may come at each point of a session. The
// server refuses the rest with 503 5.5.1; the client refuses to send them
// (bad_sequence). The server keys it by what its replies accepted, the
// client by what it sent (it may pipeline, RFC 2920).
#pragma once

#include <sansmtp/syntax/verbs.hpp>

#include <array>
#include <cstdint>

namespace sansmtp::detail {

// Where a session stands between commands.
enum class sequence : std::uint8_t {
  no_hello,  // greeted (or TLS just started): EHLO/HELO/LHLO first
  hello,     // EHLO/HELO accepted, no transaction
  mail,      // MAIL accepted, no recipient yet
  rcpt,      // at least one RCPT accepted
  bdat,      // BDAT chunks accepted, BDAT LAST not yet
};
inline constexpr std::size_t sequence_count = 5;

//                                       no_hello hello  mail   rcpt   bdat
inline constexpr std::array<std::array<bool, sequence_count>, verb_class_count> accepted_in = {{
    /* hello    */ {true, true, true, true, true},
    /* mail     */ {false, true, false, false, false},
    /* rcpt     */ {false, false, true, true, false},
    /* data     */ {false, false, false, true, false},
    /* bdat     */ {false, false, false, true, true},
    /* starttls */ {true, true, false, false, false},
    /* auth     */ {false, true, false, false, false},
    /* anytime  */ {true, true, true, true, true},
}};

inline bool sequence_allows(sequence s, verb_class v) noexcept {
  return accepted_in[static_cast<std::size_t>(v)][static_cast<std::size_t>(s)];
}

}  // namespace sansmtp::detail
