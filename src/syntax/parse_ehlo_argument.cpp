// EHLO argument and bare IP parsers: the Ragel machine (grammar/address.rl)
// decides what is grammatical; this file names the error and converts
// accepted address text to bytes (no re-validation is needed there).
#include <sansmtp/syntax/ehlo_argument.hpp>

#include "address_scan.hpp"
#include "ascii.hpp"

#include <algorithm>

namespace sansmtp {

std::string_view host_kind_name(host_kind k) noexcept {
  switch (k) {
    case host_kind::domain:
      return "domain";
    case host_kind::ipv4_literal:
      return "ipv4-literal";
    case host_kind::ipv6_literal:
      return "ipv6-literal";
    case host_kind::general_literal:
      return "general-literal";
  }
  return "unknown";
}

namespace {

using detail::address_form;
using detail::scan_address;

constexpr std::string_view ipv6_tag = "IPv6:";

bool has_ipv6_tag(std::string_view content) noexcept { return ascii::istarts_with(content, ipv6_tag); }

// Text accepted as IPv4-address-literal -> 4 bytes.
std::array<std::uint8_t, 4> ipv4_bytes(std::string_view text) noexcept {
  std::array<std::uint8_t, 4> out{};
  unsigned value = 0;
  std::size_t i = 0;
  for (char c : text) {
    if (c == '.') {
      out[i++] = static_cast<std::uint8_t>(value);
      value = 0;
    } else {
      value = value * 10 + static_cast<unsigned>(c - '0');
    }
  }
  out[i] = static_cast<std::uint8_t>(value);
  return out;
}

// Groups of a validated IPv6 fragment ("1:2:3" or "1:2:1.2.3.4"), appended as
// 16-bit values; an embedded IPv4 address counts as two groups.
std::size_t ipv6_groups(std::string_view text, std::uint16_t* out) noexcept {
  std::size_t n = 0;
  while (!text.empty()) {
    const auto colon = text.find(':');
    const auto group = text.substr(0, colon);
    if (group.find('.') != std::string_view::npos) {
      const auto v4 = ipv4_bytes(group);
      out[n++] = static_cast<std::uint16_t>(v4[0] << 8 | v4[1]);
      out[n++] = static_cast<std::uint16_t>(v4[2] << 8 | v4[3]);
    } else {
      unsigned value = 0;
      for (char c : group) value = value * 16 + ascii::hex_value(c);
      out[n++] = static_cast<std::uint16_t>(value);
    }
    if (colon == std::string_view::npos) break;
    text.remove_prefix(colon + 1);
  }
  return n;
}

// Text accepted as IPv6-addr -> 16 bytes; "::" fills the missing groups.
std::array<std::uint8_t, 16> ipv6_bytes(std::string_view text) noexcept {
  std::uint16_t head[8]{}, tail[8]{};
  std::size_t nhead = 0, ntail = 0;
  const auto gap = text.find("::");
  if (gap == std::string_view::npos) {
    nhead = ipv6_groups(text, head);
  } else {
    nhead = ipv6_groups(text.substr(0, gap), head);
    ntail = ipv6_groups(text.substr(gap + 2), tail);
  }
  std::uint16_t groups[8]{};
  std::copy_n(head, nhead, groups);
  std::copy_n(tail, ntail, groups + (8 - ntail));
  std::array<std::uint8_t, 16> out{};
  for (std::size_t i = 0; i < 8; ++i) {
    out[2 * i] = static_cast<std::uint8_t>(groups[i] >> 8);
    out[2 * i + 1] = static_cast<std::uint8_t>(groups[i] & 0xff);
  }
  return out;
}

// Why a Domain did not match, from the byte where the machine stopped.
parse_error domain_error(std::string_view text, std::size_t at) noexcept {
  if (at >= text.size()) {  // ran out inside a label or after a dot
    const char last = text.back();
    if (last == '-') return {errc::label_hyphen, text.size() - 1};
    if (text.size() == 1) return {errc::empty_label, 0};
    return {errc::trailing_dot, text.size() - 1};
  }
  const char c = text[at];
  const bool label_start = at == 0 || text[at - 1] == '.';
  if (c == '.') {
    if (label_start) return {errc::empty_label, at};
    return {errc::label_hyphen, at - 1};  // only "-" can precede a refused "."
  }
  if (c == '-' && label_start) return {errc::label_hyphen, at};
  return {errc::invalid_character, at};
}

// Why "[...]" did not match. The form is judged from the content so the code
// names what the sender evidently meant.
parse_error literal_error(std::string_view text, std::size_t at) noexcept {
  const auto close = text.find(']');
  if (close != std::string_view::npos && at > close) return {errc::trailing_characters, at};
  if (close == std::string_view::npos && at >= text.size()) return {errc::unterminated_literal, text.size()};
  const auto content = text.substr(1, close == std::string_view::npos ? text.npos : close - 1);
  errc code = errc::bad_address_literal;
  if (has_ipv6_tag(content)) {
    code = errc::bad_ipv6_literal;
  } else if (content.find(':') == std::string_view::npos && !content.empty() &&
             std::all_of(content.begin(), content.end(),
                         [](char c) { return ascii::is_digit(c) || c == '.'; })) {
    code = errc::bad_ipv4_literal;
  }
  return {code, at};
}

ehlo_host classify_literal(std::string_view text) noexcept {
  ehlo_host host;
  host.text = text;
  const auto content = text.substr(1, text.size() - 2);
  if (has_ipv6_tag(content)) {
    host.kind = host_kind::ipv6_literal;
    host.tag = content.substr(0, ipv6_tag.size() - 1);
    host.value = content.substr(ipv6_tag.size());
    host.address = ipv6_bytes(host.value);
  } else if (const auto colon = content.find(':'); colon != std::string_view::npos) {
    host.kind = host_kind::general_literal;
    host.tag = content.substr(0, colon);
    host.value = content.substr(colon + 1);
  } else {
    host.kind = host_kind::ipv4_literal;
    host.value = content;
    const auto v4 = ipv4_bytes(content);
    std::copy(v4.begin(), v4.end(), host.address.begin());
  }
  return host;
}

}  // namespace

namespace parse {

parse_result<ehlo_host> ehlo_argument(std::string_view arg) noexcept {
  if (arg.empty()) return parse_error{errc::empty_argument, 0};
  ehlo_host host;
  host.kind = host_kind::domain;
  host.text = arg;
  host.value = arg;
  if (detail::plain_domain(arg)) return host;  // the usual case, without the machine
  const auto scan = scan_address(arg, address_form::ehlo_argument);
  const bool literal = arg.front() == '[';
  if (!scan.accepted) {
    auto error = literal ? literal_error(arg, scan.fail_offset) : domain_error(arg, scan.fail_offset);
    // A limit broken earlier in the text is the first thing wrong with it.
    if (scan.limit != errc::ok && scan.limit_offset < error.offset) error = {scan.limit, scan.limit_offset};
    return error;
  }
  if (scan.limit != errc::ok) return parse_error{scan.limit, scan.limit_offset};
  if (literal) return classify_literal(arg);
  return host;
}

parse_result<std::array<std::uint8_t, 4>> ipv4_address(std::string_view text) noexcept {
  const auto scan = scan_address(text, address_form::ipv4);
  if (!scan.accepted) return parse_error{errc::bad_ipv4_literal, scan.fail_offset};
  return ipv4_bytes(text);
}

parse_result<std::array<std::uint8_t, 16>> ipv6_address(std::string_view text) noexcept {
  const auto scan = scan_address(text, address_form::ipv6);
  if (!scan.accepted) return parse_error{errc::bad_ipv6_literal, scan.fail_offset};
  return ipv6_bytes(text);
}

}  // namespace parse
}  // namespace sansmtp
