// Maildir delivery for serve: each accepted message is written to tmp/,
// fsynced, moved into new/ without ever replacing a file there (link(2), or
// renameat2(RENAME_NOREPLACE)) and the directory fsynced, and only then does
// the client get its 250; a refused or interrupted message leaves nothing
// in new/ (the Maildir protocol: a reader never sees a half-written file).
#pragma once

#include "sha256.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace sansmtp::cli {

// Writes all of `bytes` to fd (retrying on EINTR and partial writes); false on an error.
bool write_all(int fd, std::span<const char> bytes);

// The parts of a Maildir file name that make it unique (the convention of
// https://cr.yp.to/proto/maildir.html and its modern form,
// "SECONDS.MUSECPPIDQSEQRRANDOM.HOST"). Container replicas sharing a volume
// can have the same pid (1) and the same second; the microseconds, 64
// random bits from getrandom(2) and the real host name keep them apart,
// and a name that is taken anyway is never overwritten.
struct maildir_name_parts {
  long long seconds = 0;
  long microseconds = 0;
  long long pid = 0;
  unsigned long long sequence = 0;  // deliveries (attempts) by this process
  unsigned long long random = 0;
};

// The host part of a Maildir name: `host` with "/" as "\057" and ":" as
// "\072" (the convention: "/" cannot be in a file name, ":" starts the
// info part), and "\\" as "\134" so that the encoding is one-to-one.
std::string maildir_host_part(std::string_view host);

// The folder (shared by every session).
class maildir {
 public:
  // `host`: the host part of the names (this machine's name from
  // gethostname(2), not the --hostname of the greeting).
  maildir(std::string root, std::string host) : root_(std::move(root)), host_(maildir_host_part(host)) {}
  // Creates DIR, DIR/tmp, DIR/new and DIR/cur as needed.
  bool prepare() const;
  const std::string& root() const { return root_; }
  // A fresh name: time, pid, a process-wide sequence, random bits, the host.
  std::string unique_name() const;
  // For tests: where the name parts come from (the clock, getpid(),
  // getrandom() and a counter when not set).
  void set_name_source(std::function<maildir_name_parts()> source) { source_ = std::move(source); }

 private:
  std::string root_, host_;
  std::function<maildir_name_parts()> source_;
};

// One message being written (one per session, reused).
class maildir_message {
 public:
  explicit maildir_message(const maildir& box) : box_(box) {}
  maildir_message(const maildir_message&) = delete;
  maildir_message& operator=(const maildir_message&) = delete;
  ~maildir_message() { abort(); }

  // Opens a new file in tmp/ (an unfinished one is dropped).
  bool begin();
  bool open() const { return fd_ >= 0; }
  // Appends; a failure is remembered and reported by commit().
  void write(std::span<const char> bytes);
  // Durable in new/ (file and sha256 set), or false and nothing in new/.
  bool commit(std::string& file, std::string& sha);
  // Drops the file in tmp/, if any.
  void abort();

 private:
  const maildir& box_;
  std::string name_;
  int fd_ = -1;
  bool failed_ = false;
  std::optional<sha256> digest_;
};

}  // namespace sansmtp::cli
