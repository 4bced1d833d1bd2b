// The listener of server_driver: accepts connections, counts them against
// max_sessions, and runs the graceful shutdown (RFC 5321 §3.8).
#include <sansmtp/asio/server_driver.hpp>

#include <sansmtp/asio/server_connection.hpp>

#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/strand.hpp>

#include <exception>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace sansmtp::drivers {

struct server_driver::state final : connection_owner, std::enable_shared_from_this<state> {
  state(asio::io_context& context, server_driver_options o, handler_factory f, asio::ssl::context* t)
      : io(context),
        opts(std::move(o)),
        factory(std::move(f)),
        tls_context(t),
        strand(asio::make_strand(context)),
        acceptor(strand),
        grace_timer(strand),
        retry_timer(strand) {}

  const server_driver_options& options() const noexcept override { return opts; }
  asio::ssl::context* tls() const noexcept override { return tls_context; }

  void release(std::uint64_t id) override {
    if (id == 0) return;
    std::lock_guard lock(mutex);
    live.erase(id);
    if (const auto a = address_of.find(id); a != address_of.end()) {
      if (const auto n = per_address.find(a->second); n != per_address.end() && --n->second == 0) per_address.erase(n);
      address_of.erase(a);
    }
    if (draining && live.empty()) report_drained();
  }

  // Under `mutex`.
  void report_drained() {
    if (drained) return;
    drained = true;
    asio::post(strand, [self = shared_from_this()] {
      self->grace_timer.cancel();
      if (self->opts.on_drained) self->opts.on_drained();
    });
  }

  void accept() {
    // Each connection gets its own strand: its handlers never run
    // concurrently, whatever number of threads run the io_context.
    acceptor.async_accept(asio::any_io_executor(asio::make_strand(io)),
                          [self = shared_from_this()](const std::error_code& ec, asio::ip::tcp::socket socket) {
                            self->on_accept(ec, std::move(socket));
                          });
  }

  void on_accept(const std::error_code& ec, asio::ip::tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) return;
    if (ec) {  // out of descriptors or memory, or the peer gave up: try again shortly
      retry_timer.expires_after(std::chrono::milliseconds(100));
      retry_timer.async_wait([self = shared_from_this()](const std::error_code& e) {
        if (!e && self->acceptor.is_open()) self->accept();
      });
      return;
    }
    peer_info peer;
    std::error_code peer_ec;
    if (const auto remote = socket.remote_endpoint(peer_ec); !peer_ec) {
      peer.address = remote.address().to_string();
      peer.port = remote.port();
    }
    // proxy-protocol.txt section 5: a PROXY header is read only from a
    // trusted proxy; anyone else is closed before a byte is read or written.
    const auto address = client_address(socket);
    if (opts.session.proxy_protocol && !trusted_proxy(address)) {
      if (opts.on_refused) opts.on_refused(peer, refusal::untrusted_proxy);
      std::error_code ignored;
      socket.close(ignored);
      return accept();
    }
    bool refuse = false;
    refusal why = refusal::max_sessions;
    const auto key = address ? address->to_string() : std::string();
    {
      std::lock_guard lock(mutex);
      const bool fast = over_rate(key);
      if (opts.max_sessions != 0 && live.size() >= opts.max_sessions) {
        refuse = true;
      } else if (const auto n = per_address.find(key); opts.max_sessions_per_address != 0 &&
                                                            n != per_address.end() &&
                                                            n->second >= opts.max_sessions_per_address) {
        refuse = true;
        why = refusal::max_per_address;
      } else if (fast) {
        refuse = true;
        why = refusal::connection_rate;
      }
    }
    std::unique_ptr<server_handler> handler;
    if (!refuse) {
      try {
        handler = factory(peer);
      } catch (const std::exception&) {  // the application cannot take it: refuse like an overload
      }
      refuse = !handler;
    }
    auto connection =
        std::make_shared<server_connection>(shared_from_this(), std::move(socket), std::move(handler), why);
    std::uint64_t id = 0;
    if (!refuse) {
      std::lock_guard lock(mutex);
      id = next_id++;
      live.emplace(id, connection);
      ++per_address[key];
      address_of.emplace(id, key);
    } else if (opts.on_refused) {
      opts.on_refused(peer, why);
    }
    asio::post(connection->executor(), [connection, id] { connection->start(id); });
    accept();
  }

  // The peer's address, an IPv4-mapped IPv6 address as its IPv4 address
  // (what the per-address counts and the proxy trust list go by); nullopt
  // when the socket cannot say.
  static std::optional<asio::ip::address> client_address(const asio::ip::tcp::socket& socket) {
    std::error_code ec;
    auto a = socket.remote_endpoint(ec).address();
    if (ec) return std::nullopt;
    if (a.is_v6() && a.to_v6().is_v4_mapped()) a = asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6());
    return a;
  }

  // Under `mutex`. Counts this connection from `address` and says whether
  // it is over max_connection_rate (the connections of the last interval,
  // this one included). Old times are dropped as they are met, and every
  // address once the table is large, so the table holds only the addresses
  // of the last interval.
  bool over_rate(const std::string& address) {
    const auto& rate = opts.max_connection_rate;
    if (rate.connections == 0 || rate.interval.count() <= 0) return false;
    const auto now = std::chrono::steady_clock::now();
    const auto expired = [&](std::vector<std::chrono::steady_clock::time_point>& times) {
      std::erase_if(times, [&](const auto& t) { return now - t >= rate.interval; });
      return times.empty();
    };
    if (recent.size() > 4096) {
      for (auto it = recent.begin(); it != recent.end();) it = expired(it->second) ? recent.erase(it) : std::next(it);
    }
    auto& times = recent[address];
    expired(times);
    times.push_back(now);
    return times.size() > rate.connections;
  }

  bool trusted_proxy(const std::optional<asio::ip::address>& a) const {
    if (!a) return false;
    return opts.proxy_from.empty() ? a->is_loopback() : contains_address(opts.proxy_from, *a);
  }

  // On the strand.
  void begin_shutdown(std::chrono::steady_clock::duration grace) {
    std::error_code ignored;
    acceptor.close(ignored);
    retry_timer.cancel();
    std::vector<std::shared_ptr<server_connection>> open;
    {
      std::lock_guard lock(mutex);
      const bool first = !draining;
      draining = true;
      if (first) open = snapshot();
      if (live.empty()) report_drained();
    }
    for (auto& c : open) asio::post(c->executor(), [c] { c->drain(); });
    grace_timer.expires_after(grace);
    grace_timer.async_wait([self = shared_from_this()](const std::error_code& ec) {
      if (ec) return;
      std::vector<std::shared_ptr<server_connection>> remaining;
      {
        std::lock_guard lock(self->mutex);
        remaining = self->snapshot();
      }
      for (auto& c : remaining) asio::post(c->executor(), [c] { c->force(); });
    });
  }

  // Under `mutex`.
  std::vector<std::shared_ptr<server_connection>> snapshot() const {
    std::vector<std::shared_ptr<server_connection>> out;
    for (const auto& [id, weak] : live)
      if (auto c = weak.lock()) out.push_back(std::move(c));
    return out;
  }

  asio::io_context& io;
  server_driver_options opts;
  handler_factory factory;
  asio::ssl::context* tls_context;
  asio::strand<asio::io_context::executor_type> strand;  // the acceptor and the timers
  asio::ip::tcp::acceptor acceptor;
  asio::ip::tcp::endpoint bound;  // set by listen()
  asio::steady_timer grace_timer;
  asio::steady_timer retry_timer;
  mutable std::mutex mutex;  // guards what follows: connections release from their own strands
  std::unordered_map<std::uint64_t, std::weak_ptr<server_connection>> live;
  std::unordered_map<std::string, std::size_t> per_address;      // live sessions per client address
  std::unordered_map<std::uint64_t, std::string> address_of;     // ... and each one's address
  std::unordered_map<std::string, std::vector<std::chrono::steady_clock::time_point>> recent;  // connection times
  std::uint64_t next_id = 1;
  bool draining = false;
  bool drained = false;
};

server_driver::server_driver(asio::io_context& io, server_driver_options options, handler_factory factory,
                             asio::ssl::context* tls)
    : state_(std::make_shared<state>(io, std::move(options), std::move(factory), tls)) {}

// The state lives on while connections and handlers still refer to it; the
// io_context must outlive it (destroying the io_context destroys them).
server_driver::~server_driver() = default;

std::error_code server_driver::listen(const asio::ip::tcp::endpoint& at) {
  // Implicit TLS needs a context; behind a proxy the PROXY header would come
  // before the handshake, in plaintext, which this driver does not read
  // (terminate TLS on the proxy instead: docs/deployment.md).
  const auto& session = state_->opts.session;
  if (session.implicit_tls && (!state_->tls_context || session.proxy_protocol))
    return std::make_error_code(std::errc::invalid_argument);
  auto& acceptor = state_->acceptor;
  std::error_code ec;
  acceptor.open(at.protocol(), ec);
  if (!ec) acceptor.set_option(asio::ip::tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor.bind(at, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (!ec) state_->bound = acceptor.local_endpoint(ec);
  if (ec) {
    std::error_code ignored;
    acceptor.close(ignored);
    return ec;
  }
  asio::post(state_->strand, [s = state_] { s->accept(); });
  return {};
}

// Kept from listen(): the acceptor itself belongs to the listener's strand.
asio::ip::tcp::endpoint server_driver::local_endpoint() const { return state_->bound; }

void server_driver::shutdown(std::chrono::steady_clock::duration grace) {
  asio::post(state_->strand, [s = state_, grace] { s->begin_shutdown(grace); });
}

std::size_t server_driver::sessions() const {
  std::lock_guard lock(state_->mutex);
  return state_->live.size();
}

}  // namespace sansmtp::drivers

namespace sansmtp::drivers {

std::string_view refusal_name(refusal why) noexcept {
  switch (why) {
    case refusal::max_sessions:
      return "max_sessions";
    case refusal::untrusted_proxy:
      return "untrusted_proxy";
    case refusal::max_per_address:
      return "max_per_address";
    case refusal::connection_rate:
      return "connection_rate";
  }
  return "unknown";
}

}  // namespace sansmtp::drivers
