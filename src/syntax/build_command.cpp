// Owning commands from values. Each builder checks its values with the same
// parsers a server runs (the whole value must be the field: a mailbox that
// would carry " SIZE=1" or a host that would carry a second word is refused
// here, not written), then writes the line and parses it back once, through
// the serializer's own check.
#include <sansmtp/syntax/command_builder.hpp>

#include "command_internal.hpp"

namespace sansmtp {

namespace detail {
struct owned_command_access {
  static build_result build(const command& c, const command_options& options) {
    auto line = std::make_shared<std::string>();
    auto parsed = write_command(c, *line, options);  // views into *line, which never moves
    if (!parsed) return parsed.error();
    return owned_command(std::move(line), std::move(parsed).value());
  }
};
}  // namespace detail

namespace {

// An error of a value checked on its own, placed where the value would
// start in the line.
build_error refused(const parse_error& e, std::size_t value_at, std::string_view field) {
  return build_error{{e.code, value_at + e.offset}, field};
}

template <class Hello>
build_result hello(std::string_view host, const command_options& options) {
  const auto parsed = parse::ehlo_argument(host);
  if (!parsed) return refused(parsed.error(), 5, "host");
  return detail::owned_command_access::build(Hello{*parsed}, options);
}

// The mailbox of MAIL/RCPT: "" (null), "Postmaster" (RCPT), or a Mailbox
// that must be the whole value.
parse_result<path, build_error> mailbox_of(std::string_view text, bool rcpt, std::size_t at,
                                           std::string_view field, const command_options& options) {
  if (text.empty()) return path{};
  if (rcpt && text.size() == 10 && path{text, {}}.is_postmaster()) return path{text, {}};
  const auto parsed = parse::mailbox(text, options);
  if (!parsed) return refused(parsed.error(), at, field);
  return *parsed;
}

template <class Envelope, class Params, class ParseParams>
build_result envelope(std::string_view address, const esmtp_param_writer& params, const command_options& options,
                      ParseParams parse_params, bool rcpt) {
  const std::size_t path_at = rcpt ? 9 : 11;  // after "RCPT TO:<" / "MAIL FROM:<"
  const auto field = rcpt ? std::string_view("forward_path") : std::string_view("reverse_path");
  if (params.error()) return *params.error();
  const auto p = mailbox_of(address, rcpt, path_at, field, options);
  if (!p) return p.error();
  const std::size_t params_at = path_at + address.size() + 2;
  Params typed{};
  if (!params.text().empty()) {
    auto t = parse_params(params.text(), options);
    if (!t) return refused(t.error(), params_at, "params");
    typed = *t;
  }
  return detail::owned_command_access::build(Envelope{*p, typed}, options);
}

template <class Command>
build_result with_string(std::string_view argument, std::size_t at, const command_options& options) {
  const auto s = detail::match_string(argument, options);
  if (!s) return refused(s.error(), at, "argument");
  return detail::owned_command_access::build(Command{*s}, options);
}

}  // namespace

build_result make_command(const command& c, const command_options& options) {
  return detail::owned_command_access::build(c, options);
}

build_result make_ehlo(std::string_view host, const command_options& options) {
  return hello<cmd::ehlo>(host, options);
}
build_result make_helo(std::string_view host, const command_options& options) {
  return hello<cmd::helo>(host, options);
}
build_result make_lhlo(std::string_view host, const command_options& options) {
  return hello<cmd::lhlo>(host, options);
}

build_result make_mail(std::string_view reverse_path, const esmtp_param_writer& params,
                       const command_options& options) {
  return envelope<cmd::mail, mail_parameters>(
      reverse_path, params, options,
      [](std::string_view text, const command_options& o) { return parse::mail_parameters(text, o); }, false);
}

build_result make_rcpt(std::string_view forward_path, const esmtp_param_writer& params,
                       const command_options& options) {
  return envelope<cmd::rcpt, rcpt_parameters>(
      forward_path, params, options,
      [](std::string_view text, const command_options& o) { return parse::rcpt_parameters(text, o); }, true);
}

std::string mailbox_text(std::string_view local_part, std::string_view domain) {
  std::string out = quote_local_part(local_part);
  out += '@';
  out.append(domain);
  return out;
}

build_result make_data() { return make_command(cmd::data{}); }
build_result make_bdat(std::uint64_t size, bool last) { return make_command(cmd::bdat{size, last}); }
build_result make_rset() { return make_command(cmd::rset{}); }
build_result make_quit() { return make_command(cmd::quit{}); }
build_result make_starttls() { return make_command(cmd::starttls{}); }

build_result make_vrfy(std::string_view argument, const command_options& options) {
  return with_string<cmd::vrfy>(argument, 5, options);
}
build_result make_expn(std::string_view argument, const command_options& options) {
  return with_string<cmd::expn>(argument, 5, options);
}
build_result make_help(std::optional<std::string_view> argument, const command_options& options) {
  if (!argument) return make_command(cmd::help{}, options);
  return with_string<cmd::help>(*argument, 5, options);
}
build_result make_noop(std::optional<std::string_view> argument, const command_options& options) {
  if (!argument) return make_command(cmd::noop{}, options);
  return with_string<cmd::noop>(*argument, 5, options);
}

build_result make_auth(std::string_view mechanism, std::optional<std::string_view> initial_response) {
  // The serializer's field-by-field check catches a mechanism that would
  // carry a response ("PLAIN AAAA") and a response with a second word.
  return make_command(cmd::auth{mechanism, initial_response});
}

}  // namespace sansmtp
