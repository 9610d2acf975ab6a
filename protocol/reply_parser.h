// Incremental parser for server replies in RESP2 and RESP3: what a client
// (tally-server import/export, tests) reads back from a Redis-protocol
// server. Pure code: it sees bytes, never sockets, so it can be unit-tested
// and fuzzed on arbitrary input.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tally::protocol {

struct Reply {
  enum class Type {
    kSimple,     // +text
    kError,      // -text, and RESP3 !len blob errors; str has the text
    kInteger,    // :n
    kBulk,       // $len, and RESP3 =len verbatim strings (str keeps "txt:")
    kNull,       // $-1, *-1, RESP3 _
    kArray,      // *n, and RESP3 ~n sets and >n pushes
    kMap,        // RESP3 %n: elements holds 2n items, key, value, key, ...
    kDouble,     // RESP3 ,text; str has the text
    kBoolean,    // RESP3 #t / #f; integer is 1 or 0
    kBigNumber,  // RESP3 (digits; str has the text
  };
  Type type = Type::kNull;
  std::string str;
  int64_t integer = 0;
  std::vector<Reply> elements;

  bool IsError() const { return type == Type::kError; }
  bool IsString() const { return type == Type::kBulk || type == Type::kSimple; }
};

struct ReplyParserLimits {
  int64_t max_bulk_len = 512LL * 1024 * 1024;
  int64_t max_aggregate_len = int64_t{1} << 32;
  size_t max_line_len = 64 * 1024;  // a header or simple-string line
  size_t max_depth = 64;            // nested aggregates
};

class ReplyParser {
 public:
  enum class Status {
    kNeedMore,  // every byte consumed so far is accounted for; feed more.
    kReply,     // a complete reply is in reply().
    kError,     // the input is not valid RESP; error() says why. The stream
                // cannot be resynchronised: the caller must drop the connection.
  };

  explicit ReplyParser(ReplyParserLimits limits = {}) : limits_(limits) {}

  // Parses from `data`, which holds the bytes not consumed by earlier calls.
  // Sets *consumed to how many leading bytes of `data` this call used up; the
  // caller drops them and appends newly read bytes after the rest. Returns at
  // most one reply per call: call again with the remaining bytes for
  // pipelined replies. An incomplete line is left unconsumed; bulk payloads
  // and finished elements of an unfinished aggregate are kept inside the
  // parser, so memory grows with the bytes that arrived, never with a
  // declared length. RESP3 attributes (|n) are parsed and dropped.
  Status Parse(std::string_view data, size_t* consumed);

  // The reply just returned by kReply. Valid until the next call to Parse();
  // the caller may move it out.
  Reply& reply() { return reply_; }

  // Why the last kError happened, e.g. "invalid bulk length".
  const std::string& error() const { return error_; }

 private:
  struct Frame {
    Reply aggregate;
    int64_t remaining;  // elements still to come
    bool attribute;     // a RESP3 attribute: dropped once complete
  };

  Status Fail(std::string message);
  // Adds a finished element to the innermost open aggregate, closing every
  // aggregate it completes. Returns true when a whole reply is complete.
  bool Finish(Reply element);
  Status ParseLine(std::string_view line);

  ReplyParserLimits limits_;
  std::vector<Frame> stack_;
  Reply reply_;
  bool reply_ready_ = false;
  std::string error_;
  // A bulk payload in progress: bulk_len_ >= 0 while reading it.
  int64_t bulk_len_ = -1;
  Reply::Type bulk_type_ = Reply::Type::kBulk;
  std::string bulk_;
};

}  // namespace tally::protocol
