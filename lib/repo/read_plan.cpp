#include "repo/read_plan.hpp"

#include <algorithm>
#include <numeric>

namespace bkp::repo {

std::vector<PlannedRead> plan_reads(std::span<const ByteRange> ranges, const ReadLimits& limits) {
  std::vector<std::size_t> order(ranges.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  // Stable: equal offsets keep the caller's order, so the plan is the same
  // for the same input.
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return ranges[a].offset < ranges[b].offset;
  });
  std::vector<PlannedRead> plan;
  for (std::size_t i : order) {
    const ByteRange& r = ranges[i];
    if (!plan.empty()) {
      ByteRange& cur = plan.back().span;
      std::uint64_t end = std::max(cur.end(), r.end());
      bool near = r.offset <= cur.end() || r.offset - cur.end() <= limits.max_gap;
      if (near && end - cur.offset <= limits.max_span) {
        cur.length = end - cur.offset;
        plan.back().members.push_back(i);
        continue;
      }
    }
    plan.push_back(PlannedRead{r, {i}});
  }
  return plan;
}

}  // namespace bkp::repo
