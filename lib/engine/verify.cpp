#include "engine/verify.hpp"

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "crypto/hash.hpp"
#include "engine/tree_walk.hpp"
#include "engine/wal_continuity.hpp"
#include "util/interrupt.hpp"
#include "util/text.hpp"

namespace bkp::engine {

using repo::BlobId;
using repo::PackId;
using util::ErrorKind;
using util::fail;

util::Status parse_subset(std::string_view text, VerifyOptions& o) {
  o.read_data = ReadData::subset;
  if (!text.empty() && text.back() == '%') {
    auto percent = util::parse_number<double>(text.substr(0, text.size() - 1));
    if (percent && *percent > 0 && *percent <= 100) {
      o.percent = *percent;
      return {};
    }
  } else if (auto slash = text.find('/'); slash != std::string_view::npos) {
    auto n = util::parse_number<unsigned>(text.substr(0, slash));
    auto m = util::parse_number<unsigned>(text.substr(slash + 1));
    if (n && m && *n >= 1 && *n <= *m) {
      o.part_n = *n;
      o.part_m = *m;
      return {};
    }
  }
  return fail(ErrorKind::usage,
              "--read-data-subset takes N% (0 < N <= 100) or n/m (1 <= n <= m), not '" +
                  std::string(text) + "'");
}

namespace {

class Verifier {
 public:
  Verifier(repo::Repository& repo, const VerifyOptions& opt, const VerifyProgressFn& progress)
      : repo_(repo), opt_(opt), progress_(progress) {}

  VerifyReport report;

  util::Status run() {
    BKP_TRY(repo_.may_read("the repository to verify it"));
    BKP_TRY(repo_.sync_catalog());
    for (auto& d : repo_.damaged_objects()) problem(d);
    BKP_TRY(list_packs());
    BKP_TRY(check_index());
    BKP_ASSIGN(auto ids, snapshot_ids());
    // The packs are read on worker threads while this one checks the
    // snapshots' trees: the two are independent until the merge.
    if (opt_.read_data != ReadData::none) start_reading();
    util::Status structure;
    for (auto& id : ids) {
      structure = util::check_interrupted();
      if (structure) structure = check_snapshot(id);
      if (!structure) break;
    }
    if (opt_.read_data != ReadData::none) {
      if (!structure) reading_->stop = true;
      auto read = finish_reading();
      BKP_TRY(structure);
      BKP_TRY(read);
    }
    BKP_TRY(structure);
    if (!damaged_blobs_.empty()) BKP_TRY(attribute_damage(ids));
    BKP_ASSIGN(auto wal, check_wal_continuity(repo_, ids));
    for (auto& p : wal.problems) problem(p);
    report.damaged_snapshots.insert(wal.damaged_snapshots.begin(), wal.damaged_snapshots.end());
    report.wal_segments = wal.segments;
    return {};
  }

 private:
  void problem(std::string msg) { report.problems.push_back(std::move(msg)); }

  util::Status list_packs() {
    return repo_.backend().list("data/", [&](const storage::ObjectInfo& o) -> util::Status {
      if (auto id = repo::parse_pack_name(o.name)) {
        stored_packs_[*id] = o.size;
      } else {
        report.notes.push_back("unexpected object '" + o.name + "'");
      }
      return {};
    });
  }

  util::Status check_index() {
    std::set<PackId> reported;
    BKP_TRY(repo_.catalog().for_each_blob([&](const catalog::BlobLocation& b) -> util::Status {
      auto it = stored_packs_.find(b.pack);
      if (it == stored_packs_.end()) {
        if (reported.insert(b.pack).second) {
          problem("pack '" + repo::pack_object_name(b.pack) + "' is missing");
        }
        damaged_blobs_.insert(b.id);
      } else if (std::uint64_t(b.offset) + b.length > it->second) {
        problem("blob " + util::to_hex(b.id) + " lies beyond the end of pack '" +
                repo::pack_object_name(b.pack) + "'");
        damaged_blobs_.insert(b.id);
      }
      indexed_packs_[b.pack].push_back(b);
      return {};
    }));
    for (auto& [pack, size] : stored_packs_) {
      if (!indexed_packs_.count(pack)) {
        report.notes.push_back("pack '" + repo::pack_object_name(pack) +
                               "' is not referenced by any index (left by an interrupted "
                               "backup; prune removes it)");
      }
    }
    report.packs = stored_packs_.size();
    return {};
  }

  util::Result<std::vector<std::string>> snapshot_ids() {
    if (!opt_.snapshot_ids.empty()) return opt_.snapshot_ids;
    std::vector<std::string> ids;
    BKP_TRY(repo_.backend().list("snapshots/", [&](const storage::ObjectInfo& o) -> util::Status {
      ids.push_back(o.name.substr(10));
      return {};
    }));
    return ids;
  }

  // Checks that a blob is indexed and its pack present; false when damaged.
  bool blob_present(const BlobId& id) {
    ++report.blobs_referenced;
    if (damaged_blobs_.count(id)) return false;
    auto loc = repo_.catalog().find_blob(id);
    if (!loc.ok() || !loc->has_value()) {
      damaged_blobs_.insert(id);
      problem("blob " + util::to_hex(id) + " is referenced but in no index");
      return false;
    }
    return true;
  }

  util::Status check_snapshot(const std::string& id) {
    ++report.snapshots;
    auto snap = repo_.load_snapshot(id);
    if (!snap) {
      problem("snapshot " + id + ": " + snap.error().message);
      report.damaged_snapshots.insert(id);
      return {};
    }
    if (!check_tree(snap->tree)) report.damaged_snapshots.insert(id);
    return {};
  }

  // Returns whether the tree and everything below it is intact. Trees shared
  // between snapshots are checked once.
  bool check_tree(const BlobId& id) {
    if (auto it = tree_ok_.find(id); it != tree_ok_.end()) return it->second;
    bool ok = blob_present(id);
    if (ok) {
      auto tree = load_tree(repo_, id);
      ++report.trees;
      if (!tree) {
        problem(tree.error().message);
        damaged_blobs_.insert(id);
        ok = false;
      } else {
        for (auto& node : tree->nodes) {
          for (auto& c : node.content) ok = blob_present(c) && ok;
          if (node.subtree) ok = check_tree(*node.subtree) && ok;
        }
      }
    }
    tree_ok_[id] = ok;
    return ok;
  }

  bool chosen(const PackId& id, std::mt19937_64& rng) {
    if (opt_.read_data == ReadData::all) return true;
    if (opt_.part_m) return (id[0] * 256u + id[1]) % opt_.part_m == opt_.part_n - 1;
    return std::uniform_real_distribution<double>(0, 100)(rng) < opt_.percent;
  }

  // What reading one pack found; packs are read on several threads and
  // their findings merged in pack order, so the report does not depend on
  // scheduling.
  struct PackCheck {
    std::vector<std::string> problems;
    std::vector<BlobId> damaged;
    std::uint64_t bytes_read = 0, blobs_read = 0;
    bool read = false;
    std::optional<util::Error> fatal;  // the storage failed: stop verifying
  };

  struct Reading {
    std::vector<std::pair<PackId, const std::vector<catalog::BlobLocation>*>> todo;
    std::vector<PackCheck> results;
    std::atomic<std::size_t> next{0};
    std::atomic<bool> stop{false};
    std::mutex progress_mu;
    std::uint64_t bytes_done = 0, packs_done = 0;
    std::vector<std::thread> pool;
  };

  // Reading, hashing, decrypting and decompressing a pack is independent
  // of every other pack: one worker per core, each holding one pack.
  void start_reading() {
    reading_ = std::make_unique<Reading>();
    auto& r = *reading_;
    std::mt19937_64 rng{std::random_device{}()};
    for (auto& [pack, blobs] : indexed_packs_) {
      if (stored_packs_.count(pack) && chosen(pack, rng)) r.todo.emplace_back(pack, &blobs);
    }
    r.results.resize(r.todo.size());
    unsigned threads = std::clamp<unsigned>(std::thread::hardware_concurrency(), 1, 8);
    threads = static_cast<unsigned>(std::min<std::size_t>(threads, r.todo.size()));
    for (unsigned t = 0; t < threads; ++t) r.pool.emplace_back([this] { read_some(); });
  }

  void read_some() {
    auto& r = *reading_;
    for (std::size_t i;
         !r.stop && !util::interrupt_requested() && (i = r.next++) < r.todo.size();) {
      r.results[i] = read_pack(r.todo[i].first, *r.todo[i].second);
      if (r.results[i].fatal) r.stop = true;
      std::lock_guard lock(r.progress_mu);
      r.bytes_done += r.results[i].bytes_read;
      r.packs_done += r.results[i].read;
      if (progress_) progress_(r.bytes_done, r.packs_done);
    }
  }

  // Waits for the workers and merges their findings in pack order, so the
  // report does not depend on scheduling.
  util::Status finish_reading() {
    auto& r = *reading_;
    for (auto& t : r.pool) t.join();
    // Unread packs would look like a clean verify: an interrupted one fails.
    BKP_TRY(util::check_interrupted());
    for (auto& pc : r.results) {
      if (pc.fatal) return fail(*pc.fatal);
      for (auto& p : pc.problems) problem(std::move(p));
      damaged_blobs_.insert(pc.damaged.begin(), pc.damaged.end());
      report.packs_read += pc.read;
      report.bytes_read += pc.bytes_read;
      report.blobs_read += pc.blobs_read;
    }
    return {};
  }

  // Runs on worker threads: reads only the storage, the keyring, `blobs`
  // and stored_packs_ (not changed while they run). The pack is read in
  // windows of about opt_.read_window bytes that end between blobs, hashed as
  // it goes: holding whole packs (16 MiB and more) per worker was a third
  // of verify's peak memory. The last window runs to the end of the pack
  // and so holds its header.
  PackCheck read_pack(const PackId& pack, const std::vector<catalog::BlobLocation>& blobs) const {
    PackCheck out;
    auto name = repo::pack_object_name(pack);
    std::uint64_t size = stored_packs_.at(pack);
    std::vector<const catalog::BlobLocation*> order;
    order.reserve(blobs.size());
    for (auto& b : blobs) order.push_back(&b);
    std::sort(order.begin(), order.end(), [](auto* a, auto* b) { return a->offset < b->offset; });
    crypto::Sha256 hash;
    std::size_t next_blob = 0;
    util::Bytes window;
    for (std::uint64_t pos = 0; pos < size || size == 0;) {
      std::uint64_t end = std::min(size, pos + std::max<std::uint64_t>(opt_.read_window, 1));
      // Whole blobs only; after the last blob, the rest of the pack.
      for (std::size_t j = next_blob; j < order.size() && order[j]->offset < end; ++j)
        end = std::max(end, std::min(size, std::uint64_t(order[j]->offset) + order[j]->length));
      if (order.empty() || order.back()->offset < end) end = size;
      auto got = repo_.backend().get_range(name, pos, end - pos);
      if (!got) {
        if (got.error().kind == ErrorKind::transient || got.error().kind == ErrorKind::auth) {
          out.fatal = got.error();
          return out;
        }
        out.problems.push_back("pack '" + name + "': " + got.error().message);
        for (auto& b : blobs) out.damaged.push_back(b.id);
        return out;
      }
      window = std::move(*got);
      out.read = true;
      out.bytes_read += window.size();
      hash.update(window);
      for (; next_blob < order.size() && order[next_blob]->offset < end; ++next_blob) {
        const auto& b = *order[next_blob];
        ++out.blobs_read;
        if (std::uint64_t(b.offset) + b.length > size) continue;  // reported already
        auto sealed = util::ByteView(window).subspan(b.offset - pos, b.length);
        if (auto data = repo_.decode_blob(b, sealed); !data) {
          out.problems.push_back(data.error().message);
          out.damaged.push_back(b.id);
        }
      }
      if (end == size) break;
      pos = end;
    }
    out.blobs_read += order.size() - next_blob;  // past the end: reported by check_index
    if (hash.finish() != pack) {
      out.problems.push_back("pack '" + name + "' does not match its hash (damaged on storage)");
    }
    check_pack_header(name, window, blobs, out.problems);
    return out;
  }

  void check_pack_header(const std::string& name, const util::Bytes& bytes,
                         const std::vector<catalog::BlobLocation>& blobs,
                         std::vector<std::string>& problems) const {
    auto len = repo::pack_header_length(bytes);
    if (!len || *len + 4 > bytes.size()) {
      problems.push_back("pack '" + name + "' has no valid header");
      return;
    }
    auto envelope = util::ByteView(bytes).subspan(bytes.size() - 4 - *len, *len);
    auto peeked = repo::peek_envelope(envelope);
    auto header = peeked ? repo::open_pack_header(envelope, repo_.find_key(peeked->key_id))
                         : util::Result<std::vector<repo::PackHeaderEntry>>(peeked.propagate());
    if (!header) {
      problems.push_back("pack '" + name + "' header: " + header.error().message);
      return;
    }
    std::map<BlobId, repo::PackHeaderEntry> in_header;
    for (auto& e : *header) in_header[e.id] = e;
    for (auto& b : blobs) {
      auto it = in_header.find(b.id);
      if (it == in_header.end() || it->second.offset != b.offset || it->second.length != b.length) {
        problems.push_back("index and header of pack '" + name + "' disagree about blob " +
                           util::to_hex(b.id));
      }
    }
  }

  // Names the snapshots that reference a damaged blob.
  util::Status attribute_damage(const std::vector<std::string>& ids) {
    for (auto& id : ids) {
      if (report.damaged_snapshots.count(id)) continue;
      auto snap = repo_.load_snapshot(id);
      if (!snap) continue;
      bool hit = damaged_blobs_.count(snap->tree) > 0;
      if (!hit) {
        auto st = walk_tree(
            repo_, snap->tree,
            TreeVisitor{[&](const std::string&, const TreeNode& n) -> util::Result<Descend> {
                          for (auto& c : n.content) hit = hit || damaged_blobs_.count(c);
                          if (n.subtree && damaged_blobs_.count(*n.subtree)) hit = true;
                          return hit ? Descend::no : Descend::yes;
                        },
                        {}});
        if (!st) hit = true;
      }
      if (hit) report.damaged_snapshots.insert(id);
    }
    return {};
  }

  repo::Repository& repo_;
  const VerifyOptions& opt_;
  const VerifyProgressFn& progress_;
  std::map<PackId, std::uint64_t> stored_packs_;
  std::map<PackId, std::vector<catalog::BlobLocation>> indexed_packs_;
  std::unordered_set<BlobId, repo::IdHash> damaged_blobs_;
  std::unordered_map<BlobId, bool, repo::IdHash> tree_ok_;
  std::unique_ptr<Reading> reading_;
};

}  // namespace

util::Result<VerifyReport> verify_repository(repo::Repository& repo, const VerifyOptions& options,
                                             const VerifyProgressFn& progress) {
  // Verify judges the storage: trees are read from there, never from this
  // host's tree cache (a damaged stored tree must not hide behind a good
  // local copy). The cache is put back afterwards.
  std::optional<std::filesystem::path> cache;
  if (auto* c = repo.tree_cache()) cache = c->dir();
  repo.set_tree_cache(std::nullopt);
  Verifier v(repo, options, progress);
  auto outcome = v.run();
  repo.set_tree_cache(cache);
  BKP_TRY(outcome);
  return std::move(v.report);
}

}  // namespace bkp::engine
