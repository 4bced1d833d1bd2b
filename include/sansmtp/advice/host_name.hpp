// What EHLO name this host would send, and what popular clients would send.
// These functions read the system's host name and resolver; everything else in
// sansmtp is pure.
#pragma once

#include <sansmtp/syntax/ehlo_check.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sansmtp {

struct default_ehlo_name_result {
  std::optional<std::string> name;    // the name to send, if one passes the linter
  std::string hostname;               // gethostname()
  std::string canonical;              // getaddrinfo(AI_CANONNAME); empty if unresolved
  std::vector<std::string> reasons;   // why each refused candidate was refused
  std::optional<ehlo_report> report;  // the linter's report on `name`, when set
};

// The canonical FQDN when it passes the linter (verdict pass or warn), else the
// plain host name when that passes, else no name and the reasons: never a
// silent "[127.0.0.1]".
default_ehlo_name_result default_ehlo_name(const ehlo_check_options& options = {});

// The same decision from given facts (no system calls; for tests and tools).
default_ehlo_name_result choose_ehlo_name(std::string_view hostname, std::string_view canonical,
                                          const ehlo_check_options& options = {});

// gethostname(); empty on failure.
std::string system_hostname();
// getaddrinfo(host, AI_CANONNAME)'s canonical name; empty when it fails.
std::string canonical_hostname(std::string_view host);

// Nodemailer's default EHLO name (SMTPConnection._getHostname): os.hostname()
// if it contains a dot, else "[127.0.0.1]"; a dotted quad gets brackets.
std::string nodemailer_default_name(std::string_view hostname);

// Python smtplib's default (SMTP.__init__): socket.getfqdn() if it contains a
// dot, else "[" + gethostbyname(gethostname()) + "]" ("[127.0.0.1]" when that
// fails). getfqdn() is emulated with the same resolver calls CPython makes.
std::string python_getfqdn();
std::string python_smtplib_default_name();

}  // namespace sansmtp
