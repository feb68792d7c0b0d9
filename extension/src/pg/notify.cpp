#include "notify.h"

#include <cstdio>

namespace baton::pg {

void notify_queue(const char* queue, std::size_t len) {
  char channel[NAMEDATALEN];
  std::snprintf(channel, sizeof channel, "baton_%.*s", static_cast<int>(len), queue);
  Async_Notify(channel, "");
}

}  // namespace baton::pg
