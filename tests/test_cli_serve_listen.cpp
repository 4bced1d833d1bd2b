// sansmtp serve --listen and sansmtp passwd: what is checked before a
// socket is opened (the network behaviour is in tests/interop/serve_tcp*.sh).
#include "cli_helpers.hpp"

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

using sansmtp::test::run;
namespace fs = std::filesystem;

namespace {

struct temp_dir {
  fs::path path;
  temp_dir() {
    std::string pattern = (fs::temp_directory_path() / "sansmtp-listen-XXXXXX").string();
    REQUIRE(mkdtemp(pattern.data()));
    path = pattern;
  }
  ~temp_dir() { fs::remove_all(path); }
};

std::vector<std::string> serve_args(std::vector<std::string> extra) {
  std::vector<std::string> args = {"serve"};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

}  // namespace

TEST_CASE("serve: transports and stores and TLS/AUTH options that do not go together are usage errors") {
  temp_dir d;
  const auto box = (d.path / "box").string();
  const std::vector<std::vector<std::string>> bad = {
      {"--maildir", box},                                             // no transport
      {"--stdio", "--listen", "127.0.0.1:0", "--maildir", box},      // two transports
      {"--listen", "127.0.0.1:0"},                                    // no store
      {"--listen", "127.0.0.1:0", "--maildir", box, "--sink"},       // two stores
      {"--stdio", "--maildir", box, "--tls-self-signed"},            // TLS needs the network
      {"--stdio", "--maildir", box, "--threads", "2"},
      {"--stdio", "--maildir", box, "--max-sessions", "2"},
      {"--stdio", "--maildir", box, "--grace", "1"},
      {"--listen", "127.0.0.1:0", "--sink", "--threads", "0"},
      {"--listen", "127.0.0.1:0", "--sink", "--threads", "257"},
      {"--listen", "127.0.0.1:0", "--sink", "--grace", "3601"},
      {"--listen", "127.0.0.1:0", "--sink", "--max-sessions", "-1"},
      {"--listen", "127.0.0.1:0", "--sink", "--tls-self-signed", "--tls-cert", "/etc/hostname",
       "--tls-key", "/etc/hostname"},
      {"--listen", "127.0.0.1:0", "--sink", "--tls-cert", "/etc/hostname"},  // no key
      {"--listen", "127.0.0.1:0", "--sink", "--tls-cert", (d.path / "missing.pem").string(), "--tls-key",
       (d.path / "missing.pem").string()},
      {"--listen", "127.0.0.1:0", "--sink", "--auth-users", "/etc/hostname"},  // AUTH needs TLS
      {"--listen", "127.0.0.1:0", "--sink", "--hostname", "mx example"},      // not one word
      {"--stdio", "--sink", "--hostname", "mx.example\r\n250 injected"},
      {"--stdio", "--sink", "--hostname", ""},
      // The AUTH guard (RFC 4954, Security Considerations): --listen only, and in range.
      {"--stdio", "--sink", "--auth-threads", "2"},
      {"--stdio", "--sink", "--auth-fail-delay-ms", "10"},
      {"--stdio", "--sink", "--auth-max-failures", "5"},
      {"--listen", "127.0.0.1:0", "--sink", "--auth-threads", "0"},
      {"--listen", "127.0.0.1:0", "--sink", "--auth-threads", "65"},
      {"--listen", "127.0.0.1:0", "--sink", "--auth-fail-delay-ms", "600001"},
      {"--listen", "127.0.0.1:0", "--sink", "--auth-fail-delay-max-ms", "600001"},
      {"--listen", "127.0.0.1:0", "--sink", "--auth-failure-window", "0"},
      {"--listen", "127.0.0.1:0", "--sink", "--auth-failure-window", "86401"},
      {"--listen", "127.0.0.1:0", "--sink", "--auth-max-failures", "-1"},
      {"--stdio", "--sink", "--hostname", "mx/a:b"},  // no Domain (RFC 5321 §4.1.1.1)
      {"--stdio", "--maildir", box, "--hostname", "../../etc"},
      {"--stdio", "--sink", "--timeout", "0"},
  };
  for (const auto& args : bad) {
    INFO(args.front() << " ... " << args.back());
    const auto r = run(serve_args(args));
    CHECK(r.status == 64);
    CHECK(!r.err.empty());
    CHECK(r.out.empty());
  }
}

TEST_CASE("serve --listen: ADDRESS:PORT is numeric with IPv6 in brackets and a port from 0 to 65535") {
  for (const std::string listen : {"127.0.0.1", "localhost:25", "::1:25", "[127.0.0.1]:25", "127.0.0.1:65536",
                                   "127.0.0.1:-1", "127.0.0.1:", "[::1]", "127.0.0.1:25x", "1.2.3:25"}) {
    INFO(listen);
    const auto r = run(serve_args({"--listen", listen, "--sink"}));
    CHECK(r.status == 64);
    CHECK(r.err.find("is not ADDRESS:PORT") != std::string::npos);
  }
}

TEST_CASE("serve --listen: a port already taken is a failure (exit 2) naming it") {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  REQUIRE(::listen(fd, 1) == 0);
  socklen_t len = sizeof a;
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
  const auto at = "127.0.0.1:" + std::to_string(ntohs(a.sin_port));
  const auto r = run(serve_args({"--listen", at, "--sink"}));
  ::close(fd);
  CHECK(r.status == 2);
  CHECK(r.err.find("cannot listen on " + at) != std::string::npos);
  CHECK(r.out.empty());
}

TEST_CASE("serve --auth-users: a malformed users file is a usage error naming the line") {
  temp_dir d;
  const auto users = d.path / "users";
  std::ofstream(users) << "# comment\n\nalice:$scrypt$16384$8$1$c2FsdHNhbHQ=$bm90IGEgcmVhbCBoYXNoIGJ1dCAzMiBieXRlcyEh\n"
                       << "bob:$scrypt$1000$8$1$c2FsdA==$aGFzaA==\n";
  auto r = run(serve_args({"--listen", "127.0.0.1:0", "--sink", "--tls-self-signed", "--auth-users", users.string()}));
  CHECK(r.status == 64);
  CHECK(r.err.find("line 4") != std::string::npos);  // N = 1000 is not a power of two
  std::ofstream(users) << "no colon here\n";
  r = run(serve_args({"--listen", "127.0.0.1:0", "--sink", "--tls-self-signed", "--auth-users", users.string()}));
  CHECK(r.status == 64);
  CHECK(r.err.find("line 1") != std::string::npos);
  r = run(serve_args({"--listen", "127.0.0.1:0", "--sink", "--tls-self-signed", "--auth-users",
                      (d.path / "none").string()}));
  CHECK(r.status == 64);
  CHECK(r.err.find("cannot read") != std::string::npos);
}

TEST_CASE("passwd prints one users-file line per run with a fresh salt and refuses bad names and empty passwords") {
  const std::regex line(R"(alice:\$scrypt\$16384\$8\$1\$[A-Za-z0-9+/]{22}==\$[A-Za-z0-9+/]{43}=\n)");
  const auto a = run({"passwd", "alice"}, "correct horse\n");
  const auto b = run({"passwd", "alice"}, "correct horse\n");
  CHECK(a.status == 0);
  CHECK(std::regex_match(a.out, line));
  CHECK(std::regex_match(b.out, line));
  CHECK(a.out != b.out);  // salted
  CHECK(run({"passwd", "al:ice"}, "pw\n").status == 64);
  CHECK(run({"passwd", ""}, "pw\n").status == 64);
  CHECK(run({"passwd", "alice"}, "\n").status == 64);
  CHECK(run({"passwd", "alice"}, "").status == 64);
  CHECK(run({"passwd"}, "pw\n").status == 64);
}

TEST_CASE("serve --help: --max-sessions defaults to 100 and --timeout to 300") {
  const auto r = run({"serve", "--help"});
  CHECK(r.status == 0);
  bool max_sessions = false, timeout = false;
  for (const auto& line : sansmtp::test::lines(r.out)) {
    if (line.find("--max-sessions") != std::string::npos) max_sessions = line.find("=100") != std::string::npos;
    if (line.find("--timeout") != std::string::npos) timeout = line.find("=300") != std::string::npos;
  }
  CHECK(max_sessions);
  CHECK(timeout);
}

TEST_CASE("serve --tls-key: an encrypted key needs --tls-key-password-file, nothing is asked on the terminal or stdin") {
  temp_dir d;
  const auto cert = (d.path / "cert.pem").string(), key = (d.path / "key.pem").string();
  // An EC key encrypted with AES-256 under the pass phrase "pass phrase 1", by the openssl CLI.
  const auto make = "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -days 2 -subj /CN=mx.test -keyout '" +
                    key + "' -out '" + cert + "' -passout 'pass:pass phrase 1' >/dev/null 2>&1";
  REQUIRE(std::system(make.c_str()) == 0);
  {
    std::ifstream in(key);
    std::string first;
    std::getline(in, first);
    REQUIRE(first == "-----BEGIN ENCRYPTED PRIVATE KEY-----");
  }
  const std::vector<std::string> tls = {"--listen", "127.0.0.1:0", "--sink", "--hostname", "mx.test",
                                        "--tls-cert", cert, "--tls-key", key};

  SECTION("without the pass phrase: refused at once with a clear error, stdin not read") {
    // The pass phrase on stdin must not be taken (OpenSSL's prompt reads
    // it there when there is no terminal, and the server then runs).
    sansmtp::test::live_process serve(serve_args(tls));
    serve.send("pass phrase 1\n");
    serve.close_input();
    CHECK(serve.wait_exit(std::chrono::seconds(20)) == 2);
    INFO(serve.error_output());
    CHECK(serve.error_output().find("is encrypted and no pass phrase was given") != std::string::npos);
    CHECK(serve.error_output().find("--tls-key-password-file") != std::string::npos);
    CHECK(serve.output().empty());
  }
  SECTION("a wrong pass phrase: refused") {
    std::ofstream(d.path / "wrong") << "pass phrase 2\n";
    auto extra = tls;
    extra.insert(extra.end(), {"--tls-key-password-file", (d.path / "wrong").string()});
    const auto r = run(serve_args(extra));
    INFO(r.err);
    CHECK(r.status == 2);
    CHECK(r.err.find("cannot decrypt the private key") != std::string::npos);
    CHECK(r.out.empty());
  }
  SECTION("the pass phrase from the first line of FILE: the server listens") {
    std::ofstream(d.path / "phrase", std::ios::binary) << "pass phrase 1\r\nnot part of it\n";
    auto extra = tls;
    extra.insert(extra.end(), {"--tls-key-password-file", (d.path / "phrase").string()});
    sansmtp::test::live_process serve(serve_args(extra));
    CHECK(serve.read_until("listening on 127.0.0.1:").find("listening on 127.0.0.1:") != std::string::npos);
    serve.signal(SIGTERM);
    CHECK(serve.wait_exit(std::chrono::seconds(20)) == 0);
  }
  SECTION("usage errors") {
    std::ofstream(d.path / "phrase") << "pass phrase 1\n";
    CHECK(run(serve_args({"--listen", "127.0.0.1:0", "--sink", "--tls-self-signed", "--tls-key-password-file",
                          (d.path / "phrase").string()}))
              .status == 64);
    CHECK(run(serve_args({"--stdio", "--sink", "--tls-key-password-file", (d.path / "phrase").string()})).status ==
          64);
    std::ofstream(d.path / "empty") << "\n";
    auto extra = tls;
    extra.insert(extra.end(), {"--tls-key-password-file", (d.path / "empty").string()});
    CHECK(run(serve_args(extra)).status == 64);
  }
}
