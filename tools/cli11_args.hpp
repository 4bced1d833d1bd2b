// CLI11 over a subcommand's arguments, the same way for every subcommand.
#pragma once

#include "commands.hpp"

#include <sansmtp/core/display.hpp>
#include <sansmtp/syntax/ehlo_check.hpp>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <charconv>
#include <cstddef>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace sansmtp::cli {

// escape_for_display, but each LF that ends a line of `text` kept as it is.
inline std::string escape_for_display_lines(std::string_view text) {
  std::string out;
  for (std::size_t start = 0; start < text.size();) {
    const auto lf = text.find('\n', start);
    out += escape_for_display(text.substr(start, lf == text.npos ? text.npos : lf - start));
    if (lf == text.npos) break;
    out += '\n';
    start = lf + 1;
  }
  return out;
}

// Parses `argv` (the words after the subcommand) into `app`. nullopt: go on;
// otherwise the exit status (0 after --help, exit_usage after an error, with
// CLI11's message printed).
inline std::optional<int> parse_cli11(CLI::App& app, std::vector<std::string> words) {
  std::reverse(words.begin(), words.end());  // CLI11 takes them last-first
  try {
    app.parse(words);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // CLI11's message quotes the offending word as typed: escaped, like
    // every other echo of user input.
    std::ostringstream message;
    app.exit(e, std::cout, message);
    fmt::print(stderr, "{}", escape_for_display_lines(message.str()));
    return exit_usage;
  }
  return std::nullopt;
}
inline std::optional<int> parse_cli11(CLI::App& app, args argv) {
  return parse_cli11(app, std::vector<std::string>(argv.begin(), argv.end()));
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
