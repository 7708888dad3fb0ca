#include "conformance.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <vector>

namespace bkp::test {

namespace {

using storage::Backend;
using storage::ObjectInfo;
using storage::WriteMode;
using util::Bytes;
using util::ErrorKind;

// Deterministic pseudo-random bytes (splitmix64), different per seed.
Bytes pattern(std::size_t size, std::uint64_t seed) {
  Bytes out(size);
  std::uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
  for (std::size_t i = 0; i < size; i += 8) {
    x += 0x9E3779B97F4A7C15ull;
    std::uint64_t z = x;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    for (std::size_t j = 0; j < 8 && i + j < size; ++j) {
      out[i + j] = static_cast<std::uint8_t>(z >> (8 * j));
    }
  }
  return out;
}

Bytes text(std::string_view s) { return util::to_bytes(s); }

void must(const util::Status& st, std::string_view what) {
  if (!st.ok()) FAIL(what << ": " << st.error().message);
}

template <class T>
T must(util::Result<T> r, std::string_view what) {
  if (!r.ok()) FAIL(what << ": " << r.error().message);
  return std::move(r).value();
}

// Checks kind and message; kinds are compared by name for readable failures.
template <class R>
void expect_error(const R& r, ErrorKind kind, std::string_view in_message = {}) {
  REQUIRE_FALSE(r.ok());
  INFO("message: " << r.error().message);
  CHECK(util::kind_name(r.error().kind) == util::kind_name(kind));
  if (!in_message.empty()) CHECK(r.error().message.find(in_message) != std::string::npos);
}

// Equality of large buffers without printing megabytes on failure.
void expect_same(const Bytes& got, const Bytes& want) {
  REQUIRE(got.size() == want.size());
  auto diff = std::mismatch(got.begin(), got.end(), want.begin());
  INFO("first differing byte at offset " << (diff.first - got.begin()));
  CHECK(diff.first == got.end());
}

// name -> size; every name must be reported exactly once.
std::map<std::string, std::uint64_t> list_all(Backend& b, std::string_view prefix) {
  std::map<std::string, std::uint64_t> out;
  std::vector<std::string> duplicates;
  must(b.list(prefix,
              [&](const ObjectInfo& info) -> util::Status {
                if (!out.emplace(info.name, info.size).second) duplicates.push_back(info.name);
                return {};
              }),
       "listing '" + std::string(prefix) + "'");
  INFO("listing '" << prefix << "'");
  CHECK(duplicates.empty());
  return out;
}

std::vector<std::string> names_of(const std::map<std::string, std::uint64_t>& listing) {
  std::vector<std::string> out;
  for (const auto& [name, size] : listing) out.push_back(name);
  return out;
}

std::unique_ptr<Backend> fresh(const BackendFactory& make) {
  auto b = make();
  REQUIRE(b != nullptr);
  INFO("the factory must return a backend over an empty namespace: " << b->describe());
  REQUIRE(list_all(*b, "").empty());
  return b;
}

void put_text(Backend& b, std::string_view name, std::string_view content) {
  must(b.put(name, util::as_bytes(content), WriteMode::overwrite),
       "storing '" + std::string(name) + "'");
}

std::string get_text(Backend& b, std::string_view name) {
  return std::string(util::as_chars(must(b.get(name), "reading '" + std::string(name) + "'")));
}

void basics(const BackendFactory& make) {
  SECTION("describe and kind are non-empty") {
    auto b = fresh(make);
    CHECK_FALSE(b->describe().empty());
    CHECK_FALSE(b->kind().empty());
  }
  SECTION("put and get round trip, flat and nested names, all byte values") {
    auto b = fresh(make);
    Bytes all(512);
    for (std::size_t i = 0; i < all.size(); ++i) all[i] = static_cast<std::uint8_t>(i);
    for (std::string name : {"config", "keys/k1", "data/ab/abcdef0123456789"}) {
      INFO(name);
      must(b->put(name, all, WriteMode::overwrite), "put");
      expect_same(must(b->get(name), "get"), all);
      CHECK(must(b->stat(name), "stat").size == all.size());
      CHECK(must(b->stat(name), "stat").name == name);
    }
    CHECK(names_of(list_all(*b, "")) ==
          std::vector<std::string>{"config", "data/ab/abcdef0123456789", "keys/k1"});
  }
  SECTION("overwrite replaces, with shorter and longer content") {
    auto b = fresh(make);
    must(b->put("obj", pattern(1000, 1), WriteMode::overwrite), "put 1");
    must(b->put("obj", pattern(10, 2), WriteMode::overwrite), "put 2");
    expect_same(must(b->get("obj"), "get"), pattern(10, 2));
    CHECK(must(b->stat("obj"), "stat").size == 10);
    CHECK(list_all(*b, "") == std::map<std::string, std::uint64_t>{{"obj", 10}});
    must(b->put("obj", pattern(3000, 3), WriteMode::overwrite), "put 3");
    expect_same(must(b->get("obj"), "get"), pattern(3000, 3));
  }
  SECTION("create_only never replaces") {
    auto b = fresh(make);
    must(b->put("locks/l1", text("first"), WriteMode::create_only), "first create");
    auto again = b->put("locks/l1", text("second, longer"), WriteMode::create_only);
    expect_error(again, ErrorKind::exists, "'locks/l1'");
    CHECK(get_text(*b, "locks/l1") == "first");
    CHECK(list_all(*b, "") == std::map<std::string, std::uint64_t>{{"locks/l1", 5}});
    // Overwrite still may replace it; create_only works again once removed.
    must(b->put("locks/l1", text("third"), WriteMode::overwrite), "overwrite");
    CHECK(get_text(*b, "locks/l1") == "third");
    must(b->remove("locks/l1"), "remove");
    must(b->put("locks/l1", text("fourth"), WriteMode::create_only), "create after remove");
    CHECK(get_text(*b, "locks/l1") == "fourth");
  }
  SECTION("missing objects are not_found, naming the object") {
    auto b = fresh(make);
    put_text(*b, "data/ab/x", "present");
    for (std::string name : {"nope", "no/such/dir/obj", "data/ab", "data/ab/x/y", "data/ab/xy"}) {
      INFO(name);
      expect_error(b->get(name), ErrorKind::not_found, "'" + name + "'");
      expect_error(b->get_range(name, 0, 1), ErrorKind::not_found, "'" + name + "'");
      expect_error(b->stat(name), ErrorKind::not_found, "'" + name + "'");
      Bytes buf;
      expect_error(b->get_into(name, buf), ErrorKind::not_found, "'" + name + "'");
    }
  }
  SECTION("empty objects") {
    auto b = fresh(make);
    must(b->put("empty", {}, WriteMode::create_only), "put");
    CHECK(must(b->get("empty"), "get").empty());
    CHECK(must(b->stat("empty"), "stat").size == 0);
    CHECK(list_all(*b, "") == std::map<std::string, std::uint64_t>{{"empty", 0}});
    CHECK(must(b->get_range("empty", 0, 0), "range").empty());
    expect_error(b->get_range("empty", 0, 1), ErrorKind::corrupt, "'empty'");
    expect_error(b->put("empty", {}, WriteMode::create_only), ErrorKind::exists);
  }
  SECTION("get_into reuses one buffer for objects of any size") {
    auto b = fresh(make);
    const Bytes big = pattern(5000, 3), small = pattern(700, 4);
    must(b->put("data/aa/big", big, WriteMode::create_only), "put big");
    must(b->put("data/aa/small", small, WriteMode::create_only), "put small");
    must(b->put("data/aa/empty", {}, WriteMode::create_only), "put empty");
    Bytes buf;
    must(b->get_into("data/aa/big", buf), "get big");
    expect_same(buf, big);
    must(b->get_into("data/aa/small", buf), "get small");
    expect_same(buf, small);
    must(b->get_into("data/aa/empty", buf), "get empty");
    CHECK(buf.empty());
    must(b->get_into("data/aa/big", buf), "get big again");
    expect_same(buf, big);
  }
}

void ranges(const BackendFactory& make) {
  SECTION("ranged reads, and ranges past the end are corrupt") {
    auto b = fresh(make);
    const Bytes data = pattern(1000, 7);
    must(b->put("packs/p", data, WriteMode::overwrite), "put");
    auto slice = [&](std::size_t off, std::size_t len) {
      return Bytes(data.begin() + static_cast<std::ptrdiff_t>(off),
                   data.begin() + static_cast<std::ptrdiff_t>(off + len));
    };
    struct Case {
      std::uint64_t offset, length;
    };
    for (Case c : {Case{0, 10}, Case{500, 100}, Case{990, 10}, Case{0, 1000}, Case{999, 1},
                   Case{0, 0}, Case{400, 0}, Case{1000, 0}}) {
      INFO("range " << c.offset << "+" << c.length);
      expect_same(must(b->get_range("packs/p", c.offset, c.length), "range"),
                  slice(c.offset, c.length));
    }
    constexpr auto max = std::numeric_limits<std::uint64_t>::max();
    for (Case c : {Case{995, 10}, Case{0, 1001}, Case{1000, 1}, Case{1001, 0}, Case{5000, 10},
                   Case{1, max}, Case{max, 1}, Case{max, max}}) {
      INFO("range " << c.offset << "+" << c.length);
      expect_error(b->get_range("packs/p", c.offset, c.length), ErrorKind::corrupt, "'packs/p'");
    }
  }
}

void listing(const BackendFactory& make, const ConformanceOptions& options) {
  SECTION("listing by prefix, including a prefix ending mid-segment") {
    auto b = fresh(make);
    const std::vector<std::string> names = {"config",     "keys/k1",   "data/ab/x1",
                                            "data/ab/x2", "data/ac/y", "data/b/z",
                                            "dataset",    "index/i1",  "snapshots/s1"};
    for (std::size_t i = 0; i < names.size(); ++i) {
      must(b->put(names[i], pattern(i + 1, i), WriteMode::create_only), names[i]);
    }
    auto all = list_all(*b, "");
    CHECK(all.size() == names.size());
    for (std::size_t i = 0; i < names.size(); ++i) CHECK(all[names[i]] == i + 1);
    using V = std::vector<std::string>;
    CHECK(names_of(list_all(*b, "data/")) ==
          V{"data/ab/x1", "data/ab/x2", "data/ac/y", "data/b/z"});
    CHECK(names_of(list_all(*b, "data/a")) == V{"data/ab/x1", "data/ab/x2", "data/ac/y"});
    CHECK(names_of(list_all(*b, "data/ab")) == V{"data/ab/x1", "data/ab/x2"});
    CHECK(names_of(list_all(*b, "data/ab/")) == V{"data/ab/x1", "data/ab/x2"});
    CHECK(names_of(list_all(*b, "data/ab/x1")) == V{"data/ab/x1"});
    CHECK(names_of(list_all(*b, "data")) ==
          V{"data/ab/x1", "data/ab/x2", "data/ac/y", "data/b/z", "dataset"});
    CHECK(names_of(list_all(*b, "d")).size() == 5);
    CHECK(names_of(list_all(*b, "c")) == V{"config"});
    CHECK(names_of(list_all(*b, "config")) == V{"config"});
    for (std::string none : {"nomatch", "data/ab/x1/", "data/ab/x3", "config/", "data/zz/", "../",
                             "/data", "data//ab", "./data", "data/../config", "x/y/z/"}) {
      INFO("prefix " << none);
      CHECK(list_all(*b, none).empty());
    }
  }
  SECTION("listing many objects reports each exactly once") {
    auto b = fresh(make);
    std::vector<std::string> names;
    for (std::size_t i = 0; i < options.many_objects; ++i) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "many/obj-%05zu", i);
      names.emplace_back(buf);
      must(b->put(names.back(), util::as_bytes(std::to_string(i)), WriteMode::create_only),
           names.back());
    }
    put_text(*b, "other", "x");
    auto all = list_all(*b, "many/");
    REQUIRE(all.size() == names.size());
    for (std::size_t i = 0; i < names.size(); ++i) {
      auto it = all.find(names[i]);
      REQUIRE(it != all.end());
      CHECK(it->second == std::to_string(i).size());
    }
    CHECK(list_all(*b, "").size() == names.size() + 1);
    std::size_t expected = static_cast<std::size_t>(
        std::count_if(names.begin(), names.end(),
                      [](const std::string& n) { return n.rfind("many/obj-01", 0) == 0; }));
    CHECK(list_all(*b, "many/obj-01").size() == expected);
  }
  SECTION("a failing list callback stops the listing and its error is returned") {
    auto b = fresh(make);
    for (int i = 0; i < 10; ++i) put_text(*b, "cb/" + std::to_string(i), "x");
    int calls = 0;
    auto st = b->list("cb/", [&](const ObjectInfo&) -> util::Status {
      if (++calls == 3) return util::fail(ErrorKind::interrupted, "stop after three");
      return {};
    });
    expect_error(st, ErrorKind::interrupted, "stop after three");
    CHECK(calls == 3);
  }
}

void names(const BackendFactory& make) {
  SECTION("names with special characters round trip and list") {
    auto b = fresh(make);
    const std::vector<std::string> special = {
        "sp ace/file name",
        "unicode/ünïcødé-名前",
        "sym/a+b=c%20d&e?f",
        "sym/#hash~tilde;semi:colon@at,comma!bang'quote(paren)",
        ".hidden",
        "..dots/...x",
        "deep/a/b/c/d/e/f/g",
        "x.tmp-short",
        "x.tmp-ABCDEFABCDEF"};
    for (std::size_t i = 0; i < special.size(); ++i) {
      INFO(special[i]);
      CHECK(storage::valid_object_name(special[i]));
      must(b->put(special[i], pattern(i + 3, i), WriteMode::create_only), "put");
      expect_same(must(b->get(special[i]), "get"), pattern(i + 3, i));
      CHECK(must(b->stat(special[i]), "stat").size == i + 3);
    }
    auto all = list_all(*b, "");
    CHECK(all.size() == special.size());
    for (std::size_t i = 0; i < special.size(); ++i) CHECK(all[special[i]] == i + 3);
    CHECK(names_of(list_all(*b, "sp ace/file")) == std::vector<std::string>{"sp ace/file name"});
    CHECK(list_all(*b, "sym/a+b=c%20d&e?").size() == 1);
    CHECK(list_all(*b, "sym/a+b=c%2").size() == 1);
    CHECK(list_all(*b, "sym/a b").empty());  // '+' is not a space
    CHECK(list_all(*b, "unicode/ü").size() == 1);
    for (const auto& name : special) must(b->remove(name), "remove");
    CHECK(list_all(*b, "").empty());
  }
  SECTION("invalid names are refused with a usage error") {
    auto b = fresh(make);
    const std::vector<std::string> invalid = {"",
                                              "/abs",
                                              "../x",
                                              "a/../b",
                                              "./x",
                                              "a/./b",
                                              "a//b",
                                              "a/",
                                              "x/..",
                                              ".",
                                              "..",
                                              "/",
                                              "//",
                                              std::string("a\0b", 3),
                                              "x.tmp-abcdefabcdef",
                                              "d/x.tmp-0123456789ab"};
    for (const auto& name : invalid) {
      INFO("name '" << name << "'");
      CHECK_FALSE(storage::valid_object_name(name));
      expect_error(b->put(name, util::as_bytes("x"), WriteMode::overwrite), ErrorKind::usage);
      expect_error(b->put(name, util::as_bytes("x"), WriteMode::create_only), ErrorKind::usage);
      expect_error(b->get(name), ErrorKind::usage);
      expect_error(b->get_range(name, 0, 1), ErrorKind::usage);
      expect_error(b->stat(name), ErrorKind::usage);
      expect_error(b->remove(name), ErrorKind::usage);
    }
    CHECK(list_all(*b, "").empty());
  }
  SECTION("remove is idempotent and removes only its object") {
    auto b = fresh(make);
    put_text(*b, "snapshots/s1", "one");
    put_text(*b, "snapshots/s2", "two");
    must(b->remove("snapshots/s1"), "remove");
    expect_error(b->get("snapshots/s1"), ErrorKind::not_found);
    must(b->remove("snapshots/s1"), "remove again");
    must(b->remove("never/existed/at/all"), "remove missing");
    must(b->remove("snapshots"), "remove a prefix that is no object");
    CHECK(names_of(list_all(*b, "")) == std::vector<std::string>{"snapshots/s2"});
    CHECK(get_text(*b, "snapshots/s2") == "two");
  }
}

void large(const BackendFactory& make, const ConformanceOptions& options) {
  SECTION("a large object round trips intact") {
    auto b = fresh(make);
    const std::size_t size = options.large_object_size;
    const Bytes data = pattern(size, 42);
    must(b->put("data/ff/large", data, WriteMode::create_only), "put");
    CHECK(must(b->stat("data/ff/large"), "stat").size == size);
    CHECK(list_all(*b, "data/") == std::map<std::string, std::uint64_t>{{"data/ff/large", size}});
    expect_same(must(b->get("data/ff/large"), "get"), data);
    const std::size_t tail = std::min<std::size_t>(size, 1 << 20);
    const std::size_t mid = size / 2 - std::min<std::size_t>(size / 2, 4096);
    expect_same(must(b->get_range("data/ff/large", size - tail, tail), "tail range"),
                Bytes(data.end() - static_cast<std::ptrdiff_t>(tail), data.end()));
    expect_same(must(b->get_range("data/ff/large", mid, 8192 <= size ? 8192 : 0), "mid range"),
                Bytes(data.begin() + static_cast<std::ptrdiff_t>(mid),
                      data.begin() + static_cast<std::ptrdiff_t>(mid + (8192 <= size ? 8192 : 0))));
    expect_error(b->get_range("data/ff/large", size - tail, tail + 1), ErrorKind::corrupt);
  }
}

}  // namespace

void run_backend_conformance(const BackendFactory& make, const ConformanceOptions& options) {
  basics(make);
  ranges(make);
  listing(make, options);
  names(make);
  large(make, options);
}

}  // namespace bkp::test
