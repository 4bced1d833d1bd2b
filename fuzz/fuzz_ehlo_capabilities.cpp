// fuzz_ehlo_capabilities: EHLO replies -> capabilities
// (include/sansmtp/syntax/capabilities.hpp), fed by the reply reader.
//
// Input: byte 0 picks reader leniencies, the rest is the stream. For every
// accepted reply, invariants:
//  1. Never crash; a non-2xx reply has no keyword lines and no typed view.
//  2. Every extension in the typed view has a known keyword line; every line
//     has an ehlo-keyword (or is the AUTH= form); typed values imply presence.
//  3. Writing the parsed lines back (domain, greeting, keyword + params) and
//     parsing again gives the same capabilities.
//  4. A copy (the original gone) and a move keep every line's params: they
//     share one storage that copying re-points.
//  5. Every word of every line (keyword and parameters), read by each of
//     grammar/ehlo_params.rl's word grammars, gets the verdict, number,
//     LIMITS name and value offset of tests/ehlo_param_oracle.hpp, a plain
//     C++ reading of the same ABNF (its date-time: src/syntax/date_time.cpp); and
//     the parser's fast path for AUTH mechanisms agrees with the machine.
#include "fuzz_check.hpp"
#include "work_budget.hpp"

#include "../tests/ehlo_param_oracle.hpp"
#include "../tests/reply_helpers.hpp"
#include "ehlo_param_scan.hpp"

#include <sansmtp/syntax/capabilities.hpp>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

namespace {

using namespace sansmtp;

bool keyword_ok(std::string_view k) {
  if (k.empty()) return false;
  for (const char c : k)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-'))
      return false;
  return k[0] != '-';
}

// What a comparison of two parses may look at: findings about spacing and
// skipped lines go away when the lines are written back tidily.
std::string summary(const capabilities& c) {
  std::string s = std::to_string(c.code) + (c.ok ? " ok " : " fail ");
  s.append(c.domain).append("|").append(c.greeting).append("|").append(std::to_string(c.present));
  for (const auto& l : c.lines) {
    s.append(" {").append(l.keyword).append(l.legacy_auth ? "=" : "");
    for (const auto p : l.params) s.append(" ").append(p);
    s += "}";
  }
  s += " size=" + (c.size ? std::to_string(*c.size) : std::string("none"));
  for (const auto a : c.auth) s.append(" auth:").append(a);
  if (c.limits) {
    for (const auto* v : {&c.limits->rcptmax, &c.limits->mailmax, &c.limits->rcptdomainmax})
      s += " limit=" + (*v ? std::to_string(**v) : std::string("-"));
  }
  for (const auto& f : c.findings)
    if (f.problem != ehlo_problem::extra_space && f.problem != ehlo_problem::bad_keyword)
      s.append(" !")
          .append(ehlo_problem_name(f.problem))
          .append(":")
          .append(f.keyword)
          .append("=")
          .append(f.param);
  return fuzz::escape(s);
}

// 5.
void same_as_oracle(std::string_view word) {
  for (std::size_t i = 0; i < detail::ehlo_param_grammar_count; ++i) {
    const auto g = static_cast<detail::ehlo_param_grammar>(i);
    const auto m = detail::scan_ehlo_param(g, word);
    const auto o = test::oracle_scan(g, word);
    const auto where = " (grammar " + std::to_string(i) + ", word \"" + fuzz::escape(word) + "\")";
    FUZZ_CHECK(m.valid == o.valid, "machine and oracle differ" + where);
    FUZZ_CHECK(m.value == o.value && m.overflow == o.overflow, "numbers differ" + where);
    FUZZ_CHECK(m.limit == o.limit && m.value_at == o.value_at, "LIMITS names differ" + where);
    if (g == detail::ehlo_param_grammar::sasl_mech)
      FUZZ_CHECK(detail::sasl_mech_fast_path(word) == m.valid, "the AUTH fast path differs" + where);
  }
}

}  // namespace

// The work budget: at most this many ns of CPU time per input octet, past
// a shared fixed part (fuzz/work_budget.hpp; calibration in fuzz/README.md).
static constexpr sansmtp::fuzz::work_budget budget{"fuzz_ehlo_capabilities", 3000};

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const sansmtp::fuzz::input_scope scope(data, size, budget);
  if (size < 1) return 0;
  reply_reader_options o;
  o.allow_bare_lf = data[0] & 1;
  o.allow_utf8 = data[0] & 2;
  const std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  const auto read = test::read_chunks(in, {}, o);

  for (const auto& r : read.replies) {
    const std::vector<std::string_view> lines(r.lines.begin(), r.lines.end());
    const auto c = parse::ehlo_response(r.code, lines);
    {  // 4.
      std::vector<std::vector<std::string_view>> want;
      for (const auto& l : c.lines) want.emplace_back(l.params.begin(), l.params.end());
      auto original = std::make_unique<capabilities>(c);
      capabilities copy(*original);
      original.reset();
      const capabilities moved(std::move(copy));
      FUZZ_CHECK(moved.lines.size() == want.size(), "copy lost lines");
      for (std::size_t i = 0; i < want.size(); ++i)
        FUZZ_CHECK(std::equal(want[i].begin(), want[i].end(), moved.lines[i].params.begin(), moved.lines[i].params.end()),
                   "copied params differ on line " + std::to_string(i));
    }
    // 5. Words as the lines split them at SP, the empty ones included.
    for (std::size_t i = 1; i < lines.size(); ++i) {
      std::string_view rest = lines[i];
      for (;;) {
        const auto sp = rest.find(' ');
        same_as_oracle(rest.substr(0, sp));
        if (sp == std::string_view::npos) break;
        rest.remove_prefix(sp + 1);
      }
    }
    // 1.
    FUZZ_CHECK(c.ok == (r.code / 100 == 2), "ok for " + std::to_string(r.code));
    if (!c.ok) {
      FUZZ_CHECK(c.lines.empty() && c.present == 0 && c.findings.empty(), "a failure reply parsed");
      continue;
    }
    // 2.
    for (const extension e : c.extensions()) {
      bool found = false;
      for (const auto& l : c.lines) found = found || l.known == e;
      FUZZ_CHECK(found, "typed view without its line: " + std::string(extension_keyword(e)));
    }
    for (const auto& l : c.lines) {
      FUZZ_CHECK(keyword_ok(l.keyword), "a line kept with a bad keyword: " + fuzz::escape(l.keyword));
      FUZZ_CHECK(l.known == extension_of(l.keyword), "known disagrees with the keyword");
      FUZZ_CHECK(!l.known || c.has(*l.known), "a known line missing from the typed view");
    }
    FUZZ_CHECK(!c.size || c.has(extension::size), "size without SIZE");
    FUZZ_CHECK(c.auth.empty() || c.has(extension::auth), "mechanisms without AUTH");
    FUZZ_CHECK(!c.limits || c.has(extension::limits), "limits without LIMITS");

    // 3. Write back and parse again.
    std::vector<std::string> texts;
    std::string first(c.domain);
    if (!c.greeting.empty() || (lines[0].size() > c.domain.size())) first.append(" ").append(c.greeting);
    texts.push_back(first);
    for (const auto& l : c.lines) {
      std::string t(l.keyword);
      if (l.legacy_auth) t += '=';
      std::size_t i = 0;
      for (const auto p : l.params) {
        if (i++ || !l.legacy_auth) t += ' ';
        t.append(p);
      }
      FUZZ_CHECK(i == l.params.size(), "params.size() differs from the words iterated");
      texts.push_back(t);
    }
    const std::vector<std::string_view> paragraphs(texts.begin(), texts.end());
    reply_writer_options wo;
    wo.max_line_length = 1 << 20;
    wo.max_lines = 1 << 20;
    wo.allow_utf8 = o.allow_utf8;
    std::string wire;
    const auto ec = write_reply(wire, r.code, std::nullopt, paragraphs, wo);
    FUZZ_CHECK(!ec, "writing the lines back: " + ec.message());
    reply_reader_options ro = o;
    ro.max_line_length = wo.max_line_length;
    ro.max_lines = wo.max_lines;
    const auto again = test::read_chunks(wire, {}, ro);
    FUZZ_CHECK(!again.error && again.replies.size() == 1, "rereading \"" + fuzz::escape(wire) + "\"");
    const std::vector<std::string_view> lines2(again.replies[0].lines.begin(), again.replies[0].lines.end());
    const auto c2 = parse::ehlo_response(again.replies[0].code, lines2);
    FUZZ_CHECK(summary(c) == summary(c2), "reparse differs:\n  " + summary(c) + "\n  " + summary(c2));
  }
  return 0;
}
