#include <sansmtp/sansmtp.hpp>

#include <cstdio>

int main() {
  const auto report = sansmtp::check_ehlo_name("[10.42.0.17]");
  const bool ok =
      report.syntax_valid && report.result == sansmtp::verdict::fail && report.has("private-address");
  std::printf("installed sansmtp: [10.42.0.17] -> %s\n", ok ? "fail/private-address (ok)" : "WRONG");
  return ok ? 0 : 1;
}
