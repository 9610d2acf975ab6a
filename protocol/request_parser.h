// Incremental parser for client requests in RESP2: multibulk arrays of bulk
// strings (what every client library sends) and inline commands (what a human
// types into telnet). Pure code: it sees bytes, never sockets.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tally::protocol {

struct ParserLimits {
  // Largest accepted bulk argument (Redis's proto-max-bulk-len).
  int64_t max_bulk_len = 512LL * 1024 * 1024;
  // Largest accepted number of elements in one multibulk request.
  int64_t max_multibulk_len = 1024 * 1024;
  // Longest inline request, or header line, accepted without a terminator.
  size_t max_inline_len = 64 * 1024;
};

class RequestParser {
 public:
  enum class Status {
    kNeedMore,  // every byte consumed so far is accounted for; feed more.
    kRequest,   // a complete request is in args().
    kError,     // a protocol error; error() holds Redis's text. The
                // connection must reply with it and close.
  };

  explicit RequestParser(ParserLimits limits = {});

  // Parses from `data`, which holds the bytes not yet consumed by earlier
  // calls. Sets *consumed to how many leading bytes of `data` this call used
  // up; the caller drops them before the next call and appends newly read
  // bytes after the rest. Returns at most one request per call: call again
  // with the remaining bytes for pipelined requests. Partial bulk arguments are
  // kept inside the parser, so a large argument split over many reads is
  // copied once and memory grows only as its bytes actually arrive, never from
  // a declared length. Empty requests (a blank inline line, `*0`) are skipped.
  Status Parse(std::string_view data, size_t* consumed);

  // The arguments of the request just returned by kRequest. Valid until the
  // next call to Parse(); the caller may move the strings out.
  std::vector<std::string>& args() { return args_; }

  // Redis's message for the last kError, without the "-ERR " prefix or CRLF,
  // e.g. "Protocol error: invalid bulk length".
  const std::string& error() const { return error_; }

  // Bytes held inside the parser for a request still incomplete (arguments
  // already copied out of the input). Counts towards the query buffer limit.
  size_t buffered_bytes() const { return buffered_bytes_; }

  // Replaces the limits; takes effect from the next request.
  void set_limits(const ParserLimits& limits) { limits_ = limits; }

  // Whether the client has authenticated (true unless set otherwise). Before
  // that, as in Redis, a request may have at most kUnauthenticatedMaxArgs
  // arguments of at most kUnauthenticatedMaxBulkLen bytes each; more is the
  // protocol error "unauthenticated multibulk length" / "... bulk length".
  // Takes effect from the next request.
  void set_authenticated(bool authenticated) { authenticated_ = authenticated; }
  static constexpr int64_t kUnauthenticatedMaxArgs = 10;
  static constexpr int64_t kUnauthenticatedMaxBulkLen = 16384;

 private:
  Status ParseInline(std::string_view data, size_t* consumed);
  Status ParseMultibulk(std::string_view data, size_t* consumed);
  Status Fail(std::string message);
  void Reset();

  ParserLimits limits_;
  bool authenticated_ = true;
  std::vector<std::string> args_;
  std::string error_;
  // State of a multibulk request in progress.
  int64_t multibulk_remaining_ = 0;  // 0: not inside a multibulk request.
  int64_t bulk_len_ = -1;            // -1: the next thing is a $len line.
  size_t buffered_bytes_ = 0;
};

// Splits an inline request line into arguments with redis-cli's quoting rules
// (sdssplitargs): "..." with \n \r \t \b \a \\ \" and \xHH escapes, '...'
// with \' only; a closing quote must be followed by a space or the end.
// Returns false on unbalanced quotes.
bool SplitInlineArgs(std::string_view line, std::vector<std::string>* out);

}  // namespace tally::protocol
