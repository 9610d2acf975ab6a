"""redis-cli (Debian's redis-tools) against tally-server, each case run the
same way against a real redis-server and compared: one-shot commands (raw and
--no-raw formatting, RESP2 and RESP3), -a with --no-auth-warning, --scan,
--pipe mass insertion, and an interactive session on a pseudo-terminal, where
redis-cli formats replies for a human ("(integer) 1", "(nil)", "1) ...").
"""

from __future__ import annotations

import fcntl
import os
import pty
import select
import shutil
import struct
import subprocess
import termios
import time

import pytest

from conftest import PASSWORD

REDIS_CLI = shutil.which("redis-cli")
TIMEOUT = 60


@pytest.fixture(autouse=True)
def need_redis_cli():
    if not REDIS_CLI:
        pytest.fail("redis-cli (Debian package redis-tools) is needed")


def cli(server, *args, input: bytes | None = None, timeout: float = TIMEOUT):
    """One redis-cli run: (exit code, stdout, stderr), with the port replaced
    by PORT so two servers' outputs compare."""
    proc = subprocess.run([REDIS_CLI, *server.cli_args(), *args], input=input, capture_output=True,
                          timeout=timeout, env=dict(os.environ, REDISCLI_HISTFILE="/dev/null",
                                                    REDISCLI_RCFILE="/dev/null"))
    port = str(server.port).encode()
    return proc.returncode, proc.stdout.replace(port, b"PORT"), proc.stderr.replace(port, b"PORT")


def same_for_both(ref, tally, *args, **kwargs):
    expected = cli(ref, *args, **kwargs)
    actual = cli(tally, *args, **kwargs)
    assert actual == expected, f"redis-cli {' '.join(args)}"
    return actual


ONE_SHOT = [
    ["INCR", "usage:tool"],
    ["INCRBY", "usage:tool", "41"],
    ["DECR", "usage:tool"],
    ["GET", "usage:tool"],
    ["GET", "usage:missing"],
    ["MGET", "usage:tool", "usage:missing"],
    ["SET", "word", "hello world"],
    ["INCR", "word"],
    ["INCRBY", "usage:tool", "x"],
    ["SET", "session", "abc", "EX", "1000"],
    ["EXISTS", "usage:tool", "word", "nope"],
    ["TYPE", "word"],
    ["STRLEN", "word"],
    ["DBSIZE"],
    ["NOSUCHCOMMAND", "a", "b"],
    ["GET"],
    ["CLIENT", "NOSUCH"],
    ["PING"],
    ["ECHO", "multi\nline"],
    ["OBJECT", "ENCODING", "usage:tool"],
    ["CONFIG", "GET", "save"],
    ["CONFIG", "GET", "databases"],
    ["DEL", "word", "nope"],
    ["MULTI"],
    ["EXEC"],
]


@pytest.mark.parametrize("mode", [[], ["--no-raw"], ["-3", "--no-raw"], ["--raw"]],
                         ids=["default", "no-raw", "resp3", "raw"])
def test_one_shot_commands(redis_ref, tally, mode):
    for args in ONE_SHOT:
        same_for_both(redis_ref, tally, *mode, *args)


def test_password(redis_ref_pw, tally_pw):
    same_for_both(redis_ref_pw, tally_pw, "INCR", "n")
    same_for_both(redis_ref_pw, tally_pw, "-3", "GET", "n")

    def without_password(server, *args):
        proc = subprocess.run([REDIS_CLI, "-h", "127.0.0.1", "-p", str(server.port), *args],
                              capture_output=True, timeout=TIMEOUT)
        return proc.returncode, proc.stdout, proc.stderr

    got = without_password(tally_pw, "GET", "n")
    assert got == without_password(redis_ref_pw, "GET", "n")
    assert got[1].startswith(b"NOAUTH Authentication required.\n")
    wrong = ["-a", "wrong", "--no-auth-warning", "PING"]
    got = without_password(tally_pw, *wrong)
    assert got == without_password(redis_ref_pw, *wrong)
    assert b"WRONGPASS invalid username-password pair or user is disabled." in got[2]


def test_scan_with_pattern(redis_ref, tally):
    commands = "".join(f"INCR scan:{i}\n" for i in range(300)) + "".join(
        f"INCR other:{i}\n" for i in range(50))
    for server in (redis_ref, tally):
        rc, out, err = cli(server, "--pipe", input=commands.encode())
        assert rc == 0, err
    ref = cli(redis_ref, "--scan", "--pattern", "scan:*")
    got = cli(tally, "--scan", "--pattern", "scan:*")
    assert got[0] == ref[0] == 0
    # SCAN order is the server's own: compare the sets of keys.
    assert sorted(got[1].split()) == sorted(ref[1].split())
    assert len(got[1].split()) == 300


def test_pipe_mass_insertion(redis_ref, tally):
    """redis-cli --pipe with 100,000 INCRs, as Redis's mass-insertion guide does."""
    commands = b"INCR mass:counter\r\n" * 100_000
    ref = cli(redis_ref, "--pipe", input=commands, timeout=300)
    got = cli(tally, "--pipe", input=commands, timeout=300)
    assert got == ref
    assert b"errors: 0, replies: 100000" in got[1]
    assert cli(tally, "GET", "mass:counter")[1] == b"100000\n"


def interactive(server, lines: list[str], extra_args=()) -> str:
    """Types `lines` into an interactive redis-cli on a pseudo-terminal and
    returns the transcript. TERM=dumb keeps linenoise to plain line input
    (no hints or cursor codes) while stdout is still a terminal, so replies
    are formatted for humans."""
    pid, fd = pty.fork()
    if pid == 0:  # child: become redis-cli
        env = dict(os.environ, TERM="dumb", REDISCLI_HISTFILE="/dev/null",
                   REDISCLI_RCFILE="/dev/null")
        try:
            os.execve(REDIS_CLI, [REDIS_CLI, *server.cli_args(), *extra_args], env)
        finally:
            os._exit(127)
    transcript = b""

    def read_until_prompt(timeout: float = 10.0):
        nonlocal transcript
        deadline = time.monotonic() + timeout
        chunk_seen = b""
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.05)
            if not ready:
                continue
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            chunk_seen += chunk
            if chunk_seen.endswith(b"> "):
                break
        transcript += chunk_seen

    try:
        read_until_prompt()
        for line in lines:
            os.write(fd, line.encode() + b"\n")
            read_until_prompt()
        os.write(fd, b"quit\n")
        read_until_prompt(timeout=5)
    finally:
        for _ in range(100):  # bounded wait for redis-cli to exit
            done, _ = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            time.sleep(0.05)
        else:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
        os.close(fd)
    return transcript.replace(str(server.port).encode(), b"PORT").decode(errors="replace")


SESSION = [
    "INCR page:home",
    "INCRBY page:home 41",
    "GET page:home",
    "GET page:nothing",
    "MGET page:home page:nothing",
    "SET greeting \"hello world\"",
    "INCR greeting",
    "TTL greeting",
    "EXISTS page:home greeting",
    "SCAN 0 MATCH page:* COUNT 100",
    "NOSUCH x",
    "MULTI",
    "INCR page:home",
    "GET page:home",
    "EXEC",
    "CONFIG GET appendonly",
    "ECHO \"two\\nlines\"",
    "HELP INCRBY",  # from COMMAND DOCS
    "HELP SET",
    "HELP CLIENT KILL",
]


@pytest.mark.parametrize("protocol", [[], ["-3"]], ids=["resp2", "resp3"])
def test_interactive_session(redis_ref, tally, protocol):
    expected = interactive(redis_ref, SESSION, protocol)
    actual = interactive(tally, SESSION, protocol)
    assert "(integer) 42" in actual
    assert "(nil)" in actual
    assert "(error) ERR value is not an integer or out of range" in actual
    assert actual == expected


def typed_with_hints(server, lines: list[str]) -> bytes:
    """Types `lines` key by key into redis-cli on an xterm-like terminal, where
    linenoise redraws the line after every key and shows the rest of the
    command's syntax as a grey hint (built from COMMAND DOCS)."""
    pid, fd = pty.fork()
    if pid == 0:
        # A window size, so linenoise does not ask the (absent) terminal.
        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 200, 0, 0))
        env = dict(os.environ, TERM="xterm", REDISCLI_HISTFILE="/dev/null",
                   REDISCLI_RCFILE="/dev/null")
        try:
            os.execve(REDIS_CLI, [REDIS_CLI, *server.cli_args()], env)
        finally:
            os._exit(127)
    out = b""

    def drain(seconds: float):
        nonlocal out
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.02)
            if ready:
                try:
                    chunk = os.read(fd, 65536)
                except OSError:
                    return
                if not chunk:
                    return
                out += chunk

    try:
        drain(1.0)
        for line in lines:
            for key in line.encode():
                os.write(fd, bytes([key]))
                drain(0.02)
            drain(0.2)
            os.write(fd, b"\x15")  # Ctrl-U: clear the line without running it
            drain(0.2)
        os.write(fd, b"quit\r")
        drain(0.5)
    finally:
        for _ in range(100):
            done, _ = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            time.sleep(0.05)
        else:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
        os.close(fd)
    return out.replace(str(server.port).encode(), b"PORT")


def test_interactive_hints(redis_ref, tally):
    lines = ["SET k ", "INCRBY counter ", "SCAN 0 ", "CLIENT SETNAME "]
    expected = typed_with_hints(redis_ref, lines)
    actual = typed_with_hints(tally, lines)
    assert b"key value [NX|XX] [GET] [EX seconds|" in actual
    assert b"increment" in actual
    assert actual == expected

