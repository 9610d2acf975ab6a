// Encodes replies in RESP2 or RESP3 into an output buffer. A connection owns
// one writer; HELLO 3 switches it to RESP3, after which every reply uses
// RESP3's richer types. In RESP2, the RESP3-only types degrade exactly as
// Redis degrades them (maps become flat arrays, null is $-1, doubles and
// verbatim strings become bulk strings, booleans become integers).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace tally::protocol {

class ReplyWriter {
 public:
  explicit ReplyWriter(std::string* out, int protocol = 2) : out_(out), protocol_(protocol) {}

  int protocol() const { return protocol_; }
  void set_protocol(int protocol) { protocol_ = protocol; }

  // +OK\r\n. `text` must not contain CR or LF.
  void Simple(std::string_view text);
  void Ok() { Simple("OK"); }
  // An error. `text` starts with its code, e.g. "ERR syntax error" or
  // "WRONGTYPE ..."; CR and LF inside it are replaced by spaces as Redis does.
  void Error(std::string_view text);
  void Integer(int64_t value);
  void Bulk(std::string_view value);
  // The null reply: RESP2 "$-1", RESP3 "_".
  void Null();
  // The null array of RESP2 ("*-1"; RESP3 "_"), e.g. EXEC after WATCH fails.
  void NullArray();
  void ArrayHeader(size_t count);
  // A map of `count` key/value pairs; the caller writes 2*count elements.
  void MapHeader(size_t count);
  void SetHeader(size_t count);
  // A double: RESP3 ",1.5", RESP2 a bulk string. Formatted like Redis's
  // addReplyDouble ("%.17g", inf / -inf / nan).
  void Double(double value);
  void Boolean(bool value);
  // RESP3 verbatim string "=len\r\ntxt:..." (format is 3 characters); RESP2
  // sends the plain bulk string.
  void Verbatim(std::string_view format, std::string_view text);

  std::string* buffer() { return out_; }

 private:
  void Header(char prefix, int64_t n);

  std::string* out_;
  int protocol_;
};

}  // namespace tally::protocol
