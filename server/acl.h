// Access control: who may connect and what each user may run. Users come
// from `requirepass` (the default user's password), `--user` settings or an
// ACL file in Redis's format, limited to the rules Tally can honour exactly
// (see docs/security.md). Also Redis's protected mode.
#pragma once

#include <array>
#include <boost/asio/ip/address.hpp>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tally::server {

struct Config;
struct CommandSpec;

namespace acl {

// Redis's ACL categories, in the order ACL CAT lists them (without "@").
const std::vector<std::string_view>& AllCategories();

// One user: on/off, passwords (kept only as SHA-256 digests), whether it may
// touch keys, and which commands it may run. Immutable once built, so a
// connection can hold its user without locking.
class User {
 public:
  // Redis's fresh user: off, no password, no keys, no channels, no commands.
  explicit User(std::string name);

  const std::string& name() const { return name_; }
  bool enabled() const { return enabled_; }
  bool nopass() const { return nopass_; }
  bool all_keys() const { return all_keys_; }

  // Applies one rule as ACL SETUSER does in Redis 7.0: on, off, nopass,
  // resetpass, >password, <password, #sha256, !sha256, ~*, allkeys,
  // resetkeys, &*, allchannels, resetchannels, +@all, -@all, allcommands,
  // nocommands, +@category, -@category, +command, -command,
  // +command|subcommand, -command|subcommand, reset, sanitize-payload,
  // skip-sanitize-payload (case-insensitive, as in Redis). Returns Redis's
  // error text for a bad rule, or Tally's for a rule it does not support
  // (key or channel patterns other than "*", selectors); the user is then
  // unchanged by this rule.
  std::optional<std::string> ApplyRule(std::string_view rule);

  // Whether the user may run `spec` (for a container command, the
  // subcommand's own row). Commands allowed before AUTH (AUTH, HELLO, QUIT,
  // RESET) are always allowed, as in Redis.
  bool CanRun(const CommandSpec& spec) const;

  // Whether `password` is one of the user's passwords (any password, for a
  // nopass user). Compares SHA-256 digests with CRYPTO_memcmp against every
  // stored digest, so the time taken says nothing about the password's
  // length or how much of it was right.
  bool CheckPassword(std::string_view password) const;

  // The user as ACL LIST shows it: "user alice on #<sha256> ~* &* +@all".
  // Command rules are shown as applied, after dropping earlier rules for the
  // same command or category (Redis 7.0 may print an equivalent but
  // differently worded list for unusual combinations).
  std::string Describe() const;

  // requirepass: the user's only password becomes `password` (nopass when
  // it is empty).
  void SetOnlyPassword(std::string_view password);

 private:
  enum class Sanitize { kUnset, kSanitize, kSkip };
  void SetAllCommands(bool allowed);
  void RecordCommandRule(std::string rule);

  std::string name_;
  bool enabled_ = false;
  bool nopass_ = false;
  Sanitize sanitize_ = Sanitize::kUnset;
  std::vector<std::array<unsigned char, 32>> passwords_;  // SHA-256, in order added
  bool all_keys_ = false;
  bool all_channels_ = false;
  bool all_commands_base_ = false;          // rules start from +@all (else -@all)
  std::vector<std::string> command_rules_;  // after the base, for Describe()
  std::vector<bool> allowed_;               // by CommandIndex()
};

// Why `user` may not run `spec` with `argc` arguments, if it may not: the
// command itself, or its keys (Tally's users may touch every key or none).
enum class Denial { kNone, kCommand, kKeys };
Denial Check(const User& user, const CommandSpec& spec, size_t argc);

// Redis's refusals.
std::string NoPermissionError(const CommandSpec& spec);
inline constexpr std::string_view kNoKeyPermissionError =
    "NOPERM this user has no permissions to access one of the keys used as arguments";
// EXEC's, when a queued command is no longer allowed (AUTH inside MULTI).
std::string ChangedSinceQueuedError(Denial denial);
inline constexpr std::string_view kWrongPassError =
    "WRONGPASS invalid username-password pair or user is disabled.";

// Parses a `user` setting: "NAME:PASSWORD" (all commands),
// "NAME:PASSWORD:readonly" (+@all -@write -@admin), or a redis.conf `user`
// line's words, "NAME rule rule ...". Returns an error on a bad value.
std::optional<std::string> ParseUserSetting(std::string_view value, std::shared_ptr<User>* out);

// Every user the server knows, fixed at start-up (there is no ACL SETUSER).
// The default user's password follows the live requirepass setting.
class UserDirectory {
 public:
  // Only the default user, Redis's "on nopass ~* &* +@all".
  UserDirectory();

  // Builds the users of `config`: its `user` settings or its aclfile (read
  // now; not both, as in Redis), and requirepass. Returns an error naming
  // the setting, or the file and line, on failure.
  static std::optional<std::string> Load(const Config& config, UserDirectory* out);

  // Parses the text of an ACL file: one "user NAME rule..." per line, blank
  // lines ignored. Errors read "<file>:<line>: ...".
  static std::optional<std::string> ParseAclFile(std::string_view text, std::string_view file,
                                                 UserDirectory* out);

  // The user `name` as it is now (the default user with `requirepass`
  // applied when that is set), or nullptr if there is no such user.
  std::shared_ptr<const User> Find(std::string_view name, std::string_view requirepass) const;
  std::shared_ptr<const User> Default(std::string_view requirepass) const;
  // Every user, by name (ACL LIST, ACL USERS).
  std::vector<std::shared_ptr<const User>> All(std::string_view requirepass) const;

 private:
  std::optional<std::string> Add(std::shared_ptr<User> user);

  std::map<std::string, std::shared_ptr<const User>, std::less<>> users_;
  bool default_defined_ = false;  // by a `user` setting or the ACL file
};

// Whether two secrets (passwords, REST tokens) are equal, compared as
// SHA-256 digests with CRYPTO_memcmp: the time taken says nothing about
// their lengths or how much of them matched.
bool SameSecret(std::string_view a, std::string_view b);

// Redis's protected mode: with `protected-mode yes` and no password for the
// default user, a client whose address is not 127.0.0.1 or ::1 is refused
// with kProtectedModeError and disconnected.
bool ProtectedModeRejects(bool protected_mode, const User& default_user,
                          const boost::asio::ip::address& peer);
extern const std::string_view kProtectedModeError;  // "-DENIED ...\r\n", as sent

}  // namespace acl
}  // namespace tally::server
