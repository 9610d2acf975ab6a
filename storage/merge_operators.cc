#include "storage/merge_operators.h"

#include <string>

#include "storage/encoding.h"

namespace tally::storage {
namespace {

class Int64AddOperator : public rocksdb::AssociativeMergeOperator {
 public:
  bool Merge(const rocksdb::Slice& /*key*/, const rocksdb::Slice* existing_value,
             const rocksdb::Slice& value, std::string* new_value,
             rocksdb::Logger* /*logger*/) const override {
    if (value.size() != 8 || (existing_value != nullptr && existing_value->size() != 8)) {
      return false;  // RocksDB reports this as corruption.
    }
    uint64_t sum = GetFixed64LE(value.ToStringView());
    if (existing_value != nullptr) sum += GetFixed64LE(existing_value->ToStringView());
    new_value->clear();
    PutFixed64LE(new_value, sum);  // unsigned wrap-around is two's complement addition.
    return true;
  }

  // Persisted in RocksDB's OPTIONS file; never rename.
  const char* Name() const override { return "tally.Int64Add"; }
};

}  // namespace

std::shared_ptr<rocksdb::MergeOperator> NewInt64AddOperator() {
  return std::make_shared<Int64AddOperator>();
}

}  // namespace tally::storage
