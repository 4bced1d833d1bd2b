#include <sansmtp/codec/output_queue.hpp>

#include <algorithm>

namespace sansmtp {

namespace {
// Consumed space is given back once there is this much of it and it is
// the larger part, so a queue that never quite empties stays bounded by
// about twice its unsent bytes.
constexpr std::size_t reclaim_at = 64 * 1024;
}  // namespace

void output_queue::note_owned(std::size_t before) {
  const std::size_t added = owned_.size() - before;
  if (added == 0) return;
  size_ += added;
  if (runs_.size() > head_ && runs_.back().owned_at != npos) {
    runs_.back().size += added;  // copied runs are contiguous in owned_
    return;
  }
  runs_.push_back({nullptr, added, before});
}

void output_queue::append(std::string_view bytes) {
  compact();
  const std::size_t before = owned_.size();
  owned_.append(bytes);
  note_owned(before);
}

void output_queue::append_view(std::string_view bytes) {
  if (bytes.empty()) return;
  compact();
  size_ += bytes.size();
  borrowed_ += bytes.size();
  if (runs_.size() > head_) {
    auto& last = runs_.back();
    if (last.owned_at == npos && last.data + last.size == bytes.data()) {
      last.size += bytes.size();  // the next bytes of the same memory
      return;
    }
  }
  runs_.push_back({bytes.data(), bytes.size(), npos});
}

std::span<const char> output_queue::front() const noexcept {
  if (head_ == runs_.size()) return {};
  const auto& r = runs_[head_];
  return {data_of(r) + head_done_, r.size - head_done_};
}

std::span<const std::span<const char>> output_queue::runs(std::size_t max_runs) const {
  view_.clear();
  const std::size_t end = runs_.size() - head_ > max_runs ? head_ + max_runs : runs_.size();
  for (std::size_t i = head_; i < end; ++i) {
    const std::size_t skip = i == head_ ? head_done_ : 0;
    view_.emplace_back(data_of(runs_[i]) + skip, runs_[i].size - skip);
  }
  return view_;
}

void output_queue::consume(std::size_t n) noexcept {
  n = std::min(n, size_);
  size_ -= n;
  while (n > 0) {
    const auto& r = runs_[head_];
    const std::size_t take = std::min(n, r.size - head_done_);
    if (r.owned_at == npos)
      borrowed_ -= take;
    else
      owned_done_ += take;
    head_done_ += take;
    n -= take;
    if (head_done_ == r.size) {
      ++head_;
      head_done_ = 0;
    }
  }
  if (size_ == 0) clear();
}

void output_queue::clear() noexcept {
  owned_.clear();
  runs_.clear();
  head_ = head_done_ = owned_done_ = size_ = borrowed_ = 0;
}

// Drops what was sent when it is the larger part (before an append, so
// spans handed out since the last non-const call are not moved under a
// caller that still holds them: appending is a non-const call).
void output_queue::compact() {
  if (owned_done_ >= reclaim_at && owned_done_ * 2 >= owned_.size()) {
    if (head_ < runs_.size() && runs_[head_].owned_at != npos) {
      auto& r = runs_[head_];  // partly sent: keep only its unsent bytes
      r.owned_at += head_done_;
      r.size -= head_done_;
      head_done_ = 0;
    }
    owned_.erase(0, owned_done_);
    for (std::size_t i = head_; i < runs_.size(); ++i)
      if (runs_[i].owned_at != npos) runs_[i].owned_at -= owned_done_;
    owned_done_ = 0;
  }
  if (head_ >= 64 && head_ * 2 >= runs_.size()) {
    runs_.erase(runs_.begin(), runs_.begin() + static_cast<std::ptrdiff_t>(head_));
    head_ = 0;
  }
}

}  // namespace sansmtp
