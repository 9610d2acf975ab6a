"""Servers for the Python-driven client suites (redis-py, redis-cli,
redis-benchmark).

Every test gets its own tally-server (TALLY_SERVER, default build/tally-server)
on a free 127.0.0.1 port with a fresh temporary directory. Tests that compare
output with Redis also get a real redis-server, started the same way.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]
HOST = "127.0.0.1"
PASSWORD = "s3cret-pw"
START_TIMEOUT = 15.0
STOP_TIMEOUT = 10.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def answers(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=1) as s:
            s.sendall(b"*1\r\n$4\r\nPING\r\n")
            return bool(s.recv(64))
    except OSError:
        return False


class Server:
    """A server process with its own port and data directory."""

    def __init__(self, argv_for_port, name: str, password: str | None):
        self.argv_for_port = argv_for_port
        self.name = name
        self.password = password
        self.dir = Path(tempfile.mkdtemp(prefix=f"tally-clients-{name}-"))
        self.log_path = self.dir / "server.log"
        self.proc: subprocess.Popen | None = None
        self.port = 0

    def start(self) -> "Server":
        for _ in range(3):
            self.port = free_port()
            with open(self.log_path, "ab") as log:
                self.proc = subprocess.Popen(self.argv_for_port(self.port, self.dir), stdout=log,
                                             stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                             start_new_session=True)
            deadline = time.monotonic() + START_TIMEOUT
            while time.monotonic() < deadline and self.proc.poll() is None:
                if answers(self.port):
                    return self
                time.sleep(0.02)
            if self.proc.poll() is None:
                self.proc.kill()
                raise RuntimeError(f"{self.name} did not answer within {START_TIMEOUT}s\n{self.log()}")
            if "in use" not in self.log().lower():
                raise RuntimeError(f"{self.name} exited at start-up\n{self.log()}")
        raise RuntimeError(f"{self.name} found no free port\n{self.log()}")

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-4000:]
        except FileNotFoundError:
            return ""

    def stop(self):
        try:
            if self.proc and self.proc.poll() is None:
                self.proc.send_signal(signal.SIGTERM)
                try:
                    rc = self.proc.wait(timeout=STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(timeout=STOP_TIMEOUT)
                    raise RuntimeError(f"{self.name} ignored SIGTERM\n{self.log()}")
                assert rc == 0, f"{self.name} exited with {rc}\n{self.log()}"
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)

    @property
    def url(self) -> str:
        auth = f"default:{self.password}@" if self.password else ""
        return f"redis://{auth}{HOST}:{self.port}"

    def cli_args(self) -> list[str]:
        """redis-cli / redis-benchmark connection options for this server."""
        args = ["-h", HOST, "-p", str(self.port)]
        if self.password:
            args += ["-a", self.password, "--no-auth-warning"]
        return args


def tally_binary() -> str:
    path = os.environ.get("TALLY_SERVER") or str(REPO_ROOT / "build" / "tally-server")
    if not os.access(path, os.X_OK):
        pytest.fail(f"tally-server not found at {path}: build it or set TALLY_SERVER")
    return path


def start_tally(password: str | None = None) -> Server:
    binary = tally_binary()

    def argv(port, workdir):
        # The default durability (always, group commit): clients must work
        # unchanged with the promise users actually get.
        args = [binary, "--port", str(port), "--bind", HOST, "--dir", str(workdir / "data")]
        return args + (["--requirepass", password] if password else [])

    return Server(argv, "tally", password).start()


def start_redis(password: str | None = None) -> Server:
    binary = shutil.which("redis-server")
    if not binary:
        pytest.fail("redis-server (Debian package redis-server) is needed as the reference")

    def argv(port, workdir):
        args = [binary, "--port", str(port), "--bind", HOST, "--dir", str(workdir),
                "--save", "", "--appendonly", "yes", "--appendfsync", "everysec",
                "--databases", "1"]
        return args + (["--requirepass", password] if password else [])

    return Server(argv, "redis", password).start()


@pytest.fixture
def tally():
    server = start_tally()
    yield server
    server.stop()


@pytest.fixture
def tally_pw():
    server = start_tally(PASSWORD)
    yield server
    server.stop()


@pytest.fixture
def redis_ref():
    server = start_redis()
    yield server
    server.stop()


@pytest.fixture
def redis_ref_pw():
    server = start_redis(PASSWORD)
    yield server
    server.stop()
