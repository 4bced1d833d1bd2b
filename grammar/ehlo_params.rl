// Ragel machine for the parameters of the known EHLO keywords whose
// parameters have a grammar, one word (one ehlo-param) at a time:
//
//   SIZE           RFC 1870 §4:  size-param = [1*DIGIT]
//   AUTH           RFC 4954 §3:  1*(SP sasl-mech); RFC 4422 §3.1:
//                                sasl-mech = 1*20mech-char,
//                                mech-char = UPPER-ALPHA / DIGIT / "-" / "_"
//   LIMITS         RFC 9422 §3:  limit-name-value = limit-name ["=" limit-value]
//                                limit-name  = 1*(ALPHA / DIGIT / "-" / "_")
//                                limit-value = 1*(%x21-3A / %x3C-7E)
//                  RFC 9422 §4:  MAILMAX, RCPTMAX and RCPTDOMAINMAX take
//                                %x31-39 0*5DIGIT (1 to 999999)
//   DELIVERBY      RFC 2852 §4:  deliverby-param = min-by-time *("," extension-token)
//                                min-by-time = [1*9DIGIT]
//                                extension-token = 1*<any CHAR except SP, ",", CTLs>
//   MT-PRIORITY    RFC 6710 §3:  priority-profile, an esmtp-keyword
//                                (RFC 5321 §4.1.2: (ALPHA / DIGIT) *(ALPHA / DIGIT / "-"))
//   FUTURERELEASE  RFC 4865 §3:  max-future-release-interval SP max-future-release-date-time
//                                interval = 1*9DIGIT seconds (the future-release-integer of
//                                HOLDFOR, §4); date-time = RFC 3339 §5.6 date-time
//                                (erratum 2040), with §5.7's days per month
//
// One entry point per word grammar (ehlo_param_grammar, src/ehlo_param_scan.hpp);
// how many words a keyword takes, and what a bad one means for the typed
// view, is src/capabilities.cpp's. Numbers are accumulated as they are
// read; a registered LIMITS name is recognised on its last octet, without a
// string compare. tests/ehlo_param_oracle.hpp is a second, plain C++
// reading of the same ABNF: the unit tests and fuzz/fuzz_ehlo_capabilities
// hold the two to the same verdict on every word.
#include "ehlo_param_scan.hpp"

#include "date_time.hpp"

#include <limits>

namespace sansmtp::detail {
namespace {

%%{
  machine sansmtp_ehlo_param;
  alphtype unsigned char;

  # A decimal number, its value kept; 20 digits can overflow 64 bits.
  action add_digit {
    const auto d = static_cast<std::uint64_t>(fc - '0');
    if (res.value > (std::numeric_limits<std::uint64_t>::max() - d) / 10) res.overflow = true;
    res.value = res.value * 10 + d;
  }
  number  = ( digit @add_digit )+;
  number9 = ( digit @add_digit ){1,9};

  size := number;

  sasl_mech := ( upper | digit | '-' | '_' ){1,20};

  # The action on a registered name's last octet names it and notes where it
  # ended; a longer name ("RCPTMAXX") goes on and the end no longer matches.
  action registered_end { registered_end = p + 1; }
  registered = ( 'RCPTMAX'i        @{ registered = limit_name::rcptmax; }
               | 'MAILMAX'i        @{ registered = limit_name::mailmax; }
               | 'RCPTDOMAINMAX'i  @{ registered = limit_name::rcptdomainmax; }
               ) @registered_end;
  limit_name  = ( alnum | '-' | '_' )+;
  limit_value = ( 0x21..0x3a | 0x3c..0x7e )+;
  limit := ( registered | limit_name ) ( '=' @{ equals = p; } limit_value )?;

  limit_count := [1-9] @add_digit ( digit @add_digit ){0,5};

  extension_token = ( 0x21..0x7e - ',' )+;
  deliverby := number9? ( ',' extension_token )*;

  priority_profile := alnum ( alnum | '-' )*;

  release_interval := number9;

  # RFC 3339 §5.6; "T" and "Z" may be lower case (§5.6, NOTE).
  action month_digit { month = month * 10 + static_cast<unsigned>(fc - '0'); }
  action day_digit { day = day * 10 + static_cast<unsigned>(fc - '0'); }
  date_fullyear  = ( digit @{ year = year * 10 + static_cast<unsigned>(fc - '0'); } ){4};
  date_month     = ( '0' [1-9] | '1' [0-2] ) $month_digit;
  date_mday      = ( '0' [1-9] | [12] digit | '3' [01] ) $day_digit;
  time_hour      = [01] digit | '2' [0-3];
  time_minute    = [0-5] digit;
  time_second    = [0-5] digit | '60';
  time_secfrac   = '.' digit+;
  time_numoffset = [+\-] time_hour ':' time_minute;
  time_offset    = 'Z'i | time_numoffset;
  partial_time   = time_hour ':' time_minute ':' time_second time_secfrac?;
  date_time := date_fullyear '-' date_month '-' date_mday 'T'i partial_time time_offset;

}%%

%% write data noerror;

int entry(ehlo_param_grammar g) noexcept {
  switch (g) {
    case ehlo_param_grammar::size: return sansmtp_ehlo_param_en_size;
    case ehlo_param_grammar::sasl_mech: return sansmtp_ehlo_param_en_sasl_mech;
    case ehlo_param_grammar::limit: return sansmtp_ehlo_param_en_limit;
    case ehlo_param_grammar::limit_count: return sansmtp_ehlo_param_en_limit_count;
    case ehlo_param_grammar::deliverby: return sansmtp_ehlo_param_en_deliverby;
    case ehlo_param_grammar::priority_profile: return sansmtp_ehlo_param_en_priority_profile;
    case ehlo_param_grammar::release_interval: return sansmtp_ehlo_param_en_release_interval;
    case ehlo_param_grammar::date_time: return sansmtp_ehlo_param_en_date_time;
  }
  return 0;  // the error state
}

}  // namespace

ehlo_param_scan scan_ehlo_param(ehlo_param_grammar g, std::string_view word) noexcept {
  const unsigned char* const begin = reinterpret_cast<const unsigned char*>(word.data());
  const unsigned char* p = begin;
  const unsigned char* const pe = begin + word.size();
  const unsigned char* equals = nullptr;
  const unsigned char* registered_end = nullptr;
  limit_name registered = limit_name::other;
  unsigned year = 0, month = 0, day = 0;
  ehlo_param_scan res;
  int cs = entry(g);
  %% write exec;
  // Accepted: the whole word read and the machine in a final state.
  res.valid = p == pe && cs >= sansmtp_ehlo_param_first_final;
  if (!res.valid) return ehlo_param_scan{};
  if (g == ehlo_param_grammar::date_time && day > days_in_month(year, month)) return ehlo_param_scan{};
  if (g == ehlo_param_grammar::limit) {
    const auto name_end = equals ? equals : pe;
    if (registered_end == name_end) res.limit = registered;
    if (equals) res.value_at = static_cast<std::size_t>(equals - begin) + 1;
  }
  return res;
}

}  // namespace sansmtp::detail
