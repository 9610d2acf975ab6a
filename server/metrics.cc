#include "server/metrics.h"

#include <sys/resource.h>
#include <unistd.h>

#include <charconv>
#include <chrono>
#include <filesystem>
#include <fstream>

#include "server/command_table.h"

namespace tally::server {
namespace {

using storage::HistogramSnapshot;

// A float as Prometheus parses it: shortest round-trip form.
std::string Float(double value) {
  char buf[64];
  auto result = std::to_chars(buf, buf + sizeof(buf), value);
  return std::string(buf, result.ptr);
}

// Builds the text one family at a time.
class Exposition {
 public:
  // Starts a family: its # HELP and # TYPE lines.
  void Family(std::string_view name, std::string_view type, std::string_view help) {
    out_ += "# HELP ";
    out_ += name;
    out_ += ' ';
    out_ += help;  // no backslash or newline in our help texts
    out_ += "\n# TYPE ";
    out_ += name;
    out_ += ' ';
    out_ += type;
    out_ += '\n';
  }
  // One sample; `labels` is empty or `name="value",...` already escaped.
  void Sample(std::string_view name, std::string_view labels, std::string_view value) {
    out_ += name;
    if (!labels.empty()) {
      out_ += '{';
      out_ += labels;
      out_ += '}';
    }
    out_ += ' ';
    out_ += value;
    out_ += '\n';
  }
  void Sample(std::string_view name, std::string_view labels, uint64_t value) {
    Sample(name, labels, std::to_string(value));
  }
  // A family with one unlabelled sample.
  void Single(std::string_view name, std::string_view type, std::string_view help, uint64_t value) {
    Family(name, type, help);
    Sample(name, "", value);
  }
  void Single(std::string_view name, std::string_view type, std::string_view help, double value) {
    Family(name, type, help);
    Sample(name, "", Float(value));
  }
  // The samples of one histogram: a bucket at each power of two from
  // 2^first_exp to 2^last_exp (all bucket boundaries of `h`), each bound
  // multiplied by `scale` (1e-9 turns nanoseconds into seconds).
  void Histogram(std::string_view name, const std::string& labels, const HistogramSnapshot& h,
                 int first_exp, int last_exp, double scale) {
    const std::string prefix = labels.empty() ? "" : labels + ",";
    const std::string bucket = std::string(name) + "_bucket";
    for (int exp = first_exp; exp <= last_exp; ++exp) {
      const uint64_t bound = uint64_t{1} << exp;
      Sample(bucket, prefix + "le=\"" + Float(static_cast<double>(bound) * scale) + "\"",
             h.CountAtMost(bound));
    }
    const uint64_t count = h.Count();
    Sample(bucket, prefix + "le=\"+Inf\"", count);
    Sample(std::string(name) + "_sum", labels, Float(static_cast<double>(h.sum) * scale));
    Sample(std::string(name) + "_count", labels, count);
  }
  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
};

// A label value with \, " and newline escaped.
std::string Label(std::string_view name, std::string_view value) {
  std::string out(name);
  out += "=\"";
  for (char c : value) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  out += '"';
  return out;
}

uint64_t ResidentBytes() {
  std::ifstream statm("/proc/self/statm");
  uint64_t pages_total = 0, pages_resident = 0;
  statm >> pages_total >> pages_resident;
  return pages_resident * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

uint64_t OpenFds() {
  std::error_code error;
  uint64_t count = 0;
  for (std::filesystem::directory_iterator it("/proc/self/fd", error), end; !error && it != end;
       it.increment(error)) {
    ++count;
  }
  return count;
}

double CpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& tv) {
    return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6;
  };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

void CommandMetrics(Exposition& out, ServerContext& server) {
  const auto commands = server.command_stats.Collect();
  out.Family("tally_commands_total", "counter",
             "Commands run, by name (subcommands as container|subcommand).");
  for (const auto& c : commands) {
    out.Sample("tally_commands_total", Label("cmd", c.spec->name), c.calls());
  }
  out.Family("tally_command_rejected_total", "counter",
             "Calls refused before running (arity, NOAUTH, MULTI rules), by command.");
  for (const auto& c : commands) {
    out.Sample("tally_command_rejected_total", Label("cmd", c.spec->name), c.rejected);
  }
  out.Family("tally_command_failed_total", "counter",
             "Calls that ran and replied with an error, by command.");
  for (const auto& c : commands) {
    out.Sample("tally_command_failed_total", Label("cmd", c.spec->name), c.failed);
  }
  out.Family("tally_command_duration_seconds", "histogram",
             "Time spent running each command (without waiting for the WAL sync).");
  for (const auto& c : commands) {
    // 1.024 us to 17.2 s, by powers of two.
    out.Histogram("tally_command_duration_seconds", Label("cmd", c.spec->name), c.latency_ns, 10,
                  34, 1e-9);
  }
}

void StorageMetrics(Exposition& out, ServerContext& server) {
  storage::Keyspace& keyspace = server.keyspace;
  out.Single("tally_keys", "gauge", "Keys in the keyspace (DBSIZE).", keyspace.Size());
  out.Single("tally_expiring_keys", "gauge", "Keys with a time to live.", keyspace.ExpiringSize());

  storage::WalSyncer& syncer = keyspace.syncer();
  out.Single("tally_wal_syncs_total", "counter", "Successful fsyncs of the write-ahead log.",
             syncer.sync_count());
  out.Single("tally_wal_sync_failures_total", "counter", "Failed fsyncs of the write-ahead log.",
             syncer.failure_count());
  const uint64_t visible = syncer.VisibleSequence(), durable = syncer.DurableSequence();
  out.Single("tally_wal_unsynced_writes", "gauge",
             "Writes in the write-ahead log that are not fsynced yet.",
             visible > durable ? visible - durable : 0);
  out.Family("tally_wal_sync_batch_writes", "histogram",
             "Writes made durable per WAL fsync (group commit batch size).");
  out.Histogram("tally_wal_sync_batch_writes", "", syncer.batch_sizes(), 0, 16, 1);
  out.Family("tally_wal_sync_duration_seconds", "histogram", "Time one WAL fsync takes.");
  out.Histogram("tally_wal_sync_duration_seconds", "", syncer.sync_durations_ns(), 14, 34, 1e-9);
  out.Single("tally_disk_failing", "gauge",
             "1 while writes are refused because the data directory's disk failed.",
             uint64_t{keyspace.DiskError().empty() ? 0u : 1u});

  const storage::StorageStats rocks = keyspace.Stats();
  out.Single("tally_rocksdb_memtable_bytes", "gauge", "RocksDB memtables (active and immutable).",
             rocks.memtable_bytes);
  out.Single("tally_rocksdb_sst_bytes", "gauge", "Total size of RocksDB's SST files.",
             rocks.sst_bytes);
  out.Single("tally_rocksdb_pending_compaction_bytes", "gauge",
             "RocksDB's estimate of the bytes compaction still has to rewrite.",
             rocks.pending_compaction_bytes);
  out.Single("tally_rocksdb_compactions_pending", "gauge",
             "Column families waiting for a compaction.", rocks.compactions_pending);
  out.Single("tally_rocksdb_running_compactions", "gauge", "Compactions running now.",
             rocks.running_compactions);
  out.Single("tally_rocksdb_running_flushes", "gauge", "Memtable flushes running now.",
             rocks.running_flushes);
  out.Single("tally_rocksdb_block_cache_hits_total", "counter", "Block cache lookups that hit.",
             rocks.block_cache_hits);
  out.Single("tally_rocksdb_block_cache_misses_total", "counter",
             "Block cache lookups that missed (read from the SST file).", rocks.block_cache_misses);
  const uint64_t lookups = rocks.block_cache_hits + rocks.block_cache_misses;
  out.Single("tally_rocksdb_block_cache_hit_ratio", "gauge",
             "Block cache hits per lookup since start (0 before the first lookup).",
             lookups == 0
                 ? 0.0
                 : static_cast<double>(rocks.block_cache_hits) / static_cast<double>(lookups));
  out.Single("tally_rocksdb_block_cache_usage_bytes", "gauge", "Memory the block cache holds.",
             rocks.block_cache_usage_bytes);
  out.Single("tally_rocksdb_block_cache_capacity_bytes", "gauge", "The block cache's capacity.",
             rocks.block_cache_capacity_bytes);
}

}  // namespace

std::string RenderMetrics(ServerContext& server) {
  Exposition out;
  auto& stats = server.stats;
  out.Family("tally_build_info", "gauge", "Always 1; the labels name the running build.");
  out.Sample("tally_build_info",
             Label("version", TALLY_VERSION) + "," + Label("git_sha", TALLY_GIT_SHA), uint64_t{1});
  const auto uptime = std::chrono::steady_clock::now() - server.started;
  const double start_unix =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch() - uptime)
          .count();
  out.Single("process_start_time_seconds", "gauge", "Start time of the process (Unix seconds).",
             start_unix);
  out.Single("process_resident_memory_bytes", "gauge", "Resident set size of the process.",
             ResidentBytes());
  out.Single("process_cpu_seconds_total", "counter", "User and system CPU time of the process.",
             CpuSeconds());
  out.Single("process_open_fds", "gauge", "Open file descriptors.", OpenFds());

  out.Single("tally_connected_clients", "gauge", "RESP client connections open now.",
             static_cast<uint64_t>(std::max<int64_t>(0, stats.connected_clients.load())));
  out.Single("tally_connections_received_total", "counter", "RESP connections accepted.",
             stats.connections_received.load());
  out.Single("tally_net_input_bytes_total", "counter",
             "Bytes read from client connections (RESP and HTTP).", stats.net_input_bytes.load());
  out.Single("tally_net_output_bytes_total", "counter",
             "Bytes written to client connections (RESP and HTTP).", stats.net_output_bytes.load());
  out.Single("tally_keyspace_hits_total", "counter", "Key lookups that found the key.",
             stats.keyspace_hits.load());
  out.Single("tally_keyspace_misses_total", "counter", "Key lookups that found no key.",
             stats.keyspace_misses.load());
  out.Single("tally_slowlog_length", "gauge", "Entries in the slow log (SLOWLOG LEN).",
             static_cast<uint64_t>(server.slowlog.Length()));
  CommandMetrics(out, server);
  StorageMetrics(out, server);
  return out.Take();
}

}  // namespace tally::server
