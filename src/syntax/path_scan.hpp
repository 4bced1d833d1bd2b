// Internal: the Ragel path machine (grammar/path.rl) and what it found.
#pragma once

#include <sansmtp/core/errc.hpp>

#include "address_scan.hpp"

#include <cstddef>
#include <string_view>

namespace sansmtp::detail {

enum class path_form {
  reverse_path,  // "<>" / Path, stops after the closing '>'
  forward_path,  // "<Postmaster>" / Path, stops after the closing '>'
  mailbox,       // Mailbox, the whole text
  string,        // String = Atom / Quoted-string, the whole text
};

struct path_scan {
  static constexpr std::size_t npos = std::string_view::npos;
  bool accepted = false;  // a path matched up to `end` / the whole text matched
  std::size_t end = 0;    // one past the last octet consumed (where it stopped)
  std::size_t local_begin = npos, local_end = npos;
  std::size_t domain_begin = npos, domain_end = npos;
  std::size_t route_end = npos;  // one past the ':' of a source route
  std::size_t first_non_ascii = npos, last_non_ascii = npos;
  errc limit = errc::ok;  // label_too_long / domain_too_long in a source route
  std::size_t limit_offset = 0;
};

path_scan scan_path(std::string_view text, path_form form) noexcept;

}  // namespace sansmtp::detail
