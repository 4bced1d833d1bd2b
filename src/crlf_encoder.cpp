#include <sansmtp/data.hpp>

namespace sansmtp {

bool crlf_encoder::take_clean(std::string_view piece) noexcept {
  if (cr_) return false;
  for (std::size_t i = 0; i < piece.size(); ++i) {
    if (piece[i] == '\r' && (i + 1 == piece.size() || piece[i + 1] != '\n')) return false;
    if (piece[i] == '\n' && (i == 0 || piece[i - 1] != '\r')) return false;
  }
  if (!piece.empty()) open_ = piece.back() != '\n';
  offset_ += piece.size();
  return true;
}

std::optional<data_error> crlf_encoder::normalize(std::string_view piece, std::string& out) {
  for (std::size_t i = 0; i < piece.size(); ++i, ++offset_) {
    const char c = piece[i];
    if (cr_) {
      cr_ = false;
      if (c == '\n') {
        out += "\r\n";
        open_ = false;
        continue;
      }
      if (options_.bare_cr == bare_line_encoding::reject) return data_error{errc::bare_cr, offset_ - 1};
      out += "\r\n";
      open_ = false;
    }
    if (c == '\r') {
      cr_ = true;
    } else if (c == '\n') {
      if (options_.bare_lf == bare_line_encoding::reject) return data_error{errc::bare_lf, offset_};
      out += "\r\n";
      open_ = false;
    } else {
      out += c;
      open_ = true;
    }
  }
  return std::nullopt;
}

std::string_view crlf_encoder::finish() noexcept {
  const bool cr = cr_, open = open_;
  cr_ = open_ = false;
  return cr || open ? "\r\n" : "";
}

}  // namespace sansmtp
