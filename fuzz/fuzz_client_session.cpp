// Fuzz target: the client session (sansmtp::client) reading arbitrary server
// bytes while it runs a scripted submission (tests/client_harness.hpp):
// EHLO, MAIL, two RCPTs, DATA, a body with dot lines and bare line ends,
// QUIT, sent as far as the replies allow.
//
// Input: byte 0 selects options (bit 0 LMTP, 1 STARTTLS first, 2 injected
// bytes discarded instead of rejected, 3 a small reply line limit, 4 bare
// LF allowed in replies, 5 submit() instead of single commands, 6 with
// submit(), BDAT when CHUNKING is offered, 7 with submit(), a streamed
// source that is copied instead of a memory_source sent by reference); byte 1
// seeds the chunking; the rest is what the server sends.
//
// Invariants:
//  1. Never crashes, never leaks, no undefined behaviour.
//  2. Split differential: the same events and the same client output
//     whatever the chunking of the server's bytes; a fatal_error or
//     peer_closed has the same fields and describe() text.
//  3. The client's output is a sequence of command lines the strict parser
//     accepts, a dot-stuffed body after DATA that ends at CRLF.CRLF, and
//     after each BDAT exactly its counted octets: no line the client writes
//     carries a bare CR or LF.
//  4. Delivered means delivered: a recipient is reported delivered only
//     after its message went out whole (CRLF.CRLF after a 354 to DATA, or
//     BDAT LAST) and a 2xx answered the end of the data (issue 22: a 250 to
//     DATA itself was once taken for a delivery).
//  5. Never more replies than were asked for: an extra reply ends the
//     session (fatal unexpected_reply) instead of shifting every pairing
//     after it; outside LMTP, the replies reported are at most the greeting
//     plus one per command line written plus one per end of data.
//  6. Progress: the harness's pull loop ends on every input (run_client
//     bounds the next_event() calls by the bytes in and out; a loop that
//     returns the same event without progress fails there).
#include <sansmtp/syntax/command.hpp>

#include "client_harness.hpp"
#include "fuzz_check.hpp"
#include "work_budget.hpp"

#include <cstdlib>
#include <memory>

using namespace sansmtp;

namespace {

client_options options_from(std::uint8_t bits) {
  auto o = test::options_for();
  o.lmtp = bits & 1;
  if (bits & 4) o.after_starttls = starttls_injection::discard;
  if (bits & 8) o.replies.max_line_length = 32;
  o.replies.allow_bare_lf = bits & 16;
  return o;
}

std::vector<test::step> script(std::uint8_t bits) {
  std::vector<test::step> steps = {test::hello_step()};
  if (bits & 2) steps.push_back(test::command_step("starttls", make_starttls()));
  if (bits & 32) {
    // The transaction level: submit() drives MAIL, RCPTs, DATA and the body.
    static constexpr std::string_view message = "Subject: t\r\n\r\n.dot\n..two\rlast";
    auto stable = std::make_shared<memory_source>(message, 5);
    auto streamed = std::make_shared<test::streamed_source>(message, 5);
    steps.push_back({"submit", [stable, streamed, bits](client& c) {
                       envelope env;
                       env.reverse_path = "alice@example.org";
                       env.recipients = {{"bob@example.net"}, {"carol@example.net"}, {"dave@example.net"}};
                       env.size = 40;
                       env.prefer_bdat = bits & 64;  // BDAT when CHUNKING is offered
                       // Each run (whole, split) reads it from the start; bit 7:
                       // a streamed source (copied) instead of one by reference.
                       stable->rewind();
                       streamed->restart();
                       if (bits & 128) return c.submit(env, *streamed);
                       return c.submit(env, *stable);
                     }});
    steps.push_back(test::command_step("quit", make_quit()));
    return steps;
  }
  steps.push_back(test::command_step("mail", make_mail("alice@example.org")));
  steps.push_back(test::command_step("rcpt1", make_rcpt("bob@example.net")));
  steps.push_back(test::command_step("rcpt2", make_rcpt("carol@example.net")));
  steps.push_back(test::command_step("data", make_data()));
  steps.push_back(test::body_step("Subject: t\r\n\r\n.dot\n..two\rlast"));
  steps.push_back(test::command_step("quit", make_quit()));
  return steps;
}

}  // namespace

// The work budget: at most this many ns of CPU time per input octet, past
// a shared fixed part (fuzz/work_budget.hpp; calibration in fuzz/README.md).
static constexpr sansmtp::fuzz::work_budget budget{"fuzz_client_session", 1000};

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const sansmtp::fuzz::input_scope scope(data, size, budget);
  auto in = fuzz::knobbed(data, size);
  if (!in) return 0;
  const auto options = options_from(in->knobs);
  const auto steps = script(in->knobs);
  const auto whole = test::run_client(in->stream, {}, steps, options);
  const auto cuts = fuzz::random_cuts(in->stream.size(), in->rng, 8, 40);
  const auto split = test::run_client(in->stream, cuts, steps, options);
  FUZZ_CHECK(split.log == whole.log, "events differ:\n" + split.log + "---\n" + whole.log);
  FUZZ_CHECK(split.output == whole.output, "output differs");
  // A fatal_error or peer_closed says the same, in every field and in
  // describe()'s words, however the bytes were cut.
  FUZZ_CHECK(split.failures == whole.failures, "failure events differ:\n" + split.failures + "---\n" + whole.failures);
  // What the client wrote: command lines, and after DATA a body ending at
  // CRLF.CRLF with no bare CR or LF anywhere.
  std::string_view out = whole.output;
  bool in_body = false;
  std::size_t commands = 0, ends = 0;  // command lines written; ends of data (CRLF.CRLF, BDAT LAST)
  while (!out.empty()) {
    const auto lf = out.find('\n');
    FUZZ_CHECK(lf != std::string_view::npos && lf > 0 && out[lf - 1] == '\r', "a line without CRLF");
    const auto line = out.substr(0, lf + 1);
    out.remove_prefix(lf + 1);
    FUZZ_CHECK(line.substr(0, line.size() - 2).find_first_of("\r\n") == std::string_view::npos, "bare CR/LF");
    if (in_body) {
      if (line == ".\r\n") {
        in_body = false;
        ++ends;
      } else if (parse::command_line(line)) {
        ++commands;  // (after a DATA refused, the next commands follow; the script's body has no such line)
      }
      continue;
    }
    const auto c = parse::command_line(line);
    FUZZ_CHECK(c.has_value(), "the client wrote a line the parser refuses: " + fuzz::escape(line));
    if (std::holds_alternative<cmd::data>(*c)) in_body = true;
    if (const auto* b = std::get_if<cmd::bdat>(&*c)) {  // exactly the counted octets follow
      FUZZ_CHECK(out.size() >= b->size, "a BDAT chunk shorter than its count");
      out.remove_prefix(static_cast<std::size_t>(b->size));
      if (b->last) ++ends;
    }
    ++commands;
  }
  // 4: in the log's order, a 2xx to the end of the data needs a 354 to the
  // DATA of its transaction (none when BDAT carried it), and a submission
  // that reports a recipient delivered needs such a 2xx since the last one.
  const std::string_view log = whole.log;
  int data_code = 0;  // the reply to this transaction's DATA; 0: none yet
  bool ended_2xx = false;
  for (std::size_t at = 0; at < log.size();) {
    const auto eol = log.find('\n', at);
    const auto line = log.substr(at, eol - at);
    at = eol == std::string_view::npos ? log.size() : eol + 1;
    if (line.starts_with("reply MAIL FROM ")) data_code = 0;
    if (line.starts_with("reply DATA ")) data_code = std::atoi(std::string(line.substr(11, 3)).c_str());
    if (line.starts_with("reply the end of the message data 2")) {
      FUZZ_CHECK(data_code == 0 || data_code == 354, "a 2xx to the end of data after DATA got " +
                                                         std::to_string(data_code) + ":\n" + whole.log);
      FUZZ_CHECK(ends > 0, "a 2xx to an end of data that was never sent (no CRLF.CRLF, no BDAT LAST)");
      ended_2xx = true;
    }
    if (line.starts_with("submitted")) {
      if (line.find("/2") != std::string_view::npos)
        FUZZ_CHECK(ended_2xx, "delivered without a 2xx to the end of the data:\n" + whole.log);
      ended_2xx = false;
    }
  }
  // 5: replies reported against what asked for them.
  if (!options.lmtp) {
    std::size_t replies = 0;
    for (auto at = log.find("reply "); at != std::string_view::npos; at = log.find("reply ", at + 1)) ++replies;
    FUZZ_CHECK(replies <= 1 + commands + ends, "more replies than commands:\n" + whole.log);
  }
  return 0;
}
