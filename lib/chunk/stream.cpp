#include <algorithm>
#include <cstring>
#include <memory>
#include <string>

#include "chunk/chunker.hpp"

namespace bkp::chunk {
namespace {

// Calls `read` into buf[0, cap), with a check that the callback kept to it.
util::Result<std::size_t> read_some(const ReadFn& read, std::uint8_t* buf, std::size_t cap) {
  BKP_ASSIGN(std::size_t got, read(buf, cap));
  if (got > cap)
    return util::fail(util::ErrorKind::generic, "chunking: reader returned " + std::to_string(got) +
                                                    " bytes for a buffer of " +
                                                    std::to_string(cap));
  return got;
}

}  // namespace

util::Status chunk_stream(const Chunker& chunker, const ReadFn& read, const EmitFn& emit) {
  const std::size_t max = chunker.params().max_size;
  // Twice max_size, so that cut() can always be given max_size bytes (a cut
  // is then certain). cut() on fewer bytes finds the same boundary or none
  // (0): it scans the same bytes with the same masks, and stops short. So
  // the buffer is refilled once fewer than `refill` bytes wait, not
  // max_size: the unconsumed tail moved to the front when the buffer end is
  // reached is then under a quarter of max_size, where keeping max_size
  // ahead moved almost every byte of a large file once more (1.4 GB per
  // first backup of the bench tree). A chunk longer than what waits is
  // scanned twice, which is rarer and cheaper than the move.
  const std::size_t cap = 2 * max;
  const std::size_t refill = std::max(max / 4, chunker.params().avg_size);
  // Kept per thread between calls (a backup calls this once per file: a
  // fresh 16 MiB allocation each time cost the allocator more than the
  // work of a small file), unless larger than the default parameters need.
  constexpr std::size_t kKeep = 16u << 20;
  thread_local std::unique_ptr<std::uint8_t[]> kept;
  thread_local std::size_t kept_size = 0;
  // A chunk_stream inside another's emit (none today) gets its own buffer.
  thread_local bool kept_in_use = false;
  std::unique_ptr<std::uint8_t[]> own;
  std::uint8_t* data = nullptr;
  struct Release {
    bool* flag = nullptr;
    ~Release() {
      if (flag) *flag = false;
    }
  } release;
  if (cap <= kKeep && !kept_in_use) {
    if (kept_size < cap) {
      kept.reset(new std::uint8_t[cap]);
      kept_size = cap;
    }
    data = kept.get();
    kept_in_use = true;
    release.flag = &kept_in_use;
  } else {
    own.reset(new std::uint8_t[cap]);
    data = own.get();
  }
  std::size_t start = 0, end = 0;
  bool eof = false;
  bool need_max = false;  // cut() found no boundary in what waits: read up to max_size
  for (;;) {
    const std::size_t pending = end - start;
    if (!eof && (pending < refill || (need_max && pending < max))) {
      if (end == cap) {
        std::memmove(data, data + start, pending);
        end = pending;
        start = 0;
      }
      BKP_ASSIGN(std::size_t got, read_some(read, data + end, cap - end));
      if (got == 0)
        eof = true;
      else
        end += got;
      continue;
    }
    if (pending == 0) return {};
    const util::ByteView view(data + start, pending);
    const std::size_t n = chunker.cut(view, eof);
    if (n == 0) {  // only before the end, on fewer than max_size bytes
      need_max = true;
      continue;
    }
    need_max = false;
    BKP_TRY(emit(view.first(n)));
    start += n;
  }
}

util::Status fixed_blocks(std::size_t block_size, const ReadFn& read, const EmitFn& emit) {
  if (block_size == 0)
    return util::fail(util::ErrorKind::usage, "chunking: block size must be positive");
  std::unique_ptr<std::uint8_t[]> buf(new std::uint8_t[block_size]);
  for (;;) {
    std::size_t fill = 0;
    bool eof = false;
    while (fill < block_size) {
      BKP_ASSIGN(std::size_t got, read_some(read, buf.get() + fill, block_size - fill));
      if (got == 0) {
        eof = true;
        break;
      }
      fill += got;
    }
    if (fill > 0) BKP_TRY(emit(util::ByteView(buf.get(), fill)));
    if (eof) return {};
  }
}

}  // namespace bkp::chunk
