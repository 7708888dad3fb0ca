// Key domains and crypto-shredding through the real binary: a domain's
// backups share nothing with other domains, a shredded domain cannot be
// restored even with every object it wrote still in storage, the other
// domains restore bit for bit, and prune then reclaims the space.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <fstream>
#include <set>
#include <sstream>

#include "cli_helpers.hpp"
#include "util/fs.hpp"

using bkp::test::Cli;
using bkp::test::noise;
using bkp::test::read;
using bkp::test::Run;
using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

struct ShredFixture {
  Cli cli;
  fs::path dir = cli.home();
  fs::path repo = dir / "repo";
  std::string pw = (dir / "pw").string();

  ShredFixture() {
    cli.env["BKP_TEST_FAST_KDF"] = "1";
    write("pw", "correct horse\n");
    REQUIRE(bkp({"init"}).status == 0);
  }
  void write(const std::string& rel, const std::string& bytes) {
    REQUIRE(bkp::util::make_dirs((dir / rel).parent_path()).ok());
    std::ofstream(dir / rel, std::ios::binary) << bytes;
  }
  Run bkp(std::vector<std::string> more) const {
    std::vector<std::string> full{"-r", repo.string(), "--password-file", pw};
    full.insert(full.end(), more.begin(), more.end());
    return cli.run(full);
  }
  json ok_json(std::vector<std::string> more) const {
    more.push_back("--json");
    auto r = bkp(more);
    INFO(r.err);
    REQUIRE(r.status == 0);
    std::istringstream in(r.out);
    json last;
    for (std::string l; std::getline(in, l);) last = json::parse(l);
    return last;
  }
  json backup(const std::string& rel, const std::string& domain = "") {
    std::vector<std::string> a{"backup", "files", (dir / rel).string()};
    if (!domain.empty()) a.insert(a.end(), {"--key-domain", domain});
    return ok_json(a);
  }
  std::uintmax_t data_bytes() const {
    std::uintmax_t n = 0;
    for (auto& e : fs::recursive_directory_iterator(repo / "data"))
      if (e.is_regular_file()) n += e.file_size();
    return n;
  }
  Run restore(const std::string& snap, const fs::path& out) const {
    return bkp({"restore", snap, "--target", out.string()});
  }
};

}  // namespace

TEST_CASE("a shredded key domain cannot be restored; the others can; prune reclaims it",
          "[cli][keys][shred]") {
  ShredFixture f;
  auto shared = noise(600'000, 40);
  f.write("default/a", shared);
  f.write("alice/a", shared);  // the same bytes: must not deduplicate across domains
  f.write("alice/b", noise(200'000, 41));
  f.write("bob/a", noise(300'000, 42));
  auto s0 = f.backup("default")["snapshot"].get<std::string>();
  auto alice = f.backup("alice", "alice");
  CHECK(alice["stats"]["stored_bytes_new"].get<std::uint64_t>() > 800'000);
  auto s1 = alice["snapshot"].get<std::string>();
  auto s2 = f.backup("bob", "bob")["snapshot"].get<std::string>();
  // An incremental backup of alice compares with alice's snapshot only.
  auto again = f.backup("alice", "alice");
  CHECK(again["parent"] == s1);
  CHECK(again["stats"]["stored_bytes_new"].get<std::uint64_t>() < 10'000);
  auto s1b = again["snapshot"].get<std::string>();

  auto ring = f.ok_json({"keys", "list"});
  REQUIRE(ring["domains"].size() == 2);
  CHECK(ring["domains"][0]["name"] == "alice");

  // Every object as it is now, to put back after the shred.
  auto saved = f.dir / "saved";
  fs::create_directories(saved);
  fs::copy(f.repo / "snapshots", saved / "snapshots", fs::copy_options::recursive);
  fs::copy(f.repo / "data", saved / "data", fs::copy_options::recursive);
  fs::copy(f.repo / "index", saved / "index", fs::copy_options::recursive);

  // No confirmation, no shred.
  auto refused = f.bkp({"keys", "shred", "--domain", "alice"});
  CHECK(refused.status == 2);
  CHECK_THAT(refused.err, Catch::Contains("--yes"));
  auto dry = f.ok_json({"keys", "shred", "--domain", "alice", "--dry-run"});
  CHECK(dry["type"] == "shred_plan");
  CHECK(dry["snapshots"].size() == 2);
  auto before = f.data_bytes();

  auto done = f.ok_json({"keys", "shred", "--domain", "alice", "--yes"});
  CHECK(done["type"] == "key_domain_shredded");
  std::set<std::string> gone;
  for (auto& s : done["snapshots"]) gone.insert(s["id"].get<std::string>());
  CHECK(gone == std::set<std::string>{s1, s1b});
  ring = f.ok_json({"keys", "list"});
  REQUIRE(ring["domains"].size() == 1);
  REQUIRE(ring["shredded_domains"].size() == 1);
  CHECK(ring["shredded_domains"][0]["name"] == "alice");
  int generations = 0;
  for (auto& e : fs::directory_iterator(f.repo / "keyring")) generations += e.is_regular_file();
  CHECK(generations == 1);

  // Every object back in storage (all but the keyring): still unreadable.
  fs::copy(saved, f.repo, fs::copy_options::recursive | fs::copy_options::skip_existing);
  auto r = f.restore(s1, f.dir / "out1");
  CHECK(r.status == 13);
  CHECK_THAT(r.err, Catch::Contains("shredded"));
  CHECK(!fs::exists(f.dir / "out1" / "alice" / "a"));

  // The other domains, the default one too, restore bit for bit.
  REQUIRE(f.restore(s0, f.dir / "out0").status == 0);
  CHECK(read(f.dir / "out0" / f.dir.relative_path() / "default/a") == shared);
  REQUIRE(f.restore(s2, f.dir / "out2").status == 0);
  CHECK(read(f.dir / "out2" / f.dir.relative_path() / "bob/a") == noise(300'000, 42));

  // Prune forgets the shredded manifests put back, and deletes the data.
  auto pruned = f.ok_json({"prune", "--grace", "0"});
  CHECK(pruned["snapshots_removed"].size() == 2);
  CHECK(f.data_bytes() + 700'000 < before);
  auto v = f.bkp({"verify", "--read-data"});
  INFO(v.err << v.out);
  CHECK(v.status == 0);
  auto snaps = f.bkp({"snapshots", "--json"});
  CHECK(snaps.out.find(s1) == std::string::npos);
  CHECK(snaps.out.find(s2) != std::string::npos);

  // A shredded name is not reused; other domains' keys are never retired.
  auto reuse = f.bkp({"backup", "files", (f.dir / "alice").string(), "--key-domain", "alice"});
  CHECK(reuse.status == 1);
  CHECK_THAT(reuse.err, Catch::Contains("was shredded"));
  REQUIRE(f.bkp({"keys", "rotate"}).status == 0);
  auto re = f.ok_json({"keys", "rotate", "--reencrypt", "--grace", "0"});
  CHECK(re["retiring"].size() == 1);  // the old default key, not bob's
  REQUIRE(f.restore(s2, f.dir / "out2b").status == 0);
  CHECK(read(f.dir / "out2b" / f.dir.relative_path() / "bob/a") == noise(300'000, 42));
}

TEST_CASE("key domain refusals", "[cli][keys][shred]") {
  ShredFixture f;
  f.write("src/a", "x");
  CHECK(f.bkp({"keys", "shred", "--domain", "nobody", "--yes"}).status == 1);
  CHECK(f.bkp({"backup", "files", (f.dir / "src").string(), "--key-domain", "bad/name"}).status ==
        2);
  auto s = f.backup("src", "carol")["snapshot"].get<std::string>();
  // A held snapshot blocks the shred, which then changes nothing.
  REQUIRE(f.bkp({"hold", s}).status == 0);
  auto held = f.bkp({"keys", "shred", "--domain", "carol", "--yes"});
  CHECK(held.status == 1);
  CHECK_THAT(held.err, Catch::Contains("legal hold"));
  CHECK(f.ok_json({"keys", "list"})["domains"].size() == 1);
  REQUIRE(f.bkp({"release", s}).status == 0);
  auto kf = (f.dir / "restore.key").string();
  REQUIRE(f.bkp({"keys", "add", "--role", "restore", "--new-key-file", kf, "--generate-key-file"})
              .status == 0);
  auto as_restore = f.cli.run(
      {"-r", f.repo.string(), "--key-file", kf, "keys", "shred", "--domain", "carol", "--yes"});
  CHECK(as_restore.status == 1);
  // A restore slot may back up into an existing domain, not create one.
  CHECK(f.cli
            .run({"-r", f.repo.string(), "--key-file", kf, "backup", "files",
                  (f.dir / "src").string(), "--key-domain", "carol"})
            .status == 0);
  CHECK(f.cli
            .run({"-r", f.repo.string(), "--key-file", kf, "backup", "files",
                  (f.dir / "src").string(), "--key-domain", "dave"})
            .status == 1);
}

TEST_CASE("WAL archived under a key domain is erased by its shred", "[cli][keys][shred][wal]") {
  ShredFixture f;
  const std::string seg1 = "000000010000000000000001", seg2 = "000000010000000000000002";
  const std::string hist = "00000002.history";
  f.write("pg/" + seg1, noise(300'000, 50));
  f.write("pg/" + hist, "1\t0/3000000\tno recovery target specified\n");
  f.write("pg/" + seg2, noise(300'000, 51));
  auto push = [&](const std::string& name, const std::string& domain) {
    std::vector<std::string> a{"wal-push", (f.dir / "pg" / name).string()};
    if (!domain.empty()) a.insert(a.end(), {"--key-domain", domain});
    return f.ok_json(a);
  };
  auto p1 = push(seg1, "acme");
  CHECK(p1["key_domain"] == "acme");
  CHECK(p1["stored_bytes_new"].get<std::uint64_t>() > 250'000);
  push(hist, "acme");
  push(seg2, "");  // another cluster's, under the default keys
  // A file already archived with the same content: success without a
  // write, whatever domain the push names (PostgreSQL retries after crashes).
  f.write("pg2/" + seg1, noise(300'000, 50));
  auto other =
      f.bkp({"--json", "wal-push", (f.dir / "pg2" / seg1).string(), "--key-domain", "zeta"});
  CHECK(other.status == 0);
  CHECK(json::parse(other.out)["already_archived"] == true);  // same name and content: no write

  // Fetched back under the domain's key without saying which.
  REQUIRE(f.bkp({"wal-fetch", seg1, (f.dir / "back1").string()}).status == 0);
  CHECK(read(f.dir / "back1") == noise(300'000, 50));

  auto dry = f.ok_json({"keys", "shred", "--domain", "acme", "--dry-run"});
  std::set<std::string> planned(dry["wal"].begin(), dry["wal"].end());
  CHECK(planned == std::set<std::string>{"wal/00000001/" + seg1, "wal/00000002/" + hist});
  // The WAL object as it is now, to put back after the shred.
  auto saved = f.dir / "saved-wal";
  fs::copy(f.repo / "wal", saved, fs::copy_options::recursive);
  auto before = f.data_bytes();

  auto done = f.ok_json({"keys", "shred", "--domain", "acme", "--yes"});
  CHECK(done["wal"].size() == 2);
  CHECK_FALSE(fs::exists(f.repo / "wal/00000001" / seg1));
  auto gone = f.bkp({"wal-fetch", seg1, (f.dir / "back2").string()});
  CHECK(gone.status != 0);
  CHECK_FALSE(fs::exists(f.dir / "back2"));
  // The default key's WAL is untouched.
  REQUIRE(f.bkp({"wal-fetch", seg2, (f.dir / "back3").string()}).status == 0);
  CHECK(read(f.dir / "back3") == noise(300'000, 51));

  // The entry put back (an old copy of the storage): unreadable for good.
  fs::copy(saved, f.repo / "wal", fs::copy_options::recursive | fs::copy_options::skip_existing);
  auto put_back = f.bkp({"wal-fetch", seg1, (f.dir / "back4").string()});
  CHECK(put_back.status == 13);
  CHECK_THAT(put_back.err, Catch::Contains("shredded"));
  CHECK_FALSE(fs::exists(f.dir / "back4"));
  // Prune deletes it and the domain's data; the rest stays fetchable.
  auto pruned = f.ok_json({"prune", "--grace", "0"});
  CHECK(pruned["wal_deleted"].size() == 2);
  CHECK_FALSE(fs::exists(f.repo / "wal/00000001" / seg1));
  CHECK(f.data_bytes() + 250'000 < before);
  REQUIRE(f.bkp({"wal-fetch", seg2, (f.dir / "back5").string()}).status == 0);
  CHECK(read(f.dir / "back5") == noise(300'000, 51));
  auto v = f.bkp({"verify", "--read-data"});
  INFO(v.err << v.out);
  CHECK(v.status == 0);
}
