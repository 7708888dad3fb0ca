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
  // Twice max_size: cut() always sees at least max_size bytes (or the end of
  // the stream), so it never returns 0 and never rescans; the unconsumed
  // tail (< max_size) moves to the front only when the buffer end is reached.
  const std::size_t cap = 2 * max;
  std::unique_ptr<std::uint8_t[]> buf(new std::uint8_t[cap]);
  std::size_t start = 0, end = 0;
  bool eof = false;
  for (;;) {
    while (!eof && end - start < max) {
      if (end == cap) {
        std::memmove(buf.get(), buf.get() + start, end - start);
        end -= start;
        start = 0;
      }
      BKP_ASSIGN(std::size_t got, read_some(read, buf.get() + end, cap - end));
      if (got == 0)
        eof = true;
      else
        end += got;
    }
    if (start == end) return {};
    const util::ByteView pending(buf.get() + start, end - start);
    const std::size_t n = chunker.cut(pending, eof);
    BKP_TRY(emit(pending.first(n)));
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
