// The streaming reply reader a client runs over what the server sends
// (RFC 5321 §4.2): bytes in, complete replies out, with any chunking.
//
// Lifetime rule (reply_reader): every view in the reply returned by current()
// is valid until the next non-const call on the reader (next(), finish(),
// reset(), moving it). Copy what you keep.
#pragma once

#include <sansmtp/core/errc.hpp>
#include <sansmtp/syntax/reply.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sansmtp {

// Where the stream broke a rule; sticky. The house error shape (errc.hpp):
// `offset` counts stream octets from the first one given to the reader; it is
// the first octet that could not be accepted (the stream length for
// `incomplete`).
using reply_error = parse_error;

struct reply_reader_options {
  // RFC 5321 §4.5.3.1.5: a reply line is at most 512 octets including the
  // code and the CRLF. A line of max_line_length octets is accepted, one more
  // is reply_line_too_long at the first octet past the limit. This is also
  // the most the reader buffers for a line that has not ended yet. 0 = no
  // limit (as for every limit in this library; memory then grows with the
  // longest line the peer sends).
  std::size_t max_line_length = 512;
  // Lines in one reply. RFC 5321 sets no number; real multiline replies are
  // short (EHLO lists of 10-30 keywords, HELP texts of a few dozen lines), so
  // 128 leaves room for four times the longest while bounding what one reply
  // can make the reader store: max_lines * max_line_length (64 KiB).
  // 0 = no limit.
  std::size_t max_lines = 128;
  // LENIENCY: a LF without CR ends a line. Reply smuggling: peers that
  // require CRLF and peers that do not then see different line (and reply)
  // boundaries in the same bytes, so a proxy or an injected "\n250 ..." can
  // desynchronise a pipelined client from the server (RFC 5321 §2.3.8 allows
  // only CRLF).
  bool allow_bare_lf = false;
  // LENIENCY: UTF-8 in reply text (sent by some RFC 6531 SMTPUTF8 servers,
  // though §4.2 allows only ASCII). The text is validated as UTF-8 then
  // (bad_utf8), and control code points in it are refused as the ASCII ones
  // are (control_character, at the first octet of the code point): the C1
  // controls U+0080-U+009F (U+009B is CSI, a terminal escape) and the
  // bidirectional formatting characters U+061C, U+200E, U+200F,
  // U+202A-U+202E and U+2066-U+2069, which reorder what a screen shows (the
  // "Trojan Source" class, CVE-2021-42574). What it re-enables: the text
  // still reaches logs and screens, and look-alike characters can make a
  // reply read differently to a human than to the program.
  bool allow_utf8 = false;
  // LENIENCY: lines of one multiline reply may carry different codes; the
  // reply's code is the last line's (the line that ends it, §4.2.1). This
  // glues lines of different replies together: an injected or stray line can
  // change the code a client acts on, and two readers that pick different
  // lines disagree about success.
  bool allow_mismatched_codes = false;
};

enum class reply_status : std::uint8_t {
  reply,      // current() holds a complete reply
  need_data,  // every input octet was consumed: push more
  error,      // error() says what and where; nothing more is read
};

struct reply_step {
  reply_status status = reply_status::need_data;
  std::size_t consumed = 0;  // input octets this call consumed
};

// Client side: server bytes in, complete replies out, with any chunking.
//
//   ```cpp
//   // Feeds one chunk from the network; the codes of the replies it
//   // completed go to `codes`. False once the stream broke a rule.
//   bool feed(sansmtp::reply_reader& reader, std::string_view input, std::vector<int>& codes) {
//     for (;;) {
//       const auto step = reader.next(input);
//       input.remove_prefix(step.consumed);
//       if (step.status == sansmtp::reply_status::reply) {
//         codes.push_back(reader.current().code);  // views valid until the next call
//         continue;
//       }
//       return step.status == sansmtp::reply_status::need_data;  // error: reader.error()
//     }
//   }
//   // At the end of the stream: a stream that ends inside a reply is an error.
//   bool end(sansmtp::reply_reader& reader) { return !reader.finish(); }
//   ```
//
// Memory: a line cut by a chunk boundary is copied (at most max_line_length
// octets); the lines of a reply still incomplete when a call returns are
// copied (at most max_lines lines). Lines that arrive whole with the rest of
// their reply are handed out as views into the input, without a copy.
class reply_reader {
 public:
  explicit reply_reader(const reply_reader_options& options = {}) : options_(options) {}
  // current() points into the reader: a copy would point into the original.
  reply_reader(const reply_reader&) = delete;
  reply_reader& operator=(const reply_reader&) = delete;
  // A move takes the whole state (a reply handed out stays readable through
  // the new owner's current()); the moved-from reader is left empty, as if
  // just constructed with the same options, and may be used again.
  reply_reader(reply_reader&& other) noexcept : options_(other.options_) { take(other); }
  reply_reader& operator=(reply_reader&& other) noexcept {
    if (this != &other) {
      options_ = other.options_;
      take(other);
    }
    return *this;
  }

  reply_step next(std::string_view input);
  // The end of the stream. A stream that ends inside a reply is `incomplete`
  // (or the earlier rule the unfinished line already broke).
  [[nodiscard]] const std::optional<reply_error>& finish();

  // After next() returned reply_status::reply, until the next non-const call.
  const reply& current() const noexcept { return reply_; }
  const std::optional<reply_error>& error() const noexcept { return error_; }
  std::uint64_t consumed() const noexcept { return offset_; }  // stream octets so far
  // Whether octets of an unfinished reply are held.
  bool in_reply() const noexcept { return !partial_.empty() || (!reply_ready_ && !views_.empty()); }

  // Ready for a new stream, same options.
  void reset() noexcept;

 private:
  enum class line_result : std::uint8_t { more, reply_done, failed, not_plain };

  [[gnu::always_inline]] line_result plain_lines(const char*& p, const char* end, std::size_t max);
  line_result take_line(const char* line, std::size_t size, std::uint64_t at, bool from_partial,
                        bool plain_known);
  [[nodiscard]] std::optional<reply_error> check_line(const char* line, std::size_t size, std::uint64_t at,
                                        bool finished) const noexcept;
  void fail_unterminated(const char* line, std::size_t size, std::uint64_t at);
  void stash_lines();
  void complete_reply(int code, std::uint64_t end);
  void forget_reply();
  void fail(errc code, std::uint64_t offset) { error_ = reply_error{code, offset}; }
  void take(reply_reader& other) noexcept;

  reply_reader_options options_;
  reply reply_;
  bool reply_ready_ = false;       // reply_ is handed out; forget it on the next call
  std::uint64_t offset_ = 0;       // stream offset of the next input octet
  std::uint64_t line_start_ = 0;   // stream offset of the line in partial_
  std::uint64_t reply_start_ = 0;  // stream offset of the reply being read
  char code_[3] = {};              // the code of the reply being read
  std::string partial_;            // a line cut by a chunk boundary
  // The lines of the reply being read: views_[0, stored_) were copied into
  // storage_ (at stored_at_) and are re-pointed when the reply completes,
  // since storage_ may move as it grows; the rest point into the input.
  std::string storage_;
  std::vector<std::string_view> views_;
  std::vector<std::size_t> stored_at_;
  std::size_t stored_ = 0;
  std::optional<reply_error> error_;
};

}  // namespace sansmtp
