#!/usr/bin/env python3
"""Writes the seed inputs of the command-layer fuzzer (corpus/command_layer/).

The fuzzer reads its input with libFuzzer's FuzzedDataProvider: the choices of
each step (client, key, operation, small numbers) come one byte each from the
END of the input, random strings from the front. This script spells a few
meaningful command sequences in those terms, so the seeds start the fuzzer at
counters, transactions, WATCH, expiry and scans rather than at random bytes.
Run it after changing the decoding in command_layer_fuzzer.cc.
"""

from pathlib import Path

OPS = {name: i for i, name in enumerate([
    "INCR", "DECR", "INCRBY", "DECRBY", "GET", "SET_INT", "SET_OPTIONS", "DEL", "EXPIRE",
    "PERSIST", "TTL", "MULTI", "EXEC", "DISCARD", "WATCH", "KEYS", "SCAN", "ADVANCE",
    "EXISTS", "DBSIZE", "FLUSHDB"])}


class Seed:
    def __init__(self):
        self.tail = []  # bytes consumed from the end, in order

    def step(self, op, key=0, switch_client=False):
        self.tail += [0 if switch_client else 1, key, OPS[op]]
        return self

    def small(self, value):
        """Integer(): the small-number case, -20..20."""
        self.tail += [3, value + 20]
        return self

    def edge(self, index):
        """Integer(): INT64_MAX, INT64_MIN, INT64_MAX-1, INT64_MIN+1, 0."""
        self.tail += [1, index]
        return self

    def byte(self, value):
        """One raw choice byte (ranges over 256 take more, high byte first)."""
        self.tail.append(value)
        return self

    def data(self):
        return bytes(reversed(self.tail))


def seeds():
    yield "incr-decr-get", (Seed().step("INCR").step("INCR").step("DECR")
                            .step("INCRBY").small(7).step("GET"))
    yield "incrby-overflow", (Seed().step("INCRBY", 1).edge(0).step("INCR", 1)
                              .step("DECRBY", 2).edge(1).step("GET", 1))
    yield "multi-exec-two-clients", (Seed().step("MULTI").step("INCR").step("INCR", 1)
                                     .step("INCR", 0, switch_client=True)
                                     .step("EXEC", 0, switch_client=True).step("GET"))
    yield "watch-then-exec", (Seed().step("WATCH", 2).step("INCR", 2, switch_client=True)
                              .step("MULTI", 2, switch_client=True).step("INCR", 2)
                              .step("EXEC").step("GET", 2))
    yield "expire-advance", (Seed().step("SET_INT", 3).small(5).step("EXPIRE", 3).byte(0)
                             .small(2).byte(0).step("TTL", 3).byte(0).step("ADVANCE")
                             .byte(1).byte(0x09).byte(0xC4).step("GET", 3).step("PERSIST", 3))
    yield "keys-scan-dbsize", (Seed().step("INCR", 0).step("INCR", 1).step("INCR", 3)
                               .step("KEYS").byte(1).byte(1).step("SCAN").byte(1)
                               .byte(0).byte(0).step("DBSIZE").step("EXISTS", 3)
                               .step("DEL").byte(1).byte(0).byte(1).step("FLUSHDB"))


def main():
    out = Path(__file__).resolve().parent / "corpus" / "command_layer"
    out.mkdir(parents=True, exist_ok=True)
    for name, seed in seeds():
        (out / name).write_bytes(seed.data())


if __name__ == "__main__":
    main()
