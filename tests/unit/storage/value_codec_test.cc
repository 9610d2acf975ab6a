#include "storage/value_codec.h"

#include <climits>
#include <string>

#include <catch2/catch.hpp>

using tally::storage::Code;
using tally::storage::DecodeHeader;
using tally::storage::DecodeValue;
using tally::storage::EncodeValue;
using tally::storage::MakeInt;
using tally::storage::MakeString;
using tally::storage::StoredValue;
using tally::storage::StringEncoding;
using tally::storage::ValueHeader;
using namespace std::string_literals;

namespace {

StoredValue RoundTrip(const StoredValue& value) {
  StoredValue decoded;
  const auto status = DecodeValue(EncodeValue(value), &decoded);
  INFO(status.message());
  REQUIRE(status.ok());
  return decoded;
}

}  // namespace

TEST_CASE("strings that ParseInt64 accepts are int-encoded, others stay raw", "[value_codec]") {
  for (const char* text : {"0", "10", "-1", "9223372036854775807", "-9223372036854775808"}) {
    INFO(text);
    const StoredValue value = MakeString(text, 0);
    CHECK(value.encoding == StringEncoding::kInt);
    CHECK(RoundTrip(value).Text() == text);
  }
  for (const char* text :
       {"010", "-0", " 1", "1 ", "+1", "1.5", "", "abc", "9223372036854775808",
        "-9223372036854775809", "12345678901234567890", "99999999999999999999"}) {
    INFO(text);
    const StoredValue value = MakeString(text, 0);
    CHECK(value.encoding == StringEncoding::kRaw);
    CHECK(RoundTrip(value).Text() == text);
  }
}

TEST_CASE("an int-encoded value stores 8 bytes, not its text", "[value_codec]") {
  CHECK(EncodeValue(MakeInt(LLONG_MIN, 0)).size() == 2 + 8);
  CHECK(EncodeValue(MakeInt(5, 1234)).size() == 2 + 8 + 8);
  CHECK(MakeInt(-42, 0).TextLength() == 3);
  CHECK(MakeInt(LLONG_MIN, 0).TextLength() == 20);
}

TEST_CASE("raw bytes including NUL and 0xff survive", "[value_codec]") {
  const std::string bytes = "a\0b\xff\xfe"s;
  CHECK(RoundTrip(MakeString(bytes, 0)).raw == bytes);
  CHECK(RoundTrip(MakeString(bytes, 0)).TextLength() == 5);
}

TEST_CASE("expiry is kept and readable from the header alone", "[value_codec]") {
  const StoredValue decoded = RoundTrip(MakeString("hello", 1'700'000'000'123));
  CHECK(decoded.expire_at_ms == 1'700'000'000'123);
  CHECK(decoded.raw == "hello");

  ValueHeader header;
  REQUIRE(DecodeHeader(EncodeValue(MakeInt(7, 99)), &header).ok());
  CHECK(header.expire_at_ms == 99);
  REQUIRE(DecodeHeader(EncodeValue(MakeInt(7, 0)), &header).ok());
  CHECK(header.expire_at_ms == 0);
}

TEST_CASE("values this build cannot read are a clear error", "[value_codec]") {
  StoredValue value;
  ValueHeader header;

  const auto unknown_tag = DecodeValue("\x07\x00payload"s, &value);
  CHECK(unknown_tag.code() == Code::kIoError);
  CHECK_THAT(unknown_tag.message(), Catch::Contains("unknown type tag 7"));
  CHECK(DecodeHeader("\x07\x00"s, &header).code() == Code::kIoError);

  const auto unknown_flags = DecodeValue("\x01\x80payload"s, &value);
  CHECK(unknown_flags.code() == Code::kIoError);
  CHECK_THAT(unknown_flags.message(), Catch::Contains("unknown flags"));

  // Encoding 2 and 3 are reserved.
  CHECK(DecodeValue("\x01\x04payload"s, &value).code() == Code::kIoError);
  CHECK(DecodeValue("\x01\x06payload"s, &value).code() == Code::kIoError);

  CHECK(DecodeValue("", &value).code() == Code::kIoError);
  CHECK(DecodeValue("\x01"s, &value).code() == Code::kIoError);
  CHECK(DecodeValue("\x01\x01\x00\x00"s, &value).code() == Code::kIoError);  // cut expiry
  CHECK(DecodeValue("\x01\x02\x01\x00"s, &value).code() == Code::kIoError);  // short int64
}
