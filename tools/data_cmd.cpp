// sansmtp data decode [--bare-lf P] [--bare-cr P] [--max-line N] [--json] < STREAM
// sansmtp data encode [--bare-lf normalize|reject] [--bare-cr normalize|reject] < MESSAGE
#include "cli11_args.hpp"
#include "commands.hpp"
#include "sha256.hpp"

#include <sansmtp/codec/data.hpp>

#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace sansmtp::cli {
namespace {

constexpr std::size_t chunk_size = 64 * 1024;

const std::map<std::string, bare_line_ending> policies = {
    {"reject", bare_line_ending::reject},
    {"normalize", bare_line_ending::normalize},
    {"allow", bare_line_ending::allow},
};

// The errc name in the kebab-case earlier releases wrote ("bare-lf"), kept
// as error.legacy_code; error.code is errc_name(), as in every other JSON.
std::string kebab(errc e) {
  std::string s(errc_name(e));
  for (auto& c : s)
    if (c == '_') c = '-';
  return s;
}

bool write_all(std::span<const char> bytes) {
  return bytes.empty() || std::fwrite(bytes.data(), 1, bytes.size(), stdout) == bytes.size();
}


int decode(const data_decoder_options& options, bool json) {
  data_decoder decoder(options);
  sha256 digest;
  std::uint64_t trailing = 0;
  std::vector<char> buf(chunk_size);
  std::size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), stdin)) > 0) {
    std::string_view rest(buf.data(), n);
    if (decoder.complete()) {  // after the end: only counted
      trailing += n;
      continue;
    }
    for (;;) {
      const auto piece = decoder.next(rest);
      if (json)
        digest.update(piece.bytes);
      else if (!write_all(piece.bytes))
        return exit_fail;
      rest.remove_prefix(piece.consumed);
      if (piece.status == data_status::end_of_data) trailing += rest.size();
      if (piece.status != data_status::more) break;
    }
  }
  if (json) {
    nlohmann::ordered_json j;
    j["complete"] = decoder.complete();
    j["consumed"] = decoder.consumed();
    j["trailing"] = trailing;
    j["size"] = decoder.size();
    j["sha256"] = digest.hex();
    if (const auto& e = decoder.error())
      j["error"] = {{"code", std::string(e->name())}, {"offset", e->offset}, {"legacy_code", kebab(e->code)}};
    else
      j["error"] = nullptr;
    fmt::print("{}\n", j.dump());
  }
  std::fflush(stdout);
  if (!decoder.complete()) return exit_warn;  // 1: no end of data in the input
  return decoder.error() ? exit_fail : exit_pass;
}

int encode(const data_encoder_options& options) {
  data_encoder encoder(options);
  std::vector<char> buf(chunk_size);
  std::size_t n;
  while (!encoder.error() && (n = std::fread(buf.data(), 1, buf.size(), stdin)) > 0) {
    std::string_view rest(buf.data(), n);
    for (;;) {
      const auto piece = encoder.next(rest);
      if (!write_all(piece.bytes)) return exit_fail;
      rest.remove_prefix(piece.consumed);
      if (piece.status != data_status::more) break;
    }
  }
  if (const auto& e = encoder.error()) {
    std::fflush(stdout);
    fmt::print(stderr, "sansmtp data encode: {} at offset {}\n", make_error_code(e->code).message(),
               e->offset);
    return exit_fail;
  }
  if (!write_all(encoder.finish())) return exit_fail;
  std::fflush(stdout);
  return exit_pass;
}

}  // namespace

int run_data(args argv) {
  CLI::App app{"DATA transparency: decode what follows a 354, or encode a message for DATA", "sansmtp data"};
  app.require_subcommand(1);
  auto* dec = app.add_subcommand("decode", "Wire bytes after a 354 -> the message (stdout), up to CRLF.CRLF");
  std::string dec_lf = "reject", dec_cr = "reject";
  std::size_t max_line = 1000;
  bool json = false;
  dec->add_option("--bare-lf", dec_lf, "A LF without CR: reject (default), normalize (to CRLF) or allow")
      ->check(CLI::IsMember({"reject", "normalize", "allow"}));
  dec->add_option("--bare-cr", dec_cr, "A CR without LF: reject (default), normalize or allow")
      ->check(CLI::IsMember({"reject", "normalize", "allow"}));
  add_count(*dec, "--max-line", max_line, "Text line limit in octets with CRLF; 0 = off (RFC 5321 4.5.3.1.6)");
  dec->add_flag("--json", json,
                "Print {complete, consumed, trailing, size, sha256, error} instead of the message");
  auto* enc = app.add_subcommand("encode", "A message -> its DATA wire form with dot-stuffing and CRLF.CRLF");
  std::string enc_lf = "normalize", enc_cr;
  enc->add_option("--bare-lf", enc_lf,
                  "A LF without CR: normalize (to CRLF, default) or reject; also a bare CR unless --bare-cr")
      ->check(CLI::IsMember({"normalize", "reject"}));
  enc->add_option("--bare-cr", enc_cr, "A CR without LF: normalize (to CRLF) or reject; default: as --bare-lf")
      ->check(CLI::IsMember({"normalize", "reject"}));

  if (auto status = parse_cli11(app, argv)) return *status;
  if (dec->parsed()) {
    data_decoder_options options;
    options.bare_lf = policies.at(dec_lf);
    options.bare_cr = policies.at(dec_cr);
    options.max_line_length = max_line;
    return decode(options, json);
  }
  const auto encoding = [](const std::string& p) {
    return p == "reject" ? bare_line_encoding::reject : bare_line_encoding::normalize;
  };
  data_encoder_options options;
  options.bare_lf = encoding(enc_lf);
  options.bare_cr = encoding(enc_cr.empty() ? enc_lf : enc_cr);
  return encode(options);
}

}  // namespace sansmtp::cli
