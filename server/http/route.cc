#include "server/http/route.h"

#include "server/command_table.h"

namespace tally::server::http {
namespace {

namespace beast_http = boost::beast::http;

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Splits `text` at every `separator`, dropping empty parts (so "/a//b/" is
// a and b, and a trailing slash changes nothing).
std::vector<std::string_view> Split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(separator, start);
    if (end == std::string_view::npos) end = text.size();
    if (end > start) parts.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

struct Target {
  std::vector<std::string> segments;
  std::vector<std::string> query;  // names and values, in order, without _token
};

std::optional<Target> ParseTarget(std::string_view target) {
  Target parsed;
  const size_t question = target.find('?');
  std::string_view path = target.substr(0, question);
  for (auto segment : Split(path, '/')) {
    auto decoded = PercentDecode(segment);
    if (!decoded) return std::nullopt;
    parsed.segments.push_back(std::move(*decoded));
  }
  if (question == std::string_view::npos) return parsed;
  for (auto parameter : Split(target.substr(question + 1), '&')) {
    const size_t equals = parameter.find('=');
    auto name = PercentDecode(parameter.substr(0, equals));
    if (!name) return std::nullopt;
    if (*name == "_token") continue;
    parsed.query.push_back(std::move(*name));
    if (equals == std::string_view::npos) continue;  // a bare flag: `?NX`
    auto value = PercentDecode(parameter.substr(equals + 1));
    if (!value) return std::nullopt;
    parsed.query.push_back(std::move(*value));
  }
  return parsed;
}

bool StartsWithJsonArray(std::string_view body) {
  const size_t first = body.find_first_not_of(" \t\r\n");
  return first != std::string_view::npos && body[first] == '[';
}

Route MethodNotAllowed(std::string allow) {
  Route route;
  route.kind = Route::Kind::kMethodNotAllowed;
  route.allow = std::move(allow);
  return route;
}

}  // namespace

std::optional<std::string> PercentDecode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out.push_back(text[i]);
      continue;
    }
    if (i + 2 >= text.size()) return std::nullopt;
    const int high = HexDigit(text[i + 1]);
    const int low = HexDigit(text[i + 2]);
    if (high < 0 || low < 0) return std::nullopt;
    out.push_back(static_cast<char>(high * 16 + low));
    i += 2;
  }
  return out;
}

std::optional<std::string> QueryToken(std::string_view target) {
  const size_t question = target.find('?');
  if (question == std::string_view::npos) return std::nullopt;
  for (auto parameter : Split(target.substr(question + 1), '&')) {
    if (parameter.starts_with("_token=")) return PercentDecode(parameter.substr(7));
  }
  return std::nullopt;
}

Route RouteRequest(beast_http::verb method, std::string_view target, std::string_view body) {
  Route route;
  auto parsed = ParseTarget(target);
  if (!parsed) {
    route.error = "ERR malformed percent-encoding in the request URL";
    return route;
  }
  const bool post = method == beast_http::verb::post;
  const std::vector<std::string>& segments = parsed->segments;

  if (!segments.empty() && FindCommand(segments[0]) != nullptr) {
    if (!post && method != beast_http::verb::get) return MethodNotAllowed("GET, POST");
    route.kind = Route::Kind::kPathCommand;
    route.args = segments;
    route.args.insert(route.args.end(), parsed->query.begin(), parsed->query.end());
    if (post && !body.empty()) route.args.emplace_back(body);
    return route;
  }
  if (!segments.empty() && (segments.back() == "pipeline" || segments.back() == "multi-exec")) {
    if (!post) return MethodNotAllowed("POST");
    route.kind = segments.back() == "pipeline" ? Route::Kind::kPipeline : Route::Kind::kTransaction;
    return route;
  }
  if (segments.empty() || (post && StartsWithJsonArray(body))) {
    if (!post) return MethodNotAllowed("POST");
    route.kind = Route::Kind::kCommand;
    return route;
  }
  // Neither a command nor an endpoint: most likely a mistyped command.
  route.kind = Route::Kind::kNotFound;
  route.args = segments;
  route.args.insert(route.args.end(), parsed->query.begin(), parsed->query.end());
  return route;
}

}  // namespace tally::server::http
