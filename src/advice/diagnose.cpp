// Failure replies -> a kind and an explanation. The reply code and the
// enhanced status decide first (RFC 5321 §4.2.1, RFC 3463 §3); the text only
// refines what they leave open, through one ordered table of rules, first
// match wins: the specific kinds (the EHLO name, TLS, AUTH) come before the
// broad ones (relay, policy) because servers reuse 5.7.1 for all of them.
// The text rules read words only: addresses, host names and URLs are names,
// and "<relay@example.com>" or "starttls.example.net" says nothing about
// relaying or TLS.
#include <sansmtp/advice/diagnose.hpp>

#include <sansmtp/core/display.hpp>

#include "ascii.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>

namespace sansmtp {
namespace {

using phrases = std::array<std::string_view, 16>;  // unused slots stay empty

struct rule {
  failure_kind kind;
  char reply_class;                      // '4', '5', or 0 for either
  std::array<int, 2> codes;              // any of these codes (0 = unused)
  std::array<std::string_view, 3> escs;  // any of these ESCs; "5.7." matches a prefix
  phrases any;                           // any of these, case-insensitive, in the text
  bool esc_and_phrase;                   // both an ESC and a phrase must match (else either)
  std::string_view unless;               // a phrase that rules this out
};

// Enhanced statuses that decide a 5xx whatever its text says (RFC 3463 §3):
// "5.1." matches a prefix; the first match wins.
struct status_rule {
  std::string_view esc;
  failure_kind kind;
};
constexpr status_rule decisive_statuses[] = {
    {"5.1.1", failure_kind::mailbox_unknown},   // bad destination mailbox address
    {"5.1.10", failure_kind::mailbox_unknown},  // Microsoft 365: recipient not found (RFC 7505: null MX)
    // The rest of X.1.x are addressing statuses (bad system, bad syntax, bad
    // sender's system address, ...): an address problem, whatever words the
    // text holds; explained as such.
    {"5.1.", failure_kind::other_permanent},
    {"5.2.3", failure_kind::message_too_large},  // message length exceeds administrative limit
    {"5.3.4", failure_kind::message_too_large},  // message too big for system
    {"5.7.8", failure_kind::auth_failed},        // authentication credentials invalid (RFC 4954)
};

// Real texts behind the phrases are in tests/test_diagnose.cpp.
const rule rules[] = {
    {failure_kind::helo_rejected,
     0,
     {},
     {},
     {"helo command rejected", "invalid helohost", "helo/ehlo argument", "fully-qualified hostname",
      "fully qualified hostname", "fully-qualified domain name", "invalid helo", "bad helo", "helo name",
      "ehlo name", "helo argument", "ehlo argument", "helo host", "(ehlo)", "helo hostname", "saying helo"},
     false,
     {}},
    // 5.5.2 (syntax) and 5.7.1 (policy) that speak of HELO/EHLO; "send HELO first" is a sequence error.
    {failure_kind::helo_rejected, 0, {}, {"5.5.2", "5.7.1", "4.7.1"}, {"helo", "ehlo"}, true, "first"},
    {failure_kind::tls_required,
     0,
     {},
     {},
     {"starttls", "tls required", "requires tls", "must use tls", "encryption required", "tls is required",
      "requiretls"},
     false,
     {}},
    {failure_kind::auth_failed,
     0,
     {535},
     {"5.7.8"},
     {"authentication failed", "authentication unsuccessful", "invalid credentials", "credentials invalid"},
     false,
     {}},
    {failure_kind::auth_required,
     0,
     {530},
     {},
     {"authentication required", "authentication is required", "not authenticated", "must authenticate",
      "auth required", "authentication needed", "not logged in", "login required"},
     false,
     {}},
    {failure_kind::relay_denied, 0, {}, {}, {"relay"}, false, {}},
    {failure_kind::mailbox_unknown,
     '5',
     {},
     {"5.1.1", "5.1.10"},
     {"user unknown", "unknown user", "no such user", "no such mailbox", "mailbox not found",
      "recipient not found", "recipnotfound", "unknown recipient", "invalid recipient", "unrouteable address",
      "address unknown", "no mailbox here"},
     false,
     {}},
    {failure_kind::message_too_large,
     0,
     {},
     {"5.3.4", "5.2.3"},
     {"message size", "too large", "too big", "size limit", "exceeds fixed", "message is larger",
      "maximum message size"},
     false,
     {}},
    {failure_kind::temporary, '4', {}, {}, {}, false, {}},
    {failure_kind::policy,
     '5',
     {},
     {"5.7."},
     {"spam", "blocked", "block list", "blocklist", "blacklist", "unsolicited", "reputation", "policy",
      "rejected", "denied", "dnsbl", "not accepted"},
     false,
     {}},
    {failure_kind::other_permanent, '5', {}, {}, {}, false, {}},
};

bool contains(std::string_view haystack, std::string_view needle) {
  return !needle.empty() && haystack.find(needle) != std::string_view::npos;
}

// "5.7." matches a prefix of the ESC, "5.7.1" only itself.
bool esc_is(std::string_view pattern, const std::string& esc) {
  return !pattern.empty() && !esc.empty() &&
         (pattern.back() == '.' ? esc.starts_with(pattern) : esc == pattern);
}

bool esc_matches(const rule& r, const std::string& esc) {
  for (const auto e : r.escs)
    if (esc_is(e, esc)) return true;
  return false;
}

bool is_word_char(char c) { return ascii::is_alpha(c) || ascii::is_digit(c); }

// A token that names something rather than saying something: an address
// (anything with "@"), a URL, or a host name (a dot between two letters or
// digits: "relay.example.com", "[192.0.2.1]"; a sentence's final dot is not).
bool is_name_token(std::string_view token) {
  constexpr std::string_view punctuation = "()[]{}<>\"',;:!?";
  while (!token.empty() && (punctuation.find(token.front()) != token.npos)) token.remove_prefix(1);
  while (!token.empty() && (punctuation.find(token.back()) != token.npos || token.back() == '.'))
    token.remove_suffix(1);
  if (token.find('@') != token.npos || token.starts_with("http://") || token.starts_with("https://") ||
      token.starts_with("www."))
    return true;
  for (std::size_t i = 1; i + 1 < token.size(); ++i)
    if (token[i] == '.' && is_word_char(token[i - 1]) && is_word_char(token[i + 1])) return true;
  return false;
}

// The text the rules read: the lines in lower case, with every "<...>" (a
// path, RFC 5321 §4.1.2) and every name token blanked out.
std::string words_of(std::span<const std::string_view> lines) {
  std::string text;
  for (const auto line : lines) {
    text += ascii::lower(line);
    text += ' ';
  }
  for (auto open = text.find('<'); open != std::string::npos; open = text.find('<', open + 1)) {
    const auto close = text.find('>', open);
    if (close == std::string::npos) break;
    std::fill(text.begin() + static_cast<std::ptrdiff_t>(open),
              text.begin() + static_cast<std::ptrdiff_t>(close) + 1, ' ');
  }
  for (std::size_t start = 0; start < text.size();) {
    const auto end = std::min(text.find_first_of(" \t", start), text.size());
    if (is_name_token(std::string_view(text).substr(start, end - start)))
      std::fill(text.begin() + static_cast<std::ptrdiff_t>(start),
                text.begin() + static_cast<std::ptrdiff_t>(end), ' ');
    start = end + 1;
  }
  return text;
}

bool phrase_matches(const rule& r, const std::string& text) {
  for (const auto p : r.any)
    if (contains(text, p)) return true;
  return false;
}

bool applies(const rule& r, int code, const std::string& esc, const std::string& text) {
  if (r.reply_class != 0 && r.reply_class - '0' != code / 100) return false;
  if (contains(text, r.unless)) return false;
  const bool has_escs = !r.escs[0].empty();
  const bool has_phrases = !r.any[0].empty();
  const bool has_codes = r.codes[0] != 0;
  if (!has_escs && !has_phrases && !has_codes) return true;
  const bool code_hit = has_codes && (code == r.codes[0] || code == r.codes[1]);
  const bool esc_hit = has_escs && esc_matches(r, esc);
  const bool phrase_hit = has_phrases && phrase_matches(r, text);
  if (r.esc_and_phrase) return esc_hit && phrase_hit;
  return code_hit || esc_hit || phrase_hit;
}

bool about_helo(answered_command c) { return c == answered_command::ehlo || c == answered_command::helo; }

std::string explain(failure_kind kind, const std::string& text, const std::string& esc) {
  switch (kind) {
    case failure_kind::helo_rejected:
      return "the server refused the name this client gave in EHLO/HELO. Servers want a fully-qualified "
             "domain name that resolves (RFC 5321 sections 2.3.5 and 4.1.4), or an address literal of the "
             "client's public address; a host in a container or a private network often sends an internal "
             "name or a literal such as [10.0.0.5]. Check the name with 'sansmtp ehlo-check NAME' and "
             "configure a public FQDN.";
    case failure_kind::tls_required:
      return "the server requires STARTTLS before this command (RFC 3207). Enable STARTTLS in the client; it "
             "must send EHLO again over TLS.";
    case failure_kind::auth_required:
      return "the server wants the client to authenticate (AUTH, RFC 4954) first; on a submission port (587, "
             "465) that is normal. Configure credentials, or deliver to the recipient domain's MX on port "
             "25.";
    case failure_kind::auth_failed:
      return "the server refused the credentials: a wrong user name or password, or a mechanism the account "
             "may not use.";
    case failure_kind::relay_denied:
      return "the server will not pass mail on to that recipient's domain for this client: it is not that "
             "domain's MX, and the client is neither authenticated nor trusted. Deliver to the recipient "
             "domain's MX, or authenticate first.";
    case failure_kind::mailbox_unknown:
      return "the recipient address does not exist at this server. Check the address; retrying will not "
             "help.";
    case failure_kind::message_too_large:
      return "the message is larger than the server accepts. Compare with the SIZE in the server's EHLO "
             "reply (RFC 1870) and send less.";
    case failure_kind::temporary:
      if (contains(text, "greylist") || contains(text, "graylist") || contains(text, "grey-list"))
        return "a temporary refusal by greylisting: the server turns away an unknown sender once and accepts "
               "the same delivery when it is retried some minutes later. Keep the message queued and retry.";
      return "a temporary refusal: keep the message queued and retry later (RFC 5321 section 4.5.4.1).";
    case failure_kind::policy:
      return "the server refused this for policy reasons (spam filtering, a block list, the sending "
             "address's "
             "reputation). Read the text and any URL in it; the fix is in the sending system's reputation or "
             "setup, not in the message syntax.";
    case failure_kind::other_permanent:
      if (esc_is("5.1.", esc))
        return "the server refused an address of the envelope (an RFC 3463 X.1.x addressing status): the "
               "sender's or a recipient's address or its domain is wrong, does not exist or does not "
               "resolve. Check the address the text names; retrying unchanged will not help.";
      return "a permanent failure: do not retry it unchanged; the text says why.";
    case failure_kind::none:
      break;
  }
  return {};
}

}  // namespace

std::string_view failure_kind_name(failure_kind k) noexcept {
  switch (k) {
    case failure_kind::none:
      return "none";
    case failure_kind::helo_rejected:
      return "helo-rejected";
    case failure_kind::tls_required:
      return "tls-required";
    case failure_kind::auth_required:
      return "auth-required";
    case failure_kind::auth_failed:
      return "auth-failed";
    case failure_kind::relay_denied:
      return "relay-denied";
    case failure_kind::mailbox_unknown:
      return "mailbox-unknown";
    case failure_kind::message_too_large:
      return "message-too-large";
    case failure_kind::temporary:
      return "temporary";
    case failure_kind::policy:
      return "policy";
    case failure_kind::other_permanent:
      return "other-permanent";
  }
  return "unknown";
}

diagnosis diagnose(int code, std::optional<enhanced_status> enhanced, std::span<const std::string_view> lines,
                   answered_command answered) {
  diagnosis out;
  const int reply_class = code / 100;
  if (reply_class != 4 && reply_class != 5) return out;
  const std::string text = words_of(lines);
  const std::string esc = enhanced ? to_string(*enhanced) : std::string();
  const auto decisive = std::find_if(std::begin(decisive_statuses), std::end(decisive_statuses),
                                     [&](const status_rule& s) { return esc_is(s.esc, esc); });
  if (about_helo(answered) && (code == 501 || code == 504)) {
    out.kind = failure_kind::helo_rejected;  // §4.1.4: 501 and 504 to EHLO/HELO are about its argument
  } else if (reply_class == 5 && decisive != std::end(decisive_statuses)) {
    out.kind = decisive->kind;
  } else {
    for (const auto& r : rules) {
      // §4.2.1: a 4xx is transient. Only a text that names the EHLO name
      // (Postfix's 450 "Helo command rejected") says more than "retry".
      if (reply_class == 4 && r.kind != failure_kind::helo_rejected && r.kind != failure_kind::temporary)
        continue;
      if (applies(r, code, esc, text)) {
        out.kind = r.kind;
        break;
      }
    }
  }
  const std::string head = esc.empty() ? std::to_string(code) : fmt::format("{} {}", code, esc);
  const auto what = answered_command_text(answered);
  if (out.kind == failure_kind::helo_rejected && !about_helo(answered) &&
      answered != answered_command::unknown)
    out.explanation = fmt::format(
        "This {} arrived in answer to {}, but it is about your EHLO name: many servers check the EHLO name "
        "only when MAIL or RCPT arrives, so the refusal shows up there. In short: {}",
        head, what, explain(out.kind, text, esc));
  else if (answered == answered_command::unknown)  // the caller did not say: no claim about it
    out.explanation = fmt::format("This {}: {}", head, explain(out.kind, text, esc));
  else
    out.explanation =
        fmt::format("This {} arrived in answer to {}: {}", head, what, explain(out.kind, text, esc));
  return out;
}

diagnosis diagnose(const client_event::reply& r, std::string_view ehlo_name) {
  if (r.value.code < 400) return {};
  auto out = diagnose(r.value, r.answered);
  // The story this library was born from: a refusal at MAIL or RCPT that
  // is about the EHLO name. Say which name was sent.
  if (out.kind == failure_kind::helo_rejected && !ehlo_name.empty())
    out.explanation += fmt::format(" The EHLO name sent was \"{}\" (check it with: sansmtp ehlo-check).",
                                   escape_for_display(ehlo_name));
  return out;
}

}  // namespace sansmtp
