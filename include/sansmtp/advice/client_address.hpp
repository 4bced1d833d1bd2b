// The client address a server says it sees. Behind NAT, a load balancer or
// in a Kubernetes pod it is not the host's own, and it is the one receivers
// compare the EHLO name with. Many servers echo it in the first line of
// their EHLO reply (RFC 5321 section 4.1.1.1 leaves that text free):
//   Exim       250-mx.example.org Hello client.example [203.0.113.5]
//   Sendmail   250-mx.example.org Hello client.example [203.0.113.5], pleased to meet you
//   OpenSMTPD  250-mx.example.org Hello client.example [203.0.113.5], pleased to meet you
//   Gmail      250-mx.google.com at your service, [203.0.113.5]
//   Exchange   250-mx.example.org Hello [203.0.113.5]
// Postfix and aiosmtpd do not; `sansmtp serve --listen` does, as Exim. A few
// put it in the greeting instead; the same function reads a 220 greeting.
#pragma once

#include <sansmtp/syntax/reply.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace sansmtp {

// The address in brackets in the text after the server's own name (the
// first word) of the reply's first line, in text form ("203.0.113.5",
// "2001:db8::5"; an "IPv6:" tag is dropped). When the client sent an
// address literal as its EHLO name and the server echoes that too
// ("Hello [10.42.0.17] [203.0.113.5]"), the echo of the name is not taken
// for the address seen: a line whose only bracketed address is the name
// gives nullopt. nullopt when no address is echoed.
[[nodiscard]] std::optional<std::string> echoed_client_address(const reply& r, std::string_view ehlo_name = {});

}  // namespace sansmtp
