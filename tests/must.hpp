// A session call the test harness makes on behalf of its application must
// be accepted: the harnesses answer by the session's contract, so a refusal
// is a bug in the session or in the harness. Thrown, so that Catch2 reports
// it in a test and the fuzz targets (which share the harnesses) crash on it.
#pragma once

#include <stdexcept>
#include <string>
#include <system_error>

namespace sansmtp::test {

inline void must(std::error_code ec, const char* what) {
  if (ec) throw std::logic_error(std::string("harness: ") + what + " was refused: " + ec.message());
}

}  // namespace sansmtp::test
