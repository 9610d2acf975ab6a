// The Prometheus exposition of the server's state (GET /metrics): commands
// by name with latency histograms, clients, keys, network bytes, the WAL
// group commit, RocksDB's figures and the process's. Text format 0.0.4:
// every metric family has its # HELP and # TYPE lines, counters end in
// _total, histograms have cumulative _bucket{le=...} series ending with
// le="+Inf", then _sum and _count.
#pragma once

#include <string>
#include <string_view>

#include "server/server_context.h"

namespace tally::server {

// The Content-Type of the exposition.
inline constexpr std::string_view kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";

// The whole exposition, as of now. Safe on any thread; takes a few
// microseconds per command that has been called.
std::string RenderMetrics(ServerContext& server);

}  // namespace tally::server
