// check_ehlo_name with DNS facts, and predict_receivers: every new finding,
// positive and negative, the checks skipped without a client address, and
// each receiver model's verdict, stage and reply.
#include <sansmtp/advice/client_address.hpp>
#include <sansmtp/advice/ehlo_dns.hpp>
#include <sansmtp/advice/receivers.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

using namespace sansmtp;
using c = ehlo_check_code;

namespace {

dns_answer answered(std::vector<std::string> records) { return {dns_status::answered, std::move(records)}; }
dns_answer status(dns_status s) { return {s, {}}; }

// A name that resolves to the client address, whose PTR names it back.
ehlo_facts confirmed(const std::string& name, const std::string& ip) {
  ehlo_facts f;
  f.client_ip = ip;
  f.a = answered({ip});
  f.aaaa = status(dns_status::nodata);
  f.mx = status(dns_status::nodata);
  f.ptr = answered({name});
  f.ptr_names.push_back({name, answered({ip}), status(dns_status::nodata)});
  return f;
}

const receiver_prediction& of(const std::vector<receiver_prediction>& all, receiver r) {
  const auto it = std::find_if(all.begin(), all.end(), [&](const receiver_prediction& p) { return p.who == r; });
  REQUIRE(it != all.end());
  return *it;
}

bool skipped(const ehlo_report& r, c code) {
  return std::any_of(r.skipped.begin(), r.skipped.end(), [&](const skipped_check& s) { return s.code == code; });
}

}  // namespace

TEST_CASE("ehlo dns: a forward-confirmed name passes every DNS check and every receiver") {
  const auto f = confirmed("mail.acme-corp.com", "198.51.100.7");
  const auto r = check_ehlo_name("mail.acme-corp.com", f);
  CHECK(r.result == verdict::pass);
  CHECK(r.findings.empty());
  CHECK(r.skipped.empty());
  for (const auto& p : predict_receivers(r, f)) {
    INFO(receiver_name(p.who));
    CHECK(p.verdict == receiver_verdict::accept);
    CHECK(p.stage == smtp_stage::none);
    CHECK(p.reply.empty());
  }
}

TEST_CASE("ehlo dns: NXDOMAIN is a failure Postfix answers 450 at RCPT and Exim 550 at MAIL") {
  auto f = confirmed("other.acme-corp.com", "198.51.100.7");
  f.a = f.aaaa = f.mx = status(dns_status::nxdomain);
  const auto r = check_ehlo_name("gone.acme-corp.com", f);
  CHECK(r.result == verdict::fail);
  REQUIRE(r.has(c::nxdomain));
  CHECK(r.find(c::nxdomain)->message.find("reject_unknown_helo_hostname") != std::string::npos);
  CHECK_FALSE(r.has(c::no_a_or_mx));  // nxdomain says it already
  const auto p = predict_receivers(r, f);
  CHECK(of(p, receiver::postfix).verdict == receiver_verdict::defer);
  CHECK(of(p, receiver::postfix).stage == smtp_stage::rcpt);
  CHECK(of(p, receiver::postfix).reply == "450 4.7.1 <gone.acme-corp.com>: Helo command rejected: Host not found");
  CHECK(of(p, receiver::exim_verify_helo).verdict == receiver_verdict::refuse);
  CHECK(of(p, receiver::exim_verify_helo).stage == smtp_stage::mail);
  CHECK(of(p, receiver::rfc5321).verdict == receiver_verdict::accept);  // section 4.1.4
}

TEST_CASE("ehlo dns: no A, AAAA or MX is no-a-or-mx, an MX alone is no-address") {
  auto f = confirmed("mail.acme-corp.com", "198.51.100.7");
  f.a = f.aaaa = f.mx = status(dns_status::nodata);
  auto r = check_ehlo_name("mail.acme-corp.com", f);
  CHECK(r.has(c::no_a_or_mx));
  CHECK(r.find(c::no_a_or_mx)->level == severity::fail);
  CHECK_FALSE(r.has(c::no_address));
  CHECK_FALSE(r.has(c::forward_mismatch));  // nothing to compare
  CHECK(of(predict_receivers(r, f), receiver::postfix).reply.starts_with("450 4.7.1"));

  f.mx = answered({"mx.acme-corp.com"});
  r = check_ehlo_name("mail.acme-corp.com", f);
  CHECK_FALSE(r.has(c::no_a_or_mx));
  REQUIRE(r.has(c::no_address));
  CHECK(r.find(c::no_address)->level == severity::warn);
  // Postfix takes an MX; Exim takes the name because the PTR names it.
  const auto p = predict_receivers(r, f);
  CHECK(of(p, receiver::postfix).verdict == receiver_verdict::accept);
  CHECK(of(p, receiver::exim_verify_helo).verdict == receiver_verdict::accept);
  f.ptr = answered({"other.acme-corp.com"});
  f.ptr_names = {{"other.acme-corp.com", answered({"198.51.100.7"}), status(dns_status::nodata)}};
  CHECK(of(predict_receivers(check_ehlo_name("mail.acme-corp.com", f), f), receiver::exim_verify_helo).verdict ==
        receiver_verdict::refuse);
}

TEST_CASE("ehlo dns: SERVFAIL and timeouts are temporary, and say which lookup") {
  for (const auto s : {dns_status::servfail, dns_status::timeout, dns_status::refused, dns_status::error}) {
    INFO(dns_status_name(s));
    auto f = confirmed("mail.acme-corp.com", "198.51.100.7");
    f.a = f.aaaa = f.mx = status(s);
    const auto r = check_ehlo_name("mail.acme-corp.com", f);
    REQUIRE(r.has(c::dns_temporary_failure));
    CHECK(r.find(c::dns_temporary_failure)->level == severity::warn);
    CHECK(r.find(c::dns_temporary_failure)->message.find(std::string(dns_status_name(s))) != std::string::npos);
    CHECK_FALSE(r.has(c::no_a_or_mx));  // not known yet
    CHECK_FALSE(r.has(c::nxdomain));
  }
  auto f = confirmed("mail.acme-corp.com", "198.51.100.7");
  f.ptr = status(dns_status::servfail);
  f.ptr_names.clear();
  const auto r = check_ehlo_name("mail.acme-corp.com", f);
  REQUIRE(r.has(c::dns_temporary_failure));
  CHECK(r.find(c::dns_temporary_failure)->message.find("PTR") != std::string::npos);
  CHECK_FALSE(r.has(c::ptr_missing));
}

TEST_CASE("ehlo dns: the seed's literal mismatch, and the literal that matches") {
  ehlo_facts f;
  f.client_ip = "203.0.113.5";
  auto r = check_ehlo_name("[10.42.0.17]", f);
  REQUIRE(r.has(c::literal_mismatch));
  CHECK(r.find(c::literal_mismatch)->level == severity::fail);
  CHECK(r.find(c::literal_mismatch)->suggestion == "[203.0.113.5]");
  CHECK(r.find(c::literal_mismatch)->message.find("203.0.113.5") != std::string::npos);
  auto p = predict_receivers(r, f);
  CHECK(of(p, receiver::exim_verify_helo).verdict == receiver_verdict::refuse);
  // Haraka's default helo.checks refuses nothing (every [reject] key off), and skips a private client.
  CHECK(of(p, receiver::haraka_helo_checks).verdict == receiver_verdict::accept);
  CHECK(of(p, receiver::haraka_helo_checks).rules == std::vector<std::string>{"literal_mismatch"});
  CHECK(of(p, receiver::haraka_helo_checks_reject).verdict == receiver_verdict::refuse);
  CHECK(of(p, receiver::haraka_helo_checks_reject).reply ==
        "550 HELO IP literal not in the same /24 as your IP address");
  CHECK(of(p, receiver::spamassassin).verdict == receiver_verdict::score);
  CHECK(of(p, receiver::spamassassin).rules == std::vector<std::string>{"RCVD_HELO_IP_MISMATCH"});
  CHECK(of(p, receiver::google_relay).verdict == receiver_verdict::defer);
  CHECK(of(p, receiver::google_relay).stage == smtp_stage::helo);

  r = check_ehlo_name("[203.0.113.5]", f);
  CHECK_FALSE(r.has(c::literal_mismatch));
  CHECK(of(predict_receivers(r, f), receiver::exim_verify_helo).verdict == receiver_verdict::accept);
  // IPv6 literals compare as addresses, not as text; IPv4-mapped as IPv4.
  f.client_ip = "2001:db8::5";
  CHECK_FALSE(check_ehlo_name("[IPv6:2001:DB8:0::5]", f).has(c::literal_mismatch));
  CHECK(check_ehlo_name("[IPv6:2001:db8::6]", f).has(c::literal_mismatch));
  f.client_ip = "::ffff:203.0.113.5";
  CHECK_FALSE(check_ehlo_name("[203.0.113.5]", f).has(c::literal_mismatch));
}

TEST_CASE("ehlo dns: without a client address the checks that need it are skipped, and say so") {
  ehlo_facts f;
  f.a = answered({"198.51.100.7"});
  f.aaaa = f.mx = status(dns_status::nodata);
  const auto r = check_ehlo_name("mail.acme-corp.com", f);
  for (const auto code : {c::forward_mismatch, c::ptr_missing, c::ptr_mismatch, c::fcrdns_fail}) {
    INFO(ehlo_check_code_name(code));
    CHECK(skipped(r, code));
    CHECK_FALSE(r.has(code));
  }
  CHECK(r.skipped.front().reason.find("client address") != std::string::npos);
  const auto literal = check_ehlo_name("[10.42.0.17]", ehlo_facts{});
  CHECK(skipped(literal, c::literal_mismatch));
  const auto p = predict_receivers(r, f);
  CHECK(of(p, receiver::exim_verify_helo).verdict == receiver_verdict::unknown);
  CHECK(of(p, receiver::exim_verify_helo).missing.find("--client-ip") != std::string::npos);
  CHECK(of(p, receiver::postfix).verdict == receiver_verdict::accept);  // needs no client address
  // No lookups at all: the name's checks are skipped too, and Postfix cannot tell.
  const auto bare = check_ehlo_name("mail.acme-corp.com", ehlo_facts{});
  CHECK(skipped(bare, c::nxdomain));
  CHECK(of(predict_receivers(bare, ehlo_facts{}), receiver::postfix).verdict == receiver_verdict::unknown);
}

TEST_CASE("ehlo dns: forward-mismatch when the name resolves elsewhere") {
  auto f = confirmed("mail.acme-corp.com", "198.51.100.7");
  f.a = answered({"192.0.2.10"});
  f.ptr = answered({"host.example.org"});
  f.ptr_names = {{"host.example.org", answered({"198.51.100.7"}), status(dns_status::nodata)}};
  const auto r = check_ehlo_name("mail.acme-corp.com", f);
  REQUIRE(r.has(c::forward_mismatch));
  CHECK(r.find(c::forward_mismatch)->message.find("192.0.2.10") != std::string::npos);
  REQUIRE(r.has(c::ptr_mismatch));
  CHECK(r.find(c::ptr_mismatch)->level == severity::warn);
  CHECK(r.find(c::ptr_mismatch)->suggestion == "host.example.org");  // the name that would verify
  CHECK_FALSE(r.has(c::fcrdns_fail));
  const auto p = predict_receivers(r, f);
  CHECK(of(p, receiver::postfix).verdict == receiver_verdict::accept);
  CHECK(of(p, receiver::exim_verify_helo).verdict == receiver_verdict::refuse);
  CHECK(of(p, receiver::gmail).verdict == receiver_verdict::accept);  // FCrDNS of the address holds
}

TEST_CASE("ehlo dns: PTR missing, mismatched, and not forward-confirmed") {
  auto f = confirmed("mail.acme-corp.com", "198.51.100.7");
  f.ptr = status(dns_status::nxdomain);
  f.ptr_names.clear();
  auto r = check_ehlo_name("mail.acme-corp.com", f);
  REQUIRE(r.has(c::ptr_missing));
  CHECK_FALSE(r.has(c::fcrdns_fail));  // one finding for one cause
  auto p = predict_receivers(r, f);
  CHECK(of(p, receiver::gmail).verdict == receiver_verdict::refuse);
  CHECK(of(p, receiver::gmail).reply.starts_with("550 5.7.25 [198.51.100.7]"));
  CHECK(of(p, receiver::exim_verify_helo).verdict == receiver_verdict::accept);  // forward lookup matches
  CHECK(of(p, receiver::spamassassin).rules == std::vector<std::string>{"RDNS_NONE"});

  // The PTR names the host, the name resolves to the client: ptr-mismatch is only information.
  f = confirmed("mail.acme-corp.com", "198.51.100.7");
  f.ptr = answered({"static-7.example.org"});
  f.ptr_names = {{"static-7.example.org", status(dns_status::nxdomain), status(dns_status::nxdomain)}};
  r = check_ehlo_name("mail.acme-corp.com", f);
  REQUIRE(r.has(c::ptr_mismatch));
  CHECK(r.find(c::ptr_mismatch)->level == severity::info);
  REQUIRE(r.has(c::fcrdns_fail));
  CHECK(r.result == verdict::warn);
  p = predict_receivers(r, f);
  CHECK(of(p, receiver::gmail).verdict == receiver_verdict::refuse);
  CHECK(of(p, receiver::exim_verify_helo).verdict == receiver_verdict::accept);
}

TEST_CASE("ehlo dns: a name or PTR name that embeds the client address looks dynamic") {
  for (const std::string name : {"c-198-51-100-7.acme-corp.com", "7.100.51.198.dyn.acme-corp.com",
                                 "host-c6336407.acme-corp.com", "x198051100007.acme-corp.com"}) {
    INFO(name);
    auto f = confirmed(name, "198.51.100.7");
    const auto r = check_ehlo_name(name, f);
    REQUIRE(r.has(c::dynamic_looking));
    // Haraka's own test: the 3rd and 4th (or 1st and 2nd) octets, or the four hex octets, left of the domain.
    const auto p = predict_receivers(r, f);
    CHECK(of(p, receiver::haraka_helo_checks_reject).reply == "550 HELO is dynamic");
    CHECK(of(p, receiver::haraka_helo_checks).rules == std::vector<std::string>{"dynamic"});
  }
  // Other numbers are not the address (for sansmtp; Haraka's substring test is looser).
  auto f = confirmed("mx7.acme-corp.com", "198.51.100.7");
  CHECK_FALSE(check_ehlo_name("mx7.acme-corp.com", f).has(c::dynamic_looking));
  CHECK(of(predict_receivers(check_ehlo_name("mx7.acme-corp.com", f), f),
           receiver::haraka_helo_checks_reject)
            .verdict == receiver_verdict::accept);
  f = confirmed("mail.acme-corp.com", "198.51.100.7");
  f.ptr = answered({"198-51-100-7.pool.example.org"});
  f.ptr_names = {{"198-51-100-7.pool.example.org", answered({"198.51.100.7"}), status(dns_status::nodata)}};
  const auto r = check_ehlo_name("mail.acme-corp.com", f);
  REQUIRE(r.has(c::dynamic_looking));
  CHECK(r.find(c::dynamic_looking)->message.find("PTR name") != std::string::npos);
  CHECK(of(predict_receivers(r, f), receiver::spamassassin).rules == std::vector<std::string>{"RDNS_DYNAMIC"});
}

TEST_CASE("ehlo dns: Postfix's three restrictions in their order") {
  const ehlo_facts none;
  auto p = predict_receivers(check_ehlo_name("web-7d9f8b6c5-x2x4z", none), none);
  CHECK(of(p, receiver::postfix).reply ==
        "504 5.5.2 <web-7d9f8b6c5-x2x4z>: Helo command rejected: need fully-qualified hostname");
  CHECK(of(p, receiver::postfix).stage == smtp_stage::rcpt);
  CHECK(of(p, receiver::postfix).rules == std::vector<std::string>{"reject_non_fqdn_helo_hostname"});
  p = predict_receivers(check_ehlo_name("bad..name.example", none), none);
  CHECK(of(p, receiver::postfix).reply.starts_with("501 5.5.2"));
  CHECK(of(p, receiver::rfc5321).verdict == receiver_verdict::refuse);
  CHECK(of(p, receiver::rfc5321).stage == smtp_stage::helo);
  CHECK(of(p, receiver::m365).reply == "501 5.5.4 Invalid domain name");
}

TEST_CASE("ehlo dns: receivers by name, each once, in the order asked") {
  std::set<std::string_view> names;
  for (const auto r : all_receivers) {
    CHECK(receiver_from_name(receiver_name(r)) == r);
    CHECK(names.insert(receiver_name(r)).second);
  }
  CHECK(names.size() == std::size(all_receivers));
  CHECK(receiver_from_name("POSTFIX") == receiver::postfix);
  CHECK_FALSE(receiver_from_name("sendmail").has_value());
  CHECK_FALSE(receiver_from_name("").has_value());
  const receiver two[] = {receiver::gmail, receiver::postfix};
  const auto f = confirmed("mail.acme-corp.com", "198.51.100.7");
  const auto p = predict_receivers(check_ehlo_name("mail.acme-corp.com", f), f, two);
  REQUIRE(p.size() == 2);
  CHECK(p[0].who == receiver::gmail);
  CHECK(p[1].who == receiver::postfix);
  CHECK(p[1].tested);
  CHECK_FALSE(p[0].tested);
  CHECK_FALSE(p[1].assumes.empty());
  for (const auto v : {receiver_verdict::accept, receiver_verdict::refuse, receiver_verdict::defer,
                       receiver_verdict::score, receiver_verdict::unknown})
    CHECK(receiver_verdict_name(v) != "");
  CHECK(smtp_stage_name(smtp_stage::rcpt) == "rcpt");
}

namespace {

std::optional<std::string> echoed(std::string_view first_line, std::string_view ehlo_name = {}) {
  const std::string_view lines[] = {first_line, "PIPELINING"};
  reply r;
  r.code = 250;
  r.lines = lines;
  return echoed_client_address(r, ehlo_name);
}

}  // namespace

TEST_CASE("echoed_client_address: the address servers echo in their EHLO reply") {
  CHECK(echoed("mx.example.org Hello client.example [203.0.113.5]") == "203.0.113.5");                  // Exim
  CHECK(echoed("mx.example.org Hello client.example [203.0.113.5], pleased to meet you") == "203.0.113.5");
  CHECK(echoed("mx.google.com at your service, [203.0.113.5]") == "203.0.113.5");                      // Gmail
  CHECK(echoed("mx.example.org Hello [IPv6:2001:db8::5]") == "2001:db8::5");
  CHECK(echoed("mx.example.org Hello [2001:db8::5]") == "2001:db8::5");
  // The client's own literal echoed beside the address seen: the address seen.
  CHECK(echoed("mx.example.org Hello [10.42.0.17] [203.0.113.5]", "[10.42.0.17]") == "203.0.113.5");
  // Only the name echoed: nothing is known about the address seen.
  CHECK_FALSE(echoed("mx.example.org Hello [10.42.0.17]", "[10.42.0.17]").has_value());
  // ... unless it is echoed twice (the client sent the very address seen).
  CHECK(echoed("mx.example.org Hello [203.0.113.5] [203.0.113.5]", "[203.0.113.5]") == "203.0.113.5");
  // No echo (Postfix), the server's own literal name, brackets around no address.
  CHECK_FALSE(echoed("mx.example.org").has_value());
  CHECK_FALSE(echoed("[192.0.2.1] Hello").has_value());
  CHECK_FALSE(echoed("mx.example.org Hello [client.example]").has_value());
  CHECK_FALSE(echoed("mx.example.org Hello [203.0.113.5").has_value());
  CHECK_FALSE(echoed("mx.example.org Hello [203.0.113.256]").has_value());
  reply empty;
  CHECK_FALSE(echoed_client_address(empty).has_value());
  // A greeting that says it.
  CHECK(echoed("mx.example.org ESMTP ready for [203.0.113.5]") == "203.0.113.5");
}

TEST_CASE("ehlo dns: the receivers' quirks, as tests/ehlo_dns observed them") {
  // Postfix drops one root dot for its first two restrictions, not for the lookup: 450.
  auto f = confirmed("good.acme-corp.com", "198.51.100.7");
  auto p = predict_receivers(check_ehlo_name("good.acme-corp.com.", f), f);
  CHECK(of(p, receiver::postfix).reply == "450 4.7.1 <good.acme-corp.com.>: Helo command rejected: Host not found");
  CHECK(of(p, receiver::exim_verify_helo).verdict == receiver_verdict::accept);  // the forward lookup works
  CHECK(of(p, receiver::haraka_helo_checks_reject).reply == "550 HELO host name invalid");
  // An underscore: Postfix's valid_hostname() takes it, Exim's check_helo() does not (at EHLO).
  f = confirmed("mail_1.acme-corp.com", "198.51.100.7");
  p = predict_receivers(check_ehlo_name("mail_1.acme-corp.com", f), f);
  CHECK(of(p, receiver::postfix).verdict == receiver_verdict::accept);
  CHECK(of(p, receiver::exim_verify_helo).reply == "501 Syntactically invalid EHLO argument(s)");
  CHECK(of(p, receiver::exim_verify_helo).stage == smtp_stage::helo);
  // A label ending in "-": Postfix 501 Invalid name; Exim never looks it up.
  f = confirmed("dash-.acme-corp.com", "198.51.100.7");
  f.ptr = status(dns_status::nxdomain);
  f.ptr_names.clear();
  p = predict_receivers(check_ehlo_name("dash-.acme-corp.com", f), f);
  CHECK(of(p, receiver::postfix).reply.starts_with("501 5.5.2 <dash-.acme-corp.com>: Helo command rejected: Invalid name"));
  CHECK(of(p, receiver::exim_verify_helo).reply == "550 Administrative prohibition");
  // Bare addresses: not fully qualified for Postfix (all digits), not the client for Exim.
  ehlo_facts client;
  client.client_ip = "127.0.0.1";
  p = predict_receivers(check_ehlo_name("127.0.0.1", client), client);
  CHECK(of(p, receiver::postfix).reply.starts_with("504 5.5.2"));
  CHECK(of(p, receiver::exim_verify_helo).verdict == receiver_verdict::refuse);
  CHECK(of(p, receiver::haraka_helo_checks_reject).reply == "550 Invalid address format in HELO");
  // Exim compares a literal as text, for the client address's length.
  p = predict_receivers(check_ehlo_name("[127.0.0.12]", client), client);
  CHECK(of(p, receiver::exim_verify_helo).verdict == receiver_verdict::accept);
  CHECK(check_ehlo_name("[127.0.0.12]", client).has(c::literal_mismatch));  // sansmtp does not
  // Postfix reads an untagged IPv6 literal as a bad IPv4 one.
  p = predict_receivers(check_ehlo_name("[2001:db8::1]", client), client);
  CHECK(of(p, receiver::postfix).reply == "501 5.5.2 <[2001:db8::1]>: Helo command rejected: invalid ip address");
  // Haraka's /24 literal test, and its forward_dns that never refuses a name without addresses.
  client.client_ip = "127.0.0.4";
  CHECK(of(predict_receivers(check_ehlo_name("[127.0.0.2]", client), client), receiver::haraka_helo_checks_reject)
            .verdict == receiver_verdict::accept);
  f = confirmed("ptronly.acme-corp.com", "198.51.100.7");
  f.a = f.aaaa = f.mx = status(dns_status::nxdomain);
  f.ptr_names[0].a = status(dns_status::nxdomain);
  p = predict_receivers(check_ehlo_name("ptronly.acme-corp.com", f), f);
  CHECK(of(p, receiver::haraka_helo_checks_reject).verdict == receiver_verdict::accept);
  CHECK(of(p, receiver::haraka_helo_checks_reject).rules == std::vector<std::string>{"forward_dns"});
  CHECK(of(p, receiver::postfix).verdict == receiver_verdict::defer);
  // A timeout on the name is Haraka's only deferral (with the reject keys on).
  f = confirmed("slow.acme-corp.com", "198.51.100.7");
  f.a = status(dns_status::timeout);
  f.aaaa = status(dns_status::timeout);
  f.ptr = answered({"slow.acme-corp.com"});
  p = predict_receivers(check_ehlo_name("slow.acme-corp.com", f), f);
  CHECK(of(p, receiver::haraka_helo_checks_reject).reply == "450 DNS timeout resolving your HELO hostname");
  // A big company's name from a client whose reverse name is not theirs.
  f = confirmed("gmail.com", "198.51.100.7");
  f.ptr = answered({"host.acme-corp.com"});
  p = predict_receivers(check_ehlo_name("gmail.com", f), f);
  CHECK(of(p, receiver::haraka_helo_checks_reject).reply == "550 You are not who you say you are");
  // Private clients are skipped by Haraka's defaults: no rules at all.
  client.client_ip = "10.1.2.3";
  CHECK(of(predict_receivers(check_ehlo_name("[10.42.0.17]", client), client), receiver::haraka_helo_checks)
            .rules.empty());
}

TEST_CASE("ehlo dns: the scoring and provider models") {
  ehlo_facts f;
  f.client_ip = "198.51.100.7";
  f.ptr = status(dns_status::nxdomain);
  // rspamd: a bare public address, and no reverse name.
  auto p = predict_receivers(check_ehlo_name("93.184.216.34", f), f);
  CHECK(of(p, receiver::rspamd).verdict == receiver_verdict::score);
  CHECK(of(p, receiver::rspamd).rules == std::vector<std::string>{"HFILTER_HELO_BAREIP", "HFILTER_HOSTNAME_UNKNOWN"});
  CHECK(of(p, receiver::rspamd).score == Approx(5.5));
  CHECK(of(p, receiver::m365).reply == "501 5.5.4 Invalid domain name");
  CHECK(of(p, receiver::google_relay).reply == "421 4.7.0 Try again later, closing connection. (EHLO)");
  // rspamd: a private literal is a bad IP; a single label is HELO_5; an unresolvable name NORES.
  p = predict_receivers(check_ehlo_name("[10.42.0.17]", f), f);
  CHECK(of(p, receiver::rspamd).rules.front() == "HFILTER_HELO_BADIP");
  p = predict_receivers(check_ehlo_name("web-7d9f8b6c5-x2x4z", f), f);
  CHECK(of(p, receiver::rspamd).rules.front() == "HFILTER_HELO_5");
  CHECK(of(p, receiver::google_relay).verdict == receiver_verdict::defer);
  f.a = f.aaaa = f.mx = status(dns_status::nxdomain);
  p = predict_receivers(check_ehlo_name("gone.acme-corp.com", f), f);
  CHECK(of(p, receiver::rspamd).rules ==
        std::vector<std::string>{"HFILTER_HELO_IP_A", "HFILTER_HELO_NORES_A_OR_MX", "HFILTER_HOSTNAME_UNKNOWN"});
  // hfilter skips local clients (check_local off by default).
  f.client_ip = "10.1.2.3";
  CHECK(of(predict_receivers(check_ehlo_name("gone.acme-corp.com", f), f), receiver::rspamd).verdict ==
        receiver_verdict::accept);
  // SpamAssassin: enough rules together reach its 5.0 threshold.
  f = {};
  f.client_ip = "198.51.100.7";
  f.ptr = answered({"198-51-100-7.pool.example.org"});
  f.ptr_names = {{"198-51-100-7.pool.example.org", answered({"198.51.100.7"}), status(dns_status::nodata)}};
  p = predict_receivers(check_ehlo_name("[10.42.0.17]", f), f);
  CHECK(of(p, receiver::spamassassin).rules == std::vector<std::string>{"RCVD_HELO_IP_MISMATCH", "RDNS_DYNAMIC"});
  CHECK(of(p, receiver::spamassassin).verdict == receiver_verdict::score);
  p = predict_receivers(check_ehlo_name("c-198-51-100-7.acme-corp.com", f), f);
  CHECK(of(p, receiver::spamassassin).rules == std::vector<std::string>{"HELO_DYNAMIC_IPADDR", "RDNS_DYNAMIC"});
  // Gmail: the PTR not asked is unknown; a temporary failure is not held against the sender.
  f = {};
  f.client_ip = "198.51.100.7";
  CHECK(of(predict_receivers(check_ehlo_name("mail.acme-corp.com", f), f), receiver::gmail).verdict ==
        receiver_verdict::unknown);
  f.ptr = status(dns_status::servfail);
  CHECK(of(predict_receivers(check_ehlo_name("mail.acme-corp.com", f), f), receiver::gmail).verdict ==
        receiver_verdict::accept);
  // Postfix's empty EHLO.
  CHECK(of(predict_receivers(check_ehlo_name("", f), f), receiver::postfix).reply == "501 Syntax: EHLO hostname");
}
