#include "util/error.hpp"

namespace bkp::util {

Error Error::context(std::string_view what) const {
  return Error{kind, std::string(what) + ": " + message};
}

Error make_error(ErrorKind kind, std::string message) { return Error{kind, std::move(message)}; }

int exit_code(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::usage: return 2;
    case ErrorKind::partial: return 3;
    case ErrorKind::no_repository: return 10;
    case ErrorKind::locked: return 11;
    case ErrorKind::wrong_key: return 12;
    case ErrorKind::verification: return 13;
    case ErrorKind::interrupted: return 130;
    case ErrorKind::generic:
    case ErrorKind::not_found:
    case ErrorKind::exists:
    case ErrorKind::io:
    case ErrorKind::corrupt:
    case ErrorKind::auth:
    case ErrorKind::transient:
    case ErrorKind::permission: return 1;
  }
  return 1;
}

std::string_view kind_name(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::generic: return "error";
    case ErrorKind::usage: return "usage";
    case ErrorKind::partial: return "partial";
    case ErrorKind::no_repository: return "no_repository";
    case ErrorKind::locked: return "locked";
    case ErrorKind::wrong_key: return "wrong_key";
    case ErrorKind::verification: return "verification_failed";
    case ErrorKind::interrupted: return "interrupted";
    case ErrorKind::not_found: return "not_found";
    case ErrorKind::exists: return "exists";
    case ErrorKind::io: return "io";
    case ErrorKind::corrupt: return "corrupt";
    case ErrorKind::auth: return "auth";
    case ErrorKind::transient: return "transient";
    case ErrorKind::permission: return "permission";
  }
  return "error";
}

}  // namespace bkp::util
