// HyperLogLog on plain string values, in Redis's own representation byte for
// byte (Redis 7.0 hyperloglog.c): a 16-byte header ("HYLL", encoding byte,
// three zero bytes, 8-byte little-endian cached cardinality whose top bit set
// means "stale"), then either the sparse run-length opcodes (ZERO, XZERO, VAL)
// or the dense 16384 six-bit registers. Elements are hashed with MurmurHash64A
// and seed 0xadc83b19 and counts use Ertl's estimator exactly as Redis does,
// so a value copied between Redis and Tally (GET / SET) keeps counting the
// same, and the bytes PFADD / PFMERGE / PFCOUNT leave behind are Redis's.
//
// Pure functions on std::string, no storage or networking: the keyspace
// stores the result as an ordinary string value.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tally::storage::hll {

inline constexpr int kRegisters = 16384;
inline constexpr size_t kHeaderSize = 16;
inline constexpr size_t kDenseSize = kHeaderSize + (kRegisters * 6 + 7) / 8;  // 12304
// Redis's hll-sparse-max-bytes default: a sparse value that would grow past
// this many bytes (header included) is promoted to the dense encoding.
inline constexpr size_t kDefaultSparseMaxBytes = 3000;

// One byte per register: the union of several HLLs, as PFCOUNT with several
// keys and PFMERGE build it before counting or storing.
using Registers = std::array<uint8_t, kRegisters>;

// Redis's isHLLObjectOrReply: at least a header, the "HYLL" magic, a known
// encoding, and exactly kDenseSize bytes when dense. A value failing this is
// answered with WRONGTYPE ("Key is not a valid HyperLogLog string value.").
// Passing it does not mean the sparse opcodes are valid (see the -1 / nullopt
// returns below, which Redis reports as INVALIDOBJ).
bool IsHll(std::string_view value);

bool IsDense(std::string_view hll);  // precondition: IsHll(hll).

// Marks the cached cardinality stale (top bit of its last byte), as PFADD
// does whenever it changed or created the value. Precondition: IsHll.
void InvalidateCache(std::string* hll);

// The value PFADD creates for a missing key: sparse, all registers zero,
// cached cardinality 0 (valid). 18 bytes.
std::string Empty();

// Adds one element to `hll` (precondition: IsHll). Returns 1 when a register
// grew (the cached cardinality is then marked stale), 0 when nothing changed
// (the value is untouched), -1 when the sparse opcodes are corrupted (the
// value is then unspecified and must not be stored). A sparse value is
// promoted to dense when a register exceeds 32 or when growing it would pass
// `sparse_max_bytes`.
int Add(std::string* hll, std::string_view element,
        size_t sparse_max_bytes = kDefaultSparseMaxBytes);

// PFCOUNT of one key: the cached cardinality when valid; otherwise computes
// it and writes it into the header (*cache_written = true: the caller stores
// the value back, as Redis does). nullopt when the sparse opcodes are
// corrupted (nothing to store). Precondition: IsHll.
std::optional<uint64_t> Count(std::string* hll, bool* cache_written);

// Raises each register of `max` to the register of `hll` (Redis's hllMerge).
// False when the sparse opcodes are corrupted: they cover more or fewer than
// kRegisters registers, an opcode running past the last register included
// (as in Redis 7.0.15 with the CVE-2025-32023 fix, which Debian ships).
// Precondition: IsHll.
bool MergeInto(std::string_view hll, Registers* max);

// The cardinality estimate of a register set (PFCOUNT of several keys).
uint64_t CountRegisters(const Registers& registers);

// PFMERGE's write into the destination `hll` (precondition: IsHll; Empty()
// for a missing key): converted to dense first when `use_dense` (some input
// was dense), then every non-zero register of `max` is set, and the cached
// cardinality is marked stale. False when `hll` is corrupted.
bool StoreMerged(std::string* hll, const Registers& max, bool use_dense,
                 size_t sparse_max_bytes = kDefaultSparseMaxBytes);

// Redis's MurmurHash64A (endian-neutral variant), exposed for tests.
uint64_t MurmurHash64A(std::string_view key, uint32_t seed);

}  // namespace tally::storage::hll
