"""Simulated power loss. tally-server-synctrack journals what it fsynced; each
round it is SIGKILLed under load at a random moment, then powerloss.py throws
away every byte and file that was not synced (as a power cut would) before
the server starts again and the counters are checked against what the
clients were told.

always: no acknowledged INCR, and no value a GET showed, may be lost, in any
        round.
none:   nothing is synced, so the replay must find losses in every round;
        this is the proof that the test can see a missing fsync.
everysec: reported only; it may lose about the last second of writes (its
        rounds run longer than a second so some writes are kept too).
"""

from __future__ import annotations

import random

import pytest

from powerloss import simulate_power_loss
from workload import Ledger, load_and_kill, read_counters

ROUNDS = 4
# Seconds of load before the kill (after the first 300 acknowledgements).
# everysec rounds outlast its one-second sync period, so the figures show
# what it keeps as well as what it loses.
KILL_AFTER = {"always": (0.05, 0.8), "everysec": (1.5, 2.5), "none": (0.05, 0.8)}


@pytest.mark.parametrize("mode", ["always", "everysec", "none"])
def test_power_loss(mode, servers, synctrack_binary, tally_binary, report, seed, monkeypatch):
    rng = random.Random(seed)
    server = servers.create(synctrack_binary, f"powerloss-{mode}",
                            extra_args=["--durability", mode])
    ledger = Ledger()
    acknowledged = reads = 0
    lost_per_round = []
    losses, excess = [], []
    dropped_bytes = removed_files = 0

    def start_with_journal(number: int):
        monkeypatch.setenv("TALLY_SYNC_JOURNAL", str(server.workdir / f"journal-{number}"))
        server.start()

    start_with_journal(1)
    for round_number in range(1, ROUNDS + 1):
        load_and_kill(server, ledger, rng, kill_after=KILL_AFTER[mode])
        replay = simulate_power_loss(server.workdir / f"journal-{round_number}")
        dropped_bytes += replay.bytes_dropped
        removed_files += len(replay.removed)
        start_with_journal(round_number + 1)
        verdict = ledger.check(read_counters(server.port))
        acknowledged += verdict.acknowledged
        reads += verdict.reads
        lost_per_round.append(verdict.lost)
        losses += [f"round {round_number}: {p}" for p in verdict.losses]
        excess += [f"round {round_number}: {p}" for p in verdict.excess]
    server.kill()

    # The normal binary opens what the simulated power cuts left and reads
    # the same counters the synctrack build read after the last one.
    monkeypatch.delenv("TALLY_SYNC_JOURNAL")
    final = servers.create(tally_binary, f"powerloss-{mode}-final", data_dir=server.data_dir,
                           extra_args=["--durability", mode])
    final.start()
    assert read_counters(final.port) == ledger.floor
    assert final.stop() == 0

    report(f"power-loss test ({mode}): {ROUNDS} rounds, {acknowledged} acknowledged, "
           f"{reads} GETs, {sum(lost_per_round)} lost (per round {lost_per_round}); the replays "
           f"dropped {dropped_bytes} unsynced bytes and {removed_files} unsynced files "
           f"(seed {seed})")
    # In every mode: no counter holds more than was sent.
    assert not excess, "\n".join(excess[:20])
    if mode == "always":
        assert not losses, "\n".join(losses[:20])
    elif mode == "none":
        # Every round acknowledged hundreds of INCRs that were never synced.
        assert all(n > 0 for n in lost_per_round), (
            f"the power-loss replay found no loss in some round of 'none' mode "
            f"({lost_per_round}): it cannot tell a synced write from an unsynced one")
