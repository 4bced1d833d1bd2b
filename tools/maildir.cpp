#include "maildir.hpp"

#include <fmt/format.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <ctime>

namespace sansmtp::cli {

bool write_all(int fd, std::span<const char> bytes) {
  while (!bytes.empty()) {
    const auto n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes = bytes.subspan(static_cast<std::size_t>(n));
  }
  return true;
}

namespace {

bool fsync_directory(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool ok = ::fsync(fd) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

bool maildir::prepare() const {
  for (const char* sub : {"", "/tmp", "/new", "/cur"}) {
    const auto dir = root_ + sub;
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return false;
  }
  return true;
}

std::string maildir::unique_name() const {
  static std::atomic<unsigned long long> counter{0};
  return fmt::format("{}.M{}P{}.{}", static_cast<long long>(std::time(nullptr)), counter++, ::getpid(), host_);
}

bool maildir_message::begin() {
  abort();
  name_ = box_.unique_name();
  fd_ = ::open((box_.root() + "/tmp/" + name_).c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  failed_ = fd_ < 0;
  digest_.emplace();
  return !failed_;
}

void maildir_message::write(std::span<const char> bytes) {
  if (fd_ < 0 || failed_) return;
  failed_ = !write_all(fd_, bytes);
  digest_->update(bytes);
}

bool maildir_message::commit(std::string& file, std::string& sha) {
  if (fd_ < 0) return false;
  const bool written = !failed_ && ::fsync(fd_) == 0;
  ::close(fd_);
  fd_ = -1;
  const auto tmp = box_.root() + "/tmp/" + name_;
  const auto final_name = box_.root() + "/new/" + name_;
  if (!written || ::rename(tmp.c_str(), final_name.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return false;
  }
  fsync_directory(box_.root() + "/new");
  file = final_name;
  sha = digest_->hex();
  return true;
}

void maildir_message::abort() {
  if (fd_ < 0) return;
  ::close(fd_);
  fd_ = -1;
  ::unlink((box_.root() + "/tmp/" + name_).c_str());
}

}  // namespace sansmtp::cli
