// Drives the DATA codecs over an input cut into chunks, the way a network
// hands bytes over, and collects what they produce.
#pragma once

#include <sansmtp/codec/data.hpp>

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace sansmtp::test {

struct decoded {
  std::string output;
  bool complete = false;
  std::uint64_t consumed = 0;  // input bytes the decoder took
  std::string trailing;        // input left after the end of data
  std::optional<data_error> error;

  friend bool operator==(const decoded&, const decoded&) = default;
};

// Cuts `input` at the given offsets (ascending) and decodes chunk by chunk.
inline decoded decode_chunks(std::string_view input, const std::vector<std::size_t>& cuts,
                             const data_decoder_options& options = {}) {
  data_decoder d(options);
  decoded r;
  std::size_t from = 0;
  for (std::size_t i = 0; i <= cuts.size() && !r.complete; ++i) {
    const std::size_t to = i < cuts.size() ? cuts[i] : input.size();
    std::string_view chunk = input.substr(from, to - from);
    const std::string copy(chunk);  // the decoder must not need bytes of earlier chunks
    std::string_view rest = copy;
    for (;;) {
      const auto piece = d.next(rest);
      r.output.append(piece.bytes.data(), piece.bytes.size());
      rest.remove_prefix(piece.consumed);
      if (piece.status == data_status::end_of_data) {
        r.complete = true;
        r.trailing = std::string(rest) + std::string(input.substr(to));
        break;
      }
      if (piece.status == data_status::need_data) {
        if (!rest.empty()) throw std::logic_error("need_data with unconsumed input");
        break;
      }
    }
    from = to;
  }
  r.consumed = d.consumed();
  r.error = d.error();
  if (r.complete != d.complete()) throw std::logic_error("complete() disagrees");
  if (d.size() != r.output.size()) throw std::logic_error("size() disagrees");
  return r;
}

inline decoded decode_whole(std::string_view input, const data_decoder_options& options = {}) {
  return decode_chunks(input, {}, options);
}

inline decoded decode_bytewise(std::string_view input, const data_decoder_options& options = {}) {
  std::vector<std::size_t> cuts;
  for (std::size_t i = 1; i < input.size(); ++i) cuts.push_back(i);
  return decode_chunks(input, cuts, options);
}

struct encoded {
  std::string wire;
  std::optional<data_error> error;
  std::size_t pieces = 0;
};

inline encoded encode_chunks(std::string_view message, const std::vector<std::size_t>& cuts,
                             const data_encoder_options& options = {}) {
  data_encoder e(options);
  encoded r;
  std::size_t from = 0;
  for (std::size_t i = 0; i <= cuts.size(); ++i) {
    const std::size_t to = i < cuts.size() ? cuts[i] : message.size();
    const std::string copy(message.substr(from, to - from));
    std::string_view rest = copy;
    for (;;) {
      const auto piece = e.next(rest);
      r.wire.append(piece.bytes.data(), piece.bytes.size());
      ++r.pieces;
      rest.remove_prefix(piece.consumed);
      if (piece.status != data_status::more) break;
    }
    if (e.error()) break;
    from = to;
  }
  const auto tail = e.finish();
  r.wire.append(tail.data(), tail.size());
  r.error = e.error();
  return r;
}

// What the encoder promises to send for a message, as the decoder returns
// it: every bare CR or LF as CRLF, and a final CRLF when the message lacks one.
inline std::string normalized_line_endings(std::string_view m) {
  std::string out;
  for (std::size_t i = 0; i < m.size(); ++i) {
    if (m[i] == '\r' && i + 1 < m.size() && m[i + 1] == '\n') {
      out += "\r\n";
      ++i;
    } else if (m[i] == '\r' || m[i] == '\n') {
      out += "\r\n";
    } else {
      out += m[i];
    }
  }
  if (!out.empty() && !out.ends_with("\r\n")) out += "\r\n";
  return out;
}

}  // namespace sansmtp::test
