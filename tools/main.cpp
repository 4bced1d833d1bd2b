// sansmtp: command-line front end to the library.
//
// Each subcommand parses its own arguments (CLI11 for most). ehlo-check does
// so by hand: CLI11
// 2.1 (Debian 12) reads an argument shaped "[a,b]" as a list and strips the
// brackets, which would silently turn "[10.0.0.1]" into "10.0.0.1".
#include "commands.hpp"

#include <sansmtp/core/display.hpp>
#include <sansmtp/syntax/ehlo_check.hpp>

#include <fmt/format.h>

#include <unistd.h>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace sansmtp::cli {

bool use_colour() {
  const char* no_colour = std::getenv("NO_COLOR");
  return isatty(STDOUT_FILENO) && !(no_colour && *no_colour);
}

namespace {

struct subcommand {
  std::string_view name;
  std::string_view summary;
  int (*run)(args);
};

constexpr subcommand subcommands[] = {
    {"ehlo-check", "lint EHLO names: will a server accept them?", run_ehlo_check},
    {"data", "DATA transparency: decode after a 354, or encode a message", run_data},
    {"parse", "parse protocol text from stdin: commands, replies, EHLO replies", run_parse},
    {"serve", "an accept-all SMTP server (stdin/stdout or TCP) delivering to a Maildir", run_serve},
    {"send", "submit messages over one connection and explain what became of each", run_send},
    {"probe", "what a server says to an EHLO name, before mail bounces", run_probe},
    {"passwd", "print a line for serve --auth-users from a password on stdin", run_passwd},
};

void print_help(std::FILE* to) {
  fmt::print(to, "sansmtp: RFC 5321 SMTP without I/O - command-line tools\n\nUsage: sansmtp COMMAND ...\n\n");
  for (const auto& s : subcommands) fmt::print(to, "  {:<12} {}\n", s.name, s.summary);
  fmt::print(to, "\nRun 'sansmtp COMMAND --help' for a command's options.\n");
}

}  // namespace
}  // namespace sansmtp::cli

int main(int argc, char** argv) {
  using namespace sansmtp::cli;
  const std::string_view command = argc > 1 ? argv[1] : "";
  if (command == "-h" || command == "--help" || command == "help") {
    print_help(stdout);
    return exit_pass;
  }
  for (const auto& s : subcommands)
    if (s.name == command) return s.run(args(argv + 2, argv + argc));
  if (!command.empty())
    fmt::print(stderr, "sansmtp: unknown command '{}'\n\n", sansmtp::escape_for_display(command));
  print_help(stderr);
  return exit_usage;
}
