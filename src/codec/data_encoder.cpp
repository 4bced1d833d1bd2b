// The DATA encoder: bare CR/LF normalised to CRLF (or refused), a dot added
// to every line that starts with one, and the end of data (RFC 5321 §4.5.2,
// §2.3.8). Plain 64-byte blocks pass through whole as views of the input.
#include <sansmtp/codec/data.hpp>

#include "line_masks.hpp"

#include <algorithm>

namespace sansmtp {

using detail::block_size;

data_piece data_encoder::next(std::string_view message) noexcept {
  if (state_ == state::failed || state_ == state::finished) return {{}, 0, data_status::refused};
  if (!pending_.empty()) {
    const auto owed = pending_;
    pending_ = {};
    return {{owed.data(), owed.size()}, 0, message.empty() ? data_status::need_data : data_status::more};
  }
  const char* const begin = message.data();
  const char* const end = begin + message.size();
  const char* p = begin;
  const char* piece = begin;
  const auto give = [&](const char* to, const char* consumed_to, data_status status) {
    offset_ += static_cast<std::uint64_t>(consumed_to - begin);
    return data_piece{
        {piece, static_cast<std::size_t>(to - piece)}, static_cast<std::size_t>(consumed_to - begin), status};
  };
  // Writes the piece so far, then `insert` before the byte at p.
  const auto insert = [&](std::string_view bytes) {
    if (p == piece) {
      offset_ += static_cast<std::uint64_t>(p - begin);
      return data_piece{{bytes.data(), bytes.size()}, static_cast<std::size_t>(p - begin), data_status::more};
    }
    pending_ = bytes;
    return give(p, p, data_status::more);
  };
  // Stops for good; `back` is 1 when the culprit is the CR before p (which
  // may have gone out in an earlier piece).
  const auto refuse = [&](errc code, std::uint64_t back) {
    error_ = data_error{code, offset_ + static_cast<std::uint64_t>(p - begin) - back};
    state_ = state::failed;
    return give(p, p, data_status::need_data);
  };

  while (p < end) {
    if (state_ == state::text || state_ == state::line_start || state_ == state::cr) {
      auto entry = detail::entry_of(state_);
      p = detail::skip_plain(p, end, entry, [](const detail::line_masks&, const char*) {});
      state_ = detail::state_of<state>(entry);
    }
    const char* const stop = std::min(end, p + block_size);
    while (p < stop) {
      const char c = *p;
      switch (state_) {
        case state::line_start:
          if (c == '.') {
            state_ = state::text;  // the dot itself is sent after the added one
            return insert(".");
          }
          [[fallthrough]];
        case state::text:
          if (c == '\n') {
            if (options_.bare_lf == bare_line_encoding::reject) return refuse(errc::bare_lf, 0);
            state_ = state::cr;  // the LF now ends a CRLF
            return insert("\r");
          }
          state_ = c == '\r' ? state::cr : state::text;
          ++p;
          continue;
        case state::cr:
          if (c == '\n') {
            state_ = state::line_start;
            ++p;
            continue;
          }
          if (options_.bare_cr == bare_line_encoding::reject) return refuse(errc::bare_cr, 1);
          state_ = state::line_start;  // `c` begins a new line: it may need a dot
          return insert("\n");
        case state::failed:
        case state::finished:
          return give(p, p, data_status::refused);
      }
    }
  }
  return give(end, end, data_status::need_data);
}

std::span<const char> data_encoder::finish() noexcept {
  std::string_view tail;
  switch (state_) {
    case state::line_start:
      tail = ".\r\n";
      break;
    case state::text:
      tail = "\r\n.\r\n";
      break;
    case state::cr:
      tail = "\n.\r\n";
      break;
    case state::failed:
    case state::finished:
      return {};
  }
  state_ = state::finished;
  return {tail.data(), tail.size()};
}

}  // namespace sansmtp
