// What the protocol says of each command: one row per alternative of
// sansmtp::command, the one place the sessions and the drivers classify
// commands (RFC 5321 §4.1.4 sequence, RFC 2920 §3.1 pipelined groups,
// RFC 5321 §3.8 shutdown, and the extension each needs offered). Adding a
// command is a row here (docs/design.md, "How to add an extension").
#pragma once

#include <sansmtp/syntax/answered_command.hpp>
#include <sansmtp/syntax/capabilities.hpp>
#include <sansmtp/syntax/command.hpp>

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>
#include <variant>

namespace sansmtp {

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

struct verb_traits {
  std::string_view verb;      // as written on the wire ("" for an unknown verb)
  verb_class sequence;        // where the sequence rules allow it
  answered_command answered;  // what its reply answers (BDAT LAST: end_of_data, see answered_by())
  // RFC 2920 §3.1: its reply changes what may follow, so a pipelined group
  // ends with it (any command an extension adds does; BDAT only with LAST).
  bool ends_group = true;
  // Starts something a server going down refuses with 421 (RFC 5321 §3.8):
  // a session, a transaction, a TLS or AUTH exchange. The rest of a
  // transaction in progress (RCPT, DATA, BDAT) and RSET, NOOP, QUIT are not.
  bool new_work = false;
  // The EHLO keyword that must be offered before it is sent.
  std::optional<extension> needs;
};

// In the order of the alternatives of `command`.
inline constexpr std::array<verb_traits, std::variant_size_v<command>> verb_table = {{
    {"EHLO", verb_class::hello, answered_command::ehlo, true, true, std::nullopt},
    {"HELO", verb_class::hello, answered_command::helo, true, true, std::nullopt},
    {"LHLO", verb_class::hello, answered_command::ehlo, true, true, std::nullopt},
    {"MAIL", verb_class::mail, answered_command::mail, false, true, std::nullopt},
    {"RCPT", verb_class::rcpt, answered_command::rcpt, false, false, std::nullopt},
    {"DATA", verb_class::data, answered_command::data, true, false, std::nullopt},
    {"BDAT", verb_class::bdat, answered_command::bdat, false, false, extension::chunking},
    {"RSET", verb_class::anytime, answered_command::rset, false, false, std::nullopt},
    {"VRFY", verb_class::anytime, answered_command::vrfy, true, false, std::nullopt},
    {"EXPN", verb_class::anytime, answered_command::expn, true, false, std::nullopt},
    {"HELP", verb_class::anytime, answered_command::help, true, false, std::nullopt},
    {"NOOP", verb_class::anytime, answered_command::noop, true, false, std::nullopt},
    {"QUIT", verb_class::anytime, answered_command::quit, true, false, std::nullopt},
    {"STARTTLS", verb_class::starttls, answered_command::starttls, true, true, extension::starttls},
    {"AUTH", verb_class::auth, answered_command::auth, true, true, extension::auth},
    {"", verb_class::anytime, answered_command::unknown, true, false, std::nullopt},
}};
static_assert(std::variant_size_v<command> == 16, "verb_table has a row for every alternative of command");
static_assert(verb_table[6].verb == "BDAT" && verb_table[13].verb == "STARTTLS" && verb_table[15].verb.empty());

[[nodiscard]] constexpr const verb_traits& traits_of(const command& c) noexcept { return verb_table[c.index()]; }

// The reply a command is answered by: its row's, but BDAT LAST's ends the
// message (end_of_data).
[[nodiscard]] constexpr answered_command answered_by(const command& c) noexcept {
  if (const auto* b = std::get_if<cmd::bdat>(&c); b && b->last) return answered_command::end_of_data;
  return traits_of(c).answered;
}
// Whether a pipelined group ends with it (RFC 2920 §3.1; BDAT LAST does).
[[nodiscard]] constexpr bool ends_group(const command& c) noexcept {
  if (const auto* b = std::get_if<cmd::bdat>(&c)) return b->last;
  return traits_of(c).ends_group;
}

// The extensions a MAIL's or a RCPT's parameters need offered, as bits
// (1 << extension), the way capabilities::present holds what was offered:
// SMTPUTF8 (RFC 6531), BODY=8BITMIME (RFC 6152) and BINARYMIME (RFC 3030),
// RET/ENVID and NOTIFY/ORCPT (RFC 3461 DSN), REQUIRETLS (RFC 8689), SIZE
// (RFC 1870), AUTH= (RFC 4954 §5), BY (RFC 2852 DELIVERBY), MT-PRIORITY
// (RFC 6710), HOLDFOR/HOLDUNTIL (RFC 4865 FUTURERELEASE).
[[nodiscard]] constexpr std::uint32_t extensions_needed(const mail_parameters& p) noexcept {
  const auto bit = [](extension e) { return std::uint32_t{1} << static_cast<unsigned>(e); };
  std::uint32_t needed = 0;
  if (p.smtputf8) needed |= bit(extension::smtputf8);
  if (p.body == body_type::eight_bit_mime) needed |= bit(extension::eightbitmime);
  if (p.body == body_type::binary_mime) needed |= bit(extension::binarymime);
  if (p.ret != dsn_ret::none || p.envid) needed |= bit(extension::dsn);
  if (p.requiretls) needed |= bit(extension::requiretls);
  if (p.size) needed |= bit(extension::size);
  if (p.auth) needed |= bit(extension::auth);
  if (p.by) needed |= bit(extension::deliverby);
  if (p.mt_priority) needed |= bit(extension::mt_priority);
  if (p.holdfor || p.holduntil) needed |= bit(extension::futurerelease);
  return needed;
}
[[nodiscard]] constexpr std::uint32_t extensions_needed(const rcpt_parameters& p) noexcept {
  return p.notify || p.orcpt ? std::uint32_t{1} << static_cast<unsigned>(extension::dsn) : 0;
}

}  // namespace sansmtp
