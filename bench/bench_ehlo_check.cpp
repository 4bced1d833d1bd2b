// Names checked per second by the EHLO linter, and the grammar alone.
// Run: build/gcc/bench/bench_ehlo_check --benchmark_repetitions=5
//        --benchmark_report_aggregates_only=true
// Quote medians; compare only figures from the same run.
#include <sansmtp/syntax/ehlo_check.hpp>
#include <sansmtp/syntax/ehlo_argument.hpp>

#include <benchmark/benchmark.h>

#include <string>
#include <vector>

namespace {

// What validation tools see: mostly good names, the origin story's literals,
// container names, typos and a few internationalized names.
const std::vector<std::string>& mix() {
  static const std::vector<std::string> names = {
      "mx1.mail.example-corp.net",
      "smtp.eu-west-1.amazonses.com",
      "mail-wr1-f54.google.com",
      "[10.42.0.17]",
      "[127.0.0.1]",
      "api-7d9f8b6c5-x2k9q",
      "[IPv6:2001:db8::25]",
      "ip-10-0-0-1.ec2.internal",
      "my_host.example-corp.net",
      "[8.8.8.8]",
      "c-73-45-12-1.hsd1.ca.comcast.net",
      "localhost.localdomain",
      "b\xc3\xbc"
      "cher.example-corp.net",
      "xn--bcher-kva.example-corp.net",
      "10.42.0.17",
      "relay.default.svc.cluster.local",
  };
  return names;
}

// One call per name, cycling through the mix; reports names/s and bytes/s.
template <class F>
void run_mix(benchmark::State& state, F f) {
  const auto& names = mix();
  std::size_t i = 0, bytes = 0;
  for (auto _ : state) {
    const auto& name = names[i++ % names.size()];
    benchmark::DoNotOptimize(f(name));
    bytes += name.size();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
}

void BM_check_ehlo_name_mix(benchmark::State& state) {
  run_mix(state, [](const std::string& n) { return sansmtp::check_ehlo_name(n); });
}
BENCHMARK(BM_check_ehlo_name_mix);

void BM_check_ehlo_name_good(benchmark::State& state) {
  const std::string name = "mx1.mail.example-corp.net";
  for (auto _ : state) benchmark::DoNotOptimize(sansmtp::check_ehlo_name(name));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_check_ehlo_name_good);

void BM_parse_ehlo_argument_mix(benchmark::State& state) {
  run_mix(state, [](const std::string& n) { return sansmtp::parse::ehlo_argument(n); });
}
BENCHMARK(BM_parse_ehlo_argument_mix);

void BM_parse_ipv6_literal(benchmark::State& state) {
  const std::string name = "[IPv6:2001:db8:85a3::8a2e:370:7334]";
  for (auto _ : state) benchmark::DoNotOptimize(sansmtp::parse::ehlo_argument(name));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * name.size()));
}
BENCHMARK(BM_parse_ipv6_literal);

}  // namespace

BENCHMARK_MAIN();
