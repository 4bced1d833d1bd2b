// sansmtp parse WHAT ...: one parser of the library, run over stdin.
#include "commands.hpp"

#include <fmt/format.h>

#include <string_view>

namespace sansmtp::cli {
namespace {

struct parser_command {
  std::string_view name;
  std::string_view summary;
  int (*run)(args);
};

constexpr parser_command parsers[] = {
    {"command", "SMTP command lines, as a server reads them", run_parse_command},
};

void usage(std::FILE* to) {
  fmt::print(to, "Usage: sansmtp parse WHAT [options] < FILE\n\n");
  for (const auto& p : parsers) fmt::print(to, "  {:<10} {}\n", p.name, p.summary);
}

}  // namespace

int run_parse(args a) {
  const std::string_view what = a.empty() ? "" : a[0];
  if (what == "-h" || what == "--help") {
    usage(stdout);
    return exit_pass;
  }
  for (const auto& p : parsers)
    if (p.name == what) return p.run(a.subspan(1));
  if (!what.empty()) fmt::print(stderr, "sansmtp parse: unknown parser '{}'\n\n", what);
  usage(stderr);
  return exit_usage;
}

}  // namespace sansmtp::cli
