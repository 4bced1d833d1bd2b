// Fuzz target: the command parser and serializer (parse::command_line,
// serialize, parse::mailbox, parse::mail_parameters, parse::rcpt_parameters).
// Builds as a libFuzzer target and as a corpus replay (see fuzz/README.md).
//
// Input: byte 0 selects options (bit 0 smtputf8, 1 unknown parameters,
// 2 space after colon, 3 missing brackets, 4 reject trailing whitespace, 5 bare LF,
// 6 HELO literal, 7 a 64-octet line limit instead of 512); the rest is the line.
//
// Invariants:
//  1. command_line returns a command, or an error with code != ok, offset <=
//     line size, reply 500/501/504/552/553/555 and a non-empty enhanced code.
//  2. The same bytes followed by unrelated ones (a view that ends early) give
//     the same answer: the parser never reads past its input.
//  3. Accepted => serialize() succeeds (the only exception: a lenient bracket-
//     less path grows by two octets and may then break the line or path
//     limit), writes exactly one line ending in CRLF with no other CR or LF,
//     and that line parses back to an equal command.
//  4. An accepted path obeys the limits: local part <= 64, domain <= 255.
//  5. The parameter and mailbox entry points never crash and report offsets
//     inside their input; accepted parameter texts iterate back to themselves.
//  6. The path fast path (src/syntax/parse_path.cpp match_simple_path) and the Ragel
//     machine give the same answer for the line read as a path, MAIL and RCPT.
//  7. make_command() owns exactly what serialize() writes (or refuses the
//     same way, naming the same field); the builders given the accepted
//     command's own fields rebuild the same line.
//  8. parse::auth_response on the same bytes: an answer within its input;
//     an accepted response is "*", empty, or base64 that is part of the line.
#include <sansmtp/syntax/command.hpp>
#include <sansmtp/syntax/command_builder.hpp>

#include "command_internal.hpp"
#include "fuzz_check.hpp"
#include "work_budget.hpp"

#include <string>

using namespace sansmtp;

namespace {

command_options options_from(std::uint8_t bits) {
  command_options o;
  o.smtputf8 = bits & 1;
  o.allow_unknown_parameters = bits & 2;
  o.allow_space_after_colon = bits & 4;
  o.allow_missing_angle_brackets = bits & 8;
  o.reject_trailing_whitespace = bits & 16;
  o.allow_bare_lf = bits & 32;
  o.allow_helo_address_literal = bits & 64;
  if (bits & 128) o.max_line_length = 64;
  return o;
}

std::string error_text(const command_error& e) {
  return std::string(errc_name(e.code)) + "@" + std::to_string(e.offset) + " " + std::to_string(e.reply);
}

template <class R>
void check_error(const R& r, std::size_t size, const char* what) {
  if (r) return;
  const auto& e = r.error();
  FUZZ_CHECK(e.code != errc::ok, std::string(what) + ": error without a code");
  FUZZ_CHECK(e.offset <= size, std::string(what) + ": offset past the input " + error_text(e));
  const int code = e.reply;
  FUZZ_CHECK(code == 500 || code == 501 || code == 504 || code == 552 || code == 553 || code == 555,
             std::string(what) + ": reply " + error_text(e));
  FUZZ_CHECK(e.enhanced && e.enhanced->status_class == 5, std::string(what) + ": no 5.x.x enhanced code");
}

void check_path(const path& p) {
  FUZZ_CHECK(p.local_part.size() <= 64, "local part over 64: " + fuzz::escape(p.local_part));
  FUZZ_CHECK(p.domain.size() <= 255, "domain over 255");
}

template <class Params>
void check_params_iterate(const Params& params) {
  std::string rebuilt;
  for (const auto& p : params.params()) {
    if (!rebuilt.empty()) rebuilt += ' ';
    rebuilt.append(p.keyword);
    if (p.has_value) {
      rebuilt += '=';
      rebuilt.append(p.value);
    }
  }
  FUZZ_CHECK(rebuilt == params.text, "parameters iterate to " + fuzz::escape(rebuilt));
}

}  // namespace

// The work budget: at most this many ns of CPU time per input octet, past
// a shared fixed part (fuzz/work_budget.hpp; calibration in fuzz/README.md).
static constexpr sansmtp::fuzz::work_budget budget{"fuzz_command_line", 1500};

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const sansmtp::fuzz::input_scope scope(data, size, budget);
  if (size == 0) return 0;
  const auto options = options_from(data[0]);
  const std::string line(reinterpret_cast<const char*>(data + 1), size - 1);

  const auto r = parse::command_line(line, options);
  check_error(r, line.size(), "command_line");

  // 2. A view that ends before unrelated bytes.
  const std::string padded = line + ">@:\r\n SIZE=1";
  const auto v = parse::command_line(std::string_view(padded).substr(0, line.size()), options);
  FUZZ_CHECK(v.has_value() == r.has_value(), "placement changed acceptance");
  if (r) {
    FUZZ_CHECK(*v == *r, "placement changed the command");
  } else {
    FUZZ_CHECK(v.error() == r.error(), "placement changed the error: " + error_text(v.error()));
  }

  if (r) {
    if (const auto* m = std::get_if<cmd::mail>(&*r)) {
      check_path(m->reverse_path);
      check_params_iterate(m->params);
    }
    if (const auto* c = std::get_if<cmd::rcpt>(&*r)) {
      check_path(c->forward_path);
      check_params_iterate(c->params);
    }
    // 3. Serialize and parse back.
    std::string out = "#";
    const auto ec = serialize(*r, out, options);
    if (ec) {
      FUZZ_CHECK(options.allow_missing_angle_brackets && (ec == errc::line_too_long || ec == errc::path_too_long),
                 "accepted but not serializable: " + ec.error_code().message() + " in " + std::string(ec.field));
      FUZZ_CHECK(out == "#", "a refused serialization wrote something");
    } else {
      const auto written = std::string_view(out).substr(1);
      FUZZ_CHECK(written.size() >= 2 && written.substr(written.size() - 2) == "\r\n", "no CRLF at the end");
      const auto body = written.substr(0, written.size() - 2);
      FUZZ_CHECK(body.find_first_of("\r\n") == std::string_view::npos,
                 "CR or LF inside: " + fuzz::escape(written));
      const auto back = parse::command_line(written, options);
      FUZZ_CHECK(back.has_value(), "serialized line refused: " + fuzz::escape(written));
      FUZZ_CHECK(*back == *r, "serialized line parses differently: " + fuzz::escape(written));
    }
    // 7. The owning builder agrees with the serializer.
    const auto owned = make_command(*r, options);
    FUZZ_CHECK(owned.has_value() == !ec, "make_command and serialize disagree");
    if (owned) {
      FUZZ_CHECK(owned->line() == std::string_view(out).substr(1), "make_command wrote another line");
      FUZZ_CHECK(owned->command() == *r, "make_command holds another command");
      std::optional<build_result> rebuilt;
      if (const auto* e = std::get_if<cmd::ehlo>(&*r)) rebuilt = make_ehlo(e->host.text, options);
      if (const auto* vr = std::get_if<cmd::vrfy>(&*r)) rebuilt = make_vrfy(vr->argument, options);
      if (const auto* a = std::get_if<cmd::auth>(&*r)) rebuilt = make_auth(a->mechanism, a->initial_response);
      if (rebuilt) {
        FUZZ_CHECK(rebuilt->has_value(), "a builder refused the fields of an accepted command: " +
                                             std::string(rebuilt->error().field));
        if (*rebuilt) FUZZ_CHECK((*rebuilt)->line() == owned->line(), "a builder wrote another line");
      }
    } else {
      FUZZ_CHECK(owned.error() == ec, "make_command and serialize refuse differently");
    }
  }

  // 8. AUTH response lines.
  auth_response_options auth_options;
  auth_options.allow_bare_lf = options.allow_bare_lf;
  auth_options.reject_trailing_whitespace = options.reject_trailing_whitespace;
  const auto ar = parse::auth_response(line, auth_options);
  if (ar) {
    FUZZ_CHECK(!ar->cancelled || ar->base64.empty(), "a cancelled response carries data");
    FUZZ_CHECK(ar->base64.empty() || (ar->base64.data() >= line.data() &&
                                      ar->base64.data() + ar->base64.size() <= line.data() + line.size()),
               "the response does not point into the line");
  } else {
    FUZZ_CHECK(ar.error().code != errc::ok && ar.error().offset <= line.size(), "auth_response error out of range");
  }

  // 6. Fast path and machine agree.
  for (const auto kind : {detail::command_kind::mail, detail::command_kind::rcpt}) {
    detail::path_match fast, slow;
    const auto ef = detail::match_path(line, kind, options, fast, true);
    const auto es = detail::match_path(line, kind, options, slow, false);
    FUZZ_CHECK(ef == es, "fast path error " + error_text(ef) + " vs machine " + error_text(es));
    if (ef.code == errc::ok)
      FUZZ_CHECK(
          fast.value == slow.value && fast.end == slow.end && fast.first_non_ascii == slow.first_non_ascii,
          "fast path value differs from the machine's");
  }

  // 5. The other entry points on the same bytes.
  const auto mb = parse::mailbox(line, options);
  check_error(mb, line.size(), "mailbox");
  if (mb) check_path(*mb);
  const auto mp = parse::mail_parameters(line, options);
  check_error(mp, line.size(), "mail_parameters");
  if (mp) check_params_iterate(*mp);
  const auto rp = parse::rcpt_parameters(line, options);
  check_error(rp, line.size(), "rcpt_parameters");
  if (rp) check_params_iterate(*rp);
  return 0;
}
