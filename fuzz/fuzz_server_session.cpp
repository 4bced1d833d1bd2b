// Fuzz target: the server session (sansmtp::server) against an application
// that answers every event (tests/server_harness.hpp), with options from
// the input.
//
// Input: byte 0 selects options (bit 0 CHUNKING and BINARYMIME, 1 LMTP,
// 2 STARTTLS offered, 3 STARTTLS injection discarded instead of rejected,
// 4-5 DATA policy for bare CR/LF: reject, normalize, allow, reject with a
// 64-octet text line, 6 small limits: 64-octet command lines, 3 recipients,
// 100-octet messages, 5 bad commands, a 256-octet receive buffer, 7 AUTH
// PLAIN/LOGIN without TLS and SMTPUTF8); byte 1 seeds the chunking; the
// rest is what the client sends. A stream that starts with "PROXY" or
// "\r\n\r\n" (the start of the v2 signature) turns the PROXY protocol on
// (server_options::proxy_protocol, any version): the option byte is full,
// and this way the mutator reaches every header, broken ones included.
//
// Invariants:
//  1. Never crashes, never leaks (ASan), no undefined behaviour (UBSan).
//  2. Split differential: the same events and the same replies whatever the
//     chunking (whole, and cut at random points); the one exception is the
//     reply to plaintext injected after STARTTLS (554 when it came in the
//     STARTTLS segment, a refused handshake after it).
//  3. Memory: the receive buffer never holds more than receive_buffer.
//  4. Every message delivered without error is smuggling-free under the
//     reject policy: no bare CR or LF in it (DATA and BDAT alike).
//  5. The output is a sequence of replies the strict reply reader accepts.
//  6. The timer firing (on_timeout()) or the server going down (shutdown())
//     after the first k octets (k and which from the input's seed): the
//     session is closed, nothing is read after it, the events before it are
//     the k-octet prefix's, the replies still read back strictly and the
//     last is 421 (4.4.2 or 4.3.2, RFC 5321 §4.5.3.2 and §3.8), the same
//     whatever the chunking (but for plaintext injected after STARTTLS, as
//     in 2). Before the PROXY header nothing at all is written.
//  7. With the PROXY protocol, nothing is written before the header is read
//     (no greeting, no 421), and a broken one closes with no output at all.
#include <sansmtp/codec/reply_reader.hpp>
#include <sansmtp/syntax/reply.hpp>
#include <sansmtp/session/server.hpp>

#include "fuzz_check.hpp"
#include "work_budget.hpp"
#include "server_harness.hpp"

using namespace sansmtp;

namespace {

server_options options_from(std::uint8_t bits) {
  server_options o;
  o.chunking = o.binarymime = bits & 1;
  o.lmtp = bits & 2;
  o.starttls = bits & 4;
  if (bits & 8) o.after_starttls = starttls_injection::discard;
  static constexpr bare_line_ending policies[] = {bare_line_ending::reject, bare_line_ending::normalize,
                                                  bare_line_ending::allow, bare_line_ending::reject};
  const auto policy = (bits >> 4) & 3;
  o.data.bare_lf = o.data.bare_cr = policies[policy];
  if (policy == 3) o.data.max_line_length = 64;
  if (bits & 64) {
    o.commands.max_line_length = 64;
    o.max_recipients = 3;
    o.max_message_size = 100;
    o.max_bad_commands = 5;
    o.receive_buffer = 256;
  }
  if (bits & 128) {
    o.auth_mechanisms = {"PLAIN", "LOGIN"};
    o.allow_auth_without_tls = true;
    o.smtputf8 = true;
    // The extensions whose MAIL parameters the session checks against what
    // it advertised (RFC 8689 over TLS only, 6710, 2852, 4865).
    o.requiretls = true;
    o.mt_priority = true;
    o.mt_priority_profile = "MIXER";
    o.deliverby = 120;
    o.futurerelease = true;
    o.futurerelease_max_interval = 3600;
    o.futurerelease_max_datetime = "2026-12-15T00:00:00Z";
  }
  return o;
}

bool has_bare_line_ending(std::string_view m) {
  for (std::size_t i = 0; i < m.size(); ++i) {
    if (m[i] == '\r' && (i + 1 == m.size() || m[i + 1] != '\n')) return true;
    if (m[i] == '\n' && (i == 0 || m[i - 1] != '\r')) return true;
  }
  return false;
}

// Plaintext after STARTTLS is refused either way, but with a 554 only when
// it came in the STARTTLS segment (in a later one only at the handshake):
// the one timing-dependent outcome.
bool injected(const test::session_result& r) { return r.log.find("starttls injection") != std::string::npos; }

// 5. The replies in `output` read back by the strict reader, ending where a
// reply ends; the last one's code (0 when there is none).
int read_back(std::string_view output) {
  reply_reader reader;
  int last = 0;
  for (;;) {
    const auto step = reader.next(output);
    output.remove_prefix(step.consumed);
    if (step.status != reply_status::reply) {
      FUZZ_CHECK(step.status == reply_status::need_data, "the server wrote a broken reply: " +
                                                             std::string(reader.error()->name()));
      break;
    }
    last = reader.current().code;
  }
  FUZZ_CHECK(!reader.finish(), "the output ends inside a reply");
  return last;
}

}  // namespace

// The work budget: at most this many ns of CPU time per input octet, past
// a shared fixed part (fuzz/work_budget.hpp; calibration in fuzz/README.md).
static constexpr sansmtp::fuzz::work_budget budget{"fuzz_server_session", 5000};

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const sansmtp::fuzz::input_scope scope(data, size, budget);
  auto in = fuzz::knobbed(data, size);
  if (!in) return 0;
  auto options = options_from(in->knobs);
  const bool proxied = in->stream.starts_with("PROXY") || in->stream.starts_with("\r\n\r\n");
  if (proxied) options.proxy_protocol = proxy_reader_options{};
  const auto whole = test::run_session(in->stream, {}, options);
  const auto cuts = fuzz::random_cuts(in->stream.size(), in->rng, 8, 40);
  const auto split = test::run_session(in->stream, cuts, options);
  FUZZ_CHECK(split.log == whole.log, "events differ:\n" + split.log + "---\n" + whole.log);
  if (!injected(whole)) FUZZ_CHECK(split.output == whole.output, "replies differ");
  for (const auto* r : {&whole, &split})
    FUZZ_CHECK(r->most_buffered <= options.receive_buffer,
               "buffered " + std::to_string(r->most_buffered) + " octets");
  const bool strict = options.data.bare_lf == bare_line_ending::reject && !options.binarymime;
  if (strict)
    for (const auto& m : whole.messages)
      FUZZ_CHECK(!has_bare_line_ending(m), "a message with a bare CR or LF was delivered: " + fuzz::escape(m));
  read_back(whole.output);
  // 7.
  if (proxied && whole.log.rfind("proxy v", 0) != 0)
    FUZZ_CHECK(whole.output.empty(), "output before the PROXY header: " + fuzz::escape(whole.output));

  // 6.
  test::responder app;
  app.interrupt_at = in->stream.size() ? in->rng() % (in->stream.size() + 1) : 0;
  app.interrupt = in->rng() & 1 ? test::responder::interruption::shutdown : test::responder::interruption::timeout;
  const auto cut = test::run_session(in->stream, {}, options, app);
  const auto cut_split =
      test::run_session(in->stream, fuzz::random_cuts(in->stream.size(), in->rng, 8, 40), options, app);
  FUZZ_CHECK(cut.closed, "open after the interruption");
  if (!injected(cut) && !injected(cut_split)) {  // the timing-dependent case again
    FUZZ_CHECK(cut_split.log == cut.log, "interrupted: events differ:\n" + cut_split.log + "---\n" + cut.log);
    FUZZ_CHECK(cut_split.output == cut.output, "interrupted: replies differ");
  }
  test::responder no_handshake;  // the interrupted run never reaches the handshake either
  no_handshake.tls_handshake_succeeds = false;
  const auto prefix = test::run_session(in->stream.substr(0, app.interrupt_at), {}, options, no_handshake, false);
  if (!prefix.closed) {
    const std::string before = prefix.log + "interrupt\n";
    FUZZ_CHECK(cut.log.rfind(before, 0) == 0,
               "events before the interruption differ:\n" + cut.log + "---\n" + prefix.log);
    const auto after = std::string_view(cut.log).substr(before.size());
    FUZZ_CHECK(after.empty() || after == "closed\n" || after == "closed unfinished\n",
               "events after the interruption: " + std::string(after));
    if (proxied && prefix.log.empty())  // still before the PROXY header: no SMTP at all
      FUZZ_CHECK(cut.output.empty(), "interrupted before the PROXY header, yet output was written");
    else
      FUZZ_CHECK(read_back(cut.output) == 421, "interrupted: the last reply is not a 421");
  }
  return 0;
}
