// Running statements: prepared once per connection for the hot calls, otherwise with
// PQexecParams. Parameters always travel separately from the SQL text.
#include "internal.h"

namespace baton {
namespace {

bool ok(const PGresult* r) {
  ExecStatusType s = PQresultStatus(r);
  return s == PGRES_TUPLES_OK || s == PGRES_COMMAND_OK;
}

const char* sqlstate_of(const PGresult* r) {
  const char* s = PQresultErrorField(r, PG_DIAG_SQLSTATE);
  return s != nullptr ? s : "";
}

}  // namespace

detail::Rows Client::Impl::run(const std::string& sql, const std::vector<Param>& params,
                               bool prepare) {
  PGconn* c = live();
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const Param& p : params) values.push_back(p ? p->c_str() : nullptr);
  const int n = static_cast<int>(values.size());

  if (!prepare) {
    detail::ResultPtr r(
        PQexecParams(c, sql.c_str(), n, nullptr, values.data(), nullptr, nullptr, 0));
    if (!r || !ok(r.get())) detail::throw_error(c, r.get());
    return detail::Rows(std::move(r));
  }

  for (int attempt = 0;; ++attempt) {
    auto found = prepared.find(sql);
    if (found == prepared.end()) {
      std::string name = "baton_" + std::to_string(++statements_made);
      detail::ResultPtr p(PQprepare(c, name.c_str(), sql.c_str(), n, nullptr));
      if (!p || !ok(p.get())) detail::throw_error(c, p.get());
      found = prepared.emplace(sql, std::move(name)).first;
    }
    detail::ResultPtr r(
        PQexecPrepared(c, found->second.c_str(), n, values.data(), nullptr, nullptr, 0));
    if (r && ok(r.get())) return detail::Rows(std::move(r));
    // 26000: someone ran DEALLOCATE on this connection (through execute()). Prepare again
    // once, unless a transaction is open: the error has aborted it, and a retry would only
    // hide that.
    if (r && attempt == 0 && std::string(sqlstate_of(r.get())) == "26000" &&
        PQtransactionStatus(c) == PQTRANS_IDLE) {
      prepared.erase(found);
      continue;
    }
    detail::throw_error(c, r.get());
  }
}

}  // namespace baton
