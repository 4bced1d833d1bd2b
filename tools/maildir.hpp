// Maildir delivery for serve: each accepted message is written to tmp/,
// fsynced, renamed into new/ and the directory fsynced, and only then does
// the client get its 250; a refused or interrupted message leaves nothing
// in new/ (the Maildir protocol: a reader never sees a half-written file).
#pragma once

#include "sha256.hpp"

#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace sansmtp::cli {

// Writes all of `bytes` to fd (retrying on EINTR and partial writes); false on an error.
bool write_all(int fd, std::span<const char> bytes);

// The folder (shared by every session).
class maildir {
 public:
  maildir(std::string root, std::string host) : root_(std::move(root)), host_(std::move(host)) {}
  // Creates DIR, DIR/tmp, DIR/new and DIR/cur as needed.
  bool prepare() const;
  const std::string& root() const { return root_; }
  // A name no other delivery of any process on this host uses: time,
  // a process-wide counter and the pid, the host.
  std::string unique_name() const;

 private:
  std::string root_, host_;
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
