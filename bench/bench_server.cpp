// The server session in memory, no sockets: small pipelined transactions
// per second, body throughput for 1 KiB / 100 KiB / 10 MiB messages next to
// memchr over the same bytes, and heap allocations per transaction in
// steady state (a counting operator new). Run:
//   build/gcc/bench/bench_server --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
// Quote medians and ratios from one run only.
#include <sansmtp/session/server.hpp>

#include <benchmark/benchmark.h>

#include "counting_new.hpp"
#include "must.hpp"

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <map>
#include <new>
#include <string>

using sansmtp::bench::allocations;

namespace {

using namespace sansmtp;

// The application of a sink: accepts everything, keeps nothing.
struct sink {
  server& s;
  std::uint64_t body = 0, messages = 0;

  void drain() {
    for (;;) {
      auto event = s.next_event();
      if (std::holds_alternative<server_event::need_data>(event) || std::holds_alternative<server_event::paused>(event))
        return;
      if (const auto* c = std::get_if<server_event::command>(&event)) {
        const auto& v = c->value;
        if (std::holds_alternative<cmd::ehlo>(v)) bench::must(s.send_ehlo_reply());
        else if (std::holds_alternative<cmd::data>(v)) bench::must(s.send(354, "Go ahead"));
        else if (std::holds_alternative<cmd::quit>(v)) bench::must(s.send(221, "2.0.0 Bye"));
        else bench::must(s.send(250, "2.0.0 Ok"));
      } else if (const auto* d = std::get_if<server_event::message_data>(&event)) {
        body += d->bytes.size();
      } else if (std::holds_alternative<server_event::message_end>(event)) {
        ++messages;
        bench::must(s.send(250, "2.0.0 Queued"));
      } else if (const auto* b = std::get_if<server_event::bad_command>(&event)) {
        bench::must(s.send(b->suggested));
      }
    }
  }
};

// Pushes `wire` in `chunk`-octet reads, answering as it goes; output is
// "written" (consumed) after every read, as a driver would.
void feed(server& s, sink& app, std::string_view wire, std::size_t chunk) {
  while (!wire.empty()) {
    const auto n = std::min({chunk, wire.size(), s.receive_capacity()});
    bench::must(s.receive(wire.substr(0, n)));
    wire.remove_prefix(n);
    app.drain();
    s.consume_output(s.pending_output().size());
  }
}

const std::string transaction =
    "MAIL FROM:<alice@example.org>\r\nRCPT TO:<bob@example.net>\r\nDATA\r\n"
    "Subject: hi\r\n\r\nHello Bob.\r\n.\r\n";

// A small transaction, pipelined (MAIL, RCPT, DATA in one write), on a
// long-lived session: transactions per second, allocations per transaction.
void BM_small_transactions(benchmark::State& state) {
  server s;
  sink app{s};
  bench::must(s.send(220, "mx ESMTP"));
  feed(s, app, "EHLO client.example\r\n", 4096);
  std::string batch;
  for (int i = 0; i < 64; ++i) batch += transaction;
  feed(s, app, batch, 16384);  // warm up: buffers reach their size
  const auto before = allocations.load();
  std::uint64_t done = 0;
  for (auto _ : state) {
    feed(s, app, batch, 16384);
    done += 64;
  }
  state.counters["transactions/s"] = benchmark::Counter(static_cast<double>(done), benchmark::Counter::kIsRate);
  state.counters["allocs/transaction"] =
      static_cast<double>(allocations.load() - before) / static_cast<double>(done ? done : 1);
}
BENCHMARK(BM_small_transactions);

struct message {
  std::string wire;  // DATA's body as sent, dot-stuffed, with the end of data
  std::size_t size = 0;
};

const message& make_message(std::size_t size) {
  static std::map<std::size_t, message> cache;
  auto& m = cache[size];
  if (!m.wire.empty()) return m;
  std::uint32_t x = static_cast<std::uint32_t>(size);
  std::size_t lines = 0;
  while (m.size < size) {
    std::string line(76, 'x');
    for (auto& c : line) c = static_cast<char>('a' + (x = x * 1664525u + 1013904223u) % 26);
    if (++lines % 1000 == 0) line.insert(line.begin(), 2, '.');  // a stuffed dot line
    m.wire += line + "\r\n";
    m.size += line.size() + 2 - (lines % 1000 == 0 ? 1 : 0);
  }
  m.wire += ".\r\n";
  return m;
}

// One message of range(0) octets through DATA, read in 64 KiB chunks.
void BM_message_body(benchmark::State& state) {
  const auto& m = make_message(static_cast<std::size_t>(state.range(0)));
  const std::string head = "MAIL FROM:<alice@example.org>\r\nRCPT TO:<bob@example.net>\r\nDATA\r\n";
  server s;
  sink app{s};
  bench::must(s.send(220, "mx ESMTP"));
  feed(s, app, "EHLO client.example\r\n", 4096);
  for (auto _ : state) {
    feed(s, app, head, 65536);
    feed(s, app, m.wire, 65536);
  }
  benchmark::DoNotOptimize(app.body);
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * m.wire.size()));
}
BENCHMARK(BM_message_body)->Arg(1 << 10)->Arg(100 << 10)->Arg(10 << 20);

// The physical baseline: memchr for every LF over the same bytes.
void BM_memchr_same_bytes(benchmark::State& state) {
  const auto& m = make_message(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) {
    const char* p = m.wire.data();
    const char* end = p + m.wire.size();
    std::size_t lines = 0;
    while (const void* lf = std::memchr(p, '\n', static_cast<std::size_t>(end - p))) {
      ++lines;
      p = static_cast<const char*>(lf) + 1;
    }
    benchmark::DoNotOptimize(lines);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * m.wire.size()));
}
BENCHMARK(BM_memchr_same_bytes)->Arg(1 << 10)->Arg(100 << 10)->Arg(10 << 20);

}  // namespace

BENCHMARK_MAIN();
