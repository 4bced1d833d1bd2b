// EHLO reply -> capabilities: one pass over the keyword lines, a table of the
// known keywords and what their parameters must look like.
#include <sansmtp/syntax/capabilities.hpp>

#include "ascii.hpp"
#include "ehlo_keyword.hpp"
#include "date_time.hpp"
#include "ehlo_param_scan.hpp"
#include "seen_words.hpp"

#include <algorithm>
#include <array>
#include <utility>

// The parameter machine (grammar/ehlo_params.rl), generated code: it jumps
// between case labels by design.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#pragma GCC diagnostic ignored "-Wunused-variable"
#pragma GCC diagnostic ignored "-Wunused-const-variable"
#include "ehlo_params.inc"
#pragma GCC diagnostic pop

namespace sansmtp {

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

using grammar = detail::ehlo_param_grammar;

// RFC 4422 §3.1: sasl-mech = 1*20mech-char, by the class table: the fast
// path of grammar/ehlo_params.rl's sasl_mech, which is the reference (the
// tests and fuzz_ehlo_capabilities hold the two to one verdict). AUTH lists
// a handful of mechanisms on two lines in nearly every EHLO reply, and the
// machine cost 140 instructions more per reply there (bench/README.md).
[[gnu::always_inline]] inline bool sasl_mech(std::string_view s) noexcept {
  if (s.empty() || s.size() > 20) return false;
  for (const char c : s)
    if (!ascii::in(c, ascii::klass::sasl_mech)) return false;
  return true;
}

// One parameter word against its grammar (grammar/ehlo_params.rl, inlined).
using detail::scan_ehlo_param_as;

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

  // The keyword comes from one pass of grammar/ehlo.rl (its grammar, its
  // end and the known extension it names); the words after it are then
  // counted and checked together (ehlo-param = 1*(%d33-126)), and a word is
  // looked at on its own only to name a bad one.
  void keyword_line(std::size_t index, std::string_view text) {
    // Filled in place; taken back off if the line has no keyword to file it under.
    ehlo_line& line = out_.lines.emplace_back();
    line.line = index;
    bool spaces = false;     // an empty word
    bool separated = false;  // a SP follows the first word
    bool valid = true;
    std::string_view word;   // the first word, as sent
    std::size_t params_at = 0;
    if (const auto scan = detail::scan_ehlo_keyword(text); scan.valid) {  // the common case
      word = text.substr(0, scan.length);
      line.known = scan.known;
      separated = scan.length < text.size();
      params_at = separated ? scan.length + 1 : text.size();
    } else {  // leading spaces, the AUTH= form, or no ehlo-keyword at all
      std::size_t k = 0;
      while (k < text.size() && text[k] == ' ') ++k;
      spaces = k > 0;
      const auto keyword_end = text.find(' ', k);
      separated = keyword_end != std::string_view::npos;
      word = text.substr(k, separated ? keyword_end - k : keyword_end);
      // Pre-RFC 2554 drafts wrote "AUTH=LOGIN PLAIN": the mechanisms count.
      line.legacy_auth = ascii::istarts_with(word, "AUTH=");
      params_at = line.legacy_auth && word.size() > 5 ? k + 5 : separated ? keyword_end + 1 : text.size();
      const auto again = detail::scan_ehlo_keyword(line.legacy_auth ? word.substr(0, 4) : word);
      valid = line.legacy_auth || (again.valid && again.length == word.size());
      line.known = again.known;
    }
    line.keyword = line.legacy_auth ? word.substr(0, 4) : word;
    const auto params_text = text.substr(params_at);
    std::uint32_t words = 0;
    bool bad = false;
    unsigned char prev = ' ';  // params_text starts a word
    for (const char ch : params_text) {
      const auto c = static_cast<unsigned char>(ch);
      if (c == ' ') {
        spaces = spaces || prev == ' ';
      } else {
        words += prev == ' ';
        bad = bad || c < 33 || c > 126;
      }
      prev = c;
    }
    spaces = spaces || (separated && prev == ' ');
    line.params = ehlo_param_range(params_text, words);
    if (spaces && !text.empty()) note(ehlo_problem::extra_space, index, word);
    if (!valid) {
      out_.lines.pop_back();
      note(ehlo_problem::bad_keyword, index, word.empty() ? text : word);
      return;
    }
    if (bad)
      for (const auto p : line.params)
        if (!ehlo_param(p)) note(ehlo_problem::bad_param, index, line.keyword, p);
    // The AUTH= form does not count: servers send it next to AUTH on purpose.
    // Equal keywords are equally known, so a known one is remembered by its bit.
    if (line.known) {
      const auto bit = std::uint32_t{1} << static_cast<unsigned>(*line.known);
      line.repeated = (any_seen_ & bit) != 0;
      any_seen_ |= bit;
      if (!line.legacy_auth) {
        if ((known_seen_ & bit) != 0) note(ehlo_problem::duplicate_keyword, index, line.keyword);
        known_seen_ |= bit;
      }
    } else {
      line.repeated = !keywords_.insert(line.keyword);
      if (line.repeated) note(ehlo_problem::duplicate_keyword, index, line.keyword);
    }
    if (line.known) {
      const auto bit = std::uint32_t{1} << static_cast<unsigned>(*line.known);
      // Most known keywords take no parameters and come with none.
      if (known_keywords[static_cast<std::size_t>(*line.known)].rule == params_rule::none && line.params.empty())
        out_.present |= bit;
      else
        typed(line);
    }
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
    // Parameters from the n-th on are unexpected.
    const auto at_most = [&](std::size_t n) {
      std::size_t i = 0;
      for (const auto p : params)
        if (i++ >= n) note(ehlo_problem::unexpected_param, line.line, line.keyword, p);
    };
    const auto at_most_one = [&] { at_most(1); };
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
          const auto v = scan_ehlo_param_as<grammar::size>(params.front());
          if (!v.valid || v.overflow) bad(params.front());
          else if (v.value != 0) out_.size = v.value;  // RFC 1870 §4: 0 means no fixed maximum
        }
        break;
      case params_rule::deliverby:
        at_most_one();
        if (!params.empty()) {
          const auto v = scan_ehlo_param_as<grammar::deliverby>(params.front());
          if (!v.valid) bad(params.front());
          else if (ascii::is_digit(params.front().front())) out_.deliverby_min = v.value;  // min-by-time is optional
        }
        break;
      case params_rule::mt_priority:
        at_most_one();
        if (!params.empty()) {
          if (scan_ehlo_param_as<grammar::priority_profile>(params.front()).valid)
            out_.mt_priority_profile = params.front();
          else
            bad(params.front());
        }
        break;
      case params_rule::futurerelease:
        if (params.size() < 2) note(ehlo_problem::missing_param, line.line, line.keyword);
        at_most(2);
        if (!params.empty()) {
          const auto interval = scan_ehlo_param_as<grammar::release_interval>(params.front());
          if (interval.valid) out_.futurerelease_max_interval = interval.value;
          else bad(params.front());
        }
        if (params.size() > 1) {
          const auto when = *std::next(params.begin());
          if (scan_ehlo_param_as<grammar::date_time>(when).valid) out_.futurerelease_max_datetime = when;
          else bad(when);
        }
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

  // RFC 9422 §3: limits-param = limit-name-value *(SP limit-name-value),
  // each word read by grammar/ehlo_params.rl. A name alone is grammatical,
  // and unknown names are ignored (the registry grows). A bare LIMITS or a
  // word outside this grammar is a syntax error, and §3.7 has the client then
  // ignore LIMITS entirely; a bad value of one of the three limits of §4
  // (1 to 999999) drops only that limit.
  void limits(const ehlo_line& line) {
    if (line.params.empty()) note(ehlo_problem::missing_param, line.line, line.keyword);
    bool syntax_ok = !line.params.empty();
    smtp_limits l;
    for (const auto p : line.params) {
      if (!ehlo_param(p)) {  // flagged already
        syntax_ok = false;
        continue;
      }
      const auto word = scan_ehlo_param_as<grammar::limit>(p);
      if (!word.valid) {
        note(ehlo_problem::bad_param, line.line, line.keyword, p);
        syntax_ok = false;
        continue;
      }
      // Indexed by detail::limit_name; unregistered names are ignored.
      std::optional<std::uint64_t>* const slots[] = {nullptr, &l.rcptmax, &l.mailmax, &l.rcptdomainmax};
      const auto slot = slots[static_cast<std::size_t>(word.limit)];
      if (!slot) continue;
      const auto count = scan_ehlo_param_as<grammar::limit_count>(
          word.value_at == std::string_view::npos ? std::string_view() : p.substr(word.value_at));
      if (!count.valid || slot->has_value()) {
        note(ehlo_problem::bad_param, line.line, line.keyword, p);
        continue;
      }
      *slot = count.value;
    }
    if (syntax_ok) out_.limits = l;
  }

  capabilities& out_;
  std::uint32_t known_seen_ = 0;   // known keywords of the lines kept (by bit), AUTH= lines left out
  std::uint32_t any_seen_ = 0;     // the same, AUTH= lines included (ehlo_line::repeated)
  detail::seen_words keywords_;    // unknown keywords of the lines kept
  detail::seen_words mechanisms_;  // in out_.auth
};

}  // namespace

namespace detail {

bool sasl_mech_fast_path(std::string_view word) noexcept { return sasl_mech(word); }

// Out of line for the tests and fuzzers: one instance per grammar, in the
// enum's order.
template <std::size_t... I>
ehlo_param_scan scan_by_index(std::size_t g, std::string_view word, std::index_sequence<I...>) noexcept {
  using scanner = ehlo_param_scan (*)(std::string_view) noexcept;
  static constexpr scanner scanners[] = {&scan_ehlo_param_as<static_cast<grammar>(I)>...};
  return g < sizeof...(I) ? scanners[g](word) : ehlo_param_scan{};
}

ehlo_param_scan scan_ehlo_param(ehlo_param_grammar g, std::string_view word) noexcept {
  return scan_by_index(static_cast<std::size_t>(g), word, std::make_index_sequence<ehlo_param_grammar_count>());
}

}  // namespace detail

ehlo_param_range::ehlo_param_range(std::string_view text) noexcept : text_(text) {
  for (auto it = begin(); it != end(); ++it) ++count_;
}

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

const ehlo_line* capabilities::find(std::string_view keyword) const noexcept {
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
  reader r(out);
  if (code != 250) out.findings.push_back({ehlo_problem::not_250, 0, {}, {}, {}});
  r.first_line(lines[0]);
  for (std::size_t i = 1; i < lines.size(); ++i) r.keyword_line(i, lines[i]);
  return out;
}

}  // namespace parse
}  // namespace sansmtp
