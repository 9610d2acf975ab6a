// Where a Redis-protocol server is, as redis-cli and client libraries spell
// it: redis://[[user]:password@]host[:port][/db], rediss:// for TLS (what
// Vercel KV and Upstash hand out as KV_URL / REDIS_URL).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tally::server::tools {

struct RedisUrl {
  bool tls = false;
  std::string host = "127.0.0.1";
  uint16_t port = 6379;
  std::string user;      // empty: AUTH with the password alone
  std::string password;  // empty: no AUTH
  int db = 0;            // SELECT when not 0

  // The URL without credentials, for messages and state files:
  // "rediss://kv.example.com:6379" (with "/db" when not 0).
  std::string Display() const;
};

// Parses `text`. User and password are percent-decoded. Returns an error
// message (naming what is wrong, never echoing the password) or nullopt.
std::optional<std::string> ParseRedisUrl(std::string_view text, RedisUrl* out);

}  // namespace tally::server::tools
