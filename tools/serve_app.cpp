#include "serve_app.hpp"

#include <sansmtp/core/base64.hpp>
#include <sansmtp/core/display.hpp>
#include <sansmtp/syntax/sasl.hpp>

#include <fmt/format.h>

#include <asio/steady_timer.hpp>

#include <algorithm>
#include <memory>
#include <thread>
#include <utility>

namespace sansmtp::cli {
namespace {

using json = nlohmann::ordered_json;

// RFC 4954 §4 leaves the challenges to the mechanism; LOGIN's customary
// ones are base64 of "Username:" and "Password:".
constexpr std::string_view login_user_challenge = "VXNlcm5hbWU6";
constexpr std::string_view login_password_challenge = "UGFzc3dvcmQ6";
// Failed AUTH attempts before the session is closed (against guessing).
constexpr unsigned max_auth_failures = 3;

// A PROXY TLV's octets for JSON (they need not be UTF-8).
std::string hex_text(std::string_view octets) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (const unsigned char c : octets) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

}  // namespace

std::string endpoint_text(std::string_view address, std::uint16_t port) {
  if (address.find('/') != std::string_view::npos) return std::string(address);
  return address.find(':') != std::string_view::npos ? fmt::format("[{}]:{}", address, port)
                                                      : fmt::format("{}:{}", address, port);
}

serve_session::serve_session(const serve_config& config, std::uint64_t id, std::string peer, std::string address)
    : config_(config), id_(id), peer_(std::move(peer)), address_(std::move(address)) {
  if (config_.box) message_.emplace(*config_.box);
}

bool serve_session::logging() const { return config_.log->enabled(); }

void serve_session::write_log(json j) {
  if (config_.network) j["session"] = id_;
  config_.log->write(j);
}

void serve_session::reply(server& session, int code, std::string_view text) {
  if (!session.send(code, text)) log([&] { return json{{"event", "reply"}, {"code", code}}; });
}

void serve_session::on_connect(server& session) {
  if (config_.network)
    log([&] {
      json entry = {{"event", "connect"}, {"peer", peer_}};  // (network only: there is a peer)
      if (!client_.empty()) entry["client"] = client_;  // behind a proxy: who the proxy relays
      return entry;
    });
  reply(session, 220, config_.hostname + " ESMTP sansmtp");
}

void serve_session::on_tls(server&, const drivers::tls_info& tls) {
  // RFC 3207 §4.2: the session starts over; so does what was learned.
  mail_from_.clear();
  rcpt_to_.clear();
  auth_step_ = auth_step::none;
  log([&] { return json{{"event", "tls"}, {"version", tls.protocol}, {"cipher", tls.cipher}}; });
}

void serve_session::on_close(drivers::close_reason why) {
  closed_ = true;
  if (delay_timer_) delay_timer_->cancel();  // a failure delay ends with the session
  drop_message();
  if (config_.network) log([&] { return json{{"event", "close"}, {"reason", std::string(drivers::close_reason_name(why))}}; });
}

void serve_session::on_driver_reply(server&, int code, std::string_view) {
  log([&] { return json{{"event", "reply"}, {"code", code}}; });
}

void serve_session::drop_message() {
  if (message_) message_->abort();
}

void serve_session::on_event(server& session, const server_event_t& event) {
  if (const auto* c = std::get_if<server_event::command>(&event)) {
    on_command(session, *c);
  } else if (const auto* b = std::get_if<server_event::bad_command>(&event)) {
    log([&] { return json{{"event", "error"}, {"errc", std::string(b->error.name())}}; });
    if (!session.send(b->suggested)) log([&] { return json{{"event", "reply"}, {"code", b->suggested.code}}; });
  } else if (const auto* d = std::get_if<server_event::message_data>(&event)) {
    if (message_) message_->write(d->bytes);
  } else if (std::holds_alternative<server_event::chunk_end>(event)) {
    reply(session, 250, "2.0.0 Chunk accepted");
  } else if (const auto* e = std::get_if<server_event::message_end>(&event)) {
    on_message_end(session, *e);
  } else if (const auto* f = std::get_if<server_event::fatal_error>(&event)) {
    log([&] { return json{{"event", "error"}, {"errc", std::string(errc_name(f->code))}}; });
    if (!session.send(f->suggested)) log([&] { return json{{"event", "reply"}, {"code", f->suggested.code}}; });
  } else if (std::holds_alternative<server_event::peer_closed>(event)) {
    drop_message();
  } else if (const auto* a = std::get_if<server_event::auth_response>(&event)) {
    on_auth_response(session, a->value);
  } else if (const auto* p = std::get_if<server_event::proxied>(&event)) {
    on_proxied(p->header);
  } else if (std::holds_alternative<server_event::transaction_reset>(event)) {
    // RSET, a new EHLO/HELO or TLS abandoned the transaction (RFC 5321
    // §4.1.4): nothing of it reaches the next message.
    drop_message();
    mail_from_.clear();
    rcpt_to_.clear();
  }
}

// The PROXY header: from now on the client is the one it names (the EHLO
// echo, the AUTH failure count, the log), unless it is LOCAL or UNKNOWN
// (the proxy's own connection, a health check).
void serve_session::on_proxied(const proxy_header& h) {
  if (h.has_addresses() && h.family != proxy_family::unix_socket) {
    address_ = h.source_address;
    client_ = endpoint_text(h.source_address, h.source_port);
  }
  log([&] {
    json entry = {{"event", "proxy"},
                  {"version", h.version == proxy_version::v1 ? "v1" : "v2"},
                  {"command", h.command == proxy_command::proxy ? "proxy" : "local"}};
    if (!peer_.empty()) entry["peer"] = peer_;  // the proxy (on stdio the peer is not known)
    if (h.has_addresses()) {
      entry["client"] = endpoint_text(h.source_address, h.source_port);
      entry["server"] = endpoint_text(h.destination_address, h.destination_port);
    }
    if (h.alpn) entry["alpn"] = escape_for_display(*h.alpn);
    if (h.authority) entry["authority"] = escape_for_display(*h.authority);
    if (h.unique_id) entry["unique_id"] = hex_text(*h.unique_id);
    if (h.ssl) {
      entry["ssl"] = json{{"client", h.ssl->client}, {"verify", h.ssl->verify}};
      if (!h.ssl->version.empty()) entry["ssl"]["version"] = escape_for_display(h.ssl->version);
      if (!h.ssl->cipher.empty()) entry["ssl"]["cipher"] = escape_for_display(h.ssl->cipher);
      if (!h.ssl->common_name.empty()) entry["ssl"]["cn"] = escape_for_display(h.ssl->common_name);
    }
    return entry;
  });
}

void serve_session::on_command(server& session, const server_event::command& c) {
  const auto& v = c.value;
  log([&] {
    json entry = {{"event", "command"}, {"verb", std::string(verb_name(v))}};
    if (const auto* e = std::get_if<cmd::ehlo>(&v)) entry["name"] = std::string(e->host.text);
    if (const auto* h = std::get_if<cmd::helo>(&v)) entry["name"] = std::string(h->host.text);
    if (const auto* l = std::get_if<cmd::lhlo>(&v)) entry["name"] = std::string(l->host.text);
    if (const auto* m = std::get_if<cmd::mail>(&v)) {
      // The MAIL parameters of the extensions `serve` can offer, as the
      // session typed them (only offered ones get here).
      const auto& p = m->params;
      if (p.requiretls) entry["requiretls"] = true;  // RFC 8689
      if (p.mt_priority) entry["mt_priority"] = *p.mt_priority;  // RFC 6710
      if (p.by)  // RFC 2852
        entry["by"] = json{{"seconds", p.by->seconds}, {"mode", std::string(1, p.by->mode)}, {"trace", p.by->trace}};
      if (p.holdfor) entry["holdfor"] = *p.holdfor;  // RFC 4865
      if (p.holduntil) entry["holduntil"] = std::string(*p.holduntil);
    }
    return entry;
  });
  if (std::holds_alternative<cmd::ehlo>(v) || std::holds_alternative<cmd::lhlo>(v)) {
    // Over the network, the address the client is seen from, as Exim,
    // Sendmail and OpenSMTPD echo it: what a client behind NAT or in a pod
    // compares its EHLO name with (`probe` reads it: client_ip_seen).
    const auto* e = std::get_if<cmd::ehlo>(&v);
    const auto* l = std::get_if<cmd::lhlo>(&v);
    const auto name = e ? e->host.text : l->host.text;
    const auto greeting = address_.empty() ? std::string() : fmt::format("Hello {} [{}]", name, address_);
    if (!session.send_ehlo_reply(greeting)) log([&] { return json{{"event", "reply"}, {"code", 250}}; });
  } else if (const auto* m = std::get_if<cmd::mail>(&v)) {
    on_mail(session, *m);
  } else if (const auto* r = std::get_if<cmd::rcpt>(&v)) {
    rcpt_to_.push_back(r->forward_path.address());
    reply(session, 250, "2.1.5 Ok");
  } else if (std::holds_alternative<cmd::data>(v)) {
    if (message_ && !message_->begin()) return reply(session, 451, "4.3.0 Cannot store the message now");
    reply(session, 354, "End data with <CR><LF>.<CR><LF>");
  } else if (std::holds_alternative<cmd::bdat>(v)) {
    if (message_ && !message_->open()) message_->begin();  // the first chunk; a failure shows at the end
  } else if (const auto* a = std::get_if<cmd::auth>(&v)) {
    on_auth(session, *a);
  } else if (std::holds_alternative<cmd::expn>(v)) {
    // RFC 5321 §3.5.2, §7.3: no list is expanded here; a 250 would claim one.
    reply(session, 502, "5.5.1 EXPN not supported");
  } else if (std::holds_alternative<cmd::quit>(v)) {
    reply(session, 221, "2.0.0 Bye");
  } else if (std::holds_alternative<cmd::starttls>(v)) {
    reply(session, 220, "2.0.0 Ready to start TLS");  // RFC 3207 §4
  } else if (std::holds_alternative<cmd::vrfy>(v)) {
    reply(session, 252, "2.5.0 Cannot VRFY user, but will accept message");
  } else if (std::holds_alternative<cmd::help>(v)) {
    reply(session, 214, "2.0.0 sansmtp serve: RFC 5321");
  } else {
    reply(session, 250, "2.0.0 Ok");
  }
}

void serve_session::on_mail(server& session, const cmd::mail& m) {
  // RFC 4954 §6: 530 5.7.0 when the server requires authentication.
  if (config_.users && !session.authenticated()) return reply(session, 530, "5.7.0 Authentication required");
  mail_from_ = m.reverse_path.address();
  rcpt_to_.clear();
  reply(session, 250, "2.1.0 Ok");
}

// --- AUTH (RFC 4954) ---------------------------------------------------------------

void serve_session::on_auth(server& session, const cmd::auth& a) {
  // The session offered only PLAIN and LOGIN, after TLS, and refused the
  // rest (504, 538) before this.
  if (config_.guard && config_.guard->blocked(address_)) {
    log([&] { return json{{"event", "auth"}, {"mechanism", std::string(a.mechanism)}, {"ok", false}, {"blocked", true}}; });
    return reply(session, 421, "4.7.0 " + config_.hostname + " Too many failed authentications from your address, "
                                                             "try again later");
  }
  if (a.mechanism == "PLAIN") {
    if (a.initial_response) return check_plain(session, *a.initial_response);
    auth_step_ = auth_step::plain;
    return reply(session, 334, "");  // RFC 4616 §2: an empty challenge
  }
  if (a.initial_response) {  // LOGIN with the user name as the initial response
    const auto user = decode_base64(*a.initial_response == "=" ? "" : *a.initial_response);
    if (!user) return reply(session, 501, "5.5.2 Cannot decode the response");
    login_user_ = *user;
    auth_step_ = auth_step::login_password;
    return reply(session, 334, login_password_challenge);
  }
  auth_step_ = auth_step::login_user;
  reply(session, 334, login_user_challenge);
}

void serve_session::on_auth_response(server& session, const sansmtp::auth_response& r) {
  const auto step = std::exchange(auth_step_, auth_step::none);
  if (r.cancelled) return reply(session, 501, "5.0.0 Authentication cancelled");  // RFC 4954 §4: "*"
  if (step == auth_step::plain) return check_plain(session, r.base64);
  const auto decoded = decode_base64(r.base64);
  if (!decoded) return reply(session, 501, "5.5.2 Cannot decode the response");
  if (step == auth_step::login_user) {
    login_user_ = *decoded;
    auth_step_ = auth_step::login_password;
    return reply(session, 334, login_password_challenge);
  }
  check_password(session, "LOGIN", login_user_, *decoded);
}

void serve_session::check_plain(server& session, std::string_view base64) {
  const auto credentials = decode_auth_plain(base64 == "=" ? "" : base64);
  if (!credentials) return reply(session, 501, "5.5.2 Cannot decode the PLAIN response");
  // RFC 4616 §2: acting as another identity (an authzid other than the
  // authcid) is not something this server grants to anyone.
  if (!credentials->authorization_id.empty() && credentials->authorization_id != credentials->user)
    return check_password(session, "PLAIN", credentials->authorization_id, {});
  check_password(session, "PLAIN", credentials->user, credentials->password);
}

// The hash takes tens of milliseconds (more with a costly users file):
// under the driver it runs on the guard's pool and the reply is given
// later (deferred_reply), after the failure delay if any, so that the
// session threads keep serving the other clients. On stdio, here and now.
void serve_session::check_password(server& session, std::string_view mechanism, std::string_view user_view,
                                   std::string_view password) {
  std::string user(user_view);  // (LOGIN's user is a view of login_user_, cleared here)
  login_user_.clear();
  auto* guard = config_.guard;
  auto later = guard && guard->has_pool() ? defer() : drivers::deferred_reply();
  if (later) {
    guard->run([this, later = std::move(later), guard, users = config_.users, address = address_,
                mechanism = std::string(mechanism), user = std::move(user),
                password = std::string(password)]() mutable {
      const bool ok = !password.empty() && users->verify(user, password);
      std::fill(password.begin(), password.end(), '\0');
      const auto delay = ok ? std::chrono::milliseconds::zero() : guard->record_failure(address);
      auto answer = [this, mechanism = std::move(mechanism), user = std::move(user), ok, delay](server& s) {
        finish_auth(s, mechanism, user, ok, delay);
      };
      if (delay <= std::chrono::milliseconds::zero()) return later.complete(std::move(answer));
      // The delay's timer is the session's (on its strand), so that a
      // session closed meanwhile (a shutdown) does not wait it out.
      const auto strand = later.executor();
      asio::post(strand, [this, later = std::move(later), answer = std::move(answer), delay]() mutable {
        if (closed_) return later.complete(std::move(answer));  // not called: the connection is gone
        delay_timer_.emplace(later.executor(), delay);
        delay_timer_->async_wait([later = std::move(later), answer = std::move(answer)](const std::error_code&) mutable {
          later.complete(std::move(answer));
        });
      });
    });
    return;
  }
  const bool ok = !password.empty() && config_.users->verify(user, password);
  const auto delay = ok || !guard ? std::chrono::milliseconds::zero() : guard->record_failure(address_);
  if (delay > std::chrono::milliseconds::zero()) std::this_thread::sleep_for(delay);
  finish_auth(session, std::string(mechanism), user, ok, delay);
}

void serve_session::finish_auth(server& session, const std::string& mechanism, const std::string& user, bool ok,
                                std::chrono::milliseconds delay) {
  log([&] {
    json entry = {{"event", "auth"}, {"mechanism", mechanism}, {"user", user}, {"ok", ok}};
    if (!ok) entry["delay_ms"] = delay.count();
    return entry;
  });
  if (ok) return reply(session, 235, "2.7.0 Authentication successful");
  if (++auth_failures_ >= max_auth_failures)
    return reply(session, 421, "4.7.0 " + config_.hostname + " Too many failed authentications, closing");
  reply(session, 535, "5.7.8 Authentication credentials invalid");  // RFC 4954 §6
}

// --- the end of a message -----------------------------------------------------------

void serve_session::on_message_end(server& session, const server_event::message_end& e) {
  if (e.error) {
    drop_message();
    log([&] { return json{{"event", "error"}, {"errc", std::string(e.error->name())}, {"offset", e.error->offset}}; });
    if (!session.send(e.suggested)) log([&] { return json{{"event", "reply"}, {"code", e.suggested.code}}; });
    return;
  }
  std::string file, sha;
  if (message_ && !message_->commit(file, sha)) {
    // Disk full, quota: nothing in new/, the session stays in sync.
    log([&] { return json{{"event", "error"}, {"errc", "write_failed"}}; });
    return reply(session, 452, "4.3.1 Insufficient system storage");
  }
  log([&] {
    json entry = {{"event", "message"}};
    if (message_) {
      entry["file"] = file;
      entry["size"] = e.size;
      entry["sha256"] = sha;
    } else {
      entry["size"] = e.size;  // --sink: counted, not kept
    }
    entry["mail_from"] = mail_from_;
    json rcpts = json::array();
    for (const auto& r : rcpt_to_) rcpts.push_back(r);
    entry["rcpt_to"] = std::move(rcpts);
    return entry;
  });
  rcpt_to_.clear();
  reply(session, 250, "2.0.0 Ok: queued");
}

}  // namespace sansmtp::cli
