// The first line of a secret file (--auth-password-file,
// --tls-key-password-file): what a user puts there with `echo pw > FILE`, a
// text editor (a final line end, maybe CRLF) or a file of notes (more
// lines after the first). Only the first line counts.
#pragma once

#include <sansmtp/core/display.hpp>
#include <sansmtp/syntax/ehlo_check.hpp>  // escape_for_display

#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>

namespace sansmtp::cli {

// The first line of the file at `path` without its line end (LF, or CRLF:
// one CR before the LF, or at the very end, is dropped). nullopt with `why`
// set when the file cannot be read, or that line is empty or holds a NUL or
// another CR (neither can be part of a password sent in AUTH PLAIN, RFC
// 4616 §2, or typed at a pass phrase prompt). `option` names the option in
// the messages.
inline std::optional<std::string> read_first_line(const std::string& path, std::string_view option,
                                                  std::string& why) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    why = "cannot read " + std::string(option) + " " + escape_for_display(path);
    return std::nullopt;
  }
  std::string line;
  std::getline(in, line, '\n');
  if (in.bad()) {
    why = "cannot read " + std::string(option) + " " + escape_for_display(path);
    return std::nullopt;
  }
  if (line.ends_with('\r')) line.pop_back();
  if (line.empty() || line.find_first_of(std::string_view("\r\0", 2)) != line.npos) {
    why = std::string(option) + " must start with a non-empty line (the password) without a NUL or CR in it";
    return std::nullopt;
  }
  return line;
}

}  // namespace sansmtp::cli
