// The kinds behind `sansmtp parse KIND`: each takes the arguments after KIND.
#pragma once

#include "commands.hpp"

namespace sansmtp::cli {

int run_parse_command(args a);
int run_parse_reply(args a);
int run_parse_ehlo(args a);

}  // namespace sansmtp::cli
