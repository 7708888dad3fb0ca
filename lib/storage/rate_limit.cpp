#include "storage/rate_limit.hpp"

#include <algorithm>
#include <thread>

namespace bkp::storage {

TokenBucket::TokenBucket(std::uint64_t rate)
    : rate_(static_cast<double>(std::max<std::uint64_t>(rate, 1))),
      tokens_(rate_),
      last_(Clock::now()) {}

void TokenBucket::take(std::uint64_t bytes) {
  Clock::time_point until;
  {
    std::lock_guard lock(mutex_);
    auto now = Clock::now();
    tokens_ = std::min(rate_, tokens_ + std::chrono::duration<double>(now - last_).count() * rate_);
    last_ = now;
    tokens_ -= static_cast<double>(bytes);
    if (tokens_ >= 0) return;
    until = now + std::chrono::duration_cast<Clock::duration>(
                      std::chrono::duration<double>(-tokens_ / rate_));
  }
  // Outside the lock: the next caller sees the debt and waits behind us.
  std::this_thread::sleep_until(until);
}

namespace {

class RateLimited final : public Backend {
 public:
  RateLimited(std::unique_ptr<Backend> inner, std::shared_ptr<TokenBucket> up,
              std::shared_ptr<TokenBucket> down)
      : inner_(std::move(inner)), up_(std::move(up)), down_(std::move(down)) {}

  std::string describe() const override { return inner_->describe(); }
  std::string_view kind() const override { return inner_->kind(); }
  unsigned parallel_reads() const override { return inner_->parallel_reads(); }
  util::Status put(std::string_view name, util::ByteView data, WriteMode mode) override {
    if (up_) up_->take(data.size());
    return inner_->put(name, data, mode);
  }
  util::Result<util::Bytes> get(std::string_view name) override {
    auto r = inner_->get(name);
    if (r.ok() && down_) down_->take(r->size());
    return r;
  }
  util::Status get_into(std::string_view name, util::Bytes& out) override {
    auto st = inner_->get_into(name, out);
    if (st.ok() && down_) down_->take(out.size());
    return st;
  }
  util::Result<util::Bytes> get_range(std::string_view name, std::uint64_t offset,
                                      std::uint64_t length) override {
    auto r = inner_->get_range(name, offset, length);
    if (r.ok() && down_) down_->take(r->size());
    return r;
  }
  util::Result<ObjectInfo> stat(std::string_view name) override { return inner_->stat(name); }
  util::Status list(std::string_view prefix,
                    const std::function<util::Status(const ObjectInfo&)>& fn) override {
    return inner_->list(prefix, fn);
  }
  util::Status remove(std::string_view name) override { return inner_->remove(name); }
  util::Result<bool> container_exists() override { return inner_->container_exists(); }
  util::Status create_container() override { return inner_->create_container(); }

 private:
  std::unique_ptr<Backend> inner_;
  std::shared_ptr<TokenBucket> up_, down_;
};

}  // namespace

std::unique_ptr<Backend> rate_limited(std::unique_ptr<Backend> inner,
                                      std::shared_ptr<TokenBucket> upload,
                                      std::shared_ptr<TokenBucket> download) {
  if (!upload && !download) return inner;
  return std::make_unique<RateLimited>(std::move(inner), std::move(upload), std::move(download));
}

}  // namespace bkp::storage
