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
using c = ehlo_check_code;

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

// Not even the grammar: an RFC 5321 server answers 501 at EHLO.
bool bad_syntax(const input& in) { return !in.report.syntax_valid && !in.report.has(c::underscore); }

// RFC 5321 section 4.1.4: a server MAY verify the name but MUST NOT refuse
// a message because the verification fails; only what is not a Domain or
// address literal is refused (501, section 4.2.2).
receiver_prediction rfc5321(const input& in) {
  if (!in.report.syntax_valid)
    return refuse(receiver::rfc5321, smtp_stage::helo, "501 5.5.4 Syntax error in parameters or arguments",
                  "RFC 5321 section 4.1.1.1");
  return accept(receiver::rfc5321);
}

// Postfix smtpd (postconf(5)): smtpd_helo_required = yes,
// smtpd_helo_restrictions = reject_invalid_helo_hostname,
// reject_non_fqdn_helo_hostname, reject_unknown_helo_hostname, and the
// default smtpd_delay_reject = yes, which holds every refusal until RCPT TO.
receiver_prediction postfix(const input& in) {
  const auto& v = in.v;
  const auto who = receiver::postfix;
  const auto helo = [&](std::string_view text) {
    return fmt::format("<{}>: Helo command rejected: {}", escape_for_display(in.report.name), text);
  };
  // reject_invalid_helo_hostname: valid_hostname() or, in brackets, valid_hostaddr().
  if (bad_syntax(in) || (v.literal && in.report.has(c::untagged_ipv6_literal)))
    return refuse(who, smtp_stage::rcpt, "501 5.5.2 " + helo("Invalid name"), "reject_invalid_helo_hostname");
  if (v.literal || v.bare_ip) return accept(who);  // the other two restrictions skip addresses
  // reject_non_fqdn_helo_hostname: at least one dot inside the name.
  if (in.report.has(c::not_fqdn) || (in.report.has(c::localhost) && v.name.find('.') == std::string::npos))
    return refuse(who, smtp_stage::rcpt, "504 5.5.2 " + helo("need fully-qualified hostname"),
                  "reject_non_fqdn_helo_hostname");
  // reject_unknown_helo_hostname: an A, AAAA or MX record.
  if (!v.name_asked) return unknown(who, std::string(need_dns));
  if (v.has_a || v.has_aaaa || v.has_mx) return accept(who);
  return refuse(who, smtp_stage::rcpt, "450 4.7.1 " + helo("Host not found"), "reject_unknown_helo_hostname");
}

// Exim's "verify = helo" (the Exim specification, "Access control lists",
// verify = helo; and helo_verify_hosts): an address literal must be the
// client's address; a name must be the client address's (forward-
// confirmed) reverse name, or resolve forward to the client's address.
// Modelled as "deny !verify = helo" in acl_smtp_mail.
receiver_prediction exim(const input& in) {
  const auto& v = in.v;
  const auto who = receiver::exim_verify_helo;
  const auto deny = [&] {
    return refuse(who, smtp_stage::mail, "550 Administrative prohibition", "verify = helo");
  };
  if (!v.client_known) return unknown(who, std::string(need_client));
  if (v.literal || v.bare_ip) return v.literal_matches ? accept(who) : deny();
  if (!in.report.syntax_valid && !in.report.has(c::underscore)) return deny();
  if (v.name_is_verified_ptr || v.forward_matches) return accept(who);
  if (!v.name_asked) return unknown(who, std::string(need_dns));
  if (v.name_temporary || v.ptr_temporary)
    return refuse(who, smtp_stage::mail, "451 Temporary local problem - please try later", "verify = helo");
  return deny();
}

// Haraka's helo.checks plugin with its default helo.checks.ini.
receiver_prediction haraka(const input& in) {
  const auto& v = in.v;
  const auto who = receiver::haraka_helo_checks;
  if (!v.client_known) return unknown(who, std::string(need_client));
  const auto deny = [&](std::string_view check, std::string_view text) {
    return refuse(who, smtp_stage::helo, fmt::format("550 {}", text), std::string(check));
  };
  if (v.bare_ip) return deny("bare_ip", "Invalid address format in HELO");
  if (v.literal) return v.literal_matches ? accept(who) : deny("literal_mismatch", "HELO is not the connecting IP");
  if (v.name_embeds_client) return deny("dynamic", "HELO is dynamic");
  if (!in.report.syntax_valid && !in.report.has(c::underscore)) return deny("valid_hostname", "HELO host name invalid");
  if (!v.name_asked) return unknown(who, std::string(need_dns));
  if (!v.forward_matches) return deny("forward_dns", "HELO host has no forward DNS match");
  return accept(who);
}

// rspamd's hfilter module (src/plugins/lua/hfilter.lua, scores in
// conf/scores.d/hfilter_group.conf): skipped for local client addresses;
// never a refusal by itself (the reject action starts at 15).
receiver_prediction rspamd(const input& in) {
  const auto& v = in.v;
  receiver_prediction p = accept(receiver::rspamd);
  const auto add = [&](std::string_view rule, double score) {
    p.rules.emplace_back(rule);
    p.score += score;
  };
  if (!v.client_known) return unknown(receiver::rspamd, std::string(need_client));
  const bool private_range =
      in.report.has(c::loopback_address) || in.report.has(c::private_address) || in.report.has(c::link_local_address) ||
      in.report.has(c::documentation_address) || in.report.has(c::shared_address) || in.report.has(c::reserved_address) ||
      in.report.has(c::unspecified_address);
  if (v.literal || v.bare_ip) {
    add(private_range ? "HFILTER_HELO_BADIP" : "HFILTER_HELO_BAREIP", private_range ? 4.5 : 3.0);
  } else if (v.name.find('.') == std::string::npos || in.report.has(c::special_use_name) ||
             in.report.has(c::localhost)) {
    add("HFILTER_HELO_5", 3.0);
  } else if (v.name_dynamic) {
    add("HFILTER_HELO_5", 3.0);
  } else if (v.name_asked && !v.has_a && !v.has_aaaa && !v.name_temporary) {
    add("HFILTER_HELO_IP_A", 1.0);
    if (!v.has_mx) add("HFILTER_HELO_NORES_A_OR_MX", 0.3);
  }
  if (v.ptr_asked && (!v.ptr_present || v.fcrdns_names.empty()) && !v.ptr_temporary)
    add("HFILTER_HOSTNAME_UNKNOWN", 2.5);
  if (!p.rules.empty()) p.verdict = receiver_verdict::score;
  return p;
}

// SpamAssassin's rules on the relay that connected (RelayEval.pm's
// helo_ip_mismatch; 20_dynrdns.cf; scores of the default set, as
// X-Spam-Status headers of 3.4 show them); the default threshold is 5.0.
receiver_prediction spamassassin(const input& in) {
  const auto& v = in.v;
  receiver_prediction p = accept(receiver::spamassassin);
  const auto add = [&](std::string_view rule, double score) {
    p.rules.emplace_back(rule);
    p.score += score;
  };
  if (!v.client_known) return unknown(receiver::spamassassin, std::string(need_client));
  if ((v.literal || v.bare_ip) && !v.literal_matches) add("RCVD_HELO_IP_MISMATCH", 2.368);
  if (v.name_dynamic) add("HELO_DYNAMIC_IPADDR", 1.951);
  if (v.ptr_asked && !v.ptr_present && !v.ptr_temporary) add("RDNS_NONE", 0.793);
  if (!v.ptr_embeds_client.empty()) add("RDNS_DYNAMIC", 0.982);
  if (!p.rules.empty()) p.verdict = p.score >= 5.0 ? receiver_verdict::refuse : receiver_verdict::score;
  if (p.verdict == receiver_verdict::refuse) {
    p.stage = smtp_stage::data;
    p.reply = "550 5.7.1 Message rejected as spam";
  }
  return p;
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
  if (v.literal || v.bare_ip || in.report.has(c::not_fqdn) || in.report.has(c::localhost) ||
      in.report.has(c::special_use_name))
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
    {receiver::haraka_helo_checks, haraka, true, "helo.checks with its default helo.checks.ini"},
    {receiver::rspamd, rspamd, false, "hfilter with helo_enabled and hostname_enabled; default scores"},
    {receiver::spamassassin, spamassassin, false, "default rules and scores; required_score 5.0"},
    {receiver::gmail, gmail, false, "Gmail's MX, per Google's email sender guidelines"},
    {receiver::google_relay, google_relay, false, "smtp-relay.gmail.com, per Google Workspace's relay errors"},
    {receiver::m365, m365, false, "Exchange Online Protection's inbound connector"},
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
