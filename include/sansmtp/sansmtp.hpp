// sansmtp: RFC 5321 SMTP without I/O. Umbrella header.
#pragma once

#include <sansmtp/capabilities.hpp>
#include <sansmtp/client.hpp>
#include <sansmtp/command.hpp>
#include <sansmtp/command_builder.hpp>
#include <sansmtp/data.hpp>
#include <sansmtp/diagnose.hpp>
#include <sansmtp/ehlo_check.hpp>
#include <sansmtp/errc.hpp>
#include <sansmtp/host_name.hpp>
#include <sansmtp/parse.hpp>
#include <sansmtp/reply.hpp>
#include <sansmtp/server.hpp>
#include <sansmtp/session.hpp>
