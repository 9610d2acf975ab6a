#include "storage/hyperloglog.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace tally::storage::hll {
namespace {

constexpr int kP = 14;
constexpr uint64_t kPMask = kRegisters - 1;
constexpr int kQ = 64 - kP;
constexpr int kRegisterMax = 63;
constexpr uint8_t kEncodingDense = 0;
constexpr uint8_t kEncodingSparse = 1;
constexpr int kSparseValMaxValue = 32;
constexpr int kSparseValMaxLen = 4;
constexpr int kSparseZeroMaxLen = 64;
constexpr int kSparseXZeroMaxLen = 16384;
constexpr double kAlphaInf = 0.721347520444481703680;  // 0.5 / ln(2)

// Sparse opcodes: ZERO 00xxxxxx (1..64 zero registers), XZERO 01xxxxxx
// yyyyyyyy (1..16384 zero registers), VAL 1vvvvvxx (value 1..32, 1..4 times).
bool IsZero(uint8_t b) { return (b & 0xc0) == 0; }
bool IsXZero(uint8_t b) { return (b & 0xc0) == 0x40; }
bool IsVal(uint8_t b) { return (b & 0x80) != 0; }
int ZeroLen(uint8_t b) { return (b & 0x3f) + 1; }
int XZeroLen(uint8_t b0, uint8_t b1) { return (((b0 & 0x3f) << 8) | b1) + 1; }
int ValValue(uint8_t b) { return ((b >> 2) & 0x1f) + 1; }
int ValLen(uint8_t b) { return (b & 0x3) + 1; }
uint8_t ValOp(int value, int len) {
  return static_cast<uint8_t>(((value - 1) << 2 | (len - 1)) | 0x80);
}
uint8_t ZeroOp(int len) { return static_cast<uint8_t>(len - 1); }
void AppendXZero(std::string* out, int len) {
  out->push_back(static_cast<char>(((len - 1) >> 8) | 0x40));
  out->push_back(static_cast<char>((len - 1) & 0xff));
}

// Byte i of s, or 0 past the end: Redis reads the terminating NUL of its sds
// strings there (the second byte of a truncated XZERO), so this keeps counts
// of such values identical without reading out of bounds.
uint8_t At(std::string_view s, size_t i) { return i < s.size() ? static_cast<uint8_t>(s[i]) : 0; }

// Dense registers: 6 bits each, packed from the least significant bit of
// each byte upwards. The last register never touches the byte after the
// array, so accesses past the end are skipped.
int DenseGet(const uint8_t* regs, size_t reg_bytes, uint64_t index) {
  uint64_t byte = index * 6 / 8;
  unsigned fb = index * 6 & 7;
  unsigned b0 = regs[byte];
  unsigned b1 = byte + 1 < reg_bytes ? regs[byte + 1] : 0;
  return static_cast<int>(((b0 >> fb) | (b1 << (8 - fb))) & kRegisterMax);
}

void DenseSet(uint8_t* regs, size_t reg_bytes, uint64_t index, unsigned value) {
  uint64_t byte = index * 6 / 8;
  unsigned fb = index * 6 & 7;
  regs[byte] = static_cast<uint8_t>((regs[byte] & ~(kRegisterMax << fb)) | (value << fb));
  if (byte + 1 < reg_bytes) {
    unsigned fb8 = 8 - fb;
    regs[byte + 1] =
        static_cast<uint8_t>((regs[byte + 1] & ~(kRegisterMax >> fb8)) | (value >> fb8));
  }
}

uint8_t* DenseRegs(std::string* hll) {
  return reinterpret_cast<uint8_t*>(hll->data()) + kHeaderSize;
}
constexpr size_t kDenseRegBytes = kDenseSize - kHeaderSize;

// Register index and run length of "0...01" in the hash bits above the index
// (Redis's hllPatLen): 1..kQ+1.
int PatternLength(std::string_view element, uint64_t* index) {
  uint64_t hash = MurmurHash64A(element, 0xadc83b19u);
  *index = hash & kPMask;
  hash >>= kP;
  hash |= uint64_t{1} << kQ;  // guarantees termination with count <= kQ+1
  int count = 1;
  uint64_t bit = 1;
  while ((hash & bit) == 0) {
    ++count;
    bit <<= 1;
  }
  return count;
}

int DenseSetIfGreater(std::string* hll, uint64_t index, int count) {
  uint8_t* regs = DenseRegs(hll);
  if (count <= DenseGet(regs, kDenseRegBytes, index)) return 0;
  DenseSet(regs, kDenseRegBytes, index, static_cast<unsigned>(count));
  return 1;
}

// Rewrites a sparse value as dense, keeping its header bytes (cached
// cardinality included, as Redis's hllSparseToDense). False, with `hll`
// untouched, when the opcodes do not cover exactly kRegisters registers.
bool SparseToDense(std::string* hll) {
  if (static_cast<uint8_t>((*hll)[4]) == kEncodingDense) return true;
  std::string dense(kDenseSize, '\0');
  std::memcpy(dense.data(), hll->data(), kHeaderSize);
  dense[4] = static_cast<char>(kEncodingDense);
  uint8_t* regs = DenseRegs(&dense);
  std::string_view s = *hll;
  long idx = 0;
  size_t p = kHeaderSize;
  while (p < s.size()) {
    uint8_t op = At(s, p);
    const bool val = IsVal(op);
    const int runlen = IsZero(op) ? ZeroLen(op) : val ? ValLen(op) : XZeroLen(op, At(s, p + 1));
    if (runlen + idx > kRegisters) return false;
    if (val) {
      for (int r = 0; r < runlen; ++r) {
        DenseSet(regs, kDenseRegBytes, idx + r, static_cast<unsigned>(ValValue(op)));
      }
    }
    idx += runlen;
    p += IsXZero(op) ? 2 : 1;
  }
  if (idx != kRegisters) return false;
  *hll = std::move(dense);
  return true;
}

// Redis's hllSparseSet: sets register `index` to `count` when greater,
// splitting the covering opcode in place and merging equal neighbours, or
// promoting to dense. Returns 1 (changed), 0 (unchanged) or -1 (corrupted).
int SparseSet(std::string* hll, long index, int count, size_t sparse_max_bytes) {
  if (count > kSparseValMaxValue) goto promote;
  {
    std::string& s = *hll;
    size_t p = kHeaderSize;
    size_t end = s.size();
    long first = 0;
    long span = 0;
    bool has_prev = false;
    size_t prev = 0;
    while (p < end) {
      uint8_t op = At(s, p);
      size_t oplen = 1;
      if (IsZero(op)) {
        span = ZeroLen(op);
      } else if (IsVal(op)) {
        span = ValLen(op);
      } else {
        span = XZeroLen(op, At(s, p + 1));
        oplen = 2;
      }
      if (index <= first + span - 1) break;
      has_prev = true;
      prev = p;
      p += oplen;
      first += span;
    }
    if (span == 0 || p >= end) return -1;

    uint8_t op = At(s, p);
    bool is_zero = IsZero(op);
    bool is_xzero = IsXZero(op);
    bool is_val = !is_zero && !is_xzero;
    // A trailing XZERO cut to one byte cannot be rewritten in place.
    if (is_xzero && p + 1 >= end) return -1;
    long runlen = is_zero ? ZeroLen(op) : is_xzero ? XZeroLen(op, At(s, p + 1)) : ValLen(op);

    bool rewritten = false;
    if (is_val) {
      if (ValValue(op) >= count) return 0;
      if (runlen == 1) {
        s[p] = static_cast<char>(ValOp(count, 1));
        rewritten = true;
      }
    }
    if (!rewritten && is_zero && runlen == 1) {
      s[p] = static_cast<char>(ValOp(count, 1));
      rewritten = true;
    }
    if (!rewritten) {
      // Split the opcode into (before, our register, after).
      std::string seq;
      long last = first + span - 1;
      if (is_zero || is_xzero) {
        auto zeros = [&seq](long len) {
          if (len > kSparseZeroMaxLen) {
            AppendXZero(&seq, static_cast<int>(len));
          } else {
            seq.push_back(static_cast<char>(ZeroOp(static_cast<int>(len))));
          }
        };
        if (index != first) zeros(index - first);
        seq.push_back(static_cast<char>(ValOp(count, 1)));
        if (index != last) zeros(last - index);
      } else {
        int current = ValValue(op);
        if (index != first) seq.push_back(static_cast<char>(ValOp(current, index - first)));
        seq.push_back(static_cast<char>(ValOp(count, 1)));
        if (index != last) seq.push_back(static_cast<char>(ValOp(current, last - index)));
      }
      size_t oldlen = is_xzero ? 2 : 1;
      long delta = static_cast<long>(seq.size()) - static_cast<long>(oldlen);
      if (delta > 0 && s.size() + delta > sparse_max_bytes) goto promote;
      s.replace(p, oldlen, seq);
      end = s.size();
    }

    // Merge adjacent VAL opcodes of equal value, scanning up to five
    // opcodes from the one before the change (as Redis does, so the
    // resulting bytes are the same).
    p = has_prev ? prev : kHeaderSize;
    int scanlen = 5;
    while (p < end && scanlen--) {
      uint8_t cur = At(s, p);
      if (IsXZero(cur)) {
        p += 2;
        continue;
      }
      if (IsZero(cur)) {
        p += 1;
        continue;
      }
      if (p + 1 < end && IsVal(At(s, p + 1))) {
        int v1 = ValValue(cur);
        int v2 = ValValue(At(s, p + 1));
        if (v1 == v2) {
          int len = ValLen(cur) + ValLen(At(s, p + 1));
          if (len <= kSparseValMaxLen) {
            s[p + 1] = static_cast<char>(ValOp(v1, len));
            s.erase(p, 1);
            --end;
            continue;
          }
        }
      }
      p += 1;
    }
    InvalidateCache(hll);
    return 1;
  }

promote:
  if (!SparseToDense(hll)) return -1;
  // A promotion only happens when the register must grow, so this sets it.
  DenseSetIfGreater(hll, static_cast<uint64_t>(index), count);
  InvalidateCache(hll);
  return 1;
}

// Adds the histogram of sparse registers to `histo`; false when the opcodes
// do not cover exactly kRegisters registers.
bool SparseHistogram(std::string_view hll, std::array<int, 64>* histo) {
  long idx = 0;
  size_t p = kHeaderSize;
  while (p < hll.size()) {
    uint8_t op = At(hll, p);
    if (IsZero(op)) {
      int runlen = ZeroLen(op);
      idx += runlen;
      (*histo)[0] += runlen;
      p += 1;
    } else if (IsXZero(op)) {
      int runlen = XZeroLen(op, At(hll, p + 1));
      idx += runlen;
      (*histo)[0] += runlen;
      p += 2;
    } else {
      int runlen = ValLen(op);
      idx += runlen;
      (*histo)[ValValue(op)] += runlen;
      p += 1;
    }
  }
  return idx == kRegisters;
}

double Sigma(double x) {
  if (x == 1.) return std::numeric_limits<double>::infinity();
  double z_prime;
  double y = 1;
  double z = x;
  do {
    x *= x;
    z_prime = z;
    z += x * y;
    y += y;
  } while (z_prime != z);
  return z;
}

double Tau(double x) {
  if (x == 0. || x == 1.) return 0.;
  double z_prime;
  double y = 1.0;
  double z = 1 - x;
  do {
    x = std::sqrt(x);
    z_prime = z;
    y *= 0.5;
    z -= std::pow(1 - x, 2) * y;
  } while (z_prime != z);
  return z / 3;
}

// Ertl, "New cardinality estimation algorithms for HyperLogLog sketches"
// (arXiv:1702.01284), with Redis's exact order of floating-point operations.
uint64_t Estimate(const std::array<int, 64>& histo) {
  double m = kRegisters;
  double z = m * Tau((m - histo[kQ + 1]) / m);
  for (int j = kQ; j >= 1; --j) {
    z += histo[j];
    z *= 0.5;
  }
  z += m * Sigma(histo[0] / m);
  return static_cast<uint64_t>(std::llround(static_cast<long double>(kAlphaInf * m * m / z)));
}

}  // namespace

uint64_t MurmurHash64A(std::string_view key, uint32_t seed) {
  const uint64_t m = 0xc6a4a7935bd1e995ULL;
  const int r = 47;
  const size_t len = key.size();
  uint64_t h = seed ^ (static_cast<uint64_t>(static_cast<int>(len)) * m);
  const auto* data = reinterpret_cast<const uint8_t*>(key.data());
  const uint8_t* end = data + (len - (len & 7));
  while (data != end) {
    uint64_t k = 0;
    for (int i = 7; i >= 0; --i) k = (k << 8) | data[i];  // little-endian load
    k *= m;
    k ^= k >> r;
    k *= m;
    h ^= k;
    h *= m;
    data += 8;
  }
  switch (len & 7) {
    case 7:
      h ^= static_cast<uint64_t>(data[6]) << 48;
      [[fallthrough]];
    case 6:
      h ^= static_cast<uint64_t>(data[5]) << 40;
      [[fallthrough]];
    case 5:
      h ^= static_cast<uint64_t>(data[4]) << 32;
      [[fallthrough]];
    case 4:
      h ^= static_cast<uint64_t>(data[3]) << 24;
      [[fallthrough]];
    case 3:
      h ^= static_cast<uint64_t>(data[2]) << 16;
      [[fallthrough]];
    case 2:
      h ^= static_cast<uint64_t>(data[1]) << 8;
      [[fallthrough]];
    case 1:
      h ^= static_cast<uint64_t>(data[0]);
      h *= m;
  }
  h ^= h >> r;
  h *= m;
  h ^= h >> r;
  return h;
}

bool IsHll(std::string_view value) {
  if (value.size() < kHeaderSize) return false;
  if (value.substr(0, 4) != "HYLL") return false;
  uint8_t encoding = static_cast<uint8_t>(value[4]);
  if (encoding > kEncodingSparse) return false;
  if (encoding == kEncodingDense && value.size() != kDenseSize) return false;
  return true;
}

void InvalidateCache(std::string* hll) { (*hll)[15] = static_cast<char>((*hll)[15] | 0x80); }

bool IsDense(std::string_view hll) { return static_cast<uint8_t>(hll[4]) == kEncodingDense; }

std::string Empty() {
  std::string s("HYLL", 4);
  s.push_back(static_cast<char>(kEncodingSparse));
  s.append(11, '\0');
  for (int left = kRegisters; left > 0; left -= kSparseXZeroMaxLen) {
    AppendXZero(&s, left < kSparseXZeroMaxLen ? left : kSparseXZeroMaxLen);
  }
  return s;
}

int Add(std::string* hll, std::string_view element, size_t sparse_max_bytes) {
  uint64_t index = 0;
  int count = PatternLength(element, &index);
  if (IsDense(*hll)) {
    int changed = DenseSetIfGreater(hll, index, count);
    if (changed) InvalidateCache(hll);
    return changed;
  }
  return SparseSet(hll, static_cast<long>(index), count, sparse_max_bytes);
}

std::optional<uint64_t> Count(std::string* hll, bool* cache_written) {
  *cache_written = false;
  auto* h = reinterpret_cast<uint8_t*>(hll->data());
  if ((h[15] & 0x80) == 0) {
    uint64_t card = 0;
    for (int i = 7; i >= 0; --i) card = (card << 8) | h[8 + i];
    return card;
  }
  std::array<int, 64> histo{};
  if (IsDense(*hll)) {
    const uint8_t* regs = h + kHeaderSize;
    for (int j = 0; j < kRegisters; ++j) histo[DenseGet(regs, kDenseRegBytes, j)]++;
  } else if (!SparseHistogram(*hll, &histo)) {
    return std::nullopt;
  }
  uint64_t card = Estimate(histo);
  for (int i = 0; i < 8; ++i) h[8 + i] = static_cast<uint8_t>(card >> (8 * i));
  *cache_written = true;
  return card;
}

bool MergeInto(std::string_view hll, Registers* max) {
  if (IsDense(hll)) {
    const auto* regs = reinterpret_cast<const uint8_t*>(hll.data()) + kHeaderSize;
    for (int i = 0; i < kRegisters; ++i) {
      auto v = static_cast<uint8_t>(DenseGet(regs, kDenseRegBytes, i));
      if (v > (*max)[i]) (*max)[i] = v;
    }
    return true;
  }
  long i = 0;
  size_t p = kHeaderSize;
  while (p < hll.size()) {
    uint8_t op = At(hll, p);
    const bool val = IsVal(op);
    const int runlen = IsZero(op) ? ZeroLen(op) : val ? ValLen(op) : XZeroLen(op, At(hll, p + 1));
    if (runlen + i > kRegisters) return false;
    if (val) {
      const auto value = static_cast<uint8_t>(ValValue(op));
      for (int r = 0; r < runlen; ++r) (*max)[i + r] = std::max((*max)[i + r], value);
    }
    i += runlen;
    p += IsXZero(op) ? 2 : 1;
  }
  return i == kRegisters;
}

uint64_t CountRegisters(const Registers& registers) {
  std::array<int, 64> histo{};
  for (uint8_t r : registers) histo[r & 63]++;
  return Estimate(histo);
}

bool StoreMerged(std::string* hll, const Registers& max, bool use_dense, size_t sparse_max_bytes) {
  if (use_dense && !SparseToDense(hll)) return false;
  for (int j = 0; j < kRegisters; ++j) {
    if (max[j] == 0) continue;
    if (IsDense(*hll)) {
      DenseSetIfGreater(hll, j, max[j]);
    } else if (SparseSet(hll, j, max[j], sparse_max_bytes) < 0) {
      return false;
    }
  }
  InvalidateCache(hll);
  return true;
}

}  // namespace tally::storage::hll
