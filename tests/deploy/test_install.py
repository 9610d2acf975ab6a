"""`cmake --install` as docs/operations.md describes it, into a temp prefix:
the files land where the docs say, the systemd unit starts the installed
binary with the installed config, that config (every setting, at its default)
is accepted by the binary, --version names the git commit and --help is a
manual page listing every setting."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT / "tests" / "integration"))

from harness import ServerProcess  # noqa: E402
from resp_client import decode  # noqa: E402


def cmake_install(root: Path) -> str:
    build = os.environ.get("TALLY_BUILD_DIR") or str(REPO_ROOT / "build")
    res = subprocess.run(["cmake", "--install", build, "--prefix", str(root)],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stdout + res.stderr
    return res.stdout


@pytest.fixture(scope="module")
def prefix(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("install")
    cmake_install(root)
    return root


def run(argv, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(argv, capture_output=True, text=True, timeout=30, **kwargs)


SETTING_LINE = re.compile(r"^# ([a-z0-9-]+) (.*)$")  # `# name default` in tally.conf


def setting_names(binary: str) -> list[str]:
    """The settings --help lists, in its order."""
    return re.findall(r"(?m)^ {7}--([a-z0-9-]+) VALUE$", run([binary, "--help"]).stdout)


def test_installed_files(prefix):
    binary = prefix / "bin" / "tally-server"
    assert binary.is_file() and os.access(binary, os.X_OK)
    for path in ("etc/tally/tally.conf", "lib/systemd/system/tally.service",
                 "lib/sysusers.d/tally.conf", "share/doc/tally/examples/nutcracker.yml",
                 "share/doc/tally/examples/tally.conf"):
        assert (prefix / path).is_file(), path
    assert "u tally " in (prefix / "lib/sysusers.d/tally.conf").read_text()


def test_reinstall_keeps_the_operators_config(tmp_path):
    cmake_install(tmp_path)
    conf = tmp_path / "etc/tally/tally.conf"
    edited = conf.read_text() + "port 7001\n"
    conf.write_text(edited)
    out = cmake_install(tmp_path)  # an upgrade
    assert conf.read_text() == edited
    assert "Keeping: " in out
    example = (tmp_path / "share/doc/tally/examples/tally.conf").read_text()
    assert example == run([str(tmp_path / "bin/tally-server"), "--print-config"]).stdout


def test_systemd_unit_runs_the_installed_binary_with_the_installed_config(prefix):
    unit = (prefix / "lib/systemd/system/tally.service").read_text()
    settings = {}
    for line in unit.splitlines():
        if "=" in line and not line.startswith("#"):
            name, _, value = line.partition("=")
            settings[name.strip()] = value.strip()
    assert shlex.split(settings["ExecStart"]) == [
        str(prefix / "bin" / "tally-server"), "--config", str(prefix / "etc/tally/tally.conf")]
    assert settings["User"] == "tally"
    assert settings["Restart"] == "on-failure"
    assert int(settings["LimitNOFILE"]) >= 65536
    assert settings["StateDirectory"] == "tally"
    assert settings["WorkingDirectory"] == "/var/lib/tally"
    assert settings["NoNewPrivileges"] == "yes"
    assert "@" not in unit, "every @PLACEHOLDER@ is filled in"


def test_installed_config_lists_every_setting_with_its_default(prefix):
    binary = str(prefix / "bin" / "tally-server")
    conf = (prefix / "etc/tally/tally.conf").read_text()
    # The installed file is what this binary generates (it cannot drift).
    assert conf == run([binary, "--print-config"]).stdout
    names = setting_names(binary)
    assert len(names) >= 10, names
    listed = [m.group(1) for m in map(SETTING_LINE.match, conf.splitlines())
              if m and m.group(1) in names]
    assert listed == names, "tally.conf lists --help's settings once each, in its order"


def test_installed_binary_accepts_the_installed_config(prefix, tmp_path):
    binary = str(prefix / "bin" / "tally-server")
    conf = prefix / "etc/tally/tally.conf"
    # As shipped (everything commented out) ...
    srv = ServerProcess(binary, tmp_path / "as-shipped", name="as-shipped",
                        extra_args=["--config", str(conf)])
    srv.start()
    try:
        with srv.client() as c:
            assert c.call("INCR", "usage:install") == b":1\r\n"
    finally:
        assert srv.stop() == 0
    # ... and with every line uncommented: each setting at the value shown.
    active = tmp_path / "all-set.conf"
    names = setting_names(binary)
    values = {}
    out = []
    for line in conf.read_text().splitlines():
        m = SETTING_LINE.match(line)
        if m and m.group(1) in names:
            values[m.group(1)] = m.group(2)
            line = line[2:]
        out.append(line)
    active.write_text("\n".join(out) + "\n")
    srv = ServerProcess(binary, tmp_path / "all-set", name="all-set",
                        extra_args=["--config", str(active)])
    srv.start()  # --port/--dir/--bind flags given after the file override it
    try:
        with srv.client() as c:
            for name, shown in values.items():
                if name in ("port", "dir", "bind"):
                    continue
                reply = decode(c.call("CONFIG", "GET", name))
                expected = shlex.split(shown)[0] if shown != '""' else ""
                got = reply[1].decode() if reply else ""  # hidden when empty (requirepass)
                assert got == expected, (name, got, expected)
    finally:
        assert srv.stop() == 0
    print(f"installed tally.conf: {len(values)} settings, accepted as shipped and uncommented")


def test_version_names_the_git_commit(prefix):
    out = run([str(prefix / "bin" / "tally-server"), "--version"]).stdout.strip()
    print(f"tally-server --version: {out}")
    project = re.search(r"project\(tally VERSION ([\d.]+)",
                        (REPO_ROOT / "CMakeLists.txt").read_text()).group(1)
    m = re.fullmatch(r"tally-server (\S+) \(git ([0-9a-f]{7,40}|unknown)\)", out)
    assert m, out
    assert m.group(1) == project
    in_git = run(["git", "-C", str(REPO_ROOT), "rev-parse", "--git-dir"]).returncode == 0
    if in_git:
        # The commit the build was configured at: a commit of this repository.
        assert m.group(2) != "unknown"
        assert run(["git", "-C", str(REPO_ROOT), "cat-file", "-e",
                    m.group(2) + "^{commit}"]).returncode == 0


def test_help_is_a_manual_page(prefix):
    res = run([str(prefix / "bin" / "tally-server"), "--help"])
    assert res.returncode == 0
    sections = re.findall(r"(?m)^([A-Z][A-Z ]+)$", res.stdout)
    assert sections == ["NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "FILES", "EXAMPLES",
                        "SEE ALSO"]
    assert "   General\n       -c, --config FILE\n" in res.stdout
    assert all(len(line) <= 79 for line in res.stdout.splitlines()), "fits a terminal"
