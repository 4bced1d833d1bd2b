// Internal: "did this word come before?" for ASCII case-insensitive words
// (EHLO keywords and SASL mechanisms, RFC 5321 §2.4; ESMTP parameter
// keywords, §4.1.2), in O(log n) time per word, whatever the words.
#pragma once

#include "ascii.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <set>

namespace sansmtp::detail {

// Peers control how many words arrive (an EHLO reply of 64 KB holds 12000
// SASL names), so comparing each with all earlier ones is quadratic. Real
// lists are short: up to `inline_words` they are scanned in place without
// allocating; past that they move into an ordered set. Not a hash set: the
// peer chooses the words, and words that collide in an unseeded hash would
// make it quadratic again (hash flooding); a comparison tree has no input
// that degrades it. Views point into text the caller keeps alive.
class seen_words {
 public:
  static constexpr std::size_t inline_words = 16;

  // Remembers `word`; false when an equal word (ASCII case-insensitive) was
  // remembered before.
  bool insert(std::string_view word) {
    if (count_ < inline_words) {
      for (std::size_t i = 0; i < count_; ++i)
        if (ascii::iequals(few_[i], word)) return false;
      few_[count_++] = word;
      return true;
    }
    if (many_.empty()) many_.insert(few_.begin(), few_.end());  // the first word past the inline ones
    return many_.insert(word).second;
  }

 private:
  // ASCII case-insensitive order.
  struct fold_less {
    bool operator()(std::string_view a, std::string_view b) const noexcept {
      const std::size_t n = a.size() < b.size() ? a.size() : b.size();
      for (std::size_t i = 0; i < n; ++i) {
        const char x = ascii::to_lower(a[i]), y = ascii::to_lower(b[i]);
        if (x != y) return static_cast<unsigned char>(x) < static_cast<unsigned char>(y);
      }
      return a.size() < b.size();
    }
  };

  std::array<std::string_view, inline_words> few_;
  std::size_t count_ = 0;  // in few_
  std::set<std::string_view, fold_less> many_;
};

}  // namespace sansmtp::detail
