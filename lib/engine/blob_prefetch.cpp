#include "engine/blob_prefetch.hpp"

#include <algorithm>

#include "util/interrupt.hpp"

namespace bkp::engine {

using util::ErrorKind;

namespace {

// How far past the oldest unclaimed blob a worker looks for blobs of the
// same pack to read with it. Restore queues up to 64 MiB of chunks; this
// bounds the scan a claim costs, not what can be joined (ReadLimits does).
constexpr std::size_t kLookahead = 1024;

}  // namespace

BlobPrefetcher::BlobPrefetcher(repo::Repository& repo, std::uint64_t max_ahead_bytes,
                               unsigned threads, std::optional<repo::ReadLimits> limits)
    : repo_(repo),
      max_ahead_(max_ahead_bytes),
      limits_(limits.value_or(repo.backend().kind() == "local" ? repo::kLocalReadLimits
                                                               : repo::kRemoteReadLimits)) {
  if (threads == 0) {
    // Every core decodes; on an object store, more threads wait on requests.
    threads = std::max(std::clamp<unsigned>(std::thread::hardware_concurrency(), 1, 8),
                       std::min(repo.backend().parallel_reads(), 16u));
  }
  for (unsigned i = 0; i < threads; ++i) threads_.emplace_back([this] { work(); });
}

BlobPrefetcher::~BlobPrefetcher() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  job_ready_.notify_all();
  for (auto& t : threads_) t.join();
}

void BlobPrefetcher::push(const repo::BlobLocation& loc) { push(std::span(&loc, 1)); }

void BlobPrefetcher::push(std::span<const repo::BlobLocation> locs) {
  bool wake = false;
  {
    std::lock_guard lock(mu_);
    for (const auto& loc : locs) {
      slots_.push_back(Slot{loc, false, std::nullopt});
      queued_bytes_ += loc.raw_length;
      unclaimed_sealed_ += loc.length;
    }
    wake = idle_workers_ > 0 && claimable();
  }
  if (wake) job_ready_.notify_one();
}

util::Result<util::Bytes> BlobPrefetcher::next() {
  // Restores take every chunk from here, on the thread that writes.
  BKP_TRY(util::check_interrupted());
  std::unique_lock lock(mu_);
  if (!slots_.front().result) {
    taker_waiting_ = true;
    // Waiting makes what is queued claimable, however little.
    if (idle_workers_ > 0 && claimable()) job_ready_.notify_all();
    result_ready_.wait(lock, [&] { return slots_.front().result.has_value(); });
    taker_waiting_ = false;
  }
  auto result = std::move(*slots_.front().result);
  queued_bytes_ -= slots_.front().loc.raw_length;
  claimed_bytes_ -= slots_.front().loc.raw_length;
  slots_.pop_front();
  --first_unclaimed_;                            // the front had a result, so it was claimed
  bool wake = idle_workers_ > 0 && claimable();  // there may be room ahead again
  lock.unlock();
  if (wake) job_ready_.notify_all();
  return result;
}

std::uint64_t BlobPrefetcher::queued_bytes() const {
  std::lock_guard lock(mu_);
  return queued_bytes_;
}

std::size_t BlobPrefetcher::queued() const {
  std::lock_guard lock(mu_);
  return slots_.size();
}

std::uint64_t BlobPrefetcher::reads() const { return reads_.load(); }

bool BlobPrefetcher::claimable() const {
  // The oldest blob is always claimed, however large: the taker waits for
  // it.
  if (first_unclaimed_ >= slots_.size()) return false;
  // Enough queued to fill a request, or someone waiting for what is.
  if (unclaimed_sealed_ < limits_.max_span && !taker_waiting_) return false;
  if (first_unclaimed_ == 0) return true;
  // Claims wait for room for a request's worth, not each sliver the taker
  // frees: those made one small request each (tools/bench/s3: 108 GETs
  // for a 36 MiB restore, 49 with this rule).
  std::uint64_t want = std::min<std::uint64_t>(limits_.max_span, max_ahead_ / 2);
  return claimed_bytes_ + want < max_ahead_;
}

BlobPrefetcher::Group BlobPrefetcher::claim_group() {
  const std::size_t anchor = first_unclaimed_;
  const repo::BlobLocation& first = slots_[anchor].loc;
  // Candidates: the anchor, then unclaimed blobs of its pack in queue
  // order, as long as their plaintext fits in what may still be claimed.
  std::uint64_t room = claimed_bytes_ < max_ahead_ ? max_ahead_ - claimed_bytes_ : 0;
  std::uint64_t planned = first.raw_length;
  std::vector<std::size_t> candidates{anchor};
  std::vector<repo::ByteRange> ranges{{first.offset, first.length}};
  if (limits_.max_span > 0) {
    const std::size_t end = std::min(slots_.size(), anchor + kLookahead);
    for (std::size_t i = anchor + 1; i < end; ++i) {
      const Slot& s = slots_[i];
      if (s.claimed || s.loc.pack != first.pack) continue;
      if (planned + s.loc.raw_length > room) break;
      planned += s.loc.raw_length;
      candidates.push_back(i);
      ranges.push_back({s.loc.offset, s.loc.length});
    }
  }
  Group group;
  for (auto& read : repo::plan_reads(ranges, limits_)) {
    if (std::find(read.members.begin(), read.members.end(), std::size_t{0}) == read.members.end())
      continue;
    group.span = read.span;
    std::sort(read.members.begin(), read.members.end());  // queue order
    for (std::size_t m : read.members) {
      Slot& s = slots_[candidates[m]];
      s.claimed = true;
      claimed_bytes_ += s.loc.raw_length;
      unclaimed_sealed_ -= s.loc.length;
      group.slots.push_back(&s);
    }
    break;
  }
  while (first_unclaimed_ < slots_.size() && slots_[first_unclaimed_].claimed) ++first_unclaimed_;
  return group;
}

void BlobPrefetcher::publish(Slot* slot, util::Result<util::Bytes> result) {
  std::lock_guard lock(mu_);
  slot->result = std::move(result);
  if (taker_waiting_ && slot == &slots_.front()) result_ready_.notify_one();
}

void BlobPrefetcher::read_group(const Group& group) {
  ++reads_;
  if (group.slots.size() == 1) {
    publish(group.slots[0], repo_.load_blob_at(group.slots[0]->loc));
    return;
  }
  auto name = repo::pack_object_name(group.slots[0]->loc.pack);
  auto sealed = repo_.backend().get_range(name, group.span.offset, group.span.length);
  if (!sealed) {
    auto kind = sealed.error().kind;
    if (kind == ErrorKind::not_found || kind == ErrorKind::corrupt) {
      // A pack missing or shorter than the index says: read each blob on
      // its own, so that each gets its own answer (a pack cut short loses
      // only the blobs past its end).
      for (Slot* s : group.slots) {
        ++reads_;
        publish(s, repo_.load_blob_at(s->loc));
      }
      return;
    }
    for (Slot* s : group.slots) {
      publish(s, util::fail(kind, "reading blob " + util::to_hex(s->loc.id) + " from pack '" +
                                      name + "': " + sealed.error().message));
    }
    return;
  }
  // Decoded and handed over one by one, so the taker can write the first
  // blobs while the last are decoded.
  for (Slot* s : group.slots) {
    util::ByteView all(*sealed);
    publish(s, repo_.decode_blob(s->loc,
                                 all.subspan(s->loc.offset - group.span.offset, s->loc.length)));
  }
}

void BlobPrefetcher::work() {
  std::unique_lock lock(mu_);
  for (;;) {
    if (!stopping_ && !claimable()) {
      ++idle_workers_;
      job_ready_.wait(lock, [&] { return stopping_ || claimable(); });
      --idle_workers_;
    }
    if (stopping_) return;
    // Slots only leave the front, and only once decoded, so pointers to
    // claimed slots stay valid (deque pointers survive push_back and
    // pop_front of other elements).
    auto group = claim_group();
    bool more = idle_workers_ > 0 && claimable();
    lock.unlock();
    if (more) job_ready_.notify_one();
    read_group(group);
    lock.lock();
  }
}

}  // namespace bkp::engine
