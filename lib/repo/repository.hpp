// An open, unlocked repository: the storage backend, the keyring, the local
// catalog, and the write path (blobs -> packs -> index segments) with
// deduplication against the catalog's chunk index.
//
// Durability order, which is what makes a crash at any instant safe:
// packs (create-only) -> index segment -> catalog rows -> snapshot manifest.
// A blob enters the catalog only after an index segment naming it is
// durable, so deduplication never relies on data that storage lacks.
#pragma once

#include <cstring>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "catalog/catalog.hpp"
#include "chunk/chunker.hpp"
#include "repo/hold.hpp"
#include "repo/index_segment.hpp"
#include "repo/key_retirement.hpp"
#include "repo/key_slot.hpp"
#include "repo/keyring.hpp"
#include "repo/pack_uploader.hpp"
#include "repo/prune_mark.hpp"
#include "repo/repo_config.hpp"
#include "repo/seal_pool.hpp"
#include "repo/snapshot.hpp"
#include "repo/tree_cache.hpp"
#include "storage/backend.hpp"

namespace bkp::repo {

struct IdHash {
  std::size_t operator()(const catalog::Id32& id) const {
    std::size_t h;
    std::memcpy(&h, id.data(), sizeof h);
    return h;
  }
};

// The secrets that decide how data is cut and named: two repositories that
// share them give equal content equal chunk ids, so `bkp copy` between them
// reads only the chunks the target lacks and copies trees unchanged.
struct ChunkingSecrets {
  util::SecretBytes chunk_id_key, chunker_seed;
};

struct InitOptions {
  compress::Spec compression;
  chunk::Params chunker;
  std::size_t pack_size = kDefaultPackSize;
  std::optional<ChunkingSecrets> chunking;  // default: new random ones
};

struct WriteStats {
  std::uint64_t blobs_new = 0, blobs_known = 0;
  std::uint64_t raw_bytes_new = 0;     // plaintext of new blobs
  std::uint64_t stored_bytes_new = 0;  // after compression and encryption
  std::uint64_t packs_written = 0;
};

// Where the catalog of a repository lives unless configured:
// $XDG_STATE_HOME/bkp/<id>.db when XDG_STATE_HOME is set, else
// /var/lib/bkp/<id>.db for root and ~/.local/state/bkp/<id>.db for others.
std::filesystem::path default_catalog_path(const std::string& repo_id);

class Repository {
 public:
  // Creates a repository in empty storage; ErrorKind::exists when a config
  // is already there. Returns the new repository id.
  static util::Result<std::string> init(storage::Backend& backend, const Credentials& credentials,
                                        const InitOptions& options);
  // ErrorKind::no_repository without a config; ErrorKind::wrong_key when no
  // key slot opens with the credentials.
  static util::Result<std::unique_ptr<Repository>> open(
      std::unique_ptr<storage::Backend> backend, const Credentials& credentials,
      const std::optional<std::filesystem::path>& catalog_path);

  ~Repository();
  Repository(const Repository&) = delete;
  Repository& operator=(const Repository&) = delete;

  const RepoConfig& config() const { return config_; }
  const Keyring& keyring() const { return keyring_; }
  const KeySlot& slot() const { return slot_; }
  storage::Backend& backend() { return *backend_; }
  catalog::Catalog& catalog() { return *catalog_; }
  const chunk::Chunker& chunker() const { return *chunker_; }
  const std::filesystem::path& catalog_path() const { return catalog_path_; }

  // Content id of plaintext, by the config's blob id algorithm, keyed with
  // the chunk id key of the key domain in use (see use_key_domain).
  BlobId blob_id(util::ByteView data) const;
  // Stores a blob unless the repository has it; returns true when new.
  util::Result<bool> save_blob(BlobType type, util::ByteView data, const BlobId& id);
  bool has_blob(const BlobId& id);
  // has_blob() for many ids at once, in one catalog read (an unchanged
  // backup asks this for every chunk of every file). A catalog error
  // answers false, as has_blob() does: the data is then stored again.
  std::vector<bool> has_blobs(std::span<const BlobId> ids);
  // Authenticates, decompresses and checks one sealed blob read from a pack.
  util::Result<util::Bytes> decode_blob(const BlobLocation& loc, util::ByteView sealed);
  // Reads, authenticates, decompresses and checks a blob against its id.
  // Tree blobs go through the tree cache when there is one.
  util::Result<util::Bytes> load_blob(const BlobId& id);
  // load_blob() in two steps, so that the second can run on other threads:
  // where the blob is (ErrorKind::verification when the index lacks it),
  // then reading it from there. load_blob_at() touches only the storage and
  // the keys: safe from several threads at once.
  util::Result<BlobLocation> locate_blob(const BlobId& id);
  // locate_blob of each id, the catalog's in one read transaction (a
  // restore locates every chunk; a statement each took SQLite's read lock
  // each time). An id the index lacks is nullopt; errors reading the
  // catalog fail the whole call.
  util::Result<std::vector<std::optional<BlobLocation>>> locate_blobs(std::span<const BlobId> ids);
  util::Result<util::Bytes> load_blob_at(const BlobLocation& loc);
  // The sealed bytes of a blob, unauthenticated (decode_blob checks them);
  // a pack that lacks them is ErrorKind::verification. Thread-safe.
  util::Result<util::Bytes> read_sealed(const BlobLocation& loc);

  // The local cache of sealed tree blobs (lib/repo/tree_cache.hpp): on by
  // default for object stores (not local disk, which answers a read at
  // once, nor backup slots, which cannot read trees back), beside the
  // catalog. nullopt turns it off; a directory turns it on there.
  void set_tree_cache(std::optional<std::filesystem::path> dir);
  const TreeCache* tree_cache() const { return tree_cache_ ? &*tree_cache_ : nullptr; }
  // Removes the cache's entries for trees the catalog no longer knows
  // (prune deleted their packs) and leftovers of interrupted writes. Best
  // effort: the cache only costs disk space.
  void trim_tree_cache();
  // Writes unfinished packs and the pending index segment; after it, every
  // saved blob is durable and in the catalog.
  util::Status flush();
  const WriteStats& write_stats() const { return stats_; }

  // Flushes, then writes the manifest (create-only) and its catalog row.
  util::Status save_snapshot(const Snapshot& snapshot);
  util::Result<Snapshot> load_snapshot(const std::string& id);
  // Brings the catalog up to date with storage: new index segments, new and
  // removed snapshots (other hosts may write to the same repository).
  util::Status sync_catalog();
  // Index segments and snapshots the last sync_catalog() had to skip because
  // they failed authentication or did not decode; verify reports them.
  const std::vector<std::string>& damaged_objects() const { return damaged_; }
  // Drops the chunk index and backups rows and reads them back from storage.
  util::Status rebuild_catalog();
  // Reads and opens an encrypted object (index, snapshot) by name.
  util::Result<util::Bytes> load_object(ObjectType type, const std::string& name);
  // The data key with this id: from the keyring opened, else from a newer
  // keyring generation another process wrote since (read once, on demand).
  // nullptr when no generation has it. Safe from several threads.
  const DataKey* find_key(const KeyId& id);

  // Two-phase deletion (lib/repo/repository_prune.cpp, doc/prune.md).
  // Every prune mark in storage, by object name.
  util::Result<std::vector<std::pair<std::string, PruneMark>>> load_prune_marks();
  // Writes a mark (create-only, sealed with the index key); returns its name.
  util::Result<std::string> write_prune_mark(const PruneMark& mark);
  // Reads the marks once per process (sync_catalog re-reads them): blobs
  // whose only known copy is in a marked pack are no longer offered for
  // deduplication.
  util::Status load_prune_state();
  // Called before a snapshot manifest or WAL entry is written: fails when a
  // prune mark this process did not know when it read the marks has a
  // deadline that has passed (less a margin for clock skew), because the
  // packs it names may then be deleted under what this process reused.
  util::Status check_prune_deadline();
  bool is_condemned(const BlobId& id) const {
    return marks_unreadable_ || condemned_.count(id) != 0;
  }

  // Key domains (lib/repo/repository_domains.cpp, doc/key-domains.md).
  // From now on this process chunks, names and seals content (blobs, pack
  // headers, snapshots) with the domain's keys; creates the domain (a new
  // keyring generation, admin only) if it does not exist. Not for backup
  // slots, and not for a shredded domain's name.
  util::Status use_key_domain(const std::string& name);
  // The domain in use; nullptr for the default keys.
  const KeyDomain* key_domain() const { return domain_ ? &*domain_ : nullptr; }
  // The key that seals content: the domain's, else the current data key.
  const DataKey& content_key() const;
  // Whether snapshot `id`'s manifest is sealed under the key domain in use
  // (a parent snapshot must be: blobs are never shared across domains).
  util::Result<bool> in_current_domain(const std::string& snapshot_id);
  // The shredded domain whose key sealed `sealed` (an envelope), if any.
  const ShreddedDomain* shredded_domain_of(util::ByteView sealed) const;
  // Destroys a domain's keys: a keyring generation without them (keeping
  // the domain's name and key id as shredded), then every older generation
  // removed. Returns what is left of it. Admin only; cannot be undone.
  util::Result<ShreddedDomain> shred_key_domain(const std::string& name);

  // Key retirement (lib/repo/repository_retire.cpp, doc/key-rotation.md).
  // Every marker in storage ("retire/<key id>").
  util::Result<std::vector<KeyRetirement>> load_key_retirements();
  // Writes a marker (create-only; one already there is kept). Admin only.
  util::Status write_key_retirement(const KeyRetirement& retirement);
  // Called before a snapshot manifest or WAL entry is written: fails when
  // the key this process seals with is being retired or was destroyed
  // since it opened the keyring, so that nothing durable names a key that
  // is gone.
  util::Status check_key_retirement();
  // Destroys a data key nothing in storage uses any more: a keyring
  // generation without it, older generations removed; or, for a backup
  // session's key, its "sessions/" object removed. Then its marker goes.
  // Refuses the current key and the index key. Admin only.
  util::Status destroy_data_key(const KeyId& id);

  // Legal holds ("holds/<snapshot id>"); admin slots only for changes.
  util::Result<std::vector<Hold>> list_holds();
  util::Status put_hold(const Hold& hold);
  util::Status remove_hold(const std::string& snapshot_id);

  // Key slots and rotation (lib/repo/repository_keys.cpp). Every change of
  // slots or keys needs an admin slot; see may_manage_keys().
  util::Result<std::vector<KeySlot>> list_key_slots();
  // Writes a new slot for `credentials` with `role`; returns it.
  util::Result<KeySlot> add_key_slot(const Credentials& credentials, Role role);
  // Refuses to remove the last admin slot, or the slot this repository was
  // opened with unless another admin slot remains.
  util::Status remove_key_slot(const std::string& id);
  struct Rotation {
    KeyId new_key{};
    std::uint64_t generation = 0;
    std::optional<KeySlot> new_slot;         // with rewrap
    std::vector<std::string> removed_slots;  // with rewrap
    // Old slots or generations a rewrap could not remove (the rotation
    // itself succeeded); `bkp keys remove` can finish the job.
    std::vector<std::string> cleanup_errors;
  };
  // A new data key becomes current for every new object (written as a new
  // keyring generation, create-only). With `rewrap`, also a new master key:
  // `rewrap` gets a slot holding it, and the slots and keyring generations
  // that hold the old one are removed, so the old secret stops working.
  util::Result<Rotation> rotate_keys(const std::optional<Credentials>& rewrap);
  // ErrorKind::permission unless the slot opened may change key slots and
  // keys (admin), or delete snapshots and data (admin; prune and forget
  // call this).
  util::Status may_manage_keys() const;
  util::Status may_delete() const;
  // True for a backup slot: it holds no key that opens stored data.
  bool is_writer() const { return slot_.holds_writer_keyring(); }
  // ErrorKind::permission for a backup slot: for commands that must read
  // what is stored (verify), so they stop with one clear message.
  util::Status may_read(const std::string& what) const;

 private:
  Repository() = default;
  util::Status write_pack(PackWriter& writer);
  util::Status collect_stored(PackUploader::Wait wait);
  SealedBlob seal_blob(const SealJob& job) const;
  util::Status collect_sealed(SealPool::Wait wait);
  util::Status write_index();
  util::Status add_backup_row(const Snapshot& s);
  // Backup slots: writes "sessions/<key id>" once, before the first object
  // sealed with the session key.
  util::Status publish_session_key();
  util::Error cannot_read(const std::string& what) const;
  // Tree blobs through the cache (repository_trees.cpp).
  util::Result<util::Bytes> load_tree_blob(const BlobLocation& loc);
  util::Result<util::Bytes> fetch_tree_neighbours(const BlobLocation& loc);
  // Prune state (repository_prune.cpp).
  util::Status ensure_prune_state();
  util::Status reindex_catalog(const std::set<PackId>& condemned);
  static DataKey new_data_key();
  // Removes every keyring generation older than the one this process holds.
  util::Status remove_older_generations();
  // An error for an envelope whose key is not in the keyring: names the
  // shredded domain when it is one.
  util::Error unknown_key(const KeyId& id, const std::string& what) const;
  util::Result<Keyring> write_next_generation(const util::SecretBytes& master,
                                              const std::function<void(Keyring&)>& change);
  // The newest keyring generation that opens with `master` (an older one
  // only while a rewrap is unfinished: see repository_keys.cpp).
  static util::Result<Keyring> read_newest_keyring(storage::Backend& backend,
                                                   const util::SecretBytes& master);

  std::unique_ptr<storage::Backend> backend_;
  RepoConfig config_;
  KeySlot slot_;
  util::SecretBytes master_;
  Keyring keyring_;
  // Data keys of keyring generations written after open; a deque so that
  // pointers into it stay valid while it grows.
  std::mutex newer_keys_mutex_;
  std::deque<DataKey> newer_keys_;
  bool session_published_ = false;
  std::optional<KeyDomain> domain_;
  std::unique_ptr<catalog::Catalog> catalog_;
  std::optional<chunk::Chunker> chunker_;
  std::filesystem::path catalog_path_;
  std::optional<TreeCache> tree_cache_;

  PackWriter data_pack_, tree_pack_;
  // Blobs written to packs whose index segment is not yet durable, and blobs
  // still in an open pack writer (location unknown until the pack is sealed).
  std::unordered_map<BlobId, BlobLocation, IdHash> pending_;
  std::unordered_map<BlobId, BlobType, IdHash> unsealed_;
  std::vector<IndexedPack> pending_index_;
  WriteStats stats_;
  std::vector<std::string> damaged_;
  // Prune marks known to this process and the blobs they make unavailable
  // for deduplication (only those with no copy in an unmarked pack).
  std::optional<std::set<std::string>> known_marks_;
  std::unordered_set<BlobId, IdHash> condemned_;
  bool marks_unreadable_ = false;  // then nothing in storage is deduplicated against
  // Last, so their threads stop before anything they use is destroyed.
  std::unique_ptr<SealPool> sealer_;
  std::unique_ptr<PackUploader> uploader_;
};

}  // namespace bkp::repo
