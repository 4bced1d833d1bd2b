// CLI11 over a subcommand's arguments, the same way for every subcommand.
#pragma once

#include "commands.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <charconv>
#include <cstddef>
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

// A count or a limit: a decimal from 0 to SIZE_MAX. CLI11 alone wraps "-5"
// and 2^64+1 around to huge values; here they are usage errors (exit 64).
inline CLI::Option* add_count(CLI::App& app, const std::string& name, std::size_t& value,
                              const std::string& help) {
  const CLI::Validator count(
      [](std::string& text) -> std::string {
        std::size_t v = 0;
        const auto* end = text.data() + text.size();
        const auto [p, ec] = std::from_chars(text.data(), end, v);
        if (text.empty() || ec != std::errc() || p != end)
          return "'" + text + "' is not a whole number from 0 to " + std::to_string(SIZE_MAX);
        return {};
      },
      "COUNT");
  return app.add_option(name, value, help)->check(count)->capture_default_str();
}

}  // namespace sansmtp::cli
