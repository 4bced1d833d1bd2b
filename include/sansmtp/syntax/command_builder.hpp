// Owning commands built from values: what a client sends. A parsed command
// (command.hpp) is a set of views into a line; these own that line, so no
// field can dangle ("path.local_part = quote_local_part(x)" is the trap this
// replaces), and every value is checked where it is given: a builder
// formats the line, parses it back under the same options, and hands out
// the parsed command, or says which field was refused and why.
//
//   ```cpp
//   // MAIL FROM:<bob@example.org> SIZE=1024 BODY=8BITMIME, ready to send.
//   std::string mail_line() {
//     sansmtp::esmtp_param_writer params;
//     params.size(1024).body(sansmtp::body_type::eight_bit_mime);
//     const auto mail = sansmtp::make_mail("bob@example.org", params);
//     if (!mail) return std::string(mail.error().field) + ": " + std::string(mail.error().name());
//     return std::string(mail->line());
//   }
//   ```
//
// Lifetime rule: an owned_command is a value. Its views (command()) stay
// valid as long as any copy of it lives; copies share the immutable line.
#pragma once

#include <sansmtp/syntax/command.hpp>
#include <sansmtp/syntax/ehlo_argument.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace sansmtp {
namespace detail {
struct owned_command_access;
}

// A command and the line it came from, CRLF included.
class owned_command {
 public:
  const sansmtp::command& command() const noexcept { return command_; }
  const sansmtp::command& operator*() const noexcept { return command_; }
  const sansmtp::command* operator->() const noexcept { return &command_; }
  // The wire form, CRLF included; command()'s views point into it.
  std::string_view line() const noexcept { return *line_; }

  friend bool operator==(const owned_command& a, const owned_command& b) { return a.line() == b.line(); }

 private:
  friend struct detail::owned_command_access;
  owned_command(std::shared_ptr<const std::string> line, sansmtp::command parsed) noexcept
      : line_(std::move(line)), command_(std::move(parsed)) {}

  std::shared_ptr<const std::string> line_;
  sansmtp::command command_;
};

using build_result = parse_result<owned_command, build_error>;

// Any command, parsed or assembled by hand, as an owning value: the same
// checks as serialize().
build_result make_command(const command& c, const command_options& options = {});

// RFC 5321 §4.1.1.1 / RFC 2033: the argument is a Domain or an address
// literal ("[192.0.2.1]"), as it will be sent. Field "host".
build_result make_ehlo(std::string_view host, const command_options& options = {});
build_result make_helo(std::string_view host, const command_options& options = {});
build_result make_lhlo(std::string_view host, const command_options& options = {});

// RFC 5321 §4.1.1.2-3: the mailbox as it goes between the angle brackets
// ("bob@example.org", "\"john smith\"@example.org"; mailbox_text() quotes a
// local part for you); "" is the null reverse-path, "Postmaster" (RCPT) the
// postmaster. Fields "reverse_path" / "forward_path" and "params" (the
// writer's own error, or the parameter text the parser refused).
build_result make_mail(std::string_view reverse_path, const esmtp_param_writer& params = {},
                       const command_options& options = {});
build_result make_rcpt(std::string_view forward_path, const esmtp_param_writer& params = {},
                       const command_options& options = {});

// A local part (any value: quoted when it is no Dot-string) and a domain,
// as a mailbox for make_mail/make_rcpt.
std::string mailbox_text(std::string_view local_part, std::string_view domain);

build_result make_data();
build_result make_bdat(std::uint64_t size, bool last);  // RFC 3030 §2
build_result make_rset();
build_result make_quit();
build_result make_starttls();  // RFC 3207 §4
// RFC 5321 §4.1.1.6-9: a String (Atom or Quoted-string) as sent. Field "argument".
build_result make_vrfy(std::string_view argument, const command_options& options = {});
build_result make_expn(std::string_view argument, const command_options& options = {});
build_result make_help(std::optional<std::string_view> argument = std::nullopt, const command_options& options = {});
build_result make_noop(std::optional<std::string_view> argument = std::nullopt, const command_options& options = {});
// RFC 4954 §4: mechanism (field "mechanism") and the initial response as
// base64, "=" for an empty one (field "initial_response").
build_result make_auth(std::string_view mechanism, std::optional<std::string_view> initial_response = std::nullopt);

}  // namespace sansmtp
