"""The throughput and latency workloads, each expressed as a redis-benchmark
command line. `__rand_int__` is replaced by redis-benchmark with a random
12-digit, zero-padded number below `keyspace` on every request."""

CLIENTS = 50
GET_KEYS = 100_000  # GET, SET and MGET work on key:000000000000 .. key:000000099999


def _matrix():
    base = [
        ("incr_hot", "INCR, one hot key", ["INCR", "bench:hot"], None),
        ("incr_1m", "INCR, 1M random keys", ["INCR", "bench:__rand_int__"], 1_000_000),
        ("get", "GET (100k keys)", ["GET", "key:__rand_int__"], GET_KEYS),
        ("set", "SET (100k keys)", ["SET", "key:__rand_int__", "12345"], GET_KEYS),
        ("mget10", "MGET of 10 keys", ["MGET"] + ["key:__rand_int__"] * 10, GET_KEYS),
    ]
    out = []
    for pipeline in (1, 16):
        for wid, title, command, keyspace in base:
            out.append({
                "id": "%s_p%d" % (wid, pipeline),
                "base": wid,
                "title": "%s, %d clients, pipeline %d" % (title, CLIENTS, pipeline),
                "short": "%s P%d" % (wid, pipeline),
                "command": command,
                "keyspace": keyspace,
                "clients": CLIENTS,
                "pipeline": pipeline,
                "kind": "throughput",
            })
    for wid, title, command, keyspace in [
        ("incr_1m", "INCR, 1M random keys", ["INCR", "bench:__rand_int__"], 1_000_000),
        ("get", "GET (100k keys)", ["GET", "key:__rand_int__"], GET_KEYS),
    ]:
        out.append({
            "id": "latency_%s_c1" % wid,
            "base": wid,
            "title": "%s, 1 client, pipeline 1 (latency)" % title,
            "short": "lat %s c1" % wid,
            "command": command,
            "keyspace": keyspace,
            "clients": 1,
            "pipeline": 1,
            "kind": "latency",
        })
    return out


WORKLOADS = _matrix()


def sample_command(workload):
    """The workload's command with placeholders filled, to check once that the
    server accepts it before timing it."""
    return [a.replace("__rand_int__", "%012d" % 7) for a in workload["command"]]


def min_requests(workload):
    """Every client sends at least one full pipeline, and a latency run has
    enough samples for a percentile curve."""
    return max(workload["clients"] * workload["pipeline"], 200)
