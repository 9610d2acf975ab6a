// Who may use the HTTP front end, and for what. A request presents a token
// (`Authorization: Bearer <token>`, or `?_token=` for curl users); a token
// from http-token (or, when that is empty, requirepass) may run every
// command, one from http-readonly-token only commands that change nothing,
// like Upstash's read-only tokens.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "server/command_table.h"
#include "server/config.h"

namespace tally::server::http {

enum class Access { kDenied, kReadOnly, kFull };

struct HttpTokens {
  std::vector<std::string> full;
  std::vector<std::string> read_only;

  // With no token at all, the front end is open, which Listen() allows on
  // loopback addresses only.
  bool open() const { return full.empty() && read_only.empty(); }

  // Reads the live settings: tokens can be rotated with CONFIG SET.
  static HttpTokens FromConfig(const Config& config);
};

// Splits a setting value such as "a,b c" into its tokens.
std::vector<std::string> SplitTokenList(std::string_view value);

// The token in an Authorization header value ("Bearer <token>", any case of
// "Bearer"); empty if there is none.
std::string_view BearerToken(std::string_view authorization);

// The best access any of `presented` grants. An open front end grants full
// access only where `open_allowed` (it listens on loopback only), so
// clearing the last token at run time never opens a public listener.
Access Authorize(const HttpTokens& tokens, const std::vector<std::string_view>& presented,
                 bool open_allowed);

// The spec that will run for `args` (a subcommand's for a container
// command), or nullptr when Dispatch will refuse it as unknown.
const CommandSpec* ResolveCommand(const std::vector<std::string>& args);

// Whether a read-only token may run `spec`: nothing that writes, administers
// the server or opens a transaction.
bool ReadOnlyAllows(const CommandSpec& spec);

// Redis's ACL refusal, e.g. "NOPERM this user has no permissions to run the
// 'set' command".
std::string NoPermissionError(const CommandSpec& spec);

}  // namespace tally::server::http
