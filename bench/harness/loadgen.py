"""Runs redis-benchmark and parses its human-readable report (7.0): the
throughput summary, the latency summary (avg/min/p50/p95/p99/max) and the
full "Latency by percentile distribution" (HdrHistogram), from which p99.9
and the latency plots come."""

import re
import subprocess
import time

THROUGHPUT_RE = re.compile(r"throughput summary:\s*([0-9.]+|inf)\s*requests per second")
PERCENTILE_RE = re.compile(r"^\s*([0-9.]+)% <= ([0-9.]+) milliseconds")


class BenchError(Exception):
    pass


def parse_report(text):
    """Returns {rps, avg_ms, min_ms, p50_ms, p95_ms, p99_ms, max_ms, p999_ms,
    distribution: [[percentile, ms], ...]}."""
    lines = re.split(r"[\r\n]+", text)
    result = {}
    for i, line in enumerate(lines):
        m = THROUGHPUT_RE.search(line)
        if m:
            result["rps"] = float(m.group(1))
        if "latency summary" in line and i + 2 < len(lines):
            names = lines[i + 1].split()
            values = lines[i + 2].split()
            for n, v in zip(names, values):
                result[n + "_ms"] = float(v)
    dist = []
    in_dist = False
    for line in lines:
        if line.startswith("Latency by percentile distribution"):
            in_dist = True
            continue
        if in_dist:
            m = PERCENTILE_RE.match(line)
            if m:
                dist.append([float(m.group(1)), float(m.group(2))])
            elif line.strip() and dist:
                break
    if "rps" not in result or "p50_ms" not in result:
        raise BenchError("could not parse redis-benchmark output:\n" + text[-2000:])
    result["distribution"] = dist
    # HdrHistogram prints percentiles at halving steps (..., 99.805, 99.902,
    # ...); p99.9 is the first printed percentile at or above 99.9, which may
    # overstate it slightly, never understate it.
    p999 = [ms for p, ms in dist if p >= 99.9]
    result["p999_ms"] = p999[0] if p999 else result.get("max_ms")
    return result


def run(binary, port, workload, requests, timeout_s):
    """One redis-benchmark run of `workload` (see workloads.py) with a fixed
    request count; the process is killed after timeout_s."""
    cmd = [binary, "-h", "127.0.0.1", "-p", str(port), "-c", str(workload["clients"]),
           "-P", str(workload["pipeline"]), "-n", str(requests)]
    if workload.get("keyspace"):
        cmd += ["-r", str(workload["keyspace"])]
    cmd += workload["command"]
    start = time.monotonic()
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        raise BenchError("redis-benchmark did not finish %d requests in %.0f s" %
                         (requests, timeout_s))
    if out.returncode != 0:
        raise BenchError("redis-benchmark exited %d: %s" % (out.returncode,
                                                            (out.stderr or out.stdout)[-500:]))
    result = parse_report(out.stdout)
    result["requests"] = requests
    result["wall_s"] = round(time.monotonic() - start, 3)
    if result["rps"] == float("inf"):
        # Under 1 ms: too short for redis-benchmark's millisecond clock. Only
        # quick mode's tiny probes get here; the wall time bounds the rate.
        result["rps"] = requests / max(result["wall_s"], 1e-3)
        result["rps_from_wall_clock"] = True
    return result
