// Internal: what RFC 5321 §4.2 allows in reply text, shared by the reader and
// the writer so that what one writes the other reads.
#pragma once

#include <sansmtp/errc.hpp>

#include "ascii.hpp"
#include "utf8.hpp"

#include <cstddef>
#include <optional>
#include <string_view>

namespace sansmtp::detail {

struct text_fault {
  errc code = errc::ok;
  std::size_t at = 0;  // index into the text
};

// The first octet of `text` that textstring (HT / SP / %d33-126) does not
// allow. `cr_code` names a CR (the reader calls it bare_cr: its line end is
// already cut off). `unfinished`: the text may go on, so a final CR or a
// UTF-8 sequence cut by its end is not yet a fault.
inline std::optional<text_fault> check_reply_text(std::string_view text, bool allow_utf8, errc cr_code,
                                                  bool unfinished) noexcept {
  // Fast path, branch-free so the compiler vectorises it: most text is clean.
  unsigned bad = 0;
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    bad |= static_cast<unsigned>(static_cast<unsigned char>(c - 0x20) >= 0x5f) &
           static_cast<unsigned>(c != '\t');
  }
  if (bad == 0) return std::nullopt;
  if (unfinished && text.back() == '\r') text.remove_suffix(1);
  for (std::size_t i = 0; i < text.size();) {
    const char c = text[i];
    if (ascii::is_printable(c) || c == '\t') {
      ++i;
    } else if (!ascii::is_non_ascii(c)) {
      return text_fault{c == '\r' ? cr_code : errc::control_character, i};
    } else if (!allow_utf8) {
      return text_fault{errc::non_ascii, i};
    } else {
      std::size_t j = i;
      while (j < text.size() && ascii::is_non_ascii(text[j])) ++j;
      const auto bad_at = first_invalid_utf8(text.substr(i, j - i), unfinished && j == text.size());
      if (bad_at != std::string_view::npos) return text_fault{errc::bad_utf8, i + bad_at};
      i = j;
    }
  }
  return std::nullopt;
}

// The i-th digit of a Reply-code: %x32-35 %x30-35 %x30-39 (RFC 5321 §4.2).
constexpr bool reply_code_digit(std::size_t i, char c) noexcept {
  constexpr char hi[] = {'5', '5', '9'};
  return c >= (i == 0 ? '2' : '0') && c <= hi[i];
}

}  // namespace sansmtp::detail
