// Internal: the server's one transition table (RFC 5321 §4.1.4, §3.3;
// RFC 3030 §2; RFC 3207 §4; RFC 4954 §4). Which command each phase of a
// session accepts; everything else is a bad sequence (503 5.5.1). What a
// reply then changes is in server.cpp's send(), keyed by the same phases.
#pragma once

#include <sansmtp/syntax/command.hpp>

#include <array>
#include <cstdint>

namespace sansmtp::detail {

// Where a session stands between commands.
enum class phase : std::uint8_t {
  no_hello,  // greeted (or TLS just started): EHLO/HELO/LHLO first
  hello,     // EHLO/HELO accepted, no transaction
  mail,      // MAIL accepted, no recipient yet
  rcpt,      // at least one RCPT accepted
  bdat,      // BDAT chunks accepted, BDAT LAST not yet
};
inline constexpr std::size_t phase_count = 5;

// Commands grouped by what the sequence rules say of them.
enum class verb_class : std::uint8_t {
  hello,     // EHLO, HELO, LHLO: any time; they reset the transaction (§4.1.4)
  mail,      // MAIL: after hello, outside a transaction
  rcpt,      // RCPT: after MAIL
  data,      // DATA: after RCPT; not after BDAT (RFC 3030 §2)
  bdat,      // BDAT: after RCPT, or after BDAT chunks
  starttls,  // STARTTLS: outside a transaction
  auth,      // AUTH: after EHLO, outside a transaction (RFC 4954 §4)
  anytime,   // RSET, NOOP, HELP, VRFY, EXPN, QUIT, unknown verbs
};
inline constexpr std::size_t verb_class_count = 8;

inline verb_class class_of(const command& c) noexcept {
  switch (c.index()) {
    case 0:  // ehlo
    case 1:  // helo
    case 2:  // lhlo
      return verb_class::hello;
    case 3:
      return verb_class::mail;
    case 4:
      return verb_class::rcpt;
    case 5:
      return verb_class::data;
    case 6:
      return verb_class::bdat;
    case 13:
      return verb_class::starttls;
    case 14:
      return verb_class::auth;
    default:
      return verb_class::anytime;
  }
}
static_assert(std::variant_size_v<command> == 16, "class_of() names every command by its index");

//                                       no_hello hello  mail   rcpt   bdat
inline constexpr std::array<std::array<bool, phase_count>, verb_class_count> accepted_in = {{
    /* hello    */ {true, true, true, true, true},
    /* mail     */ {false, true, false, false, false},
    /* rcpt     */ {false, false, true, true, false},
    /* data     */ {false, false, false, true, false},
    /* bdat     */ {false, false, false, true, true},
    /* starttls */ {true, true, false, false, false},
    /* auth     */ {false, true, false, false, false},
    /* anytime  */ {true, true, true, true, true},
}};

inline bool sequence_allows(phase p, verb_class v) noexcept {
  return accepted_in[static_cast<std::size_t>(v)][static_cast<std::size_t>(p)];
}

}  // namespace sansmtp::detail
