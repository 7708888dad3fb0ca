// A libpq session (through libpqxx) kept open across several statements:
// what a non-exclusive base backup needs, since pg_backup_start and
// pg_backup_stop must run in the same session. The password goes into the
// connection parameters in memory, never onto a command line.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "sources/postgres/connection.hpp"
#include "util/result.hpp"

namespace bkp::sources::postgres {

// One row of a result, NULLs as empty strings.
using Row = std::vector<std::string>;

// The first column of the first of `rows`, the result of `statement` on
// the connection `where`; an error when there is no row.
util::Result<std::string> first_value(util::Result<std::vector<Row>> rows, const std::string& where,
                                      const std::string& statement);

class Session {
 public:
  // Connects (connect_timeout 10 s unless PGCONNECT_TIMEOUT says otherwise);
  // a wrong password or a server that is down is an error carrying
  // libpq's own message.
  static util::Result<Session> open(const Connection& conn);

  Session(Session&&) noexcept;
  Session& operator=(Session&&) noexcept;
  ~Session();

  // Runs one statement outside any transaction block; the rows of its result.
  util::Result<std::vector<Row>> query(const std::string& sql);
  // The first column of the first row; an error when there is no row.
  util::Result<std::string> value(const std::string& sql);
  // `text` as an SQL string literal.
  std::string quote(const std::string& text) const;

 private:
  struct Impl;
  explicit Session(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  std::string where_;
};

// libpq's connection string for `conn`: every value quoted, so that no
// value is read as another parameter.
std::string conninfo(const Connection& conn);

}  // namespace bkp::sources::postgres
