// Fuzz target: the EHLO argument parser, the bare IP parsers and the EHLO-name
// linter (parse::ehlo_argument, parse::ipv4_address, parse::ipv6_address,
// check_ehlo_name). Builds as a libFuzzer target and as a corpus replay (see
// fuzz/README.md). Any violated invariant prints the input and aborts.
//
// Invariants:
//  1. ehlo_argument returns a host, or a parse_error with code != ok and
//     offset <= input size; the bare parsers likewise.
//  2. An accepted host: `text` is the whole input; `value` and `tag` point into
//     it; a Domain is LDH labels of 1..63 octets (no "-" at either end), at most
//     255 octets in all; a literal's parts spell the input back; re-parsing a
//     copy of host.text gives the same kind, parts and address bytes.
//     The plain-domain fast path (detail::plain_domain) accepts only what
//     the Ragel machine accepts as a Domain within both limits.
//  3. The entry points agree: "[x]" is an IPv4 literal exactly when
//     ipv4_address(x) accepts, "[IPv6:x]" is accepted exactly when
//     ipv6_address(x) accepts (same bytes), and a bare IPv4 address is a Domain.
//  4. check_ehlo_name, in both profiles: name == input; syntax_valid == parse
//     ok; kind is set exactly when syntax_valid, and matches; the verdict is the
//     worst finding (info counts as pass); every code is non-empty kebab-case
//     and every message non-empty; an invalid name has a "syntax" or "empty"
//     finding and fails, as does any name holding CR, LF or NUL; no message or
//     suggestion holds a raw CR, LF or NUL.
//  5. Differential against glibc inet_pton: the IPv4 literal's content, the
//     IPv6 literal's address text and the raw input (ipv4_address and
//     ipv6_address) give the same bytes as inet_pton(AF_INET / AF_INET6)
//     whenever both accept; when only one accepts, the case must be one of the
//     deliberate RFC 5321 differences below, recognised explicitly.
//
// Where RFC 5321 and inet_pton disagree on purpose. Checked against glibc 2.36
// with a throwaway program; nothing else is tolerated:
//  (a) RFC 5321 accepts, inet_pton refuses: an IPv4 part, bare or the tail of
//      an IPv6 address, with a leading zero: "010.0.0.1", "1.2.3.04",
//      "::ffff:01.2.3.4", "1:2:3:4:5:6:00.1.2.3". Snum = 1*3DIGIT (§4.1.3)
//      allows it; glibc refuses an octet that starts with "0" and has more
//      digits. Recognised by: the IPv4 part has such an octet, and with the
//      leading zeros removed inet_pton accepts it and gives the same bytes.
//  (b) inet_pton accepts, RFC 5321 refuses: "::" standing for exactly one
//      16-bit group, i.e. seven explicit groups besides the "::" (an IPv4 tail
//      counts as two): "1:2:3:4:5:6:7::", "1::2:3:4:5:6:7", "::1:2:3:4:5:6:7",
//      "1:2:3:4:5::1.2.3.4", "::1:2:3:4:5:1.2.3.4". §4.1.3 IPv6-comp allows at
//      most 6 groups besides "::", IPv6v4-comp at most 4 besides "::" and the
//      IPv4 part (errata 2467/4315 are not applied, see grammar/smtp_common.rl);
//      RFC 4291 §2.2 and glibc allow it. Recognised by: exactly one "::", and
//      seven explicit groups.
// glibc agrees with RFC 5321 on the rest that was tried: no hex or octal IPv4,
// exactly 4 octets, 1..4 hex digits a group, one "::", the IPv4 part last,
// upper- and lower-case hex, "::" alone, no zone ("%eth0"), no spaces.
#include <sansmtp/syntax/ehlo_check.hpp>
#include <sansmtp/syntax/ehlo_argument.hpp>

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "address_scan.hpp"
#include "fuzz_check.hpp"
#include "work_budget.hpp"

namespace {

using namespace sansmtp;
using sansmtp::fuzz::escape;

template <std::size_t N>
std::string hex(const std::array<std::uint8_t, N>& a) {
  return sansmtp::fuzz::hex_bytes(a.data(), N);
}

std::string hex(std::span<const std::uint8_t> a) { return sansmtp::fuzz::hex_bytes(a.data(), a.size()); }

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_let_dig(char c) { return is_digit(c) || is_alpha(c); }
bool is_ldh(char c) { return is_let_dig(c) || c == '-'; }
bool has_crlfnul(std::string_view s) { return s.find_first_of(std::string_view("\r\n\0", 3)) != s.npos; }

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
           return lower(x) == lower(y);
         });
}

// Concatenation without `"[" + std::string(x)`, which trips GCC 12's -Wrestrict
// false positive (GCC bug 105329).
std::string cat(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (const auto part : parts) out.append(part);
  return out;
}

std::string errc_text(errc e) { return std::string(errc_name(e)); }

std::string error_text(const parse_error& e) { return errc_text(e.code) + " at " + std::to_string(e.offset); }

// `part` is a view into `whole` (or empty).
bool points_into(std::string_view part, std::string_view whole) {
  if (part.empty()) return true;
  return part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size();
}

std::size_t offset_in(std::string_view part, std::string_view whole) {
  return part.empty() ? 0 : static_cast<std::size_t>(part.data() - whole.data());
}

// ------------------------------------------------------------------ inet_pton

// inet_pton on a view; nullopt when it refuses. A text holding a NUL is not
// asked (inet_pton would stop there): the grammar never allows a NUL anyway.
template <std::size_t N>
std::optional<std::array<std::uint8_t, N>> pton(std::string_view text) {
  static_assert(N == 4 || N == 16);
  if (text.find('\0') != text.npos) return std::nullopt;
  const std::string z(text);
  std::array<std::uint8_t, N> out{};
  if (inet_pton(N == 4 ? AF_INET : AF_INET6, z.c_str(), out.data()) != 1) return std::nullopt;
  return out;
}

// The dotted part of an IPv4 or IPv6 address text (after the last ':').
std::string_view ipv4_part(std::string_view text) {
  const auto colon = text.rfind(':');
  return colon == text.npos ? text : text.substr(colon + 1);
}

bool has_leading_zero_octet(std::string_view ipv4) {
  for (std::size_t i = 0; i + 1 < ipv4.size(); ++i)
    if ((i == 0 || ipv4[i - 1] == '.') && ipv4[i] == '0' && is_digit(ipv4[i + 1])) return true;
  return false;
}

// The text with every IPv4 octet's leading zeros removed ("010" -> "10", "000" -> "0").
std::string strip_leading_zeros(std::string_view text) {
  const auto v4 = ipv4_part(text);
  std::string out(text.substr(0, text.size() - v4.size()));
  bool octet_start = true;
  for (std::size_t i = 0; i < v4.size(); ++i) {
    if (octet_start && v4[i] == '0' && i + 1 < v4.size() && is_digit(v4[i + 1])) continue;
    octet_start = v4[i] == '.';
    out += v4[i];
  }
  return out;
}

// Case (a): RFC 5321 accepted `text` as `rfc`; inet_pton refused it.
template <std::size_t N>
bool rfc_only_leading_zero(std::string_view text, const std::array<std::uint8_t, N>& rfc) {
  const auto v4 = ipv4_part(text);
  if (v4.find('.') == v4.npos || !has_leading_zero_octet(v4)) return false;
  const auto fixed = pton<N>(strip_leading_zeros(text));
  return fixed && *fixed == rfc;
}

// Case (b): inet_pton accepted `text`; RFC 5321 refused it.
bool pton_only_one_group_gap(std::string_view text) {
  const auto gap = text.find("::");
  if (gap == text.npos || text.find("::", gap + 1) != text.npos) return false;
  std::size_t groups = 0;
  std::size_t start = 0;
  while (start <= text.size()) {
    auto end = text.find(':', start);
    if (end == text.npos) end = text.size();
    const auto group = text.substr(start, end - start);
    if (!group.empty()) groups += group.find('.') != group.npos ? 2 : 1;
    start = end + 1;
  }
  return groups == 7;
}

// ------------------------------------------------------------ ehlo_argument

void check_domain(const ehlo_host& h) {
  const auto name = h.text;
  FUZZ_CHECK(h.value == name, "domain value \"" + escape(h.value) + "\"");
  FUZZ_CHECK(h.tag.empty(), "domain tag \"" + escape(h.tag) + "\"");
  FUZZ_CHECK(h.address_bytes().empty(), "domain has address bytes " + hex(h.address_bytes()));
  FUZZ_CHECK(name.size() <= 255, "accepted a " + std::to_string(name.size()) + "-octet domain");
  std::size_t start = 0;
  while (true) {
    const auto dot = name.find('.', start);
    const auto label = name.substr(start, dot == name.npos ? name.npos : dot - start);
    FUZZ_CHECK(!label.empty() && label.size() <= 63, "accepted a domain with a " +
                                                         std::to_string(label.size()) +
                                                         "-octet label at offset " + std::to_string(start));
    FUZZ_CHECK(std::all_of(label.begin(), label.end(), is_ldh) && is_let_dig(label.front()) &&
                   is_let_dig(label.back()),
               "accepted the label \"" + escape(label) + "\"");
    if (dot == name.npos) break;
    start = dot + 1;
  }
}

void check_ipv4_literal(const ehlo_host& h) {
  FUZZ_CHECK(h.text.size() >= 2 && h.text.front() == '[' && h.text.back() == ']' &&
                 h.value == h.text.substr(1, h.text.size() - 2) && h.tag.empty(),
             "IPv4 literal parts: value \"" + escape(h.value) + "\" tag \"" + escape(h.tag) + "\"");
  FUZZ_CHECK(h.address_bytes().size() == 4, "IPv4 literal with " + hex(h.address_bytes()));
  std::array<std::uint8_t, 4> bytes{};
  std::copy_n(h.address.begin(), 4, bytes.begin());

  const auto bare = parse::ipv4_address(h.value);
  FUZZ_CHECK(bare && bare.value() == bytes, "literal gives " + hex(bytes) + ", ipv4_address(value) " +
                                                (bare ? hex(bare.value()) : error_text(bare.error())));

  if (const auto glibc = pton<4>(h.value))
    FUZZ_CHECK(*glibc == bytes, "IPv4 literal gives " + hex(bytes) + ", inet_pton " + hex(*glibc));
  else
    FUZZ_CHECK(rfc_only_leading_zero(h.value, bytes),
               "IPv4 literal accepted (" + hex(bytes) + "), inet_pton refuses, not a leading zero");
}

void check_ipv6_literal(const ehlo_host& h) {
  FUZZ_CHECK(iequals(h.tag, "IPv6") && h.text == cat({"[", h.tag, ":", h.value, "]"}),
             "IPv6 literal parts: tag \"" + escape(h.tag) + "\" value \"" + escape(h.value) + "\"");
  FUZZ_CHECK(h.address_bytes().size() == 16, "IPv6 literal with " + hex(h.address_bytes()));

  const auto bare = parse::ipv6_address(h.value);
  FUZZ_CHECK(bare && bare.value() == h.address, "literal gives " + hex(h.address) + ", ipv6_address(value) " +
                                                    (bare ? hex(bare.value()) : error_text(bare.error())));

  if (const auto glibc = pton<16>(h.value))
    FUZZ_CHECK(*glibc == h.address, "IPv6 literal gives " + hex(h.address) + ", inet_pton " + hex(*glibc));
  else
    FUZZ_CHECK(rfc_only_leading_zero(h.value, h.address),
               "IPv6 literal accepted (" + hex(h.address) + "), inet_pton refuses, not a leading zero");
}

void check_general_literal(const ehlo_host& h) {
  FUZZ_CHECK(h.text == cat({"[", h.tag, ":", h.value, "]"}),
             "general literal parts: tag \"" + escape(h.tag) + "\" value \"" + escape(h.value) + "\"");
  FUZZ_CHECK(!h.tag.empty() && std::all_of(h.tag.begin(), h.tag.end(), is_ldh) && is_let_dig(h.tag.back()) &&
                 !iequals(h.tag, "IPv6"),
             "general literal tag \"" + escape(h.tag) + "\"");
  // dcontent = %d33-90 / %d94-126
  FUZZ_CHECK(
      !h.value.empty() && std::all_of(h.value.begin(), h.value.end(),
                                      [](char c) { return (c >= 33 && c <= 90) || (c >= 94 && c <= 126); }),
      "general literal content \"" + escape(h.value) + "\"");
  FUZZ_CHECK(h.address_bytes().empty(), "general literal has address bytes " + hex(h.address_bytes()));
}

// Returns what ehlo_argument said, for the linter checks.
parse_result<ehlo_host> check_ehlo_argument(std::string_view in) {
  auto r = parse::ehlo_argument(in);
  if (!r) {
    FUZZ_CHECK(r.error().code != errc::ok, "refused with errc::ok");
    FUZZ_CHECK(r.error().offset <= in.size(), "error offset " + error_text(r.error()) + " past the end");
  }

  // The plain-domain fast path accepts only what the machine accepts as a
  // Domain within both limits.
  if (detail::plain_domain(in)) {
    const auto scan = detail::scan_address(in, detail::address_form::ehlo_argument);
    FUZZ_CHECK(scan.accepted && scan.limit == errc::ok && in.front() != '[',
               "plain_domain accepted what the machine does not: \"" + escape(in) + "\"");
  }

  // The same bytes elsewhere in memory give the same answer (and nothing
  // depends on what surrounds the input).
  const std::string copy(in);
  const auto again = parse::ehlo_argument(copy);
  FUZZ_CHECK(again.has_value() == r.has_value(), std::string("re-parse of a copy: ") + (again ? "accepted" : "refused"));
  if (!r) {
    FUZZ_CHECK(again.error() == r.error(), error_text(r.error()) + " vs " + error_text(again.error()));
    return r;
  }

  const auto& h = r.value();
  const auto& h2 = again.value();
  FUZZ_CHECK(h.text.data() == in.data() && h.text.size() == in.size(), "host.text is not the input");
  FUZZ_CHECK(points_into(h.value, in) && points_into(h.tag, in), "value or tag outside the input");
  FUZZ_CHECK(h2.kind == h.kind && h2.value == h.value && h2.tag == h.tag && h2.address == h.address &&
                 offset_in(h2.value, copy) == offset_in(h.value, in) &&
                 offset_in(h2.tag, copy) == offset_in(h.tag, in),
             "re-parse of a copy: " + std::string(host_kind_name(h.kind)) + " " + hex(h.address) + " vs " +
                 std::string(host_kind_name(h2.kind)) + " " + hex(h2.address));

  switch (h.kind) {
    case host_kind::domain:
      check_domain(h);
      break;
    case host_kind::ipv4_literal:
      check_ipv4_literal(h);
      break;
    case host_kind::ipv6_literal:
      check_ipv6_literal(h);
      break;
    case host_kind::general_literal:
      check_general_literal(h);
      break;
  }
  return r;
}

// ------------------------------------------------------- bare IP addresses

void check_bare_ipv4(std::string_view in) {
  const auto rfc = parse::ipv4_address(in);
  if (!rfc) {
    FUZZ_CHECK(rfc.error().code != errc::ok && rfc.error().offset <= in.size(),
               "ipv4_address error " + error_text(rfc.error()));
  }
  const auto glibc = pton<4>(in);
  if (rfc && glibc)
    FUZZ_CHECK(*glibc == rfc.value(),
               "ipv4_address gives " + hex(rfc.value()) + ", inet_pton " + hex(*glibc));
  else if (rfc)
    FUZZ_CHECK(rfc_only_leading_zero(in, rfc.value()),
               "ipv4_address accepts (" + hex(rfc.value()) + "), inet_pton refuses, not a leading zero");
  else if (glibc)
    FUZZ_CHECK(false,
               "inet_pton accepts (" + hex(*glibc) + "), ipv4_address refuses: " + error_text(rfc.error()));

  // "[x]" is an IPv4 literal exactly when x is an IPv4 address.
  const std::string wrapped = cat({"[", in, "]"});
  const auto literal = parse::ehlo_argument(wrapped);
  const bool is_v4_literal = literal && literal->kind == host_kind::ipv4_literal;
  FUZZ_CHECK(is_v4_literal == rfc.has_value(),
             std::string("ipv4_address ") + (rfc ? "accepts" : "refuses") + " but \"[...]\" is " +
                 (literal ? std::string(host_kind_name(literal->kind)) : error_text(literal.error())));
  if (rfc) {
    FUZZ_CHECK(literal->address_bytes().size() == 4 &&
                   std::equal(rfc.value().begin(), rfc.value().end(), literal->address.begin()),
               "ipv4_address gives " + hex(rfc.value()) + ", \"[...]\" " + hex(literal->address_bytes()));
    // A dotted quad is also a Domain (RFC 5321 §4.1.2 labels may be all digits).
    const auto domain = parse::ehlo_argument(in);
    FUZZ_CHECK(domain && domain->kind == host_kind::domain,
               std::string("IPv4 address is not a Domain: ") +
                   (domain ? std::string(host_kind_name(domain->kind)) : error_text(domain.error())));
  }
}

void check_bare_ipv6(std::string_view in) {
  const auto rfc = parse::ipv6_address(in);
  if (!rfc) {
    FUZZ_CHECK(rfc.error().code != errc::ok && rfc.error().offset <= in.size(),
               "ipv6_address error " + error_text(rfc.error()));
  }
  const auto glibc = pton<16>(in);
  if (rfc && glibc)
    FUZZ_CHECK(*glibc == rfc.value(),
               "ipv6_address gives " + hex(rfc.value()) + ", inet_pton " + hex(*glibc));
  else if (rfc)
    FUZZ_CHECK(rfc_only_leading_zero(in, rfc.value()),
               "ipv6_address accepts (" + hex(rfc.value()) + "), inet_pton refuses, not a leading zero");
  else if (glibc)
    FUZZ_CHECK(pton_only_one_group_gap(in), "inet_pton accepts (" + hex(*glibc) +
                                                "), ipv6_address refuses (" + error_text(rfc.error()) +
                                                "), not a one-group \"::\"");

  // "[IPv6:x]" (tag in any case) is accepted exactly when x is an IPv6 address.
  for (const std::string_view tag : {"IPv6", "ipv6"}) {
    const std::string wrapped = cat({"[", tag, ":", in, "]"});
    const auto literal = parse::ehlo_argument(wrapped);
    FUZZ_CHECK(literal.has_value() == rfc.has_value(),
               std::string("ipv6_address ") + (rfc ? "accepts" : "refuses") + " but \"[" + std::string(tag) +
                   ":...]\" is " +
                   (literal ? std::string(host_kind_name(literal->kind)) : error_text(literal.error())));
    if (rfc)
      FUZZ_CHECK(literal->kind == host_kind::ipv6_literal && literal->address == rfc.value(),
                 "ipv6_address gives " + hex(rfc.value()) + ", \"[" + std::string(tag) + ":...]\" " +
                     std::string(host_kind_name(literal->kind)) + " " + hex(literal->address));
  }
}

// ------------------------------------------------------------------ linter

bool is_kebab(std::string_view code) {
  if (code.empty() || code.front() == '-' || code.back() == '-') return false;
  for (std::size_t i = 0; i < code.size(); ++i) {
    const char c = code[i];
    const bool ok = (c >= 'a' && c <= 'z') || is_digit(c) || (c == '-' && code[i - 1] != '-');
    if (!ok) return false;
  }
  return true;
}

verdict verdict_of(severity s) {
  switch (s) {
    case severity::info:
      return verdict::pass;
    case severity::warn:
      return verdict::warn;
    case severity::fail:
      return verdict::fail;
  }
  FUZZ_CHECK(false, "severity out of range: " + std::to_string(static_cast<int>(s)));
}

void check_linter(std::string_view in, const parse_result<ehlo_host>& parsed, lint_profile profile) {
  const auto report = check_ehlo_name(in, {profile});
  const std::string where = " (profile " + std::string(profile_name(profile)) + ")";
  FUZZ_CHECK(report.name == in, "report.name \"" + escape(report.name) + "\"" + where);
  FUZZ_CHECK(report.syntax_valid == parsed.has_value(), "syntax_valid " + std::to_string(report.syntax_valid) +
                                                     " but ehlo_argument " +
                                                     (parsed ? "accepts" : "refuses") + where);
  FUZZ_CHECK(report.kind.has_value() == report.syntax_valid, "kind set iff syntax_valid" + where);
  if (parsed)
    FUZZ_CHECK(*report.kind == parsed->kind, "kind " + std::string(host_kind_name(*report.kind)) +
                                                 ", ehlo_argument " +
                                                 std::string(host_kind_name(parsed->kind)) + where);

  verdict worst = verdict::pass;
  for (const auto& f : report.findings) {
    const auto name = ehlo_check_code_name(f.code);
    const std::string which = " in finding \"" + escape(name) + "\"" + where;
    FUZZ_CHECK(is_kebab(name), "code not kebab-case" + which);
    FUZZ_CHECK(!f.message.empty(), "empty message" + which);
    FUZZ_CHECK(!has_crlfnul(f.message), "raw CR/LF/NUL in message \"" + escape(f.message) + "\"" + which);
    FUZZ_CHECK(!has_crlfnul(f.suggestion),
               "raw CR/LF/NUL in suggestion \"" + escape(f.suggestion) + "\"" + which);
    FUZZ_CHECK(report.find(f.code) != nullptr && report.has(f.code), "find()/has() miss" + which);
    FUZZ_CHECK(report.find(name) == report.find(f.code) && report.has(name),
               "find()/has() by name miss" + which);
    worst = std::max(worst, verdict_of(f.level));
  }
  FUZZ_CHECK(report.result == worst, "verdict " + std::string(verdict_name(report.result)) +
                                         ", worst finding " + std::string(verdict_name(worst)) + where);
  if (!report.syntax_valid) {
    FUZZ_CHECK(report.has("syntax") || report.has("empty"), "invalid name without syntax/empty" + where);
    FUZZ_CHECK(report.result == verdict::fail, "invalid name does not fail" + where);
  }
  if (in.empty()) FUZZ_CHECK(report.has("empty"), "empty name without \"empty\"" + where);
  if (has_crlfnul(in))
    FUZZ_CHECK(report.result == verdict::fail, "a name with CR/LF/NUL does not fail" + where);
}

}  // namespace

// The work budget: at most this many ns of CPU time per input octet, past
// a shared fixed part (fuzz/work_budget.hpp; calibration in fuzz/README.md).
static constexpr sansmtp::fuzz::work_budget budget{"fuzz_ehlo_argument", 60000};

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const sansmtp::fuzz::input_scope scope(data, size, budget);
  const std::string_view in(reinterpret_cast<const char*>(data), size);

  const auto parsed = check_ehlo_argument(in);
  check_bare_ipv4(in);
  check_bare_ipv6(in);
  check_linter(in, parsed, lint_profile::internet);
  check_linter(in, parsed, lint_profile::internal);
  return 0;
}
