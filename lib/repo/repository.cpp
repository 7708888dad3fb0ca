#include "repo/repository.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <thread>

#include "compress/codec.hpp"
#include "crypto/aead.hpp"
#include "crypto/hash.hpp"
#include "util/interrupt.hpp"
#include "util/time.hpp"

namespace bkp::repo {

using util::ErrorKind;
using util::fail;
namespace fs = std::filesystem;

namespace {

// Write an index segment after this many packs (128 MiB), so a killed
// backup loses little: the next one dedups against what was indexed, and
// prune collects the unindexed rest. Also bounds memory for pending blobs.
constexpr std::size_t kPacksPerIndex = 8;
// Chunks handed to the sealing workers and not yet collected. 8 MiB keeps
// both cores busy as 16 MiB did (same CPU time and wall time on the bench
// tree) with 9 MiB less peak heap.
constexpr std::size_t kSealQueueBytes = 8u << 20;

ObjectType envelope_type(BlobType t) {
  return t == BlobType::tree ? ObjectType::tree_blob : ObjectType::data_blob;
}

util::Status put_create_only(storage::Backend& b, const std::string& name, util::ByteView data) {
  auto st = b.put(name, data, storage::WriteMode::create_only);
  if (!st && st.error().kind == ErrorKind::exists) {
    return fail(ErrorKind::exists, "object '" + name + "' already exists");
  }
  return st;
}

}  // namespace

fs::path default_catalog_path(const std::string& repo_id) {
  if (const char* x = std::getenv("XDG_STATE_HOME"); x && *x) {
    return fs::path(x) / "bkp" / (repo_id + ".db");
  }
  if (::geteuid() == 0) return fs::path("/var/lib/bkp") / (repo_id + ".db");
  const char* home = std::getenv("HOME");
  return fs::path(home ? home : "/tmp") / ".local" / "state" / "bkp" / (repo_id + ".db");
}

util::Result<std::string> Repository::init(storage::Backend& backend,
                                           const Credentials& credentials,
                                           const InitOptions& options) {
  // Checked before anything is written: a config that the Chunker refuses
  // would make the repository impossible to open.
  if (auto st = chunk::validate_params(options.chunker); !st) {
    return fail(ErrorKind::usage, "chunker parameters: " + st.error().message);
  }
  if (options.pack_size == 0 || options.pack_size > kMaxPackSize) {
    return fail(ErrorKind::usage,
                "pack size must be between 1 byte and " + std::to_string(kMaxPackSize) + " bytes");
  }
  auto existing = backend.stat("config");
  if (existing) {
    return fail(ErrorKind::exists, "a repository already exists at '" + backend.describe() + "'");
  }
  if (existing.error().kind != ErrorKind::not_found) return existing.propagate();
  // Refuse storage that holds anything at all: bkp never mixes its objects
  // with someone else's files.
  bool empty = true;
  auto listed = backend.list("", [&](const storage::ObjectInfo&) -> util::Status {
    empty = false;
    return util::fail(ErrorKind::exists, "stop");  // one object is enough to know
  });
  if (!listed && empty) return listed.propagate();
  if (!empty) {
    return fail(ErrorKind::exists,
                "'" + backend.describe() + "' is not empty; bkp init needs an empty location");
  }

  RepoConfig config;
  config.id = util::to_hex(crypto::random_bytes(32));
  config.created = util::now_rfc3339();
  config.chunker = options.chunker;
  config.compression = options.compression;
  config.pack_size = options.pack_size;
  auto config_bytes = config.encode();

  auto master = crypto::random_secret(crypto::key_size);
  Keyring keyring = Keyring::create(config_bytes);
  if (options.chunking) {
    keyring.chunk_id_key = options.chunking->chunk_id_key;
    keyring.chunker_seed = options.chunking->chunker_seed;
  }
  BKP_ASSIGN(auto slot, make_slot(credentials, master, "admin"));

  // Keys first, config last: storage without a config is not a repository,
  // so a crash midway leaves something `init` can be run on again... once
  // the leftovers are removed; the message says so.
  auto sealed = seal_object(ObjectType::keyring, KeyId{}, master, keyring.encode().view(),
                            util::as_bytes(keyring.object_name()));
  BKP_TRY(put_create_only(backend, keyring.object_name(), sealed));
  BKP_TRY(put_create_only(backend, slot.object_name(), slot.encode()));
  BKP_TRY(put_create_only(backend, "config", config_bytes));
  return config.id;
}

util::Result<std::unique_ptr<Repository>> Repository::open(
    std::unique_ptr<storage::Backend> backend, const Credentials& credentials,
    const std::optional<fs::path>& catalog_path) {
  auto config_bytes = backend->get("config");
  if (!config_bytes) {
    if (config_bytes.error().kind == ErrorKind::not_found) {
      return fail(ErrorKind::no_repository, "no repository at '" + backend->describe() + "'");
    }
    return config_bytes.propagate();
  }
  std::unique_ptr<Repository> repo(new Repository());
  BKP_ASSIGN(repo->config_, RepoConfig::decode(*config_bytes));

  // Try every slot of the right kind; the first that opens wins.
  std::vector<std::string> slot_names;
  BKP_TRY(backend->list("keys/", [&](const storage::ObjectInfo& o) {
    slot_names.push_back(o.name);
    return util::Status{};
  }));
  std::optional<util::SecretBytes> master;
  for (auto& name : slot_names) {
    BKP_ASSIGN(auto bytes, backend->get(name));
    auto slot = KeySlot::decode(bytes);
    if (!slot) continue;
    if (slot->kind != credentials.kind) continue;
    auto mk = unwrap_slot(*slot, credentials);
    if (mk) {
      master = std::move(*mk);
      repo->slot_ = std::move(*slot);
      break;
    }
    if (mk.error().kind != ErrorKind::wrong_key) return mk.propagate();
  }
  if (!master) {
    return fail(ErrorKind::wrong_key, "wrong passphrase or key: no key slot of '" +
                                          backend->describe() + "' opens with it");
  }

  if (repo->slot_.holds_writer_keyring()) {
    // A backup slot: no master key, no keyring; a data key of its own for
    // this session, published sealed to the public key before first use.
    BKP_ASSIGN(auto writer, WriterKeyring::decode(master->view()));
    repo->keyring_ = writer.session_keyring(new_data_key());
  } else {
    BKP_ASSIGN(auto keyring, read_newest_keyring(*backend, *master));
    repo->master_ = std::move(*master);
    repo->keyring_ = std::move(keyring);
  }
  if (repo->keyring_.config_digest != crypto::sha256(*config_bytes)) {
    return fail(ErrorKind::verification, "the repository config was modified");
  }

  repo->chunker_.emplace(repo->config_.chunker, repo->keyring_.chunker_seed.view());
  repo->catalog_path_ = catalog_path.value_or(default_catalog_path(repo->config_.id));
  BKP_ASSIGN(auto cat, catalog::Catalog::open(repo->catalog_path_));
  repo->catalog_ = std::make_unique<catalog::Catalog>(std::move(cat));
  BKP_ASSIGN(auto known_id, repo->catalog_->get_meta("repository_id"));
  if (known_id && *known_id != repo->config_.id) {
    return fail(ErrorKind::usage,
                "catalog '" + repo->catalog_path_.string() + "' belongs to another repository");
  }
  if (!known_id) BKP_TRY(repo->catalog_->set_meta("repository_id", repo->config_.id));
  if (backend->kind() != "local" && !repo->is_writer()) {
    repo->set_tree_cache(fs::path(repo->catalog_path_.string() + "-trees"));
  }
  repo->backend_ = std::move(backend);
  return repo;
}

Repository::~Repository() = default;

BlobId Repository::blob_id(util::ByteView data) const {
  return crypto::blob_hash(config_.blob_id, domain_ ? domain_->chunk_id_key : keyring_.chunk_id_key,
                           data);
}

bool Repository::has_blob(const BlobId& id) {
  if (pending_.count(id) || unsealed_.count(id)) return true;
  // Without the marks, a blob prune is about to delete could be reused:
  // answer "absent" (store it again) when they cannot be read.
  if (!ensure_prune_state().ok() || is_condemned(id)) return false;
  auto found = catalog_->find_blob(id);
  return found.ok() && found->has_value();
}

std::vector<bool> Repository::has_blobs(std::span<const BlobId> ids) {
  auto found = catalog_->has_blobs(ids);
  if (!found || !ensure_prune_state().ok()) return std::vector<bool>(ids.size(), false);
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if ((*found)[i] && is_condemned(ids[i])) (*found)[i] = false;
    if (!(*found)[i] && (pending_.count(ids[i]) || unsealed_.count(ids[i]))) (*found)[i] = true;
  }
  return std::move(*found);
}

util::Result<bool> Repository::save_blob(BlobType type, util::ByteView data, const BlobId& id) {
  // Every backup, repack and copy passes here for every chunk: the place to
  // notice Ctrl-C before committing more work.
  BKP_TRY(util::check_interrupted());
  if (has_blob(id)) {
    ++stats_.blobs_known;
    return false;
  }
  if (!sealer_) {
    // The caller's thread reads, chunks and hashes; the workers compress and
    // seal, with kSealQueueBytes in flight.
    unsigned threads = std::clamp(std::thread::hardware_concurrency(), 1u, 8u);
    sealer_ = std::make_unique<SealPool>(threads, kSealQueueBytes,
                                         [this](const SealJob& job) { return seal_blob(job); });
  }
  unsealed_[id] = type;
  ++stats_.blobs_new;
  stats_.raw_bytes_new += data.size();
  sealer_->submit(SealJob{type, id, util::Bytes(data.begin(), data.end())});
  BKP_TRY(collect_sealed(SealPool::Wait::none));
  return true;
}

// Runs on worker threads: reads only the config and the keyring, which do
// not change while blobs are being saved.
SealedBlob Repository::seal_blob(const SealJob& job) const {
  util::ByteView data = job.data;
  // Compressed into a per-thread buffer and sealed from there together with
  // the codec byte: no copy of the compressed bytes at their exact size,
  // and none of them behind the codec byte (two passes over every chunk).
  thread_local util::Bytes scratch;
  std::size_t n = 0;
  // decompress() refuses raw sizes above max_raw_size (a hostile header must
  // not make a reader allocate without bound), so a larger blob, such as the
  // tree of a huge directory, is stored as is to stay readable.
  if (data.size() <= compress::max_raw_size) {
    const std::size_t bound = compress::compress_bound(config_.compression, data.size());
    if (bound > 0) {
      if (scratch.size() < bound) scratch.resize(bound);
      n = compress::compress_into(config_.compression, data, scratch.data(), bound);
    }
  }
  const auto codec =
      static_cast<std::uint8_t>(n > 0 ? config_.compression.codec : compress::Codec::none);
  const util::ByteView parts[] = {util::ByteView(&codec, 1),
                                  n > 0 ? util::ByteView(scratch.data(), n) : data};
  auto& key = content_key();
  util::Bytes sealed;
  sealed.reserve(envelope_overhead + 1 + parts[1].size());
  seal_object_append_pieces(envelope_type(job.type), key.id, key.key, parts, job.id, sealed);
  // A chunk of 8 MiB leaves 8 MiB of scratch behind per worker: keep no
  // more than the chunks most files give (avg 1 MiB, rarely above 4 MiB),
  // which are then compressed without allocating and zero-filling again.
  if (scratch.size() > (4u << 20)) util::Bytes().swap(scratch);
  return SealedBlob{job.type, job.id, std::move(sealed), static_cast<std::uint32_t>(data.size())};
}

util::Status Repository::collect_sealed(SealPool::Wait wait) {
  if (!sealer_) return {};
  auto sealed = sealer_->take(wait);
  for (std::size_t i = 0; i < sealed.size(); ++i) {
    auto& s = sealed[i];
    PackWriter& writer = s.type == BlobType::tree ? tree_pack_ : data_pack_;
    // A pack ends with the blob that takes it past pack_size, plus its header.
    if (writer.empty()) writer.reserve(config_.pack_size + s.sealed.size() + (1u << 20));
    writer.add(s.type, s.id, s.sealed, s.raw_length);
    // The next backup reads this tree as its parent's: from here, not the
    // storage.
    if (s.type == BlobType::tree && tree_cache_) tree_cache_->put(s.id, s.sealed);
    stats_.stored_bytes_new += s.sealed.size();
    if (writer.size() < config_.pack_size) continue;
    if (auto st = write_pack(writer); !st) {
      // The rest of this batch is lost with the error: forget it too.
      for (std::size_t j = i + 1; j < sealed.size(); ++j) unsealed_.erase(sealed[j].id);
      return st;
    }
  }
  return {};
}

util::Status Repository::write_pack(PackWriter& writer) {
  if (writer.empty()) return {};
  BKP_TRY(publish_session_key());
  // Packs written while the next fills: the cores stay busy with reading,
  // chunking and sealing, and memory stays at a few packs. Local disk: one
  // writer (the disk, not the waiting, is the limit) and two queued. Object
  // stores: three PUTs in flight and one queued, so four packs (64 MiB by
  // default) at most; more connections would buy little on one uplink.
  if (!uploader_) {
    bool remote = backend_->kind() != "local";
    uploader_ = std::make_unique<PackUploader>(*backend_, remote ? 1 : 2, remote ? 3 : 1);
  }
  uploader_->submit(writer, content_key());
  return collect_stored(PackUploader::Wait::none);
}

// Packs become known here, on the caller's thread, only once stored.
util::Status Repository::collect_stored(PackUploader::Wait wait) {
  if (!uploader_) return {};
  util::Status first_error;
  for (auto& stored : uploader_->take(wait)) {
    if (!stored.status) {
      // The blobs are gone with the pack: forget them, so that has_blob()
      // does not report them and a later save stores them again.
      for (auto& b : stored.blobs) unsealed_.erase(b.id);
      if (first_error.ok()) first_error = stored.status;
      continue;
    }
    ++stats_.packs_written;
    IndexedPack indexed{stored.id, {}};
    for (auto& b : stored.blobs) {
      unsealed_.erase(b.id);
      pending_[b.id] = b;
      indexed.blobs.push_back({b.type, b.id, b.offset, b.length, b.raw_length});
    }
    pending_index_.push_back(std::move(indexed));
  }
  BKP_TRY(first_error);
  if (pending_index_.size() >= kPacksPerIndex) BKP_TRY(write_index());
  return {};
}

util::Status Repository::write_index() {
  if (pending_index_.empty()) return {};
  // The segment is what makes packs visible: none is written under a key
  // that is being retired or was destroyed (the packs stay unindexed
  // garbage that prune removes without a key).
  BKP_TRY(check_key_retirement());
  auto name = new_index_name();
  // Index segments reveal only keyed ids and sizes: a key of their own lets
  // backup slots read them, to deduplicate, without reading any data.
  auto& key = keyring_.index_sealing_key();
  auto sealed = seal_object(ObjectType::index, key.id, key.key, encode_index(pending_index_),
                            util::as_bytes(name));
  BKP_TRY(put_create_only(*backend_, name, sealed));
  BKP_TRY(catalog_->transaction([&]() -> util::Status {
    for (auto& p : pending_index_) {
      std::vector<BlobLocation> locs;
      for (auto& e : p.blobs)
        locs.push_back({e.id, e.type, p.id, e.offset, e.length, e.raw_length});
      BKP_TRY(catalog_->add_blobs(locs));
    }
    return catalog_->add_index_segment(name);
  }));
  pending_index_.clear();
  pending_.clear();
  return {};
}

util::Status Repository::flush() {
  BKP_TRY(collect_sealed(SealPool::Wait::all));
  BKP_TRY(write_pack(data_pack_));
  BKP_TRY(write_pack(tree_pack_));
  BKP_TRY(collect_stored(PackUploader::Wait::all));
  return write_index();
}

util::Result<util::Bytes> Repository::read_sealed(const BlobLocation& loc) {
  auto name = pack_object_name(loc.pack);
  auto sealed = backend_->get_range(name, loc.offset, loc.length);
  if (!sealed) {
    // A missing pack, or one shorter than the index says, is data the
    // repository lacks: a verification failure, not a local error.
    auto kind = sealed.error().kind;
    bool missing = kind == ErrorKind::not_found || kind == ErrorKind::corrupt;
    return fail(missing ? ErrorKind::verification : kind, "reading blob " + util::to_hex(loc.id) +
                                                              " from pack '" + name +
                                                              "': " + sealed.error().message);
  }
  return sealed;
}

util::Result<util::Bytes> Repository::load_blob_at(const BlobLocation& loc) {
  BKP_ASSIGN(auto sealed, read_sealed(loc));
  return decode_blob(loc, sealed);
}

util::Result<util::Bytes> Repository::decode_blob(const BlobLocation& loc, util::ByteView sealed) {
  auto name = pack_object_name(loc.pack);
  auto damaged = [&](const std::string& why) {
    return fail(ErrorKind::verification,
                "blob " + util::to_hex(loc.id) + " in pack '" + name + "' is damaged: " + why);
  };
  auto header = peek_envelope(sealed);
  if (!header) return damaged(header.error().message);
  const DataKey* key = find_key(header->key_id);
  if (!key && is_writer()) return fail(cannot_read("blob " + util::to_hex(loc.id)));
  if (!key && keyring_.shredded_key(header->key_id))
    return fail(unknown_key(header->key_id, "blob " + util::to_hex(loc.id)));
  if (!key) return damaged("sealed with an unknown key");
  auto plain = open_object(envelope_type(loc.type), key->key, sealed, loc.id);
  if (!plain) return damaged(plain.error().message);
  if (plain->empty()) return damaged("empty");
  auto codec = static_cast<compress::Codec>((*plain)[0]);
  auto payload = util::ByteView(*plain).subspan(1);
  util::Bytes data;
  if (codec == compress::Codec::none) {
    data.assign(payload.begin(), payload.end());
  } else {
    auto d = compress::decompress(codec, payload, loc.raw_length);
    if (!d) return damaged(d.error().message);
    data = std::move(*d);
  }
  // Named with the chunk id key of the domain its key belongs to.
  const KeyDomain* domain = keyring_.domain_of(header->key_id);
  auto id = crypto::blob_hash(config_.blob_id,
                              domain ? domain->chunk_id_key : keyring_.chunk_id_key, data);
  if (data.size() != loc.raw_length || id != loc.id) return damaged("content id mismatch");
  return data;
}

util::Result<BlobLocation> Repository::locate_blob(const BlobId& id) {
  if (unsealed_.count(id)) BKP_TRY(flush());
  if (auto it = pending_.find(id); it != pending_.end()) return it->second;
  BKP_ASSIGN(auto loc, catalog_->find_blob(id));
  if (!loc) {
    return fail(ErrorKind::verification, "blob " + util::to_hex(id) + " is not in the index");
  }
  return *loc;
}

util::Result<std::vector<std::optional<BlobLocation>>> Repository::locate_blobs(
    std::span<const BlobId> ids) {
  for (const BlobId& id : ids)
    if (unsealed_.count(id)) BKP_TRY(flush());
  BKP_ASSIGN(auto found, catalog_->find_blobs(ids));
  for (std::size_t i = 0; i < ids.size(); ++i)
    if (auto it = pending_.find(ids[i]); it != pending_.end()) found[i] = it->second;
  return found;
}

util::Result<util::Bytes> Repository::load_blob(const BlobId& id) {
  BKP_ASSIGN(auto loc, locate_blob(id));
  if (loc.type == BlobType::tree && tree_cache_) return load_tree_blob(loc);
  return load_blob_at(loc);
}

util::Result<util::Bytes> Repository::load_object(ObjectType type, const std::string& name) {
  BKP_ASSIGN(auto sealed, backend_->get(name));
  auto header = peek_envelope(sealed);
  if (!header) return fail(header.error().context("object '" + name + "'"));
  const DataKey* key = find_key(header->key_id);
  if (!key && is_writer()) return fail(cannot_read("object '" + name + "'"));
  if (!key) return fail(unknown_key(header->key_id, "object '" + name + "'"));
  auto plain = open_object(type, key->key, sealed, util::as_bytes(name));
  if (!plain) return fail(plain.error().context("object '" + name + "'"));
  return std::move(*plain);
}

}  // namespace bkp::repo
