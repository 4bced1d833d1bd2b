// fuzz_data_codec: the DATA decoder and encoder (include/sansmtp/codec/data.hpp).
//
// Input: byte 0 picks the options, byte 1 seeds the chunking, the rest is the
// stream. Invariants:
//  1. Split differential: whole, byte by byte and seeded random chunks give
//     the same output, completion, consumed count and error.
//  2. The end of data is exactly where an independent model puts it: the first
//     CRLF-delimited line (counted from the start) that is a lone ".". So it is
//     never anywhere but at a "<CRLF>.<CRLF>" (or ".<CRLF>" first).
//  3. Under allow and reject the output is the model's: every line before the
//     end, one leading dot removed, bytes unchanged; reject's error is the
//     model's earliest bare CR, bare LF or over-long line.
//  4. Round trip: decode(encode(stream)) is the stream with bare CR and LF
//     turned into CRLF and a final CRLF added, with no error.
#include "fuzz_check.hpp"
#include "work_budget.hpp"

// Test support shared with the Catch2 tests: drives a codec over chunks.
#include "../tests/data_helpers.hpp"

#include <sansmtp/codec/data.hpp>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

namespace {

using namespace sansmtp;
using sansmtp::test::decoded;

std::string show(const decoded& d) {
  return "complete=" + std::to_string(d.complete) + " consumed=" + std::to_string(d.consumed) + " out=\"" +
         fuzz::escape(d.output) + "\" error=" +
         (d.error ? std::string(errc_name(d.error->code)) + "@" + std::to_string(d.error->offset) : "none");
}

// The model: RFC 5321 §4.5.2 read literally over CRLF-delimited lines.
// `bare_errors`: whether bare CR and LF are reported (reject) or not (allow).
decoded model(std::string_view in, bool bare_errors, std::size_t max_line) {
  decoded r;
  std::size_t start = 0;
  const auto note = [&](errc code, std::uint64_t at) {
    if (code != errc::line_too_long && !bare_errors) return;
    if (!r.error || at < r.error->offset || (at == r.error->offset && code < r.error->code))
      r.error = data_error{code, at};
  };
  while (true) {
    const auto crlf = in.find("\r\n", start);
    const auto line =
        in.substr(start, crlf == std::string_view::npos ? std::string_view::npos : crlf - start);
    if (crlf != std::string_view::npos && line == ".") {
      r.complete = true;
      r.consumed = crlf + 2;
      r.trailing = std::string(in.substr(crlf + 2));
      break;
    }
    const bool stuffed = !line.empty() && line.front() == '.';
    // A "." or ".\r" still unresolved at the end of the input stays held back.
    const bool held = crlf == std::string_view::npos && (line == "." || line == ".\r");
    if (!held) r.output += line.substr(stuffed ? 1 : 0);
    for (std::size_t i = 0; i < line.size(); ++i) {
      if (line[i] == '\n') note(errc::bare_lf, start + i);
      // A CR at the very end of unterminated input may yet meet its LF.
      if (line[i] == '\r' && !(crlf == std::string_view::npos && i + 1 == line.size()))
        note(errc::bare_cr, start + i);
    }
    const std::size_t counted_from = start + (stuffed ? 1 : 0);
    const std::size_t octets = line.size() - (stuffed ? 1 : 0) + (crlf == std::string_view::npos ? 0 : 2);
    if (max_line != 0 && octets > max_line) note(errc::line_too_long, counted_from + max_line);
    if (crlf == std::string_view::npos) {
      r.consumed = in.size();
      break;
    }
    r.output += "\r\n";
    start = crlf + 2;
  }
  return r;
}

}  // namespace

// The work budget: at most this many ns of CPU time per input octet, past
// a shared fixed part (fuzz/work_budget.hpp; calibration in fuzz/README.md).
static constexpr sansmtp::fuzz::work_budget budget{"fuzz_data_codec", 15000};

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const sansmtp::fuzz::input_scope scope(data, size, budget);
  auto input = fuzz::knobbed(data, size);
  if (!input) return 0;
  auto& [knobs, rng, in] = *input;

  constexpr bare_line_ending policies[] = {bare_line_ending::reject, bare_line_ending::normalize,
                                           bare_line_ending::allow};
  constexpr std::size_t limits[] = {1000, 0, 3, 64};
  data_decoder_options options;
  options.bare_lf = policies[knobs % 3];
  options.bare_cr = policies[(knobs / 3) % 3];
  options.max_line_length = limits[(knobs / 9) % 4];

  // 1. Split differential.
  const auto whole = test::decode_whole(in, options);
  const auto bytewise = test::decode_bytewise(in, options);
  FUZZ_CHECK(bytewise == whole, "whole " + show(whole) + " vs byte-by-byte " + show(bytewise));
  const auto chunked = test::decode_chunks(in, fuzz::random_cuts(in.size(), rng, 80, 130), options);
  FUZZ_CHECK(chunked == whole, "whole " + show(whole) + " vs chunked " + show(chunked));

  // 2. The end of data is where the model says, and only at CRLF.CRLF.
  const bool strict =
      options.bare_lf != bare_line_ending::normalize && options.bare_cr != bare_line_ending::normalize;
  const auto expected = model(in, true, options.max_line_length);
  FUZZ_CHECK(whole.complete == expected.complete && whole.consumed == expected.consumed,
             "decoder " + show(whole) + " vs model " + show(expected));
  if (whole.complete) {
    const auto end = in.substr(0, whole.consumed);
    FUZZ_CHECK(end == ".\r\n" || end.ends_with("\r\n.\r\n"), "end of data not at CRLF.CRLF");
  }

  // 3. Bytes and errors, where no normalisation applies.
  if (strict) {
    FUZZ_CHECK(whole.output == expected.output, "decoder " + show(whole) + " vs model " + show(expected));
    const bool lf_reported = options.bare_lf == bare_line_ending::reject;
    const bool cr_reported = options.bare_cr == bare_line_ending::reject;
    if (lf_reported == cr_reported) {
      const auto errors = lf_reported ? expected : model(in, false, options.max_line_length);
      FUZZ_CHECK(whole.error == errors.error, "decoder " + show(whole) + " vs model " + show(errors));
    }
  }

  // 4. Encoder -> decoder round trip (chunked both ways).
  const auto wire = test::encode_chunks(in, fuzz::random_cuts(in.size(), rng, 80, 130));
  FUZZ_CHECK(!wire.error, "the normalising encoder reported an error");
  data_decoder_options plain;
  plain.max_line_length = 0;
  const auto back = test::decode_chunks(wire.wire, fuzz::random_cuts(wire.wire.size(), rng, 80, 130), plain);
  FUZZ_CHECK(back.complete && back.consumed == wire.wire.size() && !back.error,
             "decoding the encoder's output: " + show(back) + " wire \"" + fuzz::escape(wire.wire) + "\"");
  FUZZ_CHECK(back.output == test::normalized_line_endings(in),
             "round trip changed the message: " + show(back));
  return 0;
}
