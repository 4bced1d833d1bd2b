// sansmtp serve --stdio: a real process speaking SMTP on its stdin/stdout,
// delivering into a real Maildir.
#include "cli_helpers.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

using sansmtp::test::lines;
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
