// serve's --events FILE: one JSON line per event, appended and flushed as it
// happens (tail -f friendly). Shared by every session of a listening server,
// so each line is written whole under a lock.
#pragma once

#include "report_json.hpp"

#include <nlohmann/json.hpp>

#include <fstream>
#include <mutex>
#include <string>

namespace sansmtp::cli {

class event_log {
 public:
  // An empty path: logging is off.
  explicit event_log(const std::string& path) {
    if (!path.empty()) out_.open(path, std::ios::app);
  }
  bool ok() const { return !out_.is_open() || out_.good(); }
  bool enabled() const { return out_.is_open(); }
  void write(const nlohmann::ordered_json& j) {
    if (!out_.is_open()) return;
    const auto line = dump_line(j);
    std::lock_guard lock(mutex_);
    out_ << line << '\n' << std::flush;
  }

 private:
  std::mutex mutex_;
  std::ofstream out_;
};

}  // namespace sansmtp::cli
