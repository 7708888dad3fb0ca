// What the cloud CLI tests (S3, Azure, GCS) share: a repository at a remote
// location beside a small source tree, the round trip every backend must
// pass, and the check that wrong credentials fail at once and say why.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "cli_helpers.hpp"
#include "script_server.hpp"

namespace bkp::test {

// One moto S3 server (it checks SigV4 signatures) for the whole test run,
// with the buckets of every test: bkp-cli, bkp-cli-gcs, bkp-copy and
// bkp-replica. nullptr, after a BKP-SKIP line saying what `tests` need,
// when `enabled` is false (this bkp lacks the backend) or moto is missing.
const ScriptServer* shared_moto(bool enabled, std::string_view tests);

// One Azurite (it checks Shared Key and SAS signatures) for the whole test
// run, with the containers bkp-cli and bkp-copy. nullptr after a BKP-SKIP
// line when `enabled` is false; Azurite failing to start fails the test.
const ScriptServer* shared_azurite(bool enabled, std::string_view tests);

struct RemoteRepo {
  // `location` is the repository (s3://, azure://, gs://); the credentials
  // are the test's to put in cli.env.
  explicit RemoteRepo(std::string location);

  void write(const std::string& rel, const std::string& text) const;
  // bkp with -r location and the password file, then `args`.
  Run bkp(std::vector<std::string> args) const;
  // The source tree: a small file, 3 MiB that do not compress, a name with
  // spaces and an ampersand.
  std::filesystem::path source() const { return dir / "src"; }

  Cli cli;
  std::filesystem::path dir = cli.home();
  std::string location;
  std::string pw = (dir / "pw").string();
};

// init (with `init_args`), a second init refused, backup --json, snapshots
// --json, restore --verify compared with the source file by file,
// verify --read-data clean. Returns the snapshot's id.
std::string round_trip(const RemoteRepo& repo, const std::vector<std::string>& init_args = {});

// With the credentials made wrong by the caller: `bkp snapshots` exits 1
// within 5 s (no retry loop) saying each of `reasons` and never `secret`;
// a backup and a restore exit 1 too.
void expect_refused_at_once(const RemoteRepo& repo, const std::vector<std::string>& reasons,
                            const std::string& secret);

}  // namespace bkp::test
