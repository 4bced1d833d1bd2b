// sansmtp passwd USER: reads a password from stdin (its first line) and
// prints the line for serve's --auth-users file (see auth_users.hpp).
#include "auth_users.hpp"
#include "cli11_args.hpp"
#include "commands.hpp"

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <termios.h>
#include <unistd.h>

#include <iostream>
#include <string>

namespace sansmtp::cli {
namespace {

// The first line of stdin; on a terminal, prompted and not echoed.
std::optional<std::string> read_password() {
  termios saved{};
  const bool tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0;
  if (tty) {
    termios quiet = saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    fmt::print(stderr, "Password: ");
  }
  std::string line;
  const bool got = static_cast<bool>(std::getline(std::cin, line));
  if (tty) {
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
    fmt::print(stderr, "\n");
  }
  if (!got && line.empty()) return std::nullopt;
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

}  // namespace

int run_passwd(args argv) {
  CLI::App app{"Read a password from stdin and print a line for serve --auth-users", "sansmtp passwd"};
  std::string user;
  app.add_option("USER", user, "The user name (no ':' or control characters)")->required();
  if (const auto status = parse_cli11(app, argv)) return *status;
  if (!valid_user_name(user)) {
    fmt::print(stderr, "sansmtp passwd: '{}' cannot be a user name (empty, ':' or a control character)\n",
               escape_for_display(user));
    return exit_usage;
  }
  const auto password = read_password();
  if (!password || password->empty()) {
    fmt::print(stderr, "sansmtp passwd: no password on stdin\n");
    return exit_usage;
  }
  const auto hash = hash_password(*password);
  if (!hash) {
    fmt::print(stderr, "sansmtp passwd: OpenSSL could not compute the scrypt hash\n");
    return exit_fail;
  }
  fmt::print("{}:{}\n", user, format_password_hash(*hash));
  return exit_pass;
}

}  // namespace sansmtp::cli
