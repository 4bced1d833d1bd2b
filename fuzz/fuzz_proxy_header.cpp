// Fuzz target: the PROXY protocol reader and writer
// (include/sansmtp/codec/proxy_header.hpp). Builds as a libFuzzer target
// and as a corpus replay (fuzz/README.md).
//
// Input: byte 0 picks the options (bits 0-1: accept v1, v2 or any; bit 2:
// max_v2_size 256 (raised to the AF_UNIX minimum, 232) instead of 1024),
// byte 1 seeds the chunking, the rest is the stream. Invariants:
//  1. Split differential: whole, byte by byte and seeded random chunks give
//     the same status, the same error at the same offset, the same header
//     and the same octets consumed; after the header nothing more is taken.
//  2. A header is exactly `consumed` octets (`size`); v1 at most 107, v2 at
//     most the limit; an error lies within the input (or at its end, for
//     `incomplete`).
//  3. Addresses of inet and inet6 headers with the proxy command read back
//     as addresses of that family, and ports only come with them.
//  4. Round trip: write_proxy_header() of an accepted header reads back as
//     the same version, command, family, addresses, ports and TLVs.
#include <sansmtp/codec/proxy_header.hpp>
#include <sansmtp/syntax/ehlo_argument.hpp>

#include "fuzz_check.hpp"
#include "work_budget.hpp"

// Shared with the Catch2 tests: drives the reader over chunks.
#include "../tests/proxy_helpers.hpp"

#include <string>
#include <vector>

namespace {

using namespace sansmtp;

using outcome = sansmtp::test::proxy_outcome;

outcome read(std::string_view input, const std::vector<std::size_t>& cuts, const proxy_reader_options& o) {
  try {
    return sansmtp::test::read_proxy_chunks(input, cuts, o);
  } catch (const std::logic_error& e) {
    FUZZ_CHECK(false, e.what());
  }
}

std::string show(const outcome& r) {
  std::string s = std::to_string(static_cast<int>(r.status)) + " consumed " + std::to_string(r.consumed);
  if (r.error) s += " error " + std::string(errc_name(r.error->code)) + "@" + std::to_string(r.error->offset);
  const auto& h = r.header;
  s += " v" + std::to_string(static_cast<int>(h.version)) + " cmd " + std::to_string(static_cast<int>(h.command)) +
       " fam " + std::to_string(static_cast<int>(h.family)) + " " + fuzz::escape(h.source_address) + ":" +
       std::to_string(h.source_port) + " > " + fuzz::escape(h.destination_address) + ":" +
       std::to_string(h.destination_port) + " size " + std::to_string(h.size);
  for (const auto* v : {&h.alpn, &h.authority, &h.unique_id, &h.netns}) s += " [" + (*v ? fuzz::escape(**v) : "-") + "]";
  s += " ssl " + std::string(h.ssl ? fuzz::escape(h.ssl->version + "/" + h.ssl->cipher + "/" + h.ssl->common_name) : "-");
  s += " crc " + std::to_string(h.checksum_verified) + " tlvs " + std::to_string(h.other_tlvs.size());
  return s;
}

// The fields a round trip keeps (the checksum is not written back).
std::string fields(const proxy_header& h) {
  auto copy = h;
  copy.checksum_verified = false;
  copy.size = 0;
  outcome o;
  o.status = proxy_status::header;
  o.header = copy;
  return show(o);
}

}  // namespace

static constexpr sansmtp::fuzz::work_budget budget{"fuzz_proxy_header", 150000};

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const sansmtp::fuzz::input_scope scope(data, size, budget);
  auto knobs = sansmtp::fuzz::knobbed(data, size);
  if (!knobs) return 0;
  proxy_reader_options o;
  o.accept = static_cast<proxy_accept>(std::min(knobs->knobs & 3, 2));
  o.max_v2_size = (knobs->knobs & 4) ? 256 : 1024;
  const auto input = knobs->stream;

  // 1. Split differential.
  const auto whole = read(input, {}, o);
  std::vector<std::size_t> every;
  for (std::size_t i = 1; i < input.size() && i < 4096; ++i) every.push_back(i);
  const auto bytewise = read(input, every, o);
  const auto chunked = read(input, sansmtp::fuzz::random_cuts(input.size(), knobs->rng, 32, 64), o);
  FUZZ_CHECK(show(bytewise) == show(whole), show(bytewise) + " vs " + show(whole));
  FUZZ_CHECK(show(chunked) == show(whole), show(chunked) + " vs " + show(whole));

  // 2. Sizes and offsets.
  if (whole.status == proxy_status::header) {
    const auto& h = whole.header;
    FUZZ_CHECK(h.size == whole.consumed, show(whole));
    FUZZ_CHECK(h.version == proxy_version::v2 || h.size <= 107, show(whole));
    FUZZ_CHECK(h.version == proxy_version::v1 || h.size <= std::max<std::size_t>(o.max_v2_size, 232), show(whole));
  } else {
    FUZZ_CHECK(whole.error.has_value(), show(whole));
    FUZZ_CHECK(whole.error->offset <= input.size(), show(whole));
    FUZZ_CHECK(whole.error->code != errc::incomplete || whole.consumed == input.size(), show(whole));
  }

  // 3. Addresses.
  if (whole.status == proxy_status::header) {
    const auto& h = whole.header;
    if (h.has_addresses() && h.family == proxy_family::inet)
      FUZZ_CHECK(parse::ipv4_address(h.source_address) && parse::ipv4_address(h.destination_address), show(whole));
    if (h.has_addresses() && h.family == proxy_family::inet6)
      FUZZ_CHECK(parse::ipv6_address(h.source_address) && parse::ipv6_address(h.destination_address), show(whole));
    if (!h.has_addresses() && h.family != proxy_family::unix_socket)
      FUZZ_CHECK(h.source_port == 0 && h.destination_port == 0, show(whole));
  }

  // 4. Round trip.
  if (whole.status == proxy_status::header) {
    const auto written = write_proxy_header(whole.header);
    if (written) {
      proxy_reader_options any;
      any.max_v2_size = 0;
      const auto back = read(*written, {}, any);
      FUZZ_CHECK(back.status == proxy_status::header, show(back) + " from " + fuzz::escape(*written));
      // v1 UNKNOWN and v2 LOCAL carry no addresses; the rest must survive.
      FUZZ_CHECK(fields(back.header) == fields(whole.header) || !whole.header.has_addresses(),
                 fields(back.header) + " vs " + fields(whole.header));
    }
  }
  return 0;
}
