// Internal: pieces of the command parser shared by its source files.
#pragma once

#include <sansmtp/syntax/command.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace sansmtp::detail {

// Which command an error belongs to: it picks the RFC 3463 code (a bad
// sender address is 5.1.7, a bad recipient 5.1.3, anything wrong in an ESMTP
// parameter 5.5.4).
enum class command_kind { other, hello, mail, rcpt, parameter };

// The reply a server should send for `code` in a `kind` command.
command_error make_command_error(errc code, std::size_t offset, command_kind kind) noexcept;

// A path at the start of `text` (which may continue with parameters): the
// value and the offset just past it. Offsets in errors are into `text`.
struct path_match {
  path value;
  std::size_t end = 0;
  std::size_t first_non_ascii = std::string_view::npos;  // in the path's text
};
// Fills `out` and returns an error with code ok, or the error. `fast`
// tries the common shape without the Ragel machine first (same answers;
// false exists so that the fuzzer can compare the two).
command_error match_path(std::string_view text, command_kind kind, const command_options& options,
                         path_match& out, bool fast = true);

// Parameter texts into `out` (code ok), or the error; offsets into `text`.
command_error parse_mail_params(std::string_view text, const command_options& options, mail_parameters& out);
command_error parse_rcpt_params(std::string_view text, const command_options& options, rcpt_parameters& out);

// Case-insensitive equality for texts already known to be letters, digits
// and hyphens (verbs, ESMTP keywords): folding is one OR per octet. Also
// exact when `upper` is alphanumeric and `ldh` any printable ASCII: no other
// printable octet folds onto a letter or a digit.
inline bool ldh_iequals(std::string_view ldh, std::string_view upper) noexcept {
  const std::size_t n = ldh.size();
  if (n != upper.size()) return false;
  // Words of 8 (the last one overlapping), or two overlapping words of 4.
  const auto same = [&](std::size_t i, auto word) {
    decltype(word) a, b;
    std::memcpy(&a, ldh.data() + i, sizeof a);
    std::memcpy(&b, upper.data() + i, sizeof b);
    const auto fold = static_cast<decltype(word)>(0x2020202020202020u);
    return (a | fold) == (b | fold);
  };
  if (n >= 8) {
    for (std::size_t i = 0; i + 8 < n; i += 8)
      if (!same(i, std::uint64_t{})) return false;
    return same(n - 8, std::uint64_t{});
  }
  if (n >= 4) return same(0, std::uint32_t{}) && same(n - 4, std::uint32_t{});
  for (std::size_t i = 0; i < n; ++i)
    if ((ldh[i] | 0x20) != (upper[i] | 0x20)) return false;
  return true;
}

// String (Atom / Quoted-string) filling all of `text` (VRFY, EXPN, HELP, NOOP).
parse_result<std::string_view, command_error> match_string(std::string_view text,
                                                           const command_options& options);

// A line's content without its CRLF (a bare LF only when allowed), checked
// against the limit (which counts the CRLF, RFC 5321 §4.5.3.1.4), with no CR
// or LF left inside, and trailing SP/HT tolerated (notes) or refused
// (RFC 5321 §4.1.1). Command lines and AUTH response lines.
parse_result<std::string_view, command_error> line_content(std::string_view line, std::size_t max_line_length,
                                                           bool allow_bare_lf, bool reject_trailing_whitespace,
                                                           line_notes& notes);

// RFC 4954 §4: base64 = base64-terminal / ( 1*(4base64-char) [base64-terminal] ).
// The offset of the first octet that breaks it, or npos. Empty is refused.
std::size_t bad_base64_at(std::string_view s) noexcept;

// Writes `c` (CRLF included) at the end of `out` and parses it back under
// `options`: the command parsed from `out` (views into it), or the error
// naming the field, with `out` as it was. serialize() and the builders.
parse_result<command, build_error> write_command(const command& c, std::string& out,
                                                 const command_options& options);

}  // namespace sansmtp::detail
