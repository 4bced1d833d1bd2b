// fuzz_reply_stream: the reply reader and writer (include/sansmtp/codec/reply_reader.hpp, syntax/reply.hpp).
//
// Input: byte 0 picks the options, byte 1 seeds the chunking, the rest is the
// stream. Invariants:
//  1. Split differential: whole, byte by byte and seeded random chunks give
//     the same replies (code, ESC, lines, offsets) and the same error at the
//     same offset.
//  2. Replies tile the stream: each starts where the previous ended; without
//     an error they cover all of it; an error lies at or after their end.
//  3. Every accepted reply obeys the limits and the grammar: a valid code,
//     at most max_lines lines, an ESC only of the code's class.
//  4. Round trip: write_reply(code, lines) of an accepted reply reads back as
//     the same code, ESC and lines, in no more octets than the original.
//  5. The reader agrees with the Ragel reply-line machine (grammar/reply.rl)
//     when its text is ASCII: every line before the first error is one the
//     machine accepts, and a line-grammar error (bad code, separator,
//     control, bare CR, non-ASCII) is the one the machine names, at the same
//     offset.
//  6. Every line's enhanced status code: parse::enhanced_status_at finds one
//     exactly when the Ragel machine does (and its class is the reply's),
//     with the same length.
#include "fuzz_check.hpp"
#include "work_budget.hpp"

// Test support shared with the Catch2 tests: drives the reader over chunks.
#include "../tests/reply_helpers.hpp"

#include <sansmtp/codec/reply_reader.hpp>
#include <sansmtp/syntax/reply.hpp>

#include "reply_scan.hpp"

#include <random>
#include <string>
#include <vector>

namespace {

using namespace sansmtp;
using sansmtp::test::read_result;

std::string show(const read_result& r) {
  std::string s = std::to_string(r.replies.size()) + " replies";
  for (const auto& rep : r.replies) {
    s += " [" + std::to_string(rep.code) + "@" + std::to_string(rep.offset) + "+" + std::to_string(rep.size);
    for (const auto& l : rep.lines) s.append(" \"").append(fuzz::escape(l)).append("\"");
    s += "]";
  }
  s += " error=";
  s += r.error ? std::string(errc_name(r.error->code)) + "@" + std::to_string(r.error->offset) : "none";
  return s;
}

}  // namespace

// The work budget: at most this many ns of CPU time per input octet, past
// a shared fixed part (fuzz/work_budget.hpp; calibration in fuzz/README.md).
static constexpr sansmtp::fuzz::work_budget budget{"fuzz_reply_stream", 1000};

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const sansmtp::fuzz::input_scope scope(data, size, budget);
  auto input = fuzz::knobbed(data, size);
  if (!input) return 0;
  auto& [knobs, rng, in] = *input;

  constexpr std::size_t line_limits[] = {512, 16, 64, 6};
  reply_reader_options o;
  o.allow_bare_lf = knobs & 1;
  o.allow_utf8 = knobs & 2;
  o.allow_mismatched_codes = knobs & 4;
  o.max_line_length = line_limits[(knobs >> 3) & 3];
  o.max_lines = (knobs & 32) ? 3 : 128;

  // 1. Split differential.
  const auto whole = test::read_chunks(in, {}, o);
  const auto bytewise = test::read_chunks(in, test::every_byte(in.size()), o);
  FUZZ_CHECK(bytewise == whole, "whole " + show(whole) + " vs byte-by-byte " + show(bytewise));
  const auto chunked = test::read_chunks(in, fuzz::random_cuts(in.size(), rng, 40, 70), o);
  FUZZ_CHECK(chunked == whole, "whole " + show(whole) + " vs chunked " + show(chunked));

  // 2. Replies tile the stream.
  std::uint64_t at = 0;
  for (const auto& r : whole.replies) {
    FUZZ_CHECK(r.offset == at, "a gap before a reply: " + show(whole));
    at += r.size;
  }
  if (whole.error)
    FUZZ_CHECK(whole.error->offset >= at && whole.error->offset <= in.size(), "error offset: " + show(whole));
  else
    FUZZ_CHECK(at == in.size(), "accepted stream not covered: " + show(whole));

  // 5. The machine as the reference for the line grammar (ASCII text).
  if (!o.allow_utf8) {
    const std::uint64_t stop = whole.error ? whole.error->offset : in.size();
    for (std::size_t start = 0; start < in.size();) {
      const auto lf = in.find('\n', start);
      if (lf == std::string_view::npos) break;  // an unfinished line: the reader waits for it
      std::size_t content_end = lf;
      if (content_end > start && in[content_end - 1] == '\r') --content_end;
      const auto content = in.substr(start, content_end - start);
      const auto fault = detail::reply_line_fault_of(content);
      if (lf < stop) {
        FUZZ_CHECK(!fault, "the machine refuses a line the reader took: \"" + fuzz::escape(content) + "\" (" +
                               std::string(fault ? errc_name(fault->code) : "") + ") " + show(whole));
      } else {
        const auto e = whole.error;
        const bool line_rule = e && e->offset >= start && e->offset <= content_end &&
                               (e->code == errc::bad_reply_code || e->code == errc::bad_reply_separator ||
                                e->code == errc::control_character || e->code == errc::bare_cr ||
                                e->code == errc::non_ascii);
        if (line_rule) {
          FUZZ_CHECK(fault && fault->code == e->code && start + fault->at == e->offset,
                     "the machine says " + std::string(fault ? errc_name(fault->code) : "ok") + "@" +
                         std::to_string(fault ? start + fault->at : 0) + ", the reader " + show(whole));
        }
        break;
      }
      start = lf + 1;
    }
  }

  for (const auto& r : whole.replies) {
    // 6. The enhanced status code against the machine.
    for (const auto& l : r.lines) {
      const auto hand = parse::enhanced_status_at(l, r.code);
      const auto machine = detail::scan_enhanced_status(l);
      const bool class_ok = !l.empty() && l[0] - '0' == r.code / 100;
      FUZZ_CHECK(hand.has_value() == (machine.has_value() && class_ok) && (!hand || hand->length == *machine),
                 "enhanced status of \"" + fuzz::escape(l) + "\": parser " +
                     (hand ? std::to_string(hand->length) : "none") + ", machine " +
                     (machine ? std::to_string(*machine) : "none"));
    }
    // 3. Limits and grammar.
    FUZZ_CHECK(valid_reply_code(r.code), "bad code accepted: " + show(whole));
    FUZZ_CHECK(!r.lines.empty() && r.lines.size() <= o.max_lines, "line count: " + show(whole));
    for (const auto& l : r.lines)
      FUZZ_CHECK(l.size() + 6 <= o.max_line_length + 1, "long line: " + show(whole));
    if (r.enhanced) FUZZ_CHECK(r.enhanced->status_class == r.code / 100, "ESC class: " + show(whole));

    // 4. Round trip through the writer.
    std::vector<std::string_view> lines(r.lines.begin(), r.lines.end());
    reply_writer_options wo;
    wo.max_line_length = o.max_line_length + 1;  // a bare LF line is one octet shorter than with CRLF
    wo.max_lines = o.max_lines;
    wo.allow_utf8 = o.allow_utf8;
    std::string wire;
    const auto ec = write_reply(wire, r.code, std::nullopt, lines, wo);
    FUZZ_CHECK(!ec, "write_reply refused an accepted reply: " + ec.message() + " " + show(whole));
    FUZZ_CHECK(wire.size() <= r.size + r.lines.size(), "written reply grew: \"" + fuzz::escape(wire) + "\"");
    reply_reader_options ro = o;
    ro.max_line_length = wo.max_line_length;
    const auto back = test::read_chunks(wire, fuzz::random_cuts(wire.size(), rng, 40, 70), ro);
    FUZZ_CHECK(!back.error && back.replies.size() == 1, "rereading: " + show(back));
    const auto& b = back.replies[0];
    FUZZ_CHECK(b.code == r.code && b.enhanced == r.enhanced && b.lines == r.lines,
               "round trip changed the reply: " + show(back) + " wire \"" + fuzz::escape(wire) + "\"");
  }
  return 0;
}
