// Reading and checking SQL arguments. Failures throw core::Error (caught by run_entry).
#pragma once
#include <cstddef>

#include "postgres_headers.h"

namespace baton::pg {

struct TextRef {
  const char* data;
  std::size_t len;
};

// Throws 22004 "<name> must not be null" when argument n is NULL.
void require_arg(FunctionCallInfo fcinfo, int n, const char* name);
// A text argument (detoasted, not copied). The caller checked it is not NULL.
TextRef text_arg(FunctionCallInfo fcinfo, int n);
TextRef text_ref(text* value);
// Whether two text Datums hold the same bytes.
bool same_text(Datum a, Datum b);
// Whole seconds and fractions of an interval; a month counts as 30 days (as PostgreSQL's
// interval comparison does).
double interval_seconds(const Interval* value);
// An interval argument in seconds, checked against [min, max].
double interval_arg_seconds(FunctionCallInfo fcinfo, int n, const char* name, double min,
                            double max);
// Checks a jsonb value: a JSON object (when object_only) and at most the size limit.
void check_jsonb(const char* name, Jsonb* value, bool object_only);

// A one-dimensional array argument, deconstructed. `nulls` may contain true entries.
struct ArrayArg {
  Datum* values;
  bool* nulls;
  int count;
};
ArrayArg array_arg(FunctionCallInfo fcinfo, int n, Oid element_type);
// Throws unless the array is NULL or has exactly `count` elements.
void require_same_length(const char* name, const ArrayArg* array, int count, const char* reference);

}  // namespace baton::pg
