// Reading JSON and CBOR that comes from storage (config, key slots,
// snapshot manifests, trees), where every byte is untrusted:
//
// - nlohmann's get<int>() also accepts a float and converts it with
//   static_cast: 1.5 silently becomes 1, and 1e300 is undefined behaviour.
//   json_integer() accepts only integers that fit the target type.
// - nlohmann's CBOR reader recurses once per nesting level, so a few KiB of
//   nested arrays overflow the stack (10,000 levels do under ASan).
//   parse_cbor() refuses documents nested deeper than kMaxCborDepth.
//
// Both throw nlohmann::json exceptions, which the decoders already turn
// into errors.
#pragma once

#include <concepts>
#include <cstdint>
#include <string>
#include <type_traits>
#include <utility>

#include <nlohmann/json.hpp>

#include "util/bytes.hpp"

namespace bkp::repo {

// The value of `j` as a T; throws nlohmann::json::type_error when `j` is
// not an integer or does not fit in T. `what` names the field in the message.
template <std::integral T>
T json_integer(const nlohmann::json& j, const char* what) {
  bool fits = false;
  if (j.is_number_unsigned()) {
    fits = std::in_range<T>(j.get<std::uint64_t>());
  } else if (j.is_number_integer()) {
    fits = std::in_range<T>(j.get<std::int64_t>());
  }
  if (!fits) {
    // type_name(), not dump(): dumping a deeply nested value recurses.
    throw nlohmann::json::type_error::create(
        302, std::string(what) + " must be an integer in range, not " + j.type_name(), &j);
  }
  return j.is_number_unsigned() ? static_cast<T>(j.get<std::uint64_t>())
                                : static_cast<T>(j.get<std::int64_t>());
}

// Deeper than anything bkp writes (a tree node's xattr pair is at depth 4).
inline constexpr std::size_t kMaxCborDepth = 64;

namespace detail {

// nlohmann's own DOM builder, refusing to open an array or map deeper than
// kMaxCborDepth: the reader asks before it recurses, so the check bounds
// the recursion, not just the result.
class DepthLimitedSax : public nlohmann::detail::json_sax_dom_parser<nlohmann::json> {
  using Base = nlohmann::detail::json_sax_dom_parser<nlohmann::json>;

 public:
  explicit DepthLimitedSax(nlohmann::json& result) : Base(result, true) {}
  bool start_object(std::size_t n) { return enter() && Base::start_object(n); }
  bool end_object() {
    --depth_;
    return Base::end_object();
  }
  bool start_array(std::size_t n) { return enter() && Base::start_array(n); }
  bool end_array() {
    --depth_;
    return Base::end_array();
  }

 private:
  bool enter() {
    if (++depth_ > kMaxCborDepth) {
      throw nlohmann::json::out_of_range::create(
          408, "CBOR nested deeper than " + std::to_string(kMaxCborDepth) + " levels", nullptr);
    }
    return true;
  }
  std::size_t depth_ = 0;
};

// DepthLimitedSax that hands each object of the array under the top-level
// key `key` to `fn` as soon as it is complete, and drops it from the
// document: a tree of 18,000 entries was 25 MiB as one document.
template <class Fn>
class StreamingArraySax : public DepthLimitedSax {
 public:
  StreamingArraySax(nlohmann::json& result, std::string key, Fn& fn)
      : DepthLimitedSax(result), result_(result), key_(std::move(key)), fn_(fn) {}
  bool key(nlohmann::json::string_t& k) {
    if (depth_ == 1) {
      streaming_ = k == key_;
      // A second array under the key would add to the first, not replace it.
      if (streaming_ && std::exchange(seen_, true)) {
        throw nlohmann::json::other_error::create(501, "CBOR map repeats '" + key_ + "'", nullptr);
      }
    }
    return DepthLimitedSax::key(k);
  }
  bool start_object(std::size_t n) {
    ++depth_;
    return DepthLimitedSax::start_object(n);
  }
  bool end_object() {
    --depth_;
    bool ok = DepthLimitedSax::end_object();
    if (ok && streaming_ && depth_ == 2) {
      // The parser holds no pointer into the array's elements once one is
      // complete, only to the array itself: taking the element out is safe.
      auto& elements = result_[key_].get_ref<nlohmann::json::array_t&>();
      fn_(elements.back());
      elements.pop_back();
    }
    return ok;
  }
  bool start_array(std::size_t n) {
    ++depth_;
    return DepthLimitedSax::start_array(n);
  }
  bool end_array() {
    --depth_;
    return DepthLimitedSax::end_array();
  }

 private:
  nlohmann::json& result_;
  std::string key_;
  Fn& fn_;
  std::size_t depth_ = 0;
  bool streaming_ = false;
  bool seen_ = false;
};

}  // namespace detail

// nlohmann::json::from_cbor(in) (strict, tags refused), with the nesting
// bounded.
inline nlohmann::json parse_cbor(util::ByteView in) {
  nlohmann::json result;
  detail::DepthLimitedSax sax(result);
  // Errors throw (allow_exceptions); false without one would be a reader bug.
  if (!nlohmann::json::sax_parse(in.begin(), in.end(), &sax,
                                 nlohmann::json::input_format_t::cbor)) {
    throw nlohmann::json::other_error::create(501, "CBOR could not be parsed", nullptr);
  }
  return result;
}

// parse_cbor() of a document whose top level is a map, except that each
// object in the array under `key` goes to `fn(const nlohmann::json&)` as it
// is read and is left out of the result (other elements of that array stay).
template <class Fn>
nlohmann::json parse_cbor_streaming(util::ByteView in, std::string key, Fn&& fn) {
  nlohmann::json result;
  detail::StreamingArraySax<std::remove_reference_t<Fn>> sax(result, std::move(key), fn);
  if (!nlohmann::json::sax_parse(in.begin(), in.end(), &sax,
                                 nlohmann::json::input_format_t::cbor)) {
    throw nlohmann::json::other_error::create(501, "CBOR could not be parsed", nullptr);
  }
  return result;
}

}  // namespace bkp::repo
