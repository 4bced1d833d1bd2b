// ehlo-check with facts: --client-ip, --receiver, --resolve and its DNS
// failure (exit 75), as a user runs them.
#include "cli_helpers.hpp"
#include "loopback_socket.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <string>
#include <vector>

using namespace sansmtp::test;
using json = nlohmann::json;

namespace {

std::vector<std::string> codes(const json& j, const char* key) {
  std::vector<std::string> out;
  for (const auto& f : j[key]) out.push_back(f["code"]);
  return out;
}

bool has(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

}  // namespace

TEST_CASE("ehlo-check --client-ip: the literal compared with the address seen, the rest skipped") {
  const auto r = run({"ehlo-check", "--json", "--client-ip", "203.0.113.5", "[10.42.0.17]"});
  CHECK(r.status == 2);
  const auto j = json::parse(r.out);
  CHECK(j["client_ip"] == "203.0.113.5");
  CHECK(j["dns"].is_null());
  CHECK(has(codes(j, "findings"), "literal-mismatch"));
  CHECK(codes(j, "skipped") == std::vector<std::string>{"ptr-missing", "ptr-mismatch", "fcrdns-fail"});
  CHECK(j["receivers"].empty());  // none asked for without --resolve
  // The literal the server sees passes; --client-ip=VALUE works too.
  const auto same = json::parse(run({"ehlo-check", "--json", "--client-ip=203.0.113.5", "[203.0.113.5]"}).out);
  CHECK_FALSE(has(codes(same, "findings"), "literal-mismatch"));
  // Text output: the finding and the skipped checks, each on its line.
  const auto text = run({"ehlo-check", "--client-ip", "203.0.113.5", "[10.42.0.17]"});
  CHECK(text.out.find("literal-mismatch: [10.42.0.17] is not the address the server sees") != std::string::npos);
  CHECK(text.out.find("suggestion: [203.0.113.5]") != std::string::npos);
  CHECK(text.out.find("skipped ptr-missing: ") != std::string::npos);
}

TEST_CASE("ehlo-check --receiver: predictions in the order asked, or all") {
  auto j = json::parse(
      run({"ehlo-check", "--json", "--client-ip", "203.0.113.5", "--receiver", "exim-verify-helo,postfix", "[10.42.0.17]"})
          .out);
  REQUIRE(j["receivers"].size() == 2);
  CHECK(j["receivers"][0]["receiver"] == "exim-verify-helo");
  CHECK(j["receivers"][0]["verdict"] == "refuse");
  CHECK(j["receivers"][0]["stage"] == "mail");
  CHECK(j["receivers"][0]["reply"] == "550 Administrative prohibition");
  CHECK(j["receivers"][0]["tested"] == true);
  CHECK(j["receivers"][1]["receiver"] == "postfix");
  CHECK(j["receivers"][1]["verdict"] == "accept");  // Postfix checks only a literal's syntax
  CHECK(j["receivers"][1]["reply"].is_null());
  j = json::parse(run({"ehlo-check", "--json", "--receiver", "all", "web-7d9f8b6c5-x2x4z"}).out);
  CHECK(j["receivers"].size() == 10);
  CHECK(j["receivers"][1]["reply"] == "504 5.5.2 <web-7d9f8b6c5-x2x4z>: Helo command rejected: need fully-qualified hostname");
  // Without --client-ip the models that need it say so.
  CHECK(j["receivers"][2]["verdict"] == "unknown");
  CHECK(j["receivers"][2]["missing"] == "the client address (--client-ip)");
  const auto text = run({"ehlo-check", "--receiver", "postfix", "web-7d9f8b6c5-x2x4z"});
  CHECK(text.out.find("postfix             refuse at rcpt: 504 5.5.2") != std::string::npos);
}

TEST_CASE("ehlo-check --resolve: usage errors are 64 and name the option") {
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"ehlo-check", "--client-ip", "not-an-address", "x.example-corp.net"},
        {"ehlo-check", "--client-ip"},
        {"ehlo-check", "--receiver", "sendmail", "x.example-corp.net"},
        {"ehlo-check", "--receiver", "postfix,", "x.example-corp.net"},
        {"ehlo-check", "--receiver=", "x.example-corp.net"},
        {"ehlo-check", "--dns-timeout", "0", "x.example-corp.net"},
        {"ehlo-check", "--dns-timeout", "301", "x.example-corp.net"},
        {"ehlo-check", "--dns-timeout", "1s", "x.example-corp.net"},
        {"ehlo-check", "--resolve", "--dns-server", "dns.example:53", "x.example-corp.net"}}) {
    INFO(args.back());
    const auto r = run(args);
    if (args.size() > 2 && args[1] == "--resolve") {
      CHECK(r.status == 75);  // a server text that is no address: the resolver cannot start
      continue;
    }
    CHECK(r.status == 64);
    CHECK(r.err.find(args[1].substr(0, args[1].find('='))) != std::string::npos);
  }
  // 300 seconds is the limit, and is allowed.
  CHECK(run({"ehlo-check", "--dns-timeout", "300", "x.example-corp.net"}).status == 0);
}

TEST_CASE("ehlo-check --resolve: a DNS server that does not answer is exit 75 within 1.5 s") {
  const bound_socket dns(SOCK_DGRAM);  // a DNS server that never answers
  const auto start = std::chrono::steady_clock::now();
  const auto r = run({"ehlo-check", "--json", "--resolve", "--dns-server", "127.0.0.1:" + std::to_string(dns.port),
                      "--dns-timeout", "1", "--client-ip", "127.0.0.1", "mail.acme-corp.com"});
  const auto took = std::chrono::steady_clock::now() - start;
  CHECK(r.status == 75);
  CHECK(took < std::chrono::milliseconds(1500));
  const auto j = json::parse(r.out);
  CHECK(j["dns"]["server"] == "127.0.0.1:" + std::to_string(dns.port));
  CHECK(j["dns"]["error"].get<std::string>().find("did not answer") != std::string::npos);
  CHECK(j["dns"]["a"]["status"] == "timeout");
  CHECK(j["dns"]["ptr"]["status"] == "timeout");
  CHECK(j["dns"]["ptr"]["name"] == "1.0.0.127.in-addr.arpa");
  CHECK(has(codes(j, "findings"), "dns-temporary-failure"));
  CHECK(j["receivers"].size() == 10);  // --resolve alone: every receiver
  // Postfix defers a name it cannot look up (defer_if_permit), Exim refuses it.
  CHECK(j["receivers"][1]["verdict"] == "defer");
  CHECK(j["receivers"][2]["verdict"] == "refuse");
}
