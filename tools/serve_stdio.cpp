// serve --stdio: the canonical pull loop of DESIGN.md with read(2) and
// write(2), around the same application as serve --listen.
#include "commands.hpp"
#include "maildir.hpp"
#include "serve_modes.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <vector>

namespace sansmtp::cli {
namespace {

// Writes everything the session has to say (it may hand its output out in
// more than one piece).
bool flush(server& session) {
  for (auto out = session.pending_output(); !out.empty(); out = session.pending_output()) {
    if (!write_all(STDOUT_FILENO, out)) return false;
    session.consume_output(out.size());
  }
  return true;
}

}  // namespace

int run_stdio(const serve_config& config, const server_options& options) {
  server session(options);
  serve_session app(config, 0, {});
  app.on_connect(session);
  std::vector<char> buffer(64 * 1024);
  for (;;) {
    if (!flush(session)) {
      app.on_close(drivers::close_reason::io_error);
      return exit_fail;
    }
    if (session.closed()) break;
    if (session.wants_read()) {
      const auto want = std::min(buffer.size(), session.receive_capacity());
      const auto n = ::read(STDIN_FILENO, buffer.data(), want);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0)
        session.receive_eof();
      else
        session.receive(std::string_view(buffer.data(), static_cast<std::size_t>(n)));
    }
    for (;;) {
      const auto event = session.next_event();
      if (std::holds_alternative<server_event::need_data>(event)) break;
      if (const auto* p = std::get_if<server_event::paused>(&event)) {
        // No TLS on stdio; a reply left owed would be this program's bug.
        if (p->why == server_event::paused::reason::reply_owed) {
          app.on_close(drivers::close_reason::handler_failed);
          return exit_fail;
        }
        break;
      }
      app.on_event(session, event);
    }
  }
  app.on_close(drivers::close_reason::session_closed);
  return exit_pass;
}

}  // namespace sansmtp::cli
