#include <sansmtp/advice/client_address.hpp>

#include <sansmtp/syntax/ehlo_argument.hpp>

#include "ascii.hpp"

#include <vector>

namespace sansmtp {

std::optional<std::string> echoed_client_address(const reply& r, std::string_view ehlo_name) {
  if (r.lines.empty()) return std::nullopt;
  std::string_view line = r.lines.front();
  // The server's own name comes first (RFC 5321 section 4.1.1.1), and may be a literal itself.
  const auto space = line.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  line.remove_prefix(space + 1);
  std::vector<std::string_view> found;  // each bracketed address, brackets included
  for (std::size_t open = line.find('['); open != std::string_view::npos; open = line.find('[', open + 1)) {
    const auto close = line.find(']', open);
    if (close == std::string_view::npos) break;
    auto inside = line.substr(open + 1, close - open - 1);
    if (ascii::istarts_with(inside, "IPv6:")) inside.remove_prefix(5);
    if (parse::ipv4_address(inside) || parse::ipv6_address(inside)) found.push_back(line.substr(open, close - open + 1));
  }
  // One echo of the EHLO name itself is the name, not the address seen.
  for (auto it = found.begin(); it != found.end(); ++it) {
    if (ascii::iequals(*it, ehlo_name)) {
      found.erase(it);
      break;
    }
  }
  if (found.empty()) return std::nullopt;
  auto last = found.back().substr(1, found.back().size() - 2);
  if (ascii::istarts_with(last, "IPv6:")) last.remove_prefix(5);
  return std::string(last);
}

}  // namespace sansmtp
