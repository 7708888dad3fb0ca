// Large objects as blocks: Put Block for each slice of the caller's buffer
// (sent from it directly, no copy), then one Put Block List that commits
// them. Until that commit the blob does not change, so put() stays atomic;
// blocks of a failed upload stay uncommitted and Azure discards them after
// a week (there is no call to abort them sooner).
#include <sodium.h>

#include <cstdio>

#include "storage/azure.hpp"
#include "storage/azure_sharedkey.hpp"
#include "storage/http_error.hpp"
#include "util/text.hpp"

namespace bkp::storage {

using util::ErrorKind;
using util::fail;
using util::in_quotes;

namespace {

// Every block id of a blob must have the same length. A random part per
// upload keeps two uploads of one name from committing each other's blocks.
std::string block_id(std::string_view upload, int index) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*s-%06d", static_cast<int>(upload.size()), upload.data(),
                index);
  return azure::base64(util::as_bytes(buf));
}

std::string upload_nonce() {
  std::uint8_t random[8];
  randombytes_buf(random, sizeof random);
  char hex[17];
  sodium_bin2hex(hex, sizeof hex, random, sizeof random);
  return hex;
}

}  // namespace

util::Status AzureBackend::put_blocks(std::string_view name, util::ByteView data, WriteMode mode) {
  const std::string what = "storing " + in_quotes(name);
  const std::string blob = blob_of(name);
  if (mode == WriteMode::create_only) {
    // Checked again at the commit by If-None-Match; this saves the upload.
    auto existing = stat(name);
    if (existing.ok()) return fail(ErrorKind::exists, what + ": object exists");
    if (existing.error().kind != ErrorKind::not_found) return existing.propagate();
  }
  const std::string upload = upload_nonce();
  std::string list = R"(<?xml version="1.0" encoding="utf-8"?><BlockList>)";
  int index = 0;
  for (std::uint64_t offset = 0; offset < data.size(); offset += options_.block_size) {
    auto slice =
        data.subspan(offset, std::min<std::uint64_t>(options_.block_size, data.size() - offset));
    const std::string id = block_id(upload, index++);
    Call call{"PUT", blob, {{"comp", "block"}, {"blockid", id}}, {}, slice};
    BKP_ASSIGN(auto response, send(call));
    if (response.status != 201) {
      return fail(azure_error(response, what + ": block " + std::to_string(index)));
    }
    list += "<Latest>" + id + "</Latest>";  // base64 needs no XML escaping
  }
  list += "</BlockList>";

  Call commit{"PUT", blob, {{"comp", "blocklist"}}, {}, util::as_bytes(list)};
  commit.headers.emplace_back("Content-Type", "application/xml");
  if (!options_.access_tier.empty() && name.substr(0, 5) == "data/") {
    commit.headers.emplace_back("x-ms-access-tier", options_.access_tier);
  }
  if (mode == WriteMode::create_only) commit.headers.emplace_back("If-None-Match", "*");
  int attempts = 0;
  BKP_ASSIGN(auto response, send(commit, &attempts));
  return put_outcome(name, data, mode, response, attempts);
}

}  // namespace bkp::storage
