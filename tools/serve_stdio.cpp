// serve --stdio: the canonical pull loop of docs/design.md with ppoll(2), read(2)
// and write(2), around the same application as serve --listen.
//
// Time: while the session waits for the peer, the wait is bounded by the
// session's timeout() (RFC 5321 §4.5.3.2.7, --timeout), as on TCP; when it
// runs out the peer gets on_timeout()'s 421 4.4.2 and the process exits.
// The peer going away: SIGPIPE is ignored, so a write to a closed stdout is
// EPIPE, taken as the peer closing (like EOF on stdin). SIGTERM, SIGINT and
// SIGHUP (unless ignored when the process started) end the session with
// 421 4.3.2 (RFC 5321 §3.8). Whatever the way out, a message being received
// is removed from tmp/ (the serve_session's on_close and destructor).
#include "commands.hpp"
#include "maildir.hpp"
#include "serve_modes.hpp"

#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <ctime>
#include <optional>
#include <utility>
#include <vector>

namespace sansmtp::cli {
namespace {

volatile std::sig_atomic_t stop_signal = 0;

void on_stop_signal(int number) { stop_signal = number; }

constexpr int stop_signals[] = {SIGTERM, SIGINT, SIGHUP};

// Installs the handler (without SA_RESTART: a blocked read or write returns
// EINTR) for each stop signal not ignored by whoever started the process
// (nohup, an inetd that ignores SIGHUP).
void catch_stop_signals() {
  for (const int s : stop_signals) {
    struct sigaction old {};
    if (::sigaction(s, nullptr, &old) != 0 || old.sa_handler == SIG_IGN) continue;
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;
    ::sigaction(s, &sa, nullptr);
  }
}

enum class io_status { ok, peer_closed, failed, stopped };

// Writes everything the session has to say (it may hand its output out in
// more than one piece). EPIPE: the peer closed its end.
io_status flush(server& session) {
  for (auto out = session.pending_output(); !out.empty(); out = session.pending_output()) {
    const auto n = ::write(STDOUT_FILENO, out.data(), out.size());
    if (n < 0 && errno == EINTR) {
      if (stop_signal) return io_status::stopped;  // a peer that stopped reading cannot hold us
      continue;
    }
    if (n < 0 && errno == EPIPE) return io_status::peer_closed;
    if (n <= 0) return io_status::failed;
    session.consume_output(static_cast<std::size_t>(n));
  }
  return io_status::ok;
}

// Waits until stdin is readable, the deadline has passed (false) or a stop
// signal came (true, stop_signal set); no deadline: no limit. The stop
// signals are blocked but during ppoll(), so one that comes just before the
// wait is not lost.
bool wait_readable(std::optional<std::chrono::steady_clock::time_point> deadline) {
  sigset_t blocked, during;
  sigemptyset(&blocked);
  for (const int s : stop_signals) sigaddset(&blocked, s);
  ::sigprocmask(SIG_BLOCK, &blocked, &during);
  for (const int s : stop_signals) sigdelset(&during, s);
  bool ready = true;
  while (!stop_signal) {
    pollfd p{STDIN_FILENO, POLLIN, 0};
    timespec left{};
    if (deadline) {
      const auto rest = std::max(*deadline - std::chrono::steady_clock::now(), std::chrono::steady_clock::duration::zero());
      const auto s = std::chrono::duration_cast<std::chrono::seconds>(rest);
      left.tv_sec = static_cast<std::time_t>(s.count());
      left.tv_nsec = static_cast<long>(std::chrono::duration_cast<std::chrono::nanoseconds>(rest - s).count());
    }
    const int r = ::ppoll(&p, 1, deadline ? &left : nullptr, &during);
    if (r < 0 && errno == EINTR) continue;
    ready = r != 0;  // readable, hung up, or an error read() will report
    break;
  }
  ::sigprocmask(SIG_UNBLOCK, &blocked, nullptr);
  return ready;
}

}  // namespace

int run_stdio(const serve_config& config, const server_options& options) {
  // A peer that vanishes must not kill the process (and leave a partial
  // message in tmp/) through a write to the closed pipe or socket.
  std::signal(SIGPIPE, SIG_IGN);
  stop_signal = 0;
  catch_stop_signals();
  server session(options);
  serve_session app(config, 0, {});
  if (!options.proxy_protocol) app.on_connect(session);  // behind a proxy: once its header is read
  std::vector<char> buffer(64 * 1024);
  auto reason = drivers::close_reason::session_closed;
  int status = exit_pass;
  // RFC 5321 §4.5.3.2.7: the timeout bounds a whole command; its deadline
  // moves only when the session's wait starts over (timeout_epoch()), not
  // with every octet a peer drips in.
  std::optional<std::pair<std::uint64_t, std::chrono::steady_clock::time_point>> wait;
  for (;;) {
    if (stop_signal && !session.closed()) {
      session.shutdown();  // RFC 5321 §3.8: 421 4.3.2 after what is pending
      reason = drivers::close_reason::shutdown;
    }
    if (const auto written = flush(session); written != io_status::ok) {
      if (written == io_status::peer_closed) {
        app.on_close(drivers::close_reason::peer_closed);
        return exit_pass;  // as EOF on stdin
      }
      if (written == io_status::stopped) {
        app.on_close(drivers::close_reason::shutdown);
        return exit_pass;
      }
      app.on_close(drivers::close_reason::io_error);
      return exit_fail;
    }
    if (session.closed()) break;
    if (session.wants_read()) {
      const auto epoch = session.timeout_epoch();
      if (session.timeout() <= std::chrono::seconds::zero())
        wait.reset();
      else if (!wait || wait->first != epoch)
        wait.emplace(epoch, std::chrono::steady_clock::now() + session.timeout());
      if (!wait_readable(wait ? std::optional(wait->second) : std::nullopt)) {
        if (stop_signal) continue;
        session.on_timeout();  // 421 4.4.2, written on the next turn; the session is closed
        reason = drivers::close_reason::timeout;
        status = exit_fail;
        continue;
      }
      if (stop_signal) continue;
      const auto want = std::min(buffer.size(), session.receive_capacity());
      const auto n = ::read(STDIN_FILENO, buffer.data(), want);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        (void)session.receive_eof();  // refused only after the end: nothing to tell
        if (reason == drivers::close_reason::session_closed) reason = drivers::close_reason::peer_closed;
      } else {
        (void)session.receive(std::string_view(buffer.data(), static_cast<std::size_t>(n)));  // n <= receive_capacity()
      }
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
      if (std::holds_alternative<server_event::proxied>(event)) app.on_connect(session);
    }
  }
  app.on_close(reason);
  return status;
}

}  // namespace sansmtp::cli
