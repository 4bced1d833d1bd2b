// Internal: the PROXY v1 line machine (grammar/proxy_v1.rl), run over a
// buffer a chunk at a time.
#pragma once

#include <cstddef>

namespace sansmtp::detail {

struct proxy_v1_scan {
  int cs = 0;                  // the machine's state between chunks
  int family = 0;              // 4 (TCP4), 6 (TCP6), 0 (UNKNOWN)
  std::size_t marks[8] = {};   // source, destination, source port, destination port: [start, end) each
  std::size_t end = 0;         // set when the CRLF is read: the line's length
  bool failed = false;         // the octet at `error_at` breaks the grammar
  std::size_t error_at = 0;
};

proxy_v1_scan proxy_v1_begin() noexcept;
// Runs the machine over base[from, to).
void proxy_v1_run(proxy_v1_scan& s, const char* base, std::size_t from, std::size_t to) noexcept;

}  // namespace sansmtp::detail
