// Text from a peer, made safe to show to a person: on a terminal, in a log,
// in JSON that a terminal may print.
#pragma once

#include <string>
#include <string_view>

namespace sansmtp {

// The text with every byte that is not printable ASCII or part of valid UTF-8
// written as \xNN (and "\" as "\\"): safe to show on a terminal or in a log,
// so a name carrying CR, LF or NUL is never echoed raw. Control code points
// in valid UTF-8 are escaped the same way, octet by octet: the C1 controls
// U+0080-U+009F (U+009B is CSI, a terminal escape) and the bidirectional
// formatting characters U+061C, U+200E, U+200F, U+202A-U+202E and
// U+2066-U+2069 (they reorder the text shown around them). Any other valid
// UTF-8 stays as it is.
std::string escape_for_display(std::string_view text);

// A JSON text with every code point that escape_for_display would escape
// inside a string (DEL, C1, the bidirectional controls; C0 controls are
// escaped by any JSON writer already) written as \uXXXX, which parses back to
// the same string (RFC 8259 §7). `json` must be valid UTF-8 (a JSON writer
// that replaced bad octets with U+FFFD gives that); outside strings JSON text
// is ASCII, so only strings change.
std::string escape_json_for_display(std::string_view json);

}  // namespace sansmtp
