#pragma once

#include <sansmtp/syntax/ehlo_check.hpp>

#include <nlohmann/json.hpp>

#include <string>

namespace sansmtp::cli {

// {"name", "syntax_valid", "kind", "verdict", "findings": [...]} as docs/cli.md
// documents it.
nlohmann::ordered_json report_to_json(const ehlo_report& report);

// One line of JSON; bytes that are not UTF-8 become U+FFFD (the JSON then also
// carries a lossless "name_escaped"), and control code points (DEL, C1,
// bidirectional controls) are written \uXXXX, so the line is safe on a
// terminal and still parses to the exact strings.
std::string dump_line(const nlohmann::ordered_json& j);

// Appends a key the caller knows is new to a JSON object, in constant time.
// ordered_json's operator[] searches the keys one by one: with a peer
// choosing how many keys there are (20000 ESMTP parameters, 12000 EHLO
// keywords), that lookup made the CLI quadratic.
inline void append_new_key(nlohmann::ordered_json& object, std::string key, nlohmann::ordered_json value) {
  auto& entries = static_cast<nlohmann::ordered_json::object_t::Container&>(
      object.get_ref<nlohmann::ordered_json::object_t&>());
  entries.emplace_back(std::move(key), std::move(value));
}

}  // namespace sansmtp::cli
