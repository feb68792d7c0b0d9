// Claim floors: where a claim may start walking a queue's ready index.
//
// Every claimed job leaves a dead entry at the front of the ready index until VACUUM
// removes it, so a claim that starts at the front walks all jobs claimed since the last
// vacuum (tens of thousands at a few thousand jobs/s). A floor is a key below which no
// *unmarked* waiting job exists or can appear, so the claim starts there instead. Jobs that
// could land below a floor are *marked* when written (a trigger decides) and are found
// through their own small index. See CONTRIBUTING.md, "Claim floors", for the argument.
//
// This file holds the pure parts: the key order and a backend's cache of floors.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>

namespace baton::core {

// A position in the ready index's order, all components ascending: (-priority, run_at, id).
// run_at is in PostgreSQL's timestamp unit (microseconds); INT64_MIN is -infinity.
struct ClaimKey {
  int32_t neg_priority;
  int64_t run_at;
  int64_t id;
};

// Before every job.
inline constexpr ClaimKey kLowestClaimKey{std::numeric_limits<int32_t>::min(),
                                          std::numeric_limits<int64_t>::min(),
                                          std::numeric_limits<int64_t>::min()};

bool claim_key_less(const ClaimKey& a, const ClaimKey& b);
bool claim_key_equal(const ClaimKey& a, const ClaimKey& b);

// The lowest key an unmarked job whose index entry is not in yet can have: unmarked jobs
// have priority <= 0 and a run_at no earlier than the clock when their row was built, so
// they sort at or after (0, the raise's start - the longest time from building a row to
// inserting its index entries).
ClaimKey safe_writer_cap(int64_t raise_start, int64_t margin_us);

// The floor a raise sets: the first unmarked waiting job it saw (none: nullptr), but never
// above the cap.
ClaimKey raised_floor(const ClaimKey* first_unmarked_waiting, const ClaimKey& cap);

// A backend's floors, one per queue name, for a handful of queues (least recently raised
// slot reused). Times are microseconds on one clock, passed in by the caller.
class FloorCache {
 public:
  static constexpr int kSlots = 16;
  static constexpr std::size_t kNameMax = 64;
  // A floor is trusted this long after the raise that walked from the front of the queue;
  // then the next raise walks from the front again. The invariant does not need it; it
  // bounds the damage of a writer that went around the rules (a clock stepped back, rows
  // replicated with triggers off) to this delay.
  static constexpr int64_t kFullWalkEveryUs = 5'000'000;

  // The floor to claim from: kLowestClaimKey when unknown or due for a full walk.
  ClaimKey floor(const char* queue, std::size_t len, int64_t now) const;

  // Records a raise. `from_front` says whether it walked from kLowestClaimKey.
  void store(const char* queue, std::size_t len, const ClaimKey& floor, bool from_front,
             int64_t now);

  // Whether the queue's floor was stored at or after `since`.
  bool raised_since(const char* queue, std::size_t len, int64_t since) const;

  // Forgets every floor (a transaction that raised one rolled back).
  void reset();

 private:
  struct Slot {
    bool used = false;
    std::size_t len = 0;
    char name[kNameMax] = {};
    ClaimKey floor = kLowestClaimKey;
    int64_t raised_at = 0;
    int64_t walked_from_front_at = 0;
  };
  const Slot* find(const char* queue, std::size_t len) const;
  Slot* find(const char* queue, std::size_t len);
  Slot slots_[kSlots];
};

}  // namespace baton::core
