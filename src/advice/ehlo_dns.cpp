// The EHLO-name check with DNS facts: what receivers find when they look the
// name and the client address up. Who checks what, and how they answer, is
// in the messages; advice/receivers.hpp turns the same facts into a
// prediction per receiver.
#include <sansmtp/advice/ehlo_dns.hpp>

#include <sansmtp/core/display.hpp>

#include "ascii.hpp"
#include "ehlo_dns_internal.hpp"
#include "lint.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace sansmtp {
namespace detail {

namespace {

// The name as DNS compares it: lower-case, without a root dot.
std::string dns_form(std::string_view name) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  return ascii::lower(name);
}

bool contains_address(const dns_answer& answer, std::string_view ip) {
  return std::any_of(answer.records.begin(), answer.records.end(),
                     [&](const std::string& r) { return same_address(r, ip); });
}

// Numbers 0-255 in `name`, each with where it starts and ends.
struct number_run {
  unsigned value;
  std::size_t begin, end;
};

std::vector<number_run> numbers_in(std::string_view name) {
  std::vector<number_run> out;
  for (std::size_t i = 0; i < name.size();) {
    if (!ascii::is_digit(name[i])) {
      ++i;
      continue;
    }
    std::size_t j = i;
    unsigned value = 0;
    while (j < name.size() && ascii::is_digit(name[j])) {
      if (j - i < 4) value = value * 10 + static_cast<unsigned>(name[j] - '0');
      ++j;
    }
    if (j - i <= 3 && value <= 255) out.push_back({value, i, j});
    i = j;
  }
  return out;
}

// Whether four consecutive numbers, one separator apart, spell `octets`
// forward or backward.
bool spells(const std::vector<number_run>& runs, const std::vector<std::uint8_t>& octets) {
  for (std::size_t i = 0; i + 4 <= runs.size(); ++i) {
    bool adjacent = true;
    for (std::size_t k = 1; k < 4; ++k) adjacent = adjacent && runs[i + k].begin == runs[i + k - 1].end + 1;
    if (!adjacent) continue;
    bool forward = true, backward = true;
    for (std::size_t k = 0; k < 4; ++k) {
      forward = forward && runs[i + k].value == octets[k];
      backward = backward && runs[i + k].value == octets[3 - k];
    }
    if (forward || backward) return true;
  }
  return false;
}

}  // namespace

bool embeds_address(std::string_view name, std::string_view ip) {
  const auto octets = ip_octets(ip);
  if (!octets || octets->size() != 4) return false;
  const auto n = ascii::lower(name);
  if (spells(numbers_in(n), *octets)) return true;
  // The address in hexadecimal ("c0a80001") or as twelve zero-padded digits.
  const auto hex = fmt::format("{:02x}{:02x}{:02x}{:02x}", (*octets)[0], (*octets)[1], (*octets)[2], (*octets)[3]);
  const auto padded =
      fmt::format("{:03}{:03}{:03}{:03}", (*octets)[0], (*octets)[1], (*octets)[2], (*octets)[3]);
  return n.find(hex) != std::string::npos || n.find(padded) != std::string::npos;
}

name_view view_of(const ehlo_report& report, const ehlo_facts& facts) {
  name_view v;
  v.name = dns_form(report.name);
  v.client_known = ip_octets(facts.client_ip).has_value();
  if (report.kind == host_kind::ipv4_literal || report.kind == host_kind::ipv6_literal) {
    v.literal = true;
    const auto close = report.name.find(']');
    auto inside = std::string_view(report.name).substr(1, close == std::string::npos ? std::string::npos : close - 1);
    if (ascii::istarts_with(inside, "IPv6:")) inside.remove_prefix(5);
    v.address = std::string(inside);
  } else if (report.has(ehlo_check_code::bare_ip)) {
    v.bare_ip = true;
    v.address = report.name;
  } else {
    // A host name, or what would be one to a receiver's resolver: an
    // underscore, a root dot or a misplaced hyphen does not stop a lookup.
    v.domain = !report.name.empty() && report.name.front() != '[' &&
               std::all_of(report.name.begin(), report.name.end(), [](char c) {
                 return ascii::is_alpha(c) || ascii::is_digit(c) || c == '.' || c == '-' || c == '_';
               });
  }
  if (v.client_known && !v.address.empty()) v.literal_matches = same_address(v.address, facts.client_ip);

  const dns_answer* name_answers[] = {&facts.a, &facts.aaaa, &facts.mx};
  v.name_asked = v.domain && std::any_of(std::begin(name_answers), std::end(name_answers),
                                         [](const dns_answer* a) { return a->status != dns_status::not_asked; });
  v.has_a = facts.a.has_records();
  v.has_aaaa = facts.aaaa.has_records();
  v.has_mx = facts.mx.has_records();
  // A record proves the name exists, whatever another (inconsistent or
  // stale) answer said.
  v.nxdomain = !(v.has_a || v.has_aaaa || v.has_mx) &&
               std::any_of(std::begin(name_answers), std::end(name_answers),
                           [](const dns_answer* a) { return a->status == dns_status::nxdomain; });
  v.name_temporary = !v.nxdomain && std::any_of(std::begin(name_answers), std::end(name_answers),
                                                [](const dns_answer* a) { return dns_temporary(a->status); });
  v.forward_matches = v.client_known && (contains_address(facts.a, facts.client_ip) ||
                                         contains_address(facts.aaaa, facts.client_ip));

  v.ptr_asked = v.client_known && facts.ptr.status != dns_status::not_asked;
  v.ptr_temporary = dns_temporary(facts.ptr.status);
  v.ptr_present = facts.ptr.has_records();
  for (const auto& p : facts.ptr.records) {
    if (dns_form(p) == v.name && v.domain) v.name_is_ptr = true;
  }
  for (const auto& p : facts.ptr_names) {
    if (contains_address(p.a, facts.client_ip) || contains_address(p.aaaa, facts.client_ip)) {
      v.fcrdns_names.push_back(dns_form(p.name));
      if (dns_form(p.name) == v.name && v.domain) v.name_is_verified_ptr = true;
    }
    if (dns_temporary(p.a.status) || dns_temporary(p.aaaa.status)) v.fcrdns_temporary = true;
  }
  v.name_embeds_client = v.domain && v.client_known && embeds_address(v.name, facts.client_ip);
  v.name_dynamic = v.name_embeds_client || (v.domain && looks_dynamic(v.name));
  for (const auto& p : facts.ptr.records)
    if (v.client_known && embeds_address(p, facts.client_ip)) v.ptr_embeds_client = dns_form(p);
  return v;
}

}  // namespace detail

namespace {

using detail::lint;

void skip(ehlo_report& report, ehlo_check_code code, std::string reason) {
  report.skipped.push_back({code, std::move(reason)});
}

constexpr std::string_view no_client =
    "no client address given (the address the receiver sees, not this host's own behind NAT): "
    "give one, or let `sansmtp probe` read it from a server that echoes it";

void check_name_records(lint& out, ehlo_report& report, const detail::name_view& v, const ehlo_facts& facts) {
  const auto shown = escape_for_display(v.name);
  if (!v.name_asked) {
    for (const auto code : {ehlo_check_code::nxdomain, ehlo_check_code::no_a_or_mx, ehlo_check_code::no_address,
                            ehlo_check_code::forward_mismatch})
      skip(report, code, "the name's A, AAAA and MX records were not looked up");
    return;
  }
  if (v.nxdomain) {
    out.add(ehlo_check_code::nxdomain, severity::fail,
            fmt::format("{} does not exist in DNS (NXDOMAIN): Postfix reject_unknown_helo_hostname answers "
                        "450 4.7.1 \"Host not found\" (at RCPT TO, smtpd_delay_reject), Exim verify = helo fails "
                        "unless the client address's reverse name is {}, Haraka helo.checks forward_dns fails, "
                        "rspamd adds HFILTER_HELO_NORES_A_OR_MX",
                        shown, shown),
            "publish an A record for the name that points to the address mail leaves from");
    return;
  }
  if (v.name_temporary) {
    const auto* which = dns_temporary(facts.a.status)      ? "A"
                        : dns_temporary(facts.aaaa.status) ? "AAAA"
                                                           : "MX";
    const auto& status = dns_temporary(facts.a.status)      ? facts.a.status
                         : dns_temporary(facts.aaaa.status) ? facts.aaaa.status
                                                            : facts.mx.status;
    out.add(ehlo_check_code::dns_temporary_failure, severity::warn,
            fmt::format("the {} lookup of {} failed ({}): receivers that check the name answer 4xx and retry "
                        "(Postfix 450 4.7.1, Exim 451), so mail is delayed until the name's DNS answers",
                        which, shown, dns_status_name(status)),
            "make the name's authoritative servers answer");
  }
  const bool has_address = v.has_a || v.has_aaaa;
  if (!v.name_temporary && !has_address && !v.has_mx) {
    out.add(ehlo_check_code::no_a_or_mx, severity::fail,
            fmt::format("{} exists but has neither an A/AAAA nor an MX record: Postfix "
                        "reject_unknown_helo_hostname answers 450 4.7.1 \"Host not found\" (at RCPT TO), Exim "
                        "verify = helo and Haraka forward_dns fail, rspamd adds HFILTER_HELO_NORES_A_OR_MX",
                        shown),
            "publish an A record for the name that points to the address mail leaves from");
  } else if (!v.name_temporary && !has_address) {
    out.add(ehlo_check_code::no_address, severity::warn,
            fmt::format("{} has an MX record but no A or AAAA record: Postfix accepts it, but Exim verify = helo "
                        "and Haraka forward_dns need the name to resolve to the client's address",
                        shown),
            "publish an A record for the name that points to the address mail leaves from");
  }
  if (!v.client_known) {
    skip(report, ehlo_check_code::forward_mismatch, std::string(no_client));
  } else if (has_address && !v.forward_matches) {
    std::string addresses;
    for (const auto* answer : {&facts.a, &facts.aaaa})
      for (const auto& r : answer->records) addresses.append(addresses.empty() ? "" : ", ").append(r);
    out.add(ehlo_check_code::forward_mismatch, severity::warn,
            fmt::format("{} resolves to {}, not to the client address {}: Exim verify = helo fails unless the "
                        "client address's reverse name is the name, Haraka helo.checks forward_dns fails, "
                        "SpamAssassin and rspamd score it",
                        shown, escape_for_display(addresses), escape_for_display(facts.client_ip)),
            "point the name's A/AAAA record at the address mail leaves from, or send the name that does");
  }
}

void check_literal(lint& out, ehlo_report& report, const detail::name_view& v, const ehlo_facts& facts) {
  if (!v.literal) return;
  if (!v.client_known) return skip(report, ehlo_check_code::literal_mismatch, std::string(no_client));
  if (v.literal_matches) return;
  out.add(ehlo_check_code::literal_mismatch, severity::fail,
          fmt::format("{} is not the address the server sees the client connect from ({}): RFC 5321 section "
                      "4.1.4 lets a server compare them; Exim verify = helo fails, Haraka helo.checks "
                      "literal_mismatch fails, SpamAssassin adds RCVD_HELO_IP_MISMATCH. Behind NAT or in a "
                      "pod the host's own address is never the one the server sees",
                      escape_for_display(report.name), escape_for_display(facts.client_ip)),
          fmt::format("[{}]", facts.client_ip));
}

void check_ptr(lint& out, ehlo_report& report, const detail::name_view& v, const ehlo_facts& facts) {
  if (!v.client_known) {
    for (const auto code : {ehlo_check_code::ptr_missing, ehlo_check_code::ptr_mismatch, ehlo_check_code::fcrdns_fail})
      skip(report, code, std::string(no_client));
    return;
  }
  if (!v.ptr_asked) {
    for (const auto code : {ehlo_check_code::ptr_missing, ehlo_check_code::ptr_mismatch, ehlo_check_code::fcrdns_fail})
      skip(report, code, "the client address's PTR record was not looked up");
    return;
  }
  const auto ip = escape_for_display(facts.client_ip);
  if (v.ptr_temporary) {
    out.add(ehlo_check_code::dns_temporary_failure, severity::warn,
            fmt::format("the PTR lookup of {} failed ({}): receivers that need the reverse name (Gmail, Exim "
                        "host lookups) answer 4xx or treat the client as unknown",
                        ip, dns_status_name(facts.ptr.status)),
            "ask the owner of the address block to make its reverse zone answer");
    return;
  }
  if (!v.ptr_present) {
    out.add(ehlo_check_code::ptr_missing, severity::warn,
            fmt::format("{} has no PTR record ({}): Gmail refuses with 550 5.7.25, SpamAssassin adds RDNS_NONE, "
                        "rspamd HFILTER_HOSTNAME_UNKNOWN, and Exim verify = helo can then only use the name's "
                        "forward lookup",
                        ip, dns_status_name(facts.ptr.status)),
            "ask the owner of the address (your provider) for a PTR record naming this host");
    return;
  }
  if (v.domain && !v.name_is_ptr) {
    std::string names;
    for (const auto& r : facts.ptr.records) names.append(names.empty() ? "" : ", ").append(r);
    out.add(ehlo_check_code::ptr_mismatch, v.forward_matches ? severity::info : severity::warn,
            fmt::format("{} is not a PTR name of {} ({}): Haraka helo.checks rdns_match fails; Exim verify = "
                        "helo {}",
                        escape_for_display(v.name), ip, escape_for_display(names),
                        v.forward_matches ? "still passes, because the name resolves to the client address"
                                          : "fails unless the name resolves to the client address"),
            v.fcrdns_names.empty() ? std::string() : v.fcrdns_names.front());
  }
  if (v.fcrdns_names.empty()) {
    out.add(ehlo_check_code::fcrdns_fail, severity::warn,
            fmt::format("no PTR name of {} resolves back to it{}: Gmail refuses with 550 5.7.25 (forward-"
                        "confirmed reverse DNS), Exim does not take the reverse name as the client's host name, "
                        "rspamd adds HFILTER_HOSTNAME_UNKNOWN",
                        ip, v.fcrdns_temporary ? " (a lookup failed temporarily)" : ""),
            "give the PTR name an A/AAAA record pointing to the address");
  }
}

void check_dynamic(lint& out, const detail::name_view& v, const ehlo_facts& facts) {
  if (v.name_embeds_client && !out.report().has(ehlo_check_code::dynamic_looking))
    out.add(ehlo_check_code::dynamic_looking, severity::warn,
            fmt::format("{} embeds the client address {}, as ISPs name dynamically assigned addresses: Haraka "
                        "helo.checks dynamic fails, SpamAssassin adds HELO_DYNAMIC_IPADDR, rspamd scores it",
                        escape_for_display(v.name), escape_for_display(facts.client_ip)),
            "send a name of the host's own, with matching forward and reverse DNS");
  if (!v.ptr_embeds_client.empty())
    out.add(ehlo_check_code::dynamic_looking, severity::warn,
            fmt::format("the client address's PTR name {} embeds the address: receivers read it as a dynamically "
                        "assigned (residential) address: SpamAssassin adds RDNS_DYNAMIC, rspamd "
                        "HFILTER_HOSTNAME_*, Spamhaus PBL-style policies refuse",
                        escape_for_display(v.ptr_embeds_client)),
            "send mail from an address with a PTR name of its own, or through your provider's relay");
}

}  // namespace

ehlo_report check_ehlo_name(std::string_view name, const ehlo_facts& facts, const ehlo_check_options& options) {
  auto report = check_ehlo_name(name, options);
  lint out(report, options.profile);
  const auto v = detail::view_of(report, facts);
  if (v.domain) check_name_records(out, report, v, facts);
  check_literal(out, report, v, facts);
  check_ptr(out, report, v, facts);
  check_dynamic(out, v, facts);
  return report;
}

}  // namespace sansmtp
