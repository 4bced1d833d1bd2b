// The sansmtp CLI's subcommands. Each parses its own arguments (argv after the
// subcommand name) and returns the process exit status.
#pragma once

#include <span>
#include <string_view>

namespace sansmtp::cli {

// Exit statuses shared by every subcommand.
inline constexpr int exit_pass = 0;
inline constexpr int exit_warn = 1;    // worst finding is a warning
inline constexpr int exit_fail = 2;    // rejected / failed
inline constexpr int exit_usage = 64;  // EX_USAGE

using args = std::span<char* const>;

int run_ehlo_check(args a);
int run_data(args a);
int run_parse(args a);  // parse_cmd.cpp: dispatches on its first argument
int run_serve(args a);   // serve_cmd.cpp: serve --stdio | --listen
int run_passwd(args a);  // passwd_cmd.cpp: a line for serve --auth-users
int run_send(args a);    // send_cmd.cpp: submit messages over one connection of the Asio driver
int run_probe(args a);   // probe_cmd.cpp: what a server thinks of the EHLO name

// Colour only when stdout is a terminal and NO_COLOR is unset.
bool use_colour();

}  // namespace sansmtp::cli
