// The application behind `sansmtp serve`, shared by --stdio and --listen:
// accept every sender and recipient, deliver each message byte-exact to a
// Maildir (or discard it with --sink), write the --events log, and, with
// --auth-users, AUTH PLAIN (RFC 4616) and LOGIN after STARTTLS and before
// MAIL (RFC 4954). One serve_session per connection; it is the driver's
// server_handler, and the stdio loop calls it the same way.
#pragma once

#include "auth_guard.hpp"
#include "auth_users.hpp"
#include "event_log.hpp"
#include "maildir.hpp"

#include <sansmtp/asio/server_driver.hpp>

#include <asio/steady_timer.hpp>

#include <sansmtp/session/server.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sansmtp::cli {

// An endpoint as the events log and the console write it:
// "203.0.113.5:4242", "[2001:db8::5]:4242"; a UNIX path (a PROXY header's)
// as it is.
[[nodiscard]] std::string endpoint_text(std::string_view address, std::uint16_t port);

struct serve_config {
  std::string hostname;
  const maildir* box = nullptr;        // null: --sink (accept and discard)
  event_log* log = nullptr;            // never null (a disabled log writes nothing)
  const auth_users* users = nullptr;   // AUTH offered (after TLS) and required before MAIL
  bool network = false;                // log connect/tls/close and a session number
  auth_guard* guard = nullptr;         // with `users`: the verification pool, delays, per-address limit
};

class serve_session final : public drivers::server_handler {
 public:
  // `address`: the client's numeric address, what AUTH failures are
  // counted by (empty on stdio).
  serve_session(const serve_config& config, std::uint64_t id, std::string peer, std::string address = {});

  void on_connect(server& session) override;
  void on_event(server& session, const server_event_t& event) override;
  void on_tls(server& session, const drivers::tls_info& tls) override;
  void on_close(drivers::close_reason why) override;
  // The driver's own 421s: logged as the application's replies are.
  void on_driver_reply(server& session, int code, std::string_view text) override;

 private:
  enum class auth_step : std::uint8_t { none, plain, login_user, login_password };

  void reply(server& session, int code, std::string_view text);
  // The events log: `build` makes the entry only when logging is on (a
  // JSON object per command costs more than the SMTP work itself).
  template <class Build>
  void log(Build&& build) {
    if (logging()) write_log(build());
  }
  bool logging() const;
  void write_log(nlohmann::ordered_json j);
  void on_proxied(const proxy_header& h);
  void on_command(server& session, const server_event::command& c);
  void on_mail(server& session, const cmd::mail& m);
  void on_auth(server& session, const cmd::auth& a);
  void on_auth_response(server& session, const sansmtp::auth_response& r);
  void check_plain(server& session, std::string_view base64);
  void check_password(server& session, std::string_view mechanism, std::string_view user,
                      std::string_view password);
  void finish_auth(server& session, const std::string& mechanism, const std::string& user, bool ok,
                   std::chrono::milliseconds delay);
  void on_message_end(server& session, const server_event::message_end& e);
  void drop_message();

  const serve_config& config_;
  std::uint64_t id_;
  std::string peer_;
  std::string address_;
  std::string client_;  // behind a proxy: the relayed client, "ADDRESS:PORT"
  std::optional<maildir_message> message_;  // with a Maildir
  std::string mail_from_;
  std::vector<std::string> rcpt_to_;
  auth_step auth_step_ = auth_step::none;
  std::string login_user_;
  unsigned auth_failures_ = 0;
  std::optional<asio::steady_timer> delay_timer_;  // the delay after a failed AUTH (serve --listen)
  bool closed_ = false;
};

}  // namespace sansmtp::cli
