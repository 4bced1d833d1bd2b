// Reply reader throughput over a realistic client-side stream, next to a
// memchr line scan of the same bytes; EHLO capability parsing; the writer.
// The stream repeats one session's replies (about 1 MiB): greeting, a
// 13-line Postfix EHLO reply, MAIL/RCPT/DATA replies, a 3-line Gmail 550, a
// 5-line 421, QUIT. Chunks: the whole stream at once, 16 KiB, and 1460
// octets (a TCP segment). Run:
//   build/bench/bench_reply --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <sansmtp/syntax/capabilities.hpp>
#include <sansmtp/codec/reply_reader.hpp>
#include <sansmtp/syntax/reply.hpp>

#include <benchmark/benchmark.h>

#include "counting_new.hpp"
#include "shared_inputs.hpp"

#include <algorithm>

#include <cstring>
#include <string>
#include <vector>

namespace {

constexpr std::string_view session =
    "220 mx.example.org ESMTP Postfix (Debian/GNU)\r\n"
    "250-mx.example.org\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-VRFY\r\n250-ETRN\r\n250-STARTTLS\r\n"
    "250-AUTH PLAIN LOGIN\r\n250-AUTH=PLAIN LOGIN\r\n250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250-DSN\r\n"
    "250-SMTPUTF8\r\n250 CHUNKING\r\n"
    "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n250 2.1.5 Ok\r\n"
    "550-5.1.1 The email account that you tried to reach does not exist. Please try\r\n"
    "550-5.1.1 double-checking the recipient's email address for typos or\r\n"
    "550 5.1.1 unnecessary spaces. https://support.google.com/mail/?p=NoSuchUser a1si2 - gsmtp\r\n"
    "354 End data with <CR><LF>.<CR><LF>\r\n"
    "250 2.0.0 Ok: queued as 4Y2ZkQ0Xq1z9sWm\r\n"
    "421-4.7.0 [192.0.2.1      15] Our system has detected an unusual rate of\r\n"
    "421-4.7.0 unsolicited mail originating from your IP address. To protect our\r\n"
    "421-4.7.0 users from spam, mail sent from your IP address has been temporarily\r\n"
    "421-4.7.0 rate limited. Please visit https://support.google.com/mail/?p=UnsolicitedRateLimitError\r\n"
    "421 4.7.0 to review our Bulk Email Senders Guidelines. a1si3 - gsmtp\r\n"
    "221 2.0.0 Bye\r\n";

const std::string& stream() {
  static const std::string s = [] {
    std::string out;
    while (out.size() < (1u << 20)) out += session;
    return out;
  }();
  return s;
}

void BM_memchr_lines(benchmark::State& state) {
  const auto& s = stream();
  for (auto _ : state) {
    std::size_t lines = 0;
    const char* p = s.data();
    const char* end = p + s.size();
    while (const void* lf = std::memchr(p, '\n', static_cast<std::size_t>(end - p))) {
      p = static_cast<const char*>(lf) + 1;
      ++lines;
    }
    benchmark::DoNotOptimize(lines);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * s.size()));
}
BENCHMARK(BM_memchr_lines);

// Arg: chunk size (0 = the whole stream in one call).
void BM_reply_reader(benchmark::State& state) {
  const auto& s = stream();
  const auto chunk = state.range(0) == 0 ? s.size() : static_cast<std::size_t>(state.range(0));
  std::size_t replies = 0;
  for (auto _ : state) {
    sansmtp::reply_reader reader;
    std::size_t n = 0, codes = 0;
    for (std::size_t from = 0; from < s.size(); from += chunk) {
      std::string_view rest = std::string_view(s).substr(from, chunk);
      for (;;) {
        const auto step = reader.next(rest);
        rest.remove_prefix(step.consumed);
        if (step.status != sansmtp::reply_status::reply) break;
        ++n;
        codes += static_cast<std::size_t>(reader.current().code) + reader.current().lines.size();
      }
    }
    if (reader.finish() || n == 0) state.SkipWithError("the stream did not read cleanly");
    benchmark::DoNotOptimize(codes);
    replies = n;
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * s.size()));
  state.counters["ns_per_reply"] =
      benchmark::Counter(static_cast<double>(replies * state.iterations()),
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.counters["replies"] = static_cast<double>(replies);
}
BENCHMARK(BM_reply_reader)->Arg(0)->Arg(16384)->Arg(1460);

// The 13-line EHLO reply of bench/shared_inputs.hpp from its bytes to typed
// capabilities, through a long-lived reader (as a client session keeps
// one), with heap allocations counted (target: at most 1; now 0).
void BM_ehlo_capabilities(benchmark::State& state) {
  sansmtp::reply_reader reader;
  std::uint64_t allocs = 0;
  for (auto _ : state) {
    const auto before = sansmtp::bench::allocations.load(std::memory_order_relaxed);
    if (reader.next(sansmtp::bench::ehlo_reply).status != sansmtp::reply_status::reply) {
      state.SkipWithError("no EHLO reply");
      return;
    }
    auto c = sansmtp::parse::ehlo_response(reader.current());
    benchmark::DoNotOptimize(c.present);
    allocs += sansmtp::bench::allocations.load(std::memory_order_relaxed) - before;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.counters["allocs/reply"] =
      static_cast<double>(allocs) / static_cast<double>(std::max<std::int64_t>(1, state.iterations()));
}
BENCHMARK(BM_ehlo_capabilities);

void BM_write_reply(benchmark::State& state) {
  const std::vector<std::string_view> lines = {
      "The email account that you tried to reach does not exist. Please try double-checking the recipient's "
      "email address for typos or unnecessary spaces. https://support.google.com/mail/?p=NoSuchUser"};
  const sansmtp::enhanced_status esc{5, 1, 1};
  std::string out;
  for (auto _ : state) {
    out.clear();
    const auto ec = sansmtp::write_reply(out, 550, esc, lines, {.max_line_length = 100});
    benchmark::DoNotOptimize(ec);
    benchmark::DoNotOptimize(out.data());
  }
}
BENCHMARK(BM_write_reply);

}  // namespace

BENCHMARK_MAIN();
