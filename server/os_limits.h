// What the client limits need from the operating system: enough file
// descriptors for maxclients, and TCP keepalive on client sockets. Both
// follow Redis (adjustOpenFilesLimit and anetKeepAlive in its sources).
#pragma once

#include <cstdint>

namespace tally::server {

// Descriptors kept for everything but RESP clients: RocksDB's files, the
// listeners, the REST API's connections, the I/O threads' event fds.
inline constexpr int64_t kReservedFds = 128;

// Raises this process's open-file limit (RLIMIT_NOFILE) to maxclients +
// kReservedFds if it is lower: the soft limit up to the hard one, and beyond
// that where the process is allowed to. Logs what it changed. Returns how many
// clients fit under the limit now in force: `maxclients` when it was raised
// far enough (or already was), otherwise fewer, at least 0.
int64_t RaiseOpenFileLimit(int64_t maxclients);

// Turns on TCP keepalive for socket `fd`: the first probe after
// `interval_seconds` of silence, then probes every third of that, and the
// connection is dropped after 3 unanswered ones, as Redis does. Returns false
// if the system refused an option.
bool EnableKeepAlive(int fd, int64_t interval_seconds);

}  // namespace tally::server
