// Internal: the server's transition tables. Which command each state
// accepts is the shared sequence table (sequence_table.hpp); what a reply
// then does to the state is the reply table below (what is owed x the
// reply's class), which server.cpp's apply_reply() performs and send()
// consults to refuse a code that cannot answer what is owed.
#pragma once

#include "sequence_table.hpp"

#include <array>
#include <cstdint>

namespace sansmtp::detail {

// What an owed reply answers.
enum class owed : std::uint8_t {
  greeting,
  hello,
  mail,
  rcpt,
  data,     // DATA itself (354 expected)
  message,  // the end of a message (DATA's dot, BDAT LAST); LMTP: one per recipient
  chunk,    // a BDAT chunk that is not the last
  auth,     // AUTH, or an AUTH response line
  starttls,
  rset,
  quit,
  other,  // everything else, refused commands and fatal errors included
};
inline constexpr std::size_t owed_count = 12;

// The reply's class, as the table's columns: 2xx, 3xx, 4xx/5xx but 421, 421.
enum class reply_kind : std::uint8_t { positive, intermediate, negative, closing };
inline constexpr std::size_t reply_kind_count = 4;

// What a reply does.
enum class reply_effect : std::uint8_t {
  cannot_answer,     // this code cannot answer what is owed: send() refuses it
  none,              // the state stays as it is
  greeted,           // 220: commands may come (RFC 5321 §3.1)
  greeting_refused,  // 554: only QUIT is useful now (§3.1)
  hello_done,        // any transaction is abandoned, EHLO/HELO/LHLO is in force (§4.1.4)
  open_transaction,  // MAIL accepted (§4.1.1.2)
  add_recipient,     // RCPT accepted (§4.1.1.3)
  start_data,        // 354: the message follows (§4.1.1.4)
  message_answered,  // the end of data was answered (LMTP: one per recipient, RFC 2033 §4.2)
  auth_challenge,    // 334: an AUTH response line follows (RFC 4954 §4)
  auth_succeeded,    // 235
  auth_ended,        // the exchange failed; commands again
  start_tls,         // 220 to STARTTLS: the handshake, nothing parsed (RFC 3207 §4)
  reset,             // RSET accepted: the transaction is abandoned (§4.1.1.5)
  close,             // 221 to QUIT (§4.1.1.10), any 421 (§3.8)
};

// One row per owed reply, from RFC 5321 §4.3.2 (the replies each command
// may get), §3.1 (the greeting), RFC 3207 §4, RFC 4954 §4, RFC 3030 §2.
// Where a column names codes, only those of its class may answer (EHLO's
// positive reply is 250, RCPT's 250 or 251, DATA's intermediate 354);
// where it names none, any code of the class does (VRFY, EXPN, HELP, NOOP).
struct reply_row {
  std::array<std::array<std::uint16_t, 2>, reply_kind_count> only{};
  std::array<reply_effect, reply_kind_count> effect{};
};

using e = reply_effect;
// columns: positive (2xx), intermediate (3xx), negative (4xx/5xx but 421), 421
inline constexpr std::array<reply_row, owed_count> reply_table = {{
    /* greeting */ {{{{220}, {}, {554}, {}}}, {e::greeted, e::cannot_answer, e::greeting_refused, e::close}},
    /* hello    */ {{{{250}, {}, {}, {}}}, {e::hello_done, e::cannot_answer, e::none, e::close}},
    /* mail     */ {{{{250}, {}, {}, {}}}, {e::open_transaction, e::cannot_answer, e::none, e::close}},
    /* rcpt     */ {{{{250, 251}, {}, {}, {}}}, {e::add_recipient, e::cannot_answer, e::none, e::close}},
    /* data     */ {{{{}, {354}, {}, {}}}, {e::cannot_answer, e::start_data, e::none, e::close}},
    /* message  */ {{{{250}, {}, {}, {}}}, {e::message_answered, e::cannot_answer, e::message_answered, e::close}},
    /* chunk    */ {{{{250}, {}, {}, {}}}, {e::none, e::cannot_answer, e::none, e::close}},
    /* auth     */ {{{{235}, {334}, {}, {}}}, {e::auth_succeeded, e::auth_challenge, e::auth_ended, e::close}},
    /* starttls */ {{{{220}, {}, {}, {}}}, {e::start_tls, e::cannot_answer, e::none, e::close}},
    /* rset     */ {{{{250}, {}, {}, {}}}, {e::reset, e::cannot_answer, e::none, e::close}},
    /* quit     */ {{{{221}, {}, {}, {}}}, {e::close, e::cannot_answer, e::none, e::close}},
    /* other    */ {{{{}, {}, {}, {}}}, {e::none, e::cannot_answer, e::none, e::close}},
}};

// The table's cell for `code` answering `what`: cannot_answer for a code
// outside 200-599, or one its row does not take.
consteval reply_effect reply_cell(owed what, int code) noexcept {
  if (code < 200 || code > 599) return reply_effect::cannot_answer;
  const auto kind = code == 421 ? reply_kind::closing
                    : code < 300 ? reply_kind::positive
                    : code < 400 ? reply_kind::intermediate
                                 : reply_kind::negative;
  const auto& row = reply_table[static_cast<std::size_t>(what)];
  const auto k = static_cast<std::size_t>(kind);
  const auto& only = row.only[k];
  if (only[0] != 0 && only[0] != code && only[1] != code) return reply_effect::cannot_answer;
  return row.effect[k];
}

// Every cell expanded at compile time, one per code 200-599 (4.8 KiB), so
// that a reply costs one load.
inline constexpr auto reply_cells = []() consteval {
  std::array<std::array<reply_effect, 400>, owed_count> cells{};
  for (std::size_t o = 0; o < owed_count; ++o)
    for (int code = 200; code < 600; ++code) cells[o][static_cast<std::size_t>(code - 200)] = reply_cell(static_cast<owed>(o), code);
  return cells;
}();

inline reply_effect reply_effect_of(owed what, int code) noexcept {
  const auto at = static_cast<unsigned>(code - 200);
  return at < 400 ? reply_cells[static_cast<std::size_t>(what)][at] : reply_effect::cannot_answer;
}

}  // namespace sansmtp::detail
