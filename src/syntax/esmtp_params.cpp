// ESMTP parameters of MAIL and RCPT (RFC 5321 §4.1.2 esmtp-param) and their
// typed values; xtext (RFC 3461 §4).
#include <sansmtp/syntax/command.hpp>

#include "ascii.hpp"
#include "command_internal.hpp"
#include "date_time.hpp"
#include "seen_words.hpp"
#include "utf8.hpp"

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>

namespace sansmtp {
namespace {

using detail::command_kind;
constexpr std::size_t npos = std::string_view::npos;

constexpr bool is_keyword_char(char c) noexcept { return ascii::is_ldh(c); }
// xchar: printable ASCII except "+" and "=" (RFC 3461 §4).
constexpr bool is_xchar(char c) noexcept { return c >= 33 && c <= 126 && c != '+' && c != '='; }
constexpr bool is_upper_hex(char c) noexcept { return ascii::is_digit(c) || (c >= 'A' && c <= 'F'); }

// A value or an error offset relative to the value; errc::ok means valid.
struct value_error {
  errc code = errc::ok;
  std::size_t at = 0;
};

// xtext, also refusing what decodes to CR, LF or NUL: a decoded value ends
// up in DSNs and logs, where those octets inject lines.
value_error check_xtext(std::string_view v) noexcept {
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (is_xchar(v[i])) continue;
    if (v[i] != '+' || i + 2 >= v.size() || !is_upper_hex(v[i + 1]) || !is_upper_hex(v[i + 2]))
      return {errc::bad_xtext, i};
    const unsigned octet = ascii::hex_value(v[i + 1]) * 16 + ascii::hex_value(v[i + 2]);
    if (octet == '\r' || octet == '\n' || octet == 0) return {errc::forbidden_octet_in_xtext, i};
    i += 2;
  }
  return {};
}

// 1*max_digits DIGIT into an unsigned value; too many digits or overflow is
// value_out_of_range.
value_error parse_digits(std::string_view v, std::size_t max_digits, std::uint64_t& out) noexcept {
  if (v.empty()) return {errc::bad_parameter_value, 0};
  std::uint64_t n = 0;
  for (std::size_t i = 0; i < v.size(); ++i) {
    const auto d = static_cast<unsigned char>(v[i] - '0');
    if (d > 9) return {errc::bad_parameter_value, i};
    // 19 digits always fit in 64 bits; only longer numbers can overflow.
    if (i >= 19 && n > (UINT64_MAX - d) / 10) return {errc::value_out_of_range, 0};
    n = n * 10 + d;
  }
  if (v.size() > max_digits) return {errc::value_out_of_range, 0};
  out = n;
  return {};
}

// RFC 3339 §5.6 date-time (HOLDUNTIL, RFC 4865; RRVS, RFC 7293).
value_error check_date_time(std::string_view v) noexcept {
  if (const auto at = detail::date_time_error(v)) return {errc::bad_parameter_value, *at};
  return {};
}

// The parameters this library knows, by keyword (RFC 5321 §4.1.2: keywords
// are case-insensitive). Bit positions for duplicate detection.
enum class known : std::uint8_t {
  size,
  body,
  smtputf8,
  requiretls,
  ret,
  envid,
  auth,
  by,
  mt_priority,
  holdfor,
  holduntil,  // MAIL
  notify,
  orcpt,
  rrvs,  // RCPT
  none
};
struct known_entry {
  std::string_view keyword;
  known id;
  command_kind on;
};
constexpr known_entry known_params[] = {
    {"SIZE", known::size, command_kind::mail},
    {"BODY", known::body, command_kind::mail},
    {"SMTPUTF8", known::smtputf8, command_kind::mail},
    {"REQUIRETLS", known::requiretls, command_kind::mail},
    {"RET", known::ret, command_kind::mail},
    {"ENVID", known::envid, command_kind::mail},
    {"AUTH", known::auth, command_kind::mail},
    {"BY", known::by, command_kind::mail},
    {"MT-PRIORITY", known::mt_priority, command_kind::mail},
    {"HOLDFOR", known::holdfor, command_kind::mail},
    {"HOLDUNTIL", known::holduntil, command_kind::mail},
    {"NOTIFY", known::notify, command_kind::rcpt},
    {"ORCPT", known::orcpt, command_kind::rcpt},
    {"RRVS", known::rrvs, command_kind::rcpt},
};

// No two known keywords share their length and first letter (checked here),
// so a keyword -- letters, digits and hyphens, checked before -- has at most
// one candidate to compare.
constexpr bool one_candidate_each() {
  for (const auto& a : known_params)
    for (const auto& b : known_params)
      if (&a != &b && a.keyword.size() == b.keyword.size() && (a.keyword[0] | 0x20) == (b.keyword[0] | 0x20))
        return false;
  return true;
}
static_assert(one_candidate_each());

const known_entry* find_known(std::string_view keyword) noexcept {
  const auto first = static_cast<char>(keyword[0] | 0x20);
  for (const auto& k : known_params)
    if (k.keyword.size() == keyword.size() && (k.keyword[0] | 0x20) == first)
      return detail::ldh_iequals(keyword, k.keyword) ? &k : nullptr;
  return nullptr;
}

// Keyword without a value (SMTPUTF8, REQUIRETLS).
value_error no_value(const esmtp_param& p) noexcept {
  return p.has_value ? value_error{errc::bad_parameter_value, 0} : value_error{};
}
// Value required; `at` positions are relative to the value.
value_error needs_value(const esmtp_param& p) noexcept {
  return p.has_value ? value_error{} : value_error{errc::bad_parameter_value, 0};
}

template <class E, std::size_t N>
value_error one_of(std::string_view v, const std::pair<std::string_view, E> (&choices)[N], E& out) noexcept {
  for (const auto& [name, value] : choices)
    if (detail::ldh_iequals(v, name)) {  // names are alphanumeric: see ldh_iequals
      out = value;
      return {};
    }
  return {errc::unsupported_parameter_value, 0};
}

constexpr std::pair<std::string_view, body_type> body_types[] = {{"7BIT", body_type::seven_bit},
                                                                 {"8BITMIME", body_type::eight_bit_mime},
                                                                 {"BINARYMIME", body_type::binary_mime}};
constexpr std::pair<std::string_view, dsn_ret> dsn_rets[] = {{"FULL", dsn_ret::full},
                                                             {"HDRS", dsn_ret::hdrs}};
constexpr std::pair<std::string_view, std::uint8_t> notify_words[] = {{"NEVER", notify::never},
                                                                      {"SUCCESS", notify::success},
                                                                      {"FAILURE", notify::failure},
                                                                      {"DELAY", notify::delay}};

// RFC 4954 §5: auth-param = "AUTH=" xtext, whose decoded value is "<>" or
// an addr-spec; RFC 5321's Mailbox is the form an SMTP server can check.
// Offsets point into the xtext only when it needed no decoding.
value_error check_auth_value(std::string_view v, const command_options& options) {
  if (const auto e = check_xtext(v); e.code != errc::ok) return e;
  std::string decoded;  // allocated only when something is encoded
  const bool encoded = v.find('+') != npos;
  if (encoded) decoded = xtext_decode(v);
  const std::string_view value = encoded ? std::string_view(decoded) : v;
  if (value == "<>") return {};
  const auto box = parse::mailbox(value, options);
  if (box) return {};
  return {errc::bad_parameter_value, encoded ? 0 : box.error().offset};
}

inline value_error apply_mail(mail_parameters& m, known id, const esmtp_param& p, const command_options& options) {
  const auto v = p.value;
  if (id == known::smtputf8) {
    m.smtputf8 = true;
    return no_value(p);
  }
  if (id == known::requiretls) {
    m.requiretls = true;
    return no_value(p);
  }
  if (auto e = needs_value(p); e.code != errc::ok) return e;
  switch (id) {
    case known::size: {  // RFC 1870 §3: size-value ::= 1*20DIGIT
      // More digits break the grammar; 20 digits above 2^64-1 do not, and
      // are value_out_of_range (answered 552, see size_too_big).
      if (v.size() > 20 && ascii::all_of(v, ascii::is_digit)) return {errc::bad_parameter_value, 20};
      std::uint64_t n = 0;
      const auto e = parse_digits(v, 20, n);
      if (e.code == errc::ok) m.size = n;
      return e;
    }
    case known::body:
      return one_of(v, body_types, m.body);
    case known::ret:
      return one_of(v, dsn_rets, m.ret);
    case known::envid: {  // RFC 3461 §4.4: at most 100 characters
      if (v.size() > 100) return {errc::parameter_too_long, 100};
      m.envid = v;
      return check_xtext(v);
    }
    case known::auth:
      m.auth = v;
      return check_auth_value(v, options);
    case known::by: {  // RFC 2852 §4: [+-]1*9DIGIT ";" ("N"/"R") ["T"]
      const auto semi = v.find(';');
      if (semi == npos) return {errc::bad_parameter_value, v.size()};
      auto digits = v.substr(0, semi);
      const bool negative = !digits.empty() && digits.front() == '-';
      const std::size_t sign = !digits.empty() && (digits.front() == '-' || digits.front() == '+');
      digits.remove_prefix(sign);
      std::uint64_t n = 0;
      if (auto e = parse_digits(digits, 9, n); e.code != errc::ok) return {e.code, e.at + sign};
      const auto mode = v.substr(semi + 1);
      if (mode.empty() || (ascii::to_lower(mode[0]) != 'n' && ascii::to_lower(mode[0]) != 'r'))
        return {errc::bad_parameter_value, semi + 1};
      if (mode.size() > 2 || (mode.size() == 2 && ascii::to_lower(mode[1]) != 't'))
        return {errc::bad_parameter_value, semi + 2};
      m.by = deliver_by{negative ? -static_cast<std::int64_t>(n) : static_cast<std::int64_t>(n),
                        ascii::to_lower(mode[0]) == 'n' ? 'N' : 'R', mode.size() == 2};
      // §4: with by-mode R the by-time must be positive (a message cannot be
      // returned before it was sent); N may be zero or negative.
      if (m.by->mode == 'R' && m.by->seconds <= 0) return {errc::bad_parameter_value, 0};
      return {};
    }
    case known::mt_priority: {  // RFC 6710 §3: priority-value, -9 .. 9
      const std::size_t sign = v.front() == '-' || v.front() == '+';
      std::uint64_t n = 0;
      if (auto e = parse_digits(v.substr(sign), 1, n); e.code != errc::ok) return {e.code, e.at + sign};
      m.mt_priority = v.front() == '-' ? -static_cast<int>(n) : static_cast<int>(n);
      return {};
    }
    case known::holdfor: {                                     // RFC 4865 §4: 1*9DIGIT seconds
      if (m.holduntil) return {errc::duplicate_parameter, 0};  // see holduntil
      std::uint64_t n = 0;
      const auto e = parse_digits(v, 9, n);
      if (e.code == errc::ok) m.holdfor = static_cast<std::uint32_t>(n);
      return e;
    }
    case known::holduntil:
      // RFC 4865 §4.1-4.2: one hold-param per MAIL; HOLDFOR and HOLDUNTIL
      // are two spellings of it, so the second is a duplicate (501 5.5.4).
      if (m.holdfor) return {errc::duplicate_parameter, 0};
      m.holduntil = v;
      return check_date_time(v);
    default:
      return {errc::unknown_parameter, 0};
  }
}

inline value_error apply_rcpt(rcpt_parameters& r, known id, const esmtp_param& p, const command_options&) {
  const auto v = p.value;
  if (auto e = needs_value(p); e.code != errc::ok) return e;
  switch (id) {
    case known::notify: {  // RFC 3461 §4.1: "NEVER" / 1#( SUCCESS / FAILURE / DELAY )
      std::size_t start = 0;
      for (;;) {
        const auto comma = v.find(',', start);
        const auto word = v.substr(start, comma == npos ? npos : comma - start);
        std::uint8_t flag = 0;
        if (auto e = one_of(word, notify_words, flag); e.code != errc::ok)
          return {word.empty() ? errc::bad_parameter_value : e.code, start};
        // NEVER stands alone; no word twice.
        if ((r.notify & flag) || (flag == notify::never && r.notify) || (r.notify & notify::never))
          return {errc::bad_parameter_value, start};
        r.notify |= flag;
        if (comma == npos) return {};
        start = comma + 1;
      }
    }
    case known::orcpt: {  // RFC 3461 §4.2: addr-type ";" xtext, at most 500 characters
      if (v.size() > 500) return {errc::parameter_too_long, 500};
      const auto semi = v.find(';');
      if (semi == npos) return {errc::bad_parameter_value, v.size()};
      const auto type = v.substr(0, semi);
      const auto scan_end = std::find_if_not(type.begin(), type.end(), [](char c) {
        return ascii::is_let_dig(c) || c == '-' || c == '_' || c == '.' || c == '+';
      });
      if (type.empty() || scan_end != type.end())
        return {errc::bad_parameter_value, static_cast<std::size_t>(scan_end - type.begin())};
      const auto address = v.substr(semi + 1);
      if (address.empty()) return {errc::bad_parameter_value, semi + 1};
      if (auto e = check_xtext(address); e.code != errc::ok) return {e.code, e.at + semi + 1};
      r.orcpt = original_recipient{type, address};
      return {};
    }
    case known::rrvs: {  // RFC 7293 §3: date-time [ ";" ( "C" / "R" ) ]
      const auto semi = v.find(';');
      const auto when = v.substr(0, semi);
      if (auto e = check_date_time(when); e.code != errc::ok) return e;
      char mode = 0;
      if (semi != npos) {
        const auto m = v.substr(semi + 1);
        if (m.size() != 1 || (ascii::to_lower(m[0]) != 'c' && ascii::to_lower(m[0]) != 'r'))
          return {errc::bad_parameter_value, semi + 1};
        mode = ascii::to_lower(m[0]) == 'c' ? 'C' : 'R';
      }
      r.rrvs = require_recipient_valid_since{when, mode};
      return {};
    }
    default:
      return {errc::unknown_parameter, 0};
  }
}

// A SIZE above 2^64-1 exceeds any fixed maximum a server can have: RFC 1870
// §6.1 answers that with 552 (RFC 3463 X.3.4, message too big for system).
command_error size_too_big(std::size_t at) noexcept {
  auto e = detail::make_command_error(errc::value_out_of_range, at, command_kind::parameter);
  e.reply = 552;
  e.enhanced = enhanced_status{5, 3, 4};
  return e;
}

// The shared loop: syntax, duplicates, unknown keywords; `apply` fills the
// typed view of a known keyword.
template <class Params, class Apply>
command_error parse_params(std::string_view text, command_kind kind, const command_options& options,
                           Apply apply, Params& out) {
  out.text = text;                             // `out` arrives default-constructed
  std::uint32_t seen = 0;                      // known keywords, by bit
  std::unique_ptr<detail::seen_words> unknowns;  // made at the first unknown keyword (a leniency)
  std::size_t i = 0;
  const bool utf8 = options.smtputf8;
  // esmtp-value = 1*(%d33-60 / %d62-126); RFC 6531 §3.3 adds UTF8-non-ascii.
  const auto value_class = utf8 ? ascii::klass::esmtp_value_u8 : ascii::klass::esmtp_value;
  // Every error here is about a parameter, never an address: RFC 3463 X.5.4.
  const auto error = [&](errc code, std::size_t at) {
    return detail::make_command_error(code, at, command_kind::parameter);
  };
  while (i < text.size()) {
    const std::size_t start = i;
    if (!ascii::is_let_dig(text[i])) return error(errc::bad_parameter, i);
    while (i < text.size() && is_keyword_char(text[i])) ++i;
    esmtp_param p;
    p.keyword = text.substr(start, i - start);
    std::size_t value_start = i;
    if (i < text.size() && text[i] == '=') {
      value_start = ++i;
      while (i < text.size() && ascii::in(text[i], value_class)) ++i;
      if (i == value_start) return error(errc::bad_parameter, i);
      p.has_value = true;
      p.value = text.substr(value_start, i - value_start);
    }
    if (i < text.size() && text[i] != ' ') return error(errc::bad_parameter, i);
    if (i + 1 == text.size()) return error(errc::bad_parameter, i + 1);  // a trailing SP
    if (p.has_value && utf8)
      if (const auto bad = detail::first_invalid_utf8(p.value); bad != npos)
        return error(errc::bad_utf8, value_start + bad);
    // A keyword of the other command (SIZE on RCPT) is as unknown here as any.
    const known_entry* k = find_known(p.keyword);
    if (k && k->on != kind) return error(errc::unknown_parameter, start);
    if (k) {
      const auto bit = std::uint32_t{1} << static_cast<unsigned>(k->id);
      if (seen & bit) return error(errc::duplicate_parameter, start);
      seen |= bit;
      const auto e = apply(out, k->id, p, options);
      if (e.code == errc::unknown_parameter || e.code == errc::duplicate_parameter)
        return error(e.code, start);
      if (e.code == errc::value_out_of_range && k->id == known::size) return size_too_big(value_start);
      if (e.code != errc::ok)
        return error(e.code, p.has_value ? value_start + e.at : start + p.keyword.size());
    } else {
      if (!options.allow_unknown_parameters) return error(errc::unknown_parameter, start);
      if (!unknowns) unknowns = std::make_unique<detail::seen_words>();
      if (!unknowns->insert(p.keyword)) return error(errc::duplicate_parameter, start);
    }
    i += i < text.size();  // the separating SP
  }
  return {};
}

}  // namespace

namespace detail {
command_error parse_mail_params(std::string_view text, const command_options& options, mail_parameters& out) {
  // A lambda, not the function pointer: the call is inlined into the loop.
  return parse_params(
      text, command_kind::mail, options,
      [](mail_parameters& m, known id, const esmtp_param& p, const command_options& o) { return apply_mail(m, id, p, o); },
      out);
}
command_error parse_rcpt_params(std::string_view text, const command_options& options, rcpt_parameters& out) {
  return parse_params(
      text, command_kind::rcpt, options,
      [](rcpt_parameters& r, known id, const esmtp_param& p, const command_options& o) { return apply_rcpt(r, id, p, o); },
      out);
}
}  // namespace detail

namespace parse {
parse_result<sansmtp::mail_parameters, command_error> mail_parameters(std::string_view text,
                                                                      const command_options& options) {
  sansmtp::mail_parameters out;
  if (const auto e = detail::parse_mail_params(text, options, out); e.code != errc::ok) return e;
  return out;
}
parse_result<sansmtp::rcpt_parameters, command_error> rcpt_parameters(std::string_view text,
                                                                      const command_options& options) {
  sansmtp::rcpt_parameters out;
  if (const auto e = detail::parse_rcpt_params(text, options, out); e.code != errc::ok) return e;
  return out;
}
}  // namespace parse

void esmtp_param_range::iterator::load() noexcept {
  done_ = rest_.empty();
  if (done_) return;
  const auto sp = rest_.find(' ');
  const auto item = rest_.substr(0, sp);
  const auto eq = item.find('=');
  current_.keyword = item.substr(0, eq);
  current_.has_value = eq != npos;
  current_.value = current_.has_value ? item.substr(eq + 1) : std::string_view();
}

esmtp_param_range::iterator& esmtp_param_range::iterator::operator++() noexcept {
  const auto sp = rest_.find(' ');
  rest_ = sp == npos ? rest_.substr(rest_.size()) : rest_.substr(sp + 1);
  load();
  return *this;
}

bool xtext_valid(std::string_view xtext) noexcept { return check_xtext(xtext).code == errc::ok; }

std::string xtext_decode(std::string_view xtext) {
  std::string out;
  out.reserve(xtext.size());
  for (std::size_t i = 0; i < xtext.size(); ++i) {
    if (xtext[i] == '+' && i + 2 < xtext.size()) {
      out += static_cast<char>(ascii::hex_value(xtext[i + 1]) * 16 + ascii::hex_value(xtext[i + 2]));
      i += 2;
    } else {
      out += xtext[i];
    }
  }
  return out;
}

std::string xtext_encode(std::string_view value) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (is_xchar(c)) {
      out += c;
    } else {
      const auto u = static_cast<unsigned char>(c);
      out += '+';
      out += hex[u >> 4];
      out += hex[u & 15];
    }
  }
  return out;
}

bool esmtp_param_writer::fail(errc code, std::size_t offset) {
  if (!error_) error_ = build_error{{code, offset}, "params"};
  return false;
}

// esmtp-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-") (RFC 5321 §4.1.2).
esmtp_param_writer& esmtp_param_writer::add(std::string_view keyword) {
  if (error_) return *this;
  const std::size_t at = text_.size() + !text_.empty();
  if (keyword.empty()) {
    fail(errc::bad_parameter, at);
    return *this;
  }
  for (std::size_t i = 0; i < keyword.size(); ++i)
    if (i == 0 ? !ascii::is_let_dig(keyword[i]) : !is_keyword_char(keyword[i])) {
      fail(errc::bad_parameter, at + i);
      return *this;
    }
  if (!text_.empty()) text_ += ' ';
  text_.append(keyword);
  return *this;
}

// esmtp-value = 1*(%d33-60 / %d62-126), plus UTF-8 under SMTPUTF8 (RFC 6531
// §3.3; whether it is in effect is the parser's call, when the command is
// built). SP, "=", CR, LF and other controls never go in.
esmtp_param_writer& esmtp_param_writer::add(std::string_view keyword, std::string_view value) {
  if (error_) return *this;
  const std::size_t at = text_.size() + !text_.empty() + keyword.size() + 1;
  if (value.empty()) {
    fail(errc::bad_parameter_value, at);
    return *this;
  }
  for (std::size_t i = 0; i < value.size(); ++i) {
    const auto u = static_cast<unsigned char>(value[i]);
    if ((u < 33 || u == '=' || u == 127) && u < 0x80) {
      fail(u == '\r' ? errc::bare_cr : u == '\n' ? errc::bare_lf : errc::bad_parameter_value, at + i);
      return *this;
    }
  }
  add(keyword);
  if (error_) return *this;
  text_ += '=';
  text_.append(value);
  return *this;
}

esmtp_param_writer& esmtp_param_writer::size(std::uint64_t octets) {
  return add("SIZE", std::to_string(octets));
}

// The writer spells values from the same tables the parser reads them with.
template <class E, std::size_t N>
std::string_view name_of(const std::pair<std::string_view, E> (&choices)[N], E value) noexcept {
  for (const auto& [name, v] : choices)
    if (v == value) return name;
  return {};
}

esmtp_param_writer& esmtp_param_writer::body(body_type type) {
  const auto name = name_of(body_types, type);
  return name.empty() ? *this : add("BODY", name);
}

esmtp_param_writer& esmtp_param_writer::ret(dsn_ret what) {
  const auto name = name_of(dsn_rets, what);
  return name.empty() ? *this : add("RET", name);
}

esmtp_param_writer& esmtp_param_writer::envid(std::string_view value) {
  return add("ENVID", xtext_encode(value));
}

esmtp_param_writer& esmtp_param_writer::notify(std::uint8_t flags) {
  // RFC 3461 §4.1: "NEVER" stands alone; no other bits exist.
  constexpr std::uint8_t all = notify::never | notify::success | notify::failure | notify::delay;
  if ((flags & ~all) || ((flags & notify::never) && flags != notify::never)) {
    fail(errc::bad_parameter_value, text_.size() + !text_.empty() + 7);
    return *this;
  }
  std::string list;
  for (const auto& [name, bit] : notify_words)
    if (flags & bit) {
      if (!list.empty()) list += ',';
      list.append(name);
    }
  return list.empty() ? *this : add("NOTIFY", list);
}

esmtp_param_writer& esmtp_param_writer::orcpt(std::string_view type, std::string_view address) {
  std::string value(type);
  value += ';';
  value += xtext_encode(address);
  return add("ORCPT", value);
}

}  // namespace sansmtp
