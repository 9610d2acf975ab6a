"""End-to-end tests of the server binary: concurrency, durability across crashes
and restarts, real clients (redis-py, redis-cli, redis-benchmark), auth,
start-up configuration and shutdown.

Tests marked tally_only check behaviour that Tally promises and redis-server
does not have; they are skipped when the suite validates itself against
redis-server (TALLY_SERVER=redis-server).
"""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import threading
import time

import pytest

from harness import (HOST, VALIDATION_MODE, free_port, run_to_exit, server_argv, tally_only)
from resp_client import ConnectionClosed, RawClient, decode, encode_command

NOAUTH = b"-NOAUTH Authentication required.\r\n"
WRONGPASS = b"-WRONGPASS invalid username-password pair or user is disabled.\r\n"


def bulk(data) -> bytes:
    data = data.encode() if isinstance(data, str) else data
    return b"$%d\r\n%s\r\n" % (len(data), data)


def parse_int_reply(raw: bytes) -> int:
    m = re.fullmatch(rb":(-?\d+)\r\n", raw)
    assert m, f"expected an integer reply, got {raw!r}"
    return int(m.group(1))


def run_tool(argv, timeout=30.0, **kwargs) -> subprocess.CompletedProcess:
    """Runs a client tool with a hard timeout (the test fails on expiry)."""
    try:
        return subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True,
                              timeout=timeout, **kwargs)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"{argv} did not finish within {timeout}s; output so far: "
                    f"{(e.stdout or b'')[-2000:]!r} {(e.stderr or b'')[-2000:]!r}")


def need_tool(name: str) -> str:
    path = shutil.which(name)
    if not path:
        pytest.fail(f"{name} (Debian package redis-tools) is needed for this test")
    return path


# ---------------------------------------------------------------------------
# concurrency and durability


CONNECTIONS = 8
INCRS_PER_CONNECTION = 10_000
BATCH = 500


def _incr_worker(port, key, count, batch, out, index, errors, progress):
    try:
        with RawClient(HOST, port, timeout=60) as c:
            values = []
            for start in range(0, count, batch):
                n = min(batch, count - start)
                values += [parse_int_reply(r) for r in c.pipeline([("INCR", key)] * n)]
                progress[index] = len(values)
            out[index] = values
    except Exception as e:  # noqa: BLE001 - reported by the test
        errors.append(f"connection {index}: {e!r}")


def test_concurrent_incr_is_atomic_and_survives_sigkill(server_factory):
    srv = server_factory.create(extra_args=["--threads", "4"])
    key = "usage:concurrent"
    results = [None] * CONNECTIONS
    progress = [0] * CONNECTIONS
    errors: list[str] = []
    threads = [threading.Thread(target=_incr_worker, daemon=True,
                                args=(srv.port, key, INCRS_PER_CONNECTION, BATCH, results, i,
                                      errors, progress))
               for i in range(CONNECTIONS)]
    started = time.monotonic()
    for t in threads:
        t.start()
    deadline = started + 120
    for t in threads:
        t.join(max(0.1, deadline - time.monotonic()))
    assert not any(t.is_alive() for t in threads), (
        f"INCR load did not finish within 120 s: {sum(progress)} of "
        f"{CONNECTIONS * INCRS_PER_CONNECTION} acknowledged ({sum(progress) / 120:.0f}/s)")
    assert not errors, errors

    total = CONNECTIONS * INCRS_PER_CONNECTION
    for i, values in enumerate(results):
        assert len(values) == INCRS_PER_CONNECTION
        assert all(a < b for a, b in zip(values, values[1:])), (
            f"connection {i} saw its own INCR replies out of order")
    every = sorted(v for values in results for v in values)
    assert every == list(range(1, total + 1)), (
        "each INCR must return a distinct value 1..80000 (lost or duplicated increments)")
    c = srv.client()
    assert c.call("GET", key) == bulk(str(total))

    assert srv.kill() == -signal.SIGKILL
    srv.start()
    assert srv.client().call("GET", key) == bulk(str(total)), "acknowledged INCRs lost after SIGKILL"
    assert srv.client().call("INCR", key) == b":%d\r\n" % (total + 1)


def test_acknowledged_writes_survive_sigkill_during_load(server_factory):
    """SIGKILL while 4 clients are writing: every INCR that was acknowledged
    must be there after restart, and nothing that was never sent."""
    srv = server_factory.create()
    key = "usage:crash"
    stop = threading.Event()
    stats = [{"sent": 0, "acked": 0, "max": 0} for _ in range(4)]

    def writer(st):
        try:
            with RawClient(HOST, srv.port, timeout=10) as c:
                for _ in range(2000):  # at most 2000 batches of 50 per client
                    if stop.is_set():
                        return
                    c.send(encode_command("INCR", key) * 50)
                    st["sent"] += 50
                    for _ in range(50):
                        value = parse_int_reply(c.read_reply())
                        st["acked"] += 1
                        st["max"] = max(st["max"], value)
        except (OSError, ConnectionClosed):
            return  # the server was killed under us

    threads = [threading.Thread(target=writer, args=(st,), daemon=True) for st in stats]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 20
    while sum(st["acked"] for st in stats) < 5000 and time.monotonic() < deadline:
        time.sleep(0.01)
    srv.kill()
    stop.set()
    for t in threads:
        t.join(15)
    assert not any(t.is_alive() for t in threads)
    acked = sum(st["acked"] for st in stats)
    sent = sum(st["sent"] for st in stats)
    highest = max(st["max"] for st in stats)
    assert acked >= 5000, f"only {acked} INCRs acknowledged in 20 s"

    srv.start()
    value = int(decode(srv.client().call("GET", key)))
    assert value >= highest and value >= acked, (
        f"acknowledged writes lost: after restart {value}, acknowledged {acked} "
        f"(highest acknowledged reply {highest})")
    assert value <= sent, f"{value} increments after restart but only {sent} were sent"


def test_large_pipeline_without_reading_does_not_deadlock(server):
    """The client writes 50,000 INCRs before reading any reply (as a fast
    producer does): the server must apply back-pressure, not stall or drop."""
    n = 50_000
    payload = encode_command("INCR", "pipelined") * n
    c = server.client(timeout=60)
    sender_error = []

    def send():
        try:
            c.send(payload)
        except OSError as e:
            sender_error.append(e)

    t = threading.Thread(target=send, daemon=True)
    t.start()
    deadline = time.monotonic() + 90
    for i in range(1, n + 1):
        assert c.read_reply() == b":%d\r\n" % i
        if i % 1000 == 0:
            assert time.monotonic() < deadline, f"only {i} of {n} replies within 90 s"
    t.join(30)
    assert not sender_error
    assert c.call("GET", "pipelined") == bulk(str(n))


def test_data_persists_across_clean_restart(server):
    c = server.client()
    assert c.call("SET", "plain", "hello") == b"+OK\r\n"
    assert c.call("INCRBY", "usage:a", "41") == b":41\r\n"
    assert c.call("INCRBYFLOAT", "float", "1.5") == bulk("1.5")
    assert c.call("SET", "volatile", "v", "EX", "1000") == b"+OK\r\n"
    assert c.call("SET", "short", "v", "PX", "300") == b"+OK\r\n"
    assert c.call("SET", "deleted", "v") == b"+OK\r\n"
    assert c.call("DEL", "deleted") == b":1\r\n"
    server.restart()
    time.sleep(0.4)  # "short" has expired by now
    c = server.client()
    assert c.call("GET", "plain") == bulk("hello")
    assert c.call("INCR", "usage:a") == b":42\r\n"
    assert c.call("GET", "float") == bulk("1.5")
    ttl = parse_int_reply(c.call("TTL", "volatile"))
    assert 990 <= ttl <= 1000, f"TTL after restart is {ttl}"
    assert c.call("GET", "short") == b"$-1\r\n"
    assert c.call("EXISTS", "deleted") == b":0\r\n"
    assert sorted(decode(c.call("KEYS", "*"))) == [b"float", b"plain", b"usage:a", b"volatile"]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_exits_0_and_data_survives(server, sig):
    c = server.client()
    assert c.call("INCRBY", "usage:sig", "7") == b":7\r\n"
    server.close_clients()
    server.send_signal(sig)
    rc = server.wait_exit(10)
    assert rc == 0, f"exit code {rc} after {sig.name}"
    server.start()
    assert server.client().call("GET", "usage:sig") == bulk("7")


def test_shutdown_command_exits_0_and_data_survives(server):
    c = server.client()
    assert c.call("INCRBY", "usage:shutdown", "3") == b":3\r\n"
    c.send(encode_command("SHUTDOWN"))
    closed, extra = c.wait_closed(10)
    assert closed and extra == b"", (
        f"SHUTDOWN must close the connection without a reply, got closed={closed} {extra!r}")
    rc = server.wait_exit(10)
    assert rc == 0, f"exit code {rc} after SHUTDOWN"
    server.start()
    assert server.client().call("GET", "usage:shutdown") == bulk("3")


def test_sigterm_right_after_replies_exits_0_every_time(server):
    """SIGTERM just after a client got its replies and left, while the WAL
    syncer may still be handing the answer back to the I/O thread (durability
    always): shutdown must wait for it and exit 0. A connection released on
    the syncer thread after the server was gone once corrupted the heap in
    about 1 stop out of 100 on a busy machine; the unit test
    [post_when_durable] checks that contract deterministically, this checks
    the binary."""
    for i in range(20):
        c = server.client()
        c.send(encode_command("SET", "word", "hello") + encode_command("INCR", "word") +
               encode_command("INCR", "usage:stops"))
        assert [c.read_reply() for _ in range(3)] == [
            b"+OK\r\n", b"-ERR value is not an integer or out of range\r\n", b":%d\r\n" % (i + 1)]
        rc = server.stop()
        assert rc == 0, f"stop {i + 1}: exit code {rc}\n{server.log_tail()}"
        server.start()


def test_binary_keys_round_trip_and_persist(server):
    keys = [b"a\x00b", b"\r\n", b"x\r\ny\x00z", b"\xff\x00\xff", b"\x00", b"$3\r\nfoo\r\n", b"*1\r\n"]
    c = server.client()
    for k in keys:
        assert c.call("SET", k, b"value:" + k + b"\x00\r\n") == b"+OK\r\n"
        assert c.call("INCR", b"counter:" + k) == b":1\r\n"
    for k in keys:
        assert c.call("GET", k) == bulk(b"value:" + k + b"\x00\r\n")
    everything = set(keys) | {b"counter:" + k for k in keys}
    assert set(decode(c.call("KEYS", "*"))) == everything
    server.restart(crash=True)
    c = server.client()
    for k in keys:
        assert c.call("GET", k) == bulk(b"value:" + k + b"\x00\r\n")
        assert c.call("INCR", b"counter:" + k) == b":2\r\n"
    r = server.redis()
    assert r.get(b"a\x00b") == b"value:a\x00b\x00\r\n"
    assert set(r.scan_iter(count=3)) == everything
    assert set(r.keys(b"counter:*")) == {b"counter:" + k for k in keys}


# ---------------------------------------------------------------------------
# real clients


def test_redis_py_basic_use(server):
    r = server.redis()
    assert r.ping() is True
    assert r.incr("usage:webo-news-overlay") == 1
    assert r.incr("usage:webo-news-overlay") == 2
    assert r.incrby("usage:webo-news-overlay", 40) == 42
    assert r.decr("usage:webo-news-overlay") == 41
    assert r.decrby("usage:webo-news-overlay", 1) == 40
    assert r.incrbyfloat("f", 2.5) == 2.5
    assert r.get("usage:webo-news-overlay") == b"40"
    assert r.get("missing") is None
    assert r.mget("usage:webo-news-overlay", "missing", "f") == [b"40", None, b"2.5"]
    assert r.set("session", "v", ex=100) is True
    assert 98 <= r.ttl("session") <= 100
    assert 98000 <= r.pttl("session") <= 100000
    assert r.set("session", "w", nx=True) is None
    assert r.set("session", "w", xx=True, keepttl=True) is True
    assert r.ttl("session") > 0
    assert r.persist("session") is True
    assert r.ttl("session") == -1
    assert r.expire("session", 50) is True
    assert r.getset("session", "x") == b"w"
    assert r.getdel("session") == b"x"
    assert r.setnx("n", 1) is True and r.setnx("n", 2) is False
    assert r.setex("e", 100, "v") is True and r.psetex("p", 100000, "v") is True
    assert r.strlen("usage:webo-news-overlay") == 2
    assert r.type("n") == b"string" and r.type("nothing") == b"none"
    assert r.echo("hi") == b"hi"

    pipe = r.pipeline(transaction=False)
    for i in range(300):
        pipe.set(f"scan:{i}", i)
    assert pipe.execute() == [True] * 300
    expected = {f"scan:{i}".encode() for i in range(300)}
    assert set(r.scan_iter(match="scan:*", count=25)) == expected
    assert set(r.scan_iter(match="scan:1?", count=7)) == {f"scan:1{i}".encode() for i in range(10)}
    assert set(r.keys("scan:*")) == expected
    assert sorted(r.keys("scan:29?")) == sorted(f"scan:29{i}".encode() for i in range(10))
    assert r.exists("scan:0", "scan:1", "nope") == 2
    assert r.dbsize() == 300 + 5
    assert r.delete("scan:0", "scan:1", "nope") == 2
    assert r.unlink("scan:2") == 1
    assert r.mset({"m1": "a", "m2": "b"}) is True
    assert r.mget(["m1", "m2"]) == [b"a", b"b"]

    with pytest.raises(Exception, match="not an integer or out of range"):
        r.incr("m1")
    text = server.redis(decode_responses=True)
    assert text.incr("usage:text") == 1 and text.get("usage:text") == "1"
    assert r.flushdb() is True and r.dbsize() == 0


def test_redis_cli_one_shot_commands(server):
    cli = need_tool("redis-cli")
    base = [cli, "-h", HOST, "-p", str(server.port)]
    out = run_tool(base + ["INCR", "usage:webo-news-overlay"])
    assert (out.returncode, out.stdout) == (0, b"1\n"), out
    out = run_tool(base + ["INCR", "usage:webo-news-overlay"])
    assert out.stdout == b"2\n"
    out = run_tool(base + ["GET", "usage:webo-news-overlay"])
    assert (out.returncode, out.stdout) == (0, b"2\n"), out
    out = run_tool(base + ["GET", "missing"])
    assert out.stdout == b"\n"
    out = run_tool(base + ["INCR"])
    assert b"wrong number of arguments for 'incr' command" in out.stdout + out.stderr

    c = server.client()
    usage = {f"usage:tool-{i}" for i in range(40)}
    for k in usage:
        c.call("INCR", k)
    for i in range(20):
        c.call("SET", f"other:{i}", "x")
    out = run_tool(base + ["--scan", "--pattern", "usage:*"])
    assert out.returncode == 0, out
    lines = out.stdout.decode().splitlines()
    assert set(lines) == usage | {"usage:webo-news-overlay"}
    out = run_tool(base + ["--scan"])
    assert len(set(out.stdout.decode().splitlines())) == 61


def test_redis_benchmark(server):
    bench = need_tool("redis-benchmark")
    out = run_tool([bench, "-h", HOST, "-p", str(server.port), "-t", "incr,get,set,mset",
                    "-n", "100000", "-q"], timeout=150)
    text = out.stdout.decode(errors="replace")
    assert out.returncode == 0, f"redis-benchmark exited {out.returncode}: {text[-2000:]} {out.stderr!r}"
    lines = [ln.strip() for ln in re.split(r"[\r\n]+", text) if "requests per second" in ln]
    for test in ("SET", "GET", "INCR", "MSET (10 keys)"):
        assert any(ln.startswith(f"{test}: ") for ln in lines), (
            f"no result line for {test} in redis-benchmark output:\n{text[-3000:]}")
    # Without -r every INCR hits the same key: exactly 100000 increments.
    c = server.client()
    assert c.call("GET", "counter:__rand_int__") == bulk("100000")
    value = decode(c.call("GET", "key:__rand_int__"))
    assert isinstance(value, bytes) and len(value) == 3, value  # -d defaults to 3 bytes


# ---------------------------------------------------------------------------
# auth


def test_requirepass(server_factory):
    srv = server_factory.create(password="s3cret")
    c = srv.client()
    assert c.call("GET", "k") == NOAUTH
    assert c.call("PING") == NOAUTH
    assert c.call("INCR", "k") == NOAUTH
    # Like Redis, arity and unknown-command errors come before the auth check.
    assert c.call("INCR") == b"-ERR wrong number of arguments for 'incr' command\r\n"
    assert c.call("AUTH", "wrong") == WRONGPASS
    assert c.call("AUTH", "default", "wrong") == WRONGPASS
    assert c.call("AUTH", "nobody", "s3cret") == WRONGPASS
    assert c.call("GET", "k") == NOAUTH
    assert c.call("AUTH", "s3cret") == b"+OK\r\n"
    assert c.call("INCR", "k") == b":1\r\n"
    assert c.call("AUTH", "wrong") == WRONGPASS
    assert c.call("INCR", "k") == b":2\r\n", "a failed AUTH must not log out the connection"

    c2 = srv.client()
    assert c2.call("AUTH", "default", "s3cret") == b"+OK\r\n"
    assert c2.call("GET", "k") == bulk("2")
    c3 = srv.client()
    assert c3.call("QUIT") == b"+OK\r\n"
    assert c3.wait_closed(3)[0]

    import redis  # Debian's python3-redis

    assert srv.redis().incr("k") == 3
    auth_errors = (redis.exceptions.AuthenticationError, redis.exceptions.ResponseError)
    with pytest.raises(auth_errors, match="WRONGPASS"):
        srv.redis(password="wrong").incr("k")
    with pytest.raises(auth_errors, match="NOAUTH|Authentication required"):
        srv.redis(password=None).incr("k")
    cli = need_tool("redis-cli")
    out = run_tool([cli, "-h", HOST, "-p", str(srv.port), "--no-auth-warning", "-a", "s3cret",
                    "INCR", "k"])
    assert out.stdout == b"4\n", out


# ---------------------------------------------------------------------------
# start-up, configuration, shutdown


def test_ready_line_is_logged(server):
    assert "ready to accept connections" in server.log_text().lower()


def test_logfile_and_loglevel_options(server_factory):
    srv = server_factory.create(start=False)
    logfile = srv.workdir / "server-file.log"
    srv.extra_args = ["--logfile", str(logfile), "--loglevel", "debug"]
    srv.start()
    assert srv.client().call("PING") == b"+PONG\r\n"
    text = ""
    for _ in range(30):  # a line should reach the file promptly, as Redis's do
        text = logfile.read_text() if logfile.exists() else ""
        if "ready to accept connections" in text.lower():
            break
        time.sleep(0.1)
    assert "ready to accept connections" in text.lower(), (
        f"3 s after the server answered PING the --logfile has {len(text)} chars and no "
        f"ready line (log lines not flushed?): {text[-500:]!r}")


UNCLEAN = "recovered after an unclean shutdown"


def last_start_log(srv) -> str:
    """The server's log since its latest start (the harness marks each start),
    once it has the ready line (waits up to 3 s for the file to get it)."""
    text = ""
    for _ in range(30):
        text = srv.log_text().rsplit("===== start #", 1)[-1]
        if "ready to accept connections" in text.lower():
            break
        time.sleep(0.1)
    assert "ready to accept connections" in text.lower(), text
    return text


@tally_only
def test_unclean_shutdown_is_logged_only_after_one(server_factory):
    # A first start in a directory that already holds other files, some named
    # like logs, and the server's own --logfile in the data directory: nothing
    # to recover.
    srv = server_factory.create(start=False)
    (srv.data_dir / "app.log").write_text("an application's log\n" * 100)
    (srv.data_dir / "000001.txt").write_text("notes")
    (srv.data_dir / "README").write_text("data of the usage tracker")
    srv.extra_args = ["--logfile", str(srv.data_dir / "tally.log")]
    srv.log_path = srv.data_dir / "tally.log"
    srv.start()
    assert srv.client().call("INCRBY", "k", "5") == b":5\r\n"
    assert UNCLEAN not in last_start_log(srv), last_start_log(srv)

    srv.restart()  # clean: SIGTERM flushes and leaves an empty write-ahead log
    assert UNCLEAN not in last_start_log(srv), last_start_log(srv)

    assert srv.client().call("INCRBY", "k", "5") == b":10\r\n"
    srv.restart(crash=True)  # SIGKILL: the acknowledged INCRBY is only in the WAL
    log = last_start_log(srv)
    assert UNCLEAN in log, log
    assert srv.client().call("GET", "k") == bulk("10")


@tally_only
def test_second_server_on_same_dir_refuses_to_start(server, tally_binary):
    argv = server_argv(tally_binary, ["--port", str(free_port()), "--bind", HOST,
                                      "--dir", str(server.data_dir)])
    res = run_to_exit(argv, timeout=15)
    assert res.returncode != 0, f"second server on the same dir exited 0:\n{res.stdout}"
    out = res.stdout.lower()
    assert str(server.data_dir).lower() in out or "lock" in out, (
        f"the message should name the directory or the lock:\n{res.stdout}")
    assert server.client().call("INCR", "still") == b":1\r\n", "the first server must keep serving"


@pytest.mark.parametrize("args,setting", [
    (["--no-such-flag", "1"], "no-such-flag"),
    (["--port", "notaport"], "port"),
    (["--port", "70000"], "port"),
    (["--loglevel", "bogus"], "loglevel"),
], ids=["unknown-flag", "port-not-a-number", "port-out-of-range", "bad-loglevel"])
def test_invalid_command_line_exits_nonzero_naming_the_setting(tally_binary, tmp_path, args, setting):
    base = ["--bind", HOST, "--dir", str(tmp_path)]
    if "--port" not in args:
        base += ["--port", str(free_port())]
    res = run_to_exit(server_argv(tally_binary, base + args), timeout=10)
    assert res.returncode != 0, f"{args} was accepted:\n{res.stdout}"
    assert setting in res.stdout, f"the message should name '{setting}':\n{res.stdout}"


@tally_only
def test_invalid_threads_value_exits_nonzero(tally_binary, tmp_path):
    res = run_to_exit(server_argv(tally_binary, ["--port", str(free_port()), "--bind", HOST,
                                                 "--dir", str(tmp_path), "--threads", "abc"]))
    assert res.returncode != 0 and "threads" in res.stdout, res.stdout


def test_unknown_config_file_setting_exits_nonzero(tally_binary, tmp_path):
    conf = tmp_path / "tally.conf"
    conf.write_text(f"port {free_port()}\nbind {HOST}\ndir {tmp_path}\n"
                    "bogus-setting yes\n")
    res = run_to_exit(server_argv(tally_binary, [], config_file=conf), timeout=10)
    assert res.returncode != 0, f"unknown setting was accepted:\n{res.stdout}"
    assert "bogus-setting" in res.stdout, f"the message should name the setting:\n{res.stdout}"


def test_config_file_sets_port_and_dir(server_factory):
    from harness import ServerProcess

    workdir = server_factory.new_dir("conf")
    data_dir = workdir / "configured-data"
    data_dir.mkdir()
    port = free_port()
    conf = workdir / "tally.conf"
    lines = ["# Tally test configuration", "", f"port {port}", f"bind {HOST}",
             f"dir {data_dir}", "   # indented comment", "loglevel notice"]
    if not VALIDATION_MODE:
        lines.append("threads 2")
    conf.write_text("\n".join(lines) + "\n")
    srv = ServerProcess(server_factory.binary, workdir, name="configured", port=port,
                        data_dir=workdir / "unused", config_file=conf)
    server_factory.servers.append(srv)
    srv.start()
    assert srv.client().call("INCRBY", "usage:conf", "5") == b":5\r\n"
    assert any(data_dir.iterdir()), "nothing was written to the configured dir"
    assert not any((workdir / "unused").iterdir())
    srv.restart()
    assert srv.client().call("GET", "usage:conf") == bulk("5")


def test_quit_replies_ok_and_closes(server):
    c = server.client()
    assert c.call("INCR", "q") == b":1\r\n"
    assert c.call("QUIT") == b"+OK\r\n"
    closed, extra = c.wait_closed(3)
    assert closed and extra == b""
    assert server.client().call("GET", "q") == bulk("1")


def test_misbehaving_clients_do_not_disturb_others(server):
    idle = [server.client() for _ in range(50)]
    half = server.client()
    half.send(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$100\r\nonly-part")
    bad = server.client()
    bad.send(b"*1\r\n$x\r\n")
    assert bad.read_reply().startswith(b"-ERR Protocol error")
    good = server.client()
    for i in range(1, 101):
        assert good.call("INCR", "good") == b":%d\r\n" % i
    for c in idle:
        c.close()
    half.close()
    assert good.call("EXISTS", "k") == b":0\r\n"
    assert good.call("GET", "good") == bulk("100")


# ---------------------------------------------------------------------------
# Tally-specific SCAN cursors (opaque ids)


@tally_only
def test_scan_cursor_continues_after_restart(server):
    c = server.client()
    expected = {f"key:{i}".encode() for i in range(200)}
    c.call("MSET", *[x for k in sorted(expected) for x in (k, b"v")])
    cursor, page = decode(c.call("SCAN", "0", "COUNT", "50"))
    assert cursor != b"0" and page
    seen = set(page)
    server.restart()
    c = server.client()
    for _ in range(1000):
        reply = c.call("SCAN", cursor, "COUNT", "50")
        value = decode(reply)
        assert isinstance(value, list), f"SCAN with a pre-restart cursor failed: {reply!r}"
        cursor, page = value
        seen.update(page)
        if cursor == b"0":
            break
    else:
        pytest.fail("SCAN did not finish within 1000 calls after restart")
    assert seen == expected


@tally_only
def test_scan_unknown_cursor_is_an_error(server):
    c = server.client()
    c.call("MSET", *[x for i in range(20) for x in (f"k{i}", "v")])
    for args in (("123456789",), ("123456789", "COUNT", "10"), ("987654321987", "MATCH", "k*")):
        reply = c.call("SCAN", *args, timeout=5)
        assert reply.startswith(b"-ERR"), f"SCAN {' '.join(args)} -> {reply!r}"
    assert c.call("PING") == b"+PONG\r\n"
