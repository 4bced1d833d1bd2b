// sansmtp ehlo-check [--json] [--profile internet|internal] NAME...
// sansmtp ehlo-check --self [--json]
#include "commands.hpp"
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

int check_names(const ehlo_check_args& args, const ehlo_check_options& options) {
  const auto p = make_palette();
  verdict worst = verdict::pass;
  for (const auto& name : args.names) {
    const auto report = check_ehlo_name(name, options);
    worst = std::max(worst, report.result);
    if (args.json)
      fmt::print("{}\n", dump_line(report_to_json(report)));
    else
      print_human(report, p);
  }
  return exit_for(worst);
}

// {"source": ..., then the report's keys}: the source first, for readers.
nlohmann::ordered_json sourced(std::string_view source, const nlohmann::ordered_json& report) {
  nlohmann::ordered_json j{{"source", source}};
  j.update(report);
  return j;
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
  for (const auto& [source, name] : sources) {
    if (source == "canonical" && name.empty()) {
      if (args.json) fmt::print("{}\n", dump_line({{"source", source}, {"name", nullptr}}));
      continue;
    }
    const auto report = check_ehlo_name(name, options);
    if (args.json) {
      fmt::print("{}\n", dump_line(sourced(source, report_to_json(report))));
    } else {
      print_human(report, p, fmt::format("{:<15} ", source));
    }
  }
  const std::string_view source = "default";
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
  return chosen.report ? exit_for(chosen.report->result) : exit_fail;
}

}  // namespace

const std::string_view ehlo_check_usage =
    "Usage: sansmtp ehlo-check [--json] [--profile internet|internal] [--] NAME...\n"
    "       sansmtp ehlo-check --self [--json] [--profile internet|internal]\n"
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
    "Exit status: 0 all pass, 1 worst is a warning, 2 any failure, 64 usage error.\n";

int run_ehlo_check(args argv) {
  ehlo_check_args a;
  bool only_names = false;
  const auto usage_error = [](std::string_view why) {
    fmt::print(stderr, "sansmtp ehlo-check: {}\n\n{}", why, ehlo_check_usage);
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
      fmt::print("{}", ehlo_check_usage);
      return exit_pass;
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
