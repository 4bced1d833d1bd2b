// Internal: RFC 3339 date-time (HOLDUNTIL and FUTURERELEASE, RFC 4865
// erratum 2040; RRVS, RFC 7293).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace sansmtp::detail {

// RFC 3339 §5.7: the last day of month `month` (1-12) in `year`, leap years
// by the Gregorian rule (divisible by 4, centuries only when by 400).
constexpr unsigned days_in_month(unsigned year, unsigned month) noexcept {
  constexpr unsigned days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
  return month == 2 && leap ? 29 : month >= 1 && month <= 12 ? days[month - 1] : 0;
}

// RFC 3339 §5.6 date-time: YYYY-MM-DD "T" hh:mm:ss [.frac] ( "Z" /
// ("+"/"-") hh:mm ), "T"/"Z" in any case, the day existing in its month.
// Nothing when `v` is one; else the offset of the first octet in the way.
std::optional<std::size_t> date_time_error(std::string_view v) noexcept;

// The instant a date-time names (RFC 3339 §5.6: the offset is local time
// minus UTC, so UTC is the time less the offset), for ordering: seconds
// since -0400-03-01T00:00:00Z, proleptic Gregorian, and the digits of the
// fraction. A leap second (ss = 60, §5.7) counts as the second after :59.
struct date_time_instant {
  std::int64_t seconds = 0;
  std::string_view fraction;  // the digits after ".", trailing zeros removed
};
// Nothing when `v` is not a date-time (date_time_error()).
std::optional<date_time_instant> date_time_instant_of(std::string_view v) noexcept;
// <0, 0, >0 as `a` is before, at, or after `b`.
int compare_instants(const date_time_instant& a, const date_time_instant& b) noexcept;

}  // namespace sansmtp::detail
