// Fuzzes the command layer: each input decodes into a bounded sequence of
// commands from two clients over four keys, run through the real Dispatch on
// a real Keyspace (RocksDB in a temporary directory, with a clock the input
// moves). Invariants, besides no crash and no sanitizer report:
//  - a model of the keys (absent, an integer, or unknown after a command the
//    model does not follow) predicts the exact reply of INCR, INCRBY, DECR,
//    DECRBY, GET, SET of an integer, DEL, EXISTS, PERSIST, TTL on absent or
//    persistent keys, FLUSHDB, and the complete answer of KEYS, SCAN and
//    DBSIZE whenever every key is known;
//  - MULTI queues, EXEC runs the queue all or nothing (a nil reply only when
//    the client WATCHes), and each queued command's reply inside EXEC's array
//    is the one the model predicts at EXEC time;
//  - any other command from the table (with arguments drawn from the keys,
//    numbers and option words) gets exactly one well-formed reply.
// Every input starts from an empty keyspace, so a finding
// reproduces from its input alone; TALLY_FUZZ_TRACE=1 prints its commands.
#include <fuzzer/FuzzedDataProvider.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/reply_writer.h"
#include "server/command_table.h"
#include "server/config.h"
#include "server/dispatcher.h"
#include "server/server_context.h"
#include "storage/glob.h"
#include "storage/keyspace.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using tally::server::ClientState;
using tally::server::Dispatch;
using Args = std::vector<std::string>;

constexpr std::array<std::string_view, 4> kKeys = {"k0", "k1", "k2", "k3"};
constexpr int64_t kStartMs = 1'700'000'000'000;
constexpr size_t kMaxCommands = 64;
constexpr const char* kNil = "$-1\r\n";
constexpr const char* kQueued = "+QUEUED\r\n";
constexpr const char* kErrNotInteger = "-ERR value is not an integer or out of range\r\n";

// One keyspace for the whole run (opening RocksDB per input would dominate).
struct Store {
  Store() {
    dir = std::filesystem::temp_directory_path() /
          ("tally-fuzz-command-layer-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    tally::storage::OpenOptions options;
    options.dir = (dir / "data").string();
    options.durability = tally::storage::Durability::kNone;  // nothing here needs fsync
    options.clock = [this] { return now_ms.load(); };
    options.reaper_interval_ms = 3'600'000;  // off: expiry stays lazy and deterministic
    options.block_cache_bytes = 1 << 20;
    FUZZ_CHECK(tally::storage::Keyspace::Open(options, &keyspace).ok());
    config = std::make_unique<tally::server::LiveConfig>(tally::server::Config{});
    server = std::make_unique<tally::server::ServerContext>(*keyspace, *config);
    std::atexit([] {
      std::error_code ignored;
      std::filesystem::remove_all(Get().dir, ignored);
    });
  }
  static Store& Get() {
    static Store* store = new Store();  // never destroyed: RocksDB outlives exit handlers
    return *store;
  }

  std::filesystem::path dir;
  std::atomic<int64_t> now_ms{kStartMs};
  std::unique_ptr<tally::storage::Keyspace> keyspace;
  std::unique_ptr<tally::server::LiveConfig> config;
  std::unique_ptr<tally::server::ServerContext> server;
};

std::string Int(int64_t v) { return ":" + std::to_string(v) + "\r\n"; }
std::string Bulk(std::string_view s) {
  return "$" + std::to_string(s.size()) + "\r\n" + std::string(s) + "\r\n";
}

std::optional<int64_t> CanonicalInt(std::string_view s) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || std::to_string(v) != s) {
    return std::nullopt;
  }
  return v;
}

// Moves *pos past one RESP2 reply in `s`; false if it is malformed or cut.
bool SkipReply(std::string_view s, size_t* pos, int depth = 0) {
  if (depth > 8 || *pos >= s.size()) return false;
  const char type = s[*pos];
  const size_t eol = s.find("\r\n", *pos);
  if (eol == std::string_view::npos) return false;
  const std::string_view line = s.substr(*pos + 1, eol - *pos - 1);
  *pos = eol + 2;
  switch (type) {
    case '+':
    case '-':
      return line.find('\r') == std::string_view::npos && line.find('\n') == std::string_view::npos;
    case ':':
      return CanonicalInt(line).has_value();
    case '$': {
      if (line == "-1") return true;
      auto n = CanonicalInt(line);
      if (!n || *n < 0 || s.size() - *pos < static_cast<size_t>(*n) + 2) return false;
      *pos += static_cast<size_t>(*n);
      if (s.substr(*pos, 2) != "\r\n") return false;
      *pos += 2;
      return true;
    }
    case '*': {
      if (line == "-1") return true;
      auto n = CanonicalInt(line);
      if (!n || *n < 0) return false;
      for (int64_t i = 0; i < *n; ++i) {
        if (!SkipReply(s, pos, depth + 1)) return false;
      }
      return true;
    }
    default:
      return false;
  }
}

// The elements of an array reply, each as its own reply bytes.
std::optional<std::vector<std::string_view>> Elements(std::string_view reply) {
  if (reply.empty() || reply[0] != '*') return std::nullopt;
  const size_t eol = reply.find("\r\n");
  auto n = CanonicalInt(reply.substr(1, eol - 1));
  if (!n || *n < 0) return std::nullopt;
  std::vector<std::string_view> out;
  size_t pos = eol + 2;
  for (int64_t i = 0; i < *n; ++i) {
    const size_t start = pos;
    if (!SkipReply(reply, &pos, 1)) return std::nullopt;
    out.push_back(reply.substr(start, pos - start));
  }
  FUZZ_CHECK(pos == reply.size());
  return out;
}

// The strings of an array of bulk strings.
std::vector<std::string> BulkStrings(std::string_view reply) {
  auto elements = Elements(reply);
  FUZZ_CHECK(elements.has_value());
  std::vector<std::string> out;
  for (std::string_view e : *elements) {
    FUZZ_CHECK(e[0] == '$' && e != kNil);
    const size_t eol = e.find("\r\n");
    out.emplace_back(e.substr(eol + 2, e.size() - eol - 4));
  }
  return out;
}

// `s` quoted, with escapes for anything but printable ASCII.
std::string Printable(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '\r') {
      out += "\\r";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') {
      char hex[5];
      std::snprintf(hex, sizeof(hex), "\\x%02x", c);
      out += hex;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

struct KeyState {
  enum Kind { kUnknown, kAbsent, kInt } kind = kAbsent;
  int64_t value = 0;
  enum Ttl { kNoTtl, kTtlAt, kTtlUnknown } ttl = kNoTtl;
  int64_t expire_at = 0;

  void Forget() {
    kind = kUnknown;
    ttl = kTtlUnknown;
  }
  void Delete() {
    kind = kAbsent;
    ttl = kNoTtl;
  }
  bool Known() const { return kind != kUnknown; }
};

// A command's check: compares its reply (at the time it ran) with the model
// and updates the model.
using Check = std::function<void(std::string_view reply)>;

struct Client {
  ClientState state;
  bool in_multi = false;
  bool may_abort = false;  // a command was refused while queuing
  bool watching = false;
  std::vector<Check> queue;
};

class Session {
 public:
  explicit Session(FuzzedDataProvider& in) : in_(in), store_(Store::Get()) {
    store_.now_ms = kStartMs;
    for (uint64_t i = 0; i < clients_.size(); ++i) {
      clients_[i].state.id = i + 1;
      clients_[i].state.authenticated = true;
    }
    // Deleting the keys one by one: FLUSHALL's range deletion would leave a
    // tombstone per input that every later read has to step over.
    Args del = {"DEL"};
    for (const std::string& key : BulkStrings(Run(0, {"KEYS", "*"}))) del.push_back(key);
    if (del.size() > 1) Run(0, del);
    FUZZ_CHECK(Run(0, {"DBSIZE"}) == ":0\r\n");
  }

  void Step() {
    client_ = in_.ConsumeIntegralInRange<int>(0, 9) == 0 ? 1 - client_ : client_;
    const std::string key(kKeys[in_.ConsumeIntegralInRange<size_t>(0, kKeys.size() - 1)]);
    const size_t k = static_cast<size_t>(key[1] - '0');
    switch (in_.ConsumeIntegralInRange<int>(0, 21)) {
      case 0:
        return Modeled({"INCR", key}, IncrBy(k, 1, false));
      case 1:
        return Modeled({"DECR", key}, IncrBy(k, -1, false));
      case 2: {
        auto [text, value] = Integer();
        return Modeled({"INCRBY", key, text}, IncrBy(k, value, false));
      }
      case 3: {
        auto [text, value] = Integer();
        return Modeled({"DECRBY", key, text}, IncrBy(k, value, true));
      }
      case 4:
        return Modeled({"GET", key}, GetCheck(k));
      case 5: {
        const int64_t v = Integer().second.value_or(0);
        return Modeled({"SET", key, std::to_string(v)}, [this, k, v](std::string_view reply) {
          FUZZ_CHECK(reply == "+OK\r\n");
          keys_[k] = {KeyState::kInt, v, KeyState::kNoTtl, 0};
        });
      }
      case 6:
        return Modeled(SetWithOptions(key), [this, k](std::string_view) { keys_[k].Forget(); });
      case 7:
        return Del();
      case 8:
        return Expire(key, k);
      case 9:
        return Modeled({"PERSIST", key}, [this, k](std::string_view reply) {
          KeyState& s = keys_[k];
          if (s.kind == KeyState::kAbsent || (s.Known() && s.ttl == KeyState::kNoTtl)) {
            FUZZ_CHECK(reply == ":0\r\n");
          }
          FUZZ_CHECK(reply == ":0\r\n" || reply == ":1\r\n");
          if (reply == ":1\r\n") s.ttl = KeyState::kNoTtl;
        });
      case 10:
        return Modeled({in_.ConsumeBool() ? "TTL" : "PTTL", key},
                       [this, k](std::string_view reply) {
                         const KeyState& s = keys_[k];
                         if (s.kind == KeyState::kAbsent) FUZZ_CHECK(reply == ":-2\r\n");
                         if (s.kind == KeyState::kInt && s.ttl == KeyState::kNoTtl)
                           FUZZ_CHECK(reply == ":-1\r\n");
                         FUZZ_CHECK(reply[0] == ':');
                       });
      case 11:
        return Multi();
      case 12:
        return Exec();
      case 13:
        return Discard();
      case 14:
        return Watch(key);
      case 15: {
        std::string pattern = Pattern();
        return Modeled({"KEYS", pattern}, [this, pattern](std::string_view reply) {
          CheckKeys(pattern, reply, true);
        });
      }
      case 16:
        return Scan();
      case 17: {
        const int64_t ms = in_.ConsumeBool() ? in_.ConsumeIntegralInRange<int64_t>(0, 3000)
                                             : in_.ConsumeIntegralInRange<int64_t>(0, 100'000'000);
        store_.now_ms += ms;
        // A key whose expiry may have passed (or whose expiry is unknown) is
        // unknown until a reply tells the model again.
        for (KeyState& s : keys_) {
          if (s.ttl == KeyState::kTtlUnknown ||
              (s.ttl == KeyState::kTtlAt && s.expire_at <= store_.now_ms + 1)) {
            s.Forget();
          }
        }
        return;
      }
      case 18:
        return Modeled({"EXISTS", key, std::string(kKeys[(k + 1) % kKeys.size()]), key},
                       [this, k](std::string_view reply) {
                         const KeyState& a = keys_[k];
                         const KeyState& b = keys_[(k + 1) % kKeys.size()];
                         if (a.Known() && b.Known()) {
                           FUZZ_CHECK(reply == Int(2 * (a.kind == KeyState::kInt) +
                                                   (b.kind == KeyState::kInt)));
                         }
                         FUZZ_CHECK(reply[0] == ':');
                       });
      case 19:
        return Modeled({"DBSIZE"}, [this](std::string_view reply) {
          if (AllKnown()) FUZZ_CHECK(reply == Int(static_cast<int64_t>(Present("*").size())));
          FUZZ_CHECK(reply[0] == ':');
        });
      case 20:
        return Modeled({"FLUSHDB"}, [this](std::string_view reply) {
          FUZZ_CHECK(reply == "+OK\r\n");
          for (KeyState& s : keys_) s.Delete();
          foreign_keys_ = false;
        });
      default:
        return Raw();
    }
  }

  // Whatever is still queued is dropped with the client; check that the
  // store's answers are still consistent with the model.
  void Finish() {
    for (int c = 0; c < 2; ++c) {
      if (clients_[c].in_multi) FUZZ_CHECK(Run(c, {"DISCARD"}) == "+OK\r\n");
    }
    for (size_t k = 0; k < kKeys.size(); ++k) {
      GetCheck(k)(Run(client_, {"GET", std::string(kKeys[k])}));
    }
  }

 private:
  // Runs one command for client `c` and returns its reply, which must be
  // exactly one well-formed RESP2 reply.
  std::string Run(int c, Args args) {
    std::string out;
    tally::protocol::ReplyWriter writer(&out);
    if (trace_) {
      std::fprintf(stderr, "client %d:", c);
      for (const std::string& arg : args) std::fprintf(stderr, " %s", Printable(arg).c_str());
    }
    Dispatch(args, clients_[c].state, writer, *store_.server);
    if (trace_) std::fprintf(stderr, " -> %s\n", Printable(out).c_str());
    size_t pos = 0;
    FUZZ_CHECK(SkipReply(out, &pos));
    FUZZ_CHECK(pos == out.size());
    return out;
  }

  // Runs a command the model follows: now, or at EXEC when queued.
  void Modeled(Args args, Check check) {
    Client& c = clients_[client_];
    const std::string reply = Run(client_, std::move(args));
    if (!c.in_multi) return check(reply);
    FUZZ_CHECK(reply == kQueued);
    c.queue.push_back(std::move(check));
  }

  // An integer argument: usually well formed (small, at the edges of int64,
  // or anything), sometimes not an integer at all (value nullopt).
  std::pair<std::string, std::optional<int64_t>> Integer() {
    static const char* const kMalformed[] = {
        "",  "1.5", " 1", "+1", "01", "-0", "abc", "9223372036854775808", "-9223372036854775809",
        "1 "};
    constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
    constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
    int64_t v = 0;
    switch (in_.ConsumeIntegralInRange<int>(0, 7)) {
      case 0:
        return {kMalformed[in_.ConsumeIntegralInRange<size_t>(0, std::size(kMalformed) - 1)],
                std::nullopt};
      case 1:
        v = in_.PickValueInArray({kMax, kMin, kMax - 1, kMin + 1, int64_t{0}});
        break;
      case 2:
        v = in_.ConsumeIntegral<int64_t>();
        break;
      default:
        v = in_.ConsumeIntegralInRange<int64_t>(-20, 20);
    }
    return {std::to_string(v), v};
  }

  std::string Pattern() {
    static const char* const kPatterns[] = {"*", "k*", "k?", "k[0-1]", "k[^2]", "*3", "x*", "k\\1"};
    if (in_.ConsumeBool()) {
      return kPatterns[in_.ConsumeIntegralInRange<size_t>(0, std::size(kPatterns) - 1)];
    }
    return in_.ConsumeRandomLengthString(12);
  }

  Check IncrBy(size_t k, std::optional<int64_t> amount, bool decrement) {
    return [this, k, amount, decrement](std::string_view reply) {
      if (!amount) {
        FUZZ_CHECK(reply == kErrNotInteger);
        return;
      }
      if (decrement && *amount == std::numeric_limits<int64_t>::min()) {
        {
          FUZZ_CHECK(reply == "-ERR decrement would overflow\r\n");
          return;
        }
      }
      const int64_t delta = decrement ? -*amount : *amount;
      KeyState& s = keys_[k];
      if (!s.Known()) {
        if (reply[0] == ':') {
          s.kind = KeyState::kInt;
          s.value = *CanonicalInt(reply.substr(1, reply.size() - 3));
        }
        return;
      }
      const int64_t base = s.kind == KeyState::kInt ? s.value : 0;
      int64_t sum = 0;
      if (__builtin_add_overflow(base, delta, &sum)) {
        {
          FUZZ_CHECK(reply == "-ERR increment or decrement would overflow\r\n");
          return;
        }
      }
      FUZZ_CHECK(reply == Int(sum));
      if (s.kind == KeyState::kAbsent) s.ttl = KeyState::kNoTtl;
      s.kind = KeyState::kInt;
      s.value = sum;
    };
  }

  Check GetCheck(size_t k) {
    return [this, k](std::string_view reply) {
      KeyState& s = keys_[k];
      if (s.kind == KeyState::kAbsent) {
        FUZZ_CHECK(reply == kNil);
        return;
      }
      if (s.kind == KeyState::kInt) {
        FUZZ_CHECK(reply == Bulk(std::to_string(s.value)));
        return;
      }
      if (reply == kNil) return s.Delete();
      FUZZ_CHECK(reply[0] == '$');
      const size_t eol = reply.find("\r\n");
      if (auto v = CanonicalInt(reply.substr(eol + 2, reply.size() - eol - 4))) {
        s.kind = KeyState::kInt;
        s.value = *v;
      }
    };
  }

  Args SetWithOptions(const std::string& key) {
    Args args = {"SET", key,
                 in_.ConsumeBool() ? Integer().first : in_.ConsumeRandomLengthString(8)};
    for (int i = in_.ConsumeIntegralInRange<int>(0, 3); i > 0; --i) {
      switch (in_.ConsumeIntegralInRange<int>(0, 6)) {
        case 0:
          args.push_back("NX");
          break;
        case 1:
          args.push_back("XX");
          break;
        case 2:
          args.push_back("GET");
          break;
        case 3:
          args.push_back("KEEPTTL");
          break;
        default:
          args.push_back(in_.PickValueInArray({"EX", "PX", "EXAT", "PXAT"}));
          args.push_back(Integer().first);
      }
    }
    return args;
  }

  void Del() {
    Args args = {"DEL"};
    std::vector<size_t> ks;
    for (int i = in_.ConsumeIntegralInRange<int>(1, 3); i > 0; --i) {
      ks.push_back(in_.ConsumeIntegralInRange<size_t>(0, kKeys.size() - 1));
      args.emplace_back(kKeys[ks.back()]);
    }
    Modeled(std::move(args), [this, ks](std::string_view reply) {
      std::set<size_t> distinct(ks.begin(), ks.end());
      bool known = true;
      int64_t present = 0;
      for (size_t k : distinct) {
        known = known && keys_[k].Known();
        present += keys_[k].kind == KeyState::kInt;
      }
      if (known) FUZZ_CHECK(reply == Int(present));
      FUZZ_CHECK(reply[0] == ':');
      for (size_t k : distinct) keys_[k].Delete();
    });
  }

  void Expire(const std::string& key, size_t k) {
    const bool ms = in_.ConsumeBool();
    auto [text, parsed] = Integer();
    const std::optional<int64_t> value = parsed;
    Args args = {ms ? "PEXPIRE" : "EXPIRE", key, text};
    const bool conditional = in_.ConsumeBool();
    if (conditional) args.push_back(in_.PickValueInArray({"NX", "XX", "GT", "LT"}));
    Modeled(std::move(args), [this, k, ms, value, conditional](std::string_view reply) {
      KeyState& s = keys_[k];
      if (!value) {
        FUZZ_CHECK(reply == kErrNotInteger);
        return;
      }
      if (reply[0] == '-') {
        FUZZ_CHECK(reply.starts_with("-ERR invalid expire time in '"));
        return;
      }
      if (s.kind == KeyState::kAbsent) FUZZ_CHECK(reply == ":0\r\n");
      if (s.kind == KeyState::kInt && !conditional) FUZZ_CHECK(reply == ":1\r\n");
      FUZZ_CHECK(reply == ":0\r\n" || reply == ":1\r\n");
      if (reply == ":0\r\n") return;
      if (*value <= 0) return s.Delete();  // an expiry in the past deletes the key
      s.ttl = KeyState::kTtlAt;
      // Tally accepted the time, so it must be representable.
      int64_t ttl_ms = 0;
      FUZZ_CHECK(!__builtin_mul_overflow(*value, ms ? 1 : 1000, &ttl_ms));
      FUZZ_CHECK(!__builtin_add_overflow(store_.now_ms.load(), ttl_ms, &s.expire_at));
    });
  }

  void Multi() {
    Client& c = clients_[client_];
    const std::string reply = Run(client_, {"MULTI"});
    if (c.in_multi) {
      FUZZ_CHECK(reply == "-ERR MULTI calls can not be nested\r\n");
      return;
    }
    FUZZ_CHECK(reply == "+OK\r\n");
    c.in_multi = true;
  }

  void Exec() {
    Client& c = clients_[client_];
    const std::string reply = Run(client_, {"EXEC"});
    if (!c.in_multi) {
      FUZZ_CHECK(reply == "-ERR EXEC without MULTI\r\n");
      return;
    }
    std::vector<Check> queue = std::move(c.queue);
    const bool watching = c.watching;
    const bool may_abort = c.may_abort;
    // EXEC ends the transaction and unwatches every key, whatever its outcome.
    c.in_multi = c.may_abort = c.watching = false;
    c.queue.clear();
    if (reply.starts_with("-EXECABORT")) {
      FUZZ_CHECK(may_abort);
      return;
    }
    if (reply == "*-1\r\n") {
      FUZZ_CHECK(watching);
      return;
    }
    auto elements = Elements(reply);
    FUZZ_CHECK(elements && elements->size() == queue.size());
    for (size_t i = 0; i < queue.size(); ++i) queue[i]((*elements)[i]);
  }

  void Discard() {
    Client& c = clients_[client_];
    const std::string reply = Run(client_, {"DISCARD"});
    if (!c.in_multi) {
      FUZZ_CHECK(reply == "-ERR DISCARD without MULTI\r\n");
      return;
    }
    FUZZ_CHECK(reply == "+OK\r\n");
    c.in_multi = false;
    c.may_abort = false;
    c.watching = false;
    c.queue.clear();
  }

  void Watch(const std::string& key) {
    Client& c = clients_[client_];
    const std::string reply = Run(client_, {"WATCH", key});
    if (c.in_multi) {
      FUZZ_CHECK(reply == "-ERR WATCH inside MULTI is not allowed\r\n");
      return;
    }
    FUZZ_CHECK(reply == "+OK\r\n");
    c.watching = true;
  }

  bool AllKnown() const {
    if (foreign_keys_) return false;
    for (const KeyState& s : keys_) {
      if (!s.Known()) return false;
    }
    return true;
  }

  std::set<std::string> Present(std::string_view pattern) const {
    std::set<std::string> out;
    for (size_t k = 0; k < kKeys.size(); ++k) {
      if (keys_[k].kind == KeyState::kInt && tally::GlobMatch(pattern, kKeys[k])) {
        out.emplace(kKeys[k]);
      }
    }
    return out;
  }

  // KEYS (exact) or the union of a SCAN's batches: every key returned matches
  // and is not known to be absent; with everything known, exactly the
  // present keys that match.
  void CheckKeys(const std::string& pattern, std::string_view reply, bool exact) {
    std::vector<std::string> got = BulkStrings(reply);
    std::set<std::string> distinct(got.begin(), got.end());
    if (exact) FUZZ_CHECK(distinct.size() == got.size());
    CheckKeySet(pattern, distinct);
  }

  void CheckKeySet(const std::string& pattern, const std::set<std::string>& got) {
    for (const std::string& key : got) {
      FUZZ_CHECK(tally::GlobMatch(pattern, key));
      for (size_t k = 0; k < kKeys.size(); ++k) {
        if (key == kKeys[k]) FUZZ_CHECK(keys_[k].kind != KeyState::kAbsent);
      }
    }
    if (AllKnown()) FUZZ_CHECK(got == Present(pattern));
  }

  // A whole SCAN iteration, bounded, outside of any transaction.
  void Scan() {
    if (clients_[client_].in_multi) return;
    const std::string pattern = Pattern();
    const std::string count = std::to_string(in_.ConsumeIntegralInRange<int>(1, 5));
    std::set<std::string> got;
    std::string cursor = "0";
    for (int i = 0; i < 50; ++i) {
      const std::string reply = Run(client_, {"SCAN", cursor, "MATCH", pattern, "COUNT", count});
      auto elements = Elements(reply);
      FUZZ_CHECK(elements && elements->size() == 2);
      std::vector<std::string> batch = BulkStrings((*elements)[1]);
      got.insert(batch.begin(), batch.end());
      const std::string_view c = (*elements)[0];
      const size_t eol = c.find("\r\n");
      cursor = std::string(c.substr(eol + 2, c.size() - eol - 4));
      FUZZ_CHECK(!cursor.empty() && cursor.find_first_not_of("0123456789") == std::string::npos);
      if (cursor == "0") return CheckKeySet(pattern, got);
    }
    // With at most a handful of keys and COUNT >= 1, 50 calls always finish.
    FUZZ_CHECK(!AllKnown());
  }

  // Any command of the table that is safe to run here, with arguments drawn
  // from the keys, numbers, option words and random bytes. The model forgets
  // every key the command names.
  void Raw() {
    static const char* const kNames[] = {
        "ping", "echo", "exists", "type", "strlen", "ttl", "pttl", "mget", "mset", "msetnx",
        "setnx", "setex", "psetex", "getset", "getdel", "incrbyfloat", "unlink", "object",
        "command", "memory", "dbsize", "select", "time", "lastsave", "expireat", "pexpireat", "set",
        "unwatch", "get", "incr", "incrby", "decrby", "del", "expire", "persist", "keys", "scan",
        "client", "config", "info", "nosuchcmd", "watch",
        // Commands on string values. SETBIT, SETRANGE and BITFIELD are left
        // out: one random large offset makes them build a 512 MB string.
        "getbit", "bitcount", "bitpos", "bitop", "bitfield_ro", "pfadd", "pfcount", "pfmerge",
        "append", "getrange", "substr", "getex", "lcs", "expiretime", "pexpiretime", "touch"};
    static const char* const kWords[] = {
        "NX",       "XX",  "GT",           "LT",         "EX",    "PX",      "EXAT",
        "PXAT",     "GET", "KEEPTTL",      "MATCH",      "COUNT", "TYPE",    "string",
        "encoding", "id",  "getname",      "usage",      "info",  "count",   "help",
        "*",        "1.5", "-1",           "0",          "100",   "inf",     "BIT",
        "BYTE",     "AND", "NOT",          "IDX",        "LEN",   "PERSIST", "u8",
        "i64",      "#1",  "WITHMATCHLEN", "MINMATCHLEN"};
    const std::string name = kNames[in_.ConsumeIntegralInRange<size_t>(0, std::size(kNames) - 1)];
    Args args = {name};
    for (int i = in_.ConsumeIntegralInRange<int>(0, 4); i > 0; --i) {
      switch (in_.ConsumeIntegralInRange<int>(0, 4)) {
        case 0:
        case 1:
          args.emplace_back(kKeys[in_.ConsumeIntegralInRange<size_t>(0, kKeys.size() - 1)]);
          break;
        case 2:
          args.emplace_back(kWords[in_.ConsumeIntegralInRange<size_t>(0, std::size(kWords) - 1)]);
          break;
        case 3:
          args.push_back(Integer().first);
          break;
        default:
          args.push_back(in_.ConsumeRandomLengthString(8));
      }
    }
    // CONFIG SET and CLIENT REPLY/KILL/NO-EVICT change what later inputs see
    // or suppress replies; they have their own tests.
    if ((name == "config" || name == "client") && args.size() >= 2) {
      std::string sub = args[1];
      for (char& ch : sub) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      if (sub != "get" && sub != "help" && sub != "id" && sub != "getname" && sub != "info") return;
    }
    // A key the command writes outside the model's four makes the key set
    // unknown; any of the four it names is forgotten.
    bool foreign = false;
    if (const auto* spec = tally::server::FindCommand(name);
        spec && (spec->flags & tally::server::kWrite) &&
        tally::server::ArityMatches(*spec, args.size())) {
      for (size_t i : tally::server::KeyIndexes(*spec, args.size())) {
        if (i < args.size() && std::find(kKeys.begin(), kKeys.end(), args[i]) == kKeys.end()) {
          foreign = true;
        }
      }
    }
    std::vector<size_t> named;
    for (size_t k = 0; k < kKeys.size(); ++k) {
      if (std::find(args.begin() + 1, args.end(), kKeys[k]) != args.end()) named.push_back(k);
    }
    const bool watch = name == "watch";
    const bool unwatch = name == "unwatch";
    Client& c = clients_[client_];
    const std::string reply = Run(client_, std::move(args));
    auto effect = [this, named, foreign](std::string_view) {
      for (size_t k : named) keys_[k].Forget();
      foreign_keys_ = foreign_keys_ || foreign;
    };
    if (!c.in_multi) {
      if (watch && reply == "+OK\r\n") c.watching = true;
      if (unwatch) c.watching = false;
      return effect(reply);
    }
    if (reply == kQueued) {
      c.queue.push_back(effect);
    } else {
      c.may_abort = true;
    }
  }

  // TALLY_FUZZ_TRACE=1 prints every command and reply, to read a finding.
  const bool trace_ = std::getenv("TALLY_FUZZ_TRACE") != nullptr;
  FuzzedDataProvider& in_;
  Store& store_;
  std::array<KeyState, kKeys.size()> keys_;
  bool foreign_keys_ = false;
  std::array<Client, 2> clients_;
  int client_ = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  Session session(in);
  for (size_t i = 0; i < kMaxCommands && in.remaining_bytes() > 0; ++i) session.Step();
  session.Finish();
  return 0;
}
