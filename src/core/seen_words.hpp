// Internal: "did this word come before?" for ASCII case-insensitive words
// (EHLO keywords and SASL mechanisms, RFC 5321 §2.4; ESMTP parameter
// keywords, §4.1.2), in time linear in the word's length, whatever the words.
#pragma once

#include "ascii.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace sansmtp::detail {

// Peers control how many words arrive (an EHLO reply of 64 KB holds 12000
// SASL names), so comparing each with all earlier ones is quadratic. Real
// lists are short: up to `inline_words` they are scanned in place without
// allocating; past that they go into a trie of case-folded octets, whose
// cost is linear in the octets inserted whatever the words are. Not a hash
// set: the peer chooses the words, and words that collide in an unseeded
// hash make it quadratic again (hash flooding); not an ordered set either,
// which costs O(n log n). A trie node's children are a list, so one octet
// costs at most 256 steps: a constant.
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
    if (nodes_.empty()) {  // the first word past the inline ones
      nodes_.emplace_back();  // the root
      for (const auto w : few_) add(w);
    }
    return add(word);
  }

 private:
  struct node {
    std::uint32_t child = 0;    // first child, 0 = none (the root is no one's child)
    std::uint32_t sibling = 0;  // next child of the same parent, 0 = none
    unsigned char octet = 0;    // folded
    bool word_end = false;
  };

  bool add(std::string_view word) {
    std::uint32_t at = 0;
    for (const char c : word) {
      const auto octet = static_cast<unsigned char>(ascii::to_lower(c));
      std::uint32_t child = nodes_[at].child;
      while (child != 0 && nodes_[child].octet != octet) child = nodes_[child].sibling;
      if (child == 0) {
        child = static_cast<std::uint32_t>(nodes_.size());
        nodes_.push_back(node{0, nodes_[at].child, octet, false});
        nodes_[at].child = child;
      }
      at = child;
    }
    if (nodes_[at].word_end) return false;
    nodes_[at].word_end = true;
    return true;
  }

  std::array<std::string_view, inline_words> few_;
  std::size_t count_ = 0;  // in few_
  std::vector<node> nodes_;
};

}  // namespace sansmtp::detail
