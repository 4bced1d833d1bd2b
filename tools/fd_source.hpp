// The message for `sansmtp send`, streamed from a file descriptor (stdin) in
// pieces: never held whole, and passed on as read. Input that cannot seek
// (a pipe, a terminal) is spooled first (spool()), as sendmail does: held
// in memory up to a bound, beyond it in an unlinked temporary file, so
// that its size is known (SIZE, RFC 1870) and it can be read again (8-bit
// detection, RFC 6152; a recipient list split by LIMITS RCPTMAX, RFC 9422). The client gives bare
// CRs and LFs their CRLF (RFC 5321 §2.3.8) on the way out, data_encoder for
// DATA and crlf_encoder for BDAT, so a message arrives the same either way.
#pragma once

#include <sansmtp/session/client.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
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
  ~fd_source() override {
    if (spool_fd_ >= 0) ::close(spool_fd_);
  }
  fd_source(const fd_source&) = delete;
  fd_source& operator=(const fd_source&) = delete;

  // Unless the input is a regular file: reads it to its end, into memory up
  // to `memory_limit` octets and, past that, into a temporary file in
  // $TMPDIR (/tmp without) that is unlinked at once (O_TMPFILE, or mkstemp
  // and unlink). Afterwards the source reads the copy, rewinds, and
  // file_size() is its size. Returns what went wrong (a failed read of the
  // input, a temporary file that could not be made or written), or nothing.
  std::optional<std::string> spool(std::size_t memory_limit) {
    if (file_size()) return std::nullopt;
    std::string held;
    for (;;) {
      const auto n = ::read(fd_, in_.data(), in_.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return std::string("reading the message from stdin failed: ") + std::strerror(errno);
      if (n == 0) break;
      const std::string_view piece(in_.data(), static_cast<std::size_t>(n));
      if (spool_fd_ < 0 && held.size() + piece.size() <= memory_limit) {
        held.append(piece);
        continue;
      }
      if (spool_fd_ < 0) {
        if (auto error = open_spool_file()) return error;
        if (auto error = write_spool(held)) return error;
        std::string().swap(held);
      }
      if (auto error = write_spool(piece)) return error;
    }
    if (spool_fd_ < 0) {
      memory_ = std::move(held);
      in_memory_ = true;
      at_ = 0;
    } else {
      if (::lseek(spool_fd_, 0, SEEK_SET) < 0)
        return std::string("cannot read back the spooled message: ") + std::strerror(errno);
      fd_ = spool_fd_;
      start_ = 0;
    }
    done_ = false;
    return std::nullopt;
  }
  // Whether spool() kept the message in memory (else a file, or the input itself).
  bool spooled_in_memory() const noexcept { return in_memory_; }

  std::string_view next() override {
    if (in_memory_) {
      const auto n = std::min(in_.size(), memory_.size() - at_);
      const std::string_view out(memory_.data() + at_, n);
      at_ += n;
      return out;
    }
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
    if (in_memory_) {
      at_ = 0;
      return true;
    }
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
    if (in_memory_) return memory_.size();
    struct stat st {};
    if (::fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode) || start_ < 0 || st.st_size < start_) return std::nullopt;
    return static_cast<std::uint64_t>(st.st_size - start_);
  }

 private:
  std::optional<std::string> open_spool_file() {
    const char* env = std::getenv("TMPDIR");
    const std::string dir = env && *env ? env : "/tmp";
#ifdef O_TMPFILE
    spool_fd_ = ::open(dir.c_str(), O_TMPFILE | O_RDWR | O_EXCL | O_CLOEXEC, 0600);
#endif
    if (spool_fd_ < 0) {  // no O_TMPFILE here, or not on this file system
      std::string name = dir + "/sansmtp-send-XXXXXX";
      spool_fd_ = ::mkostemp(name.data(), O_CLOEXEC);
      if (spool_fd_ >= 0) ::unlink(name.c_str());
    }
    if (spool_fd_ < 0)
      return "cannot make a temporary file in " + dir + " to spool the message: " + std::strerror(errno);
    return std::nullopt;
  }

  std::optional<std::string> write_spool(std::string_view bytes) {
    while (!bytes.empty()) {
      const auto n = ::write(spool_fd_, bytes.data(), bytes.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return std::string("cannot spool the message to a temporary file: ") + std::strerror(errno);
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return std::nullopt;
  }

  int fd_;
  int spool_fd_ = -1;  // the unlinked temporary file, when spool() needed one
  std::string memory_;  // the message, when spool() held it in memory
  bool in_memory_ = false;
  std::size_t at_ = 0;  // next() position in memory_
  off_t start_ = -1;
  std::vector<char> in_;
  bool done_ = false;
  int error_ = 0;
};

}  // namespace sansmtp::cli
