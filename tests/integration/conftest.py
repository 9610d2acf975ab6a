"""Fixtures for the integration suite: servers of the binary under test on
free loopback ports with fresh temp dirs, and a session-wide real redis-server
("reference") for the differential tests. See harness.py for the process
handling and the redis-server validation mode."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from harness import ServerProcess, tally_server_path

# ---------------------------------------------------------------------------
# fixtures


def _register(request, *servers):
    """Remembers which servers a test used, so a failure report shows their logs."""
    node = request.node
    if not hasattr(node, "_tally_servers"):
        node._tally_servers = []
    node._tally_servers.extend(servers)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.failed:
        for srv in getattr(item, "_tally_servers", []):
            report.sections.append((f"{srv.name} server log", srv.log_tail()))


@pytest.fixture(scope="session")
def tally_binary() -> str:
    path = tally_server_path()
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        pytest.fail(f"server binary not found at {path}: build it (build/tally-server) "
                    f"or set TALLY_SERVER")
    return path


@pytest.fixture(scope="session")
def redis_server_binary() -> str:
    path = shutil.which("redis-server")
    if not path:
        pytest.fail("redis-server (Debian package redis-server) is needed as the reference")
    return path


@pytest.fixture(scope="session")
def session_tmp():
    root = Path(tempfile.mkdtemp(prefix="tally-it-"))
    yield root
    shutil.rmtree(root, ignore_errors=True)


class ServerFactory:
    def __init__(self, binary: str, root: Path, request):
        self.binary = binary
        self.root = root
        self.request = request
        self.servers: list[ServerProcess] = []
        self.count = 0

    def new_dir(self, label: str) -> Path:
        self.count += 1
        path = self.root / f"{label}-{self.count}"
        path.mkdir(parents=True)
        return path

    def create(self, name: str = "tally", start: bool = True, **kwargs) -> ServerProcess:
        srv = ServerProcess(self.binary, self.new_dir(name), name=name, **kwargs)
        self.servers.append(srv)
        _register(self.request, srv)
        if start:
            srv.start()
        return srv

    def cleanup(self) -> list[str]:
        """Stops every server; returns problems seen at shutdown."""
        problems = []
        for srv in self.servers:
            try:
                problems += shutdown_problems(srv)
            finally:
                srv.kill()
        return problems


SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")


def shutdown_problems(srv: ServerProcess) -> list[str]:
    """Stops srv with SIGTERM if it is still running and reports a non-zero
    exit or a sanitizer report in its log (sanitizer builds run this suite
    too)."""
    problems = []
    if srv.running:
        rc = srv.stop()
        if rc != 0:
            problems.append(f"{srv.name} exited with {rc} on SIGTERM at teardown")
    log = srv.log_text()
    if any(marker in log for marker in SANITIZER_MARKERS):
        problems.append(f"{srv.name} log has a sanitizer report")
    return [f"{p}\n{srv.log_tail()}" for p in problems]


@pytest.fixture
def server_factory(tally_binary, request):
    """Creates servers of the binary under test, each with a fresh temp dir;
    all are stopped and their dirs removed after the test."""
    root = Path(tempfile.mkdtemp(prefix="tally-it-"))
    factory = ServerFactory(tally_binary, root, request)
    problems = []
    try:
        yield factory
    finally:
        problems = factory.cleanup()
        shutil.rmtree(root, ignore_errors=True)
    if problems:
        pytest.fail("\n".join(problems))


@pytest.fixture
def server(server_factory) -> ServerProcess:
    """A fresh server of the binary under test."""
    return server_factory.create()


def _session_server(binary, root: Path, name: str, redis_mode=None) -> ServerProcess:
    workdir = root / name
    workdir.mkdir()
    return ServerProcess(binary, workdir, name=name, redis_mode=redis_mode).start()


@pytest.fixture(scope="session")
def reference_server(redis_server_binary, session_tmp):
    """A real redis-server, shared by the differential tests."""
    srv = _session_server(redis_server_binary, session_tmp, "reference", redis_mode=True)
    yield srv
    srv.stop()
    srv.kill()


@pytest.fixture(scope="session")
def shared_tally(tally_binary, session_tmp):
    """One server under test shared by the differential tests (they FLUSHALL
    before every case)."""
    srv = _session_server(tally_binary, session_tmp, "tally")
    yield srv
    problems = shutdown_problems(srv)
    srv.kill()
    if problems:
        pytest.fail("\n".join(problems))


@pytest.fixture
def diff_pair(request, reference_server, shared_tally):
    """(reference, tally), both running."""
    _register(request, shared_tally)  # the reference log is rarely of interest
    for srv in (reference_server, shared_tally):
        if not srv.running:
            # The case that killed it has already failed (each case checks that
            # both servers survive it); start again so later cases still run.
            srv.start()
    return reference_server, shared_tally
