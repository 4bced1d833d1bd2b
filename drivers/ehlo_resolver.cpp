// The DNS lookups behind an EHLO-name check (sansmtp/asio/ehlo_resolver.hpp):
// one c-ares channel per call, driven by its own poll() loop under one
// deadline.
#include <sansmtp/asio/ehlo_resolver.hpp>
#include <sansmtp/syntax/ehlo_argument.hpp>

#include <ares.h>

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/time.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstring>
#include <deque>
#include <limits>
#include <memory>
#include <optional>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

namespace sansmtp::drivers {
namespace {

using clock = std::chrono::steady_clock;

// What is added to timeout x tries x servers before the call gives up on
// the questions still open: c-ares's own timer fires first, this is the
// time to notice it.
constexpr std::chrono::milliseconds deadline_slack{200};

driver_error resolve_error(std::string message, std::error_code code = {}) {
  return driver_error{driver_step::resolve, code, std::move(message)};
}

// ares_library_init is not thread-safe: one call, under a static's
// thread-safe initialisation, for the whole process.
int library_status() {
  static const int status = ares_library_init(ARES_LIB_INIT_ALL);
  return status;
}

struct server_address {
  int family = AF_INET;
  std::array<std::uint8_t, 16> octets{};
  unsigned short port = 53;
};

std::optional<unsigned short> parse_port(std::string_view text) {
  if (text.empty() || text.size() > 5) return std::nullopt;
  unsigned value = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (value == 0 || value > 65535) return std::nullopt;
  return static_cast<unsigned short>(value);
}

// "HOST:PORT", "[IPv6]:PORT", "[IPv6]", or an address alone.
std::optional<server_address> parse_server(std::string_view text) {
  server_address out;
  auto set_v4 = [&](std::string_view host) {
    const auto v4 = parse::ipv4_address(host);
    if (!v4) return false;
    out.family = AF_INET;
    std::copy(v4->begin(), v4->end(), out.octets.begin());
    return true;
  };
  auto set_v6 = [&](std::string_view host) {
    const auto v6 = parse::ipv6_address(host);
    if (!v6) return false;
    out.family = AF_INET6;
    out.octets = *v6;
    return true;
  };
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos || !set_v6(text.substr(1, close - 1))) return std::nullopt;
    const auto rest = text.substr(close + 1);
    if (rest.empty()) return out;
    if (rest.front() != ':') return std::nullopt;
    const auto port = parse_port(rest.substr(1));
    if (!port) return std::nullopt;
    out.port = *port;
    return out;
  }
  if (set_v4(text) || set_v6(text)) return out;
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos || !set_v4(text.substr(0, colon))) return std::nullopt;
  const auto port = parse_port(text.substr(colon + 1));
  if (!port) return std::nullopt;
  out.port = *port;
  return out;
}

// Whether c-ares can carry `name` as it is: labels of 1 to 63 octets, at
// most 253 octets without the root dot, and none of the octets a C string
// or c-ares's escape syntax would change (NUL, backslash).
bool askable(std::string_view name) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  if (name.empty() || name.size() > 253) return false;
  std::size_t label = 0;
  for (const char c : name) {
    if (c == '\0' || c == '\\') return false;
    if (c == '.') {
      if (label == 0) return false;
      label = 0;
    } else if (++label > 63) {
      return false;
    }
  }
  return label != 0;
}

// A domain, as receivers look names up: not an address literal, not a
// bare address, not empty.
bool is_domain(std::string_view name) {
  if (name.empty() || name.front() == '[') return false;
  return !parse::ipv4_address(name) && !parse::ipv6_address(name);
}

std::string normal_name(const char* text) {
  std::string name = text ? text : "";
  if (!name.empty() && name.back() == '.') name.pop_back();
  for (char& c : name)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return name;
}

dns_status status_of(int ares_status) {
  switch (ares_status) {
    case ARES_SUCCESS:
      return dns_status::answered;
    case ARES_ENODATA:
      return dns_status::nodata;
    case ARES_ENOTFOUND:
      return dns_status::nxdomain;
    case ARES_ESERVFAIL:
      return dns_status::servfail;
    case ARES_EREFUSED:
      return dns_status::refused;
    case ARES_ETIMEOUT:
      return dns_status::timeout;
    default:
      return dns_status::error;
  }
}

enum class qtype { a, aaaa, mx, ptr };

// The records of one answer, or the c-ares status why there are none.
int parse_records(qtype type, const unsigned char* abuf, int alen, std::vector<std::string>& records) {
  switch (type) {
    case qtype::a:
    case qtype::aaaa: {
      hostent* host = nullptr;
      const int family = type == qtype::a ? AF_INET : AF_INET6;
      const int status = type == qtype::a ? ares_parse_a_reply(abuf, alen, &host, nullptr, nullptr)
                                          : ares_parse_aaaa_reply(abuf, alen, &host, nullptr, nullptr);
      if (status != ARES_SUCCESS) {
        if (host) ares_free_hostent(host);
        return status;
      }
      std::unique_ptr<hostent, void (*)(hostent*)> owned(host, ares_free_hostent);
      if (!host || host->h_addrtype != family || !host->h_addr_list) return ARES_ENODATA;
      for (char** p = host->h_addr_list; *p; ++p) {
        char text[INET6_ADDRSTRLEN] = {};
        if (inet_ntop(family, *p, text, sizeof text)) records.emplace_back(text);
      }
      return ARES_SUCCESS;
    }
    case qtype::mx: {
      ares_mx_reply* mx = nullptr;
      const int status = ares_parse_mx_reply(abuf, alen, &mx);
      if (status != ARES_SUCCESS) {
        if (mx) ares_free_data(mx);
        return status;
      }
      for (const ares_mx_reply* p = mx; p; p = p->next) records.push_back(normal_name(p->host));
      if (mx) ares_free_data(mx);
      return ARES_SUCCESS;
    }
    case qtype::ptr: {
      hostent* host = nullptr;
      const int status = ares_parse_ptr_reply(abuf, alen, nullptr, 0, AF_INET, &host);
      if (status != ARES_SUCCESS) {
        if (host) ares_free_hostent(host);
        return status;
      }
      std::unique_ptr<hostent, void (*)(hostent*)> owned(host, ares_free_hostent);
      // Every PTR record is in h_aliases, in the answer's order (h_name is the last one).
      if (host && host->h_aliases)
        for (char** p = host->h_aliases; *p; ++p) records.push_back(normal_name(*p));
      return ARES_SUCCESS;
    }
  }
  return ARES_EBADRESP;
}

struct lookup;

// One question in flight: where its answer goes.
struct question {
  lookup* owner = nullptr;
  qtype type = qtype::a;
  // -1: facts.a/aaaa/mx/ptr; otherwise facts.ptr_names[ptr_index].
  std::ptrdiff_t ptr_index = -1;
};

struct lookup {
  ares_channel channel = nullptr;
  ehlo_facts facts;
  std::size_t max_ptr_names = 0;
  std::deque<question> questions;  // stable addresses: c-ares holds pointers to them
  std::size_t open = 0;            // questions asked and not yet answered
  bool past_deadline = false;      // set before ares_cancel: a cancelled question timed out
  std::vector<pollfd> sockets;     // what c-ares wants watched (ARES_OPT_SOCK_STATE_CB)

  dns_answer& answer_for(const question& q) {
    if (q.ptr_index >= 0) {
      auto& forward = facts.ptr_names[static_cast<std::size_t>(q.ptr_index)];
      return q.type == qtype::a ? forward.a : forward.aaaa;
    }
    switch (q.type) {
      case qtype::a:
        return facts.a;
      case qtype::aaaa:
        return facts.aaaa;
      case qtype::mx:
        return facts.mx;
      case qtype::ptr:
        break;
    }
    return facts.ptr;
  }

  void ask(const std::string& name, qtype type, std::ptrdiff_t ptr_index) {
    auto& q = questions.emplace_back(question{this, type, ptr_index});
    if (!askable(name)) {
      answer_for(q).status = dns_status::error;
      return;
    }
    // RFC 1035 section 3.2.2 (A 1, PTR 12, MX 15), RFC 3596 (AAAA 28); class IN 1.
    static constexpr int types[] = {1, 28, 15, 12};
    constexpr int class_in = 1;
    ++open;
    // The callback may run before ares_query returns (a name c-ares
    // refuses, no memory): `open` is counted first.
    ares_query(channel, name.c_str(), class_in, types[static_cast<int>(type)], &lookup::answered, &q);
  }

  // The PTR answer is in: each distinct name, up to max_ptr_names, asked forward.
  void ask_forward(const std::vector<std::string>& names) {
    std::vector<std::string> distinct;
    for (const auto& n : names) {
      if (max_ptr_names != 0 && distinct.size() == max_ptr_names) break;
      if (std::find(distinct.begin(), distinct.end(), n) == distinct.end()) distinct.push_back(n);
    }
    facts.ptr_names.reserve(distinct.size());
    for (auto& n : distinct) {
      facts.ptr_names.push_back(ptr_name_facts{n, {}, {}});
      const auto index = static_cast<std::ptrdiff_t>(facts.ptr_names.size() - 1);
      ask(n, qtype::a, index);
      ask(n, qtype::aaaa, index);
    }
  }

  void on_answer(question& q, int status, unsigned char* abuf, int alen) {
    dns_answer& answer = answer_for(q);
    if (status == ARES_ECANCELLED && past_deadline) {
      answer.status = dns_status::timeout;
      return;
    }
    if (status == ARES_SUCCESS) {
      answer.records.clear();
      status = parse_records(q.type, abuf, alen, answer.records);
      if (status == ARES_SUCCESS && answer.records.empty()) status = ARES_ENODATA;
      if (status != ARES_SUCCESS) answer.records.clear();
    }
    answer.status = status_of(status);
    if (q.type == qtype::ptr && q.ptr_index < 0 && answer.status == dns_status::answered && !past_deadline)
      ask_forward(answer.records);
  }

  static void answered(void* arg, int status, int /*timeouts*/, unsigned char* abuf, int alen) noexcept {
    auto& q = *static_cast<question*>(arg);
    lookup& self = *q.owner;
    --self.open;
    try {
      self.on_answer(q, status, abuf, alen);
    } catch (...) {  // no memory: never through c-ares's C frames
      self.answer_for(q).status = dns_status::error;
    }
  }

  static void socket_state(void* data, ares_socket_t fd, int readable, int writable) noexcept {
    auto& self = *static_cast<lookup*>(data);
    const auto it =
        std::find_if(self.sockets.begin(), self.sockets.end(), [fd](const pollfd& p) { return p.fd == fd; });
    const short events = static_cast<short>((readable ? POLLIN : 0) | (writable ? POLLOUT : 0));
    if (events == 0) {
      if (it != self.sockets.end()) self.sockets.erase(it);
      return;
    }
    if (it != self.sockets.end()) {
      it->events = events;
      return;
    }
    try {
      self.sockets.push_back(pollfd{fd, events, 0});
    } catch (...) {  // no memory: the socket is not watched, its questions end by their timeout
    }
  }
};

struct channel_deleter {
  void operator()(ares_channel c) const noexcept { ares_destroy(c); }
};

int servers_in(ares_channel channel) {
  ares_addr_port_node* servers = nullptr;
  if (ares_get_servers_ports(channel, &servers) != ARES_SUCCESS) return 1;
  int n = 0;
  for (auto* p = servers; p; p = p->next) ++n;
  ares_free_data(servers);
  return std::max(n, 1);
}

// Milliseconds to wait, rounded up, so that a timer due in 0.3 ms is not a
// busy loop.
int wait_ms(clock::duration d) {
  if (d <= clock::duration::zero()) return 0;
  const auto ms = std::chrono::ceil<std::chrono::milliseconds>(d).count();
  return static_cast<int>(std::min<std::int64_t>(ms, INT_MAX));
}

void run(lookup& state, clock::time_point deadline) {
  std::vector<pollfd> ready;
  while (state.open > 0) {
    const auto now = clock::now();
    if (now >= deadline) {
      state.past_deadline = true;
      ares_cancel(state.channel);  // every open question's callback runs: timeout
      return;
    }
    auto wait = deadline - now;
    timeval tv{};
    if (const timeval* next = ares_timeout(state.channel, nullptr, &tv)) {
      const auto ares_wait = std::chrono::seconds(next->tv_sec) + std::chrono::microseconds(next->tv_usec);
      wait = std::min<clock::duration>(wait, ares_wait);
    }
    ready = state.sockets;  // c-ares changes the set while it processes
    for (auto& p : ready) p.revents = 0;
    const int n = ::poll(ready.data(), static_cast<nfds_t>(ready.size()), wait_ms(wait));
    if (n < 0 && errno != EINTR) {
      // poll() itself failed (no memory for its set): give up as at the deadline.
      state.past_deadline = true;
      ares_cancel(state.channel);
      return;
    }
    bool processed = false;
    if (n > 0) {
      for (const auto& p : ready) {
        if (p.revents == 0) continue;
        const bool readable = (p.revents & (POLLIN | POLLERR | POLLHUP)) != 0;
        const bool writable = (p.revents & (POLLOUT | POLLERR | POLLHUP)) != 0;
        ares_process_fd(state.channel, readable ? p.fd : ARES_SOCKET_BAD, writable ? p.fd : ARES_SOCKET_BAD);
        processed = true;
      }
    }
    if (!processed) ares_process_fd(state.channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);  // timeouts
  }
}

}  // namespace

driver_result<ehlo_facts> gather_ehlo_facts(std::string_view name, std::string_view client_ip,
                                            const ehlo_resolver_options& options) {
  std::optional<server_address> server;
  if (!options.server.empty()) {
    server = parse_server(options.server);
    if (!server)
      return resolve_error("DNS server \"" + options.server +
                               "\" is not an address with an optional port (HOST:PORT, [IPv6]:PORT)",
                           std::make_error_code(std::errc::invalid_argument));
  }
  std::optional<std::string> reverse;
  if (!client_ip.empty()) {
    reverse = reverse_name(client_ip);
    if (!reverse)
      return resolve_error("client address \"" + std::string(client_ip) + "\" is not an IPv4 or IPv6 address",
                           std::make_error_code(std::errc::invalid_argument));
  }
  if (const int status = library_status(); status != ARES_SUCCESS)
    return resolve_error(std::string("c-ares could not start: ") + ares_strerror(status));

  lookup state;
  state.facts.client_ip = std::string(client_ip);
  state.max_ptr_names = options.max_ptr_names;
  state.sockets.reserve(8);

  const auto per_try =
      std::clamp<std::chrono::milliseconds::rep>(options.timeout.count(), 1, std::numeric_limits<int>::max());
  const int tries = std::max(options.tries, 1);
  ares_options ao{};
  // NOSEARCH, NOALIASES: the exact name, never the search list or
  // HOSTALIASES. NOCHECKRESP: a SERVFAIL or REFUSED answer is reported as
  // such. Without it c-ares 1.18 drops that answer and tries again, and with
  // one server ends the question with ARES_ECONNREFUSED (an error): the
  // knot tests see exactly that without the flag.
  ao.flags = ARES_FLAG_NOSEARCH | ARES_FLAG_NOALIASES | ARES_FLAG_NOCHECKRESP;
  ao.timeout = static_cast<int>(per_try);
  ao.tries = tries;
  ao.sock_state_cb = &lookup::socket_state;
  ao.sock_state_cb_data = &state;
  char lookups[] = "b";  // DNS only, never /etc/hosts
  ao.lookups = lookups;
  const int mask =
      ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_SOCK_STATE_CB | ARES_OPT_LOOKUPS;
  ares_channel raw = nullptr;
  if (const int status = ares_init_options(&raw, &ao, mask); status != ARES_SUCCESS) {
    if (raw) ares_destroy(raw);
    return resolve_error(std::string("c-ares could not set up a channel: ") + ares_strerror(status));
  }
  const std::unique_ptr<std::remove_pointer_t<ares_channel>, channel_deleter> channel(raw);
  state.channel = raw;

  if (server) {
    ares_addr_port_node node{};
    node.family = server->family;
    if (server->family == AF_INET)
      std::memcpy(&node.addr.addr4, server->octets.data(), 4);
    else
      std::memcpy(&node.addr.addr6, server->octets.data(), 16);
    node.udp_port = server->port;
    node.tcp_port = server->port;
    if (const int status = ares_set_servers_ports(raw, &node); status != ARES_SUCCESS)
      return resolve_error("c-ares refused the DNS server \"" + options.server +
                           "\": " + ares_strerror(status));
  }

  // Each try on each server, and the slack to notice the last one ended.
  const std::int64_t rounds = std::int64_t{tries} * servers_in(raw);
  constexpr std::int64_t max_ms = std::int64_t{1} << 40;  // 35 years: no overflow below
  const auto total_ms = per_try > max_ms / rounds ? max_ms : per_try * rounds;
  const auto deadline = clock::now() + std::chrono::milliseconds(total_ms) + deadline_slack;

  if (is_domain(name)) {
    const std::string text(name);
    state.ask(text, qtype::a, -1);
    state.ask(text, qtype::aaaa, -1);
    state.ask(text, qtype::mx, -1);
  }
  if (reverse) state.ask(*reverse, qtype::ptr, -1);
  run(state, deadline);
  // Destroying the channel while no question is open runs no callback.
  return std::move(state.facts);
}

}  // namespace sansmtp::drivers
