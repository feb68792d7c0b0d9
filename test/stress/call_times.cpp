#include "call_times.h"

namespace stress {
namespace {

void keep_longer(CallTimes::Longest& longest, Call call, CallTimes::Clock::duration time) {
  if (longest.any && time <= longest.time) return;
  longest = CallTimes::Longest{time, call, true};
}

}  // namespace

const char* call_name(Call call) {
  switch (call) {
    case Call::defer_many_v1:
      return "defer_many_v1";
    case Call::fetch_v1:
      return "fetch_v1";
    case Call::fetch_v2:
      return "fetch_v2";
    case Call::finish_v1:
      return "finish_v1";
    case Call::finish_many_v1:
      return "finish_many_v1";
    case Call::heartbeat_v1:
      return "heartbeat_v1";
  }
  return "?";
}

void CallTimes::record(Call call, Clock::time_point start, Clock::time_point end) {
  std::lock_guard<std::mutex> guard(mutex_);
  auto kind = static_cast<std::size_t>(call);
  keep_longer(summary_.overall, call, end - start);
  if (!summary_.window_opened || end <= window_start_) {
    ++summary_.before[kind];
  } else if (summary_.window_closed && start >= window_end_) {
    ++summary_.after[kind];
  } else {
    ++summary_.overlapping[kind];
    keep_longer(summary_.during, call, end - start);
  }
}

void CallTimes::open_window() {
  std::lock_guard<std::mutex> guard(mutex_);
  window_start_ = Clock::now();
  summary_.window_opened = true;
}

void CallTimes::close_window() {
  std::lock_guard<std::mutex> guard(mutex_);
  window_end_ = Clock::now();
  summary_.window_closed = true;
  summary_.window = window_end_ - window_start_;
}

CallTimes::Summary CallTimes::summary() const {
  std::lock_guard<std::mutex> guard(mutex_);
  return summary_;
}

double to_ms(CallTimes::Clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

}  // namespace stress
