// The bytes a session owes the peer, as runs ready for writev(): the one
// output buffer behind server::pending_output() and client::pending_output().
//
// A run is either copied into the queue (commands, replies, dot-stuffing) or
// held by reference (a message body the caller keeps alive: see
// message_source::stable()), so a body can leave without being copied.
// Runs go out in the order they were appended.
//
// Lifetime rule: the spans returned stay valid until the next non-const call
// on the queue (or on the session that owns it); bytes appended by
// reference must stay valid until they are consumed.
//
// Memory bound: what is appended and not yet consumed; consumed space is
// reclaimed when the queue empties, or once it is the larger part.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sansmtp {

class output_queue {
 public:
  // Copies `bytes` in.
  void append(std::string_view bytes);
  // Holds `bytes` by reference until they are consumed.
  void append_view(std::string_view bytes);
  // Runs `write(std::string&)`, which appends to the copied bytes (a
  // serializer); whatever it appended becomes a run, even on an error
  // (serializers here append nothing when they fail).
  template <class Write>
  auto append_with(Write&& write) {
    compact();
    const std::size_t before = owned_.size();
    auto result = write(owned_);
    note_owned(before);
    return result;
  }

  // Unsent bytes, all runs together.
  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  // Unsent bytes held by reference.
  std::size_t borrowed() const noexcept { return borrowed_; }

  // The first run: write it, consume_output() what was written, call again.
  std::span<const char> front() const noexcept;
  // The first unsent runs, at most `max_runs` of them, in order (for
  // writev: ask for IOV_MAX or fewer). A call costs the runs it returns, so
  // a writer that sends part of the queue per call should ask for no more
  // than it sends: a message of short lines queues tens of thousands of runs.
  std::span<const std::span<const char>> runs(std::size_t max_runs = static_cast<std::size_t>(-1)) const;
  // n bytes were written (from the front, across runs); more than size() is clamped.
  void consume(std::size_t n) noexcept;
  void clear() noexcept;

 private:
  static constexpr std::size_t npos = static_cast<std::size_t>(-1);
  struct run {
    const char* data;  // by reference; unused when owned
    std::size_t size;
    std::size_t owned_at;  // offset in owned_, or npos when by reference
  };
  const char* data_of(const run& r) const noexcept {
    return r.owned_at == npos ? r.data : owned_.data() + r.owned_at;
  }
  void note_owned(std::size_t before);
  void compact();

  std::string owned_;               // copied bytes, in order
  std::vector<run> runs_;           // runs_[head_..] are unsent
  std::size_t head_ = 0;            // first unsent run
  std::size_t head_done_ = 0;       // bytes of it already sent
  std::size_t owned_done_ = 0;      // copied bytes already sent (a prefix of owned_)
  std::size_t size_ = 0;
  std::size_t borrowed_ = 0;
  mutable std::vector<std::span<const char>> view_;  // runs()'s storage
};

}  // namespace sansmtp
