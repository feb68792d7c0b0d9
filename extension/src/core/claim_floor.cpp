#include "claim_floor.h"

#include <cstring>

#include "pure_zone.h"

namespace baton::core {

bool claim_key_less(const ClaimKey& a, const ClaimKey& b) {
  if (a.neg_priority != b.neg_priority) return a.neg_priority < b.neg_priority;
  if (a.run_at != b.run_at) return a.run_at < b.run_at;
  return a.id < b.id;
}

bool claim_key_equal(const ClaimKey& a, const ClaimKey& b) {
  return !claim_key_less(a, b) && !claim_key_less(b, a);
}

ClaimKey safe_writer_cap(int64_t raise_start, int64_t margin_us) {
  int64_t run_at = raise_start < std::numeric_limits<int64_t>::min() + margin_us
                       ? std::numeric_limits<int64_t>::min()
                       : raise_start - margin_us;
  return ClaimKey{0, run_at, std::numeric_limits<int64_t>::min()};
}

ClaimKey raised_floor(const ClaimKey* first_unmarked_waiting, const ClaimKey& cap) {
  if (first_unmarked_waiting != nullptr && claim_key_less(*first_unmarked_waiting, cap))
    return *first_unmarked_waiting;
  return cap;
}

const FloorCache::Slot* FloorCache::find(const char* queue, std::size_t len) const {
  for (const Slot& slot : slots_)
    if (slot.used && slot.len == len && std::memcmp(slot.name, queue, len) == 0) return &slot;
  return nullptr;
}

FloorCache::Slot* FloorCache::find(const char* queue, std::size_t len) {
  return const_cast<Slot*>(static_cast<const FloorCache*>(this)->find(queue, len));
}

ClaimKey FloorCache::floor(const char* queue, std::size_t len, int64_t now) const {
  const Slot* slot = find(queue, len);
  if (slot == nullptr || now - slot->walked_from_front_at >= kFullWalkEveryUs ||
      now < slot->walked_from_front_at)
    return kLowestClaimKey;
  return slot->floor;
}

void FloorCache::store(const char* queue, std::size_t len, const ClaimKey& floor, bool from_front,
                       int64_t now) {
  if (len > kNameMax) return;  // longer than any queue name: not cached
  Slot* slot = find(queue, len);
  if (slot == nullptr) {
    slot = &slots_[0];
    for (Slot& candidate : slots_) {
      if (!candidate.used) {
        slot = &candidate;
        break;
      }
      if (candidate.raised_at < slot->raised_at) slot = &candidate;
    }
    *slot = Slot{};
    slot->used = true;
    slot->len = len;
    std::memcpy(slot->name, queue, len);
    if (!from_front) return;  // a new slot's floor must come from a walk from the front
  }
  slot->floor = floor;
  slot->raised_at = now;
  if (from_front) slot->walked_from_front_at = now;
}

bool FloorCache::raised_since(const char* queue, std::size_t len, int64_t since) const {
  const Slot* slot = find(queue, len);
  return slot != nullptr && slot->raised_at >= since;
}

void FloorCache::reset() {
  for (Slot& slot : slots_) slot = Slot{};
}

}  // namespace baton::core
