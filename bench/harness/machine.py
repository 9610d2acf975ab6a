"""What the numbers were measured on: CPU, memory, kernel, the disk under the
data directories (and how long an fsync takes there, since the durable modes
are bounded by it), and the exact server versions."""

import os
import platform
import statistics
import subprocess
import time


def _run(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return ""


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def mem_total_bytes():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    return 0


def loadavg():
    """The 1-, 5- and 15-minute load averages: on a shared machine, how much
    else was running (ideally about 1 on top of the benchmark itself)."""
    with open("/proc/loadavg") as f:
        return [float(x) for x in f.read().split()[:3]]


def disk_of(path):
    """Device, filesystem type and mount options of the mount holding path."""
    path = os.path.realpath(path)
    best = ("", "", "", "")
    with open("/proc/mounts") as f:
        for line in f:
            dev, mnt, fstype, opts = line.split()[:4]
            if (path == mnt or path.startswith(mnt.rstrip("/") + "/")) and len(mnt) >= len(best[1]):
                best = (dev, mnt, fstype, opts)
    dev = best[0]
    rotational = None
    base = os.path.basename(dev)
    for candidate in (base, base.rstrip("0123456789")):
        p = "/sys/block/%s/queue/rotational" % candidate
        if os.path.exists(p):
            rotational = open(p).read().strip() == "1"
            break
    return {"device": dev, "mount": best[1], "fstype": best[2], "options": best[3],
            "rotational": rotational}


def fsync_probe(directory, seconds=2.0, count=5000):
    """Median and p99 of write(4 KiB)+fdatasync appended to a file in
    `directory`, as an AOF or WAL append is: the floor under every durable
    write of both servers. It runs for `seconds` because virtual disks often
    answer a short burst fast and then throttle."""
    path = os.path.join(directory, "fsync-probe")
    times = []
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        block = b"x" * 4096
        start = time.monotonic()
        for _ in range(count):
            if time.monotonic() - start > seconds:
                break
            t = time.perf_counter()
            os.write(fd, block)
            os.fdatasync(fd)
            times.append((time.perf_counter() - t) * 1000)
    finally:
        os.close(fd)
        os.unlink(path)
    elapsed = time.monotonic() - start
    times.sort()
    return {"samples": len(times), "seconds": round(elapsed, 2),
            "per_second": round(len(times) / elapsed), "p50_ms": round(statistics.median(times), 3),
            "p99_ms": round(times[min(len(times) - 1, int(len(times) * 0.99))], 3)}


def describe(workdir, tally_binary, redis_server, redis_benchmark, fsync_seconds=2.0):
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu_model(),
        "memory_bytes": mem_total_bytes(),
        "kernel": platform.release(),
        "loadavg_at_start": loadavg(),
        "os": _run(["sh", "-c", ". /etc/os-release && echo $PRETTY_NAME"]),
        "disk": disk_of(workdir),
        "fsync": fsync_probe(workdir, fsync_seconds),
        "tally": {
            "binary": os.path.basename(tally_binary),
            "version": (_run([tally_binary, "--version"]).splitlines() or [""])[0],
        },
        "redis_server": {
            "version": _run([redis_server, "--version"]),
            "package": _run(["dpkg-query", "-W", "-f=${Package} ${Version}", "redis-server"]),
        },
        "redis_benchmark": _run([redis_benchmark, "--version"]),
    }
