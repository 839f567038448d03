#pragma once
// Qt orders a queued signal's sending before its delivery through its event queue's lock. Qt is
// not built with ThreadSanitizer, which therefore cannot see that order and reports the data a
// worker built before emitting as racing with the reader. handoffRelease() before an emit that
// crosses threads and handoffAcquire() where it is received make the same order visible to it;
// they cost one atomic operation each.

#include <atomic>

namespace particle::ui {

inline std::atomic<unsigned> &handoffCounter() {
  static std::atomic<unsigned> counter{0};
  return counter;
}
inline void handoffRelease() {
  handoffCounter().fetch_add(1, std::memory_order_release);
}
inline void handoffAcquire() {
  (void)handoffCounter().load(std::memory_order_acquire);
}
// Calls handoffAcquire() for every queued call the GUI thread receives (an application event
// filter, installed once; the controllers of the worker threads call it).
void installHandoffFilter();

} // namespace particle::ui
