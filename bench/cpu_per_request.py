#!/usr/bin/env python3
"""CPU time a server spends per request: a noise-resistant A/B for one change.

    bench/cpu_per_request.py BINARY [BINARY ...] [--mode none] [--requests N]
                             [--workloads incr_hot_p16,get_p16] [--arg=--counter-cache-size --arg=0]

On a shared machine, requests per second move with whatever else runs, and
even Tally/Redis ratios shift between runs. The CPU time (user + system, from
/proc/PID/stat) a server process burns for a fixed number of requests moves
much less: it is what a change saves. Each binary gets a fresh server and data
directory per workload; the workloads are redis-benchmark runs of
bench/harness/workloads.py (GET keys are loaded first, as in run.py). Rounds
alternate the binaries (A B A B ...); the figure is the median over rounds of
microseconds of server CPU per request. `redis` as a BINARY measures Debian's
redis-server in the matching mode.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import servers as srv  # noqa: E402
from harness import workloads as wl  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    """User + system CPU of the process and its threads, in seconds."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def bench_cmd(port, workload, requests):
    cmd = ["redis-benchmark", "-h", "127.0.0.1", "-p", str(port), "-c", str(workload["clients"]),
           "-n", str(requests), "-P", str(workload["pipeline"]), "-q", "--csv"]
    if workload["keyspace"]:
        cmd += ["-r", str(workload["keyspace"])]
    return cmd + workload["command"]


def load_keys(port):
    """The GET/SET/MGET keys, as run.py loads them (pipelined MSET)."""
    script = []
    for start in range(0, wl.GET_KEYS, 1000):
        args = ["MSET"]
        for i in range(start, min(start + 1000, wl.GET_KEYS)):
            args += ["key:%012d" % i, "1"]
        script.append("*%d\r\n" % len(args) + "".join(
            "$%d\r\n%s\r\n" % (len(a), a) for a in args))
    subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", str(port), "--pipe"],
                   input="".join(script).encode(), capture_output=True, check=True, timeout=300)


def measure(binary, mode, workload, requests, extra, workdir, tag):
    name = "redis" if binary == "redis" else "tally"
    path = shutil.which("redis-server") if binary == "redis" else binary
    data = os.path.join(workdir, tag)
    server = srv.Server(name, path, data, os.path.join(workdir, tag + ".log"), mode,
                        tally_args=extra if name == "tally" else ())
    server.start()
    try:
        if workload["base"] in ("get", "mget10", "set"):
            load_keys(server.port)
        # A short warm-up, then the measured run.
        subprocess.run(bench_cmd(server.port, workload, max(1000, requests // 10)),
                       capture_output=True, timeout=600, check=True)
        before = cpu_seconds(server.proc.pid)
        subprocess.run(bench_cmd(server.port, workload, requests), capture_output=True,
                       timeout=600, check=True)
        return (cpu_seconds(server.proc.pid) - before) / requests * 1e6
    finally:
        server.stop()
        shutil.rmtree(data, ignore_errors=True)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("binaries", nargs="+")
    p.add_argument("--mode", default="none", choices=["always", "everysec", "none"])
    p.add_argument("--requests", type=int, default=200_000)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--workloads", default="incr_hot_p16,incr_1m_p16,get_p16")
    p.add_argument("--arg", action="append", default=[],
                   help="extra tally-server argument (repeatable)")
    args = p.parse_args()
    chosen = [w for w in wl.WORKLOADS if w["id"] in args.workloads.split(",")]
    workdir = tempfile.mkdtemp(prefix="tally-cpu-")
    try:
        for workload in chosen:
            samples = {b: [] for b in args.binaries}
            for r in range(args.rounds):
                order = args.binaries if r % 2 == 0 else list(reversed(args.binaries))
                for i, binary in enumerate(order):
                    samples[binary].append(measure(binary, args.mode, workload, args.requests,
                                                   args.arg, workdir, "s%d%d" % (r, i)))
            for binary in args.binaries:
                print("%-14s %-8s %-40s %6.2f us CPU/request (rounds: %s)" % (
                    workload["id"], args.mode, binary, statistics.median(samples[binary]),
                    " ".join("%.2f" % s for s in samples[binary])), flush=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
