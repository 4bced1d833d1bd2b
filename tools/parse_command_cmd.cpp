// sansmtp parse command [--json] [--smtputf8] [leniencies] < FILE
// One result per line of FILE: the typed command, or the error and the
// reply a server would send.
#include "cli11_args.hpp"
#include "commands.hpp"
#include "parse_cmds.hpp"
#include "report_json.hpp"

#include <sansmtp/core/display.hpp>
#include <sansmtp/syntax/command.hpp>
#include <sansmtp/syntax/ehlo_check.hpp>

#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

namespace sansmtp::cli {
namespace {

using json = nlohmann::ordered_json;

// The error's RFC 3463 status as the CLI has always printed it ("5.5.2").
std::string enhanced_text(const command_error& e) { return e.enhanced ? to_string(*e.enhanced) : std::string(); }

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 32);
  return out;
}

json optional_text(const std::optional<std::string_view>& v) {
  return v ? json(std::string(*v)) : json(nullptr);
}

// The decoded value of one parameter: xtext decoded where its RFC says the
// value is xtext (ENVID, AUTH, the address of ORCPT), otherwise as sent.
json param_value(const esmtp_param& p) {
  if (!p.has_value) return nullptr;
  const auto keyword = upper(p.keyword);
  if (keyword == "ENVID" || (keyword == "AUTH" && p.value != "<>")) return xtext_decode(p.value);
  if (keyword == "ORCPT") {
    const auto semi = p.value.find(';');
    return std::string(p.value.substr(0, semi + 1)) + xtext_decode(p.value.substr(semi + 1));
  }
  return std::string(p.value);
}

json params_json(esmtp_param_range params) {
  json out = json::object();
  // The parser refused repeated keywords (in any case): every key is new.
  for (const auto& p : params) append_new_key(out, upper(p.keyword), param_value(p));
  return out;
}

struct to_json {
  json operator()(const cmd::ehlo& c) const {
    return {{"verb", "EHLO"}, {"domain", std::string(c.host.text)}};
  }
  json operator()(const cmd::helo& c) const {
    return {{"verb", "HELO"}, {"domain", std::string(c.host.text)}};
  }
  json operator()(const cmd::lhlo& c) const {
    return {{"verb", "LHLO"}, {"domain", std::string(c.host.text)}};
  }
  json operator()(const cmd::mail& c) const {
    return {{"verb", "MAIL"},
            {"reverse_path", c.reverse_path.address()},
            {"params", params_json(c.params.params())}};
  }
  json operator()(const cmd::rcpt& c) const {
    return {{"verb", "RCPT"},
            {"forward_path", c.forward_path.address()},
            {"params", params_json(c.params.params())}};
  }
  json operator()(const cmd::bdat& c) const { return {{"verb", "BDAT"}, {"size", c.size}, {"last", c.last}}; }
  json operator()(const cmd::auth& c) const {
    return {{"verb", "AUTH"},
            {"mechanism", std::string(c.mechanism)},
            {"initial_response", optional_text(c.initial_response)}};
  }
  json operator()(const cmd::vrfy& c) const {
    return {{"verb", "VRFY"}, {"argument", std::string(c.argument)}};
  }
  json operator()(const cmd::expn& c) const {
    return {{"verb", "EXPN"}, {"argument", std::string(c.argument)}};
  }
  json operator()(const cmd::help& c) const {
    return {{"verb", "HELP"}, {"argument", optional_text(c.argument)}};
  }
  json operator()(const cmd::noop& c) const {
    return {{"verb", "NOOP"}, {"argument", optional_text(c.argument)}};
  }
  json operator()(const cmd::unknown& c) const {
    return {{"verb", std::string(c.verb)}, {"known", false}, {"argument", optional_text(c.argument)}};
  }
  template <class C>
  json operator()(const C& c) const {  // DATA, RSET, QUIT, STARTTLS: the verb alone
    return {{"verb", std::string(verb_name(command{c}))}};
  }
};

// A field's value for a terminal: JSON's shape, strings through
// escape_for_display (under --smtputf8 they may hold any UTF-8, C1 and
// bidirectional controls included).
std::string field_text(const json& value) {
  if (value.is_string()) return fmt::format("\"{}\"", escape_for_display(value.get<std::string>()));
  if (!value.is_object()) return value.dump();
  std::string out = "{";
  for (const auto& [key, v] : value.items())
    out += fmt::format("{}\"{}\":{}", out.size() > 1 ? "," : "", escape_for_display(key), field_text(v));
  return out + "}";
}

// Human rendering: the command's fields, or the reply, the error and a caret.
void print_text(std::size_t number, std::string_view line, const parse_result<command, command_error>& r) {
  if (r) {
    const auto j = std::visit(to_json{}, *r);
    std::string fields;
    for (const auto& [key, value] : j.items()) {
      if (key == "verb") continue;
      fields += fmt::format("  {}={}", key, field_text(value));
    }
    fmt::print("{}: {}{}\n", number, escape_for_display(verb_name(*r)), fields);
    return;
  }
  const auto& e = r.error();
  fmt::print("{}: {} {} {} at offset {}: {}\n", number, e.reply, enhanced_text(e), errc_name(e.code), e.offset,
             make_error_code(e.code).message());
  // The line as a terminal can show it (without its CRLF), and a caret under
  // the offending octet.
  if (line.size() >= 2 && line.substr(line.size() - 2) == "\r\n") line.remove_suffix(2);
  std::string shown, caret;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const auto piece = escape_for_display(line.substr(i, 1));
    if (i < e.offset) caret.append(piece.size(), ' ');
    shown += piece;
  }
  fmt::print("    {}\n    {}^\n", shown, caret);
}

}  // namespace

int run_parse_command(args argv) {
  CLI::App app{"Parse SMTP command lines (one per line of stdin) as a server would", "sansmtp parse command"};
  bool as_json = false;
  command_options options;
  app.add_flag("--json", as_json,
               "One JSON object per line: the command's fields, or {error, reply, offset}");
  app.add_flag("--smtputf8", options.smtputf8,
               "SMTPUTF8 is in effect (RFC 6531): UTF-8 addresses and values");
  app.add_flag("--unknown-params", options.allow_unknown_parameters,
               "Keep MAIL/RCPT parameters this parser does not know instead of 555");
  // Leniencies are --allow-X, after their command_options::allow_X; the
  // --lenient-X spellings of earlier releases stay as aliases.
  app.add_flag("--allow-space-after-colon,--lenient-space-after-colon", options.allow_space_after_colon,
               "Accept MAIL FROM: <a@b>");
  app.add_flag("--allow-missing-brackets,--lenient-missing-brackets", options.allow_missing_angle_brackets,
               "Accept MAIL FROM:a@b");
  app.add_flag("--reject-trailing-whitespace", options.reject_trailing_whitespace,
               "Refuse spaces before CRLF (tolerated by default, RFC 5321 4.1.1)");
  bool old_trailing_flag = false;  // tolerated by default now: the old flag changes nothing
  app.add_flag("--lenient-trailing-whitespace", old_trailing_flag, "Accepted for compatibility (the default)");
  app.add_flag("--allow-bare-lf,--lenient-bare-lf", options.allow_bare_lf,
               "Accept a line ended by LF alone (SMTP smuggling risk)");
  app.add_flag("--allow-helo-literal,--lenient-helo-literal", options.allow_helo_address_literal,
               "Accept HELO [192.0.2.1]");
  add_count(app, "--max-line", options.max_line_length, "Command line limit with CRLF; 0 = off (RFC 5321 4.5.3.1.4)");

  if (const auto status = parse_cli11(app, argv)) return *status;

  const std::string input{std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>()};
  bool all_ok = true;
  std::size_t number = 0;
  for (std::size_t start = 0; start < input.size();) {
    // Lines are cut at LF and handed over with their ending, so that the
    // parser judges a bare LF or a stray CR itself.
    const auto lf = input.find('\n', start);
    const auto end = lf == std::string::npos ? input.size() : lf + 1;
    const std::string_view line(input.data() + start, end - start);
    start = end;
    ++number;
    // A server refuses a line at the limit without waiting for its end.
    const bool over_limit = options.max_line_length && line.size() + 2 > options.max_line_length;
    if (lf == std::string::npos && !over_limit) {
      // Input ending inside a line: a server would still be waiting for its
      // CRLF, so it is no command yet (as `parse reply` says of a reply).
      all_ok = false;
      if (as_json)
        fmt::print("{}\n", dump_line(json{{"error", "incomplete"}, {"offset", line.size()}}));
      else
        fmt::print("{}: incomplete: the input ends {} octets into a line without its CRLF\n", number,
                   line.size());
      break;
    }
    line_notes notes;
    const auto r = parse::command_line(line, options, notes);
    all_ok = all_ok && r.has_value();
    if (as_json) {
      json j;
      if (r) {
        j = std::visit(to_json{}, *r);
        if (notes.trailing_whitespace) j["trailing_whitespace"] = notes.trailing_whitespace;
      } else {
        j = {{"error", std::string(errc_name(r.error().code))},
             {"reply", r.error().reply},
             {"enhanced", enhanced_text(r.error())},
             {"offset", r.error().offset}};
      }
      fmt::print("{}\n", dump_line(j));
    } else {
      print_text(number, line, r);
      if (r && notes.trailing_whitespace)
        fmt::print("    (tolerated {} octets of trailing white space, RFC 5321 4.1.1)\n", notes.trailing_whitespace);
    }
    if (lf == std::string::npos) break;
  }
  std::fflush(stdout);
  return all_ok ? exit_pass : exit_fail;
}

}  // namespace sansmtp::cli
