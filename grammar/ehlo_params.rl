// Ragel machine for the parameters of the known EHLO keywords whose
// parameters have a grammar, one word (one ehlo-param) at a time:
//
//   SIZE           RFC 1870 §4:  size-param = [1*DIGIT]
//   AUTH           RFC 4954 §3:  1*(SP sasl-mech); RFC 4422 §3.1 (the capability
//                                parser checks these with a class table, this machine
//                                being its reference: see src/syntax/capabilities.cpp):
//                                sasl-mech = 1*20mech-char,
//                                mech-char = UPPER-ALPHA / DIGIT / "-" / "_"
//   LIMITS         RFC 9422 §3:  limit-name-value = limit-name ["=" limit-value]
//                                limit-name  = 1*(ALPHA / DIGIT / "-" / "_")
//                                limit-value = 1*(%x21-3A / %x3C-7E)
//                  RFC 9422 §4:  MAILMAX, RCPTMAX and RCPTDOMAINMAX take
//                                %x31-39 0*5DIGIT (1 to 999999)
//   DELIVERBY      RFC 2852 §2 (3): one optional parameter, a comma-separated
//                                list of options of which min-by-time is the first:
//                                deliverby-param = min-by-time *("," extension-token)
//                                min-by-time = [1*9DIGIT]
//                                extension-token = 1*<any CHAR except SP, ",", CTLs>
//   MT-PRIORITY    RFC 6710 §3:  priority-profile, an esmtp-keyword
//                                (RFC 5321 §4.1.2: (ALPHA / DIGIT) *(ALPHA / DIGIT / "-"))
//   FUTURERELEASE  RFC 4865 §3:  max-future-release-interval SP max-future-release-date-time
//                                interval = 1*9DIGIT seconds (the future-release-integer of
//                                HOLDFOR, §4); date-time = RFC 3339 §5.6 date-time
//                                (erratum 2040), with §5.7's days per month
//
// One entry point per word grammar (ehlo_param_grammar, src/syntax/ehlo_param_scan.hpp).
// Generated as generated/ehlo_params.inc and included by src/syntax/capabilities.cpp,
// so that each call, its grammar known there, inlines to its own entry;
// how many words a keyword takes, and what a bad one means for the typed
// view, is src/syntax/capabilities.cpp's. Numbers are accumulated as they are
// read; a registered LIMITS name is recognised on its last octet, without a
// string compare. tests/ehlo_param_oracle.hpp is a second, plain C++
// reading of the same ABNF: the unit tests and fuzz/fuzz_ehlo_capabilities
// hold the two to the same verdict on every word.
// Included once, by src/syntax/capabilities.cpp (after ehlo_param_scan.hpp and
// date_time.hpp).
namespace sansmtp::detail {
namespace ehlo_params_machine {

%%{
  machine sansmtp_ehlo_param;
  alphtype unsigned char;

  # A decimal number, its value kept; 20 digits can overflow 64 bits.
  action add_digit {
    res.overflow |= __builtin_mul_overflow(res.value, 10u, &res.value);
    res.overflow |= __builtin_add_overflow(res.value, static_cast<std::uint64_t>(fc - '0'), &res.value);
  }
  # Bounded repetitions ({1,9}, {1,20}, {0,5}) are checked from lengths
  # after the match (in scan_ehlo_param_as below), as smtp_common.rl checks
  # label lengths: one looping state instead of a state per octet.
  number = ( digit @add_digit )+;

  size := number;

  mech_char = upper | digit | '-' | '_';
  sasl_mech := mech_char+;  # at most 20

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

  limit_count := [1-9] @add_digit ( digit @add_digit )*;  # at most 6 digits

  extension_token = ( 0x21..0x7e - ',' )+;
  deliverby := ( digit @add_digit @{ digits_end = p + 1; } )* ( ',' extension_token )*;  # at most 9 digits

  priority_profile := alnum ( alnum | '-' )*;

  release_interval := number;  # at most 9 digits

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

}  // namespace ehlo_params_machine

// The word against grammar G; nothing is valid unless the whole word matches.
template <ehlo_param_grammar G>
[[gnu::always_inline]] inline ehlo_param_scan scan_ehlo_param_as(std::string_view word) noexcept {
  using namespace ehlo_params_machine;
  const unsigned char* const begin = reinterpret_cast<const unsigned char*>(word.data());
  const unsigned char* p = begin;
  const unsigned char* const pe = begin + word.size();
  [[maybe_unused]] const unsigned char* equals = nullptr;
  [[maybe_unused]] const unsigned char* registered_end = nullptr;
  [[maybe_unused]] limit_name registered = limit_name::other;
  [[maybe_unused]] unsigned year = 0, month = 0, day = 0;
  [[maybe_unused]] const unsigned char* digits_end = begin;  // deliverby: after min-by-time
  ehlo_param_scan res;
  int cs = 0;
  if constexpr (G == ehlo_param_grammar::size) cs = sansmtp_ehlo_param_en_size;
  if constexpr (G == ehlo_param_grammar::sasl_mech) cs = sansmtp_ehlo_param_en_sasl_mech;
  if constexpr (G == ehlo_param_grammar::limit) cs = sansmtp_ehlo_param_en_limit;
  if constexpr (G == ehlo_param_grammar::limit_count) cs = sansmtp_ehlo_param_en_limit_count;
  if constexpr (G == ehlo_param_grammar::deliverby) cs = sansmtp_ehlo_param_en_deliverby;
  if constexpr (G == ehlo_param_grammar::priority_profile) cs = sansmtp_ehlo_param_en_priority_profile;
  if constexpr (G == ehlo_param_grammar::release_interval) cs = sansmtp_ehlo_param_en_release_interval;
  if constexpr (G == ehlo_param_grammar::date_time) cs = sansmtp_ehlo_param_en_date_time;
  %% write exec;
  // Accepted: the whole word read and the machine in a final state.
  res.valid = p == pe && cs >= sansmtp_ehlo_param_first_final;
  if (!res.valid) return ehlo_param_scan{};
  // The bounded repetitions of the ABNF.
  if constexpr (G == ehlo_param_grammar::sasl_mech) {
    if (word.size() > 20) return ehlo_param_scan{};  // RFC 4422 §3.1: 1*20mech-char
  }
  if constexpr (G == ehlo_param_grammar::limit_count) {
    if (word.size() > 6) return ehlo_param_scan{};  // RFC 9422 §4: %x31-39 0*5DIGIT
  }
  if constexpr (G == ehlo_param_grammar::release_interval) {
    if (word.size() > 9) return ehlo_param_scan{};  // RFC 4865: 1*9DIGIT
  }
  if constexpr (G == ehlo_param_grammar::deliverby) {
    if (digits_end - begin > 9) return ehlo_param_scan{};  // RFC 2852: min-by-time = [1*9DIGIT]
  }
  if constexpr (G == ehlo_param_grammar::date_time) {
    if (day > days_in_month(year, month)) return ehlo_param_scan{};
  }
  if constexpr (G == ehlo_param_grammar::limit) {
    const auto name_end = equals ? equals : pe;
    if (registered_end == name_end) res.limit = registered;
    if (equals) res.value_at = static_cast<std::size_t>(equals - begin) + 1;
  }
  return res;
}

}  // namespace sansmtp::detail
