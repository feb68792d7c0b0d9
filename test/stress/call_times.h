// Wall time of every call the workers and the producer make, measured against one window
// (the upgrade's: from just before ALTER EXTENSION started to just after it committed). It
// keeps only maxima and counts, so a long run costs no memory.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <mutex>

namespace stress {

enum class Call { defer_many_v1, fetch_v1, fetch_v2, finish_v1, finish_many_v1, heartbeat_v1 };
inline constexpr std::size_t kCallKinds = 6;
const char* call_name(Call call);

class CallTimes {
 public:
  using Clock = std::chrono::steady_clock;

  struct Longest {
    Clock::duration time{};
    Call call = Call::fetch_v1;
    bool any = false;
  };
  // Calls per kind, by where they fall against the window. A call that was in flight at
  // either edge counts as during it: the upgrade could have stalled it.
  using PerKind = std::array<long, kCallKinds>;
  struct Summary {
    Longest overall, during;
    PerKind before{}, overlapping{}, after{};
    bool window_opened = false, window_closed = false;
    Clock::duration window{};  // from open to close (0 while not closed)
  };

  void record(Call call, Clock::time_point start, Clock::time_point end);
  void open_window();
  void close_window();
  Summary summary() const;

 private:
  // One lock for the clock reads of the window edges and for every record: a call whose
  // record saw no open window ended before it opened, and one that saw it still open
  // started before it closed, so each call is classified exactly, without keeping it.
  mutable std::mutex mutex_;
  Clock::time_point window_start_, window_end_;
  Summary summary_;
};

// Times one call from construction to destruction, also when the call throws: a call that
// failed after waiting still stalled its caller.
class TimedCall {
 public:
  TimedCall(CallTimes& times, Call call)
      : times_(times), call_(call), start_(CallTimes::Clock::now()) {}
  ~TimedCall() { times_.record(call_, start_, CallTimes::Clock::now()); }
  TimedCall(const TimedCall&) = delete;
  TimedCall& operator=(const TimedCall&) = delete;

 private:
  CallTimes& times_;
  Call call_;
  CallTimes::Clock::time_point start_;
};

// Runs call_body (a call of `call`) and records its wall time; returns what it returns.
template <typename Body>
auto timed(CallTimes& times, Call call, Body call_body) {
  TimedCall timer(times, call);
  return call_body();
}

// Milliseconds, for printing.
double to_ms(CallTimes::Clock::duration d);

}  // namespace stress
