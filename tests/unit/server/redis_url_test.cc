// ParseRedisUrl: the URL forms redis-cli, client libraries and Vercel KV use.
#include "server/tools/redis_url.h"

#include <catch2/catch.hpp>

using tally::server::tools::ParseRedisUrl;
using tally::server::tools::RedisUrl;

TEST_CASE("redis:// and rediss:// URLs", "[redis_url]") {
  RedisUrl url;
  REQUIRE_FALSE(ParseRedisUrl("redis://127.0.0.1:6390", &url));
  CHECK_FALSE(url.tls);
  CHECK(url.host == "127.0.0.1");
  CHECK(url.port == 6390);
  CHECK(url.user.empty());
  CHECK(url.password.empty());
  CHECK(url.db == 0);
  CHECK(url.Display() == "redis://127.0.0.1:6390");

  // Vercel KV's KV_URL shape.
  REQUIRE_FALSE(
      ParseRedisUrl("rediss://default:AbC%40d:e@fond-kit-123.kv.vercel-storage.com:35123", &url));
  CHECK(url.tls);
  CHECK(url.host == "fond-kit-123.kv.vercel-storage.com");
  CHECK(url.port == 35123);
  CHECK(url.user == "default");
  CHECK(url.password == "AbC@d:e");
  CHECK(url.Display() == "rediss://fond-kit-123.kv.vercel-storage.com:35123");

  REQUIRE_FALSE(ParseRedisUrl("redis://:secret@localhost/3", &url));
  CHECK(url.user.empty());
  CHECK(url.password == "secret");
  CHECK(url.port == 6379);
  CHECK(url.db == 3);
  CHECK(url.Display() == "redis://localhost:6379/3");

  REQUIRE_FALSE(ParseRedisUrl("redis://pw@h", &url));  // as redis-cli reads it
  CHECK(url.password == "pw");

  REQUIRE_FALSE(ParseRedisUrl("redis://[::1]:7000", &url));
  CHECK(url.host == "::1");
  CHECK(url.port == 7000);
  CHECK(url.Display() == "redis://[::1]:7000");
}

TEST_CASE("bad URLs are refused without echoing the password", "[redis_url]") {
  RedisUrl url;
  auto err = ParseRedisUrl("http://user:hunter2@host:1", &url);
  REQUIRE(err);
  CHECK(err->find("hunter2") == std::string::npos);
  CHECK(ParseRedisUrl("redis://host:0", &url));
  CHECK(ParseRedisUrl("redis://host:65536", &url));
  CHECK(ParseRedisUrl("redis://host:x", &url));
  CHECK(ParseRedisUrl("redis://:6379", &url));
  CHECK(ParseRedisUrl("redis://host/x", &url));
  CHECK(ParseRedisUrl("redis://host?ssl=true", &url));
  CHECK(ParseRedisUrl("redis://a:%zz@host", &url));
  CHECK(ParseRedisUrl("redis://a:%4@host", &url));
  CHECK(ParseRedisUrl("redis://[::1", &url));
}
