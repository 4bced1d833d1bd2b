// sansmtp error codes: one enum for every way input or a call can be refused.
#pragma once

#include <cstdint>
#include <string_view>
#include <system_error>

namespace sansmtp {

// Stable: the numeric values and the names returned by errc_name() are API.
enum class errc {
  ok = 0,
  // EHLO/HELO argument (RFC 5321 §4.1.1.1, §4.1.2, §4.1.3)
  empty_argument = 1,
  invalid_character,     // a byte the grammar does not allow at that offset
  empty_label,           // ".." or a leading "."
  trailing_dot,          // "host.example." (Domain has no root dot in SMTP)
  label_hyphen,          // a label starting or ending with "-"
  label_too_long,        // > 63 octets (RFC 1035 §2.3.4)
  domain_too_long,       // > 255 octets (RFC 5321 §4.5.3.1.2)
  bad_ipv4_literal,      // "[...]" that is not 4 Snum 0-255
  bad_ipv6_literal,      // "[IPv6:...]" whose address is not IPv6-addr
  bad_address_literal,   // "[...]" matching no literal form
  unterminated_literal,  // "[" without "]"
  trailing_characters,   // bytes after the closing "]"
  // DATA content (RFC 5321 §2.3.8, §4.5.2, §4.5.3.1.6)
  bare_lf,        // LF not preceded by CR
  bare_cr,        // CR not followed by LF
  line_too_long,  // a text line over the limit (1000 octets by default)
  // Replies (RFC 5321 §4.2, RFC 3463)
  bad_reply_code,        // not three digits %x32-35 %x30-35 %x30-39
  bad_reply_separator,   // the fourth octet is not SP, "-" or the line end
  reply_code_mismatch,   // a line of a multiline reply carries another code
  control_character,     // a control octet other than HT in reply text
  non_ascii,             // an octet >= 0x80 in reply text (see allow_utf8)
  bad_utf8,              // not UTF-8 (RFC 3629): reply text (allow_utf8), SMTPUTF8 addresses
  reply_line_too_long,   // over the limit (512 octets by default, §4.5.3.1.5)
  too_many_reply_lines,  // more lines in one reply than the limit
  incomplete,            // the stream ended inside a reply
  bad_enhanced_status,   // writer: an ESC that is not class.subject.detail of the code's class
  // Commands (RFC 5321 §4.1, §4.5.3.1; RFC 1869, 3030, 3461, 4954, 6531)
  empty_command,
  invalid_verb,
  missing_argument,
  unexpected_argument,
  missing_from_to,
  space_before_path,
  missing_angle_bracket,
  unterminated_path,
  bad_local_part,
  bad_mailbox,
  local_part_too_long,
  path_too_long,
  non_ascii_address,
  bad_u_label,
  address_literal_in_helo,
  trailing_whitespace,
  bad_parameter,
  duplicate_parameter,
  unknown_parameter,
  bad_parameter_value,
  unsupported_parameter_value,
  value_out_of_range,
  bad_xtext,
  forbidden_octet_in_xtext,
  parameter_too_long,
  bad_auth_mechanism,
  bad_initial_response,
  inconsistent_command,
  // Local misuse (a call the object's state does not allow; nothing changed).
  // The session's own causes have codes of their own (receive_buffer_full,
  // session_closed, below): is_local_misuse() tells all three from the
  // peer's errors.
  invalid_state,
  // Sessions (RFC 5321 §4.1.4, §4.5.3; RFC 3030, 3207, 4954)
  bad_sequence,           // a command the state does not allow (503)
  not_offered,            // an extension or parameter the server did not advertise
  too_many_recipients,    // more RCPTs than the limit (452 4.5.3)
  too_many_transactions,  // more MAILs than the limit
  too_many_errors,        // more bad commands than the budget
  message_too_large,      // the message grew past the SIZE limit (552 5.3.4)
  starttls_injection,     // plaintext after STARTTLS (CVE-2011-0411)
  encryption_required,    // AUTH before TLS (538 5.7.11)
  timeout,                // the peer was silent for longer than the timeout
  bad_ehlo_name,          // the EHLO name fails check_ehlo_name (client)
  unexpected_reply,       // a reply when no command awaited one (client)
  // Local misuse, continued (appended: the values above are stable)
  receive_buffer_full,  // receive(): the bytes do not fit (receive_capacity()); nothing copied
  session_closed,       // the session is over, or receive() after receive_eof(); nothing changed
  // Sessions, continued (appended: the values above are stable)
  starttls_unavailable,  // TLS is required and the server does not offer STARTTLS or refused it (RFC 3207)
  shutting_down,         // new work while the server drains (server::drain(), RFC 5321 §3.8)
  // PROXY protocol headers (HAProxy's proxy-protocol.txt, v1 and v2)
  bad_proxy_header,           // not a PROXY header, or one that breaks the format at that offset
  proxy_header_too_long,      // v1: no CRLF in 107 octets; v2: longer than the limit
  proxy_version_not_allowed,  // a v1 header where only v2 is accepted, or the reverse
  bad_proxy_address,          // an address or port that is not one (v1 text, v2 family/length)
  bad_proxy_tlv,              // a v2 TLV that overruns, repeats, or has the wrong size
  proxy_checksum_mismatch,    // PP2_TYPE_CRC32C does not match the header
  // Abuse limits of the server session (server_options; time reported with on_time()).
  session_too_long,    // max_session_time passed
  transfer_too_slow,   // fewer than min_data_rate.octets in an interval of DATA or BDAT
  too_many_commands,   // over max_non_transaction_commands (NOOP, RSET, VRFY, EXPN, HELP)
};

// The application's mistake, not the peer's: a call the session's state
// does not allow, bytes that do not fit, a call after the end (h11's
// LocalProtocolError). Every other code is about the input (the peer's
// bytes, or a field given to a parser or builder).
constexpr bool is_local_misuse(errc e) noexcept {
  return e == errc::invalid_state || e == errc::receive_buffer_full || e == errc::session_closed;
}

const std::error_category& error_category() noexcept;

[[nodiscard]] inline std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), error_category()}; }

// The stable snake_case name of a code ("label_too_long"), as used in JSON.
std::string_view errc_name(errc e) noexcept;
// The same from an std::error_code of this category; empty for any other
// category (whose codes have no stable name here).
std::string_view errc_name(std::error_code ec) noexcept;

}  // namespace sansmtp

template <>
struct std::is_error_code_enum<sansmtp::errc> : std::true_type {};

namespace sansmtp {

// The one error shape every module reports (parsers, the reply reader, the
// DATA codec, the serializer, and the sessions built on them): what went
// wrong and where. `offset` is the index of the first input octet that could
// not be accepted: into the field or line for the stateless parsers, into
// the stream (counted from the first octet given) for the streaming readers;
// equal to the input size when the input ended early. Modules that know more
// extend it (command_error: the reply a server should send; build_error: the
// field that was refused). Like std::error_code, an error converts to true.
struct parse_error {
  errc code = errc::ok;
  std::uint64_t offset = 0;

  explicit operator bool() const noexcept { return code != errc::ok; }
  std::string_view name() const noexcept { return errc_name(code); }
  [[nodiscard]] std::error_code error_code() const noexcept { return make_error_code(code); }

  friend bool operator==(const parse_error&, const parse_error&) = default;
  // As std::error_code compares with an error enum.
  friend bool operator==(const parse_error& e, errc c) noexcept { return e.code == c; }
};

}  // namespace sansmtp
