// INFO [section ...]: Redis's sections and the fields that clients and
// monitoring tools read (ioredis refuses to connect when INFO fails; it reads
// `loading`), each computed from Tally's real state, plus a `tally` section.
#include <malloc.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <random>
#include <thread>

#include "server/command_table.h"
#include "server/commands/commands.h"
#include "server/commands/common.h"
#include "server/redis_version.h"

namespace tally::server::commands {
namespace {

// A section under construction: "# Title\r\n" then "name:value\r\n" lines.
class Section {
 public:
  explicit Section(std::string_view title) { text_ = "# " + std::string(title) + "\r\n"; }
  void Add(std::string_view name, std::string_view value) {
    text_.append(name);
    text_ += ':';
    text_.append(value);
    text_ += "\r\n";
  }
  void Add(std::string_view name, int64_t value) { Add(name, std::to_string(value)); }
  std::string Take() { return std::move(text_); }

 private:
  std::string text_;
};

// 40 hex characters, fixed for the life of the process (run_id, replid).
const std::string& ProcessRunId() {
  static const std::string id = [] {
    std::random_device device;
    std::mt19937_64 rng(device());
    std::string out;
    static constexpr char kHex[] = "0123456789abcdef";
    for (int i = 0; i < 40; ++i) out += kHex[rng() % 16];
    return out;
  }();
  return id;
}

// Redis's bytesToHuman: "1.49M" style.
std::string Human(double bytes) {
  static constexpr std::array<char, 6> kUnits = {'K', 'M', 'G', 'T', 'P', 'E'};
  char buf[32];
  if (bytes < 1024) {
    std::snprintf(buf, sizeof(buf), "%lluB", static_cast<unsigned long long>(bytes));
    return buf;
  }
  size_t unit = 0;
  bytes /= 1024;
  while (bytes >= 1024 && unit + 1 < kUnits.size()) {
    bytes /= 1024;
    ++unit;
  }
  std::snprintf(buf, sizeof(buf), "%.2f%c", bytes, kUnits[unit]);
  return buf;
}

std::string Seconds6(const timeval& tv) {
  char buf[48];
  std::snprintf(buf, sizeof(buf), "%ld.%06ld", static_cast<long>(tv.tv_sec),
                static_cast<long>(tv.tv_usec));
  return buf;
}

int64_t ResidentBytes() {
  std::ifstream statm("/proc/self/statm");
  int64_t pages_total = 0, pages_resident = 0;
  statm >> pages_total >> pages_resident;
  return pages_resident * sysconf(_SC_PAGESIZE);
}

std::string ServerSection(CommandContext& ctx, const Config& config) {
  Section s("Server");
  utsname uts{};
  uname(&uts);
  const auto now_us = std::chrono::duration_cast<std::chrono::microseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  const int64_t uptime = std::chrono::duration_cast<std::chrono::seconds>(
                             std::chrono::steady_clock::now() - ctx.server.started)
                             .count();
  char exe[4096];
  ssize_t exe_len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  s.Add("redis_version", kRedisCompatVersion);
  s.Add("redis_git_sha1", "00000000");
  s.Add("redis_git_dirty", 0);
  s.Add("redis_mode", "standalone");
  s.Add("tally_version", TALLY_VERSION);
  s.Add("tally_git_sha1", TALLY_GIT_SHA);
  s.Add("os", std::string(uts.sysname) + " " + uts.release + " " + uts.machine);
  s.Add("arch_bits", static_cast<int64_t>(sizeof(void*) * 8));
  s.Add("multiplexing_api", "epoll");
  s.Add("gcc_version", std::to_string(__GNUC__) + "." + std::to_string(__GNUC_MINOR__) + "." +
                           std::to_string(__GNUC_PATCHLEVEL__));
  s.Add("process_id", static_cast<int64_t>(getpid()));
  s.Add("process_supervised", "no");
  s.Add("run_id", ProcessRunId());
  s.Add("tcp_port", config.port);
  s.Add("server_time_usec", now_us);
  s.Add("uptime_in_seconds", uptime);
  s.Add("uptime_in_days", uptime / 86400);
  s.Add("executable", exe_len > 0 ? std::string(exe, static_cast<size_t>(exe_len)) : "");
  s.Add("config_file", config.config_file);
  return s.Take();
}

std::string ClientsSection(CommandContext& ctx, const Config& config) {
  Section s("Clients");
  s.Add("connected_clients", ctx.server.stats.connected_clients.load());
  s.Add("cluster_connections", 0);
  s.Add("maxclients", config.maxclients);
  s.Add("blocked_clients", 0);  // Tally has no blocking commands
  s.Add("tracking_clients", 0);
  return s.Take();
}

std::string MemorySection(CommandContext&, const Config&) {
  Section s("Memory");
  struct mallinfo2 heap = mallinfo2();
  const auto used = static_cast<int64_t>(heap.uordblks + heap.hblkhd);
  const int64_t rss = ResidentBytes();
  const auto total = static_cast<int64_t>(sysconf(_SC_PHYS_PAGES)) * sysconf(_SC_PAGESIZE);
  s.Add("used_memory", used);
  s.Add("used_memory_human", Human(static_cast<double>(used)));
  s.Add("used_memory_rss", rss);
  s.Add("used_memory_rss_human", Human(static_cast<double>(rss)));
  s.Add("total_system_memory", total);
  s.Add("total_system_memory_human", Human(static_cast<double>(total)));
  s.Add("maxmemory", 0);
  s.Add("maxmemory_human", "0B");
  s.Add("maxmemory_policy", "noeviction");
  s.Add("mem_allocator", "libc");
  return s.Take();
}

// Tally's persistence is RocksDB's write-ahead log, which plays the part of
// Redis's AOF; RocksDB checkpoints (SAVE/BGSAVE) play the part of RDB
// snapshots. "Changes since last save" are the writes not yet synced to
// stable storage.
std::string PersistenceSection(CommandContext& ctx, const Config&) {
  Section s("Persistence");
  auto& syncer = ctx.keyspace().syncer();
  const uint64_t durable = syncer.DurableSequence();
  const uint64_t visible = syncer.VisibleSequence();
  s.Add("loading", 0);
  s.Add("async_loading", 0);
  s.Add("rdb_changes_since_last_save",
        static_cast<int64_t>(visible > durable ? visible - durable : 0));
  const storage::CheckpointInfo checkpoint = ctx.keyspace().checkpoint_info();
  s.Add("rdb_bgsave_in_progress", checkpoint.in_progress ? 1 : 0);
  s.Add("rdb_last_save_time", LastSaveUnixSeconds(ctx.server));
  s.Add("rdb_last_bgsave_status", checkpoint.last_ok ? "ok" : "err");
  s.Add("rdb_last_bgsave_time_sec",
        checkpoint.last_seconds < 0 ? -1 : static_cast<int64_t>(checkpoint.last_seconds + 0.5));
  s.Add("rdb_current_bgsave_time_sec", -1);
  s.Add("rdb_saves", static_cast<int64_t>(checkpoint.count));
  s.Add("aof_enabled", 1);
  s.Add("aof_rewrite_in_progress", 0);
  s.Add("aof_rewrite_scheduled", 0);
  s.Add("aof_last_rewrite_time_sec", -1);
  s.Add("aof_current_rewrite_time_sec", -1);
  s.Add("aof_last_bgrewrite_status", "ok");
  s.Add("aof_rewrites", 0);
  s.Add("aof_last_write_status", syncer.failure_count() == 0 ? "ok" : "err");
  return s.Take();
}

std::string StatsSection(CommandContext& ctx, const Config&) {
  Section s("Stats");
  auto& stats = ctx.server.stats;
  const uint64_t processed = ctx.server.command_stats.TotalCalls();
  s.Add("total_connections_received", static_cast<int64_t>(stats.connections_received.load()));
  s.Add("total_commands_processed", static_cast<int64_t>(processed));
  s.Add("instantaneous_ops_per_sec",
        stats.ops_meter.Observe(std::chrono::steady_clock::now(), processed));
  s.Add("total_net_input_bytes", static_cast<int64_t>(stats.net_input_bytes.load()));
  s.Add("total_net_output_bytes", static_cast<int64_t>(stats.net_output_bytes.load()));
  s.Add("rejected_connections", static_cast<int64_t>(stats.rejected_connections.load()));
  s.Add("evicted_keys", 0);
  s.Add("keyspace_hits", static_cast<int64_t>(stats.keyspace_hits.load()));
  s.Add("keyspace_misses", static_cast<int64_t>(stats.keyspace_misses.load()));
  s.Add("pubsub_channels", 0);
  s.Add("pubsub_patterns", 0);
  return s.Take();
}

std::string ReplicationSection(CommandContext&, const Config&) {
  Section s("Replication");
  s.Add("role", "master");
  s.Add("connected_slaves", 0);
  s.Add("master_failover_state", "no-failover");
  s.Add("master_replid", ProcessRunId());
  s.Add("master_replid2", std::string(40, '0'));
  s.Add("master_repl_offset", 0);
  s.Add("second_repl_offset", -1);
  s.Add("repl_backlog_active", 0);
  s.Add("repl_backlog_first_byte_offset", 0);
  s.Add("repl_backlog_histlen", 0);
  return s.Take();
}

std::string CpuSection(CommandContext&, const Config&) {
  Section s("CPU");
  rusage self{}, children{};
  getrusage(RUSAGE_SELF, &self);
  getrusage(RUSAGE_CHILDREN, &children);
  s.Add("used_cpu_sys", Seconds6(self.ru_stime));
  s.Add("used_cpu_user", Seconds6(self.ru_utime));
  s.Add("used_cpu_sys_children", Seconds6(children.ru_stime));
  s.Add("used_cpu_user_children", Seconds6(children.ru_utime));
  return s.Take();
}

std::string ModulesSection(CommandContext&, const Config&) { return Section("Modules").Take(); }

// One line per command that was called, rejected or failed since the start
// or CONFIG RESETSTAT, exactly as Redis 7 prints it.
std::string CommandStatsSection(CommandContext& ctx, const Config&) {
  Section s("Commandstats");
  for (const auto& totals : ctx.server.command_stats.Collect()) {
    const uint64_t calls = totals.calls();
    const uint64_t usec = totals.latency_ns.sum / 1000;
    char line[256];
    std::snprintf(line, sizeof(line),
                  "calls=%llu,usec=%llu,usec_per_call=%.2f,rejected_calls=%llu,failed_calls=%llu",
                  static_cast<unsigned long long>(calls), static_cast<unsigned long long>(usec),
                  calls == 0 ? 0.0 : static_cast<double>(usec) / static_cast<double>(calls),
                  static_cast<unsigned long long>(totals.rejected),
                  static_cast<unsigned long long>(totals.failed));
    s.Add("cmdstat_" + std::string(totals.spec->name), line);
  }
  return s.Take();
}

// The 50th, 99th and 99.9th percentile latencies of every command that ran,
// in microseconds, from its histogram (Redis's default
// latency-tracking-info-percentiles, in Redis's format).
std::string LatencyStatsSection(CommandContext& ctx, const Config&) {
  Section s("Latencystats");
  for (const auto& totals : ctx.server.command_stats.Collect()) {
    if (totals.calls() == 0) continue;
    char line[160];
    std::snprintf(line, sizeof(line), "p50=%.3f,p99=%.3f,p99.9=%.3f",
                  static_cast<double>(totals.latency_ns.ValueAtPercentile(50)) / 1000.0,
                  static_cast<double>(totals.latency_ns.ValueAtPercentile(99)) / 1000.0,
                  static_cast<double>(totals.latency_ns.ValueAtPercentile(99.9)) / 1000.0);
    s.Add("latency_percentiles_usec_" + std::string(totals.spec->name), line);
  }
  return s.Take();
}

std::string ClusterSection(CommandContext&, const Config&) {
  Section s("Cluster");
  s.Add("cluster_enabled", 0);
  return s.Take();
}

// Like Redis, db0 is listed only when it has keys. Tally keeps no sample of
// TTLs to estimate their average from, so avg_ttl is 0 ("unknown" in Redis).
std::string KeyspaceSection(CommandContext& ctx, const Config&) {
  Section s("Keyspace");
  const uint64_t keys = ctx.keyspace().Size();
  if (keys > 0) {
    s.Add("db0", "keys=" + std::to_string(keys) +
                     ",expires=" + std::to_string(ctx.keyspace().ExpiringSize()) + ",avg_ttl=0");
  }
  return s.Take();
}

std::string TallySection(CommandContext& ctx, const Config& config) {
  Section s("Tally");
  auto& syncer = ctx.keyspace().syncer();
  s.Add("durability", config.durability);
  s.Add("wal_syncs", static_cast<int64_t>(syncer.sync_count()));
  s.Add("wal_sync_failures", static_cast<int64_t>(syncer.failure_count()));
  s.Add("data_dir", config.dir);
  const unsigned cores = std::thread::hardware_concurrency();
  s.Add("io_threads", config.threads > 0 ? config.threads : std::max(1u, cores));
  return s.Take();
}

struct SectionDef {
  std::string_view name;
  std::string (*build)(CommandContext&, const Config&);
  bool in_default = true;  // else only when named, or with "all"/"everything"
};
// Output order, as Redis prints its sections.
constexpr SectionDef kSections[] = {
    {"server", ServerSection},
    {"clients", ClientsSection},
    {"memory", MemorySection},
    {"persistence", PersistenceSection},
    {"stats", StatsSection},
    {"replication", ReplicationSection},
    {"cpu", CpuSection},
    {"modules", ModulesSection},
    {"commandstats", CommandStatsSection, false},
    {"latencystats", LatencyStatsSection, false},
    {"cluster", ClusterSection},
    {"keyspace", KeyspaceSection},
    {"tally", TallySection},
};

}  // namespace

// INFO [section [section ...]]: no argument and "default" select the
// default sections, "all" and "everything" every section (commandstats and
// latencystats too); unknown names select nothing (an empty reply, as in
// Redis).
void Info(CommandContext& ctx) {
  std::array<bool, std::size(kSections)> wanted{};
  auto select_default = [&] {
    for (size_t j = 0; j < std::size(kSections); ++j) wanted[j] |= kSections[j].in_default;
  };
  if (ctx.argc() == 1) select_default();
  for (size_t i = 1; i < ctx.argc(); ++i) {
    std::string_view name = ctx.arg(i);
    if (EqualsNoCase(name, "default")) select_default();
    if (EqualsNoCase(name, "all") || EqualsNoCase(name, "everything")) wanted.fill(true);
    for (size_t j = 0; j < std::size(kSections); ++j) {
      if (EqualsNoCase(name, kSections[j].name)) wanted[j] = true;
    }
  }
  const Config config = ctx.server.config.Snapshot();
  std::string out;
  for (size_t j = 0; j < std::size(kSections); ++j) {
    if (!wanted[j]) continue;
    if (!out.empty()) out += "\r\n";
    out += kSections[j].build(ctx, config);
  }
  ctx.reply.Verbatim("txt", out);
}

}  // namespace tally::server::commands
