// sansmtp serve --stdio: a real process speaking SMTP on its stdin/stdout,
// delivering into a real Maildir.
#include "cli_helpers.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

using sansmtp::test::lines;
using sansmtp::test::live_process;
using sansmtp::test::run;
namespace fs = std::filesystem;

namespace {

struct temp_dir {
  fs::path path;
  temp_dir() {
    std::string pattern = (fs::temp_directory_path() / "sansmtp-serve-XXXXXX").string();
    REQUIRE(mkdtemp(pattern.data()));
    path = pattern;
  }
  ~temp_dir() { fs::remove_all(path); }
};

std::vector<std::string> files_in(const fs::path& dir) {
  std::vector<std::string> contents;
  if (!fs::exists(dir)) return contents;
  for (const auto& entry : fs::directory_iterator(dir)) {
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    contents.push_back(ss.str());
  }
  return contents;
}

const std::string envelope = "EHLO c.example\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\n";

}  // namespace

TEST_CASE("serve --stdio: a message lands byte-exact in Maildir new/, with an events line") {
  temp_dir d;
  const auto box = d.path / "box";
  const auto events = d.path / "events.jsonl";
  const auto r = run({"serve", "--stdio", "--maildir", box.string(), "--hostname", "mx.test", "--events",
                      events.string()},
                     envelope + "DATA\r\nSubject: t\r\n\r\n..dot\r\nend\r\n.\r\nQUIT\r\n");
  CHECK(r.status == 0);
  const auto out = lines(r.out);
  REQUIRE(out.size() >= 3);
  CHECK(out.front() == "220 mx.test ESMTP sansmtp\r");
  CHECK(out.back() == "221 2.0.0 Bye\r");
  CHECK(files_in(box / "new") == std::vector<std::string>{"Subject: t\r\n\r\n.dot\r\nend\r\n"});
  CHECK(files_in(box / "tmp").empty());
  CHECK(fs::exists(box / "cur"));
  std::ifstream in(events);
  std::string line, message;
  while (std::getline(in, line))
    if (line.find("\"event\":\"message\"") != std::string::npos) message = line;
  const auto j = nlohmann::json::parse(message);
  CHECK(j["size"] == 25);
  CHECK(j["mail_from"] == "a@example.org");
  CHECK(j["rcpt_to"] == nlohmann::json::array({"b@example.net"}));
  CHECK(j["sha256"].get<std::string>().size() == 64);
}

TEST_CASE("serve --stdio: a smuggling attempt is one refused message, nothing in new/") {
  temp_dir d;
  const auto box = d.path / "box";
  const auto r = run({"serve", "--stdio", "--maildir", box.string()},
                     envelope + "DATA\r\nhi\n.\nMAIL FROM:<evil@x.example>\r\nRCPT TO:<v@example.net>\r\nDATA\r\n"
                                "evil\r\n.\r\nQUIT\r\n");
  CHECK(r.status == 0);
  CHECK(r.out.find("550 5.6.0") != std::string::npos);
  CHECK(files_in(box / "new").empty());
  CHECK(files_in(box / "tmp").empty());
  // With --bare-lf normalize it is one message, the smuggled commands inside it.
  const auto n = run({"serve", "--stdio", "--maildir", box.string(), "--bare-lf", "normalize"},
                     envelope + "DATA\r\nhi\n.\nMAIL FROM:<evil@x.example>\r\n.\r\nQUIT\r\n");
  const auto delivered = files_in(box / "new");
  REQUIRE(delivered.size() == 1);
  CHECK(delivered[0] == "hi\r\n.\r\nMAIL FROM:<evil@x.example>\r\n");
}

TEST_CASE("serve --stdio: BDAT chunks, SIZE limit, EOF without QUIT, usage errors") {
  temp_dir d;
  const auto box = d.path / "box";
  auto r = run({"serve", "--stdio", "--maildir", box.string()},
               envelope + "BDAT 6\r\nHello BDAT 7 LAST\r\nworld\r\n");
  CHECK(r.status == 0);
  CHECK(files_in(box / "new") == std::vector<std::string>{"Hello world\r\n"});
  r = run({"serve", "--stdio", "--maildir", (d.path / "small").string(), "--max-size", "5"},
          envelope + "DATA\r\n123456\r\n.\r\n");
  CHECK(r.out.find("250-SIZE 5\r\n") != std::string::npos);
  CHECK(r.out.find("552 5.3.4") != std::string::npos);
  CHECK(files_in(d.path / "small" / "new").empty());
  CHECK(run({"serve", "--maildir", box.string()}).status == 64);  // --stdio is the only transport here
  CHECK(run({"serve", "--stdio"}).status == 64);
  CHECK(run({"serve", "--stdio", "--maildir", box.string(), "--max-size", "-1"}).status == 64);
}

TEST_CASE("serve --stdio: a BDAT chunk of an abandoned transaction never reaches the next message (issue 22)") {
  temp_dir d;
  const auto box = d.path / "box";
  const auto events = d.path / "events.jsonl";
  for (const std::string reset : {"EHLO c.example\r\n", "HELO c.example\r\n", "RSET\r\n"}) {
    INFO(reset);
    fs::remove_all(box);
    const auto r = run({"serve", "--stdio", "--maildir", box.string()},
                       envelope + "BDAT 19\r\nfirst transaction\r\n" + reset +
                           "MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nBDAT 8 LAST\r\nsecond\r\nQUIT\r\n");
    CHECK(r.status == 0);
    CHECK(files_in(box / "new") == std::vector<std::string>{"second\r\n"});
    CHECK(files_in(box / "tmp").empty());
  }
  // 50 cycles of "BDAT 1000 + EHLO" under --max-size 1000 (the trial ran
  // 200 through a socket; 50 fit the test's stdin pipe), then a 6-octet
  // message: that message alone is delivered, and the events log agrees.
  std::string in = "EHLO c.example\r\n";
  const std::string chunk(998, 'x');
  for (int i = 0; i < 50; ++i)
    in += "MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nBDAT 1000\r\n" + chunk + "\r\nEHLO c.example\r\n";
  in += "MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nBDAT 6 LAST\r\nlast\r\nQUIT\r\n";
  fs::remove_all(box);
  const auto r = run({"serve", "--stdio", "--maildir", box.string(), "--max-size", "1000", "--events", events.string()},
                     in);
  CHECK(r.status == 0);
  CHECK(files_in(box / "new") == std::vector<std::string>{"last\r\n"});
  std::ifstream log(events);
  std::string line;
  std::vector<nlohmann::json> messages;
  while (std::getline(log, line))
    if (line.find("\"event\":\"message\"") != std::string::npos) messages.push_back(nlohmann::json::parse(line));
  REQUIRE(messages.size() == 1);
  CHECK(messages[0]["size"] == 6);
}

TEST_CASE("serve --stdio: EXPN is 502, never a claimed expansion (RFC 5321 3.5.2, 7.3) and VRFY is 252") {
  const auto r = run({"serve", "--stdio", "--sink"}, "EHLO c.example\r\nEXPN staff\r\nVRFY bob\r\nQUIT\r\n");
  CHECK(r.status == 0);
  CHECK(r.out.find("502 5.5.1 EXPN not supported\r\n") != std::string::npos);
  CHECK(r.out.find("252 2.5.0") != std::string::npos);
}

TEST_CASE("serve --stdio: --max-line-length holds DATA and BDAT to one rule (RFC 5321 4.5.3.1.6)") {
  temp_dir d;
  const std::string long_line = std::string(1100, 'a') + "\r\n";
  for (const std::string how : {"DATA", "BDAT"}) {
    INFO(how);
    const auto body = how == "DATA" ? "DATA\r\n" + long_line + ".\r\n"
                                    : "BDAT " + std::to_string(long_line.size()) + " LAST\r\n" + long_line;
    auto r = run({"serve", "--stdio", "--maildir", (d.path / ("strict" + how)).string()}, envelope + body + "QUIT\r\n");
    CHECK(r.out.find("550 5.6.0") != std::string::npos);
    CHECK(files_in(d.path / ("strict" + how) / "new").empty());
    r = run({"serve", "--stdio", "--maildir", (d.path / ("relaxed" + how)).string(), "--max-line-length", "0"},
            envelope + body + "QUIT\r\n");
    CHECK(files_in(d.path / ("relaxed" + how) / "new") == std::vector<std::string>{long_line});
    r = run({"serve", "--stdio", "--maildir", (d.path / ("n" + how)).string(), "--max-line-length", "1102"},
            envelope + body + "QUIT\r\n");
    CHECK(files_in(d.path / ("n" + how) / "new").size() == 1);  // N: 1102 octets with its CRLF
    r = run({"serve", "--stdio", "--maildir", (d.path / ("n1" + how)).string(), "--max-line-length", "1101"},
            envelope + body + "QUIT\r\n");
    CHECK(files_in(d.path / ("n1" + how) / "new").empty());  // N+1
  }
}

TEST_CASE("serve --stdio: a message to 121 recipients reaches the first 100 (452 is flow control, RFC 5321 4.5.3.1.10)") {
  temp_dir d;
  const auto box = d.path / "box";
  const auto events = d.path / "events.jsonl";
  std::string in = "EHLO c.example\r\nMAIL FROM:<a@example.org>\r\n";
  for (int i = 0; i < 121; ++i) in += "RCPT TO:<r" + std::to_string(i) + "@example.net>\r\n";
  in += "DATA\r\nSubject: many\r\n\r\nhi\r\n.\r\nQUIT\r\n";
  const auto r = run({"serve", "--stdio", "--maildir", box.string(), "--events", events.string()}, in);
  CHECK(r.status == 0);
  CHECK(r.out.find("421") == std::string::npos);
  CHECK(r.out.find("452 4.5.3") != std::string::npos);
  CHECK(files_in(box / "new") == std::vector<std::string>{"Subject: many\r\n\r\nhi\r\n"});
  std::ifstream log(events);
  std::string line;
  while (std::getline(log, line))
    if (line.find("\"event\":\"message\"") != std::string::npos)
      CHECK(nlohmann::json::parse(line)["rcpt_to"].size() == 100);
}

TEST_CASE("serve --stdio: a silent peer gets 421 4.4.2 after --timeout and the process exits (exit 2)") {
  // RFC 5321 §4.5.3.2.7, as over TCP: between commands and inside DATA.
  temp_dir d;
  const auto box = d.path / "box";
  for (const std::string& opening : {std::string("EHLO c.example\r\n"), envelope + "DATA\r\nSubject: half a\r\n"}) {
    INFO(opening);
    live_process serve({"serve", "--stdio", "--maildir", box.string(), "--hostname", "mx.test", "--timeout", "1"});
    serve.send(opening);  // and then nothing, stdin left open
    const auto started = std::chrono::steady_clock::now();
    CHECK(serve.wait_exit(std::chrono::seconds(20)) == 2);
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(15));
    CHECK(serve.output().find("421 4.4.2 mx.test Timeout waiting for the client, closing\r\n") != std::string::npos);
    CHECK(files_in(box / "new").empty());
    CHECK(files_in(box / "tmp").empty());
  }
  CHECK(run({"serve", "--stdio", "--sink", "--timeout", "0"}).status == 64);
  CHECK(run({"serve", "--stdio", "--sink", "--timeout", "86401"}).status == 64);
  // A peer that answers in time is served as before.
  const auto r = run({"serve", "--stdio", "--sink", "--timeout", "300"}, envelope + "QUIT\r\n");
  CHECK(r.status == 0);
  CHECK(r.out.find("221 2.0.0 Bye") != std::string::npos);
}

TEST_CASE("serve --stdio: a command dripped an octet at a time still times out as a whole (RFC 5321 4.5.3.2.7)") {
  live_process serve({"serve", "--stdio", "--sink", "--hostname", "mx.test", "--timeout", "2"});
  const auto started = std::chrono::steady_clock::now();
  // An octet every 300 ms: each gap far below the timeout, the line (34
  // octets, 10 s) far above it.
  const auto old_handler = std::signal(SIGPIPE, SIG_IGN);  // the server may be gone before the line ends
  for (const char octet : std::string("NOOP dripping-one-octet-at-a-time\r\n")) {
    if (!serve.try_send(std::string(1, octet))) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  std::signal(SIGPIPE, old_handler);
  CHECK(serve.wait_exit(std::chrono::seconds(20)) == 2);
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(6));
  CHECK(serve.output().find("421 4.4.2 mx.test Timeout waiting for the client") != std::string::npos);
  CHECK(serve.output().find("250") == std::string::npos);  // the NOOP never completed
}

TEST_CASE("serve --stdio: a peer that vanishes mid-message is no SIGPIPE death and leaves nothing in tmp/") {
  temp_dir d;
  const auto box = d.path / "box";
  // DATA: the 354 cannot be written; BDAT: the 250 to the first chunk cannot.
  for (const std::string rest : {"DATA\r\nSubject: half a message\r\n", "BDAT 5\r\nhello"}) {
    INFO(rest);
    live_process serve({"serve", "--stdio", "--maildir", box.string()});
    serve.send(envelope);
    REQUIRE(serve.read_until("250 2.1.5").find("250 2.1.5") != std::string::npos);
    serve.close_output();
    serve.send(rest);  // stdin stays open: only the write can tell it the peer is gone
    CHECK(serve.wait_exit(std::chrono::seconds(20)) == 0);  // EPIPE is the peer closing, as EOF
    CHECK(files_in(box / "new").empty());
    CHECK(files_in(box / "tmp").empty());
  }
}

TEST_CASE("serve --stdio: SIGTERM mid-DATA answers 421 4.3.2, removes the partial message and exits 0") {
  temp_dir d;
  const auto box = d.path / "box";
  live_process serve({"serve", "--stdio", "--maildir", box.string(), "--hostname", "mx.test"});
  serve.send(envelope + "DATA\r\nSubject: half a message\r\n");
  REQUIRE(serve.read_until("354 ").find("354 ") != std::string::npos);
  serve.signal(SIGTERM);
  CHECK(serve.wait_exit(std::chrono::seconds(20)) == 0);
  CHECK(serve.output().find("421 4.3.2 mx.test Service shutting down") != std::string::npos);
  CHECK(files_in(box / "new").empty());
  CHECK(files_in(box / "tmp").empty());
}

TEST_CASE("serve --stdio: the Maildir name's host part is this machine's name, not --hostname") {
  temp_dir d;
  const auto box = d.path / "box";
  const auto r = run({"serve", "--stdio", "--maildir", box.string(), "--hostname", "mx.test"},
                     envelope + "DATA\r\nhi\r\n.\r\nQUIT\r\n");
  CHECK(r.status == 0);
  char name[256] = {};
  REQUIRE(gethostname(name, sizeof name - 1) == 0);
  std::string host;
  for (const char c : std::string(name)) host += c == '/' ? "\\057" : c == ':' ? "\\072" : c == '\\' ? "\\134" : std::string(1, c);
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(box / "new")) names.push_back(e.path().filename().string());
  REQUIRE(names.size() == 1);
  INFO(names[0]);
  CHECK(names[0].ends_with("." + host));
  CHECK(names[0].find("mx.test") == std::string::npos);
  CHECK(names[0].find(".M") != std::string::npos);
}
