// Fuzzes protocol::RequestParser with arbitrary bytes, fed whole and in
// arbitrary chunks as a socket would deliver them. Invariants:
//  - no crash or sanitizer report, and each Parse call returns at most what
//    it was given;
//  - the chunking does not change the outcome: the same requests, then the
//    same error (or the same wait for more bytes);
//  - the parser never holds more bytes than it was fed;
//  - every request re-encoded as a multibulk parses back to the same args.
// A second pass with small limits exercises the "too big" paths, whose errors
// may legitimately depend on chunking (as in Redis), so only the other
// invariants apply there.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/request_parser.h"
#include "tests/fuzz/fuzz_check.h"

using tally::protocol::ParserLimits;
using tally::protocol::RequestParser;

namespace {

// What a parse of a whole stream produced: the requests in order, then how it
// ended (an error text, or "" when it was waiting for more bytes).
struct Outcome {
  std::vector<std::vector<std::string>> requests;
  bool failed = false;
  std::string error;
};

std::string Encode(const std::vector<std::string>& args) {
  std::string out = "*" + std::to_string(args.size()) + "\r\n";
  for (const std::string& arg : args) {
    out += "$" + std::to_string(arg.size()) + "\r\n";
    out += arg;
    out += "\r\n";
  }
  return out;
}

// A multibulk encoding of `args` parses back to exactly `args`, in one call.
void CheckRoundTrip(const std::vector<std::string>& args) {
  FUZZ_CHECK(!args.empty());
  const std::string encoded = Encode(args);
  RequestParser parser;  // default limits: larger than any fuzz input
  size_t consumed = 0;
  FUZZ_CHECK(parser.Parse(encoded, &consumed) == RequestParser::Status::kRequest);
  FUZZ_CHECK(consumed == encoded.size());
  FUZZ_CHECK(parser.args() == args);
}

void Record(RequestParser& parser, RequestParser::Status status, Outcome* out) {
  if (status == RequestParser::Status::kRequest) {
    CheckRoundTrip(parser.args());
    out->requests.push_back(parser.args());
  } else if (status == RequestParser::Status::kError) {
    FUZZ_CHECK(!parser.error().empty());
    out->failed = true;
    out->error = parser.error();
  }
}

// Feeds `input` in pieces whose sizes come from `next_chunk`, keeping the
// unconsumed bytes in a buffer exactly as a connection does.
Outcome ParseStream(std::string_view input, const ParserLimits& limits,
                    const std::function<size_t()>& next_chunk) {
  RequestParser parser(limits);
  Outcome outcome;
  std::string buffer;
  size_t fed = 0;
  while (fed < input.size() && !outcome.failed) {
    const size_t n = std::min(next_chunk(), input.size() - fed);
    buffer.append(input.substr(fed, n));
    fed += n;
    while (!outcome.failed) {
      size_t consumed = 0;
      const RequestParser::Status status = parser.Parse(buffer, &consumed);
      FUZZ_CHECK(consumed <= buffer.size());
      buffer.erase(0, consumed);
      // What the parser holds stays proportional to what was sent: the bytes
      // of each argument plus one std::string of bookkeeping per argument
      // header, and a header ("$0\r\n") is at least 4 bytes on the wire.
      FUZZ_CHECK(parser.buffered_bytes() <= fed + (fed / 4) * sizeof(std::string));
      Record(parser, status, &outcome);
      if (status == RequestParser::Status::kNeedMore) break;
    }
  }
  return outcome;
}

// A small deterministic generator, seeded from the input, so a crash input
// reproduces with the same chunking.
struct Rng {
  uint64_t state;
  uint64_t Next() {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  // Limits that never trip on a fuzz input except the bulk and multibulk
  // sizes, which are checked on complete header lines and so do not depend
  // on chunking.
  ParserLimits roomy;
  roomy.max_bulk_len = 4096;
  roomy.max_multibulk_len = 64;
  roomy.max_inline_len = size + 1;

  const Outcome whole = ParseStream(input, roomy, [&] { return input.size(); });
  Rng rng{std::hash<std::string_view>()(input) | 1};
  const Outcome chunked = ParseStream(input, roomy, [&]() -> size_t {
    const uint64_t r = rng.Next();
    return (r & 3) == 0 ? 1 + (r >> 8) % 256 : 1 + (r >> 8) % 8;
  });
  const Outcome bytewise = ParseStream(input, roomy, [] { return size_t{1}; });
  for (const Outcome* other : {&chunked, &bytewise}) {
    FUZZ_CHECK(other->requests == whole.requests);
    FUZZ_CHECK(other->failed == whole.failed);
    FUZZ_CHECK(other->error == whole.error);
  }

  // Tight limits: the "too big" errors, with the remaining invariants.
  ParserLimits tight;
  tight.max_bulk_len = 16;
  tight.max_multibulk_len = 4;
  tight.max_inline_len = 24;
  ParseStream(input, tight, [&] { return input.size(); });
  ParseStream(input, tight, [&]() -> size_t { return 1 + rng.Next() % 5; });
  return 0;
}
