// What the server and the client sessions share: the STARTTLS injection
// policy, and the session core both roles are built on (the bounded receive
// buffer with EOF and STARTTLS's set-aside, and the FIFO their reply queues
// use). docs/design.md, "One session core".
#pragma once

#include <sansmtp/codec/output_queue.hpp>
#include <sansmtp/core/errc.hpp>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace sansmtp {

// What to do with plaintext that arrives after STARTTLS and before the TLS
// handshake. Server side it is a command injection (CVE-2011-0411: it would
// run inside the TLS session); client side a response injection (a forged
// "250-STARTTLS" or capability line trusted after TLS: the "NO STARTTLS"
// study, USENIX Security 2021).
enum class starttls_injection {
  reject,   // default: a fatal error; nothing of it is parsed
  discard,  // LENIENCY: drop the bytes (RFC 3207 §4.2 allows no more than this)
};

namespace detail {

// The received octets a session has not used yet, bounded by `limit`
// octets (0 = no limit), with the end of the stream, and STARTTLS's
// set-aside: after the 220 to STARTTLS (RFC 3207 §4.2) what is unread, and
// everything received until the handshake is done, goes to trailing() and
// is never parsed. Used octets stay in the buffer until the next append()
// (compact()), so the views an event holds outlive every call but receive()
// (the lifetime rule, docs/design.md). Positions are counted in octets
// received since the session began, so they survive compaction.
class receive_buffer {
 public:
  explicit receive_buffer(std::size_t limit) noexcept : limit_(limit) {}

  // The session's receive(): refused, nothing copied, with session_closed
  // (the session closed, or the stream ended) or receive_buffer_full (more
  // than capacity()).
  [[nodiscard]] std::error_code append(std::string_view bytes, bool closed) {
    if (closed || eof_) return errc::session_closed;
    if (bytes.size() > capacity(closed)) return errc::receive_buffer_full;
    if (aside_) {
      trailing_.append(bytes);  // RFC 3207 §4.2: never parsed
      return {};
    }
    compact();
    data_.append(bytes);
    return {};
  }
  // The session's receive_eof(): refused once the stream ended or the session closed.
  [[nodiscard]] std::error_code end(bool closed) noexcept {
    if (closed || eof_) return errc::session_closed;
    eof_ = true;
    return {};
  }
  bool eof() const noexcept { return eof_; }

  // Octets append() takes now.
  std::size_t capacity(bool closed) const noexcept {
    if (closed || eof_) return 0;
    if (limit_ == 0) return std::numeric_limits<std::size_t>::max();
    const std::size_t held = size();
    return held >= limit_ ? 0 : limit_ - held;
  }
  // Octets held: unread, or set aside.
  std::size_t size() const noexcept { return aside_ ? trailing_.size() : data_.size() - pos_; }
  std::size_t limit() const noexcept { return limit_; }

  std::string_view unread() const noexcept { return std::string_view(data_).substr(pos_); }
  void consume(std::size_t n) noexcept { pos_ += n; }
  void discard_unread() noexcept { pos_ = data_.size(); }
  // Octets used since the session began (compaction does not change it).
  std::uint64_t consumed() const noexcept { return base_ + pos_; }
  // Octets received since the session began.
  std::uint64_t received() const noexcept { return base_ + data_.size(); }
  // Drops the used octets (their views end).
  void compact() noexcept {
    if (pos_ == 0) return;
    base_ += pos_;
    data_.erase(0, pos_);
    pos_ = 0;
  }

  // The 220 to STARTTLS: what is unread, and what comes until
  // end_set_aside(), is trailing data.
  void set_aside() {
    trailing_.assign(unread());
    discard_unread();
    aside_ = true;
  }
  bool set_aside_active() const noexcept { return aside_; }
  std::string_view trailing() const noexcept { return trailing_; }
  // The handshake is done: under `reject`, trailing data refuses it
  // (starttls_injection; the trailing data stays for the application to
  // log); otherwise it is dropped and the buffer takes octets again.
  [[nodiscard]] std::error_code end_set_aside(starttls_injection policy) {
    if (!trailing_.empty() && policy == starttls_injection::reject) return errc::starttls_injection;
    trailing_.clear();
    aside_ = false;
    return {};
  }

 private:
  std::string data_;
  std::size_t pos_ = 0;     // the first unread octet of data_
  std::uint64_t base_ = 0;  // octets received before data_[0]
  std::string trailing_;
  std::size_t limit_;
  bool eof_ = false;
  bool aside_ = false;
};

// A FIFO over a vector, so that steady state allocates nothing (a deque
// frees and takes blocks as it goes): the reply queues of both roles. One
// reclaim rule: an empty queue starts over at the front, and the answered
// part is dropped before a push once it is half of the vector.
template <class T>
class fifo {
 public:
  bool empty() const noexcept { return head_ == items_.size(); }
  std::size_t size() const noexcept { return items_.size() - head_; }
  T& front() noexcept { return items_[head_]; }
  const T& front() const noexcept { return items_[head_]; }
  T& back() noexcept { return items_.back(); }
  const T& back() const noexcept { return items_.back(); }
  std::span<T> items() noexcept { return {items_.data() + head_, size()}; }
  std::span<const T> items() const noexcept { return {items_.data() + head_, size()}; }
  void push_back(const T& item) {
    if (head_ > 0 && head_ * 2 >= items_.size()) {
      items_.erase(items_.begin(), items_.begin() + static_cast<std::ptrdiff_t>(head_));
      head_ = 0;
    }
    items_.push_back(item);
  }
  void pop_front() noexcept {
    if (++head_ == items_.size()) clear();
  }
  void clear() noexcept {
    items_.clear();
    head_ = 0;
  }

 private:
  std::vector<T> items_;
  std::size_t head_ = 0;
};

// The part of a session both roles have alike: bytes in (the receive
// buffer), bytes out (the output queue), TLS and the end of the session.
// server and client are role layers over it; what is here is their public
// API as documented in server.hpp and client.hpp.
class session_core {
 public:
  // Octets receive() takes now: 0 once the session closed or the stream
  // ended, or while the receive buffer is full (read events out of it).
  std::size_t receive_capacity() const noexcept { return in_.capacity(closed_); }
  // Octets received and not yet used (at most the receive_buffer option).
  std::size_t buffered_bytes() const noexcept { return in_.size(); }

  // Bytes to write: pending_output() is the first run (write it,
  // consume_output(n) with what was written, call again until it is empty);
  // pending_output_spans(n) is the first n runs (every run by default), for
  // writev: ask for no more than one write takes (IOV_MAX, or 64), since a
  // call costs the runs it returns. A server's replies are one run; a
  // client's message body from a stable() source is in them by reference,
  // not copied (output_queue.hpp). Views valid until the next non-const call.
  std::span<const char> pending_output() const noexcept { return out_.front(); }
  std::span<const std::span<const char>> pending_output_spans(
      std::size_t max_runs = static_cast<std::size_t>(-1)) const {
    return out_.runs(max_runs);
  }
  std::size_t pending_output_size() const noexcept { return out_.size(); }

  // After the 220 to STARTTLS: what the peer sent as plaintext after it
  // (never parsed); see starttls_injection.
  std::string_view trailing_data() const noexcept { return in_.trailing(); }
  // TLS is up (tls_established() was accepted).
  bool tls() const noexcept { return tls_; }
  // The session is over: nothing more is read; write pending_output() and close.
  bool closed() const noexcept { return closed_; }

 protected:
  explicit session_core(std::size_t receive_buffer_limit) noexcept : in_(receive_buffer_limit) {}
  ~session_core() = default;
  session_core(const session_core&) = delete;
  session_core& operator=(const session_core&) = delete;

  receive_buffer in_;
  output_queue out_;
  bool tls_ = false;
  bool closed_ = false;
};

}  // namespace detail
}  // namespace sansmtp
