// qsort/bsearch order for int64 values (job ids).
#pragma once
#include "postgres_headers.h"

namespace baton::pg {

inline int compare_int64(const void* a, const void* b) {
  int64 x = *static_cast<const int64*>(a);
  int64 y = *static_cast<const int64*>(b);
  return (x > y) - (x < y);
}

}  // namespace baton::pg
