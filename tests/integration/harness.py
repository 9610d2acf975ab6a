"""Running real server processes on loopback ports for the integration tests.

The server under test is the binary named by TALLY_SERVER (default:
<repo>/build/tally-server). Setting TALLY_SERVER=redis-server runs the whole
suite against a real Redis instead: that is how the suite itself is validated
(every test must pass against Redis, except the ones marked Tally-specific).
A small adapter translates Tally's command line for redis-server in that mode.
"""

from __future__ import annotations

import os
import shutil
import shlex
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from resp_client import RawClient, ReplyTimeout, ConnectionClosed

REPO_ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
START_TIMEOUT = float(os.environ.get("TALLY_START_TIMEOUT", "15"))
STOP_TIMEOUT = 10.0
LOG_TAIL_CHARS = 6000


def _resolve_binary(value: str) -> str:
    if os.sep in value:
        return str(Path(value).resolve())
    return shutil.which(value) or value


def tally_server_path() -> str:
    return _resolve_binary(os.environ.get("TALLY_SERVER") or str(REPO_ROOT / "build" / "tally-server"))


def is_redis_binary(path: str) -> bool:
    return Path(path).name.startswith("redis-server")


# True when the suite runs against redis-server in place of Tally.
VALIDATION_MODE = is_redis_binary(tally_server_path())

tally_only = pytest.mark.skipif(
    VALIDATION_MODE, reason="Tally-specific behaviour; redis-server does not do this")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def redis_adapter_args(args: list[str]) -> list[str]:
    """Translates Tally's command-line options for redis-server.

    redis-server takes the same --port/--bind/--dir/--requirepass/--loglevel/
    --logfile options but has no --threads, keeps 16 databases and snapshots
    by default. Tally has one database and makes every acknowledged write
    durable, so Redis is run with a single database and an fsync-always AOF.
    """
    out = []
    i = 0
    while i < len(args):
        if args[i] == "--threads":
            i += 2
            continue
        out.append(args[i])
        i += 1
    return out + ["--save", "", "--appendonly", "yes", "--appendfsync", "always",
                  "--databases", "1"]


def server_argv(binary: str, args: list[str], config_file=None) -> list[str]:
    """A command line for binary, translated for redis-server in validation mode."""
    if is_redis_binary(binary):
        args = redis_adapter_args(list(args))
    return [binary] + ([str(config_file)] if config_file else []) + list(args)


class ServerProcess:
    """A server process on a loopback port with its own data dir and log file.

    The same object can be stopped, killed and started again on the same data
    dir (and port), as a crash/restart test needs.
    """

    def __init__(self, binary: str, workdir: Path, *, name: str = "tally",
                 data_dir: Path | None = None, port: int | None = None,
                 password: str | None = None, extra_args=(), config_file: Path | None = None,
                 redis_mode: bool | None = None):
        self.binary = binary
        self.name = name
        self.workdir = Path(workdir)
        self.data_dir = Path(data_dir) if data_dir else self.workdir / "data"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if config_file is not None and port is None:
            raise ValueError("with a config file, pass the port that the file sets")
        self.port = port
        self._auto_port = port is None
        self.password = password
        self.extra_args = list(extra_args)
        self.config_file = config_file
        self.redis_mode = is_redis_binary(binary) if redis_mode is None else redis_mode
        self.log_path = self.workdir / f"{name}.log"
        self.proc: subprocess.Popen | None = None
        self.starts = 0
        self._log_offset = 0
        self._clients: list[RawClient] = []

    # ---- command line -------------------------------------------------
    def command_line(self) -> list[str]:
        args = []
        if self.config_file is None:  # else the file sets port, bind and dir
            args += ["--port", str(self.port), "--bind", HOST, "--dir", str(self.data_dir)]
        if self.password is not None:
            args += ["--requirepass", self.password]
        args += self.extra_args
        if self.redis_mode:
            args = redis_adapter_args(args)
        head = [self.binary] + ([str(self.config_file)] if self.config_file else [])
        return head + args

    # ---- lifecycle ------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self, wait: bool = True, timeout: float = START_TIMEOUT):
        assert not self.running, f"{self.name} is already running"
        for attempt in range(3):
            if self.port is None or (self._auto_port and attempt > 0):
                self.port = free_port()
            self._spawn()
            if not wait:
                return self
            try:
                self.wait_ready(timeout)
                return self
            except ServerStartError:
                in_use = "in use" in self.log_text()[self._log_offset:].lower()
                if self._auto_port and in_use and attempt < 2 and not self.running:
                    continue  # another process took the port we picked; pick again
                raise
        return self

    def _spawn(self):
        self.starts += 1
        self._log_offset = len(self.log_text())
        with open(self.log_path, "ab") as log:
            log.write(f"\n===== start #{self.starts}: {shlex.join(self.command_line())}\n".encode())
        log = open(self.log_path, "ab")
        try:
            self.proc = subprocess.Popen(self.command_line(), stdin=subprocess.DEVNULL,
                                         stdout=log, stderr=subprocess.STDOUT,
                                         cwd=self.workdir, start_new_session=True)
        finally:
            log.close()

    def wait_ready(self, timeout: float = START_TIMEOUT):
        """Waits (bounded) until the server answers PING on its port."""
        deadline = time.monotonic() + timeout
        last_error = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise ServerStartError(
                    f"{self.name} exited with code {self.proc.returncode} during start-up\n"
                    f"{self.log_tail()}")
            try:
                with RawClient(HOST, self.port, timeout=2.0) as c:
                    reply = c.call("PING")
                if reply == b"+PONG\r\n" or reply.startswith(b"-NOAUTH"):
                    return
                last_error = f"PING answered {reply!r}"
            except (OSError, ReplyTimeout, ConnectionClosed) as e:
                last_error = repr(e)
            time.sleep(0.05)
        self.kill()
        raise ServerStartError(
            f"{self.name} did not answer PING on port {self.port} within {timeout}s "
            f"(last: {last_error})\n{self.log_tail()}")

    def wait_exit(self, timeout: float = STOP_TIMEOUT) -> int | None:
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def send_signal(self, sig: int):
        if self.running:
            self.proc.send_signal(sig)

    def stop(self, timeout: float = STOP_TIMEOUT) -> int | None:
        """SIGTERM, wait up to timeout, then SIGKILL. Returns the exit code of
        the SIGTERM shutdown, or None if it had to be killed."""
        self.close_clients()
        if self.proc is None:
            return None
        if self.proc.poll() is not None:
            return self.proc.returncode
        self.proc.send_signal(signal.SIGTERM)
        rc = self.wait_exit(timeout)
        if rc is None:
            self.kill()
        return rc

    def kill(self) -> int | None:
        """SIGKILL, as a crash would. Returns the (negative) exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.kill()
        try:
            return self.proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            return None

    def restart(self, *, crash: bool = False) -> "ServerProcess":
        """Stops (SIGTERM, or SIGKILL when crash) and starts again on the same
        data dir and port."""
        self.close_clients()
        if crash:
            self.kill()
        else:
            rc = self.stop()
            assert rc == 0, f"{self.name} exited with {rc} on SIGTERM\n{self.log_tail()}"
        return self.start()

    # ---- clients ------------------------------------------------------------
    def client(self, timeout: float = 5.0) -> RawClient:
        c = RawClient(HOST, self.port, timeout=timeout)
        self._clients.append(c)
        return c

    def redis(self, **kwargs):
        import redis  # Debian's python3-redis

        kwargs.setdefault("socket_timeout", 10)
        if self.password is not None:
            kwargs.setdefault("password", self.password)
        return redis.Redis(host=HOST, port=self.port, **kwargs)

    def close_clients(self):
        for c in self._clients:
            c.close()
        self._clients.clear()

    # ---- logs ------------------------------------------------------------
    def log_text(self) -> str:
        try:
            return self.log_path.read_bytes().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, chars: int = LOG_TAIL_CHARS) -> str:
        text = self.log_text()
        return f"--- {self.name} log ({self.log_path}) ---\n" + text[-chars:]


class ServerStartError(Exception):
    pass


def run_to_exit(argv: list[str], timeout: float = 10.0, cwd=None) -> subprocess.CompletedProcess:
    """Runs a server command line that is expected to exit by itself (bad
    configuration, locked dir). If it is still running at the timeout it is
    killed and the test fails."""
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, cwd=cwd, start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate(timeout=STOP_TIMEOUT)
        pytest.fail(f"{argv} was expected to exit but still ran after {timeout}s; output:\n"
                    f"{out.decode(errors='replace')[-LOG_TAIL_CHARS:]}")
    return subprocess.CompletedProcess(argv, proc.returncode, out.decode(errors="replace"), "")


