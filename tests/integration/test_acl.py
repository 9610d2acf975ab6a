"""Users and permissions (docs/security.md, "Access"): the same ACL file, or
the same users, given to Tally and to a real redis-server, and the same
command sequences sent to both; the raw replies must be identical. Then real
clients (redis-cli, redis-py) logging in as named users, and Redis's limits
for clients that have not authenticated yet.
"""

from __future__ import annotations

import re
import shutil

import pytest

from harness import HOST, ServerProcess, tally_only
from resp_client import ConnectionClosed, encode_command
from test_server import need_tool, run_tool

ACL_FILE = """\
user default on nopass ~* &* +@all
user alice on >alicepw ~* &* +@all
user ro on >ropw ~* +@read
user bob off >bobpw ~* +@all
user carl on >c1 >c2 ~* &* +@all -@write -@admin
user nokeys on >nk +@all
"""

CLOSED = b"<closed>"

# Each case runs on a fresh connection of each server.
ACL_CASES = [
    [("AUTH", "alice", "bad"), ("AUTH", "bob", "bobpw"), ("AUTH", "nobody", "x"),
     ("AUTH", "alice", "alicepw"), ("ACL", "WHOAMI"), ("INCR", "k"), ("ACL", "LIST"),
     ("ACL", "USERS"), ("AUTH", "x"), ("AUTH", "a", "b", "c"), ("ACL", "WHOAMI", "x"),
     ("ACL", "FOO"), ("ACL", "CAT", "a", "b"), ("ACL", "CAT", "bogus"), ("ACL", "CAT"),
     ("DEL", "k")],
    # A read-only user (+@read): NOPERM for writes, also inside MULTI.
    [("AUTH", "ro", "ropw"), ("ACL", "WHOAMI"), ("INCR", "k"), ("GET", "k"), ("SET", "k", "1"),
     ("PING",), ("CONFIG", "GET", "port"), ("CLIENT", "LIST"), ("MULTI",), ("EXEC",),
     ("MGET", "a", "b"), ("SCAN", "0"), ("EXISTS", "k")],
    [("AUTH", "alice", "alicepw"), ("MULTI",), ("INCR", "k"), ("AUTH", "ro", "ropw"),
     ("INCR", "k"), ("GET", "k"), ("EXEC",), ("GET", "k")],
    # No key patterns: commands with keys are refused, others run.
    [("AUTH", "nokeys", "nk"), ("GET", "k"), ("MGET", "a", "b"), ("DBSIZE",), ("PING",),
     ("INCR", "k")],
    # +@all -@write -@admin.
    [("AUTH", "carl", "c2"), ("INCR", "k"), ("FLUSHALL",), ("CONFIG", "GET", "port"),
     ("CLIENT", "KILL", "1.2.3.4:5"), ("ACL", "LIST"), ("ACL", "WHOAMI"), ("GET", "k"),
     ("AUTH", "carl", "c1"), ("ACL", "WHOAMI")],
    # HELLO with AUTH: failures, then a RESET back to the default user.
    [("HELLO", "3", "AUTH", "alice", "wrong"), ("HELLO", "2", "AUTH", "bob", "bobpw"),
     ("HELLO", "3", "AUTH", "ro"), ("AUTH", "ro", "ropw"), ("RESET",), ("ACL", "WHOAMI"),
     ("INCR", "k"), ("DEL", "k")],
]

REQUIREPASS_CASES = [
    [("GET", "k"), ("PING",), ("ACL", "WHOAMI"), ("HELLO", "3"), ("HELLO", "2", "SETNAME", "x"),
     ("AUTH", "wrong"), ("AUTH", "default", "wrong"), ("AUTH", "alice", "pw"),
     ("AUTH", "nobody", "pw"), ("EXEC",), ("GET", "k"), ("AUTH", "ro", "ropw"), ("INCR", "k"),
     ("GET", "k"), ("INFO", "keyspace"), ("CONFIG", "GET", "port"), ("FLUSHALL",),
     ("CLIENT", "KILL", "USER", "nobody"), ("KEYS", "*"), ("ACL", "LIST"), ("ACL", "USERS"),
     ("AUTH", "alice", "apw"), ("ACL", "LIST"), ("INCR", "k"), ("DEL", "k"), ("RESET",),
     ("GET", "k")],
    # Redis's limits before AUTH: at most 10 arguments, then the connection closes.
    [("ECHO", "x" * 16384), tuple(["PING"] * 10), tuple(["PING"] * 11), ("PING",)],
    [("ECHO", "x" * 16385), ("PING",)],
    [("AUTH", "pw"), tuple(["DEL"] * 11), ("ECHO", "y" * 20000), ("RESET",), ("ECHO", "x" * 16385)],
]


def exchange(srv: ServerProcess, case) -> list[bytes]:
    """Sends each command on one fresh connection; returns the raw replies,
    CLOSED once the server has closed the connection. HELLO's client id is
    masked: the two servers number their connections differently."""
    out = []
    c = srv.client(timeout=5.0)
    for cmd in case:
        try:
            out.append(re.sub(rb"\$2\r\nid\r\n:\d+\r\n", b"$2\r\nid\r\n:ID\r\n", c.call(*cmd)))
        except (ConnectionClosed, BrokenPipeError, ConnectionResetError):
            out.append(CLOSED)
            break
    c.close()
    return out


def compare(reference: ServerProcess, tally: ServerProcess, cases):
    for case in cases:
        expected = exchange(reference, case)
        got = exchange(tally, case)
        for cmd, want, have in zip(case, expected, got):
            assert have == want, f"{cmd[:4]}: redis-server said {want[:300]!r}, got {have[:300]!r}"
        assert len(got) == len(expected), (case, expected, got)


@pytest.fixture
def redis_binary():
    path = shutil.which("redis-server")
    if not path:
        pytest.fail("redis-server (Debian package redis-server) is needed as the reference")
    return path


def start_reference(server_factory, redis_binary, extra_args, password=None):
    """A real redis-server, stopped with the test's other servers."""
    srv = ServerProcess(redis_binary, server_factory.new_dir("reference"), name="reference",
                        redis_mode=True, password=password, extra_args=extra_args)
    server_factory.servers.append(srv)
    return srv.start()


def test_acl_file_matches_redis(server_factory, redis_binary, tmp_path):
    acl_file = tmp_path / "users.acl"
    acl_file.write_text(ACL_FILE)
    reference = start_reference(server_factory, redis_binary, ["--aclfile", str(acl_file)])
    tally = server_factory.create(extra_args=["--aclfile", str(acl_file)])
    compare(reference, tally, ACL_CASES)

    # CLIENT LIST shows who each connection is; CLIENT KILL USER finds them.
    for srv in (reference, tally):
        alice = srv.client()
        assert alice.call("AUTH", "alice", "alicepw") == b"+OK\r\n"
        ro = srv.client()
        assert ro.call("HELLO", "3", "AUTH", "ro", "ropw").startswith(b"%7\r\n")
        listing = alice.call("CLIENT", "LIST")
        assert listing.count(b" user=alice ") == 1 and listing.count(b" user=ro ") == 1, listing
        assert alice.call("CLIENT", "KILL", "USER", "ro") == b":1\r\n"
        assert ro.wait_closed(3)[0]


DEFAULT_OFF_FILE = """\
user default off nopass ~* &* +@all
user app on >apw ~* &* -@all +@read +@connection +incr
"""

DEFAULT_OFF_CASES = [
    [("PING",), ("HELLO", "3"), ("AUTH", "x"), ("AUTH", "default", "x"), ("AUTH", "app", "bad"),
     ("HELLO", "2", "AUTH", "app", "apw", "SETNAME", "n"), ("INCR", "k"), ("INCRBY", "k", "2"),
     ("CLIENT", "GETNAME"), ("CLIENT", "KILL", "1.2.3.4:5"), ("ACL", "LIST"), ("DEL", "k"),
     ("RESET",), ("GET", "k")],
    [tuple(["PING"] * 11)],
]


def test_disabled_default_user_matches_redis(server_factory, redis_binary, tmp_path):
    acl_file = tmp_path / "users.acl"
    acl_file.write_text(DEFAULT_OFF_FILE)
    reference = start_reference(server_factory, redis_binary, ["--aclfile", str(acl_file)])
    tally = server_factory.create(extra_args=["--aclfile", str(acl_file)])
    compare(reference, tally, DEFAULT_OFF_CASES)


@tally_only
def test_user_settings_match_redis(server_factory, redis_binary):
    """requirepass plus --user NAME:PASSWORD[:readonly] give what redis-server
    gives for the same users written as ACL rules."""
    reference = start_reference(
        server_factory, redis_binary,
        ["--user", "alice", "on", ">apw", "~*", "&*", "+@all",
         "--user", "ro", "on", ">ropw", "~*", "&*", "+@all", "-@write", "-@admin"],
        password="pw")
    tally = server_factory.create(password="pw",
                                  extra_args=["--user", "alice:apw", "--user", "ro:ropw:readonly"])
    compare(reference, tally, REQUIREPASS_CASES)


@tally_only
def test_bad_acl_setup_stops_start_up(server_factory, tmp_path):
    from harness import run_to_exit, server_argv

    def start_error(*args) -> str:
        srv = server_factory.create(start=False)
        out = run_to_exit(server_argv(srv.binary, ["--port", "0", "--dir", str(srv.data_dir),
                                                   *args]))
        assert out.returncode != 0, out.stdout
        return out.stdout

    acl_file = tmp_path / "users.acl"
    acl_file.write_text("user alice on >pw ~* +@all\nuser bob on >pw ~cache:* +@all\n")
    assert (f"{acl_file}:2: Error in applying operation '~cache:*': Tally supports only '~*'"
            in start_error("--aclfile", str(acl_file)))
    acl_file.write_text("user alice on >pw ~* +@bogus\n")
    assert (f"{acl_file}:1: Error in applying operation '+@bogus': Unknown command or category "
            f"name in ACL." in start_error("--aclfile", str(acl_file)))
    assert "invalid value 'alice' for setting 'user'" in start_error("--user", "alice")
    assert "both" in start_error("--aclfile", str(acl_file), "--user", "bob:pw")


@tally_only
def test_clients_log_in_as_named_users(server_factory):
    srv = server_factory.create(password="pw", extra_args=[
        "--user", "alice:apw", "--user", "viewer:vpw:readonly", "--user", "off on >x ~* +@all"])
    cli = need_tool("redis-cli")
    base = [cli, "-h", HOST, "-p", str(srv.port), "--no-auth-warning"]

    def cli_run(*args) -> bytes:
        return run_tool(base + list(args)).stdout

    assert cli_run("--user", "alice", "--pass", "apw", "INCR", "hits") == b"1\n"
    assert cli_run("-a", "pw", "INCR", "hits") == b"2\n"
    assert cli_run("--user", "viewer", "--pass", "vpw", "GET", "hits") == b"2\n"
    assert (cli_run("--user", "viewer", "--pass", "vpw", "INCR", "hits") ==
            b"NOPERM this user has no permissions to run the 'incr' command\n\n")
    assert cli_run("--user", "alice", "--pass", "apw", "ACL", "WHOAMI") == b"alice\n"
    assert cli_run("--user", "viewer", "--pass", "vpw", "-3", "ACL", "WHOAMI") == b"viewer\n"
    out = run_tool(base + ["--user", "alice", "--pass", "nope", "GET", "hits"])
    assert b"WRONGPASS invalid username-password pair or user is disabled." in (out.stdout +
                                                                                 out.stderr)

    import redis  # Debian's python3-redis

    alice = srv.redis(username="alice", password="apw")
    assert alice.incr("hits") == 3
    viewer = srv.redis(username="viewer", password="vpw")
    assert viewer.get("hits") == b"3"
    assert viewer.mget("hits", "none") == [b"3", None]
    with pytest.raises(redis.exceptions.NoPermissionError,
                       match="no permissions to run the 'incrby' command"):  # redis-py's incr() is INCRBY
        viewer.incr("hits")
    with pytest.raises(redis.exceptions.NoPermissionError):
        viewer.pipeline(transaction=True).incr("hits").execute()
    auth_errors = (redis.exceptions.AuthenticationError, redis.exceptions.ResponseError)
    with pytest.raises(auth_errors, match="WRONGPASS"):
        srv.redis(username="viewer", password="wrong").get("hits")
    assert alice.client_list()[0]["user"] in ("alice", "viewer")
    assert {c["user"] for c in alice.client_list()} >= {"alice", "viewer"}
    assert srv.redis().get("hits") == b"3", "the acknowledged count is intact"


@tally_only
def test_protected_mode_serves_loopback(server_factory):
    """Protected mode is on by default and no password is set: loopback
    clients are served (the refusal of other addresses is unit-tested, as
    the suite only uses loopback)."""
    srv = server_factory.create()
    c = srv.client()
    assert c.call("CONFIG", "GET", "protected-mode") == b"*2\r\n$14\r\nprotected-mode\r\n$3\r\nyes\r\n"
    assert c.call("INCR", "k") == b":1\r\n"
    assert c.call("CONFIG", "SET", "protected-mode", "no") == b"+OK\r\n"
    assert c.call("CONFIG", "SET", "protected-mode", "maybe").startswith(b"-ERR CONFIG SET failed")
    c.send(encode_command("PING"))
    assert c.read_reply() == b"+PONG\r\n"
