#include "args.h"

#include "../core/error.h"
#include "../core/limits.h"
#include "../core/validate.h"

namespace baton::pg {

using core::fail;
namespace sqlstate = core::sqlstate;

void require_arg(FunctionCallInfo fcinfo, int n, const char* name) {
  if (PG_ARGISNULL(n)) fail(sqlstate::kNullValue, "%s must not be null", name);
}

TextRef text_ref(text* value) {
  return TextRef{VARDATA_ANY(value), VARSIZE_ANY_EXHDR(value)};
}

bool same_text(Datum a, Datum b) {
  TextRef x = text_ref(DatumGetTextPP(a));
  TextRef y = text_ref(DatumGetTextPP(b));
  return x.len == y.len && memcmp(x.data, y.data, x.len) == 0;
}

TextRef text_arg(FunctionCallInfo fcinfo, int n) {
  return text_ref(PG_GETARG_TEXT_PP(n));
}

double interval_seconds(const Interval* value) {
  return static_cast<double>(value->time) / USECS_PER_SEC +
         static_cast<double>(value->day) * SECS_PER_DAY +
         static_cast<double>(value->month) * DAYS_PER_MONTH * SECS_PER_DAY;
}

double interval_arg_seconds(FunctionCallInfo fcinfo, int n, const char* name, double min,
                            double max) {
  require_arg(fcinfo, n, name);
  double seconds = interval_seconds(PG_GETARG_INTERVAL_P(n));
  core::validate_seconds_range(name, seconds, min, max);
  return seconds;
}

void check_jsonb(const char* name, Jsonb* value, bool object_only) {
  if (object_only && !JB_ROOT_IS_OBJECT(value))
    core::fail_hint(sqlstate::kInvalidParameter, "Pass a JSON object, for example '{}'.",
                    "%s must be a JSON object", name);
  core::validate_json_size(name, VARSIZE(value));
}

ArrayArg array_arg(FunctionCallInfo fcinfo, int n, Oid element_type) {
  ArrayType* array = PG_GETARG_ARRAYTYPE_P(n);
  ArrayArg out{nullptr, nullptr, 0};
  if (ARR_NDIM(array) > 1) fail(sqlstate::kInvalidParameter, "arrays must be one-dimensional");
  int16 typlen;
  bool typbyval;
  char typalign;
  get_typlenbyvalalign(element_type, &typlen, &typbyval, &typalign);
  deconstruct_array(array, element_type, typlen, typbyval, typalign, &out.values, &out.nulls,
                    &out.count);
  return out;
}

void require_same_length(const char* name, const ArrayArg* array, int count,
                         const char* reference) {
  if (array != nullptr && array->count != count)
    fail(sqlstate::kInvalidParameter, "%s has %d elements but %s has %d", name, array->count,
         reference, count);
}

}  // namespace baton::pg
