// Tests: a scripted SMTP peer on 127.0.0.1 for the CLI tests, as a hostile
// or broken server would behave. It accepts one connection, sends
// replies[0] at once and replies[k] after the k-th line it receives (the
// lines of a message body count too), keeps everything it receives, and
// closes the connection when a line comes with no reply left, at the
// client's EOF, or after 20 seconds. Plain POSIX sockets, on a thread of
// its own.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace sansmtp::test {

class scripted_server {
 public:
  explicit scripted_server(std::vector<std::string> replies) : replies_(std::move(replies)) {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (listener_ < 0 || ::bind(listener_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::listen(listener_, 1) != 0 || ::getsockname(listener_, reinterpret_cast<sockaddr*>(&a), &len) != 0)
      throw std::runtime_error("scripted_server: cannot listen on 127.0.0.1");
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { run(); });
  }
  ~scripted_server() {
    if (thread_.joinable()) thread_.join();
    ::close(listener_);
  }
  scripted_server(const scripted_server&) = delete;
  scripted_server& operator=(const scripted_server&) = delete;

  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  // Everything received; call after the client has exited.
  const std::string& received() {
    if (thread_.joinable()) thread_.join();
    return received_;
  }

 private:
  void run() {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    const auto wait = [&](int fd) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      pollfd p{fd, POLLIN, 0};
      return ::poll(&p, 1, static_cast<int>(left.count())) == 1;
    };
    if (!wait(listener_)) return;
    const int fd = ::accept(listener_, nullptr, nullptr);
    if (fd < 0) return;
    std::size_t next = 0, scanned = 0;
    const auto send_next = [&] {
      if (next >= replies_.size()) return false;  // nothing left to say: hang up
      const auto& r = replies_[next++];
      (void)!::send(fd, r.data(), r.size(), MSG_NOSIGNAL);
      return true;
    };
    send_next();
    char buffer[4096];
    for (bool open = true; open && wait(fd);) {
      const auto n = ::recv(fd, buffer, sizeof buffer, 0);
      if (n <= 0) break;
      received_.append(buffer, static_cast<std::size_t>(n));
      for (auto end = received_.find("\r\n", scanned); open && end != std::string::npos;
           end = received_.find("\r\n", scanned)) {
        scanned = end + 2;
        open = send_next();
      }
    }
    ::close(fd);
  }

  std::vector<std::string> replies_;
  int listener_ = -1;
  unsigned short port_ = 0;
  std::thread thread_;
  std::string received_;
};

}  // namespace sansmtp::test
