// Byte-for-byte the encodings of Redis 7.0's addReply* family
// (src/networking.c). Every reply is built with at most a few appends and
// std::to_chars, since this runs once or more per command.
#include "protocol/reply_writer.h"

#include <charconv>
#include <cmath>

namespace tally::protocol {
namespace {

// Room for a type byte, any int64 and CRLF.
constexpr size_t kHeaderMax = 1 + 20 + 2;

// Writes "<prefix><n>\r\n" into buf and returns its length.
size_t FormatHeader(char* buf, char prefix, int64_t n) {
  buf[0] = prefix;
  char* end = std::to_chars(buf + 1, buf + kHeaderMax, n).ptr;
  end[0] = '\r';
  end[1] = '\n';
  return static_cast<size_t>(end + 2 - buf);
}

// Redis's addReplyDouble: "%.17g", with inf and -inf spelled out. (to_chars
// with general format and a precision is specified as printf's %.17g.) NaN is
// always "nan", whatever its sign bit.
size_t FormatDouble(char* buf, size_t size, double value) {
  if (std::isnan(value)) {
    buf[0] = 'n';
    buf[1] = 'a';
    buf[2] = 'n';
    return 3;
  }
  return static_cast<size_t>(
      std::to_chars(buf, buf + size, value, std::chars_format::general, 17).ptr - buf);
}

}  // namespace

void ReplyWriter::Header(char prefix, int64_t n) {
  char buf[kHeaderMax];
  out_->append(buf, FormatHeader(buf, prefix, n));
}

void ReplyWriter::Simple(std::string_view text) {
  out_->reserve(out_->size() + text.size() + 3);
  out_->push_back('+');
  out_->append(text);
  out_->append("\r\n", 2);
}

void ReplyWriter::Error(std::string_view text) {
  // Redis replaces CR and LF so the error stays one protocol line.
  const size_t start = out_->size();
  out_->reserve(start + text.size() + 3);
  out_->push_back('-');
  out_->append(text);
  for (size_t i = start + 1; i < out_->size(); ++i) {
    char& c = (*out_)[i];
    if (c == '\r' || c == '\n') c = ' ';
  }
  out_->append("\r\n", 2);
}

void ReplyWriter::Integer(int64_t value) { Header(':', value); }

void ReplyWriter::Bulk(std::string_view value) {
  char buf[kHeaderMax];
  const size_t header = FormatHeader(buf, '$', static_cast<int64_t>(value.size()));
  out_->reserve(out_->size() + header + value.size() + 2);
  out_->append(buf, header);
  out_->append(value);
  out_->append("\r\n", 2);
}

void ReplyWriter::Null() {
  if (protocol_ >= 3) {
    out_->append("_\r\n", 3);
  } else {
    out_->append("$-1\r\n", 5);
  }
}

void ReplyWriter::NullArray() {
  if (protocol_ >= 3) {
    out_->append("_\r\n", 3);
  } else {
    out_->append("*-1\r\n", 5);
  }
}

void ReplyWriter::ArrayHeader(size_t count) { Header('*', static_cast<int64_t>(count)); }

void ReplyWriter::MapHeader(size_t count) {
  if (protocol_ >= 3) {
    Header('%', static_cast<int64_t>(count));
  } else {
    Header('*', static_cast<int64_t>(count) * 2);  // flat key, value, key, value...
  }
}

void ReplyWriter::SetHeader(size_t count) {
  Header(protocol_ >= 3 ? '~' : '*', static_cast<int64_t>(count));
}

void ReplyWriter::Double(double value) {
  char buf[64];
  const size_t len = FormatDouble(buf, sizeof(buf), value);
  if (protocol_ >= 3) {
    out_->reserve(out_->size() + len + 3);
    out_->push_back(',');
    out_->append(buf, len);
    out_->append("\r\n", 2);
  } else {
    Bulk(std::string_view(buf, len));
  }
}

void ReplyWriter::Boolean(bool value) {
  if (protocol_ >= 3) {
    out_->append(value ? "#t\r\n" : "#f\r\n", 4);
  } else {
    out_->append(value ? ":1\r\n" : ":0\r\n", 4);
  }
}

void ReplyWriter::Verbatim(std::string_view format, std::string_view text) {
  if (protocol_ < 3) {
    Bulk(text);
    return;
  }
  // "=<len>\r\nfmt:<text>\r\n"; len counts the "fmt:" prefix. Like Redis, the
  // format is cut or space-padded to exactly three bytes.
  char buf[kHeaderMax + 4];
  size_t len = FormatHeader(buf, '=', static_cast<int64_t>(text.size() + 4));
  for (size_t i = 0; i < 3; ++i) buf[len++] = i < format.size() ? format[i] : ' ';
  buf[len++] = ':';
  out_->reserve(out_->size() + len + text.size() + 2);
  out_->append(buf, len);
  out_->append(text);
  out_->append("\r\n", 2);
}

}  // namespace tally::protocol
