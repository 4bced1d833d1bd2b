// EHLO reply -> capabilities: one pass over the keyword lines, a table of the
// known keywords and what their parameters must look like.
#include <sansmtp/capabilities.hpp>

#include "ascii.hpp"
#include "ehlo_keyword.hpp"
#include "seen_words.hpp"

#include <algorithm>
#include <array>
#include <limits>

namespace sansmtp {

namespace detail {
struct capabilities_builder {
  static std::vector<std::string_view>& params(capabilities& c) noexcept { return c.params_; }
};
}  // namespace detail

namespace {

// What the parameters of a known keyword must be.
enum class params_rule : std::uint8_t {
  none,           // no parameters
  size,           // [ SP 1*DIGIT ] (RFC 1870 §4)
  auth,           // 1*( SP sasl-mech ) (RFC 4954 §3)
  limits,         // 1*( SP name [ "=" value ] ) (RFC 9422 §3)
  deliverby,      // [ SP min-by-time ] (RFC 2852 §4)
  mt_priority,    // [ SP priority-profile ] (RFC 6710 §3)
  futurerelease,  // SP interval SP date-time (RFC 4865 §3)
  any,            // XCLIENT attribute names
};

struct known_keyword {
  extension ext;
  std::string_view keyword;
  params_rule rule;
};

// Indexed by extension.
constexpr std::array<known_keyword, extension_count> known_keywords = {{
    {extension::size, "SIZE", params_rule::size},
    {extension::eightbitmime, "8BITMIME", params_rule::none},
    {extension::pipelining, "PIPELINING", params_rule::none},
    {extension::starttls, "STARTTLS", params_rule::none},
    {extension::auth, "AUTH", params_rule::auth},
    {extension::smtputf8, "SMTPUTF8", params_rule::none},
    {extension::chunking, "CHUNKING", params_rule::none},
    {extension::binarymime, "BINARYMIME", params_rule::none},
    {extension::dsn, "DSN", params_rule::none},
    {extension::enhancedstatuscodes, "ENHANCEDSTATUSCODES", params_rule::none},
    {extension::requiretls, "REQUIRETLS", params_rule::none},
    {extension::limits, "LIMITS", params_rule::limits},
    {extension::deliverby, "DELIVERBY", params_rule::deliverby},
    {extension::mt_priority, "MT-PRIORITY", params_rule::mt_priority},
    {extension::futurerelease, "FUTURERELEASE", params_rule::futurerelease},
    {extension::vrfy, "VRFY", params_rule::none},
    {extension::etrn, "ETRN", params_rule::none},
    {extension::help, "HELP", params_rule::none},
    {extension::xclient, "XCLIENT", params_rule::any},
}};

// 1*DIGIT that fits 64 bits.
std::optional<std::uint64_t> number(std::string_view s) noexcept {
  if (s.empty()) return std::nullopt;
  std::uint64_t v = 0;
  for (const char c : s) {
    if (!ascii::is_digit(c)) return std::nullopt;
    const auto d = static_cast<std::uint64_t>(c - '0');
    if (v > (std::numeric_limits<std::uint64_t>::max() - d) / 10) return std::nullopt;
    v = v * 10 + d;
  }
  return v;
}

// RFC 4422 §3.1: sasl-mech = 1*20mech-char; mech-char = UPPER-ALPHA / DIGIT / "-" / "_".
bool sasl_mech(std::string_view s) noexcept {
  if (s.empty() || s.size() > 20) return false;
  for (const char c : s)
    if (!((c >= 'A' && c <= 'Z') || ascii::is_digit(c) || c == '-' || c == '_')) return false;
  return true;
}

bool ehlo_keyword(std::string_view s) noexcept {
  if (s.empty() || !ascii::is_let_dig(s[0])) return false;
  for (const char c : s)
    if (!ascii::is_ldh(c)) return false;
  return true;
}

// RFC 9422 §3: limit-name = 1*(ALPHA / DIGIT / "-" / "_").
bool limit_name(std::string_view s) noexcept {
  return ascii::all_of(s, [](char c) { return ascii::is_ldh(c) || c == '_'; });
}

bool ehlo_param(std::string_view s) noexcept {
  for (const char c : s)
    if (c < 33 || c > 126) return false;
  return true;
}

class reader {
 public:
  explicit reader(capabilities& out) : out_(out) {}

  void first_line(std::string_view text) {
    const auto sp = text.find(' ');
    out_.domain = text.substr(0, sp);
    if (sp != std::string_view::npos) out_.greeting = text.substr(sp + 1);
    auto host = parse::ehlo_argument(out_.domain);
    if (host) {
      out_.host = host.value();
    } else {
      ehlo_finding f;
      f.problem = ehlo_problem::bad_domain;
      f.keyword = out_.domain;
      f.error = host.error();
      out_.findings.push_back(f);
    }
  }

  void keyword_line(std::size_t index, std::string_view text) {
    ehlo_line line;
    line.line = index;
    bool spaces = false;
    std::size_t start = 0;
    bool first = true;
    // The words go to the one params storage, reserved by ehlo_response()
    // for every word of the reply: it never reallocates under the spans.
    auto& storage = detail::capabilities_builder::params(out_);
    const std::size_t begin = storage.size();
    for (;;) {
      const auto sp = text.find(' ', start);
      const auto word = text.substr(start, sp == std::string_view::npos ? sp : sp - start);
      if (word.empty()) {
        spaces = true;
      } else if (first) {
        line.keyword = word;
        first = false;
        // Pre-RFC 2554 drafts wrote "AUTH=LOGIN PLAIN"; the mechanisms count.
        if (ascii::istarts_with(word, "AUTH=") && word.size() > 5) storage.push_back(word.substr(5));
      } else {
        storage.push_back(word);
      }
      if (sp == std::string_view::npos) break;
      start = sp + 1;
    }
    line.params = {storage.data() + begin, storage.size() - begin};
    if (spaces && !text.empty()) note(ehlo_problem::extra_space, index, line.keyword);
    if (ascii::istarts_with(line.keyword, "AUTH=")) {
      line.keyword = line.keyword.substr(0, 4);
      line.legacy_auth = true;
    } else if (!ehlo_keyword(line.keyword)) {
      note(ehlo_problem::bad_keyword, index, line.keyword.empty() ? text : line.keyword);
      return;
    }
    for (const auto p : line.params)
      if (!ehlo_param(p)) note(ehlo_problem::bad_param, index, line.keyword, p);
    line.known = extension_of(line.keyword);
    // The AUTH= form does not count: servers send it next to AUTH on purpose.
    if (!line.legacy_auth && !keywords_.insert(line.keyword))
      note(ehlo_problem::duplicate_keyword, index, line.keyword);
    if (line.known) typed(line);
    out_.lines.push_back(std::move(line));
  }

 private:
  void note(ehlo_problem problem, std::size_t index, std::string_view keyword, std::string_view param = {}) {
    ehlo_finding f;
    f.problem = problem;
    f.line = index;
    f.keyword = keyword;
    f.param = param;
    out_.findings.push_back(f);
  }

  void typed(const ehlo_line& line) {
    const auto& k = known_keywords[static_cast<std::size_t>(*line.known)];
    const bool again = out_.has(k.ext);
    out_.present |= 1u << static_cast<unsigned>(k.ext);
    const auto& params = line.params;
    const auto bad = [&](std::string_view p) { note(ehlo_problem::bad_param, line.line, line.keyword, p); };
    const auto at_most_one = [&] {
      for (std::size_t i = 1; i < params.size(); ++i)
        note(ehlo_problem::unexpected_param, line.line, line.keyword, params[i]);
    };
    if (k.rule == params_rule::auth) {  // merged across lines, AUTH= included
      if (params.empty()) note(ehlo_problem::missing_param, line.line, line.keyword);
      for (const auto mech : params) {
        if (!sasl_mech(mech)) bad(mech);
        if (mechanisms_.insert(mech)) out_.auth.push_back(mech);
      }
      return;
    }
    if (again) return;  // the typed view keeps the first
    switch (k.rule) {
      case params_rule::none:
        for (const auto p : params) note(ehlo_problem::unexpected_param, line.line, line.keyword, p);
        break;
      case params_rule::size:
        at_most_one();
        if (!params.empty()) {
          const auto v = number(params[0]);
          if (!v) bad(params[0]);
          if (v && *v != 0) out_.size = v;
        }
        break;
      case params_rule::deliverby:
        at_most_one();
        if (!params.empty()) {
          out_.deliverby_min = number(params[0]);
          if (!out_.deliverby_min) bad(params[0]);
        }
        break;
      case params_rule::mt_priority:
        at_most_one();
        if (!params.empty()) out_.mt_priority_profile = params[0];
        break;
      case params_rule::futurerelease:
        if (params.size() < 2) note(ehlo_problem::missing_param, line.line, line.keyword);
        for (std::size_t i = 2; i < params.size(); ++i)
          note(ehlo_problem::unexpected_param, line.line, line.keyword, params[i]);
        if (!params.empty()) {
          out_.futurerelease_max_interval = number(params[0]);
          if (!out_.futurerelease_max_interval) bad(params[0]);
        }
        if (params.size() > 1) out_.futurerelease_max_datetime = params[1];
        break;
      case params_rule::limits:
        limits(line);
        break;
      case params_rule::any:
        out_.xclient.assign(params.begin(), params.end());
        break;
      case params_rule::auth:
        break;
    }
  }

  // RFC 9422 §3: limits-param = limit-name-value *(SP limit-name-value);
  // limit-name-value = limit-name ["=" limit-value]; limit-name =
  // 1*(ALPHA / DIGIT / "-" / "_"); limit-value = 1*(%x21-3A / %x3C-7E).
  // A name alone is grammatical, and unknown names are ignored (the
  // registry grows). A bare LIMITS or a word outside this grammar is a
  // syntax error, and §3.7 has the client then ignore LIMITS entirely; a bad
  // value of one of the three limits of §4 (which take a number) drops only
  // that limit.
  void limits(const ehlo_line& line) {
    if (line.params.empty()) note(ehlo_problem::missing_param, line.line, line.keyword);
    bool syntax_ok = !line.params.empty();
    smtp_limits l;
    for (const auto p : line.params) {
      if (!ehlo_param(p)) {  // flagged already
        syntax_ok = false;
        continue;
      }
      const auto eq = p.find('=');
      const auto name = p.substr(0, eq);
      const auto value = eq == std::string_view::npos ? std::string_view() : p.substr(eq + 1);
      if (!limit_name(name) ||
          (eq != std::string_view::npos && (value.empty() || value.find(';') != value.npos))) {
        note(ehlo_problem::bad_param, line.line, line.keyword, p);
        syntax_ok = false;
        continue;
      }
      std::optional<std::uint64_t>* slot = nullptr;
      if (ascii::iequals(name, "RCPTMAX")) slot = &l.rcptmax;
      if (ascii::iequals(name, "MAILMAX")) slot = &l.mailmax;
      if (ascii::iequals(name, "RCPTDOMAINMAX")) slot = &l.rcptdomainmax;
      if (!slot) continue;
      const auto v = number(value);
      if (!v || slot->has_value()) {
        note(ehlo_problem::bad_param, line.line, line.keyword, p);
        continue;
      }
      *slot = v;
    }
    if (syntax_ok) out_.limits = l;
  }

  capabilities& out_;
  detail::seen_words keywords_;    // of the lines kept, AUTH= lines left out
  detail::seen_words mechanisms_;  // in out_.auth
};

}  // namespace

std::string_view extension_keyword(extension e) noexcept {
  const auto i = static_cast<std::size_t>(e);
  return i < known_keywords.size() ? known_keywords[i].keyword : std::string_view();
}

std::optional<extension> extension_of(std::string_view keyword) noexcept {
  return detail::keyword_extension(keyword);  // one pass (grammar/ehlo.rl), not a compare per keyword
}

std::string_view ehlo_problem_name(ehlo_problem p) noexcept {
  switch (p) {
    case ehlo_problem::bad_domain:
      return "bad-domain";
    case ehlo_problem::bad_keyword:
      return "bad-keyword";
    case ehlo_problem::bad_param:
      return "bad-param";
    case ehlo_problem::unexpected_param:
      return "unexpected-param";
    case ehlo_problem::missing_param:
      return "missing-param";
    case ehlo_problem::extra_space:
      return "extra-space";
    case ehlo_problem::duplicate_keyword:
      return "duplicate-keyword";
    case ehlo_problem::not_250:
      return "not-250";
  }
  return "unknown";
}

const ehlo_line* detail::capabilities_fields::find(std::string_view keyword) const noexcept {
  for (const auto& l : lines)
    if (ascii::iequals(l.keyword, keyword)) return &l;
  return nullptr;
}

namespace parse {

capabilities ehlo_response(int code, std::span<const std::string_view> lines) {
  capabilities out;
  out.code = code;
  out.ok = code / 100 == 2;
  if (!out.ok || lines.empty()) return out;
  // Room for every word of every line (and the AUTH= mechanism split off
  // its keyword), so the params storage never reallocates while lines
  // point into it; one allocation each for it and the lines.
  std::size_t words = 0;
  for (std::size_t i = 1; i < lines.size(); ++i)
    words += 2 + static_cast<std::size_t>(std::count(lines[i].begin(), lines[i].end(), ' '));
  detail::capabilities_builder::params(out).reserve(words);
  out.lines.reserve(lines.size() - 1);
  reader r(out);
  if (code != 250) out.findings.push_back({ehlo_problem::not_250, 0, {}, {}, {}});
  r.first_line(lines[0]);
  for (std::size_t i = 1; i < lines.size(); ++i) r.keyword_line(i, lines[i]);
  return out;
}

}  // namespace parse
}  // namespace sansmtp
