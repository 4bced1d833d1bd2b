// The EHLO-name linter: entry point, address literals and bare addresses.
// Domain names are linted in ehlo_check_domain.cpp.
#include <sansmtp/syntax/ehlo_check.hpp>

#include <sansmtp/core/display.hpp>

#include "ascii.hpp"
#include "ip_ranges.hpp"
#include "lint.hpp"
#include "utf8.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace sansmtp {

using detail::ip_range;

std::string_view severity_name(severity s) noexcept {
  switch (s) {
    case severity::info:
      return "info";
    case severity::warn:
      return "warn";
    case severity::fail:
      return "fail";
  }
  return "unknown";
}

std::string_view verdict_name(verdict v) noexcept {
  switch (v) {
    case verdict::pass:
      return "pass";
    case verdict::warn:
      return "warn";
    case verdict::fail:
      return "fail";
  }
  return "unknown";
}

std::string_view profile_name(lint_profile p) noexcept {
  return p == lint_profile::internal ? "internal" : "internet";
}

std::string_view ehlo_check_code_name(ehlo_check_code c) noexcept {
  switch (c) {
    case ehlo_check_code::syntax:
      return "syntax";
    case ehlo_check_code::empty:
      return "empty";
    case ehlo_check_code::empty_label:
      return "empty-label";
    case ehlo_check_code::label_hyphen:
      return "label-hyphen";
    case ehlo_check_code::label_too_long:
      return "label-too-long";
    case ehlo_check_code::trailing_dot:
      return "trailing-dot";
    case ehlo_check_code::name_too_long:
      return "name-too-long";
    case ehlo_check_code::underscore:
      return "underscore";
    case ehlo_check_code::invalid_character:
      return "invalid-character";
    case ehlo_check_code::non_ascii:
      return "non-ascii";
    case ehlo_check_code::bad_a_label:
      return "bad-a-label";
    case ehlo_check_code::r_ldh_label:
      return "r-ldh-label";
    case ehlo_check_code::not_fqdn:
      return "not-fqdn";
    case ehlo_check_code::container_hostname:
      return "container-hostname";
    case ehlo_check_code::numeric_tld:
      return "numeric-tld";
    case ehlo_check_code::bare_ip:
      return "bare-ip";
    case ehlo_check_code::localhost:
      return "localhost";
    case ehlo_check_code::special_use_name:
      return "special-use-name";
    case ehlo_check_code::bracketed_name:
      return "bracketed-name";
    case ehlo_check_code::untagged_ipv6_literal:
      return "untagged-ipv6-literal";
    case ehlo_check_code::unregistered_literal_tag:
      return "unregistered-literal-tag";
    case ehlo_check_code::leading_zero:
      return "leading-zero";
    case ehlo_check_code::loopback_address:
      return "loopback-address";
    case ehlo_check_code::unspecified_address:
      return "unspecified-address";
    case ehlo_check_code::documentation_address:
      return "documentation-address";
    case ehlo_check_code::multicast_address:
      return "multicast-address";
    case ehlo_check_code::private_address:
      return "private-address";
    case ehlo_check_code::shared_address:
      return "shared-address";
    case ehlo_check_code::link_local_address:
      return "link-local-address";
    case ehlo_check_code::reserved_address:
      return "reserved-address";
    case ehlo_check_code::public_literal:
      return "public-literal";
    case ehlo_check_code::dynamic_looking:
      return "dynamic-looking";
    case ehlo_check_code::nxdomain:
      return "nxdomain";
    case ehlo_check_code::no_address:
      return "no-address";
    case ehlo_check_code::no_a_or_mx:
      return "no-a-or-mx";
    case ehlo_check_code::dns_temporary_failure:
      return "dns-temporary-failure";
    case ehlo_check_code::literal_mismatch:
      return "literal-mismatch";
    case ehlo_check_code::forward_mismatch:
      return "forward-mismatch";
    case ehlo_check_code::ptr_missing:
      return "ptr-missing";
    case ehlo_check_code::ptr_mismatch:
      return "ptr-mismatch";
    case ehlo_check_code::fcrdns_fail:
      return "fcrdns-fail";
  }
  return "unknown";
}

bool ehlo_report::has(ehlo_check_code code) const noexcept { return find(code) != nullptr; }

const finding* ehlo_report::find(ehlo_check_code code) const noexcept {
  const auto it =
      std::find_if(findings.begin(), findings.end(), [&](const finding& f) { return f.code == code; });
  return it == findings.end() ? nullptr : &*it;
}

bool ehlo_report::has(std::string_view code_name) const noexcept { return find(code_name) != nullptr; }

const finding* ehlo_report::find(std::string_view code_name) const noexcept {
  const auto it = std::find_if(findings.begin(), findings.end(),
                               [&](const finding& f) { return ehlo_check_code_name(f.code) == code_name; });
  return it == findings.end() ? nullptr : &*it;
}

namespace detail {

namespace {

// Anything escape_for_display would escape but "\\".
bool unsafe_text(std::string_view s) noexcept {
  return !valid_utf8(s) || first_unsafe_to_display(s) != std::string_view::npos;
}

}  // namespace

void lint::add(ehlo_check_code code, severity level, std::string message, std::string suggestion) {
  // The one gate every finding passes: no raw control (C0, C1, bidi; see
  // unsafe_to_display) or broken UTF-8 from the name may reach a terminal
  // or log. Messages quote names escaped already; this is the backstop. A
  // suggestion is something to send, and a name with a control in it is
  // nothing to send: drop it.
  if (unsafe_text(message)) message = escape_for_display(message);
  if (unsafe_text(suggestion)) suggestion.clear();
  // A suggestion without a space is a name to send instead ("[10.0.0.1]",
  // "mx.example.com"); the others are actions. A name the grammar refuses is
  // no fix ("2:3::1." minus its dot is a bare IPv6 address): drop it.
  if (!suggestion.empty() && suggestion.find(' ') == std::string::npos && !parse::ehlo_argument(suggestion))
    suggestion.clear();
  report_.findings.push_back({code, level, std::move(message), std::move(suggestion)});
  // severity and verdict share their order: info counts as pass.
  report_.result = std::max(report_.result, static_cast<verdict>(static_cast<int>(level)));
}

void lint::add(ehlo_check_code code, severity internet, severity internal, std::string message,
               std::string suggestion) {
  add(code, profile_ == lint_profile::internal ? internal : internet, std::move(message),
      std::move(suggestion));
}

}  // namespace detail

namespace {

using detail::lint;

std::string ipv4_text(const std::array<std::uint8_t, 4>& a) {
  return fmt::format("{}.{}.{}.{}", a[0], a[1], a[2], a[3]);
}

std::array<std::uint8_t, 4> embedded_ipv4(const std::array<std::uint8_t, 16>& a) {
  return {a[12], a[13], a[14], a[15]};
}

// Snum allows leading zeros ("010"); glibc's inet_pton (used by Exim and
// OpenSMTPD) refuses them and other software reads them as octal.
bool has_leading_zero(std::string_view ipv4) noexcept {
  for (std::size_t i = 0; i < ipv4.size(); ++i) {
    const bool at_start = i == 0 || ipv4[i - 1] == '.';
    if (at_start && ipv4[i] == '0' && i + 1 < ipv4.size() && ascii::is_digit(ipv4[i + 1])) return true;
  }
  return false;
}

void add_range(lint& out, const ip_range& range, std::string_view shown) {
  // Ranges an internal relay may legitimately see (internal != fail) are
  // private to a network; the rest never identify a host to anyone else.
  const bool private_space = range.internal != severity::fail;
  out.add(range.code, range.internet, range.internal,
          fmt::format("{} is in {}, {}: {}, and some servers refuse such a name outright "
                      "(\"550 Invalid HeloHost\")",
                      shown, range.cidr, range.what,
                      private_space ? "servers outside that network cannot verify it"
                                    : "it is never the address a server sees a client connect from"),
          "send this host's fully-qualified name (or its public address literal)");
}

void add_public_literal(lint& out, std::string_view shown) {
  out.add(ehlo_check_code::public_literal, severity::info,
          fmt::format("{} is a public address: RFC 5321 section 4.1.4 allows a literal when the host "
                      "has no name, but it must be the address the connection comes from; a name "
                      "with matching forward and reverse DNS is accepted more widely",
                      shown),
          "prefer this host's fully-qualified name");
}

void lint_ipv4(lint& out, const std::array<std::uint8_t, 4>& address, std::string_view text) {
  const auto shown = ipv4_text(address);
  if (has_leading_zero(text))
    out.add(ehlo_check_code::leading_zero, severity::fail,
            fmt::format("{} has a leading zero: RFC 5321 Snum allows it, but glibc inet_pton (Exim, "
                        "OpenSMTPD) refuses it and other software reads it as octal",
                        escape_for_display(text)),
            fmt::format("[{}]", shown));
  if (const auto* range = detail::find_ipv4_range(address))
    add_range(out, *range, shown);
  else
    add_public_literal(out, shown);
}

void lint_ipv6(lint& out, const std::array<std::uint8_t, 16>& address, std::string_view text) {
  const auto shown = escape_for_display(text);
  const auto* range = detail::find_ipv6_range(address);
  if (!range) return add_public_literal(out, shown);
  if (!detail::is_ipv4_mapped(address)) return add_range(out, *range, shown);
  // ::ffff:a.b.c.d is an IPv4 host in IPv6 clothing: judge the IPv4 inside.
  const auto inner = embedded_ipv4(address);
  const auto* inner_range = detail::find_ipv4_range(inner);
  const auto inner_text = ipv4_text(inner);
  if (inner_range) {
    out.add(ehlo_check_code::reserved_address, inner_range->internet, inner_range->internal,
            fmt::format("{} is IPv4-mapped (::ffff:0:0/96, RFC 4291) around {}, which is {} ({})", shown,
                        inner_text, inner_range->what, inner_range->cidr),
            "send this host's fully-qualified name");
  } else {
    out.add(ehlo_check_code::reserved_address, range->internet, range->internal,
            fmt::format("{} is IPv4-mapped (::ffff:0:0/96, RFC 4291): an IPv4 client should send "
                        "the IPv4 literal",
                        shown),
            fmt::format("[{}]", inner_text));
  }
}

// "[...]": the content decides what the sender meant, grammatical or not.
void lint_literal(lint& out, const parse_result<ehlo_host>& parsed, std::string_view name) {
  const auto close = name.find(']');
  const auto content = name.substr(1, close == std::string_view::npos ? name.npos : close - 1);
  if (const auto v6 = parse::ipv6_address(content)) {
    out.add(
        ehlo_check_code::untagged_ipv6_literal, severity::fail,
        fmt::format("[{}] lacks the \"IPv6:\" tag RFC 5321 section 4.1.3 requires; it parses only "
                    "as a general literal with tag \"{}\" (or not at all)",
                    escape_for_display(content), escape_for_display(content.substr(0, content.find(':')))),
        fmt::format("[IPv6:{}]", escape_for_display(content)));
    return lint_ipv6(out, v6.value(), content);
  }
  if (!parsed) {
    // "[mx.example.net]": brackets are for address literals only.
    const auto tld = content.substr(content.rfind('.') + 1);
    const bool numeric = ascii::all_of(tld, ascii::is_digit);  // a broken IPv4 literal, not a name
    if (const auto inner = parse::ehlo_argument(content);
        inner && inner->kind == host_kind::domain && !numeric && close == name.size() - 1)
      out.add(ehlo_check_code::bracketed_name, severity::fail,
              fmt::format("{} is a host name in brackets: RFC 5321 section 4.1.3 brackets only address "
                          "literals",
                          escape_for_display(name)),
              std::string(content));
    return;
  }
  const auto& host = parsed.value();
  switch (host.kind) {
    case host_kind::ipv4_literal: {
      std::array<std::uint8_t, 4> a{};
      std::copy_n(host.address.begin(), 4, a.begin());
      return lint_ipv4(out, a, host.value);
    }
    case host_kind::ipv6_literal:
      return lint_ipv6(out, host.address, host.value);
    case host_kind::general_literal: {
      const auto v4 = parse::ipv4_address(host.value);
      out.add(ehlo_check_code::unregistered_literal_tag, severity::fail,
              fmt::format("the tag \"{}\" is not registered: IPv6 is the only address literal tag "
                          "(RFC 5321 sections 4.1.3 and 8, IANA Address Literal Tags)",
                          escape_for_display(host.tag)),
              v4 && ascii::iequals(host.tag, "IPv4") ? fmt::format("[{}]", ipv4_text(v4.value())) : "");
      if (v4 && ascii::iequals(host.tag, "IPv4")) lint_ipv4(out, v4.value(), host.value);
      return;
    }
    case host_kind::domain:
      return;
  }
}

// A dotted quad or an IPv6 address sent without brackets.
bool lint_bare_ip(lint& out, std::string_view name) {
  if (const auto v4 = parse::ipv4_address(name)) {
    out.add(ehlo_check_code::bare_ip, severity::fail,
            fmt::format("{} is an IPv4 address without brackets: RFC 5321 section 4.1.3 writes "
                        "address literals as [a.b.c.d], and RFC 1123 section 2.1 says a host name "
                        "never has the dotted-decimal form",
                        escape_for_display(name)),
            fmt::format("[{}]", ipv4_text(v4.value())));
    lint_ipv4(out, v4.value(), name);
    return true;
  }
  if (const auto v6 = parse::ipv6_address(name)) {
    out.add(ehlo_check_code::bare_ip, severity::fail,
            fmt::format("{} is an IPv6 address without brackets and tag: RFC 5321 section 4.1.3 "
                        "writes it as [IPv6:...]",
                        escape_for_display(name)),
            fmt::format("[IPv6:{}]", name));
    lint_ipv6(out, v6.value(), name);
    return true;
  }
  return false;
}

// Controls (CR, LF, NUL, ...), space and DEL are never part of a name and let
// one command smuggle another: flag them whatever the name's form.
void lint_control_characters(lint& out, std::string_view name) {
  const auto bad = [](char c) { return (c >= 0 && c < 0x20) || c == ' ' || c == 0x7f; };
  const auto first = std::find_if(name.begin(), name.end(), bad);
  if (first == name.end()) return;
  const auto count = std::count_if(name.begin(), name.end(), bad);
  out.add(ehlo_check_code::invalid_character, severity::fail,
          fmt::format("{} control or space character{} (first \"{}\" at offset {}): never valid in "
                      "an EHLO name, and CR or LF would inject a second command",
                      count, count == 1 ? "" : "s", escape_for_display(std::string_view(&*first, 1)),
                      first - name.begin()));
}

}  // namespace

ehlo_report check_ehlo_name(std::string_view name, const ehlo_check_options& options) {
  ehlo_report report;
  report.name = std::string(name);
  lint out(report, options.profile);
  if (name.empty()) {
    out.add(ehlo_check_code::empty, severity::fail,
            "the name is empty: RFC 5321 section 4.1.1.1 requires a domain or an address literal",
            "send this host's fully-qualified name");
    return report;
  }
  const auto parsed = parse::ehlo_argument(name);
  report.syntax_valid = parsed.has_value();
  if (parsed)
    report.kind = parsed->kind;
  else
    out.add(ehlo_check_code::syntax, severity::fail,
            fmt::format("not valid RFC 5321 EHLO syntax (Domain or address-literal): {} at offset {}",
                        make_error_code(parsed.error().code).message(), parsed.error().offset));
  lint_control_characters(out, name);
  if (name.front() == '[')
    lint_literal(out, parsed, name);
  else if (!lint_bare_ip(out, name))
    detail::lint_domain(out, name);
  return report;
}

}  // namespace sansmtp
