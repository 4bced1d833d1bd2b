// The reply writer: validates everything first, then appends, so a refused
// reply leaves no partial bytes behind (RFC 5321 §4.2; RFC 2034 §4).
#include <sansmtp/syntax/reply.hpp>

#include "reply_text.hpp"

#include <cstdint>

namespace sansmtp {

std::error_code write_reply(std::string& out, int code, std::optional<enhanced_status> enhanced,
                            std::span<const std::string_view> paragraphs,
                            const reply_writer_options& options) {
  if (!valid_reply_code(code)) return errc::bad_reply_code;
  // The ESC as text, written here rather than by to_string(): no string is
  // made per reply (at most "5.999.999").
  char esc_text[11];
  std::size_t esc_size = 0;
  if (enhanced) {
    if (enhanced->status_class == 3 || enhanced->status_class != code / 100 || enhanced->subject > 999 ||
        enhanced->detail > 999)
      return errc::bad_enhanced_status;
    const auto put = [&](unsigned v) {
      if (v >= 100) esc_text[esc_size++] = static_cast<char>('0' + v / 100);
      if (v >= 10) esc_text[esc_size++] = static_cast<char>('0' + v / 10 % 10);
      esc_text[esc_size++] = static_cast<char>('0' + v % 10);
    };
    put(enhanced->status_class);
    esc_text[esc_size++] = '.';
    put(enhanced->subject);
    esc_text[esc_size++] = '.';
    put(enhanced->detail);
  }
  const std::string_view esc(esc_text, esc_size);
  // "NNN-" + [ESC SP] + text + CRLF must fit the line.
  const std::size_t overhead = 4 + (esc.empty() ? 0 : esc.size() + 1) + 2;
  // 0 = no limit, as everywhere.
  const std::size_t max_line = options.max_line_length ? options.max_line_length : SIZE_MAX;
  if (overhead > max_line) return errc::reply_line_too_long;
  const std::size_t room = max_line - overhead;
  const std::string_view none[] = {std::string_view()};
  if (paragraphs.empty()) paragraphs = none;
  // Each paragraph's wire lines, in order: the same walk counts them (and
  // checks them) first, then writes them, so nothing is allocated and a
  // refused reply writes nothing.
  const auto for_each_line = [&](auto&& emit) -> std::error_code {
    for (std::string_view text : paragraphs) {
      while (text.size() > room) {
        // Break at the last space that leaves a line within the limit.
        const auto space = text.rfind(' ', room);
        if (space == std::string_view::npos) return errc::reply_line_too_long;
        emit(text.substr(0, space));
        text.remove_prefix(space + 1);
      }
      emit(text);
    }
    return {};
  };
  std::size_t count = 0;
  for (const std::string_view text : paragraphs)
    if (auto fault = detail::check_reply_text(text, options.allow_utf8, errc::control_character, false))
      return fault->code;
  if (auto ec = for_each_line([&](std::string_view) { ++count; })) return ec;
  if (options.max_lines && count > options.max_lines) return errc::too_many_reply_lines;

  char digits[3] = {static_cast<char>('0' + code / 100), static_cast<char>('0' + code / 10 % 10),
                    static_cast<char>('0' + code % 10)};
  std::size_t written = 0;
  for_each_line([&](std::string_view line) {
    out.append(digits, 3);
    const bool last = ++written == count;
    if (!esc.empty()) {
      out += last ? ' ' : '-';
      out += esc;
      if (!line.empty()) out += ' ';
    } else if (!line.empty() || !last) {
      out += last ? ' ' : '-';
    }
    out += line;
    out += "\r\n";
  });
  return {};
}

}  // namespace sansmtp
