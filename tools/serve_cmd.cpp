// sansmtp serve --stdio --maildir DIR [--hostname NAME] [--bare-lf P] [--bare-cr P]
//                [--max-size N] [--starttls-injection reject|discard] [--events FILE]
//
// SMTP on stdin/stdout (inetd style) with an accept-all policy around
// sansmtp::server: the canonical pull loop of DESIGN.md with read(2) and
// write(2). Each accepted message is written byte-exact to a new Maildir
// file: to tmp/, fsynced, renamed into new/, the directory fsynced, and
// only then the 250. A refused message leaves nothing in new/.
#include "cli11_args.hpp"
#include "commands.hpp"
#include "report_json.hpp"
#include "sha256.hpp"

#include <sansmtp/ehlo_check.hpp>
#include <sansmtp/server.hpp>

#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace sansmtp::cli {
namespace {

using json = nlohmann::ordered_json;

// Appends one JSON line per event to --events.
class event_log {
 public:
  explicit event_log(const std::string& path) {
    if (!path.empty()) out_.open(path, std::ios::app);
  }
  bool ok() const { return !out_.is_open() || out_.good(); }
  bool enabled() const { return out_.is_open(); }
  void write(const json& j) {
    if (out_.is_open()) out_ << dump_line(j) << '\n' << std::flush;
  }

 private:
  std::ofstream out_;
};

bool write_fd(int fd, std::span<const char> bytes) {
  while (!bytes.empty()) {
    const auto n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes = bytes.subspan(static_cast<std::size_t>(n));
  }
  return true;
}

bool fsync_path(const std::string& path, int flags) {
  const int fd = ::open(path.c_str(), flags);
  if (fd < 0) return false;
  const bool ok = ::fsync(fd) == 0;
  ::close(fd);
  return ok;
}

// A Maildir (tmp/, new/, cur/) and the one message being written into it.
class maildir {
 public:
  explicit maildir(std::string root, std::string host) : root_(std::move(root)), host_(std::move(host)) {}

  bool prepare() const {
    for (const char* sub : {"", "/tmp", "/new", "/cur"}) {
      const auto dir = root_ + sub;
      if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return false;
    }
    return true;
  }

  bool begin() {
    abort();
    // Maildir's unique name: time, a per-process counter and pid, host.
    name_ = fmt::format("{}.M{}P{}.{}", static_cast<long long>(std::time(nullptr)), counter_++, ::getpid(), host_);
    fd_ = ::open((root_ + "/tmp/" + name_).c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    failed_ = fd_ < 0;
    digest_.emplace();
    size_ = 0;
    return !failed_;
  }
  void write(std::span<const char> bytes) {
    if (fd_ < 0 || failed_) return;
    failed_ = !write_fd(fd_, bytes);
    digest_->update(bytes);
    size_ += bytes.size();
  }
  bool open() const { return fd_ >= 0; }
  // Durable in new/, or false (and nothing in new/).
  bool commit(std::string& file, std::string& sha) {
    if (fd_ < 0) return false;
    const bool written = !failed_ && ::fsync(fd_) == 0;
    ::close(fd_);
    fd_ = -1;
    const auto tmp = root_ + "/tmp/" + name_;
    const auto final_name = root_ + "/new/" + name_;
    if (!written || ::rename(tmp.c_str(), final_name.c_str()) != 0) {
      ::unlink(tmp.c_str());
      return false;
    }
    fsync_path(root_ + "/new", O_RDONLY | O_DIRECTORY);
    file = final_name;
    sha = digest_->hex();
    return true;
  }
  void abort() {
    if (fd_ < 0) return;
    ::close(fd_);
    fd_ = -1;
    ::unlink((root_ + "/tmp/" + name_).c_str());
  }
  std::uint64_t size() const { return size_; }

 private:
  std::string root_, host_, name_;
  int fd_ = -1;
  bool failed_ = false;
  unsigned counter_ = 0;
  std::uint64_t size_ = 0;
  std::optional<sha256> digest_;
};

std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0 || !buf[0]) return "localhost";
  return buf;
}

class stdio_session {
 public:
  stdio_session(server_options options, maildir& box, event_log& log)
      : session_(std::move(options)), box_(box), log_(log) {}

  int run(const std::string& host) {
    reply(server_reply{220, ""}, host + " ESMTP sansmtp");
    std::vector<char> buffer(64 * 1024);
    for (;;) {
      if (!flush()) return exit_fail;
      if (session_.closed()) break;
      if (session_.wants_read()) {
        const auto want = std::min(buffer.size(), session_.receive_capacity());
        const auto n = ::read(STDIN_FILENO, buffer.data(), want);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0)
          session_.receive_eof();
        else
          session_.receive({buffer.data(), static_cast<std::size_t>(n)});
      }
      if (!drain()) break;
    }
    box_.abort();
    return flush() ? exit_pass : exit_fail;
  }

 private:
  // Sends a reply and logs it; text_owner keeps a built text alive.
  void reply(server_reply r, const std::string& text_owner = {}) {
    if (!text_owner.empty()) r.text = text_owner;
    if (!session_.send(r)) log_.write({{"event", "reply"}, {"code", r.code}});
  }

  bool flush() {
    for (auto out = session_.pending_output(); !out.empty(); out = session_.pending_output()) {
      if (!write_fd(STDOUT_FILENO, out)) return false;
      session_.consume_output(out.size());
    }
    return true;
  }

  // Handles events until the session needs bytes; false when it is over.
  bool drain() {
    for (;;) {
      auto event = session_.next_event();
      if (std::holds_alternative<server_event::need_data>(event)) return true;
      if (const auto* p = std::get_if<server_event::paused>(&event))
        return p->why != server_event::paused::reason::closed;
      if (const auto* c = std::get_if<server_event::command>(&event)) {
        on_command(*c);
      } else if (const auto* b = std::get_if<server_event::bad_command>(&event)) {
        log_.write({{"event", "error"}, {"errc", std::string(b->error.name())}});
        reply(b->suggested);
      } else if (const auto* d = std::get_if<server_event::message_data>(&event)) {
        box_.write(d->bytes);
      } else if (std::holds_alternative<server_event::chunk_end>(event)) {
        reply({250, "2.0.0 Chunk accepted"});
      } else if (const auto* e = std::get_if<server_event::message_end>(&event)) {
        on_message_end(*e);
      } else if (const auto* f = std::get_if<server_event::fatal_error>(&event)) {
        log_.write({{"event", "error"}, {"errc", std::string(errc_name(f->code))}});
        reply(f->suggested);
      } else if (std::holds_alternative<server_event::peer_closed>(event)) {
        box_.abort();
        return false;
      } else if (std::holds_alternative<server_event::auth_response>(event)) {
        reply({502, "5.5.1 AUTH not offered"});  // not reachable: AUTH is not offered on stdio
      }
    }
  }

  void on_command(const server_event::command& c) {
    log_.write({{"event", "command"}, {"verb", std::string(verb_name(c.value))}});
    const auto& v = c.value;
    if (std::holds_alternative<cmd::ehlo>(v) || std::holds_alternative<cmd::lhlo>(v)) {
      if (!session_.send_ehlo_reply()) log_.write({{"event", "reply"}, {"code", 250}});
    } else if (const auto* m = std::get_if<cmd::mail>(&v)) {
      mail_from_ = m->reverse_path.address();
      rcpt_to_.clear();
      reply({250, "2.1.0 Ok"});
    } else if (const auto* r = std::get_if<cmd::rcpt>(&v)) {
      rcpt_to_.push_back(r->forward_path.address());
      reply({250, "2.1.5 Ok"});
    } else if (std::holds_alternative<cmd::data>(v)) {
      if (!box_.begin()) {
        reply({451, "4.3.0 Cannot store the message now"});
        return;
      }
      reply({354, "End data with <CR><LF>.<CR><LF>"});
    } else if (std::holds_alternative<cmd::bdat>(v)) {
      if (!box_.open()) box_.begin();  // the first chunk; a failure shows at the end
    } else if (std::holds_alternative<cmd::rset>(v)) {
      box_.abort();
      rcpt_to_.clear();
      reply({250, "2.0.0 Ok"});
    } else if (std::holds_alternative<cmd::quit>(v)) {
      reply({221, "2.0.0 Bye"});
    } else if (std::holds_alternative<cmd::vrfy>(v)) {
      reply({252, "2.5.0 Cannot VRFY user, but will accept message"});
    } else if (std::holds_alternative<cmd::help>(v)) {
      reply({214, "2.0.0 sansmtp serve: RFC 5321"});
    } else {
      reply({250, "2.0.0 Ok"});
    }
  }

  void on_message_end(const server_event::message_end& e) {
    if (e.error) {
      box_.abort();
      log_.write({{"event", "error"}, {"errc", std::string(e.error->name())}, {"offset", e.error->offset}});
      reply(e.suggested);
      return;
    }
    std::string file, sha;
    if (!box_.commit(file, sha)) {
      // Disk full, quota: nothing in new/, the session stays in sync.
      log_.write({{"event", "error"}, {"errc", "write_failed"}});
      reply({452, "4.3.1 Insufficient system storage"});
      return;
    }
    json rcpts = json::array();
    for (const auto& r : rcpt_to_) rcpts.push_back(r);
    log_.write({{"event", "message"},
                {"file", file},
                {"size", e.size},
                {"sha256", sha},
                {"mail_from", mail_from_},
                {"rcpt_to", rcpts}});
    reply({250, "2.0.0 Ok: queued"});
  }

  server session_;
  maildir& box_;
  event_log& log_;
  std::string mail_from_;
  std::vector<std::string> rcpt_to_;
};

}  // namespace

int run_serve(args argv) {
  CLI::App app{"Speak SMTP on stdin/stdout and deliver to a Maildir (accept-all)", "sansmtp serve"};
  bool stdio = false;
  std::string dir, hostname = host_name(), events, bare_lf = "reject", bare_cr = "reject", injection = "reject";
  std::size_t max_size = 0;
  app.add_flag("--stdio", stdio, "Speak SMTP on stdin/stdout (inetd style)")->required();
  app.add_option("--maildir", dir, "Deliver each accepted message to DIR/new/")->required();
  app.add_option("--hostname", hostname, "The name in the greeting and the EHLO reply")->capture_default_str();
  const auto policy = CLI::IsMember({"reject", "normalize", "allow"});
  app.add_option("--bare-lf", bare_lf, "A LF without CR in DATA: reject (default), normalize or allow")->check(policy);
  app.add_option("--bare-cr", bare_cr, "A CR without LF in DATA: reject (default), normalize or allow")->check(policy);
  add_count(app, "--max-size", max_size, "SIZE limit in octets (RFC 1870); 0 = none");
  app.add_option("--starttls-injection", injection, "Plaintext after STARTTLS: reject or discard")
      ->check(CLI::IsMember({"reject", "discard"}));
  app.add_option("--events", events, "Append one JSON line per event to FILE");
  if (const auto status = parse_cli11(app, argv)) return *status;

  const std::map<std::string, bare_line_ending> policies = {
      {"reject", bare_line_ending::reject}, {"normalize", bare_line_ending::normalize}, {"allow", bare_line_ending::allow}};
  server_options o;
  o.hostname = hostname;
  o.pipelining = o.eightbitmime = o.smtputf8 = o.chunking = o.enhancedstatuscodes = o.dsn = true;
  o.max_message_size = max_size;
  o.data.bare_lf = policies.at(bare_lf);
  o.data.bare_cr = policies.at(bare_cr);
  o.after_starttls = injection == "discard" ? starttls_injection::discard : starttls_injection::reject;

  maildir box(dir, hostname);
  if (!box.prepare()) {
    fmt::print(stderr, "sansmtp serve: cannot create the Maildir {}\n", escape_for_display(dir));
    return exit_fail;
  }
  event_log log(events);
  if (!log.ok()) {
    fmt::print(stderr, "sansmtp serve: cannot open {}\n", escape_for_display(events));
    return exit_fail;
  }
  (void)stdio;
  stdio_session session(o, box, log);
  return session.run(hostname);
}

}  // namespace sansmtp::cli
