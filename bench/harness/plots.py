"""SVG plots drawn with gnuplot (Debian's gnuplot-nox): throughput by
workload and mode, the Tally/Redis ratio against the goals, and 1-client
latency percentiles."""

import math
import os
import shutil
import subprocess

from . import workloads as wl

MODES = ["always", "everysec", "none"]


def _measured_modes(results):
    """Modes with at least one workload measured on both servers."""
    return [m for m in MODES
            if any("ratio" in e for e in results["modes"].get(m, {}).get("workloads", {}).values())]
COMMON = """set terminal svg size {w},{h} dynamic font 'sans,11' background '#ffffff'
set termoption noenhanced
set output '{out}'
"""


def available():
    return shutil.which("gnuplot") is not None


def _gnuplot(script, path):
    with open(path, "w") as f:
        f.write(script)
    subprocess.run(["gnuplot", os.path.basename(path)], cwd=os.path.dirname(path), check=True,
                   capture_output=True, timeout=120)


def _throughput(results, d):
    modes = _measured_modes(results)
    if not modes:
        return None
    ws = [w for w in wl.WORKLOADS if w["kind"] == "throughput"]
    panels = []
    for mode in modes:
        dat = os.path.join(d, "throughput-%s.dat" % mode)
        with open(dat, "w") as f:
            f.write("# workload tally_rps redis_rps\n")
            for w in ws:
                e = results["modes"][mode]["workloads"].get(w["id"], {})
                t = e.get("tally", {}).get("rps") if "ratio" in e else None
                r = e.get("redis", {}).get("rps") if "ratio" in e else None
                f.write('"%s" %s %s\n' % (w["short"], t or "NaN", r or "NaN"))
        panels.append("set title 'mode: %s (50 clients)'\n"
                      "plot '%s' using 2:xtic(1) title 'Tally' lc rgb '#2a7ab0', "
                      "'' using 3 title 'Redis' lc rgb '#c0392b'\n" % (mode, os.path.basename(dat)))
    out = "throughput.svg"
    script = COMMON.format(w=1000, h=330 * len(modes), out=out) + """
set multiplot layout {n},1
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set logscale y
set format y '%.0s%c'
set ylabel 'requests/s (log)'
set grid ytics
set key top right
set xtics rotate by -20
""".format(n=len(modes)) + "".join(panels) + "unset multiplot\n"
    _gnuplot(script, os.path.join(d, "throughput.gp"))
    return out


def _ratio(results, d):
    modes = _measured_modes(results)
    if not modes:
        return None
    ws = [w for w in wl.WORKLOADS]
    dat = os.path.join(d, "ratio.dat")
    seen = [1.0, 1.5]
    with open(dat, "w") as f:
        f.write("# workload %s\n" % " ".join(modes))
        for w in ws:
            vals = []
            for m in modes:
                e = results["modes"][m]["workloads"].get(w["id"], {})
                vals.append("%.4f" % e["ratio"] if "ratio" in e else "NaN")
                if "ratio" in e and e["ratio"] > 0:
                    seen.append(e["ratio"])
            f.write('"%s" %s\n' % (w["short"], " ".join(vals)))
    # Decades that hold every bar and both goal lines.
    lo = 10 ** math.floor(math.log10(min(seen)) - 0.01)
    hi = 10 ** math.ceil(math.log10(max(seen)) + 0.01)
    colors = {"always": "#2a7ab0", "everysec": "#e67e22", "none": "#27ae60"}
    plot = ", ".join("'ratio.dat' using %d%s title '%s' lc rgb '%s'" %
                     (i + 2, ":xtic(1)" if i == 0 else "", m, colors[m])
                     for i, m in enumerate(modes))
    out = "ratio.svg"
    script = COMMON.format(w=1000, h=420, out=out) + """
set title 'Tally/Redis throughput ratio by workload and mode (same run; above 1: Tally faster)'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set logscale y
set yrange [{lo}:{hi}]
set ylabel 'Tally / Redis (log)'
set grid ytics
set key top right
set xtics rotate by -30
set arrow from graph 0, first 1 to graph 1, first 1 nohead dt 2 lc rgb '#000000'
set arrow from graph 0, first 1.5 to graph 1, first 1.5 nohead dt 3 lc rgb '#2a7ab0'
set label 'goal, always INCR: 1.5' at graph 0.01, first 1.6 left tc rgb '#2a7ab0' front
set label 'parity: 1' at graph 0.01, first 0.9 left front
""".format(lo=lo, hi=hi) + "plot " + plot + "\n"
    _gnuplot(script, os.path.join(d, "ratio.gp"))
    return out


def _nines(p):
    return -math.log10(1 - p / 100.0)


def _latency(results, d):
    modes = _measured_modes(results)
    ws = [w for w in wl.WORKLOADS if w["kind"] == "latency"]
    if not modes:
        return None
    colors = {"always": "#2a7ab0", "everysec": "#e67e22", "none": "#27ae60"}
    panels = []
    for w in ws:
        plots = []
        for m in modes:
            e = results["modes"][m]["workloads"].get(w["id"], {})
            if "ratio" not in e:
                continue
            for server, dash in (("tally", 1), ("redis", 2)):
                dist = [(p, ms) for p, ms in e[server].get("distribution", []) if p < 100.0]
                if not dist:
                    continue
                name = "latency-%s-%s-%s.dat" % (w["base"], m, server)
                with open(os.path.join(d, name), "w") as f:
                    f.write("# nines percentile ms\n")
                    for p, ms in dist:
                        f.write("%.5f %.4f %.4f\n" % (_nines(p), p, ms))
                plots.append("'%s' using 1:3 with linespoints pt 7 ps 0.4 dt %d lw 2 lc rgb '%s' "
                             "title '%s %s'" % (name, dash, colors[m],
                                                "Tally" if server == "tally" else "Redis", m))
        if plots:
            panels.append("set title '%s'\nplot %s\n" % (w["title"], ", ".join(plots)))
    if not panels:
        return None
    out = "latency.svg"
    script = COMMON.format(w=1000, h=420 * len(panels), out=out) + """
set multiplot layout {n},1
set xtics ('50%%' {a}, '90%%' 1, '99%%' 2, '99.9%%' 3, '99.99%%' 4)
set xrange [0:4.2]
set xlabel 'percentile'
set ylabel 'latency, ms (log)'
set logscale y
set grid
set key top left
""".format(n=len(panels), a=_nines(50)) + "".join(panels) + "unset multiplot\n"
    _gnuplot(script, os.path.join(d, "latency.gp"))
    return out


def draw(results, d):
    """Writes the plots (and their .dat/.gp sources) into d; returns the SVG
    names drawn."""
    made = []
    for f in (_throughput, _ratio, _latency):
        name = f(results, d)
        if name:
            made.append(name)
    return made
