// The prune lease ("prune-lease/<64 hex>"): two prunes of one repository
// must not run at once (one could mark the packs the other's repack is
// writing), yet a prune that crashes must never need a manual unlock. So a
// prune writes a lease object, create-only, with an expiry, then lists the
// leases: if another one is live it removes its own and stops (exit 11);
// leases past their expiry (a crashed prune's) are ignored and removed.
// While it runs, a thread renews the lease (a new object, then the old one
// removed) well before it expires. Sealed CBOR with the index key. See
// doc/prune.md ("Two prunes").
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "repo/repository.hpp"

namespace bkp::repo {

struct PruneLease {
  std::string created, expires;  // RFC 3339
  std::string hostname;
  std::int64_t pid = 0;

  util::Bytes encode() const;
  static util::Result<PruneLease> decode(util::ByteView cbor);
};

inline constexpr std::string_view prune_lease_prefix = "prune-lease/";
inline constexpr std::int64_t kDefaultPruneLeaseNs = 5LL * 60 * 1'000'000'000;

class PruneLeaseHolder {
 public:
  // Takes the lease, or fails with ErrorKind::locked naming the holder.
  static util::Result<std::unique_ptr<PruneLeaseHolder>> acquire(Repository& repo,
                                                                 std::int64_t ttl_ns);
  ~PruneLeaseHolder();  // stops renewing and removes the lease
  PruneLeaseHolder(const PruneLeaseHolder&) = delete;
  PruneLeaseHolder& operator=(const PruneLeaseHolder&) = delete;

  // Before each step that writes or deletes: fails (ErrorKind::locked) when
  // the lease could not be renewed and may have run out, so another prune
  // may have started.
  util::Status check() const;

 private:
  PruneLeaseHolder(Repository& repo, std::int64_t ttl_ns) : repo_(repo), ttl_ns_(ttl_ns) {}
  util::Result<std::string> write_lease(std::int64_t now);
  void renew_loop();

  Repository& repo_;
  std::int64_t ttl_ns_;
  std::string name_;                          // the current lease object (renewal thread only)
  std::atomic<std::int64_t> valid_until_{0};  // expiry of the newest lease written
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread renewer_;
};

}  // namespace bkp::repo
