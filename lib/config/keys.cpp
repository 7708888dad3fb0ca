#include "config/keys.hpp"

#include <array>

namespace bkp::config {

namespace {

using enum ValueType;

// Keep sorted by key; docs and `config show` print in this order.
constexpr std::array<KeyInfo, 74> kKeys{{
    {"azure.access_tier", "BKP_AZURE_ACCESS_TIER", "", string, "",
     "Azure access tier for data packs (objects under data/): Hot, Cool or Cold; other "
     "objects and the default keep the account's default tier"},
    {"azure.account", "BKP_AZURE_ACCOUNT", "AZURE_STORAGE_ACCOUNT", string, "",
     "Azure storage account name (else the AccountName of AZURE_STORAGE_CONNECTION_STRING)"},
    {"azure.endpoint", "BKP_AZURE_ENDPOINT", "", string, "",
     "Azure Blob endpoint URL, e.g. http://127.0.0.1:10000/devstoreaccount1 for Azurite "
     "(default https://ACCOUNT.blob.core.windows.net)"},
    {"azure.key", "BKP_AZURE_KEY", "AZURE_STORAGE_KEY", string, "",
     "Azure storage account key (base64), for Shared Key signatures", Sensitivity::secret},
    {"azure.sas_token", "BKP_AZURE_SAS_TOKEN", "AZURE_STORAGE_SAS_TOKEN", string, "",
     "Azure shared access signature token, used when there is no account key", Sensitivity::secret},
    {"catalog", "BKP_CATALOG", "", path, "",
     "SQLite catalog file (default: $XDG_STATE_HOME/bkp/<repository id>.db, "
     "else /var/lib/bkp/ for root, ~/.local/state/bkp/ for others)"},
    {"compression", "BKP_COMPRESSION", "BACKUP_COMPRESSION_ENABLED", string, "zstd",
     "chunk compression for new repositories: zstd, zstd:LEVEL, lz4 or none "
     "(BACKUP_COMPRESSION_ENABLED=false means none)"},
    {"encryption.algorithm", "BKP_ENCRYPTION_ALGORITHM", "ENCRYPTION_ALGORITHM", string,
     "aes-256-gcm", "object encryption; aes-256-gcm is the only algorithm"},
    {"from.key_command", "BKP_FROM_KEY_COMMAND", "", string, "",
     "command (no shell) printing the key of the repository bkp copy reads from (default: the "
     "primary repository's secret)"},
    {"from.key_file", "BKP_FROM_KEY_FILE", "", path, "",
     "key file of the repository bkp copy reads from (default: the primary repository's secret)"},
    {"from.password_command", "BKP_FROM_PASSWORD_COMMAND", "", string, "",
     "command whose output is the passphrase of the repository bkp copy reads from (default: the "
     "primary repository's secret)"},
    {"from.password_file", "BKP_FROM_PASSWORD_FILE", "", path, "",
     "file whose first line is the passphrase of the repository bkp copy reads from (default: the "
     "primary repository's secret)"},
    {"gcs.credentials_file", "BKP_GCS_CREDENTIALS_FILE", "GOOGLE_APPLICATION_CREDENTIALS", path, "",
     "Google service account key file (JSON, mode 0600) for gs:// repositories; used when no "
     "HMAC keys are set"},
    {"gcs.endpoint", "BKP_GCS_ENDPOINT", "", string, "",
     "Google Cloud Storage endpoint URL (default https://storage.googleapis.com)"},
    {"gcs.hmac_access_key_id", "BKP_GCS_HMAC_ACCESS_KEY_ID", "GCS_HMAC_ACCESS_KEY_ID", string, "",
     "GCS HMAC access id: with gcs.hmac_secret, gs:// requests go to the XML API signed like S3"},
    {"gcs.hmac_secret", "BKP_GCS_HMAC_SECRET", "GCS_HMAC_SECRET", string, "",
     "GCS HMAC secret of gcs.hmac_access_key_id", Sensitivity::secret},
    {"gcs.storage_class", "BKP_GCS_STORAGE_CLASS", "", string, "",
     "GCS storage class for data packs (objects under data/): STANDARD, NEARLINE, COLDLINE or "
     "ARCHIVE; other objects and the default keep the bucket's default class"},
    {"insecure_http", "BKP_INSECURE_HTTP", "", boolean, "false",
     "allow plain http to storage endpoints that are not loopback addresses (credentials and "
     "data then cross the network unencrypted)"},
    {"key_command", "BKP_KEY_COMMAND", "", string, "",
     "command (run without a shell) whose standard output is a key that opens the repository"},
    {"key_file", "BKP_KEY_FILE", "", path, "",
     "key file that opens the repository instead of a passphrase (see bkp init --key-file)"},
    {"keys.rotate_after", "BKP_KEYS_ROTATE_AFTER", "", duration, "",
     "make a new data key current when the current one is older than this (e.g. 90d); done by "
     "backup and prune when run with an admin slot (default: never)"},
    {"limit_download", "BKP_LIMIT_DOWNLOAD", "", string, "",
     "most bytes per second read from storage, e.g. 10M or 512KiB/s (K, M, G are powers of "
     "1024; default: no limit)"},
    {"limit_upload", "BKP_LIMIT_UPLOAD", "", string, "",
     "most bytes per second sent to storage, e.g. 10M or 512KiB/s (K, M, G are powers of 1024; "
     "default: no limit)"},
    {"password_command", "BKP_PASSWORD_COMMAND", "", string, "",
     "command whose standard output is the repository passphrase"},
    {"password_file", "BKP_PASSWORD_FILE", "", path, "",
     "file whose first line is the repository passphrase"},
    {"postgres.bin_dir", "BKP_PG_BIN_DIR", "", path, "",
     "directory of the PostgreSQL client programs (psql, pg_dump, pg_restore); "
     "default: $PATH"},
    {"postgres.data_dir", "BKP_PG_DATA", "", path, "",
     "data directory of the PostgreSQL server for physical backups on the database host "
     "(default: the server's SHOW data_directory)"},
    {"postgres.database", "BKP_PG_DATABASE", "DB_NAME", string, "",
     "PostgreSQL database (default: libpq's PGDATABASE, else the user name)"},
    {"postgres.host", "BKP_PG_HOST", "DB_HOST", string, "",
     "PostgreSQL host name or socket directory (default: libpq's PGHOST, else the local socket)"},
    {"postgres.password", "BKP_PG_PASSWORD", "DB_PASSWORD", string, "",
     "PostgreSQL password, handed to the client programs in their environment, never on a "
     "command line; prefer postgres.password_file",
     Sensitivity::secret},
    {"postgres.password_file", "BKP_PG_PASSWORD_FILE", "", path, "",
     "file whose first line is the PostgreSQL password (wins over postgres.password)"},
    {"postgres.port", "BKP_PG_PORT", "DB_PORT", integer, "",
     "PostgreSQL port (default: libpq's PGPORT, else 5432)"},
    {"postgres.user", "BKP_PG_USER", "DB_USER", string, "",
     "PostgreSQL user name (default: libpq's PGUSER, else the login name)"},
    {"postgres.via", "BKP_PG_VIA", "", string, "auto",
     "how physical backups read the data directory: local (on the database host), "
     "replication (BASE_BACKUP from any host) or auto (local when the data directory is "
     "readable here)"},
    {"progress", "BKP_PROGRESS", "", boolean, "true",
     "show progress bars when standard error is a terminal"},
    {"prune.grace", "BKP_PRUNE_GRACE", "", duration, "6h",
     "how long prune waits between marking unused packs and deleting them; a backup must "
     "finish within it (0 deletes at once: only when no backup can run meanwhile)"},
    {"prune.lease", "BKP_PRUNE_LEASE", "", duration, "5m",
     "lifetime of the lease a running prune holds (and renews) so that no second prune runs "
     "at once; a prune that died keeps others out this long"},
    {"prune.max_repack_size", "BKP_PRUNE_MAX_REPACK_SIZE", "", string, "",
     "most bytes of live data one prune copies out of partly unused packs (e.g. 2G; default: "
     "no limit)"},
    {"prune.repack_threshold", "BKP_PRUNE_REPACK_THRESHOLD", "", integer, "20",
     "percent of a pack that must be unused before prune rewrites it"},
    {"replica.key_command", "BKP_REPLICA_KEY_COMMAND", "", string, "",
     "command (no shell) printing the key of every replica (default: the primary repository's "
     "secret)"},
    {"replica.key_file", "BKP_REPLICA_KEY_FILE", "", path, "",
     "key file of every replica (default: the primary repository's secret)"},
    {"replica.password_command", "BKP_REPLICA_PASSWORD_COMMAND", "", string, "",
     "command whose output is the passphrase of every replica (default: the primary repository's "
     "secret)"},
    {"replica.password_file", "BKP_REPLICA_PASSWORD_FILE", "", path, "",
     "file whose first line is the passphrase of every replica (default: the primary repository's "
     "secret)"},
    {"replica.prune", "BKP_REPLICA_PRUNE", "", boolean, "false",
     "bkp forget and bkp prune remove in every replica what they remove in the primary (and "
     "whatever else the primary forgot), then prune each replica's unused data"},
    {"replicas", "BKP_REPLICAS", "", list, "",
     "repositories every backup is also copied to, after it completes (in BKP_REPLICAS: "
     "separated by spaces)"},
    {"repository", "BKP_REPOSITORY", "", string, "",
     "repository location: a path, file:///path, s3://bucket/prefix, "
     "azure://container/prefix or gs://bucket/prefix"},
    {"retention.keep_daily", "BKP_KEEP_DAILY", "", integer, "",
     "prune keeps the newest snapshot of each of the last N days (per source and host)"},
    {"retention.keep_hourly", "BKP_KEEP_HOURLY", "", integer, "",
     "prune keeps the newest snapshot of each of the last N hours"},
    {"retention.keep_last", "BKP_KEEP_LAST", "", integer, "", "prune keeps the newest N snapshots"},
    {"retention.keep_monthly", "BKP_KEEP_MONTHLY", "", integer, "",
     "prune keeps the newest snapshot of each of the last N months"},
    {"retention.keep_weekly", "BKP_KEEP_WEEKLY", "", integer, "",
     "prune keeps the newest snapshot of each of the last N ISO weeks"},
    {"retention.keep_within", "BKP_KEEP_WITHIN", "BACKUP_RETENTION_DAYS", duration, "",
     "prune keeps snapshots newer than the source's newest minus this duration (e.g. 30d; "
     "BACKUP_RETENTION_DAYS=N means Nd)"},
    {"retention.keep_yearly", "BKP_KEEP_YEARLY", "", integer, "",
     "prune keeps the newest snapshot of each of the last N years"},
    // One source's own policy (a TOML table [retention.source."NAME"]): a
    // source with any of these keys uses only them, not retention.keep_*.
    {"retention.source.<name>.keep_daily", "", "", integer, "",
     "this source's policy: the newest snapshot of each of the last N days"},
    {"retention.source.<name>.keep_hourly", "", "", integer, "",
     "this source's policy: the newest snapshot of each of the last N hours"},
    {"retention.source.<name>.keep_last", "", "", integer, "",
     "this source's policy: the newest N snapshots"},
    {"retention.source.<name>.keep_monthly", "", "", integer, "",
     "this source's policy: the newest snapshot of each of the last N months"},
    {"retention.source.<name>.keep_weekly", "", "", integer, "",
     "this source's policy: the newest snapshot of each of the last N ISO weeks"},
    {"retention.source.<name>.keep_within", "", "", duration, "",
     "this source's policy: snapshots within this duration of its newest"},
    {"retention.source.<name>.keep_yearly", "", "", integer, "",
     "this source's policy: the newest snapshot of each of the last N years"},
    {"s3.access_key_id", "BKP_S3_ACCESS_KEY_ID", "S3_ACCESS_KEY_ID", string, "",
     "S3 access key id (else AWS_ACCESS_KEY_ID)"},
    {"s3.addressing", "BKP_S3_ADDRESSING", "", string, "auto",
     "S3 bucket addressing: auto (virtual-host style on AWS, path style elsewhere), path or "
     "virtual"},
    {"s3.endpoint", "BKP_S3_ENDPOINT", "S3_ENDPOINT", string, "",
     "S3-compatible endpoint URL, e.g. http://127.0.0.1:9000 (else AWS_ENDPOINT_URL_S3, "
     "AWS_ENDPOINT_URL, then AWS itself)"},
    {"s3.multipart_threshold", "BKP_S3_MULTIPART_THRESHOLD", "", integer, "67108864",
     "objects larger than this many bytes are uploaded in parts"},
    {"s3.object_lock_days", "BKP_S3_OBJECT_LOCK_DAYS", "", integer, "0",
     "S3 Object Lock: data packs are retained this many days from their upload (0: no lock; "
     "the bucket must have Object Lock enabled)"},
    {"s3.object_lock_mode", "BKP_S3_OBJECT_LOCK_MODE", "", string, "compliance",
     "S3 Object Lock mode of data packs: compliance (no one can shorten it) or governance "
     "(users with s3:BypassGovernanceRetention can)"},
    {"s3.region", "BKP_S3_REGION", "S3_REGION", string, "",
     "S3 region for signing (else AWS_REGION, AWS_DEFAULT_REGION, then us-east-1)"},
    {"s3.secret_access_key", "BKP_S3_SECRET_ACCESS_KEY", "S3_SECRET_ACCESS_KEY", string, "",
     "S3 secret access key (else AWS_SECRET_ACCESS_KEY)", Sensitivity::secret},
    {"s3.session_token", "BKP_S3_SESSION_TOKEN", "", string, "",
     "S3 session token for temporary credentials (else AWS_SESSION_TOKEN)", Sensitivity::secret},
    {"s3.storage_class", "BKP_S3_STORAGE_CLASS", "", string, "",
     "S3 storage class for data packs (objects under data/), e.g. STANDARD_IA or GLACIER_IR; "
     "other objects keep STANDARD (also --storage-class)"},
    {"to.key_command", "BKP_TO_KEY_COMMAND", "", string, "",
     "command (no shell) printing the key of the repository bkp copy writes to (default: the "
     "primary repository's secret)"},
    {"to.key_file", "BKP_TO_KEY_FILE", "", path, "",
     "key file of the repository bkp copy writes to (default: the primary repository's secret)"},
    {"to.password_command", "BKP_TO_PASSWORD_COMMAND", "", string, "",
     "command whose output is the passphrase of the repository bkp copy writes to (default: the "
     "primary repository's secret)"},
    {"to.password_file", "BKP_TO_PASSWORD_FILE", "", path, "",
     "file whose first line is the passphrase of the repository bkp copy writes to (default: the "
     "primary repository's secret)"},
}};

}  // namespace

std::span<const KeyInfo> all_keys() { return kKeys; }

bool is_pattern(const KeyInfo& k) { return k.key.find(kNamePlaceholder) != std::string_view::npos; }

const KeyInfo* find_key(std::string_view key) {
  for (auto& k : kKeys) {
    if (k.key == key) return &k;
    auto at = k.key.find(kNamePlaceholder);
    if (at == std::string_view::npos) continue;
    // The name may hold dots (paths): prefix and suffix are fixed, so the
    // rest between them is the name, whatever it contains.
    auto prefix = k.key.substr(0, at), suffix = k.key.substr(at + kNamePlaceholder.size());
    if (key.size() > prefix.size() + suffix.size() && key.starts_with(prefix) &&
        key.ends_with(suffix))
      return &k;
  }
  return nullptr;
}

std::string_view pattern_name(const KeyInfo& k, std::string_view key) {
  auto at = k.key.find(kNamePlaceholder);
  if (at == std::string_view::npos) return {};
  auto suffix = k.key.size() - at - kNamePlaceholder.size();
  return key.substr(at, key.size() - at - suffix);
}

std::string_view type_name(ValueType t) {
  switch (t) {
    case string:
      return "string";
    case integer:
      return "integer";
    case boolean:
      return "boolean";
    case duration:
      return "duration";
    case path:
      return "path";
    case list:
      return "list";
  }
  return "string";
}

}  // namespace bkp::config
