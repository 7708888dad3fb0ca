#include "sources/postgres/replication.hpp"

#include <poll.h>

#include <cerrno>

#include <cstdlib>

#include "bkp_build_config.hpp"
#include "util/interrupt.hpp"

#if BKP_HAVE_POSTGRES
#include <libpq-fe.h>
#endif

namespace bkp::sources::postgres {

using util::ErrorKind;
using util::fail;

namespace {

// libpq's messages end with a newline and may span lines.
std::string one_line(const char* message) {
  std::string text = message ? message : "";
  for (auto& c : text)
    if (c == '\n') c = ' ';
  while (!text.empty() && text.back() == ' ') text.pop_back();
  return text.empty() ? "no message" : text;
}

}  // namespace

#if BKP_HAVE_POSTGRES

struct ReplicationConnection::Impl {
  PGconn* conn = nullptr;
  char* copy_buffer = nullptr;  // the last CopyData message, freed on the next
  ~Impl() {
    if (copy_buffer) PQfreemem(copy_buffer);
    if (conn) PQfinish(conn);
  }

  util::Error error(const std::string& where, const char* what) const {
    return util::make_error(ErrorKind::generic, where + ": " + one_line(what));
  }

  // Waits until the socket is readable (or 200 ms passed) and reads what
  // arrived; between waits, an interrupt stops the wait.
  util::Status wait_input(const std::string& where) {
    BKP_TRY(util::check_interrupted());
    pollfd p{PQsocket(conn), POLLIN, 0};
    if (::poll(&p, 1, 200) < 0 && errno != EINTR)
      return fail(ErrorKind::io, where + ": poll failed");
    if (!PQconsumeInput(conn)) return fail(error(where, PQerrorMessage(conn)));
    return {};
  }

  // The next result of the running command without blocking on the server;
  // null when the command is done.
  util::Result<PGresult*> next_result(const std::string& where) {
    while (PQisBusy(conn)) BKP_TRY(wait_input(where));
    return PQgetResult(conn);
  }
};

util::Result<ReplicationConnection> ReplicationConnection::open(const Connection& conn) {
  auto info = conninfo(conn) + " replication='database'";
  std::unique_ptr<Impl> impl(new Impl);
  impl->conn = PQconnectdb(info.c_str());
  util::wipe(info.data(), info.size());
  if (!impl->conn)
    return fail(ErrorKind::generic, "connecting to " + describe(conn) + ": no memory");
  if (PQstatus(impl->conn) != CONNECTION_OK) {
    return fail(ErrorKind::generic,
                "connecting to " + describe(conn) + ": " + one_line(PQerrorMessage(impl->conn)));
  }
  // The server's notices (e.g. about WAL archiving) would go to stderr
  // as they are; what matters comes back as results and errors.
  PQsetNoticeProcessor(
      impl->conn, [](void*, const char*) {}, nullptr);
  ReplicationConnection rc(std::move(impl));
  rc.where_ = describe(conn);
  return rc;
}

util::Result<std::vector<Row>> ReplicationConnection::query(const std::string& command) {
  if (!PQsendQuery(impl_->conn, command.c_str()))
    return fail(impl_->error(where_, PQerrorMessage(impl_->conn)));
  std::vector<Row> rows;
  std::optional<util::Error> failed;
  for (;;) {
    BKP_ASSIGN(PGresult * res, impl_->next_result(where_));
    if (!res) break;
    auto status = PQresultStatus(res);
    if (status == PGRES_TUPLES_OK) {
      for (int r = 0; r < PQntuples(res); ++r) {
        Row row;
        for (int c = 0; c < PQnfields(res); ++c) row.emplace_back(PQgetvalue(res, r, c));
        rows.push_back(std::move(row));
      }
    } else if (status != PGRES_COMMAND_OK && !failed) {
      failed = impl_->error(where_, PQresultErrorMessage(res));
    }
    PQclear(res);
  }
  if (failed) return fail(*failed);
  return rows;
}

std::string ReplicationConnection::quote(const std::string& text) const {
  char* q = PQescapeLiteral(impl_->conn, text.c_str(), text.size());
  if (!q) return "''";
  std::string out(q);
  PQfreemem(q);
  return out;
}

util::Result<BaseBackupStart> ReplicationConnection::start_base_backup(const std::string& command) {
  if (!PQsendQuery(impl_->conn, command.c_str()))
    return fail(impl_->error(where_, PQerrorMessage(impl_->conn)));
  BaseBackupStart out;
  int sets = 0;
  for (;;) {
    BKP_ASSIGN(PGresult * res, impl_->next_result(where_));
    if (!res) return fail(ErrorKind::generic, where_ + ": the base backup ended before its data");
    auto status = PQresultStatus(res);
    if (status == PGRES_COPY_OUT) {
      PQclear(res);
      break;
    }
    if (status == PGRES_TUPLES_OK) {
      ++sets;
      if (sets == 1 && PQntuples(res) == 1 && PQnfields(res) >= 2) {
        out.start.lsn = PQgetvalue(res, 0, 0);
        out.start.timeline = std::uint32_t(std::strtoul(PQgetvalue(res, 0, 1), nullptr, 10));
      } else if (sets == 2 && PQnfields(res) >= 2) {
        for (int r = 0; r < PQntuples(res); ++r) {
          if (PQgetisnull(res, r, 0)) continue;  // the data directory itself
          out.tablespaces.push_back({PQgetvalue(res, r, 0), PQgetvalue(res, r, 1)});
        }
      }
    } else if (status != PGRES_COMMAND_OK) {
      auto e = impl_->error(where_, PQresultErrorMessage(res));
      PQclear(res);
      return fail(e);
    }
    PQclear(res);
  }
  if (sets < 2 || out.start.lsn.empty())
    return fail(ErrorKind::generic, where_ + ": unexpected answer to BASE_BACKUP");
  return out;
}

util::Result<std::optional<CopyMessage>> ReplicationConnection::next_message() {
  if (impl_->copy_buffer) {
    PQfreemem(impl_->copy_buffer);
    impl_->copy_buffer = nullptr;
  }
  for (;;) {
    int n = PQgetCopyData(impl_->conn, &impl_->copy_buffer, 1);
    if (n > 0) {
      auto* p = reinterpret_cast<const std::uint8_t*>(impl_->copy_buffer);
      return std::optional<CopyMessage>(CopyMessage{char(p[0]), p + 1, std::size_t(n) - 1});
    }
    if (n == -1) return std::optional<CopyMessage>();
    if (n == -2) return fail(impl_->error(where_, PQerrorMessage(impl_->conn)));
    BKP_TRY(impl_->wait_input(where_));
  }
}

util::Result<WalPosition> ReplicationConnection::finish_base_backup() {
  std::optional<WalPosition> end;
  std::optional<util::Error> failed;
  for (;;) {
    BKP_ASSIGN(PGresult * res, impl_->next_result(where_));
    if (!res) break;
    auto status = PQresultStatus(res);
    if (status == PGRES_TUPLES_OK && PQntuples(res) == 1 && PQnfields(res) >= 2) {
      end = WalPosition{PQgetvalue(res, 0, 0),
                        std::uint32_t(std::strtoul(PQgetvalue(res, 0, 1), nullptr, 10))};
    } else if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK && !failed) {
      failed = impl_->error(where_, PQresultErrorMessage(res));
    }
    PQclear(res);
  }
  if (failed) return fail(*failed);
  if (!end) return fail(ErrorKind::generic, where_ + ": the base backup sent no end position");
  return *end;
}

#else

struct ReplicationConnection::Impl {};

util::Result<ReplicationConnection> ReplicationConnection::open(const Connection&) {
  return fail(ErrorKind::usage, "this bkp was built without libpq (PostgreSQL replication)");
}
util::Result<std::vector<Row>> ReplicationConnection::query(const std::string&) {
  return fail(ErrorKind::usage, "this bkp was built without libpq");
}
std::string ReplicationConnection::quote(const std::string& text) const { return "'" + text + "'"; }
util::Result<BaseBackupStart> ReplicationConnection::start_base_backup(const std::string&) {
  return fail(ErrorKind::usage, "this bkp was built without libpq");
}
util::Result<std::optional<CopyMessage>> ReplicationConnection::next_message() {
  return fail(ErrorKind::usage, "this bkp was built without libpq");
}
util::Result<WalPosition> ReplicationConnection::finish_base_backup() {
  return fail(ErrorKind::usage, "this bkp was built without libpq");
}

#endif

util::Result<std::string> ReplicationConnection::value(const std::string& command) {
  return first_value(query(command), where_, command);
}

ReplicationConnection::ReplicationConnection(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ReplicationConnection::ReplicationConnection(ReplicationConnection&&) noexcept = default;
ReplicationConnection& ReplicationConnection::operator=(ReplicationConnection&&) noexcept = default;
ReplicationConnection::~ReplicationConnection() = default;

}  // namespace bkp::sources::postgres
