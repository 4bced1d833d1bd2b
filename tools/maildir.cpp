#include "maildir.hpp"

#include <fmt/format.h>

#include <fcntl.h>
#include <stdio.h>  // renameat2
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
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

std::string maildir_host_part(std::string_view host) {
  std::string out;
  for (const char c : host) {
    if (c == '/')
      out += "\\057";
    else if (c == ':')
      out += "\\072";
    else if (c == '\\')
      out += "\\134";
    else
      out += c;
  }
  return out;
}

namespace {

maildir_name_parts system_name_parts() {
  static std::atomic<unsigned long long> sequence{0};
  maildir_name_parts p;
  timespec now{};
  ::clock_gettime(CLOCK_REALTIME, &now);
  p.seconds = static_cast<long long>(now.tv_sec);
  p.microseconds = now.tv_nsec / 1000;
  p.pid = static_cast<long long>(::getpid());
  p.sequence = ++sequence;
  unsigned long long random = 0;
  auto* bytes = reinterpret_cast<unsigned char*>(&random);
  std::size_t got = 0;
  while (got < sizeof random) {
    const auto n = ::getrandom(bytes + got, sizeof random - got, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // no entropy source: the other parts and O_EXCL/no-replace still hold
    got += static_cast<std::size_t>(n);
  }
  p.random = random;
  return p;
}

// Moves `from` to `to` unless `to` exists (EEXIST then): renameat2 with
// RENAME_NOREPLACE, or link(2) and unlink(2) where the file system does not
// support that flag.
int move_no_replace(const std::string& from, const std::string& to) {
  if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) return 0;
  if (errno != EINVAL && errno != ENOSYS) return errno;
  if (::link(from.c_str(), to.c_str()) != 0) return errno;
  ::unlink(from.c_str());
  return 0;
}

// Attempts at a free name before giving up (each with fresh random bits: a
// second collision means something other than chance).
constexpr int name_attempts = 8;

}  // namespace

std::string maildir::unique_name() const {
  const auto p = source_ ? source_() : system_name_parts();
  return fmt::format("{}.M{}P{}Q{}R{:016x}.{}", p.seconds, p.microseconds, p.pid, p.sequence, p.random, host_);
}

bool maildir_message::begin() {
  abort();
  digest_.emplace();
  for (int attempt = 0; attempt < name_attempts; ++attempt) {
    name_ = box_.unique_name();
    // O_EXCL: a name already in tmp/ (another process's delivery) is never reused.
    fd_ = ::open((box_.root() + "/tmp/" + name_).c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd_ >= 0 || errno != EEXIST) break;
  }
  failed_ = fd_ < 0;
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
  if (!written) {
    ::unlink(tmp.c_str());
    return false;
  }
  // The name in new/ is the one in tmp/ unless new/ holds it already (a
  // delivery by another process that chose the same name): then a fresh
  // one. rename(2) would silently replace that message.
  auto final_name = box_.root() + "/new/" + name_;
  int error = EEXIST;
  for (int attempt = 0; attempt < name_attempts && error == EEXIST; ++attempt) {
    if (attempt > 0) final_name = box_.root() + "/new/" + box_.unique_name();
    error = move_no_replace(tmp, final_name);
  }
  if (error != 0) {
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
