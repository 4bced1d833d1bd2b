// The reply reader: lines framed with memchr within the line limit, each line
// checked against RFC 5321 §4.2 once it is complete, lines gathered until the
// one that ends the reply. Every decision depends only on the octets of the
// line it is about, so any chunking gives the same replies and errors.
#include <sansmtp/codec/reply_reader.hpp>

#include "reply_text.hpp"

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>

namespace sansmtp {

namespace {

int code_of(const char* digits) noexcept {
  return (digits[0] - '0') * 100 + (digits[1] - '0') * 10 + (digits[2] - '0');
}

}  // namespace

// The first rule a line (or the start of one, when !finished) breaks. `size`
// excludes the line end.
std::optional<reply_error> reply_reader::check_line(const char* line, std::size_t size, std::uint64_t at,
                                                    bool finished) const noexcept {
  const bool continuing = !views_.empty() && !options_.allow_mismatched_codes;
  for (std::size_t i = 0; i < 3; ++i) {
    if (i >= size) {
      if (!finished) return std::nullopt;
      return reply_error{errc::bad_reply_code, at + size};
    }
    if (!detail::reply_code_digit(i, line[i])) return reply_error{errc::bad_reply_code, at + i};
    // §4.2.1: every line of a multiline reply carries the same code.
    if (continuing && line[i] != code_[i]) return reply_error{errc::reply_code_mismatch, at + i};
  }
  if (size == 3) return std::nullopt;
  if (line[3] != ' ' && line[3] != '-') return reply_error{errc::bad_reply_separator, at + 3};
  const auto fault =
      detail::check_reply_text({line + 4, size - 4}, options_.allow_utf8, errc::bare_cr, !finished);
  if (fault) return reply_error{fault->code, at + 4 + fault->at};
  return std::nullopt;
}

// `line` holds the whole line with its LF; `at` is its stream offset.
reply_reader::line_result reply_reader::take_line(const char* line, std::size_t size, std::uint64_t at,
                                                  bool from_partial, bool plain_known) {
  std::size_t content = size - 1;
  const bool crlf = content > 0 && line[content - 1] == '\r';
  if (crlf) --content;
  // The common case decided quickly; check_line() names the fault otherwise.
  const bool plain =
      content >= 3 && detail::reply_code_digit(0, line[0]) && detail::reply_code_digit(1, line[1]) &&
      detail::reply_code_digit(2, line[2]) &&
      (views_.empty() || options_.allow_mismatched_codes || std::memcmp(line, code_, 3) == 0) &&
      (content == 3 ||
       ((line[3] == ' ' || line[3] == '-') && (plain_known || detail::plain_text({line + 4, content - 4}))));
  if (!plain) {
    if (auto e = check_line(line, content, at, true)) {
      error_ = e;
      return line_result::failed;
    }
  }
  if (!crlf && !options_.allow_bare_lf) {
    fail(errc::bare_lf, at + size - 1);
    return line_result::failed;
  }
  const bool last = content == 3 || line[3] == ' ';
  const std::size_t count = views_.size() + 1;
  const std::size_t max_lines = options_.max_lines ? options_.max_lines : SIZE_MAX;
  if (count > max_lines || (!last && count >= max_lines)) {
    // The first octet past the limit: this line, or the one it announces.
    fail(errc::too_many_reply_lines, count > max_lines ? at : at + size);
    return line_result::failed;
  }
  if (views_.empty()) {
    // One allocation for the lines of any usual reply (an EHLO reply is
    // 10-20 lines), instead of one per doubling; kept for the next reply.
    if (views_.capacity() == 0) views_.reserve(std::min<std::size_t>(max_lines, 32));  // (max_lines: SIZE_MAX for no limit)
    reply_start_ = at;
    std::memcpy(code_, line, 3);
  }
  views_.push_back(content > 3 ? std::string_view(line + 4, content - 4) : std::string_view());
  if (from_partial) stash_lines();  // `line` is partial_, about to be reused
  if (!last) return line_result::more;
  complete_reply(code_of(line), at + size);
  return line_result::reply_done;
}

// The fast path: whole plain lines (RFC 5321 §4.2 Reply-code, then SP or
// "-" and textstring of HT / %d32-126 only, then CRLF, within the line and
// line-count limits) read straight from the input, their line ends and text
// found together 64 octets at a time. It stops at the first line that is
// anything else (a partial line, another octet, another code, a limit) and
// leaves it to the careful path, which accepts what this accepts: the fuzz
// targets hold the two to the same replies and errors under any chunking.
inline reply_reader::line_result reply_reader::plain_lines(const char*& p, const char* end, std::size_t max) {
  // Lines of 3 to max - 2 octets before their CRLF; more lines than
  // max_lines, or a limit this small, are the careful path's to refuse.
  const std::size_t max_lines = options_.max_lines ? options_.max_lines : SIZE_MAX;
  if (max < 5 || views_.size() + 1 >= max_lines) return line_result::not_plain;
  const std::size_t lines_left = max_lines - views_.size() - 1;  // before the one that must be last
  const std::size_t content_span = max - 5;
  const char* const start = p;
  std::size_t taken = 0;
  const char* base = p;
  std::uint64_t bad = detail::not_printable_mask64(base, end);
  const auto leave = [&](line_result r) {  // the stream offset follows the lines taken
    offset_ += static_cast<std::size_t>(p - start);
    return r;
  };
  for (;;) {
    const char* const line = p;
    while (bad == 0) {  // nothing but text in this block: the line goes on
      base += 64;
      if (base >= end || static_cast<std::size_t>(base - line) > max) return leave(line_result::not_plain);
      bad = detail::not_printable_mask64(base, end);
    }
    const char* const cr = base + std::countr_zero(bad);
    const std::size_t content = static_cast<std::size_t>(cr - line);
    std::uint16_t crlf;
    if (end - cr < 2 || (std::memcpy(&crlf, cr, 2), crlf != ('\n' << 8 | '\r')) || content - 3 > content_span)
      return leave(line_result::not_plain);
    // line[3] is the separator, or the CR when the line is the code alone.
    const char separator = line[3];
    const bool last = separator == ' ' || content == 3;
    if (!last && (separator != '-' || taken == lines_left)) return leave(line_result::not_plain);
    if (views_.empty()) {
      if (!detail::reply_code_digit(0, line[0]) || !detail::reply_code_digit(1, line[1]) ||
          !detail::reply_code_digit(2, line[2]))
        return leave(line_result::not_plain);
      if (views_.capacity() == 0) views_.reserve(std::min<std::size_t>(max_lines, 32));
      reply_start_ = offset_ + static_cast<std::size_t>(line - start);
      std::memcpy(code_, line, 3);
    } else if (std::memcmp(line, code_, 3) != 0) {  // §4.2.1: the same code on every line
      return leave(line_result::not_plain);  // a mismatch, or the careful path's allow_mismatched_codes
    }
    views_.push_back(content > 3 ? std::string_view(line + 4, content - 4) : std::string_view());
    ++taken;
    p = cr + 2;
    if (last) {
      leave(line_result::reply_done);
      complete_reply(code_of(line), offset_);
      return line_result::reply_done;
    }
    if (p >= end) return leave(line_result::more);
    // The LF was the last octet looked at: go on after it.
    if (const auto done = static_cast<std::size_t>(p - base); done < 64) {
      bad &= ~std::uint64_t{0} << done;
    } else {
      base = p;
      bad = detail::not_printable_mask64(base, end);
    }
  }
}

void reply_reader::stash_lines() {
  for (; stored_ < views_.size(); ++stored_) {
    stored_at_.push_back(storage_.size());
    storage_.append(views_[stored_]);
  }
}

void reply_reader::complete_reply(int code, std::uint64_t end) {
  for (std::size_t i = 0; i < stored_; ++i) views_[i] = {storage_.data() + stored_at_[i], views_[i].size()};
  reply_.code = code;
  reply_.lines = views_;
  const auto esc = parse::enhanced_status_at(views_.front(), code);
  reply_.enhanced = esc ? std::optional<enhanced_status>(esc->status) : std::nullopt;
  reply_.offset = reply_start_;
  reply_.size = end - reply_start_;
  reply_ready_ = true;
}

// The reply handed out last time expires with the next call.
void reply_reader::forget_reply() {
  reply_ready_ = false;
  views_.clear();
  storage_.clear();
  stored_at_.clear();
  stored_ = 0;
}

void reply_reader::fail_unterminated(const char* line, std::size_t size, std::uint64_t at) {
  if (auto e = check_line(line, size, at, false))
    error_ = e;
  else
    fail(errc::reply_line_too_long, at + options_.max_line_length);
}

void reply_reader::take(reply_reader& other) noexcept {
  reply_ = other.reply_;
  reply_ready_ = other.reply_ready_;
  offset_ = other.offset_;
  line_start_ = other.line_start_;
  reply_start_ = other.reply_start_;
  std::memcpy(code_, other.code_, sizeof code_);
  partial_ = std::move(other.partial_);
  storage_ = std::move(other.storage_);
  views_ = std::move(other.views_);
  stored_at_ = std::move(other.stored_at_);
  stored_ = other.stored_;
  error_ = other.error_;
  // A short storage_ lives inside the string object (SSO) and moved: the
  // views copied into it must point at the new place.
  for (std::size_t i = 0; i < stored_ && i < stored_at_.size(); ++i)
    views_[i] = {storage_.data() + stored_at_[i], views_[i].size()};
  if (reply_ready_) reply_.lines = views_;
  other.reset();
}

void reply_reader::reset() noexcept {
  reply_ = reply{};
  reply_ready_ = false;
  offset_ = line_start_ = reply_start_ = 0;
  std::memset(code_, 0, sizeof code_);
  partial_.clear();
  storage_.clear();
  views_.clear();
  stored_at_.clear();
  stored_ = 0;
  error_.reset();
}

reply_step reply_reader::next(std::string_view input) {
  if (error_) return {reply_status::error, 0};
  if (reply_ready_) forget_reply();
  const std::size_t max = options_.max_line_length ? options_.max_line_length : SIZE_MAX;
  const char* const begin = input.data();
  const char* const end = begin + input.size();
  const char* p = begin;
  const auto consumed = [&] { return static_cast<std::size_t>(p - begin); };
  while (p < end) {
    const auto available = static_cast<std::size_t>(end - p);
    line_result result;
    if (!partial_.empty()) {
      // The line began in an earlier chunk: its LF may be at most `room` octets on.
      const std::size_t room = max > partial_.size() ? max - partial_.size() : 0;
      const std::size_t window = std::min(room, available);
      const auto* lf = window ? static_cast<const char*>(std::memchr(p, '\n', window)) : nullptr;
      if (!lf) {
        if (available >= room) {
          partial_.append(p, room);
          fail_unterminated(partial_.data(), partial_.size(), line_start_);
          return {reply_status::error, consumed()};
        }
        partial_.append(p, available);
        offset_ += available;
        p = end;
        break;
      }
      partial_.append(p, lf + 1);
      offset_ += static_cast<std::uint64_t>(lf + 1 - p);
      p = lf + 1;
      result = take_line(partial_.data(), partial_.size(), line_start_, true, false);
      partial_.clear();
    } else {
      // The usual case first: whole plain lines, up to the end of a reply.
      result = plain_lines(p, end, max);
      if (result == line_result::reply_done) return {reply_status::reply, consumed()};
      if (p >= end) break;
      const std::size_t window = std::min(max, static_cast<std::size_t>(end - p));
      const std::size_t plain_end = detail::plain_line_end(p, window);
      const bool plain = plain_end != std::string_view::npos;
      const auto* lf = plain ? p + plain_end : static_cast<const char*>(std::memchr(p, '\n', window));
      if (!lf) {
        if (static_cast<std::size_t>(end - p) >= max) {
          fail_unterminated(p, max, offset_);
          return {reply_status::error, consumed()};
        }
        partial_.assign(p, end);
        line_start_ = offset_;
        offset_ += static_cast<std::size_t>(end - p);
        p = end;
        break;
      }
      const char* line = p;
      const std::uint64_t at = offset_;
      offset_ += static_cast<std::uint64_t>(lf + 1 - p);
      p = lf + 1;
      result = take_line(line, static_cast<std::size_t>(p - line), at, false, plain);
    }
    if (result == line_result::failed) return {reply_status::error, consumed()};
    if (result == line_result::reply_done) return {reply_status::reply, consumed()};
  }
  stash_lines();  // the input goes away when this call returns
  return {reply_status::need_data, consumed()};
}

const std::optional<reply_error>& reply_reader::finish() {
  if (error_) return error_;
  if (reply_ready_) forget_reply();
  if (!partial_.empty()) {
    if (auto e = check_line(partial_.data(), partial_.size(), line_start_, false))
      error_ = e;
    else
      fail(errc::incomplete, offset_);
  } else if (!views_.empty()) {
    fail(errc::incomplete, offset_);
  }
  return error_;
}

}  // namespace sansmtp
