#include "engine/file_write_pool.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "crypto/hash.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"

namespace bkp::engine {

using util::ErrorKind;
using util::fail;
namespace fs = std::filesystem;

namespace {

// Reads the file back in blocks (a restored file may be far larger than
// memory) and compares its hash with what was written.
util::Status verify_written(int dir_fd, const char* name, const fs::path& path,
                            const crypto::Digest& expected) {
  int fd = ::openat(dir_fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return fail(util::errno_error("verifying", path, errno));
  crypto::Sha256 back;
  std::vector<std::uint8_t> buf(1 << 20);
  for (;;) {
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      return fail(util::errno_error("verifying", path, err));
    }
    if (n == 0) break;
    back.update(util::ByteView(buf.data(), static_cast<std::size_t>(n)));
  }
  ::close(fd);
  if (back.finish() != expected) {
    return fail(ErrorKind::verification, "'" + path.string() + "' reads back differently");
  }
  return {};
}

}  // namespace

FileWritePool::FileWritePool(Options options) : opt_(options) {
  unsigned n = opt_.threads == 0 ? 1 : opt_.threads;
  threads_.reserve(n);
  for (unsigned i = 0; i < n; ++i) threads_.emplace_back([this] { work(); });
}

FileWritePool::~FileWritePool() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    for (auto& job : unstarted_) job->arrived.notify_all();
    if (feeding_) feeding_->arrived.notify_all();
  }
  job_ready_.notify_all();
  for (auto& t : threads_) t.join();
}

void FileWritePool::begin(fs::path dst, sources::Node meta, std::size_t chunks) {
  auto job = std::make_shared<Job>();
  job->dst = std::move(dst);
  job->meta = std::move(meta);
  job->chunks = chunks;
  begin_job(std::move(job));
}

void FileWritePool::begin(std::shared_ptr<const OpenDir> dir, std::string name, sources::Node meta,
                          std::size_t chunks, Placement placement) {
  auto job = std::make_shared<Job>();
  job->placement = placement;
  job->dst = dir->path / name;
  job->dir = std::move(dir);
  job->name = std::move(name);
  job->meta = std::move(meta);
  job->chunks = chunks;
  begin_job(std::move(job));
}

void FileWritePool::begin_job(std::shared_ptr<Job> job) {
  std::size_t chunks = job->chunks;
  std::unique_lock lock(mu_);
  while (unfinished_.size() >= opt_.max_files) wait_feeder(lock, FeederWait::a_file);
  job->serial = next_serial_++;
  unfinished_.insert(job->serial);
  feeding_ = job;
  unstarted_.push_back(std::move(job));
  // A worker is woken when the file's first chunk is there, not before:
  // woken now it would only go back to sleep waiting for it.
  if (chunks == 0 && worth_waking()) job_ready_.notify_one();
}

void FileWritePool::wait_feeder(std::unique_lock<std::mutex>& lock, FeederWait what) {
  // Whatever the feeder waits for, the workers bring it: none may sleep on
  // a batch smaller than kWakeBatch.
  if (idle_workers_ > 0 && !unstarted_.empty()) job_ready_.notify_all();
  feeder_wait_ = what;
  progress_.wait(lock);
  feeder_wait_ = FeederWait::nothing;
}

void FileWritePool::wake_feeder() {
  bool now = false;
  switch (feeder_wait_) {
    case FeederWait::nothing:
      break;
    // Woken for room for a batch, not for each file or chunk a worker
    // finishes: with small files the feeder otherwise woke, began one
    // file and slept again once per file (a third of its time went to
    // that).
    case FeederWait::space:
      now = buffered_ <= opt_.max_buffered / 2;
      break;
    case FeederWait::a_file:
      now = unfinished_.size() + std::min<std::size_t>(kWakeBatch, opt_.max_files / 2) <=
            opt_.max_files;
      break;
    case FeederWait::all_files:
      now = unfinished_.empty();
      break;
  }
  if (now) progress_.notify_one();
}

void FileWritePool::feed(util::Result<util::Bytes> chunk) {
  std::uint64_t size = chunk ? chunk->size() : 0;
  std::unique_lock lock(mu_);
  // One chunk always fits, however large: the file's worker takes it.
  while (buffered_ > 0 && buffered_ + size > opt_.max_buffered)
    wait_feeder(lock, FeederWait::space);
  buffered_ += size;
  bool first = feeding_->queued.empty() && !unstarted_.empty() && unstarted_.back() == feeding_;
  feeding_->queued.push_back(std::move(chunk));
  if (feeding_->waiting)
    feeding_->arrived.notify_one();
  else if (first && worth_waking())
    job_ready_.notify_one();
}

bool FileWritePool::worth_waking() const {
  // Small files come by the thousand: a wakeup per file cost more than
  // writing most of them (futex and scheduler calls were ~7% of a
  // restore's CPU). A woken worker writes every file queued before it
  // sleeps again, so it is woken for a batch, or for a lot of bytes.
  return idle_workers_ > 0 && (unstarted_.size() >= kWakeBatch || buffered_ >= kWakeBytes);
}

std::vector<FileWriteOutcome> FileWritePool::take_finished() {
  std::lock_guard lock(mu_);
  return std::exchange(finished_, {});
}

void FileWritePool::wait_idle() {
  std::unique_lock lock(mu_);
  while (!unfinished_.empty()) wait_feeder(lock, FeederWait::all_files);
}

std::uint64_t FileWritePool::begun() {
  std::lock_guard lock(mu_);
  return next_serial_;
}

std::uint64_t FileWritePool::finished_below() {
  std::lock_guard lock(mu_);
  return unfinished_.empty() ? next_serial_ : *unfinished_.begin();
}

void FileWritePool::work() {
  for (;;) {
    std::shared_ptr<Job> job;
    {
      std::unique_lock lock(mu_);
      while (unstarted_.empty() && !stopping_) {
        ++idle_workers_;
        job_ready_.wait(lock);
        --idle_workers_;
      }
      if (stopping_) return;
      job = std::move(unstarted_.front());
      unstarted_.pop_front();
    }
    FileWriteOutcome outcome = write_file(*job);
    std::lock_guard lock(mu_);
    finished_.push_back(std::move(outcome));
    unfinished_.erase(job->serial);
    wake_feeder();
  }
}

util::Result<util::Bytes> FileWritePool::pop(Job& job) {
  std::unique_lock lock(mu_);
  while (job.queued.empty() && !stopping_) {
    job.waiting = true;
    job.arrived.wait(lock);
    job.waiting = false;
  }
  if (job.queued.empty()) return fail(ErrorKind::interrupted, "restore stopped");
  auto chunk = std::move(job.queued.front());
  job.queued.pop_front();
  if (chunk) buffered_ -= chunk->size();
  wake_feeder();
  return chunk;
}

std::string FileWritePool::temporary_name(const std::string& name) {
  std::string tmp = "." + name + ".bkp-partial";
  // A name near NAME_MAX (255 bytes) has no room for the marks.
  if (tmp.size() > 255)
    tmp = ".bkp-partial-" + std::to_string(::getpid()) + "-" + std::to_string(++temp_serial_);
  return tmp;
}

FileWriteOutcome FileWritePool::write_file(Job& job) {
  FileWriteOutcome out{job.dst, {}, {}, {}};
  // Content goes to a temporary name and is renamed into place only when
  // complete: a file whose stored data turns out damaged never appears
  // under its real name, empty or half-written, and a file it replaces
  // stays whole until then. Placement::direct (a new directory: nothing to
  // replace) writes under the real name and removes it on failure.
  const bool direct = job.placement == Placement::direct;
  const int dir_fd = job.dir ? job.dir->fd.get() : AT_FDCWD;
  const std::string tmp_name = direct ? job.name : temporary_name(job.dst.filename().string());
  const fs::path tmp = direct ? job.dst : job.dst.parent_path() / tmp_name;
  const char* tmp_at = job.dir ? tmp_name.c_str() : tmp.c_str();
  const char* dst_at = job.dir ? job.name.c_str() : job.dst.c_str();
  sources::FileWriter writer;
  util::Status st = writer.open_at(
      dir_fd, tmp_at, tmp,
      direct ? sources::FileWriter::Create::exclusive : sources::FileWriter::Create::truncate);
  // Not ours to remove when something was there already.
  const bool created = st.ok();
  crypto::Sha256 written;
  // Every chunk is taken, even after a failure: they were fed for this file.
  for (std::size_t i = 0; i < job.chunks; ++i) {
    auto chunk = pop(job);
    if (!st) continue;
    if (!chunk) {
      st = chunk.propagate();
      continue;
    }
    st = writer.write(*chunk);
    if (st && opt_.verify == VerifyWrites::yes) written.update(*chunk);
  }
  if (st) st = writer.end(job.meta.size);
  if (st && opt_.verify == VerifyWrites::yes)
    st = verify_written(dir_fd, tmp_at, tmp, written.finish());
  // Metadata through the open file, before it has its name: no path walks,
  // and the name never shows the file with the wrong owner or mode.
  if (st)
    st = sources::apply_metadata(writer.fd(), job.dst, job.meta, opt_.ownership, out.warnings);
  if (st) st = writer.close(sources::Sync::no);
  if (!st) {
    if (created) ::unlinkat(dir_fd, tmp_at, 0);
    if (st.error().kind == ErrorKind::verification)
      out.damaged_why = st.error().message;
    else
      out.status = st;
    return out;
  }
  if (!direct && ::renameat(dir_fd, tmp_at, dir_fd, dst_at) != 0) {
    int err = errno;
    ::unlinkat(dir_fd, tmp_at, 0);
    out.status = fail(util::errno_error("renaming into", job.dst, err));
  }
  return out;
}

}  // namespace bkp::engine
