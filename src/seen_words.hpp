// Internal: "did this word come before?" for ASCII case-insensitive words
// (EHLO keywords and SASL mechanisms, RFC 5321 §2.4; ESMTP parameter
// keywords, §4.1.2), in constant time per word on average.
#pragma once

#include "ascii.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <unordered_set>

namespace sansmtp::detail {

// Peers control how many words arrive (an EHLO reply of 64 KB holds 12000
// SASL names), so comparing each with all earlier ones is quadratic. Real
// lists are short: up to `inline_words` they are scanned in place without
// allocating; past that they move into a hash set. Views point into text the
// caller keeps alive.
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
    if (many_.empty()) {  // the first word past the inline ones
      many_.reserve(2 * inline_words);
      many_.insert(few_.begin(), few_.end());
    }
    return many_.insert(word).second;
  }

 private:
  // FNV-1a over the lower-cased octets.
  struct fold_hash {
    std::size_t operator()(std::string_view s) const noexcept {
      std::uint64_t h = 14695981039346656037u;
      for (const char c : s) h = (h ^ static_cast<unsigned char>(ascii::to_lower(c))) * 1099511628211u;
      return static_cast<std::size_t>(h);
    }
  };
  struct fold_equal {
    bool operator()(std::string_view a, std::string_view b) const noexcept { return ascii::iequals(a, b); }
  };

  std::array<std::string_view, inline_words> few_;
  std::size_t count_ = 0;  // in few_
  std::unordered_set<std::string_view, fold_hash, fold_equal> many_;
};

}  // namespace sansmtp::detail
