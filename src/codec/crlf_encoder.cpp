#include <sansmtp/codec/data.hpp>

#include <cstring>

namespace sansmtp {

bool crlf_encoder::take_clean(std::string_view piece) noexcept {
  if (cr_) return false;
  if (piece.empty()) return true;  // (its data() may be null: no memchr on it)
  // Every LF has a CR before it, and there are as many CRs as LFs: then
  // every CR is followed by its LF. Two memchr walks, no per-octet branch.
  const char* const begin = piece.data();
  const char* const end = begin + piece.size();
  std::size_t lfs = 0, crs = 0;
  for (const char* p = begin; (p = static_cast<const char*>(std::memchr(p, '\n', static_cast<std::size_t>(end - p))));
       ++p, ++lfs)
    if (p == begin || p[-1] != '\r') return false;
  for (const char* p = begin; (p = static_cast<const char*>(std::memchr(p, '\r', static_cast<std::size_t>(end - p))));
       ++p, ++crs)
    if (crs == lfs) return false;
  if (crs != lfs) return false;
  open_ = piece.back() != '\n';
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
