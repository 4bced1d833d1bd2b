// Drives the PROXY reader over an input cut into chunks, the way a network
// hands bytes over; shared by the Catch2 tests and fuzz_proxy_header.
#pragma once

#include <sansmtp/codec/proxy_header.hpp>

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace sansmtp::test {

struct proxy_outcome {
  proxy_status status = proxy_status::need_data;
  std::optional<parse_error> error;
  std::uint64_t consumed = 0;
  proxy_header header;
};

// Cuts `input` at `cuts` (ascending), each chunk a fresh copy; stops at the
// header or an error (and checks that nothing more is read then), calls
// finish() when the input ends undecided. Throws std::logic_error when the
// reader breaks its contract (consumes more than given, leaves octets on
// need_data, reads on after the end, disagrees with consumed()).
inline proxy_outcome read_proxy_chunks(std::string_view input, const std::vector<std::size_t>& cuts,
                                       const proxy_reader_options& options = {}) {
  proxy_reader reader(options);
  proxy_outcome out;
  std::size_t from = 0;
  for (std::size_t i = 0; i <= cuts.size(); ++i) {
    const std::size_t to = i < cuts.size() ? cuts[i] : input.size();
    const std::string chunk(input.substr(from, to - from));
    const auto step = reader.next(chunk);
    if (step.consumed > chunk.size()) throw std::logic_error("consumed more than given");
    if (step.status == proxy_status::need_data && step.consumed != chunk.size())
      throw std::logic_error("need_data with octets left");
    out.consumed += step.consumed;
    out.status = step.status;
    if (step.status != proxy_status::need_data) {
      const auto again = reader.next("more");
      if (again.consumed != 0 || again.status != step.status) throw std::logic_error("read on after the end");
      break;
    }
    from = to;
  }
  if (out.status == proxy_status::need_data) (void)reader.finish();
  out.error = reader.error();
  if (out.status == proxy_status::header) out.header = reader.header();
  if (reader.consumed() != out.consumed) throw std::logic_error("consumed() disagrees");
  return out;
}

}  // namespace sansmtp::test
