// SMTP commands: a strict parser for one complete command line and a
// serializer that can only write what the parser accepts.
//
// Lifetime rule: every std::string_view inside a parsed command points into
// the line that was parsed; it is valid as long as that line is.
#pragma once

#include <sansmtp/core/errc.hpp>
#include <sansmtp/syntax/ehlo_argument.hpp>
#include <sansmtp/syntax/reply.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <variant>

namespace sansmtp {

// Command-line limits and leniencies. The naming scheme is the library's:
// limits are `max_*` (0 = no limit), leniencies are `allow_*` bools, off by
// default, each comment naming what it re-opens.
struct command_options {
  // RFC 5321 §4.5.3.1.4: 512 octets including the verb and CRLF. Extensions
  // may raise it (RFC 1869 §4.1.2 / RFC 3461 §5: DSN parameters; RFC 4954
  // §5: AUTH=): raise it when you advertise them. 0 = no limit.
  std::size_t max_line_length = 512;
  // RFC 5321 §4.5.3.1.1: local-part <= 64 octets. 0 = no limit.
  std::size_t max_local_part = 64;
  // RFC 5321 §4.5.3.1.2: domain <= 255 octets. 0 = no limit.
  std::size_t max_domain = 255;
  // RFC 5321 §4.5.3.1.3: reverse-path / forward-path <= 256 octets including
  // "<", ">" and separators. 0 = no limit.
  std::size_t max_path = 256;

  // SMTPUTF8 (RFC 6531) is in effect: UTF-8 local parts, U-label domains and
  // UTF-8 in ESMTP values, VRFY/EXPN strings and unknown commands' arguments
  // are accepted (and must be valid UTF-8 / IDNA2008). A server sets this
  // after advertising SMTPUTF8; for RCPT, only when the transaction's MAIL
  // carried the SMTPUTF8 parameter. MAIL with a non-ASCII reverse-path must
  // itself carry SMTPUTF8 (RFC 6531 §3.4).
  bool smtputf8 = false;

  // Keep MAIL/RCPT parameters this parser does not know instead of answering
  // 555 (RFC 5321 §4.1.1.11). Turn on only for extensions your server
  // implements and advertises itself. Intended: a parameter this parser
  // knows for the other command (NOTIFY on MAIL, SIZE on RCPT) stays 555
  // even then: its meaning is defined, and it is defined elsewhere, so it is
  // the client's error, not an extension the server could implement.
  bool allow_unknown_parameters = false;

  // Strictness, off by default: refuse spaces or tabs before CRLF
  // (errc::trailing_whitespace, 501). RFC 5321 §4.1.1: "SMTP receivers
  // SHOULD tolerate trailing white space before the terminating <CRLF>", so
  // by default it is tolerated, left out of the command and reported in
  // line_notes; a relay that must not pass on what the next hop may read
  // differently ("EHLO host " vs "host") turns this on.
  bool reject_trailing_whitespace = false;

  // Leniency: "MAIL FROM: <a@b>" (spaces after the colon). Re-opens parser
  // differentials between hops about where the path starts (Postfix
  // strict_rfc821_envelopes=no behaviour).
  bool allow_space_after_colon = false;
  // Leniency: "MAIL FROM:a@b" (no angle brackets). Re-opens ambiguity between
  // the address and what follows it: "a@b SIZE=1" vs. an address containing a
  // space, and RFC 821-era source-route tricks.
  bool allow_missing_angle_brackets = false;
  // Leniency: LF alone ends the line. This is the SMTP smuggling vector
  // (CVE-2023-51764/51765/51766): a peer that ends lines at bare LF sees
  // different commands than one that needs CRLF.
  bool allow_bare_lf = false;
  // Leniency: HELO with an address literal ("HELO [192.0.2.1]"); the helo
  // ABNF (§4.1.1.1) allows only a Domain, but most servers accept it. Re-opens
  // nothing known; off so that the strict grammar is the default.
  bool allow_helo_address_literal = false;
};

// What a command line did that the RFC says to tolerate: accepted, left out
// of the command, and reported here so that a relay or a proxy can still
// refuse it (or log it).
struct line_notes {
  // Octets of SP/HT tolerated before the CRLF (RFC 5321 §4.1.1); 0 = none.
  std::size_t trailing_whitespace = 0;

  friend bool operator==(const line_notes&, const line_notes&) = default;
};

// RFC 5321 §4.1.2 Path: "<>" (null reverse-path), "<Postmaster>" (RCPT only,
// §4.1.1.3: domain empty), or "<local-part@domain>". A source route
// ("<@a,@b:u@d>") is accepted and dropped (§4.1.2, Appendix C).
struct path {
  // As sent: a Dot-string, or a Quoted-string including its quotes and
  // backslashes. local_part_value() decodes it.
  std::string_view local_part;
  // Domain or address literal (brackets included), as sent.
  std::string_view domain;

  bool is_null() const noexcept { return local_part.empty() && domain.empty(); }
  bool is_postmaster() const noexcept;  // "<Postmaster>" without a domain
  bool quoted() const noexcept { return !local_part.empty() && local_part.front() == '"'; }
  // The local part with quotes and quoted-pairs removed ("\"a\\\"b\"" -> a"b).
  std::string local_part_value() const;
  // local@domain (local part as sent), "" for the null path, "Postmaster".
  std::string address() const;

  friend bool operator==(const path&, const path&) = default;
};

// BODY= (RFC 6152 8BITMIME, RFC 3030 BINARYMIME; 7BIT is RFC 6152's default).
enum class body_type : std::uint8_t { none, seven_bit, eight_bit_mime, binary_mime };
// RET= (RFC 3461 §4.3).
enum class dsn_ret : std::uint8_t { none, full, hdrs };
// NOTIFY= (RFC 3461 §4.1): NEVER alone, or any of SUCCESS, FAILURE, DELAY.
namespace notify {
inline constexpr std::uint8_t never = 1, success = 2, failure = 4, delay = 8;
}

// BY= (RFC 2852 §4): by-time ";" by-mode [ "T" ].
struct deliver_by {
  std::int64_t seconds = 0;  // -999999999 .. 999999999
  char mode = 'N';           // 'N' (notify) or 'R' (return), upper-cased
  bool trace = false;

  friend bool operator==(const deliver_by&, const deliver_by&) = default;
};

// ORCPT= (RFC 3461 §4.2): addr-type ";" xtext.
struct original_recipient {
  std::string_view type;     // e.g. "rfc822", as sent
  std::string_view address;  // xtext as sent; xtext_decode() for the value

  friend bool operator==(const original_recipient&, const original_recipient&) = default;
};

// RRVS= (RFC 7293 §3): date-time [ ";" ( "C" / "R" ) ].
struct require_recipient_valid_since {
  std::string_view date_time;  // RFC 3339 date-time, as sent
  char mode = 0;               // 'C', 'R' or 0 when absent

  friend bool operator==(const require_recipient_valid_since&,
                         const require_recipient_valid_since&) = default;
};

// One ESMTP parameter as sent: esmtp-keyword [ "=" esmtp-value ].
struct esmtp_param {
  std::string_view keyword;
  std::string_view value;  // empty when there is no "="
  bool has_value = false;

  friend bool operator==(const esmtp_param&, const esmtp_param&) = default;
};

// Iterates the parameters of a validated parameter text, in order.
class esmtp_param_range {
 public:
  explicit esmtp_param_range(std::string_view text) noexcept : text_(text) {}
  class iterator {
   public:
    using value_type = esmtp_param;
    using difference_type = std::ptrdiff_t;
    iterator() = default;
    explicit iterator(std::string_view rest) noexcept : rest_(rest) { load(); }
    const esmtp_param& operator*() const noexcept { return current_; }
    const esmtp_param* operator->() const noexcept { return &current_; }
    iterator& operator++() noexcept;
    iterator operator++(int) noexcept {
      auto old = *this;
      ++*this;
      return old;
    }
    friend bool operator==(const iterator& a, const iterator& b) noexcept {
      return a.rest_.data() == b.rest_.data() && a.rest_.size() == b.rest_.size() && a.done_ == b.done_;
    }

   private:
    void load() noexcept;
    std::string_view rest_;
    esmtp_param current_;
    bool done_ = true;
  };
  iterator begin() const noexcept { return iterator(text_); }
  iterator end() const noexcept { return iterator(text_.substr(text_.size())); }

 private:
  std::string_view text_;
};

// MAIL parameters (RFC 5321 §4.1.1.2 Mail-parameters). `text` is the truth:
// every parameter as sent, in order; the fields below are its typed view.
struct mail_parameters {
  std::string_view text;
  std::optional<std::uint64_t> size{};          // SIZE= (RFC 1870)
  body_type body = body_type::none;             // BODY=
  bool smtputf8 = false;                        // SMTPUTF8 (RFC 6531 §3.4)
  bool requiretls = false;                      // REQUIRETLS (RFC 8689 §4.1)
  dsn_ret ret = dsn_ret::none;                  // RET= (RFC 3461 §4.3)
  std::optional<std::string_view> envid{};      // ENVID= xtext as sent (RFC 3461 §4.4)
  std::optional<std::string_view> auth{};       // AUTH= xtext as sent; decoded: "<>"/Mailbox (RFC 4954 §5)
  std::optional<deliver_by> by{};               // BY= (RFC 2852)
  std::optional<int> mt_priority{};             // MT-PRIORITY= -9..9 (RFC 6710)
  std::optional<std::uint32_t> holdfor{};       // HOLDFOR= seconds (RFC 4865)
  std::optional<std::string_view> holduntil{};  // HOLDUNTIL= date-time (RFC 4865)

  esmtp_param_range params() const noexcept { return esmtp_param_range(text); }
  friend bool operator==(const mail_parameters&, const mail_parameters&) = default;
};

// RCPT parameters (RFC 5321 §4.1.1.3 Rcpt-parameters).
struct rcpt_parameters {
  std::string_view text;
  std::uint8_t notify = 0;                              // notify:: flags; 0 = no NOTIFY= (RFC 3461 §4.1)
  std::optional<original_recipient> orcpt{};            // ORCPT= (RFC 3461 §4.2)
  std::optional<require_recipient_valid_since> rrvs{};  // RRVS= (RFC 7293)

  esmtp_param_range params() const noexcept { return esmtp_param_range(text); }
  friend bool operator==(const rcpt_parameters&, const rcpt_parameters&) = default;
};

// One struct per command (RFC 5321 §4.1.1, RFC 2033, RFC 3030, RFC 3207,
// RFC 4954). `command` holds exactly one.
namespace cmd {
struct ehlo {
  ehlo_host host;
  friend bool operator==(const ehlo&, const ehlo&) = default;
};
struct helo {
  ehlo_host host;  // a Domain; an address literal only with helo_address_literal
  friend bool operator==(const helo&, const helo&) = default;
};
struct lhlo {
  ehlo_host host;  // RFC 2033 §4.1: same argument as EHLO
  friend bool operator==(const lhlo&, const lhlo&) = default;
};
struct mail {
  path reverse_path;
  mail_parameters params;
  friend bool operator==(const mail&, const mail&) = default;
};
struct rcpt {
  path forward_path;
  rcpt_parameters params;
  friend bool operator==(const rcpt&, const rcpt&) = default;
};
struct data {
  friend bool operator==(const data&, const data&) = default;
};
struct bdat {  // RFC 3030 §2: BDAT chunk-size [ SP "LAST" ]
  std::uint64_t size = 0;
  bool last = false;
  friend bool operator==(const bdat&, const bdat&) = default;
};
struct rset {
  friend bool operator==(const rset&, const rset&) = default;
};
struct vrfy {
  std::string_view argument;  // String (Atom / Quoted-string), as sent
  friend bool operator==(const vrfy&, const vrfy&) = default;
};
struct expn {
  std::string_view argument;
  friend bool operator==(const expn&, const expn&) = default;
};
struct help {
  std::optional<std::string_view> argument;
  friend bool operator==(const help&, const help&) = default;
};
struct noop {
  std::optional<std::string_view> argument;
  friend bool operator==(const noop&, const noop&) = default;
};
struct quit {
  friend bool operator==(const quit&, const quit&) = default;
};
struct starttls {  // RFC 3207 §4: no parameters
  friend bool operator==(const starttls&, const starttls&) = default;
};
struct auth {                  // RFC 4954 §4: AUTH mechanism [ SP initial-response ]
  std::string_view mechanism;  // SASL name: 1-20 of A-Z 0-9 - _ (RFC 4422 §3.1)
  // base64 as sent, or "=" for an empty initial response; nullopt when absent.
  std::optional<std::string_view> initial_response;
  friend bool operator==(const auth&, const auth&) = default;
};
// A verb this parser does not know ("XCLIENT", "TURN", ...): the server
// answers 500 or 502, or implements it.
struct unknown {
  std::string_view verb;                     // as sent
  std::optional<std::string_view> argument;  // everything after the first SP
  friend bool operator==(const unknown&, const unknown&) = default;
};
}  // namespace cmd

using command = std::variant<cmd::ehlo, cmd::helo, cmd::lhlo, cmd::mail, cmd::rcpt, cmd::data, cmd::bdat,
                             cmd::rset, cmd::vrfy, cmd::expn, cmd::help, cmd::noop, cmd::quit, cmd::starttls,
                             cmd::auth, cmd::unknown>;

// The canonical upper-case verb ("MAIL"); an unknown command's verb as sent.
std::string_view verb_name(const command& c) noexcept;

// Why a command line was refused, and what a server should answer: the
// house error shape (errc + offset into the line as passed in) and the
// reply.
struct command_error : parse_error {
  // The reply a server should send: the code (500, 501, 504, 552 for a
  // SIZE too big, 553 or 555) and its RFC 3463 status (5.5.2 unless the
  // cause has its own, e.g. 5.1.7 for a bad sender), the fields of the one
  // reply type (as_reply()). Kept as two fields, not a sansmtp::reply, so
  // that the error the parsers return on every line stays small (measured:
  // a reply member costs the RCPT parser 2.4%).
  int reply = 500;
  std::optional<enhanced_status> enhanced;

  // The same as a sansmtp::reply, without text lines
  // (server_event::bad_command::suggested is this reply with a text).
  [[nodiscard]] sansmtp::reply as_reply() const noexcept { return {reply, enhanced, {}, 0, 0}; }

  friend bool operator==(const command_error&, const command_error&) = default;
};

// One line a client sends during an AUTH exchange, after a 334 (RFC 4954
// §4): base64, empty (an empty response), or "*" (the client cancels; the
// server answers 501). Framed as command lines are (CRLF, no CR/LF inside,
// trailing white space tolerated and noted) but with the AUTH limit. A
// response that is no base64 is bad_initial_response (501 5.5.2: RFC 4954
// §4, "cannot BASE64 decode"); one over the limit is line_too_long (500
// 5.5.6, "authentication exchange line is too long").
struct auth_response_options {
  // RFC 4954 §4: both sides "MUST be able to handle the maximum encoded size
  // of challenges and responses generated by their supported authentication
  // mechanisms"; 12288 octets (CRLF included) is what it names as enough for
  // the mechanisms deployed. 0 = no limit.
  std::size_t max_line_length = 12288;
  // As command_options.
  bool reject_trailing_whitespace = false;
  // Leniency: LF alone ends the line (as command_options::allow_bare_lf:
  // the SMTP smuggling vector).
  bool allow_bare_lf = false;
};

struct auth_response {
  bool cancelled = false;   // "*"
  std::string_view base64;  // as sent; empty for an empty response (and when cancelled)

  friend bool operator==(const auth_response&, const auth_response&) = default;
};

namespace parse {

// One complete command line, with or without its CRLF (the framer's job is
// to cut lines; this judges one). A line ending in a bare LF is refused
// unless options.allow_bare_lf. Verbs and the "FROM:"/"TO:" keywords are
// case-insensitive (RFC 5321 §2.4). Trailing white space is tolerated and
// left out (see command_options::reject_trailing_whitespace); the overload
// with `notes` says whether there was any.
parse_result<command, command_error> command_line(std::string_view line, const command_options& options = {});
parse_result<command, command_error> command_line(std::string_view line, const command_options& options,
                                                  line_notes& notes);

// AUTH response lines: see auth_response_options.
parse_result<sansmtp::auth_response, command_error> auth_response(std::string_view line,
                                                                  const auth_response_options& options = {});
parse_result<sansmtp::auth_response, command_error> auth_response(std::string_view line,
                                                                  const auth_response_options& options,
                                                                  line_notes& notes);

// Parameter texts on their own ("SIZE=100 BODY=8BITMIME"), as in MAIL/RCPT;
// offsets in errors are into `text`. Useful to build commands (see
// esmtp_param_writer).
parse_result<mail_parameters, command_error> mail_parameters(std::string_view text,
                                                             const command_options& options = {});
parse_result<rcpt_parameters, command_error> rcpt_parameters(std::string_view text,
                                                             const command_options& options = {});

// A Mailbox without angle brackets ("user@example.com", "\"a b\"@[192.0.2.1]").
parse_result<path, command_error> mailbox(std::string_view text, const command_options& options = {});

}  // namespace parse

// xtext (RFC 3461 §4): printable ASCII except "+" and "=", which are sent as
// "+" and two upper-case hex digits. xtext_valid agrees with the parameter
// parser: it also refuses "+0D", "+0A" and "+00" (the parser's
// forbidden_octet_in_xtext), since a decoded CR, LF or NUL would inject lines
// into the DSNs and logs the value ends up in.
bool xtext_valid(std::string_view xtext) noexcept;
std::string xtext_decode(std::string_view xtext);  // precondition: xtext_valid
std::string xtext_encode(std::string_view value);

// A local part ready for a path: the value itself when it is a Dot-string,
// else a Quoted-string with '"' and '\' escaped. Characters no local part
// can hold (controls, CR, LF) are kept, and the serializer refuses them.
std::string quote_local_part(std::string_view value);

// Why a command could not be built or serialized: the house error shape
// (the offset is into the line that would have been written, or into the
// parameter text for esmtp_param_writer) and the field that was refused:
// "host", "reverse_path", "forward_path", "params", "params.size", ...,
// "argument", "mechanism", "initial_response", "verb" (static strings).
struct build_error : parse_error {
  std::string_view field;

  friend bool operator==(const build_error&, const build_error&) = default;
};

// Builds a parameter text: each call appends one " KEYWORD[=value]". Values
// given to the typed helpers are encoded (xtext where the RFC says so).
// Feed text() to parse::mail_parameters / rcpt_parameters for the typed
// view, or give the writer to make_mail / make_rcpt (command_builder.hpp).
// Checked as it is written: a keyword that is no esmtp-keyword, a value
// with an octet esmtp-value does not allow (SP, "=", controls: CR and LF
// would inject a command), NOTIFY=NEVER with another flag, or unknown
// NOTIFY bits make error() say so (field "params", offset into text());
// the first error sticks and later calls add nothing.
class esmtp_param_writer {
 public:
  esmtp_param_writer& add(std::string_view keyword);
  esmtp_param_writer& add(std::string_view keyword, std::string_view value);
  esmtp_param_writer& size(std::uint64_t octets);
  esmtp_param_writer& body(body_type type);
  esmtp_param_writer& ret(dsn_ret what);
  esmtp_param_writer& envid(std::string_view value);                           // xtext-encoded
  esmtp_param_writer& notify(std::uint8_t flags);                              // notify::*
  esmtp_param_writer& orcpt(std::string_view type, std::string_view address);  // address xtext-encoded
  const std::string& text() const noexcept { return text_; }
  const std::optional<build_error>& error() const noexcept { return error_; }

 private:
  bool fail(errc code, std::size_t offset);
  std::string text_;
  std::optional<build_error> error_;
};

// Appends one command line, CRLF included, to `out`. Refuses (and appends
// nothing) when the result would not parse back to exactly `c` under
// `options`: a CR, LF or NUL in any field (command injection), a field that
// breaks its grammar, an over-long line, trailing white space, or typed
// fields that disagree with a parameter text. The error says why (bare_cr,
// bare_lf, invalid_character, line_too_long, ..., or inconsistent_command)
// and which field. make_command() (command_builder.hpp) gives an owning
// command instead.
build_error serialize(const command& c, std::string& out, const command_options& options = {});

}  // namespace sansmtp
