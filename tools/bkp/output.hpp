// Where bkp writes: data on stdout, diagnostics on stderr; with --json one
// JSON object per line on stdout, each with a "type" field.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>

#include "util/error.hpp"

namespace bkp::cli {

enum class Format { text, json };

class Output {
 public:
  Format format = Format::text;
  bool quiet = false;
  int verbosity = 0;
  bool progress_allowed = true;

  bool json() const { return format == Format::json; }
  // A line of data on stdout (text mode only; JSON goes through emit()).
  void data(std::string_view line) const;
  // One JSON object on stdout; `type` is set first.
  void emit(std::string_view type, nlohmann::json object) const;
  // Diagnostics on stderr. info() is silenced by -q, detail() needs -v.
  void info(std::string_view msg) const;
  void detail(std::string_view msg) const;
  void warn(std::string_view msg) const;
  // Prints an error on stderr (and as {"type":"error"} in JSON mode) and
  // returns its exit code, so commands can `return out.error(e);`.
  int error(const util::Error& e) const;
  // True when a progress bar may be drawn on stderr.
  bool show_progress() const;
};

// A one-line progress display on stderr, redrawn at most ~10 times a second.
class Progress {
 public:
  Progress(const Output& out, std::string label, std::uint64_t total_bytes = 0);
  ~Progress();
  void update(std::uint64_t done_bytes, std::uint64_t done_items = 0);
  void finish();

 private:
  void draw(bool force);
  const Output& out_;
  std::string label_;
  std::uint64_t total_ = 0, done_ = 0, items_ = 0;
  std::int64_t last_draw_ms_ = 0, start_ms_ = 0;
  bool active_ = false;
};

std::string human_bytes(std::uint64_t n);

}  // namespace bkp::cli
