// sansmtp: RFC 5321 SMTP without I/O. Umbrella header: every public header
// of the library, layer by layer (docs/design.md, "Layout"). The Asio
// drivers are a library of their own: <sansmtp/asio/...>, sansmtp::asio.
#pragma once

#include <sansmtp/core/base64.hpp>
#include <sansmtp/core/display.hpp>
#include <sansmtp/core/errc.hpp>
#include <sansmtp/core/result.hpp>
#include <sansmtp/core/small_vector.hpp>

#include <sansmtp/syntax/answered_command.hpp>
#include <sansmtp/syntax/capabilities.hpp>
#include <sansmtp/syntax/command.hpp>
#include <sansmtp/syntax/command_builder.hpp>
#include <sansmtp/syntax/ehlo_argument.hpp>
#include <sansmtp/syntax/ehlo_check.hpp>
#include <sansmtp/syntax/reply.hpp>
#include <sansmtp/syntax/sasl.hpp>

#include <sansmtp/codec/data.hpp>
#include <sansmtp/codec/output_queue.hpp>
#include <sansmtp/codec/reply_reader.hpp>

#include <sansmtp/session/client.hpp>
#include <sansmtp/session/server.hpp>
#include <sansmtp/session/session.hpp>

#include <sansmtp/advice/client_address.hpp>
#include <sansmtp/advice/describe.hpp>
#include <sansmtp/advice/diagnose.hpp>
#include <sansmtp/advice/ehlo_dns.hpp>
#include <sansmtp/advice/ehlo_facts.hpp>
#include <sansmtp/advice/host_name.hpp>
#include <sansmtp/advice/receivers.hpp>
