// Fuzz target: the EHLO-name linter (check_ehlo_name) over arbitrary names,
// both profiles. Builds as a libFuzzer target and as a corpus replay (see
// fuzz/README.md). Any violated invariant prints the input and aborts.
//
// Input: the whole input is the name (byte 0 is not special: the linter has
// no options besides the profile, and both profiles run on every input).
//
// Invariants, for each profile:
//  1. Never crashes; report.name is the input; kind is set exactly when
//     syntax_valid.
//  2. The verdict is the worst finding (info counts as pass); a name that
//     is not syntax_valid fails.
//  3. No message or suggestion holds a raw control byte or anything
//     detail::unsafe_to_display refuses (C0, DEL, C1, bidi controls, line
//     and paragraph separators) or broken UTF-8: a linter report is shown on
//     terminals and written to logs.
//  4. A suggestion that is a name (no space in it: the others are actions,
//     "send this host's fully-qualified name") passes its own check for the
//     finding it was offered for: it is syntax-valid and does not draw that
//     finding again.
//  5. The linter reads only its input: the same name inside a larger buffer
//     (a view followed by other bytes) gives the same report.
#include <sansmtp/syntax/ehlo_check.hpp>

#include "fuzz_check.hpp"
#include "work_budget.hpp"
#include "utf8.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

using namespace sansmtp;

namespace {

std::string describe(const ehlo_report& r) {
  std::string out = std::string(verdict_name(r.result)) + (r.syntax_valid ? " valid" : " invalid");
  for (const auto& f : r.findings) {
    out += " | ";
    out += ehlo_check_code_name(f.code);
    out += '/';
    out += severity_name(f.level);
    out += ": ";
    out += f.message;
    out += " => ";
    out += f.suggestion;
  }
  return out;
}

bool safe_text(std::string_view s) {
  return detail::valid_utf8(s) && detail::first_unsafe_to_display(s) == std::string_view::npos;
}

void check_profile(std::string_view name, lint_profile profile) {
  const ehlo_check_options options{profile};
  const auto report = check_ehlo_name(name, options);
  FUZZ_CHECK(report.name == name, "name not kept");
  FUZZ_CHECK(report.kind.has_value() == report.syntax_valid, describe(report));

  verdict worst = verdict::pass;
  for (const auto& f : report.findings)
    worst = std::max(worst, static_cast<verdict>(static_cast<int>(f.level)));
  FUZZ_CHECK(report.result == worst, describe(report));
  FUZZ_CHECK(report.syntax_valid || report.result == verdict::fail, describe(report));

  for (const auto& f : report.findings) {
    FUZZ_CHECK(!f.message.empty(), describe(report));
    FUZZ_CHECK(safe_text(f.message), "unsafe message: " + fuzz::escape(f.message));
    FUZZ_CHECK(safe_text(f.suggestion), "unsafe suggestion: " + fuzz::escape(f.suggestion));
    if (f.suggestion.empty() || f.suggestion.find(' ') != std::string::npos) continue;
    const auto again = check_ehlo_name(f.suggestion, options);
    FUZZ_CHECK(again.syntax_valid && !again.has(f.code),
               "suggestion \"" + fuzz::escape(f.suggestion) + "\" for " + std::string(ehlo_check_code_name(f.code)) +
                   " does not pass its own check: " + describe(again));
  }

  // 5. The same name as a view into a larger buffer.
  std::string padded(name);
  padded += ".example\r\n]x";
  const auto viewed = check_ehlo_name(std::string_view(padded).substr(0, name.size()), options);
  FUZZ_CHECK(describe(viewed) == describe(report), describe(viewed) + " vs " + describe(report));
}

}  // namespace

// The work budget: at most this many ns of CPU time per input octet, past
// a shared fixed part (fuzz/work_budget.hpp; calibration in fuzz/README.md).
static constexpr sansmtp::fuzz::work_budget budget{"fuzz_ehlo_check", 150000};

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const sansmtp::fuzz::input_scope scope(data, size, budget);
  const std::string_view name(reinterpret_cast<const char*>(data), size);
  check_profile(name, lint_profile::internet);
  check_profile(name, lint_profile::internal);
  return 0;
}
