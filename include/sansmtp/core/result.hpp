// Results: a value or an error, the house shape of every parser's answer.
//
// Lifetime rule: every std::string_view inside a returned value points into the
// input that was passed in; it is valid as long as that input is.
#pragma once

#include <sansmtp/core/errc.hpp>

#include <type_traits>
#include <utility>
#include <variant>

namespace sansmtp {

// A value or an error, shaped like C++23 std::expected (has_value, value,
// error, value_or, *, ->, explicit bool) so that moving to std::expected is a
// type alias. value() on an error throws std::bad_variant_access, as
// std::expected's throws bad_expected_access: check first; nothing on the
// hot path throws.
template <class T, class E = parse_error>
class [[nodiscard]] parse_result {
 public:
  using value_type = T;
  using error_type = E;

  parse_result(T value)
      : v_(std::in_place_index<0>, std::move(value)) {}         // NOLINT(google-explicit-constructor)
  parse_result(E error) : v_(std::in_place_index<1>, error) {}  // NOLINT(google-explicit-constructor)
  // Anything T can be made from (one command struct for a `command`).
  template <class U>
  requires(std::is_constructible_v<T, U&&> && !std::is_same_v<std::remove_cvref_t<U>, T> &&
           !std::is_same_v<std::remove_cvref_t<U>, E> &&
           !std::is_same_v<std::remove_cvref_t<U>, parse_result>)
      parse_result(U&& value)  // NOLINT(google-explicit-constructor)
      : v_(std::in_place_index<0>, std::forward<U>(value)) {}

  bool has_value() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }

  const T& value() const& { return std::get<0>(v_); }
  T& value() & { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  const T& operator*() const& { return std::get<0>(v_); }
  T& operator*() & { return std::get<0>(v_); }
  const T* operator->() const { return &std::get<0>(v_); }
  T* operator->() { return &std::get<0>(v_); }
  const E& error() const { return std::get<1>(v_); }

  template <class U>
  T value_or(U&& fallback) const& {
    return has_value() ? std::get<0>(v_) : static_cast<T>(std::forward<U>(fallback));
  }

 private:
  std::variant<T, E> v_;
};

}  // namespace sansmtp
