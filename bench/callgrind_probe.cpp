// The stable figures of `scripts/bench --callgrind`: one workload on fixed
// inputs, N items, with only callgrind_measure() counted
// (--toggle-collect). scripts/bench runs it at N and 2N and divides the
// difference by N: instructions per item, which do not move between runs
// the way time does, so a CI job can compare them run to run.
//
//   callgrind_probe CASE N      (CASE from `callgrind_probe --list`)
#include <sansmtp/sansmtp.hpp>

#include "shared_inputs.hpp"
#include "must.hpp"

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace {

using namespace sansmtp;

std::size_t sink = 0;

using bench::ehlo_reply;
const std::vector<std::string>& command_mix = bench::command_mix();
// The reply stream of n sessions, built before callgrind_measure() runs.
std::string stream;

std::string message_1k() {
  std::string m;
  for (int i = 0; m.size() < 1024; ++i) m += i % 10 ? "a line of a typical message body, 39 oct\r\n" : ".dotted\r\n";
  return m;
}

// Items are counted per call of the workload; the input is built before
// (prepare). `n` is the item count scripts/bench uses (and twice it);
// `bytes_per_item`, when not 0, lets it also print instructions per byte.
struct workload {
  const char* unit;
  std::function<void(std::size_t)> run;
  std::size_t n = 2000;
  std::size_t bytes_per_item = 0;
  std::function<void(std::size_t)> prepare = [](std::size_t) {};
};

// One next() sequence over the stream, fed `chunk` octets at a time.
void read_stream(std::size_t chunk) {
  reply_reader r;
  for (std::size_t from = 0; from < stream.size(); from += chunk) {
    std::string_view in = std::string_view(stream).substr(from, chunk);
    for (;;) {
      const auto step = r.next(in);
      in.remove_prefix(step.consumed);
      if (step.status != reply_status::reply) break;
      sink += static_cast<std::size_t>(r.current().code);
    }
  }
}

void callgrind_measure(const workload& w, std::size_t n) __attribute__((noinline));
void callgrind_measure(const workload& w, std::size_t n) { w.run(n); }

// A server answering like the tests' application, for the session cases.
void answer(server& s) {
  for (;;) {
    const auto e = s.next_event();
    if (std::holds_alternative<server_event::need_data>(e) || std::holds_alternative<server_event::paused>(e)) return;
    if (const auto* c = std::get_if<server_event::command>(&e)) {
      if (std::holds_alternative<cmd::ehlo>(c->value)) bench::must(s.send_ehlo_reply());
      else if (std::holds_alternative<cmd::data>(c->value)) bench::must(s.send(354, "Go ahead"));
      else bench::must(s.send(250, "2.0.0 Ok"));
    } else if (std::holds_alternative<server_event::message_end>(e)) {
      bench::must(s.send(250, "2.0.0 Queued"));
    }
  }
}

std::map<std::string, workload> cases() {
  std::map<std::string, workload> all;
  const auto build_stream = [](std::size_t n) {
    stream.clear();
    for (std::size_t i = 0; i < n; ++i) stream += bench::reply_session();
  };
  const auto session_bytes = bench::reply_session().size();
  all["reply_stream"] = {"reply-stream session (bench/shared_inputs.hpp), read whole: 9 replies, 23 lines, 633 octets",
                         [](std::size_t) { read_stream(stream.size()); }, 1000, session_bytes, build_stream};
  all["reply_stream_1460"] = {"reply-stream session, the stream fed in 1460-octet chunks",
                              [](std::size_t) { read_stream(1460); }, 1000, session_bytes, build_stream};
  all["ehlo_capabilities"] = {"13-line EHLO reply, bytes to typed capabilities (a long-lived reader)",
                              [](std::size_t n) {
                                reply_reader r;
                                for (std::size_t i = 0; i < n; ++i) {
                                  if (r.next(ehlo_reply).status == reply_status::reply)
                                    sink += parse::ehlo_response(r.current()).lines.size();
                                }
                              },
 500};
  all["command_mix"] = {"command line (the 15-line mix of bench/shared_inputs.hpp, one line per item)",
                        [](std::size_t n) {
                          for (std::size_t i = 0; i < n; ++i)
                            sink += parse::command_line(command_mix[i % command_mix.size()]).has_value();
                        },
                        3000};
  // Each distinct line of the mix on its own: no verb may cost more than
  // smtp-proto's parser on it (issue 14).
  static const std::pair<const char*, std::size_t> verbs[] = {
      {"command_ehlo", 0}, {"command_starttls", 1}, {"command_auth", 3}, {"command_mail", 4},
      {"command_rcpt", 5}, {"command_rcpt_notify", 6}, {"command_data", 7}, {"command_rset", 8},
      {"command_bdat", 11}, {"command_noop", 12}, {"command_vrfy", 13}, {"command_quit", 14}};
  static std::vector<std::string> units;  // the lines without their CRLF
  units.reserve(std::size(verbs));
  for (const auto& [name, index] : verbs) {
    const std::string& line = command_mix[index];
    all[name] = {units.emplace_back(line.substr(0, line.size() - 2)).c_str(), [&line](std::size_t n) {
                   for (std::size_t i = 0; i < n; ++i) sink += parse::command_line(line).has_value();
                 }};
  }
  all["ehlo_check"] = {"check_ehlo_name(\"mail.example.com\")", [](std::size_t n) {
                         for (std::size_t i = 0; i < n; ++i) sink += check_ehlo_name("mail.example.com").findings.size();
                       }};
  all["data_decode_1k"] = {"1 KiB message decoded after the 354", [](std::size_t n) {
                             static const std::string wire = message_1k() + ".\r\n";
                             for (std::size_t i = 0; i < n; ++i) {
                               data_decoder d;
                               std::string_view in = wire;
                               while (!in.empty()) {
                                 const auto piece = d.next(in);
                                 in.remove_prefix(piece.consumed);
                                 sink += piece.bytes.size();
                                 if (piece.status == data_status::end_of_data) break;
                               }
                             }
                           }};
  all["data_encode_1k"] = {"1 KiB message encoded (dot-stuffed, terminated)", [](std::size_t n) {
                             static const std::string message = message_1k();
                             for (std::size_t i = 0; i < n; ++i) {
                               data_encoder e;
                               std::string_view in = message;
                               for (;;) {
                                 const auto piece = e.next(in);
                                 in.remove_prefix(piece.consumed);
                                 sink += piece.bytes.size();
                                 if (piece.status != data_status::more) break;
                               }
                               sink += e.finish().size();
                             }
                           }};
  all["server_transaction"] = {"pipelined transaction on a long-lived server session, replies included",
                               [](std::size_t n) {
                                 static const std::string tx =
                                     "MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nDATA\r\n"
                                     "Subject: hi\r\n\r\nhello\r\n.\r\n";
                                 server_options o;
                                 o.pipelining = true;
                                 server s(o);
                                 bench::must(s.send(220, "mx"));
                                 bench::must(s.receive("EHLO c.example.com\r\n"));
                                 answer(s);
                                 s.consume_output(s.pending_output_size());
                                 for (std::size_t i = 0; i < n; ++i) {
                                   bench::must(s.receive(tx));
                                   answer(s);
                                   s.consume_output(s.pending_output_size());
                                 }
                               },
 500};
  all["joined_transaction"] = {"client submit() through a server in memory, per transaction", [](std::size_t n) {
                                 server_options so;
                                 so.pipelining = true;
                                 server s(so);
                                 bench::must(s.send(220, "mx"));
                                 client c(client_options{"mail.acme-corp.com"});
                                 envelope env;
                                 env.reverse_path = "alice@example.org";
                                 env.recipients.push_back({"bob@example.net"});
                                 env.detect_8bit = false;
                                 const std::string message = "Subject: hi\r\n\r\nhello\r\n";
                                 std::size_t done = 0;
                                 bool ready = false, submitting = false;
                                 memory_source source(message);
                                 while (done < n) {
                                   for (const auto run : s.pending_output_spans()) bench::must(c.receive({run.data(), run.size()}));
                                   s.consume_output(s.pending_output_size());
                                   for (;;) {
                                     const auto e = c.next_event();
                                     if (const auto* r = std::get_if<client_event::reply>(&e)) {
                                       if (r->answered == answered_command::greeting) bench::must(c.send_hello());
                                       if (r->answered == answered_command::ehlo) ready = true;
                                       continue;
                                     }
                                     if (std::holds_alternative<client_event::submitted>(e)) {
                                       ++done;
                                       submitting = false;
                                       continue;
                                     }
                                     if (const auto* p = std::get_if<client_event::paused>(&e);
                                         p && p->why == client_event::paused::reason::ready && ready && !submitting) {
                                       source.rewind();
                                       bench::must(c.submit(env, source));
                                       submitting = true;
                                       continue;
                                     }
                                     break;
                                   }
                                   for (const auto run : c.pending_output_spans()) bench::must(s.receive({run.data(), run.size()}));
                                   c.consume_output(c.pending_output_size());
                                   answer(s);
                                 }
                               },
 500};
  return all;
}

}  // namespace

int main(int argc, char** argv) {
  const auto all = cases();
  if (argc == 2 && std::string(argv[1]) == "--list") {
    for (const auto& [name, w] : all) std::printf("%s\t%zu\t%zu\t%s\n", name.c_str(), w.n, w.bytes_per_item, w.unit);
    return 0;
  }
  if (argc != 3 || !all.count(argv[1])) {
    std::fprintf(stderr, "usage: callgrind_probe CASE N   (callgrind_probe --list)\n");
    return 64;
  }
  const auto& w = all.at(argv[1]);
  const auto n = static_cast<std::size_t>(std::strtoull(argv[2], nullptr, 10));
  w.prepare(n);
  callgrind_measure(w, n);
  return static_cast<int>(sink & 1);
}
