// A session call a benchmark makes must be accepted: a refused one would
// measure something else than the case says, so the program stops.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <system_error>

namespace sansmtp::bench {

inline void must(std::error_code ec) {
  if (!ec) return;
  std::fprintf(stderr, "benchmark: a session call was refused: %s\n", ec.message().c_str());
  std::abort();
}

}  // namespace sansmtp::bench
