// Server replies (RFC 5321 §4.2): the reply, RFC 3463 enhanced status codes,
// and the writer a server uses to produce replies. The streaming reader a
// client runs over what the server sends is codec/reply_reader.hpp.
//
//   Reply-line = *( Reply-code "-" [ textstring ] CRLF )
//                Reply-code [ SP textstring ] CRLF
//   Reply-code = %x32-35 %x30-35 %x30-39
//   textstring = 1*(%d09 / %d32-126)
//
// Deliberate reading: "250 " + CRLF (SP and no text) is taken as a line with
// empty text, like "250" + CRLF; the ABNF's textstring is 1*, but the two
// forms carry the same information and real servers send both.
//
#pragma once

#include <sansmtp/core/errc.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace sansmtp {

// RFC 3463 §2: class "." subject "." detail. Written "2.1.5".
struct enhanced_status {
  std::uint8_t status_class = 0;  // 2, 4 or 5
  std::uint16_t subject = 0;      // 0-999
  std::uint16_t detail = 0;       // 0-999

  friend bool operator==(const enhanced_status&, const enhanced_status&) = default;
};

std::string to_string(const enhanced_status& status);

namespace parse {

// An enhanced status code at the start of one reply line's text (RFC 2034
// §4: "status-code SP text"), followed by SP or the end of the text. The
// class must be 2, 4 or 5 and equal the reply code's first digit; subject and
// detail are 1-3 digits without leading zeros (a lone "0" is fine, RFC 3463
// §2). Anything else is no ESC, and the text stays text: "250 2address.org",
// "432 6.8.9 x", "250 4.2 xxx" and every 354 carry none.
struct enhanced_status_prefix {
  enhanced_status status;
  std::size_t length = 0;  // octets of "c.s.d" (the SP after it not included)
};
std::optional<enhanced_status_prefix> enhanced_status_at(std::string_view text, int reply_code) noexcept;

}  // namespace parse

// The text of a reply line without its ESC and the SP after it (RFC 2034 §4
// puts the code on every line of a multiline reply); the text itself when it
// has none.
std::string_view strip_enhanced_status(std::string_view text, int reply_code) noexcept;

// Whether `code` is a Reply-code (three digits %x32-35 %x30-35 %x30-39).
constexpr bool valid_reply_code(int code) noexcept { return code >= 200 && code <= 559 && code % 100 <= 59; }

// One complete reply.
struct reply {
  int code = 0;
  // The ESC of the first line, if it has one (RFC 2034 §4: every line repeats
  // it; the lines below keep each line's ESC as sent, see strip_enhanced_status).
  std::optional<enhanced_status> enhanced;
  // Each line's text after the 4-octet "NNN-" / "NNN " prefix, without CRLF;
  // empty for a bare "NNN" line.
  std::span<const std::string_view> lines;
  std::uint64_t offset = 0;  // stream offset of the reply's first octet
  std::uint64_t size = 0;    // octets on the wire, line ends included
};

struct reply_writer_options {
  std::size_t max_line_length = 512;  // as reply_reader_options, §4.5.3.1.5; 0 = no limit
  std::size_t max_lines = 128;        // 0 = no limit
  // See reply_reader_options::allow_utf8: the writer accepts exactly the
  // text the reader does, so C1 and bidirectional controls are
  // control_character here too.
  bool allow_utf8 = false;
};

// Server side: appends the wire form of a reply to `out`. Each element of
// `paragraphs` is one logical line; one that does not fit the line limit is
// wrapped at spaces (the space at a break is dropped, so joining the wire
// lines of a paragraph with " " gives it back). With an ESC, every line
// starts with it (RFC 2034 §4). No paragraphs: one line without text.
//
// Refused, appending nothing: a code that is not a Reply-code
// (bad_reply_code), an ESC whose class is not the code's first digit or whose
// parts exceed 999 (bad_enhanced_status), CR, LF, NUL or any control but HT in
// text (control_character: a CRLF in text would let whoever supplies the text
// inject a reply), octets >= 0x80 (non_ascii, or bad_utf8 under allow_utf8),
// a word longer than a line (reply_line_too_long), more lines than max_lines
// (too_many_reply_lines).
[[nodiscard]] std::error_code write_reply(std::string& out, int code, std::optional<enhanced_status> enhanced,
                            std::span<const std::string_view> paragraphs,
                            const reply_writer_options& options = {});

}  // namespace sansmtp
