// Fuzz target: the EHLO-name check with arbitrary DNS facts
// (check_ehlo_name(name, facts)) and the receiver models
// (predict_receivers). Builds as a libFuzzer target and as a corpus replay
// (see fuzz/README.md). Any violated invariant prints the input and aborts.
//
// Input: lines. Line 0 is the name, line 1 the client address (any text;
// most is not an address), and each further line one DNS answer: its first
// octet says which (a = A, q = AAAA, m = MX, p = PTR, f = a PTR name looked
// up forward), its second the status (its value mod 8, in dns_status order),
// the rest the records, separated by spaces. For f, the first record is the
// PTR name and the others its A and AAAA records, both with that status.
//
// Invariants:
//  1. Never crashes; the verdict is the worst finding (info counts as pass);
//     a name that is not syntax-valid fails.
//  2. The facts only add: every finding of check_ehlo_name(name) alone is
//     there, in the same order, first.
//  3. No message, suggestion, skipped reason or predicted reply holds
//     anything unsafe to display (C0, DEL, C1, bidi and line separators,
//     broken UTF-8): the facts come from DNS answers anyone can publish.
//  4. A check is never both made and skipped: a skipped code has no finding
//     from the facts.
//  5. One prediction per receiver, in order; accept and score carry no
//     reply and no stage, and a score names the rules that fired; refuse
//     has a 5xx reply, defer a 4xx reply, both a stage; unknown says what is
//     missing, the others do not.
//  6. Predictions agree with the findings: RFC 5321 refuses exactly the
//     names that are not syntax-valid; a literal-mismatch is refused by Exim
//     verify = helo (but for its prefix comparison); Haraka's default
//     helo.checks never refuses; a name Postfix calls unknown (nxdomain,
//     no-a-or-mx) is refused by Postfix; a name not syntax-valid is refused
//     by Microsoft 365.
//  7. The same facts give the same report and predictions twice.
#include <sansmtp/advice/ehlo_dns.hpp>
#include <sansmtp/advice/receivers.hpp>

#include "fuzz_check.hpp"
#include "utf8.hpp"
#include "work_budget.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

using namespace sansmtp;

namespace {

bool safe_text(std::string_view s) {
  return detail::valid_utf8(s) && detail::first_unsafe_to_display(s) == std::string_view::npos;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  for (;;) {
    const auto at = s.find(sep);
    out.push_back(s.substr(0, at));
    if (at == std::string_view::npos) return out;
    s.remove_prefix(at + 1);
  }
}

dns_answer answer(char status, std::vector<std::string_view> records) {
  dns_answer a;
  a.status = static_cast<dns_status>(static_cast<unsigned char>(status) % 8);
  for (const auto r : records)
    if (!r.empty()) a.records.emplace_back(r);
  return a;
}

ehlo_facts facts_of(const std::vector<std::string_view>& lines) {
  ehlo_facts f;
  if (lines.size() > 1) f.client_ip = std::string(lines[1]);
  for (std::size_t i = 2; i < lines.size(); ++i) {
    const auto line = lines[i];
    if (line.size() < 2) continue;
    auto records = split(line.substr(2), ' ');
    switch (line[0]) {
      case 'a':
        f.a = answer(line[1], records);
        break;
      case 'q':
        f.aaaa = answer(line[1], records);
        break;
      case 'm':
        f.mx = answer(line[1], records);
        break;
      case 'p':
        f.ptr = answer(line[1], records);
        break;
      case 'f': {
        ptr_name_facts p;
        p.name = std::string(records.front());
        records.erase(records.begin());
        p.a = answer(line[1], records);
        p.aaaa = answer(line[1], records);
        f.ptr_names.push_back(std::move(p));
        break;
      }
      default:
        break;
    }
  }
  return f;
}

std::string describe(const ehlo_report& r, const std::vector<receiver_prediction>& p) {
  std::string out = std::string(verdict_name(r.result));
  for (const auto& f : r.findings) {
    out += " | ";
    out += ehlo_check_code_name(f.code);
    out += '/';
    out += severity_name(f.level);
    out += ": ";
    out += f.message;
  }
  for (const auto& s : r.skipped) {
    out += " | skipped ";
    out += ehlo_check_code_name(s.code);
  }
  for (const auto& x : p) {
    out += " | ";
    out += receiver_name(x.who);
    out += ' ';
    out += receiver_verdict_name(x.verdict);
    out += ' ';
    out += smtp_stage_name(x.stage);
    out += ' ';
    out += x.reply;
  }
  return fuzz::escape(out);
}

const receiver_prediction& of(const std::vector<receiver_prediction>& p, receiver r) {
  return p[static_cast<std::size_t>(r)];  // all_receivers is in enumerator order (checked below)
}

}  // namespace

// The work budget: at most this many ns of CPU time per input octet, past
// a shared fixed part (fuzz/work_budget.hpp; calibration in fuzz/README.md).
static constexpr sansmtp::fuzz::work_budget budget{"fuzz_ehlo_facts", 150000};

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const sansmtp::fuzz::input_scope scope(data, size, budget);
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto lines = split(input, '\n');
  const auto name = lines.front();
  const auto facts = facts_of(lines);
  const auto report = check_ehlo_name(name, facts);
  const auto predictions = predict_receivers(report, facts);
  const auto what = describe(report, predictions);

  // 1. The verdict.
  verdict worst = verdict::pass;
  for (const auto& f : report.findings) worst = std::max(worst, static_cast<verdict>(static_cast<int>(f.level)));
  FUZZ_CHECK(report.result == worst, what);
  FUZZ_CHECK(report.syntax_valid || report.result == verdict::fail, what);

  // 2. The facts only add.
  const auto plain = check_ehlo_name(name);
  FUZZ_CHECK(plain.findings.size() <= report.findings.size(), what);
  for (std::size_t i = 0; i < plain.findings.size(); ++i)
    FUZZ_CHECK(plain.findings[i].code == report.findings[i].code &&
                   plain.findings[i].message == report.findings[i].message,
               what);

  // 3. Safe to display.
  for (const auto& f : report.findings) {
    FUZZ_CHECK(!f.message.empty(), what);
    FUZZ_CHECK(safe_text(f.message), "unsafe message: " + fuzz::escape(f.message));
    FUZZ_CHECK(safe_text(f.suggestion), "unsafe suggestion: " + fuzz::escape(f.suggestion));
  }
  for (const auto& s : report.skipped) FUZZ_CHECK(safe_text(s.reason) && !s.reason.empty(), what);

  // 4. Made or skipped, not both.
  for (const auto& s : report.skipped)
    for (std::size_t i = plain.findings.size(); i < report.findings.size(); ++i)
      FUZZ_CHECK(report.findings[i].code != s.code, what);

  // 5. The shape of each prediction.
  FUZZ_CHECK(predictions.size() == std::size(all_receivers), what);
  for (std::size_t i = 0; i < predictions.size(); ++i) {
    const auto& p = predictions[i];
    FUZZ_CHECK(p.who == all_receivers[i] && static_cast<std::size_t>(p.who) == i, what);
    FUZZ_CHECK(safe_text(p.reply), "unsafe reply: " + fuzz::escape(p.reply));
    switch (p.verdict) {
      case receiver_verdict::accept:
      case receiver_verdict::score:
        FUZZ_CHECK(p.reply.empty() && p.stage == smtp_stage::none && p.missing.empty(), what);
        FUZZ_CHECK(p.verdict != receiver_verdict::score || !p.rules.empty(), what);
        break;
      case receiver_verdict::refuse:
      case receiver_verdict::defer:
        FUZZ_CHECK(p.stage != smtp_stage::none && p.missing.empty(), what);
        FUZZ_CHECK(p.reply.size() > 4 && p.reply[0] == (p.verdict == receiver_verdict::refuse ? '5' : '4'), what);
        break;
      case receiver_verdict::unknown:
        FUZZ_CHECK(!p.missing.empty() && p.reply.empty(), what);
        break;
    }
  }

  // 6. Predictions agree with the findings.
  FUZZ_CHECK((of(predictions, receiver::rfc5321).verdict == receiver_verdict::refuse) == !report.syntax_valid, what);
  if (!report.syntax_valid) FUZZ_CHECK(of(predictions, receiver::m365).verdict == receiver_verdict::refuse, what);
  // Exim compares a literal with the client address as text, for the
  // address's length only ([127.0.0.12] passes for 127.0.0.1).
  const std::string_view client = facts.client_ip;
  const auto exim_prefix = [&] {  // only for a literal: the name is "[..."
    const auto inside = name.substr(1);
    return inside.starts_with(client) || (client.starts_with("::ffff:") && inside.starts_with(client.substr(7)));
  };
  if (report.has(ehlo_check_code::literal_mismatch) && !exim_prefix())
    FUZZ_CHECK(of(predictions, receiver::exim_verify_helo).verdict == receiver_verdict::refuse, what);
  // Haraka's default helo.checks refuses nothing.
  FUZZ_CHECK(of(predictions, receiver::haraka_helo_checks).verdict == receiver_verdict::accept ||
                 of(predictions, receiver::haraka_helo_checks).verdict == receiver_verdict::unknown,
             what);
  if (report.has(ehlo_check_code::nxdomain) || report.has(ehlo_check_code::no_a_or_mx)) {
    const auto v = of(predictions, receiver::postfix).verdict;
    FUZZ_CHECK(v == receiver_verdict::refuse || v == receiver_verdict::defer, what);
  }

  // 7. Deterministic.
  const auto again = check_ehlo_name(name, facts);
  FUZZ_CHECK(describe(again, predict_receivers(again, facts)) == what, what);
  return 0;
}
