// A vector that keeps its first N elements inside the object and moves to
// the heap only past them: parsed EHLO replies of the usual size cost no
// allocation, and an unusual one loses nothing. Elements must be trivially
// copyable (views, small structs); copies and moves of the container are
// then plain copies and stay valid (nothing points into the container).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <new>
#include <span>
#include <type_traits>
#include <vector>

namespace sansmtp {

template <class T, std::size_t N>
class small_vector {
  static_assert(std::is_trivially_copyable_v<T> && std::is_default_constructible_v<T>);

 public:
  using value_type = T;
  using size_type = std::size_t;
  using const_iterator = const T*;
  using iterator = const T*;  // read-only to users; the parser fills it
  static constexpr std::size_t inline_capacity = N;

  small_vector() noexcept {}
  // Copies only the elements in use (the inline room can be large).
  small_vector(const small_vector& other) : heap_(other.heap_), size_(other.size_) {
    if (heap_.empty() && size_) std::memcpy(inline_, other.inline_, size_ * sizeof(T));
  }
  small_vector(small_vector&& other) noexcept : heap_(std::move(other.heap_)), size_(other.size_) {
    if (heap_.empty() && size_) std::memcpy(inline_, other.inline_, size_ * sizeof(T));
    other.heap_.clear();
    other.size_ = 0;
  }
  small_vector& operator=(const small_vector& other) {
    if (this != &other) {
      heap_ = other.heap_;
      size_ = other.size_;
      if (heap_.empty() && size_) std::memcpy(inline_, other.inline_, size_ * sizeof(T));
    }
    return *this;
  }
  small_vector& operator=(small_vector&& other) noexcept {
    if (this != &other) {
      heap_ = std::move(other.heap_);
      size_ = other.size_;
      if (heap_.empty() && size_) std::memcpy(inline_, other.inline_, size_ * sizeof(T));
      other.heap_.clear();
      other.size_ = 0;
    }
    return *this;
  }
  ~small_vector() = default;

  const T* data() const noexcept {
    return heap_.empty() ? std::launder(reinterpret_cast<const T*>(inline_)) : heap_.data();
  }
  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  const T* begin() const noexcept { return data(); }
  const T* end() const noexcept { return data() + size_; }
  const T& operator[](std::size_t i) const noexcept { return data()[i]; }
  const T& front() const noexcept { return data()[0]; }
  const T& back() const noexcept { return data()[size_ - 1]; }
  // True when the elements went past N and live on the heap.
  bool spilled() const noexcept { return !heap_.empty(); }
  operator std::span<const T>() const noexcept { return {data(), size_}; }

  void push_back(const T& value) {
    if (heap_.empty() && size_ < N) {
      ::new (static_cast<void*>(inline_ + size_ * sizeof(T))) T(value);
      ++size_;
      return;
    }
    if (heap_.empty()) {  // the first element past N
      heap_.reserve(2 * N);
      heap_.assign(data(), data() + size_);
    }
    heap_.push_back(value);
    ++size_;
  }
  // A value-initialised element at the end, to be filled in place.
  T& emplace_back() {
    if (heap_.empty() && size_ < N) return *::new (static_cast<void*>(inline_ + size_++ * sizeof(T))) T();
    push_back(T());
    return heap_.back();
  }
  void pop_back() noexcept {
    if (!heap_.empty()) heap_.pop_back();
    --size_;
  }
  template <class It>
  void assign(It first, It last) {
    clear();
    for (; first != last; ++first) push_back(*first);
  }
  void clear() noexcept {
    heap_.clear();
    size_ = 0;
  }

  friend bool operator==(const small_vector& a, const small_vector& b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end());
  }

 private:
  // Room for N elements, left uninitialised until used (T is trivially
  // copyable, so its bytes are its value).
  alignas(T) unsigned char inline_[N * sizeof(T)];
  std::vector<T> heap_;  // every element once past N
  std::size_t size_ = 0;
};

}  // namespace sansmtp
