// Shared by the fuzz targets: how an invariant violation is reported.
//
// FUZZ_CHECK(cond, detail) prints the failed condition, `detail` (a
// std::string, evaluated only on failure) and the current input hex-escaped to
// stderr, then aborts, so libFuzzer saves the input and the replay driver (and
// ctest) fail loudly. Each target calls sansmtp::fuzz::set_input() first.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace sansmtp::fuzz {

inline std::string_view& current_input() noexcept {
  static std::string_view input;
  return input;
}

inline void set_input(const std::uint8_t* data, std::size_t size) noexcept {
  current_input() = {reinterpret_cast<const char*>(data), size};
}

// Printable ASCII as is ("\" and '"' escaped), everything else as \xNN: safe to
// paste into a C++ string literal or `printf '...'`.
inline std::string escape(std::string_view bytes) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  for (const char c : bytes) {
    const auto b = static_cast<unsigned char>(c);
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (b >= 0x20 && b < 0x7f) {
      out += c;
    } else {
      out += "\\x";
      out += hex[b >> 4];
      out += hex[b & 0xf];
    }
  }
  return out;
}

inline std::string hex_bytes(const std::uint8_t* bytes, std::size_t size) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < size; ++i) {
    out += hex[bytes[i] >> 4];
    out += hex[bytes[i] & 0xf];
  }
  return out;
}

// The input layout of the stream targets: byte 0 picks options, byte 1
// seeds the chunking, the rest is the stream. nullopt for inputs too short.
struct knobbed_input {
  std::uint8_t knobs = 0;
  std::mt19937 rng;
  std::string_view stream;
};

inline std::optional<knobbed_input> knobbed(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return std::nullopt;
  return knobbed_input{data[0], std::mt19937(data[1]), {reinterpret_cast<const char*>(data) + 2, size - 2}};
}

// Ascending cut points for a split differential: the first within
// `first_max` octets, then every 1 to `step_max` octets.
inline std::vector<std::size_t> random_cuts(std::size_t size, std::mt19937& rng, unsigned first_max,
                                            unsigned step_max) {
  std::vector<std::size_t> cuts;
  for (std::size_t c = rng() % first_max; c < size; c += 1 + rng() % step_max) cuts.push_back(c);
  return cuts;
}

[[noreturn]] inline void violated(const char* file, int line, const char* condition,
                                  const std::string& detail) {
  // The first 2 KiB of the input (libFuzzer saves all of it; a replay reads the file).
  constexpr std::size_t shown = 2048;
  const auto input = current_input();
  const std::string more =
      input.size() > shown ? " ... (" + std::to_string(input.size() - shown) + " more octets)" : "";
  std::fprintf(stderr,
               "\n==== fuzz invariant violated (%s:%d) ====\n"
               "  check:  %s\n"
               "  detail: %s\n"
               "  input:  %zu bytes \"%s\"%s\n",
               file, line, condition, detail.c_str(), input.size(), escape(input.substr(0, shown)).c_str(),
               more.c_str());
  std::fflush(stderr);
  std::abort();
}

}  // namespace sansmtp::fuzz

#define FUZZ_CHECK(cond, detail)                                               \
  do {                                                                         \
    if (!(cond)) ::sansmtp::fuzz::violated(__FILE__, __LINE__, #cond, detail); \
  } while (0)
