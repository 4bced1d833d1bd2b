// What a server's EHLO reply says it can do (RFC 5321 §4.1.1.1):
//
//   ehlo-ok-rsp  = ( "250" SP Domain [ SP ehlo-greet ] CRLF )
//                / ( "250-" Domain [ SP ehlo-greet ] CRLF
//                    *( "250-" ehlo-line CRLF ) "250" SP ehlo-line CRLF )
//   ehlo-line    = ehlo-keyword *( SP ehlo-param )
//   ehlo-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-")
//   ehlo-param   = 1*(%d33-126)
//
// Real servers send odd things, so nothing here fails the whole reply: a
// problem is a finding, and the rest is still read.
//  - The first line's domain is checked with parse::ehlo_argument (a finding
//    when it is not a Domain or address literal).
//  - A line whose first word is not an ehlo-keyword is a `bad_keyword`
//    finding and is left out of `lines` (there is no keyword to file it
//    under). The one exception is the pre-RFC 2554 "AUTH=LOGIN PLAIN" form:
//    its mechanisms join AUTH's, and the line is kept with legacy_auth set.
//  - A malformed parameter of a known keyword keeps the keyword present and
//    adds a finding.
//
// Lifetime rule: every view points into the reply lines that were parsed
// (keep the reply, or its reader, alive and unchanged); capabilities own
// nothing else, so copies and moves stay valid.
//
// Storage: up to 24 keyword lines and 8 SASL mechanisms live inside the
// object (small_vector); a longer reply moves them to the heap and loses
// nothing. A usual EHLO reply is parsed without allocating.
#pragma once

#include <sansmtp/core/errc.hpp>
#include <sansmtp/syntax/ehlo_argument.hpp>
#include <sansmtp/syntax/reply.hpp>
#include <sansmtp/core/small_vector.hpp>

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace sansmtp {

// The extensions a client acts on. Keywords are case-insensitive (RFC 5321
// §2.4); "X-STARTTLS" and other look-alikes are not these.
enum class extension : std::uint8_t {
  size,                 // RFC 1870
  eightbitmime,         // RFC 6152 "8BITMIME"
  pipelining,           // RFC 2920
  starttls,             // RFC 3207
  auth,                 // RFC 4954
  smtputf8,             // RFC 6531
  chunking,             // RFC 3030
  binarymime,           // RFC 3030
  dsn,                  // RFC 3461
  enhancedstatuscodes,  // RFC 2034
  requiretls,           // RFC 8689
  limits,               // RFC 9422
  deliverby,            // RFC 2852
  mt_priority,          // RFC 6710 "MT-PRIORITY"
  futurerelease,        // RFC 4865
  vrfy,                 // RFC 5321 §3.5
  etrn,                 // RFC 1985
  help,                 // RFC 5321 §4.1.1.8
  xclient,              // Postfix XCLIENT
};
inline constexpr std::size_t extension_count = 19;

// Every extension, in enum order: `for (extension e : all_extensions)`.
inline constexpr auto all_extensions = [] {
  std::array<extension, extension_count> all{};
  for (std::size_t i = 0; i < extension_count; ++i) all[i] = static_cast<extension>(i);
  return all;
}();

// The extensions of a bit set (bit 1 << extension), in enum order.
class extension_range {
 public:
  constexpr explicit extension_range(std::uint32_t bits) noexcept : bits_(bits) {}
  class iterator {
   public:
    using value_type = extension;
    using difference_type = std::ptrdiff_t;
    constexpr iterator() = default;
    constexpr explicit iterator(std::uint32_t rest) noexcept : rest_(rest) {}
    constexpr extension operator*() const noexcept { return static_cast<extension>(std::countr_zero(rest_)); }
    constexpr iterator& operator++() noexcept {
      rest_ &= rest_ - 1;  // clears the lowest set bit
      return *this;
    }
    constexpr iterator operator++(int) noexcept {
      auto old = *this;
      ++*this;
      return old;
    }
    friend constexpr bool operator==(iterator, iterator) noexcept = default;

   private:
    std::uint32_t rest_ = 0;
  };
  constexpr iterator begin() const noexcept { return iterator(bits_); }
  constexpr iterator end() const noexcept { return iterator(0); }
  constexpr bool empty() const noexcept { return bits_ == 0; }

 private:
  std::uint32_t bits_;
};

std::string_view extension_keyword(extension e) noexcept;  // "SIZE", "8BITMIME", "MT-PRIORITY", ...
std::optional<extension> extension_of(std::string_view keyword) noexcept;  // case-insensitive

// The words after an EHLO keyword (RFC 5321 §4.1.1.1 `*( SP ehlo-param )`),
// split at SP as they are read: a view of the line's text, no storage.
// Empty words (two spaces in a row, a space at the end) are skipped; the
// parser reports them as `extra_space`. For the pre-RFC 2554 "AUTH=LOGIN
// PLAIN" form the first mechanism is the one after "AUTH=".
class ehlo_param_range {
 public:
  ehlo_param_range() = default;
  explicit ehlo_param_range(std::string_view text) noexcept;
  // Internal: the parser has counted the words already.
  ehlo_param_range(std::string_view text, std::uint32_t count) noexcept : text_(text), count_(count) {}

  class iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = std::string_view;
    using difference_type = std::ptrdiff_t;
    using pointer = const std::string_view*;
    using reference = std::string_view;
    iterator() = default;
    explicit iterator(std::string_view rest) noexcept : rest_(rest) { load(); }
    std::string_view operator*() const noexcept { return word_; }
    const std::string_view* operator->() const noexcept { return &word_; }
    iterator& operator++() noexcept {
      rest_.remove_prefix(word_.size());
      load();
      return *this;
    }
    iterator operator++(int) noexcept {
      auto old = *this;
      ++*this;
      return old;
    }
    friend bool operator==(const iterator& a, const iterator& b) noexcept {
      return a.rest_.data() + a.rest_.size() == b.rest_.data() + b.rest_.size() && a.rest_.size() == b.rest_.size();
    }

   private:
    void load() noexcept {
      while (!rest_.empty() && rest_.front() == ' ') rest_.remove_prefix(1);
      word_ = rest_.substr(0, rest_.find(' '));
    }
    std::string_view rest_;
    std::string_view word_;
  };
  iterator begin() const noexcept { return iterator(text_); }
  iterator end() const noexcept { return iterator(text_.substr(text_.size())); }
  std::size_t size() const noexcept { return count_; }
  bool empty() const noexcept { return count_ == 0; }
  std::string_view front() const noexcept { return *begin(); }
  // The parameters as sent, spaces included.
  std::string_view text() const noexcept { return text_; }

 private:
  std::string_view text_;
  std::uint32_t count_ = 0;
};

// One keyword line, as sent.
struct ehlo_line {
  std::string_view keyword;
  ehlo_param_range params;  // the words after the keyword (views into the reply)
  std::size_t line = 0;  // index into the reply's lines
  std::optional<extension> known;
  bool legacy_auth = false;  // "AUTH=..." (keyword is then "AUTH")
  // An earlier line has the same keyword (ASCII case-insensitive; AUTH= and
  // AUTH lines count as one): the typed view keeps the first.
  bool repeated = false;
};

enum class ehlo_problem : std::uint8_t {
  bad_domain,         // the first line's domain is not parse::ehlo_argument (`error` says why)
  bad_keyword,        // not an ehlo-keyword; the line is skipped
  bad_param,          // a parameter outside %d33-126, or malformed for its known keyword
  unexpected_param,   // parameters on a known keyword that takes none
  missing_param,      // a known keyword without the parameters it needs (AUTH, FUTURERELEASE, LIMITS)
  extra_space,        // an empty word: two spaces in a row, or a space at the end
  duplicate_keyword,  // the keyword came before; the typed view keeps the first
  not_250,            // a 2xx other than 250 (ehlo-ok-rsp is 250)
};
std::string_view ehlo_problem_name(ehlo_problem p) noexcept;  // "bad-domain", ...

struct ehlo_finding {
  ehlo_problem problem = ehlo_problem::bad_keyword;
  std::size_t line = 0;      // index into the reply's lines
  std::string_view keyword;  // the keyword (or the first word of the line)
  std::string_view param;    // the parameter concerned, if any
  parse_error error;         // bad_domain: the ehlo_argument error
};

// RFC 9422 §4: the limits a server announces with LIMITS (absent = none, or
// a value outside 1 to 999999, which is a finding).
struct smtp_limits {
  std::optional<std::uint64_t> rcptmax;        // RCPT commands per transaction
  std::optional<std::uint64_t> mailmax;        // transactions per session
  std::optional<std::uint64_t> rcptdomainmax;  // recipient domains per transaction
};

// A parsed EHLO reply: every line and finding, and the typed view. Views
// point into the reply's text (keep the reply alive).
struct capabilities {
  int code = 0;
  bool ok = false;                // a 2xx reply; the rest is filled only then
  std::string_view domain;        // first word of the first line
  std::string_view greeting;      // the rest of the first line after its SP
  std::optional<ehlo_host> host;  // the domain, when parse::ehlo_argument accepts it
  small_vector<ehlo_line, 24> lines;  // every keyword line, in order, known or not
  std::vector<ehlo_finding> findings;

  // Typed view.
  std::uint32_t present = 0;  // bit (1 << extension)
  bool has(extension e) const noexcept { return (present >> static_cast<unsigned>(e)) & 1u; }
  // The present extensions, in enum order: `for (extension e : caps.extensions())`.
  extension_range extensions() const noexcept { return extension_range(present); }
  // SIZE's limit in octets; nullopt without SIZE, and for SIZE without a
  // parameter or with 0 (RFC 1870 §4: no fixed maximum).
  std::optional<std::uint64_t> size;
  small_vector<std::string_view, 8> auth;  // mechanisms in order, AUTH= lines merged, no repeats
  // Also nullopt when the LIMITS line breaks RFC 9422's grammar (a finding):
  // §3.7 has the client ignore LIMITS entirely then.
  std::optional<smtp_limits> limits;
  // The typed values below are set only when their word has the grammar its
  // RFC gives (grammar/ehlo_params.rl); a word without it is a bad_param
  // finding and leaves the value unset.
  std::optional<std::uint64_t> deliverby_min;               // RFC 2852 min-by-time (1*9DIGIT), when given
  std::string_view mt_priority_profile;                     // RFC 6710, an esmtp-keyword, when given
  std::optional<std::uint64_t> futurerelease_max_interval;  // RFC 4865, seconds (1*9DIGIT)
  std::string_view futurerelease_max_datetime;              // RFC 4865, an RFC 3339 date-time as sent
  std::vector<std::string_view> xclient;                    // XCLIENT attribute names

  // The first line with this keyword (case-insensitive), or nullptr.
  const ehlo_line* find(std::string_view keyword) const noexcept;
};

namespace parse {
capabilities ehlo_response(int code, std::span<const std::string_view> lines);
inline capabilities ehlo_response(const reply& r) { return ehlo_response(r.code, r.lines); }
}  // namespace parse

}  // namespace sansmtp
