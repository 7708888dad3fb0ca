// Finishing and storing packs on a thread of their own. Writing a pack is
// mostly the kernel copying 16 MiB and the storage's latency (an fsync on
// disk, a PUT to a cloud); on the thread that reads and chunks, it was the
// larger half of a first backup's critical path.
//
// On an object store a PUT is mostly waiting (the upload, then the
// server's answer), so several run at once, each on its own thread.
//
// The durability order does not change: the repository learns that a pack
// is stored only from take(), after put() returned, and only then may an
// index segment name it.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "repo/keyring.hpp"
#include "repo/pack.hpp"
#include "storage/backend.hpp"

namespace bkp::repo {

class PackUploader {
 public:
  struct Stored {
    PackId id{};
    std::vector<BlobLocation> blobs;
    util::Status status;  // of the put; on error the blobs are not stored
  };

  // `writers` threads put packs at once; at most `max_queued` packs wait
  // for one of them, so memory stays at (max_queued + writers) packs.
  PackUploader(storage::Backend& backend, std::size_t max_queued, unsigned writers = 1);
  // Writes what is queued, then stops. Packs written here but never taken
  // are in no index: verify notes them, prune removes them.
  ~PackUploader();
  PackUploader(const PackUploader&) = delete;
  PackUploader& operator=(const PackUploader&) = delete;

  // Takes the writer's content (the writer is left empty) and a copy of the
  // key to seal its header with (the keyring may change meanwhile); blocks
  // while max_queued packs are waiting.
  void submit(PackWriter& writer, const DataKey& key);
  // The packs written so far, with their outcome; with Wait::all, first
  // waits until nothing is queued or being written.
  enum class Wait { none, all };
  std::vector<Stored> take(Wait wait);

 private:
  void work();
  struct Job {
    PackWriter writer;
    DataKey key;
  };
  storage::Backend& backend_;
  std::size_t max_queued_;
  std::mutex mu_;
  std::condition_variable job_ready_, slot_free_, all_done_;
  std::deque<Job> queue_;
  std::vector<Stored> done_;
  std::size_t writers_;
  std::size_t busy_ = 0;  // queued + being written
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace bkp::repo
