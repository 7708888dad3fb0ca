// Records a restore as a row of recovery_jobs: running with progress while
// it works, then completed or failed with the error, and its steps as JSON.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <string>

#include "catalog/catalog.hpp"

namespace bkp::engine {

class RecoveryJob {
 public:
  RecoveryJob(catalog::Catalog& catalog, std::string backup_id, std::string target);
  // Before start(): the target of a point-in-time recovery.
  void set_point_in_time(std::string when) { row_.point_in_time = std::move(when); }
  util::Status start();
  // Throttled: writes at most once a second or when the percentage changes by 5.
  void progress(std::uint64_t done, std::uint64_t total);
  void step(std::string_view name, std::string_view detail = {});
  util::Status finish(const util::Status& outcome);
  const std::string& id() const { return row_.id; }

 private:
  catalog::Catalog& catalog_;
  catalog::RecoveryJobRow row_;
  nlohmann::json steps_ = nlohmann::json::array();
  std::chrono::steady_clock::time_point last_write_{};
};

}  // namespace bkp::engine
