// The reply reader (RFC 5321 §4.2), enhanced status codes (RFC 3463, RFC
// 2034) and the reply writer. Every reader input runs whole, byte by byte and
// split at every point, and all must agree.
#include "reply_helpers.hpp"
#include "reply_scan.hpp"

#include <sansmtp/codec/reply_reader.hpp>
#include <sansmtp/syntax/reply.hpp>

#include <catch2/catch.hpp>

#include <optional>
#include <string>
#include <utility>
#include <vector>

using namespace sansmtp;
using namespace sansmtp::test;
using namespace std::string_literals;
using namespace std::string_view_literals;

namespace {

read_result read_every_way(std::string_view input, const reply_reader_options& options = {}) {
  const auto whole = read_chunks(input, {}, options);
  INFO("input \"" << std::string(input) << "\"");
  CHECK(read_chunks(input, every_byte(input.size()), options) == whole);
  for (std::size_t cut = 1; cut < input.size(); ++cut) {
    const auto split = read_chunks(input, {cut}, options);
    if (!(split == whole)) {
      INFO("split at " << cut);
      CHECK(split == whole);
      break;
    }
  }
  return whole;
}

std::string error_name(const read_result& r) {
  return r.error ? std::string(errc_name(r.error->code)) : "none";
}

std::optional<enhanced_status> esc(int c, int s, int d) {
  return enhanced_status{static_cast<std::uint8_t>(c), static_cast<std::uint16_t>(s),
                         static_cast<std::uint16_t>(d)};
}

// A reply line of exactly `octets` octets with its CRLF.
std::string line_of(std::size_t octets, std::string_view prefix = "250 ", std::string_view end = "\r\n") {
  return std::string(prefix) + std::string(octets - prefix.size() - end.size(), 'x') + std::string(end);
}

}  // namespace

TEST_CASE("a one-line reply: code, text, offsets") {
  const auto r = read_every_way("250 OK\r\n");
  REQUIRE(r.replies.size() == 1);
  CHECK(r.replies[0].code == 250);
  CHECK(r.replies[0].lines == std::vector<std::string>{"OK"});
  CHECK_FALSE(r.replies[0].enhanced);
  CHECK(r.replies[0].offset == 0);
  CHECK(r.replies[0].size == 8);
  CHECK_FALSE(r.error);
}

TEST_CASE("a multiline reply keeps every line's text in order") {
  const auto r =
      read_every_way("250-mx.example.org Hello\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250 8BITMIME\r\n");
  REQUIRE(r.replies.size() == 1);
  CHECK(r.replies[0].code == 250);
  CHECK(r.replies[0].lines ==
        std::vector<std::string>{"mx.example.org Hello", "PIPELINING", "SIZE 10240000", "8BITMIME"});
  CHECK_FALSE(r.error);
}

TEST_CASE("a bare code line is a reply, and it ends a multiline reply") {
  auto r = read_every_way("220\r\n250-a\r\n250\r\n250-\r\n250 x\r\n");
  REQUIRE(r.replies.size() == 3);
  CHECK(r.replies[0].code == 220);
  CHECK(r.replies[0].lines == std::vector<std::string>{""});
  CHECK(r.replies[1].lines == std::vector<std::string>{"a", ""});
  CHECK(r.replies[2].lines == std::vector<std::string>{"", "x"});
  CHECK(r.replies[2].offset == 17);
  CHECK_FALSE(r.error);
  // "NNN SP" with no text reads as empty text (deliberate, see reply.hpp).
  r = read_every_way("250 \r\n");
  REQUIRE(r.replies.size() == 1);
  CHECK(r.replies[0].lines == std::vector<std::string>{""});
}

TEST_CASE("pipelined replies come out one by one with their stream offsets") {
  const std::string wire = "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n";
  const auto r = read_every_way(wire);
  REQUIRE(r.replies.size() == 3);
  CHECK(r.replies[0].enhanced == esc(2, 1, 0));
  CHECK(r.replies[1].enhanced == esc(2, 1, 5));
  CHECK(r.replies[1].offset == 14);
  CHECK(r.replies[2].code == 354);
  CHECK_FALSE(r.replies[2].enhanced);
  CHECK(r.replies[2].offset + r.replies[2].size == wire.size());
  CHECK_FALSE(r.error);
}

TEST_CASE("HT is text, as textstring allows") {
  const auto r = read_every_way("250 a\tb\r\n");
  REQUIRE(r.replies.size() == 1);
  CHECK(r.replies[0].lines == std::vector<std::string>{"a\tb"});
}

TEST_CASE("enhanced status codes: well-formed, of the reply's class, then SP or the end") {
  struct vector {
    std::string text;
    int code;
    std::optional<enhanced_status> expected;
  };
  const vector vectors[] = {
      {"2.1.5 Ok", 250, esc(2, 1, 5)},         {"5.1.1", 550, esc(5, 1, 1)},
      {"4.7.1 Greylisted", 450, esc(4, 7, 1)}, {"2.999.999 x", 250, esc(2, 999, 999)},
      {"2.0.0 x", 250, esc(2, 0, 0)},          {"5.7.54 SMTP; Unable to relay", 550, esc(5, 7, 54)},
      {"2address.org", 250, std::nullopt},     {"6.8.9 x", 432, std::nullopt},
      {"4.2 xxx", 250, std::nullopt},          {"4.2.1 x", 250, std::nullopt},  // class differs from the code
      {"3.0.0 go ahead", 354, std::nullopt},   {"2.00.0 x", 250, std::nullopt},  // leading zero
      {"2.0.01 x", 250, std::nullopt},         {"2.1000.0 x", 250, std::nullopt},
      {"2.0.1000 x", 250, std::nullopt},       {"2.1.5x", 250, std::nullopt},
      {"2.1.5\tx", 250, std::nullopt},         {"2..5 x", 250, std::nullopt},
      {"2.1. x", 250, std::nullopt},           {"", 250, std::nullopt},
  };
  for (const auto& v : vectors) {
    INFO(v.code << " " << v.text);
    const auto got = parse::enhanced_status_at(v.text, v.code);
    CHECK(got.has_value() == v.expected.has_value());
    if (got && v.expected) CHECK(got->status == *v.expected);
    std::string wire = std::to_string(v.code);
    if (!v.text.empty()) wire.append(" ").append(v.text);
    wire += "\r\n";
    const auto r = read_every_way(wire);
    REQUIRE(r.replies.size() == 1);
    CHECK(r.replies[0].enhanced == v.expected);
    CHECK(r.replies[0].lines[0] == v.text);  // kept verbatim either way
  }
}

TEST_CASE("strip_enhanced_status removes one ESC and its space") {
  CHECK(strip_enhanced_status("2.1.5 Ok", 250) == "Ok");
  CHECK(strip_enhanced_status("5.1.1", 550) == "");
  CHECK(strip_enhanced_status("2address.org", 250) == "2address.org");
  CHECK(strip_enhanced_status("5.1.1 x", 250) == "5.1.1 x");
  CHECK(to_string(*esc(5, 7, 1)) == "5.7.1");
}

TEST_CASE("the ESC comes from the first line, and each line keeps its own as sent (RFC 2034 section 4)") {
  const auto r = read_every_way(
      "550-5.1.1 The email account that you tried to reach does not exist.\r\n"
      "550 5.1.1 https://support.google.com/mail/?p=NoSuchUser\r\n");
  REQUIRE(r.replies.size() == 1);
  CHECK(r.replies[0].enhanced == esc(5, 1, 1));
  CHECK(r.replies[0].lines[1] == "5.1.1 https://support.google.com/mail/?p=NoSuchUser");
}

TEST_CASE("grammar errors: the rule and the exact stream offset") {
  struct vector {
    std::string input;
    errc code;
    std::uint64_t offset;
    std::size_t replies_before = 0;
  };
  const vector vectors[] = {
      {"25\r\n", errc::bad_reply_code, 2},
      {"\r\n", errc::bad_reply_code, 0},
      {"150 x\r\n", errc::bad_reply_code, 0},
      {"600 x\r\n", errc::bad_reply_code, 0},
      {"260 x\r\n", errc::bad_reply_code, 1},
      {"25a x\r\n", errc::bad_reply_code, 2},
      {"250x\r\n", errc::bad_reply_separator, 3},
      {"250\tx\r\n", errc::bad_reply_separator, 3},
      {"250-a\r\n251 b\r\n", errc::reply_code_mismatch, 9},
      {"250-a\r\n350 b\r\n", errc::reply_code_mismatch, 7},
      {"250-a\r\n25", errc::incomplete, 9},
      {"250 a\rb\r\n", errc::bare_cr, 5},
      {"250 a\r\r\n", errc::bare_cr, 5},
      {"250 a\n", errc::bare_lf, 5},
      {"250\n", errc::bare_lf, 3},
      {"250 a\x01z\r\n", errc::control_character, 5},
      {"250 a\x7fz\r\n", errc::control_character, 5},
      {"250 a\0z\r\n"s, errc::control_character, 5},
      {"250 caf\xc3\xa9\r\n", errc::non_ascii, 7},
      {"250 OK\r\n25", errc::incomplete, 10, 1},
      {"250-a\r\n", errc::incomplete, 7},
      {"250 ok\r", errc::incomplete, 7},
      {"xyz", errc::bad_reply_code, 0},  // the unfinished line already broke a rule
      {"250 ok\r\n250 \x01", errc::control_character, 12, 1},
      {"220 ready\r\n250-a\r\n550 b\r\n", errc::reply_code_mismatch, 18, 1},
  };
  for (const auto& v : vectors) {
    INFO("input \"" << v.input << "\"");
    const auto r = read_every_way(v.input);
    CHECK(error_name(r) == errc_name(v.code));
    REQUIRE(r.error);
    CHECK(r.error->offset == v.offset);
    CHECK(r.replies.size() == v.replies_before);
  }
}

TEST_CASE("an empty stream ends cleanly, and finish() after a reply is clean") {
  CHECK_FALSE(read_every_way("").error);
  CHECK_FALSE(read_every_way("221 2.0.0 Bye\r\n").error);
}

TEST_CASE("errors are sticky: nothing more is read") {
  reply_reader reader;
  auto step = reader.next("250 a\x01\r\n250 ok\r\n");
  CHECK(step.status == reply_status::error);
  step = reader.next("250 ok\r\n");
  CHECK(step.status == reply_status::error);
  CHECK(step.consumed == 0);
  REQUIRE(reader.finish());
  CHECK(reader.finish()->code == errc::control_character);
  CHECK(reader.finish()->offset == 5);
}

TEST_CASE("reply line limit: 512 octets with CRLF accepted, 513 refused (RFC 5321 4.5.3.1.5)") {
  auto r = read_every_way(line_of(512));
  CHECK_FALSE(r.error);
  REQUIRE(r.replies.size() == 1);
  CHECK(r.replies[0].lines[0].size() == 512 - 6);
  r = read_every_way(line_of(513));
  CHECK(error_name(r) == "reply_line_too_long");
  CHECK(r.error->offset == 512);
  // A line still unfinished at 512 octets cannot end within the limit.
  r = read_every_way(std::string(512, '2').replace(0, 4, "250 "));
  CHECK(error_name(r) == "reply_line_too_long");
  r = read_every_way(std::string(511, 'x').replace(0, 4, "250 "));
  CHECK(error_name(r) == "incomplete");
  CHECK(r.error->offset == 511);
  // The second line of a reply has its own count.
  r = read_every_way(std::string("250-a\r\n").append(line_of(512, "250-")).append(line_of(513, "250-")));
  CHECK(error_name(r) == "reply_line_too_long");
  CHECK(r.error->offset == 7 + 512 + 512);
}

TEST_CASE("reply line limit is configurable: N accepted, N+1 refused, earlier faults first") {
  reply_reader_options o;
  o.max_line_length = 20;
  CHECK_FALSE(read_every_way(line_of(20), o).error);
  auto r = read_every_way(line_of(21), o);
  CHECK(error_name(r) == "reply_line_too_long");
  CHECK(r.error->offset == 20);
  // A fault inside the first N octets is reported, not the length.
  r = read_every_way("250 xxxx\x01xxxxxxxxxxxxxxxxxxxxxx\r\n", o);
  CHECK(error_name(r) == "control_character");
  CHECK(r.error->offset == 8);
  // A bare LF counts as the line end under the leniency: N octets with it.
  o.allow_bare_lf = true;
  CHECK_FALSE(read_every_way(line_of(20, "250 ", "\n"), o).error);
  r = read_every_way(line_of(21, "250 ", "\n"), o);
  CHECK(error_name(r) == "reply_line_too_long");
}

TEST_CASE("lines per reply: 128 by default, N accepted and N+1 refused") {
  std::string wire;
  for (int i = 0; i < 127; ++i) wire += "250-line\r\n";
  const auto ok = read_chunks(wire + "250 end\r\n", {});
  CHECK_FALSE(ok.error);
  REQUIRE(ok.replies.size() == 1);
  CHECK(ok.replies[0].lines.size() == 128);
  const auto too_many = read_chunks(wire + "250-one more\r\n250 end\r\n", {});
  CHECK(error_name(too_many) == "too_many_reply_lines");
  CHECK(too_many.error->offset == wire.size() + 14);  // where line 129 starts

  reply_reader_options o;
  o.max_lines = 3;
  CHECK_FALSE(read_every_way("250-a\r\n250-b\r\n250 c\r\n", o).error);
  const auto r = read_every_way("250-a\r\n250-b\r\n250-c\r\n250 d\r\n", o);
  CHECK(error_name(r) == "too_many_reply_lines");
  CHECK(r.error->offset == 21);
}

TEST_CASE("leniency allow_bare_lf: LF alone ends a line") {
  reply_reader_options o;
  o.allow_bare_lf = true;
  const auto r = read_every_way("250-a\n250-b\r\n250 c\n", o);
  CHECK_FALSE(r.error);
  REQUIRE(r.replies.size() == 1);
  CHECK(r.replies[0].lines == std::vector<std::string>{"a", "b", "c"});
  // A CR that is not right before the line end is still bare.
  CHECK(error_name(read_every_way("250 a\r\r\n", o)) == "bare_cr");
}

TEST_CASE("leniency allow_utf8: UTF-8 text passes, and only valid UTF-8") {
  reply_reader_options o;
  o.allow_utf8 = true;
  const auto r = read_every_way("250 caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\xa7\r\n", o);
  CHECK_FALSE(r.error);
  REQUIRE(r.replies.size() == 1);
  CHECK(r.replies[0].lines[0] == "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\xa7");
  struct vector {
    std::string input;
    std::uint64_t offset;
  };
  const vector bad[] = {
      {"250 \xc3\x28\r\n", 5},          // a lead octet without its continuation
      {"250 \xc0\xaf\r\n", 4},          // overlong lead
      {"250 \xe0\x80\x80\r\n", 5},      // overlong three-octet form
      {"250 \xed\xa0\x80\r\n", 5},      // a surrogate
      {"250 \xf4\x90\x80\x80\r\n", 5},  // above U+10FFFF
      {"250 \xff\r\n", 4},
      {"250 a\xe2\x82\r\n", 7},  // cut short by the line end
      {"250 \x80\r\n", 4},
  };
  for (const auto& v : bad) {
    INFO("input \"" << v.input << "\"");
    const auto e = read_every_way(v.input, o);
    CHECK(error_name(e) == "bad_utf8");
    if (e.error) CHECK(e.error->offset == v.offset);
  }
  // A sequence cut by the end of the stream is incomplete, not bad.
  CHECK(error_name(read_every_way("250 a\xe2\x82", o)) == "incomplete");
}

namespace {

// The UTF-8 of code points that are controls though well-formed: C1
// (U+0080, U+0085 NEL, U+009B CSI, U+009F) and the bidirectional formatting
// characters (U+061C, U+200E, U+200F, U+202A-U+202E, U+2066-U+2069), and
// the line and paragraph separators U+2028, U+2029.
const std::string utf8_controls[] = {
    "\xc2\x80",     "\xc2\x85",     "\xc2\x9b",     "\xc2\x9f",     "\xd8\x9c",     "\xe2\x80\x8e",
    "\xe2\x80\x8f", "\xe2\x80\xaa", "\xe2\x80\xab", "\xe2\x80\xac", "\xe2\x80\xad", "\xe2\x80\xae",
    "\xe2\x81\xa6", "\xe2\x81\xa7", "\xe2\x81\xa8", "\xe2\x81\xa9", "\xe2\x80\xa8", "\xe2\x80\xa9",
};
// Their neighbours, which are text: U+00A0, U+061B, U+200D, U+2027, U+206A.
const std::string utf8_text[] = {"\xc2\xa0", "\xd8\x9b", "\xe2\x80\x8d", "\xe2\x80\xa7", "\xe2\x81\xaa"};

}  // namespace

TEST_CASE("leniency allow_utf8: C1 and bidirectional controls are control_character at their first octet") {
  reply_reader_options o;
  o.allow_utf8 = true;
  for (const auto& c : utf8_controls) {
    // In the first line, after other UTF-8, and in a later line of a multiline reply.
    const std::string inputs[] = {"250 a" + c + "31m\r\n", "250 caf\xc3\xa9 " + c + "\r\n",
                                  "250-ok\r\n250 x" + c + "\r\n"};
    const std::uint64_t offsets[] = {5, 10, 13};
    for (std::size_t i = 0; i < 3; ++i) {
      const auto e = read_every_way(inputs[i], o);
      CHECK(error_name(e) == "control_character");
      if (e.error) CHECK(e.error->offset == offsets[i]);
    }
    // Before the line is complete the reader already knows (finish() names it).
    CHECK(error_name(read_every_way("250 a" + c, o)) == "control_character");
  }
  for (const auto& t : utf8_text) {
    const auto r = read_every_way("250 a" + t + "b\r\n", o);
    CHECK_FALSE(r.error);
    REQUIRE(r.replies.size() == 1);
    CHECK(r.replies[0].lines[0] == "a" + t + "b");
  }
  // The earlier fault wins: a control before broken UTF-8, broken UTF-8 before a control.
  CHECK(error_name(read_every_way("250 \xc2\x9b\xff\r\n", o)) == "control_character");
  CHECK(error_name(read_every_way("250 \xff\xc2\x9b\r\n", o)) == "bad_utf8");
  // Without the leniency they are non_ascii, like any octet >= 0x80.
  CHECK(error_name(read_every_way("250 a\xc2\x9b\r\n")) == "non_ascii");
}

TEST_CASE("leniency allow_mismatched_codes: the last line's code wins") {
  reply_reader_options o;
  o.allow_mismatched_codes = true;
  const auto r = read_every_way("250-a\r\n251-b\r\n550 c\r\n", o);
  CHECK_FALSE(r.error);
  REQUIRE(r.replies.size() == 1);
  CHECK(r.replies[0].code == 550);
  CHECK(r.replies[0].lines.size() == 3);
}

TEST_CASE("reset() forgets the error and the partial reply") {
  reply_reader reader;
  CHECK(reader.next("250-a\r\n").status == reply_status::need_data);
  CHECK(reader.in_reply());
  reader.reset();
  CHECK_FALSE(reader.in_reply());
  const auto step = reader.next("220 hi\r\n");
  CHECK(step.status == reply_status::reply);
  CHECK(reader.current().lines.size() == 1);
  CHECK(reader.current().offset == 0);
}

// --- writer ---------------------------------------------------------------

namespace {

std::string write(int code, std::optional<enhanced_status> e, std::vector<std::string_view> lines,
                  const reply_writer_options& o = {}) {
  std::string out = "kept|";
  const auto ec = write_reply(out, code, e, lines, o);
  if (ec) {
    if (out != "kept|") return std::string("wrote despite ").append(ec.message());
    return std::string(errc_name(static_cast<errc>(ec.value())));
  }
  return out.substr(5);
}

}  // namespace

TEST_CASE("write_reply: wire forms") {
  CHECK(write(250, std::nullopt, {"OK"}) == "250 OK\r\n");
  CHECK(write(250, esc(2, 1, 5), {"Ok"}) == "250 2.1.5 Ok\r\n");
  CHECK(write(250, std::nullopt, {"mx.example.org", "PIPELINING", "SIZE 100"}) ==
        "250-mx.example.org\r\n250-PIPELINING\r\n250 SIZE 100\r\n");
  CHECK(write(550, esc(5, 1, 1), {"No such user", "see https://example.org/x"}) ==
        "550-5.1.1 No such user\r\n550 5.1.1 see https://example.org/x\r\n");
  CHECK(write(250, std::nullopt, {}) == "250\r\n");
  CHECK(write(250, esc(2, 0, 0), {}) == "250 2.0.0\r\n");
  CHECK(write(250, std::nullopt, {"", "x", ""}) == "250-\r\n250-x\r\n250\r\n");
  CHECK(write(250, std::nullopt, {"a\tb"}) == "250 a\tb\r\n");
}

TEST_CASE("write_reply refuses bad codes, ESCs and text, writing nothing") {
  CHECK(write(199, std::nullopt, {"x"}) == "bad_reply_code");
  CHECK(write(600, std::nullopt, {"x"}) == "bad_reply_code");
  CHECK(write(260, std::nullopt, {"x"}) == "bad_reply_code");
  CHECK(write(250, esc(5, 0, 0), {"x"}) == "bad_enhanced_status");
  CHECK(write(354, esc(3, 0, 0), {"x"}) == "bad_enhanced_status");
  CHECK(write(250, esc(2, 1000, 0), {"x"}) == "bad_enhanced_status");
  CHECK(write(250, std::nullopt, {"ok\r\n250 injected"}) == "control_character");
  CHECK(write(250, std::nullopt, {"a", "b\nc"}) == "control_character");
  CHECK(write(250, std::nullopt, {"a\0b"sv}) == "control_character");
  CHECK(write(250, std::nullopt, {"a\x1b[31m"}) == "control_character");
  CHECK(write(250, std::nullopt, {"caf\xc3\xa9"}) == "non_ascii");
  reply_writer_options utf8;
  utf8.allow_utf8 = true;
  CHECK(write(250, std::nullopt, {"caf\xc3\xa9"}, utf8) == "250 caf\xc3\xa9\r\n");
  CHECK(write(250, std::nullopt, {"caf\xc3"}, utf8) == "bad_utf8");
}

TEST_CASE("write_reply under allow_utf8 refuses C1 and bidirectional controls, as the reader does") {
  reply_writer_options w;
  w.allow_utf8 = true;
  reply_reader_options r;
  r.allow_utf8 = true;
  for (const auto& c : utf8_controls) {
    CHECK(write(550, esc(5, 7, 1), {"ok", "a" + c + "b"}, w) == "control_character");
    CHECK(error_name(read_chunks("550 a" + c + "b\r\n", {}, r)) == "control_character");
  }
  for (const auto& t : utf8_text) {
    const auto wire = write(250, std::nullopt, {"a" + t}, w);
    CHECK(wire == "250 a" + t + "\r\n");
    CHECK_FALSE(read_chunks(wire, {}, r).error);
  }
}

TEST_CASE("write_reply line limit: a line of N octets fits, N+1 is wrapped or refused") {
  reply_writer_options o;
  o.max_line_length = 20;  // 14 octets of text
  const std::string fits(14, 'x'), over(15, 'x');
  CHECK(write(250, std::nullopt, {fits}, o) == std::string("250 ").append(fits).append("\r\n"));
  CHECK(write(250, std::nullopt, {over}, o) == "reply_line_too_long");
  CHECK(write(250, std::nullopt, {"aaaaaaa bbbbbbb"}, o) == "250-aaaaaaa\r\n250 bbbbbbb\r\n");
  CHECK(write(250, std::nullopt, {"aaaaaaaaaaaaaa bb"}, o) == "250-aaaaaaaaaaaaaa\r\n250 bb\r\n");
  o.max_line_length = 5;
  CHECK(write(250, std::nullopt, {}, o) == "reply_line_too_long");
  o.max_line_length = 20;
  o.max_lines = 2;
  CHECK(write(250, std::nullopt, {"a", "b"}, o) == "250-a\r\n250 b\r\n");
  CHECK(write(250, std::nullopt, {"a", "b", "c"}, o) == "too_many_reply_lines");
  CHECK(write(250, std::nullopt, {"aaaaaaaaaa bbbbbbbbbb cccccccccc"}, o) == "too_many_reply_lines");
}

TEST_CASE("round trip: what write_reply writes, the reader reads back, wrapped at spaces") {
  const std::string paragraph =
      "Our system has detected that this message is likely unsolicited mail. To reduce the amount of "
      "spam sent to Gmail, this message has been blocked. For more information, go to  "
      "https://support.google.com/mail/?p=UnsolicitedMessageError  and   review the guidelines.";
  for (const std::size_t max : {80u, 100u, 200u, 512u}) {
    for (const bool with_esc : {false, true}) {
      INFO("max " << max << " esc " << with_esc);
      reply_writer_options o;
      o.max_line_length = max;
      const auto e = with_esc ? esc(5, 7, 1) : std::nullopt;
      const std::vector<std::string_view> paragraphs = {paragraph, "second paragraph"};
      std::string wire;
      REQUIRE_FALSE(write_reply(wire, 550, e, paragraphs, o));
      reply_reader_options ro;
      ro.max_line_length = max;
      const auto r = read_every_way(wire, ro);
      REQUIRE_FALSE(r.error);
      REQUIRE(r.replies.size() == 1);
      CHECK(r.replies[0].code == 550);
      CHECK(r.replies[0].enhanced == e);
      CHECK(r.replies[0].size == wire.size());
      std::vector<std::string> texts;
      for (const auto& l : r.replies[0].lines) texts.emplace_back(strip_enhanced_status(l, 550));
      // All but the last line belong to the first paragraph.
      CHECK(texts.back() == "second paragraph");
      std::string joined;
      for (std::size_t i = 0; i + 1 < texts.size(); ++i) {
        if (i) joined += ' ';
        joined += texts[i];
      }
      CHECK(joined == paragraph);
      if (max < 512) CHECK(texts.size() > 2);
    }
  }
}

TEST_CASE("every text length and position: a bad octet is found where it is, HT and SP pass") {
  // The text check works 16 and 8 octets at a time with overlapping loads;
  // this walks a fault and an HT through every place in texts of 1 to 40 octets.
  for (std::size_t len = 1; len <= 40; ++len) {
    for (std::size_t pos = 0; pos < len; ++pos) {
      std::string text(len, 'a');
      for (const char bad : {'\x01', '\x7f', '\x1f', '\x00'}) {
        text[pos] = bad;
        const auto r = read_chunks(std::string("250 ").append(text).append("\r\n"), {});
        INFO("len " << len << " pos " << pos << " octet " << int(bad));
        REQUIRE(r.error);
        CHECK(r.error->code == errc::control_character);
        CHECK(r.error->offset == 4 + pos);
      }
      text[pos] = '\xe9';
      auto r = read_chunks(std::string("250 ").append(text).append("\r\n"), {});
      REQUIRE(r.error);
      CHECK(r.error->code == errc::non_ascii);
      CHECK(r.error->offset == 4 + pos);
      text[pos] = '\t';
      r = read_chunks(std::string("250-").append(text).append("\r\n250 ").append(text).append("\r\n"), {});
      CHECK_FALSE(r.error);
      text[pos] = ' ';
      CHECK(write(250, std::nullopt, {text}) == std::string("250 ").append(text).append("\r\n"));
      text[pos] = '\n';
      CHECK(write(250, std::nullopt, {text}) == "control_character");
    }
  }
}

TEST_CASE("consumed() and in_reply() follow the stream") {
  reply_reader reader;
  CHECK_FALSE(reader.in_reply());
  auto step = reader.next("250-a\r\n25");
  CHECK(step.status == reply_status::need_data);
  CHECK(step.consumed == 9);
  CHECK(reader.consumed() == 9);
  CHECK(reader.in_reply());
  step = reader.next("0 b\r\n220 next\r\n");
  CHECK(step.status == reply_status::reply);
  CHECK(step.consumed == 5);
  CHECK(reader.current().lines.size() == 2);
  CHECK(reader.current().lines[0] == "a");  // copied when the first call ended
  CHECK(reader.current().lines[1] == "b");
  CHECK_FALSE(reader.in_reply());
  step = reader.next("220 next\r\n");
  CHECK(step.status == reply_status::reply);
  CHECK(reader.current().offset == 14);
  CHECK(reader.consumed() == 24);
  CHECK_FALSE(reader.finish());
}

TEST_CASE("0 means no limit for the reader and the writer, as for commands and DATA") {
  reply_reader_options o;
  o.max_line_length = 0;
  o.max_lines = 0;
  std::string wire;
  for (int i = 0; i < 300; ++i) wire += "250-" + std::string(2000, 'x') + "\r\n";
  wire += "250 end\r\n";
  const auto r = read_chunks(wire, {1, 4000, 4001, 100000}, o);
  CHECK_FALSE(r.error);
  REQUIRE(r.replies.size() == 1);
  CHECK(r.replies[0].lines.size() == 301);
  reply_writer_options w;
  w.max_line_length = 0;
  w.max_lines = 0;
  const std::string long_text(3000, 'y');
  CHECK(write(250, std::nullopt, {long_text}, w) == "250 " + long_text + "\r\n");
}

TEST_CASE("a moved-from reader is empty and usable, the moved-to one keeps the reply") {
  // Once a segfault: a counter left stale by the defaulted move.
  reply_reader a;
  auto step = a.next("250-first line\r\n");
  CHECK(step.status == reply_status::need_data);
  CHECK(a.in_reply());
  auto b = std::move(a);
  CHECK_FALSE(a.in_reply());  // NOLINT(bugprone-use-after-move): the point of the test
  CHECK(a.consumed() == 0);
  step = a.next("250 ok\r\n");
  REQUIRE(step.status == reply_status::reply);
  CHECK(a.current().lines.size() == 1);
  CHECK(a.current().lines[0] == "ok");
  CHECK(a.current().offset == 0);
  // b goes on with the reply a had begun.
  step = b.next("250 last\r\n");
  REQUIRE(step.status == reply_status::reply);
  REQUIRE(b.current().lines.size() == 2);
  CHECK(b.current().lines[0] == "first line");
  CHECK(b.current().lines[1] == "last");
  CHECK(b.current().offset == 0);
  CHECK(b.consumed() == 26);

  // A reply handed out survives the move (short lines live inside the
  // string object, which moves with it).
  reply_reader c;
  c.next("250-a\r\n");
  REQUIRE(c.next("250 b\r\n").status == reply_status::reply);
  reply_reader d;
  d = std::move(c);
  REQUIRE(d.current().lines.size() == 2);
  CHECK(d.current().lines[0] == "a");
  CHECK(d.current().lines[1] == "b");
  CHECK(c.next("421 bye\r\n").status == reply_status::reply);  // NOLINT(bugprone-use-after-move)
  CHECK(c.current().code == 421);
  // An error moves too, and leaves the source clean.
  reply_reader e;
  e.next("999 x\r\n");
  REQUIRE(e.error());
  reply_reader f(std::move(e));
  CHECK(f.error());
  CHECK_FALSE(e.error());  // NOLINT(bugprone-use-after-move)
}

TEST_CASE("reply-line machine (grammar/reply.rl): accepts the RFC 5321 4.2 lines, names the rule a line breaks") {
  using detail::reply_line_fault_of;
  for (const char* ok : {"250", "250-", "250 ", "250 ok", "554-5.7.1 no\tway", "421 ~", "259 x", "500 a b c"})
    CHECK_FALSE(reply_line_fault_of(ok));
  struct bad {
    std::string line;
    errc code;
    std::size_t at;
  };
  const bad cases[] = {
      {"", errc::bad_reply_code, 0},          {"25", errc::bad_reply_code, 2},
      {"2x0 ok", errc::bad_reply_code, 1},    {"650 ok", errc::bad_reply_code, 0},
      {"260 ok", errc::bad_reply_code, 1},    {"150 ok", errc::bad_reply_code, 0}, {"299 x", errc::bad_reply_code, 1},
      {"250x", errc::bad_reply_separator, 3}, {"250\tok", errc::bad_reply_separator, 3},
      {"250 a\rb", errc::bare_cr, 5},         {"250 \x01", errc::control_character, 4},
      {"250 \x7f", errc::control_character, 4}, {"250 caf\xc3\xa9", errc::non_ascii, 7},
      {std::string("250 a\0b", 7), errc::control_character, 5},
  };
  for (const auto& c : cases) {
    INFO(c.line);
    const auto fault = reply_line_fault_of(c.line);
    REQUIRE(fault);
    CHECK(fault->code == c.code);
    CHECK(fault->at == c.at);
  }
}

TEST_CASE("enhanced status machine (grammar/reply.rl): RFC 3463 codes at the start of the text, as the parser reads them") {
  const std::pair<const char*, std::optional<std::size_t>> cases[] = {
      {"2.0.0", 5},        {"2.0.0 Ok", 5},  {"5.7.1 no", 5},    {"4.4.2", 5},       {"5.1.10 x", 6},
      {"2.999.999 x", 9},  {"2.0.00 x", {}}, {"2.01.0 x", {}},   {"2.1.1234 x", {}}, {"3.0.0 x", {}},
      {"2.0.0x", {}},      {"2.0 x", {}},    {"2..0 x", {}},     {"", {}},           {"Ok 2.0.0", {}},
      {"2.0.0\t", {}},
  };
  for (const auto& [text, length] : cases) {
    INFO(text);
    CHECK(detail::scan_enhanced_status(text) == length);
    const auto parsed = parse::enhanced_status_at(text, text[0] == '4' ? 421 : text[0] == '5' ? 550 : 250);
    CHECK(parsed.has_value() == length.has_value());
    if (parsed && length) CHECK(parsed->length == *length);
  }
}

// The reader reads whole plain lines 64 octets at a time (the fast path) and
// leaves anything else to the octet-by-octet path; byte-by-byte input never
// takes the fast path, so the two readings must agree on everything.
TEST_CASE("the 64-octet fast path and the careful path give the same replies, offsets and errors") {
  std::string stream;
  for (std::size_t len = 0; len <= 120; ++len) {  // lines ending on, before and after block edges
    const std::string text(len, static_cast<char>('a' + len % 26));
    stream += "250-" + text + "\r\n";
  }
  stream += "250 done\r\n";
  stream += "250\r\n";                          // a bare code
  stream += "220-x\tHT\r\n220 y\r\n";           // HT: the careful path's, text all the same
  stream += "550-5.1.1 a\r\n550 5.1.1 b\r\n";   // the ESC of the first line
  const auto whole = test::read_chunks(stream, {});
  REQUIRE(whole.replies.size() == 4);
  CHECK(whole.replies[0].lines.size() == 122);
  CHECK(whole.replies[0].lines[100] == std::string(100, static_cast<char>('a' + 100 % 26)));
  CHECK(whole.replies[2].lines == std::vector<std::string>{"x\tHT", "y"});
  CHECK(whole.replies[3].enhanced.has_value());
  CHECK(whole.replies[3].offset + whole.replies[3].size == stream.size());
  CHECK(!whole.error);
  CHECK(test::read_chunks(stream, test::every_byte(stream.size())) == whole);
  for (std::size_t cut = 1; cut < stream.size(); cut += 7) CHECK(test::read_chunks(stream, {cut}) == whole);

  // A fault after lines the fast path took: the same error at the same offset.
  for (const std::string bad : {"250-ok\r\n251 wrong code\r\n", "250-ok\r\n250-\x01\r\n", "250-ok\r\n250 x\n",
                                "250-ok\r\n25\r\n", "250-ok\r\n250_x\r\n"}) {
    const std::string input = std::string(70, ' ').replace(0, 7, "250-abc") + "\r\n" + bad;
    const auto fast = test::read_chunks(input, {});
    REQUIRE(fast.error);
    CHECK(test::read_chunks(input, test::every_byte(input.size())) == fast);
  }
}

TEST_CASE("the fast path keeps the limits: N lines and N-octet lines accepted, N+1 refused") {
  for (const std::size_t n : {6u, 7u, 64u, 65u, 66u, 200u}) {
    reply_reader_options o;
    o.max_line_length = n;  // with CRLF
    const std::string fits = "250 " + std::string(n - 6, 'x') + "\r\n";
    const std::string over = "250 " + std::string(n - 5, 'x') + "\r\n";
    CHECK(!test::read_chunks(fits, {}, o).error);
    const auto refused = test::read_chunks(over, {}, o);
    REQUIRE(refused.error);
    CHECK(refused.error->code == errc::reply_line_too_long);
    CHECK(test::read_chunks(over, test::every_byte(over.size()), o) == refused);
  }
  for (const std::size_t n : {1u, 2u, 3u, 32u}) {
    reply_reader_options o;
    o.max_lines = n;
    std::string fits, over;
    for (std::size_t i = 1; i < n; ++i) fits += "250-l\r\n";
    over = fits + "250-l\r\n250 last\r\n";
    fits += "250 last\r\n";
    CHECK(!test::read_chunks(fits, {}, o).error);
    const auto refused = test::read_chunks(over, {}, o);
    REQUIRE(refused.error);
    CHECK(refused.error->code == errc::too_many_reply_lines);
    CHECK(test::read_chunks(over, test::every_byte(over.size()), o) == refused);
  }
}
