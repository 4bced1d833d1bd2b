// sansmtp send and sansmtp probe: every option checked before anything is
// sent (exit 64 with a message that names the problem). No server is
// needed: each case must fail before connecting (port 9 on 127.0.0.1 would
// refuse, and that would be exit 2, not 64). Sessions against real servers
// are tests/interop/send.sh and probe.sh.
#include "cli_helpers.hpp"
#include "scripted_server.hpp"

#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <thread>
#include <fstream>
#include <string>
#include <vector>

namespace {

using sansmtp::test::run;

std::vector<std::string> send_args(std::vector<std::string> extra, const std::string& server = "127.0.0.1:9") {
  std::vector<std::string> a{"send", "--server", server, "--from", "a@example.com", "--to", "b@example.net",
                             "--ehlo", "mail.acme-corp.com"};
  a.insert(a.end(), extra.begin(), extra.end());
  return a;
}

struct temp_file {
  std::string path;
  explicit temp_file(const std::string& content) {
    char name[] = "/tmp/sansmtp_send_test_XXXXXX";
    const int fd = mkstemp(name);
    REQUIRE(fd >= 0);
    REQUIRE(write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size()));
    close(fd);
    path = name;
  }
  ~temp_file() { std::remove(path.c_str()); }
};

using sansmtp::test::scripted_server;

void usage_error(const std::vector<std::string>& args, const std::string& says) {
  const auto r = run(args, "Subject: x\r\n\r\nbody\r\n");
  INFO(r.err);
  CHECK(r.status == 64);
  CHECK(r.err.find(says) != std::string::npos);
  CHECK(r.out.empty());
}

TEST_CASE("send: options are checked before connecting (exit 64)") {
  usage_error({"send", "--from", "a@example.com", "--to", "b@example.net"}, "--server is required");
  usage_error({"send", "--server", "127.0.0.1:9", "--to", "b@example.net"}, "--from is required");
  usage_error({"send", "--server", "127.0.0.1:9", "--from", "a@example.com"}, "--to is required");
  usage_error(send_args({}, "127.0.0.1:0"), "the port must be a number from 1 to 65535");
  usage_error(send_args({}, "127.0.0.1:70000"), "the port must be a number from 1 to 65535");
  usage_error(send_args({}, "127.0.0.1:"), "the port after ':' is empty");
  usage_error(send_args({}, "[::1"), "must close with ']'");
  usage_error(send_args({}, "a b"), "the host holds a character");
  usage_error(send_args({"--starttls", "maybe"}), "--starttls");
  usage_error(send_args({"--to", "not an address"}), "--to not an address");
  usage_error(send_args({"--to", "bob@example.net\r\nRSET"}), "--to bob@example.net\\x0d\\x0aRSET");
  usage_error(send_args({"--starttls", "off", "--tls-no-verify"}), "need STARTTLS");
  usage_error(send_args({"--tls-ca", "/nonexistent/ca.pem"}), "--tls-ca");
  usage_error(send_args({"--tls-no-verify", "--tls-ca", "/etc/hostname"}), "excludes");
  usage_error(send_args({"--auth-user", "alice"}), "--auth-user requires --auth-password-file");
  usage_error(send_args({"--auth-password-file", "/etc/hostname"}), "--auth-password-file requires --auth-user");
  usage_error(send_args({"--auth-user", "alice", "--auth-password-file", "/nonexistent"}),
              "cannot read --auth-password-file");
  const temp_file empty("\n");
  usage_error(send_args({"--auth-user", "alice", "--auth-password-file", empty.path}), "non-empty line");
  const temp_file empty_first("\nsecond\n");
  usage_error(send_args({"--auth-user", "alice", "--auth-password-file", empty_first.path}), "non-empty line");
  const temp_file nul(std::string("pass\0word\n", 10));
  usage_error(send_args({"--auth-user", "alice", "--auth-password-file", nul.path}), "non-empty line");
  const temp_file password("s3cret\n");
  usage_error(send_args({"--starttls", "off", "--auth-user", "alice", "--auth-password-file", password.path}),
              "in the clear");
  usage_error({"send", "--server", "127.0.0.1:9", "--from", "a@example.com", "--to", "b@example.net", "--ehlo"},
              "--ehlo needs a value");
  usage_error(send_args({"--ehlo", "other.acme-corp.com"}), "--ehlo given twice");
}

TEST_CASE("send: an EHLO name the linter fails needs --allow-failing-ehlo, and the brackets survive") {
  const auto r = run({"send", "--server", "127.0.0.1:9", "--from", "a@example.com", "--to", "b@example.net", "--ehlo",
                      "[10.42.0.17]"});
  CHECK(r.status == 64);
  CHECK(r.err.find("--ehlo \"[10.42.0.17]\" fails the EHLO-name check") != std::string::npos);
  CHECK(r.err.find("private-address") != std::string::npos);
  CHECK(r.err.find("--allow-failing-ehlo") != std::string::npos);
}

TEST_CASE("send: with the override the name goes, and a refused connection is exit 2 with a connect error") {
  // Port 9 (discard) on 127.0.0.1: nothing listens in the test environment.
  const auto r = run({"send", "--json", "--server", "127.0.0.1:9", "--from", "a@example.com", "--to", "b@example.net",
                      "--ehlo", "[10.42.0.17]", "--allow-failing-ehlo"},
                     "Subject: x\r\n\r\nbody\r\n");
  CHECK(r.status == 2);
  const auto j = nlohmann::json::parse(r.out);
  CHECK(j["ok"] == false);
  CHECK(j["ehlo_name"] == "[10.42.0.17]");
  CHECK(j["error"]["step"] == "connect");
  CHECK(j["recipients"][0]["address"] == "b@example.net");
  CHECK(j["recipients"][0]["code"].is_null());
  CHECK(j["diagnosis"].is_null());
}

TEST_CASE("send: --auth-password-file takes the first line of FILE, whatever follows it") {
  // The help says "the first line of FILE": a second line, a trailing blank
  // line or a CRLF end is no usage error; send goes on to connect (port 9
  // refuses: exit 2, a connect error). The password reaching the server is
  // tests/interop/send_serve.sh.
  for (const std::string content : {"s3cret", "s3cret\n", "s3cret\r\n", "s3cret\nsecond line\n", "s3cret\n\n",
                                    "s3cret\r\n\r\n# notes\n"}) {
    INFO(content);
    const temp_file password(content);
    const auto r = run(send_args({"--json", "--auth-user", "alice", "--auth-password-file", password.path}),
                       "Subject: x\r\n\r\nbody\r\n");
    INFO(r.err);
    CHECK(r.status == 2);
    CHECK(r.err.find("--auth-password-file") == std::string::npos);
    const auto j = nlohmann::json::parse(r.out);
    CHECK(j["error"]["step"] == "connect");
  }
}

TEST_CASE("probe: a server that drops the connection after MAIL is a failed probe (exit 2, as the JSON's error)") {
  // Greeting, EHLO and MAIL accepted; RCPT TO gets no reply, the connection closes.
  for (const bool json_output : {true, false}) {
    INFO("json " << json_output);
    const scripted_server server({"220 mx.test ESMTP\r\n", "250 mx.test\r\n", "250 2.1.0 Ok\r\n"});
    std::vector<std::string> args{"probe", server.address(), "--ehlo", "mail.acme-corp.com"};
    if (json_output) args.push_back("--json");
    const auto r = run(args);
    INFO(r.out << r.err);
    CHECK(r.status == 2);
    if (json_output) {
      const auto j = nlohmann::json::parse(r.out);
      CHECK(j["mail"]["code"] == 250);
      CHECK(!j["error"].is_null());
    } else {
      CHECK(r.out.find("then the probe failed") != std::string::npos);
    }
  }
}

TEST_CASE("probe: options are checked before connecting (exit 64)") {
  usage_error({"probe"}, "server is required");
  usage_error({"probe", "127.0.0.1:99999"}, "the port must be a number from 1 to 65535");
  usage_error({"probe", "127.0.0.1:9", "--ehlo", "bad name"}, "is not a Domain or address literal");
  usage_error({"probe", "127.0.0.1:9", "--tls-ca", "/etc/hostname"}, "--tls-ca needs --starttls");
}

}  // namespace

namespace {

TEST_CASE("send: without --ehlo the name is default_ehlo_name(), and without one nothing is sent") {
  // What this machine would send, as ehlo-check --self reports it (its last line).
  const auto self = run({"ehlo-check", "--self", "--json"});
  const auto self_lines = sansmtp::test::lines(self.out);
  REQUIRE(!self_lines.empty());
  const auto chosen = nlohmann::json::parse(self_lines.back());
  REQUIRE(chosen["source"] == "default");
  const auto r = run({"send", "--json", "--server", "127.0.0.1:9", "--from", "a@example.com", "--to", "b@example.net"},
                     "Subject: x\r\n\r\nbody\r\n");
  CHECK(r.status == 2);
  const auto j = nlohmann::json::parse(r.out);
  if (chosen["name"].is_null()) {
    CHECK(j["ehlo_name"].is_null());
    CHECK(j["error"]["step"] == "hello");
    CHECK(j["error"]["message"].get<std::string>().find("Set one with --ehlo NAME") != std::string::npos);
    CHECK(j["recipients"].empty());
  } else {
    CHECK(j["ehlo_name"] == chosen["name"]);
    CHECK(j["error"]["step"] == "connect");  // it got as far as connecting to port 9
  }
}

}  // namespace

// --- hardening (issue 22): send against hostile or broken servers ---------------------------

namespace {

const std::string message = "Subject: x\r\n\r\nbody\r\n";

// send --json against `replies`; killed after 20 s (a spin would be -1).
nlohmann::json send_json(scripted_server& server, std::vector<std::string> extra, int& status) {
  auto args = send_args({"--json", "--starttls", "off"}, server.address());
  args.insert(args.end(), extra.begin(), extra.end());
  const auto r = run(args, message, 20);
  status = r.status;
  INFO(r.out << r.err);
  REQUIRE(!r.out.empty());
  return nlohmann::json::parse(r.out);
}

}  // namespace

TEST_CASE("send: a reply that cannot answer its command, or an extra one, is a session error, never a delivery") {
  struct hostile {
    const char* what;
    std::vector<std::string> replies;
    std::vector<std::string> extra;
  };
  const std::vector<hostile> cases = {
      {"354 and 250 to DATA in one segment",
       {"220 mx\r\n", "250 mx\r\n", "250 ok\r\n", "250 ok\r\n", "354 go\r\n250 2.0.0 queued\r\n"}, {}},
      {"250 to DATA", {"220 mx\r\n", "250 mx\r\n", "250 ok\r\n", "250 ok\r\n", "250 2.0.0 ok\r\n"}, {}},
      {"220 to DATA", {"220 mx\r\n", "250 mx\r\n", "250 ok\r\n", "250 ok\r\n", "220 hi\r\n"}, {}},
      {"an extra 250 after RCPT under --bdat",
       {"220 mx\r\n", "250-mx\r\n250 CHUNKING\r\n", "250 ok\r\n", "250 ok\r\n250 extra\r\n"}, {"--bdat"}},
      {"220 to EHLO", {"220 mx\r\n", "220 mx\r\n"}, {}},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    scripted_server server(c.replies);
    int status = 0;
    const auto j = send_json(server, c.extra, status);
    CHECK(status == 2);  // not -1: the process ended by itself
    CHECK(j["ok"] == false);
    REQUIRE(j["error"].is_object());
    CHECK(j["error"]["step"] == "session");
    CHECK(j["error"]["message"].get<std::string>().find("RFC 5321") != std::string::npos);
    CHECK(j["recipients"][0]["code"].is_null());
    CHECK(server.received().find("\r\n.\r\n") == std::string::npos);  // no end of data was sent
  }
}

TEST_CASE("send: after any reply to QUIT the session is over and QUIT goes once (RFC 5321 4.1.1.10)") {
  // Each line the server reads gets the next reply (the body's 3 lines none).
  scripted_server server({"220 mx\r\n", "250 mx\r\n", "250 ok\r\n", "250 ok\r\n", "354 go\r\n", "", "", "",
                          "250 2.0.0 queued\r\n", "500 what\r\n", "500 what\r\n", "500 what\r\n"});
  int status = 0;
  const auto j = send_json(server, {}, status);
  CHECK(status == 0);
  CHECK(j["ok"] == true);
  const auto& got = server.received();
  CHECK(got.find("QUIT\r\n") != std::string::npos);
  CHECK(got.find("QUIT\r\n") == got.rfind("QUIT\r\n"));
}

TEST_CASE("send: a refused MAIL is what the recipients report, not the pipelined RCPT's 503") {
  scripted_server server({"220 mx\r\n", "250-mx\r\n250 PIPELINING\r\n", "530 5.7.0 Authentication required\r\n",
                          "503 5.5.1 Need MAIL first\r\n", "554 5.5.1 No valid recipients\r\n", "250 ok\r\n",
                          "221 bye\r\n"});
  int status = 0;
  const auto j = send_json(server, {}, status);
  CHECK(status == 2);
  CHECK(j["recipients"][0]["code"] == 530);
  CHECK(j["recipients"][0]["enhanced"] == "5.7.0");
  CHECK(j["diagnosis"]["after"] == "MAIL FROM");
}

TEST_CASE("send: an EHLO name that cannot be sent is a usage error before connecting, escaped once") {
  for (const auto& extra : std::vector<std::vector<std::string>>{{"--allow-failing-ehlo"}, {}}) {
    auto args = std::vector<std::string>{"send", "--server", "127.0.0.1:9", "--from", "a@example.com", "--to",
                                         "b@example.net", "--ehlo", "a.example\r\nRSET"};
    args.insert(args.end(), extra.begin(), extra.end());
    const auto r = run(args, message);
    INFO(r.err);
    CHECK(r.status == 64);
    CHECK(r.err.find("a.example\\x0d\\x0aRSET") != std::string::npos);
    CHECK(r.err.find("\\\\x0d") == std::string::npos);
    CHECK(r.err.find("connect") == std::string::npos);
  }
}
