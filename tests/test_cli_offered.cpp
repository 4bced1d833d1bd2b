// sansmtp serve --requiretls/--mt-priority/--deliverby/--futurerelease and
// sansmtp send --requiretls/--mt-priority/--by/--holdfor/--holduntil: the
// options checked (exit 64), the EHLO lines and the events log's MAIL
// fields, and send into serve over implicit TLS: REQUIRETLS accepted when
// offered, refused before MAIL (exit 2) when not (RFC 8689 section 4.1).
#include "cli_helpers.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

using sansmtp::test::live_process;
using sansmtp::test::run;

namespace {

struct temp_path {
  std::string path;
  temp_path() {
    char name[] = "/tmp/sansmtp_offered_test_XXXXXX";
    const int fd = mkstemp(name);
    REQUIRE(fd >= 0);
    close(fd);
    path = name;
  }
  ~temp_path() { std::remove(path.c_str()); }
};

std::string read_all(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The "command" entries of an events log whose verb is MAIL.
std::vector<nlohmann::json> mail_commands(const std::string& events) {
  std::vector<nlohmann::json> out;
  for (const auto& line : sansmtp::test::lines(events)) {
    if (line.empty()) continue;
    const auto j = nlohmann::json::parse(line);
    if (j.value("event", "") == "command" && j.value("verb", "") == "MAIL") out.push_back(j);
  }
  return out;
}

void usage_error(std::vector<std::string> args, const std::string& says) {
  const auto r = run(std::move(args), "Subject: x\r\n\r\nbody\r\n");
  INFO(r.err);
  CHECK(r.status == 64);
  CHECK(r.err.find(says) != std::string::npos);
}

std::vector<std::string> send_args(std::vector<std::string> extra, const std::string& server = "127.0.0.1:9") {
  std::vector<std::string> a{"send", "--server", server, "--from", "a@example.com", "--to", "b@example.net",
                             "--ehlo", "mail.acme-corp.com"};
  a.insert(a.end(), extra.begin(), extra.end());
  return a;
}

// `serve --listen 127.0.0.1:0 ARGS` running; its port from "listening on ADDR:PORT".
struct listening {
  live_process process;
  std::string port;
  explicit listening(std::vector<std::string> args) : process(with_listen(std::move(args))) {
    const auto& out = process.read_until("\n");
    const auto colon = out.rfind(':');
    REQUIRE(out.find("listening on 127.0.0.1:") != std::string::npos);
    port = out.substr(colon + 1, out.find('\n', colon) - colon - 1);
  }
  int stop() {
    process.signal(SIGTERM);
    return process.wait_exit(std::chrono::seconds(20));
  }
  static std::vector<std::string> with_listen(std::vector<std::string> args) {
    args.insert(args.begin(), {"serve", "--listen", "127.0.0.1:0"});
    return args;
  }
};

}  // namespace

TEST_CASE("serve: the offered-extension options are checked (exit 64)") {
  usage_error({"serve", "--stdio", "--sink", "--requiretls"}, "--requiretls needs TLS");
  usage_error({"serve", "--listen", "127.0.0.1:0", "--sink", "--requiretls"}, "--requiretls needs TLS");
  usage_error({"serve", "--stdio", "--sink", "--mt-priority", "-x"}, "--mt-priority '-x' is neither");
  usage_error({"serve", "--stdio", "--sink", "--mt-priority", "MIX ER"}, "--mt-priority");
  usage_error({"serve", "--stdio", "--sink", "--deliverby", "-1"}, "--deliverby '-1' is not");
  // min-by-time is 1*9DIGIT (RFC 2852): 999999999 is the largest.
  usage_error({"serve", "--stdio", "--sink", "--deliverby", "1000000000"}, "--deliverby '1000000000' is not");
  usage_error({"serve", "--stdio", "--sink", "--futurerelease", "3600"}, "is not MAX-SECONDS,MAX-DATETIME");
  usage_error({"serve", "--stdio", "--sink", "--futurerelease", "3600,tomorrow"}, "is not MAX-SECONDS,MAX-DATETIME");
  usage_error({"serve", "--stdio", "--sink", "--futurerelease", "1000000000,2026-12-15T00:00:00Z"},
              "is not MAX-SECONDS,MAX-DATETIME");
  usage_error({"serve", "--stdio", "--sink", "--futurerelease", ",2026-12-15T00:00:00Z"},
              "is not MAX-SECONDS,MAX-DATETIME");
}

TEST_CASE("serve: the EHLO reply offers what the options say, and the events log types the MAIL parameters") {
  temp_path events;
  const auto r = run({"serve", "--stdio", "--sink", "--hostname", "mx.test", "--events", events.path,
                      "--mt-priority", "MIXER", "--deliverby", "120", "--futurerelease",
                      "999999999,2026-12-15T00:00:00Z"},
                     "EHLO client.test\r\n"
                     "MAIL FROM:<a@b.test> MT-PRIORITY=-3 BY=120;RT HOLDFOR=999999999\r\nRSET\r\n"
                     "MAIL FROM:<a@b.test> BY=119;R\r\n"
                     "MAIL FROM:<a@b.test> HOLDUNTIL=2026-12-15T00:00:01Z\r\n"
                     "MAIL FROM:<a@b.test> BY=-5;N HOLDUNTIL=2026-12-15T00:00:00Z\r\nRSET\r\n"
                     "MAIL FROM:<a@b.test> REQUIRETLS\r\nQUIT\r\n");
  INFO(r.out << r.err);
  CHECK(r.status == 0);
  CHECK(r.out.find("250-MT-PRIORITY MIXER\r\n") != std::string::npos);
  CHECK(r.out.find("250-DELIVERBY 120\r\n") != std::string::npos);
  CHECK(r.out.find("FUTURERELEASE 999999999 2026-12-15T00:00:00Z\r\n") != std::string::npos);
  CHECK(r.out.find("REQUIRETLS") == std::string::npos);  // not in the clear (and not asked for)
  CHECK(r.out.find("501 5.5.4 BY time below") != std::string::npos);
  CHECK(r.out.find("501 5.5.4 HOLDUNTIL beyond") != std::string::npos);
  CHECK(r.out.find("555 5.5.4 ") != std::string::npos);  // REQUIRETLS: not offered
  const auto mails = mail_commands(read_all(events.path));
  REQUIRE(mails.size() == 2);
  CHECK(mails[0]["mt_priority"] == -3);
  CHECK(mails[0]["by"] == nlohmann::json({{"seconds", 120}, {"mode", "R"}, {"trace", true}}));
  CHECK(mails[0]["holdfor"] == 999999999);
  CHECK_FALSE(mails[0].contains("requiretls"));
  CHECK(mails[1]["by"] == nlohmann::json({{"seconds", -5}, {"mode", "N"}, {"trace", false}}));
  CHECK(mails[1]["holduntil"] == "2026-12-15T00:00:00Z");
  // "none": MT-PRIORITY without a profile.
  const auto plain = run({"serve", "--stdio", "--sink", "--mt-priority", "none"}, "EHLO client.test\r\nQUIT\r\n");
  CHECK(plain.out.find("250 MT-PRIORITY\r\n") != std::string::npos);  // the last line
}

TEST_CASE("send: the extension options are checked before connecting (exit 64)") {
  usage_error(send_args({"--mt-priority", "10"}), "--mt-priority");
  usage_error(send_args({"--mt-priority", "-10"}), "--mt-priority");
  usage_error(send_args({"--by", "0,R"}), "--by 0,R: not");  // R needs a by-time above 0 (RFC 2852 section 4)
  usage_error(send_args({"--by", "120"}), "--by 120: not");
  usage_error(send_args({"--by", "120,X"}), "--by 120,X: not");
  usage_error(send_args({"--by", "1000000000,N"}), "--by 1000000000,N: not");
  usage_error(send_args({"--holdfor", "1000000000"}), "--holdfor");
  usage_error(send_args({"--holdfor", "60", "--holduntil", "2026-12-15T00:00:00Z"}), "--holdfor excludes --holduntil");
  usage_error(send_args({"--holduntil", "tomorrow"}), "--holduntil tomorrow: not an RFC 3339 date-time");
}

TEST_CASE("send --requiretls into serve --implicit-tls: accepted when offered, refused before MAIL when not") {
  const std::string message = "Subject: secret\r\n\r\nhello\r\n";
  {
    temp_path events;
    listening serve({"--implicit-tls", "--tls-self-signed", "--requiretls", "--mt-priority", "NSEP", "--deliverby",
                     "120", "--futurerelease", "3600,2026-12-15T00:00:00Z", "--sink", "--hostname", "mx.test",
                     "--events", events.path});
    auto r = run(send_args({"--implicit-tls", "--tls-no-verify", "--requiretls", "--mt-priority", "4", "--by",
                            "120,R", "--holdfor", "3600"},
                           "127.0.0.1:" + serve.port),
                 message);
    INFO(r.out << r.err);
    CHECK(r.status == 0);
    // Beyond what the server advertised: refused before MAIL, exit 2.
    r = run(send_args({"--implicit-tls", "--tls-no-verify", "--by", "119,R"}, "127.0.0.1:" + serve.port), message);
    CHECK(r.status == 2);
    CHECK(r.err.find("below the server's DELIVERBY minimum of 120 seconds") != std::string::npos);
    r = run(send_args({"--implicit-tls", "--tls-no-verify", "--holdfor", "3601"}, "127.0.0.1:" + serve.port), message);
    CHECK(r.status == 2);
    CHECK(r.err.find("longer than the server's FUTURERELEASE maximum of 3600 seconds") != std::string::npos);
    CHECK(serve.stop() == 0);
    const auto mails = mail_commands(read_all(events.path));
    REQUIRE(mails.size() == 1);
    CHECK(mails[0]["requiretls"] == true);
    CHECK(mails[0]["mt_priority"] == 4);
    CHECK(mails[0]["by"]["seconds"] == 120);
    CHECK(mails[0]["holdfor"] == 3600);
  }
  {
    temp_path events;
    listening serve({"--implicit-tls", "--tls-self-signed", "--sink", "--hostname", "mx.test", "--events", events.path});
    for (const auto& option : std::vector<std::vector<std::string>>{{"--requiretls"},
                                                                    {"--mt-priority", "0"},
                                                                    {"--by", "60,N"},
                                                                    {"--holdfor", "60"},
                                                                    {"--holduntil", "2026-12-15T00:00:00Z"}}) {
      auto args = send_args({"--implicit-tls", "--tls-no-verify"}, "127.0.0.1:" + serve.port);
      args.insert(args.end(), option.begin(), option.end());
      const auto r = run(args, message);
      INFO(option.front() << ": " << r.err);
      CHECK(r.status == 2);
      CHECK(r.err.find(option.front() + ": the server does not offer") != std::string::npos);
      CHECK(r.err.find("not sent") != std::string::npos);
    }
    CHECK(serve.stop() == 0);
    CHECK(mail_commands(read_all(events.path)).empty());  // no MAIL was sent
  }
}
