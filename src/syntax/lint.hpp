// Internal: shared by the EHLO linter's translation units.
#pragma once

#include <sansmtp/syntax/ehlo_check.hpp>

#include "utf8.hpp"

#include <string>
#include <string_view>

namespace sansmtp::detail {

// Collects findings for one name under one profile.
class lint {
 public:
  lint(ehlo_report& report, lint_profile profile) : report_(report), profile_(profile) {}

  void add(ehlo_check_code code, severity level, std::string message, std::string suggestion = {});
  // The severity depends on the profile: `internet` vs `internal`.
  void add(ehlo_check_code code, severity internet, severity internal, std::string message,
           std::string suggestion = {});

  lint_profile profile() const noexcept { return profile_; }
  const ehlo_report& report() const noexcept { return report_; }

 private:
  ehlo_report& report_;
  lint_profile profile_;
};

// Findings for a name that is (or tries to be) a Domain; `name` is the
// display-safe text already checked for controls.
void lint_domain(lint& out, std::string_view name);

// Whether a domain name reads like an ISP's name for a dynamically assigned
// address (an embedded IPv4 address, or words such as "dsl" and "pool").
bool looks_dynamic(std::string_view name);

}  // namespace sansmtp::detail
