// The two transports of `sansmtp serve` around one application
// (serve_app.hpp): SMTP on stdin/stdout, and a TCP listener.
#pragma once

#include "serve_app.hpp"

#include <sansmtp/asio/server_driver.hpp>

#include <asio/ip/tcp.hpp>
#include <asio/ssl/context.hpp>

#include <chrono>
#include <cstddef>

namespace sansmtp::cli {

// serve --stdio: one session on stdin/stdout (inetd style). Returns the
// exit status.
int run_stdio(const serve_config& config, const server_options& options);

struct listen_settings {
  asio::ip::tcp::endpoint at;
  std::size_t threads = 1;
  std::chrono::seconds grace{10};
  drivers::server_driver_options driver;
  asio::ssl::context* tls = nullptr;
};

// serve --listen: accepts until SIGINT or SIGTERM, then shuts down
// gracefully (RFC 5321 §3.8). Returns the exit status.
int run_listen(const serve_config& config, listen_settings settings);

}  // namespace sansmtp::cli
