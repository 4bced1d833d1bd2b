// Internal: the Ragel reply-line machine (grammar/reply.rl), the reference
// the reply reader's fast path is fuzzed against.
#pragma once

#include <sansmtp/core/errc.hpp>

#include <cstddef>
#include <optional>
#include <string_view>

namespace sansmtp::detail {

struct reply_line_scan {
  bool accepted = false;
  std::size_t stop = 0;  // where the machine stopped (the first octet it refused, or the end)
};

// One reply line's content, without its line end.
reply_line_scan scan_reply_line(std::string_view content) noexcept;

// The length of the RFC 3463 status code at the start of a reply text (the
// class not checked against the reply code), when one is there followed by
// SP or the end.
std::optional<std::size_t> scan_enhanced_status(std::string_view text) noexcept;

struct reply_line_fault {
  errc code = errc::ok;
  std::size_t at = 0;  // index into the content
};

// The rule the line breaks, named by where the machine stopped: in the code
// (bad_reply_code; a line shorter than its code at its end), at the
// separator (bad_reply_separator), in the text (bare_cr for a CR,
// non_ascii for an octet above 127, control_character otherwise).
inline std::optional<reply_line_fault> reply_line_fault_of(std::string_view content) noexcept {
  const auto scan = scan_reply_line(content);
  if (scan.accepted) return std::nullopt;
  const std::size_t at = scan.stop;
  if (at < 3) return reply_line_fault{errc::bad_reply_code, at};
  if (at == 3 || at >= content.size()) return reply_line_fault{errc::bad_reply_separator, at};
  const auto c = static_cast<unsigned char>(content[at]);
  if (c == '\r') return reply_line_fault{errc::bare_cr, at};
  if (c >= 0x80) return reply_line_fault{errc::non_ascii, at};
  return reply_line_fault{errc::control_character, at};
}

}  // namespace sansmtp::detail
