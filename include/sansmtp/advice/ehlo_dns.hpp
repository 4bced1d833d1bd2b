// The EHLO-name check with what receivers look up: the name's DNS records,
// the client address's PTR and whether it is forward-confirmed, and the
// address the server sees. Pure: the facts come in as data
// (advice/ehlo_facts.hpp), gathered by sansmtp::drivers::gather_ehlo_facts
// or by the caller.
#pragma once

#include <sansmtp/advice/ehlo_facts.hpp>
#include <sansmtp/syntax/ehlo_check.hpp>

#include <string_view>

namespace sansmtp {

// check_ehlo_name(name, options) (the syntax, the names and the address
// ranges), then from the facts:
//   - for a domain: nxdomain, no-a-or-mx, no-address, dns-temporary-failure,
//     forward-mismatch (its addresses do not include the client's);
//   - for an address literal: literal-mismatch (not the client's address);
//   - for the client address: ptr-missing, ptr-mismatch (the name is not
//     one of its PTR names), fcrdns-fail (no PTR name resolves back to it),
//     dynamic-looking (the name or a PTR name embeds the client address).
// A check whose facts are missing (no client_ip; a question not asked) is
// listed in `skipped` with the reason, never passed silently. Each
// finding's message says which receivers check it and what they answer.
[[nodiscard]] ehlo_report check_ehlo_name(std::string_view name, const ehlo_facts& facts,
                                          const ehlo_check_options& options = {});

}  // namespace sansmtp
