// CLI11 over a subcommand's arguments, the same way for every subcommand.
#pragma once

#include "commands.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

namespace sansmtp::cli {

// Parses `argv` (the words after the subcommand) into `app`. nullopt: go on;
// otherwise the exit status (0 after --help, exit_usage after an error, with
// CLI11's message printed).
inline std::optional<int> parse_cli11(CLI::App& app, args argv) {
  std::vector<std::string> words(argv.begin(), argv.end());
  std::reverse(words.begin(), words.end());  // CLI11 takes them last-first
  try {
    app.parse(words);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return exit_usage;
  }
  return std::nullopt;
}

}  // namespace sansmtp::cli
