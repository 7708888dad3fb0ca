#include "storage/rate_limit.hpp"

namespace bkp::storage {

namespace {

class RateLimited final : public Backend {
 public:
  RateLimited(std::unique_ptr<Backend> inner, std::shared_ptr<util::RateLimiter> up,
              std::shared_ptr<util::RateLimiter> down)
      : inner_(std::move(inner)), up_(std::move(up)), down_(std::move(down)) {}

  std::string describe() const override { return inner_->describe(); }
  std::string_view kind() const override { return inner_->kind(); }
  unsigned parallel_reads() const override { return inner_->parallel_reads(); }
  util::Status put(std::string_view name, util::ByteView data, WriteMode mode) override {
    if (up_) up_->consume(data.size());
    return inner_->put(name, data, mode);
  }
  util::Result<util::Bytes> get(std::string_view name) override {
    auto r = inner_->get(name);
    if (r.ok() && down_) down_->consume(r->size());
    return r;
  }
  util::Status get_into(std::string_view name, util::Bytes& out) override {
    auto st = inner_->get_into(name, out);
    if (st.ok() && down_) down_->consume(out.size());
    return st;
  }
  util::Result<util::Bytes> get_range(std::string_view name, std::uint64_t offset,
                                      std::uint64_t length) override {
    auto r = inner_->get_range(name, offset, length);
    if (r.ok() && down_) down_->consume(r->size());
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
  std::shared_ptr<util::RateLimiter> up_, down_;
};

}  // namespace

std::unique_ptr<Backend> rate_limited(std::unique_ptr<Backend> inner,
                                      std::shared_ptr<util::RateLimiter> upload,
                                      std::shared_ptr<util::RateLimiter> download) {
  if (!upload && !download) return inner;
  return std::make_unique<RateLimited>(std::move(inner), std::move(upload), std::move(download));
}

}  // namespace bkp::storage
