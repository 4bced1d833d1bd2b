#include <sansmtp/errc.hpp>

#include <string>

namespace sansmtp {
namespace {

struct entry {
  std::string_view name;
  std::string_view message;
};

// Indexed by errc; names are stable API (JSON output, logs).
constexpr entry entries[] = {
    {"ok", "no error"},
    {"empty_argument", "the argument is empty"},
    {"invalid_character", "a character that is not allowed here"},
    {"empty_label", "an empty label (\"..\" or a leading \".\")"},
    {"trailing_dot", "a trailing dot: SMTP domains are written without the root dot"},
    {"label_hyphen", "a label starts or ends with a hyphen"},
    {"label_too_long", "a label is longer than 63 octets (RFC 1035 section 2.3.4)"},
    {"domain_too_long", "the domain is longer than 255 octets (RFC 5321 section 4.5.3.1.2)"},
    {"bad_ipv4_literal", "not an IPv4 address literal (four numbers 0-255)"},
    {"bad_ipv6_literal", "not an IPv6 address literal (RFC 5321 section 4.1.3)"},
    {"bad_address_literal", "not an address literal (RFC 5321 section 4.1.3)"},
    {"unterminated_literal", "an address literal without its closing \"]\""},
    {"trailing_characters", "characters after the closing \"]\""},
    {"bare_lf", "a line feed not preceded by a carriage return (RFC 5321 section 2.3.8)"},
    {"bare_cr", "a carriage return not followed by a line feed (RFC 5321 section 2.3.8)"},
    {"line_too_long", "a text line longer than the limit (RFC 5321 section 4.5.3.1.6)"},
    {"bad_reply_code", "not a reply code: three digits 2-5, 0-5, 0-9 (RFC 5321 section 4.2)"},
    {"bad_reply_separator", "the reply code is not followed by a space, \"-\" or the line end"},
    {"reply_code_mismatch", "a line of a multiline reply carries a different code (RFC 5321 section 4.2.1)"},
    {"control_character", "a control character in reply text (only HT is allowed, RFC 5321 section 4.2)"},
    {"non_ascii", "a byte that is not US-ASCII in reply text"},
    {"bad_utf8", "reply text that is not valid UTF-8"},
    {"reply_line_too_long", "a reply line longer than the limit (RFC 5321 section 4.5.3.1.5)"},
    {"too_many_reply_lines", "a reply with more lines than the limit"},
    {"incomplete", "the input ended inside a reply"},
    {"bad_enhanced_status", "not an enhanced status code of the reply's class (RFC 3463 section 2)"},
};

class category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "sansmtp"; }
  std::string message(int value) const override {
    if (value < 0 || static_cast<std::size_t>(value) >= std::size(entries)) return "unknown error";
    return std::string(entries[value].message);
  }
};

}  // namespace

const std::error_category& error_category() noexcept {
  static const category instance;
  return instance;
}

std::string_view errc_name(errc e) noexcept {
  const auto i = static_cast<std::size_t>(e);
  return i < std::size(entries) ? entries[i].name : std::string_view("unknown");
}

}  // namespace sansmtp
