#include "repo/prune_lease.hpp"

#include <unistd.h>

#include <vector>

#include "crypto/hash.hpp"
#include "repo/envelope.hpp"
#include "repo/json_read.hpp"
#include "util/host.hpp"
#include "util/time.hpp"

namespace bkp::repo {

using util::ErrorKind;
using util::fail;

namespace {

// A lease counts as run out this long before its expiry: room for clock
// skew between hosts and for the step that follows a check.
std::int64_t margin(std::int64_t ttl_ns) { return ttl_ns / 5; }

}  // namespace

util::Bytes PruneLease::encode() const {
  nlohmann::json j{{"version", 1},
                   {"created", created},
                   {"expires", expires},
                   {"hostname", hostname},
                   {"pid", pid}};
  return nlohmann::json::to_cbor(j);
}

util::Result<PruneLease> PruneLease::decode(util::ByteView cbor) {
  try {
    auto j = parse_cbor(cbor);
    if (json_integer<int>(j.at("version"), "version") != 1) {
      return fail(ErrorKind::usage, "prune lease format is newer than this bkp; upgrade bkp");
    }
    PruneLease l;
    l.created = j.at("created").get<std::string>();
    l.expires = j.at("expires").get<std::string>();
    l.hostname = j.value("hostname", "");
    l.pid = j.value("pid", std::int64_t{0});
    return l;
  } catch (const nlohmann::json::exception& e) {
    return fail(ErrorKind::corrupt, std::string("prune lease is not valid: ") + e.what());
  }
}

util::Result<std::string> PruneLeaseHolder::write_lease(std::int64_t now) {
  PruneLease lease{util::format_rfc3339(now), util::format_rfc3339(now + ttl_ns_),
                   util::host_name(), static_cast<std::int64_t>(::getpid())};
  auto name = std::string(prune_lease_prefix) + util::to_hex(crypto::random_bytes(32));
  auto& key = repo_.keyring().index_sealing_key();
  auto sealed =
      seal_object(ObjectType::prune_lease, key.id, key.key, lease.encode(), util::as_bytes(name));
  BKP_TRY(repo_.backend().put(name, sealed, storage::WriteMode::create_only));
  valid_until_ = now + ttl_ns_;
  return name;
}

util::Result<std::unique_ptr<PruneLeaseHolder>> PruneLeaseHolder::acquire(Repository& repo,
                                                                          std::int64_t ttl_ns) {
  std::unique_ptr<PruneLeaseHolder> h(new PruneLeaseHolder(repo, ttl_ns));
  // Write first, then list: of two prunes starting together, each sees the
  // other's lease (or only one sees none), so at most one goes on.
  BKP_ASSIGN(h->name_, h->write_lease(util::now_ns()));
  std::vector<std::string> names;
  auto listed = repo.backend().list(prune_lease_prefix, [&](const storage::ObjectInfo& o) {
    if (o.name != h->name_) names.push_back(o.name);
    return util::Status{};
  });
  auto give_up = [&](util::Error e) {
    (void)repo.backend().remove(h->name_);
    h->name_.clear();
    return fail(std::move(e));
  };
  if (!listed) return give_up(listed.error());
  const auto now = util::now_ns();
  for (auto& name : names) {
    auto plain = repo.load_object(ObjectType::prune_lease, name);
    if (!plain && plain.error().kind == ErrorKind::not_found) continue;  // renewed or finished
    if (!plain) return give_up(plain.error().context("reading prune lease '" + name + "'"));
    auto lease = PruneLease::decode(*plain);
    auto expires = lease ? util::parse_rfc3339(lease->expires) : std::nullopt;
    if (expires && *expires > now) {
      return give_up(util::make_error(ErrorKind::locked,
                                      "another prune of this repository is running (host " +
                                          lease->hostname + ", pid " + std::to_string(lease->pid) +
                                          ", since " + lease->created + "; its lease runs to " +
                                          lease->expires + " unless renewed): try again later"));
    }
    // Past its expiry (or unreadable): left by a prune that died.
    (void)repo.backend().remove(name);
  }
  h->renewer_ = std::thread([p = h.get()] { p->renew_loop(); });
  return h;
}

void PruneLeaseHolder::renew_loop() {
  // Renew at a fifth of the lifetime: four attempts fail before it runs out.
  const auto every = std::chrono::nanoseconds(std::max<std::int64_t>(ttl_ns_ / 5, 1'000'000));
  std::unique_lock lock(mu_);
  while (!cv_.wait_for(lock, every, [&] { return stop_; })) {
    lock.unlock();
    auto fresh = write_lease(util::now_ns());
    if (fresh) {
      (void)repo_.backend().remove(name_);
      name_ = *fresh;
    }
    lock.lock();
  }
}

util::Status PruneLeaseHolder::check() const {
  if (util::now_ns() < valid_until_.load() - margin(ttl_ns_)) return {};
  return fail(ErrorKind::locked,
              "the prune lease could not be renewed in time (storage unreachable?): another "
              "prune may be running, so this one stops; run it again");
}

PruneLeaseHolder::~PruneLeaseHolder() {
  if (renewer_.joinable()) {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    renewer_.join();
  }
  if (!name_.empty()) (void)repo_.backend().remove(name_);
}

}  // namespace bkp::repo
