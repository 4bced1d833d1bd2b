// One SMTP command line -> a typed command, or the error and the reply a
// server should send (RFC 5321 §4.1.1, §4.2.3, §4.5.3.1.4).
#include <sansmtp/syntax/command.hpp>

#include "ascii.hpp"
#include "command_internal.hpp"
#include "line_masks.hpp"
#include "utf8.hpp"

#include <charconv>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace sansmtp {
namespace detail {

command_error make_command_error(errc code, std::size_t offset, command_kind kind) noexcept {
  command_error e;
  e.code = code;
  e.offset = offset;
  e.reply = 501;
  e.enhanced = enhanced_status{5, 5, 2};
  switch (code) {
    // The line itself is unusable: "500 Syntax error, command unrecognized"
    // (§4.2.3; §4.5.3.1.9 "500 Line too long").
    case errc::line_too_long:
    case errc::bare_cr:
    case errc::bare_lf:
    case errc::empty_command:
    case errc::invalid_verb:
      e.reply = 500;
      break;
    // RFC 6531 §3.5: 553 5.6.7, non-ASCII addresses not permitted.
    case errc::non_ascii_address:
      e.reply = 553;
      e.enhanced = enhanced_status{5, 6, 7};
      break;
    // §4.1.1.11: 555, MAIL FROM/RCPT TO parameters not recognized.
    case errc::unknown_parameter:
      e.reply = 555;
      e.enhanced = enhanced_status{5, 5, 4};
      break;
    // §4.2.3: 504, command parameter not implemented.
    case errc::unsupported_parameter_value:
      e.reply = 504;
      e.enhanced = enhanced_status{5, 5, 4};
      break;
    case errc::bad_parameter:
    case errc::duplicate_parameter:
    case errc::bad_parameter_value:
    case errc::value_out_of_range:
    case errc::bad_xtext:
    case errc::forbidden_octet_in_xtext:
    case errc::parameter_too_long:
    case errc::bad_auth_mechanism:
      e.enhanced = enhanced_status{5, 5, 4};  // RFC 3463 X.5.4: invalid command arguments
      break;
    default:
      // An address error: RFC 3463 X.1.7 (sender) / X.1.3 (recipient)
      // "bad mailbox address syntax"; in a parameter value (bad UTF-8 in
      // ENVID) X.5.4 "invalid command arguments"; anything else is X.5.2.
      if (kind == command_kind::mail) e.enhanced = enhanced_status{5, 1, 7};
      if (kind == command_kind::rcpt) e.enhanced = enhanced_status{5, 1, 3};
      if (kind == command_kind::parameter) e.enhanced = enhanced_status{5, 5, 4};
      break;
  }
  return e;
}

}  // namespace detail

namespace {

using detail::command_kind;
using detail::make_command_error;

// CR and LF may only end the line (RFC 5321 §2.3.8): any other one is the
// start of a smuggling or injection attempt.
command_error line_break_error(std::string_view content) noexcept {
  for (std::size_t i = 0; i < content.size(); ++i) {
    if (content[i] == '\r') {
      if (i + 1 == content.size() || content[i + 1] != '\n')
        return make_command_error(errc::bare_cr, i, command_kind::other);
      // A CRLF inside: two lines handed over as one. Unusable as a whole.
      auto e = make_command_error(errc::invalid_character, i, command_kind::other);
      e.reply = 500;
      return e;
    }
    if (content[i] == '\n') return make_command_error(errc::bare_lf, i, command_kind::other);
  }
  return {};
}

}  // namespace

namespace detail {

// line_content's body, inlined into the command parser (the call and its
// returned result were a tenth of a short command's cost).
[[gnu::always_inline]] inline parse_result<std::string_view, command_error> frame_line(
    std::string_view line, std::size_t max_line_length, bool allow_bare_lf, bool reject_trailing_whitespace,
    line_notes& notes) {
  notes = {};
  std::string_view content = line;
  if (content.size() >= 2 && content.substr(content.size() - 2) == "\r\n") {
    content.remove_suffix(2);
  } else if (!content.empty() && content.back() == '\n') {
    if (!allow_bare_lf) return make_command_error(errc::bare_lf, content.size() - 1, command_kind::other);
    content.remove_suffix(1);
  }
  // §4.5.3.1.4: the limit counts the CRLF.
  if (max_line_length && content.size() + 2 > max_line_length)
    return make_command_error(errc::line_too_long, max_line_length < 2 ? 0 : max_line_length - 2,
                              command_kind::other);
  if (has_cr_or_lf(content.data(), content.size())) return line_break_error(content);
  if (!content.empty() && (content.back() == ' ' || content.back() == '\t')) {
    std::size_t start = content.size();
    while (start > 0 && (content[start - 1] == ' ' || content[start - 1] == '\t')) --start;
    // RFC 5321 §4.1.1: receivers SHOULD tolerate it.
    if (reject_trailing_whitespace) return make_command_error(errc::trailing_whitespace, start, command_kind::other);
    notes.trailing_whitespace = content.size() - start;
    content = content.substr(0, start);
  }
  return content;
}

parse_result<std::string_view, command_error> line_content(std::string_view line, std::size_t max_line_length,
                                                           bool allow_bare_lf, bool reject_trailing_whitespace,
                                                           line_notes& notes) {
  return frame_line(line, max_line_length, allow_bare_lf, reject_trailing_whitespace, notes);
}

#if defined(__SSE2__)
// Whether the 16 octets at p are all base64 alphabet (RFC 4648 §4: A-Z a-z
// 0-9 + /); signed compares put octets >= 0x80 outside every range.
inline bool base64_block(const char* p) noexcept {
  const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  const auto in = [&](char lo, char hi) {
    return _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8(static_cast<char>(lo - 1))),
                         _mm_cmplt_epi8(v, _mm_set1_epi8(static_cast<char>(hi + 1))));
  };
  const __m128i ok = _mm_or_si128(_mm_or_si128(in('A', 'Z'), in('a', 'z')),
                                  _mm_or_si128(in('0', '9'), _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('+')),
                                                                          _mm_cmpeq_epi8(v, _mm_set1_epi8('/')))));
  return _mm_movemask_epi8(ok) == 0xffff;
}
#endif

std::size_t bad_base64_at(std::string_view s) noexcept {
  const auto is_b64 = [](char c) { return ascii::is_let_dig(c) || c == '+' || c == '/'; };
  if (s.empty() || s.size() % 4 != 0) return s.size() - s.size() % 4;
  std::size_t from = 0;
#if defined(__SSE2__)
  // All but the last two octets (where "=" may stand) 16 at a time, the
  // last block overlapping; the octet loop below names a bad one.
  if (const std::size_t body = s.size() - 2; body >= 16) {
    bool ok = true;
    for (std::size_t i = 0; ok && i + 16 < body; i += 16) ok = base64_block(s.data() + i);
    if (ok && base64_block(s.data() + body - 16)) from = body;
  }
#endif
  for (std::size_t i = from; i < s.size(); ++i) {
    if (is_b64(s[i])) continue;
    // "=" only as the last one or two characters of the final quantum.
    if (s[i] == '=' && (i == s.size() - 1 || (i == s.size() - 2 && s[i + 1] == '='))) continue;
    return i;
  }
  return std::string_view::npos;
}

}  // namespace detail

namespace {

using detail::make_command_error;
using result = parse_result<command, command_error>;

// Shifts an error found in a sub-field to an offset in the line.
command_error shifted(command_error e, std::size_t by) noexcept {
  e.offset += by;
  return e;
}

// "VERB" with nothing after it.
result no_argument(std::string_view rest, std::size_t at, command c) {
  if (!rest.empty()) return make_command_error(errc::unexpected_argument, at, command_kind::other);
  return c;
}

// " argument": exactly one SP, then a non-empty argument.
parse_result<std::string_view, command_error> argument_of(std::string_view rest, std::size_t at) {
  if (rest.empty()) return make_command_error(errc::missing_argument, at, command_kind::other);
  if (rest.size() == 1) return make_command_error(errc::missing_argument, at + 1, command_kind::other);
  if (rest[1] == ' ') return make_command_error(errc::invalid_character, at + 1, command_kind::other);
  return rest.substr(1);
}

template <class Hello>
result hello_command(std::string_view rest, std::size_t at, bool literal_allowed) {
  const auto arg = argument_of(rest, at);
  if (!arg) return arg.error();
  const auto host = parse::ehlo_argument(*arg);
  if (!host) return make_command_error(host.error().code, at + 1 + host.error().offset, command_kind::hello);
  if (!literal_allowed && host->kind != host_kind::domain)
    return make_command_error(errc::address_literal_in_helo, at + 1, command_kind::hello);
  return Hello{host.value()};
}

// MAIL FROM:<path> [SP params] / RCPT TO:<path> [SP params]. The command is
// built in place: it is large, and copies were most of the cost.
// " FROM:" / " TO:" with the letters in any case (RFC 5321 §2.4).
bool keyword_at(std::string_view content, std::size_t at, std::string_view keyword) noexcept {
  if (content.size() - at < keyword.size()) return false;
  for (std::size_t i = 0; i < keyword.size(); ++i) {
    const char k = keyword[i], c = content[at + i];
    if (ascii::is_alpha(k) ? (c | 0x20) != (k | 0x20) : c != k) return false;
  }
  return true;
}

// MAIL FROM:<path> [SP params] / RCPT TO:<path> [SP params]. The command is
// built in place and every exit returns that one object: it is large, and
// copies were much of the cost.
template <class Command>
result envelope_command(std::string_view content, std::size_t at, std::string_view keyword, command_kind kind,
                        const command_options& options) {
  // Every exit returns `r` itself (named return value optimisation).
  result r{Command{}};
  auto& c = std::get<Command>(r.value());
  command_error e;
  std::size_t pos = at + keyword.size();
  detail::path_match match;
  if (!keyword_at(content, at, keyword)) {
    e = make_command_error(errc::missing_from_to, at, command_kind::other);
  } else if (pos < content.size() && content[pos] == ' ' && !options.allow_space_after_colon) {
    e = make_command_error(errc::space_before_path, pos, kind);
  } else {
    while (pos < content.size() && content[pos] == ' ') ++pos;
    if (pos == content.size())
      e = make_command_error(errc::missing_argument, pos, kind);
    else
      e = shifted(detail::match_path(content.substr(pos), kind, options, match), pos);
  }
  const std::size_t end = pos + match.end;
  if (e.code == errc::ok && end < content.size()) {
    if (content[end] != ' ') {
      e = make_command_error(errc::trailing_characters, end, kind);
    } else {
      if constexpr (std::is_same_v<Command, cmd::mail>)
        e = detail::parse_mail_params(content.substr(end + 1), options, c.params);
      else
        e = detail::parse_rcpt_params(content.substr(end + 1), options, c.params);
      e = shifted(e, end + 1);
    }
  }
  if constexpr (std::is_same_v<Command, cmd::mail>) {
    c.reverse_path = match.value;
    // RFC 6531 §3.4: a non-ASCII envelope needs the SMTPUTF8 parameter.
    if (e.code == errc::ok && !c.params.smtputf8 && match.first_non_ascii != std::string_view::npos)
      e = make_command_error(errc::non_ascii_address, pos + match.first_non_ascii, kind);
  } else {
    c.forward_path = match.value;
  }
  if (e.code != errc::ok) r = e;
  return r;
}

result bdat_command(std::string_view rest, std::size_t at) {
  const auto arg = argument_of(rest, at);
  if (!arg) return arg.error();
  const auto sp = arg->find(' ');
  const auto digits = arg->substr(0, sp);
  cmd::bdat c;
  const auto bad = [&](errc code, std::size_t i) {
    return make_command_error(code, at + 1 + i, command_kind::other);
  };
  for (std::size_t i = 0; i < digits.size(); ++i)
    if (!ascii::is_digit(digits[i])) return bad(errc::bad_parameter_value, i);
  // RFC 3030 §2: chunk-size = 1*DIGIT; more than fits in 64 bits is refused.
  if (std::from_chars(digits.data(), digits.data() + digits.size(), c.size).ec != std::errc())
    return bad(errc::value_out_of_range, 0);
  if (sp != std::string_view::npos) {
    if (!ascii::iequals(arg->substr(sp + 1), "LAST")) return bad(errc::bad_parameter_value, sp + 1);
    c.last = true;
  }
  return c;
}

result auth_command(std::string_view rest, std::size_t at) {
  const auto arg = argument_of(rest, at);
  if (!arg) return arg.error();
  const auto sp = arg->find(' ');
  cmd::auth c;
  c.mechanism = arg->substr(0, sp);
  const auto bad = [&](errc code, std::size_t i) {
    return make_command_error(code, at + 1 + i, command_kind::other);
  };
  // RFC 4422 §3.1: 1 to 20 of upper-case letters, digits, "-" and "_".
  for (std::size_t i = 0; i < c.mechanism.size(); ++i) {
    const char ch = c.mechanism[i];
    if (!ascii::in(ch, ascii::klass::sasl_mech) || i == 20)
      return bad(errc::bad_auth_mechanism, i);
  }
  if (sp != std::string_view::npos) {
    const auto response = arg->substr(sp + 1);
    if (response != "=")
      if (const auto b = detail::bad_base64_at(response); b != std::string_view::npos)
        return bad(errc::bad_initial_response, sp + 1 + b);
    c.initial_response = response;
  }
  return c;
}

// VRFY/EXPN (argument required) and HELP/NOOP (optional): String (§4.1.1.6-9).
template <class Command>
result string_command(std::string_view rest, std::size_t at, bool required, const command_options& options) {
  if (rest.empty() && !required) return Command{};
  const auto arg = argument_of(rest, at);
  if (!arg) return arg.error();
  const auto s = detail::match_string(*arg, options);
  if (!s) return shifted(s.error(), at + 1);
  return Command{*s};
}

// An unknown verb keeps its argument; only the octets no command line may
// carry are refused (controls; 8-bit octets without SMTPUTF8, and with it
// anything that is not UTF-8: RFC 6531 §3.3 extends SMTP to UTF-8, not to
// arbitrary octets, as for VRFY and EXPN).
result unknown_command(std::string_view verb, std::string_view rest, std::size_t at,
                       const command_options& options) {
  cmd::unknown c{verb, std::nullopt};
  if (rest.empty()) return c;
  bool non_ascii = false;
  for (std::size_t i = 1; i < rest.size(); ++i) {
    const char ch = rest[i];
    if ((ascii::is_printable(ch)) || ch == '\t') continue;
    if (options.smtputf8 && ascii::is_non_ascii(ch)) {
      non_ascii = true;
      continue;
    }
    return make_command_error(errc::invalid_character, at + i, command_kind::other);
  }
  if (non_ascii)
    if (const auto bad = detail::first_invalid_utf8(rest.substr(1)); bad != std::string_view::npos)
      return make_command_error(errc::bad_utf8, at + 1 + bad, command_kind::other);
  c.argument = rest.substr(1);
  return c;
}

}  // namespace

namespace parse {

result command_line(std::string_view line, const command_options& options) {
  line_notes notes;
  return command_line(line, options, notes);
}

result command_line(std::string_view line, const command_options& options, line_notes& notes) {
  const auto framed = detail::frame_line(line, options.max_line_length, options.allow_bare_lf,
                                         options.reject_trailing_whitespace, notes);
  if (!framed) return framed.error();
  const std::string_view content = *framed;
  if (content.empty()) return make_command_error(errc::empty_command, 0, command_kind::other);

  // Keyword = Ldh-str (§4.1.2); a verb ends at SP or the end of the line.
  // The four-letter verbs are tried first, from their folded word: a match
  // is letters by construction, so only other verbs need the scan.
  if (content.size() >= 4 && (content.size() == 4 || content[4] == ' ')) {
    constexpr std::size_t v = 4;
    const auto rest = content.substr(v);
    // The verb is letters, digits and hyphens: OR 0x20 folds the letters only.
    const auto folded = static_cast<std::uint32_t>((content[0] | 0x20) | (content[1] | 0x20) << 8 |
                                                   (content[2] | 0x20) << 16 | (content[3] | 0x20) << 24);
    constexpr auto word = [](const char(&w)[5]) {
      return static_cast<std::uint32_t>(w[0] | w[1] << 8 | w[2] << 16 | w[3] << 24);
    };
    switch (folded) {
      case word("mail"):
        return envelope_command<cmd::mail>(content, v, " FROM:", command_kind::mail, options);
      case word("rcpt"):
        return envelope_command<cmd::rcpt>(content, v, " TO:", command_kind::rcpt, options);
      case word("ehlo"):
        return hello_command<cmd::ehlo>(rest, v, true);
      case word("helo"):
        return hello_command<cmd::helo>(rest, v, options.allow_helo_address_literal);
      case word("lhlo"):
        return hello_command<cmd::lhlo>(rest, v, true);
      case word("data"):
        return no_argument(rest, v, cmd::data{});
      case word("bdat"):
        return bdat_command(rest, v);
      case word("rset"):
        return no_argument(rest, v, cmd::rset{});
      case word("quit"):
        return no_argument(rest, v, cmd::quit{});
      case word("noop"):
        return string_command<cmd::noop>(rest, v, false, options);
      case word("help"):
        return string_command<cmd::help>(rest, v, false, options);
      case word("vrfy"):
        return string_command<cmd::vrfy>(rest, v, true, options);
      case word("expn"):
        return string_command<cmd::expn>(rest, v, true, options);
      case word("auth"):
        return auth_command(rest, v);
      default:
        break;
    }
  }
  if (content.size() >= 8 && (content.size() == 8 || content[8] == ' ') &&
      detail::ldh_iequals(content.substr(0, 8), "STARTTLS"))  // letters only: as for the words above
    return no_argument(content.substr(8), 8, cmd::starttls{});
  std::size_t v = 0;
  while (v < content.size() && ascii::is_ldh(content[v])) ++v;
  if (v == 0 || (v < content.size() && content[v] != ' '))
    return make_command_error(errc::invalid_verb, v, command_kind::other);
  const auto verb = content.substr(0, v);
  const auto rest = content.substr(v);
  return unknown_command(verb, rest, v, options);
}

}  // namespace parse

std::string_view verb_name(const command& c) noexcept {
  static constexpr std::string_view names[] = {"EHLO", "HELO", "LHLO", "MAIL",     "RCPT",
                                               "DATA", "BDAT", "RSET", "VRFY",     "EXPN",
                                               "HELP", "NOOP", "QUIT", "STARTTLS", "AUTH"};
  if (const auto* u = std::get_if<cmd::unknown>(&c)) return u->verb;
  return names[c.index()];
}

}  // namespace sansmtp
