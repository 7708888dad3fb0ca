// bkp keys shred --domain D: the option parsing and confirmation of
// crypto-shredding (the logic is lib/engine/shred.cpp).
#pragma once

#include <memory>
#include <string>

#include "context.hpp"

namespace CLI {
class App;
}

namespace bkp::cli {

struct ShredArgs {
  std::string domain;
  bool yes = false;
  bool dry_run = false;
};

CLI::App* add_keys_shred(CLI::App& keys, const std::shared_ptr<ShredArgs>& args);
int run_keys_shred(Context& ctx, const ShredArgs& args);

}  // namespace bkp::cli
