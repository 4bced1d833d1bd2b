// RFC 3339 §5.6 date-time, checked field by field (grammar/ehlo_params.rl
// reads the same production as a machine; the fuzzers compare the two).
#include "date_time.hpp"

#include "ascii.hpp"

namespace sansmtp::detail {
namespace {

// n DIGIT with value in [lo, hi], at v[i].
bool fixed_digits(std::string_view v, std::size_t i, std::size_t n, unsigned lo, unsigned hi) noexcept {
  if (i + n > v.size()) return false;
  unsigned value = 0;
  for (std::size_t k = i; k < i + n; ++k) {
    if (!ascii::is_digit(v[k])) return false;
    value = value * 10 + static_cast<unsigned>(v[k] - '0');
  }
  return value >= lo && value <= hi;
}

}  // namespace

// §5.7: the day must exist in its month ("2024-02-30" does not).
std::optional<std::size_t> date_time_error(std::string_view v) noexcept {
  if (!fixed_digits(v, 0, 4, 0, 9999)) return 0;
  if (v.size() < 5 || v[4] != '-' || !fixed_digits(v, 5, 2, 1, 12)) return 4;
  const auto two = [&](std::size_t i) { return static_cast<unsigned>((v[i] - '0') * 10 + (v[i + 1] - '0')); };
  const auto year = two(0) * 100 + two(2);
  if (v.size() < 8 || v[7] != '-' || !fixed_digits(v, 8, 2, 1, days_in_month(year, two(5)))) return 7;
  if (v.size() < 11 || ascii::to_lower(v[10]) != 't') return 10;
  if (!fixed_digits(v, 11, 2, 0, 23)) return 11;
  if (v.size() < 14 || v[13] != ':' || !fixed_digits(v, 14, 2, 0, 59)) return 13;
  if (v.size() < 17 || v[16] != ':' || !fixed_digits(v, 17, 2, 0, 60)) return 16;
  std::size_t i = 19;
  if (i < v.size() && v[i] == '.') {
    const auto digits_start = ++i;
    while (i < v.size() && ascii::is_digit(v[i])) ++i;
    if (i == digits_start) return i;
  }
  if (i < v.size() && ascii::to_lower(v[i]) == 'z') {
    ++i;
  } else if (i < v.size() && (v[i] == '+' || v[i] == '-')) {
    if (!fixed_digits(v, i + 1, 2, 0, 23) || i + 3 >= v.size() || v[i + 3] != ':' ||
        !fixed_digits(v, i + 4, 2, 0, 59))
      return i;
    i += 6;
  } else {
    return i;
  }
  if (i != v.size()) return i;
  return std::nullopt;
}

std::optional<date_time_instant> date_time_instant_of(std::string_view v) noexcept {
  if (date_time_error(v)) return std::nullopt;
  const auto num = [&](std::size_t i, std::size_t n) {
    std::int64_t value = 0;
    for (std::size_t k = i; k < i + n; ++k) value = value * 10 + (v[k] - '0');
    return value;
  };
  // Days from -0400-03-01 (400 years early, so that every year counted is
  // positive and the divisions round down): the year counted from March, so
  // that the leap day is the last day of its year.
  std::int64_t year = num(0, 4) + 400;
  const std::int64_t month = num(5, 2), day = num(8, 2);
  if (month <= 2) --year;
  const std::int64_t march_month = (month + 9) % 12;  // March 0 .. February 11
  const std::int64_t days = year * 365 + year / 4 - year / 100 + year / 400 + (153 * march_month + 2) / 5 + day - 1;
  date_time_instant t;
  t.seconds = days * 86400 + num(11, 2) * 3600 + num(14, 2) * 60 + num(17, 2);
  std::size_t i = 19;
  if (v[i] == '.') {
    const auto start = ++i;
    while (i < v.size() && ascii::is_digit(v[i])) ++i;
    auto fraction = v.substr(start, i - start);
    while (!fraction.empty() && fraction.back() == '0') fraction.remove_suffix(1);
    t.fraction = fraction;
  }
  if (v[i] == '+' || v[i] == '-') {
    const std::int64_t offset = num(i + 1, 2) * 3600 + num(i + 4, 2) * 60;
    t.seconds += v[i] == '+' ? -offset : offset;
  }
  return t;
}

int compare_instants(const date_time_instant& a, const date_time_instant& b) noexcept {
  if (a.seconds != b.seconds) return a.seconds < b.seconds ? -1 : 1;
  // Decimal fractions without trailing zeros order as their digit strings.
  const int c = a.fraction.compare(b.fraction);
  return c < 0 ? -1 : c > 0 ? 1 : 0;
}

}  // namespace sansmtp::detail
