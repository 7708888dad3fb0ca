// Internal to lib/catalog: the schema, as an append-only list of migrations.
#pragma once

#include <cstdint>
#include <span>

namespace bkp::catalog {

// "bkp1" in the SQLite header's application_id field: tells a bkp catalog
// from some other program's SQLite file.
inline constexpr std::int32_t kApplicationId = 0x626b7031;

// Migration i (0-based) takes the schema from version i to version i + 1
// (PRAGMA user_version). Each runs in its own transaction. Never edit a
// released entry: append a new one.
std::span<const char* const> migrations();

}  // namespace bkp::catalog
