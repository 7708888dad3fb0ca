#include "sources/postgres/session.hpp"

#include <cstdlib>

#include "bkp_build_config.hpp"

#if BKP_HAVE_POSTGRES
#include <pqxx/pqxx>
#endif

namespace bkp::sources::postgres {

using util::ErrorKind;
using util::fail;

namespace {

void add(std::string& out, const char* key, const std::string& value) {
  if (value.empty()) return;
  out += out.empty() ? "" : " ";
  out += key;
  out += "='";
  for (char c : value) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  out += "'";
}

// libpq's messages end with a newline and may span lines.
std::string one_line(std::string text) {
  for (auto& c : text)
    if (c == '\n') c = ' ';
  while (!text.empty() && text.back() == ' ') text.pop_back();
  return text;
}

}  // namespace

std::string conninfo(const Connection& conn) {
  std::string out;
  add(out, "host", conn.host);
  add(out, "port", conn.port);
  add(out, "user", conn.user);
  add(out, "dbname", conn.database.empty() ? std::string("postgres") : conn.database);
  if (conn.password) add(out, "password", std::string(conn.password->chars()));
  const char* timeout = std::getenv("PGCONNECT_TIMEOUT");
  add(out, "connect_timeout", timeout && *timeout ? timeout : "10");
  add(out, "application_name", "bkp");
  return out;
}

#if BKP_HAVE_POSTGRES

struct Session::Impl {
  pqxx::connection conn;
  explicit Impl(const std::string& info) : conn(info) {}
};

util::Result<Session> Session::open(const Connection& conn) {
  auto info = conninfo(conn);
  try {
    Session s(std::make_unique<Impl>(info));
    s.where_ = describe(conn);
    util::wipe(info.data(), info.size());
    return s;
  } catch (const std::exception& e) {
    util::wipe(info.data(), info.size());
    return fail(ErrorKind::generic, "connecting to " + describe(conn) + ": " + one_line(e.what()));
  }
}

util::Result<std::vector<Row>> Session::query(const std::string& sql) {
  try {
    pqxx::nontransaction tx(impl_->conn);
    auto result = tx.exec(sql);
    std::vector<Row> rows;
    for (const auto& r : result) {
      Row row;
      for (const auto& f : r) row.push_back(f.is_null() ? std::string() : f.c_str());
      rows.push_back(std::move(row));
    }
    return rows;
  } catch (const std::exception& e) {
    return fail(ErrorKind::generic, where_ + ": " + one_line(e.what()));
  }
}

std::string Session::quote(const std::string& text) const { return impl_->conn.quote(text); }

#else

struct Session::Impl {};

util::Result<Session> Session::open(const Connection&) {
  return fail(ErrorKind::usage, "this bkp was built without libpqxx (PostgreSQL sessions)");
}

util::Result<std::vector<Row>> Session::query(const std::string&) {
  return fail(ErrorKind::usage, "this bkp was built without libpqxx");
}

std::string Session::quote(const std::string& text) const { return "'" + text + "'"; }

#endif

util::Result<std::string> first_value(util::Result<std::vector<Row>> rows, const std::string& where,
                                      const std::string& statement) {
  if (!rows) return rows.propagate();
  if (rows->empty() || rows->front().empty())
    return fail(ErrorKind::generic, where + ": no result for '" + statement + "'");
  return std::move(rows->front().front());
}

util::Result<std::string> Session::value(const std::string& sql) {
  return first_value(query(sql), where_, sql);
}

Session::Session(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Session::Session(Session&&) noexcept = default;
Session& Session::operator=(Session&&) noexcept = default;
Session::~Session() = default;

}  // namespace bkp::sources::postgres
