"""Observability: INFO commandstats / latencystats, SLOWLOG, CONFIG RESETSTAT,
the Prometheus exposition at GET /metrics (checked by a strict parser of the
text format), and the log file (levels, reopening on SIGHUP).

The INFO and SLOWLOG cases run the same commands against a real redis-server
and the server under test and compare the replies: byte for byte where they
do not depend on time, and with durations, timestamps, entry ids and client
ports normalised where they do."""

from __future__ import annotations

import math
import re
import signal
import time
import urllib.error
import urllib.request

import pytest

from harness import HOST, free_port, tally_only
from resp_client import ErrorReply, RawClient, decode

CMDSTAT = re.compile(rb"^cmdstat_([a-z|_-]+):calls=(\d+),usec=(\d+),usec_per_call=(\d+\.\d\d),"
                     rb"rejected_calls=(\d+),failed_calls=(\d+)$")
LATENCY = re.compile(rb"^latency_percentiles_usec_([a-z|_-]+):p50=(\d+\.\d{3}),p99=(\d+\.\d{3}),"
                     rb"p99\.9=(\d+\.\d{3})$")


def info_lines(conn: RawClient, *sections) -> list[bytes]:
    reply = decode(conn.call("INFO", *sections))
    assert isinstance(reply, bytes), reply
    assert reply == b"" or reply.endswith(b"\r\n"), reply[-20:]
    return reply.split(b"\r\n")[:-1]


def command_stats(conn: RawClient) -> dict[bytes, tuple]:
    """{command: (calls, rejected, failed)}, checking every line's format and
    that usec_per_call is usec / calls."""
    lines = info_lines(conn, "commandstats")
    assert lines[0] == b"# Commandstats"
    out = {}
    for line in lines[1:]:
        m = CMDSTAT.match(line)
        assert m, f"malformed commandstats line {line!r}"
        name, calls, usec, per_call, rejected, failed = m.groups()
        calls, usec = int(calls), int(usec)
        expected = "%.2f" % (usec / calls if calls else 0)
        assert per_call.decode() == expected, line
        out[name] = (calls, int(rejected), int(failed))
    return out


# Commands whose counts Redis 7.0 puts in calls, rejected_calls and
# failed_calls: errors while running (failed), refusals before running
# (rejected: arity, MULTI rules), unknown commands and subcommands (neither).
STATS_SCRIPT = [
    ("SET", "s", "x"),
    ("MULTI",), ("INCR", "s"), ("INCR",), ("GET", "s"), ("EXEC",),  # EXECABORT: exec failed
    ("MULTI",), ("INCR", "s"), ("EXEC",),  # the queued INCR fails, EXEC does not
    ("EXEC",), ("DISCARD",),  # without MULTI: failed
    ("MULTI",), ("SHUTDOWN",), ("DISCARD",),  # SHUTDOWN is rejected inside MULTI
    ("AUTH", "nopass"),  # failed
    ("CONFIG",), ("CONFIG", "nosuchsub"), ("CONFIG", "GET"),  # rejected / nothing / rejected
    ("NOSUCHCOMMAND", "a"),
    ("PING",), ("GET", "s"), ("INCRBY", "s", "1"), ("DEL", "s"),
]


def run_script(conn: RawClient, script):
    for args in script:
        conn.call(*args)


def test_commandstats_count_like_redis(diff_pair):
    reference, tally = diff_pair
    stats = []
    for srv in (reference, tally):
        with RawClient(HOST, srv.port) as conn:
            assert conn.call("CONFIG", "RESETSTAT") == b"+OK\r\n"
            run_script(conn, STATS_SCRIPT)
            stats.append(command_stats(conn))
    ref, tal = stats
    assert tal == ref
    assert tal[b"exec"] == (3, 0, 2) and tal[b"incr"] == (1, 1, 1)


def test_latencystats_and_info_sections_like_redis(diff_pair):
    names = []
    for srv in diff_pair:
        with RawClient(HOST, srv.port) as conn:
            conn.call("CONFIG", "RESETSTAT")
            run_script(conn, STATS_SCRIPT)
            lines = info_lines(conn, "latencystats")
            assert lines[0] == b"# Latencystats"
            seen = set()
            for line in lines[1:]:
                m = LATENCY.match(line)
                assert m, f"malformed latencystats line {line!r}"
                p50, p99, p999 = (float(v) for v in m.groups()[1:])
                assert 0 <= p50 <= p99 <= p999, line
                seen.add(m.group(1))
            names.append(seen)
            # Sections: commandstats and latencystats are in "all" and
            # "everything", not in the default INFO, in Redis's order.
            headers = {}
            for arg in ((), ("default",), ("all",), ("everything",),
                        ("latencystats", "commandstats")):
                headers[arg] = [line for line in info_lines(conn, *arg) if line.startswith(b"#")]
            for arg in ((), ("default",)):
                assert b"# Commandstats" not in headers[arg]
                assert b"# Latencystats" not in headers[arg]
            for arg in (("all",), ("everything",)):
                h = headers[arg]
                assert h.index(b"# Modules") < h.index(b"# Commandstats") < \
                    h.index(b"# Latencystats") < h.index(b"# Cluster"), h
            assert headers[("latencystats", "commandstats")] == [b"# Commandstats",
                                                                  b"# Latencystats"]
    # The commands that ran (the first INFO included), not those only refused.
    assert names[1] == names[0]


def test_config_resetstat_clears_command_stats(server):
    conn = server.client()
    for _ in range(5):
        conn.call("INCR", "k")
    conn.call("INCR")
    assert command_stats(conn)[b"incr"] == (5, 1, 0)
    assert conn.call("CONFIG", "RESETSTAT") == b"+OK\r\n"
    # Only RESETSTAT itself, recorded once it finished (as in Redis).
    assert command_stats(conn) == {b"config|resetstat": (1, 0, 0)}
    stats = dict(line.split(b":", 1) for line in info_lines(conn, "stats")[1:])
    assert stats[b"total_commands_processed"] == b"2"  # RESETSTAT and the INFO above


def normalise_slowlog(entries, now: float):
    """Replaces what depends on time and on the connection: ids become
    relative to the oldest, timestamps and durations are checked and dropped,
    and the client's port is checked and dropped."""
    out = []
    base = min(e[0] for e in entries) if entries else 0
    for entry_id, stamp, duration, args, addr, name in entries:
        assert abs(stamp - now) < 30, stamp
        assert duration >= 0
        assert re.fullmatch(rb"127\.0\.0\.1:\d+", addr), addr
        out.append((entry_id - base, args, name))
    return out


SLOWLOG_SCRIPT = [
    ("SLOWLOG", "RESET"),
    ("CLIENT", "SETNAME", "slowpoke"),
    ("ECHO", "a" * 200),
    ("DEL",) + tuple(f"k{i}" for i in range(40)),
    ("DEL",) + tuple(f"k{i}" for i in range(31)),
    ("AUTH", "someone", "secret"),
    ("HELLO", "2", "AUTH", "someone", "secret"),
    ("INCR",),  # refused before running: not logged
    ("MULTI",), ("INCR", "q"), ("EXEC",),  # EXEC is not logged, what it ran is
]

SLOWLOG_ERRORS = [
    ("SLOWLOG",), ("SLOWLOG", "GET", "-2"), ("SLOWLOG", "GET", "x"),
    ("SLOWLOG", "GET", "99999999999999999999"), ("SLOWLOG", "GET", "1", "2"),
    ("SLOWLOG", "get", "1", "2"), ("SLOWLOG", "LEN", "1"), ("SLOWLOG", "RESET", "1"),
    ("SLOWLOG", "nosuchsub"), ("SLOWLOG", "HELP"), ("SLOWLOG", "GET", "0"),
    ("CONFIG", "SET", "slowlog-max-len", "-1"),
    ("CONFIG", "SET", "slowlog-log-slower-than", "-2"),
    ("CONFIG", "SET", "slowlog-log-slower-than", "x"),
    ("CONFIG", "GET", "slowlog-max-len"), ("CONFIG", "GET", "slowlog-log-slower-than"),
]


def test_slowlog_like_redis(diff_pair):
    results = []
    for srv in diff_pair:
        conn = RawClient(HOST, srv.port)
        try:
            assert conn.call("CONFIG", "SET", "slowlog-log-slower-than", "0",
                             "slowlog-max-len", "128") == b"+OK\r\n"
            run_script(conn, SLOWLOG_SCRIPT)
            assert conn.call("CONFIG", "SET", "slowlog-log-slower-than", "-1") == b"+OK\r\n"
            entries = decode(conn.call("SLOWLOG", "GET", "-1"))
            length = conn.call("SLOWLOG", "LEN")
            newest = normalise_slowlog(decode(conn.call("SLOWLOG", "GET", "2")), time.time())
            default_count = len(decode(conn.call("SLOWLOG", "GET")))
            errors = [conn.call(*args) for args in SLOWLOG_ERRORS]
            # slowlog-max-len trims to the newest entries at the next one.
            conn.call("CONFIG", "SET", "slowlog-max-len", "2", "slowlog-log-slower-than", "0")
            conn.call("PING")
            conn.call("CONFIG", "SET", "slowlog-log-slower-than", "-1")
            trimmed = conn.call("SLOWLOG", "LEN")
            reset = (conn.call("SLOWLOG", "RESET"), conn.call("SLOWLOG", "LEN"))
            results.append((normalise_slowlog(entries, time.time()), length, newest,
                            default_count, errors, trimmed, reset))
        finally:
            conn.call("CONFIG", "SET", "slowlog-log-slower-than", "10000", "slowlog-max-len", "128")
            conn.close()
    ref, tal = results
    for part, name in zip(range(len(ref)), ("entries", "LEN", "GET 2", "GET", "errors",
                                            "trimmed LEN", "RESET")):
        assert tal[part] == ref[part], f"SLOWLOG {name} differs"
    entries = tal[0]
    echo = next(args for _, args, _ in entries if args[0] == b"ECHO")
    assert echo[1] == b"a" * 128 + b"... (72 more bytes)"
    assert any(args == [b"AUTH", b"(redacted)", b"(redacted)"] for _, args, _ in entries)


# ---------------------------------------------------------------------------
# Prometheus exposition

METRIC_NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"'
SAMPLE = re.compile(rf"^({METRIC_NAME})(?:\{{((?:{LABEL})(?:,{LABEL})*)\}})? (\S+)(?: (-?\d+))?$")
FLOAT = re.compile(r"^(?:[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)|[+-]?Inf|NaN)$")


def split_sample(line: str, where: str):
    """(name, {label: value}, value text) of a sample line, or an assertion."""
    m = SAMPLE.match(line)
    assert m, f"{where}: not a sample line"
    name, label_text, value = m.group(1), m.group(2), m.group(m.re.groups - 1)
    assert FLOAT.match(value), f"{where}: bad value {value!r}"
    labels = {}
    if label_text is not None:
        for lm in re.finditer(LABEL, label_text):
            assert lm.group(1) not in labels, f"{where}: label twice"
            labels[lm.group(1)] = lm.group(2)
    return name, labels, value


def parse_exposition(text: str) -> dict:
    """A strict reader of the Prometheus text format 0.0.4. Returns
    {family: {"type", "help", "samples": [(name, labels dict, value)]}} and
    fails on anything the format forbids or leaves to chance: a sample
    before its family's TYPE, families interleaved or declared twice,
    duplicate series, bad names, escapes or values, histogram buckets that
    are not cumulative or do not end at +Inf == _count, counters below 0."""
    assert text.endswith("\n"), "the exposition must end with a newline"
    families: dict[str, dict] = {}
    current = None
    closed = set()
    seen_series = set()

    def family_of(name: str) -> str:
        for suffix in ("_bucket", "_sum", "_count"):
            base = name[: -len(suffix)]
            if name.endswith(suffix) and families.get(base, {}).get("type") == "histogram":
                return base
        return name

    for number, line in enumerate(text.split("\n")[:-1], 1):
        where = f"line {number}: {line!r}"
        assert line, f"{where}: empty line"
        if line.startswith("#"):
            parts = line.split(" ", 3)
            if len(parts) >= 3 and parts[1] in ("HELP", "TYPE"):
                name = parts[2]
                assert re.fullmatch(METRIC_NAME, name), where
                if name != current:
                    assert name not in closed and name not in families, f"{where}: family again"
                    if current:
                        closed.add(current)
                    current = name
                    families[name] = {"type": None, "help": None, "samples": []}
                fam = families[name]
                assert not fam["samples"], f"{where}: {parts[1]} after samples"
                if parts[1] == "HELP":
                    assert fam["help"] is None, f"{where}: second HELP"
                    fam["help"] = parts[3] if len(parts) > 3 else ""
                    assert fam["help"], f"{where}: empty HELP"
                else:
                    assert fam["type"] is None, f"{where}: second TYPE"
                    assert len(parts) == 4 and parts[3] in (
                        "counter", "gauge", "histogram", "summary", "untyped"), where
                    fam["type"] = parts[3]
            continue
        name, labels, value = split_sample(line, where)
        family = family_of(name)
        assert family == current, f"{where}: sample outside its family ({current})"
        fam = families[family]
        assert fam["type"], f"{where}: sample before TYPE"
        key = (name, tuple(sorted(labels.items())))
        assert key not in seen_series, f"{where}: duplicate series"
        seen_series.add(key)
        number_value = float(value)
        if fam["type"] == "counter":
            assert name.endswith("_total"), f"{where}: counter without _total"
            assert number_value >= 0 and not math.isnan(number_value), where
        if fam["type"] == "histogram":
            assert name != family, f"{where}: bare histogram sample"
            if name.endswith("_bucket"):
                assert "le" in labels and FLOAT.match(labels["le"]), where
        fam["samples"].append((name, labels, number_value))

    for family, fam in families.items():
        assert fam["type"] and fam["help"], f"{family}: missing TYPE or HELP"
        if fam["type"] != "histogram":
            continue
        groups: dict[tuple, dict] = {}
        for name, labels, value in fam["samples"]:
            rest = tuple(sorted((k, v) for k, v in labels.items() if k != "le"))
            g = groups.setdefault(rest, {"buckets": [], "sum": None, "count": None})
            if name.endswith("_bucket"):
                g["buckets"].append((float(labels["le"]), value))
            elif name.endswith("_sum"):
                g["sum"] = value
            else:
                g["count"] = value
        for rest, g in groups.items():
            bounds = [b for b, _ in g["buckets"]]
            counts = [c for _, c in g["buckets"]]
            assert bounds == sorted(bounds) and len(set(bounds)) == len(bounds), (family, rest)
            assert bounds and bounds[-1] == math.inf, f"{family}{rest}: no +Inf bucket"
            assert counts == sorted(counts), f"{family}{rest}: buckets not cumulative"
            assert g["count"] == counts[-1], f"{family}{rest}: _count != +Inf bucket"
            assert g["sum"] is not None and g["sum"] >= 0, f"{family}{rest}: no _sum"
    return families


def test_exposition_parser_rejects_malformed_text():
    good = ("# HELP a_total A.\n# TYPE a_total counter\na_total 1\n"
            "# HELP h H.\n# TYPE h histogram\n"
            'h_bucket{le="1"} 1\nh_bucket{le="+Inf"} 2\nh_sum 3\nh_count 2\n')
    parse_exposition(good)
    bad = [
        good.replace("a_total 1\n", "a_total -1\n"),  # negative counter
        good.replace("h_count 2", "h_count 3"),  # _count != +Inf
        good.replace('h_bucket{le="1"} 1', 'h_bucket{le="1"} 3'),  # not cumulative
        good.replace('h_bucket{le="+Inf"} 2\n', ""),  # no +Inf
        good.replace("# TYPE a_total counter\n", ""),  # no TYPE
        good + "a_total 2\n",  # family again, duplicate series
        good.replace("a_total 1", "a_total one"),
        good.replace('{le="1"}', '{le="1",}'),
        good.rstrip("\n"),
    ]
    for text in bad:
        with pytest.raises(AssertionError):
            parse_exposition(text)


def scrape(port: int, path: str = "/metrics", method: str = "GET"):
    request = urllib.request.Request(f"http://{HOST}:{port}{path}", method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers.get("Content-Type"), response.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type"), e.read().decode()


def value(families, family, sample=None, **labels) -> float:
    for name, l, v in families[family]["samples"]:
        if name == (sample or family) and l == labels:
            return v
    raise AssertionError(f"no {sample or family}{labels} in the exposition")


@tally_only
def test_metrics_exposition(server_factory):
    http_port, metrics_port = free_port(), free_port()
    srv = server_factory.create(extra_args=["--http-port", str(http_port), "--http-token", "tok",
                                            "--metrics-port", str(metrics_port)])
    r = srv.redis()
    for i in range(10):
        r.execute_command("INCR", "counter")  # (redis-py's incr sends INCRBY)
    r.set("temp", "1", ex=100)
    with pytest.raises(Exception):
        r.execute_command("INCR", "temp", "extra")  # rejected: arity
    r.get("nokey")

    # Both listeners serve it, without a token, in the text format.
    status, ctype, text = scrape(http_port)
    assert status == 200 and ctype.startswith("text/plain; version=0.0.4"), (status, ctype)
    fam = parse_exposition(text)
    status2, _, text2 = scrape(metrics_port)
    assert status2 == 200
    parse_exposition(text2)

    expected = {
        "tally_commands_total": "counter", "tally_command_duration_seconds": "histogram",
        "tally_command_rejected_total": "counter", "tally_command_failed_total": "counter",
        "tally_connected_clients": "gauge", "tally_keys": "gauge", "tally_expiring_keys": "gauge",
        "tally_net_input_bytes_total": "counter", "tally_net_output_bytes_total": "counter",
        "tally_wal_syncs_total": "counter", "tally_wal_sync_batch_writes": "histogram",
        "tally_wal_sync_duration_seconds": "histogram", "tally_rocksdb_memtable_bytes": "gauge",
        "tally_rocksdb_sst_bytes": "gauge", "tally_rocksdb_compactions_pending": "gauge",
        "tally_rocksdb_pending_compaction_bytes": "gauge",
        "tally_rocksdb_block_cache_hits_total": "counter",
        "tally_rocksdb_block_cache_misses_total": "counter",
        "tally_rocksdb_block_cache_hit_ratio": "gauge", "process_resident_memory_bytes": "gauge",
    }
    for family, kind in expected.items():
        assert family in fam, f"{family} missing"
        assert fam[family]["type"] == kind, family
    assert value(fam, "tally_commands_total", cmd="incr") == 10
    assert value(fam, "tally_command_rejected_total", cmd="incr") == 1
    assert value(fam, "tally_command_duration_seconds", "tally_command_duration_seconds_count",
                 cmd="incr") == 10
    assert value(fam, "tally_keys") == 2 and value(fam, "tally_expiring_keys") == 1
    assert value(fam, "tally_connected_clients") >= 1
    assert value(fam, "tally_wal_syncs_total") >= 1  # durability always: one per batch
    assert value(fam, "tally_wal_sync_batch_writes", "tally_wal_sync_batch_writes_count") >= 1
    assert value(fam, "tally_keyspace_misses_total") >= 1
    assert value(fam, "process_resident_memory_bytes") > 1 << 20
    net_in = value(fam, "tally_net_input_bytes_total")
    assert net_in > 0

    # Counters move with the commands.
    for i in range(5):
        r.execute_command("INCR", "counter")  # (redis-py's incr sends INCRBY)
    fam = parse_exposition(scrape(metrics_port)[2])
    assert value(fam, "tally_commands_total", cmd="incr") == 15
    assert value(fam, "tally_net_input_bytes_total") > net_in
    assert value(fam, "tally_keys") == 2

    # The REST API still wants its token; the metrics port serves nothing else.
    assert scrape(http_port, "/get/counter")[0] == 401
    assert scrape(metrics_port, "/get/counter")[0] == 404
    assert scrape(metrics_port, "/metrics?x=1")[0] == 200
    assert scrape(http_port, "/metrics", method="POST")[0] == 405


# ---------------------------------------------------------------------------
# logs


def wait_for(predicate, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


@tally_only
def test_sighup_reopens_the_log_file(server_factory):
    srv = server_factory.create(start=False)
    logfile = srv.workdir / "tally-file.log"
    srv.extra_args = ["--logfile", str(logfile)]
    srv.start()
    assert wait_for(lambda: "ready to accept" in logfile.read_text())
    rotated = logfile.with_name("tally-file.log.1")
    logfile.rename(rotated)  # what logrotate does
    srv.send_signal(signal.SIGHUP)
    assert wait_for(lambda: logfile.exists() and "reopened the log file" in logfile.read_text()), \
        "no new log file at the original path after SIGHUP"
    assert srv.client().call("PING") == b"+PONG\r\n"  # still serving
    assert srv.stop() == 0
    new, old = logfile.read_text(), rotated.read_text()
    assert "ready to accept" in old and "ready to accept" not in new
    assert "bye bye" in new and "bye bye" not in old


@tally_only
def test_loglevel_names_map_to_levels(server_factory):
    srv = server_factory.create(start=False)
    logfile = srv.workdir / "levels.log"
    srv.extra_args = ["--logfile", str(logfile), "--loglevel", "warning"]
    srv.start()
    conn = srv.client()
    assert conn.call("PING") == b"+PONG\r\n"
    time.sleep(0.3)
    assert "ready to accept" not in logfile.read_text()  # notice lines are below warning
    assert conn.call("CONFIG", "SET", "loglevel", "verbose") == b"+OK\r\n"
    with srv.client() as other:
        other.call("PING")
    # Connections are logged at verbose level (spdlog's debug).
    assert wait_for(lambda: "connected from" in logfile.read_text(), timeout=5)
    assert decode(conn.call("CONFIG", "GET", "loglevel")) == [b"loglevel", b"verbose"]
