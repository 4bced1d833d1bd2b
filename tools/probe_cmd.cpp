// sansmtp probe HOST[:PORT] [--ehlo NAME | --names A,B,...] [--rcpt ADDR] [--source ADDR]
//               [--starttls] [--tls-ca FILE] [--resolve ...] [--json]
//
// What a server thinks of an EHLO name, before customers' mail bounces: the
// greeting, EHLO and the capabilities (again after STARTTLS, with the
// certificate), then MAIL FROM:<> and RCPT TO:<postmaster@its domain>
// (RFC 5321 §4.5.1: every server must take mail for postmaster) and RSET, because
// servers such as Postfix with smtpd_delay_reject refuse a bad name only at
// MAIL or RCPT. Nothing is delivered: no DATA is sent. ehlo-check's findings
// on the name are shown beside what the server did, checked against the
// client address the server says it sees (client_ip_seen) when it echoes one.
// --names tries each candidate name in its own session and prints which
// stage each reached.
#include "cli11_args.hpp"
#include "commands.hpp"
#include "ehlo_resolve.hpp"
#include "net_cli.hpp"
#include "report_json.hpp"

#include <sansmtp/advice/client_address.hpp>
#include <sansmtp/advice/describe.hpp>
#include <sansmtp/advice/diagnose.hpp>
#include <sansmtp/core/display.hpp>
#include <sansmtp/asio/client_driver.hpp>

#include <sansmtp/session/client.hpp>
#include <sansmtp/advice/host_name.hpp>

#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

namespace sansmtp::cli {
namespace {

using json = nlohmann::ordered_json;

json reply_json(const reply& r) {
  json lines = json::array();
  for (const auto line : r.lines) lines.push_back(std::string(line));
  return {{"code", r.code}, {"enhanced", r.enhanced ? json(to_string(*r.enhanced)) : json(nullptr)}, {"lines", lines}};
}

json capabilities_json(const reply& r) {
  json out = json::array();
  for (std::size_t i = 1; i < r.lines.size(); ++i) out.push_back(std::string(r.lines[i]));
  return out;
}

class probe_app final : public drivers::client_handler {
 public:
  // quiet: no progress lines (--names prints a table at the end instead).
  probe_app(bool quiet, bool starttls, std::optional<std::string> rcpt)
      : progress_(quiet), starttls_asked_(starttls), rcpt_(std::move(rcpt)) {}

  void on_connected(const asio::ip::tcp::endpoint& peer) override {
    progress_.line("connected to {} port {}", peer.address().to_string(), peer.port());
  }

  void on_tls(const drivers::tls_peer_info& tls) override {
    tls_json_ = {{"protocol", tls.protocol}, {"cipher", tls.cipher},   {"subject", tls.subject},
                 {"issuer", tls.issuer},     {"verified", tls.verified}, {"verify_result", tls.verify_result}};
    progress_.line("TLS: {} {}; certificate subject {}, issuer {}: {}", tls.protocol, tls.cipher,
                   escape_for_display(tls.subject), escape_for_display(tls.issuer),
                   tls.verified ? "verified" : "NOT verified (" + tls.verify_result + ")");
  }

  void on_error(const drivers::driver_error& e) override {
    if (!error_) error_ = json{{"step", drivers::driver_step_name(e.step)}, {"message", e.message}};
    progress_.line("error ({}): {}", drivers::driver_step_name(e.step), escape_for_display(e.message));
  }

  void on_event(drivers::client_driver& driver, const client_event_t& event) override {
    if (const auto* f = std::get_if<client_event::fatal_error>(&event)) {
      on_error({drivers::driver_step::read, f->code, describe(*f)});
      return;
    }
    if (const auto* c = std::get_if<client_event::peer_closed>(&event)) {
      if (!quit_sent_) on_error({drivers::driver_step::read, {}, describe(*c)});
      return;
    }
    const auto* r = std::get_if<client_event::reply>(&event);
    if (!r) return;
    const auto& v = r->value;
    const bool tls = driver.session().tls();
    note_stage(*r);
    switch (r->answered) {
      case answered_command::greeting:
        result_["greeting"] = reply_json(v);
        progress_.line("greeting: {}", reply_display(v));
        // A few servers say it in the greeting; the EHLO reply's wins.
        if (v.code == 220) greeting_ip_seen_ = echoed_client_address(v);
        break;
      case answered_command::ehlo:
      case answered_command::helo: {
        const bool ehlo = r->answered == answered_command::ehlo;
        result_[std::string(ehlo ? "ehlo" : "helo") + (tls ? "_after_starttls" : "")] = reply_json(v);
        if (ehlo) result_[tls ? "capabilities_after_starttls" : "capabilities"] = capabilities_json(v);
        if (v.code == 250) {
          if (auto seen = echoed_client_address(v, driver.options().session.ehlo_name)) {
            if (!client_ip_seen_) progress_.line("  the server sees this client as {}", escape_for_display(*seen));
            client_ip_seen_ = std::move(seen);
          }
        }
        progress_.line("{}{} {}: {}", tls ? "(TLS) " : "", r->answered == answered_command::ehlo ? "EHLO" : "HELO",
                       escape_for_display(driver.options().session.ehlo_name), reply_first_line(v));
        for (std::size_t i = 1; i < v.lines.size(); ++i) progress_.line("  {}", escape_for_display(v.lines[i]));
        if (v.code == 250 && !tls && starttls_asked_) {
          const auto& caps = driver.session().capabilities();
          starttls_offered_ = caps && caps->has(extension::starttls);
          if (!starttls_offered_) progress_.line("STARTTLS: not offered");
        }
        break;
      }
      case answered_command::starttls:
        result_["starttls"] = reply_json(v);
        progress_.line("STARTTLS: {}", reply_display(v));
        break;
      case answered_command::mail:
        result_["mail"] = reply_json(v);
        progress_.line("MAIL FROM:<>: {}", reply_display(v));
        break;
      case answered_command::rcpt:
        result_["rcpt"] = reply_json(v);
        progress_.line("RCPT TO: {}", reply_display(v));
        break;
      case answered_command::rset:
        result_["rset"] = reply_json(v);
        progress_.line("RSET: {}", reply_display(v));
        break;
      case answered_command::quit:
        result_["quit"] = reply_json(v);
        progress_.line("QUIT: {}", reply_display(v));
        break;
      default:
        break;
    }
    if (r->fell_back_to_helo) {
      // RFC 5321 §4.1.4: a server without EHLO; not a refusal of the name.
      progress_.line("  (EHLO not known: HELO sent instead, RFC 5321 section 4.1.4)");
      result_["helo_fallback"] = true;
    } else if (const auto failure = diagnose(*r, driver.options().session.ehlo_name);
               failure.kind != failure_kind::none) {
      progress_.line("  {}: {}", failure_kind_name(failure.kind), escape_for_display(failure.explanation));
      if (failure.kind == failure_kind::helo_rejected) name_refused_ = true;
      if (!diagnosis_ || failure.kind == failure_kind::helo_rejected)
        diagnosis_ = json{{"kind", failure_kind_name(failure.kind)},
                          {"after", answered_command_text(r->answered)},
                          {"explanation", failure.explanation}};
      other_refusal_ = other_refusal_ || failure.kind != failure_kind::helo_rejected;
    }
    if ((r->answered == answered_command::ehlo || r->answered == answered_command::helo) && v.code == 250)
      hello_accepted_ = true;
    if (r->answered == answered_command::ehlo && v.code >= 400 && !r->fell_back_to_helo) name_refused_ = true;
    if (r->answered == answered_command::helo && v.code >= 400) name_refused_ = true;
  }

  // One command at a time: MAIL FROM:<>, RCPT TO:<postmaster>, RSET, QUIT.
  void on_ready(drivers::client_driver& driver) override {
    auto& session = driver.session();
    std::error_code ec;
    if (step_ == 0) {
      ec = send(session, make_mail(""));
    } else if (step_ == 1 && result_.contains("mail") && result_["mail"]["code"].get<int>() / 100 == 2) {
      // postmaster at the server's own domain (its EHLO reply's first word),
      // not the bare <Postmaster>: RFC 5321 §4.5.1 makes servers accept that
      // one, and Postfix exempts it from smtpd_*_restrictions, so it never
      // surfaces a refusal of the EHLO name delayed to RCPT.
      const auto& caps = session.capabilities();
      std::string to = rcpt_                                                         ? *rcpt_
                       : caps && caps->host && caps->host->kind == host_kind::domain ? "postmaster@" + std::string(caps->domain)
                                                                                     : "Postmaster";
      auto rcpt = make_rcpt(to);
      if (!rcpt && !rcpt_) rcpt = make_rcpt(to = "Postmaster");
      result_["rcpt_to"] = to;
      progress_.line("trying RCPT TO:<{}>", escape_for_display(to));
      ec = send(session, rcpt);
    } else if (step_ <= 2 && result_.contains("mail") && result_["mail"]["code"].get<int>() / 100 == 2) {
      ec = send(session, make_rset());
      step_ = 2;
    } else {
      quit_sent_ = true;
      driver.quit();
      return;
    }
    ++step_;
    if (ec) on_error({drivers::driver_step::write, ec, "cannot send the probe's command: " + ec.message()});
  }

  // The address the server echoed in its EHLO reply, if it did.
  const std::optional<std::string>& client_ip_seen() const noexcept {
    return client_ip_seen_ ? client_ip_seen_ : greeting_ip_seen_;
  }

  // The probe's JSON (without ehlo_name and ehlo_check, which the caller adds).
  json summary() {
    const bool completed = hello_accepted_ && result_.contains("mail");
    const bool accepted = hello_accepted_ && !name_refused_;
    result_["client_ip_seen"] = client_ip_seen() ? json(*client_ip_seen()) : json(nullptr);
    result_["name_accepted"] = completed || name_refused_ ? json(accepted) : json(nullptr);
    result_["diagnosis"] = diagnosis_ ? *diagnosis_ : json(nullptr);
    if (starttls_asked_) {
      result_["starttls_offered"] = starttls_offered_;
      result_["tls"] = tls_json_ ? *tls_json_ : json(nullptr);
    }
    result_["stage_reached"] = stage_;
    result_["refusal"] = refusal_ ? *refusal_ : json(nullptr);
    result_["error"] = error_ ? *error_ : json(nullptr);
    return result_;
  }

  // An error the JSON reports (the server went away after MAIL, a write
  // failed) is a failed probe whatever came before it: the exit status
  // agrees with "error".
  int status(const ehlo_report& check) const {
    const bool completed = hello_accepted_ && result_.contains("mail");
    return name_refused_ || !completed || error_ ? exit_fail
           : other_refusal_ || check.result != verdict::pass ||
                   (starttls_asked_ && (!tls_json_ || !(*tls_json_)["verified"].get<bool>()))
               ? exit_warn
               : exit_pass;
  }

  void print(const ehlo_report& check) const {
    const bool completed = hello_accepted_ && result_.contains("mail");
    fmt::print("ehlo-check \"{}\": {}\n", escape_for_display(check.name), verdict_name(check.result));
    for (const auto& f : check.findings)
      fmt::print("  {:<4} {}: {}\n", severity_name(f.level), ehlo_check_code_name(f.code), f.message);
    if (client_ip_seen())
      fmt::print("the server sees this client as {}\n", escape_for_display(*client_ip_seen()));
    if (name_refused_)
      fmt::print("server: REFUSED the name: {}\n",
                 diagnosis_ ? escape_for_display((*diagnosis_)["explanation"].get<std::string>()) : "EHLO refused");
    else if (completed && !error_)
      fmt::print("server: accepted the name through MAIL FROM and RCPT TO{}\n",
                 other_refusal_ ? " (but refused something else: see above)" : "");
    else if (completed)
      fmt::print("server: accepted the name, then the probe failed ({})\n",
                 escape_for_display((*error_)["message"].get<std::string>()));
    else
      fmt::print("server: the probe did not get through ({})\n",
                 error_ ? escape_for_display((*error_)["message"].get<std::string>()) : "no MAIL reply");
    if (starttls_asked_ && !tls_json_) fmt::print("STARTTLS: {}\n", starttls_offered_ ? "failed" : "not offered");
  }

 private:
  static std::error_code send(client& session, const build_result& built) {
    if (!built) return built.error().error_code();
    return session.send(built->command());
  }

  // The last stage the server said yes to, and its first refusal.
  void note_stage(const client_event::reply& r) {
    const auto& v = r.value;
    if (r.fell_back_to_helo) return;
    std::string_view stage;
    switch (r.answered) {
      case answered_command::greeting:
        stage = "greeting";
        break;
      case answered_command::ehlo:
      case answered_command::helo:
        stage = "ehlo";
        break;
      case answered_command::mail:
        stage = "mail";
        break;
      case answered_command::rcpt:
        stage = "rcpt";
        break;
      default:
        return;
    }
    if (v.code < 400) {
      stage_ = stage;
    } else if (!refusal_) {
      refusal_ = json{{"after", answered_command_text(r.answered)}, {"code", v.code}, {"reply", reply_first_line(v)}};
    }
  }

  progress progress_;
  bool starttls_asked_;
  std::optional<std::string> rcpt_;
  std::optional<std::string> client_ip_seen_, greeting_ip_seen_;
  std::string stage_ = "none";
  std::optional<json> refusal_;
  bool starttls_offered_ = false, hello_accepted_ = false, name_refused_ = false, other_refusal_ = false;
  bool quit_sent_ = false;
  int step_ = 0;
  json result_ = json::object();
  std::optional<json> tls_json_, error_, diagnosis_;
};

int usage(std::string_view why) {
  fmt::print(stderr, "sansmtp probe: {}\n(see: sansmtp probe --help)\n", why);
  return exit_usage;
}


// One session with one name: the probe's JSON (ehlo_name first, then what
// the server said, then ehlo_check with the facts), and its exit status.
struct probe_outcome {
  json result;
  int status = exit_fail;
};

probe_outcome probe_one(drivers::client_driver_options o, const std::string& name, bool quiet, bool starttls,
                        const std::optional<std::string>& rcpt, resolve_settings settings, bool print_text) {
  o.session.ehlo_name = name;
  probe_app handler(quiet, starttls, rcpt);
  {
    asio::io_context io;
    drivers::client_driver driver(io, o, handler);
    driver.start();
    io.run();
  }
  // The name is checked against the address the server saw, unless one is given.
  if (settings.client_ip.empty() && handler.client_ip_seen()) settings.client_ip = *handler.client_ip_seen();
  const auto checked = check_resolved(name, settings, {});
  probe_outcome out;
  out.result = json{{"ehlo_name", name}};
  out.result.update(handler.summary());
  auto check_json = report_to_json(checked.report);
  if (settings.any()) add_resolved_json(check_json, checked, settings);
  out.result["ehlo_check"] = std::move(check_json);
  out.status = handler.status(checked.report);
  if (print_text) {
    handler.print(checked.report);
    if (settings.any()) print_resolved(checked, settings);
  }
  return out;
}

// --names: one session per name, then the matrix.
int probe_names(const drivers::client_driver_options& o, const std::vector<std::string>& names, bool json_output,
                bool starttls, const std::optional<std::string>& rcpt, const resolve_settings& settings) {
  json rows = json::array();
  int accepted = 0;
  for (const auto& name : names) {
    auto one = probe_one(o, name, true, starttls, rcpt, settings, false);
    if (one.status != exit_fail) ++accepted;
    rows.push_back(std::move(one.result));
  }
  const int status = accepted == static_cast<int>(names.size()) ? exit_pass : accepted > 0 ? exit_warn : exit_fail;
  if (json_output) {
    fmt::print("{}\n", dump_line(json{{"server", o.host + ":" + o.port}, {"names", rows}}));
    return status;
  }
  fmt::print("{:<32} {:<9} {:<8} {}\n", "EHLO name", "reached", "accepted", "reply / ehlo-check");
  for (const auto& row : rows) {
    const auto& accepted_json = row["name_accepted"];
    const auto verdict = accepted_json.is_null() ? std::string("?") : accepted_json.get<bool>() ? "yes" : "NO";
    std::string what = row["refusal"].is_null()
                           ? (row["error"].is_null() ? std::string("-") : row["error"]["message"].get<std::string>())
                           : fmt::format("{}: {}", row["refusal"]["after"].get<std::string>(),
                                         row["refusal"]["reply"].get<std::string>());
    what += fmt::format(" [ehlo-check {}", row["ehlo_check"]["verdict"].get<std::string>());
    for (const auto& f : row["ehlo_check"]["findings"])
      if (f["severity"] != "info") what += " " + f["code"].get<std::string>();
    what += "]";
    fmt::print("{:<32} {:<9} {:<8} {}\n", escape_for_display(row["ehlo_name"].get<std::string>()),
               row["stage_reached"].get<std::string>(), verdict, escape_for_display(what));
  }
  for (const auto& row : rows)
    if (!row["client_ip_seen"].is_null()) {
      fmt::print("the server sees this client as {}\n",
                 escape_for_display(row["client_ip_seen"].get<std::string>()));
      break;
    }
  return status;
}

}  // namespace

int run_probe(args argv) {
  std::vector<std::string> words(argv.begin(), argv.end());
  std::optional<std::string> ehlo;
  std::string why, server_text, tls_ca, ehlo_help, names_text, rcpt_text, source;
  std::string client_ip, dns_server, dns_timeout, receivers;
  bool starttls = false, json_output = false, resolve = false;
  if (!take_ehlo_option(words, ehlo, why)) return usage(why);
  CLI::App app{"What a server says to an EHLO name: greeting, EHLO, STARTTLS, MAIL FROM:<>, "
               "RCPT TO:<postmaster@its domain>, RSET (nothing is delivered)",
               "sansmtp probe"};
  app.add_option("server", server_text, "HOST[:PORT] (port 25 by default; [IPv6]:PORT)")->required();
  app.add_option("--ehlo", ehlo_help, "The EHLO name to try (default: this host's name, as send would use)");
  app.add_option("--names", names_text,
                 "Try each of these EHLO names (comma-separated) in its own session, and print which stage each "
                 "reached (never DATA)");
  app.add_option("--rcpt", rcpt_text, "RCPT TO this address (default: postmaster@ the server's domain)");
  app.add_option("--source", source, "Connect from this local address (the one this host's mail leaves from)");
  app.add_flag("--starttls", starttls, "STARTTLS when offered: the certificate and the capabilities after it");
  app.add_option("--tls-ca", tls_ca, "Verify the certificate against the CA certificates in FILE (PEM)")
      ->check(CLI::ExistingFile);
  app.add_flag("--resolve", resolve,
               "Check the name as receivers do (ehlo-check --resolve), against the address the server echoes");
  app.add_option("--client-ip", client_ip, "Check the name against this client address, not the one echoed");
  app.add_option("--dns-server", dns_server, "With --resolve: ask this DNS server (HOST:PORT)");
  app.add_option("--dns-timeout", dns_timeout, "With --resolve: the longest the lookups may take, in seconds (default 5)");
  app.add_option("--receiver", receivers, "Predict these receivers (NAME[,NAME...]|all; default with --resolve: all)");
  std::string proxy_version, proxy_source;
  app.add_option("--proxy-protocol", proxy_version,
                 "Send a PROXY protocol header first, v1 or v2 (the server must expect it): what the server then "
                 "sees is the claimed address")
      ->check(CLI::IsMember({"v1", "v2"}));
  app.add_option("--proxy-source", proxy_source,
                 "With --proxy-protocol: the client address and port to claim, ADDR:PORT (default: this connection's)");
  app.add_flag("--json", json_output, "One JSON object");
  app.footer(
      "Exit status: 0 the server accepted the name (and ehlo-check passes it), 1 accepted, but with ehlo-check "
      "findings, another refusal, or (with --starttls) no TLS or a certificate that does not verify, 2 the server "
      "refused the name or the probe failed (an error in the JSON), 64 usage error. With --names: 0 every name "
      "was accepted, 1 some were, 2 none was.");
  if (const auto status = parse_cli11(app, words)) return *status;
  const auto server = parse_server(server_text, why);
  if (!server) return usage(escape_for_display(server_text) + ": " + why);
  if (server->implicit_tls) return usage("probe does not speak implicit TLS (smtps://) yet: use 'sansmtp send --implicit-tls'");
  if (!tls_ca.empty() && !starttls) return usage("--tls-ca needs --starttls");
  if (ehlo && !names_text.empty()) return usage("--ehlo and --names do not go together");

  resolve_settings settings;
  settings.resolve = resolve;
  for (const auto& [option, value] : {std::pair<std::string_view, const std::string&>{"--client-ip", client_ip},
                                      {"--dns-server", dns_server},
                                      {"--dns-timeout", dns_timeout},
                                      {"--receiver", receivers}})
    if (!value.empty() && !set_resolve_option(option, value, settings, why)) return usage(why);
  std::optional<std::string> rcpt;
  if (!rcpt_text.empty()) {
    if (!make_rcpt(rcpt_text)) return usage("--rcpt \"" + escape_for_display(rcpt_text) + "\" is not a mailbox (RFC 5321 section 4.1.2)");
    rcpt = rcpt_text;
  }

  drivers::client_driver_options o;
  o.host = server->host;
  o.port = server->port;
  o.source_address = source;
  if (!proxy_option(proxy_version, proxy_source, o.proxy, why)) return usage(why);
  o.session.starttls = starttls ? tls_policy::opportunistic : tls_policy::off;
  // A probe shows a certificate that does not verify; it does not stop at it.
  o.tls.verification = drivers::tls_verification::report;
  o.tls.ca_file = tls_ca;
  // The point is to see what the server does with the name, even one the
  // linter fails; only a name EHLO cannot carry is refused.
  o.session.send_failing_ehlo_name = true;
  const auto bad_name = [](const std::string& name) {
    return usage("EHLO name \"" + escape_for_display(name) +
                 "\" is not a Domain or address literal (RFC 5321 section 4.1.1.1)");
  };
  if (!names_text.empty()) {
    std::vector<std::string> names;
    for (std::string_view rest = names_text; !rest.empty();) {
      const auto comma = rest.find(',');
      names.emplace_back(rest.substr(0, comma));
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    }
    for (const auto& name : names)
      if (!make_ehlo(name)) return bad_name(name);
    return probe_names(o, names, json_output, starttls, rcpt, settings);
  }
  std::string name;
  if (ehlo) {
    if (!make_ehlo(*ehlo)) return bad_name(*ehlo);
    name = *ehlo;
  } else {
    const auto chosen = default_ehlo_name();
    if (!chosen.name) {
      std::string reasons;
      for (const auto& r : chosen.reasons) reasons += "\n  - " + r;
      fmt::print(stderr, "sansmtp probe: this host has no name that passes the EHLO-name check:{}\nGive one with --ehlo NAME.\n", reasons);
      return exit_fail;
    }
    name = *chosen.name;
  }
  auto one = probe_one(o, name, json_output, starttls, rcpt, settings, !json_output);
  if (json_output) fmt::print("{}\n", dump_line(one.result));
  return one.status;
}

}  // namespace sansmtp::cli
