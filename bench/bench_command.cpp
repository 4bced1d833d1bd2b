// Command lines parsed (and serialized) per second.
// Run: build/gcc/bench/bench_command --benchmark_repetitions=5
//        --benchmark_report_aggregates_only=true
// Quote medians; compare only figures from the same run. Target (issue 4):
// <= 50 ns for a typical MAIL or RCPT line.
#include <sansmtp/syntax/command.hpp>

#include <benchmark/benchmark.h>

#include "shared_inputs.hpp"

#include <string>
#include <vector>

namespace {

using sansmtp::bench::command_mix;

void run_lines(benchmark::State& state, const std::vector<std::string>& lines) {
  std::size_t i = 0, bytes = 0;
  for (auto _ : state) {
    const auto& line = lines[i];
    auto r = sansmtp::parse::command_line(line);
    benchmark::DoNotOptimize(r);
    bytes += line.size();
    if (++i == lines.size()) i = 0;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
}

void bm_command_mix(benchmark::State& state) { run_lines(state, command_mix()); }
BENCHMARK(bm_command_mix);

void bm_typical_mail(benchmark::State& state) {
  run_lines(state, {"MAIL FROM:<john.smith@example.com> SIZE=12345 BODY=8BITMIME\r\n"});
}
BENCHMARK(bm_typical_mail);

void bm_typical_rcpt(benchmark::State& state) { run_lines(state, {"RCPT TO:<alice@example.com>\r\n"}); }
BENCHMARK(bm_typical_rcpt);

void bm_quoted_literal_route(benchmark::State& state) {
  run_lines(state, {"RCPT TO:<@relay.example:\"john q. public\"@[IPv6:2001:db8::25]> NOTIFY=NEVER\r\n"});
}
BENCHMARK(bm_quoted_literal_route);

void bm_serialize_mail(benchmark::State& state) {
  const auto parsed =
      sansmtp::parse::command_line("MAIL FROM:<john.smith@example.com> SIZE=12345 BODY=8BITMIME");
  std::string out;
  for (auto _ : state) {
    out.clear();
    benchmark::DoNotOptimize(sansmtp::serialize(*parsed, out));
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(bm_serialize_mail);

}  // namespace

BENCHMARK_MAIN();
