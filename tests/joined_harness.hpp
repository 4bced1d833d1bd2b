// A client submitting through a server in memory, bytes moved both ways in
// random chunks: the fixture docs/design.md names for session tests, shared by
// tests/test_client.cpp and fuzz/fuzz_session_pair.cpp.
//
// The server application refuses recipients whose local part starts with
// "no" (550 5.1.1) and accepts everything else; it records each delivered
// message with its envelope as the server saw it.
#pragma once

#include "must.hpp"

#include <sansmtp/advice/describe.hpp>
#include <sansmtp/session/client.hpp>
#include <sansmtp/syntax/command_builder.hpp>
#include <sansmtp/session/server.hpp>

#include "client_harness.hpp"
#include "server_harness.hpp"

#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace sansmtp::test {

struct delivered_message {
  std::string mail_from;
  std::vector<std::string> rcpt_to;  // the recipients the server accepted
  std::string body;
  std::string error;  // the message_end error name, if the server refused the data
};

struct joined_result {
  std::vector<recipient_result> results;
  std::size_t transactions = 0;
  std::vector<std::string> delivered;          // bodies the server accepted
  std::vector<std::size_t> rcpts_per_message;  // recipients each delivered message had
  std::vector<delivered_message> messages;     // every end of data the server saw
  std::string client_log;
  bool submitted = false;
  std::error_code submit_error;  // submit() refused the submission
  std::string failure;           // what went wrong in the harness itself (empty: nothing)
};

struct joined_chunking {
  unsigned seed = 0;
  std::size_t piece = 7;            // message_source piece size
  std::size_t max_to_client = 200;  // largest server->client move
  std::size_t max_to_server = 200;  // largest client->server move
  bool streamed = false;            // a streamed (copied) source instead of a memory_source
};

inline joined_result run_joined(const server_options& so, const client_options& co, const envelope& env,
                                std::string_view message, const joined_chunking& k) {
  std::mt19937 rng(k.seed);
  server s(so);
  test::must(s.send(220, "mx.example.net ESMTP"), "send");
  client c(co);
  memory_source stable(message, k.piece);
  streamed_source streamed(message, k.piece);
  message_source& source = k.streamed ? static_cast<message_source&>(streamed) : stable;
  joined_result out;
  delivered_message current;
  bool quit_sent = false;
  for (int turn = 0; turn < 200000 && !c.closed(); ++turn) {
    // Server to client: part of the first run.
    const auto to_client = s.pending_output();
    std::size_t n = std::min<std::size_t>({to_client.size(), 1 + rng() % k.max_to_client, c.receive_capacity()});
    if (n) {
      test::must(c.receive({to_client.data(), n}), "receive");
      s.consume_output(n);
    }
    for (;;) {
      const auto e = c.next_event();
      if (const auto* r = std::get_if<client_event::reply>(&e)) {
        out.client_log += std::string(answered_command_text(r->answered)) + " " + std::to_string(r->value.code) + "\n";
        if (r->answered == answered_command::greeting && r->value.code == 220 && c.send_hello()) {
          out.failure = "send_hello refused";
          return out;
        }
        if ((r->answered == answered_command::ehlo || r->answered == answered_command::helo) && !out.submitted &&
            !out.submit_error && r->value.code / 100 == 2) {
          out.submit_error = c.submit(env, source);
          if (out.submit_error) {
            test::must(c.send(make_quit()->command()), "send");
            quit_sent = true;
          }
        }
        continue;
      }
      if (const auto* sub = std::get_if<client_event::submitted>(&e)) {
        out.results.assign(sub->recipients.begin(), sub->recipients.end());
        out.transactions = sub->transactions;
        out.submitted = true;
        continue;
      }
      if (const auto* p = std::get_if<client_event::paused>(&e)) {
        if (p->why == client_event::paused::reason::ready && out.submitted && !quit_sent) {
          if (c.send(make_quit()->command())) {
            out.failure = "QUIT refused";
            return out;
          }
          quit_sent = true;
        }
        break;
      }
      if (const auto* f = std::get_if<client_event::fatal_error>(&e)) {
        out.failure = "client fatal: " + sansmtp::describe(*f);
        return out;
      }
      break;
    }
    // Client to server: as writev would, run after run, within what the
    // server can take.
    std::size_t budget = std::min<std::size_t>(1 + rng() % k.max_to_server, s.receive_capacity());
    std::size_t moved = 0;
    for (const auto run : c.pending_output_spans(64)) {  // as a writev: a bounded number of runs per call
      const std::size_t take = std::min(budget, run.size());
      if (take == 0) break;
      test::must(s.receive({run.data(), take}), "receive");
      moved += take;
      budget -= take;
    }
    c.consume_output(moved);
    for (;;) {
      auto e = s.next_event();
      check_suggestion(e);  // a reply suggested exactly where one is owed, and a writable one
      if (std::holds_alternative<server_event::need_data>(e) || std::holds_alternative<server_event::paused>(e)) break;
      if (const auto* cmd = std::get_if<server_event::command>(&e)) {
        if (const auto* r = std::get_if<cmd::rcpt>(&cmd->value); r && r->forward_path.local_part.starts_with("no")) {
          test::must(s.send(550, "5.1.1 No such user"), "send");
          continue;
        }
        if (const auto* m = std::get_if<cmd::mail>(&cmd->value)) {
          current = {};
          current.mail_from = std::string(m->reverse_path.address());
        }
        if (const auto* r = std::get_if<cmd::rcpt>(&cmd->value))
          current.rcpt_to.push_back(std::string(r->forward_path.address()));
        default_answer(s, *cmd);
      } else if (std::holds_alternative<server_event::transaction_reset>(e)) {
        current = {};  // RSET (after a failed transaction), a new EHLO: nothing of it is kept
      } else if (const auto* d = std::get_if<server_event::message_data>(&e)) {
        current.body.append(d->bytes.data(), d->bytes.size());
      } else if (std::holds_alternative<server_event::chunk_end>(e)) {
        test::must(s.send(250, "2.0.0 Chunk accepted"), "send");
      } else if (const auto* end = std::get_if<server_event::message_end>(&e)) {
        if (end->error) {
          current.error = std::string(end->error->name());
          test::must(s.send(end->suggested), "send");
        } else {
          if (current.body.size() != end->size)
            out.failure = "message_end says " + std::to_string(end->size) + " octets, message_data gave " +
                          std::to_string(current.body.size());
          out.delivered.push_back(current.body);
          out.rcpts_per_message.push_back(current.rcpt_to.size());
          for (std::size_t i = 0; i < end->replies_owed; ++i) test::must(s.send(250, "2.0.0 Queued"), "send");
        }
        out.messages.push_back(current);
        current.body.clear();
        current.error.clear();
      } else if (const auto* b = std::get_if<server_event::bad_command>(&e)) {
        // The one refusal a correct client causes: DATA (or BDAT) pipelined
        // behind RCPTs that were all refused (RFC 2920 §3.1: 554).
        const std::string_view line = b->line;
        const bool data_without_rcpt = current.rcpt_to.empty() && (line.starts_with("DATA") || line.starts_with("BDAT"));
        if (!data_without_rcpt) out.failure = "the server refused a client line: " + shown(b->line);
        test::must(s.send(b->suggested), "send");
      } else if (const auto* f = std::get_if<server_event::fatal_error>(&e)) {
        out.failure = "server fatal: " + std::string(errc_name(f->code));
        if (f->suggested.code) test::must(s.send(f->suggested), "send");
      }
    }
  }
  if (!c.closed() && out.failure.empty()) out.failure = "the session did not end";
  return out;
}

}  // namespace sansmtp::test
