// Tests: drives a sansmtp::client over what a server sends, cut into
// chunks, with an application that runs a list of steps as the events allow,
// and renders what happened as one log. The same server bytes must give the
// same log and the same client output whatever the chunking.
#pragma once

#include "must.hpp"

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wrestrict"  // GCC PR 105329, "literal" + std::string
#endif

#include <sansmtp/advice/describe.hpp>
#include <sansmtp/advice/diagnose.hpp>
#include <sansmtp/session/client.hpp>
#include <sansmtp/syntax/command_builder.hpp>

#include <algorithm>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace sansmtp::test {

// What the application does, step by step: each step is tried when the
// client has an event; a step that is refused with invalid_state waits for
// the next event (a reply), any other result is logged and the step is done.
struct step {
  std::string name;
  std::function<std::error_code(client&)> run;
};

inline step command_step(std::string name, build_result built) {
  if (!built) throw std::runtime_error("a test step could not be built");
  const auto owned = *built;
  return {std::move(name), [owned](client& c) { return c.send(owned.command()); }};
}

inline step hello_step() {
  return {"hello", [](client& c) { return c.send_hello(); }};
}

inline step body_step(std::string body) {
  return {"body", [body](client& c) {
            if (auto ec = c.send_body(body)) return ec;
            return c.end_body();
          }};
}

struct client_run {
  std::string log;
  std::string output;
  // Each fatal_error and peer_closed: fields(event) ": " describe(event), a line each.
  std::string failures;
};

// Every field of a failure event, for comparing runs and asserting.
inline std::string fields(const client_event::fatal_error& f) {
  std::string s = "fatal " + std::string(errc_name(f.code));
  s.append(" ").append(client_fatal_cause_name(f.why));
  s.append(" state=").append(client_state_name(f.state));
  s.append(" awaiting=").append(answered_command_text(f.awaiting));
  s.append(f.unfinished ? " unfinished" : " finished");
  s.append(" reply=").append(std::to_string(f.reply_code));
  s.append(" offset=").append(std::to_string(f.offset));
  s.append(" waited=").append(std::to_string(f.waited.count()));
  s.append(" argument=").append(f.argument);
  return s;
}
inline std::string fields(const client_event::peer_closed& p) {
  std::string s = "peer closed";
  s.append(" state=").append(client_state_name(p.state));
  s.append(" awaiting=").append(answered_command_text(p.awaiting));
  s.append(p.unfinished ? " unfinished" : " finished");
  return s;
}

inline client_options options_for(std::string name = "mail.acme-corp.com") {
  client_options o;
  o.ehlo_name = std::move(name);
  return o;
}

// Feeds `server_bytes` to a client cut at `cuts`, running `steps` as the
// events allow.
// A source that hands out every piece from the same buffer, overwritten on
// each pull (a read() loop): it cannot rewind and is not stable(), so the
// client must copy its pieces. restart() is for the harness, between runs.
class streamed_source final : public message_source {
 public:
  streamed_source(std::string_view message, std::size_t piece) : message_(message), piece_(piece) {}
  std::string_view next() override {
    buffer_.assign(message_.substr(at_, piece_));
    at_ += buffer_.size();
    if (buffer_.empty()) return {};  // the end as a real source may say it: no data() at all
    return buffer_;
  }
  void restart() { at_ = 0; }

 private:
  std::string_view message_;
  std::size_t piece_;
  std::size_t at_ = 0;
  std::string buffer_;
};

// The greeting, EHLO and the server's reply to it, each in its turn (a
// reply received before its command was written is refused).
inline void greet(client& c, std::string_view ehlo_reply, std::string_view greeting = "220 mx\r\n") {
  test::must(c.receive(greeting), "receive");
  if (!std::holds_alternative<client_event::reply>(c.next_event())) throw std::runtime_error("no greeting");
  if (c.send_hello()) throw std::runtime_error("EHLO refused");
  test::must(c.receive(ehlo_reply), "receive");
  if (!std::holds_alternative<client_event::reply>(c.next_event())) throw std::runtime_error("no EHLO reply");
}

// Everything the client has queued (every run: a stable source's body is
// queued by reference, in several runs), consumed.
inline std::string take_output(client& c) {
  std::string out;
  for (const auto run : c.pending_output_spans()) out.append(run.data(), run.size());
  c.consume_output(out.size());
  return out;
}

// Where each reply of a server transcript ends, as the client's reply
// reader sees it (the rest is one piece after a break in the grammar).
inline std::vector<std::size_t> reply_ends(std::string_view server_bytes, const reply_reader_options& options) {
  std::vector<std::size_t> ends;
  reply_reader reader(options);
  std::size_t at = 0;
  while (at < server_bytes.size()) {
    const auto step = reader.next(server_bytes.substr(at));
    at += step.consumed;
    if (step.status != reply_status::reply) break;
    ends.push_back(at);
  }
  return ends;
}

// Feeds `server_bytes` to a client as a server would send them: a reply
// only once the client waits for one (after the command it answers was
// written: a client may refuse a reply that came earlier), cut at `cuts` as
// well, running `steps` as the events allow. Bytes after every reply the
// client waits for come when it is idle (an extra reply).
inline client_run run_client(std::string_view server_bytes, const std::vector<std::size_t>& cuts,
                      const std::vector<step>& steps, const client_options& options) {
  client c(options);
  client_run r;
  std::size_t next = 0;
  const auto try_steps = [&] {
    while (next < steps.size()) {
      const auto ec = steps[next].run(c);
      if (ec == errc::invalid_state) return;
      if (ec) r.log += "step " + steps[next].name + " refused " + std::string(errc_name(ec)) + "\n";
      ++next;
    }
  };
  // Progress: each next_event() call consumes bytes, writes some, or ends
  // the loop; a call that returns the same thing again and again (a driver
  // spinning at 100% CPU) fails here instead of hanging.
  std::size_t calls = 0;
  const std::size_t most_calls = 1000 + 16 * (server_bytes.size() + steps.size());
  const auto drain = [&] {
    for (;;) {
      if (++calls > most_calls + 16 * r.output.size())
        throw std::logic_error("the client returned events without progress:\n" + r.log);
      const auto event = c.next_event();
      if (std::holds_alternative<client_event::need_data>(event)) return;
      if (const auto* p = std::get_if<client_event::paused>(&event)) {
        if (p->why == client_event::paused::reason::ready) {
          const auto before = next;
          try_steps();
          if (next != before) continue;
        }
        if (p->why == client_event::paused::reason::write_output) {  // the message goes out as it is written
          r.output += take_output(c);
          continue;
        }
        return;
      }
      if (const auto* rep = std::get_if<client_event::reply>(&event)) {
        r.log += "reply " + std::string(answered_command_text(rep->answered)) + " " + std::to_string(rep->value.code);
        if (const auto failure = diagnose(*rep, c.ehlo_name()); failure.kind != failure_kind::none)
          r.log += " " + std::string(failure_kind_name(failure.kind));
        if (rep->fell_back_to_helo) r.log += " helo-fallback";
        r.log += "\n";
        try_steps();
      } else if (const auto* f = std::get_if<client_event::fatal_error>(&event)) {
        r.log += "fatal " + std::string(errc_name(f->code)) + "\n";
        r.failures.append(fields(*f)).append(": ").append(sansmtp::describe(*f)).append("\n");
      } else if (const auto* closed = std::get_if<client_event::peer_closed>(&event)) {
        r.log += "peer closed\n";
        r.failures.append(fields(*closed)).append(": ").append(sansmtp::describe(*closed)).append("\n");
      } else if (const auto* sub = std::get_if<client_event::submitted>(&event)) {
        r.log += "submitted in " + std::to_string(sub->transactions) + ":";
        for (const auto& rr : sub->recipients)
          r.log += " " + rr.address + "=" + std::to_string(rr.rcpt_code) + "/" + std::to_string(rr.delivery_code);
        r.log += "\n";
        try_steps();
      }
    }
  };
  // The pieces: every cut and every reply's end.
  auto ends = reply_ends(server_bytes, options.replies);
  ends.insert(ends.end(), cuts.begin(), cuts.end());
  ends.push_back(server_bytes.size());
  std::sort(ends.begin(), ends.end());
  ends.erase(std::unique(ends.begin(), ends.end()), ends.end());
  std::size_t from = 0;
  drain();
  for (const auto to : ends) {
    if (to <= from) continue;
    r.output += take_output(c);  // written before the server answers, as a driver does
    if (c.closed()) break;  // the rest is never read (receive() refuses it: session_closed)
    test::must(c.receive(server_bytes.substr(from, to - from)), "receive");
    from = to;
    drain();
  }
  r.output += take_output(c);
  return r;
}

inline client_run run_client_every_way(std::string_view server_bytes, const std::vector<step>& steps,
                                const client_options& options = options_for()) {
  const auto whole = run_client(server_bytes, {}, steps, options);
  for (std::size_t cut = 1; cut < server_bytes.size(); ++cut) {
    const auto split = run_client(server_bytes, {cut}, steps, options);
    if (split.log != whole.log || split.output != whole.output || split.failures != whole.failures)
      throw std::runtime_error("split at " + std::to_string(cut) + " differs:\n" + split.log + split.failures + "---\n" +
                               whole.log + whole.failures);
  }
  std::vector<std::size_t> bytes;
  for (std::size_t i = 1; i < server_bytes.size(); ++i) bytes.push_back(i);
  const auto by_byte = run_client(server_bytes, bytes, steps, options);
  if (by_byte.log != whole.log || by_byte.output != whole.output || by_byte.failures != whole.failures) throw std::runtime_error("byte by byte differs");
  return whole;
}

}  // namespace sansmtp::test
