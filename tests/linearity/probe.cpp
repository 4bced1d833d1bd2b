// One parser over an input of `scale` units, for the linearity test
// (linearity.py runs this under callgrind at two scales and compares the
// instructions spent in measure()). Inputs are built outside measure(), so
// only the parser's work is counted. Every option that could matter is at
// its most permissive: leniencies on, limits off (0), so that no limit
// hides a super-linear path.
//
//   linearity_probe CASE SCALE      (CASE from `linearity_probe --list`)
#include <sansmtp/sansmtp.hpp>

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <algorithm>
#include <map>
#include <string>

namespace {

// A call refused here would measure something else: stop.
void must(std::error_code ec) {
  if (!ec) return;
  std::fprintf(stderr, "linearity probe: a session call was refused: %s\n", ec.message().c_str());
  std::abort();
}

using namespace sansmtp;

command_options open_command_options() {
  command_options o;
  o.max_line_length = o.max_local_part = o.max_domain = o.max_path = 0;
  o.smtputf8 = true;
  o.allow_unknown_parameters = true;
  o.allow_space_after_colon = o.allow_missing_angle_brackets = o.allow_bare_lf = true;
  o.allow_helo_address_literal = true;
  return o;
}

reply_reader_options open_reply_options() {
  reply_reader_options o;
  o.max_line_length = o.max_lines = 0;
  o.allow_bare_lf = o.allow_utf8 = o.allow_mismatched_codes = true;
  return o;
}

std::string hex(std::size_t i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%zX", i);
  return buf;
}

volatile std::size_t sink;  // keeps results alive

struct probe {
  std::function<std::string(std::size_t)> input;
  std::function<void(const std::string&)> run;
};

// Reply bytes fed in network-sized chunks, replies drained.
void read_replies(const std::string& in) {
  reply_reader r(open_reply_options());
  std::string_view rest = in;
  std::size_t n = 0;
  while (!rest.empty()) {
    std::string_view chunk = rest.substr(0, 1460);
    rest.remove_prefix(chunk.size());
    for (;;) {
      const auto step = r.next(chunk);
      chunk.remove_prefix(step.consumed);
      if (step.status != reply_status::reply) break;
      n += r.current().lines.size();
    }
  }
  (void)r.finish();  // the count is what is measured
  sink = n;
}

// Feeds a server `in` in `chunk`-octet reads, the way a driver does, and
// hands every event to `on_event` (which answers it); output is consumed.
template <class OnEvent>
void drive(server& s, std::string_view in, std::size_t chunk, OnEvent on_event) {
  while (!in.empty()) {
    const auto n = std::min({in.size(), chunk, s.receive_capacity()});
    must(s.receive(in.substr(0, n)));
    in.remove_prefix(n);
    for (;;) {
      auto e = s.next_event();
      if (std::holds_alternative<server_event::need_data>(e) || std::holds_alternative<server_event::paused>(e))
        break;
      on_event(e);
    }
    s.consume_output(s.pending_output().size());
  }
}

const std::map<std::string, probe>& probes() {
  static const std::map<std::string, probe> all = {
      {"command_unknown_params",  // issue 10 finding 3: 20000 unknown keywords took 3.4 s
       {[](std::size_t k) {
          std::string s = "MAIL FROM:<a@b>";
          for (std::size_t i = 0; i < k; ++i) s += " X" + hex(i);
          return s + "\r\n";
        },
        [](const std::string& in) { sink = parse::command_line(in, open_command_options()).has_value(); }}},
      {"command_param_values",
       {[](std::size_t k) {
          std::string s = "RCPT TO:<a@b>";
          for (std::size_t i = 0; i < k; ++i) s += " X" + hex(i) + "=v+41l\xc3\xa9" + hex(i);
          return s + "\r\n";
        },
        [](const std::string& in) { sink = parse::command_line(in, open_command_options()).has_value(); }}},
      {"command_long_path",
       {[](std::size_t k) {
          std::string local, domain;
          for (std::size_t i = 0; i < k; ++i) local += "ab.";
          for (std::size_t i = 0; i < k; ++i) domain += "lbl" + hex(i % 16) + ".";
          return "MAIL FROM:<" + local + "x@" + domain + "example> SMTPUTF8\r\n";
        },
        [](const std::string& in) { sink = parse::command_line(in, open_command_options()).has_value(); }}},
      {"command_quoted_vrfy",
       {[](std::size_t k) {
          std::string s = "VRFY \"";
          for (std::size_t i = 0; i < k; ++i) s += "a \\\" b\xc3\xa9 ";
          return s + "\"\r\n";
        },
        [](const std::string& in) { sink = parse::command_line(in, open_command_options()).has_value(); }}},
      {"command_unknown_verb",
       {[](std::size_t k) {
          std::string s = "XFOO";
          for (std::size_t i = 0; i < k; ++i) s += " arg\xc3\xa9";
          return s + "   \r\n";
        },
        [](const std::string& in) { sink = parse::command_line(in, open_command_options()).has_value(); }}},
      {"server_long_body",  // one DATA message of k lines
       {[](std::size_t k) {
          std::string s = "EHLO c.example\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nDATA\r\n";
          for (std::size_t i = 0; i < k; ++i) s += "..line\nwith bare endings\r and dots\r\n";
          return s + ".\r\n";
        },
        [](const std::string& in) {
          server_options o;
          o.data.bare_lf = o.data.bare_cr = bare_line_ending::normalize;
          o.data.max_line_length = 0;
          server s(o);
          must(s.send(220, "mx"));
          std::size_t octets = 0;
          drive(s, in, 1460, [&](const server_event_t& e) {
            if (const auto* c = std::get_if<server_event::command>(&e)) {
              if (std::holds_alternative<cmd::data>(c->value)) must(s.send(354, "Go ahead"));
              else must(s.send(250, "2.0.0 Ok"));
            } else if (const auto* d = std::get_if<server_event::message_data>(&e)) {
              octets += d->bytes.size();
            } else if (std::holds_alternative<server_event::message_end>(e)) {
              must(s.send(250, "2.0.0 Queued"));
            }
          });
          sink = octets;
        }}},
      {"auth_response_long",
       {[](std::size_t k) {
          std::string s;
          for (std::size_t i = 0; i < k; ++i) s += "QUJD";
          return s + "ZA==  \r\n";
        },
        [](const std::string& in) {
          auth_response_options o;
          o.max_line_length = 0;
          o.allow_bare_lf = true;
          sink = parse::auth_response(in, o).has_value();
        }}},
      {"server_transactions",  // the session: k pipelined transactions in 16 KiB reads
       {[](std::size_t k) {
          std::string s = "EHLO client.example\r\n";
          for (std::size_t i = 0; i < k; ++i)
            s += "MAIL FROM:<alice@example.org>\r\nRCPT TO:<bob@example.net>\r\nDATA\r\n"
                 "Subject: hi\r\n\r\nHello Bob.\r\n.\r\n";
          return s;
        },
        [](const std::string& in) {
          server_options o;
          o.max_bad_commands = 0;
          server s(o);
          must(s.send(220, "mx"));
          std::size_t messages = 0;
          drive(s, in, 16384, [&](const server_event_t& e) {
            if (const auto* c = std::get_if<server_event::command>(&e)) {
              if (std::holds_alternative<cmd::ehlo>(c->value)) must(s.send_ehlo_reply());
              else if (std::holds_alternative<cmd::data>(c->value)) must(s.send(354, "Go ahead"));
              else must(s.send(250, "2.0.0 Ok"));
            } else if (std::holds_alternative<server_event::message_end>(e)) {
              ++messages;
              must(s.send(250, "2.0.0 Queued"));
            } else if (const auto* b = std::get_if<server_event::bad_command>(&e)) {
              must(s.send(b->suggested));
            }
          });
          sink = messages;
        }}},
      {"reply_many_lines",
       {[](std::size_t k) {
          std::string s;
          for (std::size_t i = 0; i < k; ++i) s += "250-line " + hex(i) + " \xc3\xa9t\xc3\xa9\r\n";
          return s + "250 end\r\n";
        },
        read_replies}},
      // 200 KB and 2 MB: both sizes copy the growing line buffer with the
      // same memcpy strategy (valgrind counts `rep movsb` per octet, AVX
      // copies per 32), so the comparison is about the reader, not libc.
      {"reply_one_long_line",
       {[](std::size_t k) { return "250 " + std::string(k * 200, 'x') + "\r\n"; }, read_replies}},
      {"reply_many_replies",
       {[](std::size_t k) {
          std::string s;
          for (std::size_t i = 0; i < k; ++i) s += "250 2.1.0 Ok " + hex(i) + "\r\n";
          return s;
        },
        read_replies}},
      {"ehlo_auth_mechanisms",  // issue 10 finding 2: 64 KB of AUTH lines took 184 ms
       {[](std::size_t k) {
          std::string s = "250-mx.example.com hello\r\n";
          for (std::size_t i = 0; i < k; ++i) s += "250-AUTH M" + hex(i) + " P" + hex(i) + "\r\n";
          return s + "250 PIPELINING\r\n";
        },
        [](const std::string& in) {
          reply_reader r(open_reply_options());
          if (r.next(in).status == reply_status::reply) sink = parse::ehlo_response(r.current()).auth.size();
        }}},
      {"ehlo_distinct_keywords",
       {[](std::size_t k) {
          std::string s = "250-mx.example.com\r\n";
          for (std::size_t i = 0; i < k; ++i) s += "250-X" + hex(i) + " p\r\n";
          return s + "250 LIMITS RCPTMAX=10 MAILMAX=3\r\n";
        },
        [](const std::string& in) {
          reply_reader r(open_reply_options());
          if (r.next(in).status == reply_status::reply) sink = parse::ehlo_response(r.current()).lines.size();
        }}},
      {"data_decode_lenient",
       {[](std::size_t k) {
          std::string s;
          for (std::size_t i = 0; i < k; ++i) s += ".line\nwith\rbare endings\r\n..dots\r\n";
          return s + ".\r\n";
        },
        [](const std::string& in) {
          data_decoder_options o;
          o.bare_lf = o.bare_cr = bare_line_ending::normalize;
          o.max_line_length = 0;
          data_decoder d(o);
          std::string_view rest = in;
          std::size_t out = 0;
          for (;;) {
            const auto piece = d.next(rest);
            out += piece.bytes.size();
            rest.remove_prefix(piece.consumed);
            if (piece.status != data_status::more) break;
          }
          sink = out;
        }}},
      {"data_encode",
       {[](std::size_t k) {
          std::string s;
          for (std::size_t i = 0; i < k; ++i) s += ".line\nwith\rbare endings\r\n..dots\r\n";
          return s;
        },
        [](const std::string& in) {
          data_encoder e;
          std::string_view rest = in;
          std::size_t out = 0;
          for (;;) {
            const auto piece = e.next(rest);
            out += piece.bytes.size();
            rest.remove_prefix(piece.consumed);
            if (piece.status != data_status::more) break;
          }
          sink = out + e.finish().size();
        }}},
      {"ehlo_argument_long",
       {[](std::size_t k) {
          std::string s;
          for (std::size_t i = 0; i < k; ++i) s += "label" + hex(i % 16) + ".";
          return s + "example";
        },
        [](const std::string& in) { sink = parse::ehlo_argument(in).has_value(); }}},
      {"ehlo_check_long_name",
       {[](std::size_t k) {
          std::string s;
          for (std::size_t i = 0; i < k; ++i) s += "l_b\xc3\xa9l-" + hex(i % 16) + ".";
          return s + "example";
        },
        [](const std::string& in) { sink = check_ehlo_name(in).findings.size(); }}},
      {"diagnose_long_text",
       {[](std::size_t k) {
          std::string s;
          for (std::size_t i = 0; i < k; ++i) s += " <u" + hex(i) + "@relay.example.com> rejected helo";
          return s;
        },
        [](const std::string& in) {
          const std::string_view lines[] = {in, in};
          sink = diagnose(550, enhanced_status{5, 7, 1}, lines, answered_command::rcpt).explanation.size();
        }}},
      {"escape_for_display",
       {[](std::size_t k) {
          std::string s;
          for (std::size_t i = 0; i < k; ++i) s += "a\x1b[31m\xc3\xa9\xff\\";
          return s;
        },
        [](const std::string& in) { sink = escape_for_display(in).size(); }}},
      {"serialize_mail",
       {[](std::size_t k) {
          std::string s = "MAIL FROM:<a@b>";
          for (std::size_t i = 0; i < k; ++i) s += " X" + hex(i) + "=y";
          return s + "\r\n";
        },
        [](const std::string& in) {
          const auto parsed = parse::command_line(in, open_command_options());
          if (!parsed) return;  // the empty warm-up input
          std::string out;
          sink = serialize(*parsed, out, open_command_options()).code == errc::ok;
        }}},
  };
  return all;
}

}  // namespace

// What callgrind counts (--toggle-collect=linearity_measure).
extern "C" __attribute__((noinline)) void linearity_measure(const probe* p, const std::string* input) {
  p->run(*input);
}

int main(int argc, char** argv) {
  if (argc == 2 && std::string(argv[1]) == "--list") {
    for (const auto& [name, p] : probes()) std::printf("%s\n", name.c_str());
    return 0;
  }
  if (argc != 3) {
    std::fprintf(stderr, "usage: linearity_probe CASE SCALE | --list\n");
    return 64;
  }
  const auto it = probes().find(argv[1]);
  if (it == probes().end()) {
    std::fprintf(stderr, "no case %s\n", argv[1]);
    return 64;
  }
  const std::string input = it->second.input(std::strtoull(argv[2], nullptr, 10));
  // Once outside the count: lazy initialisation (libidn2, static tables)
  // is not the parser's per-input work.
  it->second.run(input.substr(0, 0));
  linearity_measure(&it->second, &input);
  std::printf("%zu\n", input.size());  // the runner divides by it
  return 0;
}
