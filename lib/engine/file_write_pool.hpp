// Writes restored files on worker threads. The restorer takes each file's
// chunks from the BlobPrefetcher in order and feeds them to the file begun
// last; a worker creates the file (under a temporary name, or under its own
// in a directory the restore made: see Placement), writes it, applies its
// metadata through the open descriptor and, if it was written under a
// temporary name, renames it into place. Creating, renaming and
// chmod/chown/utimensat cost the kernel more than copying the data (perf
// of a restore of 66k files: about a third of all CPU), and on the walking
// thread they were the restore's critical path.
//
// Memory: at most max_buffered bytes of chunks wait in the pool (one chunk
// more when a single chunk is larger), and at most max_files files are
// unfinished.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "engine/restore.hpp"
#include "sources/files/restore_meta.hpp"
#include "util/bytes.hpp"
#include "util/result.hpp"
#include "util/unique_fd.hpp"

namespace bkp::engine {

// A directory files are restored into, held open so that each file is
// created, renamed and named in messages relative to it: no walk of the
// whole path per call (66k files of the bench tree: a path walk was ~5%
// of a restore's CPU, times several calls per file).
struct OpenDir {
  util::UniqueFd fd;
  std::filesystem::path path;
};

struct FileWriteOutcome {
  std::filesystem::path dst;
  util::Status status;      // an error other than damaged data: the restore stops
  std::string damaged_why;  // set: not restored, its stored data is damaged
  std::vector<std::string> warnings;
};

class FileWritePool {
 public:
  struct Options {
    sources::Ownership ownership = sources::Ownership::skip;
    VerifyWrites verify = VerifyWrites::no;
    unsigned threads = 2;
    std::uint64_t max_buffered = 16 << 20;
    // Small files by the thousand: with 64 the walk stalled whenever the
    // writers were preempted (its thread waited here a third of the time).
    std::size_t max_files = 256;
  };
  explicit FileWritePool(Options options);
  ~FileWritePool();  // abandons unfinished files (their temporary names removed)
  FileWritePool(const FileWritePool&) = delete;
  FileWritePool& operator=(const FileWritePool&) = delete;

  // Starts a file of `chunks` chunks; blocks while max_files are unfinished.
  // The file's chunks must then all be fed, in order, before the next begin.
  void begin(std::filesystem::path dst, sources::Node meta, std::size_t chunks);
  // The same for the file `name` in `dir`. Placement::direct writes it under
  // its own name from the start (created exclusively; removed again if its
  // data turns out damaged): only for a directory this restore made, where
  // no earlier file can be lost. It saves a rename per file (~30% of the
  // kernel's cost of creating a small file on tmpfs).
  enum class Placement { via_temporary, direct };
  void begin(std::shared_ptr<const OpenDir> dir, std::string name, sources::Node meta,
             std::size_t chunks, Placement placement = Placement::via_temporary);
  // The next chunk of the file begun last, or why it could not be read (the
  // file is then not restored, but the rest of its chunks must still come).
  void feed(util::Result<util::Bytes> chunk);
  // Outcomes of the files finished since the last call, in no set order.
  std::vector<FileWriteOutcome> take_finished();
  // Blocks until every begun file is finished.
  void wait_idle();
  // Files are numbered from 0 in the order begun. begun(): how many were;
  // finished_below(): every file numbered below it is finished. Directory
  // metadata waits for the files in the directory this way, not for the
  // whole pool to run dry.
  std::uint64_t begun();
  std::uint64_t finished_below();

 private:
  struct Job {
    std::filesystem::path dst;
    std::shared_ptr<const OpenDir> dir;  // null: dst is used as it is
    std::string name;                    // in dir
    Placement placement = Placement::via_temporary;
    sources::Node meta;
    std::size_t chunks = 0;
    std::uint64_t serial = 0;  // see begun()
    std::deque<util::Result<util::Bytes>> queued;
    std::condition_variable arrived;  // a chunk was fed (or the pool stops)
    bool waiting = false;             // its worker waits on `arrived`
  };
  void work();
  void begin_job(std::shared_ptr<Job> job);
  FileWriteOutcome write_file(Job& job);
  // Where a file is written until it is complete, beside its real name.
  std::string temporary_name(const std::string& name);
  // The job's next chunk; an error once the pool is stopping.
  util::Result<util::Bytes> pop(Job& job);

  Options opt_;
  // Waiters are woken only when they wait (a futex call per chunk otherwise).
  std::mutex mu_;
  std::condition_variable job_ready_;  // workers: a file was begun
  std::condition_variable progress_;   // the feeding thread: space, or a file finished
  unsigned idle_workers_ = 0;
  // What the feeding thread waits for, so it is woken only when that came.
  enum class FeederWait { nothing, space, a_file, all_files };
  FeederWait feeder_wait_ = FeederWait::nothing;
  void wait_feeder(std::unique_lock<std::mutex>& lock, FeederWait what);
  void wake_feeder();  // with mu_ held
  static constexpr std::size_t kWakeBatch = 8;
  static constexpr std::uint64_t kWakeBytes = 1 << 20;
  bool worth_waking() const;  // with mu_ held
  std::deque<std::shared_ptr<Job>> unstarted_;
  std::shared_ptr<Job> feeding_;
  std::vector<FileWriteOutcome> finished_;
  std::uint64_t next_serial_ = 0;
  // Serials of the files begun and not finished (at most max_files).
  std::set<std::uint64_t> unfinished_;
  std::uint64_t buffered_ = 0;
  bool stopping_ = false;
  std::atomic<std::uint64_t> temp_serial_{0};
  std::vector<std::thread> threads_;
};

}  // namespace bkp::engine
