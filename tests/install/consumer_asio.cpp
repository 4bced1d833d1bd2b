// A consumer of the installed Asio drivers (sansmtp::asio): a client driver
// on a port where nothing listens reports a connect error, not a reply; and
// the EHLO-facts resolver links (c-ares, through the installed package) and
// refuses a server that is not an address.
#include <sansmtp/asio/client_driver.hpp>
#include <sansmtp/asio/ehlo_resolver.hpp>

#include <asio/io_context.hpp>

#include <cstdio>

namespace {

struct handler final : sansmtp::drivers::client_handler {
  bool connect_failed = false;
  void on_event(sansmtp::drivers::client_driver&, const sansmtp::client_event_t&) override {}
  void on_ready(sansmtp::drivers::client_driver&) override {}
  void on_error(const sansmtp::drivers::driver_error& e) override {
    connect_failed = e.step == sansmtp::drivers::driver_step::connect;
  }
};

}  // namespace

int main() {
  asio::io_context io;
  handler h;
  sansmtp::drivers::client_driver_options o;
  o.host = "127.0.0.1";
  o.port = "1";  // tcpmux: nothing listens there on a test machine
  o.session.ehlo_name = "client.acme-corp.com";
  sansmtp::drivers::client_driver driver(io, o, h);
  driver.start();
  io.run();
  std::printf("installed sansmtp::asio: connect to port 1 -> %s\n", h.connect_failed ? "refused (ok)" : "WRONG");
  sansmtp::drivers::ehlo_resolver_options ro;
  ro.server = "dns.example.net";  // not an address: refused before anything is asked
  const auto facts = sansmtp::drivers::gather_ehlo_facts("client.acme-corp.com", "", ro);
  const bool refused = !facts && facts.error().step == sansmtp::drivers::driver_step::resolve;
  std::printf("installed sansmtp::asio: gather_ehlo_facts with server \"dns.example.net\" -> %s\n",
              refused ? "refused (ok)" : "WRONG");
  return h.connect_failed && refused ? 0 : 1;
}
