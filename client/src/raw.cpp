// Raw SQL for tools and tests, and the Transaction guard.
#include "internal.h"

namespace baton {

Json Client::query(const std::string& sql, const std::vector<Param>& params) {
  detail::Rows rows = impl_->run(sql, params, false);
  Json out = Json::array();
  const int columns = PQnfields(rows.get());
  for (int i = 0; i < rows.size(); ++i) {
    Json row = Json::object();
    for (int c = 0; c < columns; ++c)
      row[PQfname(rows.get(), c)] = rows.null(i, c) ? Json() : Json(rows.text(i, c));
    out.push_back(std::move(row));
  }
  return out;
}

void Client::execute(const std::string& sql) {
  PGconn* conn = impl_->live();
  // PQexec runs several statements; the last result is the one that tells success.
  detail::ResultPtr r(PQexec(conn, sql.c_str()));
  if (!r) detail::throw_error(conn, nullptr);
  ExecStatusType s = PQresultStatus(r.get());
  if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK && s != PGRES_EMPTY_QUERY)
    detail::throw_error(conn, r.get());
}

Transaction::Transaction(Client& client) : client_(client) {
  client_.execute("BEGIN");
}

Transaction::~Transaction() {
  if (!open_) return;
  try {
    client_.execute("ROLLBACK");
  } catch (const Error&) {
    // A lost connection has rolled the transaction back already; a destructor must not
    // throw.
  }
}

void Transaction::commit() {
  open_ = false;
  // COMMIT of a failed transaction "succeeds" as a ROLLBACK; say so instead of pretending.
  PGconn* conn = client_.native_handle();
  if (conn != nullptr && PQtransactionStatus(conn) == PQTRANS_INERROR) {
    client_.execute("ROLLBACK");
    throw Error("baton client: the transaction failed earlier and was rolled back", "25P02");
  }
  client_.execute("COMMIT");
}

void Transaction::rollback() {
  open_ = false;
  client_.execute("ROLLBACK");
}

}  // namespace baton
