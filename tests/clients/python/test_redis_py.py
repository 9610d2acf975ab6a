"""redis-py (Debian's python3-redis) against tally-server: counters,
scan_iter, pipelines (transactional by default), WATCH, info(), and Redis's
error texts. The Debian version (4.3.x) speaks RESP2 only; RESP3 is covered
by the node clients.
"""

from __future__ import annotations

import threading

import pytest
import redis

from conftest import HOST, PASSWORD


def connect(server, **kwargs) -> redis.Redis:
    return redis.Redis.from_url(server.url, socket_timeout=10, decode_responses=True, **kwargs)


def test_counters(tally):
    r = connect(tally)
    assert r.incr("usage:tool") == 1
    assert r.incrby("usage:tool", 41) == 42
    assert r.decr("usage:tool") == 41
    assert r.decrby("usage:tool", 1) == 40
    assert r.get("usage:tool") == "40"
    assert r.get("usage:missing") is None
    assert r.set("session", "abc", ex=100) is True
    assert 95 < r.ttl("session") <= 100
    assert r.mget("usage:tool", "usage:missing", "session") == ["40", None, "abc"]
    assert r.incrbyfloat("f", 1.5) == 1.5
    assert r.dbsize() == 3


def test_password_from_url(tally_pw):
    assert connect(tally_pw).incr("n") == 1
    wrong = redis.Redis.from_url(f"redis://default:nope@{HOST}:{tally_pw.port}")
    with pytest.raises(redis.ResponseError) as e:
        wrong.ping()
    assert str(e.value) == "WRONGPASS invalid username-password pair or user is disabled."
    anonymous = redis.Redis(host=HOST, port=tally_pw.port)
    with pytest.raises(redis.AuthenticationError, match=r"^Authentication required\.$"):
        anonymous.get("n")
    # The password alone (AUTH password) works too.
    assert redis.Redis(host=HOST, port=tally_pw.port, password=PASSWORD).get("n") == b"1"


def test_scan_iter(tally):
    r = connect(tally)
    with r.pipeline(transaction=False) as p:
        for i in range(300):
            p.incr(f"scan:{i}")
        for i in range(50):
            p.incr(f"other:{i}")
        p.execute()
    keys = list(r.scan_iter(match="scan:*", count=40))
    assert len(keys) == 300
    assert set(keys) == {f"scan:{i}" for i in range(300)}


def test_pipeline_is_a_transaction_by_default(tally):
    r = connect(tally)
    with r.pipeline() as p:  # MULTI ... EXEC
        p.incr("a").incrby("a", 9).get("a")
        assert p.execute() == [1, 10, "10"]
    with r.pipeline() as p:
        p.set("s", "text").incr("s").incr("b")
        results = p.execute(raise_on_error=False)
    assert results[0] is True
    assert isinstance(results[1], redis.ResponseError)
    assert str(results[1]) == "value is not an integer or out of range"
    assert results[2] == 1
    # 1,000 commands in one non-transactional pipeline.
    with r.pipeline(transaction=False) as p:
        for i in range(1000):
            p.incr(f"page:{i % 10}")
        results = p.execute()
    assert results == [i // 10 + 1 for i in range(1000)]


def test_transaction_is_atomic_for_other_clients(tally):
    """Readers never see half of a MULTI/EXEC that increments two keys."""
    connect(tally).mset({"left": 0, "right": 0})
    torn = []
    done = threading.Event()

    def reader():
        r = connect(tally)
        for _ in range(5000):  # bounded even if the writers hang
            if done.is_set():
                break
            left, right = r.mget("left", "right")
            if left != right:
                torn.append((left, right))

    def writer():
        r = connect(tally)
        for _ in range(200):
            with r.pipeline() as p:
                p.incr("left").incr("right").execute()

    readers = [threading.Thread(target=reader) for _ in range(2)]
    writers = [threading.Thread(target=writer) for _ in range(2)]
    for t in readers + writers:
        t.start()
    for t in writers:
        t.join(timeout=60)
    done.set()
    for t in readers:
        t.join(timeout=60)
    assert torn == []
    assert connect(tally).mget("left", "right") == ["400", "400"]


def test_watch_retry_loop(tally):
    """The optimistic-locking recipe from redis-py's docs, under contention."""
    connect(tally).set("counter", 0)

    def worker():
        r = connect(tally)
        for _ in range(50):
            for _attempt in range(1000):  # bounded retries
                with r.pipeline() as p:
                    try:
                        p.watch("counter")
                        value = int(p.get("counter"))
                        p.multi()
                        p.set("counter", value + 1)
                        p.execute()
                        break
                    except redis.WatchError:
                        continue
            else:
                pytest.fail("WATCH transaction never succeeded")

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert connect(tally).get("counter") == "200"


def test_info(tally):
    r = connect(tally)
    r.set("a", 1)
    r.set("b", 2, ex=100)
    info = r.info()
    assert info["redis_version"] == "7.0.15"
    assert info["redis_mode"] == "standalone"
    assert info["role"] == "master"
    assert info["loading"] == 0
    assert info["aof_enabled"] == 1
    assert info["tcp_port"] == tally.port
    assert info["connected_clients"] >= 1
    assert info["total_commands_processed"] >= 2
    assert info["db0"] == {"keys": 2, "expires": 1, "avg_ttl": 0}
    assert "tally_version" in info
    assert r.info("keyspace") == {"db0": {"keys": 2, "expires": 1, "avg_ttl": 0}}
    assert r.info("nosuchsection") == {}


def test_error_texts(tally):
    r = connect(tally)
    r.set("word", "hello")
    with pytest.raises(redis.ResponseError) as e:
        r.incr("word")
    assert str(e.value) == "value is not an integer or out of range"
    with pytest.raises(redis.ResponseError) as e:
        r.execute_command("NOSUCHCOMMAND", "x")
    assert str(e.value) == "unknown command 'NOSUCHCOMMAND', with args beginning with: 'x' "
    with pytest.raises(redis.ResponseError) as e:
        r.execute_command("GET")
    assert str(e.value) == "wrong number of arguments for 'get' command"
    with pytest.raises(redis.ResponseError) as e:
        r.execute_command("OBJECT", "NOSUCH", "k")
    assert str(e.value) == "unknown subcommand 'NOSUCH'. Try OBJECT HELP."


def test_connection_and_server_commands(tally):
    r = connect(tally, client_name="worker-1")
    assert r.client_getname() == "worker-1"
    assert r.client_id() > 0
    clients = r.client_list()
    assert [c["name"] for c in clients] == ["worker-1"]
    assert clients[0]["cmd"] == "client|list"
    assert r.config_get("save") == {"save": ""}
    assert r.config_get("appendonly") == {"appendonly": "yes"}
    assert r.config_get("port") == {"port": str(tally.port)}
    assert r.config_set("loglevel", "warning") is True
    assert r.config_get("loglevel") == {"loglevel": "warning"}
    assert r.config_resetstat() is True
    seconds, micros = r.time()
    assert seconds > 1_600_000_000 and 0 <= micros < 1_000_000
    r.set("n", 12345)
    r.set("s", "x" * 50)
    assert r.object("encoding", "n") == "int"
    assert r.object("encoding", "s") == "raw"
    assert r.memory_usage("n") > 0
    assert r.echo("hi") == "hi"
    assert r.command_count() > 50
    assert r.lastsave() is not None


def test_config_set_requirepass_at_runtime(tally):
    r = connect(tally)
    assert r.config_set("requirepass", "later-pw") is True
    assert r.config_get("requirepass") == {"requirepass": "later-pw"}
    assert r.incr("n") == 1  # connections already in keep working
    with pytest.raises(redis.AuthenticationError):
        redis.Redis(host=HOST, port=tally.port).get("n")
    assert redis.Redis(host=HOST, port=tally.port, password="later-pw").get("n") == b"1"
    with pytest.raises(redis.ResponseError) as e:
        r.config_set("databases", "16")
    assert str(e.value) == ("CONFIG SET failed (possibly related to argument 'databases') - "
                            "can't set immutable config")
    with pytest.raises(redis.ResponseError) as e:
        r.config_set("nosuchsetting", "1")
    assert str(e.value) == "Unknown option or number of arguments for CONFIG SET - 'nosuchsetting'"

