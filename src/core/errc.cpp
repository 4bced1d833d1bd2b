#include <sansmtp/core/errc.hpp>

#include <string>

namespace sansmtp {
namespace {

struct entry {
  std::string_view name;
  std::string_view message;
};

// Indexed by errc; names are stable API (JSON output, logs).
constexpr entry entries[] = {
    {"ok", "no error"},
    {"empty_argument", "the argument is empty"},
    {"invalid_character", "a character that is not allowed here"},
    {"empty_label", "an empty label (\"..\" or a leading \".\")"},
    {"trailing_dot", "a trailing dot: SMTP domains are written without the root dot"},
    {"label_hyphen", "a label starts or ends with a hyphen"},
    {"label_too_long", "a label is longer than 63 octets (RFC 1035 section 2.3.4)"},
    {"domain_too_long", "the domain is longer than 255 octets (RFC 5321 section 4.5.3.1.2)"},
    {"bad_ipv4_literal", "not an IPv4 address literal (four numbers 0-255)"},
    {"bad_ipv6_literal", "not an IPv6 address literal (RFC 5321 section 4.1.3)"},
    {"bad_address_literal", "not an address literal (RFC 5321 section 4.1.3)"},
    {"unterminated_literal", "an address literal without its closing \"]\""},
    {"trailing_characters", "characters after the closing \"]\""},
    {"bare_lf", "a line feed not preceded by a carriage return (RFC 5321 section 2.3.8)"},
    {"bare_cr", "a carriage return not followed by a line feed (RFC 5321 section 2.3.8)"},
    {"line_too_long", "a line longer than the limit (RFC 5321 section 4.5.3.1)"},
    {"bad_reply_code", "not a reply code: three digits 2-5, 0-5, 0-9 (RFC 5321 section 4.2)"},
    {"bad_reply_separator", "the reply code is not followed by a space, \"-\" or the line end"},
    {"reply_code_mismatch", "a line of a multiline reply carries a different code (RFC 5321 section 4.2.1)"},
    {"control_character", "a control character in reply text (only HT is allowed, RFC 5321 section 4.2)"},
    {"non_ascii", "a byte that is not US-ASCII in reply text"},
    {"bad_utf8", "not valid UTF-8 (RFC 3629)"},
    {"reply_line_too_long", "a reply line longer than the limit (RFC 5321 section 4.5.3.1.5)"},
    {"too_many_reply_lines", "a reply with more lines than the limit"},
    {"incomplete", "the input ended inside a reply"},
    {"bad_enhanced_status", "not an enhanced status code of the reply's class (RFC 3463 section 2)"},
    {"empty_command", "an empty command line"},
    {"invalid_verb", "not a command verb (RFC 5321 section 4.1.1: letters, digits and hyphens)"},
    {"missing_argument", "the command needs an argument"},
    {"unexpected_argument", "the command takes no argument here"},
    {"missing_from_to", "MAIL needs \"FROM:\" and RCPT needs \"TO:\" right after the verb"},
    {"space_before_path", "a space between \"FROM:\"/\"TO:\" and the path (RFC 5321 section 4.1.2)"},
    {"missing_angle_bracket", "a path must be enclosed in \"<\" and \">\" (RFC 5321 section 4.1.2)"},
    {"unterminated_path", "a path without its closing \">\""},
    {"bad_local_part", "not a local part (Dot-string or Quoted-string, RFC 5321 section 4.1.2)"},
    {"bad_mailbox", "not a mailbox (local-part \"@\" domain, RFC 5321 section 4.1.2)"},
    {"local_part_too_long", "the local part is longer than 64 octets (RFC 5321 section 4.5.3.1.1)"},
    {"path_too_long", "the path is longer than 256 octets (RFC 5321 section 4.5.3.1.3)"},
    {"non_ascii_address", "a non-ASCII address without SMTPUTF8 in effect (RFC 6531 section 3.4)"},
    {"bad_u_label", "a non-ASCII label that is not a valid IDNA2008 U-label (RFC 5891)"},
    {"address_literal_in_helo", "HELO takes a domain, not an address literal (RFC 5321 section 4.1.1.1)"},
    {"trailing_whitespace", "spaces or tabs at the end of the command line"},
    {"bad_parameter", "not an ESMTP parameter (esmtp-keyword [\"=\" esmtp-value], RFC 5321 section 4.1.2)"},
    {"duplicate_parameter", "the same ESMTP parameter twice"},
    {"unknown_parameter", "an ESMTP parameter this command does not take (RFC 5321 section 4.1.1.11)"},
    {"bad_parameter_value", "a parameter value that breaks its extension's syntax"},
    {"unsupported_parameter_value", "a parameter value the extension does not define"},
    {"value_out_of_range", "a number too large or outside its allowed range"},
    {"bad_xtext", "not xtext (RFC 3461 section 4)"},
    {"forbidden_octet_in_xtext", "xtext that decodes to CR, LF or NUL"},
    {"parameter_too_long", "a parameter value longer than its extension allows"},
    {"bad_auth_mechanism", "not a SASL mechanism name (RFC 4422 section 3.1: 1-20 of A-Z 0-9 - _)"},
    {"bad_initial_response", "not base64 or \"=\" (RFC 4954 section 4)"},
    {"inconsistent_command", "the command's fields would not parse back to the same command"},
    {"invalid_state", "a call the object's current state does not allow (nothing was changed)"},
    {"bad_sequence", "a command this state does not allow (RFC 5321 section 4.1.4)"},
    {"not_offered", "an extension or parameter the server did not advertise"},
    {"too_many_recipients", "more recipients than the limit (RFC 5321 section 4.5.3.1.10)"},
    {"too_many_transactions", "more mail transactions than the limit"},
    {"too_many_errors", "more bad commands than the session allows"},
    {"message_too_large", "the message is larger than the SIZE limit (RFC 1870)"},
    {"starttls_injection", "plaintext after STARTTLS, before the TLS handshake (CVE-2011-0411)"},
    {"encryption_required", "AUTH before TLS (RFC 4954 section 4)"},
    {"timeout", "the peer was silent for longer than the timeout (RFC 5321 section 4.5.3.2)"},
    {"bad_ehlo_name", "the EHLO name would be refused by servers (see sansmtp ehlo-check)"},
    {"unexpected_reply", "a reply when no command was waiting for one"},
    {"receive_buffer_full", "the bytes do not fit in the receive buffer (nothing was copied)"},
    {"session_closed", "the session is over (nothing was changed)"},
    {"starttls_unavailable", "TLS is required and the server does not offer STARTTLS or refused it (RFC 3207)"},
    {"shutting_down", "the server is shutting down and takes no new work (RFC 5321 section 3.8)"},
    {"bad_proxy_header", "not a PROXY protocol header, or one that breaks its format"},
    {"proxy_header_too_long", "the PROXY header is longer than allowed"},
    {"proxy_version_not_allowed", "a PROXY header of a version not accepted here"},
    {"bad_proxy_address", "an address or port in the PROXY header that is not one"},
    {"bad_proxy_tlv", "a PROXY v2 TLV that overruns, repeats or has the wrong size"},
    {"proxy_checksum_mismatch", "the PROXY v2 CRC32C does not match the header"},
    {"session_too_long", "the session lasted longer than its limit"},
    {"transfer_too_slow", "the message arrived slower than the minimum transfer rate"},
    {"too_many_commands", "too many commands that start no mail transaction (NOOP, RSET, VRFY, EXPN, HELP)"},
};

// The table follows the enum: the last code of each group sits where its
// value says, and nothing follows the last one.
constexpr bool at(errc e, std::string_view name) { return entries[static_cast<std::size_t>(e)].name == name; }
static_assert(at(errc::trailing_characters, "trailing_characters"));
static_assert(at(errc::line_too_long, "line_too_long"));
static_assert(at(errc::bad_enhanced_status, "bad_enhanced_status"));
static_assert(at(errc::inconsistent_command, "inconsistent_command"));
static_assert(at(errc::invalid_state, "invalid_state"));
static_assert(at(errc::unexpected_reply, "unexpected_reply"));
static_assert(at(errc::session_closed, "session_closed"));
static_assert(at(errc::starttls_unavailable, "starttls_unavailable"));
static_assert(at(errc::shutting_down, "shutting_down"));
static_assert(at(errc::proxy_checksum_mismatch, "proxy_checksum_mismatch"));
static_assert(at(errc::too_many_commands, "too_many_commands"));
static_assert(std::size(entries) == static_cast<std::size_t>(errc::too_many_commands) + 1);

class category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "sansmtp"; }
  std::string message(int value) const override {
    if (value < 0 || static_cast<std::size_t>(value) >= std::size(entries)) return "unknown error";
    return std::string(entries[value].message);
  }
};

}  // namespace

const std::error_category& error_category() noexcept {
  static const category instance;
  return instance;
}

std::string_view errc_name(errc e) noexcept {
  const auto i = static_cast<std::size_t>(e);
  return i < std::size(entries) ? entries[i].name : std::string_view("unknown");
}

std::string_view errc_name(std::error_code ec) noexcept {
  if (ec.category() != error_category()) return {};
  return errc_name(static_cast<errc>(ec.value()));
}

}  // namespace sansmtp
