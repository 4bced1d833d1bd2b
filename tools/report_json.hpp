#pragma once

#include <sansmtp/ehlo_check.hpp>

#include <nlohmann/json.hpp>

#include <string>

namespace sansmtp::cli {

// {"name", "syntax_valid", "kind", "verdict", "findings": [...]} as the README
// documents it.
nlohmann::ordered_json report_to_json(const ehlo_report& report);

// One line of JSON; bytes that are not UTF-8 become U+FFFD (the JSON then also
// carries a lossless "name_escaped"), and control code points (DEL, C1,
// bidirectional controls) are written \uXXXX, so the line is safe on a
// terminal and still parses to the exact strings.
std::string dump_line(const nlohmann::ordered_json& j);

}  // namespace sansmtp::cli
