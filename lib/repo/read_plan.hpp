// Planning ranged reads of one pack: many blobs wanted from the same object
// are fetched with few requests by reading neighbours together, gaps
// included. On an object store every request costs a round trip (tens of
// milliseconds on AWS, more on a slow S3-compatible server), which is the
// time to transfer a megabyte or more, so reading a small unneeded gap is
// cheaper than a second request. A pure function, so that it is tested on
// its own (tests/unit/repo/read_plan_test.cpp).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace bkp::repo {

struct ByteRange {
  std::uint64_t offset = 0, length = 0;
  std::uint64_t end() const { return offset + length; }
};

struct ReadLimits {
  // Unneeded bytes between two wanted ranges that are still read through
  // rather than starting a new request.
  std::uint64_t max_gap = 0;
  // Longest request: bounds the memory of one read in flight. A single
  // range longer than this is still read, alone.
  std::uint64_t max_span = 0;
};

// Object stores: a request's latency is worth about a megabyte; 4 MiB per
// request keeps 8 requests in flight within 32 MiB.
inline constexpr ReadLimits kRemoteReadLimits{1u << 20, 4u << 20};
// Local disk: only neighbours are joined, up to 1 MiB: one pread and one
// claim for a run of small files' chunks instead of one each (restore of
// the bench tree: 7.2 -> 6.8 CPU s), and spans short enough that every
// worker still has blobs to decode.
inline constexpr ReadLimits kLocalReadLimits{0, 1u << 20};

struct PlannedRead {
  ByteRange span;                    // what to request
  std::vector<std::size_t> members;  // indices into the ranges asked, by offset
};

// Covers every range of `ranges` (all of one object; duplicates and overlaps
// allowed) with requests, each range wholly inside exactly one of them.
// Ranges are taken in offset order; a range joins the request before it when
// the gap from that request's end is at most max_gap and the request stays
// within max_span. Requests come out in offset order. Empty ranges belong to
// a request like any other.
std::vector<PlannedRead> plan_reads(std::span<const ByteRange> ranges, const ReadLimits& limits);

}  // namespace bkp::repo
