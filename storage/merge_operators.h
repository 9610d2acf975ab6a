// Merge operators for the meta column family.
#pragma once

#include <memory>

#include <rocksdb/merge_operator.h>

namespace tally::storage {

// Values and operands are int64 little-endian; merging adds them. Lets every
// write batch adjust the key counts with a blind Merge instead of a
// read-modify-write of a shared counter.
std::shared_ptr<rocksdb::MergeOperator> NewInt64AddOperator();

}  // namespace tally::storage
