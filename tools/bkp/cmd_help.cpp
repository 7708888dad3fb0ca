#include <CLI/CLI.hpp>

#include <iostream>

#include "command.hpp"

namespace bkp::cli {

RunFn setup_help(CLI::App& sub) {
  auto topic = std::make_shared<std::string>();
  auto list = std::make_shared<bool>(false);
  sub.add_option("command", *topic, "the command to explain");
  // Used by the tests that keep completions and man pages in step with the
  // table; stable, one name per line.
  sub.add_flag("--list-commands", *list, "print command names, one per line")->group("");
  return [topic, list](Context& ctx) {
    if (*list) {
      for (auto& c : command_table()) ctx.out.data(c.name);
      return 0;
    }
    if (topic->empty()) {
      // App::help() would describe the selected subcommand ('help' itself).
      std::cout << ctx.root->get_formatter()->make_help(ctx.root, "", CLI::AppFormatMode::Normal);
      return 0;
    }
    if (!find_command(*topic)) {
      std::cerr << "bkp: no command '" << *topic << "'";
      auto near = suggest_commands(*topic);
      if (!near.empty()) std::cerr << "; did you mean '" << near.front() << "'?";
      std::cerr << "\n";
      return 2;
    }
    std::cout << ctx.root->get_subcommand(*topic)->help();
    return 0;
  };
}

}  // namespace bkp::cli
