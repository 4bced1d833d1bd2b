// The DNS lookups behind an EHLO-name check: gather_ehlo_facts asks what
// receivers ask about the name a client sends in EHLO and about the address
// it connects from, and returns the answers as data (ehlo_facts,
// <sansmtp/advice/ehlo_facts.hpp>), for the pure check to judge. It lives
// with the drivers because it does I/O; it uses c-ares, not Asio.
//
// Lifetime and threads: each call makes its own c-ares channel, drives it
// with its own poll() loop and destroys it before returning; nothing is
// shared between calls, so calls from several threads at once are safe.
// c-ares's process-wide set-up (ares_library_init) is done once, on the
// first call, under a thread-safe static; it is never undone. A program
// that uses c-ares elsewhere must not run its own ares_library_init or
// ares_library_cleanup concurrently with a first call.
//
// The call blocks. It always ends: every question has `timeout` per try and
// `tries` tries on each server, and the whole call has a deadline of
// timeout x tries x (number of servers), plus 200 ms; what is unanswered
// then is a timeout. c-ares doubles its wait on each round over the
// servers, so the deadline is what bounds the later rounds. The forward
// lookups of the PTR names, asked once the PTR answer is in, have what is
// left of the deadline.
//
//   ```cpp
//   // Does the EHLO name have an address, and does the PTR of the client's
//   // address name a host that has that address (FCrDNS)?
//   bool name_and_fcrdns(std::string_view ehlo_name, std::string_view peer) {
//     sansmtp::drivers::ehlo_resolver_options options;
//     options.timeout = std::chrono::seconds(2);
//     const auto facts = sansmtp::drivers::gather_ehlo_facts(ehlo_name, peer, options);
//     if (!facts) return false;  // facts.error().message says why the resolver could not start
//     bool confirmed = false;
//     for (const auto& forward : facts->ptr_names)
//       for (const auto* answer : {&forward.a, &forward.aaaa})
//         for (const auto& address : answer->records)
//           confirmed = confirmed || sansmtp::same_address(address, peer);
//     return (facts->a.has_records() || facts->aaaa.has_records()) && confirmed;
//   }
//   ```
#pragma once

#include <sansmtp/advice/ehlo_facts.hpp>
#include <sansmtp/asio/common.hpp>

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

namespace sansmtp::drivers {

struct ehlo_resolver_options {
  // The DNS server to ask: "HOST:PORT", "[IPv6]:PORT", or an address alone
  // (port 53); an IPv6 address with a port needs the brackets. Numeric
  // addresses only: this is the resolver, there is nothing to resolve a
  // server's name with. Empty: the system's servers (/etc/resolv.conf, as
  // c-ares reads it), each tried in turn.
  std::string server;
  // How long one try of one question waits for its answer (at least 1 ms).
  std::chrono::milliseconds timeout{5000};
  // Tries of each question on each server (c-ares ARES_OPT_TRIES; at least 1).
  int tries = 2;
  // How many of the names the PTR answer gives are looked up forward (A and
  // AAAA), the first ones in the answer's order; 0 = no limit. A PTR RRset
  // is as large as whoever controls the reverse zone makes it.
  std::size_t max_ptr_names = 10;
};

// What receivers look up about `name`: its A, AAAA and MX when it is a
// domain (not an address literal "[...]", not a bare IPv4 or IPv6 address,
// not empty: then they are not_asked), and when `client_ip` is not empty,
// the PTR of client_ip (its reverse_name(): an IPv4-mapped IPv6 address is
// asked under in-addr.arpa) and the A and AAAA of each PTR name (distinct
// names, at most max_ptr_names). The answers are facts.a, .aaaa, .mx, .ptr
// and .ptr_names; facts.client_ip is client_ip as given.
//
// Every question of a round is in flight at once: A, AAAA, MX and PTR
// together, then the forward lookups of the PTR names as soon as the PTR
// answer is in. Each is asked for the exact name (ares_query: never through
// the search list, never /etc/hosts), with recursion desired.
//
// Statuses (dns_status), as c-ares reports them:
//   answered  NOERROR with at least one record of the type asked
//   nodata    NOERROR without one (including an answer holding only a
//             CNAME whose target's records are not in it)
//   nxdomain  NXDOMAIN
//   servfail  SERVFAIL, refused  REFUSED: the server's answer is reported
//             as it is (ARES_FLAG_NOCHECKRESP), not retried on another
//             server: a receiver's resolver would have got the same
//   timeout   no answer within the tries, or none by the call's deadline
//   error     anything else: the server unreachable (ICMP port
//             unreachable), FORMERR, NOTIMP, an answer c-ares cannot
//             parse, and a name that cannot be asked (not asked at all:
//             empty labels, a label over 63 octets, over 253 octets
//             without the root dot, a NUL or a backslash octet)
// Records are A and AAAA addresses in canonical text (inet_ntop), MX
// exchange names and PTR names, lower-cased, without the root dot, in the
// answer's order; a null MX (RFC 7505, "MX 0 .") is the one record "".
//
// The result is a driver_error (step resolve) only when the lookups cannot
// start: `server` is not an address with an optional port, `client_ip` is
// neither empty nor an IPv4 or IPv6 address, or c-ares cannot set up a
// channel. What the DNS answers, however bad, is in the facts.
[[nodiscard]] driver_result<ehlo_facts> gather_ehlo_facts(std::string_view name, std::string_view client_ip,
                                                          const ehlo_resolver_options& options = {});

}  // namespace sansmtp::drivers
