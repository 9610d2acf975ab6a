// The settings table's generated texts: the example config (tally.conf) and
// the --help manual must list every setting, and the example's values must
// read back as the defaults.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "server/config.h"

using namespace tally::server;

TEST_CASE("the example config, uncommented, sets every setting to its default") {
  std::istringstream in(ExampleConfigText());
  std::ostringstream uncommented;
  std::string line;
  size_t settings_lines = 0;
  while (std::getline(in, line)) {
    // A setting line is `# <name> <value>` with a name of the table.
    if (line.rfind("# ", 0) == 0) {
      std::string rest = line.substr(2);
      std::string name = rest.substr(0, rest.find(' '));
      if (rest.find(' ') != std::string::npos && FindSetting(name) &&
          FindSetting(name)->name == name) {
        line = rest;
        ++settings_lines;
      }
    }
    uncommented << line << "\n";
  }
  CHECK(settings_lines == AllSettings().size());

  auto path = std::filesystem::temp_directory_path() /
              ("tally-config-test-" + std::to_string(::getpid()) + ".conf");
  std::ofstream(path) << uncommented.str();
  Config loaded;
  loaded.port = 1;  // the file must set it back
  auto err = LoadConfigFile(path.string(), &loaded);
  std::filesystem::remove(path);
  REQUIRE_FALSE(err);
  const Config defaults;
  for (const auto& s : AllSettings()) {
    INFO(s.name);
    CHECK(s.get(loaded) == s.get(defaults));
  }
}

TEST_CASE("--help lists every setting with its default, in man page sections") {
  std::string help = HelpText();
  for (const auto& s : AllSettings()) {
    INFO(s.name);
    CHECK(help.find("\n       --" + std::string(s.name) + " VALUE\n") != std::string::npos);
  }
  size_t last = 0;
  for (const char* section :
       {"NAME\n", "\nSYNOPSIS\n", "\nDESCRIPTION\n", "\nOPTIONS\n", "\nFILES\n", "\nEXAMPLES\n"}) {
    size_t at = help.find(section);
    INFO(section);
    REQUIRE(at != std::string::npos);
    CHECK(at >= last);
    last = at;
  }
}

TEST_CASE("--config and a positional config file are the same, and exclusive") {
  auto path = std::filesystem::temp_directory_path() /
              ("tally-config-flag-" + std::to_string(::getpid()) + ".conf");
  std::ofstream(path) << "port 7001\n";
  std::string file = path.string();
  Config a, b, c;
  CommandLineAction action;
  const char* with_flag[] = {"tally-server", "--config", file.c_str(), "--dir", "x"};
  REQUIRE_FALSE(ParseCommandLine(5, with_flag, &a, &action));
  CHECK(a.port == 7001);
  CHECK(a.dir == "x");
  const char* positional[] = {"tally-server", file.c_str()};
  REQUIRE_FALSE(ParseCommandLine(2, positional, &b, &action));
  CHECK(b.port == 7001);
  const char* both[] = {"tally-server", file.c_str(), "--config", file.c_str()};
  auto err = ParseCommandLine(4, both, &c, &action);
  std::filesystem::remove(path);
  REQUIRE(err);
  CHECK(*err == "give the config file once: as the first argument or with --config");
  const char* print[] = {"tally-server", "--print-config"};
  REQUIRE_FALSE(ParseCommandLine(2, print, &c, &action));
  CHECK(action == CommandLineAction::kPrintConfig);
}
