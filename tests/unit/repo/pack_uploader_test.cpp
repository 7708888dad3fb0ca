// PackUploader: packs written on threads of their own, several at once for
// object stores, within the memory bound.
#include <catch2/catch.hpp>

#include <chrono>
#include <condition_variable>
#include <mutex>

#include "helpers.hpp"
#include "repo/pack_uploader.hpp"

using namespace bkp;
namespace fs = std::filesystem;

namespace {

// Local storage whose puts of packs wait (up to a timeout) until `want` of
// them are in flight, and which records the most seen at once.
class GatheringBackend final : public storage::Backend {
 public:
  GatheringBackend(fs::path root, int want) : inner_(std::move(root)), want_(want) {}
  std::string describe() const override { return inner_.describe(); }
  std::string_view kind() const override { return "test"; }
  util::Status put(std::string_view name, util::ByteView data, storage::WriteMode mode) override {
    {
      std::unique_lock lock(mu_);
      max_seen = std::max(max_seen, ++in_flight_);
      cv_.notify_all();
      cv_.wait_for(lock, std::chrono::milliseconds(500), [&] { return in_flight_ >= want_; });
    }
    auto st = inner_.put(name, data, mode);
    std::lock_guard lock(mu_);
    --in_flight_;
    return st;
  }
  util::Result<util::Bytes> get(std::string_view name) override { return inner_.get(name); }
  util::Result<util::Bytes> get_range(std::string_view name, std::uint64_t offset,
                                      std::uint64_t length) override {
    return inner_.get_range(name, offset, length);
  }
  util::Result<storage::ObjectInfo> stat(std::string_view name) override {
    return inner_.stat(name);
  }
  util::Status list(std::string_view prefix,
                    const std::function<util::Status(const storage::ObjectInfo&)>& fn) override {
    return inner_.list(prefix, fn);
  }
  util::Status remove(std::string_view name) override { return inner_.remove(name); }

  int max_seen = 0;

 private:
  storage::LocalBackend inner_;
  int want_;
  int in_flight_ = 0;
  std::mutex mu_;
  std::condition_variable cv_;
};

}  // namespace

TEST_CASE("pack uploader: several writers put packs at once, no more") {
  test::TempDir dir;
  auto writers = GENERATE(1, 3);
  GatheringBackend backend(dir.path(), writers);
  auto keyring = repo::Keyring::create(util::as_bytes("c"));
  std::size_t stored = 0;
  {
    repo::PackUploader up(backend, 1, static_cast<unsigned>(writers));
    for (std::uint8_t i = 0; i < 7; ++i) {
      repo::PackWriter w;
      repo::BlobId id{};
      id.fill(i);
      auto body = test::noise(1000, i);
      w.add(repo::BlobType::data, id, body, 1000);
      up.submit(w, keyring.current_key());
      CHECK(w.empty());
    }
    for (auto& s : up.take(repo::PackUploader::Wait::all)) {
      CHECK(s.status.ok());
      ++stored;
    }
  }
  CHECK(stored == 7);
  CHECK(backend.max_seen == writers);
  std::size_t objects = 0;
  for (auto& e : fs::recursive_directory_iterator(dir.path())) objects += e.is_regular_file();
  CHECK(objects == 7);
}
