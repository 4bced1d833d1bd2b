// sansmtp parse reply [--json] [--allow-bare-lf] [--allow-utf8] [--allow-mismatched-codes]
//                     [--max-line N] [--max-lines N] [--after CMD] < REPLIES
// sansmtp parse ehlo  [--json] [--allow-bare-lf] [--max-line N] < EHLO-REPLY
// (--lenient-bare-lf, --lenient-utf8, --lenient-codes: the earlier spellings)
//   (a leading 220 greeting, as in a whole transcript, is skipped)
#include "cli11_args.hpp"
#include "parse_cmds.hpp"
#include "report_json.hpp"

#include <sansmtp/core/display.hpp>
#include <sansmtp/syntax/capabilities.hpp>
#include <sansmtp/advice/diagnose.hpp>
#include <sansmtp/syntax/ehlo_check.hpp>
#include <sansmtp/codec/reply_reader.hpp>
#include <sansmtp/syntax/reply.hpp>

#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace sansmtp::cli {
namespace {

using json = nlohmann::ordered_json;

constexpr std::size_t chunk_size = 64 * 1024;

// Feeds stdin through the reader; `on_reply` sees each reply while it is
// valid. Returns the error, if the stream broke a rule or ended inside a reply.
std::optional<reply_error> read_stdin(reply_reader& reader,
                                      const std::function<void(const reply&)>& on_reply) {
  std::vector<char> buf(chunk_size);
  std::size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), stdin)) > 0) {
    std::string_view rest(buf.data(), n);
    for (;;) {
      const auto step = reader.next(rest);
      rest.remove_prefix(step.consumed);
      if (step.status == reply_status::reply) {
        on_reply(reader.current());
        continue;
      }
      if (step.status == reply_status::error) return reader.error();
      break;
    }
  }
  return reader.finish();
}

json esc_json(const std::optional<enhanced_status>& e) { return e ? json(to_string(*e)) : json(nullptr); }

json lines_json(const reply& r) {
  auto out = json::array();
  for (const auto line : r.lines) out.push_back(std::string(line));
  return out;
}

json error_json(const reply_error& e) {
  json j;
  j["error"] = std::string(errc_name(e.code));
  j["offset"] = e.offset;
  return j;
}

void print_error(const reply_error& e, bool json_output, std::string_view who) {
  if (json_output)
    fmt::print("{}\n", dump_line(error_json(e)));
  else
    fmt::print(stderr, "sansmtp parse {}: {} ({}) at offset {}\n", who, make_error_code(e.code).message(),
               errc_name(e.code), e.offset);
}

// The reply as it was on the wire. The reader lets no control through, but
// the text still goes through escape_for_display as every echo does (a "\"
// shows as "\\").
void print_reply_text(const reply& r) {
  for (std::size_t i = 0; i < r.lines.size(); ++i) {
    const bool last = i + 1 == r.lines.size();
    if (r.lines[i].empty() && last)
      fmt::print("{}\n", r.code);
    else
      fmt::print("{}{}{}\n", r.code, last ? ' ' : '-', escape_for_display(r.lines[i]));
  }
}

void print_diagnosis(const reply& r, answered_command after) {
  const auto d = diagnose(r, after);
  if (d.kind != failure_kind::none) fmt::print("  => {}: {}\n", failure_kind_name(d.kind), d.explanation);
}

json diagnosis_json(const reply& r, answered_command after) {
  const auto d = diagnose(r, after);
  if (d.kind == failure_kind::none) return nullptr;
  return json{{"kind", std::string(failure_kind_name(d.kind))}, {"explanation", d.explanation}};
}

void add_reader_options(CLI::App& app, reply_reader_options& o) {
  // --allow-X after reply_reader_options::allow_X; --lenient-X stays an alias.
  app.add_flag("--allow-bare-lf,--lenient-bare-lf", o.allow_bare_lf,
               "Accept a LF without CR as a line end (reply smuggling risk)");
  add_count(app, "--max-line", o.max_line_length,
            "Reply line limit in octets with CRLF; 0 = off (RFC 5321 4.5.3.1.5)");
}

answered_command after_option(const std::string& s) {
  return answered_command_of(s).value_or(answered_command::unknown);
}

std::string ehlo_params(const ehlo_line& l) {
  std::string out(l.keyword);
  if (l.legacy_auth) out += '=';
  bool first = true;
  for (const auto p : l.params) {
    if (!first || !l.legacy_auth) out += ' ';
    out += p;
    first = false;
  }
  return out;
}

json ehlo_json(const capabilities& c, const reply& r) {
  json j;
  j["code"] = c.code;
  j["ok"] = c.ok;
  if (!c.ok) {
    j["enhanced"] = esc_json(r.enhanced);
    j["lines"] = lines_json(r);
    j["diagnosis"] = diagnosis_json(r, answered_command::ehlo);
    return j;
  }
  j["domain"] = std::string(c.domain);
  j["greeting"] = std::string(c.greeting);
  auto& keywords = j["keywords"] = json::object();
  for (const auto& l : c.lines) {
    if (l.repeated) continue;  // the typed view keeps the first
    std::string key(l.keyword);
    for (auto& ch : key) ch = static_cast<char>(ch >= 'a' && ch <= 'z' ? ch - 32 : ch);
    auto params = json::array();
    if (l.known == extension::auth)
      for (const auto m : c.auth) params.push_back(std::string(m));
    else
      for (const auto p : l.params) params.push_back(std::string(p));
    append_new_key(keywords, std::move(key), std::move(params));
  }
  j["size"] = c.size ? json(*c.size) : json(nullptr);
  auto& auth = j["auth"] = json::array();
  for (const auto m : c.auth) auth.push_back(std::string(m));
  j["pipelining"] = c.has(extension::pipelining);
  j["starttls"] = c.has(extension::starttls);
  j["smtputf8"] = c.has(extension::smtputf8);
  j["chunking"] = c.has(extension::chunking);
  j["8bitmime"] = c.has(extension::eightbitmime);
  j["dsn"] = c.has(extension::dsn);
  j["enhancedstatuscodes"] = c.has(extension::enhancedstatuscodes);
  j["requiretls"] = c.has(extension::requiretls);
  if (c.limits) {
    json l = json::object();
    if (c.limits->rcptmax) l["RCPTMAX"] = *c.limits->rcptmax;
    if (c.limits->mailmax) l["MAILMAX"] = *c.limits->mailmax;
    if (c.limits->rcptdomainmax) l["RCPTDOMAINMAX"] = *c.limits->rcptdomainmax;
    j["limits"] = std::move(l);
  } else {
    j["limits"] = nullptr;
  }
  auto& findings = j["findings"] = json::array();
  for (const auto& f : c.findings) {
    json o;
    o["problem"] = std::string(ehlo_problem_name(f.problem));
    o["line"] = f.line;
    o["keyword"] = std::string(f.keyword);
    if (!f.param.empty()) o["param"] = std::string(f.param);
    if (f.problem == ehlo_problem::bad_domain) o["error"] = std::string(errc_name(f.error.code));
    findings.push_back(std::move(o));
  }
  return j;
}

void print_ehlo_text(const capabilities& c, const reply& r, const std::optional<std::string>& greeting) {
  if (greeting) fmt::print("skipped the 220 greeting: {}\n", *greeting);
  if (!c.ok) {
    print_reply_text(r);
    print_diagnosis(r, answered_command::ehlo);
    return;
  }
  fmt::print("server: {}\n", escape_for_display(c.domain));
  if (!c.greeting.empty()) fmt::print("greeting: {}\n", escape_for_display(c.greeting));
  fmt::print("extensions:\n");
  for (const auto& l : c.lines)
    fmt::print("  {}{}\n", escape_for_display(ehlo_params(l)), l.known ? "" : "  (not known here)");
  if (c.has(extension::size))
    fmt::print("message size limit: {}\n", c.size ? fmt::format("{} octets", *c.size) : "none fixed");
  if (!c.auth.empty()) {
    std::string mechanisms;
    for (const auto m : c.auth) mechanisms += (mechanisms.empty() ? "" : " ") + escape_for_display(m);
    fmt::print("auth mechanisms: {}\n", mechanisms);
  }
  for (const auto& f : c.findings) {
    fmt::print("finding: {} on line {}", ehlo_problem_name(f.problem), f.line + 1);
    if (!f.keyword.empty())
      fmt::print(" ({}{}{})", escape_for_display(f.keyword), f.param.empty() ? "" : " ",
                 escape_for_display(f.param));
    if (f.problem == ehlo_problem::bad_domain) fmt::print(": {}", make_error_code(f.error.code).message());
    fmt::print("\n");
  }
}

}  // namespace

int run_parse_reply(args argv) {
  CLI::App app{"Read server replies from stdin (RFC 5321 4.2); one JSON object per reply with --json",
               "sansmtp parse reply"};
  reply_reader_options o;
  bool json_output = false;
  std::string after = "unknown";
  app.add_flag("--json", json_output,
               R"(Print {"code","enhanced","lines"} per reply, or {"error","offset"})");
  add_reader_options(app, o);
  app.add_flag("--allow-utf8,--lenient-utf8", o.allow_utf8, "Accept UTF-8 in reply text (validated)");
  app.add_flag("--allow-mismatched-codes,--lenient-codes", o.allow_mismatched_codes,
               "Accept lines of one reply with different codes");
  add_count(app, "--max-lines", o.max_lines, "Lines per reply; 0 = off");
  app.add_option("--after", after,
                 "The command the replies answered, for the diagnosis (mail, rcpt, ehlo, ...)")
      ->check([](const std::string& s) {
        return answered_command_of(s) ? std::string() : std::string("unknown command name: ") + s;
      });
  if (auto status = parse_cli11(app, argv)) return *status;
  const auto answered = after_option(after);

  reply_reader reader(o);
  const auto error = read_stdin(reader, [&](const reply& r) {
    if (json_output) {
      json j;
      j["code"] = r.code;
      j["enhanced"] = esc_json(r.enhanced);
      j["lines"] = lines_json(r);
      fmt::print("{}\n", dump_line(j));
    } else {
      print_reply_text(r);
      print_diagnosis(r, answered);
    }
  });
  std::fflush(stdout);
  if (error) {
    print_error(*error, json_output, "reply");
    return exit_fail;
  }
  return exit_pass;
}

int run_parse_ehlo(args argv) {
  CLI::App app{
      "Read an EHLO reply from stdin (a leading 220 greeting is skipped): the server's name and its "
      "extensions",
      "sansmtp parse ehlo"};
  reply_reader_options o;
  bool json_output = false;
  app.add_flag("--json", json_output, "Print one JSON object (keys in docs/cli.md)");
  add_reader_options(app, o);
  if (auto status = parse_cli11(app, argv)) return *status;

  reply_reader reader(o);
  std::optional<int> status;
  std::size_t extra = 0;
  bool first = true;
  // A whole transcript (swaks, a raw capture) starts with the server's 220
  // greeting (RFC 5321 §3.1, §4.2); the EHLO reply is the one after it.
  std::optional<std::string> greeting;
  const auto error = read_stdin(reader, [&](const reply& r) {
    const bool leading_greeting = first && r.code == 220;
    first = false;
    if (leading_greeting) {
      greeting = std::string(r.lines.empty() ? std::string_view() : r.lines[0]);
      return;
    }
    if (status) {  // only the first reply after the greeting is the EHLO reply
      ++extra;
      return;
    }
    const auto c = parse::ehlo_response(r);
    if (json_output)
      fmt::print("{}\n", dump_line(ehlo_json(c, r)));
    else
      print_ehlo_text(c, r, greeting);
    status = !c.ok ? exit_fail : c.findings.empty() ? exit_pass : exit_warn;
  });
  std::fflush(stdout);
  // JSON keeps its documented keys ("greeting" is the EHLO reply's own text),
  // so the skipped greeting is said here.
  if (greeting && status && json_output)
    fmt::print(stderr, "sansmtp parse ehlo: skipped the 220 greeting before the EHLO reply\n");
  if (extra) fmt::print(stderr, "sansmtp parse ehlo: {} more replies after the first ignored\n", extra);
  if (error) {
    print_error(*error, json_output, "ehlo");
    return exit_fail;
  }
  if (!status) {
    fmt::print(
        stderr, "sansmtp parse ehlo: {}\n",
        greeting ? "only a 220 greeting in the input, no EHLO reply after it" : "no reply in the input");
    return exit_fail;
  }
  return *status;
}

}  // namespace sansmtp::cli
