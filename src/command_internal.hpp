// Internal: pieces of the command parser shared by its source files.
#pragma once

#include <sansmtp/command.hpp>

#include <cstddef>
#include <string_view>

namespace sansmtp::detail {

// Which command an error belongs to: it picks the RFC 3463 code (a bad
// sender address is 5.1.7, a bad recipient 5.1.3).
enum class command_kind { other, hello, mail, rcpt };

// The reply a server should send for `code` in a `kind` command.
command_error make_command_error(errc code, std::size_t offset, command_kind kind) noexcept;

// A path at the start of `text` (which may continue with parameters): the
// value and the offset just past it. Offsets in errors are into `text`.
struct path_match {
  path value;
  std::size_t end = 0;
};
parse_result<path_match, command_error> match_path(std::string_view text, command_kind kind,
                                                   const command_options& options);

// String (Atom / Quoted-string) filling all of `text` (VRFY, EXPN, HELP, NOOP).
parse_result<std::string_view, command_error> match_string(std::string_view text,
                                                           const command_options& options);

}  // namespace sansmtp::detail
