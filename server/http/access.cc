#include "server/http/access.h"

#include <cctype>

#include "server/acl.h"

namespace tally::server::http {
namespace {

// Every token is compared (acl::SameSecret: digests, constant time), so a
// wrong token's response time says nothing about the tokens.
bool AnyMatches(const std::vector<std::string>& tokens, std::string_view candidate) {
  bool found = false;
  for (const auto& token : tokens) found |= acl::SameSecret(token, candidate);
  return found;
}

}  // namespace

std::vector<std::string> SplitTokenList(std::string_view value) {
  std::vector<std::string> tokens;
  size_t start = 0;
  while (start < value.size()) {
    size_t end = value.find_first_of(", \t", start);
    if (end == std::string_view::npos) end = value.size();
    if (end > start) tokens.emplace_back(value.substr(start, end - start));
    start = end + 1;
  }
  return tokens;
}

HttpTokens HttpTokens::FromConfig(const Config& config) {
  HttpTokens tokens;
  tokens.full = SplitTokenList(config.http_token);
  if (tokens.full.empty() && !config.requirepass.empty()) {
    tokens.full.push_back(config.requirepass);
  }
  tokens.read_only = SplitTokenList(config.http_readonly_token);
  return tokens;
}

std::string_view BearerToken(std::string_view authorization) {
  constexpr std::string_view kScheme = "bearer ";
  if (authorization.size() <= kScheme.size()) return {};
  for (size_t i = 0; i < kScheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(authorization[i])) != kScheme[i]) return {};
  }
  std::string_view token = authorization.substr(kScheme.size());
  const size_t first = token.find_first_not_of(' ');
  if (first == std::string_view::npos) return {};
  token.remove_prefix(first);
  return token.substr(0, token.find_last_not_of(' ') + 1);
}

Access Authorize(const HttpTokens& tokens, const std::vector<std::string_view>& presented,
                 bool open_allowed) {
  if (tokens.open()) return open_allowed ? Access::kFull : Access::kDenied;
  Access best = Access::kDenied;
  for (auto candidate : presented) {
    if (candidate.empty()) continue;
    if (AnyMatches(tokens.full, candidate)) return Access::kFull;
    if (AnyMatches(tokens.read_only, candidate)) best = Access::kReadOnly;
  }
  return best;
}

const CommandSpec* ResolveCommand(const std::vector<std::string>& args) {
  if (args.empty()) return nullptr;
  const CommandSpec* spec = FindCommand(args[0]);
  if (spec != nullptr && args.size() >= 2 && HasSubcommands(*spec)) {
    return FindSubcommand(*spec, args[1]);
  }
  return spec;
}

bool ReadOnlyAllows(const CommandSpec& spec) {
  if (spec.flags & (kWrite | kAdmin)) return false;
  // MULTI, EXEC, WATCH ...: a transaction's commands are checked one by one
  // as they arrive, so there is nothing a read-only token needs them for.
  return spec.group != "transactions";
}

std::string NoPermissionError(const CommandSpec& spec) {
  return "NOPERM this user has no permissions to run the '" + std::string(spec.name) + "' command";
}

}  // namespace tally::server::http
