// sansmtp send with the message on a pipe: it is spooled (in memory up to
// --spool-memory, beyond in an unlinked temporary file), so that what works
// with a file on stdin works with a pipe too: SIZE declared and checked
// (RFC 1870), 8-bit content detected (RFC 6152), a recipient list split by
// LIMITS RCPTMAX (RFC 9422). The server is scripted here, on 127.0.0.1, and
// records the commands it is sent.
#include "cli_helpers.hpp"

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace fs = std::filesystem;
using sansmtp::test::drain;

// One SMTP session at a time: 220, the EHLO reply given, 250 to the rest,
// 354 to DATA (the message is read to its end), 221 to QUIT. Records each
// command line and each message.
class scripted_server {
 public:
  explicit scripted_server(std::vector<std::string> ehlo_keywords) : keywords_(std::move(ehlo_keywords)) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(listen_fd_ >= 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(::listen(listen_fd_, 4) == 0);
    socklen_t len = sizeof a;
    REQUIRE(::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len) == 0);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~scripted_server() {
    stop_ = true;
    thread_.join();
    ::close(listen_fd_);
  }

  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  std::vector<std::string> commands() {
    std::lock_guard lock(mutex_);
    return commands_;
  }
  std::vector<std::string> messages() {
    std::lock_guard lock(mutex_);
    return messages_;
  }
  int connections() {
    std::lock_guard lock(mutex_);
    return connections_;
  }

 private:
  void serve() {
    while (!stop_) {
      pollfd p{listen_fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      {
        std::lock_guard lock(mutex_);
        ++connections_;
      }
      session(fd);
      ::close(fd);
    }
  }

  void send(int fd, const std::string& text) { (void)!::write(fd, text.data(), text.size()); }

  // The next line (without CRLF); false at EOF or after 30 s of silence.
  bool line(int fd, std::string& out) {
    for (;;) {
      if (const auto end = buffer_.find("\r\n"); end != std::string::npos) {
        out = buffer_.substr(0, end);
        buffer_.erase(0, end + 2);
        return true;
      }
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 30000) <= 0) return false;
      char chunk[65536];
      const auto n = ::read(fd, chunk, sizeof chunk);
      if (n <= 0) return false;
      buffer_.append(chunk, static_cast<std::size_t>(n));
    }
  }

  void session(int fd) {
    buffer_.clear();
    send(fd, "220 scripted.example ESMTP\r\n");
    std::string l;
    while (line(fd, l)) {
      {
        std::lock_guard lock(mutex_);
        commands_.push_back(l);
      }
      const auto verb = l.substr(0, 4);
      if (verb == "EHLO") {
        std::string reply = "250-scripted.example\r\n";
        for (const auto& k : keywords_) reply += "250-" + k + "\r\n";
        send(fd, reply + "250 HELP\r\n");
      } else if (verb == "DATA") {
        send(fd, "354 go ahead\r\n");
        std::string message;
        while (line(fd, l) && l != ".") message += (l.starts_with('.') ? l.substr(1) : l) + "\r\n";
        {
          std::lock_guard lock(mutex_);
          messages_.push_back(message);
        }
        send(fd, "250 2.0.0 queued\r\n");
      } else if (verb == "QUIT") {
        send(fd, "221 2.0.0 bye\r\n");
        return;
      } else {
        send(fd, "250 2.0.0 ok\r\n");
      }
    }
  }

  std::vector<std::string> keywords_;
  int listen_fd_ = -1;
  std::uint16_t port_ = 0;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::string buffer_;
  std::mutex mutex_;
  std::vector<std::string> commands_, messages_;
  int connections_ = 0;
};

// Runs the CLI with `input` written to its stdin through a pipe by a thread
// (any size: the pipe is fed while the CLI reads), or with stdin opened
// from `stdin_path` when that is given.
sansmtp::test::run_result run_piped(std::vector<std::string> args, const std::string& input,
                                    const std::string& stdin_path = {}, const std::string& tmpdir = {}) {
  args.insert(args.begin(), SANSMTP_CLI_PATH);
  int in[2], out[2], err[2];
  REQUIRE(::pipe2(in, O_CLOEXEC) == 0);
  REQUIRE(::pipe2(out, O_CLOEXEC) == 0);
  REQUIRE(::pipe2(err, O_CLOEXEC) == 0);
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    if (stdin_path.empty()) {
      ::dup2(in[0], 0);
    } else {
      const int fd = ::open(stdin_path.c_str(), O_RDONLY);
      if (fd < 0) _exit(126);
      ::dup2(fd, 0);
    }
    ::dup2(out[1], 1);
    ::dup2(err[1], 2);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::setenv("NO_COLOR", "1", 1);
    if (!tmpdir.empty()) ::setenv("TMPDIR", tmpdir.c_str(), 1);
    ::execv(argv[0], argv.data());
    _exit(127);
  }
  ::close(in[0]);
  ::close(out[1]);
  ::close(err[1]);
  std::signal(SIGPIPE, SIG_IGN);
  std::thread writer([fd = in[1], &input] {
    std::string_view rest = input;
    while (!rest.empty()) {
      const auto n = ::write(fd, rest.data(), rest.size());
      if (n <= 0) break;
      rest.remove_prefix(static_cast<std::size_t>(n));
    }
    ::close(fd);
  });
  std::thread errors;
  sansmtp::test::run_result r;
  errors = std::thread([&r, fd = err[0]] { r.err = drain(fd); });
  r.out = drain(out[0]);
  errors.join();
  writer.join();
  ::close(out[0]);
  ::close(err[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::vector<std::string> send_to(const scripted_server& server, std::vector<std::string> to,
                                 std::vector<std::string> extra = {}) {
  std::vector<std::string> a{"send", "--server", server.address(), "--from", "a@example.com", "--ehlo",
                             "mail.acme-corp.com", "--starttls", "off"};
  for (const auto& t : to) {
    a.push_back("--to");
    a.push_back(t);
  }
  a.insert(a.end(), extra.begin(), extra.end());
  return a;
}

// A message of about `size` octets in CRLF lines (what SIZE counts as is
// then exactly what is sent).
std::string message_of(std::size_t size, const std::string& body_line = "0123456789abcdefghijklmnopqrstuvwxyz") {
  std::string m = "Subject: spooled\r\n\r\n";
  while (m.size() < size) m += body_line + "\r\n";
  return m;
}

std::vector<std::string> with_prefix(const std::vector<std::string>& lines, const std::string& prefix) {
  std::vector<std::string> out;
  for (const auto& l : lines)
    if (l.starts_with(prefix)) out.push_back(l);
  return out;
}

// A directory that is empty again at the end (the spool file must be
// unlinked: nothing named is left in $TMPDIR).
struct temp_dir {
  fs::path path;
  temp_dir() {
    std::string pattern = (fs::temp_directory_path() / "sansmtp-spool-XXXXXX").string();
    REQUIRE(::mkdtemp(pattern.data()));
    path = pattern;
  }
  ~temp_dir() { fs::remove_all(path); }
  bool empty() const { return fs::is_empty(path); }
};

}  // namespace

TEST_CASE("send: a piped message under --spool-memory is declared with SIZE and arrives whole") {
  scripted_server server({"SIZE 10000000", "8BITMIME"});
  const auto message = message_of(200 * 1024);
  const auto r = run_piped(send_to(server, {"b@example.net"}), message);
  INFO(r.err);
  CHECK(r.status == 0);
  const auto mails = with_prefix(server.commands(), "MAIL ");
  REQUIRE(mails.size() == 1);
  CHECK(mails[0] == "MAIL FROM:<a@example.com> SIZE=" + std::to_string(message.size()));
  REQUIRE(server.messages().size() == 1);
  CHECK(server.messages()[0] == message);
}

TEST_CASE("send: a piped message over --spool-memory goes through an unlinked temporary file, SIZE declared") {
  scripted_server server({"SIZE 10000000"});
  temp_dir tmp;
  const auto message = message_of(1536 * 1024);  // over the 1 MiB default
  const auto r = run_piped(send_to(server, {"b@example.net"}), message, {}, tmp.path.string());
  INFO(r.err);
  CHECK(r.status == 0);
  const auto mails = with_prefix(server.commands(), "MAIL ");
  REQUIRE(mails.size() == 1);
  CHECK(mails[0] == "MAIL FROM:<a@example.com> SIZE=" + std::to_string(message.size()));
  REQUIRE(server.messages().size() == 1);
  CHECK(server.messages()[0] == message);
  CHECK(tmp.empty());  // nothing left behind in $TMPDIR

  // The bound is an option: a small message spooled to a file the same way.
  scripted_server again({"SIZE 10000000"});
  const auto small = message_of(5000);
  const auto s = run_piped(send_to(again, {"b@example.net"}, {"--spool-memory", "1000"}), small, {},
                           tmp.path.string());
  CHECK(s.status == 0);
  REQUIRE(with_prefix(again.commands(), "MAIL ").size() == 1);
  CHECK(with_prefix(again.commands(), "MAIL ")[0] == "MAIL FROM:<a@example.com> SIZE=" + std::to_string(small.size()));
  REQUIRE(again.messages().size() == 1);
  CHECK(again.messages()[0] == small);
  CHECK(tmp.empty());
}

TEST_CASE("send: 8-bit content on a pipe is detected and sent as BODY=8BITMIME") {
  scripted_server server({"8BITMIME"});
  const auto message = message_of(2000) + "caf\xc3\xa9\r\n";
  const auto r = run_piped(send_to(server, {"b@example.net"}), message);
  INFO(r.err);
  CHECK(r.status == 0);
  const auto mails = with_prefix(server.commands(), "MAIL ");
  REQUIRE(mails.size() == 1);
  CHECK(mails[0] == "MAIL FROM:<a@example.com> BODY=8BITMIME");
}

TEST_CASE("send: a piped message over the server's SIZE is refused before MAIL") {
  scripted_server server({"SIZE 1000"});
  const auto message = message_of(5000);
  const auto r = run_piped(send_to(server, {"b@example.net"}, {"--json"}), message);
  INFO(r.out);
  CHECK(r.status == 2);
  CHECK(with_prefix(server.commands(), "MAIL ").empty());
  CHECK(r.out.find("\"step\":\"submit\"") != std::string::npos);
  CHECK(r.out.find(std::to_string(message.size())) != std::string::npos);  // the size said
}

TEST_CASE("send: a piped message to more recipients than LIMITS RCPTMAX goes in several transactions") {
  scripted_server server({"LIMITS RCPTMAX=2", "SIZE 10000000"});
  const auto message = message_of(3000);
  const auto r = run_piped(send_to(server, {"b@example.net", "c@example.net", "d@example.net"}), message);
  INFO(r.err);
  CHECK(r.status == 0);
  CHECK(with_prefix(server.commands(), "MAIL ").size() == 2);
  CHECK(with_prefix(server.commands(), "RCPT ").size() == 3);
  const auto messages = server.messages();
  REQUIRE(messages.size() == 2);
  CHECK(messages[0] == message);
  CHECK(messages[1] == message);  // the second transaction sent it whole again
}

TEST_CASE("send: a piped message that LIMITS would split over more than MAILMAX transactions is refused before MAIL") {
  scripted_server server({"LIMITS RCPTMAX=1 MAILMAX=2"});
  const auto r = run_piped(send_to(server, {"b@example.net", "c@example.net", "d@example.net"}), message_of(100));
  CHECK(r.status == 2);
  CHECK(with_prefix(server.commands(), "MAIL ").empty());
  CHECK(r.err.find("more transactions than its MAILMAX allows") != std::string::npos);
  CHECK(r.err.find("pipe") == std::string::npos);  // the pipe is not what stands in the way
}

TEST_CASE("send: a read error while spooling stdin is reported before connecting (exit 2, step source)") {
  scripted_server server({"SIZE 10000000"});
  temp_dir dir;  // read(2) on a directory fails with EISDIR
  const auto r = run_piped(send_to(server, {"b@example.net"}, {"--json"}), {}, dir.path.string());
  CHECK(r.status == 2);
  CHECK(r.out.find("\"step\":\"source\"") != std::string::npos);
  CHECK(r.out.find("reading the message from stdin failed") != std::string::npos);
  CHECK(server.connections() == 0);  // nothing was sent, not even a connection
  const auto plain = run_piped(send_to(server, {"b@example.net"}), {}, dir.path.string());
  CHECK(plain.status == 2);
  CHECK(plain.err.find("reading the message from stdin failed") != std::string::npos);
  CHECK(server.connections() == 0);
}

TEST_CASE("send: --spool-memory takes a byte count") {
  const auto r = sansmtp::test::run({"send", "--server", "127.0.0.1:9", "--from", "a@example.com", "--to",
                                     "b@example.net", "--ehlo", "mail.acme-corp.com", "--spool-memory", "lots"},
                                    "x\r\n");
  CHECK(r.status == 64);
  CHECK(r.err.find("--spool-memory") != std::string::npos);
  const auto help = sansmtp::test::run({"send", "--help"});
  CHECK(help.out.find("--spool-memory") != std::string::npos);
}
