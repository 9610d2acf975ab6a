"""Tally sharded behind twemproxy (nutcracker), as docs/scaling.md describes.

Three tally-server instances with a password and two nutcracker proxies in
front of them, all on loopback, configured from deploy/nutcracker/nutcracker.yml
(only addresses, the password, auto_eject_hosts and the retry time are
changed): proxy "keep" with auto_eject_hosts false (the shipped setting),
proxy "eject" with auto_eject_hosts true. Through them, with redis-py:

- 10,000 distinct counters are written with pipelined INCRBY and read back
  with MGET; DBSIZE on each instance shows how ketama spread them;
- which commands the proxy passes (INCR, GET, MGET, DEL across servers) and
  what it does with the ones it does not (KEYS, SCAN, DBSIZE: the proxy closes
  the connection), and that a cluster-wide SCAN means one SCAN per instance;
- one instance is killed with SIGKILL: what each proxy answers for its keys
  while it is down (measured and printed), then it restarts on the same data,
  its counters are all there, and every value is right again through both
  proxies.

The figures are printed (pytest -s) for docs/scaling.md.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT / "tests" / "integration"))

from harness import HOST, ServerProcess, free_port, tally_server_path  # noqa: E402
from resp_client import ConnectionClosed, RawClient, ReplyTimeout  # noqa: E402

import redis  # noqa: E402  (Debian's python3-redis)

TEMPLATE = REPO_ROOT / "deploy" / "nutcracker" / "nutcracker.yml"
PASSWORD = "nutcracker-test-secret"
COUNTERS = 10_000
KEY = "usage:tool-{:05d}"
RETRY_MS = 1500  # server_retry_timeout of the ejecting proxy
WAIT_LIMIT = 15.0  # bound of every wait loop, seconds


def nutcracker_binary() -> str:
    path = shutil.which("nutcracker") or shutil.which("nutcracker", path="/usr/sbin:/sbin")
    if not path:
        pytest.fail("nutcracker is needed (Debian package nutcracker; scripts/deps.sh installs it)")
    return path


def render_config(listen_port: int, backend_ports: list[int], auto_eject: bool) -> str:
    """The deploy template with loopback addresses: the listen address, the
    servers' host:port (names and weights kept, so keys hash as in
    production), the password, auto_eject_hosts and, for the ejecting proxy, a
    short server_retry_timeout so that the test sees the server come back."""
    text = TEMPLATE.read_text()
    text, n = re.subn(r"(?m)^(\s*listen:).*$", rf"\1 {HOST}:{listen_port}", text)
    assert n == 1, "the template has one listen line"
    servers = iter(backend_ports)
    text, n = re.subn(r"(?m)^(\s*- )[^\s:]+:\d+(:\d+ \S+)$",
                      lambda m: f"{m.group(1)}{HOST}:{next(servers)}{m.group(2)}", text)
    assert n == len(backend_ports), "the template lists one line per server"
    for name, value in (("auto_eject_hosts", str(auto_eject).lower()),
                        ("redis_auth", PASSWORD)):
        text, n = re.subn(rf"(?m)^(\s*{name}:).*$", rf"\1 {value}", text)
        assert n == 1, f"the template sets {name}"
    if auto_eject:
        text, n = re.subn(r"(?m)^(\s*server_retry_timeout:).*$", rf"\1 {RETRY_MS}", text)
        assert n == 1
    return text


class Nutcracker:
    def __init__(self, name: str, workdir: Path, render):
        self.name = name
        self.render = render  # listen port -> config text
        self.port = None
        self.conf = workdir / f"{name}.yml"
        self.log = workdir / f"{name}.log"
        self.proc = None

    def start(self):
        binary = nutcracker_binary()
        for attempt in range(3):  # another process may take the free port first
            self.port = free_port()
            self.conf.write_text(self.render(self.port))
            check = subprocess.run([binary, "-t", "-c", str(self.conf)], capture_output=True,
                                   text=True, timeout=10)
            assert check.returncode == 0, check.stdout + check.stderr
            self.proc = subprocess.Popen(
                [binary, "-c", str(self.conf), "-s", str(free_port()), "-a", HOST, "-o",
                 str(self.log), "-v", "5"],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
                start_new_session=True)
            deadline = time.monotonic() + WAIT_LIMIT
            while time.monotonic() < deadline and self.proc.poll() is None:
                try:
                    if self.redis().ping():
                        return self
                except redis.exceptions.RedisError:
                    pass
                time.sleep(0.05)
            if self.proc.poll() is None or "in use" not in self.log_tail():
                break
        self.stop()
        pytest.fail(f"nutcracker {self.name} did not answer PING\n{self.log_tail()}")

    def redis(self) -> redis.Redis:
        return redis.Redis(host=HOST, port=self.port, password=PASSWORD, socket_timeout=10)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)

    def log_tail(self) -> str:
        try:
            return self.log.read_text(errors="replace")[-4000:]
        except FileNotFoundError:
            return ""


def classify(replies) -> dict[str, int]:
    """Counts pipeline replies: 'value', 'nil' or the error text."""
    counts: dict[str, int] = {}
    for r in replies:
        if isinstance(r, Exception):
            kind = f"error: {r}"
        elif r is None:
            kind = "nil"
        else:
            kind = "value"
        counts[kind] = counts.get(kind, 0) + 1
    return counts


def get_all(client: redis.Redis, keys: list[str]) -> list:
    pipe = client.pipeline(transaction=False)
    for k in keys:
        pipe.get(k)
    return pipe.execute(raise_on_error=False)


def raw_reply(port: int, *command: str) -> str:
    """What the proxy answers to one command after AUTH, as raw RESP, or
    'connection closed' when it closes the connection instead."""
    with RawClient(HOST, port, timeout=5.0) as c:
        assert c.call("AUTH", PASSWORD) == b"+OK\r\n"
        try:
            return repr(c.call(*command))
        except ConnectionClosed:
            return "connection closed without a reply"
        except ReplyTimeout:
            return "no reply within 5 s"


def wait_until(predicate, what: str):
    deadline = time.monotonic() + WAIT_LIMIT
    start = time.monotonic()
    while time.monotonic() < deadline:
        if predicate():
            return time.monotonic() - start
        time.sleep(0.05)
    pytest.fail(f"timed out after {WAIT_LIMIT}s waiting until {what}")


@pytest.fixture
def cluster(tmp_path):
    servers = [ServerProcess(tally_server_path(), tmp_path / f"tally-{n}", name=f"tally-{n}",
                             password=PASSWORD, extra_args=["--threads", "1"])
               for n in "abc"]
    proxies = []
    try:
        for s in servers:
            s.workdir.mkdir(parents=True, exist_ok=True)
            s.start()
        ports = [s.port for s in servers]
        proxies = [Nutcracker("keep", tmp_path, lambda port: render_config(port, ports, False)),
                   Nutcracker("eject", tmp_path, lambda port: render_config(port, ports, True))]
        for p in proxies:
            p.start()
        yield servers, proxies
    except BaseException:
        for s in servers:
            print(s.log_tail())
        for p in proxies:
            print(f"--- nutcracker {p.name} log ---\n{p.log_tail()}")
        raise
    finally:
        for p in proxies:
            p.stop()
        for s in servers:
            s.stop()


def test_template_is_valid_nutcracker_config():
    res = subprocess.run([nutcracker_binary(), "-t", "-c", str(TEMPLATE)], capture_output=True,
                         text=True, timeout=10)
    assert res.returncode == 0, res.stdout + res.stderr


def test_sharding_through_nutcracker(cluster):
    servers, (keep, eject) = cluster
    started = time.monotonic()
    proxy = keep.redis()
    keys = [KEY.format(i) for i in range(COUNTERS)]
    expected = {k: i + 1 for i, k in enumerate(keys)}

    # --- 10,000 distinct counters through the proxy ------------------------
    for start in range(0, COUNTERS, 1000):
        pipe = proxy.pipeline(transaction=False)
        for k in keys[start:start + 1000]:
            pipe.incrby(k, expected[k])
        assert pipe.execute() == [expected[k] for k in keys[start:start + 1000]]
    for start in range(0, COUNTERS, 100):
        chunk = keys[start:start + 100]
        assert [int(v) for v in proxy.mget(chunk)] == [expected[k] for k in chunk]

    direct = [s.redis() for s in servers]
    sizes = [d.dbsize() for d in direct]
    print(f"\nnutcracker: {COUNTERS} counters through the proxy (pipelined INCRBY, MGET of 100),"
          f" all values right; keys per instance (DBSIZE): "
          + ", ".join(f"{s.name} {n} ({100 * n / COUNTERS:.1f}%)" for s, n in zip(servers, sizes)))
    assert sum(sizes) == COUNTERS
    # ketama over three equal weights: every instance holds a real share.
    assert min(sizes) >= COUNTERS // 10, sizes

    # --- a cluster-wide scan is one SCAN per instance ----------------------
    owned = []
    for d in direct:
        owned.append({k.decode() for k in d.scan_iter(match="usage:*", count=1000)})
    assert set().union(*owned) == set(keys)
    assert sum(len(o) for o in owned) == COUNTERS  # every key on exactly one instance
    print(f"nutcracker: SCAN on each of the {len(servers)} instances found "
          + " + ".join(str(len(o)) for o in owned) + f" = {COUNTERS} keys, none twice")

    # --- which commands the proxy passes -------------------------------------
    one_per_server = [sorted(o)[0] for o in owned]
    assert [int(v) for v in proxy.mget(one_per_server)] == [expected[k] for k in one_per_server]
    assert proxy.incr(one_per_server[0]) == expected[one_per_server[0]] + 1
    assert proxy.decr(one_per_server[0]) == expected[one_per_server[0]]
    assert proxy.set("nutcracker:tmp:a", 1) and proxy.set("nutcracker:tmp:b", 2)
    assert proxy.expire("nutcracker:tmp:a", 100) and 0 < proxy.ttl("nutcracker:tmp:a") <= 100
    assert proxy.delete("nutcracker:tmp:a", "nutcracker:tmp:b", "nutcracker:tmp:none") == 2
    assert proxy.exists("nutcracker:tmp:a", "nutcracker:tmp:b") == 0
    print("nutcracker passes: GET, INCR, INCRBY, DECR, SET, EXPIRE, TTL, EXISTS, PING; MGET and "
          "DEL with keys on all three instances (split per instance, replies merged)")
    refused = {}
    for command in (["KEYS", "usage:*"], ["SCAN", "0", "MATCH", "usage:*"], ["DBSIZE"],
                    ["INFO"], ["HELLO", "3"], ["SELECT", "0"]):
        refused[" ".join(command)] = raw_reply(keep.port, *command)
    for command, reply in refused.items():
        print(f"nutcracker does not pass {command}: {reply}")
    assert refused["KEYS usage:*"] == "connection closed without a reply"
    assert refused["SCAN 0 MATCH usage:*"] == "connection closed without a reply"
    with RawClient(HOST, keep.port, timeout=5.0) as c:
        noauth = c.call("GET", keys[0])
    print(f"nutcracker without AUTH (redis_auth set): {noauth!r}")
    assert noauth.startswith(b"-NOAUTH")

    # --- one instance is killed --------------------------------------------
    victim_index = 1
    victim = servers[victim_index]
    victim_keys = sorted(owned[victim_index])
    live_keys = [k for k in keys if k not in owned[victim_index]]
    victim.kill()

    # auto_eject_hosts false: its keys get errors, every other key is served.
    replies = get_all(proxy, keys)
    counts = classify(replies)
    print(f"nutcracker, {victim.name} down, auto_eject_hosts false: GET of all {COUNTERS} keys: "
          + ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items())))
    for k, r in zip(keys, replies):
        if k in owned[victim_index]:
            assert isinstance(r, redis.exceptions.ResponseError), (k, r)
        else:
            assert int(r) == expected[k], (k, r)
    down_reply = raw_reply(keep.port, "GET", victim_keys[0])
    print(f"nutcracker, {victim.name} down, auto_eject_hosts false: the raw reply to GET of one "
          f"of its keys: {down_reply}")
    assert down_reply.startswith("b'-ERR")
    try:
        proxy.mget(one_per_server)
        mget_down = "answered"
    except redis.exceptions.ResponseError as e:
        mget_down = f"error: {e}"
    print(f"nutcracker, {victim.name} down, auto_eject_hosts false: an MGET with one key on it: "
          f"{mget_down}")
    assert mget_down.startswith("error")

    # auto_eject_hosts true: the first commands fail, then the server is out of
    # the ring and its keys hash to the others, where they do not exist.
    ejecting = eject.redis()
    probe = victim_keys[0]
    failures = []

    def probe_answers():
        try:
            ejecting.get(probe)
            return True
        except redis.exceptions.ResponseError as e:
            failures.append(str(e))
            return False

    wait_until(probe_answers, "the ejecting proxy answers for a key of the down server")
    sample = victim_keys[:200]
    counts = {}

    def sample_answered():
        # Every server_retry_timeout the proxy tries the down server again and
        # the commands of that moment fail: read again if this was one.
        counts.clear()
        counts.update(classify(get_all(ejecting, sample)))
        return not any(kind.startswith("error") for kind in counts)

    wait_until(sample_answered, "a GET of the down server's keys is answered")
    print(f"nutcracker, {victim.name} down, auto_eject_hosts true: {len(failures)} command(s) "
          f"failed ({', '.join(sorted(set(failures)))}) before it was ejected; then GET of "
          f"{len(sample)} of its keys: "
          + ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items())))
    assert counts.get("nil", 0) > 0, counts  # rehashed to a server that lacks them
    assert counts.get("value", 0) == 0, counts  # its values are nowhere else
    # INCR on its keys during the outage: acknowledged, but from nil, elsewhere.
    stranded = {}
    for k in victim_keys[:50]:
        try:
            stranded[k] = ejecting.incr(k)
        except redis.exceptions.ResponseError:
            pass  # a retry of the down server (every server_retry_timeout) fails
    assert stranded and all(v == 1 for v in stranded.values()), stranded
    print(f"nutcracker, {victim.name} down, auto_eject_hosts true: {len(stranded)} INCRs on its "
          f"keys were acknowledged with 1 (counted from nil on another instance)")
    for k in live_keys[:100]:
        assert int(ejecting.get(k)) == expected[k]

    # --- restart: its counters survived the SIGKILL --------------------------
    victim.start()
    assert victim.redis().dbsize() == len(victim_keys)
    values = victim.redis().mget(victim_keys)
    assert [int(v) for v in values] == [expected[k] for k in victim_keys]
    print(f"nutcracker: {victim.name} restarted after SIGKILL with all {len(victim_keys)} of its "
          f"counters")

    def all_right(client):
        replies = get_all(client, keys)
        return all(not isinstance(r, Exception) and r is not None and int(r) == expected[k]
                   for k, r in zip(keys, replies))

    waited = wait_until(lambda: all_right(proxy), "every value is right through the proxy")
    print(f"nutcracker, auto_eject_hosts false: all {COUNTERS} values right again "
          f"{waited:.2f} s after the restart")
    waited = wait_until(lambda: all_right(ejecting),
                        "the ejecting proxy has put the server back in the ring")
    print(f"nutcracker, auto_eject_hosts true: the server was back in the ring {waited:.2f} s "
          f"after the restart (server_retry_timeout {RETRY_MS} ms); all values right, the "
          f"{len(stranded)} INCRs of the outage are stranded on the other instances")
    # The increments of the outage are still on the instance that took them.
    others = [d for i, d in enumerate(direct) if i != victim_index]
    for k in stranded:
        assert sum(int(d.get(k) or 0) for d in others) == 1
    assert sum(d.dbsize() for d in others) == len(live_keys) + len(stranded)
    elapsed = time.monotonic() - started
    print(f"nutcracker test: {elapsed:.1f} s")
