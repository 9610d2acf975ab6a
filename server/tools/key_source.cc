#include "server/tools/key_source.h"

#include <utility>

namespace tally::server::tools {

using protocol::Reply;

KeySource::KeySource(RespConnection& conn, std::string match, int64_t count, std::string cursor)
    : conn_(conn),
      match_(std::move(match)),
      count_(std::to_string(count)),
      cursor_(std::move(cursor)) {}

std::optional<std::string> KeySource::CountKeys(int64_t* keys) {
  Reply reply;
  if (auto err = conn_.Call({"DBSIZE"}, &reply)) return err;
  if (reply.type != Reply::Type::kInteger) {
    return conn_.name() + " answered DBSIZE with: " + (reply.IsError() ? reply.str : "no number");
  }
  *keys = reply.integer;
  return std::nullopt;
}

std::optional<std::string> KeySource::Next(SourceBatch* batch) {
  *batch = SourceBatch();
  Reply scan;
  std::optional<std::string> err;
  if (match_.empty()) {
    err = conn_.Call({"SCAN", cursor_, "COUNT", count_}, &scan);
  } else {
    err = conn_.Call({"SCAN", cursor_, "MATCH", match_, "COUNT", count_}, &scan);
  }
  if (err) return err;
  if (scan.IsError()) return conn_.name() + " answered SCAN " + cursor_ + " with: " + scan.str;
  if (scan.type != Reply::Type::kArray || scan.elements.size() != 2 ||
      !scan.elements[0].IsString() || scan.elements[1].type != Reply::Type::kArray) {
    return conn_.name() + " answered SCAN with something that is not [cursor, keys]";
  }
  std::vector<std::string> keys;
  for (Reply& key : scan.elements[1].elements) {
    if (!key.IsString()) return conn_.name() + " answered SCAN with a key that is not a string";
    keys.push_back(std::move(key.str));
  }

  batch->read_at = std::chrono::steady_clock::now();
  batch->read_at_wall = std::chrono::system_clock::now();
  if (!keys.empty()) {
    std::string request;
    for (const auto& key : keys) {
      AppendCommand(&request, {"GET", key});
      AppendCommand(&request, {"PTTL", key});
    }
    std::vector<Reply> replies;
    if (auto err = conn_.Pipeline(request, 2 * keys.size(), &replies)) return err;
    std::vector<std::string> other_types;
    for (size_t i = 0; i < keys.size(); ++i) {
      Reply& value = replies[2 * i];
      const Reply& ttl = replies[2 * i + 1];
      if (value.IsError()) {
        if (!value.str.starts_with("WRONGTYPE")) {
          return conn_.name() + " answered GET with: " + value.str;
        }
        other_types.push_back(std::move(keys[i]));
        continue;
      }
      if (ttl.type != Reply::Type::kInteger) {
        return conn_.name() + " answered PTTL with: " + (ttl.IsError() ? ttl.str : "no number");
      }
      // Nil: expired or deleted since SCAN; PTTL -2: since GET.
      if (value.type == Reply::Type::kNull || ttl.integer == -2) {
        ++batch->vanished;
        continue;
      }
      if (!value.IsString()) return conn_.name() + " answered GET with something not a string";
      batch->keys.push_back(
          SourceKey{std::move(keys[i]), std::move(value.str), ttl.integer < 0 ? -1 : ttl.integer});
    }
    if (!other_types.empty()) {
      request.clear();
      for (const auto& key : other_types) AppendCommand(&request, {"TYPE", key});
      if (auto err = conn_.Pipeline(request, other_types.size(), &replies)) return err;
      for (const Reply& type : replies) {
        if (type.IsError()) return conn_.name() + " answered TYPE with: " + type.str;
        // "none": gone since GET; "string": replaced by a string since GET
        // (a later run copies it).
        if (type.str == "none" || type.str == "string") {
          ++batch->vanished;
        } else {
          ++batch->skipped_by_type[type.str];
        }
      }
    }
  }
  cursor_ = std::move(scan.elements[0].str);
  done_ = cursor_ == "0";
  return std::nullopt;
}

}  // namespace tally::server::tools
