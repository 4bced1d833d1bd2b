// The EHLO-name linter: will the name a client is about to send be accepted?
//
// Born from a real incident: a client in a Kubernetes pod sent
// "EHLO [10.42.0.17]" and the server answered "550 ... Invalid HeloHost" to
// MAIL FROM, not to EHLO, so nobody suspected the name.
#pragma once

#include <sansmtp/parse.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sansmtp {

enum class severity { info, warn, fail };  // ordered: worst is largest
enum class verdict { pass, warn, fail };

enum class lint_profile {
  internet,  // sending to public servers (default)
  internal,  // a private relay: private, link-local and ULA literals and
             // internal names are warnings; loopback still fails
};

struct ehlo_check_options {
  lint_profile profile = lint_profile::internet;
};

struct finding {
  // Stable API, kebab-case ("private-address"); see README for the full list.
  std::string_view code;
  severity level = severity::info;
  std::string message;     // one sentence; names the RFC or software that objects
  std::string suggestion;  // a fixed name or an action; empty when none applies
};

struct ehlo_report {
  std::string name;                // as given (may hold any bytes)
  bool syntax_valid = false;       // parse::ehlo_argument accepted it
  std::optional<host_kind> kind;   // set when syntax_valid
  verdict result = verdict::pass;  // the worst finding (info counts as pass)
  std::vector<finding> findings;

  bool has(std::string_view code) const noexcept;
  const finding* find(std::string_view code) const noexcept;
};

ehlo_report check_ehlo_name(std::string_view name, const ehlo_check_options& options = {});

std::string_view severity_name(severity s) noexcept;  // "info", "warn", "fail"
std::string_view verdict_name(verdict v) noexcept;    // "pass", "warn", "fail"
std::string_view profile_name(lint_profile p) noexcept;

// The text with every byte that is not printable ASCII or part of valid UTF-8
// written as \xNN (and "\" as "\\"): safe to show on a terminal or in a log,
// so a name carrying CR, LF or NUL is never echoed raw. Control code points
// in valid UTF-8 are escaped the same way, octet by octet: the C1 controls
// U+0080-U+009F (U+009B is CSI, a terminal escape) and the bidirectional
// formatting characters U+061C, U+200E, U+200F, U+202A-U+202E and
// U+2066-U+2069 (they reorder the text shown around them). Any other valid
// UTF-8 stays as it is.
std::string escape_for_display(std::string_view text);

}  // namespace sansmtp
