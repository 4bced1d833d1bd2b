// What `sansmtp send` and `sansmtp probe` share: the server argument, the
// EHLO name (given, or default_ehlo_name()), the progress lines shown on a
// terminal, and replies shown safely.
#pragma once

#include "commands.hpp"

#include <sansmtp/core/display.hpp>
#include <sansmtp/session/client.hpp>
#include <sansmtp/syntax/ehlo_check.hpp>
#include <sansmtp/codec/proxy_header.hpp>
#include <sansmtp/codec/reply_reader.hpp>
#include <sansmtp/syntax/ehlo_argument.hpp>
#include <sansmtp/syntax/reply.hpp>

#include <fmt/format.h>

#include <unistd.h>

#include <charconv>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sansmtp::cli {

struct server_address {
  std::string host;  // no brackets
  std::string port;
  bool implicit_tls = false;  // smtps:// (RFC 8314 §3)
};

// HOST, HOST:PORT, [IPV6] or [IPV6]:PORT; PORT 1-65535 (default 25), after
// an optional scheme: smtp:// (the same), or smtps:// (RFC 8314 §3: TLS
// from the first octet, port 465 by default). nullopt with `why` set when
// the text is none of these.
inline std::optional<server_address> parse_server(std::string_view text, std::string& why) {
  server_address a{{}, "25"};
  const auto scheme = [&](std::string_view name) {
    if (text.size() < name.size()) return false;
    for (std::size_t i = 0; i < name.size(); ++i)
      if ((text[i] | 0x20) != name[i] && text[i] != name[i]) return false;
    text.remove_prefix(name.size());
    return true;
  };
  if (scheme("smtps://")) {
    a.implicit_tls = true;
    a.port = "465";
  } else {
    (void)scheme("smtp://");
  }
  std::string_view port;
  if (text.starts_with('[')) {
    const auto close = text.find(']');
    if (close == text.npos) {
      why = "an IPv6 address opened with '[' must close with ']'";
      return std::nullopt;
    }
    a.host = std::string(text.substr(1, close - 1));
    const auto rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (!rest.starts_with(':')) {
        why = "only ':PORT' may follow ']'";
        return std::nullopt;
      }
      port = rest.substr(1);
      if (port.empty()) {
        why = "the port after ':' is empty";
        return std::nullopt;
      }
    }
  } else if (const auto colon = text.find(':'); colon != text.npos && text.find(':', colon + 1) == text.npos) {
    a.host = std::string(text.substr(0, colon));
    port = text.substr(colon + 1);
    if (port.empty()) {
      why = "the port after ':' is empty";
      return std::nullopt;
    }
  } else {
    a.host = std::string(text);  // a name, an IPv4 address or a bare IPv6 address
  }
  if (a.host.empty()) {
    why = "the host is empty";
    return std::nullopt;
  }
  for (const unsigned char c : a.host)
    if (c <= ' ' || c == 0x7f || c == '/' || c == '[' || c == ']') {
      why = "the host holds a character no host name or address has";
      return std::nullopt;
    }
  if (!port.empty()) {
    unsigned value = 0;
    const auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || p != port.data() + port.size() || value == 0 || value > 65535) {
      why = "the port must be a number from 1 to 65535";
      return std::nullopt;
    }
    a.port = std::to_string(value);
  }
  return a;
}

// --proxy-protocol v1|v2 and --proxy-source ADDR:PORT: the PROXY header a
// client driver sends first (as a load balancer would). Empty version: none.
// The source defaults to the connection's own address.
inline bool proxy_option(const std::string& version, const std::string& source, std::optional<proxy_header>& out,
                         std::string& why) {
  if (version.empty()) {
    if (!source.empty()) why = "--proxy-source needs --proxy-protocol";
    return source.empty();
  }
  proxy_header h;
  h.version = version == "v1" ? proxy_version::v1 : proxy_version::v2;
  h.command = proxy_command::proxy;
  if (!source.empty()) {
    const auto a = parse_server(source, why);
    if (!a) {
      why = "--proxy-source: " + why;
      return false;
    }
    if (!parse::ipv4_address(a->host) && !parse::ipv6_address(a->host)) {
      why = "--proxy-source: '" + escape_for_display(a->host) + "' is not an IPv4 or IPv6 address";
      return false;
    }
    h.source_address = a->host;
    h.source_port = static_cast<std::uint16_t>(std::stoul(a->port));
  }
  out = std::move(h);
  return true;
}

// CLI11 2.1 reads "[10.0.0.1]" as a list and strips the brackets (main.cpp):
// --ehlo's value is taken out of the words before CLI11 sees them. False
// with `why` set when --ehlo has no value or comes twice.
inline bool take_ehlo_option(std::vector<std::string>& words, std::optional<std::string>& ehlo, std::string& why) {
  for (std::size_t i = 0; i < words.size();) {
    const std::string_view w = words[i];
    if (w == "--") break;
    if (w == "--ehlo" || w.starts_with("--ehlo=")) {
      if (ehlo) {
        why = "--ehlo given twice";
        return false;
      }
      if (w == "--ehlo") {
        if (i + 1 == words.size()) {
          why = "--ehlo needs a value";
          return false;
        }
        ehlo = words[i + 1];
        words.erase(words.begin() + static_cast<std::ptrdiff_t>(i), words.begin() + static_cast<std::ptrdiff_t>(i) + 2);
      } else {
        ehlo = std::string(w.substr(7));
        words.erase(words.begin() + static_cast<std::ptrdiff_t>(i));
      }
      continue;
    }
    ++i;
  }
  return true;
}

// One line per step, only when stdout is a terminal (and not --json).
class progress {
 public:
  explicit progress(bool json) : on_(!json && isatty(STDOUT_FILENO)) {}
  bool on() const noexcept { return on_; }
  template <typename... T>
  void line(fmt::format_string<T...> f, T&&... values) {
    if (!on_) return;
    fmt::print("{}\n", fmt::format(f, std::forward<T>(values)...));
    std::fflush(stdout);
  }

 private:
  bool on_;
};

// The reply's lines joined with " / ", each escaped for display.
inline std::string reply_display(const reply& r) {
  std::string text = std::to_string(r.code);
  for (std::size_t i = 0; i < r.lines.size(); ++i) {
    text += i ? " / " : " ";
    text += escape_for_display(r.lines[i]);
  }
  return text;
}

// Just the first line: "250 2.1.0 Ok".
inline std::string reply_first_line(const reply& r) {
  std::string text = std::to_string(r.code);
  if (!r.lines.empty()) text += " " + escape_for_display(r.lines.front());
  if (r.lines.size() > 1) text += fmt::format(" (+{} lines)", r.lines.size() - 1);
  return text;
}

// A recipient's deciding reply text split into its ESC and the rest
// (RFC 2034 §4), for display and JSON.
struct split_text {
  std::optional<std::string> enhanced;
  std::string text;
};
inline split_text split_enhanced(int code, std::string_view text) {
  split_text out;
  if (const auto esc = parse::enhanced_status_at(text, code)) {
    out.enhanced = to_string(esc->status);
    out.text = std::string(strip_enhanced_status(text, code));
  } else {
    out.text = std::string(text);
  }
  return out;
}

}  // namespace sansmtp::cli
