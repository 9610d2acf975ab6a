"""The goals from the benchmark issue, checked against a result set, and the
Markdown report."""

import datetime

from . import servers as srv
from . import workloads as wl

MODES = ["always", "everysec", "none"]
SCALE_GOAL_KEYS = 10_000_000

# (mode, workload ids, minimum Tally/Redis ratio)
RATIO_GOALS = [
    ("always", ["incr_hot_p1", "incr_hot_p16", "incr_1m_p1", "incr_1m_p16"], 1.5),
    ("everysec", ["incr_hot_p1", "incr_hot_p16", "incr_1m_p1", "incr_1m_p16"], 1.0),
    ("none", ["get_p1", "get_p16", "incr_hot_p1", "incr_hot_p16", "incr_1m_p1", "incr_1m_p16"], 1.0),
]


def _status(ok):
    return "met" if ok else "not met"


def goals(results):
    out = []
    by_id = {w["id"]: w for w in wl.WORKLOADS}
    for mode, ids, target in RATIO_GOALS:
        m = results["modes"].get(mode, {})
        for wid in ids:
            goal = {"goal": "%s: %s vs Redis %s" % (by_id[wid]["title"], mode,
                                                     srv.REDIS_MODE_LABEL[mode]),
                    "target": "ratio >= %.1f" % target}
            entry = m.get("workloads", {}).get(wid)
            if not m.get("available"):
                goal.update(measured=None, status="n/a", note=m.get("note", "not run"))
            elif not entry or "ratio" not in entry:
                goal.update(measured=None, status="n/a",
                            note=(entry or {}).get("error", "not run"))
            else:
                goal.update(measured=round(entry["ratio"], 3),
                            status=_status(entry["ratio"] >= target))
            out.append(goal)
    scale = results.get("scale")
    at = ""
    if scale and "error" not in scale:
        n = scale["keys"]
        if n != SCALE_GOAL_KEYS:
            at = "measured at %s keys; the goal is stated for 10M" % format(n, ",")
        t = scale["servers"]["tally"]
        keys_ms = scale["keys_cmd"]["tally"]["median_ms"]
        rows = [
            ("10M counters: Tally RSS vs Redis RSS", "ratio <= 0.25",
             round(scale["rss_ratio"], 3), scale["rss_ratio"] <= 0.25),
            ("10M counters: Tally restart to first reply", "<= 1 s",
             round(t["restart_to_first_reply_s"], 3), t["restart_to_first_reply_s"] <= 1.0),
            ("10M counters: Tally `KEYS usage:*` (100 matches), median", "<= 1 ms",
             round(keys_ms, 3), keys_ms <= 1.0),
        ]
        for name, target, measured, ok in rows:
            g = {"goal": name, "target": target, "measured": measured, "status": _status(ok)}
            if at:
                g["note"] = at
            out.append(g)
    else:
        for name, target in [("10M counters: Tally RSS vs Redis RSS", "ratio <= 0.25"),
                             ("10M counters: Tally restart to first reply", "<= 1 s"),
                             ("10M counters: Tally `KEYS usage:*` (100 matches)", "<= 1 ms")]:
            out.append({"goal": name, "target": target, "measured": None, "status": "n/a",
                        "note": (scale or {}).get("error", "scale workload not run")})
    return out


def _rps(v):
    return "—" if v is None else format(round(v), ",")


def _ms(v):
    return "—" if v is None else ("%.3f" % v if v < 10 else "%.1f" % v)


def _mib(b):
    return "%.1f MiB" % (b / 2**20)


def markdown(results):
    meta, env = results["meta"], results["machine"]
    lines = ["# Tally vs Redis: benchmark results", ""]
    lines.append("Run %s, Tally %s%s, %s; %d round(s) per workload, about %.1f s per run, "
                 "interleaved (A B, then B A). Throughput and latency are medians over rounds; the "
                 "ratio is Tally/Redis throughput (above 1: Tally faster), the median of the "
                 "per-round ratios, with their range."
                 % (meta["started"], meta["tally_version"],
                    " (uncommitted changes)" if meta.get("tree_dirty") else "",
                    "quick mode (smoke test: counts too small to mean anything)"
                    if meta["quick"] else "full run", meta["rounds"], meta["target_s"]))
    lines.append("")
    fs = env["fsync"]
    lines.append("Machine: %d cores (%s), %.1f GiB memory, Linux %s, %s; data on %s (%s%s); "
                 "appending 4 KiB + fdatasync there for %.1f s: %d per second, p50 %.3f ms, "
                 "p99 %.3f ms. Redis: %s (%s). Load generator: redis-benchmark %s." % (
                     env["nproc"], env["cpu"], env["memory_bytes"] / 2**30, env["kernel"],
                     env["os"], env["disk"]["device"], env["disk"]["fstype"],
                     "" if env["disk"]["rotational"] is None else
                     ", kernel reports it rotational" if env["disk"]["rotational"] else
                     ", non-rotational", fs["seconds"], fs["per_second"], fs["p50_ms"], fs["p99_ms"],
                     env["redis_server"]["version"].replace("Redis server ", ""),
                     env["redis_server"]["package"], env["redis_benchmark"].split()[-1]
                     if env["redis_benchmark"] else "?"))
    if "loadavg_at_start" in env:
        lines.append("")
        lines.append("Load average (1/5/15 min) at start %s, at end %s: other work on the "
                     "machine during the run shows here; ratios from interleaved runs absorb "
                     "most of it, absolute numbers do not." % (
                         " / ".join("%.1f" % x for x in env["loadavg_at_start"]),
                         " / ".join("%.1f" % x for x in meta.get("loadavg_at_end", []))))
    lines.append("")

    lines += ["## Goals", "", "| goal | target | measured | status |", "|---|---|---|---|"]
    for g in results["goals"]:
        measured = "—" if g["measured"] is None else g["measured"]
        status = g["status"] + (" (%s)" % g["note"] if g.get("note") else "")
        lines.append("| %s | %s | %s | %s |" % (g["goal"], g["target"], measured, status))
    lines.append("")

    lines += ["## Throughput, 50 clients", "",
              "Modes pair equal promises: `always` is Redis `appendonly yes, appendfsync always`; "
              "`everysec` is Redis `appendfsync everysec`; `none` is Redis without persistence.", "",
              "| workload | mode | Tally rps | Redis rps | Tally/Redis (range) | Tally p50 / p99 ms | Redis p50 / p99 ms |",
              "|---|---|---:|---:|---:|---:|---:|"]
    lat_rows = []
    for w in wl.WORKLOADS:
        for mode in MODES:
            m = results["modes"].get(mode)
            if not m:
                continue
            if not m.get("available"):
                continue
            e = m["workloads"].get(w["id"])
            if e is None:
                continue
            if "ratio" not in e:
                row = "| %s | %s | — | — | error: %s | | |" % (w["title"], mode, e.get("error", "?"))
                (lines if w["kind"] == "throughput" else lat_rows).append(row)
                continue
            t, r = e["tally"], e["redis"]
            ratio = "**%.2f×** (%.2f–%.2f)" % (e["ratio"], e["ratio_min"], e["ratio_max"])
            if w["kind"] == "throughput":
                lines.append("| %s | %s | %s | %s | %s | %s / %s | %s / %s |" % (
                    w["title"], mode, _rps(t["rps"]), _rps(r["rps"]), ratio,
                    _ms(t["p50_ms"]), _ms(t["p99_ms"]), _ms(r["p50_ms"]), _ms(r["p99_ms"])))
            else:
                lat_rows.append("| %s | %s | %s / %s / %s | %s / %s / %s | %s | %s | %s |" % (
                    w["title"], mode, _ms(t["p50_ms"]), _ms(t["p99_ms"]), _ms(t["p999_ms"]),
                    _ms(r["p50_ms"]), _ms(r["p99_ms"]), _ms(r["p999_ms"]),
                    _rps(t["rps"]), _rps(r["rps"]), ratio))
    missing = ["`%s` (%s)" % (mode, m.get("note") or m.get("error") or "not run")
               for mode, m in results["modes"].items()
               if not m.get("available") or "error" in m]
    if missing:
        lines += ["", "Not measured: " + ", ".join(missing) + "."]
    lines.append("")
    lines += ["## Latency, 1 client", "",
              "p99.9 is the first percentile redis-benchmark's HdrHistogram prints at or above "
              "99.9 % (99.902 % with enough samples), so it may overstate slightly.", "",
              "| workload | mode | Tally p50 / p99 / p99.9 ms | Redis p50 / p99 / p99.9 ms | Tally rps | Redis rps | Tally/Redis rps |",
              "|---|---|---:|---:|---:|---:|---:|"] + lat_rows + [""]

    scale = results.get("scale")
    if scale and "error" not in scale:
        t, r = scale["servers"]["tally"], scale["servers"]["redis"]
        lines += ["## Scale: %s counters" % format(scale["keys"], ","), "",
                  "Both servers in their `always` configuration. Keys: %s counters `c:<12 digits>` "
                  "plus %d `usage:tool-<n>`, loaded with pipelined MSET of 1000 keys." %
                  (format(scale["keys"] - scale["matches"], ","), scale["matches"]), "",
                  "| measure | Tally | Redis | Tally/Redis |", "|---|---:|---:|---:|"]

        def row(name, tv, rv, fmt, ratio=True):
            if isinstance(ratio, float):
                rr = "%.3g" % ratio
            else:
                rr = ("%.3g" % (tv / rv)) if ratio and rv else ""
            lines.append("| %s | %s | %s | %s |" % (name, fmt(tv), fmt(rv), rr))

        row("load time (s)", t["load_s"], r["load_s"], lambda v: "%.1f" % v)
        row("RSS after load", t["rss_after_load_bytes"], r["rss_after_load_bytes"], _mib)
        row("RSS after restart", t["rss_after_restart_bytes"], r["rss_after_restart_bytes"], _mib)
        row("disk used at rest", t["disk_bytes"], r["disk_bytes"], _mib)
        row("restart to first reply (s)", t["restart_to_first_reply_s"],
            r["restart_to_first_reply_s"], lambda v: "%.3f" % v)
        kt, kr = scale["keys_cmd"]["tally"], scale["keys_cmd"]["redis"]
        row("`KEYS usage:*` (100 matches), median ms", kt["median_ms"], kr["median_ms"], _ms)
        st, sr = t["scan"], r["scan"]
        if "seconds" in st and "seconds" in sr:
            row("full `SCAN` pass, COUNT 1000 (s)", st["seconds"], sr["seconds"],
                lambda v: "%.2f" % v)
            row("keys returned by the SCAN pass", st["keys_returned"], sr["keys_returned"],
                lambda v: format(v, ","), ratio=False)
        inc = scale["incr"]
        hot, allk = inc.get("incr_hot_p1", {}), inc.get("incr_all_p1", {})
        if "ratio" in hot and "ratio" in allk:
            row("INCR over all keys, 50 clients (rps; ratio: median per round)",
                allk["tally"]["rps"], allk["redis"]["rps"], _rps, ratio=allk["ratio"])
            row("INCR one hot key, 50 clients (rps; ratio: median per round)",
                hot["tally"]["rps"], hot["redis"]["rps"], _rps, ratio=hot["ratio"])
            lines.append("| all-keys / hot-key throughput | %.2f | %.2f | |" % (
                allk["tally"]["rps"] / hot["tally"]["rps"], allk["redis"]["rps"] / hot["redis"]["rps"]))
        lines.append("")
    elif scale:
        lines += ["## Scale", "", "Failed: %s" % scale["error"], ""]

    if results.get("plots"):
        lines += ["## Plots", ""]
        for p in results["plots"]:
            lines.append("![%s](%s)" % (p, p))
            lines.append("")
    lines.append("Generated by `bench/run.py` on %s." %
                 datetime.datetime.now().strftime("%Y-%m-%d %H:%M"))
    return "\n".join(lines) + "\n"
