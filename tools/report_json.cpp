#include "report_json.hpp"

#include <sansmtp/core/display.hpp>

#include <fmt/format.h>

#include <cstdint>

namespace sansmtp::cli {

nlohmann::ordered_json report_to_json(const ehlo_report& report) {
  nlohmann::ordered_json j;
  j["name"] = report.name;
  const auto escaped = escape_for_display(report.name);
  // The display form differs from the name only for control bytes, "\" and
  // invalid UTF-8; JSON escapes the first two itself, so add it for the last.
  if (escaped.find("\\x") != std::string::npos || escaped.find("\\\\") != std::string::npos)
    j["name_escaped"] = escaped;
  j["syntax_valid"] = report.syntax_valid;
  j["kind"] = report.kind ? nlohmann::ordered_json(std::string(host_kind_name(*report.kind)))
                          : nlohmann::ordered_json(nullptr);
  j["verdict"] = std::string(verdict_name(report.result));
  auto& findings = j["findings"] = nlohmann::ordered_json::array();
  for (const auto& f : report.findings) {
    nlohmann::ordered_json o;
    o["code"] = std::string(ehlo_check_code_name(f.code));
    o["severity"] = std::string(severity_name(f.level));
    o["message"] = f.message;
    if (!f.suggestion.empty()) o["suggestion"] = f.suggestion;
    findings.push_back(std::move(o));
  }
  return j;
}

std::string dump_line(const nlohmann::ordered_json& j) {
  const auto dumped = j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  // nlohmann escapes C0 controls only; DEL, C1 and bidirectional controls
  // (escape_json_for_display) would reach a terminal raw when the output
  // is read there. Written as \uXXXX they parse back to the exact string
  // (RFC 8259 section 7). Outside strings JSON text is ASCII, and the dump
  // is valid UTF-8 (bad octets became U+FFFD), so each sequence is whole.
  return escape_json_for_display(dumped);
}

}  // namespace sansmtp::cli
