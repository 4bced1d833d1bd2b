// Every parser test runs each input in several placements, and they must all
// give the same answer: the whole string, a view followed by unrelated bytes
// (the parser must stop at the view's end), and the input ending exactly at a
// page boundary with an unreadable page after it (picohttpparser's trick: an
// over-read faults instead of passing silently).
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace sansmtp::test {

class guarded_buffer {
 public:
  guarded_buffer() {
    page_ = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
    void* p = mmap(nullptr, 2 * page_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::runtime_error("mmap failed");
    base_ = static_cast<char*>(p);
    if (mprotect(base_ + page_, page_, PROT_NONE) != 0) throw std::runtime_error("mprotect failed");
  }
  ~guarded_buffer() { munmap(base_, 2 * page_); }
  guarded_buffer(const guarded_buffer&) = delete;
  guarded_buffer& operator=(const guarded_buffer&) = delete;

  // The input copied so that its last byte is the last readable byte.
  std::string_view place(std::string_view input) {
    if (input.size() > page_) throw std::runtime_error("input larger than a page");
    char* start = base_ + page_ - input.size();
    if (!input.empty()) std::memcpy(start, input.data(), input.size());
    return {start, input.size()};
  }

 private:
  std::size_t page_ = 0;
  char* base_ = nullptr;
};

// Calls check(view) for each placement of `input`.
inline void for_each_placement(std::string_view input, const std::function<void(std::string_view)>& check) {
  const std::string whole(input);
  check(whole);
  const std::string padded = whole + "]x.y\r\n:[IPv6:::1]";
  check(std::string_view(padded).substr(0, whole.size()));
  static guarded_buffer guard;
  check(guard.place(input));
}

}  // namespace sansmtp::test
