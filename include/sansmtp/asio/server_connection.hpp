// One TCP connection of server_driver: a sansmtp::server driven by the
// canonical loop of docs/design.md on Asio. Internal to the drivers; the listener
// (server_driver.cpp) makes one per accepted socket.
#pragma once

#include <sansmtp/asio/server_driver.hpp>

#include <sansmtp/session/server.hpp>

#include <asio/ip/tcp.hpp>
#include <asio/ssl/stream.hpp>
#include <asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace sansmtp::drivers {

// What a connection needs from the listener that made it.
class connection_owner {
 public:
  virtual const server_driver_options& options() const noexcept = 0;
  virtual asio::ssl::context* tls() const noexcept = 0;
  // The connection `id` is closed (0: a refused connection, never counted).
  virtual void release(std::uint64_t id) = 0;

 protected:
  ~connection_owner() = default;
};

class server_connection : public std::enable_shared_from_this<server_connection> {
 public:
  // `handler` null: the connection is refused (`why`) with a 421 as its
  // greeting: 4.3.2 over max_sessions, 4.7.0 over a per-address limit.
  server_connection(std::shared_ptr<connection_owner> owner, asio::ip::tcp::socket socket,
                    std::unique_ptr<server_handler> handler, refusal why = refusal::max_sessions);

  // The connection's strand: every member below runs on it.
  asio::any_io_executor executor() { return socket_.get_executor(); }

  // Greets (through the handler) and starts the loop. `id` is what the
  // owner's release() gets back.
  void start(std::uint64_t id);
  // Shutdown began: the session drains (server::drain(): new work is a
  // bad_command{shutting_down} suggesting 421 4.3.2).
  void drain();
  // The grace period is over: 421 4.3.2 and close.
  void force();
  // server_handler::defer(): the event being handled is answered later.
  [[nodiscard]] deferred_reply defer();
  // deferred_reply::complete(), on the strand: `answer` gives the owed
  // reply (unless closed), then the loop goes on.
  void resume(const std::function<void(sansmtp::server&)>& answer);

 private:
  // The one operation in flight (besides the timer).
  enum class op : std::uint8_t { none, reading, writing, handshaking, closing };

  void greet();
  void advance();
  bool pump();
  void answer_stall();
  void start_read();
  void on_read(const std::error_code& ec, std::size_t n);
  void start_write(std::span<const char> bytes);
  void on_write(const std::error_code& ec, std::size_t n);
  std::chrono::seconds write_limit() const;
  void start_handshake();
  void on_handshake(const std::error_code& ec);
  void finish();
  void linger();
  void close_now();
  void arm_timer(std::chrono::steady_clock::duration after);
  void arm_read_timer();
  bool report_time();
  void wait_for_deadline();
  void on_timer();
  void set_reason(close_reason why) noexcept;
  void fail(close_reason why, driver_error error);
  void driver_replied(int code, std::string_view text) noexcept;
  std::string shutdown_text() const;
  std::string local_error_text() const;

  std::shared_ptr<connection_owner> owner_;
  asio::ip::tcp::socket socket_;
  asio::steady_timer timer_;
  std::optional<std::chrono::steady_clock::time_point> deadline_;  // none: no limit now
  bool timer_waiting_ = false;
  // The session's current wait for the peer and its deadline (timeout_epoch()).
  struct read_wait {
    std::uint64_t epoch = 0;
    std::chrono::seconds after{};
    std::chrono::steady_clock::time_point deadline;
  };
  std::optional<read_wait> read_wait_;
  std::optional<asio::ssl::stream<asio::ip::tcp::socket&>> tls_;
  sansmtp::server session_;
  std::unique_ptr<server_handler> handler_;
  std::unique_ptr<char[]> buffer_;
  std::uint64_t id_ = 0;
  refusal refusal_ = refusal::max_sessions;  // with no handler: why the connection is refused
  op op_ = op::none;
  std::optional<server_event::paused::reason> paused_;  // where the last pump() stopped
  bool forced_ = false, finishing_ = false, closed_ = false;
  bool deferred_ = false;  // the handler owes a reply through a deferred_reply
  std::optional<close_reason> reason_;  // the first cause wins
  std::optional<driver_error> error_;   // ... and its details when it was a failure (on_error)
};

}  // namespace sansmtp::drivers
