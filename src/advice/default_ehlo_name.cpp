// The EHLO name this host should send, and what popular clients send here.
// The only part of sansmtp that asks the operating system anything.
#include <sansmtp/advice/host_name.hpp>
#include <sansmtp/core/display.hpp>

#include <fmt/format.h>

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <climits>
#include <cstring>

namespace sansmtp {

std::string system_hostname() {
  char buf[HOST_NAME_MAX + 1] = {};
  if (gethostname(buf, sizeof buf - 1) != 0) return {};
  return buf;
}

std::string canonical_hostname(std::string_view host) {
  if (host.empty()) return {};
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_flags = AI_CANONNAME;
  addrinfo* res = nullptr;
  if (getaddrinfo(std::string(host).c_str(), nullptr, &hints, &res) != 0 || !res) return {};
  std::string out = res->ai_canonname ? res->ai_canonname : "";
  freeaddrinfo(res);
  return out;
}

default_ehlo_name_result choose_ehlo_name(std::string_view hostname, std::string_view canonical,
                                          const ehlo_check_options& options) {
  default_ehlo_name_result result;
  result.hostname = std::string(hostname);
  result.canonical = std::string(canonical);
  const std::pair<std::string_view, std::string_view> candidates[] = {{"canonical name", canonical},
                                                                      {"host name", hostname}};
  for (const auto& [what, candidate] : candidates) {
    if (candidate.empty()) {
      result.reasons.push_back(fmt::format("no {} is known", what));
      continue;
    }
    auto report = check_ehlo_name(candidate, options);
    if (report.result != verdict::fail) {
      result.name = std::string(candidate);
      result.report = std::move(report);
      return result;
    }
    for (const auto& f : report.findings)
      if (f.level == severity::fail)
        result.reasons.push_back(
            fmt::format("{} \"{}\": {}", what, escape_for_display(candidate), f.message));
  }
  return result;
}

default_ehlo_name_result default_ehlo_name(const ehlo_check_options& options) {
  const auto host = system_hostname();
  return choose_ehlo_name(host, canonical_hostname(host), options);
}

namespace {

// JavaScript's /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/ (no range check).
bool is_js_dotted_quad(std::string_view s) noexcept {
  int parts = 0;
  std::size_t digits = 0;
  for (char c : s) {
    if (c >= '0' && c <= '9') {
      if (++digits > 3) return false;
    } else if (c == '.' && digits > 0 && parts < 3) {
      ++parts;
      digits = 0;
    } else {
      return false;
    }
  }
  return parts == 3 && digits > 0;
}

}  // namespace

std::string nodemailer_default_name(std::string_view hostname) {
  // SMTPConnection._getHostname(): no dot -> "[127.0.0.1]"; /^\d{1,3}(\.\d{1,3}){3}$/ -> brackets.
  if (hostname.find('.') == std::string_view::npos) return "[127.0.0.1]";
  const std::string name(hostname);
  return is_js_dotted_quad(name) ? "[" + name + "]" : name;
}

namespace {

// CPython's socket.gethostbyaddr(name): resolve the name (getaddrinfo,
// AF_UNSPEC, first answer), then gethostbyaddr_r on that address; returns the
// official name followed by the aliases, or nothing when either step fails.
std::vector<std::string> python_gethostbyaddr(const std::string& name) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  addrinfo* res = nullptr;
  if (getaddrinfo(name.c_str(), nullptr, &hints, &res) != 0 || !res) return {};
  const void* addr = nullptr;
  socklen_t len = 0;
  const int family = res->ai_family;
  if (family == AF_INET) {
    addr = &reinterpret_cast<sockaddr_in*>(res->ai_addr)->sin_addr;
    len = sizeof(in_addr);
  } else if (family == AF_INET6) {
    addr = &reinterpret_cast<sockaddr_in6*>(res->ai_addr)->sin6_addr;
    len = sizeof(in6_addr);
  }
  std::vector<std::string> names;
  if (addr) {
    hostent he{}, *result = nullptr;
    std::vector<char> buf(16384);
    int err = 0;
    if (gethostbyaddr_r(addr, len, family, &he, buf.data(), buf.size(), &result, &err) == 0 && result) {
      names.emplace_back(result->h_name);
      for (char** a = result->h_aliases; a && *a; ++a) names.emplace_back(*a);
    }
  }
  freeaddrinfo(res);
  return names;
}

}  // namespace

std::string python_getfqdn() {
  // socket.getfqdn(''): gethostname(), then the first of (official name,
  // aliases...) holding a dot, else the official name.
  const auto host = system_hostname();
  const auto names = python_gethostbyaddr(host);
  if (names.empty()) return host;
  for (const auto& n : names)
    if (n.find('.') != std::string::npos) return n;
  return names.front();
}

std::string python_smtplib_default_name() {
  const auto fqdn = python_getfqdn();
  if (fqdn.find('.') != std::string::npos) return fqdn;
  // socket.gethostbyname(socket.gethostname()): IPv4 only.
  std::string addr = "127.0.0.1";
  addrinfo hints{};
  hints.ai_family = AF_INET;
  addrinfo* res = nullptr;
  if (getaddrinfo(system_hostname().c_str(), nullptr, &hints, &res) == 0 && res) {
    char text[INET_ADDRSTRLEN] = {};
    if (inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(res->ai_addr)->sin_addr, text, sizeof text))
      addr = text;
    freeaddrinfo(res);
  }
  return "[" + addr + "]";
}

}  // namespace sansmtp
