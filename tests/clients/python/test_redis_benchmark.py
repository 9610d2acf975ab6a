"""redis-benchmark (Debian's redis-tools) against tally-server: the
INCR/GET/SET/MSET tests with and without a password must run to the end and
exit cleanly. (Throughput is measured in bench/, not here.)
"""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
import redis

REDIS_BENCHMARK = shutil.which("redis-benchmark")
REQUESTS = 5000
CLIENTS = 20


def benchmark(server, *extra):
    if not REDIS_BENCHMARK:
        pytest.fail("redis-benchmark (Debian package redis-tools) is needed")
    # redis-benchmark takes -a but not redis-cli's --no-auth-warning.
    auth = ["-a", server.password] if server.password else []
    proc = subprocess.run([REDIS_BENCHMARK, "-h", "127.0.0.1", "-p", str(server.port), *auth,
                           "-t", "incr,get,set,mset",
                           "-n", str(REQUESTS), "-c", str(CLIENTS), "--csv", *extra],
                          capture_output=True, timeout=300)
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    return proc.stdout.decode()


def reported_rates(csv: str) -> dict[str, float]:
    """{"SET": requests per second, ...} from redis-benchmark --csv."""
    out = {}
    for line in csv.splitlines():
        match = re.match(r'^"([^"]+)","([0-9.]+)"', line)
        if match:
            out[match.group(1)] = float(match.group(2))
    return out


def check(server, csv: str, pipeline: int = 1):
    reported = reported_rates(csv)
    assert set(reported) == {"SET", "GET", "INCR", "MSET (10 keys)"}, csv
    assert all(rps > 0 for rps in reported.values()), csv
    r = redis.Redis.from_url(server.url, socket_timeout=10)
    # Every INCR of the benchmark landed on its one counter (with -P the
    # last batches of each client may overshoot the total a little, as
    # they do against Redis).
    incrs = int(r.get("counter:__rand_int__"))
    assert REQUESTS <= incrs < REQUESTS + pipeline * CLIENTS
    assert len(r.get("key:__rand_int__")) == 3  # SET's default 3-byte payload


def test_without_password(tally):
    check(tally, benchmark(tally))


def test_with_password(tally_pw):
    check(tally_pw, benchmark(tally_pw))


def test_pipelined(tally):
    check(tally, benchmark(tally, "-P", "16"), pipeline=16)
