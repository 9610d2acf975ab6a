"""The crash workload: several connections INCR random keys while the server
is killed at a random moment; a ledger remembers what the clients were told,
and after the restart every counter is checked against it.

For each key the ledger knows the value last read from the server (`floor`),
how many INCRs were sent since (acknowledged or not), every value an INCR
reply acknowledged and every value a GET reply showed. After a crash and
restart the counter must be at least every value a client was shown and the
floor, and at most floor + INCRs sent.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import redis  # Debian's python3-redis

HOST = "127.0.0.1"
KEYS = [f"durability:{i:03d}" for i in range(48)]


@dataclass
class Verdict:
    acknowledged: int = 0  # INCR replies received in the round
    reads: int = 0         # GET replies received in the round
    sent: int = 0          # INCRs sent in the round (acknowledged or not)
    lost: int = 0          # INCR and GET replies the counters no longer reflect
    losses: list[str] = field(default_factory=list)  # counters below what clients were told
    excess: list[str] = field(default_factory=list)  # counters above what clients sent


class Ledger:
    def __init__(self, keys=KEYS):
        self.keys = list(keys)
        self.floor = {key: 0 for key in self.keys}
        self._lock = threading.Lock()
        self._new_round()

    def _new_round(self):
        self.sent = Counter()
        self.shown: dict[str, list[int]] = defaultdict(list)  # INCR and GET replies
        self.acknowledged = 0
        self.reads = 0

    def sending(self, key: str):
        with self._lock:
            self.sent[key] += 1

    def acknowledge(self, key: str, value: int):
        with self._lock:
            self.shown[key].append(value)
            self.acknowledged += 1

    def read(self, key: str, value: int):
        with self._lock:
            self.shown[key].append(value)
            self.reads += 1

    def check(self, observed: dict[str, int]) -> Verdict:
        """Compares the counters read after a restart with what clients were
        told, then starts a new round from the observed values."""
        verdict = Verdict(acknowledged=self.acknowledged, reads=self.reads,
                          sent=sum(self.sent.values()))
        for key in self.keys:
            value, floor = observed[key], self.floor[key]
            shown = self.shown[key]
            lost = sum(1 for a in shown if a > value) + (1 if value < floor else 0)
            if lost:
                verdict.lost += lost
                verdict.losses.append(
                    f"{key} = {value}: below {lost} values clients were shown "
                    f"(highest {max(shown + [floor])})")
            ceiling = floor + self.sent[key]
            if value > ceiling:
                verdict.excess.append(
                    f"{key} = {value}: above {ceiling}, the value before the round "
                    f"({floor}) plus the {self.sent[key]} INCRs sent")
        self.floor = dict(observed)
        self._new_round()
        return verdict


def read_counters(port: int, keys=KEYS) -> dict[str, int]:
    client = redis.Redis(host=HOST, port=port, socket_timeout=10)
    try:
        return {key: int(client.get(key) or 0) for key in keys}
    finally:
        client.close()


def _incr(client, ledger: Ledger, key: str):
    ledger.sending(key)
    ledger.acknowledge(key, client.incr(key))


def _get(client, ledger: Ledger, key: str):
    ledger.read(key, int(client.get(key) or 0))


def _connection(command, port: int, ledger: Ledger, rng: random.Random, max_ops: int,
                deadline: float, errors: list):
    """One client connection running `command` on random keys until the
    server goes away (the command in flight then counts as sent, not as
    acknowledged), max_ops commands or the deadline."""
    client = redis.Redis(host=HOST, port=port, socket_timeout=10, socket_connect_timeout=5)
    try:
        for _ in range(max_ops):
            if time.monotonic() > deadline:
                break
            command(client, ledger, rng.choice(ledger.keys))
    except (redis.ConnectionError, redis.TimeoutError, OSError):
        pass  # the server was killed under us
    except Exception as error:  # noqa: BLE001 - anything else fails the test
        errors.append(repr(error))
    finally:
        client.close()


def load_and_kill(server, ledger: Ledger, rng: random.Random, *, writers: int = 8,
                  readers: int = 2, min_acks: int = 300,
                  kill_after: tuple[float, float] = (0.05, 0.8),
                  max_ops_per_connection: int = 5000, time_limit: float = 20.0):
    """Runs `writers` INCR connections and `readers` GET connections (a value
    shown to a client must not be lost either) against `server` and SIGKILLs
    it at a random moment once at least `min_acks` INCRs were acknowledged
    (so every round has something to lose). Bounded: each connection stops
    after max_ops_per_connection commands or time_limit seconds."""
    deadline = time.monotonic() + time_limit
    errors: list[str] = []
    threads = [threading.Thread(target=_connection, daemon=True,
                                args=(command, server.port, ledger, random.Random(rng.random()),
                                      max_ops_per_connection, deadline, errors))
               for command in [_incr] * writers + [_get] * readers]
    for thread in threads:
        thread.start()
    while ledger.acknowledged < min_acks and time.monotonic() < deadline and \
            any(t.is_alive() for t in threads):
        time.sleep(0.005)
    time.sleep(rng.uniform(*kill_after))
    server.kill()
    for thread in threads:
        thread.join(timeout=max(1.0, deadline - time.monotonic() + 5))
    assert not any(t.is_alive() for t in threads), "a client did not stop after the kill"
    assert not errors, f"clients got unexpected errors: {errors[:5]}"
    assert ledger.acknowledged >= min_acks, (
        f"only {ledger.acknowledged} INCRs were acknowledged before the kill")
