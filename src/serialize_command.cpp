// Command serializer: formats with fmt, then proves the line parses back to
// the same command under the same options (one grammar decides both ways, so
// nothing the parser would refuse, e.g. CR/LF injected through a field, can
// be written).
#include <sansmtp/command.hpp>

#include <fmt/format.h>

#include <iterator>

namespace sansmtp {
namespace {

struct writer {
  std::back_insert_iterator<std::string> out;

  void path_of(const path& p) {
    if (p.domain.empty())
      fmt::format_to(out, "<{}>", p.local_part);
    else
      fmt::format_to(out, "<{}@{}>", p.local_part, p.domain);
  }
  void optional_argument(std::string_view verb, const std::optional<std::string_view>& arg) {
    if (arg)
      fmt::format_to(out, "{} {}", verb, *arg);
    else
      fmt::format_to(out, "{}", verb);
  }
  void params(std::string_view text) {
    if (!text.empty()) fmt::format_to(out, " {}", text);
  }

  void operator()(const cmd::ehlo& c) { fmt::format_to(out, "EHLO {}", c.host.text); }
  void operator()(const cmd::helo& c) { fmt::format_to(out, "HELO {}", c.host.text); }
  void operator()(const cmd::lhlo& c) { fmt::format_to(out, "LHLO {}", c.host.text); }
  void operator()(const cmd::mail& c) {
    fmt::format_to(out, "MAIL FROM:");
    path_of(c.reverse_path);
    params(c.params.text);
  }
  void operator()(const cmd::rcpt& c) {
    fmt::format_to(out, "RCPT TO:");
    path_of(c.forward_path);
    params(c.params.text);
  }
  void operator()(const cmd::data&) { fmt::format_to(out, "DATA"); }
  void operator()(const cmd::bdat& c) { fmt::format_to(out, "BDAT {}{}", c.size, c.last ? " LAST" : ""); }
  void operator()(const cmd::rset&) { fmt::format_to(out, "RSET"); }
  void operator()(const cmd::vrfy& c) { fmt::format_to(out, "VRFY {}", c.argument); }
  void operator()(const cmd::expn& c) { fmt::format_to(out, "EXPN {}", c.argument); }
  void operator()(const cmd::help& c) { optional_argument("HELP", c.argument); }
  void operator()(const cmd::noop& c) { optional_argument("NOOP", c.argument); }
  void operator()(const cmd::quit&) { fmt::format_to(out, "QUIT"); }
  void operator()(const cmd::starttls&) { fmt::format_to(out, "STARTTLS"); }
  void operator()(const cmd::auth& c) {
    fmt::format_to(out, "AUTH {}", c.mechanism);
    if (c.initial_response) fmt::format_to(out, " {}", *c.initial_response);
  }
  void operator()(const cmd::unknown& c) { optional_argument(c.verb, c.argument); }
};

}  // namespace

std::error_code serialize(const command& c, std::string& out, const command_options& options) {
  const auto mark = out.size();
  std::visit(writer{std::back_inserter(out)}, c);
  out += "\r\n";
  const auto reparsed = parse::command_line(std::string_view(out).substr(mark), options);
  errc code = errc::ok;
  if (!reparsed)
    code = reparsed.error().code;
  else if (!(reparsed.value() == c))
    code = errc::inconsistent_command;
  if (code == errc::ok) return {};
  out.resize(mark);
  return code;
}

}  // namespace sansmtp
