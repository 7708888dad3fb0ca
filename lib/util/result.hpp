// Result<T>: a value or an Error, in the spirit of std::expected (C++23),
// which C++20 lacks. lib/ reports failures through it; exceptions are for bugs.
#pragma once

#include <cassert>
#include <utility>
#include <variant>

#include "util/error.hpp"

namespace bkp::util {

// Wraps an Error so that `return fail(...)` converts to any Result<T>.
struct Unexpected {
  Error error;
};

inline Unexpected fail(Error e) { return Unexpected{std::move(e)}; }
inline Unexpected fail(ErrorKind kind, std::string message) {
  return Unexpected{Error{kind, std::move(message)}};
}

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  Result(Unexpected u) : state_(std::in_place_index<1>, std::move(u.error)) {}  // NOLINT

  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { assert(ok()); return std::get<0>(state_); }
  const T& value() const& { assert(ok()); return std::get<0>(state_); }
  T&& value() && { assert(ok()); return std::get<0>(std::move(state_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const { assert(!ok()); return std::get<1>(state_); }
  Unexpected propagate() const { return Unexpected{error()}; }

 private:
  std::variant<T, Error> state_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Unexpected u) : error_(std::move(u.error)), ok_(false) {}  // NOLINT

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const { assert(!ok_); return error_; }
  Unexpected propagate() const { return Unexpected{error_}; }

 private:
  Error error_;
  bool ok_ = true;
};

using Status = Result<void>;

}  // namespace bkp::util

#define BKP_CONCAT_INNER(a, b) a##b
#define BKP_CONCAT(a, b) BKP_CONCAT_INNER(a, b)

// Evaluates a Result expression; on failure returns its error from the
// enclosing function. Keeps call sites flat instead of nesting ifs. The
// temporary's name is unique so BKP_TRY may nest (inside lambdas).
#define BKP_TRY(expr) BKP_TRY_IMPL(BKP_CONCAT(bkp_try_, __COUNTER__), expr)
#define BKP_TRY_IMPL(tmp, expr)                       \
  do {                                                \
    auto&& tmp = (expr);                              \
    if (!tmp.ok()) return tmp.propagate();            \
  } while (0)

// BKP_ASSIGN(auto x, expr): declares x from a Result or returns its error.
#define BKP_ASSIGN(decl, expr) BKP_ASSIGN_IMPL(BKP_CONCAT(bkp_assign_, __COUNTER__), decl, expr)
#define BKP_ASSIGN_IMPL(tmp, decl, expr)        \
  auto tmp = (expr);                            \
  if (!tmp.ok()) return tmp.propagate();        \
  decl = std::move(tmp).value()
