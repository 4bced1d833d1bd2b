// The Maildir writer of `sansmtp serve` (tools/maildir.cpp): names unique
// across processes that share a pid and a second (container replicas on
// one volume), and a taken name never overwritten, in tmp/ or in new/.
#include "maildir.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

namespace fs = std::filesystem;
using sansmtp::cli::maildir;
using sansmtp::cli::maildir_host_part;
using sansmtp::cli::maildir_message;
using sansmtp::cli::maildir_name_parts;

namespace {

struct temp_dir {
  fs::path path;
  temp_dir() {
    std::string pattern = (fs::temp_directory_path() / "sansmtp-maildir-XXXXXX").string();
    REQUIRE(mkdtemp(pattern.data()));
    path = pattern;
  }
  ~temp_dir() { fs::remove_all(path); }
};

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::map<std::string, std::string> files_in(const fs::path& dir) {
  std::map<std::string, std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out[e.path().filename().string()] = read_file(e.path());
  return out;
}

bool deliver(const maildir& box, const std::string& body, std::string& file) {
  maildir_message m(box);
  if (!m.begin()) return false;
  m.write(body);
  std::string sha;
  return m.commit(file, sha);
}

// Two processes' worth of name parts: the same second, microsecond, pid
// (1 in each container) and sequence; the random bits the same for the
// first `same` calls, then different.
auto forced_parts(int& calls, int same) {
  return [&calls, same] {
    maildir_name_parts p;
    p.seconds = 1767225600;
    p.microseconds = 42;
    p.pid = 1;
    p.sequence = 1;
    p.random = calls++ < same ? 0x5eed : 0x5eed + static_cast<unsigned long long>(calls);
    return p;
  };
}

}  // namespace

TEST_CASE("maildir: a name already in new/ is never replaced, the second delivery gets a fresh name") {
  temp_dir d;
  maildir box((d.path / "box").string(), "replica.example");
  REQUIRE(box.prepare());
  int calls = 0;
  box.set_name_source(forced_parts(calls, 2));
  std::string first, second;
  REQUIRE(deliver(box, "first message\r\n", first));
  REQUIRE(deliver(box, "second message\r\n", second));  // tmp/ name free again, new/ name taken
  CHECK(first != second);
  const auto delivered = files_in(d.path / "box" / "new");
  REQUIRE(delivered.size() == 2);
  CHECK(delivered.at(fs::path(first).filename().string()) == "first message\r\n");
  CHECK(delivered.at(fs::path(second).filename().string()) == "second message\r\n");
  CHECK(files_in(d.path / "box" / "tmp").empty());
}

TEST_CASE("maildir: a name already in tmp/ (another process's message being written) is left alone") {
  temp_dir d;
  maildir box((d.path / "box").string(), "replica.example");
  REQUIRE(box.prepare());
  int calls = 0;
  box.set_name_source(forced_parts(calls, 1));
  const auto taken = box.unique_name();  // what the other replica is writing now
  calls = 0;
  std::ofstream(d.path / "box" / "tmp" / taken, std::ios::binary) << "half of someone else's message";
  std::string file;
  REQUIRE(deliver(box, "mine\r\n", file));
  CHECK(read_file(d.path / "box" / "tmp" / taken) == "half of someone else's message");
  CHECK(fs::path(file).filename().string() != taken);
  CHECK(files_in(d.path / "box" / "new") == std::map<std::string, std::string>{{fs::path(file).filename().string(), "mine\r\n"}});
}

TEST_CASE("maildir: names are SECONDS.MUSECPPIDQSEQRRANDOM.HOST with '/' and ':' encoded in the host") {
  CHECK(maildir_host_part("mx.example") == "mx.example");
  CHECK(maildir_host_part("a/b:c") == "a\\057b\\072c");
  CHECK(maildir_host_part("a\\057") == "a\\134057");  // one-to-one: a backslash is encoded too
  temp_dir d;
  maildir box(d.path.string(), "pod/7:x");
  const auto a = box.unique_name();
  const auto b = box.unique_name();
  CHECK(a != b);
  CHECK(a.ends_with(".pod\\0577\\072x"));
  CHECK(a.find('/') == std::string::npos);
  CHECK(a.find(':') == std::string::npos);
  const auto pid = std::to_string(::getpid());
  CHECK(a.find(fmt::format("P{}Q", pid)) != std::string::npos);
  CHECK(a.find(".M") != std::string::npos);
  CHECK(a.find("R") != std::string::npos);
}
