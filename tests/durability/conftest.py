"""Fixtures for the durability tests: the two server binaries, servers in
fresh temp dirs (process handling is the integration suite's harness.py), and
the figures report.

TALLY_SERVER           the normal server (default <repo>/build/tally-server)
TALLY_SERVER_SYNCTRACK the same server journaling its syncs (default
                       <repo>/build/tally-server-synctrack)
TALLY_DURABILITY_REPORT file the figures are appended to (optional)
TALLY_DURABILITY_SEED  seed for the random workload and kill moments
                       (default: random, printed with every figure)
"""

from __future__ import annotations

import os
import random
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]
sys.path.insert(0, str(REPO_ROOT / "tests" / "integration"))

from harness import ServerProcess  # noqa: E402  (the integration suite's process handling)


def _binary(variable: str, default: Path) -> str:
    path = os.environ.get(variable) or str(default)
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        pytest.fail(f"{path} not found: build it, or set {variable}")
    return str(Path(path).resolve())


@pytest.fixture(scope="session")
def tally_binary() -> str:
    return _binary("TALLY_SERVER", REPO_ROOT / "build" / "tally-server")


@pytest.fixture(scope="session")
def synctrack_binary() -> str:
    return _binary("TALLY_SERVER_SYNCTRACK", REPO_ROOT / "build" / "tally-server-synctrack")


@pytest.fixture
def seed() -> int:
    value = os.environ.get("TALLY_DURABILITY_SEED")
    return int(value) if value else random.SystemRandom().randrange(1 << 32)


class Report:
    """Prints a figure and appends it to TALLY_DURABILITY_REPORT."""

    def __init__(self):
        self.path = os.environ.get("TALLY_DURABILITY_REPORT")

    def __call__(self, line: str):
        print(line, flush=True)
        if self.path:
            with open(self.path, "a") as out:
                out.write(line + "\n")


@pytest.fixture(scope="session")
def report() -> Report:
    return Report()


class Servers:
    """Creates servers in a fresh temp dir; kills whatever is still running
    and removes the dir at the end of the test."""

    def __init__(self, root: Path, request):
        self.root = root
        self.request = request
        self.created: list[ServerProcess] = []

    def create(self, binary: str, name: str, *, data_dir: Path | None = None,
               extra_args=()) -> ServerProcess:
        workdir = self.root / name
        workdir.mkdir(parents=True, exist_ok=True)
        server = ServerProcess(binary, workdir, name=name, data_dir=data_dir,
                               extra_args=list(extra_args))
        self.created.append(server)
        return server

    def cleanup(self):
        for server in self.created:
            server.kill()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    result = outcome.get_result()
    servers = item.funcargs.get("servers") if hasattr(item, "funcargs") else None
    if result.failed and servers is not None:
        for server in servers.created:
            result.sections.append((f"{server.name} server log", server.log_tail()))


@pytest.fixture
def servers(request):
    root = Path(tempfile.mkdtemp(prefix="tally-durability-"))
    factory = Servers(root, request)
    try:
        yield factory
    finally:
        factory.cleanup()
        shutil.rmtree(root, ignore_errors=True)
