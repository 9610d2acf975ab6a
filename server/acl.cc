#include "server/acl.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "protocol/request_parser.h"
#include "server/command_table.h"
#include "server/config.h"
#include "server/text.h"

namespace tally::server::acl {
namespace {

using Digest = std::array<unsigned char, 32>;

Digest Sha256(std::string_view text) {
  Digest digest{};
  unsigned int size = 0;
  EVP_Digest(text.data(), text.size(), digest.data(), &size, EVP_sha256(), nullptr);
  return digest;
}

std::string Hex(const Digest& digest) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char byte : digest) {
    out += kDigits[byte >> 4];
    out += kDigits[byte & 15];
  }
  return out;
}

// "#<hash>" and "!<hash>" take 64 lower-case hex digits, as in Redis.
std::optional<Digest> ParseHex(std::string_view hex) {
  if (hex.size() != 64) return std::nullopt;
  Digest digest{};
  for (size_t i = 0; i < 64; ++i) {
    const char c = hex[i];
    int value;
    if (c >= '0' && c <= '9') {
      value = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      value = c - 'a' + 10;
    } else {
      return std::nullopt;
    }
    digest[i / 2] = static_cast<unsigned char>(digest[i / 2] * 16 + value);
  }
  return digest;
}

// Redis's texts for ACL SETUSER errors (ACLSetUserStringError).
constexpr std::string_view kSyntaxError = "Syntax error";
constexpr std::string_view kUnknownName = "Unknown command or category name in ACL";
constexpr std::string_view kBadHash =
    "The password hash must be exactly 64 characters and contain only lowercase hexadecimal "
    "characters";
constexpr std::string_view kNoSuchPassword =
    "The password you are trying to remove from the user does not exist";

// The target of a +/- command rule: "get", "config|get", "@read".
std::string_view RuleTarget(std::string_view rule) { return rule.substr(1); }

}  // namespace

const std::vector<std::string_view>& AllCategories() {
  static const std::vector<std::string_view> kCategories = {
      "keyspace", "read",   "write",       "set",       "sortedset",  "list",        "hash",
      "string",   "bitmap", "hyperloglog", "geo",       "stream",     "pubsub",      "admin",
      "fast",     "slow",   "blocking",    "dangerous", "connection", "transaction", "scripting"};
  return kCategories;
}

User::User(std::string name) : name_(std::move(name)), allowed_(AllCommands().size(), false) {}

void User::SetAllCommands(bool allowed) {
  all_commands_base_ = allowed;
  command_rules_.clear();
  std::fill(allowed_.begin(), allowed_.end(), allowed);
}

// Keeps the rules ACL LIST shows: a later rule for the same command or
// category replaces an earlier one, as Redis 7.0 collapses them.
void User::RecordCommandRule(std::string rule) {
  std::erase_if(command_rules_, [&](const std::string& earlier) {
    return RuleTarget(earlier) == RuleTarget(rule);
  });
  command_rules_.push_back(std::move(rule));
}

std::optional<std::string> User::ApplyRule(std::string_view rule) {
  if (rule.empty()) return std::string(kSyntaxError);
  if (EqualsNoCase(rule, "on")) {
    enabled_ = true;
  } else if (EqualsNoCase(rule, "off")) {
    enabled_ = false;
  } else if (EqualsNoCase(rule, "nopass")) {
    nopass_ = true;
    passwords_.clear();
  } else if (EqualsNoCase(rule, "resetpass")) {
    nopass_ = false;
    passwords_.clear();
  } else if (EqualsNoCase(rule, "sanitize-payload")) {
    sanitize_ = Sanitize::kSanitize;
  } else if (EqualsNoCase(rule, "skip-sanitize-payload")) {
    sanitize_ = Sanitize::kSkip;
  } else if (EqualsNoCase(rule, "allkeys") || rule == "~*") {
    all_keys_ = true;
  } else if (EqualsNoCase(rule, "resetkeys")) {
    all_keys_ = false;
  } else if (EqualsNoCase(rule, "allchannels") || rule == "&*") {
    all_channels_ = true;
  } else if (EqualsNoCase(rule, "resetchannels")) {
    all_channels_ = false;
  } else if (EqualsNoCase(rule, "allcommands") || EqualsNoCase(rule, "+@all")) {
    SetAllCommands(true);
  } else if (EqualsNoCase(rule, "nocommands") || EqualsNoCase(rule, "-@all")) {
    SetAllCommands(false);
  } else if (EqualsNoCase(rule, "reset")) {
    *this = User(std::move(name_));
    sanitize_ = Sanitize::kSanitize;
  } else if (rule[0] == '>' || rule[0] == '<' || rule[0] == '#' || rule[0] == '!') {
    Digest digest;
    if (rule[0] == '>' || rule[0] == '<') {
      digest = Sha256(rule.substr(1));
    } else if (auto parsed = ParseHex(rule.substr(1))) {
      digest = *parsed;
    } else {
      return std::string(kBadHash);
    }
    auto found = std::find(passwords_.begin(), passwords_.end(), digest);
    if (rule[0] == '>' || rule[0] == '#') {
      if (found == passwords_.end()) passwords_.push_back(digest);
      nopass_ = false;
    } else {
      if (found == passwords_.end()) return std::string(kNoSuchPassword);
      passwords_.erase(found);
    }
  } else if (rule[0] == '~' || rule[0] == '%') {
    return "Tally supports only '~*' (or allkeys): access to every key or to none";
  } else if (rule[0] == '&') {
    return "Tally supports only '&*' (or allchannels): it has no Pub/Sub";
  } else if (rule[0] == '(' || EqualsNoCase(rule, "clearselectors")) {
    return "Tally does not support selectors";
  } else if ((rule[0] == '+' || rule[0] == '-') && rule.size() > 1) {
    const bool allow = rule[0] == '+';
    std::string target = ToLower(rule.substr(1));
    if (target[0] == '@') {
      const std::string_view category = std::string_view(target).substr(1);
      const auto& all = AllCategories();
      if (std::find(all.begin(), all.end(), category) == all.end()) {
        return std::string(kUnknownName);
      }
      for (const auto& spec : AllCommands()) {
        const auto categories = AclCategories(spec);
        if (std::find(categories.begin(), categories.end(), target) != categories.end()) {
          allowed_[CommandIndex(spec)] = allow;
        }
      }
    } else {
      const CommandSpec* spec = FindCommandByFullName(target);
      if (spec == nullptr) return std::string(kUnknownName);
      allowed_[CommandIndex(*spec)] = allow;
      // A whole command includes its subcommands, as in Redis.
      for (const CommandSpec* sub : Subcommands(*spec)) allowed_[CommandIndex(*sub)] = allow;
    }
    RecordCommandRule((allow ? "+" : "-") + target);
  } else {
    return std::string(kSyntaxError);
  }
  return std::nullopt;
}

bool User::CanRun(const CommandSpec& spec) const {
  return allowed_[CommandIndex(spec)] || (spec.flags & kNoAuth);
}

bool User::CheckPassword(std::string_view password) const {
  // Hash even for a nopass user, so that timing does not tell them apart.
  const Digest given = Sha256(password);
  bool match = false;
  for (const auto& stored : passwords_) {
    match |= CRYPTO_memcmp(given.data(), stored.data(), given.size()) == 0;
  }
  return match || nopass_;
}

bool SameSecret(std::string_view a, std::string_view b) {
  const Digest x = Sha256(a), y = Sha256(b);
  return CRYPTO_memcmp(x.data(), y.data(), x.size()) == 0;
}

std::string User::Describe() const {
  std::string out = "user " + name_ + (enabled_ ? " on" : " off");
  if (nopass_) out += " nopass";
  if (sanitize_ == Sanitize::kSkip) out += " skip-sanitize-payload";
  if (sanitize_ == Sanitize::kSanitize) out += " sanitize-payload";
  for (const auto& digest : passwords_) out += " #" + Hex(digest);
  if (all_keys_) out += " ~*";
  out += all_channels_ ? " &*" : " resetchannels";
  out += all_commands_base_ ? " +@all" : " -@all";
  for (const auto& rule : command_rules_) out += " " + rule;
  return out;
}

void User::SetOnlyPassword(std::string_view password) {
  passwords_.clear();
  nopass_ = password.empty();
  if (!password.empty()) passwords_.push_back(Sha256(password));
}

Denial Check(const User& user, const CommandSpec& spec, size_t argc) {
  if (!user.CanRun(spec)) return Denial::kCommand;
  if (!user.all_keys() && !KeyIndexes(spec, argc).empty()) return Denial::kKeys;
  return Denial::kNone;
}

std::string ChangedSinceQueuedError(Denial denial) {
  return std::string(
             "NOPERM ACLs rules changed between the moment the transaction was accumulated and "
             "the EXEC call. This command is no longer allowed for the following reason: ") +
         (denial == Denial::kKeys ? "no permission to touch the specified keys"
                                  : "no permission to execute the command or subcommand");
}

std::string NoPermissionError(const CommandSpec& spec) {
  return "NOPERM this user has no permissions to run the '" + std::string(spec.name) + "' command";
}

namespace {

// A user name must be one word: it appears in ACL LIST and CLIENT LIST lines.
bool ValidUserName(std::string_view name) {
  return !name.empty() && std::none_of(name.begin(), name.end(), [](char c) {
    return std::isspace(static_cast<unsigned char>(c));
  });
}

std::optional<std::string> ApplyRules(User* user, const std::vector<std::string>& rules,
                                      size_t first) {
  for (size_t i = first; i < rules.size(); ++i) {
    if (auto err = user->ApplyRule(rules[i])) {
      return "Error in applying operation '" + rules[i] + "': " + *err;
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> ParseUserSetting(std::string_view value, std::shared_ptr<User>* out) {
  std::vector<std::string> words;
  if (!protocol::SplitInlineArgs(value, &words) || words.empty()) {
    return "expected NAME:PASSWORD[:readonly] or NAME followed by ACL rules";
  }
  if (words.size() > 1) {
    // redis.conf's form: user alice on >secret ~* +@all
    if (!ValidUserName(words[0])) return "invalid user name '" + words[0] + "'";
    auto user = std::make_shared<User>(words[0]);
    if (auto err = ApplyRules(user.get(), words, 1)) return err;
    *out = std::move(user);
    return std::nullopt;
  }
  std::string_view spec = value;
  const size_t colon = spec.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == spec.size()) {
    return "expected NAME:PASSWORD[:readonly] or NAME followed by ACL rules";
  }
  const std::string name(spec.substr(0, colon));
  std::string_view password = spec.substr(colon + 1);
  constexpr std::string_view kReadOnly = ":readonly";
  const bool read_only = password.size() > kReadOnly.size() && password.ends_with(kReadOnly);
  if (read_only) password.remove_suffix(kReadOnly.size());
  if (!ValidUserName(name)) return "invalid user name '" + name + "'";
  auto user = std::make_shared<User>(name);
  std::vector<std::string> rules = {"on", ">" + std::string(password), "~*", "&*", "+@all"};
  if (read_only) {
    // Everything that neither writes nor administers the server.
    rules.push_back("-@write");
    rules.push_back("-@admin");
  }
  if (auto err = ApplyRules(user.get(), rules, 0)) return err;
  *out = std::move(user);
  return std::nullopt;
}

UserDirectory::UserDirectory() {
  auto user = std::make_shared<User>("default");
  for (std::string_view rule : {"on", "nopass", "~*", "&*", "+@all"}) user->ApplyRule(rule);
  users_.emplace("default", std::move(user));
}

std::optional<std::string> UserDirectory::Add(std::shared_ptr<User> user) {
  const std::string name = user->name();
  if (name == "default") {
    if (default_defined_) return "duplicate user 'default'";
    default_defined_ = true;
    users_.erase(name);
  }
  if (!users_.emplace(name, std::move(user)).second) return "duplicate user '" + name + "'";
  return std::nullopt;
}

std::optional<std::string> UserDirectory::ParseAclFile(std::string_view text, std::string_view file,
                                                       UserDirectory* out) {
  UserDirectory directory;
  size_t number = 0;
  while (!text.empty()) {
    ++number;
    const size_t newline = text.find('\n');
    std::string_view line = text.substr(0, newline);
    text.remove_prefix(newline == std::string_view::npos ? text.size() : newline + 1);
    const std::string where = std::string(file) + ":" + std::to_string(number);
    std::vector<std::string> words;
    if (!protocol::SplitInlineArgs(line, &words)) return where + ": unbalanced quotes";
    if (words.empty()) continue;
    if (words[0] != "user" || words.size() < 2) {
      // Redis's own message (it has no comments in ACL files either).
      return where + " should start with user keyword followed by the username.";
    }
    if (!ValidUserName(words[1])) {
      return where + ": username '" + words[1] + "' contains invalid characters.";
    }
    auto user = std::make_shared<User>(words[1]);
    if (auto err = ApplyRules(user.get(), words, 2)) return where + ": " + *err + ".";
    if (auto err = directory.Add(std::move(user))) return where + ": " + *err;
  }
  *out = std::move(directory);
  return std::nullopt;
}

std::optional<std::string> UserDirectory::Load(const Config& config, UserDirectory* out) {
  UserDirectory directory;
  if (!config.aclfile.empty()) {
    if (!config.users.empty()) {
      // Redis refuses this too: two sources of users invite security holes.
      return "users are defined both by 'user' settings and by the ACL file '" + config.aclfile +
             "'; define them in one place";
    }
    std::ifstream in(config.aclfile, std::ios::binary);
    if (!in) return "cannot read the ACL file '" + config.aclfile + "'";
    std::stringstream text;
    text << in.rdbuf();
    if (auto err = ParseAclFile(text.str(), config.aclfile, &directory)) return err;
  }
  for (const auto& setting : config.users) {
    std::shared_ptr<User> user;
    if (auto err = ParseUserSetting(setting, &user)) return "invalid 'user' setting: " + *err;
    if (auto err = directory.Add(std::move(user))) return "invalid 'user' setting: " + *err;
  }
  if (directory.default_defined_ && !config.requirepass.empty()) {
    return "requirepass and a definition of the user 'default' both set the default user's "
           "password; keep one";
  }
  *out = std::move(directory);
  return std::nullopt;
}

std::shared_ptr<const User> UserDirectory::Find(std::string_view name,
                                                std::string_view requirepass) const {
  auto it = users_.find(name);
  if (it == users_.end()) return nullptr;
  if (name != "default" || requirepass.empty()) return it->second;
  auto user = std::make_shared<User>(*it->second);
  user->SetOnlyPassword(requirepass);
  return user;
}

std::shared_ptr<const User> UserDirectory::Default(std::string_view requirepass) const {
  return Find("default", requirepass);
}

std::vector<std::shared_ptr<const User>> UserDirectory::All(std::string_view requirepass) const {
  std::vector<std::shared_ptr<const User>> out;
  for (const auto& [name, user] : users_) out.push_back(Find(name, requirepass));
  return out;
}

const std::string_view kProtectedModeError =
    "-DENIED Redis is running in protected mode because protected mode is enabled and no "
    "password is set for the default user. In this mode connections are only accepted from the "
    "loopback interface. If you want to connect from external computers to Redis you may adopt "
    "one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG "
    "SET protected-mode no' from the loopback interface by connecting to Redis from the same host "
    "the server is running, however MAKE SURE Redis is not publicly accessible from internet if "
    "you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just "
    "disable the protected mode by editing the Redis configuration file, and setting the "
    "protected mode option to 'no', and then restarting the server. 3) If you started the server "
    "manually just for testing, restart it with the '--protected-mode no' option. 4) Setup a an "
    "authentication password for the default user. NOTE: You only need to do one of the above "
    "things in order for the server to start accepting connections from the outside.\r\n";

bool ProtectedModeRejects(bool protected_mode, const User& default_user,
                          const boost::asio::ip::address& peer) {
  if (!protected_mode || !default_user.nopass()) return false;
  // Redis compares the peer's text with "127.0.0.1" and "::1" exactly. An
  // IPv4 client on a dual-stack socket appears as ::ffff:127.0.0.1.
  boost::asio::ip::address address = peer;
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    address = boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, address.to_v6());
  }
  static const auto kLoopbackV4 = boost::asio::ip::make_address("127.0.0.1");
  static const auto kLoopbackV6 = boost::asio::ip::make_address("::1");
  return address != kLoopbackV4 && address != kLoopbackV6;
}

}  // namespace tally::server::acl
