// DATA transparency (RFC 5321 §4.5.2): the streaming dot-unstuffing decoder a
// server runs over the bytes after its 354, and the dot-stuffing encoder a
// client runs over a message. O(1) state, no buffering, no allocation.
//
// The end of data is only ever "<CRLF>.<CRLF>" (or ".<CRLF>" as the very
// first line). Every other spelling that some MTA once took for it ("\n.\n",
// "\n.\r\n", "\r.\r", "\r\n.\r\r\n", NUL variants, ...: the SMTP smuggling
// family, CVE-2023-51764/51765/51766) is message content here, under every
// policy.
//
// Lifetime rule: a piece's `bytes` view points into the input of that call or
// into static storage; it is valid until the input is.
#pragma once

#include <sansmtp/core/errc.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace sansmtp {
// What to do with a CR or LF that is not part of a CRLF pair.
enum class bare_line_ending {
  // Default. The byte is kept as it is, and error() reports bare_lf / bare_cr
  // with its offset: the message must be rejected.
  reject,
  // LENIENCY: write CRLF in its place. It never becomes an end of data here,
  // but accepting it means relaying a message whose line structure other
  // hops read differently; the smuggling CVEs above grew from such leniency.
  normalize,
  // LENIENCY: keep the byte as it is and report nothing. Passes the bare
  // byte on to the next hop, which may treat it as a line end (the smuggling
  // attack itself); use only when the next hop is known to be strict.
  allow,
};

// A place in the stream where the input broke a rule: the house error shape
// (errc.hpp). Offsets count input bytes from the start of the data (the
// first byte after the 354); codes are bare_lf, bare_cr, line_too_long.
using data_error = parse_error;

struct data_decoder_options {
  bare_line_ending bare_lf = bare_line_ending::reject;
  bare_line_ending bare_cr = bare_line_ending::reject;
  // RFC 5321 §4.5.3.1.6: a text line is at most 1000 octets including the
  // CRLF, not counting a dot added for transparency. 0 turns the check off.
  // The limit counts the bytes between CRLFs on the wire; under `normalize`
  // a bare CR or LF ends a line too.
  std::size_t max_line_length = 1000;
};

// What one call to next() produced.
enum class data_status {
  more,         // a piece ended early (a transformation): call again with the rest
  need_data,    // every input byte was consumed: push more
  end_of_data,  // the end-of-data line was consumed; the rest of the input is not data
  // Encoder only: the call was not allowed and nothing was consumed: next()
  // after finish(), or after a `reject` error (error() says which octet).
  // Local misuse is reported, never a silent drop of the caller's bytes.
  refused,
};

struct data_piece {
  std::span<const char> bytes;  // output: a view into the input, or a few static bytes
  std::size_t consumed = 0;     // input bytes this call consumed
  data_status status = data_status::need_data;
};

// Server side: wire bytes after the 354 -> message bytes.
//
//   ```cpp
//   // Feeds one chunk; returns true at the end of data. `input` keeps
//   // what follows the end of data (pipelined commands).
//   bool feed(sansmtp::data_decoder& decoder, std::string_view& input, std::string& message) {
//     for (;;) {
//       const auto piece = decoder.next(input);
//       message.append(piece.bytes.data(), piece.bytes.size());
//       input.remove_prefix(piece.consumed);
//       if (piece.status == sansmtp::data_status::more) continue;
//       return piece.status == sansmtp::data_status::end_of_data;
//     }
//   }
//   ```
//
// After end_of_data, `input` holds exactly the bytes that follow the end of
// data (pipelined commands): they belong to the command reader. Then check
// error(): a message that broke a rule must be refused.
class data_decoder {
 public:
  explicit data_decoder(const data_decoder_options& options = {}) noexcept : options_(options) {}

  // One string_view overload only: spans and strings both convert to it.
  data_piece next(std::string_view input) noexcept;

  bool complete() const noexcept { return state_ == state::done; }
  // After end_of_data, next() consumes nothing and says end_of_data again.
  // The first rule the input broke, if any; decoding still went on to the end.
  const std::optional<data_error>& error() const noexcept { return error_; }
  std::uint64_t consumed() const noexcept { return offset_; }  // input bytes so far
  std::uint64_t size() const noexcept { return size_; }        // output bytes so far

  // Ready for the next message, same options.
  void reset() noexcept { *this = data_decoder(options_); }

 private:
  enum class state : std::uint8_t {
    line_start,  // at the first byte of a CRLF-delimited line
    dot,         // the line began with "."; the dot is held back
    dot_cr,      // the line began with ".\r"; end of data if "\n" follows
    text,        // inside a line
    cr,          // inside a line, just after a "\r" (already written)
    done,        // the end of data was consumed
  };

  data_piece scan(const char* begin, const char* end) noexcept;
  const char* skip_plain_blocks(const char* p, const char* end, std::uint64_t at) noexcept;
  void fail(errc code, std::uint64_t offset) noexcept;

  data_decoder_options options_;
  state state_ = state::line_start;
  std::string_view pending_;      // static bytes owed before more input is read
  std::uint64_t offset_ = 0;      // stream offset of the next input byte
  std::uint64_t line_start_ = 0;  // stream offset where the current line's count starts
  std::uint64_t size_ = 0;
  std::optional<data_error> error_;
};

// What the encoder does with a bare CR or LF in the message. There is no
// `allow`: sending a bare line ending is what smuggles.
enum class bare_line_encoding {
  // Default. Send CRLF in its place (RFC 5321 §2.3.8: clients "MUST NOT
  // transmit these characters except when they are intended as line
  // terminators").
  normalize,
  // Stop at the first one and report it with its offset.
  reject,
};

struct data_encoder_options {
  bare_line_encoding bare_lf = bare_line_encoding::normalize;
  bare_line_encoding bare_cr = bare_line_encoding::normalize;
};

// Client side: message bytes -> wire bytes, dot-stuffed, ending in CRLF.CRLF.
//
//   ```cpp
//   // Encodes the message given in any number of chunks; false when a bare
//   // CR/LF was refused (encoder.error() says where).
//   bool encode(sansmtp::data_encoder& encoder, std::span<const std::string_view> chunks,
//               std::string& wire) {
//     for (std::string_view chunk : chunks) {
//       for (;;) {
//         const auto piece = encoder.next(chunk);
//         wire.append(piece.bytes.data(), piece.bytes.size());
//         chunk.remove_prefix(piece.consumed);
//         if (piece.status != sansmtp::data_status::more) break;
//       }
//       if (encoder.error()) return false;
//     }
//     const auto tail = encoder.finish();  // "\r\n.\r\n" or ".\r\n": the end of data
//     wire.append(tail.data(), tail.size());
//     return true;
//   }
//   ```
//
// The pieces can go to writev() as they are instead of being appended.
class data_encoder {
 public:
  explicit data_encoder(const data_encoder_options& options = {}) noexcept : options_(options) {}

  // After finish(), or after a `reject` error, returns data_status::refused
  // and consumes nothing.
  data_piece next(std::string_view message) noexcept;
  // The bytes that end the data: a CRLF when the message did not end with
  // one (or the LF a trailing CR still needs), then ".\r\n". Empty after an
  // error under `reject`, and on a second call.
  std::span<const char> finish() noexcept;

  const std::optional<data_error>& error() const noexcept { return error_; }
  std::uint64_t consumed() const noexcept { return offset_; }
  void reset() noexcept { *this = data_encoder(options_); }

 private:
  enum class state : std::uint8_t { line_start, text, cr, failed, finished };

  data_encoder_options options_;
  state state_ = state::line_start;
  std::string_view pending_;
  std::uint64_t offset_ = 0;
  std::optional<data_error> error_;
};

// Client side for BDAT (RFC 3030): message bytes -> wire bytes with CRLF
// line endings and no dot-stuffing (the count frames the data). The same
// rule as data_encoder for CR and LF (RFC 5321 §2.3.8: a client "MUST NOT
// transmit these characters except when they are intended as line
// terminators"), so a message arrives the same whichever way it went: each
// bare CR or LF becomes CRLF (or is refused, as the options say), and a
// final CRLF is added. BINARYMIME bodies go as they are, without this.
// client::submit() uses it; so can a caller of client::send_chunk().
class crlf_encoder {
 public:
  explicit crlf_encoder(const data_encoder_options& options = {}) noexcept : options_(options) {}

  // True when `piece` can go exactly as it is (every CR in it followed by
  // an LF and every LF preceded by a CR, inside the piece, and no CR held
  // over from the piece before); the piece is then consumed. False: call
  // normalize() with it instead.
  bool take_clean(std::string_view piece) noexcept;
  // Appends `piece` to `out` with bare CRs and LFs written as CRLF; a CR at
  // its end is held over (its LF may start the next piece). The error names
  // the first bare CR or LF the options refuse, with its message offset;
  // `out` then holds what came before it.
  [[nodiscard]] std::optional<data_error> normalize(std::string_view piece, std::string& out);
  // What the message still needs at its end: a CRLF after an unterminated
  // last line (or for the LF a final CR still needs, as data_encoder::finish()
  // does); empty for an empty message or one that ended with CRLF.
  std::string_view finish() noexcept;
  std::uint64_t consumed() const noexcept { return offset_; }

 private:
  data_encoder_options options_;
  bool cr_ = false;    // the last octet seen was a CR, not yet written
  bool open_ = false;  // octets were written since the last CRLF
  std::uint64_t offset_ = 0;
};

}  // namespace sansmtp
