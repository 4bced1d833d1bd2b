// A model per receiver of what it does with an EHLO name. Each one cites
// where its rules come from; the ones marked tested are compared with the
// real server, resolving through a real DNS server, by tests/ehlo_dns.
#include <sansmtp/advice/receivers.hpp>

#include <sansmtp/core/display.hpp>

#include "ascii.hpp"
#include "ehlo_dns_internal.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace sansmtp {

std::string_view receiver_name(receiver r) noexcept {
  switch (r) {
    case receiver::rfc5321:
      return "rfc5321";
    case receiver::postfix:
      return "postfix";
    case receiver::exim_verify_helo:
      return "exim-verify-helo";
    case receiver::haraka_helo_checks:
      return "haraka-helo-checks";
    case receiver::rspamd:
      return "rspamd";
    case receiver::spamassassin:
      return "spamassassin";
    case receiver::gmail:
      return "gmail";
    case receiver::google_relay:
      return "google-relay";
    case receiver::m365:
      return "m365";
    case receiver::haraka_helo_checks_reject:
      return "haraka-helo-checks-reject";
  }
  return "unknown";
}

std::optional<receiver> receiver_from_name(std::string_view name) noexcept {
  for (const auto r : all_receivers)
    if (ascii::iequals(receiver_name(r), name)) return r;
  return std::nullopt;
}

std::string_view receiver_verdict_name(receiver_verdict v) noexcept {
  switch (v) {
    case receiver_verdict::accept:
      return "accept";
    case receiver_verdict::refuse:
      return "refuse";
    case receiver_verdict::defer:
      return "defer";
    case receiver_verdict::score:
      return "score";
    case receiver_verdict::unknown:
      return "unknown";
  }
  return "unknown";
}

std::string_view smtp_stage_name(smtp_stage s) noexcept {
  switch (s) {
    case smtp_stage::none:
      return "none";
    case smtp_stage::connect:
      return "connect";
    case smtp_stage::helo:
      return "helo";
    case smtp_stage::mail:
      return "mail";
    case smtp_stage::rcpt:
      return "rcpt";
    case smtp_stage::data:
      return "data";
  }
  return "none";
}

namespace {

using detail::name_view;
using code = ehlo_check_code;

// What every model reads: the report, the facts and the view of both.
struct input {
  const ehlo_report& report;
  const ehlo_facts& facts;
  const name_view& v;
};

receiver_prediction refuse(receiver who, smtp_stage stage, std::string reply, std::string rule) {
  receiver_prediction p;
  p.who = who;
  p.verdict = reply.starts_with('4') ? receiver_verdict::defer : receiver_verdict::refuse;
  p.stage = stage;
  p.reply = std::move(reply);
  p.rules.push_back(std::move(rule));
  return p;
}

receiver_prediction accept(receiver who) {
  receiver_prediction p;
  p.who = who;
  return p;
}

receiver_prediction unknown(receiver who, std::string missing) {
  receiver_prediction p;
  p.who = who;
  p.verdict = receiver_verdict::unknown;
  p.missing = std::move(missing);
  return p;
}

constexpr std::string_view need_client = "the client address (--client-ip)";
constexpr std::string_view need_dns = "the name's DNS records (--resolve)";

// RFC 5321 section 4.1.4: a server MAY verify the name but MUST NOT refuse
// a message because the verification fails; only what is not a Domain or
// address literal is refused (501, section 4.2.2).
receiver_prediction rfc5321(const input& in) {
  if (!in.report.syntax_valid)
    return refuse(receiver::rfc5321, smtp_stage::helo, "501 5.5.4 Syntax error in parameters or arguments",
                  "RFC 5321 section 4.1.1.1");
  return accept(receiver::rfc5321);
}

// --- Postfix ---------------------------------------------------------------
// Postfix smtpd (postconf(5); smtpd_check.c, valid_hostname.c, read for
// 3.7): smtpd_helo_required = yes, smtpd_helo_restrictions =
// reject_invalid_helo_hostname, reject_non_fqdn_helo_hostname,
// reject_unknown_helo_hostname, and the default smtpd_delay_reject = yes,
// which holds every refusal until RCPT TO. The first restriction that fails
// answers; none looks at the client address.

// valid_hostname(): letters, digits, "_" and "-" (not at either end of a
// label), labels of 1 to 63 octets, at most 255 in all, not all digits.
bool postfix_valid_hostname(std::string_view name) {
  if (name.empty() || name.size() > 255) return false;
  bool non_numeric = false;
  std::size_t label = 0;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char ch = name[i];
    if (ch == '.') {
      if (label == 0) return false;  // an empty label, or a dot at either end
      label = 0;
      continue;
    }
    if (++label > 63) return false;
    if (ascii::is_alpha(ch) || ch == '_') {
      non_numeric = true;
    } else if (ch == '-') {
      non_numeric = true;
      if (label == 1 || i + 1 == name.size() || name[i + 1] == '.') return false;
    } else if (!ascii::is_digit(ch)) {
      return false;
    }
  }
  return label != 0 && non_numeric;
}

bool is_address(std::string_view s) { return parse::ipv4_address(s) || parse::ipv6_address(s); }

std::string_view without_root_dot(std::string_view s) {
  if (!s.empty() && s.back() == '.') s.remove_suffix(1);
  return s;
}

receiver_prediction postfix(const input& in) {
  const auto& v = in.v;
  const auto who = receiver::postfix;
  const std::string_view name = in.report.name;
  const auto helo = [&](std::string_view text) {
    return fmt::format("<{}>: Helo command rejected: {}", escape_for_display(name), text);
  };
  if (name.empty())
    return refuse(who, smtp_stage::helo, "501 Syntax: EHLO hostname", "smtpd_helo_required");
  if (name.front() == '[') {
    // Only reject_invalid_helo_hostname looks at a literal (valid_mailhost_addr):
    // an IPv4 address, or "IPv6:" and an IPv6 address.
    const auto inside = name.size() >= 2 && name.back() == ']' ? name.substr(1, name.size() - 2) : std::string_view();
    const bool valid = ascii::istarts_with(inside, "IPv6:") ? parse::ipv6_address(inside.substr(5)).has_value()
                                                            : parse::ipv4_address(inside).has_value();
    if (!valid)
      return refuse(who, smtp_stage::rcpt, "501 5.5.2 " + helo("invalid ip address"), "reject_invalid_helo_hostname");
    return accept(who);
  }
  // The first two restrictions drop one root dot; the third does not.
  const auto stripped = without_root_dot(name);
  if (!postfix_valid_hostname(stripped) && !is_address(stripped))
    return refuse(who, smtp_stage::rcpt, "501 5.5.2 " + helo("Invalid name"), "reject_invalid_helo_hostname");
  if (!postfix_valid_hostname(stripped) || stripped.find('.') == std::string_view::npos)
    return refuse(who, smtp_stage::rcpt, "504 5.5.2 " + helo("need fully-qualified hostname"),
                  "reject_non_fqdn_helo_hostname");
  // reject_unknown_helo_hostname: an A, AAAA or MX record of the name as
  // sent (a root dot fails dns_lookup()'s own name check: not found).
  // NXDOMAIN, NODATA and a temporary failure (defer_if_permit) all get
  // 450 4.7.1 "Host not found".
  const auto unknown_host = [&] {
    return refuse(who, smtp_stage::rcpt, "450 4.7.1 " + helo("Host not found"), "reject_unknown_helo_hostname");
  };
  if (!postfix_valid_hostname(name)) return unknown_host();
  if (!v.name_asked) return unknown(who, std::string(need_dns));
  if (v.has_a || v.has_aaaa || v.has_mx) return accept(who);
  return unknown_host();
}

// --- Exim ------------------------------------------------------------------
// Exim's "verify = helo" (the Exim specification, "Access control lists";
// smtp_in.c smtp_verify_helo() and check_helo(), read for 4.96), as
// "deny !verify = helo" in acl_smtp_mail. It never defers: a lookup that
// fails is a failed verification.

// check_helo(): the EHLO argument itself, answered at EHLO.
bool exim_helo_syntax(std::string_view name) {
  if (name.empty()) return false;
  if (name.front() == '[') {
    if (name.size() < 2 || name.back() != ']') return false;
    auto inside = name.substr(1, name.size() - 2);
    if (ascii::istarts_with(inside, "IPv6:") || ascii::istarts_with(inside, "IPv4:")) inside.remove_prefix(5);
    return is_address(inside);
  }
  // helo_allow_chars is empty by default: letters, digits, "." and "-".
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return ascii::is_alpha(c) || ascii::is_digit(c) || c == '.' || c == '-'; });
}

// check_dns_names_pattern: a label that starts or ends with "-" is never
// looked up.
bool exim_lookable(std::string_view name) {
  std::size_t start = 0;
  for (;;) {
    const auto dot = name.find('.', start);
    const auto label = name.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (!label.empty() && (label.front() == '-' || label.back() == '-')) return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

receiver_prediction exim(const input& in) {
  const auto& v = in.v;
  const auto who = receiver::exim_verify_helo;
  const std::string_view name = in.report.name;
  if (!exim_helo_syntax(name))
    return refuse(who, smtp_stage::helo, "501 Syntactically invalid EHLO argument(s)", "check_helo");
  const auto deny = [&] { return refuse(who, smtp_stage::mail, "550 Administrative prohibition", "verify = helo"); };
  if (!v.client_known) return unknown(who, std::string(need_client));
  if (name.front() == '[') {
    // The literal is compared with the client address as text, and only
    // for the address's length: [127.0.0.12] verifies 127.0.0.1. An
    // IPv4-mapped client ("::ffff:a.b.c.d") is compared without its prefix.
    // The "IPv6:" tag is not skipped, so by the code as read an IPv6
    // client's RFC 5321 literal never verifies (no IPv6 client in
    // tests/ehlo_dns: untested).
    const auto inside = name.substr(1);
    std::string_view client = in.facts.client_ip;
    if (inside.starts_with(client)) return accept(who);
    if (ascii::istarts_with(client, "::ffff:") && inside.starts_with(client.substr(7))) return accept(who);
    return deny();
  }
  // The client's host name: a PTR name that resolves back to it.
  if (std::find(v.fcrdns_names.begin(), v.fcrdns_names.end(), v.name) != v.fcrdns_names.end()) return accept(who);
  // Then the name's own A and AAAA (DNS only: neither MX nor /etc/hosts).
  if (v.bare_ip || !exim_lookable(name)) return deny();
  if (v.forward_matches) return accept(who);
  if (!v.name_asked) return unknown(who, std::string(need_dns));
  return deny();
}

// --- Haraka ----------------------------------------------------------------
// Haraka's helo.checks plugin (haraka-plugin-helo.checks index.js, read for
// 1.1.3), every check at EHLO, in the order it registers them. By default
// every check runs and none refuses ("-reject.*"), and clients in private
// or loopback space are skipped ("+skip.private_ip"); its results are left
// for other plugins (karma) to score.

// The organisational domain, as haraka-tld finds it from the public suffix
// list; approximated: two labels or more, no root dot, a last label of
// letters that is not a reserved or internal top-level name.
bool haraka_has_org_domain(std::string_view name) {
  if (name.empty() || name.back() == '.' || name.find('.') == std::string_view::npos) return false;
  const auto tld = name.substr(name.rfind('.') + 1);
  if (tld.size() < 2 || !std::all_of(tld.begin(), tld.end(), [](char c) { return ascii::is_alpha(c); })) return false;
  for (const std::string_view reserved : {"test", "example", "invalid", "localhost", "local", "lan", "internal",
                                          "home", "corp", "localdomain", "intranet", "private"})
    if (ascii::iequals(tld, reserved)) return false;
  return true;
}

std::string org_domain(std::string_view name) {
  std::string lower = ascii::lower(without_root_dot(name));
  const auto last = lower.rfind('.');
  if (last == std::string::npos || last == 0) return lower;
  const auto before = lower.rfind('.', last - 1);
  return before == std::string::npos ? lower : lower.substr(before + 1);
}

// haraka-net-utils octets_in_string(): both octets as substrings, the
// longer one found first (from the end) and taken out.
bool octets_in_string(std::string str, const std::string& a, const std::string& b) {
  if (b.size() >= a.size()) {
    const auto at = str.rfind(b);
    if (at == std::string::npos) return false;
    str.erase(at, b.size());
    return str.find(a) != std::string::npos;
  }
  const auto at = str.find(a);
  if (at == std::string::npos) return false;
  str.erase(at, a.size());
  return str.rfind(b) != std::string::npos;
}

// is_ip_in_str(): the name without its last two labels holds the client's
// 3rd and 4th octets, or its 1st and 2nd, or its four hex octets.
bool haraka_dynamic(std::string_view name, std::string_view ip) {
  const auto octets = ip_octets(ip);
  if (!octets || octets->size() != 4 || !parse::ipv4_address(ip)) return false;
  std::string host = ascii::lower(name);
  for (int i = 0; i < 2; ++i) {
    const auto dot = host.rfind('.');
    host = dot == std::string::npos ? std::string() : host.substr(0, dot);
  }
  const auto& o = *octets;
  if (octets_in_string(host, std::to_string(o[2]), std::to_string(o[3])) ||
      octets_in_string(host, std::to_string(o[0]), std::to_string(o[1])))
    return true;
  for (int i = 0; i < 4; ++i) {
    const auto at = host.find(fmt::format("{:02x}", o[static_cast<std::size_t>(i)]));
    if (at == std::string::npos) return false;
    host.erase(at, 2);
  }
  return true;
}

// [bigco] of helo.checks' own configuration: a name there needs a reverse
// name under one of its domains.
struct big_company {
  std::string_view helo;
  std::string_view rdns[2];
};
constexpr big_company big_companies[] = {
    {"msn.com", {"msn.com"}},         {"hotmail.com", {"hotmail.com"}},
    {"yahoo.com", {"yahoo.com", "yahoo.co.jp"}}, {"yahoo.co.jp", {"yahoo.com", "yahoo.co.jp"}},
    {"yahoo.co.uk", {"yahoo.co.uk"}}, {"excite.com", {"excite.com", "excitenetwork.com"}},
    {"mailexcite.com", {"excite.com", "excitenetwork.com"}}, {"aol.com", {"aol.com"}},
    {"compuserve.com", {"compuserve.com", "adelphia.net"}}, {"nortelnetworks.com", {"nortelnetworks.com", "nortel.com"}},
    {"earthlink.net", {"earthlink.net"}}, {"earthling.net", {"earthling.net"}},
    {"google.com", {"google.com"}},   {"gmail.com", {"google.com", "gmail.com"}},
};

struct haraka_failure {
  std::string_view check;
  std::string reply;  // what it answers when its [reject] key is on; empty: it never refuses
};

// Every check that fails, in order.
std::vector<haraka_failure> haraka_failures(const input& in) {
  const auto& v = in.v;
  const std::string_view name = in.report.name;
  const auto& ip = in.facts.client_ip;
  std::vector<haraka_failure> out;
  const bool literal = name.size() > 2 && name.front() == '[' && name.back() == ']' &&
                       (is_address(name.substr(1, name.size() - 2)) ||
                        (ascii::istarts_with(name.substr(1), "IPv6:") && is_address(name.substr(6, name.size() - 7))));
  const auto bare = ascii::istarts_with(name, "IPv6:") ? name.substr(5) : name;
  if (is_address(bare)) out.push_back({"bare_ip", "550 Invalid address format in HELO"});
  const bool dotted = name.find('.') != std::string_view::npos;
  if (dotted && !literal && !is_address(bare) && haraka_dynamic(name, ip))
    out.push_back({"dynamic", "550 HELO is dynamic"});
  // The reverse name Haraka has: the PTR, not forward-confirmed.
  const std::string rdns = in.facts.ptr.has_records() ? in.facts.ptr.records.front() : std::string();
  if (!literal) {
    const auto* big = std::find_if(std::begin(big_companies), std::end(big_companies),
                                   [&](const big_company& b) { return b.helo == name; });
    if (big != std::end(big_companies)) {
      const bool ok = std::any_of(std::begin(big->rdns), std::end(big->rdns), [&](std::string_view d) {
        return !d.empty() && (rdns == d || (rdns.size() > d.size() && rdns.ends_with(d) && rdns[rdns.size() - d.size() - 1] == '.'));
      });
      if (!ok) out.push_back({"big_company", rdns.empty() ? "550 Big company w/o rDNS? Unlikely." : "550 You are not who you say you are"});
    }
  }
  bool valid = false;
  if (!literal) {
    if (name.empty()) {
      out.push_back({"valid_hostname", "550 HELO host name invalid"});
    } else if (!dotted) {
      out.push_back({"valid_hostname", "550 HELO host must be a FQDN or address literal (RFC 5321 2.3.5)"});
    } else if (!std::all_of(name.begin(), name.end(), [](char c) { return c >= 0x20 && c <= 0x7e; })) {
      out.push_back({"valid_hostname",
                     "501 5.5.4 HELO/EHLO argument invalid - HELO hostname contains non-ASCII characters (RFC 5321 "
                     "2.3.5), closing connection"});
    } else if (!haraka_has_org_domain(name)) {
      out.push_back({"valid_hostname", "550 HELO host name invalid"});
    } else {
      valid = true;
    }
  }
  bool rdns_matched = false;
  if (!literal && !name.empty()) {
    rdns_matched = (!rdns.empty() && rdns == name) ||
                   (!rdns.empty() && haraka_has_org_domain(rdns) && haraka_has_org_domain(name) &&
                    org_domain(rdns) == org_domain(name));
    if (!rdns_matched) out.push_back({"rdns_match", "550 HELO host does not match rDNS"});
  }
  if (!literal && !name.empty()) {
    if (!valid) {
      out.push_back({"forward_dns", "550 Invalid HELO host cannot achieve forward DNS match"});
    } else if (in.facts.a.status == dns_status::timeout || in.facts.aaaa.status == dns_status::timeout) {
      out.push_back({"forward_dns", "450 DNS timeout resolving your HELO hostname"});
    } else if (!v.has_a && !v.has_aaaa) {
      out.push_back({"forward_dns", ""});  // "no ips": recorded, never refused
    } else if (!v.forward_matches && !(rdns_matched && org_domain(rdns) == org_domain(name))) {
      out.push_back({"forward_dns", "550 HELO host has no forward DNS match"});
    }
  }
  if (literal) {
    // Mode 2 (the default): the literal's /24 must be the client's, as text.
    const auto inside = name.substr(1, name.size() - 2);
    const auto first3 = [](std::string_view a) { return a.substr(0, a.rfind('.')); };
    if (!parse::ipv4_address(inside) || !parse::ipv4_address(ip) || first3(inside) != first3(ip))
      out.push_back({"literal_mismatch", "550 HELO IP literal not in the same /24 as your IP address"});
  }
  return out;
}

bool private_client(const ehlo_facts& f) {
  const auto o = ip_octets(f.client_ip);
  if (!o) return false;
  const auto& a = *o;
  if (a.size() == 4)
    return a[0] == 10 || a[0] == 127 || (a[0] == 172 && (a[1] & 0xf0) == 16) || (a[0] == 192 && a[1] == 168) ||
           (a[0] == 169 && a[1] == 254);
  return (a[0] & 0xfe) == 0xfc || (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) ||
         std::all_of(a.begin(), a.end() - 1, [](std::uint8_t x) { return x == 0; });
}

// The default set: nothing refuses; the checks that fail are the rules.
receiver_prediction haraka(const input& in) {
  const auto who = receiver::haraka_helo_checks;
  if (!in.v.client_known) return unknown(who, std::string(need_client));
  auto p = accept(who);
  if (private_client(in.facts)) return p;  // +skip.private_ip
  if (!in.v.name_asked && in.v.domain) return unknown(who, std::string(need_dns));
  for (const auto& f : haraka_failures(in)) p.rules.emplace_back(f.check);
  return p;
}

// Every [reject] key on and [skip] private_ip off, as tests/ehlo_dns runs
// it: the first failing check that refuses answers at EHLO.
receiver_prediction haraka_reject(const input& in) {
  const auto who = receiver::haraka_helo_checks_reject;
  if (!in.v.client_known) return unknown(who, std::string(need_client));
  if (!in.v.name_asked && in.v.domain) return unknown(who, std::string(need_dns));
  auto p = accept(who);
  for (const auto& f : haraka_failures(in)) {
    if (f.reply.empty()) {
      p.rules.emplace_back(f.check);
      continue;
    }
    return refuse(who, smtp_stage::helo, f.reply, std::string(f.check));
  }
  return p;
}

// A scoring receiver's prediction: rules and their scores add up; any rule
// makes it a score (a refusal only where the sum reaches a threshold).
struct scorer {
  receiver_prediction p;
  explicit scorer(receiver who) : p(accept(who)) {}
  void add(std::string_view rule, double score) {
    p.rules.emplace_back(rule);
    p.score += score;
    p.verdict = receiver_verdict::score;
  }
};

// rspamd's hfilter module (src/plugins/lua/hfilter.lua, scores in
// conf/scores.d/hfilter_group.conf): skipped for local client addresses;
// never a refusal by itself (the reject action starts at 15).
receiver_prediction rspamd(const input& in) {
  const auto& v = in.v;
  scorer s(receiver::rspamd);
  const auto add = [&](std::string_view rule, double score) { s.add(rule, score); };
  if (!v.client_known) return unknown(receiver::rspamd, std::string(need_client));
  if (private_client(in.facts)) return s.p;  // "No more checks for ... local network" (check_local off)
  const bool private_range =
      in.report.has(code::loopback_address) || in.report.has(code::private_address) || in.report.has(code::link_local_address) ||
      in.report.has(code::documentation_address) || in.report.has(code::shared_address) || in.report.has(code::reserved_address) ||
      in.report.has(code::unspecified_address);
  if (v.literal || v.bare_ip) {
    add(private_range ? "HFILTER_HELO_BADIP" : "HFILTER_HELO_BAREIP", private_range ? 4.5 : 3.0);
  } else if (v.name.find('.') == std::string::npos || in.report.has(code::special_use_name) ||
             in.report.has(code::localhost)) {
    add("HFILTER_HELO_5", 3.0);
  } else if (v.name_dynamic) {
    add("HFILTER_HELO_5", 3.0);
  } else if (v.name_asked && !v.has_a && !v.has_aaaa && !v.name_temporary) {
    add("HFILTER_HELO_IP_A", 1.0);
    if (!v.has_mx) add("HFILTER_HELO_NORES_A_OR_MX", 0.3);
  }
  if (v.ptr_asked && (!v.ptr_present || v.fcrdns_names.empty()) && !v.ptr_temporary)
    add("HFILTER_HOSTNAME_UNKNOWN", 2.5);
  return s.p;
}

// SpamAssassin's rules on the relay that connected (RelayEval.pm's
// helo_ip_mismatch; 20_dynrdns.cf; scores of the default set, as
// X-Spam-Status headers of 3.4 show them). It only scores: whether the sum
// with the message's other rules reaches the site's threshold (5.0 by
// default), and what the MTA does then, is the site's.
receiver_prediction spamassassin(const input& in) {
  const auto& v = in.v;
  scorer s(receiver::spamassassin);
  const auto add = [&](std::string_view rule, double score) { s.add(rule, score); };
  if (!v.client_known) return unknown(receiver::spamassassin, std::string(need_client));
  if ((v.literal || v.bare_ip) && !v.literal_matches) add("RCVD_HELO_IP_MISMATCH", 2.368);
  if (v.name_dynamic) add("HELO_DYNAMIC_IPADDR", 1.951);
  if (v.ptr_asked && !v.ptr_present && !v.ptr_temporary) add("RDNS_NONE", 0.793);
  if (!v.ptr_embeds_client.empty()) add("RDNS_DYNAMIC", 0.982);
  return s.p;
}

// Gmail's MX (Google's "Email sender guidelines"): the sending address must
// have a PTR record whose name resolves back to it; the name itself is not
// compared. The refusal comes after the message.
receiver_prediction gmail(const input& in) {
  const auto& v = in.v;
  const auto who = receiver::gmail;
  if (!in.report.syntax_valid)
    return refuse(who, smtp_stage::helo, "501 5.5.4 HELO/EHLO argument is invalid", "RFC 5321 syntax");
  if (!v.client_known) return unknown(who, std::string(need_client));
  if (!v.ptr_asked) return unknown(who, "the client address's PTR record (--resolve)");
  if (v.ptr_temporary) return accept(who);
  if (!v.ptr_present || v.fcrdns_names.empty())
    return refuse(who, smtp_stage::data,
                  fmt::format("550 5.7.25 [{}] The IP address sending this message does not have a PTR record "
                              "setup, or the corresponding forward DNS entry does not point to the sending IP",
                              in.facts.client_ip),
                  "PTR and forward-confirmed reverse DNS");
  return accept(who);
}

// smtp-relay.gmail.com (Google Workspace, "SMTP relay service error
// messages"): the EHLO name identifies the customer; an address, a name
// without a domain or a local name gets 421 4.7.0 at EHLO.
receiver_prediction google_relay(const input& in) {
  const auto& v = in.v;
  const auto who = receiver::google_relay;
  if (!in.report.syntax_valid)
    return refuse(who, smtp_stage::helo, "501 5.5.4 HELO/EHLO argument is invalid", "RFC 5321 syntax");
  if (v.literal || v.bare_ip || in.report.has(code::not_fqdn) || in.report.has(code::localhost) ||
      in.report.has(code::special_use_name))
    return refuse(who, smtp_stage::helo, "421 4.7.0 Try again later, closing connection. (EHLO)",
                  "EHLO name identifies the customer");
  return accept(who);
}

// Exchange Online Protection ("Email non-delivery reports in Exchange
// Online"): the EHLO argument must be a domain or an address literal.
receiver_prediction m365(const input& in) {
  if (!in.report.syntax_valid || in.v.bare_ip)
    return refuse(receiver::m365, smtp_stage::helo, "501 5.5.4 Invalid domain name", "EHLO syntax");
  return accept(receiver::m365);
}

struct model {
  receiver who;
  receiver_prediction (*predict)(const input&);
  bool tested;
  std::string_view assumes;
};

constexpr model models[] = {
    {receiver::rfc5321, rfc5321, false, "RFC 5321 sections 4.1.1.1 and 4.1.4"},
    {receiver::postfix, postfix, true,
     "smtpd_helo_required = yes; smtpd_helo_restrictions = reject_invalid_helo_hostname, "
     "reject_non_fqdn_helo_hostname, reject_unknown_helo_hostname; smtpd_delay_reject = yes (postconf(5))"},
    {receiver::exim_verify_helo, exim, true, "acl_smtp_mail: deny !verify = helo (Exim specification, ACLs)"},
    {receiver::haraka_helo_checks, haraka, true,
     "helo.checks with its defaults: every check on, none refusing (-reject.*), private clients skipped"},
    {receiver::rspamd, rspamd, false, "hfilter with helo_enabled and hostname_enabled; default scores"},
    {receiver::spamassassin, spamassassin, false, "default rules and scores; the score only (the site's MTA acts on it)"},
    {receiver::gmail, gmail, false, "Gmail's MX, per Google's email sender guidelines"},
    {receiver::google_relay, google_relay, false, "smtp-relay.gmail.com, per Google Workspace's relay errors"},
    {receiver::m365, m365, false, "Exchange Online Protection's inbound connector"},
    {receiver::haraka_helo_checks_reject, haraka_reject, true,
     "helo.checks with every [reject] key on and [skip] private_ip off"},
};

}  // namespace

std::vector<receiver_prediction> predict_receivers(const ehlo_report& report, const ehlo_facts& facts,
                                                   std::span<const receiver> which) {
  const auto v = detail::view_of(report, facts);
  const input in{report, facts, v};
  std::vector<receiver_prediction> out;
  out.reserve(which.size());
  for (const auto r : which) {
    const auto m = std::find_if(std::begin(models), std::end(models), [&](const model& x) { return x.who == r; });
    if (m == std::end(models)) continue;
    auto p = m->predict(in);
    p.who = r;
    p.tested = m->tested;
    p.assumes = m->assumes;
    out.push_back(std::move(p));
  }
  return out;
}

}  // namespace sansmtp
