// Will a given receiver take the EHLO name? A model per real receiver of the
// checks it makes on the name and on the client address, from the same
// facts check_ehlo_name(name, facts) reads: accept or refuse, at which SMTP
// stage, and the reply a real server of that kind sends. Pure; each model
// says what configuration it assumes and whether tests/ehlo_dns runs it
// against the real server.
#pragma once

#include <sansmtp/advice/ehlo_facts.hpp>
#include <sansmtp/syntax/ehlo_check.hpp>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sansmtp {

// Stable API: enumerators are only appended; receiver_name() gives the name
// the CLI and the JSON use.
enum class receiver : std::uint8_t {
  rfc5321,             // what RFC 5321 allows: refuse bad syntax only (section 4.1.4)
  postfix,             // reject_invalid_/reject_non_fqdn_/reject_unknown_helo_hostname
  exim_verify_helo,    // Exim with "deny !verify = helo" in the MAIL ACL
  haraka_helo_checks,  // Haraka's helo.checks plugin, default settings (it refuses nothing)
  rspamd,              // rspamd's hfilter module: scores, never refuses alone
  spamassassin,        // SpamAssassin's HELO and rDNS rules: scores
  gmail,               // Gmail's MX: forward-confirmed reverse DNS of the client address
  google_relay,        // smtp-relay.gmail.com: identifies the customer by the EHLO name
  m365,                // Microsoft 365 / Exchange Online Protection
  haraka_helo_checks_reject,  // helo.checks with every [reject] key on
};
inline constexpr receiver all_receivers[] = {
    receiver::rfc5321,      receiver::postfix, receiver::exim_verify_helo, receiver::haraka_helo_checks,
    receiver::rspamd,       receiver::spamassassin, receiver::gmail,     receiver::google_relay,
    receiver::m365,         receiver::haraka_helo_checks_reject};
[[nodiscard]] std::string_view receiver_name(receiver r) noexcept;  // "postfix", "exim-verify-helo", ...
[[nodiscard]] std::optional<receiver> receiver_from_name(std::string_view name) noexcept;

enum class receiver_verdict : std::uint8_t {
  accept,   // the name passes this receiver's checks
  refuse,   // a 5xx: the mail bounces
  defer,    // a 4xx: the mail waits in the sender's queue and is retried
  score,    // accepted, but spam rules fire (see score and rules)
  unknown,  // the facts this receiver needs were not given (see missing)
};
[[nodiscard]] std::string_view receiver_verdict_name(receiver_verdict v) noexcept;  // "accept", ...

// Where in the session the receiver answers.
enum class smtp_stage : std::uint8_t { none, connect, helo, mail, rcpt, data };
[[nodiscard]] std::string_view smtp_stage_name(smtp_stage s) noexcept;  // "none", "connect", "helo", ...

struct receiver_prediction {
  receiver who = receiver::rfc5321;
  receiver_verdict verdict = receiver_verdict::accept;
  smtp_stage stage = smtp_stage::none;  // none for accept and score
  std::string reply;                    // the reply that receiver sends; empty unless refuse or defer
  // The receiver's own names of the checks that fired: the one that refused,
  // the rules that scored, or checks that failed without refusing (Haraka's
  // default helo.checks records them for other plugins).
  std::vector<std::string> rules;
  double score = 0;                     // rspamd and SpamAssassin: the sum of those rules' default scores
  std::string missing;                  // for unknown: the fact that is missing
  bool tested = false;                  // tests/ehlo_dns compares this model with the real server
  std::string_view assumes;             // the configuration modelled, and where it is documented
};

// One prediction per receiver asked for, in that order. `report` is what
// check_ehlo_name(name, facts, options) returned for the same facts.
[[nodiscard]] std::vector<receiver_prediction> predict_receivers(const ehlo_report& report, const ehlo_facts& facts,
                                                                 std::span<const receiver> which = all_receivers);

}  // namespace sansmtp
