"""Fixtures for the import/export tests: the tally-server binary under test
(TALLY_SERVER, default <repo>/build/tally-server), real redis-server
processes, and Tally servers, each on a free 127.0.0.1 port in a temp dir.
Process handling is the integration suite's harness.py."""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT / "tests" / "integration"))

from harness import ServerProcess, tally_server_path  # noqa: E402


@pytest.fixture(scope="session")
def tally_binary() -> str:
    path = tally_server_path()
    if not Path(path).is_file():
        pytest.fail(f"{path} not found: build it, or set TALLY_SERVER")
    return path


@pytest.fixture(scope="session")
def redis_binary() -> str:
    path = shutil.which("redis-server")
    if not path:
        pytest.fail("redis-server (Debian package redis-server) is needed")
    return path


class Servers:
    """Starts Tally and redis-server processes in one temp dir; stops them
    all at the end."""

    def __init__(self, root: Path, tally: str, redis: str):
        self.root = root
        self.tally = tally
        self.redis_binary = redis
        self.created: list[ServerProcess] = []

    def _workdir(self, name: str) -> Path:
        path = self.root / f"{name}-{len(self.created)}"
        path.mkdir(parents=True)
        return path

    def tally_server(self, name="tally", data_dir=None, password=None) -> ServerProcess:
        server = ServerProcess(self.tally, self._workdir(name), name=name, data_dir=data_dir,
                               password=password, redis_mode=False)
        self.created.append(server)
        return server.start()

    def redis_server(self, name="redis", password=None, extra_args=()) -> ServerProcess:
        server = ServerProcess(self.redis_binary, self._workdir(name), name=name,
                               password=password, redis_mode=False,
                               extra_args=["--save", "", "--appendonly", "no", *extra_args])
        self.created.append(server)
        return server.start()

    def cleanup(self):
        for server in self.created:
            if server.running:
                server.stop()
            server.kill()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    result = outcome.get_result()
    if result.failed:
        for name in ("servers", "module_servers"):
            servers = getattr(item, "funcargs", {}).get(name)
            for server in getattr(servers, "created", []):
                result.sections.append((f"{server.name} log", server.log_tail(3000)))


@pytest.fixture(scope="module")
def module_servers(tally_binary, redis_binary):
    root = Path(tempfile.mkdtemp(prefix="tally-tools-"))
    servers = Servers(root, tally_binary, redis_binary)
    try:
        yield servers
    finally:
        servers.cleanup()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def servers(tally_binary, redis_binary):
    root = Path(tempfile.mkdtemp(prefix="tally-tools-"))
    servers = Servers(root, tally_binary, redis_binary)
    try:
        yield servers
    finally:
        servers.cleanup()
        shutil.rmtree(root, ignore_errors=True)
