// Shared by the fuzz targets: a per-input work budget proportional to the
// input's length, to catch super-linear cost (issue 15; fuzz/README.md
// section 7 says why it is CPU time and how it was calibrated).
//
// Each target opens an input_scope first; when it closes, the thread CPU time
// the input took (CLOCK_THREAD_CPUTIME_ID: user and system time of this
// thread only, so other processes on a loaded machine do not count) must be
// at most
//
//     scale * (fixed_ns + per_byte_ns * size)
//
// where fixed_ns is shared (start-up costs, allocator growth; one target
// sets its own), per_byte_ns is the target's own (measured in the slowest
// build, clang ASan+UBSan+libFuzzer, with a wide margin: faster builds such
// as g++ Release simply have more slack), and scale is
// SANSMTP_FUZZ_BUDGET_SCALE (default 1; 0 turns the budget off, e.g. under
// valgrind or a debugger; any other value multiplies the budget). An input
// over its budget prints what it cost and aborts, so libFuzzer saves it as a
// crash and the replay (and ctest) fails. SANSMTP_FUZZ_BUDGET_LOG=N prints
// "work-budget: <target> <size> <ns>" for every input, the least of N runs
// (calibration: fuzz/calibrate_budget.py).
#pragma once

#include "fuzz_check.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace sansmtp::fuzz {

// Shared fixed part of every budget: 20 ms. The most an input of a few
// octets took is under 2 ms (ASan+UBSan, the least of three runs).
inline constexpr double budget_fixed_ns = 20e6;

struct work_budget {
  const char* target;                 // the target's name, for the message
  double per_byte_ns;                 // nanoseconds of CPU time allowed per input octet
  double fixed_ns = budget_fixed_ns;  // a target whose small inputs fan out may allow more
};

namespace budget_detail {

inline double env_number(const char* name, double fallback) {
  const char* text = std::getenv(name);
  if (text == nullptr || *text == '\0') return fallback;
  char* end = nullptr;
  const double value = std::strtod(text, &end);
  if (end == text || *end != '\0' || !(value >= 0)) {
    std::fprintf(stderr, "%s=%s: expected a number >= 0\n", name, text);
    std::abort();
  }
  return value;
}

inline double scale() {
  static const double value = env_number("SANSMTP_FUZZ_BUDGET_SCALE", 1);
  return value;
}

inline int log_runs() {
  static const int value = static_cast<int>(env_number("SANSMTP_FUZZ_BUDGET_LOG", 0));
  return value;
}

struct rerun {
  bool active = false;    // inside a repeated run
  std::uint64_t spent = 0;  // what it cost
};

inline rerun& rerun_state() {
  static rerun state;
  return state;
}

inline std::uint64_t thread_cpu_ns() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<std::uint64_t>(ts.tv_nsec);
}

}  // namespace budget_detail

// One input: records it for FUZZ_CHECK (set_input) and checks the budget
// when it goes out of scope, whichever way the target returns. An input over
// its budget is run twice more (the target is a function of its input) and
// fails only if every run is over: a page fault, an interrupt or the
// hypervisor taking the CPU adds up to ~10 ms to one run now and then, never
// to three in a row. A run 20 times over its budget fails at once (three of
// them could outlast libFuzzer's -timeout).
class input_scope {
 public:
  input_scope(const std::uint8_t* data, std::size_t size, const work_budget& budget)
      : budget_(budget), data_(data), size_(size) {
    set_input(data, size);
    start_ = budget_detail::thread_cpu_ns();
  }
  input_scope(const input_scope&) = delete;
  input_scope& operator=(const input_scope&) = delete;

  ~input_scope() {
    std::uint64_t spent = budget_detail::thread_cpu_ns() - start_;
    auto& rerun = budget_detail::rerun_state();
    if (rerun.active) {  // a run repeated by the scope below: report, do not judge
      rerun.spent = spent;
      return;
    }
    const double scale = budget_detail::scale();
    const double allowed = scale * (budget_.fixed_ns + budget_.per_byte_ns * static_cast<double>(size_));
    const auto over = [&] { return scale != 0 && static_cast<double>(spent) > allowed; };
    // SANSMTP_FUZZ_BUDGET_LOG=N (N > 1) runs every input N times and logs the least.
    int runs = budget_detail::log_runs();
    if (over() && static_cast<double>(spent) <= 20 * allowed) runs = runs > 3 ? runs : 3;
    int ran = 1;
    for (; ran < runs && (over() || budget_detail::log_runs() > ran); ++ran) {
      rerun.active = true;
      LLVMFuzzerTestOneInput(data_, size_);
      rerun.active = false;
      spent = spent < rerun.spent ? spent : rerun.spent;
    }
    set_input(data_, size_);
    if (budget_detail::log_runs() > 0)
      std::fprintf(stderr, "work-budget: %s %zu %llu\n", budget_.target, size_,
                   static_cast<unsigned long long>(spent));
    if (!over()) return;
    char detail[512];
    std::snprintf(detail, sizeof detail,
                  "%s: a %zu-octet input took %.1f ms of CPU time (the least of %d runs), over its "
                  "budget of %.1f ms (scale %g x (%.0f ms + %.0f ns/octet x %zu)): super-linear cost? "
                  "(SANSMTP_FUZZ_BUDGET_SCALE=0 turns the budget off)",
                  budget_.target, size_, static_cast<double>(spent) / 1e6, ran, allowed / 1e6, scale,
                  budget_.fixed_ns / 1e6, budget_.per_byte_ns, size_);
    violated(__FILE__, __LINE__, "work budget", detail);
  }

 private:
  work_budget budget_;
  const std::uint8_t* data_;
  std::size_t size_;
  std::uint64_t start_ = 0;
};

}  // namespace sansmtp::fuzz
