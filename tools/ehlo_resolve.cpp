#include "ehlo_resolve.hpp"

#include <sansmtp/asio/ehlo_resolver.hpp>
#include <sansmtp/core/display.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>

namespace sansmtp::cli {

using json = nlohmann::ordered_json;

const std::string_view resolve_usage =
    "  --resolve        look the name up as receivers do: A, AAAA and MX of the name; with\n"
    "                   --client-ip, the address's PTR and each PTR name's A and AAAA\n"
    "  --client-ip ADDR the address the receiver sees the client connect from (behind NAT\n"
    "                   or in a pod, not this host's own; `probe` reads it from servers that\n"
    "                   echo it): literal-mismatch, forward-mismatch and the PTR checks need it\n"
    "  --dns-server HOST:PORT  ask this DNS server (an address; [IPv6]:PORT), not the system's\n"
    "  --dns-timeout S  the longest the lookups may take, in seconds (default 5; each\n"
    "                   question is tried twice in that time)\n"
    "  --receiver NAME[,NAME...]|all  predict what these receivers do with the name:\n"
    "                   rfc5321, postfix, exim-verify-helo, haraka-helo-checks, rspamd,\n"
    "                   spamassassin, gmail, google-relay, m365 (default with --resolve: all)\n";

namespace {

bool parse_receivers(std::string_view text, std::vector<receiver>& out, std::string& why) {
  out.clear();
  if (text == "all") {
    out.assign(std::begin(all_receivers), std::end(all_receivers));
    return true;
  }
  for (;;) {
    const auto comma = text.find(',');
    const auto word = text.substr(0, comma);
    const auto r = receiver_from_name(word);
    if (!r) {
      why = fmt::format("--receiver: unknown receiver '{}' (rfc5321, postfix, exim-verify-helo, "
                        "haraka-helo-checks, rspamd, spamassassin, gmail, google-relay, m365, or all)",
                        escape_for_display(word));
      return false;
    }
    if (std::find(out.begin(), out.end(), *r) == out.end()) out.push_back(*r);
    if (comma == std::string_view::npos) return true;
    text = text.substr(comma + 1);
  }
}

json answer_json(const dns_answer& a) {
  json j{{"status", dns_status_name(a.status)}};
  j["records"] = a.records;
  return j;
}

// Whether no question that was asked got an answer from a server.
bool nothing_answered(const ehlo_facts& f) {
  bool asked = false, answered = false;
  const auto see = [&](const dns_answer& a) {
    if (a.status == dns_status::not_asked) return;
    asked = true;
    answered = answered || !(a.status == dns_status::timeout || a.status == dns_status::error);
  };
  for (const auto* a : {&f.a, &f.aaaa, &f.mx, &f.ptr}) see(*a);
  for (const auto& p : f.ptr_names) {
    see(p.a);
    see(p.aaaa);
  }
  return asked && !answered;
}

}  // namespace

bool set_resolve_option(std::string_view option, std::string_view value, resolve_settings& s, std::string& why) {
  if (option == "--client-ip") {
    if (!ip_octets(value)) {
      why = fmt::format("--client-ip: '{}' is not an IPv4 or IPv6 address", escape_for_display(value));
      return false;
    }
    s.client_ip = std::string(value);
  } else if (option == "--dns-server") {
    s.dns_server = std::string(value);
  } else if (option == "--dns-timeout") {
    char* end = nullptr;
    const std::string text(value);
    const double seconds = std::strtod(text.c_str(), &end);
    if (text.empty() || *end != '\0' || !(seconds > 0) || seconds > 300) {
      why = fmt::format("--dns-timeout: '{}' is not a number of seconds in (0, 300]", escape_for_display(value));
      return false;
    }
    s.dns_timeout = std::chrono::milliseconds(static_cast<long long>(seconds * 1000 + 0.5));
  } else if (option == "--receiver") {
    return parse_receivers(value, s.receivers, why);
  } else {
    why = fmt::format("unknown option {}", option);
    return false;
  }
  return true;
}

bool take_resolve_option(std::span<char* const> argv, std::size_t& i, resolve_settings& s, bool& taken,
                         std::string& why) {
  const std::string_view arg = argv[i];
  taken = true;
  if (arg == "--resolve") {
    s.resolve = true;
    return true;
  }
  static constexpr std::string_view valued[] = {"--client-ip", "--dns-server", "--dns-timeout", "--receiver"};
  const auto* option = std::find_if(std::begin(valued), std::end(valued), [&](std::string_view o) {
    return arg == o || (arg.starts_with(o) && arg.size() > o.size() && arg[o.size()] == '=');
  });
  if (option == std::end(valued)) {
    taken = false;
    return true;
  }
  if (arg != *option) return set_resolve_option(*option, arg.substr(option->size() + 1), s, why);
  if (i + 1 == argv.size()) {
    why = fmt::format("{} needs a value", *option);
    return false;
  }
  return set_resolve_option(*option, argv[++i], s, why);
}

resolved_check check_resolved(const std::string& name, const resolve_settings& s,
                              const ehlo_check_options& options) {
  resolved_check r;
  r.facts.client_ip = s.client_ip;
  if (s.resolve) {
    // --dns-timeout bounds the whole lookup: two tries of half of it each
    // (gather_ehlo_facts ends by timeout x tries, plus a little).
    drivers::ehlo_resolver_options o;
    o.server = s.dns_server;
    o.tries = 2;
    o.timeout = std::max(std::chrono::milliseconds(1), s.dns_timeout / 2);
    auto gathered = drivers::gather_ehlo_facts(name, s.client_ip, o);
    if (gathered) {
      r.facts = std::move(*gathered);
      r.facts.client_ip = s.client_ip;
      if (nothing_answered(r.facts))
        r.dns_error = s.dns_server.empty() ? "no DNS server answered"
                                           : fmt::format("the DNS server {} did not answer", s.dns_server);
    } else {
      r.dns_error = gathered.error().message;
    }
  }
  r.report = check_ehlo_name(name, r.facts, options);
  // --resolve alone predicts for every receiver; --receiver narrows it.
  if (!s.receivers.empty())
    r.predictions = predict_receivers(r.report, r.facts, s.receivers);
  else if (s.resolve)
    r.predictions = predict_receivers(r.report, r.facts);
  return r;
}

void add_resolved_json(json& j, const resolved_check& r, const resolve_settings& s) {
  j["client_ip"] = s.client_ip.empty() ? json(nullptr) : json(s.client_ip);
  if (s.resolve) {
    json dns{{"server", s.dns_server.empty() ? json("system") : json(s.dns_server)},
             {"error", r.dns_error ? json(*r.dns_error) : json(nullptr)},
             {"a", answer_json(r.facts.a)},
             {"aaaa", answer_json(r.facts.aaaa)},
             {"mx", answer_json(r.facts.mx)}};
    auto ptr = answer_json(r.facts.ptr);
    const auto reverse = reverse_name(s.client_ip);
    ptr["name"] = reverse ? json(*reverse) : json(nullptr);
    dns["ptr"] = ptr;
    auto& names = dns["ptr_names"] = json::array();
    for (const auto& p : r.facts.ptr_names)
      names.push_back({{"name", p.name}, {"a", answer_json(p.a)}, {"aaaa", answer_json(p.aaaa)}});
    j["dns"] = std::move(dns);
  } else {
    j["dns"] = nullptr;
  }
  auto& skipped = j["skipped"] = json::array();
  for (const auto& k : r.report.skipped)
    skipped.push_back({{"code", ehlo_check_code_name(k.code)}, {"reason", k.reason}});
  auto& receivers = j["receivers"] = json::array();
  for (const auto& p : r.predictions) {
    json o{{"receiver", receiver_name(p.who)},
           {"verdict", receiver_verdict_name(p.verdict)},
           {"stage", smtp_stage_name(p.stage)},
           {"reply", p.reply.empty() ? json(nullptr) : json(p.reply)},
           {"rules", p.rules}};
    if (p.who == receiver::rspamd || p.who == receiver::spamassassin) o["score"] = p.score;
    if (!p.missing.empty()) o["missing"] = p.missing;
    o["tested"] = p.tested;
    o["assumes"] = p.assumes;
    receivers.push_back(std::move(o));
  }
}

void print_resolved(const resolved_check& r, const resolve_settings& s) {
  const auto answer = [](const dns_answer& a) {
    std::string out(dns_status_name(a.status));
    for (std::size_t i = 0; i < a.records.size(); ++i)
      out.append(i == 0 ? " " : ", ").append(escape_for_display(a.records[i]));
    return out;
  };
  if (s.resolve) {
    fmt::print("  dns ({}){}\n", s.dns_server.empty() ? "system resolver" : escape_for_display(s.dns_server),
               r.dns_error ? ": FAILED: " + escape_for_display(*r.dns_error) : "");
    if (r.facts.a.status != dns_status::not_asked)
      fmt::print("    A {}; AAAA {}; MX {}\n", answer(r.facts.a), answer(r.facts.aaaa), answer(r.facts.mx));
    if (r.facts.ptr.status != dns_status::not_asked)
      fmt::print("    PTR of {}: {}\n", escape_for_display(s.client_ip), answer(r.facts.ptr));
    for (const auto& p : r.facts.ptr_names)
      fmt::print("      {}: A {}; AAAA {}\n", escape_for_display(p.name), answer(p.a), answer(p.aaaa));
  }
  for (const auto& k : r.report.skipped)
    fmt::print("  skipped {}: {}\n", ehlo_check_code_name(k.code), k.reason);
  if (r.predictions.empty()) return;
  fmt::print("  receivers:\n");
  for (const auto& p : r.predictions) {
    std::string what(receiver_verdict_name(p.verdict));
    if (p.verdict == receiver_verdict::refuse || p.verdict == receiver_verdict::defer)
      what += fmt::format(" at {}: {}", smtp_stage_name(p.stage), escape_for_display(p.reply));
    else if (p.verdict == receiver_verdict::score)
      what += fmt::format(" {:.2f}", p.score);
    else if (p.verdict == receiver_verdict::unknown)
      what += fmt::format(" (needs {})", p.missing);
    std::string rules;
    for (const auto& rule : p.rules) rules.append(rules.empty() ? " [" : ", ").append(rule);
    if (!rules.empty()) rules += "]";
    fmt::print("    {:<19} {}{}{}\n", receiver_name(p.who), what, rules, p.tested ? "" : " (untested model)");
  }
}

}  // namespace sansmtp::cli
