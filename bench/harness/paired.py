"""Paired measurement: the same workload on Tally and on Redis, interleaved
(A B, then B A in the next round, ...) so drift on a shared machine hits both
alike. The figure is the median over rounds of the per-round ratio."""

import contextlib
import statistics
import time

from . import loadgen, resp, workloads as wl


class Pair:
    def __init__(self, tally, redis):
        self.tally = tally
        self.redis = redis
        self.servers = [tally, redis]

    @contextlib.contextmanager
    def alone(self, server):
        """Runs the block with `server` running and the other one paused."""
        for s in self.servers:
            if s is not server:
                s.pause()
        server.resume()
        try:
            yield server
        finally:
            for s in self.servers:
                s.resume()

    def order(self, round_index):
        return self.servers if round_index % 2 == 0 else self.servers[::-1]


class Settings:
    def __init__(self, redis_benchmark, rounds, target_s, quick, max_requests=5_000_000):
        self.redis_benchmark = redis_benchmark
        self.rounds = rounds
        self.target_s = target_s
        self.quick = quick
        self.max_requests = max_requests
        # A probe run must last this long for its rate to size the real runs.
        self.probe_s = 0.05 if quick else 0.5
        # Hard bound on one redis-benchmark run.
        self.timeout_s = 90.0 if quick else max(120.0, 20 * target_s)


def check_command(server, workload):
    """Sends the workload's command once; returns an error text or None."""
    with server.connect(timeout=30) as c:
        c.send_raw(resp.Connection.encode(*wl.sample_command(workload)))
        reply = c.read_reply()
    if isinstance(reply, resp.RespError):
        return "%s rejects %s: %s" % (server.name, " ".join(workload["command"][:2]), reply)
    return None


def size_requests(pair, workload, settings, log):
    """Request count per server so that one run lasts about target_s: a few
    growing probe runs (which also warm the server up) measure its rate."""
    sizes = {}
    floor = wl.min_requests(workload)
    for server in pair.servers:
        n = floor if settings.quick else max(floor, 500)
        with pair.alone(server):
            while True:
                r = loadgen.run(settings.redis_benchmark, server.port, workload, n,
                                settings.timeout_s)
                if r["wall_s"] >= settings.probe_s or n >= settings.max_requests:
                    break
                n = min(settings.max_requests, n * 8)
        sizes[server.name] = int(min(settings.max_requests,
                                     max(floor, r["rps"] * settings.target_s)))
        log("    probe %-5s %-22s %10.0f rps -> %d requests/run" %
            (server.name, workload["short"], r["rps"], sizes[server.name]))
    return sizes


def _median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def summarize(rounds):
    """Medians over rounds of one server's runs of one workload."""
    ok = [r for r in rounds if "error" not in r]
    if not ok:
        return {"error": rounds[-1]["error"] if rounds else "no runs"}
    out = {"rounds": len(ok)}
    for key in ("rps", "p50_ms", "p99_ms", "p999_ms", "avg_ms", "max_ms"):
        out[key] = _median([r.get(key) for r in ok])
    # The run with the median throughput supplies the latency curve.
    by_rps = sorted(ok, key=lambda r: r["rps"])
    out["distribution"] = by_rps[len(by_rps) // 2].get("distribution", [])
    return out


def run_workloads(pair, workloads, settings, log):
    """Every workload on both servers, settings.rounds times, interleaved.
    Returns {workload id: {"tally": summary, "redis": summary, "ratio": ...}}."""
    results = {}
    sizes = {}
    for w in workloads:
        errors = [e for e in (check_command(s, w) for s in pair.servers) if e]
        if errors:
            results[w["id"]] = {"error": "; ".join(errors)}
            log("    %-22s skipped: %s" % (w["short"], results[w["id"]]["error"]))
            continue
        try:
            sizes[w["id"]] = size_requests(pair, w, settings, log)
        except loadgen.BenchError as e:
            results[w["id"]] = {"error": str(e)}
            log("    %-22s probe failed: %s" % (w["short"], e))
    runs = {w["id"]: {"tally": [], "redis": []} for w in workloads if w["id"] in sizes}
    for rnd in range(settings.rounds):
        t0 = time.monotonic()
        for w in workloads:
            if w["id"] not in sizes:
                continue
            for server in pair.order(rnd):
                with pair.alone(server):
                    try:
                        r = loadgen.run(settings.redis_benchmark, server.port, w,
                                        sizes[w["id"]][server.name], settings.timeout_s)
                        if w["kind"] != "latency":
                            r.pop("distribution", None)
                    except loadgen.BenchError as e:
                        r = {"error": str(e)}
                        log("    %s %s round %d: %s" % (server.name, w["short"], rnd + 1, e))
                runs[w["id"]][server.name].append(r)
        log("  round %d/%d done in %.0f s" % (rnd + 1, settings.rounds, time.monotonic() - t0))
    for wid, by_server in runs.items():
        results[wid] = summarize_pair(by_server)
    return results


def summarize_pair(by_server):
    """One workload's entry from its runs ({"tally": [...], "redis": [...]},
    round by round). The ratio is the median of the per-round ratios: the two
    runs of a round are back to back, so slow drift in the machine's speed
    cancels within a round, where a ratio of overall medians would keep it."""
    entry = {name: summarize(rs) for name, rs in by_server.items()}
    entry["runs"] = by_server
    t, r = entry["tally"], entry["redis"]
    if "error" in t or "error" in r:
        entry["error"] = t.get("error") or r.get("error")
        return entry
    per_round = [a["rps"] / b["rps"] for a, b in zip(by_server["tally"], by_server["redis"])
                 if "rps" in a and "rps" in b]
    if not per_round:
        entry["error"] = "no round with both servers measured"
        return entry
    entry["ratio"] = statistics.median(per_round)
    entry["ratio_min"] = min(per_round)
    entry["ratio_max"] = max(per_round)
    entry["ratio_of_medians"] = t["rps"] / r["rps"]
    return entry
