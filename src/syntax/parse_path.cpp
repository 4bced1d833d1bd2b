// Paths and mailboxes (RFC 5321 §4.1.2): the Ragel machine (grammar/path.rl)
// decides what is grammatical; this file names the error, applies the length
// limits of §4.5.3.1 and the SMTPUTF8 rules of RFC 6531.
#include <sansmtp/syntax/command.hpp>

#include "ascii.hpp"
#include "command_internal.hpp"
#include "path_scan.hpp"
#include "utf8.hpp"

#include <idn2.h>

#include <algorithm>

#include <string>

namespace sansmtp {
namespace detail {
namespace {

constexpr std::size_t npos = std::string_view::npos;

// The earliest of two errors (ok counts as none).
parse_error earliest(parse_error a, parse_error b) noexcept {
  if (a.code == errc::ok) return b;
  if (b.code == errc::ok) return a;
  return b.offset < a.offset ? b : a;
}

// Why the domain starting at `at` did not match, by re-reading just that
// domain with the EHLO-argument parser (same Domain / address-literal
// grammar). The domain ends at the first '>', ',', ':' or space.
parse_error domain_error(std::string_view text, std::size_t at, std::size_t fail) noexcept {
  // A literal runs to its "]" (it may hold ':'); a Domain to the delimiter.
  const bool literal = at < text.size() && text[at] == '[';
  auto stop = text.find_first_of(literal ? "]>" : ">,: ", at);
  if (literal && stop != npos && text[stop] == ']') ++stop;
  const auto candidate = text.substr(at, stop == npos ? npos : stop - at);
  if (candidate.empty()) return {errc::bad_mailbox, at};
  if (const auto r = parse::ehlo_argument(candidate); !r) return {r.error().code, at + r.error().offset};
  return {errc::invalid_character, fail};
}

// Why a path/mailbox scan failed at `scan.end`.
parse_error scan_error(std::string_view text, const path_scan& scan, bool bracketed) noexcept {
  const std::size_t at = scan.end;
  if (at >= text.size()) return {bracketed ? errc::unterminated_path : errc::bad_mailbox, text.size()};
  const char c = text[at];
  if (scan.domain_begin != npos) return domain_error(text, scan.domain_begin, at);
  if (at > 0 && text[at - 1] == '@' && scan.local_end != npos) return domain_error(text, at, at);
  if (scan.local_begin != npos) {
    if (c == '>' || (c == ' ' && scan.local_end == npos && text[scan.local_begin] != '"'))
      return {errc::bad_mailbox, at};  // no "@domain"
    return {errc::bad_local_part, at};
  }
  if (bracketed && text.size() > 1 && text[1] == '@' && scan.route_end == npos) {  // in a source route
    const auto last_at = text.rfind('@', at);
    if (last_at != npos && last_at + 1 <= at) {
      const auto e = domain_error(text, last_at + 1, at);
      if (e.code != errc::invalid_character || e.offset != at) return e;
    }
    return {errc::invalid_character, at};
  }
  return {bracketed && at == 1 && c == '>' ? errc::bad_mailbox : errc::bad_local_part, at};
}

// RFC 6531: UTF-8 only with SMTPUTF8 in effect; then valid UTF-8, and every
// non-ASCII domain label a valid U-label (IDNA2008, RFC 5891 §5.4 lookup).
parse_error check_utf8(std::string_view text, const path_scan& scan, const command_options& options) {
  if (scan.first_non_ascii == npos) return {};
  if (!options.smtputf8) return {errc::non_ascii_address, scan.first_non_ascii};
  const auto scanned = text.substr(0, scan.end);
  if (const auto bad = first_invalid_utf8(scanned); bad != npos) return {errc::bad_utf8, bad};
  // Labels of the mailbox domain and of any source route.
  std::size_t label = 0;
  for (std::size_t i = 0; i <= scanned.size(); ++i) {
    const bool boundary = i == scanned.size() || scanned[i] == '.' || scanned[i] == '@' ||
                          scanned[i] == ',' || scanned[i] == ':' || scanned[i] == '>' || scanned[i] == '<';
    if (!boundary) continue;
    const auto part = scanned.substr(label, i - label);
    const bool in_domain = label > 0 && label > scan.local_end && scan.local_end != npos;
    const bool in_route = scan.route_end != npos && label < scan.route_end;
    if ((in_domain || in_route) && std::any_of(part.begin(), part.end(), ascii::is_non_ascii)) {
      const std::string copy(part);
      std::uint8_t* out = nullptr;
      const int rc = idn2_lookup_u8(reinterpret_cast<const std::uint8_t*>(copy.c_str()), &out, IDN2_NO_TR46);
      idn2_free(out);
      if (rc != IDN2_OK) return {errc::bad_u_label, label};
    }
    label = i + 1;
  }
  return {};
}

// Length limits of RFC 5321 §4.5.3.1 on an accepted scan.
parse_error check_limits(const path_scan& scan, std::size_t path_begin,
                         const command_options& options) noexcept {
  parse_error e{scan.limit, scan.limit_offset};
  if (scan.local_begin != npos && options.max_local_part &&
      scan.local_end - scan.local_begin > options.max_local_part)
    e = earliest(e, {errc::local_part_too_long, scan.local_begin + options.max_local_part});
  if (scan.domain_begin != npos) {
    if (options.max_domain && scan.domain_end - scan.domain_begin > options.max_domain)
      e = earliest(e, {errc::domain_too_long, scan.domain_begin + options.max_domain});
    // Label limits inside the mailbox domain come from the machine.
  }
  if (options.max_path && scan.end - path_begin > options.max_path)
    e = earliest(e, {errc::path_too_long, path_begin + options.max_path});
  return e;
}

path value_of(std::string_view text, const path_scan& scan) noexcept {
  path p;
  if (scan.local_begin != npos)
    p.local_part = text.substr(scan.local_begin, scan.local_end - scan.local_begin);
  if (scan.domain_begin != npos)
    p.domain = text.substr(scan.domain_begin, scan.domain_end - scan.domain_begin);
  return p;
}

// The common shape without the machine: "<" Dot-string "@" Domain ">" in
// US-ASCII, no source route, quotes or literal, within every limit. Anything
// else returns false and the Ragel machine decides (and names the error).
// fuzz_command_line checks that both always agree.
bool match_simple_path(std::string_view text, const command_options& options, path_match& out) noexcept {
  const std::size_t n = text.size();
  if (n < 5 || text[0] != '<') return false;
  std::size_t i = 1;
  // Dot-string: atoms separated by single dots.
  for (;;) {
    const std::size_t atom = i;
    while (i < n && ascii::is_atext(text[i])) ++i;
    if (i == atom || i >= n) return false;
    if (text[i] != '.') break;
    ++i;
  }
  if (text[i] != '@') return false;
  const std::size_t local_end = i++;
  const std::size_t domain_begin = i;
  // Domain: LDH labels, each 1-63 octets starting and ending with a letter or digit.
  i = detail::ldh_labels(text, i);
  if (i >= n || text[i] != '>') return false;  // npos too
  const std::size_t end = i + 1;
  if ((options.max_local_part && local_end - 1 > options.max_local_part) ||
      (options.max_domain && i - domain_begin > options.max_domain) ||
      (options.max_path && end > options.max_path))
    return false;
  out.value.local_part = text.substr(1, local_end - 1);
  out.value.domain = text.substr(domain_begin, i - domain_begin);
  out.end = end;
  out.first_non_ascii = npos;
  return true;
}

}  // namespace

command_error match_path(std::string_view text, command_kind kind, const command_options& options,
                         path_match& out, bool fast) {
  if (fast && match_simple_path(text, options, out)) return {};
  const bool bracketed = !text.empty() && text.front() == '<';
  path_scan scan;
  std::string_view scanned = text;
  if (bracketed) {
    scan = scan_path(text, kind == command_kind::rcpt ? path_form::forward_path : path_form::reverse_path);
  } else if (options.allow_missing_angle_brackets) {
    // Without brackets the mailbox ends at the first space outside a
    // Quoted-string.
    std::size_t from = 0;
    if (!text.empty() && text.front() == '"') {
      for (from = 1; from < text.size() && text[from] != '"'; ++from)
        if (text[from] == '\\') ++from;
    }
    scanned = text.substr(0, text.find(' ', std::min(from, text.size())));
    scan = scan_path(scanned, path_form::mailbox);
    if (scan.accepted && scan.end != scanned.size()) scan.accepted = false;
  } else {
    return make_command_error(errc::missing_angle_bracket, 0, kind);
  }
  if (!scan.accepted) {
    const auto e = scan_error(scanned, scan, bracketed);
    // A limit broken earlier in the text is the first thing wrong with it.
    const auto first = scan.limit != errc::ok && scan.limit_offset < e.offset
                           ? parse_error{scan.limit, scan.limit_offset}
                           : e;
    return make_command_error(first.code, first.offset, kind);
  }
  auto e = check_limits(scan, 0, options);
  e = earliest(e, check_utf8(scanned, scan, options));
  if (e.code != errc::ok) return make_command_error(e.code, e.offset, kind);
  out.value = value_of(scanned, scan);
  out.end = scan.end;
  out.first_non_ascii = scan.first_non_ascii;
  return {};
}

parse_result<std::string_view, command_error> match_string(std::string_view text,
                                                           const command_options& options) {
  // An Atom (1*atext, US-ASCII), the usual argument, is a String without
  // asking the machine.
  if (!text.empty() && ascii::all_of(text, ascii::is_atext)) return text;
  const auto scan = scan_path(text, path_form::string);
  if (!scan.accepted || scan.end != text.size())
    return make_command_error(errc::invalid_character, scan.end, command_kind::other);
  if (scan.first_non_ascii != npos) {
    if (!options.smtputf8)
      return make_command_error(errc::invalid_character, scan.first_non_ascii, command_kind::other);
    if (const auto bad = first_invalid_utf8(text); bad != npos)
      return make_command_error(errc::bad_utf8, bad, command_kind::other);
  }
  return text;
}

}  // namespace detail

bool path::is_postmaster() const noexcept {
  return domain.empty() && ascii::iequals(local_part, "Postmaster");
}

std::string path::local_part_value() const {
  if (!quoted()) return std::string(local_part);
  std::string out;
  out.reserve(local_part.size());
  for (std::size_t i = 1; i + 1 < local_part.size(); ++i) {
    if (local_part[i] == '\\' && i + 2 < local_part.size()) ++i;
    out += local_part[i];
  }
  return out;
}

std::string path::address() const {
  std::string out(local_part);
  if (!domain.empty()) {
    out += '@';
    out.append(domain);
  }
  return out;
}

namespace {

// Dot-string = Atom *("." Atom) (RFC 5321 §4.1.2).
bool is_dot_string(std::string_view value) noexcept {
  std::size_t start = 0;
  for (;;) {
    const auto dot = value.find('.', start);
    const auto atom =
        value.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    const auto scan = detail::scan_path(atom, detail::path_form::string);
    if (atom.empty() || atom.front() == '"' || !scan.accepted || scan.end != atom.size()) return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

}  // namespace

std::string quote_local_part(std::string_view value) {
  if (is_dot_string(value)) return std::string(value);
  std::string out = "\"";
  for (char c : value) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
  return out;
}

namespace parse {

parse_result<path, command_error> mailbox(std::string_view text, const command_options& options) {
  if (!text.empty() && text.front() == '<')  // a Mailbox has no brackets
    return detail::make_command_error(errc::bad_local_part, 0, detail::command_kind::other);
  auto o = options;
  o.allow_missing_angle_brackets = true;
  detail::path_match m;
  if (const auto e = detail::match_path(text, detail::command_kind::other, o, m); e.code != errc::ok)
    return e;
  if (m.end != text.size())
    return detail::make_command_error(errc::trailing_characters, m.end, detail::command_kind::other);
  return m.value;
}

}  // namespace parse
}  // namespace sansmtp
