// The message for `sansmtp send`, streamed from a file descriptor (stdin) in
// pieces: never held whole, and passed on as read. The client gives bare
// CRs and LFs their CRLF (RFC 5321 §2.3.8) on the way out, data_encoder for
// DATA and crlf_encoder for BDAT, so a message arrives the same either way.
#pragma once

#include <sansmtp/client.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sansmtp::cli {

class fd_source final : public message_source {
 public:
  explicit fd_source(int fd, std::size_t piece = 64 * 1024) : fd_(fd), in_(piece ? piece : 1) {
    start_ = ::lseek(fd_, 0, SEEK_CUR);
  }

  std::string_view next() override {
    while (!done_) {
      const auto n = ::read(fd_, in_.data(), in_.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        error_ = errno;
        done_ = true;
        if (on_error) on_error(error_);  // the caller must not end the message as if complete: see error()
        break;
      }
      if (n == 0) {
        done_ = true;
        break;
      }
      return {in_.data(), static_cast<std::size_t>(n)};
    }
    return {};
  }

  // A regular file (or anything seekable) can go again, for a recipient
  // list split over transactions (LIMITS RCPTMAX, RFC 9422).
  bool rewind() override {
    if (start_ < 0 || ::lseek(fd_, start_, SEEK_SET) < 0) return false;
    done_ = false;
    error_ = 0;
    return true;
  }

  // Called with errno when a read fails, before next() returns the empty
  // piece that would end the message: the caller must drop the connection
  // (a message cut short must not be ended as if it were whole).
  std::function<void(int)> on_error;

  // errno of a failed read; 0 when none.
  int error() const noexcept { return error_; }

  // The size when the input is a regular file, to declare as SIZE (RFC 1870:
  // an estimate; the client's line-end conversion may add octets).
  std::optional<std::uint64_t> file_size() const {
    struct stat st {};
    if (::fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode) || start_ < 0 || st.st_size < start_) return std::nullopt;
    return static_cast<std::uint64_t>(st.st_size - start_);
  }

 private:
  int fd_;
  off_t start_ = -1;
  std::vector<char> in_;
  bool done_ = false;
  int error_ = 0;
};

}  // namespace sansmtp::cli
