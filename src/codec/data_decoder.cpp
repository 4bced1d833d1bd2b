// The DATA decoder: dot-unstuffing and end-of-data detection (RFC 5321
// §4.5.2, §4.1.1.4) over any chunking, with bare CR/LF policy and the text
// line limit. Plain 64-byte blocks are skipped whole (line_masks.hpp); the
// byte loop below handles everything else and is the reference behaviour.
#include <sansmtp/codec/data.hpp>

#include "line_masks.hpp"

#include <algorithm>
#include <bit>

namespace sansmtp {

using detail::block_size;

void data_decoder::fail(errc code, std::uint64_t offset) noexcept {
  // Keep the earliest rule break, whichever path noticed it first; at one
  // offset a bare CR or LF outranks the line limit (enum order).
  if (!error_ || offset < error_->offset || (offset == error_->offset && code < error_->code))
    error_ = data_error{code, offset};
}

// Skips whole plain blocks (see line_masks.hpp) from p, keeping the state and
// the line count in registers; returns where the byte loop must take over.
const char* data_decoder::skip_plain_blocks(const char* p, const char* end, std::uint64_t at) noexcept {
  const std::size_t max = options_.max_line_length;
  auto entry = detail::entry_of(state_);
  std::uint64_t line_start = line_start_;
  bool too_long = false;
  const char* const start = p;
  p = detail::skip_plain(p, end, entry, [&](const detail::line_masks& m, const char* block) {
    const std::uint64_t block_at = at + static_cast<std::uint64_t>(block - start);
    if (max != 0 && !too_long) {
      const std::uint64_t first_lf =
          m.lf ? block_at + static_cast<unsigned>(std::countr_zero(m.lf)) : block_at + block_size - 1;
      if (first_lf >= line_start + max) {
        fail(errc::line_too_long, line_start + max);
        too_long = true;  // the earliest one is what counts; stop looking
      }
    }
    if (m.lf) line_start = block_at + block_size - static_cast<unsigned>(std::countl_zero(m.lf));
  });
  line_start_ = line_start;
  state_ = detail::state_of<state>(entry);
  return p;
}

data_piece data_decoder::next(std::string_view input) noexcept {
  if (state_ == state::done) return {{}, 0, data_status::end_of_data};
  if (!pending_.empty()) {
    const auto owed = pending_;
    pending_ = {};
    size_ += owed.size();
    return {{owed.data(), owed.size()}, 0, input.empty() ? data_status::need_data : data_status::more};
  }
  return scan(input.data(), input.data() + input.size());
}

data_piece data_decoder::scan(const char* const begin, const char* const end) noexcept {
  const char* p = begin;
  const char* piece = begin;  // start of the output piece being built
  const std::size_t max = options_.max_line_length;
  // Block skipping needs lines of 64+ octets to be legal, so that only the
  // first line end in a block can break the limit.
  const bool skip_blocks = max == 0 || max >= block_size;
  const auto at = [&](const char* q) { return offset_ + static_cast<std::uint64_t>(q - begin); };
  const auto give = [&](const char* from, const char* to, const char* consumed_to, data_status status) {
    const auto n = static_cast<std::size_t>(to - from);
    offset_ = at(consumed_to);
    size_ += n;
    return data_piece{{from, n}, static_cast<std::size_t>(consumed_to - begin), status};
  };
  const auto give_static = [&](std::string_view bytes, const char* consumed_to) {
    offset_ = at(consumed_to);
    size_ += bytes.size();
    return data_piece{
        {bytes.data(), bytes.size()}, static_cast<std::size_t>(consumed_to - begin), data_status::more};
  };
  // Every octet of a line at or past line_start_ + max breaks the limit.
  const auto count = [&](const char* q) {
    if (max != 0 && at(q) >= line_start_ + max) fail(errc::line_too_long, line_start_ + max);
  };

  while (p < end) {
    if (skip_blocks && (state_ == state::text || state_ == state::line_start || state_ == state::cr))
      p = skip_plain_blocks(p, end, at(p));
    const char* const stop = std::min(end, p + block_size);
    while (p < stop) {
      const char c = *p;
      switch (state_) {
        case state::line_start:
          if (c == '.') {
            if (end - p >= 3 && p[1] == '\r' && p[2] == '\n') {  // the end, seen whole: one piece
              state_ = state::done;
              return give(piece, p, p + 3, data_status::end_of_data);
            }
            state_ = state::dot;
            ++p;
            if (p - 1 > piece) return give(piece, p - 1, p, data_status::more);
            piece = p;
            continue;
          }
          [[fallthrough]];
        case state::text:
          state_ = state::text;
          if (c != '\r' && c != '\n') {  // a run of plain text: counted once, at its last byte
            const char* q = p + 1;
            while (q < stop && *q != '\r' && *q != '\n') ++q;
            count(q - 1);
            p = q;
            continue;
          }
          count(p);
          if (c == '\r') {
            state_ = state::cr;
          } else if (c == '\n') {
            if (options_.bare_lf == bare_line_ending::reject) fail(errc::bare_lf, at(p));
            if (options_.bare_lf == bare_line_ending::normalize) {
              line_start_ = at(p) + 1;
              pending_ = "\r\n";
              return give(piece, p, p + 1, data_status::more);
            }
          }
          ++p;
          continue;
        case state::cr:
          if (c == '\n') {
            count(p);
            line_start_ = at(p) + 1;
            state_ = state::line_start;
            ++p;
            continue;
          }
          // The CR before `c` (already written) is bare; `c` is read again as text.
          state_ = state::text;
          if (options_.bare_cr == bare_line_ending::reject) fail(errc::bare_cr, at(p) - 1);
          if (options_.bare_cr == bare_line_ending::normalize) {
            line_start_ = at(p);
            pending_ = "\n";
            return give(piece, p, p, data_status::more);
          }
          continue;
        case state::dot:
          if (c == '\r') {
            state_ = state::dot_cr;
            piece = ++p;  // the CR is held back with the dot
            continue;
          }
          // "." + more text: the dot was added for transparency (§4.5.2).
          line_start_ = at(p);
          state_ = state::text;
          continue;
        case state::dot_cr: {
          if (c == '\n') {
            state_ = state::done;
            return give(p, p, p + 1, data_status::end_of_data);
          }
          // ".\r" + more: the dot goes, and the held-back CR is a bare CR.
          line_start_ = at(p) - 1;
          state_ = state::text;
          std::string_view cr = "\r";
          if (options_.bare_cr == bare_line_ending::reject) fail(errc::bare_cr, at(p) - 1);
          if (options_.bare_cr == bare_line_ending::normalize) {
            line_start_ = at(p);
            cr = "\r\n";
          }
          return give_static(cr, p);
        }
        case state::done:
          return give(piece, p, p, data_status::end_of_data);
      }
    }
  }
  // A held-back "." or ".\r" is not in the piece: piece already points past it.
  return give(piece, end, end, data_status::need_data);
}

}  // namespace sansmtp
