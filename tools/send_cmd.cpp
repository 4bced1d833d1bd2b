// sansmtp send --server HOST[:PORT] --from ADDR --to ADDR... [--ehlo NAME]
//              [--starttls required|opportunistic|off | --implicit-tls] [--tls-ca FILE | --tls-no-verify]
//              [--auth-user U --auth-password-file F] [--bdat] [--lmtp] [--json]
//              [--spool-memory BYTES] [--repeat N] [FILE... | < MESSAGE]
//              [--requiretls] [--mt-priority N] [--by SECONDS,R|N[T]] [--holdfor SECONDS | --holduntil DATETIME]
//
// Submits the messages (each FILE, or stdin; a pipe spooled first, see
// fd_source.hpp) over one connection of the Asio client driver (a new one
// when the server closes it between messages)
// (include/sansmtp/asio/client_driver.hpp), and says what became of each recipient; on a
// failure, what it means (sansmtp::diagnose), above all when a refusal at
// MAIL or RCPT is about the EHLO name.
#include "cli11_args.hpp"
#include "commands.hpp"
#include "net_cli.hpp"
#include "report_json.hpp"
#include "fd_source.hpp"
#include "first_line.hpp"

#include <sansmtp/advice/describe.hpp>
#include <sansmtp/advice/diagnose.hpp>
#include <sansmtp/syntax/sasl.hpp>
#include <sansmtp/core/base64.hpp>
#include <sansmtp/core/display.hpp>
#include <sansmtp/asio/client_driver.hpp>

#include <sansmtp/session/client.hpp>
#include <sansmtp/advice/host_name.hpp>
#include <sansmtp/session/server.hpp>  // encode_base64

#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <memory>
#include <fstream>
#include <iterator>

namespace sansmtp::cli {
namespace {

using json = nlohmann::ordered_json;

// The JSON "step" of a refusal outside the transaction.
std::string_view step_name(answered_command c) {
  switch (c) {
    case answered_command::greeting:
      return "greeting";
    case answered_command::ehlo:
      return "ehlo";
    case answered_command::helo:
      return "helo";
    case answered_command::starttls:
      return "starttls";
    case answered_command::auth:
      return "auth";
    default:
      return "session";
  }
}

struct send_args {
  std::string server, from, starttls = "opportunistic", tls_ca, auth_user, auth_password_file;
  std::vector<std::string> to;
  std::optional<std::string> ehlo;
  bool tls_no_verify = false, bdat = false, lmtp = false, json = false, allow_failing_ehlo = false,
       implicit_tls = false;
  std::vector<std::string> files;  // the messages, in order; none: stdin
  std::size_t repeat = 1;          // --repeat: each message this many times
  std::size_t spool_memory = 1024 * 1024;  // --spool-memory: a piped message held in memory up to this
  // MAIL parameters of extensions the server must offer (RFC 8689, 6710,
  // 2852, 4865): never dropped when it does not, the message is not sent.
  bool requiretls = false;
  std::optional<int> mt_priority;
  std::optional<deliver_by> by;
  std::optional<std::uint32_t> holdfor;
  std::optional<std::string> holduntil;
};

// What went wrong outside the per-recipient results.
struct send_error {
  std::string step;  // "connect", "tls", "greeting", "ehlo", "auth", "submit", "session", ...
  std::string message;
  std::optional<int> code;  // the reply code, when a reply said so
};

struct found_diagnosis {
  failure_kind kind = failure_kind::none;
  answered_command after = answered_command::unknown;
  std::string explanation;
};

// One message of the run (a FILE, or stdin; --repeat makes several of
// each) and what became of it.
struct message_job {
  std::string name;             // the file as given, "-" for stdin
  fd_source* source = nullptr;  // shared by the repeats of one input
  std::vector<recipient_result> results;
  bool submitted = false;
  std::optional<send_error> error;
  std::optional<found_diagnosis> diagnosis;
  std::size_t connection = 0;  // which connection (from 1) carried it
  unsigned attempts = 0;       // connections it was tried on

  void reset_outcome() {
    results.clear();
    submitted = false;
    error.reset();
    diagnosis.reset();
  }

  int exit_status() const {
    if (!submitted) return exit_fail;
    std::size_t delivered = 0;
    for (const auto& r : results) delivered += r.delivered();
    if (delivered == results.size() && delivered > 0) return exit_pass;
    return delivered ? exit_warn : exit_fail;
  }
};

int deciding_code(const recipient_result& r) {
  return r.rcpt_code / 100 == 2 && r.delivery_code ? r.delivery_code : r.rcpt_code;
}

// The lines a message's outcome prints (the one-message form is the
// command's historical output).
void print_job(const send_args& args, const message_job& job) {
  for (std::size_t i = 0; i < args.to.size(); ++i) {
    if (!job.submitted) {
      fmt::print("not sent:  {}\n", escape_for_display(args.to[i]));
      continue;
    }
    const auto& r = job.results[i];
    const auto code = deciding_code(r);
    fmt::print("{} {}: {} {}{}\n", r.delivered() ? "delivered:" : "refused:  ", escape_for_display(r.address), code,
               escape_for_display(r.text),
               r.delivered() ? "" : r.rcpt_code / 100 == 2 ? " (after the message data)" : " (at RCPT TO)");
  }
  if (job.diagnosis)
    fmt::print("diagnosis: {}: {}\n", failure_kind_name(job.diagnosis->kind), escape_for_display(job.diagnosis->explanation));
  if (job.error) fmt::print(stderr, "sansmtp send: {}: {}\n", job.error->step, escape_for_display(job.error->message));
}

json job_json(const send_args& args, const message_job& job, std::string_view ehlo_name) {
  json j;
  j["ok"] = job.exit_status() == exit_pass;
  j["ehlo_name"] = ehlo_name;
  auto& rcpts = j["recipients"] = json::array();
  for (std::size_t i = 0; i < args.to.size(); ++i) {
    json o;
    if (!job.submitted) {
      o = {{"address", args.to[i]}, {"code", nullptr}, {"enhanced", nullptr}, {"text", nullptr}};
    } else {
      const auto& r = job.results[i];
      const auto code = deciding_code(r);
      const auto split = split_enhanced(code, r.text);
      o = {{"address", r.address},
           {"code", code ? json(code) : json(nullptr)},
           {"enhanced", split.enhanced ? json(*split.enhanced) : json(nullptr)},
           {"text", split.text}};
    }
    rcpts.push_back(std::move(o));
  }
  j["error"] = job.error ? json{{"step", job.error->step},
                                {"message", job.error->message},
                                {"code", job.error->code ? json(*job.error->code) : json(nullptr)}}
                         : json(nullptr);
  j["diagnosis"] = job.diagnosis ? json{{"kind", failure_kind_name(job.diagnosis->kind)},
                                        {"after", answered_command_text(job.diagnosis->after)},
                                        {"explanation", job.diagnosis->explanation}}
                                 : json(nullptr);
  return j;
}

// One connection: the opening, then the messages from `next` on, one
// transaction each (the client session sends RSET after a failed one), until
// none is left or the session ends.
class send_app final : public drivers::client_handler {
 public:
  send_app(const send_args& a, const std::string& password, const std::vector<envelope_recipient>& rcpts,
           std::vector<message_job>& jobs, std::size_t& next, std::size_t connection)
      : args_(a), password_(password), progress_(a.json), jobs_(jobs), next_(next), connection_(connection) {
    env_.reverse_path = a.from;
    env_.recipients = rcpts;
    env_.prefer_bdat = a.bdat;
    env_.requiretls = a.requiretls;
    env_.mt_priority = a.mt_priority;
    env_.by = a.by;
    env_.holdfor = a.holdfor;
    env_.holduntil = a.holduntil;
  }

  void on_connected(const asio::ip::tcp::endpoint& peer) override {
    progress_.line("connected to {} port {}", peer.address().to_string(), peer.port());
  }

  void on_tls(const drivers::tls_peer_info& tls) override {
    progress_.line("TLS: {} {}; certificate {}: {}", tls.protocol, tls.cipher, escape_for_display(tls.subject),
                   tls.verified ? "verified" : "NOT verified (" + tls.verify_result + ")");
  }

  void on_error(const drivers::driver_error& e) override {
    record_error({std::string(drivers::driver_step_name(e.step)), e.message, std::nullopt});
  }

  void on_event(drivers::client_driver& driver, const client_event_t& event) override {
    if (const auto* r = std::get_if<client_event::reply>(&event)) {
      on_reply(driver, *r);
    } else if (const auto* f = std::get_if<client_event::fatal_error>(&event)) {
      record_error({"session", describe(*f), std::nullopt});
    } else if (const auto* c = std::get_if<client_event::peer_closed>(&event)) {
      record_error({"session", describe(*c), std::nullopt});
    } else if (const auto* s = std::get_if<client_event::submitted>(&event)) {
      if (current_) {
        current_->results.assign(s->recipients.begin(), s->recipients.end());
        current_->submitted = true;
        current_ = nullptr;
        ++next_;
        ++submitted_here_;
      }
    }
  }

  void on_ready(drivers::client_driver& driver) override {
    auto& session = driver.session();
    if (!args_.auth_user.empty() && !session.authenticated()) {
      if (auth_started_) return;  // refused: the driver QUITs
      start_auth(driver);
      return;
    }
    if (current_) return;
    const auto& caps = session.capabilities();
    // The next message, one transaction each; nothing left: the driver QUITs.
    while (next_ < jobs_.size()) {
      auto& job = jobs_[next_];
      job.reset_outcome();
      job.connection = connection_;
      ++job.attempts;
      if (args_.bdat && !(caps && caps->has(extension::chunking))) {
        job.error = send_error{"submit", "--bdat: the server does not offer CHUNKING (RFC 3030)", std::nullopt};
        ++next_;
        continue;
      }
      if (jobs_.size() > 1) progress_.line("message {} of {}: {}", next_ + 1, jobs_.size(), escape_for_display(job.name));
      // RFC 6152: 8-bit octets go as BODY=8BITMIME, and only to a server that
      // offers it. submit() reads the message ahead for them (the source
      // rewinds: a file, or a pipe spooled by run_send); --repeat reads it again.
      auto& source = *job.source;
      if (!source.rewind()) {
        job.error = send_error{"source", "the message cannot be read again", std::nullopt};
        ++next_;
        continue;
      }
      env_.size = source.file_size();
      source.on_error = [&driver](int err) {
        driver.abort({drivers::driver_step::source, std::error_code(err, std::generic_category()),
                      std::string("reading the message failed: ") + std::strerror(err) +
                          "; the connection was closed before the end of the data, so nothing is delivered"});
      };
      rcpt_shown_ = 0;
      const auto ec = session.submit(env_, source);
      if (!ec) {
        current_ = &job;
        return;
      }
      // RFC 9422 MAILMAX: this connection has had its transactions; the
      // next message goes on a new one.
      if (ec == errc::too_many_transactions && submitted_here_ > 0) {
        --job.attempts;
        mailmax_reached_ = true;
        return;
      }
      job.error = send_error{"submit", submit_refusal(ec, caps), std::nullopt};
      ++next_;
    }
  }

  // The message could not be read (spooled) before connecting.
  static void input_failed(message_job& job, std::string message) {
    job.error = send_error{"source", std::move(message), std::nullopt};
  }

  // After the connection: messages it delivered, whether it stopped at the
  // server's MAILMAX, and what ended it early (for the messages it did not
  // reach).
  std::size_t submitted_here() const noexcept { return submitted_here_; }
  bool mailmax_reached() const noexcept { return mailmax_reached_; }
  const std::optional<send_error>& connection_error() const noexcept { return conn_error_; }
  const std::optional<found_diagnosis>& connection_diagnosis() const noexcept { return conn_diagnosis_; }

 private:
  // A failure during a message belongs to it; one outside (connecting, the
  // opening, after the last message) to the connection.
  void record_error(send_error e) {
    if (current_) {
      if (!current_->error) current_->error = std::move(e);
      return;
    }
    if (!conn_error_ && next_ < jobs_.size()) conn_error_ = std::move(e);
  }

  void on_reply(drivers::client_driver& driver, const client_event::reply& r) {
    const auto what = r.answered;
    const auto failure = diagnose(r, driver.options().session.ehlo_name);
    show(driver, r, failure);
    // An EHLO answered 500/502 and retried as HELO (RFC 5321 §4.1.4) is not a failure.
    if (failure.kind != failure_kind::none && !r.fell_back_to_helo) {
      // The first refusal explains the rest; one about the EHLO name explains most.
      auto& diagnosis = current_ ? current_->diagnosis : conn_diagnosis_;
      if (!diagnosis || (failure.kind == failure_kind::helo_rejected && diagnosis->kind != failure_kind::helo_rejected))
        diagnosis = found_diagnosis{failure.kind, what, failure.explanation};
    }
    const bool outside_submission = what == answered_command::greeting || what == answered_command::ehlo ||
                                    what == answered_command::helo || what == answered_command::starttls ||
                                    what == answered_command::auth;
    if (r.value.code >= 400 && outside_submission && !r.fell_back_to_helo)
      record_error({std::string(step_name(what)), reply_display(r.value), r.value.code});
    // RFC 5321 §3.8: a 421 ends the session wherever it comes.
    if (r.value.code == 421)
      record_error({"session", "the server closed the session in answer to " +
                                   std::string(answered_command_text(what)) + ": " + reply_display(r.value),
                    421});
    if (what == answered_command::auth && r.value.code == 334) answer_challenge(driver);
  }

  // A line per step on a terminal.
  void show(drivers::client_driver& driver, const client_event::reply& r, const diagnosis& failure) {
    if (!progress_.on()) return;
    const auto& v = r.value;
    switch (r.answered) {
      case answered_command::greeting:
        progress_.line("greeting: {}", reply_first_line(v));
        break;
      case answered_command::ehlo:
      case answered_command::helo: {
        progress_.line("{} {}: {}", r.answered == answered_command::ehlo ? (args_.lmtp ? "LHLO" : "EHLO") : "HELO",
                       escape_for_display(driver.options().session.ehlo_name), reply_first_line(v));
        if (v.code == 250 && v.lines.size() > 1) {
          std::string offered;
          for (std::size_t i = 1; i < v.lines.size(); ++i) offered += (i > 1 ? ", " : "") + escape_for_display(v.lines[i]);
          progress_.line("  offers: {}", offered);
        }
        if (r.fell_back_to_helo) progress_.line("  (EHLO not known: HELO sent instead, RFC 5321 section 4.1.4)");
        break;
      }
      case answered_command::rcpt:
        progress_.line("RCPT TO:<{}>: {}",
                       rcpt_shown_ < args_.to.size() ? escape_for_display(args_.to[rcpt_shown_]) : std::string("?"),
                       reply_display(v));
        ++rcpt_shown_;
        break;
      case answered_command::auth:
        // A 334's text is the server's challenge: shown, never what we answer.
        progress_.line("AUTH {}: {}", auth_mechanism_, reply_display(v));
        break;
      default:
        progress_.line("{}: {}", answered_command_text(r.answered), reply_display(v));
        break;
    }
    if (failure.kind != failure_kind::none)
      progress_.line("  {}: {}", failure_kind_name(failure.kind), escape_for_display(failure.explanation));
  }

  // RFC 4954: PLAIN (RFC 4616) when offered, in one step with the initial
  // response; LOGIN otherwise (user name, then password, each base64).
  void start_auth(drivers::client_driver& driver) {
    auth_started_ = true;
    auto& session = driver.session();
    const auto& caps = session.capabilities();
    const auto offers = [&](std::string_view mech) {
      return caps && std::find(caps->auth.begin(), caps->auth.end(), mech) != caps->auth.end();
    };
    if (!session.tls()) {
      record_error({"auth",
                    "the server did not offer STARTTLS, and the password is never sent in the clear (RFC 4954 "
                    "section 4)",
                    std::nullopt});
      return;
    }
    std::error_code ec;
    if (offers("PLAIN")) {
      auth_mechanism_ = "PLAIN";
      const auto response = sasl_plain(args_.auth_user, password_);
      ec = response ? session.send_auth("PLAIN", *response) : errc::bad_initial_response;
    } else if (offers("LOGIN")) {
      auth_mechanism_ = "LOGIN";
      ec = session.send_auth("LOGIN");
    } else {
      std::string offered;
      if (caps)
        for (const auto m : caps->auth) offered += (offered.empty() ? "" : " ") + escape_for_display(m);
      record_error({"auth",
                    "the server offers neither AUTH PLAIN nor AUTH LOGIN (it offers: " +
                        (offered.empty() ? std::string("no AUTH") : offered) + ")",
                    std::nullopt});
      return;
    }
    if (ec) record_error({"auth", "AUTH " + auth_mechanism_ + " cannot be sent: " + ec.message(), std::nullopt});
  }

  void answer_challenge(drivers::client_driver& driver) {
    auto& session = driver.session();
    ++challenges_;
    std::error_code ec;
    if (auth_mechanism_ == "LOGIN" && challenges_ == 1)
      ec = session.send_auth_response(encode_base64(args_.auth_user));
    else if (auth_mechanism_ == "LOGIN" && challenges_ == 2)
      ec = session.send_auth_response(encode_base64(password_));
    else
      ec = session.cancel_auth();  // a challenge this exchange has no answer for (RFC 4954 section 4)
    if (ec) record_error({"auth", "cannot answer the AUTH challenge: " + ec.message(), std::nullopt});
  }

  std::string submit_refusal(std::error_code ec, const std::optional<capabilities>& caps) const {
    if (ec == errc::message_too_large && env_.size && caps && caps->size)
      return fmt::format("the message ({} octets) is larger than the server's limit of {} octets (SIZE, RFC 1870 "
                         "section 6): not sent",
                         *env_.size, *caps->size);
    if (ec == errc::encryption_required) return "TLS is required and the session is not encrypted: not sent";
    if (ec == errc::not_offered) {
      // RFC 8689 section 4.1: a REQUIRETLS the server does not offer is not
      // dropped; nor are the other requests asked for by name.
      const auto missing = [&](extension e) { return !(caps && caps->has(e)); };
      if (env_.requiretls && missing(extension::requiretls))
        return "--requiretls: the server does not offer REQUIRETLS (RFC 8689; offered only over TLS): not sent";
      if (env_.mt_priority && missing(extension::mt_priority))
        return "--mt-priority: the server does not offer MT-PRIORITY (RFC 6710): not sent";
      if (env_.by && missing(extension::deliverby))
        return "--by: the server does not offer DELIVERBY (RFC 2852): not sent";
      if ((env_.holdfor || env_.holduntil) && missing(extension::futurerelease))
        return fmt::format("--{}: the server does not offer FUTURERELEASE (RFC 4865): not sent",
                           env_.holdfor ? "holdfor" : "holduntil");
      const auto non_ascii = [](std::string_view a) {
        return std::any_of(a.begin(), a.end(), [](char c) { return static_cast<unsigned char>(c) > 127; });
      };
      bool utf8 = non_ascii(env_.reverse_path);
      for (const auto& r : env_.recipients) utf8 = utf8 || non_ascii(r.address);
      if (utf8 && !(caps && caps->has(extension::smtputf8)))
        return "an address is not ASCII and the server does not offer SMTPUTF8 (RFC 6531): not sent";
      return "the message has octets over 127 and the server does not offer 8BITMIME (RFC 6152): not sent";
    }
    if (ec == errc::value_out_of_range && caps) {
      if (env_.by && caps->deliverby_min)
        return fmt::format("--by: below the server's DELIVERBY minimum of {} seconds for mode R (RFC 2852): not sent",
                           *caps->deliverby_min);
      if (env_.holdfor && caps->futurerelease_max_interval)
        return fmt::format("--holdfor: longer than the server's FUTURERELEASE maximum of {} seconds (RFC 4865): not sent",
                           *caps->futurerelease_max_interval);
      if (env_.holduntil)
        return fmt::format("--holduntil: later than the server's FUTURERELEASE maximum {} (RFC 4865): not sent",
                           escape_for_display(caps->futurerelease_max_datetime));
    }
    if (ec == errc::too_many_transactions)
      return "the server's LIMITS (RFC 9422) need the recipients split over more transactions than its MAILMAX "
             "allows: give fewer recipients";
    return "refused before sending: " + ec.message();
  }

  const send_args& args_;
  const std::string& password_;
  progress progress_;
  std::vector<message_job>& jobs_;
  std::size_t& next_;  // the next message to send (shared by the connections)
  std::size_t connection_;
  message_job* current_ = nullptr;  // the message under way
  envelope env_;
  bool auth_started_ = false, mailmax_reached_ = false;
  std::size_t submitted_here_ = 0;
  std::string auth_mechanism_;
  int challenges_ = 0;
  std::size_t rcpt_shown_ = 0;
  std::optional<send_error> conn_error_;
  std::optional<found_diagnosis> conn_diagnosis_;
};

// --by SECONDS,R|N[T] (RFC 2852 section 4: by-time ";" by-mode [by-trace];
// a comma on the command line, where ";" would need quoting).
std::optional<deliver_by> parse_by(std::string_view text) {
  const auto comma = text.find(',');
  if (comma == text.npos) return std::nullopt;
  auto digits = text.substr(0, comma);
  auto mode = text.substr(comma + 1);
  const bool negative = !digits.empty() && digits.front() == '-';
  if (!digits.empty() && (digits.front() == '-' || digits.front() == '+')) digits.remove_prefix(1);
  std::int64_t seconds = 0;
  const auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), seconds);
  if (digits.empty() || digits.size() > 9 || ec != std::errc() || p != digits.data() + digits.size())
    return std::nullopt;
  deliver_by by;
  by.seconds = negative ? -seconds : seconds;
  if (mode.empty() || mode.size() > 2) return std::nullopt;
  const auto upper = [](char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c; };
  by.mode = upper(mode[0]);
  if (by.mode != 'R' && by.mode != 'N') return std::nullopt;
  if (mode.size() == 2 && upper(mode[1]) != 'T') return std::nullopt;
  by.trace = mode.size() == 2;
  if (by.mode == 'R' && by.seconds <= 0) return std::nullopt;  // §4: R needs a by-time above 0
  return by;
}

int usage(std::string_view why) {
  fmt::print(stderr, "sansmtp send: {}\n(see: sansmtp send --help)\n", why);
  return exit_usage;
}

// The password file: its first line, without the line end.
std::optional<std::string> read_password(const std::string& path, std::string& why) {
  return read_first_line(path, "--auth-password-file", why);
}

}  // namespace

int run_send(args argv) {
  send_args a;
  std::vector<std::string> words(argv.begin(), argv.end());
  std::string why;
  if (!take_ehlo_option(words, a.ehlo, why)) return usage(why);
  CLI::App app{"Submit messages (FILE..., or one from stdin) over one connection and say what became of each "
               "recipient",
               "sansmtp send"};
  app.add_option("--server", a.server,
                 "HOST[:PORT] (port 25 by default; [IPv6]:PORT), or smtps://HOST[:PORT] for --implicit-tls (port 465)")
      ->required();
  app.add_option("--from", a.from, "The reverse-path (an address, or '' for the null one)")->required();
  app.add_option("--to", a.to, "A recipient (repeat for more)")->required();
  std::string ehlo_help;  // --ehlo is read before CLI11 (take_ehlo_option); here for --help
  app.add_option("--ehlo", ehlo_help, "The EHLO name (default: this host's name when it passes ehlo-check)");
  app.add_option("--starttls", a.starttls, "required, opportunistic (default) or off")
      ->check(CLI::IsMember({"required", "opportunistic", "off"}));
  auto* ca = app.add_option("--tls-ca", a.tls_ca, "Trust the CA certificates in FILE (PEM) instead of the system's")
                 ->check(CLI::ExistingFile);
  auto* no_verify = app.add_flag("--tls-no-verify", a.tls_no_verify,
                                 "Do not verify the server's certificate (it is still shown)");
  ca->excludes(no_verify);
  app.add_flag("--implicit-tls", a.implicit_tls,
               "TLS from the first octet, before the greeting (RFC 8314 section 3: submissions on port 465); no STARTTLS");
  auto* user = app.add_option("--auth-user", a.auth_user, "AUTH (RFC 4954) as this user, after TLS");
  auto* pw = app.add_option("--auth-password-file", a.auth_password_file, "The password: the first line of FILE");
  user->needs(pw);
  pw->needs(user);
  app.add_flag("--bdat", a.bdat, "Send the message with BDAT (RFC 3030; the server must offer CHUNKING)");
  app.add_flag("--lmtp", a.lmtp, "Speak LMTP (RFC 2033): LHLO, one reply per recipient");
  app.add_flag("--allow-failing-ehlo", a.allow_failing_ehlo,
               "Send an EHLO name that ehlo-check fails (to see what the server does with it)");
  add_count(app, "--spool-memory", a.spool_memory,
            "A message on a pipe is read whole before connecting, so that its size is declared (SIZE, RFC 1870) "
            "and it can be read again (8BITMIME detection, LIMITS RCPTMAX splits): in memory up to BYTES, "
            "beyond in an unlinked temporary file in $TMPDIR")
      ->capture_default_str();
  std::string proxy_version, proxy_source;
  app.add_option("--proxy-protocol", proxy_version,
                 "Send a PROXY protocol header first, v1 or v2 (as a load balancer would; the server must expect it)")
      ->check(CLI::IsMember({"v1", "v2"}));
  app.add_option("--proxy-source", proxy_source,
                 "With --proxy-protocol: the client address and port to claim, ADDR:PORT (default: this connection's)");
  std::string by;
  app.add_flag("--requiretls", a.requiretls,
               "MAIL ... REQUIRETLS (RFC 8689): the message must travel over verified TLS all the way; not sent "
               "when the server does not offer it");
  app.add_option("--mt-priority", a.mt_priority, "MAIL ... MT-PRIORITY=N (RFC 6710), N from -9 to 9")
      ->check(CLI::Range(-9, 9));
  app.add_option("--by", by,
                 "MAIL ... BY= (RFC 2852): SECONDS,R (return the message if not delivered in time) or SECONDS,N "
                 "(notify), T added to either for trace (120,R; 300,NT)");
  auto* holdfor = app.add_option("--holdfor", a.holdfor, "MAIL ... HOLDFOR=SECONDS (RFC 4865): release it that much later")
                      ->check(CLI::Range(0, 999999999));
  auto* holduntil = app.add_option("--holduntil", a.holduntil,
                                   "MAIL ... HOLDUNTIL=DATETIME (RFC 4865): release it then (RFC 3339, "
                                   "2026-12-15T00:00:00Z)");
  holdfor->excludes(holduntil);
  app.add_flag("--json", a.json,
               "One JSON object: ok, ehlo_name, recipients, error, diagnosis (several messages: one per line, with "
               "message, index and connection)");
  add_count(app, "--repeat", a.repeat, "Send each message this many times, over the same connection (1-100000)");
  app.add_option("files", a.files,
                 "The messages (FILE...; '-' is stdin, the default): all over one connection, one result each");
  app.footer(
      "Exit status: 0 every recipient accepted the message, 1 some did, 2 none did (or the session failed), 64 "
      "usage error.");
  if (const auto status = parse_cli11(app, words)) return *status;

  const auto server = parse_server(a.server, why);
  if (!server) return usage("--server " + escape_for_display(a.server) + ": " + why);
  const bool implicit_tls = a.implicit_tls || server->implicit_tls;
  if (implicit_tls && app.count("--starttls") > 0)
    return usage("--starttls does not go with --implicit-tls (smtps://): TLS starts before the greeting");
  const auto policy = a.starttls == "required" ? tls_policy::required
                      : a.starttls == "off"    ? tls_policy::off
                                               : tls_policy::opportunistic;
  if (policy == tls_policy::off && !implicit_tls && (!a.tls_ca.empty() || a.tls_no_verify))
    return usage("--tls-ca and --tls-no-verify need STARTTLS (not --starttls off)");
  if (policy == tls_policy::off && !implicit_tls && !a.auth_user.empty())
    return usage("--auth-user with --starttls off would send the password in the clear (RFC 4954 section 4)");
  std::string password;
  if (!a.auth_user.empty()) {
    const auto p = read_password(a.auth_password_file, why);
    if (!p) return usage(why);
    password = *p;
  }
  if (app.count("--by") > 0 && !(a.by = parse_by(by)))
    return usage("--by " + escape_for_display(by) +
                 ": not SECONDS,R or SECONDS,N (T may follow; seconds from -999999999 to 999999999, above 0 with R: "
                 "RFC 2852 section 4)");
  if (a.holduntil) {
    esmtp_param_writer hold;
    hold.add("HOLDUNTIL", *a.holduntil);
    if (hold.error() || !make_mail("", hold))
      return usage("--holduntil " + escape_for_display(*a.holduntil) +
                   ": not an RFC 3339 date-time (2026-12-15T00:00:00Z; RFC 4865)");
  }
  // The addresses, checked as the commands will carry them.
  command_options any_utf8;
  any_utf8.smtputf8 = true;
  if (const auto m = make_mail(a.from, {}, any_utf8); !m)
    return usage("--from " + escape_for_display(a.from) + ": " + std::string(errc_name(m.error().code)));
  std::vector<envelope_recipient> rcpts;
  for (const auto& t : a.to) {
    if (const auto r = make_rcpt(t, {}, any_utf8); !r)
      return usage("--to " + escape_for_display(t) + ": " + std::string(errc_name(r.error().code)));
    rcpts.push_back({t, {}});
  }

  drivers::client_driver_options o;
  if (!proxy_option(proxy_version, proxy_source, o.proxy, why)) return usage(why);
  o.host = server->host;
  o.port = server->port;
  o.session.lmtp = a.lmtp;
  o.session.starttls = policy;
  o.session.implicit_tls = implicit_tls;
  o.tls.ca_file = a.tls_ca;
  o.tls.verification = a.tls_no_verify ? drivers::tls_verification::report : drivers::tls_verification::enforce;
  if (a.ehlo) {
    // What no server can be sent (CR, LF, another control, a space): a usage
    // error before connecting, whatever --allow-failing-ehlo says.
    if (const auto hello = a.lmtp ? make_lhlo(*a.ehlo) : make_ehlo(*a.ehlo); !hello)
      return usage(fmt::format("--ehlo \"{}\" cannot be sent as the {} argument ({})", escape_for_display(*a.ehlo),
                               a.lmtp ? "LHLO" : "EHLO", errc_name(hello.error().code)));
    const auto report = check_ehlo_name(*a.ehlo);
    if (report.result == verdict::fail && !a.allow_failing_ehlo) {
      std::string findings;
      for (const auto& f : report.findings)
        if (f.level == severity::fail) findings += fmt::format("\n  {}: {}", ehlo_check_code_name(f.code), f.message);
      return usage(fmt::format("--ehlo \"{}\" fails the EHLO-name check:{}\nGive a name that passes (sansmtp "
                               "ehlo-check NAME), or add --allow-failing-ehlo to send it anyway.",
                               escape_for_display(*a.ehlo), findings));
    }
    o.session.ehlo_name = *a.ehlo;
    o.session.send_failing_ehlo_name = a.allow_failing_ehlo;
  } else {
    const auto chosen = default_ehlo_name();
    if (!chosen.name) {
      std::string reasons;
      for (const auto& r : chosen.reasons) reasons += "\n  - " + r;
      const auto message = fmt::format(
          "this host has no name that passes the EHLO-name check, so nothing was sent:{}\nSet one with --ehlo NAME "
          "(this host's public fully-qualified name, one whose address resolves back to it).",
          reasons);
      if (a.json)
        fmt::print("{}\n", dump_line(json{{"ok", false},
                                          {"ehlo_name", nullptr},
                                          {"recipients", json::array()},
                                          {"error", {{"step", "hello"}, {"message", message}, {"code", nullptr}}},
                                          {"diagnosis", nullptr}}));
      else
        fmt::print(stderr, "sansmtp send: {}\n", message);
      return exit_fail;
    }
    o.session.ehlo_name = *chosen.name;
  }

  // The messages: each FILE (or stdin), --repeat times each, in order.
  if (a.repeat < 1 || a.repeat > 100000) return usage("--repeat must be from 1 to 100000");
  std::vector<std::string> inputs = a.files.empty() ? std::vector<std::string>{"-"} : a.files;
  if (std::count(inputs.begin(), inputs.end(), "-") > 1) return usage("stdin ('-') can be given once");
  std::vector<std::unique_ptr<fd_source>> sources;
  std::vector<int> fds;
  struct close_fds {
    std::vector<int>& fds;
    ~close_fds() {
      for (const int fd : fds) ::close(fd);
    }
  } closer{fds};
  std::vector<message_job> jobs;
  for (const auto& name : inputs) {
    int fd = STDIN_FILENO;
    if (name != "-") {
      fd = ::open(name.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) return usage(fmt::format("cannot open {}: {}", escape_for_display(name), std::strerror(errno)));
      fds.push_back(fd);
    }
    sources.push_back(std::make_unique<fd_source>(fd));
    std::optional<std::string> spool_error = sources.back()->spool(a.spool_memory);
    for (std::size_t i = 0; i < a.repeat; ++i) {
      message_job job;
      job.name = name;
      job.source = sources.back().get();
      // Reported as a read error in the middle of the data is (exit 2, step
      // "source"), but before connecting: nothing was sent.
      if (spool_error) send_app::input_failed(job, *spool_error + "; nothing was sent");
      jobs.push_back(std::move(job));
    }
  }

  // One connection for as many messages as it takes; a new one when the
  // server closed it (an idle timeout, a 421, its LIMITS MAILMAX) after it
  // had taken at least one. A message cut off by the close is tried once
  // more on the next connection.
  std::size_t next = 0;
  while (next < jobs.size() && jobs[next].error && jobs[next].error->step == "source") ++next;
  std::size_t connections = 0;
  while (next < jobs.size()) {
    ++connections;
    send_app app_handler(a, password, rcpts, jobs, next, connections);
    asio::io_context io;
    drivers::client_driver driver(io, o, app_handler);
    driver.start();
    io.run();
    if (next >= jobs.size()) break;
    auto& stopped = jobs[next];
    // (MAILMAX is reached only after a message: it is progress too.)
    const bool progressed = app_handler.submitted_here() > 0;
    // Cut off under way: once more on a new connection, then given up.
    if (stopped.attempts > 0 && !stopped.submitted && !app_handler.mailmax_reached() &&
        (stopped.attempts >= 2 || !progressed))
      ++next;
    if (progressed) continue;
    // The connection took no message: what stopped it stops the rest.
    for (; next < jobs.size(); ++next) {
      auto& job = jobs[next];
      if (job.error) continue;
      job.error = app_handler.connection_error();
      if (!job.error) job.error = send_error{"session", "the connection ended before the message was sent", std::nullopt};
      job.diagnosis = app_handler.connection_diagnosis();
    }
  }
  // Each message's outcome: as before for one; for several, numbered, and
  // one JSON object per line with the message and its connection.
  int status = jobs.front().exit_status();
  for (const auto& job : jobs)
    if (job.exit_status() != status) status = exit_warn;
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    const auto& job = jobs[i];
    if (a.json) {
      auto j = job_json(a, job, o.session.ehlo_name);
      if (jobs.size() > 1) {
        j["message"] = job.name;
        j["index"] = i + 1;
        j["connection"] = job.connection ? json(job.connection) : json(nullptr);
      }
      fmt::print("{}\n", dump_line(j));
    } else {
      if (jobs.size() > 1)
        fmt::print("message {} ({}), {}:\n", i + 1, escape_for_display(job.name),
                   job.connection ? fmt::format("connection {}", job.connection) : std::string("not sent"));
      print_job(a, job);
    }
  }
  return status;
}

}  // namespace sansmtp::cli
