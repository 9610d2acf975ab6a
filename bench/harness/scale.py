"""The scale workload: N counters in each server (default 10M), then memory,
disk, restart-to-first-reply, KEYS with 100 matches, a full SCAN pass, and
INCR throughput over all N keys against the hot-key figure. Both servers run
their `always` configuration (Tally's default; Redis appendfsync always)."""

import statistics
import time

from . import load, paired, resp
from . import workloads as wl

MATCHES = 100
PATTERN = "usage:*"
PROBE_KEY = "usage:tool-%04d" % 42  # value: load.counter_value(42)


def _info_field(conn, section, field):
    text = conn.call("INFO", section).decode()
    for line in text.splitlines():
        if line.startswith(field + ":"):
            return line.split(":", 1)[1].strip()
    return None


def _settle(server, log, deadline_s):
    """Lets background work from the load finish before memory is read: for
    Redis an AOF rewrite the load may have triggered; for both a short pause."""
    start = time.monotonic()
    if server.name == "redis":
        with server.connect() as c:
            while _info_field(c, "persistence", "aof_rewrite_in_progress") == "1":
                if time.monotonic() - start > deadline_s:
                    log("    redis: AOF rewrite still running after %.0f s" % deadline_s)
                    break
                time.sleep(0.5)
    time.sleep(3.0)


def _timed_keys(pair, reps, budget_s, log):
    samples = {"tally": [], "redis": []}
    spent = {"tally": 0.0, "redis": 0.0}
    for rep in range(reps):
        for server in pair.order(rep):
            if spent[server.name] > budget_s:
                continue
            with pair.alone(server), server.connect() as c:
                t = time.perf_counter()
                keys = c.call("KEYS", PATTERN)
                dt = time.perf_counter() - t
            if len(keys) != MATCHES:
                raise RuntimeError("%s: KEYS %s returned %d keys, expected %d" %
                                   (server.name, PATTERN, len(keys), MATCHES))
            samples[server.name].append(dt * 1000)
            spent[server.name] += dt
    out = {}
    for name, s in samples.items():
        ordered = sorted(s)
        out[name] = {"samples": len(s), "median_ms": statistics.median(s),
                     "min_ms": ordered[0], "max_ms": ordered[-1], "first_ms": s[0]}
    log("    KEYS %s: tally %.3f ms, redis %.3f ms (median of %d/%d)" %
        (PATTERN, out["tally"]["median_ms"], out["redis"]["median_ms"],
         out["tally"]["samples"], out["redis"]["samples"]))
    return out


def _scan_pass(server, deadline_s):
    start = time.monotonic()
    cursor = b"0"
    seen = 0
    calls = 0
    with server.connect() as c:
        while True:
            cursor, keys = c.call("SCAN", cursor, "COUNT", 1000)
            seen += len(keys)
            calls += 1
            if cursor == b"0":
                break
            if time.monotonic() - start > deadline_s:
                return {"error": "SCAN pass unfinished after %.0f s (%d keys)" % (deadline_s, seen)}
    return {"seconds": time.monotonic() - start, "keys_returned": seen, "calls": calls}


def run(pair, n_keys, settings, log, quick):
    out = {"keys": n_keys, "matches": MATCHES, "mode": "always", "servers": {}}
    load_deadline = 600.0 if quick else 7200.0
    for server in pair.servers:
        with pair.alone(server):
            with server.connect() as c:
                keys, secs = load.load(c, load.scale_keys(n_keys, MATCHES), load_deadline)
                dbsize = c.call("DBSIZE")
            if dbsize != n_keys:
                raise RuntimeError("%s holds %d keys after loading %d" % (server.name, dbsize, n_keys))
            _settle(server, log, 600.0)
            out["servers"][server.name] = {"load_s": secs, "load_keys_per_s": keys / secs,
                                           "rss_after_load_bytes": server.rss_bytes()}
            log("    %s: loaded %d keys in %.1f s, RSS %.1f MiB" %
                (server.name, keys, secs, out["servers"][server.name]["rss_after_load_bytes"] / 2**20))

    out["keys_cmd"] = _timed_keys(pair, 5 if quick else 21, 10.0 if quick else 60.0, log)

    for server in pair.servers:
        with pair.alone(server):
            r = _scan_pass(server, 120.0 if quick else 1800.0)
        out["servers"][server.name]["scan"] = r
        log("    %s: SCAN pass %s" % (server.name, r))

    incr_all = {
        "id": "incr_all_p1", "base": "incr_all", "short": "incr all-N P1",
        "title": "INCR over all %d keys, %d clients, pipeline 1" % (n_keys - MATCHES, wl.CLIENTS),
        "command": ["INCR", "c:__rand_int__"], "keyspace": n_keys - MATCHES,
        "clients": wl.CLIENTS, "pipeline": 1, "kind": "throughput"}
    incr_hot = dict(next(w for w in wl.WORKLOADS if w["id"] == "incr_hot_p1"))
    out["incr"] = paired.run_workloads(pair, [incr_hot, incr_all], settings, log)

    # Restart: a clean stop (SIGTERM), the data at rest, then a new process
    # timed from spawn to the first correct GET reply (Redis answers -LOADING
    # until its AOF is read; that does not count as a reply).
    expected = load.counter_value(42)  # the value scale_keys gave usage:tool-0042
    for server in pair.servers:
        s = out["servers"][server.name]
        with pair.alone(server):
            s["shutdown_s"] = server.stop()
            s["disk_bytes"] = server.disk_bytes()
            s["restart_to_first_reply_s"] = server.start(
                ready_deadline_s=600.0 if quick else 3600.0, probe=("GET", PROBE_KEY),
                expect=expected)
            s["rss_after_restart_bytes"] = server.rss_bytes()
        log("    %s: disk %.1f MiB, restart to first reply %.3f s" %
            (server.name, s["disk_bytes"] / 2**20, s["restart_to_first_reply_s"]))
    t, r = out["servers"]["tally"], out["servers"]["redis"]
    out["rss_ratio"] = t["rss_after_load_bytes"] / r["rss_after_load_bytes"]
    return out
