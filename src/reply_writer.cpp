// The reply writer: validates everything first, then appends, so a refused
// reply leaves no partial bytes behind (RFC 5321 §4.2; RFC 2034 §4).
#include <sansmtp/reply.hpp>

#include "reply_text.hpp"

#include <cstdint>
#include <vector>

namespace sansmtp {

std::error_code write_reply(std::string& out, int code, std::optional<enhanced_status> enhanced,
                            std::span<const std::string_view> paragraphs,
                            const reply_writer_options& options) {
  if (!valid_reply_code(code)) return errc::bad_reply_code;
  std::string esc;
  if (enhanced) {
    if (enhanced->status_class == 3 || enhanced->status_class != code / 100 || enhanced->subject > 999 ||
        enhanced->detail > 999)
      return errc::bad_enhanced_status;
    esc = to_string(*enhanced);
  }
  // "NNN-" + [ESC SP] + text + CRLF must fit the line.
  const std::size_t overhead = 4 + (esc.empty() ? 0 : esc.size() + 1) + 2;
  // 0 = no limit, as everywhere.
  const std::size_t max_line = options.max_line_length ? options.max_line_length : SIZE_MAX;
  if (overhead > max_line) return errc::reply_line_too_long;
  const std::size_t room = max_line - overhead;
  std::vector<std::string_view> lines;
  const std::string_view none[] = {std::string_view()};
  if (paragraphs.empty()) paragraphs = none;
  for (std::string_view text : paragraphs) {
    if (auto fault = detail::check_reply_text(text, options.allow_utf8, errc::control_character, false))
      return fault->code;
    while (text.size() > room) {
      // Break at the last space that leaves a line within the limit.
      const auto space = text.rfind(' ', room);
      if (space == std::string_view::npos) return errc::reply_line_too_long;
      lines.push_back(text.substr(0, space));
      text.remove_prefix(space + 1);
    }
    lines.push_back(text);
  }
  if (options.max_lines && lines.size() > options.max_lines) return errc::too_many_reply_lines;

  const std::string digits = std::to_string(code);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    out += digits;
    const bool last = i + 1 == lines.size();
    if (!esc.empty()) {
      out += last ? ' ' : '-';
      out += esc;
      if (!lines[i].empty()) out += ' ';
    } else if (!lines[i].empty() || !last) {
      out += last ? ' ' : '-';
    }
    out += lines[i];
    out += "\r\n";
  }
  return {};
}

}  // namespace sansmtp
