"""Process crash: SIGKILL at random moments under load, in every durability
mode. The kernel keeps the page cache, so a reply sent after the write
reached the operating system survives in every mode: 0 acknowledged INCRs may
be lost. (What fsync adds is proven by test_power_loss.py.)"""

from __future__ import annotations

import random

import pytest

from workload import Ledger, load_and_kill, read_counters

ROUNDS = 4


@pytest.mark.parametrize("mode", ["always", "everysec", "none"])
def test_sigkill_loses_no_acknowledged_incr(mode, servers, tally_binary, report, seed):
    rng = random.Random(seed)
    server = servers.create(tally_binary, f"crash-{mode}", extra_args=["--durability", mode])
    ledger = Ledger()
    acknowledged = reads = sent = lost = 0
    problems = []
    server.start()
    for round_number in range(1, ROUNDS + 1):
        load_and_kill(server, ledger, rng)
        server.start()
        verdict = ledger.check(read_counters(server.port))
        acknowledged += verdict.acknowledged
        reads += verdict.reads
        sent += verdict.sent
        lost += verdict.lost
        problems += [f"round {round_number}: {p}" for p in verdict.losses + verdict.excess]
    assert server.stop() == 0, "the server did not shut down cleanly after the last round"

    report(f"crash test ({mode}): {ROUNDS} SIGKILL rounds, {sent} INCRs sent, "
           f"{acknowledged} acknowledged, {reads} GETs, {lost} lost (seed {seed})")
    assert not problems, "\n".join(problems[:20])
    assert lost == 0
