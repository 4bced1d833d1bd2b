// DATA decoder and encoder throughput next to memchr over the same bytes.
// Bodies of 1 KiB, 100 KiB and 10 MiB: 78-octet lines (76 + CRLF), 0.1% of
// them starting with a dot. Run:
//   build/gcc/bench/bench_data_codec --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
// Quote medians and ratios from one run only.
#include <sansmtp/codec/data.hpp>

#include <benchmark/benchmark.h>

#include <cstring>
#include <map>
#include <random>
#include <string>

namespace {

// The message (as a client holds it) and its wire form (what a server reads).
struct body {
  std::string message, wire;
};

const body& make_body(std::size_t size) {
  static std::map<std::size_t, body> cache;
  auto& b = cache[size];
  if (!b.message.empty()) return b;
  std::mt19937 rng(static_cast<unsigned>(size));
  std::size_t lines = 0;
  while (b.message.size() < size) {
    std::string line(76, 'x');
    for (auto& c : line) c = static_cast<char>('a' + rng() % 26);
    if (++lines % 1000 == 0) line[0] = '.';  // 0.1% dot lines
    b.message += line;
    b.message += "\r\n";
  }
  sansmtp::data_encoder e;
  std::string_view rest = b.message;
  for (;;) {
    const auto piece = e.next(rest);
    b.wire.append(piece.bytes.data(), piece.bytes.size());
    rest.remove_prefix(piece.consumed);
    if (piece.status != sansmtp::data_status::more) break;
  }
  const auto tail = e.finish();
  b.wire.append(tail.data(), tail.size());
  return b;
}

void BM_memchr_lines(benchmark::State& state) {
  const auto& wire = make_body(static_cast<std::size_t>(state.range(0))).wire;
  for (auto _ : state) {
    std::size_t lines = 0;
    const char* p = wire.data();
    const char* end = p + wire.size();
    while (const void* lf = std::memchr(p, '\n', static_cast<std::size_t>(end - p))) {
      p = static_cast<const char*>(lf) + 1;
      ++lines;
    }
    benchmark::DoNotOptimize(lines);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * wire.size()));
}

void BM_decoder(benchmark::State& state) {
  const auto& wire = make_body(static_cast<std::size_t>(state.range(0))).wire;
  sansmtp::data_decoder d;
  for (auto _ : state) {
    d.reset();
    std::string_view rest = wire;
    std::size_t out = 0;
    for (;;) {
      const auto piece = d.next(rest);
      out += piece.bytes.size();
      rest.remove_prefix(piece.consumed);
      if (piece.status != sansmtp::data_status::more) break;
    }
    if (!d.complete()) state.SkipWithError("no end of data");
    benchmark::DoNotOptimize(out);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * wire.size()));
}

void BM_encoder(benchmark::State& state) {
  const auto& message = make_body(static_cast<std::size_t>(state.range(0))).message;
  sansmtp::data_encoder e;
  for (auto _ : state) {
    e.reset();
    std::string_view rest = message;
    std::size_t out = 0, pieces = 0;
    for (;;) {
      const auto piece = e.next(rest);
      out += piece.bytes.size();
      ++pieces;
      rest.remove_prefix(piece.consumed);
      if (piece.status != sansmtp::data_status::more) break;
    }
    out += e.finish().size();
    benchmark::DoNotOptimize(out);
    benchmark::DoNotOptimize(pieces);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * message.size()));
}

}  // namespace

BENCHMARK(BM_memchr_lines)->Arg(1 << 10)->Arg(100 << 10)->Arg(10 << 20);
BENCHMARK(BM_decoder)->Arg(1 << 10)->Arg(100 << 10)->Arg(10 << 20);
BENCHMARK(BM_encoder)->Arg(1 << 10)->Arg(100 << 10)->Arg(10 << 20);

BENCHMARK_MAIN();
