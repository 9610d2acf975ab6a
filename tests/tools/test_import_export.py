"""tally-server import and export (docs/operations.md) against real servers:
a redis-server filled with a few thousand awkward string keys (counters,
expiring keys, binary keys and values with NUL and CRLF, an empty value, a
1 MB value) and keys of other types, copied into a running Tally and checked
key by key; an interrupted import resumed; Tally exported as RESP into a
fresh redis-server with `redis-cli --pipe` and as JSON lines; a checkpoint of
the imported data restored; clear errors for unreachable servers, wrong
passwords and TLS certificates."""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import time
from pathlib import Path

import pytest

HOST = "127.0.0.1"
TOOL_TIMEOUT = 120  # seconds; a bound, not a performance threshold
TTL_MS = 1_000_000  # long enough that nothing expires during the test


def fill_source(client) -> None:
    """A few thousand string keys of every awkward kind, and one key of each
    other type."""
    pipe = client.pipeline(transaction=False)
    for i in range(2000):
        pipe.set(f"usage:tool-{i}", i * 7)  # counters
        if i % 4 == 0:
            pipe.pexpire(f"usage:tool-{i}", TTL_MS + i)
    for i in range(1000):
        pipe.set(f"page:{i}", f"value {i} ü ✓", px=TTL_MS if i % 3 == 0 else None)
    for i in range(200):
        # Bytes that are neither UTF-8 nor line-safe, in keys and values.
        pipe.set(b"bin:\x00\xff\r\n" + bytes([i]), b"\x00\r\n\xfe" + bytes([i, 255 - i]) * 3)
    pipe.set("empty", "")
    pipe.set("big", os.urandom(1 << 20))
    pipe.set("usage:negative", -42)
    pipe.hset("a-hash", "f", "v")
    pipe.rpush("a-list", "x", "y")
    pipe.sadd("a-set", "m")
    pipe.zadd("a-zset", {"m": 1})
    pipe.execute()


def string_keys(client, pattern="*") -> dict[bytes, tuple[bytes, int]]:
    """Every string key with its value and PTTL."""
    keys = [k for k in client.scan_iter(match=pattern, count=1000)
            if client.type(k) == b"string"]
    pipe = client.pipeline(transaction=False)
    for key in keys:
        pipe.get(key)
        pipe.pttl(key)
    replies = pipe.execute()
    return {key: (replies[2 * i], replies[2 * i + 1]) for i, key in enumerate(keys)}


def assert_same(expected: dict, got: dict, elapsed_ms: float) -> None:
    """Same keys and values; TTLs the same within the time that passed."""
    assert set(got) == set(expected), (
        f"missing {sorted(set(expected) - set(got))[:5]}, extra {sorted(set(got) - set(expected))[:5]}")
    for key, (value, pttl) in expected.items():
        got_value, got_pttl = got[key]
        assert got_value == value, key
        if pttl == -1:
            assert got_pttl == -1, key
        else:
            assert pttl - elapsed_ms - 1000 <= got_pttl <= pttl, (key, pttl, got_pttl)


def run_tool(tally_binary, *args, cwd, timeout=TOOL_TIMEOUT, stdin=None):
    return subprocess.run([tally_binary, *args], cwd=cwd, capture_output=True,
                          timeout=timeout, input=stdin)


def url(server, password=None) -> str:
    auth = f":{password}@" if password else ""
    return f"redis://{auth}{HOST}:{server.port}"


@pytest.fixture(scope="module")
def source(module_servers):
    """The redis-server to import from, filled once for the whole module."""
    server = module_servers.redis_server("source")
    client = server.redis()
    fill_source(client)
    return server


def test_import_everything_then_export_resp_into_redis(servers, source, tally_binary, tmp_path):
    src = source.redis()
    expected = string_keys(src)
    assert len(expected) == 3203

    tally = servers.tally_server()
    started = time.monotonic()
    result = run_tool(tally_binary, "import", "--from", url(source), "--to", url(tally),
                      "--count", "500", cwd=tmp_path)
    stderr = result.stderr.decode()
    assert result.returncode == 0, stderr
    assert f"import: complete: {len(expected)} keys copied from {url(source)} to {url(tally)}" in stderr
    assert "skipped 4 keys of other types: hash 1, list 1, set 1, zset 1" in stderr
    assert "0 keys expired or were deleted" in stderr
    assert not list(tmp_path.glob("*.state")), "a completed import leaves no state file"

    got = string_keys(tally.redis())
    assert_same(expected, got, (time.monotonic() - started) * 1000)
    assert tally.redis().dbsize() == len(expected)
    print(f"import of {len(expected)} keys: {time.monotonic() - started:.2f} s")

    # Tally -> RESP dump -> redis-cli --pipe -> a fresh redis-server.
    dump = run_tool(tally_binary, "export", "--format", "resp", "--from", url(tally),
                    cwd=tmp_path)
    assert dump.returncode == 0, dump.stderr.decode()
    assert f"export: complete: {len(expected)} keys written".encode() in dump.stderr
    fresh = servers.redis_server("fresh")
    loaded = subprocess.run(["redis-cli", "-h", HOST, "-p", str(fresh.port), "--pipe"],
                            input=dump.stdout, capture_output=True, timeout=TOOL_TIMEOUT)
    assert loaded.returncode == 0, loaded.stdout + loaded.stderr
    assert f"errors: 0, replies: {len(expected)}".encode() in loaded.stdout, loaded.stdout
    assert_same(expected, string_keys(fresh.redis()), (time.monotonic() - started) * 1000)


def test_import_with_match(servers, source, tally_binary, tmp_path):
    expected = string_keys(source.redis(), "usage:*")
    assert len(expected) == 2001
    tally = servers.tally_server()
    started = time.monotonic()
    result = run_tool(tally_binary, "import", "--from", url(source), "--to", url(tally),
                      "--match", "usage:*", cwd=tmp_path)
    assert result.returncode == 0, result.stderr.decode()
    assert b"import: complete: 2001 keys copied" in result.stderr
    assert b"other types" not in result.stderr  # none of them match
    assert_same(expected, string_keys(tally.redis()), (time.monotonic() - started) * 1000)


def test_interrupted_import_resumes(servers, source, tally_binary, tmp_path):
    expected = string_keys(source.redis())
    tally = servers.tally_server()
    state = tmp_path / "import.state"
    args = ["import", "--from", url(source), "--to", url(tally), "--count", "100",
            "--state", str(state)]
    started = time.monotonic()
    first = run_tool(tally_binary, *args, "--max-batches", "5", cwd=tmp_path)
    stderr = first.stderr.decode()
    assert first.returncode == 2, stderr
    assert "stopped after 5 batches (--max-batches)" in stderr
    saved = json.loads(state.read_text())
    assert saved["batches"] == 5 and saved["cursor"] != "0"
    assert 0 < saved["copied"] < len(expected)
    # What the state file says was copied is in Tally, and nothing more.
    assert tally.redis().dbsize() == saved["copied"]

    # The same command resumes from the saved cursor and finishes the job.
    second = run_tool(tally_binary, *args, cwd=tmp_path)
    stderr = second.stderr.decode()
    assert second.returncode == 0, stderr
    assert (f"import: resuming from {state} at cursor {saved['cursor']}: "
            f"{saved['copied']} keys copied before, in 5 batches") in stderr
    assert f"import: complete: {len(expected)} keys copied" in stderr
    assert f"this run resumed and copied {len(expected) - saved['copied']}" in stderr
    assert "skipped 4 keys of other types" in stderr
    assert not state.exists()
    assert_same(expected, string_keys(tally.redis()), (time.monotonic() - started) * 1000)

    # A state file is never resumed against another import.
    state.write_text(json.dumps({**saved, "match": "other:*"}))
    third = run_tool(tally_binary, *args, cwd=tmp_path)
    assert third.returncode == 1
    assert b"belongs to another import" in third.stderr


def test_ctrl_c_stops_after_a_batch_and_resumes(servers, source, tally_binary, tmp_path):
    """SIGINT (Ctrl-C) lets the batch in flight finish, saves the state and
    exits 2; the same command then resumes."""
    expected = string_keys(source.redis())
    tally = servers.tally_server()
    state = tmp_path / "import.state"
    args = [tally_binary, "import", "--from", url(source), "--to", url(tally), "--count", "5",
            "--state", str(state)]
    started = time.monotonic()
    proc = subprocess.Popen(args, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        # Once the first batch is saved, freeze the import so that the signal
        # surely arrives before it could finish (600+ batches of 5 keys).
        deadline = time.monotonic() + 60
        while not state.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.002)
        proc.send_signal(signal.SIGSTOP)
        assert state.exists(), proc.stderr.read() if proc.poll() is not None else "no state"
        proc.send_signal(signal.SIGINT)
        proc.send_signal(signal.SIGCONT)
        _, err = proc.communicate(timeout=TOOL_TIMEOUT)
    finally:
        proc.kill()
    assert proc.returncode == 2, err.decode()
    assert b"import: interrupted: " in err and b"Run the same command again to resume" in err
    saved = json.loads(state.read_text())
    assert tally.redis().dbsize() == saved["copied"] < len(expected)

    second = run_tool(tally_binary, *args[1:6], "--state", str(state), cwd=tmp_path)
    assert second.returncode == 0, second.stderr.decode()
    assert f"at cursor {saved['cursor']}".encode() in second.stderr
    assert_same(expected, string_keys(tally.redis()), (time.monotonic() - started) * 1000)


def test_export_json_is_binary_safe(servers, source, tally_binary, tmp_path):
    expected = string_keys(source.redis())
    started = time.monotonic()
    result = run_tool(tally_binary, "export", "--format", "json", "--from", url(source),
                      cwd=tmp_path)
    assert result.returncode == 0, result.stderr.decode()
    got = {}
    for line in result.stdout.decode("utf-8").splitlines():  # strict: only valid UTF-8
        entry = json.loads(line)
        key = (entry["key"].encode() if "key" in entry
               else base64.b64decode(entry["key_base64"], validate=True))
        value = (entry["value"].encode() if "value" in entry
                 else base64.b64decode(entry["value_base64"], validate=True))
        assert set(entry) - {"key", "key_base64", "value", "value_base64"} == {"pttl"}
        got[key] = (value, entry["pttl"])
    assert_same(expected, got, (time.monotonic() - started) * 1000)
    assert got[b"usage:tool-5"] == (b"35", -1)
    assert b'"key":"page:1","value":"value 1 \xc3\xbc \xe2\x9c\x93","pttl":-1' in result.stdout


def test_checkpoint_of_imported_data_restores(servers, source, tally_binary, tmp_path):
    """The checkpoint mechanics are tested in tests/durability/test_checkpoint.py;
    here: a checkpoint of imported data (binary values, TTLs) started as its own
    server holds exactly the imported keys, expiry times included."""
    expected = string_keys(source.redis())
    tally = servers.tally_server()
    started = time.monotonic()
    result = run_tool(tally_binary, "import", "--from", url(source), "--to", url(tally),
                      cwd=tmp_path)
    assert result.returncode == 0, result.stderr.decode()
    client = tally.redis()
    assert client.save() is True
    client.set("after-save", "x")
    (checkpoint,) = (tally.data_dir / "checkpoints").iterdir()
    copy = tmp_path / "restored"
    shutil.copytree(checkpoint, copy)
    restored = servers.tally_server("restored", data_dir=copy)
    assert_same(expected, string_keys(restored.redis()), (time.monotonic() - started) * 1000)


def test_clear_errors(servers, tally_binary, tmp_path):
    locked = servers.redis_server("locked", password="s3cret")
    tally = servers.tally_server(password="tally-pw")
    closed_port = socket.socket()
    closed_port.bind((HOST, 0))
    port = closed_port.getsockname()[1]
    closed_port.close()

    def fails(*args):
        result = run_tool(tally_binary, *args, cwd=tmp_path, timeout=60)
        assert result.returncode == 1, result
        return result.stderr.decode()

    assert (f"import: cannot connect to the source redis://{HOST}:{port}: Connection refused"
            in fails("import", "--from", f"redis://{HOST}:{port}"))
    assert "requires a password (NOAUTH Authentication required.)" in fails(
        "import", "--from", url(locked))
    err = fails("import", "--from", url(locked, "wrong"))
    assert (f"the source redis://{HOST}:{locked.port} refused the credentials: WRONGPASS "
            "invalid username-password pair or user is disabled.") in err
    assert "wrong" not in err.replace("WRONGPASS", "")  # the password is never echoed
    assert "the destination" in fails("import", "--from", url(locked, "s3cret"), "--to",
                                      url(tally, "nope"))
    assert "--from: not a redis:// or rediss:// URL" in fails("import", "--from", "http://x")
    assert "--format must be resp or json" in fails("export", "--format", "xml")

    # With the right passwords on both sides it works.
    locked.redis().set("k", "v")
    ok = run_tool(tally_binary, "import", "--from", url(locked, "s3cret"), "--to",
                  url(tally, "tally-pw"), cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr.decode()
    assert tally.redis().get("k") == b"v"


def make_certificates(directory: Path) -> tuple[Path, Path, Path]:
    """A test CA and a certificate it signed for 127.0.0.1 and localhost."""
    ca_key, ca_crt = directory / "ca.key", directory / "ca.crt"
    key, csr, crt = directory / "server.key", directory / "server.csr", directory / "server.crt"
    ext = directory / "san.ext"
    ext.write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    for argv in (
        ["req", "-x509", *ec, "-keyout", ca_key, "-out", ca_crt, "-subj", "/CN=Tally test CA",
         "-days", "2"],
        ["req", *ec, "-keyout", key, "-out", csr, "-subj", "/CN=localhost"],
        ["x509", "-req", "-in", csr, "-CA", ca_crt, "-CAkey", ca_key, "-CAcreateserial",
         "-out", crt, "-days", "2", "-extfile", ext],
    ):
        subprocess.run(["openssl", *map(str, argv)], check=True, capture_output=True, timeout=60)
    return ca_crt, crt, key


def test_rediss_verifies_the_certificate(servers, tally_binary, tmp_path):
    ca, crt, key = make_certificates(tmp_path)
    with socket.socket() as s:
        s.bind((HOST, 0))
        tls_port = s.getsockname()[1]
    # A redis-server with TLS only on tls_port; its plain port answers the
    # harness's readiness PING.
    redis = servers.redis_server("tls", extra_args=[
        "--tls-port", str(tls_port), "--tls-cert-file", str(crt), "--tls-key-file", str(key),
        "--tls-ca-cert-file", str(ca), "--tls-auth-clients", "no"])
    redis.redis().set("usage:tls", 5, px=TTL_MS)
    context = ssl.create_default_context(cafile=str(ca))
    with socket.create_connection((HOST, tls_port), timeout=10) as raw:
        with context.wrap_socket(raw, server_hostname=HOST) as tls:
            tls.sendall(b"PING\r\n")
            assert tls.recv(16) == b"+PONG\r\n"

    tally = servers.tally_server()
    source_url = f"rediss://{HOST}:{tls_port}"
    untrusted = run_tool(tally_binary, "import", "--from", source_url, "--to", url(tally),
                         cwd=tmp_path, timeout=60)
    assert untrusted.returncode == 1
    err = untrusted.stderr.decode()
    assert f"TLS handshake with the source {source_url} failed: certificate verify failed" in err
    assert "--cacert FILE" in err

    trusted = run_tool(tally_binary, "import", "--from", source_url, "--to", url(tally),
                       "--cacert", str(ca), cwd=tmp_path, timeout=60)
    assert trusted.returncode == 0, trusted.stderr.decode()
    assert tally.redis().get("usage:tls") == b"5"
    assert 0 < tally.redis().pttl("usage:tls") <= TTL_MS

    insecure = run_tool(tally_binary, "export", "--format", "json", "--from", source_url,
                        "--insecure", cwd=tmp_path, timeout=60)
    assert insecure.returncode == 0, insecure.stderr.decode()
    assert json.loads(insecure.stdout)["value"] == "5"
