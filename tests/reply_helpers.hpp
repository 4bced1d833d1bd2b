// Drives the reply reader over an input cut into chunks, the way a network
// hands bytes over, and collects copies of what it produces.
#pragma once

#include <sansmtp/codec/reply_reader.hpp>
#include <sansmtp/syntax/reply.hpp>

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace sansmtp::test {

struct read_reply {
  int code = 0;
  std::optional<enhanced_status> enhanced;
  std::vector<std::string> lines;
  std::uint64_t offset = 0, size = 0;

  friend bool operator==(const read_reply&, const read_reply&) = default;
};

struct read_result {
  std::vector<read_reply> replies;
  std::optional<reply_error> error;

  friend bool operator==(const read_result&, const read_result&) = default;
};

inline read_reply copy_of(const reply& r) {
  read_reply out{r.code, r.enhanced, {}, r.offset, r.size};
  for (const auto line : r.lines) out.lines.emplace_back(line);
  return out;
}

// Cuts `input` at the given offsets (ascending), reads chunk by chunk, then
// calls finish() when `at_end`. Each chunk is a fresh copy that dies after
// its calls: the reader must not keep views into earlier chunks.
inline read_result read_chunks(std::string_view input, const std::vector<std::size_t>& cuts,
                               const reply_reader_options& options = {}, bool at_end = true) {
  reply_reader reader(options);
  read_result r;
  std::size_t from = 0;
  for (std::size_t i = 0; i <= cuts.size() && !r.error; ++i) {
    const std::size_t to = i < cuts.size() ? cuts[i] : input.size();
    const std::string copy(input.substr(from, to - from));
    std::string_view rest = copy;
    for (;;) {
      const auto step = reader.next(rest);
      if (step.consumed > rest.size()) throw std::logic_error("consumed more than given");
      rest.remove_prefix(step.consumed);
      if (step.status == reply_status::reply) {
        r.replies.push_back(copy_of(reader.current()));
        continue;
      }
      if (step.status == reply_status::error) {
        r.error = reader.error();
        if (!r.error) throw std::logic_error("error status without error()");
      } else if (!rest.empty()) {
        throw std::logic_error("need_data with unconsumed input");
      }
      break;
    }
    from = to;
  }
  if (at_end && !r.error) r.error = reader.finish();
  return r;
}

inline std::vector<std::size_t> every_byte(std::size_t size) {
  std::vector<std::size_t> cuts;
  for (std::size_t i = 1; i < size; ++i) cuts.push_back(i);
  return cuts;
}

}  // namespace sansmtp::test
