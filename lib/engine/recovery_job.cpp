#include "engine/recovery_job.hpp"

#include "util/time.hpp"

namespace bkp::engine {

RecoveryJob::RecoveryJob(catalog::Catalog& catalog, std::string backup_id, std::string target)
    : catalog_(catalog) {
  row_.backup_id = std::move(backup_id);
  row_.target_database = std::move(target);
}

util::Status RecoveryJob::start() {
  row_.status = "running";
  row_.started_at = util::now_rfc3339();
  BKP_ASSIGN(row_.id, catalog_.insert_recovery_job(row_));
  return {};
}

void RecoveryJob::progress(std::uint64_t done, std::uint64_t total) {
  int pct = total ? static_cast<int>(std::min<std::uint64_t>(100, done * 100 / total)) : 0;
  auto now = std::chrono::steady_clock::now();
  if (pct - row_.progress < 5 && now - last_write_ < std::chrono::seconds(1)) return;
  row_.progress = std::min(pct, 99);  // 100 only when finished
  last_write_ = now;
  // Progress is advisory: a busy catalog must not fail the restore.
  (void)catalog_.update_recovery_job(row_);
}

void RecoveryJob::step(std::string_view name, std::string_view detail) {
  steps_.push_back({{"step", name}, {"time", util::now_rfc3339()}, {"detail", detail}});
  row_.steps = steps_.dump();
}

util::Status RecoveryJob::finish(const util::Status& outcome) {
  row_.completed_at = util::now_rfc3339();
  if (outcome.ok()) {
    row_.status = "completed";
    row_.progress = 100;
  } else {
    row_.status = "failed";
    row_.error_message = outcome.error().message;
  }
  return catalog_.update_recovery_job(row_);
}

}  // namespace bkp::engine
