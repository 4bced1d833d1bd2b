#include "auth_guard.hpp"

#include <algorithm>

namespace sansmtp::cli {
namespace {

// Addresses remembered before the ones with no failure left in the window
// are swept out (a bound on the memory a scan of many addresses can take).
constexpr std::size_t sweep_above = 4096;

}  // namespace

auth_guard::auth_guard(const auth_guard_options& options, bool pool) : options_(options) {
  if (pool) pool_.emplace(std::max<std::size_t>(options_.threads, 1));
}

auth_guard::~auth_guard() {
  if (pool_) pool_->join();
}

std::size_t auth_guard::prune(std::deque<clock::time_point>& failures, clock::time_point now) const {
  while (!failures.empty() && now - failures.front() >= options_.failure_window) failures.pop_front();
  return failures.size();
}

bool auth_guard::blocked(const std::string& address, clock::time_point now) {
  if (options_.max_failures == 0) return false;
  std::lock_guard lock(mutex_);
  const auto it = failures_.find(address);
  if (it == failures_.end()) return false;
  return prune(it->second, now) >= options_.max_failures;
}

std::chrono::milliseconds auth_guard::record_failure(const std::string& address, clock::time_point now) {
  std::lock_guard lock(mutex_);
  if (failures_.size() >= sweep_above) {
    for (auto it = failures_.begin(); it != failures_.end();)
      it = prune(it->second, now) == 0 ? failures_.erase(it) : std::next(it);
  }
  auto& failures = failures_[address];
  prune(failures, now);
  failures.push_back(now);
  // The list need not grow past what the limit and the delay look at.
  const std::size_t keep = std::max<std::size_t>(options_.max_failures, 64);
  while (failures.size() > keep) failures.pop_front();
  auto delay = options_.fail_delay;
  for (std::size_t i = 1; i < failures.size() && delay < options_.fail_delay_max; ++i) delay *= 2;
  return std::min(delay, options_.fail_delay_max);
}

}  // namespace sansmtp::cli
