#include "boundary.h"

#include <cstdio>
#include <exception>
#include <new>

#include "../core/error.h"

namespace baton::pg {

namespace {
struct ErrorCopy {
  char sqlstate[6];
  char message[core::Error::kTextSize];
  char detail[core::Error::kTextSize];
  char hint[core::Error::kTextSize];
};

void copy_error(ErrorCopy* out, const char* sqlstate, const char* message, const char* detail,
                const char* hint) {
  std::snprintf(out->sqlstate, sizeof out->sqlstate, "%s", sqlstate);
  std::snprintf(out->message, sizeof out->message, "%s", message);
  std::snprintf(out->detail, sizeof out->detail, "%s", detail);
  std::snprintf(out->hint, sizeof out->hint, "%s", hint);
}

int sqlstate_code(const char* s) {
  return MAKE_SQLSTATE(s[0], s[1], s[2], s[3], s[4]);
}
}  // namespace

Datum run_entry(FunctionCallInfo fcinfo, EntryBody body) {
  ErrorCopy error;
  bool failed = false;
  Datum result = (Datum)0;
  try {
    result = body(fcinfo);
  } catch (const core::Error& e) {
    copy_error(&error, e.sqlstate(), e.message(), e.detail(), e.hint());
    failed = true;
  } catch (const std::bad_alloc&) {
    copy_error(&error, "53200", "baton: out of memory", "", "");
    failed = true;
  } catch (const std::exception& e) {
    copy_error(&error, core::sqlstate::kInternal, e.what(), "", "");
    failed = true;
  } catch (...) {
    copy_error(&error, core::sqlstate::kInternal, "baton: unexpected C++ exception", "", "");
    failed = true;
  }
  if (failed) {
    ereport(ERROR, (errcode(sqlstate_code(error.sqlstate)), errmsg("%s", error.message),
                    error.detail[0] ? errdetail("%s", error.detail) : 0,
                    error.hint[0] ? errhint("%s", error.hint) : 0));
  }
  return result;
}

}  // namespace baton::pg
