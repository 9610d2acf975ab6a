// The Redis version Tally reports to clients (HELLO's `version`, INFO's
// `redis_version`). Clients enable features by this number (RESP3, CLIENT
// SETINFO...), so it names the Redis release whose replies Tally matches:
// its differential tests run against redis-server 7.0.15.
#pragma once

#include <string_view>

namespace tally::server {

inline constexpr std::string_view kRedisCompatVersion = "7.0.15";

}  // namespace tally::server
