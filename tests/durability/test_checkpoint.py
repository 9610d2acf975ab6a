"""Backups (docs/operations.md): SAVE and BGSAVE take a RocksDB checkpoint in
<dir>/checkpoints/<UTC time>; a copy of one is a complete data directory that
tally-server starts on with exactly the data the checkpoint saw. LASTSAVE
moves to the end of the last checkpoint."""

from __future__ import annotations

import re
import shutil
import time

import pytest
import redis

NAME = re.compile(r"^\d{8}T\d{6}Z(-\d+)?$")


def checkpoints(server):
    root = server.data_dir / "checkpoints"
    return sorted(p for p in root.iterdir()) if root.exists() else []


def snapshot(client) -> dict[bytes, bytes]:
    return {key: client.get(key) for key in client.keys("*")}


def test_save_checkpoint_restores_exactly(servers, tally_binary, report):
    server = servers.create(tally_binary, "checkpoint")
    server.start()
    client = server.redis()
    started = client.lastsave()
    for i in range(200):
        client.incrby(f"usage:{i % 37}", i)
    client.set("greeting", "hello")
    client.set("expiring", "soon", ex=3600)
    at_save = snapshot(client)

    assert client.save() is True
    assert client.lastsave() >= started
    saved = checkpoints(server)
    assert len(saved) == 1 and NAME.match(saved[0].name), saved

    # Writes after the checkpoint must not show in it.
    client.incr("usage:0")
    client.set("after", "save")
    client.delete("greeting")

    restored_dir = server.workdir / "restored"
    shutil.copytree(saved[0], restored_dir)
    restored = servers.create(tally_binary, "restored", data_dir=restored_dir)
    restored.start()
    other = restored.redis()
    got = snapshot(other)
    ttl = other.ttl("expiring")
    other.close()
    assert restored.stop() == 0
    assert got == at_save
    assert 0 < ttl <= 3600
    report(f"checkpoint: SAVE of {len(at_save)} keys restored exactly from a copy of "
           f"{saved[0].name}; later writes absent")


def test_bgsave_lastsave_and_unique_names(servers, tally_binary):
    server = servers.create(tally_binary, "bgsave")
    server.start()
    client = server.redis()
    client.set("k", "1")
    with pytest.raises(redis.ResponseError, match="syntax error"):
        client.execute_command("BGSAVE", "NOW")

    # Two SAVEs within one second get different names.
    assert client.save() is True
    assert client.save() is True
    names = [p.name for p in checkpoints(server)]
    assert len(names) == 2 and len(set(names)) == 2, names
    assert all(NAME.match(n) for n in names), names

    client.set("k", "2")
    with server.client() as raw:
        assert raw.call("BGSAVE") == b"+Background saving started\r\n"
    deadline = time.monotonic() + 10
    while len(checkpoints(server)) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(checkpoints(server)) == 3
    # Background saves back to back: each one either starts or gets Redis's
    # "already in progress" error (the checkpoint directory appears before the
    # save is marked finished, and a slow build may stay busy for a while), and
    # the server keeps serving. Bounded in time.
    outcomes = set()
    deadline = time.monotonic() + 10
    while "started" not in outcomes and time.monotonic() < deadline:
        try:
            client.execute_command("BGSAVE", "SCHEDULE")
            outcomes.add("started")
        except redis.ResponseError as error:
            assert str(error) == "Background save already in progress"
            outcomes.add("busy")
            time.sleep(0.01)
    assert "started" in outcomes
    assert abs(client.lastsave().timestamp() - time.time()) < 60
    assert client.get("k") == b"2"


def test_checkpoint_survives_power_loss(servers, synctrack_binary, tally_binary, monkeypatch,
                                        report):
    """A SAVE that returned OK must leave a checkpoint a power cut keeps: the
    rename of its temporary directory into checkpoints/ is only on disk once
    checkpoints/ itself is fsynced."""
    from powerloss import simulate_power_loss

    server = servers.create(synctrack_binary, "checkpoint-powerloss")
    journal = server.workdir / "journal"
    monkeypatch.setenv("TALLY_SYNC_JOURNAL", str(journal))
    server.start()
    client = server.redis()
    for i in range(100):
        client.incrby(f"usage:{i % 10}", i)
    at_save = snapshot(client)
    assert client.save() is True
    client.close()
    server.kill()
    replay = simulate_power_loss(journal)
    saved = checkpoints(server)
    assert [p.name for p in saved if NAME.match(p.name)], (
        f"after the power cut checkpoints/ holds {[p.name for p in saved]} ({replay.summary()})")

    monkeypatch.delenv("TALLY_SYNC_JOURNAL")
    restored_dir = server.workdir / "restored"
    shutil.copytree([p for p in saved if NAME.match(p.name)][0], restored_dir)
    restored = servers.create(tally_binary, "checkpoint-powerloss-restored", data_dir=restored_dir)
    restored.start()
    other = restored.redis()
    got = snapshot(other)
    other.close()
    assert restored.stop() == 0
    assert got == at_save
    report(f"checkpoint: a SAVE survives a simulated power cut right after it ({replay.summary()})")
