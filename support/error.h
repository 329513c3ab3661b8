// User-facing errors as values, and the abort macro for broken invariants.
// Library code never exits: user problems travel as Error/Expected to the
// boundary (the CLI), bugs abort with file, line and context.
#pragma once

#include "gradc/error.h"

#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>
#include <variant>

namespace gradc {

/// Either a value or an Error. Must be checked before use.
template <typename T> class [[nodiscard]] Expected {
public:
  Expected(T value) : v_(std::move(value)) {}
  Expected(Error error) : v_(std::move(error)) {}
  explicit operator bool() const { return v_.index() == 0; }
  T &operator*() { return std::get<0>(v_); }
  const T &operator*() const { return std::get<0>(v_); }
  T *operator->() { return &std::get<0>(v_); }
  const T *operator->() const { return &std::get<0>(v_); }
  const Error &error() const { return std::get<1>(v_); }
  T take() { return std::move(std::get<0>(v_)); }

private:
  std::variant<T, Error> v_;
};

/// Success or an Error, for operations without a result.
class [[nodiscard]] Status {
public:
  Status() = default;
  Status(Error error) : error_(std::move(error)), ok_(false) {}
  static Status ok() { return Status(); }
  explicit operator bool() const { return ok_; }
  const Error &error() const { return error_; }

private:
  Error error_{""};
  bool ok_ = true;
};

[[noreturn]] inline void fatalInvariant(const char *file, int line, const char *cond,
                                        const std::string &msg) {
  std::fprintf(stderr, "gradc internal error at %s:%d: %s: %s\n", file, line, cond, msg.c_str());
  std::abort();
}

} // namespace gradc

/// Aborts when an internal invariant is broken. Never used for user input.
#define GRADC_CHECK(cond, msg)                                                                     \
  do {                                                                                             \
    if (!(cond))                                                                                   \
      ::gradc::fatalInvariant(__FILE__, __LINE__, #cond, (msg));                                   \
  } while (0)

/// Propagates an error from an Expected/Status-returning call.
#define GRADC_TRY(var, expr)                                                                       \
  auto var##_expected = (expr);                                                                    \
  if (!var##_expected)                                                                             \
    return var##_expected.error();                                                                 \
  auto var = var##_expected.take()

#define GRADC_TRY_STATUS(expr)                                                                     \
  do {                                                                                             \
    auto status_ = (expr);                                                                         \
    if (!status_)                                                                                  \
      return status_.error();                                                                      \
  } while (0)
