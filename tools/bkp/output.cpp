#include "output.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iostream>

namespace bkp::cli {

namespace {
std::int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}
}  // namespace

void Output::data(std::string_view line) const {
  std::cout << line << '\n';
}

void Output::emit(std::string_view type, nlohmann::json object) const {
  nlohmann::ordered_json line;
  line["type"] = type;
  // "type" names the kind of object and is never overwritten by a field.
  for (auto& [k, v] : object.items()) {
    if (k != "type") line[k] = v;
  }
  std::cout << line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
}

void Output::info(std::string_view msg) const {
  if (!quiet) std::cerr << msg << '\n';
}

void Output::detail(std::string_view msg) const {
  if (verbosity > 0 && !quiet) std::cerr << msg << '\n';
}

void Output::warn(std::string_view msg) const { std::cerr << "bkp: warning: " << msg << '\n'; }

int Output::error(const util::Error& e) const {
  std::cerr << "bkp: " << e.message << '\n';
  if (json()) {
    emit("error", {{"kind", util::kind_name(e.kind)},
                   {"message", e.message},
                   {"exit_code", util::exit_code(e.kind)}});
  }
  return util::exit_code(e.kind);
}

bool Output::show_progress() const {
  return progress_allowed && !quiet && ::isatty(STDERR_FILENO);
}

std::string human_bytes(std::uint64_t n) {
  static constexpr const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  double v = static_cast<double>(n);
  int u = 0;
  while (v >= 1024 && u < 5) v /= 1024, ++u;
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.2f %s", v, units[u]);
  return buf;
}

Progress::Progress(const Output& out, std::string label, std::uint64_t total)
    : out_(out), label_(std::move(label)), total_(total), start_ms_(now_ms()),
      active_(out.show_progress()) {}

Progress::~Progress() { finish(); }

void Progress::update(std::uint64_t done, std::uint64_t items) {
  done_ = done;
  items_ = items;
  draw(false);
}

void Progress::draw(bool force) {
  if (!active_) return;
  auto t = now_ms();
  if (!force && t - last_draw_ms_ < 100) return;
  last_draw_ms_ = t;
  double secs = static_cast<double>(t - start_ms_) / 1000.0;
  auto rate = secs > 0 ? static_cast<std::uint64_t>(static_cast<double>(done_) / secs) : 0;
  std::string line = label_ + " " + human_bytes(done_);
  if (total_) {
    line += " / " + human_bytes(total_) + " (" +
            std::to_string(done_ * 100 / std::max<std::uint64_t>(total_, 1)) + "%)";
  }
  if (items_) line += ", " + std::to_string(items_) + " items";
  line += ", " + human_bytes(rate) + "/s";
  std::cerr << "\r\033[K" << line << std::flush;
}

void Progress::finish() {
  if (!active_) return;
  draw(true);
  std::cerr << '\n';
  active_ = false;
}

}  // namespace bkp::cli
