// sansmtp serve (--stdio | --listen ADDRESS:PORT) (--maildir DIR | --sink)
//               [--hostname NAME] [--bare-lf P] [--bare-cr P] [--max-size N]
//               [--starttls-injection reject|discard] [--events FILE]
//               [--timeout SECONDS] [--proxy-protocol v1|v2|any]
//   --listen only: [--tls-cert F --tls-key F [--tls-key-password-file F] | --tls-self-signed] [--implicit-tls]
//                  [--auth-users FILE] [--max-sessions N] [--threads N] [--grace SECONDS]
//                  [--auth-threads N] [--auth-fail-delay-ms MS] [--auth-fail-delay-max-ms MS]
//                  [--auth-max-failures N] [--auth-failure-window SECONDS]
//                  [--proxy-from CIDR[,CIDR...]] [--max-per-ip N] [--rate N/s|N/m|N/h] [--requiretls]
//   either:        [--max-session-time SECONDS] [--min-data-rate OCTETS/SECONDS] [--max-non-mail-commands N]
//                  [--max-transactions N [--hide-limits]]
//                  [--mt-priority none|PROFILE] [--deliverby MIN-SECONDS]
//                  [--futurerelease MAX-SECONDS,MAX-DATETIME]
//
// An accept-all SMTP server (serve_app.hpp) on stdin/stdout (inetd style)
// or on a TCP socket (the Asio driver in drivers/). Each accepted message is
// written byte-exact to a new Maildir file: to tmp/, fsynced, renamed into
// new/, the directory fsynced, and only then the 250. A refused message
// leaves nothing in new/.
#include "cli11_args.hpp"
#include "commands.hpp"
#include "first_line.hpp"
#include "serve_modes.hpp"

#include <sansmtp/core/display.hpp>
#include <sansmtp/syntax/command_builder.hpp>
#include <sansmtp/syntax/ehlo_check.hpp>

#include <sansmtp/asio/ip_network.hpp>
#include <sansmtp/asio/tls_server.hpp>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace sansmtp::cli {
namespace {

std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0 || !buf[0]) return "localhost";
  return buf;
}

// "127.0.0.1:2525", "[::1]:2525": a numeric address (no name lookup: what
// is listened on must be unambiguous) and a port (0: any free one).
std::optional<asio::ip::tcp::endpoint> parse_listen(std::string_view text) {
  const auto colon = text.rfind(':');
  if (colon == text.npos) return std::nullopt;
  auto host = text.substr(0, colon);
  const auto port_text = text.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
    if (host.find(':') == host.npos) return std::nullopt;  // brackets are for IPv6
  } else if (host.find(':') != host.npos) {
    return std::nullopt;  // an IPv6 address needs its brackets
  }
  unsigned port = 0;
  const auto [p, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc() || p != port_text.data() + port_text.size() || port > 65535)
    return std::nullopt;
  std::error_code bad;
  const auto address = asio::ip::make_address(std::string(host), bad);
  if (bad) return std::nullopt;
  return asio::ip::tcp::endpoint(address, static_cast<unsigned short>(port));
}

// What can stand as the first word of a reply line.
bool printable_word(std::string_view text) {
  if (text.empty() || text.size() > 255) return false;
  for (const unsigned char c : text)
    if (c <= 0x20 || c >= 0x7f) return false;
  return true;
}

// "N/UNIT" with UNIT one of `units` (its seconds), or "N/SECONDS" when
// `units` is empty; N and the seconds at least 1.
std::optional<std::pair<std::uint64_t, std::uint64_t>> parse_per(
    std::string_view text, std::initializer_list<std::pair<std::string_view, std::uint64_t>> units) {
  const auto slash = text.find('/');
  if (slash == text.npos) return std::nullopt;
  const auto number = [](std::string_view digits) -> std::optional<std::uint64_t> {
    std::uint64_t v = 0;
    const auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
    if (digits.empty() || ec != std::errc() || p != digits.data() + digits.size() || v == 0) return std::nullopt;
    return v;
  };
  const auto n = number(text.substr(0, slash));
  if (!n) return std::nullopt;
  const auto per = text.substr(slash + 1);
  if (units.size() == 0) {
    const auto seconds = number(per);
    if (!seconds) return std::nullopt;
    return std::pair{*n, *seconds};
  }
  for (const auto& [unit, seconds] : units)
    if (per == unit) return std::pair{*n, seconds};
  return std::nullopt;
}

// 1*9DIGIT seconds (RFC 2852 min-by-time, RFC 4865 max-future-release-interval).
std::optional<std::uint32_t> parse_seconds(std::string_view text) {
  if (text.empty() || text.size() > 9) return std::nullopt;
  std::uint32_t value = 0;
  const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || p != text.data() + text.size()) return std::nullopt;
  return value;
}

// An esmtp-keyword (RFC 5321 §4.1.2): (ALPHA / DIGIT) *(ALPHA / DIGIT / "-").
bool is_esmtp_keyword(std::string_view text) {
  const auto alnum = [](char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (text.empty() || !alnum(text.front())) return false;
  return std::all_of(text.begin(), text.end(), [&](char c) { return alnum(c) || c == '-'; });
}

// An RFC 3339 date-time, as the session reads HOLDUNTIL (RFC 4865, erratum
// 2040): the command builder checks a MAIL carrying it.
bool is_date_time(std::string_view text) {
  if (text.empty()) return false;
  esmtp_param_writer params;
  params.add("HOLDUNTIL", text);
  return !params.error() && static_cast<bool>(make_mail("", params));
}

int usage(std::string_view message) {
  fmt::print(stderr, "sansmtp serve: {}\nRun 'sansmtp serve --help' for the options.\n", message);
  return exit_usage;
}

}  // namespace

int run_serve(args argv) {
  CLI::App app{"An accept-all SMTP server delivering to a Maildir: on stdin/stdout or on a TCP port",
               "sansmtp serve"};
  bool stdio = false, sink = false, self_signed = false, implicit_tls = false;
  std::string listen, dir, hostname = host_name(), events, bare_lf = "reject", bare_cr = "reject",
                       injection = "reject", tls_cert, tls_key, tls_key_password_file, users_file, proxy_protocol,
                       proxy_from;
  // --max-sessions: 100 by default, Postfix's default_process_limit (100
  // smtpd processes): a listener must not take every connection a peer
  // cares to open (RFC 5321 §3.1 lets it greet the rest with 421; RFC 5321
  // §4.5.3.1 leaves the number to the server).
  // --timeout: RFC 5321 §4.5.3.2.7, "at least 5 minutes" for the next
  // command; lower it only for tests or when overloaded.
  std::size_t max_size = 0, max_sessions = 100, threads = 1, grace = 10, timeout = 300, max_line = 1000;
  std::size_t max_per_ip = 50, max_session_time = 0, max_junk = 100, max_transactions = 0;
  bool hide_limits = false;
  std::string rate_text, min_rate_text;
  const auth_guard_options guard_defaults;
  std::size_t auth_threads = guard_defaults.threads,
              fail_delay = static_cast<std::size_t>(guard_defaults.fail_delay.count()),
              fail_delay_max = static_cast<std::size_t>(guard_defaults.fail_delay_max.count()),
              max_failures = guard_defaults.max_failures,
              failure_window = static_cast<std::size_t>(guard_defaults.failure_window.count());
  app.add_flag("--stdio", stdio, "Speak SMTP on stdin/stdout (inetd style)");
  app.add_option("--listen", listen, "Listen on ADDRESS:PORT (numeric; [::1]:PORT for IPv6; port 0 = any free port)");
  app.add_option("--maildir", dir, "Deliver each accepted message to DIR/new/");
  app.add_flag("--sink", sink, "Accept and discard every message (load tests)");
  app.add_option("--hostname", hostname, "The name in the greeting and the EHLO reply")->capture_default_str();
  const auto policy = CLI::IsMember({"reject", "normalize", "allow"});
  app.add_option("--bare-lf", bare_lf, "A LF without CR in DATA: reject (default), normalize or allow")->check(policy);
  app.add_option("--bare-cr", bare_cr, "A CR without LF in DATA: reject (default), normalize or allow")->check(policy);
  add_count(app, "--max-size", max_size, "SIZE limit in octets (RFC 1870); 0 = none");
  add_count(app, "--max-line-length", max_line,
            "Longest text line of a message, CRLF included, through DATA and BDAT alike (RFC 5321 4.5.3.1.6: "
            "1000, the default); 0 = none (BINARYMIME data has no lines)");
  app.add_option("--starttls-injection", injection, "Plaintext after STARTTLS: reject (close) or discard")
      ->check(CLI::IsMember({"reject", "discard"}));
  app.add_option("--events", events, "Append one JSON line per event to FILE");
  app.add_option("--tls-cert", tls_cert, "STARTTLS certificate chain (PEM)")->check(CLI::ExistingFile);
  app.add_option("--tls-key", tls_key, "STARTTLS private key (PEM; an encrypted one needs --tls-key-password-file)")
      ->check(CLI::ExistingFile);
  app.add_option("--tls-key-password-file", tls_key_password_file,
                 "The pass phrase of an encrypted --tls-key: the first line of FILE (never asked on the terminal)")
      ->check(CLI::ExistingFile);
  app.add_flag("--tls-self-signed", self_signed, "STARTTLS with an EC P-256 certificate for --hostname made at start");
  app.add_flag("--implicit-tls", implicit_tls,
               "TLS from the first octet with that certificate (RFC 8314 section 3: port 465); STARTTLS is not offered");
  app.add_option("--auth-users", users_file, "AUTH PLAIN/LOGIN (after STARTTLS) for the users in FILE "
                                             "(lines from 'sansmtp passwd'); MAIL then needs AUTH");
  add_count(app, "--max-sessions", max_sessions, "Concurrent sessions; more get 421 4.3.2 and are closed (0 = no limit)");
  // Abuse limits. Postfix's defaults where it has one: 50 sessions per
  // client (smtpd_client_connection_count_limit), 100 junk commands
  // (smtpd_junk_command_limit); the others are off unless asked for.
  add_count(app, "--max-per-ip", max_per_ip,
            "Concurrent sessions from one client address; more get 421 4.7.0 (0 = no limit)")
      ->capture_default_str();
  app.add_option("--rate", rate_text,
                 "New connections from one client address, N/s, N/m or N/h; more get 421 4.7.0 (0 = no limit)");
  add_count(app, "--max-session-time", max_session_time,
            "Seconds a whole session may last before 421 4.4.2 (0 = no limit)");
  app.add_option("--min-data-rate", min_rate_text,
                 "OCTETS/SECONDS: during DATA or BDAT at least OCTETS in every SECONDS, or 421 4.4.2 (0 = no limit)");
  add_count(app, "--max-transactions", max_transactions,
            "Messages per session (RFC 9422 MAILMAX, advertised with LIMITS); the next MAIL gets 421 4.5.3 "
            "(0 = no limit)");
  app.add_flag("--hide-limits", hide_limits,
               "Do not advertise LIMITS (RFC 9422) with --max-transactions: a client then learns it from the 421");
  add_count(app, "--max-non-mail-commands", max_junk,
            "NOOP, RSET, VRFY, EXPN and HELP per session; the next gets 421 4.7.0 (0 = no limit)")
      ->capture_default_str();
  add_count(app, "--timeout", timeout,
            "Seconds to wait for the client's next command or data before 421 4.4.2 and closing "
            "(1-86400; RFC 5321 section 4.5.3.2.7 asks for at least 300)");
  add_count(app, "--threads", threads, "Threads running the sessions (1-256)");
  add_count(app, "--grace", grace, "Seconds sessions may finish after SIGINT/SIGTERM before 421 (0-3600)");
  // RFC 4954, Security Considerations: guard against password guessing.
  add_count(app, "--auth-threads", auth_threads,
            "Threads checking AUTH passwords, apart from the session threads (1-64)")
      ->capture_default_str();
  add_count(app, "--auth-fail-delay-ms", fail_delay,
            "Milliseconds before the reply to a failed AUTH, doubled for each failure of the client's "
            "address within --auth-failure-window (RFC 4954, Security Considerations; 0 = none)")
      ->capture_default_str();
  add_count(app, "--auth-fail-delay-max-ms", fail_delay_max, "The cap on that delay (0-600000)")
      ->capture_default_str();
  add_count(app, "--auth-max-failures", max_failures,
            "Failed AUTHs of one client address within --auth-failure-window after which AUTH gets "
            "421 4.7.0 (0 = no limit)")
      ->capture_default_str();
  add_count(app, "--auth-failure-window", failure_window,
            "Seconds a failed AUTH counts against its address (1-86400)")
      ->capture_default_str();
  // proxy-protocol.txt: behind HAProxy, nginx's stream module or a cloud
  // load balancer, the client's address comes in a header before SMTP.
  app.add_option("--proxy-protocol", proxy_protocol,
                 "Read a PROXY protocol header (v1, v2 or any) before the greeting; a connection without a "
                 "valid one is closed without a greeting")
      ->check(CLI::IsMember({"v1", "v2", "any"}));
  app.add_option("--proxy-from", proxy_from,
                 "With --proxy-protocol: the proxies trusted to send it (CIDR[,CIDR...]); other peers are "
                 "closed at once (default: 127.0.0.0/8,::1)");
  // The extensions whose MAIL parameters the session parses (RFC 8689,
  // 6710, 2852, 4865): off unless asked for.
  bool requiretls = false;
  std::string mt_priority, deliverby, futurerelease;
  app.add_flag("--requiretls", requiretls,
               "Offer REQUIRETLS (RFC 8689) over TLS (--implicit-tls, or after STARTTLS); MAIL ... REQUIRETLS "
               "in the clear gets 530 5.7.10");
  app.add_option("--mt-priority", mt_priority,
                 "Offer MT-PRIORITY (RFC 6710): 'none' for no priority profile, or the profile to advertise "
                 "(MIXER, STANAG4406, NSEP, or another esmtp-keyword)");
  app.add_option("--deliverby", deliverby,
                 "Offer DELIVERBY (RFC 2852) with this min-by-time in seconds (0 = none advertised); a BY= "
                 "with mode R below it gets 501 5.5.4");
  app.add_option("--futurerelease", futurerelease,
                 "Offer FUTURERELEASE (RFC 4865): MAX-SECONDS,MAX-DATETIME (604800,2026-12-15T00:00:00Z); "
                 "HOLDFOR above MAX-SECONDS or HOLDUNTIL after MAX-DATETIME gets 501 5.5.4");
  if (const auto status = parse_cli11(app, argv)) return *status;

  if (stdio == !listen.empty()) return usage("give exactly one of --stdio and --listen ADDRESS:PORT");
  if (!printable_word(hostname))
    return usage(fmt::format("--hostname '{}' must be 1 to 255 printable ASCII characters without spaces "
                             "(it starts the greeting and the EHLO reply, RFC 5321 §4.1.1.1)",
                             escape_for_display(hostname)));
  // RFC 5321 §4.2 and §4.1.1.1: the greeting and the EHLO reply start with
  // the server's Domain or address literal; "mx/a:b" is neither. This
  // machine's own name, when that is not one, gives way to "localhost".
  if (!make_ehlo(hostname)) {
    if (app.count("--hostname") > 0)
      return usage(fmt::format("--hostname '{}' is not a Domain or address literal (RFC 5321 §4.1.1.1: "
                               "it starts the greeting and the EHLO reply)",
                               escape_for_display(hostname)));
    hostname = "localhost";
  }
  if (sink == !dir.empty()) return usage("give exactly one of --maildir DIR and --sink");
  const bool tls = self_signed || !tls_cert.empty() || !tls_key.empty();
  if (stdio) {
    for (const auto* option : {"--tls-cert", "--tls-key", "--tls-key-password-file", "--tls-self-signed", "--auth-users",
                               "--max-sessions", "--threads", "--grace", "--auth-threads", "--auth-fail-delay-ms",
                               "--auth-fail-delay-max-ms", "--auth-max-failures", "--auth-failure-window",
                               "--proxy-from", "--implicit-tls", "--max-per-ip", "--rate"})
      if (app.count(option) > 0) return usage(fmt::format("{} needs --listen", option));
  }
  if (tls_cert.empty() != tls_key.empty()) return usage("--tls-cert and --tls-key go together");
  if (!tls_key_password_file.empty() && tls_key.empty()) return usage("--tls-key-password-file needs --tls-key");
  std::optional<std::string> key_password;
  if (!tls_key_password_file.empty()) {
    std::string why;
    key_password = read_first_line(tls_key_password_file, "--tls-key-password-file", why);
    if (!key_password) return usage(why);
  }
  if (self_signed && !tls_cert.empty()) return usage("give --tls-cert/--tls-key or --tls-self-signed, not both");
  if (implicit_tls && !tls) return usage("--implicit-tls needs a certificate (--tls-cert/--tls-key or --tls-self-signed)");
  if (implicit_tls && !proxy_protocol.empty())
    return usage("--implicit-tls and --proxy-protocol do not go together: let the proxy terminate TLS "
                 "(HAProxy's send-proxy-v2-ssl, docs/deployment.md)");
  // RFC 4954 §4 and this server's policy: no passwords over plaintext, so
  // AUTH without TLS could never succeed.
  if (!users_file.empty() && !tls) return usage("--auth-users needs STARTTLS (--tls-cert/--tls-key or --tls-self-signed)");
  if (threads < 1 || threads > 256) return usage("--threads must be from 1 to 256");
  if (grace > 3600) return usage("--grace must be from 0 to 3600 seconds");
  if (auth_threads < 1 || auth_threads > 64) return usage("--auth-threads must be from 1 to 64");
  if (fail_delay > 600000 || fail_delay_max > 600000)
    return usage("--auth-fail-delay-ms and --auth-fail-delay-max-ms must be from 0 to 600000");
  if (failure_window < 1 || failure_window > 86400) return usage("--auth-failure-window must be from 1 to 86400 seconds");
  if (timeout < 1 || timeout > 86400) return usage("--timeout must be from 1 to 86400 seconds");
  drivers::server_driver_options::connection_rate connection_rate;
  if (!rate_text.empty() && rate_text != "0") {
    const auto r = parse_per(rate_text, {{"s", 1}, {"m", 60}, {"h", 3600}});
    if (!r) return usage(fmt::format("--rate '{}' is not N/s, N/m or N/h (10/s, 100/m)", escape_for_display(rate_text)));
    connection_rate = {static_cast<std::size_t>(r->first), std::chrono::seconds(r->second)};
  }
  server_options::data_rate data_rate;
  if (!min_rate_text.empty() && min_rate_text != "0") {
    const auto r = parse_per(min_rate_text, {});
    if (!r || r->second > 3600)
      return usage(fmt::format("--min-data-rate '{}' is not OCTETS/SECONDS (1000/30; SECONDS 1-3600)",
                               escape_for_display(min_rate_text)));
    data_rate = {r->first, std::chrono::seconds(r->second)};
  }
  if (max_session_time > 7 * 86400) return usage("--max-session-time must be from 0 to 604800 seconds");
  if (!proxy_from.empty() && proxy_protocol.empty()) return usage("--proxy-from needs --proxy-protocol");
  std::vector<drivers::ip_network> trusted;
  if (!proxy_from.empty()) {
    const auto parsed = drivers::parse_ip_networks(proxy_from);
    if (!parsed)
      return usage(fmt::format("--proxy-from '{}' is not a list of CIDR networks (127.0.0.0/8,10.1.2.3,2001:db8::/32; "
                               "no host bits set)",
                               escape_for_display(proxy_from)));
    trusted = *parsed;
  }
  if (requiretls && !tls)
    return usage("--requiretls needs TLS (--tls-cert/--tls-key or --tls-self-signed): REQUIRETLS is offered only over it");
  if (app.count("--mt-priority") > 0 && mt_priority != "none" && !is_esmtp_keyword(mt_priority))
    return usage(fmt::format("--mt-priority '{}' is neither 'none' nor a profile name (an esmtp-keyword, "
                             "RFC 6710 section 3: MIXER, STANAG4406, NSEP)",
                             escape_for_display(mt_priority)));
  std::optional<std::uint32_t> min_by_time;
  if (app.count("--deliverby") > 0 && !(min_by_time = parse_seconds(deliverby)))
    return usage(fmt::format("--deliverby '{}' is not a number of seconds from 0 to 999999999 (RFC 2852 min-by-time)",
                             escape_for_display(deliverby)));
  std::optional<std::uint32_t> max_interval;
  std::string max_datetime;
  if (app.count("--futurerelease") > 0) {
    const auto comma = futurerelease.find(',');
    if (comma != futurerelease.npos) max_datetime = futurerelease.substr(comma + 1);
    max_interval = parse_seconds(std::string_view(futurerelease).substr(0, comma));
    if (!max_interval || comma == futurerelease.npos || !is_date_time(max_datetime))
      return usage(fmt::format("--futurerelease '{}' is not MAX-SECONDS,MAX-DATETIME: seconds from 0 to 999999999 and "
                               "an RFC 3339 date-time (604800,2026-12-15T00:00:00Z; RFC 4865 section 3 advertises both)",
                               escape_for_display(futurerelease)));
  }
  std::optional<asio::ip::tcp::endpoint> at;
  if (!listen.empty() && !(at = parse_listen(listen)))
    return usage(fmt::format("--listen '{}' is not ADDRESS:PORT (127.0.0.1:2525, [::1]:2525)",
                             escape_for_display(listen)));

  const std::map<std::string, bare_line_ending> policies = {
      {"reject", bare_line_ending::reject}, {"normalize", bare_line_ending::normalize}, {"allow", bare_line_ending::allow}};
  server_options o;
  o.hostname = hostname;
  o.pipelining = o.eightbitmime = o.smtputf8 = o.chunking = o.enhancedstatuscodes = o.dsn = true;
  o.max_message_size = max_size;
  o.data.bare_lf = policies.at(bare_lf);
  o.data.bare_cr = policies.at(bare_cr);
  o.data.max_line_length = max_line;
  o.after_starttls = injection == "discard" ? starttls_injection::discard : starttls_injection::reject;
  o.command_timeout = std::chrono::seconds(timeout);
  o.implicit_tls = implicit_tls;
  o.max_session_time = std::chrono::seconds(max_session_time);
  o.min_data_rate = data_rate;
  o.max_non_transaction_commands = max_junk;
  o.max_transactions = max_transactions;
  // RFC 9422: with a transaction limit, LIMITS MAILMAX (and RCPTMAX: the
  // 100 of RFC 5321 §4.5.3.1.8) unless hidden.
  o.limits = max_transactions != 0 && !hide_limits;
  o.requiretls = requiretls;
  if (app.count("--mt-priority") > 0) {
    o.mt_priority = true;
    if (mt_priority != "none") o.mt_priority_profile = mt_priority;
  }
  o.deliverby = min_by_time;
  if (max_interval) {
    o.futurerelease = true;
    o.futurerelease_max_interval = *max_interval;
    o.futurerelease_max_datetime = max_datetime;
  }
  if (!proxy_protocol.empty()) {
    o.proxy_protocol = proxy_reader_options{};
    o.proxy_protocol->accept = proxy_protocol == "v1"   ? proxy_accept::v1
                               : proxy_protocol == "v2" ? proxy_accept::v2
                                                        : proxy_accept::any;
  }

  std::optional<maildir> box;
  if (!sink) {
    box.emplace(dir, host_name());  // the Maildir convention: the real host name, not the greeting's
    if (!box->prepare()) {
      fmt::print(stderr, "sansmtp serve: cannot create the Maildir {}\n", escape_for_display(dir));
      return exit_fail;
    }
  }
  event_log log(events);
  if (!log.ok()) {
    fmt::print(stderr, "sansmtp serve: cannot open {}\n", escape_for_display(events));
    return exit_fail;
  }
  std::optional<auth_users> users;
  if (!users_file.empty()) {
    std::string error;
    users = auth_users::load(users_file, error);
    if (!users) return usage(escape_for_display(error));
    o.auth_mechanisms = {"PLAIN", "LOGIN"};  // RFC 4616; LOGIN for the clients that know no other
  }
  auth_guard_options guard_options;
  guard_options.threads = auth_threads;
  guard_options.fail_delay = std::chrono::milliseconds(fail_delay);
  guard_options.fail_delay_max = std::chrono::milliseconds(fail_delay_max);
  guard_options.max_failures = max_failures;
  guard_options.failure_window = std::chrono::seconds(failure_window);
  std::optional<auth_guard> guard;
  if (users) guard.emplace(guard_options, !stdio);
  serve_config config{hostname, box ? &*box : nullptr, &log, users ? &*users : nullptr, !stdio,
                      guard ? &*guard : nullptr};
  if (stdio) return run_stdio(config, o);

  std::optional<asio::ssl::context> tls_context;
  if (tls) {
    auto made = self_signed ? drivers::make_self_signed_tls_context(hostname)
                            : drivers::make_tls_context(tls_cert, tls_key, key_password);
    if (!made) {
      std::string error = made.error().message;
      if (!key_password && error.find("is encrypted") != error.npos)
        error += " (give it with --tls-key-password-file FILE)";
      fmt::print(stderr, "sansmtp serve: {}\n", escape_for_display(error));
      return exit_fail;
    }
    tls_context.emplace(std::move(*made));
  }
  listen_settings settings;
  settings.at = *at;
  settings.threads = threads;
  settings.grace = std::chrono::seconds(grace);
  settings.driver.session = o;
  settings.driver.max_sessions = max_sessions;
  settings.driver.proxy_from = std::move(trusted);
  settings.driver.max_sessions_per_address = max_per_ip;
  settings.driver.max_connection_rate = connection_rate;
  settings.tls = tls_context ? &*tls_context : nullptr;
  return run_listen(config, std::move(settings));
}

}  // namespace sansmtp::cli
