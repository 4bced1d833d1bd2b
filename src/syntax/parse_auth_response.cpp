// AUTH response lines (RFC 4954 §4): what a client sends after a 334.
#include <sansmtp/syntax/command.hpp>

#include "command_internal.hpp"

namespace sansmtp::parse {

parse_result<sansmtp::auth_response, command_error> auth_response(std::string_view line,
                                                                   const auth_response_options& options) {
  line_notes notes;
  return auth_response(line, options, notes);
}

parse_result<sansmtp::auth_response, command_error> auth_response(std::string_view line,
                                                                   const auth_response_options& options,
                                                                   line_notes& notes) {
  const auto framed = detail::line_content(line, options.max_line_length, options.allow_bare_lf,
                                           options.reject_trailing_whitespace, notes);
  if (!framed) {
    auto e = framed.error();
    // RFC 4954 §4: "500 5.5.6 Authentication Exchange line is too long".
    if (e.code == errc::line_too_long) e.enhanced = enhanced_status{5, 5, 6};
    return e;
  }
  const std::string_view content = *framed;
  sansmtp::auth_response r;
  if (content == "*") {
    r.cancelled = true;  // RFC 4954 §4: the server rejects the AUTH with 501
    return r;
  }
  if (!content.empty()) {
    if (const auto bad = detail::bad_base64_at(content); bad != std::string_view::npos)
      return detail::make_command_error(errc::bad_initial_response, bad, detail::command_kind::other);
    r.base64 = content;
  }
  return r;
}

}  // namespace sansmtp::parse
