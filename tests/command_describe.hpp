// Tests: one line of text per parsed command, with every field a user can
// read, so that tables can say exactly what a line must parse to.
#pragma once

#include <sansmtp/syntax/command.hpp>

#include <string>

namespace sansmtp::test {

inline std::string opt(const std::optional<std::string_view>& v) {
  return v ? "[" + std::string(*v) + "]" : "-";
}

inline std::string describe(const path& p) {
  return "<" + std::string(p.local_part) + (p.domain.empty() ? "" : "@" + std::string(p.domain)) + ">";
}

inline std::string describe(const mail_parameters& m) {
  std::string s = "{" + std::string(m.text) + "}";
  if (m.size) s += " size=" + std::to_string(*m.size);
  if (m.body != body_type::none) s += " body=" + std::to_string(static_cast<int>(m.body));
  if (m.smtputf8) s += " smtputf8";
  if (m.requiretls) s += " requiretls";
  if (m.ret != dsn_ret::none) s += m.ret == dsn_ret::full ? " ret=full" : " ret=hdrs";
  if (m.envid) s += " envid=" + opt(m.envid);
  if (m.auth) s += " auth=" + opt(m.auth);
  if (m.by)
    s += " by=" + std::to_string(m.by->seconds) + std::string(1, m.by->mode) + (m.by->trace ? "T" : "");
  if (m.mt_priority) s += " mt-priority=" + std::to_string(*m.mt_priority);
  if (m.holdfor) s += " holdfor=" + std::to_string(*m.holdfor);
  if (m.holduntil) s += " holduntil=" + opt(m.holduntil);
  return s;
}

inline std::string describe(const rcpt_parameters& r) {
  std::string s = "{" + std::string(r.text) + "}";
  if (r.notify) s += " notify=" + std::to_string(r.notify);
  if (r.orcpt) s += " orcpt=" + std::string(r.orcpt->type) + ";" + std::string(r.orcpt->address);
  if (r.rrvs)
    s += " rrvs=" + std::string(r.rrvs->date_time) + (r.rrvs->mode ? std::string(1, r.rrvs->mode) : "");
  return s;
}

struct describer {
  std::string operator()(const cmd::ehlo& c) const { return "EHLO " + std::string(c.host.text); }
  std::string operator()(const cmd::helo& c) const { return "HELO " + std::string(c.host.text); }
  std::string operator()(const cmd::lhlo& c) const { return "LHLO " + std::string(c.host.text); }
  std::string operator()(const cmd::mail& c) const {
    return "MAIL " + describe(c.reverse_path) + " " + describe(c.params);
  }
  std::string operator()(const cmd::rcpt& c) const {
    return "RCPT " + describe(c.forward_path) + " " + describe(c.params);
  }
  std::string operator()(const cmd::data&) const { return "DATA"; }
  std::string operator()(const cmd::bdat& c) const {
    return "BDAT " + std::to_string(c.size) + (c.last ? " LAST" : "");
  }
  std::string operator()(const cmd::rset&) const { return "RSET"; }
  std::string operator()(const cmd::vrfy& c) const { return "VRFY [" + std::string(c.argument) + "]"; }
  std::string operator()(const cmd::expn& c) const { return "EXPN [" + std::string(c.argument) + "]"; }
  std::string operator()(const cmd::help& c) const { return "HELP " + opt(c.argument); }
  std::string operator()(const cmd::noop& c) const { return "NOOP " + opt(c.argument); }
  std::string operator()(const cmd::quit&) const { return "QUIT"; }
  std::string operator()(const cmd::starttls&) const { return "STARTTLS"; }
  std::string operator()(const cmd::auth& c) const {
    return "AUTH " + std::string(c.mechanism) + " " + opt(c.initial_response);
  }
  std::string operator()(const cmd::unknown& c) const {
    return "unknown " + std::string(c.verb) + " " + opt(c.argument);
  }
};

inline std::string describe(const command& c) { return std::visit(describer{}, c); }

}  // namespace sansmtp::test
