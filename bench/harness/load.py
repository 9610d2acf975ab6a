"""Loads keys with pipelined MSET: the GET/SET/MGET key set before the
throughput workloads, and the N counters of the scale workload."""

import time

from . import resp

BATCH = 1000   # keys per MSET
WINDOW = 8     # MSETs in flight


def _mset(pairs):
    parts = [b"*%d\r\n$4\r\nMSET\r\n" % (1 + 2 * len(pairs))]
    for k, v in pairs:
        parts.append(b"$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(k), k, len(v), v))
    return b"".join(parts)


def counter_value(i):
    """A deterministic, counter-like value in 1..99999."""
    return b"%d" % ((i * 2654435761) % 99999 + 1)


def load(conn, pairs_iter, deadline_s):
    """Sends MSETs of BATCH pairs from pairs_iter, WINDOW in flight. Returns
    (keys, seconds). Raises on an error reply or when deadline_s passes."""
    start = time.monotonic()
    inflight = 0
    keys = 0
    batch = []

    def drain(n):
        nonlocal inflight
        for _ in range(n):
            reply = conn.read_reply()
            if isinstance(reply, resp.RespError):
                raise reply
            inflight -= 1

    def flush():
        nonlocal inflight, batch, keys
        if not batch:
            return
        if inflight >= WINDOW:
            drain(1)
        conn.send_raw(_mset(batch))
        inflight += 1
        keys += len(batch)
        batch = []
        if time.monotonic() - start > deadline_s:
            raise TimeoutError("loading took longer than %.0f s (%d keys sent)" % (deadline_s, keys))

    for pair in pairs_iter:
        batch.append(pair)
        if len(batch) == BATCH:
            flush()
    flush()
    drain(inflight)
    return keys, time.monotonic() - start


def get_keys(count):
    """key:000000000000 .. : the keys GET, SET and MGET pick from."""
    for i in range(count):
        yield b"key:%012d" % i, counter_value(i)


def scale_keys(n, matches):
    """n keys in all: n - matches counters c:<12 digits> (the keys the scale
    INCR hits through redis-benchmark's -r) and `matches` keys usage:tool-<i>,
    the ones KEYS usage:* must find."""
    for i in range(n - matches):
        yield b"c:%012d" % i, counter_value(i)
    for j in range(matches):
        yield b"usage:tool-%04d" % j, counter_value(j)
