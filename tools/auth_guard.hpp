// serve's defences around AUTH against password guessing (RFC 4954,
// Security Considerations):
//   - the password checks (scrypt, tens of milliseconds each) run on a
//     small pool of their own (--auth-threads), never on the threads that
//     run the sessions, so guessing clients cannot stall everyone else;
//   - after a failed AUTH the reply (535, or the 421 that ends the
//     session) waits a delay that doubles with the failures counted for
//     the client's address across all its sessions (--auth-fail-delay,
//     capped by --auth-fail-delay-max);
//   - an address with --auth-max-failures failures within
//     --auth-failure-window gets 421 4.7.0 to AUTH until they age out.
#pragma once

#include <asio/post.hpp>
#include <asio/thread_pool.hpp>

#include <chrono>
#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>

namespace sansmtp::cli {

struct auth_guard_options {
  std::size_t threads = 2;                          // --auth-threads
  std::chrono::milliseconds fail_delay{1000};       // --auth-fail-delay: after the first failure
  std::chrono::milliseconds fail_delay_max{8000};   // --auth-fail-delay-max
  std::size_t max_failures = 10;                    // --auth-max-failures (0: no limit)
  std::chrono::seconds failure_window{600};         // --auth-failure-window
};

class auth_guard {
 public:
  using clock = std::chrono::steady_clock;

  // `pool`: start the verification threads (serve --listen); without, the
  // caller verifies on its own thread (serve --stdio).
  auth_guard(const auth_guard_options& options, bool pool);
  ~auth_guard();
  auth_guard(const auth_guard&) = delete;
  auth_guard& operator=(const auth_guard&) = delete;

  // Whether `address` has used up its failures within the window. Thread-safe.
  bool blocked(const std::string& address, clock::time_point now = clock::now());
  // Counts a failure of `address`; returns how long to wait before the
  // reply: fail_delay * 2^(failures in the window - 1), at most
  // fail_delay_max. Thread-safe.
  std::chrono::milliseconds record_failure(const std::string& address, clock::time_point now = clock::now());

  bool has_pool() const { return pool_.has_value(); }
  // Runs `job` on the verification pool (has_pool() must be true).
  template <class Job>
  void run(Job&& job) {
    asio::post(*pool_, std::forward<Job>(job));
  }

 private:
  std::size_t prune(std::deque<clock::time_point>& failures, clock::time_point now) const;

  auth_guard_options options_;
  std::optional<asio::thread_pool> pool_;
  std::mutex mutex_;  // guards failures_
  std::unordered_map<std::string, std::deque<clock::time_point>> failures_;
};

}  // namespace sansmtp::cli
