// ehlo-check --resolve and probe --resolve: the facts a name is checked
// with (looked up, or only the client address), the check, the receiver
// predictions, and their JSON and text forms.
#pragma once

#include <sansmtp/advice/ehlo_dns.hpp>
#include <sansmtp/advice/receivers.hpp>

#include <nlohmann/json.hpp>

#include <chrono>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace sansmtp::cli {

// EX_TEMPFAIL: DNS itself failed (the resolver could not start, or no
// question got an answer), so the verdict says nothing about the name.
inline constexpr int exit_dns_failed = 75;

struct resolve_settings {
  bool resolve = false;         // look the name and the client address up
  std::string client_ip;        // empty: unknown
  std::string dns_server;       // empty: the system's (/etc/resolv.conf)
  std::chrono::milliseconds dns_timeout{5000};  // the whole lookup's
  std::vector<receiver> receivers;  // empty: none asked for
  // Whether any of the above asks for more than the plain check.
  bool any() const { return resolve || !client_ip.empty() || !receivers.empty(); }
};

struct resolved_check {
  ehlo_report report;
  ehlo_facts facts;
  std::vector<receiver_prediction> predictions;
  std::optional<std::string> dns_error;  // the resolver could not run, or nothing answered
};

// The settings' options, parsed: --resolve, --client-ip ADDR,
// --dns-server HOST:PORT, --dns-timeout SECONDS, --receiver NAME[,NAME...]|all.
// Returns false with `why` on a bad value; `i` advances past a value taken.
// `arg` that is none of them leaves `taken` false.
bool take_resolve_option(std::span<char* const> argv, std::size_t& i, resolve_settings& s, bool& taken,
                         std::string& why);

// One of the valued options above ("--client-ip", ...) with its value.
bool set_resolve_option(std::string_view option, std::string_view value, resolve_settings& s, std::string& why);

resolved_check check_resolved(const std::string& name, const resolve_settings& s, const ehlo_check_options& options);

// "client_ip", "dns", "skipped", "receivers", appended to a report's JSON.
void add_resolved_json(nlohmann::ordered_json& j, const resolved_check& r, const resolve_settings& s);

// The same for a person: DNS answers, skipped checks, one line per receiver.
void print_resolved(const resolved_check& r, const resolve_settings& s);

// The usage lines of those options.
extern const std::string_view resolve_usage;

}  // namespace sansmtp::cli
