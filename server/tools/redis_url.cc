#include "server/tools/redis_url.h"

#include <charconv>

namespace tally::server::tools {
namespace {

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<std::string> PercentDecode(std::string_view in) {
  std::string out;
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out += in[i];
      continue;
    }
    if (i + 2 >= in.size()) return std::nullopt;
    const int hi = HexDigit(in[i + 1]), lo = HexDigit(in[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

template <typename T>
bool ParseNumber(std::string_view s, T* out) {
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return !s.empty() && ec == std::errc() && end == s.data() + s.size();
}

}  // namespace

std::string RedisUrl::Display() const {
  std::string out = tls ? "rediss://" : "redis://";
  out += host.find(':') != std::string::npos ? "[" + host + "]" : host;
  // Appended piecewise: GCC 12 at -O3 misreads `"x" + std::to_string(n)` as
  // an overlapping memcpy (-Wrestrict, a known false positive).
  out += ':';
  out += std::to_string(port);
  if (db != 0) {
    out += '/';
    out += std::to_string(db);
  }
  return out;
}

std::optional<std::string> ParseRedisUrl(std::string_view text, RedisUrl* out) {
  RedisUrl url;
  std::string_view rest = text;
  if (rest.starts_with("redis://")) {
    rest.remove_prefix(8);
  } else if (rest.starts_with("rediss://")) {
    url.tls = true;
    rest.remove_prefix(9);
  } else {
    // Not echoed: it may hold a password.
    return "not a redis:// or rediss:// URL (redis://[[user]:password@]host[:port][/db])";
  }
  if (rest.find('?') != std::string_view::npos || rest.find('#') != std::string_view::npos) {
    return "URL parameters (?...) are not supported";
  }
  // Credentials end at the last '@' (a password may contain '@' unencoded).
  if (const size_t at = rest.rfind('@'); at != std::string_view::npos) {
    std::string_view userinfo = rest.substr(0, at);
    rest.remove_prefix(at + 1);
    const size_t colon = userinfo.find(':');
    auto user = PercentDecode(userinfo.substr(0, colon));
    auto password = colon == std::string_view::npos ? std::optional<std::string>("")
                                                    : PercentDecode(userinfo.substr(colon + 1));
    if (!user || !password) return "bad percent-encoding in the URL's user or password";
    if (colon == std::string_view::npos) {
      // redis://password@host, as redis-cli reads it.
      url.password = *user;
    } else {
      url.user = *user;
      url.password = *password;
    }
  }
  std::string_view hostport = rest.substr(0, rest.find('/'));
  std::string_view path =
      hostport.size() < rest.size() ? rest.substr(hostport.size() + 1) : std::string_view();
  std::string_view port;
  if (hostport.starts_with("[")) {  // [IPv6]:port
    const size_t close = hostport.find(']');
    if (close == std::string_view::npos) return "unbalanced '[' in the URL's host";
    url.host = std::string(hostport.substr(1, close - 1));
    std::string_view after = hostport.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return "unexpected text after ']' in the URL's host";
      port = after.substr(1);
    }
  } else if (const size_t colon = hostport.rfind(':'); colon != std::string_view::npos) {
    url.host = std::string(hostport.substr(0, colon));
    port = hostport.substr(colon + 1);
  } else {
    url.host = std::string(hostport);
  }
  if (url.host.empty()) return "the URL has no host";
  if (!port.empty()) {
    int value = 0;
    if (!ParseNumber(port, &value) || value < 1 || value > 65535) {
      return "bad port '" + std::string(port) + "' in the URL";
    }
    url.port = static_cast<uint16_t>(value);
  }
  if (!path.empty() && (!ParseNumber(path, &url.db) || url.db < 0)) {
    return "bad database number '" + std::string(path) + "' in the URL";
  }
  *out = std::move(url);
  return std::nullopt;
}

}  // namespace tally::server::tools
