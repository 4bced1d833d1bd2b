// A socket bound to 127.0.0.1 on a port the system chose, closed on
// destruction: a DNS server that never answers (UDP), or a port to hand a
// server that binds it itself once this one is gone.
#pragma once

#include <catch2/catch.hpp>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace sansmtp::test {

struct bound_socket {
  int fd = -1;
  unsigned short port = 0;
  explicit bound_socket(int type) {
    fd = ::socket(AF_INET, type, 0);
    REQUIRE(fd >= 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    socklen_t len = sizeof a;
    REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
    port = ntohs(a.sin_port);
  }
  bound_socket(const bound_socket&) = delete;
  bound_socket& operator=(const bound_socket&) = delete;
  ~bound_socket() { ::close(fd); }
};

}  // namespace sansmtp::test
