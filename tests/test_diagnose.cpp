// diagnose(): real failure replies from Postfix, Exim, qmail, sendmail,
// Exchange / Microsoft 365 and Gmail, and what a person should be told.
#include "reply_helpers.hpp"

#include <sansmtp/advice/diagnose.hpp>

#include <catch2/catch.hpp>

#include <span>
#include <string>
#include <vector>

using namespace sansmtp;
using namespace sansmtp::test;

namespace {

diagnosis diagnose_wire(std::string_view wire, answered_command after) {
  const auto r = read_chunks(wire, {});
  REQUIRE_FALSE(r.error);
  REQUIRE(r.replies.size() == 1);
  const auto& rep = r.replies[0];
  const std::vector<std::string_view> lines(rep.lines.begin(), rep.lines.end());
  return diagnose(rep.code, rep.enhanced, lines, after);
}

// A reply on the wire, what it answered, and the kind it must get.
struct vector {
  std::string wire;
  answered_command after;
  failure_kind kind;
};

void check_kinds(std::span<const vector> vectors) {
  for (const auto& v : vectors) {
    INFO(v.wire);
    const auto d = diagnose_wire(v.wire, v.after);
    CHECK(failure_kind_name(d.kind) == failure_kind_name(v.kind));
    CHECK(d.explanation.empty() == (v.kind == failure_kind::none));
  }
}

}  // namespace

TEST_CASE("diagnose: real reply texts land in the right kind") {
  using ac = answered_command;
  using fk = failure_kind;
  const vector vectors[] = {
      // The EHLO name, wherever it shows up.
      {"550 Requested action not taken: Invalid HeloHost (#5.5.0)\r\n", ac::mail,
       fk::helo_rejected},  // qmail
      {"504 5.5.2 <localhost>: Helo command rejected: need fully-qualified hostname\r\n", ac::rcpt,
       fk::helo_rejected},  // Postfix reject_non_fqdn_helo_hostname
      {"450 4.7.1 <bogus.invalid>: Helo command rejected: Host not found\r\n", ac::rcpt,
       fk::helo_rejected},  // Postfix reject_unknown_helo_hostname
      {"501 5.5.2 <[10.0.0.5 ]>: Helo command rejected: invalid ip address\r\n", ac::mail, fk::helo_rejected},
      {"550 5.7.1 Rejected: HELO/EHLO argument does not resolve\r\n", ac::mail, fk::helo_rejected},
      {"501 Syntactically invalid EHLO argument(s)\r\n", ac::ehlo, fk::helo_rejected},  // Exim
      {"501 5.5.4 Invalid domain name\r\n", ac::ehlo, fk::helo_rejected},  // Exchange, in answer to EHLO
      {"421-4.7.0 Try again later, closing connection. (EHLO)\r\n421-4.7.0 For more information, go to\r\n"
       "421 4.7.0  https://support.google.com/a/answer/3221692 a1si123.1 - gsmtp\r\n",
       ac::ehlo, fk::helo_rejected},  // Gmail
      {"550 5.7.1 Client host rejected: your HELO hostname is a dynamic IP\r\n", ac::mail, fk::helo_rejected},
      {"550 Please use your real hostname when saying HELO (not HSP-AV01)\r\n", ac::mail, fk::helo_rejected},
      {"501 syntactically invalid HELO argument(s)\r\n", ac::helo, fk::helo_rejected},
      // Not about the name: sending MAIL before EHLO is a sequence error.
      {"503 5.5.1 Error: send HELO/EHLO first\r\n", ac::mail, fk::other_permanent},
      // TLS and authentication.
      {"530 5.7.0 Must issue a STARTTLS command first\r\n", ac::mail, fk::tls_required},
      {"530-5.7.0 Authentication Required. Learn more at\r\n"
       "530 5.7.0  https://support.google.com/mail/?p=WantAuthError x1sm.2 - gsmtp\r\n",
       ac::mail, fk::auth_required},
      {"530 5.7.57 Client not authenticated to send mail. [AM0PR01CA0001.eurprd01.prod.outlook.com]\r\n",
       ac::mail, fk::auth_required},
      {"530 5.7.1 Client was not authenticated\r\n", ac::mail, fk::auth_required},
      {"535 5.7.8 Error: authentication failed: authentication failure\r\n", ac::auth, fk::auth_failed},
      // Relay.
      {"554 5.7.1 <someone@example.net>: Relay access denied\r\n", ac::rcpt, fk::relay_denied},  // Postfix
      {"550 relay not permitted\r\n", ac::rcpt, fk::relay_denied},                               // Exim
      {"550 5.7.1 <someone@example.net>... Relaying denied\r\n", ac::rcpt, fk::relay_denied},    // sendmail
      {"550 5.7.54 SMTP; Unable to relay recipient in non-accepted domain\r\n", ac::rcpt, fk::relay_denied},
      // Unknown mailboxes.
      {"550 5.1.1 <nobody@example.org>: Recipient address rejected: User unknown in local recipient "
       "table\r\n",
       ac::rcpt, fk::mailbox_unknown},
      {"550-5.1.1 The email account that you tried to reach does not exist. Please try\r\n"
       "550-5.1.1 double-checking the recipient's email address for typos or\r\n"
       "550 5.1.1 unnecessary spaces. https://support.google.com/mail/?p=NoSuchUser x1si.2 - gsmtp\r\n",
       ac::rcpt, fk::mailbox_unknown},
      {"550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup\r\n", ac::rcpt,
       fk::mailbox_unknown},
      {"550 Unrouteable address\r\n", ac::rcpt, fk::mailbox_unknown},  // Exim
      // Size.
      {"552 5.3.4 Message size exceeds fixed limit\r\n", ac::end_of_data, fk::message_too_large},
      {"552-5.2.3 Your message exceeded Google's message size limits. Please visit\r\n"
       "552 5.2.3  https://support.google.com/mail/?p=MaxSizeError x1si.3 - gsmtp\r\n",
       ac::end_of_data, fk::message_too_large},
      // Temporary.
      {"450 4.2.0 <a@example.org>: Recipient address rejected: Greylisted, see "
       "http://postgrey.schweikert.ch/help/example.org.html\r\n",
       ac::rcpt, fk::temporary},
      {"451 4.7.1 Please try again later\r\n", ac::rcpt, fk::temporary},
      {"421 4.7.0 Try again later, closing connection.\r\n", ac::mail, fk::temporary},
      {"451 Temporary local problem - please try later\r\n", ac::rcpt, fk::temporary},  // Exim
      // Policy.
      {"554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org\r\n", ac::rcpt,
       fk::policy},
      {"550-5.7.1 [192.0.2.1] Our system has detected that this message is\r\n"
       "550-5.7.1 likely unsolicited mail. To reduce the amount of spam sent to Gmail,\r\n"
       "550 5.7.1 this message has been blocked. x1si.4 - gsmtp\r\n",
       ac::end_of_data, fk::policy},
      {"550 5.7.606 Access denied, banned sending IP [192.0.2.1]\r\n", ac::rcpt, fk::policy},  // M365
      // Other permanent failures, and successes.
      {"553 5.1.8 <a@b.example>... Domain of sender address c@d.example does not exist\r\n", ac::mail,
       fk::other_permanent},
      {"250 2.0.0 Ok: queued as 4Y2Z\r\n", ac::end_of_data, fk::none},
      {"354 End data with <CR><LF>.<CR><LF>\r\n", ac::data, fk::none},
  };
  check_kinds(vectors);
}

TEST_CASE("diagnose: the code and the enhanced status outrank words in addresses, host names and URLs") {
  using ac = answered_command;
  using fk = failure_kind;
  const vector vectors[] = {
      // A 4xx is transient: "relay" in the address does not make it a relay refusal.
      {"450 4.2.0 <bob@relay.example.com>: Recipient address rejected: Greylisted\r\n", ac::rcpt,
       fk::temporary},
      {"451 4.7.1 <relay@example.com>: Relay access denied, try again later\r\n", ac::rcpt, fk::temporary},
      {"454 4.7.0 TLS not available due to local problem\r\n", ac::starttls, fk::temporary},
      {"450 4.1.8 <a@nowhere.example>: Sender address rejected: Domain not found\r\n", ac::rcpt,
       fk::temporary},
      // ... unless its text is specific about the EHLO name.
      {"450 4.7.1 <x>: Helo command rejected: Host not found\r\n", ac::rcpt, fk::helo_rejected},
      // The ESC decides: X.3.4 is the size, whatever host the text names.
      {"552 5.3.4 Message size exceeds fixed limit (relay.example.com)\r\n", ac::end_of_data,
       fk::message_too_large},
      // X.1.1: the mailbox, even when the address or the table names TLS or relaying.
      {"550 5.1.1 <starttls@example.com>: Recipient address rejected: User unknown\r\n", ac::rcpt,
       fk::mailbox_unknown},
      {"550 5.1.1 <x@example.com>: Recipient address rejected: User unknown in relay recipient table\r\n",
       ac::rcpt, fk::mailbox_unknown},  // Postfix relay_recipient_maps
      // Other X.1.x statuses are address problems, not policy.
      {"550 5.1.0 Sender address rejected: Domain not found\r\n", ac::mail, fk::other_permanent},
      {"550 5.1.2 <x@nxdomain.example>: Recipient address rejected: Domain not found\r\n", ac::rcpt,
       fk::other_permanent},
      {"553 5.1.3 <relay@@example.com>... Bad recipient address syntax\r\n", ac::rcpt, fk::other_permanent},
      // 5.7.1 leaves it open; the words decide, never the names.
      {"550 5.7.1 <relay@example.com>: Recipient address rejected: User unknown\r\n", ac::rcpt,
       fk::mailbox_unknown},
      {"554 5.7.1 Service unavailable; see https://relay.example.net/starttls-policy.html\r\n", ac::rcpt,
       fk::policy},
      {"550 5.7.1 Message refused, see http://www.example.org/relay?starttls=1 for details\r\n", ac::rcpt,
       fk::policy},
      {"554 5.7.1 Rejected by www.starttls-relay.example\r\n", ac::rcpt, fk::policy},
      {"550 5.7.1 Client host rejected: cannot find your hostname, [192.0.2.1] helo.example.net\r\n",
       ac::rcpt, fk::policy},
      {"550 5.7.1 <user@helo.example.org>: Recipient address rejected: Access denied\r\n", ac::rcpt,
       fk::policy},
      // A host name that happens to contain "helo" is not the EHLO name.
      {"550 5.7.1 Mail from mx.helo-world.example refused\r\n", ac::mail, fk::policy},
      // Words still count after a name, and at the end of a sentence.
      {"554 5.7.1 <a@example.net>: Relay access denied.\r\n", ac::rcpt, fk::relay_denied},
  };
  check_kinds(vectors);
}

TEST_CASE("diagnose: an X.1.x status is explained as an address problem") {
  const auto d =
      diagnose_wire("550 5.1.0 Sender address rejected: Domain not found\r\n", answered_command::mail);
  CHECK(d.kind == failure_kind::other_permanent);
  CHECK(d.explanation.find("This 550 5.1.0 arrived in answer to MAIL FROM: the server refused an address") ==
        0);
  const auto other = diagnose_wire("552 5.2.2 Mailbox full\r\n", answered_command::rcpt);
  CHECK(other.kind == failure_kind::other_permanent);
  CHECK(other.explanation.find("address") == std::string::npos);
}

TEST_CASE("diagnose: a late EHLO-name rejection names the command it answered") {
  const auto d =
      diagnose_wire("550 Requested action not taken: Invalid HeloHost (#5.5.0)\r\n", answered_command::mail);
  CHECK(d.kind == failure_kind::helo_rejected);
  CHECK(d.explanation.find("This 550 arrived in answer to MAIL FROM, but it is about your EHLO name") == 0);
  CHECK(d.explanation.find("sansmtp ehlo-check") != std::string::npos);
  const auto at_ehlo = diagnose_wire("501 5.5.4 Invalid domain name\r\n", answered_command::ehlo);
  CHECK(at_ehlo.explanation.find("This 501 5.5.4 arrived in answer to EHLO: the server refused the name") ==
        0);
  const auto esc = diagnose_wire("550 5.1.1 <x@example.org>: User unknown\r\n", answered_command::rcpt);
  CHECK(esc.explanation.find("This 550 5.1.1 arrived in answer to RCPT TO:") == 0);
  // Without the answered command the explanation makes no claim about it.
  const auto bare = diagnose_wire("530 Error: authentication Required\r\n", answered_command::unknown);
  CHECK(bare.kind == failure_kind::auth_required);
  CHECK(bare.explanation.find("This 530: ") == 0);
  CHECK(bare.explanation.find("in answer to") == std::string::npos);
}

TEST_CASE("diagnose: greylisting is explained as such") {
  const auto d = diagnose_wire("450 4.7.1 Greylisted, please retry in 5 minutes\r\n", answered_command::rcpt);
  CHECK(d.kind == failure_kind::temporary);
  CHECK(d.explanation.find("greylisting") != std::string::npos);
  const auto other = diagnose_wire("452 4.3.1 Insufficient system storage\r\n", answered_command::mail);
  CHECK(other.kind == failure_kind::temporary);
  CHECK(other.explanation.find("greylisting") == std::string::npos);
}

TEST_CASE("answered commands parse from what a user types") {
  CHECK(answered_command_of("MAIL") == answered_command::mail);
  CHECK(answered_command_of("rcpt to") == answered_command::rcpt);
  CHECK(answered_command_of("data-end") == answered_command::end_of_data);
  CHECK(answered_command_of("Ehlo") == answered_command::ehlo);
  CHECK_FALSE(answered_command_of("bogus"));
  CHECK(answered_command_text(answered_command::rcpt) == "RCPT TO");
}
