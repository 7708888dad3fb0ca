#include "sources/files/walk_ahead.hpp"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <variant>

namespace bkp::sources {

namespace fs = std::filesystem;
using util::Status;

namespace {

// How far the walker may run ahead. Large enough to smooth out a directory
// of many small entries, small enough that memory stays a few MiB.
constexpr std::size_t kMaxQueued = 4096;

enum class EventKind { enter_dir, leave_dir, entry, skipped, done };

struct Event {
  EventKind kind = EventKind::done;
  fs::path path;
  Node node;
  util::Error error;    // for skipped, and for done when the walk failed
  bool failed = false;  // done: the walk itself failed with `error`
};

// A bounded single-producer single-consumer queue of walk events.
class EventQueue {
 public:
  // False when the consumer has stopped: the producer should stop too.
  bool push(Event e) {
    std::unique_lock lock(mu_);
    not_full_.wait(lock, [&] { return queue_.size() < kMaxQueued || cancelled_; });
    if (cancelled_) return false;
    queue_.push_back(std::move(e));
    not_empty_.notify_one();
    return true;
  }
  Event pop() {
    std::unique_lock lock(mu_);
    not_empty_.wait(lock, [&] { return !queue_.empty(); });
    Event e = std::move(queue_.front());
    queue_.pop_front();
    not_full_.notify_one();
    return e;
  }
  void cancel() {
    std::lock_guard lock(mu_);
    cancelled_ = true;
    not_full_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable not_full_, not_empty_;
  std::deque<Event> queue_;
  bool cancelled_ = false;
};

// Runs on the walking thread: turns every call into an event.
class Forwarder final : public WalkVisitor {
 public:
  explicit Forwarder(EventQueue& queue) : queue_(queue) {}
  Status enter_dir(const fs::path& path, const Node& node) override {
    return send({EventKind::enter_dir, path, node, {}});
  }
  Status leave_dir(const fs::path& path, const Node& node) override {
    return send({EventKind::leave_dir, path, node, {}});
  }
  Status entry(const fs::path& path, const Node& node) override {
    return send({EventKind::entry, path, node, {}});
  }
  void skipped(const fs::path& path, const util::Error& error) override {
    (void)send({EventKind::skipped, path, {}, error});
  }

 private:
  Status send(Event e) {
    // The consumer has its own error to return; this one only unwinds the walk.
    if (!queue_.push(std::move(e))) return util::fail(util::ErrorKind::interrupted, "walk stopped");
    return {};
  }
  EventQueue& queue_;
};

Status deliver(Event& e, WalkVisitor& visitor) {
  switch (e.kind) {
    case EventKind::enter_dir:
      return visitor.enter_dir(e.path, e.node);
    case EventKind::leave_dir:
      return visitor.leave_dir(e.path, e.node);
    case EventKind::entry:
      return visitor.entry(e.path, e.node);
    case EventKind::skipped:
      visitor.skipped(e.path, e.error);
      return {};
    case EventKind::done:
      break;
  }
  return {};
}

}  // namespace

Status walk_ahead(const std::vector<fs::path>& roots, const WalkOptions& options,
                  WalkVisitor& visitor) {
  EventQueue queue;
  std::thread walker([&] {
    Forwarder forward(queue);
    auto st = walk(roots, options, forward);
    Event done{EventKind::done, {}, {}, {}};
    if (!st) {
      done.error = st.error();
      done.failed = true;
    }
    (void)queue.push(std::move(done));
  });
  Status result;
  for (;;) {
    Event e = queue.pop();
    if (e.kind == EventKind::done) {
      if (e.failed) result = util::fail(std::move(e.error));
      break;
    }
    if (auto st = deliver(e, visitor); !st) {
      result = st;
      queue.cancel();
      break;
    }
  }
  walker.join();
  return result;
}

}  // namespace bkp::sources
