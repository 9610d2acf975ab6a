#!/usr/bin/env python3
"""Tally vs Redis, side by side in one run.

    bench/run.py                 # build Release, full run (tens of minutes), 10M-key scale part
    bench/run.py --keys 1000000  # same with a smaller scale part
    bench/run.py --quick         # smoke test, under 2 minutes; numbers mean nothing
    bench/run.py --publish       # also copy the result set to bench/results/

Starts tally-server and Debian's redis-server on 127.0.0.1 with fresh data
directories, once per durability mode, runs every workload against both
(interleaved over several rounds) and writes results.md, results.json and SVG
plots to bench/results/runs/<time>/. See bench/README.md."""

import argparse
import datetime
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH_DIR)
sys.path.insert(0, BENCH_DIR)

from harness import machine, paired, plots, report, scale  # noqa: E402
from harness import servers as srv  # noqa: E402
from harness import workloads as wl  # noqa: E402
from harness.load import get_keys, load  # noqa: E402


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true",
                   help="smoke test: 1 round, tiny request counts, 20k-key scale part")
    p.add_argument("--tally-server", help="use this tally-server binary instead of building one")
    p.add_argument("--build-dir", default=os.path.join(REPO, "build-bench"),
                   help="Release build tree (default: build-bench/ in the repository)")
    p.add_argument("--redis-server", default=shutil.which("redis-server") or "/usr/bin/redis-server")
    p.add_argument("--redis-benchmark",
                   default=shutil.which("redis-benchmark") or "/usr/bin/redis-benchmark")
    p.add_argument("--modes", default="always,everysec,none",
                   help="durability modes to run (default: all three)")
    p.add_argument("--workloads", default="",
                   help="comma-separated workload ids to run (default: all)")
    p.add_argument("--rounds", type=int, help="interleaved rounds per workload (default 5; quick 1)")
    p.add_argument("--seconds", type=float,
                   help="target duration of one run, sets request counts (default 2)")
    p.add_argument("--keys", type=int, help="scale part: number of keys (default 10000000; quick 20000)")
    p.add_argument("--no-scale", action="store_true", help="skip the scale part")
    p.add_argument("--scale-only", action="store_true", help="run only the scale part")
    p.add_argument("--tally-threads", type=int, help="pass --threads to tally-server (default: its own)")
    p.add_argument("--tally-arg", action="append", default=[], metavar="ARG",
                   help="one more argument for tally-server, e.g. --tally-arg=--counter-cache-size "
                        "--tally-arg=0 (repeatable; to compare settings)")
    p.add_argument("--out", help="result directory (default bench/results/runs/<time>)")
    p.add_argument("--workdir", help="where the data directories go (default: the system temp dir)")
    p.add_argument("--keep-data", action="store_true", help="keep the data directories")
    p.add_argument("--publish", action="store_true",
                   help="copy results.md, results.json and the plots to bench/results/")
    p.add_argument("--report", metavar="RUN_DIR",
                   help="measure nothing: rebuild results.md, goals and plots from "
                        "RUN_DIR/results.json (e.g. after changing the report)")
    a = p.parse_args()
    a.rounds = a.rounds or (1 if a.quick else 5)
    a.seconds = a.seconds or (0.25 if a.quick else 2.0)
    a.keys = a.keys or (20_000 if a.quick else 10_000_000)
    if a.keys <= scale.MATCHES:
        p.error("--keys must be above %d" % scale.MATCHES)
    return a


class Log:
    def __init__(self, path):
        self.f = open(path, "a")
        self.start = time.monotonic()

    def __call__(self, msg):
        line = "[%6.0fs] %s" % (time.monotonic() - self.start, msg)
        print(line, flush=True)
        self.f.write(line + "\n")
        self.f.flush()


def build(build_dir, log):
    log("building tally-server (Release) in %s" % os.path.relpath(build_dir, REPO))
    if not os.path.exists(os.path.join(build_dir, "CMakeCache.txt")):
        subprocess.run(["cmake", "-S", REPO, "-B", build_dir, "-G", "Ninja",
                        "-DCMAKE_BUILD_TYPE=Release"], check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["cmake", "--build", build_dir, "--target", "tally-server",
                    "-j%d" % (os.cpu_count() or 2)], check=True, stdout=subprocess.DEVNULL)
    return os.path.join(build_dir, "tally-server")


def git_info():
    def git(*a):
        r = subprocess.run(["git", "-C", REPO, *a], capture_output=True, text=True)
        return r.stdout.strip() if r.returncode == 0 else ""
    return git("rev-parse", "--short=12", "HEAD") or "unknown", bool(git("status", "--porcelain"))


def make_pair(args, binary, workdir, run_dir, mode, durability_flag, tag):
    tally = srv.Server("tally", binary, os.path.join(workdir, tag, "tally"),
                       os.path.join(run_dir, "logs", "tally-%s.log" % tag), mode,
                       tally_threads=args.tally_threads, pass_durability=durability_flag,
                       tally_args=args.tally_arg)
    redis = srv.Server("redis", args.redis_server, os.path.join(workdir, tag, "redis"),
                       os.path.join(run_dir, "logs", "redis-%s.log" % tag), mode)
    return paired.Pair(tally, redis)


def run_mode(args, binary, workdir, run_dir, mode, durability_flag, settings, log, chosen):
    pair = make_pair(args, binary, workdir, run_dir, mode, durability_flag, mode)
    try:
        for s in pair.servers:
            s.start()
        for s in pair.servers:
            with pair.alone(s), s.connect() as c:
                n, secs = load(c, get_keys(wl.GET_KEYS), 600)
            log("  %s: loaded %d keys for GET/SET/MGET in %.1f s" % (s.name, n, secs))
        return {"available": True, "tally_flags": "--durability %s" % mode if durability_flag
                else "(default durability)", "redis_config": srv.REDIS_MODE_LABEL[mode],
                "workloads": paired.run_workloads(pair, chosen, settings, log)}
    finally:
        for s in pair.servers:
            s.kill()


def run_scale(args, binary, workdir, run_dir, durability_flag, settings, log):
    pair = make_pair(args, binary, workdir, run_dir, "always", durability_flag, "scale")
    try:
        for s in pair.servers:
            s.start()
        return scale.run(pair, args.keys, settings, log, args.quick)
    finally:
        for s in pair.servers:
            s.kill()


def check_complete(results, log):
    """What the smoke test asserts: every planned measurement produced numbers
    (no timing is asserted)."""
    problems = []
    for mode, m in results["modes"].items():
        if not m.get("available"):
            continue
        if "error" in m:
            problems.append("%s: %s" % (mode, m["error"]))
        for wid, e in m["workloads"].items():
            if "ratio" not in e:
                problems.append("%s/%s: %s" % (mode, wid, e.get("error", "no result")))
    sc = results.get("scale")
    if sc is not None:
        if "error" in sc:
            problems.append("scale: %s" % sc["error"])
        else:
            for name, s in sc["servers"].items():
                if "error" in s.get("scan", {}):
                    problems.append("scale/%s SCAN: %s" % (name, s["scan"]["error"]))
                elif s["scan"]["keys_returned"] < sc["keys"]:
                    problems.append("scale/%s SCAN returned %d of %d keys" %
                                    (name, s["scan"]["keys_returned"], sc["keys"]))
            for wid, e in sc["incr"].items():
                if "ratio" not in e:
                    problems.append("scale/%s: %s" % (wid, e.get("error", "no result")))
    for p in problems:
        log("PROBLEM: " + p)
    return problems


def write_outputs(results, run_dir, log):
    """Goals, plots, results.json and results.md from the measurements."""
    results["goals"] = report.goals(results)
    if plots.available():
        try:
            results["plots"] = plots.draw(results, run_dir)
            results.pop("plot_error", None)
        except subprocess.CalledProcessError as e:
            log("gnuplot failed: %s" % e.stderr.decode(errors="replace")[-500:])
            results["plots"] = []
            results["plot_error"] = "gnuplot failed"
    else:
        log("gnuplot not installed: no plots (apt-get install gnuplot-nox)")
        results["plots"] = []
    with open(os.path.join(run_dir, "results.json"), "w") as f:
        json.dump(results, f, indent=1)
    with open(os.path.join(run_dir, "results.md"), "w") as f:
        f.write(report.markdown(results))
    for g in results["goals"]:
        log("goal %-8s %s (%s, measured %s)" % (g["status"], g["goal"], g["target"], g["measured"]))


def publish(results, run_dir, log):
    dest = os.path.join(BENCH_DIR, "results")
    for name in ["results.md", "results.json"] + results["plots"]:
        src, dst = os.path.join(run_dir, name), os.path.join(dest, name)
        if os.path.abspath(src) != os.path.abspath(dst):
            shutil.copy(src, dst)
    log("published to %s" % os.path.relpath(dest, REPO))


def rereport(args):
    """--report: recompute summaries from the stored per-round runs."""
    run_dir = os.path.abspath(args.report)
    log = Log(os.path.join(run_dir, "run.log"))
    with open(os.path.join(run_dir, "results.json")) as f:
        results = json.load(f)
    for m in results["modes"].values():
        for wid, e in m.get("workloads", {}).items():
            if "runs" in e:
                m["workloads"][wid] = paired.summarize_pair(e["runs"])
    sc = results.get("scale")
    if sc and "incr" in sc:
        for wid, e in sc["incr"].items():
            if "runs" in e:
                sc["incr"][wid] = paired.summarize_pair(e["runs"])
    write_outputs(results, run_dir, log)
    if args.publish:
        publish(results, run_dir, log)
    return 0


def main():
    args = parse_args()
    if args.report:
        return rereport(args)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    run_dir = os.path.abspath(args.out or os.path.join(
        BENCH_DIR, "results", "runs", stamp + ("-quick" if args.quick else "")))
    os.makedirs(os.path.join(run_dir, "logs"), exist_ok=True)
    log = Log(os.path.join(run_dir, "run.log"))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(130))

    for tool in (args.redis_server, args.redis_benchmark):
        if not (tool and os.access(tool, os.X_OK)):
            log("missing %s: install Debian's redis-server and redis-tools (scripts/deps.sh)" % tool)
            return 2
    binary = os.path.abspath(args.tally_server) if args.tally_server else build(args.build_dir, log)
    durability_flag = srv.tally_supports_durability(binary)
    sha, dirty = git_info()
    workdir = tempfile.mkdtemp(prefix="tally-bench-", dir=args.workdir)
    log("results in %s; data in %s" % (run_dir, workdir))

    settings = paired.Settings(args.redis_benchmark, args.rounds, args.seconds, args.quick)
    chosen = [w for w in wl.WORKLOADS
              if not args.workloads or w["id"] in args.workloads.split(",")]
    results = {
        "meta": {"started": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
                 "git": sha, "tree_dirty": dirty, "quick": args.quick, "rounds": args.rounds,
                 "target_s": args.seconds, "tally_threads": args.tally_threads,
                 "tally_args": args.tally_arg,
                 "tally_durability_flag": durability_flag},
        "machine": machine.describe(workdir, binary, args.redis_server, args.redis_benchmark,
                                    fsync_seconds=0.5 if args.quick else 3.0),
        "modes": {},
    }
    results["meta"]["tally_version"] = results["machine"]["tally"]["version"].replace(
        "tally-server ", "")
    log("machine: %d cores, %.1f GiB, fsync p50 %.3f ms; tally --durability %s" % (
        results["machine"]["nproc"], results["machine"]["memory_bytes"] / 2**30,
        results["machine"]["fsync"]["p50_ms"], "supported" if durability_flag else "not available"))
    t0 = time.monotonic()
    try:
        if not args.scale_only:
            for mode in [m for m in args.modes.split(",") if m]:
                if mode not in srv.REDIS_MODE_ARGS:
                    raise SystemExit("unknown mode %r" % mode)
                if mode != "always" and not durability_flag:
                    results["modes"][mode] = {"available": False,
                                              "note": "tally-server has no --durability flag yet"}
                    log("mode %s: not available (tally-server has no --durability)" % mode)
                    continue
                log("mode %s: Tally %s vs Redis %s" % (mode, mode, srv.REDIS_MODE_LABEL[mode]))
                try:
                    results["modes"][mode] = run_mode(args, binary, workdir, run_dir, mode,
                                                      durability_flag, settings, log, chosen)
                except Exception as e:  # reported, and fails the run below
                    log("mode %s failed: %r (server logs in %s)" % (mode, e, os.path.join(run_dir, "logs")))
                    results["modes"][mode] = {"available": True, "error": repr(e), "workloads": {}}
        if not args.no_scale:
            log("scale: %s keys" % format(args.keys, ","))
            try:
                results["scale"] = run_scale(args, binary, workdir, run_dir, durability_flag,
                                             settings, log)
            except Exception as e:  # reported, and fails the run below
                log("scale failed: %r" % e)
                results["scale"] = {"error": repr(e)}
    finally:
        if not args.keep_data:
            shutil.rmtree(workdir, ignore_errors=True)
    results["meta"]["duration_s"] = round(time.monotonic() - t0, 1)
    results["meta"]["loadavg_at_end"] = machine.loadavg()
    write_outputs(results, run_dir, log)
    if args.publish:
        publish(results, run_dir, log)
    problems = check_complete(results, log)
    if "plot_error" in results:
        problems.append("plots")
    log("done in %.0f s: %s" % (time.monotonic() - t0, os.path.join(run_dir, "results.md")))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
