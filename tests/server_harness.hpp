// Tests: drives a sansmtp::server over input cut into chunks, with an
// application that answers every event the way a permissive MTA would, and
// renders what happened as one canonical log. The log leaves out what
// depends on timing (how data was split into pieces, the pipelining and
// early-talker flags), so the same input must give the same log and the
// same output whatever the chunking.
#pragma once

#include "must.hpp"

// GCC 12 reports a false -Wrestrict on "literal" + std::string (GCC PR
// 105329); the log is built that way.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wrestrict"
#endif

#include <sansmtp/session/server.hpp>

#include "command_describe.hpp"

#include <algorithm>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace sansmtp::test {

inline std::string shown(std::string_view s) {
  std::string out;
  for (const char c : s) {
    if (c == '\r') out += "\\r";
    else if (c == '\n') out += "\\n";
    else if (static_cast<unsigned char>(c) < 32 || static_cast<unsigned char>(c) >= 127) {
      static constexpr char hex[] = "0123456789abcdef";
      out += "\\x";
      out += hex[static_cast<unsigned char>(c) >> 4];
      out += hex[static_cast<unsigned char>(c) & 15];
    } else {
      out += c;
    }
  }
  return out;
}

struct session_result {
  std::string log;     // one line per event, canonical
  std::string output;  // everything the server wrote
  std::vector<std::string> messages;  // bodies of the messages that ended without error
  bool closed = false;
  std::vector<bool> pipelined_flags, early_flags;  // per command event, in order
  std::size_t most_buffered = 0;  // the largest buffered_bytes() seen
};

// How the application answers; the defaults accept everything.
struct responder {
  // Called for each command event; return false to use the default answer.
  std::function<bool(server&, const server_event::command&)> on_command;
  bool tls_handshake_succeeds = true;
  int greeting = 220;
  // After the input's first `interrupt_at` octets are in (and their events
  // answered), the timer fires (on_timeout()) or the server goes down
  // (shutdown()); the log says "interrupt". Nothing when interrupt_at is npos.
  enum class interruption { timeout, shutdown };
  std::size_t interrupt_at = std::string_view::npos;
  interruption interrupt = interruption::timeout;
};

inline void default_answer(server& s, const server_event::command& c) {
  const auto& v = c.value;
  if (std::holds_alternative<cmd::ehlo>(v) || std::holds_alternative<cmd::lhlo>(v)) {
    test::must(s.send_ehlo_reply("hello"), "send_ehlo_reply");
  } else if (std::holds_alternative<cmd::data>(v)) {
    test::must(s.send(354, "End data with <CR><LF>.<CR><LF>"), "send");
  } else if (std::holds_alternative<cmd::quit>(v)) {
    test::must(s.send(221, "2.0.0 Bye"), "send");
  } else if (std::holds_alternative<cmd::starttls>(v)) {
    test::must(s.send(220, "2.0.0 Ready to start TLS"), "send");
  } else if (std::holds_alternative<cmd::auth>(v)) {
    const auto& a = std::get<cmd::auth>(v);
    if (a.initial_response)
      test::must(s.send(235, "2.7.0 Authentication successful"), "send");
    else
      test::must(s.send(334, ""), "send");
  } else if (std::holds_alternative<cmd::vrfy>(v)) {
    test::must(s.send(252, "2.5.0 Cannot VRFY user"), "send");
  } else if (std::holds_alternative<cmd::help>(v)) {
    test::must(s.send(214, "2.0.0 See RFC 5321"), "send");
  } else if (!std::holds_alternative<cmd::bdat>(v)) {
    test::must(s.send(250, "2.0.0 Ok"), "send");
  }
}

// The errors of a PROXY header (server_options::proxy_protocol): fatal,
// with no reply at all (proxy-protocol.txt section 2).
inline bool is_proxy_error(errc code) noexcept {
  return code == errc::bad_proxy_header || code == errc::proxy_header_too_long ||
         code == errc::proxy_version_not_allowed || code == errc::bad_proxy_address || code == errc::bad_proxy_tlv ||
         code == errc::proxy_checksum_mismatch;
}

// What every event promises an application that sends what it suggests:
// a reply exactly where one is owed (every event but need_data, paused,
// message_data, transaction_reset, peer_closed, proxied, a PROXY header's
// fatal_error and the BDAT command), and
// one that the reply writer takes (a valid code, an enhanced status of the
// code's class, text without controls). Checked on every event of every
// session test and fuzz input.
inline void check_suggestion(const server_event_t& event) {
  const auto* c = std::get_if<server_event::command>(&event);
  const bool owed = (c && !std::holds_alternative<cmd::bdat>(c->value)) ||
                    std::holds_alternative<server_event::bad_command>(event) ||
                    std::holds_alternative<server_event::chunk_end>(event) ||
                    std::holds_alternative<server_event::message_end>(event) ||
                    std::holds_alternative<server_event::auth_response>(event) ||
                    (std::holds_alternative<server_event::fatal_error>(event) &&
                     !is_proxy_error(std::get<server_event::fatal_error>(event).code));
  const reply* suggested = suggested_reply(event);
  if (owed != (suggested != nullptr))
    throw std::logic_error("event " + std::to_string(event.index()) + (owed ? " owes a reply and suggests none"
                                                                           : " owes none and suggests one"));
  if (!suggested) return;
  std::string wire;
  if (const auto ec = write_reply(wire, suggested->code, suggested->enhanced, suggested->lines))
    throw std::logic_error("the suggested " + std::to_string(suggested->code) + " cannot be written: " + ec.message());
}

// Runs `input` through a server cut at `cuts` (ascending offsets); EOF at
// the end when `eof`.
inline session_result run_session(std::string_view input, const std::vector<std::size_t>& cuts,
                                  const server_options& options = {}, const responder& app = {},
                                  bool eof = true) {
  server s(options);
  session_result r;
  std::string body;
  bool tls_waiting = false;
  const auto drain = [&] {
    for (;;) {
      auto event = s.next_event();
      check_suggestion(event);
      if (std::holds_alternative<server_event::need_data>(event)) return;
      if (const auto* p = std::get_if<server_event::paused>(&event)) {
        // The handshake waits until the client's plaintext is all in: a
        // client may have sent more after STARTTLS, and those bytes belong
        // before the handshake whatever the chunking (trailing_data()).
        if (p->why == server_event::paused::reason::tls_handshake) tls_waiting = true;
        return;
      }
      if (auto* c = std::get_if<server_event::command>(&event)) {
        r.log += "cmd " + describe(c->value);
        if (c->notes.trailing_whitespace) r.log += " +ws";
        r.log += "\n";
        r.pipelined_flags.push_back(c->unadvertised_pipelining);
        r.early_flags.push_back(c->before_greeting);
        if (!app.on_command || !app.on_command(s, *c)) default_answer(s, *c);
      } else if (const auto* b = std::get_if<server_event::bad_command>(&event)) {
        r.log += "bad " + std::to_string(b->suggested.code) + " " + std::string(errc_name(b->error.code)) + " [" +
                 shown(b->line) + "]\n";
        test::must(s.send(b->suggested), "send");
      } else if (const auto* d = std::get_if<server_event::message_data>(&event)) {
        body.append(d->bytes.data(), d->bytes.size());
      } else if (const auto* k = std::get_if<server_event::chunk_end>(&event)) {
        r.log += "chunk " + std::to_string(k->size) + "\n";
        test::must(s.send(250, "2.0.0 Chunk accepted"), "send");
      } else if (const auto* e = std::get_if<server_event::message_end>(&event)) {
        // What an application kept of the transaction is exactly its message:
        // every octet since the transaction began (or was last reset), no more.
        if (!e->error && body.size() != e->size)
          throw std::logic_error("message_end says " + std::to_string(e->size) + " octets, message_data gave " +
                                 std::to_string(body.size()) + " since the transaction began");
        r.log += "end size=" + std::to_string(e->size);
        if (e->error) r.log += " " + std::string(e->error->name()) + "@" + std::to_string(e->error->offset);
        r.log += " [" + shown(body) + "]\n";
        if (!e->error) r.messages.push_back(body);
        body.clear();
        for (std::size_t i = 0; i < e->replies_owed; ++i)
          test::must(e->error ? s.send(e->suggested) : s.send(250, "2.0.0 Queued"), "send");
      } else if (const auto* a = std::get_if<server_event::auth_response>(&event)) {
        r.log += a->value.cancelled ? "auth cancel\n" : "auth response\n";
        if (a->value.cancelled)
          test::must(s.send(501, "5.7.0 Authentication cancelled"), "send");
        else
          test::must(s.send(235, "2.7.0 Authentication successful"), "send");
      } else if (const auto* t = std::get_if<server_event::transaction_reset>(&event)) {
        using why = server_event::transaction_reset::reason;
        r.log += std::string("reset ") +
                 (t->why == why::rset ? "rset" : t->why == why::hello ? "hello" : "tls") + "\n";
        body.clear();
      } else if (const auto* pc = std::get_if<server_event::peer_closed>(&event)) {
        r.log += pc->unfinished ? "closed unfinished\n" : "closed\n";
      } else if (const auto* f = std::get_if<server_event::fatal_error>(&event)) {
        // CVE-2011-0411: whether the injection is seen with STARTTLS (554
        // instead of the command event) or at the handshake (after it)
        // depends on when the bytes came; the log says the same either way.
        r.log += f->code == errc::starttls_injection ? std::string("cmd STARTTLS\nstarttls injection\n")
                                                     : "fatal " + std::string(errc_name(f->code)) + "\n";
        if (f->suggested.code) test::must(s.send(f->suggested), "send");
      } else if (const auto* px = std::get_if<server_event::proxied>(&event)) {
        // The greeting is owed once the PROXY header is in, not before.
        const auto& h = px->header;
        r.log += "proxy v" + std::to_string(static_cast<int>(h.version)) +
                 (h.has_addresses() ? " " + h.source_address + " " + std::to_string(h.source_port) : " local") + "\n";
        if (s.proxy() != nullptr && s.proxy()->source_address == h.source_address)
          test::must(s.send(app.greeting, "mx.example ESMTP"), "send");
        else
          throw std::logic_error("proxy() does not hold the header of the proxied event");
      }
    }
  };
  if (!options.proxy_protocol) {
    test::must(s.send(app.greeting, "mx.example ESMTP"), "send");
  } else if (!s.send(app.greeting, "mx.example ESMTP")) {
    throw std::logic_error("a greeting was taken before the PROXY header");
  }
  std::vector<std::size_t> bounds(cuts);
  const bool interrupting = app.interrupt_at <= input.size();
  if (interrupting)  // a bound of its own (an empty first chunk when 0), to fire once after it
    bounds.insert(std::lower_bound(bounds.begin(), bounds.end(), app.interrupt_at), app.interrupt_at);
  bool interrupted = false;
  const auto interrupt = [&] {
    interrupted = true;
    if (app.interrupt == responder::interruption::timeout)
      s.on_timeout();
    else
      s.shutdown();
    r.log += "interrupt\n";
    drain();
  };
  std::size_t from = 0;
  for (std::size_t i = 0; i <= bounds.size(); ++i) {
    const std::size_t to = i < bounds.size() ? bounds[i] : input.size();
    std::string_view chunk = input.substr(from, to - from);
    from = to;
    // Push what fits; drain; repeat (a driver reads at most receive_capacity()).
    while (!chunk.empty()) {
      const auto n = std::min(chunk.size(), s.receive_capacity());
      if (n == 0) {
        drain();
        if (s.receive_capacity() == 0) break;  // closed, or stuck: the log shows it
        continue;
      }
      test::must(s.receive(chunk.substr(0, n)), "receive");
      r.most_buffered = std::max(r.most_buffered, s.buffered_bytes());
      chunk.remove_prefix(n);
      drain();
    }
    if (interrupting && !interrupted && to == app.interrupt_at) interrupt();
  }
  if (tls_waiting && app.tls_handshake_succeeds && !s.closed()) {
    const auto ec = s.tls_established();
    r.log += ec ? std::string("starttls injection\n") : std::string("tls up\n");
  }
  if (eof && !s.closed()) test::must(s.receive_eof(), "receive_eof");
  drain();
  const auto out = s.pending_output();
  r.output.assign(out.data(), out.size());
  r.closed = s.closed();
  return r;
}

// Runs whole, byte by byte and split at every point; all must agree. Returns
// the whole run's result.
inline session_result run_every_way(std::string_view input, const server_options& options = {},
                                    const responder& app = {}, bool eof = true) {
  const auto whole = run_session(input, {}, options, app, eof);
  std::vector<std::size_t> bytes;
  for (std::size_t i = 1; i < input.size(); ++i) bytes.push_back(i);
  const auto by_byte = run_session(input, bytes, options, app, eof);
  if (by_byte.log != whole.log || by_byte.output != whole.output)
    throw std::runtime_error("byte by byte differs:\n" + by_byte.log + "---\n" + whole.log);
  for (std::size_t cut = 1; cut < input.size(); ++cut) {
    const auto split = run_session(input, {cut}, options, app, eof);
    if (split.log != whole.log || split.output != whole.output)
      throw std::runtime_error("split at " + std::to_string(cut) + " differs:\n" + split.log + "---\n" +
                               whole.log + "\noutput:\n" + shown(split.output) + "\n---\n" + shown(whole.output));
  }
  return whole;
}

// The reply codes in the output, in order ("220 250 250 354 250 221").
inline std::string reply_codes(std::string_view output) {
  std::string codes;
  std::size_t start = 0;
  while (start < output.size()) {
    const auto end = output.find("\r\n", start);
    const auto line = output.substr(start, end - start);
    if (line.size() >= 4 && line[3] == ' ') codes += (codes.empty() ? "" : " ") + std::string(line.substr(0, 3));
    if (line.size() == 3) codes += (codes.empty() ? "" : " ") + std::string(line);
    if (end == std::string_view::npos) break;
    start = end + 2;
  }
  return codes;
}

}  // namespace sansmtp::test
