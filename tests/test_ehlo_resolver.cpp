// gather_ehlo_facts (sansmtp/asio/ehlo_resolver.hpp) against a real
// authoritative DNS server: knotd, started by these tests on 127.0.0.1 with
// zones written here, and stopped by its PID. Every status is one knot
// really answers (NOERROR with and without data, NXDOMAIN, SERVFAIL for a
// zone whose file does not load, REFUSED outside its zones); the timeout
// is a UDP socket that never answers. Skipped (with a warning) only when
// knotd is not installed: apt-get install knot.
#include <sansmtp/asio/ehlo_resolver.hpp>

#include "loopback_socket.hpp"

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace Catch {
template <>
struct StringMaker<sansmtp::dns_status> {
  static std::string convert(sansmtp::dns_status s) { return std::string(sansmtp::dns_status_name(s)); }
};
}  // namespace Catch

using namespace sansmtp;
using namespace std::chrono_literals;
using drivers::ehlo_resolver_options;
using drivers::gather_ehlo_facts;
namespace fs = std::filesystem;

using sansmtp::test::bound_socket;

namespace {

using names = std::vector<std::string>;

std::optional<fs::path> find_program(const std::string& name) {
  std::string path = std::getenv("PATH") ? std::getenv("PATH") : "";
  path += ":/usr/sbin:/usr/local/sbin:/sbin";  // knotd is in sbin, often not on a user's PATH
  std::istringstream dirs(path);
  for (std::string dir; std::getline(dirs, dir, ':');) {
    if (dir.empty()) continue;
    const auto candidate = fs::path(dir) / name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return std::nullopt;
}

// A port free for both UDP and TCP on 127.0.0.1 (knot listens on both).
unsigned short free_port() {
  for (int attempt = 0; attempt < 20; ++attempt) {
    bound_socket udp(SOCK_DGRAM);
    const int tcp = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(tcp >= 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(udp.port);
    const bool ok = ::bind(tcp, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    ::close(tcp);
    if (ok) return udp.port;
  }
  FAIL("no port free for both UDP and TCP on 127.0.0.1");
  return 0;
}

void write_file(const fs::path& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  REQUIRE(out.good());
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// The owner name of 2001:db8::20 in the 8.b.d.0.1.0.0.2.ip6.arpa zone.
std::string ip6_owner() {
  const auto name = reverse_name("2001:db8::20");
  REQUIRE(name);
  return name->substr(0, name->size() - std::string(".8.b.d.0.1.0.0.2.ip6.arpa").size());
}

const char* const soa = "@ SOA ns.example.test. hostmaster.example.test. 1 3600 600 86400 300\n";

// knotd serving the test zones on 127.0.0.1:port, from a temporary directory.
class knot_server {
 public:
  static knot_server* get() {
    static const std::unique_ptr<knot_server> instance = [] {
      const auto knotd = find_program("knotd");
      return knotd ? std::make_unique<knot_server>(*knotd) : nullptr;
    }();
    return instance.get();
  }

  explicit knot_server(const fs::path& knotd) {
    char dir_template[] = "/tmp/sansmtp-knot-XXXXXX";
    REQUIRE(::mkdtemp(dir_template));
    dir_ = dir_template;
    fs::create_directory(dir_ / "db");
    port_ = free_port();
    write_zones();
    write_file(dir_ / "knot.conf",
               "server:\n"
               "    listen: 127.0.0.1@" +
                   std::to_string(port_) +
                   "\n"
                   "    rundir: " +
                   dir_.string() +
                   "\n"
                   "    udp-workers: 1\n"
                   "    tcp-workers: 1\n"
                   "    background-workers: 1\n"
                   "log:\n"
                   "  - target: stderr\n"
                   "    any: info\n"
                   "database:\n"
                   "    storage: " +
                   (dir_ / "db").string() +
                   "\n"
                   "template:\n"
                   "  - id: default\n"
                   "    storage: " +
                   dir_.string() +
                   "\n"
                   "    file: \"%s.zone\"\n"
                   "    journal-content: none\n"
                   "    zonefile-sync: -1\n"
                   "zone:\n"
                   "  - domain: example.test\n"
                   "  - domain: broken.test\n"
                   "  - domain: 2.0.192.in-addr.arpa\n"
                   "  - domain: 8.b.d.0.1.0.0.2.ip6.arpa\n");
    const auto conf = (dir_ / "knot.conf").string();
    const auto log = (dir_ / "knot.log").string();
    const pid_t parent = ::getpid();
    pid_ = ::fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      // knotd ends with this process even if it dies without stopping it.
      ::prctl(PR_SET_PDEATHSIG, SIGTERM);
      if (::getppid() != parent) ::_exit(1);
      if (!std::freopen(log.c_str(), "w", stderr) || !std::freopen("/dev/null", "w", stdout)) ::_exit(1);
      ::execl(knotd.c_str(), "knotd", "-c", conf.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    wait_until_serving();
  }

  knot_server(const knot_server&) = delete;
  knot_server& operator=(const knot_server&) = delete;

  ~knot_server() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      int status = 0;
      bool reaped = false;
      for (int i = 0; i < 100 && !reaped; ++i) {
        reaped = ::waitpid(pid_, &status, WNOHANG) == pid_;
        if (!reaped) std::this_thread::sleep_for(50ms);
      }
      if (!reaped) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
      }
    }
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }

  ehlo_resolver_options options() const {
    ehlo_resolver_options o;
    o.server = "127.0.0.1:" + std::to_string(port_);
    o.timeout = 2s;
    o.tries = 1;
    return o;
  }

 private:
  void write_zones() {
    write_file(dir_ / "example.test.zone", std::string("$ORIGIN example.test.\n$TTL 300\n") + soa +
                                               "@ NS ns\n"
                                               "ns A 192.0.2.53\n"
                                               "full A 192.0.2.10\n"
                                               "full AAAA 2001:db8::10\n"
                                               "full MX 10 mx1.example.test.\n"
                                               "full MX 20 mx2.example.test.\n"
                                               "mxonly MX 0 mail.example.net.\n"
                                               "txtonly TXT \"no address, no MX\"\n"
                                               "nullmx MX 0 .\n"
                                               "alias CNAME full.example.test.\n"
                                               "alias-out CNAME target.example.org.\n"
                                               "host-ok A 192.0.2.20\n"
                                               "host-ok AAAA 2001:db8::20\n");
    // Not a zone file: knot keeps the zone configured and answers SERVFAIL in it.
    write_file(dir_ / "broken.test.zone", "this is { not a zone file\n");
    write_file(dir_ / "2.0.192.in-addr.arpa.zone", std::string("$ORIGIN 2.0.192.in-addr.arpa.\n$TTL 300\n") +
                                                       soa +
                                                       "@ NS ns.example.test.\n"
                                                       "20 PTR host-ok.example.test.\n"
                                                       "21 PTR host-bad.example.test.\n"
                                                       "22 PTR p1.example.test.\n"
                                                       "22 PTR p2.example.test.\n"
                                                       "22 PTR p3.example.test.\n"
                                                       "23 PTR txtonly.example.test.\n");
    write_file(dir_ / "8.b.d.0.1.0.0.2.ip6.arpa.zone",
               std::string("$ORIGIN 8.b.d.0.1.0.0.2.ip6.arpa.\n$TTL 300\n") + soa +
                   "@ NS ns.example.test.\n" + ip6_owner() + " PTR host-ok.example.test.\n");
  }

  // knot loads its zones after it starts: ready once it answers from them.
  void wait_until_serving() {
    auto o = options();
    o.timeout = 200ms;
    const auto until = std::chrono::steady_clock::now() + 15s;
    while (std::chrono::steady_clock::now() < until) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        FAIL("knotd exited at start:\n" << read_file(dir_ / "knot.log"));
      }
      const auto facts = gather_ehlo_facts("host-ok.example.test", "", o);
      if (facts && facts->a.status == dns_status::answered) return;
      std::this_thread::sleep_for(50ms);
    }
    FAIL("knotd did not serve example.test within 15 s:\n" << read_file(dir_ / "knot.log"));
  }

  fs::path dir_;
  unsigned short port_ = 0;
  pid_t pid_ = -1;
};

#define REQUIRE_KNOT(knot)                                               \
  knot_server* knot = knot_server::get();                                \
  if (!knot) {                                                           \
    WARN("knotd is not installed (apt-get install knot): test not run"); \
    return;                                                              \
  }

ehlo_facts must_gather(std::string_view name, std::string_view client_ip, const ehlo_resolver_options& o) {
  auto r = gather_ehlo_facts(name, client_ip, o);
  if (!r) FAIL("gather_ehlo_facts failed: " << r.error().message);
  return std::move(*r);
}

names sorted(names v) {
  std::sort(v.begin(), v.end());
  return v;
}

void check_name_status(const ehlo_facts& f, dns_status s) {
  CHECK(f.a.status == s);
  CHECK(f.aaaa.status == s);
  CHECK(f.mx.status == s);
  CHECK(f.a.records.empty());
  CHECK(f.aaaa.records.empty());
  CHECK(f.mx.records.empty());
}

}  // namespace

TEST_CASE("knot: a name with A, AAAA and MX is answered with every record") {
  REQUIRE_KNOT(knot);
  const auto f = must_gather("full.example.test", "", knot->options());
  CHECK(f.a.status == dns_status::answered);
  CHECK(f.a.records == names{"192.0.2.10"});
  CHECK(f.aaaa.status == dns_status::answered);
  CHECK(f.aaaa.records == names{"2001:db8::10"});
  CHECK(f.mx.status == dns_status::answered);
  CHECK(sorted(f.mx.records) == names{"mx1.example.test", "mx2.example.test"});
  // No client address: no PTR asked.
  CHECK(f.client_ip.empty());
  CHECK(f.ptr.status == dns_status::not_asked);
  CHECK(f.ptr_names.empty());
  // The name as given, in capitals or with the root dot, is the same name.
  const auto upper = must_gather("FULL.Example.TEST.", "", knot->options());
  CHECK(upper.a.records == names{"192.0.2.10"});
  CHECK(sorted(upper.mx.records) == names{"mx1.example.test", "mx2.example.test"});
}

TEST_CASE("knot: NOERROR without the type asked is nodata") {
  REQUIRE_KNOT(knot);
  SECTION("MX only") {
    const auto f = must_gather("mxonly.example.test", "", knot->options());
    CHECK(f.a.status == dns_status::nodata);
    CHECK(f.aaaa.status == dns_status::nodata);
    CHECK(f.mx.status == dns_status::answered);
    CHECK(f.mx.records == names{"mail.example.net"});
  }
  SECTION("TXT only") {
    check_name_status(must_gather("txtonly.example.test", "", knot->options()), dns_status::nodata);
  }
  SECTION("a CNAME whose target is outside the server's zones: an answer with no record of the type") {
    check_name_status(must_gather("alias-out.example.test", "", knot->options()), dns_status::nodata);
  }
  SECTION("a CNAME inside the zone: the target's records") {
    const auto f = must_gather("alias.example.test", "", knot->options());
    CHECK(f.a.records == names{"192.0.2.10"});
    CHECK(f.aaaa.records == names{"2001:db8::10"});
    CHECK(sorted(f.mx.records) == names{"mx1.example.test", "mx2.example.test"});
  }
}

TEST_CASE("knot: a null MX (RFC 7505) is the one record \"\"") {
  REQUIRE_KNOT(knot);
  const auto f = must_gather("nullmx.example.test", "", knot->options());
  CHECK(f.mx.status == dns_status::answered);
  CHECK(f.mx.records == names{""});
  CHECK(f.mx.has_records());
  CHECK(f.a.status == dns_status::nodata);
}

TEST_CASE("knot: NXDOMAIN, SERVFAIL and REFUSED are statuses, not errors") {
  REQUIRE_KNOT(knot);
  SECTION("an absent name: nxdomain") {
    check_name_status(must_gather("absent.example.test", "", knot->options()), dns_status::nxdomain);
  }
  SECTION("a zone whose file did not load: servfail") {
    check_name_status(must_gather("mail.broken.test", "", knot->options()), dns_status::servfail);
    check_name_status(must_gather("broken.test", "", knot->options()), dns_status::servfail);
  }
  SECTION("outside the server's zones: refused") {
    check_name_status(must_gather("mail.example.org", "", knot->options()), dns_status::refused);
  }
  SECTION("each is temporary or not as receivers treat it") {
    CHECK_FALSE(dns_temporary(dns_status::nxdomain));
    CHECK(dns_temporary(must_gather("mail.broken.test", "", knot->options()).a.status));
    CHECK(dns_temporary(must_gather("mail.example.org", "", knot->options()).a.status));
  }
}

TEST_CASE("knot: the client address's PTR, and each PTR name forward") {
  REQUIRE_KNOT(knot);
  SECTION("a PTR name that resolves back to the address (FCrDNS)") {
    const auto f = must_gather("host-ok.example.test", "192.0.2.20", knot->options());
    CHECK(f.client_ip == "192.0.2.20");
    CHECK(f.a.records == names{"192.0.2.20"});
    CHECK(f.ptr.status == dns_status::answered);
    CHECK(f.ptr.records == names{"host-ok.example.test"});
    REQUIRE(f.ptr_names.size() == 1);
    CHECK(f.ptr_names[0].name == "host-ok.example.test");
    CHECK(f.ptr_names[0].a.status == dns_status::answered);
    CHECK(f.ptr_names[0].a.records == names{"192.0.2.20"});
    CHECK(f.ptr_names[0].aaaa.records == names{"2001:db8::20"});
    CHECK(same_address(f.ptr_names[0].a.records[0], f.client_ip));
  }
  SECTION("a PTR name that does not exist") {
    const auto f = must_gather("host-ok.example.test", "192.0.2.21", knot->options());
    CHECK(f.ptr.records == names{"host-bad.example.test"});
    REQUIRE(f.ptr_names.size() == 1);
    CHECK(f.ptr_names[0].name == "host-bad.example.test");
    CHECK(f.ptr_names[0].a.status == dns_status::nxdomain);
    CHECK(f.ptr_names[0].aaaa.status == dns_status::nxdomain);
  }
  SECTION("a PTR name without addresses") {
    const auto f = must_gather("", "192.0.2.23", knot->options());
    REQUIRE(f.ptr_names.size() == 1);
    CHECK(f.ptr_names[0].a.status == dns_status::nodata);
    CHECK(f.ptr_names[0].aaaa.status == dns_status::nodata);
  }
  SECTION("no PTR for the address: nxdomain, nothing looked up forward") {
    const auto f = must_gather("host-ok.example.test", "192.0.2.30", knot->options());
    CHECK(f.ptr.status == dns_status::nxdomain);
    CHECK(f.ptr.records.empty());
    CHECK(f.ptr_names.empty());
  }
  SECTION("a reverse zone the server does not serve: refused") {
    const auto f = must_gather("host-ok.example.test", "198.51.100.1", knot->options());
    CHECK(f.ptr.status == dns_status::refused);
    CHECK(f.ptr_names.empty());
  }
  SECTION("IPv6: asked under ip6.arpa") {
    const auto f = must_gather("host-ok.example.test", "2001:db8::20", knot->options());
    CHECK(f.ptr.records == names{"host-ok.example.test"});
    REQUIRE(f.ptr_names.size() == 1);
    CHECK(f.ptr_names[0].aaaa.records == names{"2001:db8::20"});
  }
  SECTION("IPv4-mapped IPv6: asked under in-addr.arpa") {
    const auto f = must_gather("host-ok.example.test", "::ffff:192.0.2.20", knot->options());
    CHECK(f.client_ip == "::ffff:192.0.2.20");
    CHECK(f.ptr.records == names{"host-ok.example.test"});
    REQUIRE(f.ptr_names.size() == 1);
    CHECK(same_address(f.ptr_names[0].a.records.at(0), f.client_ip));
  }
}

TEST_CASE("knot: max_ptr_names bounds the forward lookups, not the PTR answer") {
  REQUIRE_KNOT(knot);
  auto o = knot->options();
  const auto check = [&](std::size_t max, std::size_t looked_up) {
    o.max_ptr_names = max;
    const auto f = must_gather("", "192.0.2.22", o);
    CHECK(sorted(f.ptr.records) == names{"p1.example.test", "p2.example.test", "p3.example.test"});
    REQUIRE(f.ptr_names.size() == looked_up);
    for (std::size_t i = 0; i < looked_up; ++i) {
      CHECK(f.ptr_names[i].name == f.ptr.records[i]);  // the first ones, in the answer's order
      CHECK(f.ptr_names[i].a.status == dns_status::nxdomain);
    }
  };
  check(1, 1);
  check(2, 2);
  check(3, 3);
  check(4, 3);
  check(0, 3);  // 0: no limit
}

TEST_CASE("knot: an address literal or a bare address is not looked up, its PTR is") {
  REQUIRE_KNOT(knot);
  for (const auto* name : {"[192.0.2.20]", "[IPv6:2001:db8::20]", "192.0.2.20", "2001:db8::20"}) {
    CAPTURE(name);
    const auto f = must_gather(name, "192.0.2.20", knot->options());
    check_name_status(f, dns_status::not_asked);
    CHECK(f.ptr.status == dns_status::answered);
    CHECK(f.ptr.records == names{"host-ok.example.test"});
    REQUIRE(f.ptr_names.size() == 1);
    CHECK(f.ptr_names[0].a.records == names{"192.0.2.20"});
  }
  // No name and no address: nothing asked, nothing failed.
  const auto none = must_gather("", "", knot->options());
  check_name_status(none, dns_status::not_asked);
  CHECK(none.ptr.status == dns_status::not_asked);
}

TEST_CASE("knot: a name DNS cannot carry is not asked: error") {
  REQUIRE_KNOT(knot);
  const std::string label63(63, 'a');
  const std::string label64(64, 'a');
  // Three labels of 63 octets, one of `size - 205`, and "example.test": `size` octets.
  const auto name_of_size = [&](std::size_t size) {
    return label63 + "." + label63 + "." + label63 + "." + std::string(size - 205, 'b') + ".example.test";
  };
  const std::string name253 = name_of_size(253);
  REQUIRE(name253.size() == 253);
  REQUIRE(name_of_size(254).size() == 254);
  SECTION("at the limits: asked (and absent)") {
    check_name_status(must_gather(label63 + ".example.test", "", knot->options()), dns_status::nxdomain);
    check_name_status(must_gather(name253, "", knot->options()), dns_status::nxdomain);
    check_name_status(must_gather(name253 + ".", "", knot->options()), dns_status::nxdomain);
  }
  SECTION("one past: not asked") {
    check_name_status(must_gather(label64 + ".example.test", "", knot->options()), dns_status::error);
    check_name_status(must_gather(name_of_size(254), "", knot->options()), dns_status::error);
    check_name_status(must_gather(name_of_size(254) + ".", "", knot->options()), dns_status::error);
  }
  SECTION("octets and labels DNS or c-ares cannot carry") {
    for (const std::string& name :
         {std::string("a..example.test"), std::string(".example.test"), std::string("."),
          std::string("full.example.test.."), std::string("full\\.example.test"),
          std::string("full.example.test\0x", 19)}) {
      CAPTURE(name);
      check_name_status(must_gather(name, "", knot->options()), dns_status::error);
    }
  }
}

TEST_CASE("knot: calls from several threads at once each get their own answers") {
  REQUIRE_KNOT(knot);
  const auto o = knot->options();
  constexpr int threads = 4;
  std::vector<int> good(threads, 0);
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      for (int i = 0; i < 5; ++i) {
        const auto f =
            gather_ehlo_facts(t % 2 ? "full.example.test" : "host-ok.example.test", "192.0.2.20", o);
        const auto want = t % 2 ? "192.0.2.10" : "192.0.2.20";
        if (f && f->a.records == names{want} && f->ptr.records == names{"host-ok.example.test"}) ++good[t];
      }
    });
  }
  for (auto& th : pool) th.join();
  CHECK(good == std::vector<int>(threads, 5));
}

TEST_CASE("a server that never answers: timeout, within the call's deadline") {
  bound_socket silent(SOCK_DGRAM);  // bound, never read: no reply, no ICMP
  ehlo_resolver_options o;
  o.server = "127.0.0.1:" + std::to_string(silent.port);
  o.timeout = 1s;
  o.tries = 1;
  const auto start = std::chrono::steady_clock::now();
  const auto r = gather_ehlo_facts("mail.example.test", "192.0.2.1", o);
  const auto elapsed_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
  REQUIRE(r);
  check_name_status(*r, dns_status::timeout);
  CHECK(r->ptr.status == dns_status::timeout);
  CHECK(r->ptr_names.empty());
  CHECK(elapsed_ms <= 1500);
  CHECK(elapsed_ms >= 900);  // it did wait for the answer
  WARN("timeout 1 s, 1 try: the call took " << elapsed_ms << " ms");
}

TEST_CASE("the deadline bounds c-ares's doubling of the wait on later tries") {
  bound_socket silent(SOCK_DGRAM);
  ehlo_resolver_options o;
  o.server = "127.0.0.1:" + std::to_string(silent.port);
  o.timeout = 300ms;
  o.tries = 3;  // c-ares alone: 300 + 600 + 1200 ms; the deadline: 3 x 300 ms + 200 ms
  const auto start = std::chrono::steady_clock::now();
  const auto r = gather_ehlo_facts("mail.example.test", "", o);
  const auto elapsed_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
  REQUIRE(r);
  check_name_status(*r, dns_status::timeout);
  CHECK(elapsed_ms <= 1500);
  CHECK(elapsed_ms >= 900);
}

TEST_CASE("a server that is not there (ICMP port unreachable): error") {
  unsigned short port = 0;
  {
    bound_socket closed(SOCK_DGRAM);
    port = closed.port;
  }  // closed now: the kernel answers port unreachable
  ehlo_resolver_options o;
  o.server = "127.0.0.1:" + std::to_string(port);
  o.timeout = 1s;
  o.tries = 2;
  const auto r = gather_ehlo_facts("mail.example.test", "", o);
  REQUIRE(r);
  check_name_status(*r, dns_status::error);
}

TEST_CASE("the server text: an address with an optional port, or a driver_error") {
  ehlo_resolver_options o;
  o.timeout = 100ms;
  o.tries = 1;
  // Accepted: nothing is asked (no name, no client address), so nothing is sent.
  for (const auto* good : {"127.0.0.1", "127.0.0.1:53", "127.0.0.1:1", "127.0.0.1:65535", "::1", "[::1]",
                           "[::1]:5353", "::1:53" /* an IPv6 address, port 53 */, "[::ffff:127.0.0.1]:53"}) {
    CAPTURE(good);
    o.server = good;
    const auto r = gather_ehlo_facts("", "", o);
    CHECK(r.has_value());
  }
  for (const auto* bad :
       {"localhost", "localhost:53", "127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:", "127.0.0.1:53x",
        "127.0.0.1:-1", "127.0.0.1:000053", "[::1]53", "[::1]:", "[127.0.0.1]:53", "[::1", "127.0.0.1 ",
        " 127.0.0.1", "127.0.0.1:53:53", "1.2.3:53"}) {
    CAPTURE(bad);
    o.server = bad;
    const auto r = gather_ehlo_facts("mail.example.test", "", o);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().step == drivers::driver_step::resolve);
    CHECK(r.error().code == std::errc::invalid_argument);
    CHECK(r.error().message.find(bad) != std::string::npos);
  }
}

TEST_CASE("a client address that is not an address: a driver_error") {
  ehlo_resolver_options o;
  o.server = "127.0.0.1:53";
  for (const auto* bad :
       {"192.0.2", "192.0.2.256", "[192.0.2.1]", "host.example.test", "192.0.2.1 ", "fe80::1%lo"}) {
    CAPTURE(bad);
    const auto r = gather_ehlo_facts("mail.example.test", bad, o);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().step == drivers::driver_step::resolve);
    CHECK(r.error().code == std::errc::invalid_argument);
  }
}
