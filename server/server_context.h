// What commands may see of the server: the keyspace, the live configuration,
// counters for INFO, and a way to ask for shutdown. Commands get this instead
// of the Server itself so they stay free of networking.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string_view>

#include "server/acl.h"
#include "server/client_registry.h"
#include "server/command_stats.h"
#include "server/config.h"
#include "server/in_flight_commands.h"
#include "server/ops_meter.h"
#include "server/slowlog.h"
#include "server/watch_registry.h"
#include "storage/keyspace.h"

namespace tally::server {

struct ServerStats {
  std::atomic<uint64_t> connections_received{0};
  std::atomic<int64_t> connected_clients{0};
  std::atomic<uint64_t> rejected_connections{0};  // refused over maxclients
  std::atomic<uint64_t> keyspace_hits{0};
  std::atomic<uint64_t> keyspace_misses{0};
  // Bytes read from and written to client sockets (RESP and HTTP).
  std::atomic<uint64_t> net_input_bytes{0};
  std::atomic<uint64_t> net_output_bytes{0};
  OpsMeter ops_meter;  // instantaneous_ops_per_sec
  // Unix seconds when the server started: LASTSAVE until the first
  // checkpoint (SAVE/BGSAVE).
  std::atomic<int64_t> last_save_unix{std::chrono::duration_cast<std::chrono::seconds>(
                                          std::chrono::system_clock::now().time_since_epoch())
                                          .count()};
};

struct ServerContext {
  // Also makes the keyspace report every key a write changes to `watches`
  // (WATCH), until the context goes: create it before serving, destroy it
  // after.
  ServerContext(storage::Keyspace& ks, LiveConfig& cfg) : keyspace(ks), config(cfg) {
    const Config snapshot = cfg.Snapshot();
    slowlog.Configure(snapshot.slowlog_log_slower_than, snapshot.slowlog_max_len);
    keyspace.SetWriteObserver([this](std::string_view key) {
      if (!watches.empty()) watches.TouchKey(key);
    });
  }
  ~ServerContext() { keyspace.SetWriteObserver(nullptr); }
  ServerContext(const ServerContext&) = delete;
  ServerContext& operator=(const ServerContext&) = delete;

  storage::Keyspace& keyspace;
  LiveConfig& config;
  acl::UserDirectory users;  // fixed at start-up (main loads them)
  ServerStats stats;
  CommandStats command_stats;  // per command: calls, latency, rejected, failed
  SlowLog slowlog;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  std::atomic<uint64_t> next_client_id{1};
  ClientRegistry clients;      // CLIENT LIST / KILL
  WatchRegistry watches;       // WATCH
  InFlightCommands in_flight;  // WATCH waits for these
  // Stops accepting, lets in-flight commands finish and closes the keyspace.
  std::function<void()> request_shutdown;
};

}  // namespace tally::server
