// The EHLO-name linter for names that are (or try to be) a Domain: label
// syntax, IDNA, FQDN-ness, special-use names, container and dynamic names.
#include "ascii.hpp"
#include <sansmtp/core/display.hpp>
#include "lint.hpp"

#include <fmt/format.h>
#include <idn2.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

namespace sansmtp::detail {
namespace {

constexpr auto F = severity::fail;
constexpr auto W = severity::warn;

// RFC 1035 §2.3.4: 255 octets on the wire is at most 253 characters of text.
constexpr std::size_t max_dns_name_chars = 253;
constexpr std::size_t max_label_chars = 63;

struct idn2_string {
  char* p = nullptr;
  ~idn2_string() { idn2_free(p); }
};

// The A-label form (IDNA2008 with UTS #46 non-transitional mapping, as
// browsers and resolvers look names up), or the libidn2 error.
std::optional<std::string> to_a_labels(const std::string& utf8, std::string& error) {
  idn2_string out;
  const int rc = idn2_to_ascii_8z(utf8.c_str(), &out.p, IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
  if (rc != IDN2_OK) {
    error = idn2_strerror(rc);
    return std::nullopt;
  }
  return std::string(out.p);
}

// RFC 5891 §5.4: an "xn--" label is an A-label only when it decodes to a valid
// U-label that encodes back to the same label.
bool a_label_round_trips(std::string_view label) {
  const std::string lowered = ascii::lower(label);
  idn2_string unicode, back;
  if (idn2_to_unicode_8z8z(lowered.c_str(), &unicode.p, 0) != IDN2_OK) return false;
  if (idn2_lookup_u8(reinterpret_cast<const std::uint8_t*>(unicode.p),
                     reinterpret_cast<std::uint8_t**>(&back.p), IDN2_NFC_INPUT) != IDN2_OK)
    return false;
  return lowered == back.p;
}

struct special_name {
  std::string_view suffix;  // matches the name itself or any name below it
  ehlo_check_code code;
  severity internet, internal;
  std::string_view why;
};

// Most specific first; the first match wins.
constexpr special_name special_names[] = {
    {"localhost.localdomain", ehlo_check_code::localhost, F, F, "the loopback name of many /etc/hosts files"},
    {"localhost", ehlo_check_code::localhost, F, F, "reserved for loopback (RFC 6761 section 6.3)"},
    {"svc.cluster.local", ehlo_check_code::special_use_name, F, W,
     "a Kubernetes service name, resolvable only inside its cluster"},
    {"cluster.local", ehlo_check_code::special_use_name, F, W,
     "Kubernetes cluster DNS, resolvable only inside the cluster"},
    {"local", ehlo_check_code::special_use_name, F, W, "reserved for Multicast DNS (RFC 6762)"},
    {"ec2.internal", ehlo_check_code::special_use_name, F, W, "an AWS VPC-internal name"},
    {"compute.internal", ehlo_check_code::special_use_name, F, W, "an AWS VPC-internal name"},
    {"internal.cloudapp.net", ehlo_check_code::special_use_name, F, W, "an Azure VNet-internal name"},
    {"internal", ehlo_check_code::special_use_name, F, W,
     "a top-level domain reserved by ICANN for private use (GCP VMs use it too)"},
    {"home.arpa", ehlo_check_code::special_use_name, F, W, "reserved for home networks (RFC 8375)"},
    {"in-addr.arpa", ehlo_check_code::special_use_name, F, F,
     "a reverse-DNS zone, not a host name (RFC 6761 section 6.1)"},
    {"ip6.arpa", ehlo_check_code::special_use_name, F, F,
     "a reverse-DNS zone, not a host name (RFC 6761 section 6.1)"},
    {"test", ehlo_check_code::special_use_name, F, W, "reserved for testing (RFC 6761 section 6.2)"},
    {"example", ehlo_check_code::special_use_name, F, F, "reserved for documentation (RFC 6761 section 6.5)"},
    {"example.com", ehlo_check_code::special_use_name, F, F,
     "reserved for documentation (RFC 2606, RFC 6761)"},
    {"example.net", ehlo_check_code::special_use_name, F, F,
     "reserved for documentation (RFC 2606, RFC 6761)"},
    {"example.org", ehlo_check_code::special_use_name, F, F,
     "reserved for documentation (RFC 2606, RFC 6761)"},
    {"invalid", ehlo_check_code::special_use_name, F, F, "guaranteed not to exist (RFC 6761 section 6.4)"},
    {"onion", ehlo_check_code::special_use_name, F, F, "a Tor onion service, not in the DNS (RFC 7686)"},
    {"alt", ehlo_check_code::special_use_name, F, F, "reserved for non-DNS namespaces (RFC 9476)"},
    {"localdomain", ehlo_check_code::special_use_name, F, W,
     "not a delegated top-level domain; used in /etc/hosts, and spam filters (rspamd, "
     "SpamAssassin) score it"},
    {"lan", ehlo_check_code::special_use_name, F, W, "not a delegated top-level domain; home routers use it"},
    {"home", ehlo_check_code::special_use_name, F, W,
     "not a delegated top-level domain (ICANN name-collision list); home routers use it"},
    {"corp", ehlo_check_code::special_use_name, F, W,
     "not a delegated top-level domain (ICANN name-collision list); Active Directory uses it"},
    {"intra", ehlo_check_code::special_use_name, F, W, "not a delegated top-level domain; intranets use it"},
    {"priv", ehlo_check_code::special_use_name, F, W,
     "not a delegated top-level domain; private networks use it"},
};

bool is_at_or_below(std::string_view name, std::string_view suffix) noexcept {
  if (ascii::iequals(name, suffix)) return true;
  return name.size() > suffix.size() && ascii::iends_with(name, suffix) &&
         name[name.size() - suffix.size() - 1] == '.';
}

std::vector<std::string_view> split_labels(std::string_view name) {
  std::vector<std::string_view> labels;
  std::size_t start = 0;
  while (true) {
    const auto dot = name.find('.', start);
    labels.push_back(name.substr(start, dot == name.npos ? name.npos : dot - start));
    if (dot == name.npos) return labels;
    start = dot + 1;
  }
}

// Kubernetes names random suffixes from this alphabet (no vowels, no 0/1/3),
// so they never spell words.
constexpr bool is_k8s_random(char c) noexcept {
  return std::string_view("bcdfghjklmnpqrstvwxz2456789").find(c) != std::string_view::npos;
}

// Why a single label looks like a container's default host name, or empty.
std::string container_kind(std::string_view label) {
  if ((label.size() == 12 || label.size() == 64) && std::all_of(label.begin(), label.end(), [](char c) {
        return ascii::is_digit(c) || (c >= 'a' && c <= 'f');
      }))
    return "a Docker container ID (Docker's default host name)";
  const auto dash = label.rfind('-');
  if (dash == label.npos || dash == 0) return {};
  const auto suffix = label.substr(dash + 1);
  if (suffix.size() != 5 || !std::all_of(suffix.begin(), suffix.end(), is_k8s_random)) return {};
  const auto rest = label.substr(0, dash);
  const auto dash2 = rest.rfind('-');
  const auto hash = dash2 == rest.npos ? std::string_view() : rest.substr(dash2 + 1);
  if (hash.size() >= 6 && hash.size() <= 10 && std::all_of(hash.begin(), hash.end(), is_k8s_random))
    return fmt::format("a Kubernetes Deployment pod (\"{}\", ReplicaSet hash, random suffix)",
                       escape_for_display(rest.substr(0, dash2)));
  return fmt::format("a Kubernetes pod of \"{}\" (random 5-character suffix)", escape_for_display(rest));
}

// Four numbers 0-255 joined by "-" or "." inside a longer name: the address
// the ISP assigned, as in "c-73-45-12-1.example.net".
bool embeds_ipv4(std::string_view name) noexcept {
  int run = 0;  // consecutive octets seen
  std::size_t i = 0;
  while (i < name.size()) {
    if (!ascii::is_digit(name[i])) {
      run = 0;
      ++i;
      continue;
    }
    std::size_t j = i;
    unsigned value = 0;
    while (j < name.size() && ascii::is_digit(name[j]) && j - i < 4)
      value = value * 10 + static_cast<unsigned>(name[j++] - '0');
    const bool octet = j - i <= 3 && value <= 255 && (j == name.size() || !ascii::is_digit(name[j]));
    const bool preceded_ok =
        i == 0 || name[i - 1] == '-' || name[i - 1] == '.' || ascii::is_alpha(name[i - 1]);
    run = octet && (run == 0 ? preceded_ok : true) ? run + 1 : 0;
    if (run == 4) return true;
    while (j < name.size() && ascii::is_digit(name[j])) ++j;
    if (j < name.size() && (name[j] == '-' || name[j] == '.') && j + 1 < name.size() &&
        ascii::is_digit(name[j + 1])) {
      i = j + 1;  // the separator continues the run
    } else {
      run = 0;
      i = j;
    }
  }
  return false;
}

// Words ISPs put in the reverse names of dynamically assigned addresses.
constexpr std::string_view dynamic_words[] = {
    "adsl",    "broadband", "cable", "cpe", "dhcp",  "dial",        "dialup", "dsl",  "dyn",
    "dynamic", "dynip",     "pool",  "ppp", "pppoe", "residential", "vdsl",   "xdsl",
};

std::string_view dynamic_word(std::string_view name) {
  // Only the host part: the last two labels are the registered domain.
  auto labels = split_labels(name);
  if (labels.size() <= 2) return {};
  labels.resize(labels.size() - 2);
  for (auto label : labels) {
    std::size_t i = 0;
    while (i < label.size()) {
      if (!ascii::is_alpha(label[i])) {
        ++i;
        continue;
      }
      std::size_t j = i;
      while (j < label.size() && ascii::is_alpha(label[j])) ++j;
      const auto word = label.substr(i, j - i);
      for (auto w : dynamic_words)
        if (ascii::iequals(word, w)) return w;
      i = j;
    }
  }
  return {};
}

std::string replace_all(std::string_view s, char from, char to) {
  std::string out(s);
  std::replace(out.begin(), out.end(), from, to);
  return out;
}

void lint_non_ascii(lint& out, std::string_view name, std::string& ascii_name) {
  if (std::none_of(name.begin(), name.end(), ascii::is_non_ascii)) return;
  const std::string shown = escape_for_display(name);
  if (!valid_utf8(name)) {
    out.add(ehlo_check_code::non_ascii, F,
            fmt::format("{} holds bytes that are not ASCII and not valid UTF-8: RFC 6531 section 3.7.1 "
                        "requires an ASCII (LDH or A-label) name in EHLO",
                        shown));
    return;
  }
  std::string error;
  if (auto a = to_a_labels(std::string(name), error)) {
    out.add(ehlo_check_code::non_ascii, F,
            fmt::format("{} is an internationalized (U-label) name: RFC 6531 section 3.7.1 requires "
                        "the ASCII A-label form in EHLO, even to SMTPUTF8 servers",
                        shown),
            *a);
    ascii_name = *a;
  } else {
    out.add(ehlo_check_code::non_ascii, F,
            fmt::format("{} is not ASCII and has no A-label form ({}): RFC 6531 section 3.7.1 "
                        "requires an ASCII name in EHLO",
                        shown, error));
  }
}

void lint_labels(lint& out, std::string_view name, const std::vector<std::string_view>& labels) {
  bool empty = false, hyphen = false, too_long = false, underscore = false, bad_char = false;
  for (auto label : labels) {
    const auto shown = escape_for_display(label);
    if (label.empty()) {
      if (!std::exchange(empty, true))
        out.add(ehlo_check_code::empty_label, F,
                fmt::format("{} has an empty label (\"..\" or a leading dot): RFC 5321 section 4.1.2 "
                            "sub-domains are never empty",
                            escape_for_display(name)));
      continue;
    }
    if (label.size() > max_label_chars && !std::exchange(too_long, true))
      out.add(ehlo_check_code::label_too_long, F,
              fmt::format("a label is {} octets long; RFC 1035 section 2.3.4 allows 63", label.size()));
    if ((label.front() == '-' || label.back() == '-') && !std::exchange(hyphen, true))
      out.add(ehlo_check_code::label_hyphen, F,
              fmt::format("the label \"{}\" starts or ends with a hyphen: RFC 5321 section 4.1.2 "
                          "(Let-dig at both ends) does not allow it",
                          shown));
    if (label.find('_') != label.npos && !std::exchange(underscore, true))
      out.add(ehlo_check_code::underscore, F,
              fmt::format("\"{}\" contains an underscore: RFC 5321 section 4.1.2 says \"the underscore "
                          "character is not permitted\" and servers must answer 501",
                          shown),
              replace_all(name, '_', '-'));
    const auto odd = std::find_if(label.begin(), label.end(), [](char c) {
      return ascii::is_printable(c) && !ascii::is_ldh(c) && c != '_' && c != ' ';
    });
    if (odd != label.end() && !std::exchange(bad_char, true))
      out.add(ehlo_check_code::invalid_character, F,
              fmt::format("\"{}\" contains \"{}\": RFC 5321 section 4.1.2 allows only letters, digits "
                          "and hyphens in labels",
                          shown, escape_for_display(std::string_view(&*odd, 1))));
    if (ascii::istarts_with(label, "xn--")) {
      if (!a_label_round_trips(label))
        out.add(ehlo_check_code::bad_a_label, F,
                fmt::format("\"{}\" starts with xn-- but is not a valid A-label (it does not decode "
                            "to a U-label that encodes back to it, RFC 5891 section 5.4)",
                            shown));
    } else if (label.size() >= 4 && label[2] == '-' && label[3] == '-') {
      out.add(ehlo_check_code::r_ldh_label, W,
              fmt::format("\"{}\" has \"--\" in positions 3 and 4: RFC 5890 section 2.3.1 reserves "
                          "such labels for future IDNA prefixes",
                          shown));
    }
  }
}

void lint_single_label(lint& out, std::string_view name) {
  out.add(ehlo_check_code::not_fqdn, F, W,
          fmt::format("{} is a single label, not a fully-qualified domain name: RFC 5321 sections "
                      "2.3.5 and 4.1.4 require the host's FQDN, and Postfix "
                      "reject_non_fqdn_helo_hostname refuses it",
                      escape_for_display(name)),
          "configure the client's EHLO name to this host's fully-qualified name");
  const auto container = container_kind(name);
  if (!container.empty())
    out.add(ehlo_check_code::container_hostname, W,
            fmt::format("{} looks like {}; a container's host name is not a mail name, and clients "
                        "then fall back to it or to [127.0.0.1]",
                        escape_for_display(name), container),
            "set the client's EHLO name option (Nodemailer `name`, smtplib `local_hostname`, "
            "Postfix `smtp_helo_name`) to a public FQDN");
}

}  // namespace

bool looks_dynamic(std::string_view name) { return embeds_ipv4(name) || !dynamic_word(name).empty(); }

void lint_domain(lint& out, std::string_view name) {
  std::string ascii_name(name);
  lint_non_ascii(out, name, ascii_name);
  std::string_view n = ascii_name;

  if (n.size() > 1 && n.back() == '.') {
    n.remove_suffix(1);
    out.add(ehlo_check_code::trailing_dot, F,
            "the name ends with a dot: RFC 5321 section 4.1.2 Domain has no root dot (OpenSMTPD "
            "refuses it; Postfix tolerates one)",
            std::string(n));
  }
  if (n.size() > max_dns_name_chars)
    out.add(ehlo_check_code::name_too_long, F,
            fmt::format("the name is {} characters; a DNS name has at most 253 (255 octets on the "
                        "wire, RFC 1035 section 2.3.4)",
                        n.size()));

  const auto labels = split_labels(n);
  lint_labels(out, n, labels);

  if (const auto* special = std::find_if(std::begin(special_names), std::end(special_names),
                                         [&](const special_name& s) { return is_at_or_below(n, s.suffix); });
      special != std::end(special_names)) {
    out.add(special->code, special->internet, special->internal,
            fmt::format("{} is under \"{}\", {}: public servers cannot resolve it", escape_for_display(n),
                        special->suffix, special->why),
            "send this host's public fully-qualified name");
    if (special->code == ehlo_check_code::localhost) return;  // not-fqdn would only repeat it
  }

  if (labels.size() == 1) {
    if (!n.empty()) lint_single_label(out, n);
    return;
  }
  const auto tld = labels.back();
  if (ascii::all_of(tld, ascii::is_digit))
    out.add(ehlo_check_code::numeric_tld, F,
            fmt::format("the last label \"{}\" is all digits: RFC 1123 section 2.1 and RFC 3696 "
                        "section 2 say top-level domains are never numeric",
                        escape_for_display(tld)));
  if (embeds_ipv4(n))
    out.add(ehlo_check_code::dynamic_looking, W,
            fmt::format("{} embeds an IPv4 address, like ISP names for dynamically assigned "
                        "addresses; spam filters (Spamhaus PBL-style rules, rspamd) score such names",
                        escape_for_display(n)),
            "send a name of the host's own, with matching forward and reverse DNS");
  else if (const auto word = dynamic_word(n); !word.empty())
    out.add(ehlo_check_code::dynamic_looking, W,
            fmt::format("{} contains \"{}\", a word ISPs use for dynamically assigned addresses; spam "
                        "filters score such names",
                        escape_for_display(n), word),
            "send a name of the host's own, with matching forward and reverse DNS");
}

}  // namespace sansmtp::detail
