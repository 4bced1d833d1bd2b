// sansmtp parse KIND [options] < INPUT: one parser of the library over stdin.
// Each kind is a row in the table below; adding one is one row.
#include "commands.hpp"
#include "parse_cmds.hpp"

#include <sansmtp/core/display.hpp>
#include <sansmtp/syntax/ehlo_check.hpp>

#include <fmt/format.h>

#include <cstdio>
#include <string_view>

namespace sansmtp::cli {
namespace {

struct parse_kind {
  std::string_view name;
  std::string_view summary;
  int (*run)(args);
};

constexpr parse_kind kinds[] = {
    {"command", "SMTP command lines as a server reads them (RFC 5321 4.1)", run_parse_command},
    {"reply", "server replies (RFC 5321 4.2): codes, enhanced status codes, text", run_parse_reply},
    {"ehlo", "an EHLO reply: the server's name and extensions (RFC 5321 4.1.1.1)", run_parse_ehlo},
};

void print_help(std::FILE* to) {
  fmt::print(to, "Usage: sansmtp parse KIND [options] < INPUT\n\nKinds:\n");
  for (const auto& k : kinds) fmt::print(to, "  {:<8} {}\n", k.name, k.summary);
  fmt::print(to, "\nRun 'sansmtp parse KIND --help' for a kind's options.\n");
}

}  // namespace

int run_parse(args a) {
  const std::string_view kind = a.empty() ? "" : a[0];
  if (kind == "-h" || kind == "--help" || kind == "help") {
    print_help(stdout);
    return exit_pass;
  }
  for (const auto& k : kinds)
    if (k.name == kind) return k.run(a.subspan(1));
  if (!kind.empty()) fmt::print(stderr, "sansmtp parse: unknown kind '{}'\n\n", escape_for_display(kind));
  print_help(stderr);
  return exit_usage;
}

}  // namespace sansmtp::cli
