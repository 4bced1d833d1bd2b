// sansmtp ehlo-check [--json] [--profile internet|internal] [--resolve ...] NAME...
// sansmtp ehlo-check --self [--json] [--resolve ...]
#include "commands.hpp"
#include "ehlo_resolve.hpp"
#include "report_json.hpp"

#include <sansmtp/core/display.hpp>
#include <sansmtp/syntax/ehlo_check.hpp>
#include <sansmtp/advice/host_name.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

namespace sansmtp::cli {
namespace {

struct ehlo_check_args {
  bool json = false;
  bool self = false;
  std::string profile = "internet";
  std::vector<std::string> names;
  resolve_settings resolve;
};

struct palette {
  std::string_view red, yellow, green, dim, reset;
};

palette make_palette() {
  if (!use_colour()) return {};
  return {"\x1b[31m", "\x1b[33m", "\x1b[32m", "\x1b[2m", "\x1b[0m"};
}

std::string_view colour_of(const palette& p, severity s) {
  switch (s) {
    case severity::fail:
      return p.red;
    case severity::warn:
      return p.yellow;
    case severity::info:
      return p.dim;
  }
  return {};
}

std::string verdict_label(const palette& p, verdict v) {
  const auto colour = v == verdict::fail ? p.red : v == verdict::warn ? p.yellow : p.green;
  std::string upper(verdict_name(v));
  std::transform(upper.begin(), upper.end(), upper.begin(), [](char c) { return c - 32; });
  return fmt::format("{}{}{}", colour, upper, p.reset);
}

void print_human(const ehlo_report& r, const palette& p, std::string_view prefix = {}) {
  const auto kind = r.kind ? host_kind_name(*r.kind) : std::string_view("invalid syntax");
  fmt::print("{}\"{}\": {} ({})\n", prefix, escape_for_display(r.name), verdict_label(p, r.result), kind);
  for (const auto& f : r.findings) {
    fmt::print("  {}{:<4}{} {}: {}\n", colour_of(p, f.level), severity_name(f.level), p.reset,
               ehlo_check_code_name(f.code), f.message);
    if (!f.suggestion.empty()) fmt::print("       suggestion: {}\n", escape_for_display(f.suggestion));
  }
}

int exit_for(verdict v) {
  switch (v) {
    case verdict::pass:
      return exit_pass;
    case verdict::warn:
      return exit_warn;
    case verdict::fail:
      return exit_fail;
  }
  return exit_fail;
}

// {"source": ..., then the report's keys}: the source first, for readers.
nlohmann::ordered_json sourced(std::string_view source, const nlohmann::ordered_json& report) {
  nlohmann::ordered_json j{{"source", source}};
  j.update(report);
  return j;
}

// One name: the plain check, or with --resolve/--client-ip/--receiver the
// check with facts and the receivers' predictions. Returns its verdict, and
// sets dns_failed when DNS itself failed.
verdict check_one(const std::string& name, const ehlo_check_args& args, const ehlo_check_options& options,
                  const palette& p, std::string_view source, bool& dns_failed,
                  const std::vector<std::string>* reasons = nullptr) {
  const auto prefix = source.empty() ? std::string() : fmt::format("{:<15} ", source);
  if (!args.resolve.any()) {
    const auto report = check_ehlo_name(name, options);
    if (args.json)
      fmt::print("{}\n", dump_line(source.empty() ? report_to_json(report) : sourced(source, report_to_json(report))));
    else
      print_human(report, p, prefix);
    return report.result;
  }
  const auto r = check_resolved(name, args.resolve, options);
  dns_failed = dns_failed || r.dns_error.has_value();
  if (args.json) {
    auto j = source.empty() ? report_to_json(r.report) : sourced(source, report_to_json(r.report));
    if (reasons) j["reasons"] = *reasons;
    add_resolved_json(j, r, args.resolve);
    fmt::print("{}\n", dump_line(j));
  } else {
    print_human(r.report, p, prefix);
    print_resolved(r, args.resolve);
  }
  return r.report.result;
}

int check_names(const ehlo_check_args& args, const ehlo_check_options& options) {
  const auto p = make_palette();
  verdict worst = verdict::pass;
  bool dns_failed = false;
  for (const auto& name : args.names) worst = std::max(worst, check_one(name, args, options, p, {}, dns_failed));
  return dns_failed ? exit_dns_failed : exit_for(worst);
}

// What this machine would send: its own names, the defaults of popular
// clients, and sansmtp's own choice, each linted.
int check_self(const ehlo_check_args& args, const ehlo_check_options& options) {
  const auto p = make_palette();
  const auto chosen = default_ehlo_name(options);
  const std::pair<std::string_view, std::string> sources[] = {
      {"hostname", chosen.hostname},
      {"canonical", chosen.canonical},
      {"nodemailer", nodemailer_default_name(chosen.hostname)},
      {"python-smtplib", python_smtplib_default_name()},
  };
  if (!args.json) {
    fmt::print("This host: gethostname() = \"{}\", canonical name (getaddrinfo AI_CANONNAME) = {}\n\n",
               escape_for_display(chosen.hostname),
               chosen.canonical.empty() ? std::string("(none)")
                                        : fmt::format("\"{}\"", escape_for_display(chosen.canonical)));
  }
  bool dns_failed = false;
  for (const auto& [source, name] : sources) {
    if (source == "canonical" && name.empty()) {
      if (args.json) fmt::print("{}\n", dump_line({{"source", source}, {"name", nullptr}}));
      continue;
    }
    (void)check_one(name, args, options, p, source, dns_failed);
  }
  const std::string_view source = "default";
  if (chosen.report && args.resolve.any()) {
    // sansmtp's own choice, checked with the same facts as the others.
    const auto result = check_one(*chosen.name, args, options, p, source, dns_failed, &chosen.reasons);
    return dns_failed ? exit_dns_failed : exit_for(result);
  }
  if (args.json) {
    auto j = sourced(
        source, chosen.report ? report_to_json(*chosen.report) : nlohmann::ordered_json{{"name", nullptr}});
    j["reasons"] = chosen.reasons;
    fmt::print("{}\n", dump_line(j));
  } else if (chosen.report) {
    print_human(*chosen.report, p, fmt::format("{:<15} ", source));
  } else {
    fmt::print("{:<15} {}: no name this host could send passes the check\n", source,
               verdict_label(p, verdict::fail));
    for (const auto& reason : chosen.reasons) fmt::print("  - {}\n", reason);
    fmt::print("  Set your client's EHLO name option to this host's public fully-qualified name.\n");
  }
  if (dns_failed) return exit_dns_failed;
  return chosen.report ? exit_for(chosen.report->result) : exit_fail;
}

}  // namespace

const std::string_view ehlo_check_usage =
    "Usage: sansmtp ehlo-check [--json] [--profile internet|internal] [--resolve] [--client-ip ADDR]\n"
    "                          [--dns-server HOST:PORT] [--receiver NAME[,NAME...]|all] [--] NAME...\n"
    "       sansmtp ehlo-check --self [--json] [--profile internet|internal] [--resolve ...]\n"
    "\n"
    "Lint EHLO names: will a server accept them, and if not, why and what to send instead.\n"
    "\n"
    "  --json           one JSON object per name, one per line\n"
    "  --profile P      internet (default: sending to public servers) or internal\n"
    "                   (a private relay: private addresses and internal names only warn)\n"
    "  --self           what this machine would send: host name, canonical name,\n"
    "                   Nodemailer's and Python smtplib's defaults, sansmtp's choice\n"
    "  --               end of options: the rest are names (may be empty or start with -)\n"
    "\n"
    "What receivers look up (DNS, the address the server sees) and what each would do:\n";
const std::string_view ehlo_check_usage_tail =
    "\n"
    "Exit status: 0 all pass, 1 worst is a warning, 2 any failure, 64 usage error,\n"
    "75 DNS itself failed (no answer from the DNS server, or the resolver could not start).\n";

int run_ehlo_check(args argv) {
  ehlo_check_args a;
  bool only_names = false;
  std::string bad_value;
  const auto usage_error = [](std::string_view why) {
    fmt::print(stderr, "sansmtp ehlo-check: {}\n\n{}{}{}", why, ehlo_check_usage, resolve_usage,
               ehlo_check_usage_tail);
    return exit_usage;
  };
  for (std::size_t i = 0; i < argv.size(); ++i) {
    const std::string_view arg = argv[i];
    if (only_names || arg.empty() || arg.front() != '-' || arg == "-") {
      a.names.emplace_back(arg);
    } else if (arg == "--") {
      only_names = true;
    } else if (arg == "--json") {
      a.json = true;
    } else if (arg == "--self") {
      a.self = true;
    } else if (arg == "-h" || arg == "--help") {
      fmt::print("{}{}{}", ehlo_check_usage, resolve_usage, ehlo_check_usage_tail);
      return exit_pass;
    } else if (bool taken = false; !take_resolve_option(argv, i, a.resolve, taken, bad_value)) {
      return usage_error(bad_value);
    } else if (taken) {
      continue;
    } else if (arg == "--profile" || arg.starts_with("--profile=")) {
      if (arg == "--profile" && i + 1 == argv.size()) return usage_error("--profile needs a value");
      a.profile = arg == "--profile" ? std::string_view(argv[++i]) : arg.substr(10);
      if (a.profile != "internet" && a.profile != "internal")
        return usage_error(
            fmt::format("--profile must be internet or internal, not '{}'", escape_for_display(a.profile)));
    } else {
      return usage_error(fmt::format("unknown option '{}' (put -- before a name that starts with -)",
                                     escape_for_display(arg)));
    }
  }
  if (a.self && !a.names.empty()) return usage_error("--self takes no names");
  if (!a.self && a.names.empty()) return usage_error("give one or more names, or --self");
  ehlo_check_options options;
  options.profile = a.profile == "internal" ? lint_profile::internal : lint_profile::internet;
  return a.self ? check_self(a, options) : check_names(a, options);
}

}  // namespace sansmtp::cli
