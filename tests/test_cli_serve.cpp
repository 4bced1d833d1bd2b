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
