// The client session joined in memory with the server session: pipelined
// transactions per second (MAIL, RCPT, DATA, a short body, four replies),
// heap allocations per transaction in steady state (a counting operator
// new), and the client's body throughput beside memchr over the same bytes.
// Run:
//   build/gcc/bench/bench_client --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <sansmtp/session/client.hpp>
#include <sansmtp/syntax/command_builder.hpp>
#include <sansmtp/session/server.hpp>

#include <benchmark/benchmark.h>

#include "counting_new.hpp"
#include "must.hpp"

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>

using sansmtp::bench::allocations;

namespace {

using namespace sansmtp;

// One client and one server joined by in-memory pipes.
struct pair {
  server s;
  client c;
  owned_command mail = *make_mail("alice@example.org");
  owned_command rcpt = *make_rcpt("bob@example.net");
  owned_command data = *make_data();
  std::string body = "Subject: hi\r\n\r\nHello Bob.\r\n";
  std::uint64_t delivered = 0;
  bool ready = false;      // EHLO answered
  bool auto_body = true;   // send `body` at the 354 (off: the benchmark sends its own)
  bool in_body = false;

  pair() : s(), c(client_options{"mail.acme-corp.com"}) {
    bench::must(s.send(220, "mx.example.net ESMTP"));
    pump();
  }

  void server_turn() {
    // The runs as writev would send them (a memory_source's body is queued
    // by reference, in several runs).
    std::size_t moved = 0;
    for (const auto run : c.pending_output_spans()) {
      if (s.receive_capacity() < run.size()) break;
      bench::must(s.receive({run.data(), run.size()}));
      moved += run.size();
    }
    c.consume_output(moved);
    for (;;) {
      auto e = s.next_event();
      if (std::holds_alternative<server_event::need_data>(e) || std::holds_alternative<server_event::paused>(e)) break;
      if (const auto* cmd = std::get_if<server_event::command>(&e)) {
        const auto& v = cmd->value;
        if (std::holds_alternative<cmd::ehlo>(v)) bench::must(s.send_ehlo_reply());
        else if (std::holds_alternative<cmd::data>(v)) bench::must(s.send(354, "Go ahead"));
        else bench::must(s.send(250, "2.0.0 Ok"));
      } else if (std::holds_alternative<server_event::message_end>(e)) {
        ++delivered;
        bench::must(s.send(250, "2.0.0 Queued"));
      }
    }
  }

  void client_turn() {
    const auto out = s.pending_output();
    if (!out.empty()) {
      bench::must(c.receive({out.data(), out.size()}));
      s.consume_output(out.size());
    }
    for (;;) {
      const auto e = c.next_event();
      if (const auto* r = std::get_if<client_event::reply>(&e)) {
        if (r->answered == answered_command::greeting) bench::must(c.send_hello());
        if (r->answered == answered_command::ehlo) ready = true;
        if (r->answered == answered_command::data && r->value.code == 354) {
          in_body = true;
          if (auto_body) {
            bench::must(c.send_body(body));
            bench::must(c.end_body());
            in_body = false;
          }
        }
        continue;
      }
      break;
    }
  }

  void pump() {
    for (int i = 0; i < 8; ++i) {
      client_turn();
      server_turn();
    }
  }

  void transaction() {
    bench::must(c.send(mail.command()));
    bench::must(c.send(rcpt.command()));
    bench::must(c.send(data.command()));
    for (int i = 0; i < 3; ++i) {
      server_turn();
      client_turn();
    }
  }
};

void BM_joined_transactions(benchmark::State& state) {
  pair p;
  for (int i = 0; i < 64; ++i) p.transaction();  // warm up
  const auto before_alloc = allocations.load();
  const auto before = p.delivered;
  for (auto _ : state) p.transaction();
  const auto done = p.delivered - before;
  if (done != static_cast<std::uint64_t>(state.iterations())) state.SkipWithError("a transaction did not complete");
  state.counters["transactions/s"] = benchmark::Counter(static_cast<double>(done), benchmark::Counter::kIsRate);
  state.counters["allocs/transaction"] =
      static_cast<double>(allocations.load() - before_alloc) / static_cast<double>(done ? done : 1);
}
BENCHMARK(BM_joined_transactions);

std::string make_body(std::size_t size) {
  std::string m;
  std::uint32_t x = static_cast<std::uint32_t>(size);
  std::size_t lines = 0;
  while (m.size() < size) {
    std::string line(76, 'x');
    for (auto& ch : line) ch = static_cast<char>('a' + (x = x * 1664525u + 1013904223u) % 26);
    if (++lines % 1000 == 0) line[0] = '.';
    m += line + "\r\n";
  }
  return m;
}

// The client's body path alone: a message of range(0) octets through
// send_body() in 64 KiB pieces (dot-stuffed into the output buffer, which
// is drained after each piece, as a driver's write would).
void BM_client_body(benchmark::State& state) {
  const auto body = make_body(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) {
    state.PauseTiming();
    pair p;  // a fresh session in the body of a transaction
    p.auto_body = false;
    bench::must(p.c.send(p.mail.command()));
    bench::must(p.c.send(p.rcpt.command()));
    bench::must(p.c.send(p.data.command()));
    for (int i = 0; i < 3 && !p.in_body; ++i) {
      p.server_turn();
      p.client_turn();
    }
    if (!p.in_body) state.SkipWithError("no 354");
    p.c.consume_output(p.c.pending_output().size());
    state.ResumeTiming();
    for (std::size_t at = 0; at < body.size(); at += 65536) {
      if (p.c.send_body(std::string_view(body).substr(at, 65536))) state.SkipWithError("send_body refused");
      p.c.consume_output(p.c.pending_output().size());
    }
    bench::must(p.c.end_body());
    p.c.consume_output(p.c.pending_output().size());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * body.size()));
}
BENCHMARK(BM_client_body)->Arg(100 << 10)->Arg(10 << 20);

// The same message through submit() from a memory_source (a stable source):
// the body is queued by reference, and the runs are "written" as writev
// would take them (consumed without touching the bytes), so what is left is
// the client's own work: the end-of-line scan and the dot-stuffing.
// range(1): 0 = the body path alone (envelope::detect_8bit off: the caller
// says the message is 7-bit), 1 = the default, which reads the message once
// ahead for 8-bit octets (RFC 6152) before MAIL.
void BM_client_body_by_reference(benchmark::State& state) {
  const auto body = make_body(static_cast<std::size_t>(state.range(0)));
  client c(client_options{"mail.acme-corp.com"});
  bench::must(c.receive("220 mx\r\n"));  // each reply after the command it answers
  (void)c.next_event();
  (void)c.send_hello();
  bench::must(c.receive("250-mx\r\n250 PIPELINING\r\n"));
  (void)c.next_event();
  c.consume_output(c.pending_output_size());
  envelope env;
  env.reverse_path = "alice@example.org";
  env.recipients.push_back({"bob@example.net"});
  env.detect_8bit = state.range(1) != 0;
  std::size_t written = 0;
  for (auto _ : state) {
    memory_source source(body);
    if (c.submit(env, source)) {
      state.SkipWithError("submit refused");
      break;
    }
    bench::must(c.receive("250 ok\r\n250 ok\r\n354 go\r\n"));
    bool ended = false, done = false;
    while (!done) {
      const auto e = c.next_event();
      written += c.pending_output_size();
      c.consume_output(c.pending_output_size());
      if (std::holds_alternative<client_event::submitted>(e)) done = true;
      if (!ended && c.timeout() == std::chrono::seconds{600}) {
        ended = true;
        bench::must(c.receive("250 queued\r\n"));
      }
      if (std::holds_alternative<client_event::fatal_error>(e)) {
        state.SkipWithError("fatal error");
        done = true;
      }
    }
    c.next_event();  // forgets the reported submission
  }
  benchmark::DoNotOptimize(written);
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * body.size()));
}
BENCHMARK(BM_client_body_by_reference)->ArgsProduct({{100 << 10, 10 << 20}, {0, 1}});

void BM_memchr_same_bytes(benchmark::State& state) {
  const auto body = make_body(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) {
    const char* p = body.data();
    const char* end = p + body.size();
    std::size_t lines = 0;
    while (const void* lf = std::memchr(p, '\n', static_cast<std::size_t>(end - p))) {
      ++lines;
      p = static_cast<const char*>(lf) + 1;
    }
    benchmark::DoNotOptimize(lines);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * body.size()));
}
BENCHMARK(BM_memchr_same_bytes)->Arg(100 << 10)->Arg(10 << 20);

}  // namespace

BENCHMARK_MAIN();
