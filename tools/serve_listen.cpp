// serve --listen: sansmtp's Asio server driver around the serve
// application, on as many threads as asked, until SIGINT/SIGTERM.
#include "commands.hpp"
#include "serve_modes.hpp"

#include <fmt/format.h>

#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/signal_set.hpp>
#include <asio/strand.hpp>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <thread>
#include <vector>

namespace sansmtp::cli {
namespace {

std::string format_endpoint(const asio::ip::address& address, std::uint16_t port) {
  return endpoint_text(address.to_string(), port);
}

// Empty when the peer's address could not be read.
std::string format_peer(const drivers::peer_info& peer) {
  return peer.address.empty() ? std::string() : endpoint_text(peer.address, peer.port);
}

}  // namespace

int run_listen(const serve_config& config, listen_settings settings) {
  // A peer that resets a connection must not kill the process through a
  // write (Asio sends with MSG_NOSIGNAL; this covers the rest).
  std::signal(SIGPIPE, SIG_IGN);
  asio::io_context io(static_cast<int>(settings.threads));
  auto control = asio::make_strand(io);  // the signals and what stops them
  asio::signal_set signals(control, SIGINT, SIGTERM);

  std::atomic<std::uint64_t> next_session{1};
  settings.driver.on_refused = [&config](const drivers::peer_info& peer, drivers::refusal why) {
    config.log->write(
        {{"event", "refused"}, {"peer", format_peer(peer)}, {"reason", std::string(drivers::refusal_name(why))}});
    // Over max_sessions the driver greets it with 421 4.3.2 (no session, so
    // no session number); an untrusted proxy gets nothing.
    if (why == drivers::refusal::max_sessions)
      config.log->write({{"event", "reply"}, {"code", 421}, {"peer", format_peer(peer)}});
  };
  // By reference: these hooks outlive `io` in `settings`, and a copy of the
  // strand must not (it would refer to the destroyed io_context's service).
  settings.driver.on_drained = [&signals, &control] {
    asio::post(control, [&signals] { signals.cancel(); });
  };
  drivers::server_driver driver(
      io, settings.driver,
      [&config, &next_session](const drivers::peer_info& peer) {
        return std::make_unique<serve_session>(config, next_session++, format_peer(peer), peer.address);
      },
      settings.tls);
  if (const auto ec = driver.listen(settings.at)) {
    fmt::print(stderr, "sansmtp serve: cannot listen on {}: {}\n",
               format_endpoint(settings.at.address(), settings.at.port()), ec.message());
    return exit_fail;
  }
  const auto at = driver.local_endpoint();
  if (!at.address().is_loopback())
    fmt::print(stderr,
               "sansmtp serve: warning: listening on {}, which other hosts can reach; serve accepts mail "
               "from anyone\n",
               format_endpoint(at.address(), at.port()));
  // One line with the real port (port 0 picks one), for scripts to read.
  fmt::print("listening on {}\n", format_endpoint(at.address(), at.port()));
  std::fflush(stdout);

  // The first signal starts the graceful shutdown; a second one cuts the
  // grace period short.
  int signals_seen = 0;
  std::function<void()> wait_for_signal = [&] {
    signals.async_wait([&](const std::error_code& ec, int number) {
      if (ec) return;
      ++signals_seen;
      config.log->write({{"event", "shutdown"}, {"signal", number}});
      driver.shutdown(signals_seen == 1 ? std::chrono::steady_clock::duration(settings.grace)
                                        : std::chrono::steady_clock::duration::zero());
      wait_for_signal();
    });
  };
  wait_for_signal();

  std::vector<std::thread> pool;
  for (std::size_t i = 1; i < settings.threads; ++i) pool.emplace_back([&io] { io.run(); });
  io.run();
  for (auto& t : pool) t.join();
  return exit_pass;
}

}  // namespace sansmtp::cli
