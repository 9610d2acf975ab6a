#include "server/os_limits.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace tally::server {

int64_t RaiseOpenFileLimit(int64_t maxclients) {
  const rlim_t wanted = static_cast<rlim_t>(maxclients + kReservedFds);
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) {
    spdlog::warn(
        "Unable to obtain the current NOFILE limit ({}), assuming 1024 and setting the max "
        "clients configuration accordingly.",
        std::strerror(errno));
    return std::clamp<int64_t>(1024 - kReservedFds, 0, maxclients);
  }
  const rlim_t original = limit.rlim_cur;
  if (original >= wanted) {
    spdlog::info("open-file limit {}: room for maxclients {}", original, maxclients);
    return maxclients;
  }
  rlim_t got = original;
  int error = 0;
  // Above the hard limit only a privileged process may go: try that first.
  if (limit.rlim_max != RLIM_INFINITY && limit.rlim_max < wanted) {
    const rlimit both{wanted, wanted};
    if (setrlimit(RLIMIT_NOFILE, &both) == 0) {
      got = wanted;
    } else {
      error = errno;
    }
  }
  // Any process may raise its soft limit up to the hard one.
  const rlim_t soft = limit.rlim_max == RLIM_INFINITY ? wanted : std::min(wanted, limit.rlim_max);
  if (got < wanted && soft > original) {
    const rlimit raised{soft, limit.rlim_max};
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) {
      got = soft;
    } else {
      error = errno;
    }
  }
  if (got >= wanted) {
    spdlog::info("Increased maximum number of open files to {} (it was originally set to {}).",
                 wanted, original);
    return maxclients;
  }
  const int64_t fit = std::max<int64_t>(0, static_cast<int64_t>(got) - kReservedFds);
  spdlog::warn("You requested maxclients of {} requiring at least {} max file descriptors.",
               maxclients, wanted);
  spdlog::warn("Server can't set maximum open files to {} because of OS error: {}.", wanted,
               std::strerror(error));
  spdlog::warn(
      "Current maximum open files is {}. maxclients has been reduced to {} to compensate for "
      "low ulimit. If you need higher maxclients increase 'ulimit -n'.",
      got, fit);
  return fit;
}

bool EnableKeepAlive(int fd, int64_t interval_seconds) {
  const int on = 1;
  const int idle = static_cast<int>(std::clamp<int64_t>(interval_seconds, 1, INT32_MAX));
  const int interval = std::max(1, idle / 3);
  const int probes = 3;
  return setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on)) == 0 &&
         setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle)) == 0 &&
         setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof(interval)) == 0 &&
         setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &probes, sizeof(probes)) == 0;
}

}  // namespace tally::server
